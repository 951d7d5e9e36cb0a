"""The capital at the level it is water-filled to (core.engine.capital.marginal_share): the cohorts above the level
are served in full, and those at it share what they leave.

Worked numbers, capital $110. A: a cohort with price impact whose margin is above the level, 1.6 units asked at
$50 of debt repaid a unit ($52.5 at the oracle, bonus 5%): $80 at the level and one ulp above it. B: a stablecoin
cohort (no impact: taken whole while its margin exceeds the level) whose margin is the level, $1,000 asked at
$0.952381 a unit ($1, bonus 5%): all of it at the level, nothing above. C: a cohort with impact whose units move
with the level, 0.41 units at it and 0.40 above ($20.5 and $20). Above the level A and C repay $100 and leave
$10, which B and C share pro rata to what more they ask at the level ($1,000 and $0.5): s = 10 / 1,000.5, B
repays $9.995, C $20.005, A its $80; $110 in all. Shared pro rata over everything asked at the level ($1,100.5),
as before, A, which earns more, got $8.00 and B $99.95 (monotone-2025-wbtc-steth-cbeth-sol-buidl-lag1-capital-
500m-edge: which of the two a rounding decided).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from core.engine.capital import _finite, marginal_share

PER_USD = np.array([[50.0, 1 / 1.05, 50.0]])
ASK = np.array([[80.0, 1000.0, 100.0]])
CLOSE = np.array([True, True, True])
Q_AT = np.array([[1.6, np.inf, 0.41]])
Q_ABOVE = np.array([[1.6, 0.0, 0.40]])


def repaid(q):
    return np.minimum(ASK, q * PER_USD)


def test_worked_share():
    q = marginal_share(Q_AT, Q_ABOVE, ASK, PER_USD, CLOSE, np.array([110.0]))
    s = 10 / 1000.5
    usd = repaid(q)[0]
    assert usd[0] == pytest.approx(80.0, rel=1e-15)           # above the level: in full
    assert usd[1] == pytest.approx(1000 * s, rel=1e-12)        # $9.995
    assert usd[2] == pytest.approx(20 + 0.5 * s, rel=1e-12)    # $20.005
    assert usd.sum() == pytest.approx(110.0, rel=1e-12)
    assert q[0, 1] == pytest.approx(1000 * s * 1.05, rel=1e-12)  # 10.49475 units of B


def test_continuous_as_the_capital_left_vanishes():
    """B's share falls to nothing as the capital falls to what the cohorts above ask ($100), and no cohort ever
    repays less as the capital rises."""
    caps = 100.0 + np.array([1e-9, 1e-6, 1e-3, 1.0, 10.0, 100.0, 1000.0, 2000.0])
    usd = np.array([repaid(marginal_share(Q_AT, Q_ABOVE, ASK, PER_USD, CLOSE, np.array([k])))[0] for k in caps])
    assert usd[0, 1] < 1e-8
    assert (np.diff(usd, axis=0) >= -1e-12).all()
    assert usd[-1] == pytest.approx([80.0, 1000.0, 20.5], rel=1e-12)  # everything asked at the level fits


def test_the_level_stands_where_the_cohorts_above_ask_more_or_nothing_jumps():
    over = marginal_share(Q_AT, Q_ABOVE, ASK, PER_USD, CLOSE, np.array([90.0]))  # above the level: $100 > $90
    assert np.array_equal(over, Q_AT)
    same = marginal_share(Q_ABOVE, Q_ABOVE, ASK, PER_USD, CLOSE, np.array([110.0]))
    assert same is Q_ABOVE


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, -0.0, np.inf, -np.inf,
                                                                                             np.nan])),
                min_size=1, max_size=40))
def test_finite_is_nan_to_num_to_the_bit(values):
    """capital._finite stands for np.nan_to_num in the capital search (usd_sum, marginal_share): the same bits,
    -0.0, the largest floats and NaN's replacement included."""
    x = np.array(values, dtype=float)[None]
    assert _finite(x).tobytes() == np.nan_to_num(x).tobytes()
