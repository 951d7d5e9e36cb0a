"""core.branchless.zero_unless against np.where, bit for bit; core.pages' buffers private to their process;
core.report_rounds.inferred_strings against pandas' own inference."""

from __future__ import annotations

import os
import sys

import numpy as np
import pandas as pd
import pytest

from core.branchless import zero_unless
from core.pages import SMALL_PAGES_FROM, written_once
from core.report_rounds import inferred_strings


def test_zero_unless_has_np_where_bits():
    rng = np.random.default_rng(7)
    values = rng.standard_normal((3, 1000))
    values.flat[::17] = -0.0
    values.flat[::23] = np.nan
    values.flat[::29] = -np.inf
    keep = rng.random((3, 1000)) < 0.5
    expected = np.where(keep, values, 0.0)
    got = zero_unless(values.copy(), keep)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    assert got.tobytes() == expected.tobytes()


def test_zero_unless_broadcasts_keep_and_takes_other_arrays_as_np_where():
    values = np.array([[1.0, -2.0], [3.0, -0.0]])
    assert zero_unless(values.copy(), np.array([False, True])).tobytes() == np.where([False, True], values, 0.0).tobytes()
    keep = np.array([[True, False], [False, True]])
    for other in (np.array([[1.5, -2.5], [3.5, -0.0]], np.float32), np.asfortranarray(np.arange(6.0).reshape(2, 3))[:, :2],
                  np.arange(8.0).reshape(2, 4)[:, ::2]):
        expected = np.where(keep, other, 0.0)
        got = zero_unless(other.copy() if other.flags.c_contiguous else other, keep)
        assert got.dtype == expected.dtype and got.tobytes() == expected.tobytes()


@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "darwin", reason="needs fork")
def test_written_once_memory_is_not_shared_with_a_forked_child():
    """``mmap.mmap(-1, size)`` maps MAP_SHARED: a child's writes showed in its parent's array."""
    a = written_once((SMALL_PAGES_FROM // 8 + 1,))
    a[0], a[-1] = 1.0, 0.0  # a map kept for reuse holds what its last arrays left
    pid = os.fork()
    if pid == 0:  # the child writes and leaves at once
        a[0] = 2.0
        a[-1] = 3.0
        os._exit(0)
    os.waitpid(pid, 0)
    assert a[0] == 1.0 and a[-1] == 0.0


def test_inferred_strings_is_what_pandas_infers():
    values = np.array(["b", "a", "", "healthy"], dtype=object)
    inferred = pd.DataFrame({"x": values})
    wrapped = pd.DataFrame({"x": inferred_strings(values.copy())})
    assert wrapped["x"].dtype == inferred["x"].dtype
    pd.testing.assert_frame_equal(wrapped, inferred, check_exact=True)
