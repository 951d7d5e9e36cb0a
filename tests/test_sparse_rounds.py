"""Recorded arrays kept as their nonzero elements (:mod:`core.engine.sparse_rounds`) read back bit for bit, and
the report's passes over them give what the dense passes give."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from core.engine.sparse_rounds import LazyArrays, SparseRounds
from core.report_paths import _positive_cells, round_increments, sparse_increments

VALUES = np.array([0.0, -0.0, np.nan, 1.0, -2.5, 3e9, 0.5, 1e-300])


def rounds_of(seed: int, S: int, R: int, m: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.choice(VALUES, size=(S, R, m), p=[0.5, 0.1, 0.05, 0.1, 0.05, 0.1, 0.05, 0.05])
    return a * np.where(rng.random((S, R, m)) < 0.3, rng.uniform(0.5, 2.0, (S, R, m)), 1.0)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), S=st.integers(1, 3), R=st.integers(1, 6), m=st.integers(0, 40))
def test_sparse_rounds_read_back_bit_for_bit(seed, S, R, m):
    dense = rounds_of(seed, S, R, m)
    rec = SparseRounds()
    for r in range(R):
        rec.append(np.ascontiguousarray(dense[:, r]))
    got = rec.array()
    assert got.shape == dense.shape
    assert np.array_equal(got.view(np.uint64), dense.view(np.uint64))  # -0.0 and NaN included
    for s in range(S):
        for r in range(R):
            assert np.array_equal(rec.dense_row(s, r).view(np.uint64), dense[s, r].view(np.uint64))
    arrays = LazyArrays({}, {"x": rec})
    assert "x" in arrays and arrays.get("y") is None
    assert np.array_equal(arrays["x"].view(np.uint64), dense.view(np.uint64))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), S=st.integers(1, 3), R=st.integers(1, 6), m=st.integers(1, 40),
       thr=st.sampled_from([1e-300, 0.5, 1.0, 2e9]))
def test_sparse_passes_equal_the_dense_ones(seed, S, R, m, thr):
    dense = np.abs(np.nan_to_num(rounds_of(seed, S, R, m)))
    cum = np.cumsum(dense, axis=1)
    rec_cum, rec = SparseRounds(), SparseRounds()
    for r in range(R):
        rec_cum.append(np.ascontiguousarray(cum[:, r]))
        rec.append(np.ascontiguousarray(dense[:, r] - 0.25))
    for s in range(S):
        for got, want in zip(sparse_increments(rec_cum, s, thr), round_increments(cum[s], thr)):
            np.testing.assert_array_equal(got, want)
        cb = dense[s] - 0.25
        r_, q_ = np.nonzero(cb > 0)
        for got, want in zip(_positive_cells(rec, s), (r_, q_, cb[r_, q_])):
            np.testing.assert_array_equal(got, want)
