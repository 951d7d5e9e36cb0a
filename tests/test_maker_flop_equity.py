"""Debt auctions spend MKR holders' equity (``core.mechanisms.maker_backstop.flop_auction``; ``flop.sol``,
``vow.sol``): the DAI a round raises is burnt against sin, so the market cap it leaves is the equity the loss left,
:math:`E - D/(1-\\delta)`, and all the rounds of a run together raise at most :math:`(1-\\delta)E_0`.

Before session 11 the cap returned to :math:`E` after each round (the price fell only on the old supply), so each
round could raise up to :math:`0.86E` again and MKR holders paid more than their equity was worth."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from core.mechanisms.maker_backstop import flop_auction

SETTINGS = settings(max_examples=80, deadline=None, database=None)


def _rounds(deficits, M, p, delta=0.14, capacity=np.inf):
    """Run the debt auctions round after round as the engine does (maker_liquidations: supply + minted, the
    round's price; a round's unraised deficit carried), returning the DAI raised per round and the last state."""
    raised, left, failed = [], 0.0, False
    for D in deficits:
        r = flop_auction(left + D, M, p, auction_discount=delta, capacity_usd=capacity)
        if bool(r.failed):
            failed = True
            raised.append(0.0)
            break
        M, p, left = M + float(r.minted), float(r.mkr_price), float(r.deficit)
        raised.append(float(r.raised))
    return raised, M, p, failed


def test_black_thursday_cap_after_the_auction():
    # 5.3M DAI against 1.0M MKR at $300: p* = 300 - 5.3e6 / (0.86 x 1e6) = 293.837; 5.3e6 / (0.86 x 293.837) =
    # 20,973.5 MKR (history 20,980, SmithCrown) bid at 252.70 DAI; the cap left 300M - 6.1628M = 293.837M over
    # 1,020,973.5 MKR = $287.80 (history: $282.79 as the auctions ended; the old model's 293.84)
    r = flop_auction(5.3e6, 1.0e6, 300.0)
    assert float(r.minted) == pytest.approx(20973.5, abs=0.05)
    assert 5.3e6 / float(r.minted) == pytest.approx(252.70, abs=0.005)
    assert float(r.mkr_price) == pytest.approx(287.80, abs=0.005)
    assert (1.0e6 + float(r.minted)) * float(r.mkr_price) == pytest.approx(300e6 - 5.3e6 / 0.86, rel=1e-12)


def test_rounds_do_not_raise_the_equity_again():
    # $100 of MKR (1 MKR at $100), three deficits of $40: round 1 leaves a cap of 100 - 40/0.86 = 53.488, round 2
    # 53.488 - 46.512 = 6.977, round 3 needs 46.512 > 6.977 and fails. Raised 40 + 40 = 80 <= 0.86 x 100.
    # (The old model kept the cap at 100 and raised all 120.)
    raised, M, p, failed = _rounds([40.0, 40.0, 40.0], 1.0, 100.0)
    assert raised == [40.0, 40.0, 0.0] and failed
    raised, M, p, failed = _rounds([40.0, 40.0], 1.0, 100.0)
    assert M * p == pytest.approx(100.0 - 80.0 / 0.86, rel=1e-12) and M * p == pytest.approx(6.9767, abs=1e-4)


def test_one_round_threshold_unchanged():
    # a single round still fails only where E <= D / (1 - delta) (the 2020 network's $378.4M limit is kept)
    limit = 0.86 * 440e6
    assert not bool(flop_auction(limit - 1e3, 1.0e6, 440.0).failed)
    assert bool(flop_auction(limit + 1e3, 1.0e6, 440.0).failed)


@SETTINGS
@given(st.lists(st.floats(0.0, 5e8), min_size=1, max_size=12), st.floats(1e4, 1e7), st.floats(1.0, 5000.0),
       st.floats(0.0, 0.5), st.floats(1e5, 1e10))
def test_cumulative_raised_within_equity_at_the_discount(deficits, M0, p0, delta, capacity):
    raised, M, p, failed = _rounds(deficits, M0, p0, delta, capacity)
    E0 = M0 * p0
    assert sum(raised) <= (1.0 - delta) * E0 * (1 + 1e-9)
    if not failed:
        # the cap left is the snapshot's equity less what the rounds spent at the discount
        assert M * p == pytest.approx(E0 - sum(raised) / (1.0 - delta), rel=1e-6, abs=1e-6 * E0)
        assert M * p >= -1e-9 * E0
