"""A forced failure dated on the page: the "fails at round" box beside each entity forced to fail.

The boxes (:mod:`dashboard.forced_rounds`) set the scenario's ``forced_default_rounds``; they follow the
forced-to-fail dropdown's list, show a loaded scenario's dates (a preset, a file, a link), and a round outside the
run is a message naming the entity, the value and the rounds allowed. Callbacks are called directly (no browser);
``tests/test_dashboard_forced_rounds_browser.py`` drives the page in Chromium.
"""

from __future__ import annotations

import base64
import json

import plotly.utils
import pytest
from dash import no_update
from dash.exceptions import PreventUpdate

import core
from core.scenario import Scenario
from dashboard import controls, forced_rounds, ids, scenarios, state
from dashboard.app import page
from dashboard_fixtures import component_props, control_ids, named, on_controls_showing, triggered

SNAPSHOT = "crypto-2025-10"  # the snapshot of the app, ctx and net fixtures (tests/dashboard_fixtures.py)
STREAM = "stream_elixir_nov_2025"


@pytest.fixture(scope="module")
def preset() -> Scenario:
    return scenarios.presets()[STREAM]


def _boxes(entities) -> list[dict[str, str]]:
    return [{"type": ids.DEFAULT_ROUND, "entity": e} for e in entities]


def _from_controls(network, sc: Scenario, extras_of: Scenario | None = None, forced=None, rounds=None, boxes=None,
                   horizon=None) -> Scenario:
    """``scenario_from_controls`` with every control showing ``sc`` (its boxes too), then ``forced``, the boxes'
    ``rounds`` (over the entities ``boxes``, default the forced list) and ``horizon`` changed; the extras of
    ``extras_of`` (default ``sc``: the scenario loaded)."""
    pid, did, *_ = control_ids(network)
    forced = list(sc.forced_defaults) if forced is None else forced
    boxes = _boxes(forced if boxes is None else boxes)
    v = controls.controls_from_scenario(sc, pid, did, round_ids=boxes)
    rounds = v[ids.DEFAULT_ROUND] if rounds is None else rounds
    return controls.scenario_from_controls(
        v[ids.PRICE], pid, v[ids.DEPEG], did, forced, v[ids.RUN], v[ids.LIQUIDITY], v[ids.ORACLE_LAG],
        v[ids.HORIZON] if horizon is None else horizon, v[ids.CB_ON], v[ids.CB_THRESHOLD], v[ids.CB_ROUNDS], v[ids.COLLATERAL],
        v[ids.INSURANCE], controls.extras_of(extras_of or sc), round_values=rounds, round_ids=boxes)


def _shown_boxes(tree) -> dict[str, object]:
    """The boxes in a component tree: entity -> value, in the page's order."""
    return {p["id"]["entity"]: p["value"] for p in component_props(tree)
            if isinstance(p.get("id"), dict) and p["id"].get("type") == ids.DEFAULT_ROUND}


def _texts(tree) -> str:
    out = []
    for p in component_props(tree):
        c = p.get("children")
        out += [c] if isinstance(c, str) else [x for x in c if isinstance(x, str)] if isinstance(c, list) else []
    return " ".join(out)


# -- the mapping -----------------------------------------------------------------------------------------------

def test_round_times_read_in_the_scenarios_time():
    assert forced_rounds.round_time(0, 24.0) == "at the shock"
    assert forced_rounds.round_time(3, 24.0) == "day 3 (72 h after the shock)"  # the brief's "round 3 = day 3"
    assert forced_rounds.round_time(1, 24.0) == "day 1 (24 h after the shock)"  # Stream: 4 November, round 0 = 3 November
    assert forced_rounds.round_time(3, 8.0) == "24 h after the shock"
    assert forced_rounds.round_time(2, 48.0) == "day 4 (96 h after the shock)"
    assert forced_rounds.round_time(3, 1 / 6) == "30 min after the shock"
    assert forced_rounds.hint(2, 7, 24.0) == ("= day 2 (48 h after the shock)", "hint forced-round-time")
    assert forced_rounds.hint(7, 7, 24.0) == ("outside the run (rounds 0–6)", "hint forced-round-time bad")
    assert forced_rounds.hint(None, 3, 24.0) == ("not a whole round (rounds 0–2)", "hint forced-round-time bad")


def test_the_presets_dates_round_trip_through_the_boxes(net, preset):
    """Stream's preset: its box shows 1; the controls give the preset back, date included, and nothing is listed as
    an "other input" or a change."""
    pid, did, *_ = control_ids(net)
    shown = controls.controls_from_scenario(preset, pid, did, round_ids=_boxes(["STREAM"]))
    assert shown[ids.DEFAULTS] == ["STREAM"] and shown[ids.DEFAULT_ROUND] == [1]
    back = _from_controls(net, preset)
    assert back.forced_default_rounds == {"STREAM": 1}
    assert back.model_dump() == preset.model_dump()
    assert controls.changes(preset, back) == [] and controls.label_changes(back, controls.extras_of(preset)).name == STREAM
    assert not any("fails at round" in line for line in controls.other_inputs(preset, net))
    # the first page of the preset holds the box, showing 1, with its time
    boxes = forced_rounds.panel(net, preset)
    assert _shown_boxes(boxes) == {"STREAM": 1} and "= day 1 (24 h after the shock)" in _texts(boxes)


def test_a_changed_date_is_a_change_of_the_preset(net, preset):
    moved = _from_controls(net, preset, rounds=[2])
    assert moved.forced_default_rounds == {"STREAM": 2}
    assert controls.changes(preset, moved) == ["STREAM fails at round: 1 → 2"]
    named_ = controls.label_changes(moved, controls.extras_of(preset))
    assert named_.name == f"modified from {STREAM}" and "STREAM fails at round: 1 → 2" in named_.description
    # round 0 is the field's default: not written, the same run as an undated failure; the change reads "1 → 0"
    at_shock = _from_controls(net, preset, rounds=[0])
    assert at_shock.forced_default_rounds == {}
    assert controls.changes(preset, at_shock) == ["STREAM fails at round: 1 → 0"]


def test_an_entity_taken_off_the_list_takes_its_date_with_it(net, preset):
    # the dropdown cleared, the box still there (the moment before the boxes follow): no date, no error
    gone = _from_controls(net, preset, forced=[], boxes=["STREAM"], rounds=[1])
    assert gone.forced_defaults == [] and gone.forced_default_rounds == {}
    assert controls.changes(preset, gone) == ["forced to fail: STREAM → none"]  # one line: its date went with it
    # and the boxes follow: none left
    rows = forced_rounds.on_forced_list([], [1], _boxes(["STREAM"]), 7, controls.extras_of(preset), state.network_store(None))
    assert rows == []


def test_an_entity_added_gets_a_box_and_a_date(ctx, net, preset):
    extras = controls.extras_of(preset)
    # STREAM's box set to 2 on the page; MEV Capital added: its box opens at 0 (at the shock), STREAM's keeps its 2
    rows = forced_rounds.on_forced_list(["STREAM", "MEV_CAPITAL"], [2], _boxes(["STREAM"]), 7, extras, state.network_store(None))
    assert _shown_boxes(rows) == {"STREAM": 2, "MEV_CAPITAL": 0}
    assert "MEV Capital" in json.dumps(rows, cls=plotly.utils.PlotlyJSONEncoder)  # the entity's name on hover
    # STREAM taken off and put back: the box shows the loaded scenario's date again
    rows = forced_rounds.on_forced_list(["STREAM"], [], [], 7, extras, state.network_store(None))
    assert _shown_boxes(rows) == {"STREAM": 1}
    # the list unchanged (a scenario applied with the same entities): the boxes are left as they are
    with pytest.raises(PreventUpdate):
        forced_rounds.on_forced_list(["STREAM"], [2], _boxes(["STREAM"]), 7, extras, state.network_store(None))
    two = _from_controls(net, preset, forced=["STREAM", "MEV_CAPITAL"], rounds=[2, 3])
    assert two.forced_default_rounds == {"STREAM": 2, "MEV_CAPITAL": 3}
    assert controls.changes(preset, two) == ["forced to fail: STREAM → STREAM, MEV_CAPITAL", "MEV_CAPITAL fails at round: 0 → 3",
                                             "STREAM fails at round: 1 → 2"]


def test_the_date_reruns_the_cascade(ctx, net, preset):
    """A date the box sets is the run's: the same rounds, defaults and loss as core.simulate of the dated scenario."""
    for r in (1, 2):
        out = on_controls_showing(net, preset, rounds=[r])
        assert out[f"{ids.MESSAGE}.children"] is None
        assert out[f"{ids.SCENARIO}.data"]["forced_default_rounds"] == {"STREAM": r}
        want = core.simulate(net, preset.model_copy(update={"forced_default_rounds": {"STREAM": r}}))
        assert out[f"{ids.FRAMES}.data"]["rounds"] == want.n_rounds
    assert (on_controls_showing(net, preset, rounds=[1])[f"{ids.FRAMES}.data"]["rounds"] + 1
            == on_controls_showing(net, preset, rounds=[2])[f"{ids.FRAMES}.data"]["rounds"])
    # the page's list names the entity as its box does (session 39; was "STREAM fails at round: 1 → 2")
    assert "Stream Finance (xUSD) (STREAM) fails at round: 1 → 2" in _texts(on_controls_showing(net, preset, rounds=[2])[f"{ids.SCENARIO_INFO}.children"])


#: The page's messages name the entity as its box does (session 39; were "STREAM fails at round").
@pytest.mark.parametrize("value, horizon, words", [
    (7, None, ["Stream Finance (xUSD) (STREAM) fails at round", "found 7", "a whole round from 0 to 6", "the horizon is 7 rounds"]),
    (-1, None, ["Stream Finance (xUSD) (STREAM) fails at round", "found -1", "from 0 to 6"]),
    (None, None, ["Stream Finance (xUSD) (STREAM) fails at round (the box is empty or holds no whole number)", "from 0 to 6"]),
    (2.5, None, ["Stream Finance (xUSD) (STREAM) fails at round", "found 2.5", "a whole round"]),
    ("3", None, ["Stream Finance (xUSD) (STREAM) fails at round", "found '3'", "a whole round"]),
    (True, None, ["Stream Finance (xUSD) (STREAM) fails at round", "found True"]),
    # the horizon lowered below the date: the same message, the rounds the new horizon allows
    (1, 1, ["Stream Finance (xUSD) (STREAM) fails at round", "found 1", "a whole round from 0 to 0", "the horizon is 1 round)"]),
    (5, 3, ["found 5", "from 0 to 2", "the horizon is 3 rounds"]),
])
def test_a_bad_round_is_a_message_naming_the_entity_and_nothing_changes(ctx, net, preset, value, horizon, words):
    out = on_controls_showing(net, preset, rounds=[value], horizon=horizon)
    message = out[f"{ids.MESSAGE}.children"]
    text = json.dumps(message, cls=plotly.utils.PlotlyJSONEncoder)
    assert "alert-error" in text and "nothing was changed" in text and "Traceback" not in text
    for w in words:
        assert w in text, (w, text)
    assert all(v is no_update for k, v in out.items() if k != f"{ids.MESSAGE}.children")  # the run on screen stays


def test_a_date_the_file_gives_an_entity_without_a_box_is_checked_against_the_horizon(net, preset):
    """The moment before the boxes follow the dropdown, a forced entity keeps the loaded date: still checked, with the
    same message, so lowering the horizon is never a traceback."""
    with pytest.raises(core.validation.DataValidationError, match="STREAM fails at round: found 1; expected a whole round from 0 to 0"):
        _from_controls(net, preset, boxes=[], rounds=[], horizon=1)
    assert _from_controls(net, preset, boxes=[], rounds=[]).forced_default_rounds == {"STREAM": 1}


def test_a_preset_sets_the_boxes_on_the_page_and_reset_clears_them(ctx, net, preset):
    pid, did, *_ = control_ids(net)
    # STREAM's box on the page (set to 4): the preset puts it back to 1, with the forced list and the extras' date
    res = named(scenarios.SOURCE_OUTPUTS, triggered(f"{ids.PRESET}.value", scenarios.on_scenario_source,
                                                    None, STREAM, None, None, None, pid, did, state.network_store(None), [], [],
                                                    _boxes(["STREAM"])))
    assert res[f"{ids.DEFAULT_ROUND}.value"] == [1] and res[f"{ids.DEFAULTS}.value"] == ["STREAM"]
    assert res[f"{ids.SCENARIO_EXTRAS}.data"]["forced_default_rounds"] == {"STREAM": 1}
    res = named(scenarios.SOURCE_OUTPUTS, triggered(f"{ids.RESET}.n_clicks", scenarios.on_scenario_source,
                                                    None, None, None, 1, None, pid, did, state.network_store(None), [], [],
                                                    _boxes(["STREAM"])))
    assert res[f"{ids.DEFAULT_ROUND}.value"] == [0] and res[f"{ids.DEFAULTS}.value"] == []
    assert res[f"{ids.SCENARIO_EXTRAS}.data"]["forced_default_rounds"] == {}
    # a scenario file dating ELIXIR to round 2: the forced list, and the date for its box in the extras
    doc = Scenario(forced_defaults=["ELIXIR"], forced_default_rounds={"ELIXIR": 2}, horizon=5).to_json()
    contents = "data:application/json;base64," + base64.b64encode(doc.encode()).decode()
    res = named(scenarios.SOURCE_OUTPUTS, triggered(f"{ids.SCENARIO_UPLOAD}.contents", scenarios.on_scenario_source,
                                                    None, None, contents, None, "elixir.json", pid, did, state.network_store(None),
                                                    [], [], _boxes(["STREAM"])))
    assert res[f"{ids.DEFAULTS}.value"] == ["ELIXIR"] and res[f"{ids.HORIZON}.value"] == 5
    rows = forced_rounds.on_forced_list(["ELIXIR"], res[f"{ids.DEFAULT_ROUND}.value"], _boxes(["STREAM"]), 5,
                                        res[f"{ids.SCENARIO_EXTRAS}.data"], state.network_store(None))
    assert _shown_boxes(rows) == {"ELIXIR": 2} and "= day 2 (48 h after the shock)" in _texts(rows)
    # a refused file leaves the boxes as they are
    res = named(scenarios.SOURCE_OUTPUTS, triggered(f"{ids.PRESET}.value", scenarios.on_scenario_source,
                                                    None, "no_such_preset", None, None, None, pid, did, state.network_store(None),
                                                    [], [], _boxes(["STREAM"])))
    assert res[f"{ids.DEFAULT_ROUND}.value"] == [no_update]


def test_a_link_reproduces_the_dated_run(ctx, net, preset):
    """The URL keeps the dates: the link of a run with STREAM at round 2 and MEV Capital at round 3 opens a page
    whose boxes show them and whose run is core.simulate's of that scenario."""
    sc = _from_controls(net, preset, forced=["STREAM", "MEV_CAPITAL"], rounds=[2, 3])
    link = state.encode_scenario(sc.model_dump(mode="json"))
    assert state.decode_scenario(link).forced_default_rounds == {"STREAM": 2, "MEV_CAPITAL": 3}
    layout = page(net, "", f"s={link}")
    assert _shown_boxes(layout) == {"STREAM": 2, "MEV_CAPITAL": 3}
    frames = next(p["data"] for p in component_props(layout) if p.get("id") == ids.FRAMES)
    assert frames["rounds"] == core.simulate(net, sc).n_rounds
    # through the link callback (a page built without the link): the forced list, the extras' dates for the boxes
    pid, did, *_ = control_ids(net)
    out = named(scenarios.SOURCE_OUTPUTS[:-2], scenarios.scenario_source(None, f"http://x/?s={link}", None, None, None, pid, did,
                                                                         state.network_store(None), [], [], []))
    assert out[f"{ids.DEFAULTS}.value"] == ["STREAM", "MEV_CAPITAL"]
    rows = forced_rounds.on_forced_list(out[f"{ids.DEFAULTS}.value"], [], [], sc.horizon, out[f"{ids.SCENARIO_EXTRAS}.data"],
                                        state.network_store(None))
    assert _shown_boxes(rows) == {"STREAM": 2, "MEV_CAPITAL": 3}


def test_the_time_beside_a_box_follows_its_value_and_the_horizon():
    extras = {"round_hours": 8.0}
    assert forced_rounds.on_round_value(3, 12, extras) == ("= 24 h after the shock", "hint forced-round-time")
    assert forced_rounds.on_round_value(3, 3, extras) == ("outside the run (rounds 0–2)", "hint forced-round-time bad")
    assert forced_rounds.on_round_value(0, 3, {}) == ("= at the shock", "hint forced-round-time")
