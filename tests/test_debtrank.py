"""Tests for core.mechanisms.debtrank (Battiston 2012 single-hit, Bardoscia 2015 differential).

Worked example TV6 and pitfalls 2, 4, 6 of the project's research note on network models (``network-models.md``,
kept beside the project, not in it), after Battiston et al. (2012, Scientific Reports 2:541) and Bardoscia et al.
(2015, PLoS ONE 10(6)).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from core.mechanisms.clearing import exposures_from_liabilities, liabilities_from_edges
from core.mechanisms.debtrank import debtrank, leverage_matrix
from core.mechanisms.fixedpoint import ConvergenceError

# TV6: claims matrix (row holds the claim): a->b 1; b->a 10, b->c 3; c->a 3, c->b 2
A6 = np.array([[0, 1, 0], [10, 0, 3], [3, 2, 0]], dtype=float)
E6 = np.array([2.0, 5.0, 2.0])
W6 = np.array([10.0, 100.0, 30.0]) / 140
VARIANTS = ["differential", "single_hit"]
PROPS = settings(max_examples=50, deadline=None, database=None)


@st.composite
def systems(draw, n_min=2, n_max=7, batched=False):
    n = draw(st.integers(n_min, n_max))
    # Amounts and equities are either zero or at least 1e-3: leverage of 1e200 on a
    # 1e-201 exposure is floating-point noise, not a network.
    amount = st.one_of(st.just(0.0), st.floats(1e-3, 10))
    A = np.array(draw(st.lists(amount, min_size=n * n, max_size=n * n))).reshape(n, n)
    mask = np.array(draw(st.lists(st.booleans(), min_size=n * n, max_size=n * n))).reshape(n, n)
    A = np.where(mask, A, 0.0)
    np.fill_diagonal(A, 0.0)
    E = np.array(draw(st.lists(st.one_of(st.floats(-1, -1e-3), st.just(0.0), st.floats(1e-3, 20)), min_size=n, max_size=n)))
    shape = (draw(st.integers(1, 4)), n) if batched else (n,)
    h0 = np.array(draw(st.lists(st.floats(0, 1), min_size=int(np.prod(shape)),
                                max_size=int(np.prod(shape))))).reshape(shape)
    return A, E, h0


# --------------------------------------------------------------------------- worked example TV6


def test_tv6_leverage_matrix():
    np.testing.assert_allclose(leverage_matrix(A6, E6).toarray(), [[0, 0.5, 0], [2, 0, 0.6], [1.5, 1, 0]])
    assert max(abs(np.linalg.eigvals(leverage_matrix(A6, E6).toarray()))) == pytest.approx(1.387, abs=1e-3)


@pytest.mark.parametrize(
    "variant, k, h, R, add_loss",
    [
        (v, *case)
        for v in VARIANTS
        for case in [(0, [1, 1, 1], 13 / 14, 7.0), (1, [0.5, 1, 1], 0.25, 3.0)]
    ]
    + [
        ("differential", 2, [0.5, 1, 1], 0.75, 6.0),
        # single-hit, shock c: c -> b (0.6) -> a (0.3) -> b capped; a never hears b's later rise
        ("single_hit", 2, [0.3, 1, 1], 103 / 140, 5.6),
    ],
)
def test_tv6(variant, k, h, R, add_loss):
    r = debtrank(A6, E6, np.eye(3)[k], variant=variant, weights=W6)
    np.testing.assert_allclose(r.h, h, rtol=0, atol=1e-12)
    assert r.impact == pytest.approx(R, abs=1e-12)
    assert r.additional_losses.sum() == pytest.approx(add_loss, abs=1e-12)
    assert r.converged


@pytest.mark.parametrize("variant", VARIANTS)
def test_tv6_batched_all_node_shocks(variant):
    r = debtrank(A6, E6, np.eye(3), variant=variant, weights=W6)
    last = (0.75, 6.0) if variant == "differential" else (103 / 140, 5.6)
    np.testing.assert_allclose(r.impact, [13 / 14, 0.25, last[0]], atol=1e-12)
    np.testing.assert_allclose(r.additional_losses.sum(1), [7, 3, last[1]], atol=1e-12)
    assert r.h.shape == (3, 3) and r.impact.shape == (3,)


def test_uncapped_stress_losses_pitfall():
    """Pitfall 4: NRM reports 19.0 / 12.5 / 12.5 from uncapped stress; capped losses are 7 / 3 / 6."""
    r = debtrank(A6, E6, np.eye(3), weights=W6)
    assert (r.losses <= E6 + 1e-12).all()
    assert r.losses.sum(1).tolist() != [19.0, 12.5, 12.5]
    np.testing.assert_allclose(r.losses, r.h * E6)


def test_single_hit_differs_from_differential():
    """A chain where b is hit twice: single-hit propagates b's first distress only."""
    # c lent 4 to b, b lent 1 to a and 1 to d, d lent 1 to ... ; equity 4 each
    A = np.zeros((4, 4))
    A[1, 0] = 2.0   # b exposed to a
    A[1, 3] = 2.0   # b exposed to d
    A[3, 0] = 4.0   # d exposed to a (delay: d hit in round 1, propagates in round 2)
    A[2, 1] = 4.0   # c exposed to b
    E = np.full(4, 4.0)
    h0 = np.array([0.5, 0, 0, 0])
    diff = debtrank(A, E, h0)
    single = debtrank(A, E, h0, variant="single_hit")
    # differential: h_d = 0.5, h_b = 0.25 + 0.25 = 0.5, h_c = 0.5
    np.testing.assert_allclose(diff.h, [0.5, 0.5, 0.5, 0.5])
    # single-hit: b distressed in round 1 (h=0.25) and propagates once -> c gets 0.25 only
    np.testing.assert_allclose(single.h, [0.5, 0.5, 0.25, 0.5])
    assert single.impact < diff.impact


def test_linear_regime_closed_form():
    rng = np.random.default_rng(3)
    n = 30
    A = rng.uniform(0, 1, (n, n)) * (rng.uniform(size=(n, n)) < 0.2)
    np.fill_diagonal(A, 0)
    E = A.sum(1) * 5 + 1                      # spectral radius of Lambda < 0.2
    h0 = rng.uniform(0, 0.05, n)
    r = debtrank(A, E, h0)
    Lam = A / E[:, None]
    np.testing.assert_allclose(r.h, np.linalg.solve(np.eye(n) - Lam, h0), rtol=1e-10)


def test_non_positive_equity_is_fully_distressed():
    A = np.array([[0, 1.0, 0], [2.0, 0, 0], [0, 3.0, 0]])
    E = np.array([0.0, -1.0, 4.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = debtrank(A, E, np.zeros(3))
    np.testing.assert_allclose(r.h0, [1, 1, 0])
    np.testing.assert_allclose(r.h, [1, 1, 0.75])
    np.testing.assert_allclose(r.losses, [0, 0, 3.0])
    # default weights: share of positive equity -> only entity 2 counts
    assert r.impact == pytest.approx(0.75)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tiny = debtrank(A, np.array([1e-320, 1.0, 1.0]), np.array([0, 1e-3, 0]))
    assert np.isfinite(tiny.h).all() and tiny.h[0] == 1.0


def test_orientation_exposures_are_liabilities_transposed():
    """Pitfall 6: TV6 rebuilt from a (debtor, creditor, amount) edge list."""
    # b->a 10 means b lent to a: a is the debtor, b the creditor
    L = liabilities_from_edges([1, 0, 2, 0, 1], [0, 1, 1, 2, 2], [1, 10, 3, 3, 2], 3)
    A = exposures_from_liabilities(L)
    np.testing.assert_array_equal(A.toarray(), A6)
    r = debtrank(A, E6, [1.0, 0, 0], weights=W6)
    assert r.impact == pytest.approx(13 / 14)
    wrong = debtrank(L, E6, [1.0, 0, 0], weights=W6)
    assert wrong.impact != pytest.approx(13 / 14)


def test_default_weights_and_validation():
    r = debtrank(A6, E6, [0, 1.0, 0])
    w = E6 / E6.sum()
    assert r.impact == pytest.approx(w @ (r.h - r.h0))
    with pytest.raises(ValueError, match="shock"):
        debtrank(A6, E6, [0, 1.5, 0])
    with pytest.raises(ValueError, match="NaN"):
        debtrank(A6, E6, [0, np.nan, 0])
    with pytest.raises(ValueError, match="shape"):
        debtrank(A6, E6, [0, 1.0])
    with pytest.raises(ValueError, match="diagonal"):
        debtrank(A6 + np.eye(3), E6, [0, 1.0, 0])
    with pytest.raises(ValueError, match="non-negative"):
        debtrank(-A6, E6, [0, 1.0, 0])
    with pytest.raises(ValueError, match="variant"):
        debtrank(A6, E6, [0, 1.0, 0], variant="linear")
    with pytest.raises(ValueError, match="equity"):
        debtrank(A6, E6[:2], [0, 1.0, 0])


def test_convergence_reported():
    # supercritical 2-cycle kept below the cap would converge; a slow one needs many steps
    A = np.array([[0, 0.999], [0.999, 0]])
    with pytest.warns(RuntimeWarning, match="no convergence"):
        r = debtrank(A, np.ones(2), [1e-3, 0], max_iter=10, exact=False)
    assert not r.converged
    with pytest.raises(ConvergenceError):
        debtrank(A, np.ones(2), [1e-3, 0], max_iter=10, exact=False, on_cap="raise")
    # Picard would need ~28,000 steps; the exact step on the uncapped set finishes it
    r = debtrank(A, np.ones(2), [1e-3, 0])
    assert r.converged and r.iterations == 200
    np.testing.assert_allclose(r.h, np.linalg.solve(np.eye(2) - A, [1e-3, 0]), rtol=1e-10)
    # supercritical: the linear solution would exceed 1, so the exact step must be rejected
    B = np.array([[0, 1.001], [1.001, 0]])
    r = debtrank(B, np.ones(2), [1e-3, 0])
    assert r.converged and (r.h == 1).all()


# --------------------------------------------------------------------------- properties


@PROPS
@given(systems(), st.sampled_from(VARIANTS))
def test_h_in_unit_interval_and_losses_capped(sys_, variant):
    A, E, h0 = sys_
    r = debtrank(A, E, h0, variant=variant)
    assert ((r.h >= 0) & (r.h <= 1)).all()
    assert (r.h >= r.h0 - 1e-15).all()
    assert (r.losses <= np.maximum(E, 0) + 1e-9).all()
    assert r.impact >= -1e-12
    assert r.converged


@PROPS
@given(systems(), st.floats(0, 1), st.sampled_from(VARIANTS))
def test_monotone_in_shock(sys_, u, variant):
    A, E, h0 = sys_
    hi = debtrank(A, E, h0, variant=variant)
    lo = debtrank(A, E, h0 * u, variant=variant)
    if variant == "differential":   # single-hit is not monotone in general (timing effects)
        assert (lo.h <= hi.h + 1e-9).all()
    assert (lo.h0 <= hi.h0).all()


@PROPS
@given(systems())
def test_single_hit_never_exceeds_differential(sys_):
    A, E, h0 = sys_
    assert (debtrank(A, E, h0, variant="single_hit").h <= debtrank(A, E, h0).h + 1e-9).all()


@PROPS
@given(systems(batched=True), st.sampled_from(VARIANTS))
def test_batched_equals_one_by_one_dense_equals_sparse(sys_, variant):
    A, E, h0 = sys_
    r = debtrank(A, E, h0, variant=variant)
    rs = debtrank(sp.csr_array(A), E, h0, variant=variant)
    np.testing.assert_array_equal(r.h, rs.h)
    for s in range(h0.shape[0]):
        one = debtrank(A, E, h0[s], variant=variant)
        np.testing.assert_allclose(r.h[s], one.h, atol=1e-9)
        assert r.impact[s] == pytest.approx(one.impact, abs=1e-9)
    np.testing.assert_array_equal(r.h, debtrank(A, E, h0, variant=variant).h)
