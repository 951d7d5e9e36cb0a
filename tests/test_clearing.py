"""Tests for core.mechanisms.clearing (Eisenberg-Noe, Rogers-Veraart) and the fixed-point core.

Worked examples TV1/TV2 and pitfalls 1, 3, 5, 6, 7, 8 of the project's research note on network models
(``network-models.md``, kept beside the project, not in it), after Eisenberg & Noe (2001, Management Science 47(2))
and Rogers & Veraart (2013, Management Science 59(4)).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from core.mechanisms.clearing import (
    eisenberg_noe,
    exposures_from_liabilities,
    liabilities_from_edges,
    liabilities_from_exposures,
    rogers_veraart,
)
from core.mechanisms.fixedpoint import ConvergenceError, gmres_solve, picard, solve_active_set

TV1_L = np.array([[0, 20, 10], [5, 0, 24], [10, 0, 0]], dtype=float)
TV1_E = np.array([10.0, 10.0, 10.0])
TV2_L = np.array([[0, 30, 0], [5, 0, 20], [10, 0, 0]], dtype=float)
TV2_E = np.array([10.0, 5.0, 5.0])

PROPS = settings(max_examples=50, deadline=None, database=None)


# --------------------------------------------------------------------------- references


def ref_en_lp(L, e, x):
    """Eisenberg-Noe via LP (max sum p s.t. p <= e + Pi^T p, 0 <= p <= pbar); pro rata."""
    pbar = L.sum(1) + x
    Pi = np.divide(L, pbar[:, None], out=np.zeros_like(L), where=pbar[:, None] > 0)
    n = len(e)
    res = linprog(-np.ones(n), A_ub=np.eye(n) - Pi.T, b_ub=e, bounds=list(zip(np.zeros(n), pbar)),
                  method="highs")
    assert res.status == 0
    return res.x


def ref_rv_ga(L, e, x, alpha, beta):
    """Rogers-Veraart Greatest Clearing Vector Algorithm with dense solves (pro rata)."""
    pbar = L.sum(1) + x
    Pi = np.divide(L, pbar[:, None], out=np.zeros_like(L), where=pbar[:, None] > 0)
    n = len(e)
    p = pbar.copy()
    D = np.zeros(n, bool)
    for _ in range(n + 1):
        D_new = e + Pi.T @ p < pbar
        if np.array_equal(D_new, D) and _ > 0:
            break
        D = D_new
        S = ~D
        A = np.eye(D.sum()) - beta * Pi.T[np.ix_(D, D)]
        b = alpha * e[D] + beta * Pi.T[np.ix_(D, S)] @ pbar[S]
        p = pbar.copy()
        p[D] = np.linalg.solve(A, b)
    return p


@st.composite
def networks(draw, n_min=2, n_max=6, batched=False, ext=True):
    n = draw(st.integers(n_min, n_max))
    vals = st.floats(0, 10, allow_nan=False, allow_infinity=False)
    L = np.array(draw(st.lists(vals, min_size=n * n, max_size=n * n))).reshape(n, n)
    mask = np.array(draw(st.lists(st.booleans(), min_size=n * n, max_size=n * n))).reshape(n, n)
    L = np.where(mask, L, 0.0)
    np.fill_diagonal(L, 0.0)
    S = draw(st.integers(1, 4)) if batched else None
    shape = (S, n) if batched else (n,)
    e = np.array(draw(st.lists(vals, min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))).reshape(shape)
    x = (np.array(draw(st.lists(st.floats(0, 5), min_size=n, max_size=n))) if ext and draw(st.booleans())
         else np.zeros(n))
    return L, e, x


# --------------------------------------------------------------------------- worked examples


def test_tv1_eisenberg_noe_exact():
    r = eisenberg_noe(TV1_L, TV1_E)
    expected = np.array([1890 / 77, 2030 / 77, 10.0])
    np.testing.assert_allclose(r.payments, expected, rtol=1e-9, atol=0)
    np.testing.assert_allclose(r.equity, [-5 - 5 / 11, -2 - 7 / 11, 30.0], rtol=1e-9)
    assert r.defaulted.tolist() == [True, True, False]
    assert r.converged and r.residual <= 1e-12
    # pitfall 1: the NetworkValuation README prints 19.5455 for bank 1; the correct value is 24.5455
    assert abs(r.payments[0] - 19.5455) > 1


def test_tv1_pre_clearing_equity_and_payment_matrix():
    pbar = TV1_L.sum(1)
    Pi = TV1_L / pbar[:, None]
    np.testing.assert_allclose(TV1_E + Pi.T @ pbar - pbar, [-5, 1, 34])
    r = eisenberg_noe(TV1_L, TV1_E)
    P = r.payment_matrix().toarray()
    np.testing.assert_allclose(P.sum(1), r.network_payments, rtol=1e-12)
    np.testing.assert_allclose(P.sum(0), r.received, rtol=1e-12)
    np.testing.assert_allclose(P, Pi * r.payments[:, None], rtol=1e-9)


def test_tv2_plain_en_and_default_costs():
    r = rogers_veraart(TV2_L, TV2_E, 1.0, 1.0)
    np.testing.assert_allclose(r.payments, [25, 25, 10], rtol=1e-9)
    np.testing.assert_allclose(r.equity, [-5, 5, 15], rtol=1e-9, atol=1e-9)
    assert r.defaulted.tolist() == [True, False, False]
    r = rogers_veraart(TV2_L, TV2_E, alpha=0.4, beta=1.0)
    np.testing.assert_allclose(r.payments, [18, 20, 10], rtol=1e-9)
    # pitfall 7: book equity with undiscounted outside assets ...
    np.testing.assert_allclose(r.equity, [-6, -2, 11], rtol=1e-9)
    # ... and net worth after default costs = payments - obligations for defaulters
    np.testing.assert_allclose(r.net_worth, [18 - 30, 20 - 25, 11], rtol=1e-9)
    np.testing.assert_allclose(r.default_costs, [0.6 * 10, 0.6 * 5, 0], atol=1e-9)
    assert r.defaulted.tolist() == [True, True, False]


def test_rv_beta_enters_system_matrix():
    """Pitfall 3 (FinNetValu drops beta from (I - beta Pi_DD^T)): alpha, beta < 1, by hand."""
    r = rogers_veraart(TV2_L, TV2_E, alpha=0.4, beta=0.5)
    np.testing.assert_allclose(r.payments, [184 / 19, 130 / 19, 10.0], rtol=1e-9)
    assert r.defaulted.tolist() == [True, True, False]
    np.testing.assert_allclose(r.payments, ref_rv_ga(TV2_L, TV2_E, np.zeros(3), 0.4, 0.5), rtol=1e-9)


def test_seniority_external_senior_vs_pro_rata():
    L = np.array([[0, 10.0], [0, 0]])
    x = np.array([5.0, 0.0])
    pr = eisenberg_noe(L, [6.0, 0.0], x)
    np.testing.assert_allclose(pr.payments, [6, 0])
    np.testing.assert_allclose(pr.network_payments, [4, 0])
    np.testing.assert_allclose(pr.external_payments, [2, 0])
    sn = eisenberg_noe(L, [6.0, 0.0], x, seniority="external_senior")
    np.testing.assert_allclose(sn.payments, [6, 0])
    np.testing.assert_allclose(sn.network_payments, [1, 0])
    np.testing.assert_allclose(sn.external_payments, [5, 0])
    np.testing.assert_allclose(sn.equity, [-9, 1])
    sn = eisenberg_noe(L, [3.0, 0.0], x, seniority="external_senior")
    np.testing.assert_allclose(sn.network_payments, [0, 0])
    np.testing.assert_allclose(sn.external_payments, [3, 0])
    # RV, senior: defaulted value alpha*e goes to outsiders first
    rv = rogers_veraart(L, [6.0, 0.0], 0.5, 1.0, x, seniority="external_senior")
    np.testing.assert_allclose(rv.external_payments, [3, 0])
    np.testing.assert_allclose(rv.network_payments, [0, 0])


def test_zero_liability_rows():
    """Pitfall 8: rows with pbar = 0 (and a row with only external debt)."""
    L = np.array([[0, 5.0, 0], [0, 0, 0], [0, 0, 0]])
    x = np.array([0, 0, 4.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = eisenberg_noe(L, [1.0, 0.0, 1.0], x)
        rv = rogers_veraart(L, [1.0, 0.0, 1.0], 0.5, 0.5, x)
    assert np.isfinite(r.payments).all() and np.isfinite(rv.payments).all()
    np.testing.assert_allclose(r.payments, [1, 0, 1])
    assert r.defaulted.tolist() == [True, False, True]
    np.testing.assert_allclose(rv.payments, [0.5, 0, 0.5])
    empty = eisenberg_noe(np.zeros((3, 3)), np.ones(3))
    assert not empty.defaulted.any() and (empty.payments == 0).all()


def test_orientation_helpers():
    """Pitfall 6: one canonical edge list (debtor, creditor, amount); exposures = L.T."""
    L = liabilities_from_edges([0, 0, 1, 1, 2], [1, 2, 0, 2, 0], [20, 10, 5, 24, 10], 3)
    np.testing.assert_array_equal(L.toarray(), TV1_L)
    A = exposures_from_liabilities(L)
    np.testing.assert_array_equal(A.toarray(), TV1_L.T)
    np.testing.assert_array_equal(liabilities_from_exposures(A).toarray(), TV1_L)
    np.testing.assert_array_equal(exposures_from_liabilities(TV1_L), TV1_L.T)
    np.testing.assert_allclose(eisenberg_noe(L, TV1_E).payments, [1890 / 77, 2030 / 77, 10], rtol=1e-9)
    # the transposed matrix is a different network: bank 0 would owe 15, not 30
    assert not np.allclose(eisenberg_noe(TV1_L.T, TV1_E).payments, eisenberg_noe(TV1_L, TV1_E).payments)
    with pytest.raises(ValueError, match="self-loans"):
        liabilities_from_edges([0], [0], [1.0], 2)
    with pytest.raises(ValueError):
        liabilities_from_edges([0], [3], [1.0], 2)


@pytest.mark.parametrize("fmt", ["csr_array", "csr_matrix", "coo_array", "csc_matrix", "lil_array"])
def test_dense_equals_sparse(fmt):
    M = getattr(sp, fmt)(TV1_L)
    r = eisenberg_noe(M, TV1_E)
    np.testing.assert_allclose(r.payments, eisenberg_noe(TV1_L, TV1_E).payments, rtol=1e-12)
    assert (M != sp.csr_array(TV1_L)).nnz == 0  # input not modified


def test_batched_shapes_and_values():
    e = np.array([[10.0, 10, 10], [0, 0, 0], [30, 30, 30]])
    r = eisenberg_noe(TV1_L, e)
    assert r.payments.shape == (3, 3) and r.defaulted.shape == (3, 3)
    np.testing.assert_allclose(r.payments[0], [1890 / 77, 2030 / 77, 10], rtol=1e-9)
    for s in range(3):
        np.testing.assert_allclose(r.payments[s], eisenberg_noe(TV1_L, e[s]).payments, rtol=1e-9, atol=1e-12)
    P1 = r.payment_matrix(1).toarray()
    np.testing.assert_allclose(P1.sum(1), r.network_payments[1], atol=1e-12)
    with pytest.raises(ValueError):
        r.payment_matrix()
    # (n,) assets with (S, n) external liabilities broadcast
    x = np.array([[0, 0, 0.0], [5, 5, 5]])
    rb = rogers_veraart(TV1_L, TV1_E, 0.5, 0.5, x)
    assert rb.payments.shape == (2, 3)
    np.testing.assert_allclose(rb.payments[1], rogers_veraart(TV1_L, TV1_E, 0.5, 0.5, x[1]).payments, rtol=1e-9)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(liabilities=np.array([[0, np.nan], [0, 0]])), "NaN"),
        (dict(liabilities=np.array([[0, -1.0], [0, 0]])), "non-negative"),
        (dict(liabilities=np.array([[1.0, 1.0], [0, 0]])), "diagonal"),
        (dict(liabilities=np.zeros((2, 3))), "square"),
        (dict(external_assets=np.ones(3)), "shape"),
        (dict(external_assets=np.array([1.0, -1.0])), ">= 0"),
        (dict(external_liabilities=np.ones((2, 3))), "shape"),
        (dict(seniority="junior"), "seniority"),
    ],
)
def test_validation(kwargs, match):
    args = dict(liabilities=np.array([[0, 1.0], [1.0, 0]]), external_assets=np.ones(2))
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        eisenberg_noe(**args)


def test_validation_rv_parameters():
    with pytest.raises(ValueError, match="alpha"):
        rogers_veraart(TV2_L, TV2_E, 1.5, 1.0)
    with pytest.raises(ValueError, match="beta"):
        rogers_veraart(TV2_L, TV2_E, 1.0, -0.1)
    with pytest.raises(ValueError, match="scenarios"):
        eisenberg_noe(TV1_L, np.ones((2, 3)), np.ones((3, 3)))


def test_convergence_is_reported_never_silent():
    with pytest.raises(ConvergenceError):
        eisenberg_noe(TV1_L, TV1_E, max_iter=2, on_cap="raise", exact=False)
    with pytest.warns(RuntimeWarning, match="no convergence"):
        r = eisenberg_noe(TV1_L, TV1_E, max_iter=2, exact=False)
    assert not r.converged and r.iterations == 2
    r = eisenberg_noe(TV1_L, TV1_E, max_iter=2, on_cap="flag", exact=False)
    assert not r.converged
    r = eisenberg_noe(TV1_L, TV1_E, exact=False)
    assert r.converged and not r.exact and r.iterations > 20
    np.testing.assert_allclose(r.payments, [1890 / 77, 2030 / 77, 10], rtol=1e-9)


def test_exact_step_finishes_near_critical_case():
    """Two banks owing each other almost everything: Picard crawls (rate 0.999), GA step is exact."""
    L = np.array([[0, 1000.0], [999.0, 0]])
    e = np.array([0.0, 0.5])
    x = np.array([1.0, 1.0])
    r = eisenberg_noe(L, e, x, max_iter=50)
    assert r.converged and r.exact and r.iterations == 50
    np.testing.assert_allclose(r.payments, ref_en_lp(L, e, x), rtol=1e-9)
    with pytest.warns(RuntimeWarning):
        slow = eisenberg_noe(L, e, x, max_iter=50, exact=False)
    assert not slow.converged


def test_fixedpoint_core():
    r = picard(lambda x: 0.5 * x + 1, np.zeros(3), tol=1e-13)
    np.testing.assert_allclose(r.x, 2.0, rtol=1e-12)
    assert r.converged and r.iterations > 10
    with pytest.raises(ConvergenceError) as ei:
        picard(lambda x: x + 1, np.zeros(1), max_iter=5)
    assert ei.value.result.iterations == 5
    b = picard(lambda d: d | np.roll(d, 1), np.array([True, False, False, False]), tol=0)
    assert b.x.all() and b.iterations == 4
    K = sp.csr_array(np.array([[0, 0.9], [0.9, 0]]))
    x, ok = solve_active_set(K, np.array([True, False]), 1.0, 1.0, 5.0, np.zeros(2))
    assert ok
    np.testing.assert_allclose(x, [5.5, 5.0])
    A = np.array([[4.0, 1, 0], [1, 3, 1], [0, 1, 2]])
    xs, ok = gmres_solve(lambda v: A @ v, np.array([1.0, 2, 3]), np.zeros(3))
    np.testing.assert_allclose(xs, np.linalg.solve(A, [1, 2, 3]), rtol=1e-12)


def test_large_sparse_exact_and_no_dense():
    rng = np.random.default_rng(1)
    n, m = 3000, 30000
    d, c = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = d != c
    L = liabilities_from_edges(d[keep], c[keep], rng.pareto(1.5, keep.sum()) + 1, n)
    e = rng.uniform(0, 1, n) * (L @ np.ones(n)) * 0.5
    r = rogers_veraart(L, e, 0.7, 0.8)
    assert r.converged and r.residual <= 1e-12 and r.defaulted.mean() > 0.2
    # fixed-point equation of the RV map holds on every entity
    PiT = r.relative_claims
    rec = PiT @ r.payments
    pbar = r.total_liabilities
    phi = np.where(e + rec >= pbar, pbar, 0.7 * e + 0.8 * rec)
    np.testing.assert_allclose(r.payments, phi, rtol=0, atol=1e-9 * pbar.max())


# --------------------------------------------------------------------------- properties


@PROPS
@given(networks())
def test_en_matches_lp_and_is_a_clearing_vector(net):
    L, e, x = net
    r = eisenberg_noe(L, e, x)
    pbar = L.sum(1) + x
    scale = max(pbar.max(), 1.0)
    np.testing.assert_allclose(r.payments, ref_en_lp(L, e, x), atol=1e-7 * scale)
    # limited liability and absolute priority, no value created
    assert (r.payments <= pbar + 1e-9 * scale).all()
    assert (r.payments <= e + r.received + 1e-9 * scale).all()
    assert r.received.sum() <= r.network_payments.sum() + 1e-9 * scale
    assert r.payments.sum() <= e.sum() + r.received.sum() + 1e-9 * scale
    np.testing.assert_allclose(r.payments, r.network_payments + r.external_payments, atol=1e-9 * scale)


@PROPS
@given(networks(), st.floats(0, 1), st.floats(0, 1))
def test_rv_matches_reference_ga(net, alpha, beta):
    L, e, x = net
    r = rogers_veraart(L, e, alpha, beta, x)
    scale = max((L.sum(1) + x).max(), 1.0)
    np.testing.assert_allclose(r.payments, ref_rv_ga(L, e, x, alpha, beta), atol=1e-7 * scale)
    en = eisenberg_noe(L, e, x)
    assert (r.payments <= en.payments + 1e-9 * scale).all()       # default costs never help
    one = rogers_veraart(L, e, 1.0, 1.0, x)
    np.testing.assert_allclose(one.payments, en.payments, rtol=0, atol=1e-12 * scale)
    assert np.array_equal(one.defaulted, en.defaulted)


@PROPS
@given(networks(), st.floats(0, 1), st.sampled_from(["pro_rata", "external_senior"]), st.floats(0.2, 1))
def test_deeper_shock_never_raises_payments(net, u, seniority, alpha):
    L, e, x = net
    a = rogers_veraart(L, e, alpha, alpha, x, seniority)
    b = rogers_veraart(L, e * u, alpha, alpha, x, seniority)
    scale = max((L.sum(1) + x).max(), 1.0)
    assert (b.payments <= a.payments + 1e-9 * scale).all()
    assert (b.equity <= a.equity + 1e-9 * scale).all()
    assert (b.defaulted | ~a.defaulted).all()                  # defaults only grow


@PROPS
@given(networks(batched=True), st.sampled_from(["pro_rata", "external_senior"]))
def test_batched_equals_one_by_one_and_sparse_and_deterministic(net, seniority):
    L, e, x = net
    r = rogers_veraart(L, e, 0.6, 0.9, x, seniority)
    rs = rogers_veraart(sp.csr_array(L), e, 0.6, 0.9, x, seniority)
    scale = max((L.sum(1) + x).max(), 1.0)
    for s in range(e.shape[0]):
        one = rogers_veraart(L, e[s], 0.6, 0.9, x, seniority)
        np.testing.assert_allclose(r.payments[s], one.payments, atol=1e-9 * scale)
        assert np.array_equal(r.defaulted[s], one.defaulted)
    np.testing.assert_array_equal(r.payments, rs.payments)
    np.testing.assert_array_equal(r.payments, rogers_veraart(L, e, 0.6, 0.9, x, seniority).payments)


# --------------------------------------------------------------------------- the clearing before issue 16
# The solver as it was before the exact step was put in correction form (commit 85dcf35), kept here only as
# the reference of the equivalence tests below: Picard to 1e-6, then GMRES (classical Gram-Schmidt twice) on
# the full right-hand side c_F + m_F (K f)_F from the Picard iterate, checked against the nonlinear map;
# nine outputs transposed one by one.


def _gmres_before(matvec, b, x0, rtol=1e-14, maxiter=200, restart=30):
    shape, bv = b.shape, b.ravel()
    x = np.array(x0, dtype=np.float64).ravel()
    bnorm = float(np.linalg.norm(bv))
    if bnorm == 0.0:
        return np.zeros(shape), True
    target, used, prev = rtol * bnorm, 0, np.inf
    while True:
        r = bv - matvec(x.reshape(shape)).ravel()
        beta = float(np.linalg.norm(r))
        if beta <= target:
            return x.reshape(shape), True
        if used >= maxiter or beta > 0.5 * prev:
            return x.reshape(shape), False
        prev = beta
        m = min(restart, maxiter - used, bv.size)
        V, H = np.empty((m + 1, bv.size)), np.zeros((m + 1, m))
        cs, sn, g = np.zeros(m), np.zeros(m), np.zeros(m + 1)
        g[0], V[0], k = beta, r / beta, 0
        for j in range(m):
            w = matvec(V[j].reshape(shape)).ravel()
            used += 1
            Vj = V[: j + 1]
            h = Vj @ w
            w -= h @ Vj
            h2 = Vj @ w
            w -= h2 @ Vj
            h += h2
            hn = float(np.linalg.norm(w))
            for i in range(j):
                hi, hi1 = h[i], h[i + 1]
                h[i], h[i + 1] = cs[i] * hi + sn[i] * hi1, -sn[i] * hi + cs[i] * hi1
            d = float(np.hypot(h[j], hn))
            cs[j], sn[j] = (1.0, 0.0) if d == 0.0 else (h[j] / d, hn / d)
            h[j] = d
            H[: j + 1, j] = h
            g[j + 1], g[j] = -sn[j] * g[j], cs[j] * g[j]
            k = j + 1
            if abs(g[j + 1]) <= 0.5 * target or hn <= 1e-14 * beta or d == 0.0:
                break
            V[j + 1] = w / hn
        y = np.linalg.solve(H[:k, :k], g[:k]) if k else np.zeros(0)
        x = x + y @ V[:k]


def _clear_before(L, e, x, alpha, beta, seniority="pro_rata", tol=1e-12, max_iter=10_000, exact=True):
    """Payments, network payments, received, defaulted, equity and whether the exact step was used."""
    from core.mechanisms.fixedpoint import _residual, picard

    L = sp.csr_array(np.asarray(L, dtype=float))
    n = L.shape[0]
    e, x = np.asarray(e, dtype=float), np.asarray(x, dtype=float)
    batched = e.ndim == 2 or x.ndim == 2
    S = (e if e.ndim == 2 else x).shape[0] if batched else None
    E, X = ((np.ascontiguousarray(np.broadcast_to(v, (S, n)).T) for v in (e, x)) if batched else (e, x))
    col = (lambda a: np.asarray(a)[:, None]) if batched else (lambda a: a)
    alpha_, beta_ = (col(a) if np.ndim(a) else a for a in (alpha, beta))
    lbar = L @ np.ones(n)
    PiT = sp.csr_array((L.data / np.repeat(lbar, np.diff(L.indptr)), L.indices, L.indptr), shape=L.shape).T
    l = col(lbar)
    pbar = l + X
    if seniority == "pro_rata":
        gamma, delta = np.divide(l, pbar, out=np.zeros_like(pbar), where=pbar > 0), 0.0
    else:
        gamma, delta = 1.0, X
    aE = gamma * alpha_ * E - delta
    gb = gamma * beta_
    if np.ndim(gb) == 0:
        gb = np.full_like(pbar, gb)
    scale = pbar.max(axis=0) if pbar.size else 1.0
    scale = np.where(scale > 0, scale, 1.0)
    l_full = np.broadcast_to(l, pbar.shape)

    def phi(q):
        r = PiT @ q
        solvent = E + r >= pbar
        v = np.minimum(np.maximum(gb * r + aE, 0.0), l_full)
        return np.where(solvent, l_full, v)

    def attempt(q):
        r = PiT @ q
        solvent = E + r >= pbar
        free = ~solvent & (aE + gb * r > 0)
        fixed = np.where(free, 0.0, np.where(solvent, l_full, 0.0))
        m = np.where(free, gb, 0.0)
        rhs = np.where(free, aE + m * (PiT @ fixed), 0.0)
        if free.any():
            y, _ = _gmres_before(lambda v: v - m * (PiT @ v), rhs, np.where(free, q, 0.0))
            cand = fixed + np.where(free, y, 0.0)
        else:
            cand = fixed
        if not np.isfinite(cand).all() or not np.all(cand <= q + 10 * tol * np.asarray(scale)):
            return None
        return cand if _residual(phi(cand), cand, scale) <= tol else None

    q, used, polished = np.array(l_full, dtype=float), 0, False
    stages = ([(1e-6, 500)] if exact else []) + [(tol, max_iter)]
    for s_tol, s_iter in stages:
        fp = picard(phi, q, tol=s_tol, max_iter=s_iter - used, scale=scale, on_cap="flag")
        used, q = used + fp.iterations, fp.x
        if fp.converged and s_tol <= tol:
            break
        if exact:
            cand = attempt(q)
            if cand is not None:
                q, polished = cand, True
                break
    q = np.clip(q, 0.0, l_full)
    r = PiT @ q
    assets = E + r
    defaulted = assets < pbar
    value = alpha_ * E + beta_ * r
    if seniority == "pro_rata":
        payments = np.where(defaulted, np.clip(value, 0.0, pbar), pbar)
    else:
        payments = np.where(defaulted, np.clip(value, 0.0, X), X) + q
    out = (lambda a: np.ascontiguousarray(a.T)) if batched else (lambda a: a)
    return out(payments), out(q), out(r), out(defaulted), out(assets - pbar), polished


@PROPS
@given(st.booleans().flatmap(lambda batched: networks(batched=batched)),
       st.sampled_from([(1.0, 1.0), (0.5, 0.5), (0.3, 0.9), (1.0, 0.7)]),
       st.sampled_from(["pro_rata", "external_senior"]))
def test_optimised_clearing_equals_the_clearing_before(net, ab, seniority):
    """Same greatest clearing vector as before the optimisation: to 1e-12 relative (plus 1e-12 of the largest
    obligation, for entries near zero) with the exact step; bit-identical on the Picard-only path."""
    L, e, x = net
    alpha, beta = ab
    scale = max((L.sum(1) + x).max(), 1.0)
    new = rogers_veraart(L, e, alpha, beta, x, seniority)
    pay, q, rec, dft, eq, polished = _clear_before(L, e, x, alpha, beta, seniority)
    for got, want in ((new.payments, pay), (new.network_payments, q), (new.received, rec), (new.equity, eq)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * scale)
    # the default set is decided by assets < obligations: identical unless an entity sits within rounding of it
    close = np.abs(eq) <= 1e-12 * scale
    assert np.array_equal(new.defaulted[~close], dft[~close])
    slow = rogers_veraart(L, e, alpha, beta, x, seniority, exact=False, on_cap="flag")
    pay, q, rec, dft, eq, _ = _clear_before(L, e, x, alpha, beta, seniority, exact=False)
    for got, want in ((slow.payments, pay), (slow.network_payments, q), (slow.received, rec),
                      (slow.defaulted, dft), (slow.equity, eq)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("alpha, beta", [(1.0, 1.0), (0.5, 0.5)])
def test_optimised_clearing_equals_the_clearing_before_on_a_large_batch(alpha, beta):
    """100 scenarios on a random 1,000-entity network (the issue's benchmark case): same results to 1e-12."""
    rng = np.random.default_rng(3)
    n, m, S = 1000, 10_000, 100
    d, c = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = d != c
    L = liabilities_from_edges(d[keep], c[keep], rng.pareto(1.5, keep.sum()) + 1.0, n)
    owed, claims = L @ np.ones(n), L.T @ np.ones(n)
    e0 = np.maximum(0.0, owed - claims) + 0.05 * (owed + claims) + 0.01
    e = e0 - e0 * rng.uniform(0, 1, (S, n)) ** 2
    new = rogers_veraart(L, e, alpha, beta)
    pay, q, rec, dft, eq, polished = _clear_before(L.toarray(), e, np.zeros(n), alpha, beta)
    assert new.exact and polished and new.defaulted.mean() > 0.3
    np.testing.assert_allclose(new.payments, pay, rtol=1e-12, atol=1e-12 * owed.max())
    np.testing.assert_allclose(new.equity, eq, rtol=1e-12, atol=1e-12 * owed.max())
    assert np.array_equal(new.defaulted, dft)


def _solve_active_set_before(K, free, offset, coef, fixed_values, x0):
    """solve_active_set before issue 16: GMRES on the full right-hand side, from the initial guess."""
    shape = x0.shape
    free = np.broadcast_to(free, shape)
    fixed = np.where(free, 0.0, np.broadcast_to(fixed_values, shape))
    m = np.where(free, np.broadcast_to(coef, shape), 0.0)
    rhs = np.where(free, np.broadcast_to(offset, shape) + m * (K @ fixed), 0.0)
    if not free.any():
        return fixed
    x, _ = _gmres_before(lambda y: y - m * (K @ y), rhs, np.where(free, x0, 0.0))
    return fixed + np.where(free, x, 0.0)


@PROPS
@given(st.integers(2, 40), st.sampled_from([None, 1, 3]), st.floats(0.05, 1.0), st.floats(0.0, 0.95),
       st.integers(0, 2**32 - 1))
def test_solve_active_set_equals_the_solve_before(n, S, free_share, radius, seed):
    """The exact step DebtRank and clearing share: the correction form (on the free entries alone when they
    are at most three quarters of the batch, else on the whole batch) gives the old solve's vector to 1e-12
    relative (plus 1e-12 of its largest entry)."""
    rng = np.random.default_rng(seed)
    A = rng.uniform(0, 1, (n, n)) * (rng.uniform(size=(n, n)) < 0.3)
    rows = A.sum(1, keepdims=True)
    K = sp.csr_array(np.divide(A, rows, out=np.zeros_like(A), where=rows > 0) * radius)
    shape = (n,) if S is None else (n, S)
    free = rng.uniform(size=shape) < free_share
    offset, coef = rng.uniform(0, 5, shape), rng.uniform(0, 1, shape)
    fixed = rng.uniform(0, 5, shape)
    x0 = np.where(free, rng.uniform(0, 5, shape), fixed)
    new, ok = solve_active_set(K, free, offset, coef, fixed, x0, K_x0=K @ x0)
    old = _solve_active_set_before(K, free, offset, coef, fixed, x0)
    assert ok
    np.testing.assert_allclose(new, old, rtol=1e-12, atol=1e-12 * np.abs(old).max())
    np.testing.assert_array_equal(new[~free], fixed[~free])


def test_clearing_runs_blas_on_one_thread_and_restores_it(monkeypatch):
    """OpenBLAS's threads spun beside the thin Krylov products (2.1x slower at 100k entities): held to one."""
    from threadpoolctl import threadpool_info

    # solve_active_set looks gmres_solve up in its own module (core.mechanisms.fixedpoint re-exports both)
    import core.mechanisms.active_set as active_set

    def blas_threads():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    before, seen = blas_threads(), []
    solve = active_set.gmres_solve

    def spy(*args, **kwargs):
        seen.append(blas_threads())
        return solve(*args, **kwargs)

    monkeypatch.setattr(active_set, "gmres_solve", spy)
    L = np.array([[0, 1000.0], [999.0, 0]])
    r = eisenberg_noe(L, [0.0, 0.5], [1.0, 1.0], max_iter=50)
    assert r.exact and seen and all(t == [1] * len(t) for t in seen)
    assert blas_threads() == before
