"""Liquidators take only what they can sell at a profit (core.engine.liquidate.liquidator_limit); a bid queue
(Anchor) fills its close factor whatever the gap.

The limit is the size whose sale, at the square-root impact the engine then applies
(core.engine.sell.sale_impact), leaves the bonus just covering the gap between oracle and market: checked by
worked numbers, by selling the limit through the engine's own impact, and for continuity and monotonicity in
the gap (it goes to 0 at break-even instead of jumping from the whole close factor to nothing).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.engine import compile_network
from core.engine.liquidate import liquidate_cohorts, liquidator_limit
from core.engine.sell import sale_impact
from core.mechanisms import lending
from core.mechanisms.bid_queue import anchor_mean_repaid_share, bid_queue_bonus
from invariants_support import network

NET = network("shipped")
C = compile_network(NET)
IDS = list(NET.cohorts["id"])
SYMS = list(NET.assets["symbol"])
COMP = IDS.index("COMP.ETH-USDC.hf1.02")  # ETH against USDC, Compound v2, incentive 8%
ANCHOR = IDS.index("ANCHOR.bLUNA-UST.hf1.02")  # bLUNA (sold as LUNA) against UST, filled by Anchor's bid queue
WBTC = IDS.index("AAVE_ETH.WBTC-USDC.hf1.02")  # wrapped: sold as BTC
STETH = IDS.index("AAVE_ETH.stETH-ETH.hf1.02")  # priced by the Curve pool: no order-book impact
ETH, LUNA, BTC = SYMS.index("ETH"), SYMS.index("LUNA"), SYMS.index("BTC")


def sold_token(cohort: int) -> int:
    """The token whose order book a cohort's collateral moves (WBTC is sold as BTC)."""
    return BTC if cohort == WBTC else int(C.c_ca[cohort])


def limit(premium: float | np.ndarray, cohort: int = COMP, sold: float = 0.0, liquidity: float = 1.0,
          lag: int = 2) -> np.ndarray:
    """The limit of ``cohort`` (units of its collateral) with the oracle's collateral price ``premium`` x the
    market's, all other prices at reference, ``sold`` reference-USD of the sold token already sold."""
    prem = np.atleast_1d(np.asarray(premium, float))
    S = len(prem)
    P = np.repeat(C.P0[None], S, 0)
    Po = P.copy()
    Po[:, C.c_ca[cohort]] *= prem
    Q = np.zeros((S, C.k))
    Q[:, sold_token(cohort)] = sold
    bonus = np.repeat(C.c_bonus[None], S, 0)
    out = liquidator_limit(C, P, Po, bonus, Q, np.repeat(C.supply[None], S, 0), np.full(S, liquidity),
                           np.full(S, lag))
    return out[:, cohort]


def test_worked_numbers_compound():
    # ETH: sigma 4%, V $15bn, P0 $2,750; the oracle 5% above the market: L = ln(1.08 / 1.05) = 0.028171
    L = math.log(1.08 / 1.05)
    k = 0.04 / math.sqrt(15e9)
    assert limit(1.05)[0] == pytest.approx((L / k) ** 2 / 2750.0, rel=1e-12)  # $7.44bn of ETH, 2.71M units
    assert limit(1.05)[0] == pytest.approx(2.7054e6, rel=1e-4)
    # after $10bn already sold: (L/k)(2 sqrt(Q) + L/k), and half the liquidity: a quarter... of (L/k)^2 each
    Q = 1e10
    assert limit(1.05, sold=Q)[0] == pytest.approx((L / k) * (2 * math.sqrt(Q) + L / k) / 2750.0, rel=1e-12)
    k2 = 0.04 / math.sqrt(0.5 * 15e9)
    assert limit(1.05, liquidity=0.5)[0] == pytest.approx((L / k2) ** 2 / 2750.0, rel=1e-12)


def test_no_limit_on_a_bid_queue():
    """Anchor's liquidation queue fills committed bids at the oracle's price whatever the market: no liquidator
    weighs the trade, so its cohorts have no limit at any gap (monotone-shipped-luna-liquidators-withdraw)."""
    for prem in (0.9, 1.05, 1.08, 1.2, 2.0):
        assert np.isinf(limit(prem, ANCHOR)[0])
    assert limit(1.2)[0] == 0.0  # a close-factor cohort at the same gap: liquidators stand aside


@pytest.mark.parametrize("cohort,sold", [(COMP, 0.0), (COMP, 3e9), (COMP, -2e9), (WBTC, 0.0), (WBTC, 5e9)])
@pytest.mark.parametrize("premium", [0.9, 1.0, 1.03, 1.07])
def test_selling_the_limit_moves_the_price_by_the_bonus_net_of_the_gap(cohort, sold, premium):
    """Sold through the engine's own impact, the limit lowers the log price by exactly L > 0: the trade breaks
    even."""
    units = limit(premium, cohort, sold)
    a = C.c_ca[cohort]
    t = sold_token(cohort)
    Q = np.zeros((1, C.k))
    Q[0, t] = sold
    u = np.zeros((1, C.k))
    u[0, a] = units[0]
    impact, _ = sale_impact(C, C.supply[None], Q, u, np.ones(1))
    L = max(math.log((1 + C.c_bonus[cohort]) / premium), 0.0)  # a losing trade: nothing sold
    assert impact[0, t] == pytest.approx(L, rel=1e-9, abs=1e-15)


def test_no_limit_where_no_book_impact_or_no_lag():
    assert np.isinf(limit(1.05, STETH)[0])  # priced by its pool: all or nothing, as before
    assert limit(1.2, STETH)[0] == 0.0  # 1.075 / 1.2: losing
    assert np.isinf(limit(1.05, lag=0)[0]) and np.isinf(limit(1.2, lag=0)[0])  # no lag: no stand-aside rule
    assert limit(1.08)[0] == 0.0  # exactly at break-even: nothing
    assert limit(1.2)[0] == 0.0


@settings(max_examples=200, deadline=None, database=None)
@given(st.floats(0.8, 1.1), st.floats(0.0, 2e9), st.floats(0.3, 1.5))
def test_limit_continuous_and_non_increasing_in_the_gap(premium, sold, liquidity):
    eps = 1e-9
    lo, hi = limit(np.array([premium, premium + eps]), sold=sold, liquidity=liquidity)
    assert hi <= lo
    # continuous: a gap wider by 1e-9 moves the limit by a bounded amount, and near break-even the limit is small
    k = 0.04 / math.sqrt(liquidity * 15e9)
    slope = 2 * (math.sqrt(sold) + math.log(1.08 / 0.8) / k) / k / 2750.0 / 0.8  # dq*/dL x |dL/dpremium| bound
    assert lo - hi <= slope * eps * 1.01 + 1e-6
    near = limit(1.08 * (1 - 1e-9), sold=sold, liquidity=liquidity)[0]
    assert near <= 2 * (math.sqrt(sold) + 1e-8 / k) * 1e-9 / k / 2750.0 * 1.01 + 1e-6


def _seized(premium: np.ndarray, cohort: int = COMP) -> np.ndarray:
    """Collateral liquidators seize from ``cohort`` (HF 0.83 at reference prices) for each oracle premium on its
    collateral (up to 1.2: under water at every one), with no capacity limit."""
    S = len(premium)
    P = np.repeat(C.P0[None], S, 0)
    Po = P.copy()
    Po[:, C.c_ca[cohort]] *= premium
    coll = np.repeat(C.c_coll[None], S, 0)
    debt = coll * C.P0[C.c_ca] * C.c_lt[None] / C.P0[C.c_da] * 1.2  # every cohort under water at the oracle
    bonus = np.repeat(C.c_bonus[None], S, 0)
    lim = liquidator_limit(C, P, Po, bonus, np.zeros((S, C.k)), np.repeat(C.supply[None], S, 0), np.ones(S),
                           np.full(S, 2))
    res = liquidate_cohorts(C, coll, debt, Po, np.repeat(C.c_lt[None], S, 0), bonus,
                            np.repeat(np.asarray(C.c_cf, float)[None], S, 0), np.full(S, np.inf),
                            np.zeros(S, bool), lim)
    return res.collateral_seized[:, cohort]


def test_liquidated_amount_goes_to_zero_continuously_at_break_even():
    prem = 1.08 * (1 + np.array([-0.05, -1e-3, -1e-6, -1e-9, 0.0, 1e-9, 0.05]))
    seized = _seized(prem)
    assert (np.diff(seized) <= 0).all()
    assert seized[-3:].tolist() == [0.0, 0.0, 0.0]
    assert 0.0 < seized[3] < 1.0  # a billionth from break-even: under a unit of ETH (the rule took half of it)
    debt_usd = C.c_coll[COMP] * 2750.0 * 0.825 * 1.2
    assert seized[0] == pytest.approx(0.5 * debt_usd * 1.08 / (2750.0 * prem[0]), rel=1e-9)  # close factor binds


def test_a_bid_queue_fills_its_close_factor_at_every_gap():
    """Anchor's queue takes the contract's amount at the oracle's price (session 39: ``query_liquidation_amount``,
    the share d (1 - 0.8 h) / (d - 0.8 m) of the debt at each position's HF h, d = 0.92 x 0.98, m = 0.6: 67.6 % to
    51.8 % at the cohort's HF here; was the data's close factor 0.5), losing trade or not, of the share of the cohort's positions below
    HF 1: HF
    ``premium / 1.2`` at the oracle, its positions' HF spread +-w about it (core.mechanisms.cohort_spread; w =
    1 - 1/1.02 for this hf1.02 cohort), all of them below 1 up to a premium of 1.2 x (1 - w), 75.8% at 1.188. The
    queue buys at the oracle's price less its 8% slot and its 1% bid and 1% liquidator fees: a unit repays
    77 x premium x 0.92 x 0.98 (core.mechanisms.bid_queue; session 34 (anchorfee), was x 0.99 with the bid fee
    alone; session 30, was 77 x premium / 1.08)."""
    prem = 1.08 * (1 + np.array([-0.05, 0.0, 0.05, 0.1]))  # up to 1.188: due at the oracle at each
    seized = _seized(prem, ANCHOR)
    debt_usd = C.c_coll[ANCHOR] * 77.0 * 0.6 * 1.2
    w = C.c_spread[ANCHOR]
    assert w == pytest.approx(1 - 1 / 1.02, rel=1e-6)
    share = np.clip((1.2 / prem - (1 - w)) / (2 * w), 0.0, 1.0)
    assert share[:3].tolist() == [1.0, 1.0, 1.0] and share[3] == pytest.approx(0.758, abs=1e-3)
    # session 40 (anchor): the mean over the positions below HF 1, each at its own HF (anchor_mean_repaid_share); where
    # all of them are below 1 (the first three) the share is linear in HF and the mean is the aggregate's; at 1.188,
    # 75.8 % below, their mean HF is below the aggregate: 221,706 -> 225,719 LUNA-worth seized (+1.81 %)
    queue_share = anchor_mean_repaid_share(prem / 1.2, w, 0.6, 1 / (1 + bid_queue_bonus(0.08)))
    np.testing.assert_allclose(seized, queue_share * share * debt_usd / (77.0 * prem * 0.92 * 0.98), rtol=1e-9)


@settings(max_examples=100, deadline=None, database=None)
@given(st.floats(0.9, 1.19))
def test_liquidated_amount_continuous_and_non_increasing_in_the_gap(premium):
    seized = _seized(np.array([premium, premium * (1 + 1e-9)]))
    assert seized[1] <= seized[0]
    k = 0.04 / math.sqrt(15e9)
    # dq*/dL = 2 L / k^2 (nothing sold before), in ETH at $2,750, with L <= ln(1.08 / 0.9) and dL = 1e-9
    assert seized[0] - seized[1] <= 2 * math.log(1.08 / 0.9) / k**2 / 2750.0 * 1e-9 * 1.01


def test_max_seize_in_the_close_factor_rule():
    r = lending.liquidate_aave(100.0, 85.0, 1.0, 1.0, 0.8, 0.05, max_seize=10.0)
    assert float(r.collateral_seized) == pytest.approx(10.0)
    assert float(r.debt_repaid) == pytest.approx(10.0 / 1.05)
    assert float(r.bad_debt) == 0.0 and float(r.collateral_after) == pytest.approx(90.0)
    # a toxic position cut short keeps its collateral and books no bad debt yet (in thousands: $50,000 left, above
    # the dust floor, core.mechanisms.lender_fees.dust_written_off)
    r = lending.liquidate_aave(100e3, 98e3, 1.0, 1.0, 0.8, 0.05, max_seize=50e3)
    assert float(r.bad_debt) == 0.0 and float(r.collateral_after) == pytest.approx(50e3)
    assert float(r.debt_after) == pytest.approx(98e3 - 50e3 / 1.05)
    # a limit above what the rule takes changes nothing
    a = lending.liquidate_aave(100.0, 98.0, 1.0, 1.0, 0.8, 0.05, max_seize=np.inf)
    b = lending.liquidate_aave(100.0, 98.0, 1.0, 1.0, 0.8, 0.05)
    assert float(a.bad_debt) == float(b.bad_debt) and float(a.collateral_seized) == float(b.collateral_seized)


def test_the_rules_given_the_due_test_equal_the_rules_computing_it():
    """The liquidation step hands liquidate_cohorts the due test it made (``below``, core.engine.due.cohorts_due) and
    the debt prices; the rules then drop the cohorts liquidators stand aside from (limit 0) from it instead of
    testing their debt at 0: the same result to the last bit, with cohorts standing aside, due or not."""
    from core.engine.books import debt_price
    from core.engine.due import cohorts_due

    prem = 1.08 * (1 + np.array([-0.05, -1e-9, 0.0, 0.05]))  # from a paying trade to one liquidators stand aside from
    S = len(prem)
    P = np.repeat(C.P0[None], S, 0)
    Po = P.copy()
    Po[:, C.c_ca[COMP]] *= prem
    coll = np.repeat(C.c_coll[None], S, 0)
    debt = coll * C.P0[C.c_ca] * C.c_lt[None] / C.P0[C.c_da] * np.array([1.2, 0.9])[np.arange(len(C.c_coll)) % 2][None]
    bonus, lt = np.repeat(C.c_bonus[None], S, 0), np.repeat(C.c_lt[None], S, 0)
    cf = np.repeat(np.asarray(C.c_cf, float)[None], S, 0)
    lim = liquidator_limit(C, P, Po, bonus, np.zeros((S, C.k)), np.repeat(C.supply[None], S, 0), np.ones(S),
                           np.full(S, 2))
    assert (lim == 0).any()  # some cohorts stood aside from
    args = (C, coll, debt, Po, lt, bonus, cf, np.full(S, np.inf), np.zeros(S, bool), lim)
    below = cohorts_due(C, coll, debt, Po, lt, spread=np.zeros_like(coll))
    assert below.any() and not below.all()
    computed = liquidate_cohorts(*args)
    given_due = liquidate_cohorts(*args, Pd=debt_price(C, Po), below=below)
    for f in computed.__dataclass_fields__:
        assert np.ascontiguousarray(getattr(given_due, f)).tobytes() == np.ascontiguousarray(getattr(computed, f)).tobytes(), f
