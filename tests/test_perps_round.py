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


def _round(net, btc, rules=None, pb=None, previous=None, fund=None, vault=None, **kw):
    rules = venue_rules(net) if rules is None else rules
    pb = position_book(net, rules) if pb is None else pb
    a = net.assets.set_index("symbol")
    p0 = a["price_usd"].to_numpy() if previous is None else previous
    p1 = p0.copy()
    p1[0] = btc
    return perps_round(pb, rules, p1, p0, a["adv_usd"].to_numpy(), a["daily_vol"].to_numpy(),
                       insurance_fund=rules["insurance_fund_usd"].to_numpy() if fund is None else fund,
                       backstop=rules["backstop_vault_usd"].to_numpy() if vault is None else vault, **kw), p1, rules


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
    assert (withdrawn.table["deficit_usd"] > calm.table["deficit_usd"]).all()


def test_the_table_has_the_contract_columns_and_adds_up(net):
    r, _, _ = _round(net, 7e4)
    t = r.table
    assert tuple(t.columns) == PERPS_COLUMNS and t["venue"].tolist() == ["VENUE_A", "VENUE_B"]
    parts = t[["backstop_usd", "insurance_draw_usd", "adl_usd", "socialised_usd", "uncovered_usd"]].sum(axis=1)
    np.testing.assert_allclose(parts, t["deficit_usd"], rtol=1e-12)
    # BTC -30 %: B's vault (1m) and fund (50k) cannot cover B's longs and the market maker's long,
    # and no short is open on B: the rest is B's uncovered loss, for its creditors.
    assert t.loc[1, "uncovered_usd"] > 0 and t.loc[1, "backstop_usd"] == pytest.approx(1e6)
    assert r.vault_change_usd[1] == pytest.approx(-1e6)


def test_an_adl_rule_change_moves_the_loss_from_the_market_maker_to_the_venue(net):
    """VENUE_A by ADL takes 0.41m of the market maker's profit; with a 5m backstop vault instead
    the vault pays, and the market maker is worth exactly that much more."""
    base, _, rules = _round(net, 9e4)
    mm = net.entity_pos(["MM"])[0]
    vaulted = net.frames()
    vaulted["venues"].loc[0, ["adl_rule", "backstop_vault_usd"]] = ["backstop_vault", 5e6]
    other = Network.from_frames(**vaulted)
    alt, _, _ = _round(other, 9e4)
    assert base.table.loc[0, "adl_usd"] > 4e5 and alt.table.loc[0, "adl_usd"] == 0.0
    assert alt.account_value_usd[mm] - base.account_value_usd[mm] == pytest.approx(base.table.loc[0, "adl_usd"])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["VENUE_A", "VENUE_B"]), st.sampled_from(["", "MM", "LENDER"]),
                          st.sampled_from(["isolated", "cross"]), st.sampled_from(["long", "short"]),
                          st.floats(0.01, 50.0), st.floats(2.0, 50.0)),
                min_size=1, max_size=30),
       st.floats(0.5, 1.5), st.sampled_from(["adl", "socialised", "backstop_vault"]))
def test_any_book_over_two_rounds(net, rows, move, rule_a):
    """Forced closes are the liquidated notional (longs sold, shorts bought); named accounts are never worth
    less than 0; liquidated rows close with their margin; ADL'd rows only shrink; a second round at the same
    marks liquidates no closed row again, and every venue conserves its deficit."""
    frames = net.frames()
    frames["positions"] = pd.DataFrame([
        {"id": f"P{i}", "venue": v, "account": a, "market": "BTC", "side": s, "size": q, "entry_price": 1e5,
         "margin": q * 1e5 / lev, "margin_asset": "USDC", "margin_mode": mode,
         "as_of": "2025-10-10", "source": "test", "flag": "estimate", "note": "x"}
        for i, (v, a, mode, s, q, lev) in enumerate(rows)])
    frames["venues"].loc[0, ["adl_rule", "backstop_vault_usd"]] = [rule_a, 2e5]
    n = Network.from_frames(**frames)
    r, p1, rules = _round(n, 1e5 * move)
    b0, b1 = position_book(n, rules).book, r.book.book
    liquidated = r.settlement.liquidated[0]
    assert r.sales_usd[0] == pytest.approx(float((np.where(liquidated, b0.size, 0.0) * p1[0]).sum()))
    assert (r.account_value_usd >= 0).all()
    assert (b1.size[liquidated] == 0).all() and (b1.margin[liquidated] == 0).all()
    assert (np.abs(b1.size) <= np.abs(b0.size) + 1e-12).all() and (b1.size * b0.size >= 0).all()
    assert (np.abs(b1.size[~liquidated & (r.settlement.adl[0] + r.settlement.socialised[0] == 0)])
            == np.abs(b0.size[~liquidated & (r.settlement.adl[0] + r.settlement.socialised[0] == 0)])).all()
    again, _, _ = _round(n, p1[0], pb=r.book, previous=p1, fund=r.insurance_after, vault=r.backstop_after)
    assert not (again.settlement.liquidated[0] & liquidated).any()
    for t in (r.table, again.table):
        parts = t[["backstop_usd", "insurance_draw_usd", "adl_usd", "socialised_usd", "uncovered_usd"]].sum(axis=1)
        np.testing.assert_allclose(parts, t["deficit_usd"], rtol=1e-9, atol=1e-6)
