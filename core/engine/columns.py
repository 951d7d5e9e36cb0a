"""Columns of a round's (S, m) arrays written by index: :func:`put_columns`, the faster form of ``x[:, idx] = v``.

The liquidation step computes its rules on the cohorts due only (:mod:`core.engine.cohort_rules`) and writes
their figures back among every cohort's; one scenario of a large network (synthetic(100k): 44,845 cohorts, some
16,000 due a round) does so several times a round. (Reading columns, ``x.take(idx, axis=1)`` is already the
faster gather: :func:`core.engine.limits._columns`.)
"""

from __future__ import annotations

import numpy as np


def put_columns(out: np.ndarray, cols: np.ndarray, values: np.ndarray | float) -> None:
    """``out[:, cols] = values`` in place, ``out`` (S, m), ``cols`` integer indices, ``values`` (S, len(cols)), or
    what broadcasts to it: the same elements written. One row is written through its own view (``out[0][cols] = ...``), a
    one-dimensional index assignment, some 2.5x faster than the two-dimensional one on a row of 45,000 cohorts
    (18,000 written: 49 -> 19.5 us, numpy 2.4)."""
    if out.shape[0] == 1 and out.ndim == 2:
        out[0][cols] = np.asarray(values)[0] if np.ndim(values) == 2 else values
    else:
        out[:, cols] = values


def column_index(cols: np.ndarray) -> slice | np.ndarray:
    """``cols`` (increasing integer indices) as an index of an array's columns: a slice where they are contiguous,
    whose reads are views and whose writes are in place without numpy's fancy indexing (31 columns of 1,667 rows:
    a read 36 -> 3 us, a read-modify-write ~300 us less), else ``cols``: the same elements either way."""
    cols = np.asarray(cols)
    if cols.ndim == 1 and cols.size and cols.dtype.kind in "iu" and bool((np.diff(cols) == 1).all()):
        return slice(int(cols[0]), int(cols[-1]) + 1)
    return cols
