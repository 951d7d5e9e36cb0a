"""Competing liquidators (core.mechanisms.liquidators): a pool's depth and a round's capital go to the cohorts in
order of their margin, and liquidators of a pool-priced token count the pool's slippage
(core.engine.liquidate.liquidator_limit with ``pool_res``).

Checked by worked numbers, by selling the limit through the pool's own invariant (the trade breaks even), and by
properties of the fill: never more than asked, independent of the cohorts' order, a cohort served only once the
larger margins of its group are, and equal margins sharing pro rata as the rule without priorities did.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from core.engine import compile_network
from core.engine.liquidate import liquidator_limit
from core.mechanisms import amm, lending
from core.mechanisms.liquidators import fill_by_margin
from invariants_support import network

NET = network("shipped")
C = compile_network(NET)
IDS = list(NET.cohorts["id"])
SYMS = list(NET.assets["symbol"])
STETH = IDS.index("AAVE_ETH.stETH-ETH.hf1.02")  # priced by the Curve stETH/ETH pool
ST = SYMS.index("stETH")
POOL = list(C.pool_asset).index(ST)


def pool_limit(premium: float, res: np.ndarray | None = None) -> float:
    """The stETH cohort's limit (units) with the oracle's stETH price ``premium`` x the market's, lag 1."""
    P = C.P0[None].copy()
    Po = P.copy()
    Po[0, ST] *= premium
    pool_res = C.pool_res0[None].copy()
    if res is not None:
        pool_res[0, POOL] = res
    out = liquidator_limit(C, P, Po, C.c_bonus[None], np.zeros((1, C.k)), C.supply[None], np.ones(1), np.ones(1),
                           pool_res=pool_res)
    return float(out[0, STETH])


@pytest.mark.parametrize("premium", [0.98, 1.0, 1.02, 1.06])
@pytest.mark.parametrize("imbalance", [1.0, 1.5])
def test_selling_the_pool_limit_leaves_the_price_at_break_even(premium, imbalance):
    """Swapped fee-less into the pool, the limit lowers stETH's price to exp(-L) times the market's (here its
    reference price): the trade breaks even; nothing where the pool is already below that."""
    res = C.pool_res0[POOL] * np.array([imbalance, 1.0])  # a pool leaning to stETH
    A = C.pool_A[POOL]
    units = pool_limit(premium, res)
    L = math.log((1 + C.c_bonus[STETH]) / premium)
    below = float(amm.stableswap_price(res, A, 0, 1)) <= C.pool_ref[POOL] * math.exp(-L)
    if L <= 0 or below:
        assert units == 0.0
        return
    after = amm.stableswap_swap(res, A, 0, 1, units, fee=0.0).balances
    P_after = C.P0[ST] * float(amm.stableswap_price(after, A, 0, 1)) / C.pool_ref[POOL]
    assert P_after == pytest.approx(C.P0[ST] * math.exp(-L), rel=1e-9)
    assert 0.0 < units < np.inf


def test_pool_limit_falls_with_the_gap():
    lim = [pool_limit(p) for p in (1.0, 1.02, 1.05, 1.08, 1.1)]
    assert all(a > b for a, b in zip(lim, lim[1:-1]))
    assert lim[-1] == 0.0  # 1.075 / 1.1: losing


def test_worked_fill():
    room = np.array([[10.0]])
    out = fill_by_margin(room, np.array([[4.0, 8.0, 2.0, 3.0]]), np.array([[0.05, 0.01, 0.05, 0.0]]),
                         np.zeros(4, int))
    assert out.tolist() == [[4.0, 4.0, 2.0, 0.0]]  # margins 0.05 first (6), then 4 of 8, none left for 0.0
    # two groups (pools) fill apart; equal margins share pro rata
    out = fill_by_margin(np.array([[3.0, 3.0, 5.0]]), np.array([[2.0, 4.0, 9.0]]), np.array([[0.1, 0.1, 0.1]]),
                         np.array([0, 0, 1]))
    assert out[0].tolist() == pytest.approx([1.0, 2.0, 5.0])


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(st.tuples(st.floats(0, 100), st.sampled_from([0.0, 0.01, 0.02, 0.05]), st.integers(0, 1)),
                min_size=1, max_size=8), st.floats(0, 200), st.randoms(use_true_random=False))
# found by a random (dev-profile) run: subnormal demands share a subnormal room pro rata, and the two shares' sum
# passes the room by one unit in the last place (5e-324): a relative tolerance alone underflows to 0 there
@example(rows=[(2.2250738585e-313, 0.01, 0), (2.2250738585e-313, 0.01, 0)], base=2.2250738585e-313,
         rnd=random.Random(0))
def test_fill_properties(rows, base, rnd):
    demand = np.array([[r[0] for r in rows]])
    margin = np.array([[r[1] for r in rows]])
    group = np.array([r[2] for r in rows])
    room = base * (1.0 + 10.0 * margin)  # a larger margin tolerates more of the pool's slippage
    out = fill_by_margin(room, demand, margin, group)
    scale = demand.sum() + room.max()
    tol = 1e-12 * scale + 8 * np.spacing(scale)  # running sums round at their own scale, and by whole units in the
    # last place where that scale is subnormal (its relative precision is then coarser than 1e-12)
    assert (out >= 0).all() and (out <= demand * (1 + 1e-12)).all()
    perm = np.array(rnd.sample(range(len(rows)), len(rows)))
    again = fill_by_margin(room[:, perm], demand[:, perm], margin[:, perm], group[perm])
    assert again == pytest.approx(out[:, perm], rel=1e-12, abs=1e-12)
    for i in range(len(rows)):
        served = (group == group[i]) & (margin[0] >= margin[0, i])
        if out[0, i] > 0:  # what the cohorts of its margin and above took stays within its room
            assert out[0, served].sum() <= room[0, i] + tol
        lower = (group == group[i]) & (margin[0] < margin[0, i])
        if out[0, i] < demand[0, i] - tol:  # not fully served: no smaller margin is served
            assert (out[0, lower] <= tol).all()


def test_capital_by_priority_in_the_close_factor_rule():
    coll = np.array([[100.0, 100.0, 100.0]])
    debt = np.array([[90.0, 90.0, 90.0]])  # HF 0.889: the whole debt may go (Aave's full close)
    bonus = np.array([[0.05, 0.01, 0.05]])
    r = lending.liquidate_aave(coll, debt, 1.0, 1.0, 0.8, bonus, 0.5, 0.95, 150.0, priority=np.log1p(bonus))
    assert r.debt_repaid[0].tolist() == pytest.approx([75.0, 0.0, 75.0])  # the 5% bonuses first, pro rata
    assert r.debt_repaid.sum() == pytest.approx(150.0)
    # equal priorities: as the rule without them (pro rata to the debt repaid)
    same = lending.liquidate_aave(coll, debt, 1.0, 1.0, 0.8, bonus, 0.5, 0.95, 150.0, priority=np.zeros((1, 3)))
    plain = lending.liquidate_aave(coll, debt, 1.0, 1.0, 0.8, bonus, 0.5, 0.95, 150.0)
    assert same.debt_repaid == pytest.approx(plain.debt_repaid, rel=1e-12)
    assert same.collateral_seized == pytest.approx(plain.collateral_seized, rel=1e-12)
    # capital to spare: priorities change nothing
    free = lending.liquidate_aave(coll, debt, 1.0, 1.0, 0.8, bonus, 0.5, 0.95, 1e9, priority=np.log1p(bonus))
    assert free.debt_repaid == pytest.approx(lending.liquidate_aave(coll, debt, 1.0, 1.0, 0.8, bonus).debt_repaid)


@settings(max_examples=150, deadline=None, database=None)
@given(st.lists(st.tuples(st.floats(0, 100), st.sampled_from([0.0, -0.0, 0.01, 0.05, np.nan]), st.integers(0, 2)),
                min_size=0, max_size=10), st.integers(1, 3), st.floats(0, 200), st.booleans())
def test_fill_in_its_own_order_equals_the_sorted_fill(rows, S, base, presort):
    """Cohorts already in the fill's order (group, then decreasing margin) skip the sort and its gathers: the same
    bits as the sort (which is stable, so it leaves them in place), ties and signed zeros included; NaN margins
    and rows out of order take the sort."""
    from core.mechanisms import liquidators

    if presort:  # in the fill's order: group ascending, margin descending (a NaN margin puts the row out of it)
        rows = sorted(rows, key=lambda r: (r[2], -r[1] if r[1] == r[1] else math.inf))
    m = len(rows)
    demand = np.array([[r[0] for r in rows]] * S).reshape(S, m) * np.arange(1, S + 1)[:, None]
    margin = np.array([[r[1] for r in rows]] * S).reshape(S, m)
    group = np.array([r[2] for r in rows], dtype=int)
    room = base * (1.0 + 10.0 * np.nan_to_num(margin)) * np.arange(S, 0, -1)[:, None]
    got = fill_by_margin(room, demand, margin, group)
    saved = liquidators._sorted_already
    liquidators._sorted_already = lambda *keys: False  # the sort, always
    try:
        sorted_fill = fill_by_margin(room, demand, margin, group)
    finally:
        liquidators._sorted_already = saved
    assert got.shape == sorted_fill.shape == (S, m)
    assert np.ascontiguousarray(got).tobytes() == np.ascontiguousarray(sorted_fill).tobytes()


def test_a_cohort_asking_nothing_at_a_tie_s_start_leaves_the_fill_to_the_bit():
    """Worked numbers: one pool, room 0.25 for the two cohorts of margin 1% (and ample for the 5% one, served
    first), demands 0.1 (5%) and 0.4 (1%), and a third cohort at 1% asking nothing, sorted first of the 1% tie.
    The 1% cohort gets what the 5% one leaves, 0.25 - 0.1 = 0.15, with the idle cohort beside it or not. The fill
    read the demand before a tie as ``cumsum - demand`` at its first cohort: 0.1 with the idle cohort first, and
    ``(0.1 + 0.4) - 0.4 = 0.09999999999999998`` without it, so the cohort got 0.15 beside the idle cohort and
    0.15000000000000002 without it (the liquidation step weighs a row's limit on the batch's due cohorts only,
    a set its batch-mates widen: session 44, batchdep). It reads the running sum at the cohort before: 0.1 in
    both, 0.15 in both."""
    assert (0.1 + 0.4) - 0.4 == 0.09999999999999998  # the rounding the fill no longer meets
    room = np.array([[10.0, 0.25, 0.25]])
    with_idle = fill_by_margin(room, np.array([[0.1, 0.0, 0.4]]), np.array([[0.05, 0.01, 0.01]]), np.zeros(3, int))
    without = fill_by_margin(room[:, [0, 2]], np.array([[0.1, 0.4]]), np.array([[0.05, 0.01]]), np.zeros(2, int))
    assert with_idle[0].tolist() == [0.1, 0.0, 0.15]
    assert with_idle[:, [0, 2]].tobytes() == without.tobytes()


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(st.tuples(st.floats(0, 1e9, allow_subnormal=False), st.sampled_from([0.0, 0.01, 0.02, 0.05, 0.3]),
                          st.integers(0, 2), st.floats(0, 2e9)), min_size=1, max_size=8),
       st.lists(st.tuples(st.sampled_from([0.0, 0.01, 0.02, 0.05, 0.3]), st.integers(0, 2), st.floats(0, 2e9),
                          st.integers(0, 16)), min_size=1, max_size=8),
       st.integers(1, 3))
def test_cohorts_asking_nothing_leave_every_other_cohort_s_fill_to_the_bit(asking, idle, S):
    """Cohorts asking nothing, of any margin and pool, put anywhere among the others: every other cohort's fill
    the same to the last bit (the liquidation step fills a pool's cohorts due in the batch's rows only, or every
    cohort: a row's cohorts not due ask nothing, and its figures must not depend on which its batch-mates make
    due; core.engine.liquidate.SKIP_IDLE_COHORTS). Rows scale the demands (a cohort asking in one row asks in
    every row here)."""
    scale = np.arange(1, S + 1)[:, None] * 1.0
    demand = np.array([[a[0] for a in asking]]) * scale
    margin = np.broadcast_to(np.array([[a[1] for a in asking]]), demand.shape)
    group = np.array([a[2] for a in asking])
    room = np.array([[a[3] for a in asking]]) / scale
    alone = fill_by_margin(room, demand, margin, group)
    cols = list(range(len(asking)))
    d, m, g, r = demand.copy(), margin.copy(), group.copy(), room.copy()
    for mg, grp, rm, at in idle:  # insert each idle cohort at a position among the others
        at = at % (len(cols) + 1)
        cols.insert(at, -1)
        d = np.insert(d, at, 0.0, axis=1)
        m = np.insert(m, at, mg, axis=1)
        g = np.insert(g, at, grp)
        r = np.insert(r, at, rm, axis=1)
    beside = fill_by_margin(r, d, m, g)
    kept = [i for i, col in enumerate(cols) if col >= 0]
    assert np.ascontiguousarray(beside[:, kept]).tobytes() == alone.tobytes()
    assert not beside[:, [i for i, col in enumerate(cols) if col < 0]].any()
