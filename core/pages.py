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

Re-measured in session 19 on a 2-core Firecracker VM (Linux 6.18, transparent huge pages ``madvise``, defrag
``madvise``, the balloon's free page reporting on: freed 2 MB blocks go back to the host), 176 MB (11 rows of 20
rounds x 100,000 floats) written round by round, process CPU, medians of 7-15 turns: 4 KB pages 102-104 ms
(43,000 faults), ``MAP_POPULATE`` of the whole map 104-106 ms (it faults in rounds a run may never reach),
``madvise(MADV_HUGEPAGE)`` 33-35 ms in most turns but 270-440 ms in one turn in five (fresh host memory behind a
huge page). In ``core.simulate`` at 100,000 entities, six alternating turns: 4 KB pages 1,044 ms CPU (149 ms of it
in the kernel), huge pages 1,469 ms (489 ms in the kernel). The pages therefore stay 4 KB, and a slot about to be
written is faulted in by one call (:func:`prefault`, ``madvise(MADV_POPULATE_WRITE)``, Linux 5.14 and later): the
same 176 MB written slot by slot, ten alternating turns, 102 ms plain against 62 ms so (kernel time 94 -> 54 ms).
"""

from __future__ import annotations

import mmap
import sys
from math import prod

import numpy as np

__all__ = ["SMALL_PAGES_FROM", "prefault", "written_once"]

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



#: ``madvise(MADV_POPULATE_WRITE)`` (Linux 5.14, ``<linux/mman.h>``: 23; Python defines the name from 3.12 where the
#: headers do): the pages of a range faulted in, writable, by one call instead of one fault per 4 KB page.
_POPULATE_WRITE = getattr(mmap, "MADV_POPULATE_WRITE", 23) if sys.platform.startswith("linux") else None
_PAGE = mmap.PAGESIZE


def prefault(a: np.ndarray) -> None:
    """Fault in the pages under ``a``, a contiguous view of a :func:`written_once` map about to be written, in one
    kernel call (``MADV_POPULATE_WRITE``): the same zero pages the writes would fault in one by one (a 4 KB page
    costs its fault's entry and exit besides its zeroing). Anything else (another array, a strided view, an older
    kernel or another system) is left as it is: the writes fault it in.

    Examples
    --------
    >>> a = written_once((4, 1_000_000))
    >>> prefault(a[1])
    >>> float(a.sum())
    0.0
    """
    if _POPULATE_WRITE is None or a.nbytes < SMALL_PAGES_FROM // 64 or not a.flags.c_contiguous:
        return  # a few pages (64 KB and less): not worth a call
    root = a
    while isinstance(root.base, np.ndarray):
        root = root.base
    memory = root.base.obj if isinstance(root.base, memoryview) else root.base  # np.frombuffer keeps a memoryview
    if not isinstance(memory, mmap.mmap):
        return
    start = a.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    aligned = start - start % _PAGE
    _populate(memory, aligned, start + a.nbytes - aligned)


def _populate(memory: mmap.mmap, start: int, length: int) -> None:
    global _POPULATE_WRITE
    if _POPULATE_WRITE is None:
        return
    try:
        memory.madvise(_POPULATE_WRITE, start, length)
    except (OSError, ValueError):  # a kernel before 5.14 (EINVAL): the writes fault the pages in
        _POPULATE_WRITE = None
