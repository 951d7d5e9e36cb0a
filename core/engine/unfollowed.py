"""A pool's unfollowed prices: the set of pool prices its coin did not trade at, kept as disjoint ranges.

Model. A coin that trades on several venues is held by arbitrage at its cheapest (Liu, Makarov & Schoar, "Anatomy
of a run: the Terra Luna crash", NBER WP 31160, 2023, on UST's venues). When its pool falls through prices above
the coin's (a queue sale, :mod:`core.engine.queue_sales`; the round's arbitrage, :mod:`core.engine.pool_arbitrage`,
decision 25; the fall of the pool's counter, :func:`~core.engine.queue_sales.counter_fall`, decision 24), the coin
stays where it trades and those pool prices are quotes it never traded at. A purchase that lifts the pool back up
through them (a reserve's defence, :func:`~core.engine.defend.defend_pegs`; the module arbitrage,
:func:`~core.engine.module_arbitrage.redeem_pool_coins`) lifts the coin by the part of its move outside them only
(:func:`lift_outside_unfollowed`): buying back the units sold changes neither what a redemption realises nor the
queue, and the round trip of the same units through the pool leaves the coin where it was.

Where the pool falls with its coin (the coin at the pool's price), the coin follows: those prices are not in the set.
So the set is a union of ranges with gaps between them, and it is kept as such: up to :data:`UNFOLLOWED_RANGES`
disjoint ranges a pool, ``(..., UNFOLLOWED_RANGES, 2)`` arrays of ``[low, high]`` (``low >= high``: an empty slot).
A new range is merged with the ranges it overlaps or touches (:func:`unfollowed_range`), never with a range across a
gap. (Before, one range a pool held the hull of the old range and the new one, so a sale of a few millionths of a
unit nine ulps under the pool's price, with the range held 5.7 % higher, near the peg, marked the whole 5.7 % between
them, which the pool had fallen through with UST at its price, as unfollowed: LFG's purchase of 2022-05's round 4
then lifted UST none (0.946065) at ETH -85.41098238606717 % and by its own move (0.946065 -> 0.984824) one ulp
deeper, where there were no units to sell, and the shallower run's spiral ran faster: system loss fell $1,139.60M at
one ulp, ``s43-lead-2022-eth-85-btc-94-one-ulp-no-runs-no-lag-liquidity-082``, Session 44 (terraedge).)

Where more disjoint ranges than slots are held, the two with the smallest gap between them (in log price, the gap
a purchase's lift would lose) are joined: the set's error is then that gap, the smallest the slots allow.
"""

from __future__ import annotations

import numpy as np

UNFOLLOWED_RANGES = 4  # disjoint ranges kept a pool (a queue sale, the arbitrage's and a counter's fall a round)


def empty_ranges(shape: tuple[int, ...]) -> np.ndarray:
    """No unfollowed prices: ``shape + (UNFOLLOWED_RANGES, 2)`` zeros."""
    return np.zeros(shape + (UNFOLLOWED_RANGES, 2))


def union_of_ranges(ranges: np.ndarray, slots: int = UNFOLLOWED_RANGES) -> np.ndarray:
    """The union of ``ranges`` (..., m, 2) as at most ``slots`` disjoint ranges (..., slots, 2), ascending, empty
    slots ``[0, 0]`` last. Ranges that overlap or touch join; beyond ``slots`` ranges, the pair with the smallest
    log gap joins (module docstring). A loop over the ``m`` slots, every row at once."""
    low, high = ranges[..., 0], ranges[..., 1]
    empty = ~(low < high)
    low, high = np.where(empty, np.inf, low), np.where(empty, np.inf, high)
    order = np.argsort(low, axis=-1, kind="stable")
    low, high = np.take_along_axis(low, order, -1), np.take_along_axis(high, order, -1)
    m = low.shape[-1]
    out = np.full(low.shape + (2,), np.inf)
    n = np.zeros(low.shape[:-1], dtype=np.intp)  # ranges closed so far, each row
    cur_low, cur_high = low[..., 0], high[..., 0]
    for j in range(1, m):
        join = low[..., j] <= cur_high  # overlaps or touches the open range (an empty slot joins an empty one)
        closed = ~join
        if closed.any():
            at = np.minimum(n, m - 1)[..., None, None]
            put = np.where(closed[..., None], np.stack([cur_low, cur_high], -1), np.take_along_axis(out, at, -2)[..., 0, :])
            np.put_along_axis(out, at, put[..., None, :], -2)
            n = n + closed
        cur_low = np.where(join, cur_low, low[..., j])
        cur_high = np.where(join, np.maximum(cur_high, high[..., j]), high[..., j])
    np.put_along_axis(out, np.minimum(n, m - 1)[..., None, None], np.stack([cur_low, cur_high], -1)[..., None, :], -2)
    count = m  # slots the rows have now
    while count > slots:  # too many: join the pair with the smallest log gap (or drop a trailing empty slot)
        lo, hi = out[..., 0], out[..., 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            gap = np.where(np.isfinite(lo[..., 1:]), np.log(lo[..., 1:]) - np.log(hi[..., :-1]), np.inf)
        # a row whose last slot is empty drops it (joined to the slot before, its high unchanged)
        k = np.expand_dims(np.where(np.isfinite(lo[..., -1]), np.argmin(gap, axis=-1), count - 2), -1)
        joined_high = np.take_along_axis(hi, k + 1, -1)
        keep = np.arange(count - 1)
        left = np.where(keep <= k, keep, keep + 1)  # drop slot k + 1 after giving its high to slot k
        lo2, hi2 = np.take_along_axis(lo, left, -1), np.take_along_axis(hi, left, -1)
        hi2 = np.where(keep == k, np.where(np.isfinite(joined_high), np.maximum(hi2, joined_high), hi2), hi2)
        out, count = np.stack([lo2, hi2], -1), count - 1
    return np.where(np.isfinite(out), out, 0.0)


def unfollowed_range(held: np.ndarray, px_before: np.ndarray, px_after: np.ndarray, px_at_coin: np.ndarray,
                     sold: np.ndarray) -> np.ndarray:
    """The pool prices a sale took the pool down through while its coin stayed, added to the ranges ``held``
    (..., UNFOLLOWED_RANGES, 2), with ``(...)`` prices (S,) for one pool or (S, p) for every pool at once: the sale
    took the pool from ``px_before`` to ``px_after`` where ``sold``; the coin's price before the sale, as the pool
    price at which it trades at it, is ``px_at_coin``, so it followed the pool only below that: the range is
    ``[clip(px_at_coin, px_after, px_before), px_before]``, joined with the held ranges it overlaps or touches and
    kept apart from the others (:func:`union_of_ranges`). Rows without a new range keep ``held`` to the bit.
    A reserve buying the pool back up through them lifts the coin none (:func:`lift_outside_unfollowed`)."""
    low = np.clip(px_at_coin, px_after, px_before)
    new = sold & (low < px_before)
    if not np.any(new):
        return held
    added = np.concatenate([held, np.stack([low, px_before], -1)[..., None, :]], -2)
    return np.where(new[..., None, None], union_of_ranges(added, held.shape[-2]), held)


def lift_outside_unfollowed(held: np.ndarray, px_before: np.ndarray, px_after: np.ndarray
                            ) -> tuple[np.ndarray, np.ndarray]:
    """A purchase that lifts a pool from ``px_before`` to ``px_after`` (S,): the share of its move, as a factor
    ``>= 1`` (S,), that lies inside the unfollowed ranges ``held`` (S, UNFOLLOWED_RANGES, 2) (the product of its
    overlaps with each), by which the coin's lift is divided (1 exactly where the move misses them: the lift keeps
    its bits); and the ranges left above ``px_after`` (S, UNFOLLOWED_RANGES, 2)."""
    low, high = held[..., 0], held[..., 1]
    before, after = px_before[:, None], px_after[:, None]
    top, bottom = np.minimum(after, high), np.maximum(before, low)
    inside = (high > low) & (top > bottom)
    factor = np.prod(np.where(inside, top / np.where(inside, bottom, 1.0), 1.0), axis=-1)
    left = np.stack([np.maximum(low, after), high], -1)
    left = np.where(left[..., :1] < left[..., 1:], left, 0.0)  # bought back through all of it: none left
    return factor, np.where(((high > low) & (after > before))[..., None], left, held)


def moved_within(held: np.ndarray, px_before: np.ndarray, px_after: np.ndarray) -> np.ndarray:
    """Rows (S,) where a purchase from ``px_before`` to ``px_after`` moved the pool no lift is due for: it did not
    rise, or it rose only inside one of the ranges ``held`` (S, UNFOLLOWED_RANGES, 2) (there the coin keeps its price
    to the bit, where ``P * px_after / px_before / round_trip``, ``P`` in exact arithmetic, gave it up to rounding)."""
    inside = (held[..., 0] <= px_before[:, None]) & (px_after[:, None] <= held[..., 1])
    return (px_after <= px_before) | inside.any(-1)
