r"""The Monte Carlo panel: the distribution of system loss under correlated shocks, with VaR and ES marked,
the risk table, the entities most likely to default and the likeliest contagion paths
(:func:`core.montecarlo.run_montecarlo`, run in the background from :func:`on_run`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from dash import Input, Output, State, callback, html, no_update

from core.montecarlo import MonteCarloResult, run_montecarlo
from core.network import Network

from . import graph_frames, ids
from .charts import _FONT, OKABE_ITO
from .controls_scenario import titled
from .montecarlo_inputs import HIST_BINS, RISK_LABELS, TOP_ENTITIES, TOP_PATHS, chunk_size, settings, spec_for
from .panel_jobs import POLL_MS, _job_notice, _log, _reporter, _running
from .state import dated, error_message, info_message, network_from_store, pct, usd

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
    """``x ± se`` as the page writes them; ``x`` alone when its standard error does not move the figure as written
    (``fmt(x ± se) == fmt(x)``): an expected loss the same in every run read "$350.0M ± $1" (Celsius Network, Terra May
    2022, 100 runs: a sum's rounding), a spread no digit shown could have.

    >>> from core.formatting import usd
    >>> _pm(350e6, 0.6, usd), _pm(31.1e9, 70.8e6, usd), _pm(450e6, 0.0, usd)
    ('$350.0M', '$31.1bn ± $70.8M', '$450.0M')
    """
    if not (math.isfinite(se) and se > 0) or fmt(x - se) == fmt(x) == fmt(x + se):
        return fmt(x)
    return f"{fmt(x)} ± {fmt(se)}"


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
        # the rows are the likeliest defaults, then the largest expected losses of entities that never default (ranked
        # so by core.montecarlo): "Most likely to default" headed rows reading 0.00% (Retail CeFi customers, Terra)
        html.H4("Most likely to default, then largest expected loss"),
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
    """The panel's message: the runs, the time, the scenario by the name the page shows (:func:`controls.scenario_title`:
    "FTX Nov 2022", "Custom scenario"; was the raw name, "ftx_nov_2022", "custom") and the network."""
    return (f"{summary['runs']:,} runs in {summary['elapsed_s']:.1f} s on the scenario '{titled(summary['scenario'])}' "
            f"({summary['network']}). The same seed gives the same numbers.")


def monte_carlo(network: Network, scenario: dict[str, Any] | None, runs: Any, seed: Any, confidence: Any, dist: Any,
                horizon: Any, progress=None) -> dict[str, Any]:
    """Run a Monte Carlo for the panel and summarise it (what the background callback does, without Dash)."""
    r, s, a = settings(runs, seed, confidence)
    spec = spec_for(scenario, dist, horizon)
    network = dated(network, spec.base)  # the draws on the parameters of the scenario's date, as its run
    res = run_montecarlo(network, spec, runs=r, seed=s, chunk_size=chunk_size(r), confidences=sorted({a, 0.95, 0.99}),
                         progress=progress)
    return summarise(network, res, a)



#: What on_run returns, in order (tests read results by "component_id.property").
RUN_OUTPUTS = [
    Output(ids.MC_RESULT, "data"),
    Output(ids.MC_HIST, "figure"),
    Output(ids.MC_TABLES, "children"),
    Output(ids.MC_STATUS, "children"),
]


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
