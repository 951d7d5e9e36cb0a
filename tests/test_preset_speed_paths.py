"""The single-scenario shortcuts give the same numbers to the last bit as the general computations they stand
for: the Illinois bracket of one element on Python floats (core.mechanisms.root_bracket), the share of a cohort
below a threshold without nan_to_num (core.mechanisms.cohort_spread), np.broadcast_shapes without its cost on one
shape (core.mechanisms._checks.broadcast_shape), and the per-network constants and cohort views kept with a
compiled network (core.engine.memo, core.engine.limits.Cohorts.of)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import core
from core.engine import compile_network, simulate_batch
from core.engine.limits import Cohorts, VIEWS_KEPT
from core.mechanisms import amm
from core.mechanisms._checks import broadcast_shape
from core.mechanisms.cohort_spread import share_below
from core.mechanisms.lst_arbitrage import underlying_to_reach_price
from core.mechanisms.lst_holdings import held_arbitrage
from core.mechanisms.root_bracket import illinois
from core.scenario import Scenario


def _bits(a) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(a, dtype=float)).view(np.int64)


# ---- the Illinois bracket: one element on floats against the array path (a batch of two, the element first)

def _cubic(target):
    return lambda x: x * x * x + x - target


@settings(max_examples=200, deadline=None)
@given(target=st.floats(-1e6, 1e6), lo=st.floats(-200.0, -1e-3), hi=st.floats(1e-3, 200.0),
       other=st.floats(-50.0, 50.0), iterations=st.integers(0, 60))
def test_illinois_one_element_is_the_array_path(target, lo, hi, other, iterations):
    fun = _cubic(np.array(target))
    f_lo, f_hi = fun(np.array([lo])), fun(np.array([hi]))
    done = np.array([not (f_lo[0] <= 0.0 <= f_hi[0])])
    one = illinois(fun, np.array([lo]), np.array([hi]), f_lo, f_hi, done, iterations)
    # the array path on two elements (each element's answer its own): the same target, a second bracket
    fun2 = _cubic(np.array([target, other]))
    lo2, hi2 = np.array([lo, lo]), np.array([hi, hi])
    g_lo, g_hi = fun2(lo2), fun2(hi2)
    done2 = ~((g_lo <= 0.0) & (0.0 <= g_hi))
    two = illinois(fun2, lo2, hi2, g_lo, g_hi, done2, iterations)
    assert _bits(one[0])[0] == _bits(two[0])[0] and _bits(one[1])[0] == _bits(two[1])[0]


@settings(max_examples=60, deadline=None)
@given(sold=st.floats(0.0, 300e3), target=st.floats(0.5, 0.999), capacity=st.floats(0.0, 100e3),
       held=st.floats(0.0, 50e3))
def test_liquid_staking_arbitrage_one_pool_is_its_batch_row(sold, target, capacity, held):
    """The arbitrage of one pool (the floats' path) equals its row of a batch of two (the arrays' path)."""
    x0 = np.array([491e3, 111e3])
    x = amm.stableswap_swap(x0, 30.0, 0, 1, sold).balances if sold > 0 else x0.copy()
    g = 0.9455 / 0.935 - 1
    one = held_arbitrage(x0, x, 30.0, 0.9455, target, capacity, g, held=held)
    two = held_arbitrage(np.stack([x0, x0]), np.stack([x, x0]), 30.0, 0.9455, np.array([target, 0.94]),
                         np.array([capacity, 20e3]), g, held=np.array([held, 0.0]))
    for a, b in zip(one, two):
        assert np.array_equal(_bits(a).ravel(), _bits(np.asarray(b)[0]).ravel())
    lift_one = underlying_to_reach_price(x, 30.0, target)
    lift_two = underlying_to_reach_price(np.stack([x, x0]), 30.0, np.array([target, 0.99]))
    assert _bits(lift_one).ravel().tolist() == _bits(lift_two[:1]).ravel().tolist()


@settings(max_examples=200, deadline=None)
@given(x0=st.floats(1e-6, 1e12), x1=st.floats(1e-6, 1e12), A=st.floats(0.05, 5000.0))
def test_invariant_start_of_one_pool_is_its_batch_row(x0, x1, A):
    """cardano_two of one pool (floats, numpy's cube and cube roots on one element) is its row of two pools'."""
    from core.mechanisms import _stableswap_floats as ssf
    one = np.array([[x0, x1]])
    two = np.array([[x0, x1], [x1 + 1.0, x0 * 2.0]])
    ann1, ann2 = np.array([4.0 * A]), np.array([4.0 * A, 4.0 * A])
    d1 = ssf.cardano_two(one, ann1, one.sum(-1))
    d2 = ssf.cardano_two(two, ann2, two.sum(-1))
    assert _bits(d1)[0] == _bits(d2)[0]
    assert _bits(amm.stableswap_price(one, A, 0, 1))[0] == _bits(amm.stableswap_price(two, A, 0, 1))[0]


# ---- share_below against the formula it replaces

def _share_below_before(cvlt, dv, threshold, spread, inclusive=False):
    w = np.asarray(spread, dtype=float)
    step = (cvlt <= threshold * dv) if inclusive else (cvlt < threshold * dv)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s = (threshold * dv - (1.0 - w) * cvlt) / (2.0 * w * cvlt)
    s = np.clip(np.nan_to_num(s, nan=1.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
    return np.where(w > 0, np.where(dv > 0, s, 0.0), step.astype(float))


_edge = st.sampled_from([0.0, -0.0, 1e-308, 5e-324, 1e308, np.inf, 1.0, 0.95])


@settings(max_examples=300, deadline=None)
@given(cvlt=st.lists(st.one_of(st.floats(0.0, 1e12), _edge), min_size=1, max_size=8),
       dv=st.lists(st.one_of(st.floats(0.0, 1e12), _edge), min_size=8, max_size=8),
       w=st.lists(st.one_of(st.floats(0.0, 0.05), st.sampled_from([0.0, -0.0, 0.05])), min_size=8, max_size=8),
       threshold=st.sampled_from([1.0, 0.95]), inclusive=st.booleans())
def test_share_below_is_the_nan_to_num_formula(cvlt, dv, w, threshold, inclusive):
    k = len(cvlt)
    c, d, s = np.array(cvlt), np.array(dv[:k]), np.array(w[:k])
    assert np.array_equal(_bits(share_below(c, d, threshold, s, inclusive)),
                          _bits(_share_below_before(c, d, threshold, s, inclusive)))


@pytest.mark.parametrize("shapes", [((), ()), ((3,), ()), ((), (2, 3), (2, 3)), ((2, 3), (1, 3)), ((2, 1), (1, 4), ()),
                                    ((4,), (4,), (4,)), ((0,), ()), ((1,), (5,))])
def test_broadcast_shape_is_numpy(shapes):
    assert broadcast_shape(*shapes) == np.broadcast_shapes(*shapes)


def test_broadcast_shape_rejects_what_numpy_rejects():
    with pytest.raises(ValueError):
        broadcast_shape((2,), (3,))


# ---- per-network constants and cohort views

def test_cohort_views_are_kept_and_bounded():
    c = compile_network(core.datasets.load("crypto-2022-05"))
    cols = np.array([0, 2, 5])
    view = Cohorts.of(c, cols)
    assert Cohorts.of(c, cols.copy()) is view
    assert np.array_equal(view.c_ca, c.c_ca[cols]) and view.P0 is c.P0
    for i in range(VIEWS_KEPT + 1):
        Cohorts.of(c, np.array([i % len(c.c_ca), (i // len(c.c_ca)) % len(c.c_ca)]))
    assert len(c.__dict__["cohort_views"]) <= VIEWS_KEPT


def test_kept_constants_change_no_bit_between_runs():
    """A run on a fresh compiled network (constants built) and again on the same one (constants read back)."""
    net = core.datasets.load("crypto-2022-05")
    sc = Scenario(price_shocks={"ETH": -0.43, "stETH": -0.5, "FTT": -0.6}, oracle_lag=1, liquidity=0.2,
                  liquidator_capacity_usd=3e8, run_intensity=0.5, horizon=10)
    c = compile_network(net)
    fields = set(c.__dataclass_fields__)
    for key in [k for k in c.__dict__ if k not in fields]:  # constants kept by earlier runs: built afresh
        del c.__dict__[key]
    first = simulate_batch(net, [sc])  # the cached compiled network, c
    assert "limit_tokens" in c.__dict__
    again = simulate_batch(net, [sc])
    for f in ("equity", "loss", "defaulted", "bad_debt", "prices", "liquidated_usd", "total_loss"):
        assert np.array_equal(np.asarray(getattr(first, f)), np.asarray(getattr(again, f)), equal_nan=True), f
