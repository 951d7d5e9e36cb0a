"""Decision 22: a reserve's defence budget in proportion to the discount beyond the calm band.

:func:`core.mechanisms.algorithmic_stablecoin.reserve_defence` spends ``rate`` of what is left times
``clip((peg (1 - band) - P) / (peg * ramp), 0, 1)``, ``ramp`` :data:`DEFENCE_RAMP` (the band: full at a discount of
twice the band). Before, the whole ``rate`` went in from the first ulp beyond the band's edge, and a coin one ulp
beyond the edge was lifted to the peg while one at it was not (Session 40 (crvust): $99.66M of loss between two
shocks one ulp apart). These tests fail on that step: the budget one ulp beyond the edge was half the reserve.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from core.mechanisms.algorithmic_stablecoin import DEFENCE_RAMP, PEG_CALM_BAND, reserve_defence

RATE = 0.5


def test_worked_numbers():
    """UST's dollar peg, a $3.5bn reserve: nothing at the peg, inside the band or at its edge (0.995); at 0.9925,
    half-way along the ramp, a quarter of the reserve (half of the rate's half); from 0.99, twice the band, the
    rate's half; a deeper discount spends no more."""
    spend = reserve_defence(np.array([1.0, 0.998, 0.995, 0.9925, 0.99, 0.95, 0.1]), 1.0, 3.5e9)
    assert spend[:3].tolist() == [0.0, 0.0, 0.0]
    assert spend[3] == pytest.approx(0.875e9, rel=1e-12)
    assert spend[4:].tolist() == pytest.approx([1.75e9] * 3, rel=1e-12)
    assert DEFENCE_RAMP == PEG_CALM_BAND  # full at twice the band [estimate, decision 22]


@settings(max_examples=200, deadline=None)
@given(peg=st.floats(0.5, 2.0), reserve=st.floats(1.0, 1e11), ulps=st.integers(1, 1000))
def test_continuous_at_the_band_edge(peg, reserve, ulps):
    """As the price tends to the band's edge from below, the budget tends to 0: a price ``ulps`` ulps under the edge
    gets at most ``rate`` of the reserve times its discount beyond the band over ``peg * ramp`` (the ramp's
    slope), which is a few parts in 1e13 of the reserve, where the step spent half of it."""
    edge = peg * (1.0 - PEG_CALM_BAND)
    price = edge
    for _ in range(ulps):
        price = np.nextafter(price, 0.0)
    spend = float(reserve_defence(np.array([price, edge]), peg, reserve)[0])
    at_edge = float(reserve_defence(np.array([edge]), peg, reserve)[0])
    assert at_edge == 0.0
    slope = RATE * reserve / (peg * DEFENCE_RAMP)
    assert 0.0 < spend <= slope * (edge - price) * (1.0 + 1e-9) + 1e-300
    assert spend < 1e-9 * reserve


@settings(max_examples=300, deadline=None)
@given(peg=st.floats(0.5, 2.0), reserve=st.floats(0.0, 1e11),
       q=st.lists(st.floats(0.0, 1.2), min_size=2, max_size=8))
def test_monotone_in_the_discount_and_bounded(peg, reserve, q):
    """The budget never falls as the price falls (a deeper discount never spends less), is zero at or above the
    band's edge, never more than ``rate`` of the reserve, and Lipschitz in the price with the ramp's slope: no
    step anywhere."""
    price = np.sort(np.asarray(q) * peg)  # ascending price: descending discount
    spend = reserve_defence(price, peg, reserve)
    assert (np.diff(spend) <= 1e-12 * max(reserve, 1.0)).all()
    assert (spend[price >= peg * (1.0 - PEG_CALM_BAND)] == 0.0).all()
    assert (spend <= RATE * reserve * (1.0 + 1e-12)).all()
    slope = RATE * reserve / (peg * DEFENCE_RAMP)
    assert (np.abs(np.diff(spend)) <= slope * np.diff(price) * (1.0 + 1e-9) + 1e-6).all()


def test_without_the_ramp_the_rule_before():
    """``ramp = 0`` is the rule before decision 22: the whole rate from the first ulp beyond the edge."""
    edge = 1.0 - PEG_CALM_BAND
    spend = reserve_defence(np.array([edge, np.nextafter(edge, 0.0)]), 1.0, 1e9, ramp=0.0)
    assert spend.tolist() == [0.0, 0.5e9]
