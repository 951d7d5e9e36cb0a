"""A pool's unfollowed prices are a set of disjoint ranges (core.engine.unfollowed): a new range joins the ranges it
overlaps or touches and no other, so the prices between them, which the pool fell through with its coin, stay
followed. Worked on the numbers of the ledger pair whose cause this was
(``s43-lead-2022-eth-85-btc-94-one-ulp-no-runs-no-lag-liquidity-082``, Session 44 (terraedge)) and on that pair."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from core.engine.unfollowed import UNFOLLOWED_RANGES, empty_ranges, lift_outside_unfollowed, union_of_ranges, unfollowed_range

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_arbitrage_unfollowed import _pair_defences as pair_defences  # noqa: E402

PAIR = "s43-lead-2022-eth-85-btc-94-one-ulp-no-runs-no-lag-liquidity-082"
# Round 4 of the pair's shallower run, in the Curve UST pool's counter units: the range held since round 2 (the
# counter's fall from $1.00007 to $0.91426 with UST at $1.00, just under its quote), the pool's price before and
# after the round's arbitrage (a few millionths of a UST held outside the network, sold nine ulps down) and the pool's
# price after LFG's purchase.
HELD = (1.093902548522397, 1.0939800416453749)
BEFORE, AFTER, BOUGHT_TO = 1.034906748117171, 1.034906748117169, 1.0938738381158548


def _held() -> np.ndarray:
    held = empty_ranges((1,))
    held[0, 0] = HELD
    return held


def test_a_dust_sale_under_a_range_held_higher_keeps_the_gap_followed():
    # The sale's range is the nine ulps [AFTER, BEFORE]; the held range starts 5.70 % higher. Between them the pool fell
    # in rounds 2-3 with UST at its price (UST followed). The two are kept apart, and LFG's purchase from AFTER to
    # BOUGHT_TO (under HELD) lifts UST by all of its move but the nine ulps: the factor it is divided by is
    # BEFORE / AFTER = 1 + 2.0e-15. (Before, the one range became the hull [AFTER, HELD's high]: the factor was the
    # whole move, BOUGHT_TO / AFTER = 1.0570, and UST stayed at 0.946065 where, one ulp deeper, with nothing to sell, it
    # rose to 0.984824.)
    ranges = unfollowed_range(_held(), np.array([BEFORE]), np.array([AFTER]), np.array([AFTER]), np.array([True]))
    assert ranges[0, :2].tolist() == [[AFTER, BEFORE], list(HELD)]
    assert (ranges[0, 2:] == 0.0).all()
    factor, left = lift_outside_unfollowed(ranges, np.array([AFTER]), np.array([BOUGHT_TO]))
    assert factor[0] == BEFORE / AFTER
    assert factor[0] - 1.0 < 2.1e-15
    assert left[0, 1].tolist() == list(HELD) and (left[0, [0, 2, 3]] == 0.0).all()  # the higher range is still held
    # the purchase's lift is continuous in the sale: as the sale shrinks to nothing, its factor goes to 1
    for size in (1e-2, 1e-4, 1e-6):
        ranges = unfollowed_range(_held(), np.array([BEFORE]), np.array([BEFORE * (1 - size)]),
                                  np.array([BEFORE * (1 - size)]), np.array([True]))
        factor, _ = lift_outside_unfollowed(ranges, np.array([BEFORE * (1 - size)]), np.array([BOUGHT_TO]))
        assert factor[0] == pytest.approx(1 / (1 - size), rel=1e-12)


def test_ranges_that_overlap_or_touch_join_and_the_closest_join_when_the_slots_are_full():
    # [0.5, 0.6] and [0.55, 0.7] overlap: [0.5, 0.7]; [0.7, 0.8] touches it; [0.2, 0.3] and [0.9, 1.0] stay apart.
    ranges = np.array([[[0.5, 0.6], [0.0, 0.0], [0.55, 0.7], [0.9, 1.0], [0.2, 0.3], [0.7, 0.8]]])
    assert union_of_ranges(ranges, 4).tolist() == [[[0.2, 0.3], [0.5, 0.8], [0.9, 1.0], [0.0, 0.0]]]
    # five apart in four slots: the smallest log gap joins, 0.8 -> 0.85 (log 1.0606, against 1.1429 for 0.7 -> 0.8)
    ranges = np.array([[[0.1, 0.2], [0.3, 0.4], [0.5, 0.6], [0.7, 0.8], [0.85, 0.9]]])
    assert union_of_ranges(ranges, 4).tolist() == [[[0.1, 0.2], [0.3, 0.4], [0.5, 0.6], [0.7, 0.9]]]
    assert UNFOLLOWED_RANGES == 4


def _pair_defences(rounds: int = 6):
    """The ledger pair's two runs (shallower, deeper): UST before and after LFG's defence, each (rounds, 2)."""
    return pair_defences(rounds, PAIR)[:2]


def test_the_ledger_pair_lfg_lifts_ust_alike_at_both_depths():
    # ETH -85.41098238606717 % / one ulp deeper, BTC -93.82772377360308 % / one ulp deeper, no runs, no lag, liquidity
    # 0.822. In round 4 UST trades at $0.946065, at its pool's price (1.0349034 against the pool's 1.0349067 in pool
    # units). The shallower run's arbitrage sells its few millionths of a UST held outside nine ulps down; the deeper has
    # none. LFG then buys the pool up to 1.093874 in both and lifts UST by its own move, to what the queue realises,
    # 0.984824, in both. (Before: 0.946065 -> 0.946065 / 0.946065 -> 0.984824, the shallower's spiral ran faster and
    # system loss fell $1,139.60M at one ulp; now $27,135.24M at both depths, within $0.0001M.)
    # Decision 29 (Session 46 (defender)): LFG's defence sells none of its 1.69M LUNA, which with BTC at -94 % was
    # about a third of its reserve (LUNA at ~$62-70 against ~$170M of BTC and $50M of USDT and USDC), and it is paid
    # the LUNA minted for the UST it redeems, not the window's cash; it buys less in rounds 2-3 (0.8456M and 0.4228M
    # LUNA sold with its BTC before, none now), so UST enters round 4 at 0.918758, not 0.946065, and LFG's purchase
    # lifts it to 0.921372, not 0.984824, alike at both depths (both runs the same to the bit through round 5)
    before, after = _pair_defences()
    assert before[4].tolist() == pytest.approx([0.918758, 0.918758], abs=1e-6)
    assert after[4, 0] == pytest.approx(after[4, 1], rel=1e-14)
    assert after[4, 0] == pytest.approx(0.921372, abs=1e-6)
    assert after[:, 0] == pytest.approx(after[:, 1], rel=1e-13)
