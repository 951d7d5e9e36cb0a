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

This module lays out the tab and clears or flags its results when the network or
the scenario changes; each panel is a module of its own
(:mod:`dashboard.loss_distribution`, :mod:`dashboard.sweep_heatmap`), with the
settings in :mod:`dashboard.montecarlo_inputs` and the background-job plumbing in
:mod:`dashboard.panel_jobs`. Their public names are importable from here.
"""

from __future__ import annotations

from typing import Any

from dash import ClientsideFunction, Input, Output, callback, clientside_callback, dcc, html
from dash import no_update as no_update

from core.sweep import CATEGORICAL, SWEEPABLE

from . import ids
from .controls_scenario import titled
from .loss_distribution import (RUN_OUTPUTS as RUN_OUTPUTS, histogram_figure, monte_carlo as monte_carlo,
                                on_run as on_run, status_text as status_text, summarise as summarise, tables as tables)
from .montecarlo_inputs import (CONFIDENCES, DEFAULT_CONFIDENCE, DEFAULT_RUNS, HIST_BINS as HIST_BINS, HORIZONS,
                                MAX_CELLS as MAX_CELLS, MAX_RUNS, MAX_SWEEP_RUNS, MIN_RUNS, RISK_LABELS as RISK_LABELS,
                                SWEEP_LABELS, SWEEP_METRICS, TOP_ENTITIES as TOP_ENTITIES, TOP_PATHS as TOP_PATHS,
                                chunk_size as chunk_size, parse_values as parse_values, settings as settings,
                                spec_for as spec_for)
from .panel_jobs import POLL_MS as POLL_MS, _job_notice as _job_notice
from .sweep_heatmap import (SWEEP_OUTPUTS as SWEEP_OUTPUTS, heatmap_figure, on_metric as on_metric, on_sweep as on_sweep,
                            run_sweep as run_sweep, sweep_status as sweep_status)

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
            _field("Show", dcc.Dropdown(id=ids.SW_METRIC, options=[{"label": v, "value": k} for k, v in SWEEP_METRICS.items()],
                                        value="bad_debt_reference_usd", clearable=False, searchable=False)),
            _field("Monte Carlo runs per cell", dcc.Input(id=ids.SW_RUNS, type="number", value=0, min=0, max=MAX_SWEEP_RUNS, step=100,
                                                          debounce=True, className="num"), "0: one cascade per cell"),
        ], className="mc-grid sweep-grid"),
        html.Div([
            html.Button("Run sweep", id=ids.SW_RUN, className="btn btn-primary"),
            html.Button("Cancel", id=ids.SW_CANCEL, className="btn btn-small", disabled=True),
            _progress(ids.SW_PROGRESS, f"{ids.SW_PROGRESS}-label"),
        ], className="mc-actions"),
        html.Div(id=ids.SW_STATUS),
        html.Div(id=ids.SW_STALE),
        dcc.Graph(id=ids.SW_HEATMAP, figure=heatmap_figure(None), config={"displaylogo": False, "responsive": True}, className="chart"),
    ], className="mc-panel")



#: What on_network returns, in order (tests read results by "component_id.property").
NETWORK_OUTPUTS = [
    Output(ids.MC_RESULT, "data", allow_duplicate=True),
    Output(ids.MC_HIST, "figure", allow_duplicate=True),
    Output(ids.MC_TABLES, "children", allow_duplicate=True),
    Output(ids.MC_STATUS, "children", allow_duplicate=True),
    Output(ids.SW_RESULT, "data", allow_duplicate=True),
    Output(ids.SW_HEATMAP, "figure", allow_duplicate=True),
    Output(ids.SW_STATUS, "children", allow_duplicate=True),
]


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
    name = titled((result["scenario_doc"] or {}).get("name") or "")  # the name the page shows, as the panel's title
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
