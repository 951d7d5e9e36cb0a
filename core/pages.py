"""Buffers a recorded run writes once, in small pages.

numpy advises the kernel to back every array of 4 MB or more with transparent huge pages
(``madvise(MADV_HUGEPAGE)``, numpy's ``NUMPY_MADVISE_HUGEPAGE``, on by default on Linux). That pays where
a large array is read again and again, and costs where it is written once into fresh memory: a recorded
run's per-round history (:mod:`core.engine.recording`) and the ``rounds`` table's block
(:func:`core.report.rounds_storage`), ~300 MB at 100,000 entities and 20 rounds, allocated for one
:func:`core.simulate` call and written round by round. On the 2-core virtual machines this project is
built, tested and benchmarked on (transparent huge pages in ``madvise`` mode), the first touch of a fresh
huge page cost 11–46 ms per MB against 0.5–0.8 ms per MB in 4 KB pages (64 MB filled three times each
way, session 11), which made the tables of ``core.simulate`` at 100,000 entities cost more than the run
itself. These buffers are therefore taken from a private anonymous memory map, which is not so advised (the
kernel's own default applies: with huge pages ``always`` they still get them). The memory is the same
zero-filled private anonymous memory ``np.empty`` would map, freed (unmapped) with the last array that uses it;
an array over it pickles by value like any other.
"""

from __future__ import annotations

import mmap
from math import prod

import numpy as np

__all__ = ["SMALL_PAGES_FROM", "written_once"]

#: Size from which numpy advises huge pages (``NPY_HUGEPAGE_SIZE`` in numpy's allocator: 4 MiB); smaller
#: arrays are allocated as usual.
SMALL_PAGES_FROM = 4 * 1024 * 1024


#: ``mmap.mmap(-1, size)`` maps anonymous memory ``MAP_SHARED`` on Unix: shared memory (shmem), whose first touch
#: costs more than private memory's (the page goes into shmem's page cache) and which a forked child writes in
#: common with its parent. ``MAP_PRIVATE | MAP_ANONYMOUS`` is the memory ``malloc`` maps. 176 MB touched page by page
#: (the ``rounds`` block at 100,000 entities and 20 rounds), process CPU: 89-94 ms shared, 56-59 ms private (session 18).
#: Elsewhere (Windows) the module's default.
_PRIVATE = ({"flags": mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS} if hasattr(mmap, "MAP_PRIVATE") and hasattr(mmap, "MAP_ANONYMOUS")
            else {})


def written_once(shape: tuple[int, ...], dtype=float) -> np.ndarray:
    """An array of ``shape`` and ``dtype`` to be written once (its values are zero, as ``np.empty`` of
    fresh memory gives; callers treat them as unset), in 4 KB pages when it is large.

    Examples
    --------
    >>> a = written_once((3, 1_000_000))
    >>> a.shape, a.dtype.name, a.flags.writeable, float(a.sum())
    ((3, 1000000), 'float64', True, 0.0)
    >>> written_once((2, 2), np.int8).tolist()
    [[0, 0], [0, 0]]
    """
    dtype = np.dtype(dtype)
    count = prod(shape)
    if count * dtype.itemsize < SMALL_PAGES_FROM:
        return np.zeros(shape, dtype)
    memory = mmap.mmap(-1, count * dtype.itemsize, **_PRIVATE)  # anonymous, zero-filled; unmapped with its last array
    return np.frombuffer(memory, dtype=dtype, count=count).reshape(shape)

