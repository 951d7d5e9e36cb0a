"""The bisection that finds the liquidators' capital level (:func:`core.engine.capital.capital_limit`): the
highest level whose repayments the capital covers, to the last bit.

:func:`bisect` halves ``[lo, hi]`` :data:`LEVEL_STEPS` times, each row's next steps evaluated together as a
tree of at most :data:`TREE_BUDGET` (row, level) pairs; :func:`bisect_guided` reaches the same ``lo``, bit for
bit, in fewer evaluations, from a guess of the level (``tests/test_capital_bisect.py`` compares the two): the
first a closed form's where one is given (:mod:`core.engine.level_guess`), then the secant's through the levels
evaluated.
"""

from __future__ import annotations

from math import ceil, copysign, isfinite, log2, ulp

import numpy as np

#: Bisection steps for the level (the margin interval halves each step: 2^-60 of it).
LEVEL_STEPS = 60

#: Most (row, level) pairs one evaluation of the bisection takes: a few rows try several levels at once.
TREE_BUDGET = 64


def bisect(over, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``lo`` after :data:`LEVEL_STEPS` bisection steps on ``[lo, hi]``: each step sets ``lo`` to the midpoint
    ``0.5 * (lo + hi)`` where ``over(mid, rows)`` holds, else ``hi``; ``over`` takes levels and the indices of
    the rows they stand for, and answers each pair alone (no pair's answer depends on its batch-mates).

    Several steps are taken at once for a few rows (numpy's cost per call dwarfs the arithmetic there): the
    ``2^d - 1`` midpoints the next ``d`` steps could visit, each computed as the step would compute it, are
    evaluated together, and each row then walks down its tree; the result is the same to the last bit as
    one step at a time. Rows whose interval has shrunk to a point stop changing, and the steps stop once all have."""
    R = len(lo)
    left = LEVEL_STEPS
    while left > 0 and bool((lo != hi).any()):
        d = 1
        while d < left and R * (2 ** (d + 1) - 1) <= TREE_BUDGET:
            d += 1
        m = 2 ** d - 1  # the tree's nodes, heap order from 0: node j's children are 2j + 1 (not over), 2j + 2
        a, b, mid = np.empty((R, m)), np.empty((R, m)), np.empty((R, m))
        a[:, 0], b[:, 0] = lo, hi
        for depth in range(d):  # the tree's levels, not rows: nodes 2^depth - 1 .. 2^(depth + 1) - 2
            j = slice(2 ** depth - 1, 2 ** (depth + 1) - 1)
            mid[:, j] = 0.5 * (a[:, j] + b[:, j])
            if depth + 1 < d:  # children of node i: 2i + 1 on (a, mid), 2i + 2 on (mid, b)
                first = slice(2 ** (depth + 1) - 1, 2 ** (depth + 2) - 1, 2)
                second = slice(2 ** (depth + 1), 2 ** (depth + 2) - 1, 2)
                a[:, first], a[:, second] = a[:, j], mid[:, j]
                b[:, first], b[:, second] = mid[:, j], b[:, j]
        ok = over(mid.ravel(), np.repeat(np.arange(R), m)).reshape(R, m)
        node = np.zeros(R, int)
        at = np.arange(R)
        for _ in range(d):
            up = ok[at, node]
            x = mid[at, node]
            lo, hi = np.where(up, x, lo), np.where(up, hi, x)
            node = 2 * node + 1 + up
        left -= d
    return lo


def bisect_guided(measure, lo_start: np.ndarray, hi_start: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    """:func:`bisect`'s ``lo``, to the last bit, in fewer evaluations: ``measure(levels, rows)`` gives each pair's
    answer (``over``; ``tree``: whether some row's levels are a tree's, spread over its interval, else all
    near the guessed turn) and a number that is positive where it holds (the repayments less the capital), which
    locates the level where the answers turn, so that the steps can be guessed ahead and checked.

    Each evaluation takes, for every row still moving, the levels of a plan: the ``2^d - 1`` midpoints its
    next ``d`` steps could visit (a tree, as :func:`bisect`), or the midpoints of the path its next steps take
    if each answer is the one a guess of the turn predicts (a midpoint below the guess holds), or a smaller
    tree and the path beyond it. The guess is the secant through the nearest levels evaluated on either side
    of the turn; a row takes the path alone, along the inverse quadratic through the nearest three, where that
    agrees with the secant closely enough that the path should outrun a tree (where the number is smooth near
    the turn: the pools' solves and the cohorts' square roots, between the kinks where a cohort's margin or its
    close factor binds), a tree alone before either side is seen twice and for the last few steps. A row then takes the
    bisection's steps, each from its midpoint ``0.5 * (lo + hi)``, for as long as that midpoint was evaluated
    (an answer is its level's and row's alone), and the next evaluation goes on from there: every step taken
    is the bisection's step, so a wrong guess costs evaluations, never bits. A row stops after
    :data:`LEVEL_STEPS` steps, once its interval is a point, or once a step leaves it as it was (a midpoint
    rounded to an end that stays: every later step then has the same midpoint and answer).

    ``start`` (R,): a guess of each row's turn before any level is evaluated (NaN: none;
    :func:`~core.engine.level_guess.level_guess`): the row's first evaluation is the path towards it (``tree``
    false where no row's plan is a tree), not a tree."""
    R = len(lo_start)
    if not (np.isfinite(lo_start).all() and np.isfinite(hi_start).all()):  # the walk looks midpoints up
        return bisect(lambda level, at: measure(level, at, True)[0], lo_start, hi_start)
    lo, hi = [float(x) for x in lo_start], [float(x) for x in hi_start]
    left = [LEVEL_STEPS] * R
    # the nearest levels evaluated on each side of the turn, two each, with their numbers (the guess's points)
    below: list[list[tuple[float, float]]] = [[] for _ in range(R)]
    above: list[list[tuple[float, float]]] = [[] for _ in range(R)]
    while True:
        live = [i for i in range(R) if left[i] > 0 and lo[i] != hi[i]]
        if not live:
            break
        share = max(1, TREE_BUDGET // len(live))  # the pairs each row's plan may take
        plans, spread = [], False
        for i in live:
            d = 1
            while d < left[i] and 2 ** (d + 1) - 1 <= share:
                d += 1
            guess = _guess(below[i], above[i], lo[i], hi[i], d)
            steps = _steps_left(lo[i], hi[i], left[i])
            if guess is None and start is not None and not below[i] and not above[i] and start[i] == start[i]:
                # the first steps along the guess given: a path (``tree`` false), most of its levels near the turn
                plans.append(_path_levels(lo[i], hi[i], float(start[i]), min(left[i], share)))
            elif guess is None or steps <= d + 1:  # a tree; the last steps in one
                plans.append(_tree_levels(lo[i], hi[i], d + 1 if steps == d + 1 else d))
                spread = True
            elif guess[1]:  # a path
                plans.append(_path_levels(lo[i], hi[i], guess[0], min(left[i], share)))
            else:  # a smaller tree, and the path where it does not reach
                tree = _tree_levels(lo[i], hi[i], d - 1)
                path = _path_levels(lo[i], hi[i], guess[0], min(left[i], share - len(tree) + d - 1))
                plans.append(tree + path[d - 1:])
                spread = True
        ok, excess = _measure_distinct(measure, live, plans, spread)
        k = 0
        for i, plan in zip(live, plans):
            answers, numbers = ok[k:k + len(plan)], excess[k:k + len(plan)]
            k += len(plan)
            # the guess's nearest points on each side (a number not computed, NaN, is an answer without a number)
            held = [(x, v) for x, up, v in zip(plan, answers, numbers) if up and v == v]
            failed = [(x, v) for x, up, v in zip(plan, answers, numbers) if not up and v == v]
            if held:
                below[i] = sorted(below[i] + held, reverse=True)[:2]
            if failed:
                above[i] = sorted(above[i] + failed)[:2]
            seen = dict(zip(plan, answers))  # an answer is its level's (and row's): looked up by the midpoint
            while left[i] > 0:
                x = 0.5 * (lo[i] + hi[i])  # the bisection's midpoint
                up = seen.get(x)
                if up is None:  # not evaluated: the next evaluation goes on from here
                    break
                if (x == lo[i] and up) or (x == hi[i] and not up):  # a step that changes nothing: the next
                    left[i] = 0  # has the same midpoint and answer, and so on to the last (a fixed point)
                    break
                lo[i], hi[i] = (x, hi[i]) if up else (lo[i], x)
                left[i] -= 1
    return np.asarray(lo)


def _measure_distinct(measure, live: list[int], plans: list[list[float]], spread: bool) -> tuple[list, list]:
    """``measure``'s answers and numbers for every level of every plan (rows ``live``), each distinct (row, level)
    pair evaluated once: an answer is its pair's alone, so a repeat reads the first's. (A tree's midpoints
    repeat where its interval spans fewer floats than it has nodes, as in a search's last steps: the 127
    levels of a tree over 18 ulps are some 19 floats; 18% of the pairs of afafd7b's Black Thursday preset.)
    Levels are told apart by their bits (``0.0`` from ``-0.0``; a NaN is its own pair)."""
    rows = [i for i, plan in zip(live, plans) for _ in plan]
    levels = [x for plan in plans for x in plan]
    if len(set(zip(rows, levels))) == len(levels):  # none equal (a NaN is its own object): none repeats
        ok, excess = measure(np.asarray(levels), np.asarray(rows, dtype=np.intp), spread)
        return ok.tolist(), excess.tolist()
    keys = [(i, x, copysign(1.0, x)) for i, x in zip(rows, levels)]
    first: dict[tuple[int, float, float], int] = {}
    of = [first.setdefault(k, len(first)) if k[1] == k[1] else -1 for k in keys]
    pairs = list(first) + [k for k, j in zip(keys, of) if j < 0]  # the distinct pairs, then any NaN level alone
    ok, excess = measure(np.asarray([k[1] for k in pairs]), np.asarray([k[0] for k in pairs], dtype=np.intp), spread)
    ok, excess = ok.tolist(), excess.tolist()
    nan_at = len(first)
    for n, j in enumerate(of):
        if j < 0:
            of[n], nan_at = nan_at, nan_at + 1
    return [ok[j] for j in of], [excess[j] for j in of]


def _guess(below: list[tuple[float, float]], above: list[tuple[float, float]], lo: float, hi: float,
           d: int) -> tuple[float, bool] | None:
    """Where the repayments' excess turns, guessed from the nearest levels evaluated on either side
    (``below``: where it holds, nearest first; ``above``: where it does not): the secant through the nearest
    two, inside ``[lo, hi]``, and whether it should outrun a tree of depth ``d`` (the inverse quadratic through
    the nearest three within ``2^-(d + 2)`` of the interval of it: about the error of either), the guess then the
    inverse quadratic's (the more accurate where the number is smooth: the 11 searches of afafd7b's Black Thursday
    preset took 49 evaluations with it, 56 along the secant); None before both
    sides are seen but for two levels on one side, where the line through them is extended to the turn (to the
    interval's end on the far side where it does not fall towards it): every level so far held, say, as when the
    capital runs short up to the highest margin, and the steps then climb to ``hi`` along one path, not a tree
    of six at a time."""
    if not below or not above:
        return _beyond(below, lo, hi) if below else _beyond(above, hi, lo) if above else None
    (xa, ga), (xb, gb) = below[0], above[0]
    if not (xa < xb and ga > 0 >= gb and isfinite(ga) and isfinite(gb)):
        return None
    x = xa + (xb - xa) * (ga / (ga - gb))  # ga - gb >= ga > 0
    if not isfinite(x):
        return None
    x = min(max(x, lo), hi)
    if len(below) + len(above) < 3:
        return x, False
    (x2, g2) = min(below[1:] + above[1:], key=lambda p_: min(abs(p_[0] - xa), abs(p_[0] - xb)))
    if not isfinite(g2) or len({ga, gb, g2}) < 3:
        return x, False
    try:  # Python floats: a product of differences that underflows to 0 raises
        q = (xa * gb * g2 / ((ga - gb) * (ga - g2)) + xb * ga * g2 / ((gb - ga) * (gb - g2))
             + x2 * ga * gb / ((g2 - ga) * (g2 - gb)))
    except ZeroDivisionError:
        return x, False
    close = abs(q - x) * 2.0 ** (d + 2) <= hi - lo
    return (min(max(q, lo), hi) if close and isfinite(q) else x), close


def _beyond(side: list[tuple[float, float]], near: float, far: float) -> tuple[float, bool] | None:
    """:func:`_guess` where only one ``side`` of the turn is seen (nearest first, every level between ``near``
    and them): where the line through its two nearest points crosses zero, towards ``far``, or ``far`` where it
    does not; None with fewer than two points."""
    if len(side) < 2:
        return None
    (x1, g1), (x2, g2) = side[0], side[1]
    x = far  # where the line does not cross zero beyond the nearest point
    if isfinite(g1) and isfinite(g2) and g1 != g2:
        cross = x1 + (x2 - x1) * (g1 / (g1 - g2))
        if isfinite(cross) and (cross - x1) * (far - near) > 0:
            x = cross
    return min(max(x, min(near, far)), max(near, far)), False


def _steps_left(lo: float, hi: float, left: int) -> int:
    """Steps that can still change ``[lo, hi]``: until it is a point (about one per bit between them), at most ``left``."""
    gap = hi - lo
    if not (gap > 0):
        return 0
    return min(left, ceil(log2(max(gap / ulp(max(abs(lo), abs(hi))), 1.0))) + 2)


def _tree_levels(lo: float, hi: float, d: int) -> list[float]:
    """The ``2^d - 1`` midpoints the next ``d`` steps could visit, heap order (node j's children: 2j + 1 where
    its answer does not hold, 2j + 2 where it does)."""
    a, b, mid = [lo], [hi], []
    for j in range(2 ** d - 1):
        m = 0.5 * (a[j] + b[j])
        mid.append(m)
        a += [a[j], m]
        b += [m, b[j]]
    return mid


def _path_levels(lo: float, hi: float, guess: float, n: int) -> list[float]:
    """The midpoints of the next ``n`` steps if each answer is the guess's (a midpoint below ``guess`` holds)."""
    out = []
    for _ in range(n):
        m = 0.5 * (lo + hi)
        out.append(m)
        lo, hi = (m, hi) if m < guess else (lo, m)
    return out
