"""Dashboard callbacks and the functions behind them, called directly (no browser).

They run the real engine (``core.engine.simulate``) on the shipped dataset.
"""

from __future__ import annotations

import base64
import json
import time

import pytest
from dash import no_update

import core
from core.scenario import Scenario, parse_scenario

from dashboard import cascade, controls, critical, detail, export, graph, ids, scenarios, state, upload
from dashboard.app import create_app


@pytest.fixture(scope="module")
def app():
    return create_app()


@pytest.fixture
def ctx(app):
    with app.server.app_context():
        yield app


@pytest.fixture(scope="module")
def net():
    return core.datasets.default()


SHOCK = Scenario(name="test", price_shocks={"ETH": -0.6, "LUNA": -0.9}, depegs={"UST": 0.6}, horizon=10)


def _ids(network):
    return ([{"type": ids.PRICE, "asset": a} for a in controls.price_assets(network)],
            [{"type": ids.DEPEG, "asset": a} for a in controls.peg_assets(network)])


def _control_args(network, sc: Scenario):
    pid, did = _ids(network)
    v = controls.controls_from_scenario(sc, pid, did)
    return pid, did, v


def triggered(prop_id: str, func, *args):
    """Call a callback that reads ``dash.ctx.triggered_id`` as if ``prop_id`` had fired."""
    import contextvars

    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    def run():
        context_value.set(AttributeDict(triggered_inputs=[{"prop_id": prop_id, "value": None}]))
        return func(*args)

    return contextvars.copy_context().run(run)


def _upload(name: str, text: str) -> str:
    return "data:text/csv;base64," + base64.b64encode(text.encode()).decode()


# -- graph ---------------------------------------------------------------------

def test_positions_are_deterministic_grouped_and_cover_every_entity(net):
    a, b = graph.positions(net), graph.positions(net)
    assert a.equals(b)
    assert len(a) == net.n_entities and not a.isna().any().any()
    # regions do not overlap: each region's bounding box is disjoint from the others'
    boxes = {r: (g["x"].min(), g["x"].max(), g["y"].min(), g["y"].max())
             for r, g in a.join(net.entities.set_index("id")["region"]).groupby("region")}
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
    assert all("source" in e["data"] for e in els[n:])
    assert len(els) - n == len(graph.edge_table(net))
    widths = [e["data"]["w"] for e in els[n:]]
    assert min(widths) >= 0.6 and max(widths) <= 6.0


def test_frames_hold_every_round_and_status(ctx, net):
    res = state.simulate(net, SHOCK)
    fr = graph.frames(net, res)
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


def test_on_controls_returns_scenario_frames_charts_and_headline(ctx, net):
    out = _call_controls(net, SHOCK)
    assert len(out) == cascade.N_OUTPUTS
    scenario, frames, headline, url_s, message, rmax, rvalue, marks, _pending, *figs = out
    assert parse_scenario(scenario).price_shocks == SHOCK.price_shocks
    assert message is None and rvalue == rmax == frames["rounds"] - 1
    assert state.decode_scenario(url_s).model_dump() == parse_scenario(scenario).model_dump()
    loss = figs[0]
    assert loss["layout"]["shapes"][0]["x0"] == rvalue  # the round marker
    assert "USD" in loss["layout"]["yaxis"]["title"]["text"] and "horizon 10" in loss["layout"]["xaxis"]["title"]["text"]
    assert max(loss["data"][0]["y"]) > 0


def test_compare_overlays_the_run_without_safeguards(ctx, net):
    sc = SHOCK.model_copy(update={"safeguards": parse_scenario({"safeguards": {"insurance_multiplier": 10, "collateral_multiplier": 2}}).safeguards})
    out = _call_controls(net, sc, compare=True)
    figs = out[9:]
    names = [t["name"] for t in figs[0]["data"]]
    assert any("no safeguards" in n for n in names) and any("(safeguards)" in n for n in names)
    assert "vs no safeguards" in json.dumps(out[2], default=str)


def test_on_controls_bad_input_gives_a_message_not_a_traceback(ctx, net):
    pid, did, v = _control_args(net, SHOCK)
    out = cascade.on_controls(v[ids.PRICE], v[ids.DEPEG], ["NO_SUCH_ENTITY"], 0, 1, 0, 12, [], 20, 2, 1, 1, [], {}, pid, did,
                              state.network_store(None), None)
    assert out[0] is no_update and out[1] is no_update
    assert "NO_SUCH_ENTITY" in str(out[cascade.MESSAGE_AT])


def test_url_round_and_entity_are_applied_once(ctx, net):
    out = _call_controls(net, SHOCK, pending={"round": 2})
    assert out[6] == 2 and out[8] is None  # round from the link, then the pending request is cleared


# -- scenarios ---------------------------------------------------------------------

def test_link_sets_every_control(ctx, net):
    pid, did = _ids(net)
    href = f"http://x/?s={state.encode_scenario(SHOCK.model_dump(mode='json'))}&cmp=1&r=4&e=ANCHOR"
    out = scenarios.scenario_source(None, href, None, None, None, pid, did, state.network_store(None))
    prices, depegs = out[0], out[1]
    assert prices[[i["asset"] for i in pid].index("ETH")] == -60
    assert depegs[[i["asset"] for i in did].index("UST")] == 60
    assert out[-4] == {"round": 4} and out[-3] == "ANCHOR" and out[-2] == "detail"


def test_uploaded_scenario_applies_and_bad_file_keeps_controls(ctx, net):
    pid, did = _ids(net)
    good = "data:application/json;base64," + base64.b64encode(SHOCK.to_json().encode()).decode()
    out = scenarios.scenario_source(ids.SCENARIO_UPLOAD, None, None, good, "s.json", pid, did, state.network_store(None))
    assert out[ids_pos("RUN")] == 0 and out[0][0] == -60
    bad = "data:application/json;base64," + base64.b64encode(b'{"price_shocks": {"ETH": -3}}').decode()
    res = triggered(f"{ids.SCENARIO_UPLOAD}.contents", scenarios.on_scenario_source,
                    None, None, bad, None, "bad.json", pid, did, state.network_store(None))
    assert res[0] == [no_update] * len(pid)
    message, preset, upload_contents = res[-3:]
    assert "bad.json" in str(message) and "price_shocks" in str(message)
    assert preset is no_update and upload_contents is None  # cleared: the same (fixed) file can be chosen again


def test_a_preset_is_cleared_once_applied_so_choosing_it_again_fires(ctx, net):
    pid, did = _ids(net)
    key = next(iter(scenarios.presets()))
    res = triggered(f"{ids.PRESET}.value", scenarios.on_scenario_source,
                    None, key, None, None, None, pid, did, state.network_store(None))
    assert res[0] != [no_update] * len(pid)  # applied
    assert "Preset loaded" in str(res[-3])
    assert res[-2] is None and res[-1] is no_update


def ids_pos(name: str) -> int:
    return 2 + scenarios.CONTROL_IDS.index(getattr(ids, name))


def test_download_gives_the_scenario_json(ctx):
    data, _ = scenarios.on_download(1, SHOCK.model_dump(mode="json"))
    assert data["filename"] == "test.json"
    assert parse_scenario(data["content"]).model_dump() == SHOCK.model_dump()


def test_presets_load_and_apply_to_the_shipped_network(net):
    for key, sc in scenarios.presets().items():
        sc.check_against(net)  # every preset names only assets and entities of the shipped network
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
    assert out[0] is no_update and out[1] is no_update
    assert "foo.csv" in str(out[-2])
    assert out[-1] is None  # the upload is cleared, so dropping the same (fixed) file fires again


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
    store, elements = out[0], out[1]
    assert store["source"] == "upload" and len([e for e in elements if "source" not in e["data"]]) == 30
    assert state.network_from_store(store).n_entities == 30
    assert out[6]["price_shocks"] == {"ETH": -0.6, "LUNA": -0.9}  # the shocks that still apply are kept
    assert out[-1] is None


# -- detail, critical, report ----------------------------------------------------------

def test_entity_card_has_narrative_path_and_highlight(ctx, net):
    res = state.simulate(net, SHOCK)
    entity = res.nodes[res.nodes["default_round"] > 0]["entity"].iloc[0]
    body, hl = detail.card(net, res, entity)
    text = json.dumps([b.to_plotly_json() for b in body], default=str)
    assert "Why" in text and "Balance sheet" in text and "Exposures out" in text
    assert hl["entity"] == list(net.entity_ids).index(entity)
    assert all(0 <= j < len(graph.edge_table(net)) for j in hl["edges"])


def test_on_select_from_graph_opens_detail_tab():
    assert triggered(f"{ids.GRAPH}.tapNodeData", detail.on_select, {"id": "CELSIUS"}, None, None) == ("CELSIUS", "detail")


def test_critical_table_rows(ctx, net):
    import pandas as pd

    imp = pd.DataFrame({"importance_usd": range(net.n_entities), "importance_share": 0.1, "debtrank": 0.2,
                        "vulnerability_usd": 1.0, "vulnerability_share": 0.0}, index=net.entity_ids)
    rows = critical.table_rows(net, imp, state.simulate(net, SHOCK))
    assert len(rows) == net.n_entities and rows[0]["importance_musd"] >= rows[-1]["importance_musd"]
    assert {"id", "name", "loss_musd", "status"} <= set(rows[0])


def test_report_is_one_offline_html_page(ctx, net):
    res = state.simulate(net, SHOCK)
    png = "data:image/png;base64,iVBORw0KGgo="
    html_text = export.report_html(net, SHOCK, res, None, png)
    assert html_text.startswith("<!DOCTYPE html>") and SHOCK.name in html_text
    assert png in html_text
    import re

    assert not re.search(r"<script[^>]*\bsrc=", html_text)  # plotly.js is inlined: the page opens offline
    assert html_text.count("Plotly.newPlot") == 6


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
        t = time.perf_counter()
        els = graph.elements(big)
        sc = Scenario(price_shocks={"ETH": -0.5})
        view = cascade.run_view(big, sc, False)
        took = time.perf_counter() - t
    assert len(els) > 1000 and view["frames"]["n"] == 1000
    assert took < 10  # generous: only guards against something quadratic
