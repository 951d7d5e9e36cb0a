"""The run: when a control moves, run the engine once and hand the result to every panel.

One server callback per change of the controls. It builds the scenario from the
controls (:mod:`dashboard.controls`), runs :func:`core.simulate` (and, with
*compare* on, the same shock without safeguards), then returns

* the scenario (for the URL, the download and the report),
* the animation frames (per-round node and edge classes, played in the browser),
* the charts and tables (the run view), and the headline figures per round,
* the round slider's range and the round the run opens on (the last, so the outcome shows at once), in the run view,
* the run's id (:data:`~dashboard.ids.RUN_ID`), on which the entity card and the critical-nodes grid key their answers.

Every figure on screen comes from one run. The frames and the run view carry the same run id
(:func:`run_id`), and one clientside callback (``sfm.renderRound``) draws the graph, the round label,
the headline, the charts, the tables and the round slider's range from them together, only when their ids
agree: the server's answer never lands on the charts while the headline still shows the run before it.
The panels that a server callback of their own fills after the run (the entity card and its contagion path,
:mod:`dashboard.detail`; the critical-nodes grid, :mod:`dashboard.critical`) carry the id of the run they are of;
renderRound draws the path, and shows the card and the grid, only beside frames of that run, and marks them
computing otherwise. While a run is on its way the animation stops, Play is disabled and the graph column is marked computing.

A bad value leaves everything as it was and shows a message.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from dash import ALL, Input, Output, State, callback, no_update

from . import charts, controls, forced_rounds, graph, graph_frames, headline, ids, rounds, venues
from .graph_animation import play_label, round_marks
from .graph_frames import VIEW_OUTPUTS
from .state import dated, encode_scenario, guarded, network_from_store, simulate

#: What :func:`on_controls` returns, in order (tests read its results by "component_id.property").
OUTPUTS = [
    Output(ids.SCENARIO, "data"),
    Output(ids.FRAMES, "data"),
    Output(ids.URL_SCENARIO, "data"),
    Output(ids.MESSAGE, "children"),
    Output(ids.PENDING, "data", allow_duplicate=True),
    Output(ids.RUN_VIEW, "data"),
    Output(ids.RUN_ID, "data"),
    Output(ids.SCENARIO_INFO, "children"),
    *[Output(f"{s}-count", "children") for s in controls.SECTIONS],
]
N_OUTPUTS = len(OUTPUTS)
MESSAGE_AT = [o.component_id for o in OUTPUTS].index(ids.MESSAGE)


#: What the page shows while a run is on its way (Dash's ``running``): the animation stopped, Play disabled, the
#: graph column marked computing (assets/sfm.css), so that no old frame plays under the new scenario's controls.
RUNNING = [(Output(ids.TICK, "disabled"), True, True), (Output(ids.PLAY, "disabled"), True, False),
           (Output(ids.PLAY, "children"), play_label(), play_label()),
           (Output(ids.GRAPH_COLUMN, "className"), "col-graph computing", "col-graph")]


def run_id(network, scenario, compare: bool) -> str:
    """The id of a run: the same network, scenario and comparison give the same id (12 hex digits)."""
    key = json.dumps([network.name, network.n_entities, len(network.exposures), scenario.model_dump(mode="json"), bool(compare)],
                     sort_keys=True, default=str)
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def view_store(view: dict[str, Any]) -> dict[str, Any]:
    """The run-view store of a run: its id, the round it opens on, and its charts and tables in the order of
    :data:`~dashboard.graph_frames.VIEW_OUTPUTS` (``outputs``, a list: sfm.renderRound returns them as they are)."""
    figs = view["figures"]
    values = [*[figs[c] for c in (*ids.TIME_CHARTS, ids.CHART_ENTITIES, ids.CHART_BEARERS)], view["perps"], view["rounds"]]
    return {"run": view["frames"]["run"], "round": view["round"], "outputs": values}


def view_outputs(store: dict[str, Any]) -> dict[str, Any]:
    """A run-view store's charts and tables by "component_id.property" (:data:`~dashboard.graph_frames.VIEW_OUTPUTS`)."""
    return dict(zip(VIEW_OUTPUTS, store["outputs"]))


def run_view(network, scenario, compare: bool, pending: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything the page shows for one scenario (pure: no Dash objects but the headline).

    The headline's per-round values ride in the frames (``frames["headline"]``), so that the
    browser redraws the headline for the round on screen (``sfm.renderRound``).
    """
    network = dated(network, scenario)  # a dated preset: every panel of the view on its date's parameters
    scenario.check_against(network)
    result = simulate(network, scenario)
    baseline = simulate(network, scenario.without_safeguards()) if compare else None
    last = max(result.n_rounds - 1, 0)
    round_ = last
    if pending and pending.get("round") is not None:
        round_ = min(int(pending["round"]), last)
    note = "No safeguard is set, so both runs are the same." if compare and not scenario.safeguards.active else \
        " ".join(charts.safeguard_notes(scenario, result, baseline))
    spec = headline.headline_spec(result, network, baseline, note)
    frames = graph_frames.frames(network, result, {"headline": spec})
    frames["labels"] = graph.labels(network, frames)  # the run's affected entities are named first
    frames["run"] = run_id(network, scenario, compare)
    frames["title"] = controls.scenario_title(scenario)  # the pictures' heading (export.on_svg, sfm.generateImage)
    frames["marks"] = round_marks(last)  # the round slider's marks, drawn with the frames (its max is rounds - 1)
    figs = charts.figures(result, network, baseline, round_)
    head = headline.headline_at(spec, round_)
    return {"result": result, "baseline": baseline, "frames": frames, "figures": figs, "headline": head,
            "round": round_, "last": last, "perps": venues.table(network, scenario, result, baseline),
            "rounds": rounds.rounds_table(spec, frames.get("times"))}


@callback(
    *OUTPUTS,
    Input({"type": ids.PRICE, "asset": ALL}, "value"),
    Input({"type": ids.DEPEG, "asset": ALL}, "value"),
    Input(ids.DEFAULTS, "value"),
    Input(ids.RUN, "value"),
    Input(ids.LIQUIDITY, "value"),
    Input(ids.ORACLE_LAG, "value"),
    Input(ids.HORIZON, "value"),
    Input(ids.CB_ON, "value"),
    Input(ids.CB_THRESHOLD, "value"),
    Input(ids.CB_ROUNDS, "value"),
    Input(ids.COLLATERAL, "value"),
    Input(ids.INSURANCE, "value"),
    Input(ids.COMPARE, "value"),
    Input(ids.SCENARIO_EXTRAS, "data"),
    State({"type": ids.PRICE, "asset": ALL}, "id"),
    State({"type": ids.DEPEG, "asset": ALL}, "id"),
    State(ids.NETWORK, "data"),
    State(ids.PENDING, "data"),
    # the perpetuals venues' ADL rules and collateral policies (dashboard/venues.py; none on a network without venues)
    Input({"type": ids.ADL_RULE, "venue": ALL}, "value"),
    Input({"type": ids.COLLATERAL_POLICY, "venue": ALL}, "value"),
    State({"type": ids.ADL_RULE, "venue": ALL}, "id"),
    State({"type": ids.COLLATERAL_POLICY, "venue": ALL}, "id"),
    Input(ids.PSM_HALT, "value"),  # governance's PSM halt (core.mechanisms.psm_halt)
    # the rounds the forced failures are dated to (dashboard/forced_rounds.py; one box per forced entity)
    *forced_rounds.read_boxes(Input),
    prevent_initial_call=True,  # the first page already shows its run (app.page)
    running=RUNNING,
)
@guarded(N_OUTPUTS, MESSAGE_AT)
def on_controls(price_values, depeg_values, forced, run, liquidity, oracle_lag, horizon, cb_on, cb_threshold, cb_rounds,
                collateral, insurance, compare, extras, price_ids, depeg_ids, network_store, pending,
                adl_values=None, policy_values=None, adl_ids=None, policy_ids=None, psm_halt=None, round_values=None, round_ids=None):
    network = network_from_store(network_store)
    scenario = controls.scenario_from_controls(
        price_values, price_ids, depeg_values, depeg_ids, forced, run, liquidity, oracle_lag, horizon,
        cb_on, cb_threshold, cb_rounds, collateral, insurance, extras,
        adl_values=adl_values, adl_ids=adl_ids, policy_values=policy_values, policy_ids=policy_ids, psm_halt=psm_halt,
        round_values=round_values, round_ids=round_ids, names=forced_rounds.entity_names(network),
    )
    scenario = controls.label_changes(scenario, extras, forced_rounds.entity_names(network))
    view = run_view(network, scenario, bool(compare), pending)
    return (
        scenario.model_dump(mode="json"),
        view["frames"],
        encode_scenario(scenario.model_dump(mode="json")),
        None,
        None if pending else no_update,
        view_store(view),
        view["frames"]["run"],
        controls.scenario_info(scenario, network, extras),
        *controls.section_counts(scenario).values(),
    )
