"""The liquidators' capital level (core.engine.capital): the bisection that takes several steps at once for a
few rows ends where one step at a time ends, to the last bit."""

from __future__ import annotations

import numpy as np
import pytest

from core.engine import capital


def _one_step_at_a_time(over, lo, hi):
    for _ in range(capital.LEVEL_STEPS):
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

    got = capital._bisect(counted, lo.copy(), hi.copy())
    want = _one_step_at_a_time(over, lo.copy(), hi.copy())
    assert np.array_equal(got, want)
    assert len(calls) <= capital.LEVEL_STEPS
