"""Tests for core.mechanisms.firesales (CFS / GLT fire-sale spiral)."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from core.mechanisms.firesales import exponential_impact, fire_sale_equilibrium, linear_impact

SETTINGS = settings(max_examples=50, deadline=None, database=None)


def _tv14(alpha, **kw):
    return fire_sale_equilibrium([[100.0]], [1.0], liabilities=96.0, min_equity_ratio=0.05, alpha=alpha, **kw)


def test_tv14_default_path():
    r = _tv14(0.001, record_path=True)
    path = r.path[:, 0]
    # network-models.md TV14: 1 -> 0.980199 -> 0.942909 -> 0.904837 = exp(-0.1).
    # Exact second iterate: s = 100 - (100 p1 - 96)/(0.05 p1) = 58.78657, p2 = exp(-0.05878657)
    # = 0.9429080 (the note rounds it to 0.942909).
    np.testing.assert_allclose(path[:4], [1.0, 0.980199, 0.942909, 0.904837], atol=1.5e-6)
    assert path[2] == pytest.approx(np.exp(-0.001 * (100 - (100 * np.exp(-0.02) - 96) / (0.05 * np.exp(-0.02)))), rel=1e-14)
    assert r.prices[0] == pytest.approx(np.exp(-0.1), rel=1e-15)
    assert r.defaulted[0] and r.sale_fraction[0] == 1.0 and r.converged
    assert r.equity[0] == pytest.approx(100 * np.exp(-0.1) - 96)


def test_tv14_no_default_fixed_point():
    r = _tv14(0.0002)
    assert r.prices[0] == pytest.approx(0.9935143917, abs=1e-10)
    assert r.sold_units[0] == pytest.approx(32.5337, abs=1e-4)
    assert r.equity[0] == pytest.approx(3.3514, abs=1e-4)
    assert not r.defaulted[0] and r.converged
    # it is a fixed point of p = exp(-alpha s(p))
    p = r.prices[0]
    assert p == pytest.approx(np.exp(-0.0002 * (100 - (100 * p - 96) / (0.05 * p))), rel=1e-12)


def test_glt_one_round_by_hand():
    # Bank A: 100 units of asset 1; bank B: 50 + 50. Liabilities 90 each, r = 0.1 (leverage 10).
    # Post-shock prices (0.98, 1.00).
    # A: V = 98, E = 8, f = 1 - 8/9.8 = 0.183673 -> sells 18.3673 of asset 1
    # B: V = 99, E = 9, f = 1 - 9/9.9 = 0.090909 -> sells 4.54545 of each
    # linear impact alpha = (0.001, 0.002): p1 = 0.98 (1 - 0.001*22.9128) = 0.957545,
    #                                        p2 = 1.00 (1 - 0.002*4.54545) = 0.990909
    H = np.array([[100.0, 0.0], [50.0, 50.0]])
    r = fire_sale_equilibrium(H, [0.98, 1.0], liabilities=90.0, min_equity_ratio=0.1,
                              impact="linear", alpha=[0.001, 0.002], max_iter=1, record_path=True)
    fA, fB = 1 - 8 / 9.8, 1 - 9 / 9.9
    s1, s2 = 100 * fA + 50 * fB, 50 * fB
    np.testing.assert_allclose(r.path[1], [0.98 * (1 - 0.001 * s1), 1 - 0.002 * s2], rtol=1e-14)
    np.testing.assert_allclose(r.path[1], [0.957545, 0.990909], atol=1e-6)
    assert not r.converged
    # full spiral: a fixed point, lower than one round
    full = fire_sale_equilibrium(H, [0.98, 1.0], liabilities=90.0, min_equity_ratio=0.1,
                                 impact="linear", alpha=[0.001, 0.002])
    assert full.converged and np.all(full.prices <= r.path[1])
    law = linear_impact(np.array([0.001, 0.002]))
    np.testing.assert_allclose(law(full.sold_units[None], np.array([[0.98, 1.0]]))[0], full.prices, rtol=1e-10)
    np.testing.assert_allclose(full.mtm_loss, H @ (np.array([0.98, 1.0]) - full.prices))


def test_forced_sales_and_unconstrained_holders():
    # an unlevered holder (r = 0) never sells but takes the mark-to-market loss
    H = np.array([[10.0, 0.0], [0.0, 10.0]])
    r = fire_sale_equilibrium(H, [1.0, 2.0], forced_sales=[5.0, 0.0], alpha=0.01)
    np.testing.assert_allclose(r.prices, [np.exp(-0.05), 2.0])
    np.testing.assert_allclose(r.mtm_loss, [10 * (1 - np.exp(-0.05)), 0.0])
    assert np.all(r.sale_fraction == 0)


def test_sparse_equals_dense_and_batched_equals_single():
    rng = np.random.default_rng(0)
    dense = rng.random((30, 6)) * (rng.random((30, 6)) < 0.3) * 100
    V0 = dense.sum(axis=1)
    L = 0.92 * V0
    P = np.array([[1.0] * 6, [0.97] * 6, [0.9] * 6])
    kw = dict(liabilities=L, min_equity_ratio=0.05, alpha=np.full(6, 1e-3))
    batch = fire_sale_equilibrium(dense, P, **kw)
    spb = fire_sale_equilibrium(sp.csr_matrix(dense), P, **kw)
    np.testing.assert_allclose(spb.prices, batch.prices, rtol=1e-12)
    for s in range(3):
        one = fire_sale_equilibrium(dense, P[s], **kw)
        np.testing.assert_allclose(one.prices, batch.prices[s], rtol=1e-12)
        np.testing.assert_array_equal(one.defaulted, batch.defaulted[s])
    # deeper shock -> lower prices, more defaults
    assert np.all(np.diff(batch.prices, axis=0) <= 1e-12)
    assert np.all(np.diff(batch.defaulted.sum(axis=1)) >= 0)


def test_callable_impact_and_validation():
    r = fire_sale_equilibrium([[100.0]], [1.0], liabilities=96.0, min_equity_ratio=0.05,
                              impact=exponential_impact(0.0002))
    assert r.prices[0] == pytest.approx(0.9935143917, abs=1e-10)
    with pytest.raises(ValueError):
        fire_sale_equilibrium([[-1.0]], [1.0], alpha=0.1)
    with pytest.raises(ValueError):
        fire_sale_equilibrium([[1.0]], [0.0], alpha=0.1)
    with pytest.raises(ValueError):
        fire_sale_equilibrium([[1.0]], [1.0])
    with pytest.raises(ValueError):
        fire_sale_equilibrium([[1.0]], [1.0], alpha=0.1, min_equity_ratio=1.5)
    with pytest.raises(ValueError):
        fire_sale_equilibrium([[1.0, 2.0]], [1.0], alpha=0.1)


@st.composite
def system(draw):
    n, m = draw(st.integers(1, 6)), draw(st.integers(1, 4))
    H = draw(hnp.arrays(np.float64, (n, m), elements=st.floats(0, 100)))
    lev = draw(hnp.arrays(np.float64, n, elements=st.floats(0.0, 1.1)))
    r = draw(hnp.arrays(np.float64, n, elements=st.floats(0.0, 0.3)))
    alpha = draw(hnp.arrays(np.float64, m, elements=st.floats(0, 0.01)))
    shock = draw(st.floats(0.5, 1.0))
    return H, lev * H.sum(axis=1), r, alpha, shock


@SETTINGS
@given(system(), st.sampled_from(["exponential", "linear"]))
def test_spiral_properties(sysm, law):
    H, L, r, alpha, shock = sysm
    p0 = np.ones(H.shape[1])
    kw = dict(liabilities=L, min_equity_ratio=r, alpha=alpha, impact=law)
    a = fire_sale_equilibrium(H, p0, **kw)
    b = fire_sale_equilibrium(H, p0 * shock, **kw)
    assert a.converged and b.converged
    assert np.all(a.prices <= p0 + 1e-15) and np.all(a.prices >= 0)
    assert np.all(a.sold_units <= H.sum(axis=0) * (1 + 1e-12) + 1e-12)     # nobody sells more than held
    assert np.all((a.sale_fraction >= 0) & (a.sale_fraction <= 1))
    assert np.all(a.mtm_loss >= -1e-9)
    # monotone in shock depth
    assert np.all(b.prices <= a.prices + 1e-9)
    assert np.all(b.defaulted >= a.defaulted)
    # deterministic
    c = fire_sale_equilibrium(H, p0, **kw)
    np.testing.assert_array_equal(c.prices, a.prices)
