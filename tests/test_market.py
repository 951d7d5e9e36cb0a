"""Tests for core.mechanisms.market (square-root impact, impact decay)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from core.mechanisms.market import impact_recovery, log_sqrt_impact, sqrt_impact

SETTINGS = settings(max_examples=50, deadline=None, database=None)


def test_worked_example():
    # sell 1% of ADV at 5% daily vol: I = 0.05 * sqrt(0.01) = 0.005 ; drop = 1 - e^-0.005
    assert log_sqrt_impact(1e6, 1e8, 0.05) == pytest.approx(0.005)
    assert sqrt_impact(1e6, 1e8, 0.05) == pytest.approx(1 - np.exp(-0.005))
    # sell a full ADV at 10% vol with Y=0.5: I = 0.05
    assert sqrt_impact(1e8, 1e8, 0.10, y=0.5) == pytest.approx(1 - np.exp(-0.05))


def test_liquidity_multiplier_equals_scaling_volume():
    a = sqrt_impact(2e7, 1e8, 0.04, liquidity=0.5)
    b = sqrt_impact(4e7, 1e8, 0.04)
    assert a == pytest.approx(b)


def test_never_negative_price_and_buying_raises():
    d = sqrt_impact(np.array([1e15, -1e6]), 1e6, 0.5)
    assert d[0] < 1 and 1 - d[0] > 0
    assert d[1] == pytest.approx(-np.expm1(0.5))    # rise e^{0.5} - 1


def test_broadcast_over_scenarios_and_assets():
    q = np.array([[1e6, 4e6], [9e6, 0.0]])
    out = sqrt_impact(q, np.array([1e8, 1e8]), np.array([0.05, 0.10]))
    assert out.shape == (2, 2)
    assert out[0, 1] == pytest.approx(1 - np.exp(-0.02))
    assert out[1, 1] == 0.0


def test_recovery():
    assert impact_recovery(0.1, 0, 3) == 0.1
    assert impact_recovery(0.1, 3, 3) == pytest.approx(0.05)
    assert impact_recovery(0.1, 1e6, 3, permanent=0.3) == pytest.approx(0.03)
    assert impact_recovery(0.1, 5, np.inf) == 0.1


def test_validation():
    with pytest.raises(ValueError):
        sqrt_impact(1.0, 0.0, 0.1)
    with pytest.raises(ValueError):
        sqrt_impact(1.0, 1.0, -0.1)
    with pytest.raises(ValueError):
        impact_recovery(0.1, 1, 0.0)
    with pytest.raises(ValueError):
        impact_recovery(0.1, 1, 1.0, permanent=2.0)


@SETTINGS
@given(st.floats(0, 1e12), st.floats(0, 1e12), st.floats(1e3, 1e12), st.floats(0.0, 1.0))
def test_monotone_concave_bounded(q1, q2, v, vol):
    lo, hi = sorted((q1, q2))
    a, b = sqrt_impact(lo, v, vol), sqrt_impact(hi, v, vol)
    assert 0 <= a <= b < 1
    # subadditive: splitting a sale across two independent books never moves more than one big sale
    assert sqrt_impact(lo + hi, v, vol) <= a + b + 1e-12


@SETTINGS
@given(st.floats(0, 1), st.floats(0, 50), st.floats(0, 50), st.floats(0.1, 20), st.floats(0, 1))
def test_recovery_monotone_and_semigroup(imp, t1, t2, h, pi):
    r1 = impact_recovery(imp, t1, h, pi)
    assert 0 <= r1 <= imp
    assert impact_recovery(imp, t1 + t2, h, pi) <= r1 + 1e-15
    if pi == 0:
        assert impact_recovery(r1, t2, h) == pytest.approx(impact_recovery(imp, t1 + t2, h), abs=1e-15)
