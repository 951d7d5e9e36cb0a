"""Perpetuals inside the cascade (core.engine.perps): worked waterfalls, conservation over random books through
the engine, the venue -> market maker -> lender chain and what an ADL rule changes."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import core
from core.engine import compile_network, scenario_batch, simulate_batch
from core.engine import perps as perps_step
from core.engine.rounds import STEPS
from core.engine.sell import sale_impact
from core.engine.state import initial_state
from core.network import Network
from core.results import PERPS_COLUMNS
from core.scenario import Scenario
from core.synthetic_perps import perps_example

PARTS = ["backstop_usd", "insurance_draw_usd", "adl_usd", "socialised_usd", "uncovered_usd"]
SIGMA, ADV = 0.03, 3e10  # BTC in the example


def fill_price(mark: float, previous: float, notional: float) -> float:
    """A long's liquidation fill by hand: depth (sigma / |r|)^0.75 of the volume, square-root slippage."""
    r = abs(np.log(mark / previous))
    depth = min(1.0, SIGMA / r) ** 0.75 if r > 0 else 1.0
    return mark * np.exp(-SIGMA * np.sqrt(notional / (depth * ADV)))


def equity(res, entity: str) -> float:
    return float(res.nodes.loc[entity, "final_equity_usd"])


def test_a_network_without_positions_has_an_empty_perps_table():
    res = core.simulate(core.datasets.load("crypto-2022-05"), {"name": "eth-30", "price_shocks": {"ETH": -0.3}})
    assert tuple(res.perps.columns) == PERPS_COLUMNS and res.perps.empty
    assert "perps" not in res.summary_dict()
    assert not res.paths["channel"].isin(["adl", "insurance", "backstop"]).any()
    again = core.CascadeResult.from_json(res.to_json())
    assert tuple(again.perps.columns) == PERPS_COLUMNS and again.perps.empty
    br = simulate_batch(core.datasets.load("crypto-2022-05"), [Scenario(price_shocks={"ETH": -0.3})])
    assert br.perps_usd.shape == (1, 0, 7)


def test_a_hand_checked_waterfall_with_a_backstop_vault():
    """BTC -10 % (100,000 -> 90,000: a 3.5-sigma move leaves (0.03 / 0.105)^0.75 = 39 % of the depth).

    VENUE_B (backstop vault of 80k, fund 50k) with a 2x anonymous short cohort added: its 25x longs
    (50 BTC, margin 200k) are liquidated; their deficit 50 (100,000 - fill) - 200,000 = 302,647 is paid
    80,000 by the vault (all of it), 50,000 by the fund and 172,647 by ADL from the shorts (profit
    300,000). VENUE_A (fund 100k, ADL) loses 507,487 on its 20x longs: 100,000 from the fund,
    407,487 by ADL from the market maker's short, cut to 100 (1 - 407,487 / 1,000,000) = 59.25 BTC.
    Forced sales of 150 BTC move BTC by sigma sqrt(150 x 100,000 / V) in log: to 89,939.6. The vault
    entity (equity 100k) is left with 20k; the market maker with 2m + 59.25 (P0 - P) - 100 (P0 - P).
    """
    frames = perps_example().frames()
    frames["venues"].loc[frames["venues"]["venue"] == "VENUE_B", "backstop_vault_usd"] = 8e4
    extra = frames["positions"].iloc[[2]].assign(id="B_SHORTS_2X", side="short", size=30.0, margin=1.5e6, leverage_bucket="2x")
    frames["positions"] = pd.concat([frames["positions"], extra], ignore_index=True)
    net = Network.from_frames(**frames)
    res = core.simulate(net, {"name": "btc-10", "price_shocks": {"BTC": -0.1}})
    t = res.perps[res.perps["round"] == 0].set_index("venue")
    deficit_b = 50 * (1e5 - fill_price(9e4, 1e5, 50 * 9e4)) - 2e5
    deficit_a = 100 * (1e5 - fill_price(9e4, 1e5, 100 * 9e4)) - 5e5
    assert deficit_b == pytest.approx(302_647, abs=1) and deficit_a == pytest.approx(507_487, abs=1)
    assert t.loc["VENUE_B", ["deficit_usd", "backstop_usd", "insurance_draw_usd", "adl_usd", "uncovered_usd"]].tolist() == \
        pytest.approx([deficit_b, 8e4, 5e4, deficit_b - 1.3e5, 0.0], rel=1e-9)
    assert t.loc["VENUE_A", ["deficit_usd", "backstop_usd", "insurance_draw_usd", "adl_usd", "uncovered_usd"]].tolist() == \
        pytest.approx([deficit_a, 0.0, 1e5, deficit_a - 1e5, 0.0], rel=1e-9)
    later = res.perps[res.perps["round"] > 0]
    assert (later[list(PERPS_COLUMNS[2:])] == 0).all().all()  # nothing more to liquidate at the settled price
    p_t = 9e4 * np.exp(-SIGMA * np.sqrt(150 * 1e5 / ADV))
    assert float(res.prices["BTC"].iloc[-1]) == pytest.approx(p_t, rel=1e-12)
    kept_short = 100 * (1 - (deficit_a - 1e5) / 1e6)
    assert equity(res, "MM") == pytest.approx(2e6 + kept_short * (1e5 - p_t) - 100 * (1e5 - p_t), rel=1e-9)
    assert equity(res, "VAULT_B") == pytest.approx(2e4, rel=1e-9)
    assert equity(res, "VENUE_A") == pytest.approx(3e5) and equity(res, "VENUE_B") == pytest.approx(3e5)
    # summary, paths and system loss say the same
    s = res.summary_dict()["perps"]
    assert s["VENUE_B"]["backstop_usd"] == pytest.approx(8e4) and s["VENUE_A"]["adl_usd"] == pytest.approx(deficit_a - 1e5)
    p = res.paths.set_index(["source", "target", "channel"])["amount_usd"]
    assert p[("VENUE_A", "MM", "adl")] == pytest.approx(deficit_a - 1e5)
    assert p[("VENUE_A", "INSURANCE", "insurance")] == pytest.approx(1e5)
    assert p[("VENUE_B", "INSURANCE", "insurance")] == pytest.approx(5e4)
    assert p[("VENUE_B", "VAULT_B", "backstop")] == pytest.approx(8e4)
    assert res.summary_dict()["loss_by_bearer_usd"]["insurance_funds"] == pytest.approx(1.5e5)


def test_adl_beyond_profit_takes_the_market_makers_margin_and_cuts_its_claim():
    """The hand-checked waterfall's VENUE_A with the market maker's short entered at 90,000: at the shock's mark it
    has no profit, so ADL closes it at the bankruptcy price out of its margin (2m USDX at 1): the 407,487 the fund
    leaves of the 20x longs' 507,487 deficit. Its short is cut to 100 (1 - 407,487 / 2,000,000) = 79.63 BTC with
    that share of its margin units, its claim on VENUE_A cut by 407,487; the venue is whole (no uncovered loss, its
    equity 300k: the cut claim is a transfer) and the market maker is left with
    2m - 407,487 + 79.63 (90,000 - P) - 100 (100,000 - P) at the settled price P."""
    frames = perps_example().frames()
    frames["positions"].loc[frames["positions"]["id"] == "A_MM_SHORT", "entry_price"] = 9e4
    res = core.simulate(Network.from_frames(**frames), {"name": "btc-10", "price_shocks": {"BTC": -0.1}})
    t = res.perps[res.perps["round"] == 0].set_index("venue")
    deficit_a = 100 * (1e5 - fill_price(9e4, 1e5, 100 * 9e4)) - 5e5
    taken = deficit_a - 1e5
    assert taken == pytest.approx(407_487, abs=1)
    assert t.loc["VENUE_A", ["deficit_usd", "insurance_draw_usd", "adl_usd", "uncovered_usd"]].tolist() == \
        pytest.approx([deficit_a, 1e5, taken, 0.0], rel=1e-9)
    p_t = 9e4 * np.exp(-SIGMA * np.sqrt(150 * 1e5 / ADV))
    assert float(res.prices["BTC"].iloc[-1]) == pytest.approx(p_t, rel=1e-12)
    kept_short = 100 * (1 - taken / 2e6)
    assert equity(res, "MM") == pytest.approx(2e6 - taken + kept_short * (9e4 - p_t) - 100 * (1e5 - p_t), rel=1e-9)
    assert equity(res, "VENUE_A") == pytest.approx(3e5, rel=1e-12)
    assert res.paths.set_index(["source", "target", "channel"])["amount_usd"][("VENUE_A", "MM", "adl")] == pytest.approx(taken)


def test_a_named_accounts_usd_margin_seized_at_liquidation_leaves_its_venue_as_it_was():
    """BTC -20 % on the example with the market maker's long on VENUE_B margined in USD instead of USDC: the long
    (100 BTC, margin 2m) is liquidated, the market maker loses its 2m claim on VENUE_B and the venue hands the
    margin on (the loss on the position to the shorts, the rest to the vault), as it hands on seized USDC units.
    Its equity stays 300k, as with USDC margin (``test_a_hand_checked_waterfall_with_a_backstop_vault``). Before,
    the venue booked the cut claim as paid in but kept the USD: 300k -> 2.3m, the market maker's 2m created at the
    venue (on the October 2025 preset HYPERLIQUID ended $47.95M up on ABC's liquidated account; session 26)."""
    usdc = core.simulate(perps_example(), {"name": "btc-20", "price_shocks": {"BTC": -0.2}})
    frames = perps_example().frames()
    frames["positions"].loc[frames["positions"]["id"] == "B_MM_LONG", "margin_asset"] = ""
    res = core.simulate(Network.from_frames(**frames), {"name": "btc-20", "price_shocks": {"BTC": -0.2}})
    assert equity(res, "VENUE_B") == pytest.approx(3e5, rel=1e-12) and equity(usdc, "VENUE_B") == pytest.approx(3e5, rel=1e-12)
    assert equity(res, "MM") == pytest.approx(equity(usdc, "MM"), rel=1e-12)
    assert equity(res, "VAULT_B") == pytest.approx(equity(usdc, "VAULT_B"), rel=1e-12)
    assert res.summary_value("total_loss_usd") == pytest.approx(usdc.summary_value("total_loss_usd"), rel=1e-12)


def test_a_shock_travels_venue_to_market_maker_to_lender_and_an_adl_rule_changes_it():
    """BTC -20 %. The market maker (equity 1m: 5m of assets, 4m borrowed from LENDER) is hedged, short 100
    BTC on VENUE_A and long 100 on VENUE_B. B liquidates its long: -2m (its margin). A's 20x longs leave
    1,503,918 of deficit; the fund pays 100,000.

    * ADL (A's rule): the market maker's short ranks first (PnL x leverage 5x against the 3x cohort of
      anonymous shorts) and gives 1,403,918 of its 2m profit: it ends 1m - 2m + 2m - 1,403,918 = -403,918
      (+2,064 as the forced sales push BTC 69 USD lower on the 29.8 BTC it keeps short) and defaults; its
      estate sells its illiquid other assets (80 % of 1m) at the fire-sale discount of 25 %: -200,000 more.
      LENDER writes off the 606,264 it is not paid, more than its 0.5m of equity: it defaults too, its
      estate sells its own other assets at the same discount (-200,000) and its depositors lose 306,264.
    * Socialised: every profit at A keeps 1 - h, h = 1,403,918 / (2m + 1m of the anonymous shorts) = 46.8 %;
      the market maker gives 935,945, ends at 67,739 and survives; LENDER loses nothing.
    """
    out = {}
    for rule in ("adl", "socialised"):
        net = perps_example(adl_rule_a=rule, mm_loan_usd=4e6, a_shorts_btc=50.0)
        out[rule] = core.simulate(net, {"name": "btc-20", "price_shocks": {"BTC": -0.2}})
    adl, soc = out["adl"], out["socialised"]
    deficit = float(adl.perps.set_index(["venue", "round"]).loc[("VENUE_A", 0), "deficit_usd"])
    assert deficit == pytest.approx(100 * (1e5 - fill_price(8e4, 1e5, 100 * 8e4)) - 5e5, rel=1e-9)
    taken = deficit - 1e5
    p_t = float(adl.prices["BTC"].iloc[-1])
    kept = 100 * (1 - taken / 2e6)
    shortfall = -(1e6 - 2e6 + kept * (1e5 - p_t) - 0.8 * 1e6 * 0.25)
    assert equity(adl, "MM") == pytest.approx(-shortfall, rel=1e-9)
    assert adl.nodes.loc["MM", "status"] == "defaulted" and adl.nodes.loc["LENDER", "status"] == "defaulted"
    assert adl.nodes.loc["LENDER", "loss_usd"] == pytest.approx(5e5, rel=1e-9)
    assert adl.nodes.loc["LENDER_DEPOSITORS", "loss_usd"] == pytest.approx(shortfall - 5e5 + 2e5, rel=1e-6)
    paths = adl.paths
    assert ((paths["source"] == "VENUE_A") & (paths["target"] == "MM") & (paths["channel"] == "adl")).any()
    assert ((paths["source"] == "MM") & (paths["target"] == "LENDER") & (paths["channel"] == "default")).any()
    h = taken / 3e6
    assert float(soc.perps.set_index(["venue", "round"]).loc[("VENUE_A", 0), "socialised_usd"]) == pytest.approx(taken)
    p_s = float(soc.prices["BTC"].iloc[-1])
    assert equity(soc, "MM") == pytest.approx(1e6 - 2e6 + 100 * (1 - h) * (1e5 - p_s), rel=1e-9)
    assert soc.nodes.loc["MM", "status"] != "defaulted" and soc.nodes.loc["LENDER", "loss_usd"] == pytest.approx(0, abs=1e-3)
    assert soc.summary_value("total_loss_usd") < adl.summary_value("total_loss_usd")


def test_scenario_overrides_reach_the_engine():
    """The same network, VENUE_B's rule overridden by the scenario: without its vault, B's 302,647 of deficit
    (no short on B to deleverage) is the fund's 50,000 and B's own loss; the vault is untouched."""
    net = perps_example()
    base = core.simulate(net, {"name": "x", "price_shocks": {"BTC": -0.1}})
    alt = core.simulate(net, {"name": "x", "price_shocks": {"BTC": -0.1}, "safeguards": {"adl_rules": {"VENUE_B": "adl"}}})
    b0 = base.perps.set_index(["venue", "round"]).loc[("VENUE_B", 0)]
    b1 = alt.perps.set_index(["venue", "round"]).loc[("VENUE_B", 0)]
    assert b0["backstop_usd"] == pytest.approx(b0["deficit_usd"]) and b1["backstop_usd"] == 0.0
    assert b1["insurance_draw_usd"] == 5e4 and b1["uncovered_usd"] == pytest.approx(b1["deficit_usd"] - 5e4)
    assert equity(alt, "VENUE_B") == pytest.approx(3e5 - b1["uncovered_usd"])
    assert equity(alt, "VAULT_B") == pytest.approx(1e5) and equity(base, "VAULT_B") < 0
    # the batch carries each scenario's codes
    b = scenario_batch(net, [Scenario(), Scenario(safeguards={"adl_rules": {"VENUE_B": "adl"},
                                                              "collateral_policies": {"VENUE_A": "redemption_value"}})])
    assert b.perps_rule.tolist() == [[0, 2], [0, 0]] and b.perps_policy.tolist() == [[0, 1], [2, 1]]


def test_short_liquidations_are_purchases_that_lift_the_price():
    """BTC +25 %: the market maker's short on VENUE_A (margin 2m USDX) is liquidated; closing it buys 100 BTC,
    which lifts BTC by sigma sqrt(100 x 100,000 / V) in log."""
    res = core.simulate(perps_example(), {"name": "btc+25", "price_shocks": {"BTC": 0.25}})
    assert float(res.perps.set_index(["venue", "round"]).loc[("VENUE_A", 0), "liquidated_usd"]) > 0
    assert float(res.prices["BTC"].iloc[0]) == pytest.approx(1.25e5 * np.exp(SIGMA * np.sqrt(100 * 1e5 / ADV)), rel=1e-12)


@functools.cache
def _example_compiled():
    """The synthetic perpetuals network compiled once (compiling it for each of 200 examples took 30 s)."""
    return compile_network(perps_example())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-1e9, 1e9), min_size=3, max_size=3), st.lists(st.floats(0, 1e9), min_size=3, max_size=3))
def test_the_impact_law_is_signed_and_monotone(before, sold):
    """Sales never raise a price, purchases never lower it, and more sold is never a higher price."""
    c = _example_compiled()
    u = np.array(sold)[None] / c.P0[None]
    before_ = np.array(before)[None]
    liq = np.ones(1)
    down, _ = sale_impact(c, np.full((1, c.k), 1.0) * c.supply, before_, u, liq)
    up, _ = sale_impact(c, c.supply[None], before_, -u, liq)
    more, _ = sale_impact(c, c.supply[None], before_, 2 * u, liq)
    assert (down >= 0).all() and (up <= 0).all() and (more >= down - 1e-15).all()


# ---------------------------------------------------------------------------
# Random books through the engine
# ---------------------------------------------------------------------------

ROW = st.tuples(st.sampled_from(["VENUE_A", "VENUE_B"]), st.sampled_from(["", "MM", "LENDER", "VAULT_B"]),
                st.sampled_from(["isolated", "cross"]), st.sampled_from(["long", "short"]),
                st.floats(0.01, 50.0), st.floats(1.5, 50.0), st.sampled_from(["USDC", "USDX"]))


def random_book(rows) -> Network:
    frames = perps_example().frames()
    frames["positions"] = pd.DataFrame([
        {"id": f"P{i}", "venue": v, "account": a, "market": "BTC", "side": s, "size": q, "entry_price": 1e5,
         "margin": q * 1e5 / lev, "margin_asset": m, "margin_mode": mode, "leverage_bucket": "",
         "as_of": "2025-10-10", "source": "test", "flag": "estimate", "note": "x"}
        for i, (v, a, mode, s, q, lev, m) in enumerate(rows)])
    return Network.from_frames(**frames)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ROW, min_size=1, max_size=25), st.lists(st.floats(-0.6, 0.6), min_size=1, max_size=3),
       st.sampled_from(["adl", "socialised"]), st.sampled_from(["adl", "socialised", "backstop_vault"]),
       st.sampled_from(["order_book", "index", "redemption_value"]), st.floats(0.0, 0.4), st.floats(0.05, 2.0))
def test_random_books_conserve_through_the_engine(rows, path, rule_a, rule_b, policy_a, usdx_depeg, liquidity):
    """Every venue, every round: deficit = backstop + insurance + adl + socialised + uncovered; no named
    position gives up more than its margin plus its unrealised profit at the round's marks (its margin at
    most its units at the index or the peg, whichever is higher: a venue values it at its book, the index or
    the redemption value); what it gives up beyond its profit leaves with that share of its margin units;
    sizes only shrink towards 0;
    the funds and vaults never go below 0, and what the funds lost is in the insurance draws."""
    net = random_book(rows)
    sc = Scenario(price_paths={"BTC": path}, depegs={"USDX": usdx_depeg} if usdx_depeg > 0 else {}, liquidity=liquidity,
                  safeguards={"adl_rules": {"VENUE_A": rule_a, "VENUE_B": rule_b},
                              "collateral_policies": {"VENUE_A": policy_a}})
    c = compile_network(net)
    b = scenario_batch(net, [sc])
    s = initial_state(c, b)
    pc = c.perps
    size0 = pc.pb.book.size
    for r in range(b.horizon):
        for step in STEPS:
            if step is perps_step.perps:
                size, P, units = s.perps_size.copy(), s.P.copy(), s.perps_units.copy()
                changes = step(c, s, b, r)
                profit = np.maximum(size * (P[:, pc.market] - pc.entry), 0.0)[:, pc.named_rows]
                asset = pc.margin_asset[pc.named_rows]
                unit_price = np.where(asset >= 0, np.maximum(P[:, np.maximum(asset, 0)], 1.0), 1.0)
                margin = (units[:, pc.named_rows] * unit_price)
                taken = changes["perps_taken"]
                assert (taken <= profit + margin + 1e-6 * (1 + profit + margin)).all()
                beyond = taken > profit + 1e-6 * (1 + profit)
                assert (changes["perps_units"][:, pc.named_rows][beyond] < units[:, pc.named_rows][beyond]).all()
                flow = changes["perps_flow"][0]
                np.testing.assert_allclose(flow[:, 1], flow[:, 2:].sum(1), rtol=1e-9, atol=1e-6)
                assert (flow >= -1e-9).all()
                after = changes["perps_size"]
                assert (np.abs(after) <= np.abs(size) + 1e-12).all() and (after * size0 >= 0).all()
                assert (changes["perps_fund"] >= -1e-9).all() and (changes["perps_vault"] >= -1e-9).all()
                s.apply(changes)
            else:
                s.apply(step(c, s, b, r))
        if s.settled.all():
            break
    lost = np.maximum(b.insurance[0, pc.venue_entity] - s.perps_fund[0], 0.0)
    assert s.ins_draw[0, pc.venue_entity] == pytest.approx(lost)
    total = s.perps_total[0]
    np.testing.assert_allclose(total[:, 1], total[:, 2:].sum(1), rtol=1e-9, atol=1e-6)
    # the same through the public entry point
    br = simulate_batch(net, [sc])
    np.testing.assert_allclose(br.perps_usd[0], total, rtol=1e-9, atol=1e-6)
    assert np.isfinite(br.equity).all() and np.isfinite(br.total_loss).all()


def test_a_batch_is_each_scenario_alone():
    net = perps_example(mm_loan_usd=4e6, a_shorts_btc=50.0)
    scs = [Scenario(price_shocks={"BTC": m}, safeguards={"adl_rules": {"VENUE_A": rule}})
           for m in (-0.3, -0.1, 0.2) for rule in ("adl", "socialised")]
    both = simulate_batch(net, scs)
    for i, sc in enumerate(scs):
        one = simulate_batch(net, [sc])
        np.testing.assert_allclose(both.perps_usd[i], one.perps_usd[0], rtol=1e-12)
        np.testing.assert_allclose(both.equity[i], one.equity[0], rtol=1e-12)


def test_a_sweep_compares_adl_rules_and_collateral_policies_on_the_same_shock():
    """The chain above as a sweep: A's rule decides whether the market maker (and only it) defaults."""
    from core.sweep import parse_grid, sweep

    net = perps_example(mm_loan_usd=4e6, a_shorts_btc=50.0)
    grid = dict([parse_grid("adl_rule@VENUE_A=adl,socialised"), parse_grid("collateral_policy=order_book,redemption_value")])
    df = sweep(net, Scenario(name="btc-20", price_shocks={"BTC": -0.2}), grid).set_index(["adl_rule@VENUE_A", "collateral_policy"])
    for policy in ("order_book", "redemption_value"):
        adl, soc = df.loc[("adl", policy)], df.loc[("socialised", policy)]
        assert adl["defaults"] == soc["defaults"] + 2  # the market maker and its lender
        assert adl["perps_deleveraged_usd"] == pytest.approx(soc["perps_deleveraged_usd"])  # the same amount, other bearers
        assert adl["total_loss_usd"] > soc["total_loss_usd"]
        one = core.simulate(net, Scenario(name="x", price_shocks={"BTC": -0.2},
                                          safeguards={"adl_rules": {"VENUE_A": "adl"}, "collateral_policies": {"VENUE_A": policy, "VENUE_B": policy}}))
        assert adl["total_loss_usd"] == pytest.approx(one.summary_value("total_loss_usd"), rel=1e-12)
        assert adl["perps_uncovered_usd"] == pytest.approx(sum(v["uncovered_usd"] for v in one.summary_dict()["perps"].values()), abs=1e-6)


@pytest.mark.parametrize("text, expected", [
    ("adl_rule=adl,foo", "adl_rule values among adl, socialised, backstop_vault"),
    ("collateral_policy@VENUE_A=book", "collateral_policy values among order_book, index, redemption_value"),
    ("max_close_factor@VENUE_A=0.5", "a parameter among"),
])
def test_a_bad_rule_grid_is_named(text, expected):
    from core.sweep import parse_grid
    from core.validation import DataValidationError

    with pytest.raises(DataValidationError, match=expected):
        parse_grid(text)


def test_a_rule_a_venue_cannot_take_is_named_with_its_cell():
    from core.sweep import sweep
    from core.validation import DataValidationError

    with pytest.raises(DataValidationError, match="VENUE_A.*a venue with a backstop vault"):
        sweep(perps_example(), Scenario(name="b", price_shocks={"BTC": -0.2}), {"adl_rule": ["backstop_vault"]})
    with pytest.raises(DataValidationError, match="a network with perpetual positions"):
        sweep(core.datasets.load("crypto-2022-05"), Scenario(name="b"), {"adl_rule": ["adl"]})


def test_outside_traders_margin_kept_by_a_fund_is_their_loss_and_totals_agree():
    # monotone-perps-usdc-depeg-vault-margin: a USDC depeg 98.6% liquidates accounts outside the network
    # on VENUE_A; their left-over margin refills the venue's fund (its draws 14,191, its net loss only
    # 1,453). That margin is the outside traders' loss, so system loss counts it: the fund's refill is a
    # transfer into the network, not a gain against its losses.
    net = perps_example(mm_loan_usd=4e6, a_shorts_btc=50.0)
    sc = core.Scenario.model_validate({"price_shocks": {"BTC": 0.0}, "depegs": {"USDC": 0.986}, "liquidity": 0.1,
                                  "liquidator_capacity_usd": 1e9})
    res = core.simulate(net, sc)
    sd = res.summary_dict()
    perps = res.perps.groupby("venue").sum(numeric_only=True)
    fund_net = sd["loss_by_bearer_usd"]["insurance_funds"]
    traders = sd["loss_by_bearer_usd"]["outside_traders"]
    draws = perps["insurance_draw_usd"].sum()
    assert traders > 0 and fund_net < draws
    # the fund's draws are covered by outside margin or counted as the fund's loss (no named account was
    # liquidated on VENUE_A with margin left), so the two bearers together count at least the draws
    assert fund_net + traders >= draws - 1e-6
    assert res.totals["total_loss_usd"].iloc[-1] == pytest.approx(sd["total_loss_usd"], rel=1e-12)


@pytest.mark.parametrize("depeg", [0.0, 0.02, 0.0388424, 0.0388426, 0.045])
def test_a_losing_account_at_a_failed_venue_loses_its_stake_once(depeg):
    """Set-off at a failed venue (core.engine.perps): BTC +18.63 % with VENUE_A forced to fail (recovery 0)
    and USDX/USDC ``depeg`` off peg. MM is short 100 BTC on VENUE_A with 2M USDX of cross margin, long 100 BTC
    on VENUE_B with 2M USDC, and owes LENDER 4M on 1M of other assets. Below its maintenance (0.5 % of
    118,630 x 100 = 59,315 against a stake of 2M (1 - depeg) - 1.863M) its short stays open, so its stake
    at VENUE_A, margin *plus* PnL, is what the estate owes it, and it is worth nothing: MM ends with
    1M + 2M (1 - depeg) + 1.863M - 4M (its claim on VENUE_B in USDC and the long's profit), 785,315.20 at
    the deepest depeg. Before the set-off MM lost the 1.863M a second time and defaulted, taking LENDER
    with it, while one liquidated a ulp deeper lost its margin once (monotone-perps-depeg-mm-maintenance-edge).
    Past its maintenance (3.88426 % and deeper) the short is not liquidated either: a venue that has failed runs
    no liquidation (before, VENUE_A liquidated it in round 0, the round it was forced to fail, and its left-over
    margin reached the estate through the fund: ...-maintenance-edge-left-over).
    """
    net = perps_example(mm_loan_usd=4e6, a_shorts_btc=50.0)
    res = core.simulate(net, Scenario(price_shocks={"BTC": 0.1863}, forced_defaults=["VENUE_A", "VAULT_B"],
                                      liquidity=0.1, depegs={"USDX": depeg, "USDC": depeg}))
    expected = 1e6 + 2e6 * (1.0 - depeg) + 100 * 18_630.0 - 4e6
    assert equity(res, "MM") == pytest.approx(expected, rel=1e-12)
    assert res.nodes.loc[["MM", "LENDER"], "default_round"].tolist() == [-1, -1]
    assert float(res.perps["liquidated_usd"].sum()) == 0.0  # the failed venue liquidated nothing


def test_a_hedged_book_keeps_its_equity_at_every_close():
    """October 2025 crash preset: ETHENA holds spot ETH, BTC and SOL hedged short on the venues, WINTERMUTE makes
    markets hedged; their open positions are marked at the close with their spot (core.engine.perps_close.marked_at_close),
    so each closes every round at its initial equity ($83,048,000.04 and $600,000,000.02). Before, the hedges were
    marked at the round's opening prices, before the round's sales moved the spot: ETHENA closed rounds 0-4 at
    $40.5M, $14.0M, $6.9M, $22.2M, $58.8M (distressed), WINTERMUTE at $587.7M-$592.6M."""
    root = Path(__file__).resolve().parent.parent
    sc = core.load_scenario(root / "data" / "scenarios" / "october_2025_crash.json")
    br = simulate_batch(core.datasets.load(sc.snapshot), [sc], record=True)
    ids = list(br.entity_ids)
    closes = br.history["equity"][0]
    for entity, initial in (("ETHENA", 83_048_000.04), ("WINTERMUTE", 600_000_000.02)):
        np.testing.assert_allclose(closes[:, ids.index(entity)], initial, rtol=1e-9)


def test_an_account_gapped_past_its_margin_at_a_close_is_its_venues_loss_not_its_debt():
    """Non-recourse margin (core.engine.perps_close): BTC -19.5 % on the example without the market maker's hedge
    on VENUE_A (its loan 2.95m: equity 2.05m) and with 100 BTC of anonymous 3x shorts there, VAULT_B's deposits
    cut to 10k. Round 0's perps step marks BTC at 80,500: the market maker's long on VENUE_B (100 BTC, margin a
    2m USDC claim) keeps 50,000 of equity against a maintenance of 40,250, so it is not liquidated; the 25x longs
    are, and VAULT_B pays their 777,935.88. Then the close gaps to 79,000 (set by hand): the long is marked at
    100 (79,000 - 100,000) = -2.1m, x = 100,000 past its margin. The market maker books -2m (its margin), not
    -2.1m: its equity is 50,000 and it does not default (before: -50,000, defaulted in round 0); VAULT_B, what is
    left of VENUE_B's backstop (222,064.12), books the provisional deficit x. Round 1's perps step liquidates the
    long at the fill 79,000 exp(-0.03 sqrt(7.9m / 30bn)) = 78,961.55: the deficit 103,844.99 is paid once by the
    vault, replacing the 100,000 (VAULT_B: 1m - 10k - 777,935.88 - 103,844.99), and nothing is provisional."""
    from core.engine.batch import build_batch
    from core.engine.perps_close import close_deficit
    frames = perps_example(mm_loan_usd=2.95e6, a_shorts_btc=100.0).frames()
    frames["positions"] = frames["positions"][frames["positions"]["id"] != "A_MM_SHORT"].reset_index(drop=True)
    ex = frames["exposures"]
    ex.loc[ex["id"] == "VAULT_DEPOSITS", "amount_usd"] = 1e4
    net = Network.from_frames(**frames)
    c = compile_network(net)
    b = build_batch(c, [Scenario(price_shocks={"BTC": -0.195}, horizon=3)], net, True)
    s = initial_state(c, b)
    ids = list(c.ids)
    btc, mm, vault = list(c.symbols).index("BTC"), ids.index("MM"), ids.index("VAULT_B")
    e0_mm, e0_vault = float(c.E0[mm]), float(c.E0[vault])
    assert (e0_mm, e0_vault) == pytest.approx((2.05e6, 9.9e5))
    paid_round_0 = 0.0
    for r in range(2):
        for step in STEPS:
            if r == 0 and step.__name__ == "mark_and_clear":
                assert s.perps_size[0, 2] == 100.0  # the long is open after round 0's perps step
                paid_round_0 = 1e6 - float(s.perps_vault[0, 1])
                assert paid_round_0 == pytest.approx(777_935.88, abs=0.01)
                s.P[0, btc] = 79_000.0  # the round's sales gap the close past the long's margin
                gap = close_deficit(c, s, b, s.P, s.lam)
                assert gap is not None
                assert gap.books[0, mm] == pytest.approx(1e5, rel=1e-12)
                assert gap.books[0, vault] == pytest.approx(-1e5, rel=1e-12)
                assert abs(gap.books[0].sum()) < 1e-6 and not gap.drawn.any() and not gap.taken.any()
            changes = step(c, s, b, r)
            if changes:
                s.apply(changes)
        if r == 0:
            assert not s.defaulted[0, mm]
            assert s.equity[0, mm] == pytest.approx(e0_mm - 2e6, rel=1e-12)
            assert s.equity[0, vault] == pytest.approx(e0_vault - paid_round_0 - 1e5, rel=1e-12)
            assert s.perps_close_drawn is not None and not s.perps_close_drawn.any()
    fill = fill_price(79_000.0, 79_000.0, 100 * 79_000.0)
    deficit = 100 * (1e5 - fill) - 2e6
    assert deficit == pytest.approx(103_844.99, abs=0.01)
    assert s.perps_size[0, 2] == 0.0 and s.perps_flow[0, 1, perps_step.TOTALS.index("backstop_usd")] == pytest.approx(deficit, rel=1e-9)
    assert s.perps_close_drawn is None and s.perps_close_taken is None
    assert not s.defaulted[0, mm] and s.equity[0, mm] == pytest.approx(e0_mm - 2e6, rel=1e-12)
    assert s.equity[0, vault] == pytest.approx(e0_vault - paid_round_0 - deficit, rel=1e-9)


def test_abcs_gap_on_the_2025_network_is_hyperliquids_waterfalls_not_abcs_default():
    """The shallower point of ``monotone-2025-sol-68-alts-56-hype-38-sparklend-failed-wbtc-86-full-runs-lag1-liquidity-
    033-owed-defaults`` (docs/invariants.md, Session 27 (owed25) and (gap)): round 0's sales take ALTS to 0.413855 and
    HYPE to 25.1843 at the close, past ABC's $47,945,205.48 margin claim on Hyperliquid by $1,148,380.52 before
    the venue liquidates it (round 1). Cut at that close (horizon 1), ABC loses its margin and does not default (7
    defaults; before, 8 with ABC: the excess was its debt, an outside write-down of $1,148,380.52); HLP's $300M is
    spent in round 0, so the excess is the winners' (ADL's), provisionally: traders' loss $9,728,847,256.86 (was
    $9,727,698,876.34). System loss is the same to the bit, $23,839,621,193.09, counted once; cut one round later
    (the venue's ADL has paid it) it is $29,218,639,838.02 with 10 defaults (11 with ABC). It was
    $29,218,565,933.51 before session 31's same-round pool index (s31-poolidx): SKY's $800M deposit on SPARKLEND,
    its only claim on a pool, is valued at round 1's index, not round 0's, and SKY (outside) ends $73,904.52 lower
    (-$599,028,919.85 -> -$599,102,824.37); every other entity's loss, every price and the horizon-1 cut are the
    same to the bit."""
    from depth_points import at_point, depth_points
    from invariants_support import load_regressions, network
    case = next(e for e in load_regressions() if e["id"].startswith("monotone-2025-sol-68-alts-56-hype-38-sparklend"))
    shallower = depth_points(tuple(case["assets"]), case["depths"])[0]
    net = network(case["network"])
    runs = [at_point(Scenario.model_validate(dict(case["scenario"]) | {"horizon": h}), shallower, case["mode"]) for h in (1, 2)]
    br = simulate_batch(net, runs)
    ids = list(br.entity_ids)
    abc = ids.index("ABC")
    assert not br.defaulted[:, abc].any() and not br.defaulted[:, ids.index("HYPERLIQUID")].any()
    # s36-poolpays (decision 17: a pool's runners are paid their claims' value, not par): 10 -> 8 defaults one round
    # later: AAVE_ETH (3.026% -> 2.517%) and MORPHO (3.050% -> 2.345%) had paid round 0's runners at par, which
    # left their shortfall on the claims that stayed and took them past 3% in round 1; loss +$0.00003
    # s37-skycage (decision 18): SKY, $599.10M short after round 1's clearing, is no longer a default there (its
    # deficit clock starts at round 1; the cut comes before 36 hours): 8 -> 7 one round later; loss the same to the bit
    assert br.defaulted.sum(1).tolist() == [7, 7]
    np.testing.assert_allclose(br.loss[:, abc], 47_945_205.48, rtol=1e-10)
    # s35-data (COMPOUND_V3's book dated at $1.06bn, was $0.90bn; supply $3.23bn, was $3.05bn): $23,869,457,624.74
    # and $29,258,784,240.01 (+$29.84M, +$40.14M; were $23,839,621,193.09 and $29,218,639,838.02)
    np.testing.assert_allclose(br.total_loss, [23_869_457_624.74, 29_258_784_240.01], rtol=1e-12)
    assert br.outside_loss[0] < 1.0
    np.testing.assert_allclose(br.traders_loss, [9_728_847_256.86, 9_730_859_687.35], rtol=1e-12)
