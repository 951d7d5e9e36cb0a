"""One round of the perpetuals venues (core.perps_round): depth response, fills, what passes on, the book left."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from core.network import Network
from core.perps_round import PERPS_COLUMNS, market_maker_depth, perps_round
from core.positions import position_book, venue_rules
from core.synthetic_perps import perps_example


@pytest.fixture(scope="module")
def net():
    return perps_example()


def _round(net, btc, rules=None, previous=None, fund=None, vault=None, **kw):
    rules = venue_rules(net) if rules is None else rules
    pb = position_book(net, rules)
    a = net.assets.set_index("symbol")
    p0 = a["price_usd"].to_numpy() if previous is None else previous
    p1 = p0.copy()
    p1[0] = btc
    return perps_round(pb, rules, p1, p0, a["adv_usd"].to_numpy(), a["daily_vol"].to_numpy(),
                       insurance_fund=rules["insurance_fund_usd"].to_numpy() if fund is None else fund,
                       backstop=rules["backstop_vault_usd"].to_numpy() if vault is None else vault, **kw), p1, rules


def value_of(r, net, entity, s=0):
    return float(r.account_value_usd[s, list(r.accounts).index(net.entity_pos([entity])[0])])


@settings(max_examples=200, deadline=None)
@given(st.floats(-3, 3), st.floats(-3, 3), st.floats(1e-4, 0.5), st.floats(0, 2))
def test_depth_is_a_share_that_falls_as_the_move_grows(r1, r2, sigma, kappa):
    d = market_maker_depth([r1, r2], [sigma, sigma], kappa)
    assert ((d > 0) & (d <= 1)).all()
    if abs(r1) <= sigma:
        assert d[0] == 1.0
    if abs(r1) <= abs(r2):
        assert d[0] >= d[1]


def test_thinner_depth_worsens_fills_and_deficits(net):
    calm, _, _ = _round(net, 9e4, elasticity=0.0)
    withdrawn, _, _ = _round(net, 9e4, elasticity=2.0, liquidity=0.01)
    assert (withdrawn.slippage > calm.slippage).all()
    assert (withdrawn.table(0)["deficit_usd"] > calm.table(0)["deficit_usd"]).all()


def test_the_table_has_the_contract_columns_and_adds_up(net):
    r, _, _ = _round(net, 7e4)
    t = r.table(3)
    assert (t["round"] == 3).all()
    assert tuple(t.columns) == PERPS_COLUMNS and t["venue"].tolist() == ["VENUE_A", "VENUE_B"]
    parts = t[["backstop_usd", "insurance_draw_usd", "adl_usd", "socialised_usd", "uncovered_usd"]].sum(axis=1)
    np.testing.assert_allclose(parts, t["deficit_usd"], rtol=1e-12)
    # BTC -30 %: B's vault (1m) and fund (50k) cannot cover B's longs and the market maker's long,
    # and no short is open on B: the rest is B's uncovered loss, for its creditors.
    assert t.loc[1, "uncovered_usd"] > 0 and t.loc[1, "backstop_usd"] == pytest.approx(1e6)
    assert r.vault_change_usd[0, 1] == pytest.approx(-1e6)


def test_an_adl_rule_change_moves_the_loss_from_the_market_maker_to_the_venue(net):
    """VENUE_A by ADL takes 0.41m of the market maker's profit; with a 5m backstop vault instead
    the vault pays, and the market maker is worth exactly that much more."""
    base, _, rules = _round(net, 9e4)
    vaulted = net.frames()
    vaulted["venues"].loc[0, ["adl_rule", "backstop_vault_usd"]] = ["backstop_vault", 5e6]
    other = Network.from_frames(**vaulted)
    alt, _, _ = _round(other, 9e4)
    assert base.table(0).loc[0, "adl_usd"] > 4e5 and alt.table(0).loc[0, "adl_usd"] == 0.0
    assert value_of(alt, other, "MM") - value_of(base, net, "MM") == pytest.approx(base.table(0).loc[0, "adl_usd"])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["VENUE_A", "VENUE_B"]), st.sampled_from(["", "MM", "LENDER"]),
                          st.sampled_from(["isolated", "cross"]), st.sampled_from(["long", "short"]),
                          st.floats(0.01, 50.0), st.floats(2.0, 50.0)),
                min_size=1, max_size=30),
       st.floats(0.5, 1.5), st.sampled_from(["adl", "socialised", "backstop_vault"]))
def test_any_book_over_two_rounds(net, rows, move, rule_a):
    """Forced closes are the liquidated notional (longs sold, shorts bought); named accounts are never worth
    less than 0; liquidated accounts close with their margin (an anonymous isolated bucket its share past
    maintenance, with at most that share of its margin); ADL'd rows only shrink; a second round at the same
    marks liquidates no closed account again, and every venue conserves its deficit."""
    frames = net.frames()
    frames["positions"] = pd.DataFrame([
        {"id": f"P{i}", "venue": v, "account": a, "market": "BTC", "side": s, "size": q, "entry_price": 1e5,
         "margin": q * 1e5 / lev, "margin_asset": "USDC", "margin_mode": mode,
         "as_of": "2025-10-10", "source": "test", "flag": "estimate", "note": "x"}
        for i, (v, a, mode, s, q, lev) in enumerate(rows)])
    frames["venues"].loc[0, ["adl_rule", "backstop_vault_usd"]] = [rule_a, 2e5]
    n = Network.from_frames(**frames)
    r, p1, rules = _round(n, 1e5 * move)
    b0 = position_book(n, rules).book
    liquidated, share = r.settlement.liquidated[0], r.settlement.liquidated_share[0]
    bucket = position_book(n, rules).margin_spread > 0
    margin0 = position_book(n, rules).margin_units
    size1, margin1 = r.size_after[0], r.margin_units_after[0]
    assert ((share == 1.0) | (share == 0.0) | bucket).all() and (liquidated == (share > 0)).all()
    assert r.sales_usd[0, 0] == pytest.approx(float((share * b0.size * p1[0]).sum()))
    assert (r.account_value_usd >= 0).all()
    whole = share == 1.0
    assert (size1[whole] == 0).all() and (margin1[whole] == 0).all()
    # a bucket's liquidated accounts are its lowest-margin ones: the rest keeps at least its pro-rata margin, less the
    # share of it ADL took beyond the profit
    assert (margin1 >= (1.0 - share) * (1.0 - r.settlement.adl_margin_share[0]) * margin0 * (1 - 1e-12)).all()
    assert (np.abs(size1) <= np.abs(b0.size) + 1e-12).all() and (size1 * b0.size >= 0).all()
    untouched = ~liquidated & (r.settlement.adl[0] + r.settlement.socialised[0] == 0)
    assert (size1[untouched] == b0.size[untouched]).all()
    again, _, _ = _round(n, p1[0], previous=p1, fund=r.settlement.insurance_after, vault=r.settlement.backstop_after,
                         size=r.size_after, margin_units=r.margin_units_after, spread=r.spread_after)
    # (a bucket's remaining lowest account sits on the threshold: a share of rounding size, 1e-12 of it, at most)
    assert not (again.settlement.liquidated[0] & liquidated & ~bucket).any()
    assert (again.settlement.liquidated_share[0][liquidated & bucket] <= 1e-12).all()
    for t in (r.table(0), again.table(1)):
        parts = t[["backstop_usd", "insurance_draw_usd", "adl_usd", "socialised_usd", "uncovered_usd"]].sum(axis=1)
        np.testing.assert_allclose(parts, t["deficit_usd"], rtol=1e-9, atol=1e-6)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(0.5, 1.5), min_size=2, max_size=4), st.lists(st.floats(0.05, 2.0), min_size=4, max_size=4))
def test_a_batch_equals_each_scenario_alone(net, moves, liquidity):
    rules = venue_rules(net)
    pb = position_book(net, rules)
    a = net.assets.set_index("symbol")
    p0 = a["price_usd"].to_numpy()
    marks = np.repeat(p0[None], len(moves), 0)
    marks[:, 0] *= moves
    liq = np.array(liquidity[:len(moves)])
    args = (a["adv_usd"].to_numpy(), a["daily_vol"].to_numpy())
    terms = dict(insurance_fund=rules["insurance_fund_usd"].to_numpy(), backstop=rules["backstop_vault_usd"].to_numpy())
    batch = perps_round(pb, rules, marks, p0, *args, liquidity=liq, **terms)
    for s in range(len(moves)):
        one = perps_round(pb, rules, marks[s], p0, *args, liquidity=liq[s], **terms)
        pd.testing.assert_frame_equal(batch.table(0, s), one.table(0))
        for f in ("sales_usd", "account_value_usd", "size_after", "margin_units_after", "slippage", "collateral_prices"):
            np.testing.assert_allclose(getattr(batch, f)[s], getattr(one, f)[0], rtol=1e-12, err_msg=f)


def test_a_depeg_on_the_venue_own_book_liquidates_there_only(net):
    """Round 1, BTC -10 %: VENUE_A's 20x longs, margined in USDX, are liquidated; A sells their 0.5m USDX
    on its own book (depth 0.1 % of 200m a day: 0.2m USD per factor e; USDX itself did not move, so its
    depth is whole), and USDX is worth exp(-2.5) = 8 % there; the index stays at 1. Round 2, BTC back to
    105,000: the market maker's short on A has lost 0.5m against 2m USDX. Marked at A's book the margin is
    worth 0.16m: liquidated. At redemption value (or the index) it is worth 2m: it survives."""
    frames = net.frames()
    frames["positions"].loc[0, "margin_asset"] = "USDX"
    n = Network.from_frames(**frames)
    a = n.assets.set_index("symbol")
    p0 = a["price_usd"].to_numpy()
    p1, p2 = p0.copy(), p0.copy()
    p1[0], p2[0] = 9e4, 1.05e5
    args = (a["adv_usd"].to_numpy(), a["daily_vol"].to_numpy())
    usdx = n.asset_symbols.get_loc("USDX")
    survived = {}
    for policy in ("order_book", "redemption_value", "index"):
        rules = venue_rules(n, collateral_policies={"VENUE_A": policy})
        pb = position_book(n, rules)
        terms = dict(insurance_fund=rules["insurance_fund_usd"].to_numpy(), backstop=rules["backstop_vault_usd"].to_numpy(),
                     reference_prices=p0)
        r1 = perps_round(pb, rules, p1, p0, *args, **terms)
        assert r1.collateral_sold_units[0, 0, usdx] == 5e5 and r1.collateral_sold_units[0, 1, usdx] == 0
        r2 = perps_round(pb, rules, p2, p1, *args, **(terms | dict(
            insurance_fund=r1.settlement.insurance_after, backstop=r1.settlement.backstop_after,
            size=r1.size_after, margin_units=r1.margin_units_after, own_book_sold=r1.own_book_sold_after)))
        price_a = r2.collateral_prices[0, 0, usdx]
        depth = 0.001 * 2e8 * market_maker_depth(np.log(p2 / p1), a["daily_vol"].to_numpy())[usdx]
        assert price_a == pytest.approx({"order_book": np.exp(-5e5 / depth), "redemption_value": 1.0, "index": 1.0}[policy])
        assert r2.collateral_prices[0, 1, usdx] == 1.0  # VENUE_B marks at the index, untouched
        survived[policy] = not r2.settlement.liquidated[0, pb.ids.get_loc("A_MM_SHORT")]
    assert survived == {"order_book": False, "redemption_value": True, "index": True}
