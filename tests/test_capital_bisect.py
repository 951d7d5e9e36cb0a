"""The liquidators' capital level (core.engine.capital): the bisection that takes several steps at once for a
few rows ends where one step at a time ends, to the last bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.engine import level_search


def _one_step_at_a_time(over, lo, hi):
    for _ in range(level_search.LEVEL_STEPS):
        mid = 0.5 * (lo + hi)
        up = over(mid, np.arange(len(lo)))
        lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
    return lo


@pytest.mark.parametrize("rows", [1, 2, 3, 5, 17, 40])
@pytest.mark.parametrize("seed", range(4))
def test_tree_bisection_is_the_bisection(rows, seed):
    rng = np.random.default_rng(seed)
    root = rng.uniform(0.0, 0.2, rows) * (rng.random(rows) < 0.8)  # some rows never over
    wiggle = rng.uniform(0, 1e-3, rows)
    lo = np.zeros(rows)
    hi = np.where(rng.random(rows) < 0.1, 0.0, rng.uniform(0.05, 0.3, rows))  # some empty intervals

    def over(level, at):  # not monotone everywhere: the walk must follow each answer, not a bracket
        return (level < root[at]) ^ (np.sin(level * 1e4 + at) > 1 - wiggle[at])

    calls = []

    def counted(level, at):
        calls.append(len(level))
        return over(level, at)

    got = level_search.bisect(counted, lo.copy(), hi.copy())
    want = _one_step_at_a_time(over, lo.copy(), hi.copy())
    assert np.array_equal(got, want)
    assert len(calls) <= level_search.LEVEL_STEPS


@pytest.mark.parametrize("rows", [1, 2, 3, 5, 17, 40, 70])
@pytest.mark.parametrize("seed", range(6))
def test_guided_bisection_is_the_bisection(rows, seed):
    """The guided search (core.engine.level_search.bisect_guided) walks only the steps it evaluated: whatever the
    numbers it guesses from (smooth, kinked, noisy at the last bits, missing, or lying about the turn), it ends
    where one step at a time ends, in fewer evaluations where the number is smooth."""
    rng = np.random.default_rng(100 + seed)
    root = rng.uniform(0.0, 0.2, rows) * (rng.random(rows) < 0.8)
    wiggle = rng.uniform(0, 1e-3, rows) * (seed % 2)
    lo = np.zeros(rows)
    hi = np.where(rng.random(rows) < 0.1, 0.0, rng.uniform(0.05, 0.3, rows))
    curve = rng.uniform(-3, 3, rows)
    kink = rng.uniform(0.0, 0.2, rows)

    def number(level, at):  # smooth near the turn, a kink elsewhere, noise in the last bits
        x = (root[at] - level) * (1 + curve[at] * level) + np.minimum(0.0, kink[at] - level) * 5.0
        return x + 1e-17 * np.sin(level * 1e9)

    def over(level, at):  # not monotone everywhere where it wiggles
        return (number(level, at) > 0) ^ (np.sin(level * 1e4 + at) > 1 - wiggle[at])

    calls = []

    def measure(level, at, tree):
        calls.append(len(level))
        v = number(level, at)
        if seed == 3:  # numbers missing (NaN) at random, or of the wrong sign: only guesses suffer
            v = np.where(rng.random(len(v)) < 0.3, np.nan, v)
        if seed == 5:
            v = -v
        return over(level, at), v

    got = level_search.bisect_guided(measure, lo.copy(), hi.copy())
    want = _one_step_at_a_time(over, lo.copy(), hi.copy())
    assert np.array_equal(got, want)
    if rows == 1 and seed in (0, 2, 4):  # smooth, one row: fewer evaluations than the trees' ten
        assert len(calls) < 10


def test_guided_bisection_with_an_infinite_end_is_the_bisection():
    """An interval with an end that is not finite (no midpoint to look up) is searched one step at a time."""
    lo, hi = np.zeros(3), np.array([0.2, np.inf, 0.1])
    root = np.array([0.05, 1e300, 0.2])

    def measure(level, at, tree):
        return level < root[at], root[at] - level

    got = level_search.bisect_guided(measure, lo.copy(), hi.copy())
    want = _one_step_at_a_time(lambda level, at: level < root[at], lo.copy(), hi.copy())
    assert np.array_equal(got, want, equal_nan=True)


@pytest.mark.parametrize("side", ["holds", "fails"])
def test_guided_bisection_on_one_side_climbs_along_a_path(side):
    """A row whose every level holds (the capital short up to the highest margin) walks to ``hi`` along a path
    guessed from the line through its two nearest levels (core.engine.level_search._beyond), and one where none
    holds to ``lo``: the bisection's ``lo`` to the last bit, in a few evaluations, not ten trees of six steps."""
    lo, hi = np.zeros(1), np.array([0.07696104113612832])

    def over(level, at):
        return np.full(len(level), side == "holds")

    calls = []

    def measure(level, at, tree):
        calls.append(len(level))
        # the excess falls towards the far end but stays on its side (USD, as the capital's search gives it)
        return over(level, at), (1e6 + 1e7 * (hi[at] - level)) * (1.0 if side == "holds" else -1.0)

    got = level_search.bisect_guided(measure, lo.copy(), hi.copy())
    want = _one_step_at_a_time(over, lo.copy(), hi.copy())
    assert np.array_equal(got, want)
    assert len(calls) <= 4


@pytest.mark.parametrize("ulps", [1, 3, 18, 200])
def test_guided_bisection_evaluates_each_pair_once(ulps):
    """A tree over an interval of a few floats repeats its midpoints (core.engine.level_search._measure_distinct):
    each distinct (row, level) pair is evaluated once a call, and the walk ends where one step at a time ends.
    Three rows, two of them with the same interval (the same levels, distinct pairs), one ending exactly at a
    float of the interval."""
    x0 = 0.07038201496517908
    lo = np.full(3, x0)
    hi = np.array([x0 + ulps * np.spacing(x0), x0 + ulps * np.spacing(x0), x0 + 2 * ulps * np.spacing(x0)])
    root = np.array([x0 + (ulps // 2) * np.spacing(x0), x0 + 0.3 * ulps * np.spacing(x0), hi[2]])
    calls = []

    def measure(level, at, tree):
        pairs = list(zip(at.tolist(), level.tolist()))
        assert len(set(pairs)) == len(pairs)
        calls.append(len(pairs))
        return level < root[at], root[at] - level

    got = level_search.bisect_guided(measure, lo.copy(), hi.copy())
    want = _one_step_at_a_time(lambda level, at: level < root[at], lo.copy(), hi.copy())
    assert np.array_equal(got, want)
    assert calls


def test_measure_distinct_reads_repeats_and_keeps_signed_zeros_and_nans_apart():
    """The answers a repeat reads are its first pair's; 0.0 and -0.0 are distinct levels, each NaN its own pair."""
    seen = []

    def measure(level, at, tree):
        seen.append((at.tolist(), level.tolist()))
        return np.signbit(level) | np.isnan(level), np.arange(len(level), dtype=float)

    ok, number = level_search._measure_distinct(measure, [0, 4], [[0.5, 0.0, 0.5, -0.0, np.nan], [0.5, np.nan, 0.5]],
                                                 True)
    at, level = seen[0]
    assert at == [0, 0, 0, 4] + [0, 4] and len(level) == 6
    assert level[:4] == [0.5, 0.0, -0.0, 0.5] and np.signbit(level[2]) and not np.signbit(level[1])
    assert ok == [False, False, False, True, True, False, True, False]
    assert number == [0.0, 1.0, 0.0, 2.0, 4.0, 3.0, 5.0, 3.0]


def _book_sum(level, L, k, twice_root_Q, per_ref, per_usd, ask, base):
    """The USD the order-book cohorts repay at each level, (n,), as core.engine.limits.limit_units and the capital
    search's sum compute it (units from the square-root law's closed form, cut to ``base``, then to ``ask``)."""
    x = L[None] - level[:, None]
    r = x / k[None]
    units = np.where(x > 0, np.maximum(r * (twice_root_Q[None] + r) / per_ref[None], 0.0), 0.0)
    return np.minimum(ask[None], np.minimum(units, base[None]) * per_usd[None]).sum(1)


@given(st.integers(1, 12), st.integers(0, 2 ** 32 - 1), st.floats(0.02, 0.98))
@settings(max_examples=200, deadline=None)
def test_level_guess_is_the_turn_of_the_book_cohorts_sum(m, seed, share):
    """core.engine.level_guess in closed form lands on the level where the order-book cohorts' repayments fall to the
    capital (found here by bisecting their sum, computed as the search computes it): within 1e-9 of the interval,
    whatever the cohorts' margins, impacts, units sold before and close factors (``share``: the capital's share of
    what they ask at level 0)."""
    from core.engine.level_guess import level_guess

    rng = np.random.default_rng(seed)
    L = rng.uniform(0.0, 0.1, m)
    k = 10 ** rng.uniform(-4, -1, m)
    Q = np.where(rng.random(m) < 0.3, 0.0, 10 ** rng.uniform(3, 9, m))
    twice_root_Q = 2.0 * np.sqrt(Q)
    per_ref = rng.uniform(100, 3000, m)
    per_usd = per_ref * rng.uniform(0.8, 1.2, m)
    ask = 10 ** rng.uniform(5, 9, m)
    base = np.where(rng.random(m) < 0.3, ask / per_usd * rng.uniform(0.1, 2, m), np.inf)
    lo, hi = np.zeros(1), np.array([L.max()])
    capital = np.array([share * _book_sum(lo, L, k, twice_root_Q, per_ref, per_usd, ask, base)[0]])
    a, b = lo.copy(), hi.copy()
    for _ in range(200):  # the turn, bisected on the sum itself
        mid = 0.5 * (a + b)
        up = _book_sum(mid, L, k, twice_root_Q, per_ref, per_usd, ask, base) > capital
        a, b = np.where(up, mid, a), np.where(up, b, mid)
    ones = np.ones(m, bool)
    got = level_guess(L[None], k[None], Q[None], twice_root_Q[None], per_ref[None], ones, ~ones, ones, base[None],
                      ask[None], per_usd[None], capital, lo, hi, weighed=ones)
    assert got is not None and np.isfinite(got).all()
    assert abs(got[0] - a[0]) <= 1e-9 * hi[0]


def test_level_guess_without_a_model_is_none_or_nan():
    """Units sold below 0 (the square-root law's other branch) leave a row without a guess (NaN); a batch over the
    budget has none (None): the search then starts with a tree."""
    from core.engine import level_guess as lg

    one = np.ones((1, 2))
    flags = np.ones(2, bool)
    got = lg.level_guess(0.05 * one, 0.01 * one, np.array([[-1.0, 4.0]]), np.array([[2.0, 4.0]]), 100 * one, flags,
                         ~flags, flags, np.inf, 1e6 * one, 100 * one, np.array([1e5]), np.zeros(1), np.array([0.05]),
                         weighed=flags)
    assert got is not None and np.isnan(got).all()
    many = lg.GUESS_BUDGET
    big = np.ones((many, 2))
    assert lg.level_guess(big, big, big, big, big, flags, ~flags, flags, np.inf, big, big, np.ones(many), np.zeros(many),
                          np.ones(many), weighed=flags) is None
