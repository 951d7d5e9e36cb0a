"""Perpetuals venues on the page (issue 13 item 5, issue 15 "liquidation levels ... per perpetuals venue").

The ADL-rule and collateral-policy dropdowns of each venue, their way into the scenario (URL, file,
upload) and the run, the per-venue waterfall table against the engine's own figures, compare mode,
and the venues' liquidation levels against hand numbers and against
:func:`core.mechanisms.perps.liquidation_price`. Callbacks are called directly (no browser).
"""

from __future__ import annotations

import base64
import dataclasses
import json

import numpy as np
import plotly.utils
import pytest
from dash import no_update
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import core
from core.mechanisms.perps import liquidation_price
from core.positions import position_book
from core.scenario import Scenario, parse_scenario
from core.synthetic_perps import perps_example
from dashboard import cascade, controls, headline, ids, liquidation_levels, scenarios, state, upload, venues
from dashboard.app import create_app
from dashboard.state import usd
from dashboard_fixtures import component_props, control_ids, named, on_controls_showing, triggered

SNAPSHOT = "crypto-2025-10"  # the snapshot of the app, ctx and net fixtures (tests/dashboard_fixtures.py)
SHOCK = Scenario(name="btc-20", price_shocks={"BTC": -0.2, "ETH": -0.25, "SOL": -0.3})


def _json(x) -> str:
    return json.dumps(x, cls=plotly.utils.PlotlyJSONEncoder, ensure_ascii=False)


def _run(network, sc: Scenario, compare: bool = False):
    """``cascade.on_controls`` with every control set to show ``sc`` (the venue dropdowns included), by output name."""
    out = on_controls_showing(network, sc, compare=compare)
    return out | cascade.view_outputs(out[f"{ids.RUN_VIEW}.data"])  # the charts and tables ride in the run view


def _cells(table) -> dict[str, str]:
    """The perps table's cells by id (``perps-<venue>-<column>``): the figure of the run, then "vs …" when comparing."""
    return {p["id"]: " ".join(_texts(p.get("children"))) for p in component_props(table) if str(p.get("id", "")).startswith("perps-")}


def _dropdowns(tree) -> dict[tuple[str, str], str]:
    """The venue dropdowns' values in a component tree, by (pattern type, venue)."""
    return {(p["id"]["type"], p["id"]["venue"]): p["value"] for p in component_props(tree)
            if isinstance(p.get("id"), dict) and "venue" in p["id"]}


def _texts(node) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [t for n in node for t in _texts(n)]
    if isinstance(node, dict):
        return _texts(node.get("props", {}).get("children"))
    return []


# -- the dropdowns --------------------------------------------------------------------

def test_each_venue_has_its_rule_first_and_a_vault_only_where_it_has_one(net):
    text = _json(venues.controls(net, Scenario()))
    rules = venues.own_rules(net)
    assert len(rules) == 8 and text.count(f'"type": "{ids.ADL_RULE}"') == 8 and text.count(f'"type": "{ids.COLLATERAL_POLICY}"') == 8
    hl = venues.rule_options("backstop_vault", True)
    assert hl[0] == {"label": "venue rule (vault)", "value": venues.OWN}
    assert [o["value"] for o in hl] == [venues.OWN, "adl", "socialised"]
    assert [o["value"] for o in venues.rule_options("adl", False)] == [venues.OWN, "socialised"]  # no vault: not offered
    assert [o["value"] for o in venues.rule_options("adl", True)] == [venues.OWN, "socialised", "backstop_vault"]
    assert venues.policy_options("order_book")[0]["label"] == "venue rule (order book)"
    # in the page: Hyperliquid (with HLP) is offered the ADL rules, Binance no vault
    assert rules.loc["HYPERLIQUID", "adl_rule"] == "backstop_vault" and rules.loc["BINANCE_FUT", "backstop_vault_usd"] == 0
    assert "venue rule (vault)" in text and "venue rule (order book)" in text


def test_a_network_without_venues_shows_no_venue_controls_and_no_table():
    old = core.datasets.load("crypto-2022-05")
    assert venues.controls(old, Scenario()) == []
    res = state.simulate(old, Scenario(price_shocks={"ETH": -0.5}))
    assert venues.table(old, Scenario(), res) == []
    page = _json(controls.panel(old, Scenario()))
    assert ids.VENUE_RULES in page and ids.ADL_RULE not in page


def test_a_venue_group_opens_when_one_of_its_venues_moves_from_its_own_setting(net):
    groups = [{"type": ids.VENUE_GROUP, "kind": ids.ADL_RULE}, {"type": ids.VENUE_GROUP, "kind": ids.COLLATERAL_POLICY}]
    own = [venues.OWN] * 8
    assert venues.open_groups(own, own, groups) == [no_update, no_update]  # nothing set: neither is shut nor opened
    assert venues.open_groups(["adl", *own[1:]], own, groups) == [True, no_update]
    assert venues.open_groups(own, [*own[:7], "index"], groups[::-1]) == [True, no_update]  # in the order of the ids
    assert venues.open_groups(None, None, []) == []
    # the first page: a group is open when the scenario sets one of its kind, shut otherwise
    sc = Scenario.model_validate({"safeguards": {"collateral_policies": {"BINANCE_FUT": "index"}}})
    shown = {g.id["kind"]: g.open for g in venues.controls(net, sc)}
    assert shown == {ids.ADL_RULE: False, ids.COLLATERAL_POLICY: True}
    # the callback is wired to every dropdown of both kinds and to both groups
    app = create_app(SNAPSHOT)
    wired = [v for k, v in app.callback_map.items() if k.endswith(".open") and ids.VENUE_GROUP in k]
    assert len(wired) == 1
    assert {i["id"] for i in wired[0]["inputs"]} == {f'{{"type":"{ids.ADL_RULE}","venue":["ALL"]}}',
                                                     f'{{"type":"{ids.COLLATERAL_POLICY}","venue":["ALL"]}}'}


_VENUES = venues.own_rules(core.datasets.load(SNAPSHOT))


@st.composite
def overrides(draw):
    """Random settings for random venues of the 2025 snapshot, every one allowed there (a vault only where there is one)."""
    adl, policy = {}, {}
    for venue, r in _VENUES.iterrows():
        rules = [x for x in core.schema.ADL_RULES if x != "backstop_vault" or r["backstop_vault_usd"] > 0]
        if draw(st.booleans()):
            adl[venue] = draw(st.sampled_from(rules))
        if draw(st.booleans()):
            policy[venue] = draw(st.sampled_from(core.schema.COLLATERAL_POLICIES))
    return adl, policy


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overrides())
def test_the_dropdowns_round_trip_every_allowed_setting(setting):
    net = core.datasets.load(SNAPSHOT)
    adl, policy = setting
    sc = Scenario(name="x", price_shocks={"BTC": -0.1}, safeguards={"adl_rules": adl, "collateral_policies": policy})
    sc.check_against(net)
    pid, did, aid, cid = control_ids(net)
    v = controls.controls_from_scenario(sc, pid, did, aid, cid, net)
    back = controls.scenario_from_controls(
        v[ids.PRICE], pid, v[ids.DEPEG], did, v[ids.DEFAULTS], v[ids.RUN], v[ids.LIQUIDITY], v[ids.ORACLE_LAG], v[ids.HORIZON],
        v[ids.CB_ON], v[ids.CB_THRESHOLD], v[ids.CB_ROUNDS], v[ids.COLLATERAL], v[ids.INSURANCE], controls.extras_of(sc),
        adl_values=v[ids.ADL_RULE], adl_ids=aid, policy_values=v[ids.COLLATERAL_POLICY], policy_ids=cid)
    # a setting equal to the venue's own shows as "venue rule" and comes back as no override (the same run)
    own_a, own_p = _VENUES["adl_rule"], _VENUES["collateral_policy"]
    assert back.safeguards.adl_rules == {k: x for k, x in adl.items() if x != own_a[k]}
    assert back.safeguards.collateral_policies == {k: x for k, x in policy.items() if x != own_p[k]}
    # every dropdown value is one of its options
    for i, val in zip(aid, v[ids.ADL_RULE]):
        r = _VENUES.loc[i["venue"]]
        assert val in [o["value"] for o in venues.rule_options(r["adl_rule"], r["backstop_vault_usd"] > 0)]
    # the URL carries them
    q = state.parse_query("?s=" + state.encode_scenario(back.model_dump(mode="json")))
    assert q["scenario"].safeguards == back.safeguards


def test_the_scenario_panel_names_venue_rules_and_counts_them(net):
    sc = Scenario(safeguards={"adl_rules": {"HYPERLIQUID": "adl"}, "collateral_policies": {"BINANCE_FUT": "redemption_value"}})
    assert controls.changes(Scenario(), sc) == ["HYPERLIQUID ADL rule: venue rule → adl",
                                                "BINANCE_FUT collateral pricing: venue rule → redemption_value"]
    assert controls.section_counts(sc)["section-safeguards"] == " · 2 set"
    assert controls.other_inputs(sc, net) == []  # they have controls now


def test_a_venue_without_positions_has_no_dropdown_and_its_override_rides_along():
    """The 2022 snapshot has perpetuals venues (BitMEX, Deribit, dYdX) but no positions: no dropdowns, and an override a
    scenario file sets for one is kept through the controls and listed among the inputs with no control."""
    old = core.datasets.load("crypto-2022-05")
    assert venues.own_rules(old).empty and "BITMEX" in core.positions.venue_rules(old).index
    sc = Scenario(name="x", safeguards={"adl_rules": {"BITMEX": "socialised"}})
    sc.check_against(old)
    pid = [{"type": ids.PRICE, "asset": a} for a in controls.price_assets(old)]
    did = [{"type": ids.DEPEG, "asset": a} for a in controls.peg_assets(old)]
    v = controls.controls_from_scenario(sc, pid, did, [], [], old)
    back = controls.scenario_from_controls(
        v[ids.PRICE], pid, v[ids.DEPEG], did, v[ids.DEFAULTS], v[ids.RUN], v[ids.LIQUIDITY], v[ids.ORACLE_LAG], v[ids.HORIZON],
        v[ids.CB_ON], v[ids.CB_THRESHOLD], v[ids.CB_ROUNDS], v[ids.COLLATERAL], v[ids.INSURANCE], controls.extras_of(sc),
        adl_values=[], adl_ids=[], policy_values=[], policy_ids=[])
    assert back.model_dump() == sc.model_dump()
    # named as the forced-to-fail menu names an entity (session 39; was "BITMEX ADL rule: socialised")
    assert controls.other_inputs(sc, old) == ["BitMEX (BITMEX) ADL rule: socialised"]


# -- the run ------------------------------------------------------------------------

def test_a_venue_rule_reaches_the_run_url_and_table_with_the_engines_figures(ctx, net):
    sc = SHOCK.model_copy(update={"safeguards": parse_scenario({"safeguards": {"adl_rules": {"HYPERLIQUID": "adl"}}}).safeguards})
    out = _run(net, sc)
    assert out[f"{ids.MESSAGE}.children"] is None
    assert parse_scenario(out[f"{ids.SCENARIO}.data"]).safeguards.adl_rules == {"HYPERLIQUID": "adl"}
    assert state.decode_scenario(out[f"{ids.URL_SCENARIO}.data"]).safeguards.adl_rules == {"HYPERLIQUID": "adl"}
    expected = core.simulate(net, sc).summary_dict()["perps"]
    cells = _cells(out[f"{ids.PERPS_TABLE}.children"])
    shown = {k.split("-", 2)[2] for k in cells}
    assert len(cells) == 8 * len(shown) and {"liquidated_usd", "deficit_usd", "adl_usd"} <= shown
    for venue, row in expected.items():
        for col, _, _ in venues.TABLE_COLUMNS:
            if col in shown:
                assert cells[f"perps-{venue}-{col}"] == usd(row[col]), (venue, col)
            else:  # a column left out is $0 on every venue
                assert abs(row[col]) <= 0.5, (venue, col)
    assert "backstop_usd" not in shown  # Hyperliquid, the one venue with a vault, is on ADL
    assert "vault, socialised, uncovered: $0 on every venue" in _json(out[f"{ids.PERPS_TABLE}.children"])
    # under ADL, Hyperliquid's deficit is taken from profitable positions, not from its vault
    hl = expected["HYPERLIQUID"]
    assert hl["backstop_usd"] == 0 and hl["adl_usd"] > 0
    table = _json(out[f"{ids.PERPS_TABLE}.children"])
    assert "rule: " in table and '"ADL"' in table and " (own: vault)" in table
    assert out[f"{ids.SCENARIO_INFO}.children"] is not None
    assert out["section-safeguards-count.children"] == " · 1 set"


def test_compare_runs_the_venues_own_rules_beside(ctx, net):
    sc = SHOCK.model_copy(update={"safeguards": parse_scenario({"safeguards": {"adl_rules": {"HYPERLIQUID": "adl"}}}).safeguards})
    out = _run(net, sc, compare=True)
    with_rule, own = core.simulate(net, sc), core.simulate(net, sc.without_safeguards())
    # the headline's figures and its "vs no safeguards" are the two runs' (dashed lines: the second run in every chart)
    spec = out[f"{ids.FRAMES}.data"]["headline"]
    loss = next(f for f in spec["figures"] if f["key"] == "total_loss_usd")
    assert loss["values"][-1] == pytest.approx(float(with_rule.totals["total_loss_usd"].iloc[-1]), abs=0.01)
    assert loss["base"][-1] == pytest.approx(float(own.totals["total_loss_usd"].iloc[-1]), abs=0.01)
    diff = float(with_rule.totals["total_loss_usd"].iloc[-1] - own.totals["total_loss_usd"].iloc[-1])
    # ADL moves the deficit the vault paid onto the traders it deleverages: the loss moves, it does not go
    # (before outside traders' losses counted, the rule lowered system loss by exactly the vault's $300M)
    assert abs(diff) < 1e-6 * own.summary_dict()["total_loss_usd"]
    moved = (with_rule.summary_dict()["loss_by_bearer_usd"]["outside_traders"]
             - own.summary_dict()["loss_by_bearer_usd"]["outside_traders"])
    # what moved is the vault's loss: its whole $300M here, which paid the deficits with the left-over margin the
    # vault kept from the liquidated accounts still above water (a bucket's accounts are settled one by one)
    vault = float(net.venues.set_index("venue").loc["HYPERLIQUID", "backstop_vault_usd"])
    assert own.summary_dict()["perps"]["HYPERLIQUID"]["backstop_usd"] >= vault
    assert moved == pytest.approx(vault, rel=1e-6)
    head = _json(headline.headline_at(spec, len(loss["values"]) - 1))
    assert f"{usd(abs(diff))} vs no safeguards ({usd(float(own.totals['total_loss_usd'].iloc[-1]))})" in head
    dashed = [t for t in out[f"{ids.CHART_LOSS}.figure"]["data"] if t.get("line", {}).get("dash")]
    assert dashed and any("no safeguards" in t["name"] for t in dashed)
    # the table: each figure that differs carries the run under the venue's own rule
    cells = _cells(out[f"{ids.PERPS_TABLE}.children"])
    a, b = with_rule.summary_dict()["perps"]["HYPERLIQUID"], own.summary_dict()["perps"]["HYPERLIQUID"]
    assert cells["perps-HYPERLIQUID-backstop_usd"] == f"{usd(a['backstop_usd'])} vs {usd(b['backstop_usd'])}"
    assert cells["perps-HYPERLIQUID-adl_usd"] == f"{usd(a['adl_usd'])} vs {usd(b['adl_usd'])}"
    assert b["backstop_usd"] > 0 and a["backstop_usd"] == 0
    assert cells["perps-DYDX-liquidated_usd"] == usd(with_rule.summary_dict()["perps"]["DYDX"]["liquidated_usd"])  # unchanged: no "vs"


def test_a_collateral_policy_reaches_the_run(ctx, net):
    sc = Scenario(name="usde", depegs={"USDe": 0.35}, price_shocks={"BTC": -0.1},
                  safeguards={"collateral_policies": {"BINANCE_FUT": "redemption_value"}})
    out = _run(net, sc, compare=True)
    assert parse_scenario(out[f"{ids.SCENARIO}.data"]).safeguards.collateral_policies == {"BINANCE_FUT": "redemption_value"}
    got, own = core.simulate(net, sc).summary_dict()["perps"], core.simulate(net, sc.without_safeguards()).summary_dict()["perps"]
    cells = _cells(out[f"{ids.PERPS_TABLE}.children"])
    assert cells["perps-BINANCE_FUT-liquidated_usd"].split(" vs ")[0] == usd(got["BINANCE_FUT"]["liquidated_usd"])
    # USDe margin at its redemption value ($1) instead of Binance's book: fewer liquidations there
    assert got["BINANCE_FUT"]["liquidated_usd"] < own["BINANCE_FUT"]["liquidated_usd"]


def test_a_link_sets_the_venue_dropdowns_and_reset_puts_them_back(ctx, net):
    pid, did, aid, cid = control_ids(net)
    sc = Scenario(safeguards={"adl_rules": {"BYBIT_FUT": "socialised"}, "collateral_policies": {"BINANCE_FUT": "index"}})
    href = f"http://x/?s={state.encode_scenario(sc.model_dump(mode='json'))}"
    out = named(scenarios.SOURCE_OUTPUTS[:-2], scenarios.scenario_source(None, href, None, None, None, pid, did,
                                                                         state.network_store(None), aid, cid))
    adl, pol = out[f"{ids.ADL_RULE}.value"], out[f"{ids.COLLATERAL_POLICY}.value"]
    assert dict(zip([i["venue"] for i in aid], adl))["BYBIT_FUT"] == "socialised" and adl.count(venues.OWN) == 7
    assert dict(zip([i["venue"] for i in cid], pol))["BINANCE_FUT"] == "index" and pol.count(venues.OWN) == 7
    res = named(scenarios.SOURCE_OUTPUTS, triggered(f"{ids.RESET}.n_clicks", scenarios.on_scenario_source,
                                                    None, None, None, 1, None, pid, did, state.network_store(None), aid, cid))
    assert res[f"{ids.ADL_RULE}.value"] == [venues.OWN] * 8 and res[f"{ids.COLLATERAL_POLICY}.value"] == [venues.OWN] * 8


def test_a_file_with_a_vault_on_a_venue_without_one_gives_a_message(ctx, net):
    pid, did, aid, cid = control_ids(net)
    bad = Scenario(safeguards={"adl_rules": {"BINANCE_FUT": "backstop_vault"}}).to_json()
    contents = "data:application/json;base64," + base64.b64encode(bad.encode()).decode()
    res = named(scenarios.SOURCE_OUTPUTS, triggered(f"{ids.SCENARIO_UPLOAD}.contents", scenarios.on_scenario_source,
                                                    None, None, contents, None, "vault.json", pid, did, state.network_store(None), aid, cid))
    message = str(res[f"{ids.MESSAGE}.children"])
    assert "BINANCE_FUT" in message and "vault" in message
    assert res[f"{ids.ADL_RULE}.value"] == [no_update] * 8  # the dropdowns stay as they were


def test_an_uploaded_network_gets_its_own_venue_dropdowns(ctx, net):
    small = perps_example(adl_rule_a="socialised")
    contents = "data:application/json;base64," + base64.b64encode(small.to_json().encode()).decode()
    kept = Scenario(safeguards={"adl_rules": {"HYPERLIQUID": "adl"}, "collateral_policies": {"VENUE_A": "index"}}).model_dump(mode="json")
    out = named(upload.OUTPUTS, triggered(f"{ids.DATA_UPLOAD}.contents", upload.on_upload, [contents], None, ["perps.json"],
                                          state.network_store(None), kept))
    text = _json(out[f"{ids.VENUE_RULES}.children"])
    assert '"venue": "VENUE_A"' in text and '"venue": "VENUE_B"' in text and "HYPERLIQUID" not in text
    assert "venue rule (socialised)" in text
    # VENUE_A's policy override applies to the new network and is shown; Hyperliquid's is gone with its venue
    assert _dropdowns(out[f"{ids.VENUE_RULES}.children"]) == {
        (ids.ADL_RULE, "VENUE_A"): venues.OWN, (ids.ADL_RULE, "VENUE_B"): venues.OWN,
        (ids.COLLATERAL_POLICY, "VENUE_A"): "index", (ids.COLLATERAL_POLICY, "VENUE_B"): venues.OWN}


# -- liquidation levels per perpetuals venue --------------------------------------------

def test_perps_levels_of_the_synthetic_network_by_hand():
    """perps_example: VENUE_A 20x long 100 BTC (isolated, USDC) and the market maker's 5x short 100 BTC (cross, USDX);
    VENUE_B 25x long 50 BTC and the market maker's 5x long 100 BTC; BTC at 100k, maintenance 0.5 %.

    Liquidation moves, P_liq / P_0 - 1 with P_liq = P_0 (1 - σ/Λ) / (1 - σ m): 20x long −4.52 %, 25x long −3.52 %,
    5x long −19.60 %, 5x short +19.40 %. Notional at 100k: 100 BTC = 10M, 50 BTC = 5M.
    """
    risk = liquidation_levels.perps_at_risk(perps_example(), "BTC")
    at = {m: risk.loc[m].to_dict() for m in (-90, -20, -19, -5, -4, -3, 0, 19, 20, 90)}
    assert at[0] == at[-3] == at[19] == {"VENUE_A": 0.0, "VENUE_B": 0.0}
    assert at[-4] == {"VENUE_A": 0.0, "VENUE_B": 5e6}
    assert at[-5] == at[-19] == {"VENUE_A": 1e7, "VENUE_B": 5e6}
    assert at[-20] == at[-90] == {"VENUE_A": 1e7, "VENUE_B": 1.5e7}
    assert at[20] == at[90] == {"VENUE_A": 1e7, "VENUE_B": 0.0}
    # the same moves from the isolated formula of core.mechanisms.perps
    moves = liquidation_price(1e5, [20.0, 25.0, 5.0, 5.0], [1, 1, 1, -1], 0.005) / 1e5 - 1
    assert np.round(100 * moves, 2).tolist() == [-4.52, -3.52, -19.6, 19.4]


def test_collateral_in_the_moving_asset_moves_with_it():
    """The market maker's short on VENUE_A margined with 20 BTC (2M at 100k) instead of 2M USDX:
    E = 20 P − 100 (P − 100k) = 10M − 80 P  <  0.005 · 100 · P  ⇔  P > 124,224 (+24.2 %), not +19.4 %."""
    ex = perps_example()
    pos = ex.positions.copy()
    pos.loc[pos["id"] == "A_MM_SHORT", ["margin", "margin_asset"]] = [20.0, "BTC"]
    coin = core.Network(**{**ex.frames(), "positions": pos}, name="coin-margined")
    risk = liquidation_levels.perps_at_risk(coin, "BTC")
    assert risk.loc[20, "VENUE_A"] == 0.0 and risk.loc[24, "VENUE_A"] == 0.0 and risk.loc[25, "VENUE_A"] == 1e7


def test_perps_levels_of_isolated_books_agree_with_the_liquidation_price_formula(net, monkeypatch):
    """dYdX, Lighter and Aster hold isolated USD-margined cohorts only, anonymous buckets of accounts with margins
    spread +-w about the bucket's (core.mechanisms.perps_spread): each curve holds the notional of the rows whose
    highest-margin account's liquidation price (core.mechanisms.perps.liquidation_price) the move reaches, and at
    most that of the rows whose lowest-margin account's it reaches; with no spread, exactly the rows' own prices."""
    pos = net.positions
    spread = position_book(net).margin_spread
    # the same book with every bucket one account (no margin spread)
    def one_account(network, rules=None):
        return dataclasses.replace(position_book(network, rules), margin_spread=np.zeros(len(network.positions)))

    for asset in ("BTC", "ETH", "ALTS"):
        risk = liquidation_levels.perps_at_risk(net, asset)
        for venue in ("DYDX", "LIGHTER", "ASTER"):
            rows = pos[(pos["venue"] == venue) & (pos["market"] == asset)]
            assert (rows["margin_mode"] == "isolated").all() and (rows["margin_asset"] == "").all()
            p0 = rows["entry_price"].to_numpy()
            ref = float(net.prices[asset])
            lev = rows["size"].to_numpy() * p0 / rows["margin"].to_numpy()
            m = rows["maintenance_margin"].fillna(venues.own_rules(net).loc[venue, "maintenance_margin"]).to_numpy()
            side = np.where(rows["side"] == "long", 1.0, -1.0)
            w = spread[rows.index.to_numpy()]
            notional = rows["size"].to_numpy() * ref
            def reached(leverage, p0=p0, side=side, m=m, ref=ref, notional=notional, grid=risk.index):
                move = 100 * (liquidation_price(p0, leverage, side, m) / ref - 1)
                return np.array([notional[np.where(side > 0, g <= move, g >= move)].sum() for g in grid])

            whole, first = reached(lev / (1 + w)), reached(lev / (1 - w))
            assert (w > 0).all()
            assert (risk[venue].to_numpy() >= whole * (1 - 1e-12)).all() and (risk[venue].to_numpy() <= first * (1 + 1e-12)).all(), (asset, venue)
            assert risk[venue].max() > 0
            with monkeypatch.context() as patch:
                patch.setattr(liquidation_levels, "position_book", one_account)
                flat = liquidation_levels.perps_at_risk(net, asset)[venue].to_numpy()
            assert np.allclose(flat, reached(lev), rtol=1e-12), (asset, venue)


def test_liquidation_levels_draw_the_venues_beside_the_lenders(ctx, net):
    charts_, dist, perps, note = liquidation_levels.on_levels(1, "BTC", state.network_store(None))
    fig = json.loads(_json(perps))["props"]["figure"]
    assert [t["name"] for t in fig["data"]] == [venues.short_name(n)[:24] for n in net.entities.set_index("id").loc[venues.own_rules(net).index, "name"]]
    assert fig["data"][0]["x"][0] == -90 and fig["data"][0]["x"][-1] == 90
    total = liquidation_levels.perps_at_risk(net, "BTC").sum(axis=1)
    assert f"a 20 % fall of BTC liquidates {usd(total[-20])}" in note and f"a 20 % rise {usd(total[20])}" in note
    old = core.datasets.load("crypto-2022-05")
    assert liquidation_levels.perps_figure(old, "ETH") == (None, "")
    # no BNB market and no BNB margin on the 2025 venues: no curve of zeros, a sentence
    assert liquidation_levels.perps_figure(net, "BNB") == (None, " No perpetual position is liquidated by a move of BNB within ±90 %.")
