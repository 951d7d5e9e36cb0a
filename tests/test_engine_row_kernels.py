"""The per-row kernels the engine uses in place of numpy's general forms give the same bits (session 21).

Each is checked against the form it replaces on arrays searched by hypothesis, signed zeros, infinities and
NaN among the values: a faster form that moved one bit would move a Monte Carlo's results.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

import core
from core.engine import compile_network
from core.engine.maker_book import SLOT_SUM_ROWS, maker_columns, secured_units, slot_sum

VALUES = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                   st.sampled_from([0.0, -0.0, 1e-300, -1e300, 5e-324]))


def bits(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x).view(np.uint8)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, SLOT_SUM_ROWS + 40), st.integers(1, 12), st.integers(1, 40), st.data())
def test_slot_sum_is_numpys_sum_over_the_slots(rows, slots, m, data):
    x = data.draw(arrays(np.float64, (rows, slots, m), elements=VALUES))
    assert np.array_equal(bits(slot_sum(x)), bits(x.sum(1)))
    # a layout numpy sums otherwise (one cohort: the slots contiguous, summed pairwise; a strided view) is left to it
    assert np.array_equal(bits(slot_sum(x[:, :, :1])), bits(x[:, :, :1].sum(1)))
    assert np.array_equal(bits(slot_sum(x[:, ::-1])), bits(x[:, ::-1].sum(1)))


def test_one_cohort_counterexample():  # hypothesis' find: 128 rows, 8 slots, one cohort, 1.8e15 each
    x = np.full((SLOT_SUM_ROWS, 8, 1), 1.8014398509481984e15) * (1 + np.arange(8) * 2.0 ** -52)[None, :, None]
    assert np.array_equal(bits(slot_sum(x)), bits(x.sum(1)))


def test_slot_sum_of_negative_zeros_is_positive_zero():
    x = np.full((SLOT_SUM_ROWS, 6, 3), -0.0)
    assert not np.signbit(slot_sum(x)).any() and not np.signbit(x.sum(1)).any()


def _reference_secured(c, coll, free, lot):  # the form before session 21: fancy indices, numpy's sum
    if not free.any():
        return coll
    out = coll.copy()
    M = c.maker.cohorts
    out[:, M] -= np.minimum(free, np.maximum(out[:, M] - lot.sum(1), 0.0))
    return out


@settings(max_examples=25, deadline=None)
@given(st.integers(1, SLOT_SUM_ROWS + 20), st.integers(0, 2**32 - 1))
def test_secured_units_slice_and_indices_give_the_reference_bits(rows, seed):
    c = compile_network(core.datasets.load("crypto-2022-05"))
    assert isinstance(maker_columns(c), slice)  # the shipped network's Maker cohorts are contiguous
    rng = np.random.default_rng(seed)
    m = c.maker.m
    coll = rng.random((rows, len(c.c_ca))) * 10.0 ** rng.integers(-3, 9, (rows, len(c.c_ca)))
    free = np.where(rng.random((rows, m)) < 0.4, rng.random((rows, m)) * 1e6, 0.0)
    lot = np.where(rng.random((rows, 6, m)) < 0.2, rng.random((rows, 6, m)) * 1e6, -0.0)
    want = _reference_secured(c, coll, free, lot)
    assert np.array_equal(bits(secured_units(c, coll, free, lot)), bits(want))
    # the same network with its cohorts as indices (a table listing an ilk's cohorts apart)
    spread_out = SimpleNamespace(maker=c.maker, __dict__={})
    spread_out.__dict__["maker_columns"] = c.maker.cohorts
    assert np.array_equal(bits(secured_units(spread_out, coll, free, lot)), bits(want))
