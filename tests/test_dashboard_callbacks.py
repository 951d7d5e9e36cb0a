"""Dashboard callbacks and the functions behind them, called directly (no browser).

They run the real engine (``core.engine.simulate``) on the shipped dataset.
"""

from __future__ import annotations

import base64
import json

import plotly.utils
from typing import Any

import pandas as pd
import pytest
from dash import no_update

import core
from core.scenario import Scenario, parse_scenario
from dashboard import app as app_module
from dashboard import (
    cascade,
    charts,
    controls,
    critical,
    detail,
    export,
    graph,
    graph_animation,
    graph_frames,
    graph_legend,
    headline,
    ids,
    montecarlo,
    scenarios,
    state,
    upload,
)
from dashboard.app import create_app
from dashboard_fixtures import control_ids, named, triggered


# the snapshot of the app, ctx and net fixtures (tests/dashboard_fixtures.py): the callbacks are checked on the 2022
# system's Terra story
SNAPSHOT = "crypto-2022-05"

SHOCK = Scenario(name="test", price_shocks={"ETH": -0.6, "LUNA": -0.9}, depegs={"UST": 0.6}, horizon=10)


def _control_args(network, sc: Scenario):
    pid, did, *_ = control_ids(network)
    v = controls.controls_from_scenario(sc, pid, did)
    return pid, did, v


def _upload(name: str, text: str) -> str:
    return "data:text/csv;base64," + base64.b64encode(text.encode()).decode()


# -- graph ---------------------------------------------------------------------

def test_positions_are_deterministic_grouped_and_cover_every_entity(net):
    a, b = graph.positions(net), graph.positions(net)
    assert a.equals(b)
    assert len(a) == net.n_entities and not a.isna().any().any()
    # sectors do not overlap: each sector's bounding box is disjoint from the others' (issue 15: sectors in fixed regions)
    from dashboard import graph_layout

    sector = pd.Series(graph_layout.sector_of(net.entities["type"]), index=net.entity_ids, name="sector")
    boxes = {r: (g["x"].min(), g["x"].max(), g["y"].min(), g["y"].max()) for r, g in a.join(sector).groupby("sector")}
    for r1, b1 in boxes.items():
        for r2, b2 in boxes.items():
            if r1 < r2:
                assert b1[1] < b2[0] or b2[1] < b1[0] or b1[3] < b2[2] or b2[3] < b1[2], (r1, r2)


def test_positions_do_not_depend_on_row_order(net):
    shuffled = core.Network(**{**net.frames(), "entities": net.entities.sample(frac=1, random_state=3).reset_index(drop=True)},
                            name=net.name)
    assert graph.positions(shuffled).sort_index().equals(graph.positions(net).sort_index())


def test_elements_nodes_first_in_entity_order_then_edges(net):
    els = graph.elements(net)
    n = net.n_entities
    assert [e["data"]["id"] for e in els[:n]] == list(net.entity_ids)
    m = len(graph_frames.edge_table(net))
    assert all("source" in e["data"] for e in els[n:n + m])
    assert all(e["classes"] == "sector" for e in els[n + m:n + m + 7])  # then the five sector titles
    frame = els[n + m + 5:n + m + 7]
    assert [e["data"]["id"] for e in frame] == ["sector:frame-0", "sector:frame-1"] and all(e["data"]["label"] == "" for e in frame)  # the frame's marks
    # then one leader line per entity, in entity order, hidden on the calm network (a mark and an edge from the node)
    pool = els[n + m + 7:]
    assert len(pool) == 2 * n and all(e["classes"].split()[-2:] == ["callout", "off"] for e in pool)
    assert [e["data"]["source"] for e in pool[1::2]] == list(net.entity_ids) == [e["data"]["target"][len("sector:callout-"):] for e in pool[1::2]]
    assert [e["data"]["id"] for e in pool[::2]] == [e["data"]["target"] for e in pool[1::2]]
    widths = [e["data"]["w"] for e in els[n:n + m]]
    assert min(widths) >= 0.6 and max(widths) <= 6.0


def test_frames_hold_every_round_and_status(ctx, net):
    res = state.simulate(net, SHOCK)
    fr = graph_frames.frames(net, res)
    assert fr["rounds"] == res.n_rounds and len(fr["status"]) == res.n_rounds
    assert all(len(s) == net.n_entities and set(s) <= set("0123") for s in fr["status"])
    assert "3" in fr["status"][-1]  # this shock defaults someone
    assert all(0 <= j < fr["m"] for lit in fr["lit"] for j in lit)
    assert any(fr["lit"])  # some exposure edge carried a loss
    json.dumps(fr)  # goes into a dcc.Store


def test_stylesheet_status_colours_are_okabe_ito():
    sheet = {r["selector"]: r["style"] for r in graph.stylesheet(50)}
    assert sheet[".st-defaulted"]["background-color"] == "#D55E00"
    assert sheet[".st-healthy"]["background-color"] == "#56B4E9"
    assert "transition-property" not in {k for r in graph.stylesheet(5000) for k in r["style"]}


# -- controls, URL -------------------------------------------------------------

def test_controls_round_trip_a_scenario(net):
    sc = parse_scenario({**SHOCK.model_dump(), "run_intensity": 0.35, "liquidity": 0.5, "forced_defaults": ["CELSIUS"],
                         "safeguards": {"circuit_breaker": {"threshold": 0.25, "rounds": 3}, "collateral_multiplier": 1.5,
                                        "insurance_multiplier": 2.0}})
    pid, did, v = _control_args(net, sc)
    back = controls.scenario_from_controls(
        v[ids.PRICE], pid, v[ids.DEPEG], did, v[ids.DEFAULTS], v[ids.RUN], v[ids.LIQUIDITY], v[ids.ORACLE_LAG], v[ids.HORIZON],
        v[ids.CB_ON], v[ids.CB_THRESHOLD], v[ids.CB_ROUNDS], v[ids.COLLATERAL], v[ids.INSURANCE], controls.extras_of(sc))
    assert back.model_dump() == sc.model_dump()


def test_the_psm_halt_checkbox_sets_the_safeguard_and_shows_a_loaded_one(net):
    """The Safeguards panel's checkbox is ``safeguards.psm_governance_halt``: unticked, the PSMs keep taking an impaired
    backing; a loaded scenario's value shows in it, and without the checkbox's value the loaded one is kept."""
    sc = parse_scenario({**SHOCK.model_dump(), "safeguards": {"psm_governance_halt": False}})
    pid, did, v = _control_args(net, sc)
    assert v[ids.PSM_HALT] == []
    args = (v[ids.PRICE], pid, v[ids.DEPEG], did, v[ids.DEFAULTS], v[ids.RUN], v[ids.LIQUIDITY], v[ids.ORACLE_LAG],
            v[ids.HORIZON], v[ids.CB_ON], v[ids.CB_THRESHOLD], v[ids.CB_ROUNDS], v[ids.COLLATERAL], v[ids.INSURANCE],
            controls.extras_of(sc))
    assert controls.scenario_from_controls(*args, psm_halt=v[ids.PSM_HALT]).model_dump() == sc.model_dump()
    assert controls.scenario_from_controls(*args).safeguards.psm_governance_halt is False
    assert controls.scenario_from_controls(*args, psm_halt=["on"]).safeguards.psm_governance_halt is True
    assert controls.section_counts(sc)["section-safeguards"] == " · 1 set"
    assert controls.controls_from_scenario(SHOCK, pid, did)[ids.PSM_HALT] == ["on"]


def test_price_sliders_for_majors_first_and_pegs_for_pegged(net):
    prices = controls.price_assets(net)
    assert prices[:4] == ["ETH", "BTC", "LUNA", "FTT"]
    assert "UST" in controls.peg_assets(net) and "stETH" in controls.peg_assets(net)
    assert not set(prices) & set(controls.peg_assets(net))


def test_url_codec_round_trips_and_rejects_garbage():
    text = state.encode_scenario(SHOCK.model_dump(mode="json"))
    assert len(text) < 200
    q = state.parse_query(f"?s={text}&cmp=1&r=3&e=CELSIUS")
    assert q["scenario"].model_dump() == SHOCK.model_dump()
    assert q["compare"] is True and q["round"] == 3 and q["entity"] == "CELSIUS"
    with pytest.raises(core.DataValidationError):
        state.decode_scenario("not-a-scenario")


# -- the run callback ----------------------------------------------------------------

def _call_controls(net, sc: Scenario, compare=False, pending=None):
    pid, did, v = _control_args(net, sc)
    return cascade.on_controls(
        v[ids.PRICE], v[ids.DEPEG], v[ids.DEFAULTS], v[ids.RUN], v[ids.LIQUIDITY], v[ids.ORACLE_LAG], v[ids.HORIZON], v[ids.CB_ON],
        v[ids.CB_THRESHOLD], v[ids.CB_ROUNDS], v[ids.COLLATERAL], v[ids.INSURANCE], ["on"] if compare else [],
        controls.extras_of(sc), pid, did, state.network_store(None), pending)


def with_view(out: dict[str, Any]) -> dict[str, Any]:
    """``on_controls``'s results with the run view's charts and tables by "component_id.property" (they ride in the
    run-view store, drawn by sfm.renderRound with the run's frames)."""
    return out | cascade.view_outputs(out[f"{ids.RUN_VIEW}.data"])


def test_on_controls_returns_scenario_frames_charts_and_headline(ctx, net):
    out = with_view(named(cascade.OUTPUTS, _call_controls(net, SHOCK)))
    scenario, frames, url_s, message = (out[k] for k in (f"{ids.SCENARIO}.data", f"{ids.FRAMES}.data", f"{ids.URL_SCENARIO}.data",
                                                         f"{ids.MESSAGE}.children"))
    # the round slider's range and value ride with the frames (sfm.renderRound draws them with the run: RUN_OUTPUTS)
    rmax, rvalue = frames["rounds"] - 1, out[f"{ids.RUN_VIEW}.data"]["round"]
    assert frames["marks"] == graph_animation.round_marks(rmax) and out[f"{ids.RUN_ID}.data"] == frames["run"]
    figs = [out[f"{c}.figure"] for c in ids.TIME_CHARTS]
    assert parse_scenario(scenario).price_shocks == SHOCK.price_shocks
    assert message is None and rvalue == rmax == frames["rounds"] - 1
    assert state.decode_scenario(url_s).model_dump() == parse_scenario(scenario).model_dump()
    loss = figs[0]
    assert loss["layout"]["shapes"][0]["x0"] == rvalue  # the round marker
    assert "USD" in loss["layout"]["yaxis"]["title"]["text"] and "horizon 10" in loss["layout"]["xaxis"]["title"]["text"]
    assert max(loss["data"][0]["y"]) > 0
    # the frames and the charts are of one run: the page draws a run view only with the frames of the same run id
    assert out[f"{ids.RUN_VIEW}.data"]["run"] == frames["run"] == cascade.run_id(net, parse_scenario(scenario), False)
    assert cascade.run_id(net, parse_scenario(scenario), True) != frames["run"]


def test_compare_overlays_the_run_without_safeguards(ctx, net):
    sc = SHOCK.model_copy(update={"safeguards": parse_scenario({"safeguards": {"insurance_multiplier": 10, "collateral_multiplier": 2}}).safeguards})
    out = with_view(named(cascade.OUTPUTS, _call_controls(net, sc, compare=True)))
    names = [t["name"] for t in out[f"{ids.TIME_CHARTS[0]}.figure"]["data"]]
    assert any("no safeguards" in n for n in names) and any("(safeguards)" in n for n in names)
    # the headline (drawn per round from the frames) carries the run without safeguards
    frames = out[f"{ids.FRAMES}.data"]
    head = headline.headline_at(frames["headline"], frames["rounds"] - 1)
    assert "vs no safeguards" in json.dumps([h.to_plotly_json() for h in head], default=str)


def test_on_controls_bad_input_gives_a_message_not_a_traceback(ctx, net):
    pid, did, v = _control_args(net, SHOCK)
    out = cascade.on_controls(v[ids.PRICE], v[ids.DEPEG], ["NO_SUCH_ENTITY"], 0, 1, 0, 12, [], 20, 2, 1, 1, [], {}, pid, did,
                              state.network_store(None), None)
    out = named(cascade.OUTPUTS, out)
    assert out[f"{ids.SCENARIO}.data"] is no_update and out[f"{ids.FRAMES}.data"] is no_update
    assert "NO_SUCH_ENTITY" in str(out[f"{ids.MESSAGE}.children"])


def test_url_round_and_entity_are_applied_once(ctx, net):
    out = named(cascade.OUTPUTS, _call_controls(net, SHOCK, pending={"round": 2}))
    assert out[f"{ids.RUN_VIEW}.data"]["round"] == 2 and out[f"{ids.PENDING}.data"] is None  # round from the link, then the request is cleared


# -- scenarios ---------------------------------------------------------------------

def test_link_sets_every_control(ctx, net):
    pid, did, *_ = control_ids(net)
    href = f"http://x/?s={state.encode_scenario(SHOCK.model_dump(mode='json'))}&cmp=1&r=4&e=ANCHOR"
    out = named(scenarios.SOURCE_OUTPUTS[:-2], scenarios.scenario_source(None, href, None, None, None, pid, did, state.network_store(None)))
    prices, depegs = out[f"{ids.PRICE}.value"], out[f"{ids.DEPEG}.value"]
    assert prices[[i["asset"] for i in pid].index("ETH")] == -60
    assert depegs[[i["asset"] for i in did].index("UST")] == 60
    assert out[f"{ids.PENDING}.data"] == {"round": 4} and out[f"{ids.SELECTED}.data"] == "ANCHOR" and out[f"{ids.TABS}.value"] == "detail"


def test_uploaded_scenario_applies_and_bad_file_keeps_controls(ctx, net):
    pid, did, *_ = control_ids(net)
    good = "data:application/json;base64," + base64.b64encode(SHOCK.to_json().encode()).decode()
    out = named(scenarios.SOURCE_OUTPUTS[:-2], scenarios.scenario_source(ids.SCENARIO_UPLOAD, None, None, good, "s.json", pid, did,
                                                                         state.network_store(None)))
    assert out[f"{ids.RUN}.value"] == 0 and out[f"{ids.PRICE}.value"][0] == -60
    bad = "data:application/json;base64," + base64.b64encode(b'{"price_shocks": {"ETH": -3}}').decode()
    res = triggered(f"{ids.SCENARIO_UPLOAD}.contents", scenarios.on_scenario_source,
                    None, None, bad, None, "bad.json", pid, did, state.network_store(None))
    res = named(scenarios.SOURCE_OUTPUTS, res)
    assert res[f"{ids.PRICE}.value"] == [no_update] * len(pid)
    message, preset, upload_contents = (res[k] for k in (f"{ids.MESSAGE}.children", f"{ids.PRESET}.value", f"{ids.SCENARIO_UPLOAD}.contents"))
    assert "bad.json" in str(message) and "price_shocks" in str(message)
    assert preset is no_update and upload_contents is None  # cleared: the same (fixed) file can be chosen again


def test_a_preset_stays_selected_once_applied(ctx, net):
    pid, did, *_ = control_ids(net)
    key = next(k for k, sc in scenarios.presets().items() if sc.snapshot == net.name)  # a preset of the page's snapshot
    res = triggered(f"{ids.PRESET}.value", scenarios.on_scenario_source,
                    None, key, None, None, None, pid, did, state.network_store(None))
    res = named(scenarios.SOURCE_OUTPUTS, res)
    assert res[f"{ids.PRICE}.value"] != [no_update] * len(pid)  # applied
    assert "Preset loaded" in str(res[f"{ids.MESSAGE}.children"])
    # the menu keeps showing the preset (issue 15, defect 2)
    assert res[f"{ids.PRESET}.value"] is no_update and res[f"{ids.SCENARIO_UPLOAD}.contents"] is no_update


def test_a_preset_of_another_snapshot_opens_that_snapshot(ctx, net):
    from dashboard import snapshots

    pid, did, *_ = control_ids(net)
    res = triggered(f"{ids.PRESET}.value", scenarios.on_scenario_source,
                    None, "black_thursday_2020", None, None, None, pid, did, state.network_store(None))
    res = named(scenarios.SOURCE_OUTPUTS, res)
    assert res[f"{ids.PRICE}.value"] == [no_update] * len(pid) and res[f"{ids.MESSAGE}.children"] is no_update  # not applied here, no error
    link = triggered(f"{ids.PRESET}.value", snapshots.on_snapshot, net.name, "black_thursday_2020", state.network_store(None))
    assert link == "?snapshot=crypto-2020-03&p=black_thursday_2020"
    assert triggered(f"{ids.PRESET}.value", snapshots.on_snapshot, net.name, "terra_may_2022", state.network_store(None)) is no_update
    assert triggered(f"{ids.SNAPSHOT}.value", snapshots.on_snapshot, "crypto-2025-10", None,
                     state.network_store(None)) == "?snapshot=crypto-2025-10"
    assert triggered(f"{ids.SNAPSHOT}.value", snapshots.on_snapshot, net.name, None, state.network_store(None)) is no_update


def test_the_link_names_the_snapshot_and_the_preset(ctx):
    q = state.parse_query("?snapshot=crypto-2020-03&p=black_thursday_2020")
    assert q["snapshot"] == "crypto-2020-03" and q["preset"] == "black_thursday_2020"
    assert q["scenario"].name == "black_thursday_2020"
    with pytest.raises(core.DataValidationError) as exc:
        state.parse_query("?snapshot=crypto-1999-01&p=nope")
    text = str(exc.value)
    assert "crypto-2025-10" in text and "terra_may_2022" in text
    assert state.network_from_store(state.snapshot_store("crypto-2020-03")) is core.datasets.load("crypto-2020-03")
    with pytest.raises(core.DataValidationError, match="crypto-2022-05"):
        state.network_from_store({"source": "snapshot", "name": "../etc"})



def test_download_gives_the_scenario_json(ctx):
    data, _ = scenarios.on_download(1, SHOCK.model_dump(mode="json"))
    assert data["filename"] == "test.json"
    assert parse_scenario(data["content"]).model_dump() == SHOCK.model_dump()


def test_presets_load_and_apply_to_their_own_snapshot():
    for _key, sc in scenarios.presets().items():
        sc.check_against(core.datasets.network_of(sc))  # every preset names only assets and entities of its own snapshot
    assert all(o["label"] for o in scenarios.preset_options())


# -- bring your own data -----------------------------------------------------------

def test_bad_csv_upload_names_file_line_and_column(ctx, net):
    text = core.io.table_to_csv_text("entities", net.entities)
    lines = text.splitlines()
    lines[3] = lines[3].replace("cefi_lender", "bank").replace("lending_protocol", "bank").replace("stablecoin_issuer", "bank") \
        .replace("amm_pool", "bank").replace("reserve", "bank")
    bad = "\n".join(lines) + "\n"
    with pytest.raises(core.DataValidationError) as exc:
        upload.network_from_uploads([_upload("entities.csv", bad)], ["entities.csv"], net)
    p = exc.value.problems[0]
    assert p.file == "entities.csv" and p.row == 4 and p.column == "type"


def test_on_upload_error_keeps_the_network(ctx, net):
    out = triggered(f"{ids.DATA_UPLOAD}.contents", upload.on_upload,
                    [_upload("foo.csv", "a,b\n1,2\n")], None, ["foo.csv"], state.network_store(None), None)
    out = named(upload.OUTPUTS, out)
    assert out[f"{ids.NETWORK}.data"] is no_update and out[f"{ids.GRAPH}.elements"] is no_update
    assert "foo.csv" in str(out[f"{ids.DATA_STATUS}.children"])
    assert out[f"{ids.DATA_UPLOAD}.contents"] is None  # the upload is cleared, so dropping the same (fixed) file fires again


def test_partial_csv_upload_replaces_only_that_table(ctx, net):
    ex = net.exposures.head(10)
    text = core.io.table_to_csv_text("exposures", ex)
    new = upload.network_from_uploads([_upload("exposures.csv", text)], ["exposures.csv"], net)
    assert len(new.exposures) == 10 and len(new.entities) == net.n_entities


def test_json_upload_becomes_the_users_network(ctx, net):
    small = core.datasets.synthetic(30, 60, seed=2)
    contents = "data:application/json;base64," + base64.b64encode(small.to_json().encode()).decode()
    sc = SHOCK.model_dump(mode="json")
    out = triggered(f"{ids.DATA_UPLOAD}.contents", upload.on_upload, [contents], None, ["small.json"], state.network_store(None), sc)
    out = named(upload.OUTPUTS, out)
    store, elements = out[f"{ids.NETWORK}.data"], out[f"{ids.GRAPH}.elements"]
    assert store["source"] == "upload" and len([e for e in elements if "source" not in e["data"] and "sector" not in e.get("classes", "").split()]) == 30
    assert state.network_from_store(store).n_entities == 30
    assert out[f"{ids.SCENARIO_EXTRAS}.data"]["price_shocks"] == {"ETH": -0.6, "LUNA": -0.9}  # the shocks that still apply are kept
    assert out[f"{ids.DATA_UPLOAD}.contents"] is None


# -- detail, critical, report ----------------------------------------------------------

def test_entity_card_has_narrative_path_and_highlight(ctx, net):
    res = state.simulate(net, SHOCK)
    entity = res.nodes[res.nodes["default_round"] > 0]["entity"].iloc[0]
    body, hl = detail.card(net, res, entity)
    text = json.dumps([b.to_plotly_json() for b in body], default=str)
    assert "Why" in text and "Balance sheet" in text and "Exposures out" in text
    assert hl["entity"] == list(net.entity_ids).index(entity)
    assert all(0 <= j < len(graph_frames.edge_table(net)) for j in hl["edges"])


def test_on_select_from_graph_opens_detail_tab():
    assert triggered(f"{ids.GRAPH}.tapNodeData", detail.on_select, {"id": "CELSIUS"}, None, None) == ("CELSIUS", "detail")


def test_a_grid_click_selects_the_entity_or_makes_it_fail():
    """The critical-nodes grid (dash-ag-grid) reports a click as ``cellClicked`` {colId, rowId, value}: a "fail" cell
    adds the entity to the forced defaults (once), any other cell selects it."""
    from dashboard import critical_given

    fail = {"colId": "fail", "rowId": "3AC", "value": "fail", "rowIndex": 0}
    name = {"colId": "name", "rowId": "3AC", "value": "Three Arrows Capital", "rowIndex": 0}
    trig = f"{ids.CRITICAL_TABLE}.cellClicked"
    assert triggered(trig, critical_given.on_fail, fail, ["FTX"]) == ["FTX", "3AC"]
    assert triggered(trig, critical_given.on_fail, fail, ["3AC"]) is no_update
    assert triggered(trig, critical_given.on_fail, name, []) is no_update
    assert triggered(trig, critical_given.on_fail, {**fail, "value": ""}, []) is no_update  # an entity already failing: no button
    assert triggered(trig, detail.on_select, None, name, None) == ("3AC", no_update)
    assert triggered(trig, detail.on_select, None, fail, None) == (no_update, no_update)


def test_critical_grid_sorts_filters_and_exports():
    cols = {c["field"]: c for c in critical.COLUMNS}
    assert list(cols)[:7] == ["name", "fail", "added_rank", "added_musd", "importance_musd", "loss_musd", "status"]
    # the scenario's columns and "Alone" are shown and fit the grid of the side column at 1366 px (446 px), the Entity
    # column taking what the others leave; the calm network's others are a tick away ("More columns"), in the CSV too
    assert [c["field"] for c in critical.COLUMNS if not c["hide"]] == list(cols)[:7]
    assert sum(c["width"] for c in critical.COLUMNS if not c["hide"]) <= 446 and cols["name"]["flex"] == 1
    assert {c["field"] for c in critical.COLUMNS if c["hide"]} == set(critical.MORE) == set(list(cols)[7:])
    assert [c["hide"] for c in critical.on_more(["debtrank"])] == [f in critical.MORE and f != "debtrank" for f in cols]
    assert not any(c["hide"] for c in critical.on_more(list(critical.MORE)))
    assert critical.panel().children[-1].children.csvExportParams["allColumns"] is True
    assert cols["added_musd"]["filter"] == "agNumberColumnFilter" and cols["name"]["filter"] == "agTextColumnFilter"
    assert cols["fail"]["sortable"] is False
    assert critical.on_csv(1) is True
    # the columns of the scenario on screen are drawn by the page's RunCell (assets/sfm_run_cells.js), which says the
    # run of the text it drew, and drawn again with every new row, equal value or not; the calm network's are not
    for field, col in cols.items():
        run_cell = {k: col.get(k) for k in critical.RUN_CELLS}
        assert run_cell == (critical.RUN_CELLS if field in critical.RUN_COLUMNS else dict.fromkeys(critical.RUN_CELLS)), field
    assert critical.RUN_CELLS["cellRendererParams"]["store"] == ids.CRITICAL_SHOWN


def test_critical_rows_name_the_run_they_are_of(ctx):
    """Every row of the grid carries the id of the run it was filled for (what RunCell reports once drawn), and the
    columns of that run are the only ones that differ between two runs on the same network."""
    one = critical.on_scenario("run-a", "critical", SHOCK_JSON, state.network_store(None))
    other = critical.on_scenario("run-b", "critical", SHOCK.model_dump(mode="json"), state.network_store(None))
    assert one[2] == "run-a" and other[2] == "run-b" and one[1] == other[1] == critical.NOTE
    assert {r["run"] for r in one[0]} == {"run-a"} and {r["run"] for r in other[0]} == {"run-b"}
    assert len(one[0]) == len(other[0]) == state.base_network().n_entities
    by_id = {r["id"]: r for r in other[0]}
    differ = {k for r in one[0] for k, v in r.items() if by_id[r["id"]][k] != v}  # (no NaN: an empty cell is None)
    assert differ - {"run"} and differ - {"run"} <= set(critical.RUN_COLUMNS), differ


def test_critical_table_rows(ctx, net):
    import pandas as pd

    imp = pd.DataFrame({"importance_usd": range(net.n_entities), "importance_share": 0.1, "debtrank": 0.2,
                        "vulnerability_usd": 1.0, "vulnerability_share": 0.0}, index=net.entity_ids)
    rows = critical.table_rows(net, imp, state.simulate(net, SHOCK))
    assert len(rows) == net.n_entities and rows[0]["importance_musd"] >= rows[-1]["importance_musd"]
    assert {"id", "name", "loss_musd", "status"} <= set(rows[0])


def test_report_is_one_offline_html_page(ctx, net):
    res = state.simulate(net, SHOCK)
    html_text = export.report_html(net, SHOCK, res, None)
    assert html_text.startswith("<!DOCTYPE html>") and SHOCK.name in html_text
    import re

    assert not re.search(r"<script[^>]*\bsrc=", html_text)  # plotly.js is inlined: the page opens offline
    assert html_text.count("Plotly.newPlot") == 6
    assert html_text.count("plotly.js (cartesian - minified) v") == 1  # the page's partial bundle, once
    # the graph at the final round, drawn inline: one node per entity, the defaulted ones in their colour
    svg = _svg_root(re.search(r'<div class="graph">(<svg.*?</svg>)</div>', html_text, re.S).group(1))
    nodes = _svg_nodes(svg)
    assert len(nodes) == net.n_entities
    assert sum("st-defaulted" in g.get("class") for g in nodes) == int(res.totals["defaults"].iloc[-1])


SVG_NS = "{http://www.w3.org/2000/svg}"


def _svg_root(text: str):
    import xml.etree.ElementTree as ET

    return ET.fromstring(text)


def _svg_nodes(root) -> list:
    return [g for g in root.iter(f"{SVG_NS}g") if g.get("class", "").split()[:1] == ["node"]]


def test_graph_svg_draws_every_node_and_edge_as_the_stylesheet_says(net):
    from dashboard import graph_layout
    from dashboard.graph_svg import graph_svg

    res = state.simulate(net, SHOCK)
    frames = graph_frames.frames(net, res)
    hl = {"entity": 0, "nodes": [0, 1], "edges": [0]}
    classes = graph_frames.round_classes(frames, frames["rounds"] - 1, hl, {"buckets": "3" + "0" * (net.n_entities - 1)})
    els = graph.elements(net, classes)
    root = _svg_root(graph_svg(els, graph.stylesheet(net.n_entities)))
    nodes, edges = _svg_nodes(root), [g for g in root.iter(f"{SVG_NS}g") if g.get("class", "").split()[:1] == ["edge"]]
    assert len(nodes) == net.n_entities and len(edges) == len(graph_frames.edge_table(net))
    assert nodes[-1].get("data-id") == net.entity_ids[0]  # drawn in z-order: the highlighted entity on top
    shape = {g.get("data-id"): next(c for c in g if c.get("class") == "shape") for g in nodes}
    types = dict(zip(net.entities["id"], net.entities["type"]))
    for eid, el in shape.items():  # one shape per entity, of its type's Cytoscape shape and its status colour
        want = graph.TYPE_SHAPES[types[eid]]
        assert el.tag == SVG_NS + {"ellipse": "ellipse", "round-rectangle": "rect", "barrel": "path"}.get(want, "polygon")
    status = dict(zip(net.entity_ids, frames["status"][frames["rounds"] - 1]))
    for g in nodes:
        colour = graph.STATUS_COLOURS[core.results.STATUSES[int(status[g.get("data-id")])]]
        assert shape[g.get("data-id")].get("fill") == colour
    first = next(g for g in nodes if g.get("data-id") == net.entity_ids[0])
    assert first.find(f"{SVG_NS}ellipse[@class='halo']") is not None  # Monte Carlo halo
    # highlighted: named (short name, on two lines at most)
    assert "\n".join(first.find(f"{SVG_NS}text").itertext()) == graph_layout.short_name(net.entities["name"].iloc[0])
    path_edge = next(g for g in edges if "path" in g.get("class"))
    assert path_edge.find(f"{SVG_NS}line").get("stroke") == graph.PATH_COLOUR


def test_svg_download_draws_the_round_on_screen_where_the_nodes_are(ctx, net):
    res = state.simulate(net, SHOCK)
    frames = graph_frames.frames(net, res)
    els = graph.elements(net)
    els[0] = {**els[0], "position": {"x": -5000.0, "y": 7.0}}  # a node the user dragged
    out, message = export.on_svg(1, els, frames, 0, {"entity": None, "nodes": [], "edges": []}, None)
    assert message is None and out["filename"].endswith(".svg") and out["type"] == "image/svg+xml"
    assert out["content"].startswith("<?xml")
    root = _svg_root(out["content"].split("\n", 1)[1])
    nodes = {g.get("data-id"): g for g in _svg_nodes(root)}
    assert len(nodes) == net.n_entities
    assert float(root.get("viewBox").split()[0]) < -5000  # the dragged node is in the picture
    round0 = graph_frames.round_classes(frames, 0)
    assert all(nodes[e].get("class").split()[1:] == round0[i].split() for i, e in enumerate(net.entity_ids))
    # the picture says what it is when it travels alone: scenario, round and time, and the legend (issue 15, item 1)
    out, _ = export.on_svg(1, els, frames, 2, None, None, SHOCK.model_dump(mode="json"))
    root = _svg_root(out["content"].split("\n", 1)[1])
    texts = [t.text for t in root.iter(f"{SVG_NS}text")]
    # the scenario's name as the page shows it (controls.scenario_title: "Test" for the scenario named "test"; the raw
    # name before session 37)
    heading = f"Test · round 2 of {frames['rounds'] - 1} (t = {frames['times'][2]})"
    assert heading in texts and root.find(f"{SVG_NS}title").text == heading
    legend = root.find(f"{SVG_NS}g[@class='legend']")
    fills = [c.get("fill") for c in legend.iter(f"{SVG_NS}circle")]
    assert fills == [c for c, _ in graph_legend.legend_items()] and "defaulted" in texts and "contagion path" in texts
    y_top = float(root.get("viewBox").split()[1])
    assert all(float(t.get("y")) > y_top for t in legend.iter(f"{SVG_NS}text"))  # inside the picture


def test_chart_pictures_draw_each_trace_of_the_figures(net):
    """The first page's static chart pictures (dashboard/chart_svg.py): valid SVG, a line per line trace, a bar per bar."""
    from dashboard.chart_svg import figure_svg, nice_ticks, tick_label

    res = state.simulate(net, SHOCK)
    figs = charts.figures(res, net, state.simulate(net, SHOCK.without_safeguards()), 3)
    for cid, fig in figs.items():
        root = _svg_root(figure_svg(fig))
        assert root.tag == f"{SVG_NS}svg", cid
        texts = [t.text for t in root.iter(f"{SVG_NS}text")]
        assert fig["layout"]["title"]["text"] in texts, cid
        lines = [t for t in fig["data"] if t["type"] == "scatter" and "lines" in t["mode"] and len(t["x"]) > 1]
        assert len(list(root.iter(f"{SVG_NS}polyline"))) == len(lines), cid
        bars = sum(sum(v is not None for v in (t["x"] if t.get("orientation") == "h" else t["y"])) for t in fig["data"] if t["type"] == "bar")
        rects = [r for r in root.iter(f"{SVG_NS}rect") if r.get("stroke")]  # bars have an outline; background and legend swatches have none
        assert len(rects) == bars, cid
    assert nice_ticks(0, 1.05, 152, "y") == [0, 0.5, 1.0]  # as plotly picks them
    assert [tick_label(v, 5000, 15000) for v in (0, 5000, 15000)] == ["0", "5k", "15k"]
    assert [tick_label(v, 5e-11, 1e-10) for v in (5e-11, 1e-10)] == ["50p", "100p"]


def test_first_page_charts_carry_their_pictures(net):
    panel = charts.panel(charts.figures(state.simulate(net, SHOCK), net, None, 3))
    boxes = panel.children
    assert len(boxes) == 6 and all(b.className == "chart-box" for b in boxes)
    assert all(b.children[1].src.startswith("data:image/svg+xml") for b in boxes)
    assert all(len(b.children) == 1 for b in charts.panel().children)  # no figures, no pictures


def test_vendored_plotly_bundle_is_the_version_dash_would_load():
    """assets/plotly-cartesian.min.js stands in for plotly's own plotly.min.js (assets/VENDORED.md)."""
    import re

    from plotly.offline import get_plotlyjs_version

    head = export.PLOTLY_JS.read_text(encoding="utf-8")[:300]
    assert re.search(r"plotly\.js \(cartesian - minified\) v(\S+)", head).group(1) == get_plotlyjs_version()


# -- app ---------------------------------------------------------------------------

def test_create_app_from_a_data_path(tmp_path):
    small = core.datasets.synthetic(20, 40, seed=5)
    small.to_json(str(tmp_path / "net.json"))
    app = create_app(str(tmp_path / "net.json"))
    with app.server.app_context():
        assert state.base_network().n_entities == 20
    assert len(app.callback_map) >= 10  # every app gets the panels' callbacks
    assert app.server.test_client().get("/").status_code == 200


def test_module_level_app_and_server_for_gunicorn():
    import dashboard.app as m

    assert m.server is m.app.server
    import inspect

    assert list(inspect.signature(m.run).parameters) == ["data", "host", "port", "debug"]


def test_large_synthetic_network_runs_end_to_end(tmp_path):
    big = core.datasets.synthetic(1000, 3000, seed=1)
    app = create_app(big)
    with app.server.app_context():
        els = graph.elements(big)
        sc = Scenario(price_shocks={"ETH": -0.5})
        view = cascade.run_view(big, sc, False)
    # What it runs, not how fast (speed is benchmarks/bench_dashboard.py's job): every entity drawn and animated.
    nodes = [e for e in els if "source" not in e["data"]]
    assert {e["data"]["id"] for e in nodes} >= set(big.entities["id"])
    assert len(els) > 1000 and view["frames"]["n"] == 1000


# -- the first page: the run is in the layout -------------------------------------------

def _classes(lay, net):
    return [e["classes"] for e in lay[ids.GRAPH].elements[:net.n_entities]]


def test_first_page_holds_the_default_run(net):
    lay = app_module.page(net, "", "")
    frames = lay[ids.FRAMES].data
    assert frames["n"] == net.n_entities and frames["rounds"] >= 1
    assert lay[ids.SCENARIO].data == Scenario().model_dump(mode="json")
    loss = lay[ids.CHART_LOSS].figure
    assert loss["data"] and loss["layout"]["shapes"][0]["x0"] == lay[ids.ROUND].value
    assert lay[ids.HEADLINE].children and " of " in lay[ids.ROUND_LABEL].children
    assert all(c.startswith("st-") for c in _classes(lay, net))
    assert lay[ids.MESSAGE].children is None and lay[ids.TABS].value == "impact"
    # no store starts at None: a memory store at None rewrites itself on mount and fires its callbacks
    assert all(lay[i].data is not None for i in (ids.SELECTED, ids.LINK, ids.PD_OVERLAY, ids.MC_RESULT, ids.SW_RESULT))


def test_first_page_opens_the_view_of_a_link(net):
    s = state.encode_scenario(SHOCK.model_dump(mode="json"))
    lay = app_module.page(net, "", f"s={s}&cmp=1&r=2&e=CELSIUS")
    assert parse_scenario(lay[ids.SCENARIO].data).price_shocks == SHOCK.price_shocks
    assert lay[ids.COMPARE].value == ["on"] and lay[ids.ROUND].value == 2
    assert lay[ids.SELECTED].data == "CELSIUS" and lay[ids.TABS].value == "detail"
    pos = list(net.entity_ids).index("CELSIUS")
    assert lay[ids.HIGHLIGHT].data["entity"] == pos and "hl" in _classes(lay, net)[pos].split()
    assert "Why" in json.dumps(lay[ids.DETAIL].to_plotly_json(), default=str)
    eth = lay[ids.SHOCK_SLIDERS]["wrap-price-ETH"]  # (in its collapsible section)
    assert eth.children[1].value == -60
    # the graph shows round 2 and says so
    n_def = sum("st-defaulted" in c for c in _classes(lay, net))
    assert f"{n_def} defaulted" in lay[ids.ROUND_LABEL].children and lay[ids.ROUND_LABEL].children.startswith("Round 2 ")
    assert lay[ids.VIEW_QUERY].data.startswith("s=")


def test_a_bad_link_opens_the_default_view_with_a_message(net):
    lay = app_module.page(net, "", "s=garbage")
    assert "link" in str(lay[ids.MESSAGE].children)
    assert lay[ids.SCENARIO].data == Scenario().model_dump(mode="json")
    lay = app_module.page(net, "", "s=" + state.encode_scenario({"forced_defaults": ["NOBODY"]}))
    assert "NOBODY" in str(lay[ids.MESSAGE].children)


def test_the_layout_request_reads_the_link_from_its_referer(app):
    s = state.encode_scenario(SHOCK.model_dump(mode="json"))
    with app.server.test_request_context("/_dash-layout", headers={"Referer": f"http://localhost/?s={s}"}):
        assert app_module.page_query() == f"s={s}"
    with app.server.test_request_context("/_dash-layout", headers={"Referer": f"http://elsewhere.example/?s={s}"}):
        assert app_module.page_query() == ""
    assert app_module.page_query() == ""  # outside a request
    got = app.server.test_client().get("/_dash-layout", headers={"Referer": f"http://localhost/?s={s}"}).get_json()
    assert '"ETH": -0.6' in json.dumps(got)


def test_round_classes_and_label_follow_the_frames(ctx, net):
    fr = graph_frames.frames(net, state.simulate(net, SHOCK))
    last = fr["rounds"] - 1
    hl = {"entity": 3, "nodes": [1, 3], "edges": [0]}
    cls = graph_frames.round_classes(fr, last, hl, {"buckets": "0" * (net.n_entities - 1) + "4"})
    assert len(cls) == fr["n"] + fr["m"]
    assert cls[3].split()[1:] == ["path", "hl"] and "path" in cls[1] and "path" in cls[fr["n"]].split()
    assert cls[net.n_entities - 1].endswith(" pd-4")
    assert f"{sum('st-defaulted' in c for c in cls[:fr['n']])} defaulted" in graph_frames.round_label(fr, last)
    assert graph_frames.round_classes(fr, last, None, {"buckets": "1"})[0].count("pd-") == 0  # another network's overlay: ignored


# -- Monte Carlo and sweeps -------------------------------------------------------------

SHOCK_JSON = Scenario(name="eth-30", price_shocks={"ETH": -0.3}).model_dump(mode="json")


@pytest.fixture(scope="module")
def mc_summary(app, net):
    with app.server.app_context():
        return montecarlo.monte_carlo(net, SHOCK_JSON, 300, 7, 0.99, "normal", 1)


def test_pd_buckets_and_halo_styles():
    assert graph_frames.pd_buckets([0, 0.0005, 0.001, 0.02, 0.1, 0.5, float("nan")]) == "0012340"
    sheet = {r["selector"]: r["style"] for r in graph.stylesheet(50)}
    assert all(f"node.pd-{k}" in sheet for k in range(1, len(graph_frames.PD_BUCKETS) + 1))
    assert sheet["node.pd-4"]["underlay-padding"] > sheet["node.pd-1"]["underlay-padding"]


def test_monte_carlo_summary_is_seeded_and_complete(app, net, mc_summary):
    s = mc_summary
    assert s["runs"] == 300 and sum(s["hist"]["counts"]) == 300 and len(s["hist"]["edges"]) == montecarlo.HIST_BINS + 1
    loss = next(r for r in s["risk"] if r["quantity"] == "system_loss_usd")
    assert 0 <= loss["var"] <= loss["es"] and loss["var_se"] >= 0 and loss["mean_se"] > 0
    assert len(s["pd"]) == len(s["buckets"]) == s["n"] == net.n_entities and all(0 <= p <= 1 for p in s["pd"])
    assert any(b != "0" for b in s["buckets"])  # ETH −30% plus draws: someone may default
    assert all(e["pd_se"] >= 0 for e in s["entities"]) and s["entities"][0]["pd"] >= s["entities"][-1]["pd"]
    json.dumps(s)  # goes into a dcc.Store
    with app.server.app_context():
        again = montecarlo.monte_carlo(net, SHOCK_JSON, 300, 7, 0.99, "normal", 1)
    assert {k: v for k, v in again.items() if k != "elapsed_s"} == {k: v for k, v in s.items() if k != "elapsed_s"}


def test_histogram_marks_var_and_es_and_tables_show_standard_errors(mc_summary):
    fig = montecarlo.histogram_figure(mc_summary)
    assert fig["data"][0]["type"] == "bar" and sum(fig["data"][0]["y"]) == 300
    names = [sh["name"] for sh in fig["layout"]["shapes"]]
    assert names == ["VaR 99%", "ES 99%"]
    loss = next(r for r in mc_summary["risk"] if r["quantity"] == "system_loss_usd")
    assert fig["layout"]["shapes"][0]["x0"] == pytest.approx(loss["var"] / 1e9)
    text = json.dumps([t.to_plotly_json() for t in montecarlo.tables(mc_summary)], default=str, ensure_ascii=False)
    assert "VaR 99%" in text and "ES 99%" in text and "±" in text and "Most likely to default" in text
    assert montecarlo.histogram_figure(None)["data"] == [] and montecarlo.tables(None) == []


def test_on_run_reports_progress_and_fills_the_panel(ctx):
    seen = []
    out = montecarlo.on_run(seen.append, 1, 300, 1, 0.95, "t", 7, SHOCK_JSON, state.network_store(None))
    out = named(montecarlo.RUN_OUTPUTS, out)
    summary, fig, tables, status = (out[f"{ids.MC_RESULT}.data"], out[f"{ids.MC_HIST}.figure"], out[f"{ids.MC_TABLES}.children"],
                                    out[f"{ids.MC_STATUS}.children"])
    assert summary["confidence"] == 0.95 and summary["dist"] == "t" and summary["horizon_days"] == 7
    assert fig["layout"]["shapes"][0]["name"] == "VaR 95%" and tables
    assert "300 runs" in str(status)
    done = [int(v[0]) for v in seen]
    assert done[0] == 0 and done[-1] == 300 and done == sorted(done) and len(done) >= 3
    assert seen[-1][2] == "300 of 300 runs"


@pytest.mark.parametrize("runs, seed, confidence, field", [(5, 0, 0.99, "runs"), (2.5e5, 0, 0.99, "runs"), ("x", 0, 0.99, "runs"),
                                                           (300, -1, 0.99, "seed"), (300, None, 0.99, "seed"), (300, 0, None, "confidence")])
def test_on_run_bad_settings_give_a_message_and_keep_the_result(ctx, runs, seed, confidence, field):
    out = named(montecarlo.RUN_OUTPUTS, montecarlo.on_run(lambda v: None, 1, runs, seed, confidence, "normal", 1, None,
                                                          state.network_store(None)))
    assert [out[f"{ids.MC_RESULT}.data"], out[f"{ids.MC_HIST}.figure"], out[f"{ids.MC_TABLES}.children"]] == [no_update] * 3
    status = str(out[f"{ids.MC_STATUS}.children"])
    assert f"'{field}'" in status and "alert-error" in status


def test_on_run_with_a_scenario_the_network_lacks_gives_a_message(ctx):
    out = named(montecarlo.RUN_OUTPUTS, montecarlo.on_run(lambda v: None, 1, 300, 0, 0.99, "normal", 1, {"forced_defaults": ["NOBODY"]},
                                                          state.network_store(None)))
    assert out[f"{ids.MC_RESULT}.data"] is no_update and "NOBODY" in str(out[f"{ids.MC_STATUS}.children"])


def test_sweep_of_two_parameters_draws_a_heatmap(ctx, net):
    sc = SHOCK.model_dump(mode="json")
    result, fig, status = montecarlo.on_sweep(lambda v: None, 1, "collateral_multiplier", "1:2:5", "insurance_multiplier", "0, 1, 2, 5",
                                               0, "bad_debt_usd", 0, "normal", 1, sc, state.network_store(None))
    assert len(result["rows"]) == 20 and result["params"] == ["collateral_multiplier", "insurance_multiplier"]
    hm = fig["data"][0]
    assert hm["type"] == "heatmap" and len(hm["z"]) == 4 and len(hm["z"][0]) == 5
    assert hm["x"] == ["1", "1.25", "1.5", "1.75", "2"] and hm["y"] == ["0", "1", "2", "5"]
    assert max(max(r) for r in hm["z"]) > 0  # this shock leaves bad debt somewhere
    assert "20 cells" in str(status)
    par = montecarlo.on_metric("bad_debt_reference_usd", result)
    assert "Bad debt at par" in par["layout"]["title"]["text"]
    other = montecarlo.on_metric("defaults", result)
    assert "Defaults" in other["layout"]["title"]["text"] and other["data"][0]["z"] != hm["z"]
    json.dumps(result)


def test_sweep_of_one_parameter_with_monte_carlo_runs(ctx):
    result, fig, _ = montecarlo.on_sweep(lambda v: None, 1, "max_close_factor", "0.25, 0.5", None, "", 200, "p_insolvent", 3,
                                               "normal", 1, SHOCK_JSON, state.network_store(None))
    assert result["runs"] == 200 and len(result["rows"]) == 2
    assert fig["data"][0]["y"] == ["scenario"] and len(fig["data"][0]["z"][0]) == 2
    assert "200 Monte Carlo runs" in fig["layout"]["title"]["text"]


@pytest.mark.parametrize("x, xv, y, yv, runs, needle", [
    ("collateral_multiplier", "a:b", None, "", 0, "collateral_multiplier"),
    ("collateral_multiplier", "", None, "", 0, "collateral_multiplier"),
    ("collateral_multiplier", "1,2", "collateral_multiplier", "1,2", 0, "other than the first"),
    ("collateral_multiplier", "1:2:30", "insurance_multiplier", "0:5:30", 0, "cells"),
    ("collateral_multiplier", "1,2", None, "", -5, "runs per cell"),
    ("collateral_multiplier", "0.5", None, "", 0, "collateral_multiplier"),
])
def test_bad_sweeps_give_a_message(ctx, x, xv, y, yv, runs, needle):
    out = named(montecarlo.SWEEP_OUTPUTS, montecarlo.on_sweep(lambda v: None, 1, x, xv, y, yv, runs, "bad_debt_usd", 0, "normal", 1,
                                                              None, state.network_store(None)))
    assert out[f"{ids.SW_RESULT}.data"] is no_update and out[f"{ids.SW_HEATMAP}.figure"] is no_update
    status = str(out[f"{ids.SW_STATUS}.children"])
    assert needle in status and "alert-error" in status


def test_a_calm_sweep_says_why_it_is_all_zero(ctx):
    _, _, status = montecarlo.on_sweep(lambda v: None, 1, "insurance_multiplier", "0, 1", None, "", 0, "bad_debt_usd", 0,
                                            "normal", 1, Scenario().model_dump(mode="json"), state.network_store(None))
    assert "No cell lost anything" in str(status)


def test_another_network_clears_the_monte_carlo_results():
    out = named(montecarlo.NETWORK_OUTPUTS, montecarlo.on_network({"source": "base"}))
    assert out[f"{ids.MC_RESULT}.data"] == {} and out[f"{ids.SW_RESULT}.data"] == {}
    assert out[f"{ids.MC_HIST}.figure"]["data"] == [] and out[f"{ids.SW_HEATMAP}.figure"]["data"] == []


def test_results_say_when_the_scenario_on_screen_has_moved_on():
    ran_on = {"name": "terra", "price_shocks": {"LUNA": -0.6}}
    mc, sw = {"runs": 100, "scenario_doc": ran_on}, {"x": "liquidity", "scenario_doc": ran_on}
    assert montecarlo.on_stale(ran_on, mc, sw) == (None, None)
    moved = {"name": "terra", "price_shocks": {"LUNA": -0.7}}
    notes = montecarlo.on_stale(moved, mc, sw)
    # the name the page shows (controls.scenario_title: "Terra"; the raw "terra" before session 38)
    assert all("'Terra'" in n.children and "changed" in n.children for n in notes)
    assert montecarlo.on_stale(moved, {}, {}) == (None, None)  # nothing ran yet


# -- background callbacks -------------------------------------------------------------------

def test_background_callbacks_use_diskcache_by_default(app):
    from dash import DiskcacheManager

    assert isinstance(app._background_manager, DiskcacheManager)
    bg = [cb for cb in app.callback_map.values() if cb.get("background")]
    assert len(bg) == 2 and all(cb["background"]["interval"] == montecarlo.POLL_MS for cb in bg)


def test_celery_manager_when_a_broker_is_set():
    """The Celery app on a Redis URL (no connection is made here; tests/test_celery_redis.py runs a real one)."""
    from dash import CeleryManager

    from dashboard import jobs

    manager = app_module.background_manager("redis://127.0.0.1:1/0")
    assert isinstance(manager, CeleryManager)
    conf = manager.handle.conf
    assert conf.broker_url == conf.result_backend == "redis://127.0.0.1:1/0"
    assert conf.accept_content == conf.result_accept_content == ["json"]  # never unpickles what Redis holds
    assert conf.result_expires == jobs.Limits().ttl_s


def test_every_app_keeps_its_own_cancel_buttons():
    a, b = create_app(), create_app()
    a.server.test_client().get("/")  # the first request sets the app up (Dash pops the cancel inputs then)
    b.server.test_client().get("/")
    for app in (a, b):
        cancels = [k for k in app.callback_map if k.startswith((f"{ids.MC_CANCEL}.id", f"{ids.SW_CANCEL}.id"))]
        assert len(cancels) == 2, app.callback_map.keys()


def test_a_price_slider_says_when_its_asset_moves_by_a_path(ctx, net):
    """Issue 15, item 6: a slider left at 0 % for an asset moved by a path read as "no move"; the note beside it says
    the path and where it ends, and follows the scenario that ran (a slider that replaced the path clears it)."""
    from dashboard import price_hints

    terra = scenarios.presets()["terra_may_2022"]
    assert terra.price_paths["LUNA"][-1] == pytest.approx(-0.61)
    assert price_hints.path_note(terra, "LUNA") == f"path: −61% by round {len(terra.price_paths['LUNA']) - 1}"
    still = next(a for a in controls.price_assets(net) if a not in terra.price_paths)
    assert price_hints.path_note(terra, still) == "" and price_hints.path_note(None, "LUNA") == ""
    note_ids = [{"type": ids.PRICE_PATH, "asset": a} for a in (still, "LUNA")]
    names = dict(zip(net.assets["symbol"], net.assets["name"]))
    text, cls, _ = price_hints.on_path_notes(terra.model_dump(mode="json"), note_ids, state.network_store(None))
    assert text == [names[still], price_hints.path_note(terra, "LUNA")] and cls == ["hint", "hint path-note"]  # the note in the name's place
    replaced = terra.model_copy(update={"price_paths": {k: v for k, v in terra.price_paths.items() if k != "LUNA"},
                                        "price_shocks": {**terra.price_shocks, "LUNA": -0.3}})
    text, cls, _ = price_hints.on_path_notes(replaced.model_dump(mode="json"), note_ids, state.network_store(None))
    assert text == [names[still], names["LUNA"]] and cls == ["hint", "hint"]
    sliders = json.dumps(controls.shock_sliders(net, terra), cls=plotly.utils.PlotlyJSONEncoder, ensure_ascii=False)
    assert price_hints.path_note(terra, "LUNA") in sliders


def test_back_to_the_shipped_snapshot_returns_to_the_one_in_the_link(ctx, net):
    out = triggered(f"{ids.DATA_RESET}.n_clicks", upload.on_upload, None, 1, None, {"source": "upload"}, None,
                    "?snapshot=crypto-2020-03&s=x")
    out = named(upload.OUTPUTS, out)
    assert out[f"{ids.NETWORK}.data"] == state.snapshot_store("crypto-2020-03")
    assert "crypto-2020-03" in out[f"{ids.DATASET_NAME}.children"]
    out = triggered(f"{ids.DATA_RESET}.n_clicks", upload.on_upload, None, 1, None, {"source": "upload"}, None, "")
    out = named(upload.OUTPUTS, out)
    assert out[f"{ids.NETWORK}.data"] == state.network_store(None) and net.name in out[f"{ids.DATASET_NAME}.children"]


def test_monte_carlo_risk_table_gives_bad_debt_at_par_and_marked(mc_summary):
    """The Monte Carlo tab's risk table: bad debt at par (reference prices) beside the marked figure, each with its
    mean, VaR and ES (a UST lender's bad debt marked at UST's close shrinks as UST falls)."""
    rows = {r["quantity"]: r for r in mc_summary["risk"]}
    assert rows["bad_debt_reference_usd"]["label"] == "Bad debt at par" and rows["bad_debt_usd"]["label"] == "Bad debt at market"
    assert all(0 <= rows[q]["var"] <= rows[q]["es"] for q in ("bad_debt_reference_usd", "bad_debt_usd"))
    text = json.dumps([t.to_plotly_json() for t in montecarlo.tables(mc_summary)], default=str, ensure_ascii=False)
    assert "Bad debt at par" in text and "Bad debt at market" in text
