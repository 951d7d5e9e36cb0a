"""Tests for core.mechanisms.runs (withdrawal runs, liquidity/solvency default, recovery)."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from core.mechanisms.runs import recovery_rate, run_distress, run_step, withdrawal_rate

SETTINGS = settings(max_examples=50, deadline=None, database=None)


def test_withdrawal_rate_shape():
    # at the threshold the rate is halfway between base and max: 0.01 + 0.29/2 = 0.155
    assert withdrawal_rate(0.2) == pytest.approx(0.155)
    assert withdrawal_rate(0.0) == pytest.approx(0.01 + 0.29 * 0.022750131948, rel=1e-9)
    assert withdrawal_rate(10.0) == pytest.approx(0.3)
    np.testing.assert_array_equal(withdrawal_rate([0.5, 0.5], gated=[False, True]) > 0, [True, False])
    assert run_distress(0.2, 0.1, 0.05, weights=(1.0, 2.0, 0.0)) == pytest.approx(0.4)
    with pytest.raises(ValueError):
        withdrawal_rate(0.1, base=0.5, max_rate=0.2)


def test_run_step_worked_examples():
    # liquid covers it: 20 withdrawn of 100 with 30 liquid
    r = run_step(100.0, 30.0, 80.0, 0.3, 0.2)
    assert (r.withdrawals_paid, r.illiquid_sold, r.haircut_loss) == (20.0, 0.0, 0.0)
    assert not r.liquidity_default and r.equity_after == pytest.approx(10.0)
    # fire sale: W = 30, liquid 10, sell 20/0.5 = 40 book at 50% -> haircut 20, equity 10 -> -10
    r = run_step(100.0, 10.0, 100.0, 0.5, 0.3)
    assert (r.withdrawals_paid, r.illiquid_sold, r.haircut_loss) == (30.0, 40.0, 20.0)
    assert r.solvency_default and not r.liquidity_default
    # FTX-like: W = 60 > 10 + 0.5*80 = 50 -> liquidity default, pays 50
    r = run_step(100.0, 10.0, 80.0, 0.5, 0.6, equity=-10.0)
    assert r.liquidity_default and r.withdrawals_paid == pytest.approx(50.0)
    assert r.illiquid_after == 0.0 and r.equity_after == pytest.approx(-50.0)
    # total fire-sale discount: nothing raised from illiquid assets
    r = run_step(100.0, 10.0, 80.0, 1.0, 0.5)
    assert r.liquidity_default and r.withdrawals_paid == 10.0


def test_recovery_examples():
    r = recovery_rate(1.16e9, [2.36e9, 0.34e9])
    np.testing.assert_allclose(r.recovery_rate, 1.16 / 2.7)
    r = recovery_rate(60.0, [50.0, 50.0, 10.0], seniority=[0, 1, 1])
    np.testing.assert_allclose(r.recovery_rate, [1.0, 10 / 60, 10 / 60])
    r = recovery_rate(np.array([200.0, 30.0]), np.array([[50.0, 50.0], [50.0, 50.0]]), bankruptcy_cost=0.1)
    np.testing.assert_allclose(r.recovery_rate, [[1.0, 1.0], [0.27, 0.27]])
    assert recovery_rate(5.0, [0.0, 0.0]).recovery_rate.tolist() == [1.0, 1.0]
    with pytest.raises(ValueError):
        recovery_rate(1.0, [1.0], seniority=[0, 1])


@SETTINGS
@given(st.floats(0, 1e6), st.floats(0, 1e6), st.floats(0, 1e6), st.floats(0, 1), st.floats(0, 1), st.floats(0, 1))
def test_run_step_properties(D, liq, ill, disc, w, extra):
    r = run_step(D, liq, ill, disc, w)
    assert r.withdrawals_paid <= r.withdrawals_demanded * (1 + 1e-12) + 1e-9
    assert r.withdrawals_paid <= liq + (1 - disc) * ill + 1e-6
    assert r.illiquid_sold <= ill * (1 + 1e-12) and r.liquid_used <= liq
    assert r.liquid_used + r.fire_sale_proceeds == pytest.approx(r.withdrawals_paid, abs=1e-6)
    assert r.haircut_loss == pytest.approx(disc * r.illiquid_sold)
    assert bool(r.liquidity_default) == bool(r.withdrawals_paid < r.withdrawals_demanded - 1e-6 * (1 + D)) or \
        abs(r.withdrawals_paid - r.withdrawals_demanded) < 1e-6 * (1 + D)
    # more withdrawals or a deeper discount never help
    r2 = run_step(D, liq, ill, min(1.0, disc + extra * (1 - disc)), min(1.0, w + extra))
    assert r2.equity_after <= r.equity_after + 1e-6
    assert r2.liquidity_default >= r.liquidity_default


@SETTINGS
@given(st.floats(0, 1e6), hnp.arrays(np.float64, st.integers(1, 6), elements=st.floats(0, 1e6)),
       st.lists(st.integers(0, 2), min_size=6, max_size=6))
# the random profile's counterexample: 1.0 of estate, a senior claim of 1.0 and a junior one of 1.7e-246; 1.0 +
# 1.7e-246 rounds to 1.0, so the float premise A >= C.sum() held, yet the estate is short by 1.7e-246 and the
# junior claim's exact recovery is 0, which recovery_rate pays
@example(1.0, np.array([1.7e-246, 1.0]), [1, 0, 0, 0, 0, 0])
# covered exactly (the estate is 2^-55 above 0.1 + 0.2), but the senior class's sum rounds up to the estate: the
# 1e-20 junior claim is below the rounding of the sums, and gets 0
@example(0.1 + 0.2, np.array([0.1, 0.2, 1e-20]), [0, 0, 1, 0, 0, 0])
def test_recovery_properties(A, C, seniority):
    s = np.array(seniority[: len(C)])
    r = recovery_rate(A, C, seniority=s)
    assert np.all((r.recovery_rate >= 0) & (r.recovery_rate <= 1))
    assert r.recovered.sum() <= max(A, 0) * (1 + 1e-9) + 1e-6          # nobody gets more than the estate
    assert np.all(r.recovered <= C * (1 + 1e-12))
    if Fraction(A) >= sum(map(Fraction, C.tolist())):  # the estate covers every claim, in exact arithmetic
        # each claim paid in full, to the rounding of the sums the waterfall takes (at most n claims: Higham,
        # "Accuracy and Stability of Numerical Algorithms", 2nd ed., eq. 4.4, gamma_n = n u / (1 - n u)); below
        # rtol x C for every claim above 1e-8 of the claims' total, so those are held to rtol alone
        gamma = len(C) * 2.0**-53 / (1 - len(C) * 2.0**-53)
        np.testing.assert_allclose(r.recovered, C, rtol=1e-7, atol=gamma * C.sum())
    else:
        assert r.recovered.sum() == pytest.approx(A, rel=1e-9, abs=1e-6)  # estate fully distributed
    # a more senior class never recovers a lower rate
    for a in range(len(C)):
        for b in range(len(C)):
            if s[a] < s[b] and C[a] > 0 and C[b] > 0:
                assert r.recovery_rate[a] >= r.recovery_rate[b]
