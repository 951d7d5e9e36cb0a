"""Tests for core.mechanisms.furfine (Furfine 2003 sequential default).

Threshold cases of TV12 (Gai-Kapadia balance sheet: A_IB = 20, A_M = 80,
L_IB = 20, capital K, deposits D = 100 - 20 - K) set up as Furfine inputs:
external assets 80, external liabilities D, zero recovery.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from core.mechanisms.clearing import liabilities_from_edges
from core.mechanisms.furfine import furfine

PROPS = settings(max_examples=50, deadline=None, database=None)
N = 6


def gk_inputs(K):
    return np.full(N, 80.0), np.full(N, 80.0 - K)   # external assets, deposits D = 80 - K


def complete_graph():
    return 4.0 * (1 - np.eye(N))                    # each bank owes 4 to every other bank


def ring():
    """Bank i lent 20 to bank i+1, i.e. i+1 owes i."""
    return liabilities_from_edges((np.arange(N) + 1) % N, np.arange(N), np.full(N, 20.0), N)


@st.composite
def networks(draw, batched=False):
    n = draw(st.integers(2, 7))
    L = np.array(draw(st.lists(st.floats(0, 10), min_size=n * n, max_size=n * n))).reshape(n, n)
    mask = np.array(draw(st.lists(st.booleans(), min_size=n * n, max_size=n * n))).reshape(n, n)
    L = np.where(mask, L, 0.0)
    np.fill_diagonal(L, 0.0)
    shape = (draw(st.integers(1, 4)), n) if batched else (n,)
    e = np.array(draw(st.lists(st.floats(0, 20), min_size=int(np.prod(shape)),
                               max_size=int(np.prod(shape))))).reshape(shape)
    R = draw(st.one_of(st.floats(0, 1), st.lists(st.floats(0, 1), min_size=n, max_size=n).map(np.array)))
    return L, e, R


# --------------------------------------------------------------------------- TV12


def test_tv12_capital_is_K():
    e, D = gk_inputs(4.5)
    r = furfine(complete_graph(), e, 0.0, D)
    np.testing.assert_allclose(r.capital, 4.5)
    assert not r.defaulted.any() and r.rounds == 0
    assert (r.default_round == -1).all()


def test_tv12_complete_graph_no_contagion_at_K_4_5():
    r = furfine(complete_graph(), *gk_inputs(4.5)[:1], 0.0, gk_inputs(4.5)[1], initial_defaults=[0])
    assert r.defaulted.tolist() == [True] + [False] * 5
    np.testing.assert_allclose(r.losses, [0] + [4.0] * 5)
    np.testing.assert_allclose(r.equity[1:], 0.5)
    assert r.rounds == 1 and r.default_round.tolist() == [0] + [-1] * 5


def test_tv12_complete_graph_all_fail_in_one_round_at_K_3_5():
    e, D = gk_inputs(3.5)
    r = furfine(complete_graph(), e, 0.0, D, initial_defaults=[0])
    assert r.defaulted.all()
    assert r.default_round.tolist() == [0, 1, 1, 1, 1, 1]
    assert r.rounds == 2


def test_tv12_directed_ring_one_default_per_round():
    e, D = gk_inputs(4.5)
    r = furfine(ring(), e, 0.0, D, initial_defaults=[0])
    assert r.defaulted.all()
    assert r.default_round.tolist() == [0, 5, 4, 3, 2, 1]
    assert r.rounds == 6
    # the orientation matters: the transposed ring sends the cascade the other way
    rt = furfine(ring().T, e, 0.0, D, initial_defaults=[0])
    assert rt.default_round.tolist() == [0, 1, 2, 3, 4, 5]


def test_recovery_scalar_and_per_debtor():
    e, D = gk_inputs(2.5)
    assert not furfine(complete_graph(), e, 0.5, D, initial_defaults=[0]).defaulted[1:].any()  # loss 2 < 2.5
    e, D = gk_inputs(1.5)
    assert furfine(complete_graph(), e, 0.5, D, initial_defaults=[0]).defaulted.all()          # loss 2 > 1.5
    R = np.array([0.9, 0, 0, 0, 0, 0])    # bank 0 repays 90 %: loss 0.4 < 1.5
    r = furfine(complete_graph(), e, R, D, initial_defaults=[0])
    assert r.defaulted.sum() == 1
    np.testing.assert_allclose(r.losses[1:], 0.4)


def test_strict_threshold():
    e, D = gk_inputs(4.0)                 # loss exactly 4 = capital: no default
    r = furfine(complete_graph(), e, 0.0, D, initial_defaults=[0])
    assert r.defaulted.sum() == 1


def test_negative_capital_defaults_in_round_0():
    e, D = gk_inputs(4.5)
    e = e.copy()
    e[2] = 70.0                           # capital -5.5
    r = furfine(complete_graph(), e, 0.0, D)
    assert r.default_round[2] == 0 and r.defaulted[2]
    assert not r.defaulted[[0, 1, 3, 4, 5]].any()


def test_initial_defaults_mask_indices_and_batch():
    e, D = gk_inputs(3.5)
    mask = np.zeros(N, bool)
    mask[3] = True
    a = furfine(complete_graph(), e, 0.0, D, initial_defaults=mask)
    b = furfine(complete_graph(), e, 0.0, D, initial_defaults=np.array([3]))
    np.testing.assert_array_equal(a.default_round, b.default_round)
    masks = np.eye(N, dtype=bool)
    rb = furfine(ring(), gk_inputs(4.5)[0], 0.0, gk_inputs(4.5)[1], initial_defaults=masks)
    assert rb.defaulted.shape == (N, N) and rb.defaulted.all()
    np.testing.assert_array_equal(rb.rounds, np.full(N, 6))
    for s in range(N):
        one = furfine(ring(), gk_inputs(4.5)[0], 0.0, gk_inputs(4.5)[1], initial_defaults=[s])
        np.testing.assert_array_equal(rb.default_round[s], one.default_round)


def test_validation():
    e, D = gk_inputs(4.5)
    with pytest.raises(ValueError, match="recovery"):
        furfine(complete_graph(), e, 1.5, D)
    with pytest.raises(ValueError, match="initial_defaults"):
        furfine(complete_graph(), e, 0.0, D, initial_defaults=[7])
    with pytest.raises(ValueError, match="initial_defaults"):
        furfine(complete_graph(), e, 0.0, D, initial_defaults=np.zeros(3, bool))
    with pytest.raises(ValueError, match="shape"):
        furfine(complete_graph(), e[:3], 0.0, D)
    with pytest.raises(ValueError, match="diagonal"):
        furfine(np.ones((3, 3)), np.ones(3), 0.0)
    with pytest.raises(ValueError, match="NaN"):
        furfine(complete_graph(), e * np.nan, 0.0, D)


# --------------------------------------------------------------------------- properties


@PROPS
@given(networks(), st.floats(0, 1))
def test_deeper_shock_more_defaults_and_losses(net, u):
    L, e, R = net
    a = furfine(L, e, R)
    b = furfine(L, e * u, R)
    assert (b.defaulted | ~a.defaulted).all()
    assert (b.losses >= a.losses - 1e-9).all()


@PROPS
@given(networks())
def test_invariants(net):
    L, e, R = net
    r = furfine(L, e, R)
    assert np.array_equal(r.defaulted, r.default_round >= 0)
    np.testing.assert_allclose(r.equity, r.capital - r.losses)
    assert (r.losses <= L.sum(0) + 1e-9).all()               # never lose more than the claims
    assert (r.equity[~r.defaulted] >= 0).all()
    assert r.rounds == (r.default_round.max() + 1)
    assert r.converged


@PROPS
@given(networks(batched=True))
def test_batched_equals_one_by_one_dense_equals_sparse(net):
    L, e, R = net
    r = furfine(L, e, R)
    rs = furfine(sp.coo_array(L), e, R)
    np.testing.assert_array_equal(r.default_round, rs.default_round)
    for s in range(e.shape[0]):
        one = furfine(L, e[s], R)
        np.testing.assert_array_equal(r.default_round[s], one.default_round)
        np.testing.assert_allclose(r.losses[s], one.losses)
