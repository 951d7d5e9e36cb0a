"""The sweep panel: one or two safeguard or market parameters over a grid, each cell one cascade of the scenario
on screen or the mean over Monte Carlo runs, drawn as a heatmap of the chosen metric (:func:`core.sweep.sweep`,
run in the background from :func:`on_sweep`)."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pandas as pd
from dash import Input, Output, State, callback, no_update
from dash.exceptions import PreventUpdate

from core.network import Network
from core.scenario import parse_scenario
from core.sweep import CATEGORICAL, SWEEPABLE, sweep
from core.validation import DataValidationError, Problem

from . import ids
from .charts import _FONT
from .controls_scenario import titled
from .montecarlo_inputs import MAX_CELLS, MAX_SWEEP_RUNS, SWEEP_LABELS, SWEEP_METRICS, chunk_size, parse_values, spec_for
from .panel_jobs import POLL_MS, _job_notice, _log, _reporter, _running
from .state import error_message, info_message, network_from_store

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
    keep = [*params, "total_loss_usd", "defaults", "bad_debt_reference_usd", "bad_debt_usd", "uncovered_bad_debt_usd", "insolvent_debt_usd",
            "liquidated_usd", "p_insolvent"]
    return {"params": list(params), "runs": n_runs, "scenario": base.name, "elapsed_s": round(time.perf_counter() - t0, 2),
            "rows": df[keep].astype(float).round(6).to_dict("records")}


def heatmap_figure(result: dict[str, Any] | None, metric: str = "bad_debt_reference_usd") -> dict[str, Any]:
    """The sweep as a heatmap: the first parameter across, the second (if any) up; one cell per grid point."""
    lay: dict[str, Any] = {"height": 300, "font": _FONT, "paper_bgcolor": "#fff", "plot_bgcolor": "#fff", "uirevision": "sweep",
                           "margin": {"l": 70, "r": 16, "t": 34, "b": 46},
                           "title": {"text": "Sweep: press Run sweep", "font": {"size": 13}, "x": 0.01, "xanchor": "left"}}
    if not result or not result.get("rows"):
        return {"data": [], "layout": lay}
    df = pd.DataFrame(result["rows"])
    metric = next(m for m in (metric, "bad_debt_reference_usd", "bad_debt_usd") if m in df.columns)
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
    text = f"{len(df)} cells in {result['elapsed_s']:.1f} s on the scenario '{titled(result['scenario'])}'."  # the name the page shows
    if not result["runs"] and (df.filter(["total_loss_usd", "bad_debt_usd", "bad_debt_reference_usd", "defaults"]).abs().to_numpy().max() < 1.0):  # < $1: rounding
        text += (" No cell lost anything: the scenario on screen has no shock that bites. Set a shock on the left, "
                 "or give Monte Carlo runs per cell.")
    return info_message(text)



#: What on_sweep returns, in order.
SWEEP_OUTPUTS = [
    Output(ids.SW_RESULT, "data"),
    Output(ids.SW_HEATMAP, "figure"),
    Output(ids.SW_STATUS, "children"),
]


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
