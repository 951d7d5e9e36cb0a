r"""Monte Carlo: the loss distribution under correlated shocks, default probabilities, and parameter sweeps.

The tab has two parts, each run in the background (a Dash background callback:
diskcache by default, Celery on Redis with ``$SFM_CELERY_BROKER``; see
:func:`dashboard.app.background_manager`) with a progress bar and a cancel button.

**Monte Carlo** (:func:`core.montecarlo.run_montecarlo`): ``runs`` correlated
shocks (normal or Student-t, over a horizon of days) drawn on top of the
scenario on screen, which sets the conditions (safeguards, run intensity,
liquidity, forced defaults; its own shocks combine with each draw). It shows

* the distribution of system loss with :math:`\mathrm{VaR}_\alpha` and
  :math:`\mathrm{ES}_\alpha` marked (empirical quantile; Acerbi–Tasche mean of
  the worst :math:`N(1-\alpha)` runs);
* a table of mean, VaR and ES of system loss, bad debt, insolvent debt and
  liquidated volume, each with its standard error (bootstrap for VaR and ES);
* the entities most likely to default (binomial standard error) and the most
  likely contagion paths;
* on request, each entity's probability of default as a halo on the graph
  (bucketed by :data:`dashboard.graph.PD_BUCKETS`, drawn by ``sfm.renderRound``).

The same seed gives the same numbers. Default: 2,000 runs, a second or two.
A job the server refuses (too many running), loses (its process killed) or
cancels says so in the status line (:func:`dashboard.jobs.notice`).

**Sweep** (:func:`core.sweep.sweep`): one or two safeguard or market
parameters over a grid, each cell one cascade of the scenario on screen, or
the mean over Monte Carlo runs (common random numbers in every cell); drawn as
a heatmap of the chosen metric per cell.

Nothing is kept on the server: the page holds a compact summary of the result
(``dcc.Store``), the histogram is binned on the server.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pandas as pd
from dash import (
    ClientsideFunction,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    dcc,
    html,
    no_update,
)
from dash.exceptions import PreventUpdate

from core.montecarlo import (
    UNIT,
    MonteCarloResult,
    MonteCarloSpec,
    parse_spec,
    run_montecarlo,
)
from core.network import Network
from core.scenario import parse_scenario
from core.sweep import CATEGORICAL, SWEEPABLE, parse_grid, sweep
from core.validation import DataValidationError, Problem

from . import graph_frames, ids, jobs
from .charts import _FONT, OKABE_ITO
from .state import error_message, info_message, network_from_store, pct, usd

DEFAULT_RUNS = 2_000
MIN_RUNS, MAX_RUNS = 100, 100_000
MAX_SWEEP_RUNS = 5_000
DEFAULT_CONFIDENCE = 0.99
CONFIDENCES = (0.9, 0.95, 0.975, 0.99, 0.995)
HORIZONS = (1, 7, 30)
HIST_BINS = 60
TOP_ENTITIES, TOP_PATHS = 10, 8
#: Milliseconds between the page's polls of a running job (progress bar updates).
POLL_MS = 250
MAX_CELLS = 400

RISK_LABELS = {"system_loss_usd": "System loss", "bad_debt_usd": "Bad debt", "insolvent_debt_usd": "Insolvent debt",
               "liquidated_usd": "Liquidated"}
SWEEP_LABELS = {
    "collateral_multiplier": "Collateral requirement (×)",
    "max_liquidation_bonus": "Cap on liquidation bonus",
    "max_close_factor": "Cap on close factor",
    "circuit_breaker_threshold": "Circuit breaker threshold (price fall)",
    "insurance_multiplier": "Insurance funds (×)",
    "run_intensity": "Withdrawal-run intensity",
    "liquidity": "Market liquidity (×)",
}
SWEEP_METRICS = {
    "bad_debt_usd": "Bad debt (gross)",
    "uncovered_bad_debt_usd": "Bad debt beyond insurance",
    "total_loss_usd": "System loss",
    "insolvent_debt_usd": "Insolvent debt",
    "liquidated_usd": "Liquidated volume",
    "defaults": "Defaults",
    "p_insolvent": "Probability of insolvency",
}


# -- inputs --------------------------------------------------------------------------

def _problem(field: str, value: Any, expected: str) -> DataValidationError:
    return DataValidationError([Problem("Monte Carlo settings", None, field, value, expected, "record")])


def settings(runs: Any, seed: Any, confidence: Any) -> tuple[int, int, float]:
    """Validated ``(runs, seed, confidence)``; a bad value raises naming the field."""
    try:
        r = int(runs)
        if r != float(runs) or not MIN_RUNS <= r <= MAX_RUNS:
            raise ValueError
    except (TypeError, ValueError):
        raise _problem("runs", runs, f"a whole number of runs from {MIN_RUNS:,} to {MAX_RUNS:,}") from None
    try:
        s = int(seed)
        if s != float(seed) or s < 0:
            raise ValueError
    except (TypeError, ValueError):
        raise _problem("seed", seed, "a whole number ≥ 0") from None
    try:
        a = float(confidence)
        if not 0.5 <= a < 1:
            raise ValueError
    except (TypeError, ValueError):
        raise _problem("confidence", confidence, "a confidence level between 0.5 and 1") from None
    return r, s, a


def spec_for(scenario: dict[str, Any] | None, dist: Any = "normal", horizon_days: Any = 1) -> MonteCarloSpec:
    """The Monte Carlo spec: shocks of the chosen distribution and horizon on top of the scenario on screen."""
    base = parse_scenario(scenario or {}, file="page")
    return parse_spec({"dist": dist or "normal", "horizon_days": horizon_days or 1, "base": base.model_dump(mode="json")},
                      file="Monte Carlo settings")


def chunk_size(runs: int) -> int:
    """Runs per chunk: about ten chunks (so the progress bar moves), a multiple of core.montecarlo.UNIT."""
    return max(UNIT, (runs // 10) // UNIT * UNIT)


def parse_values(text: Any, name: str) -> list[float]:
    """``"1:2:5"`` (start:stop:steps) or ``"1, 1.5, 2"`` → values; raises naming the parameter."""
    if text is None or not str(text).strip():
        raise DataValidationError([Problem("sweep", None, name, text, "values as start:stop:steps or v1, v2, …", "record")])
    try:
        _, values = parse_grid(f"{name}={str(text).replace(' ', '')}")
    except DataValidationError as exc:
        raise DataValidationError([Problem("sweep", None, name, text, p.expected, "record") for p in exc.problems]) from None
    return [float(v) for v in values]


# -- Monte Carlo: result → page ---------------------------------------------------------

def summarise(network: Network, res: MonteCarloResult, confidence: float) -> dict[str, Any]:
    """What the page keeps of a Monte Carlo (JSON): histogram, risk figures, top entities and paths, PD per entity."""
    x = res.losses["system_loss_usd"].to_numpy(dtype=float)
    hi = float(x.max()) if len(x) else 0.0
    counts, edges = np.histogram(x, bins=HIST_BINS, range=(0.0, hi if hi > 0 else 1.0))
    risk = []
    for q, label in RISK_LABELS.items():
        mean, mean_se = res.risk_value(q, "mean")
        var, var_se = res.risk_value(q, "VaR", confidence)
        es, es_se = res.risk_value(q, "ES", confidence)
        risk.append({"quantity": q, "label": label, "mean": mean, "mean_se": mean_se, "var": var, "var_se": var_se,
                     "es": es, "es_se": es_se})
    ent = res.entities.set_index("entity").reindex(network.entity_ids)
    p_default = ent["probability_of_default"].fillna(0.0).to_numpy(dtype=float)
    top = res.entities.head(TOP_ENTITIES)
    names = dict(zip(network.entities["id"], network.entities["name"]))
    paths = res.paths[res.paths["p_debtor_default"] > 0].head(TOP_PATHS)
    losses = res.losses
    return {
        "runs": int(res.meta["runs"]), "seed": int(res.meta["seed"]), "confidence": confidence,
        "horizon_days": float(res.meta["horizon_days"]), "dist": res.meta["spec"]["dist"],
        "scenario": res.meta["spec"]["base"].get("name", ""), "network": network.name, "elapsed_s": res.meta["elapsed_s"],
        "system_equity_usd": res.meta["system_equity_usd"],
        "hist": {"counts": counts.tolist(), "edges": edges.tolist()},
        "risk": risk,
        "p_any_default": float((losses["defaults"] > 0).mean()),
        "entities": [{"name": str(r.name), "pd": float(r.probability_of_default), "pd_se": float(r.pd_standard_error),
                      "el": float(r.expected_loss_usd), "el_se": float(r.el_standard_error)}
                     for r in top.itertuples(index=False) if r.probability_of_default > 0 or r.expected_loss_usd > 0],
        "paths": [{"debtor": names.get(d, d), "creditor": names.get(c, c), "p": float(p), "p_se": float(se),
                   "p_debtor": float(pdd), "exposure": float(e)}
                  for d, c, p, se, pdd, e in paths[["debtor", "creditor", "probability", "standard_error", "p_debtor_default",
                                                     "exposure_usd"]].itertuples(index=False, name=None)],
        "n": network.n_entities, "pd": [round(float(v), 6) for v in p_default], "buckets": graph_frames.pd_buckets(p_default),
    }


def histogram_figure(summary: dict[str, Any] | None) -> dict[str, Any]:
    """Bars of the system-loss distribution (USD bn, runs on a log axis) with VaR and ES marked."""
    lay: dict[str, Any] = {
        "height": 300, "font": _FONT, "paper_bgcolor": "#fff", "plot_bgcolor": "#fff", "uirevision": "mc",
        "margin": {"l": 56, "r": 16, "t": 34, "b": 46}, "bargap": 0.04, "showlegend": False, "hovermode": "closest",
        "title": {"text": "Distribution of system loss", "font": {"size": 13}, "x": 0.01, "xanchor": "left"},
        "xaxis": {"title": {"text": "System loss (USD bn)"}, "gridcolor": "#eee", "zeroline": False, "rangemode": "tozero"},
        "yaxis": {"title": {"text": "Runs (log scale)"}, "gridcolor": "#eee", "type": "log", "dtick": 1},
    }
    if not summary:
        lay["title"]["text"] = "Distribution of system loss: press Run"
        return {"data": [], "layout": lay}
    h = summary["hist"]
    e = np.asarray(h["edges"]) / 1e9
    mid, width = (e[:-1] + e[1:]) / 2, np.diff(e)
    data = [{"type": "bar", "x": mid.round(6).tolist(), "y": h["counts"], "width": width.round(6).tolist(),
             "marker": {"color": OKABE_ITO[5], "line": {"color": "#2b6f94", "width": 0.5}}, "name": "runs",
             "customdata": np.column_stack([e[:-1], e[1:]]).round(4).tolist(),
             "hovertemplate": "%{y} runs lost %{customdata[0]:,.3f}–%{customdata[1]:,.3f} bn USD<extra></extra>"}]
    sys_loss = next(r for r in summary["risk"] if r["quantity"] == "system_loss_usd")
    a = summary["confidence"]
    level = f"{100 * a:g}%"
    shapes, notes = [], []
    for key, name, colour, dash, y in (("var", f"VaR {level}", OKABE_ITO[1], "dash", 0.98), ("es", f"ES {level}", "#000", "dot", 0.86)):
        xv = sys_loss[key] / 1e9
        shapes.append({"type": "line", "name": name, "xref": "x", "yref": "paper", "x0": xv, "x1": xv, "y0": 0, "y1": 1,
                       "line": {"color": colour, "width": 2, "dash": dash}})
        notes.append({"x": xv, "y": y, "xref": "x", "yref": "paper", "text": f"{name} {usd(sys_loss[key])}", "showarrow": False,
                      "xanchor": "left", "xshift": 4, "font": {"size": 11, "color": colour}, "bgcolor": "rgba(255,255,255,.85)"})
    lay.update(shapes=shapes, annotations=notes)
    lay["title"]["text"] = (f"Distribution of system loss: {summary['runs']:,} runs, seed {summary['seed']}, "
                            f"{summary['horizon_days']:g}-day {'Student-t' if summary['dist'] == 't' else 'normal'} shocks")
    return {"data": data, "layout": lay}


def _pm(x: float, se: float, fmt) -> str:
    return f"{fmt(x)} ± {fmt(se)}" if math.isfinite(se) and se > 0 else fmt(x)


def _table(header: list[str], rows: list[list[Any]]) -> html.Table:
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in header])),
                       html.Tbody([html.Tr([html.Td(c) for c in r]) for r in rows])], className="mini-table")


def tables(summary: dict[str, Any] | None) -> list[Any]:
    """Risk figures, the entities most likely to default and the likeliest contagion paths, each with its standard error."""
    if not summary:
        return []
    level = f"{100 * summary['confidence']:g}%"
    out: list[Any] = [
        html.H4("Risk (± standard error)"),
        _table(["", "mean", f"VaR {level}", f"ES {level}"],
               [[r["label"], _pm(r["mean"], r["mean_se"], usd), _pm(r["var"], r["var_se"], usd), _pm(r["es"], r["es_se"], usd)]
                for r in summary["risk"]]),
        html.P(f"Probability that at least one entity defaults: {pct(summary['p_any_default'], 2)}. "
               f"System equity before the shock: {usd(summary['system_equity_usd'])}.", className="muted"),
        html.H4("Most likely to default"),
    ]
    def pct2(v: float) -> str:
        return pct(v, 2)

    out.append(_table(["entity", "probability of default", "expected loss"],
                      [[e["name"], _pm(e["pd"], e["pd_se"], pct2), _pm(e["el"], e["el_se"], usd)] for e in summary["entities"]])
               if summary["entities"] else html.P("No entity defaulted or lost anything in any run.", className="muted"))
    out.append(html.H4("Contagion paths (debtor → creditor)"))
    out.append(_table(["debtor", "", "creditor", "P(path)", "P(debtor defaults)", "exposure"],
                      [[p["debtor"], "→", p["creditor"], _pm(p["p"], p["p_se"], pct2), pct2(p["p_debtor"]), usd(p["exposure"])]
                       for p in summary["paths"]])
               if summary["paths"] else html.P("No exposure's debtor defaulted in any run.", className="muted"))
    return out


def status_text(summary: dict[str, Any]) -> str:
    return (f"{summary['runs']:,} runs in {summary['elapsed_s']:.1f} s on the scenario '{summary['scenario']}' "
            f"({summary['network']}). The same seed gives the same numbers.")


def monte_carlo(network: Network, scenario: dict[str, Any] | None, runs: Any, seed: Any, confidence: Any, dist: Any,
                horizon: Any, progress=None) -> dict[str, Any]:
    """Run a Monte Carlo for the panel and summarise it (what the background callback does, without Dash)."""
    r, s, a = settings(runs, seed, confidence)
    spec = spec_for(scenario, dist, horizon)
    res = run_montecarlo(network, spec, runs=r, seed=s, chunk_size=chunk_size(r), confidences=sorted({a, 0.95, 0.99}),
                         progress=progress)
    return summarise(network, res, a)


# -- sweep: result → page --------------------------------------------------------------

def run_sweep(network: Network, scenario: dict[str, Any] | None, x: Any, x_values: Any, y: Any, y_values: Any, runs: Any,
              seed: Any, dist: Any, horizon: Any, progress=None) -> dict[str, Any]:
    """Sweep one or two parameters over the scenario on screen; the table (records) and what it was."""
    if x not in SWEEPABLE or x in CATEGORICAL:  # rules and policies by name: the command line and core.sweep
        raise DataValidationError([Problem("sweep", None, "parameter", x, "a parameter to sweep", "record")])
    params = {x: parse_values(x_values, x)}
    if y:
        if y not in SWEEPABLE or y in CATEGORICAL:
            raise DataValidationError([Problem("sweep", None, "second parameter", y, "a parameter to sweep", "record")])
        if y == x:
            raise DataValidationError([Problem("sweep", None, "second parameter", y, "a parameter other than the first", "record")])
        params[y] = parse_values(y_values, y)
    cells = math.prod(len(v) for v in params.values())
    if cells > MAX_CELLS:
        raise DataValidationError([Problem("sweep", None, "grid", f"{cells} cells", f"at most {MAX_CELLS} cells", "record")])
    try:
        n_runs = int(runs or 0)
        if n_runs != float(runs or 0) or not 0 <= n_runs <= MAX_SWEEP_RUNS:
            raise ValueError
    except (TypeError, ValueError):
        raise DataValidationError([Problem("sweep", None, "runs per cell", runs,
                                           f"0 (one cascade per cell) or up to {MAX_SWEEP_RUNS:,} Monte Carlo runs", "record")]) from None
    s = int(seed) if isinstance(seed, (int, float)) and seed >= 0 else 0
    base = parse_scenario(scenario or {}, file="page")
    t0 = time.perf_counter()
    spec = spec_for(scenario, dist, horizon) if n_runs else None
    df = sweep(network, base, params, spec=spec, runs=n_runs, seed=s, chunk_size=chunk_size(n_runs) if n_runs else 1000,
               progress=progress)
    keep = [*params, "total_loss_usd", "defaults", "bad_debt_usd", "uncovered_bad_debt_usd", "insolvent_debt_usd",
            "liquidated_usd", "p_insolvent"]
    return {"params": list(params), "runs": n_runs, "scenario": base.name, "elapsed_s": round(time.perf_counter() - t0, 2),
            "rows": df[keep].astype(float).round(6).to_dict("records")}


def heatmap_figure(result: dict[str, Any] | None, metric: str = "bad_debt_usd") -> dict[str, Any]:
    """The sweep as a heatmap: the first parameter across, the second (if any) up; one cell per grid point."""
    lay: dict[str, Any] = {"height": 300, "font": _FONT, "paper_bgcolor": "#fff", "plot_bgcolor": "#fff", "uirevision": "sweep",
                           "margin": {"l": 70, "r": 16, "t": 34, "b": 46},
                           "title": {"text": "Sweep: press Run sweep", "font": {"size": 13}, "x": 0.01, "xanchor": "left"}}
    if not result or not result.get("rows"):
        return {"data": [], "layout": lay}
    df = pd.DataFrame(result["rows"])
    metric = metric if metric in df.columns else "bad_debt_usd"
    px, py = result["params"][0], (result["params"][1] if len(result["params"]) > 1 else None)
    xs = sorted(df[px].unique())
    ys = sorted(df[py].unique()) if py else [0.0]
    z = (df.pivot_table(index=py, columns=px, values=metric, aggfunc="first").reindex(index=ys, columns=xs)
         if py else df.set_index(px)[metric].reindex(xs).to_frame().T)
    money, share = metric.endswith("_usd"), metric == "p_insolvent"
    unit = "USD M" if money else "%" if share else "count"
    zz = z.to_numpy(dtype=float) * (1e-6 if money else 100.0 if share else 1.0)
    data = [{
        "type": "heatmap", "x": [f"{v:g}" for v in xs], "y": [f"{v:g}" for v in ys] if py else ["scenario"],
        "z": np.round(zz, 4).tolist(), "colorscale": "Cividis", "reversescale": False, "zmin": 0,
        "colorbar": {"title": {"text": unit}, "thickness": 12},
        "texttemplate": "%{z:,.3~g}", "textfont": {"size": 10},
        "hovertemplate": f"{SWEEP_LABELS.get(px, px)} %{{x}}<br>" + (f"{SWEEP_LABELS.get(py, py)} %{{y}}<br>" if py else "")
                         + f"{SWEEP_METRICS.get(metric, metric)}: %{{z:,.4g}} {unit}<extra></extra>",
    }]
    lay["xaxis"] = {"title": {"text": SWEEP_LABELS.get(px, px)}, "type": "category"}
    lay["yaxis"] = {"title": {"text": SWEEP_LABELS.get(py, py) if py else ""}, "type": "category"}
    how = f"mean of {result['runs']:,} Monte Carlo runs per cell" if result["runs"] else "one cascade per cell"
    lay["title"]["text"] = f"{SWEEP_METRICS.get(metric, metric)} ({unit}), {how}"
    return {"data": data, "layout": lay}


def sweep_status(result: dict[str, Any]) -> Any:
    df = pd.DataFrame(result["rows"])
    text = f"{len(df)} cells in {result['elapsed_s']:.1f} s on the scenario '{result['scenario']}'."
    if not result["runs"] and (df[["total_loss_usd", "bad_debt_usd", "defaults"]].abs().to_numpy().max() < 1.0):  # < $1: rounding
        text += (" No cell lost anything: the scenario on screen has no shock that bites. Set a shock on the left, "
                 "or give Monte Carlo runs per cell.")
    return info_message(text)


# -- layout ------------------------------------------------------------------------------

def _field(label: str, control: Any, hint: str = "") -> html.Div:
    return html.Div([html.Label(label, className="field-label"), control] + ([html.Small(hint, className="hint")] if hint else []),
                    className="field")


def _progress(id_: str, label_id: str) -> html.Div:
    return html.Div([html.Progress(id=id_, value="0", max="1"), html.Span(id=label_id, className="progress-label")],
                    className="progress", id=f"{id_}-box", style={"visibility": "hidden"})


def stores() -> list[dcc.Store]:
    """The tab's stores, for the top of the page (a memory store inside a tab that is not shown would lose updates)."""
    return [dcc.Store(id=ids.MC_RESULT, data={}), dcc.Store(id=ids.SW_RESULT, data={})]


def panel() -> html.Div:
    pct_opts = [{"label": f"{100 * a:g}%", "value": a} for a in CONFIDENCES]
    param_opts = [{"label": SWEEP_LABELS[k], "value": k} for k in SWEEPABLE if k not in CATEGORICAL]
    return html.Div([
        html.P("Correlated shocks to every asset (daily volatilities and correlations of the dataset, depeg events for pegged "
               "tokens) on top of the scenario on screen, which sets the conditions: safeguards, run, liquidity, forced "
               "defaults. Runs in the background.", className="muted"),
        html.Div([
            _field("Runs", dcc.Input(id=ids.MC_RUNS, type="number", value=DEFAULT_RUNS, min=MIN_RUNS, max=MAX_RUNS, step=100,
                                     debounce=True, className="num")),
            _field("Seed", dcc.Input(id=ids.MC_SEED, type="number", value=0, min=0, step=1, debounce=True, className="num")),
            _field("Confidence", dcc.Dropdown(id=ids.MC_CONFIDENCE, options=pct_opts, value=DEFAULT_CONFIDENCE, clearable=False,
                                              searchable=False)),
            _field("Horizon", dcc.Dropdown(id=ids.MC_HORIZON, options=[{"label": f"{h} day{'s' if h > 1 else ''}", "value": h}
                                                                        for h in HORIZONS], value=1, clearable=False, searchable=False)),
            _field("Shocks", dcc.RadioItems(id=ids.MC_DIST, options=[{"label": " normal", "value": "normal"},
                                                                     {"label": " Student-t (fat tails)", "value": "t"}],
                                            value="normal", inline=True)),
        ], className="mc-grid"),
        html.Div([
            html.Button("Run Monte Carlo", id=ids.MC_RUN, className="btn btn-primary"),
            html.Button("Cancel", id=ids.MC_CANCEL, className="btn btn-small", disabled=True),
            _progress(ids.MC_PROGRESS, f"{ids.MC_PROGRESS}-label"),
        ], className="mc-actions"),
        html.Div(id=ids.MC_STATUS),
        html.Div(id=ids.MC_STALE),
        dcc.Checklist(id=ids.MC_PD_SWITCH, options=[{"label": " Show default probabilities on the graph (halo)", "value": "on"}],
                      value=[], className="check"),
        dcc.Graph(id=ids.MC_HIST, figure=histogram_figure(None), config={"displaylogo": False, "responsive": True},
                  className="chart"),
        html.Div(id=ids.MC_TABLES),
        html.H3("Parameter sweep", className="section-title"),
        html.P("Which setting keeps the system solvent? Each cell runs the scenario on screen with the parameters of the cell "
               "(or, with runs per cell, the mean of that many Monte Carlo runs with the settings above, the same draws in every cell).",
               className="muted"),
        html.Div([
            _field("Parameter across", dcc.Dropdown(id=ids.SW_X, options=param_opts, value="collateral_multiplier", clearable=False)),
            _field("Values", dcc.Input(id=ids.SW_X_VALUES, type="text", value="1:2:5", debounce=True, className="text"),
                   "start:stop:steps or v1, v2, …"),
            _field("Parameter up (optional)", dcc.Dropdown(id=ids.SW_Y, options=param_opts, value="insurance_multiplier",
                                                           clearable=True, placeholder="none")),
            _field("Values", dcc.Input(id=ids.SW_Y_VALUES, type="text", value="0, 1, 2, 5", debounce=True, className="text")),
            _field("Monte Carlo runs per cell", dcc.Input(id=ids.SW_RUNS, type="number", value=0, min=0, max=MAX_SWEEP_RUNS, step=100,
                                                          debounce=True, className="num"), "0: one cascade per cell"),
            _field("Show", dcc.Dropdown(id=ids.SW_METRIC, options=[{"label": v, "value": k} for k, v in SWEEP_METRICS.items()],
                                        value="bad_debt_usd", clearable=False, searchable=False)),
        ], className="mc-grid"),
        html.Div([
            html.Button("Run sweep", id=ids.SW_RUN, className="btn btn-primary"),
            html.Button("Cancel", id=ids.SW_CANCEL, className="btn btn-small", disabled=True),
            _progress(ids.SW_PROGRESS, f"{ids.SW_PROGRESS}-label"),
        ], className="mc-actions"),
        html.Div(id=ids.SW_STATUS),
        html.Div(id=ids.SW_STALE),
        dcc.Graph(id=ids.SW_HEATMAP, figure=heatmap_figure(None), config={"displaylogo": False, "responsive": True}, className="chart"),
    ], className="mc-panel")


# -- callbacks -----------------------------------------------------------------------------

#: What each callback returns, in order (tests read results by "component_id.property"): on_run, on_sweep, on_network.
RUN_OUTPUTS = [
    Output(ids.MC_RESULT, "data"),
    Output(ids.MC_HIST, "figure"),
    Output(ids.MC_TABLES, "children"),
    Output(ids.MC_STATUS, "children"),
]
SWEEP_OUTPUTS = [
    Output(ids.SW_RESULT, "data"),
    Output(ids.SW_HEATMAP, "figure"),
    Output(ids.SW_STATUS, "children"),
]
NETWORK_OUTPUTS = [
    Output(ids.MC_RESULT, "data", allow_duplicate=True),
    Output(ids.MC_HIST, "figure", allow_duplicate=True),
    Output(ids.MC_TABLES, "children", allow_duplicate=True),
    Output(ids.MC_STATUS, "children", allow_duplicate=True),
    Output(ids.SW_RESULT, "data", allow_duplicate=True),
    Output(ids.SW_HEATMAP, "figure", allow_duplicate=True),
    Output(ids.SW_STATUS, "children", allow_duplicate=True),
]


def _running(run_id: str, cancel_id: str, progress_id: str) -> list[tuple[Output, Any, Any]]:
    return [(Output(run_id, "disabled"), True, False), (Output(cancel_id, "disabled"), False, True),
            (Output(f"{progress_id}-box", "style"), {"visibility": "visible"}, {"visibility": "hidden"})]


def _job_notice(what: str, n_outputs: int, status: int):
    """``on_error`` of a background callback: the job store's notice (refused, lost, cancelled, too large) or a plain
    message for a failure outside the callback, in the status slot; the last result stays."""
    def handle(exc: Exception) -> list[Any]:
        found = jobs.notice_of(exc)
        if found is None:  # Dash's message carries the job's traceback: for the log, not the page
            import logging

            logging.getLogger("sfm.dashboard").error("%s failed in its job: %s", what, exc)
            kind, text = "failed", f"The {what} failed on the server (the details are in its log). Press Run to try again."
        else:
            kind, text = found
        out: list[Any] = [no_update] * n_outputs
        out[status] = html.Div(text, className=f"alert alert-{'info' if kind == 'cancelled' else 'warning'} job-{kind}",
                               role="status" if kind == "cancelled" else "alert")
        return out
    return handle


def _reporter(set_progress):
    def report(done: int, total: int) -> None:
        set_progress([str(done), str(max(total, 1)), f"{done:,} of {total:,} runs"])
    return report


@callback(
    *RUN_OUTPUTS,
    Input(ids.MC_RUN, "n_clicks"),
    State(ids.MC_RUNS, "value"),
    State(ids.MC_SEED, "value"),
    State(ids.MC_CONFIDENCE, "value"),
    State(ids.MC_DIST, "value"),
    State(ids.MC_HORIZON, "value"),
    State(ids.SCENARIO, "data"),
    State(ids.NETWORK, "data"),
    background=True,
    running=_running(ids.MC_RUN, ids.MC_CANCEL, ids.MC_PROGRESS),
    progress=[Output(ids.MC_PROGRESS, "value"), Output(ids.MC_PROGRESS, "max"), Output(f"{ids.MC_PROGRESS}-label", "children")],
    cancel=[Input(ids.MC_CANCEL, "n_clicks")],
    interval=POLL_MS,
    prevent_initial_call=True,
    on_error=_job_notice("Monte Carlo", len(RUN_OUTPUTS), 3),
)
def on_run(set_progress, _n, runs, seed, confidence, dist, horizon, scenario, network_store):
    """Run the Monte Carlo in the background; on bad input or failure, a message and the last result stays."""
    try:
        network = network_from_store(network_store)
        summary = monte_carlo(network, scenario, runs, seed, confidence, dist, horizon, progress=_reporter(set_progress))
        summary["scenario_doc"] = scenario  # what it ran on, to tell when the scenario on screen moves on
    except Exception as exc:  # noqa: BLE001 - the page shows a message, never a traceback
        _log(exc, "Monte Carlo")
        return no_update, no_update, no_update, error_message(exc)
    return summary, histogram_figure(summary), tables(summary), info_message(status_text(summary))


@callback(
    *SWEEP_OUTPUTS,
    Input(ids.SW_RUN, "n_clicks"),
    State(ids.SW_X, "value"),
    State(ids.SW_X_VALUES, "value"),
    State(ids.SW_Y, "value"),
    State(ids.SW_Y_VALUES, "value"),
    State(ids.SW_RUNS, "value"),
    State(ids.SW_METRIC, "value"),
    State(ids.MC_SEED, "value"),
    State(ids.MC_DIST, "value"),
    State(ids.MC_HORIZON, "value"),
    State(ids.SCENARIO, "data"),
    State(ids.NETWORK, "data"),
    background=True,
    running=_running(ids.SW_RUN, ids.SW_CANCEL, ids.SW_PROGRESS),
    progress=[Output(ids.SW_PROGRESS, "value"), Output(ids.SW_PROGRESS, "max"), Output(f"{ids.SW_PROGRESS}-label", "children")],
    cancel=[Input(ids.SW_CANCEL, "n_clicks")],
    interval=POLL_MS,
    prevent_initial_call=True,
    on_error=_job_notice("sweep", len(SWEEP_OUTPUTS), 2),
)
def on_sweep(set_progress, _n, x, x_values, y, y_values, runs, metric, seed, dist, horizon, scenario, network_store):
    try:
        network = network_from_store(network_store)
        result = run_sweep(network, scenario, x, x_values, y, y_values, runs, seed, dist, horizon, progress=_reporter(set_progress))
        result["scenario_doc"] = scenario
    except Exception as exc:  # noqa: BLE001 - the page shows a message, never a traceback
        _log(exc, "sweep")
        return no_update, no_update, error_message(exc)
    return result, heatmap_figure(result, metric), sweep_status(result)


@callback(
    Output(ids.SW_HEATMAP, "figure", allow_duplicate=True),
    Input(ids.SW_METRIC, "value"),
    State(ids.SW_RESULT, "data"),
    prevent_initial_call=True,
)
def on_metric(metric, result):
    if not result:
        raise PreventUpdate
    return heatmap_figure(result, metric)


@callback(
    *NETWORK_OUTPUTS,
    Input(ids.NETWORK, "data"),
    prevent_initial_call=True,
)
def on_network(_store):
    """Another network: results of the previous one no longer apply."""
    return {}, histogram_figure(None), [], None, {}, heatmap_figure(None), None


def stale_note(result: dict[str, Any] | None, scenario: dict[str, Any] | None, what: str) -> Any:
    """A warning when ``result`` ran on another scenario than the one on screen, else None."""
    if not result or "scenario_doc" not in result or result["scenario_doc"] == scenario:
        return None
    name = (result["scenario_doc"] or {}).get("name") or "the scenario then on screen"
    return html.Div(f"These {what} figures are for '{name}' as it was when they ran; the scenario on screen has changed "
                    "since. Run again to see its own.", className="alert alert-warning", role="status")


@callback(
    Output(ids.MC_STALE, "children"),
    Output(ids.SW_STALE, "children"),
    Input(ids.SCENARIO, "data"),
    Input(ids.MC_RESULT, "data"),
    Input(ids.SW_RESULT, "data"),
    prevent_initial_call=True,
)
def on_stale(scenario, mc, sw):
    """Results that ran on another scenario than the one on screen say so (the numbers stay for comparison)."""
    return stale_note(mc, scenario, "Monte Carlo"), stale_note(sw, scenario, "sweep")


# Default probabilities as halos on the graph (the classes are patched by sfm.renderRound).
clientside_callback(
    ClientsideFunction("sfm", "pdOverlay"),
    Output(ids.PD_OVERLAY, "data"),
    Output(ids.PD_LEGEND, "hidden"),
    Input(ids.MC_PD_SWITCH, "value"),
    Input(ids.MC_RESULT, "data"),
    prevent_initial_call=True,
)


def _log(exc: BaseException, what: str) -> None:
    if not isinstance(exc, DataValidationError):
        import logging

        logging.getLogger("sfm.dashboard").exception("%s failed", what)
