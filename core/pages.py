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
itself. These buffers are therefore taken from an anonymous memory map, which is not so advised (the
kernel's own default applies: with huge pages ``always`` they still get them). The memory is the same
zero-filled anonymous memory ``np.empty`` would map; an array over it pickles by value like any other.

Touching fresh 4 KB pages still costs what the kernel takes to fault and zero them, ~0.65 ms per MB here:
the ``rounds`` block alone, 160 MB at 100,000 entities and 20 rounds, took ~100 ms of a ~1 s
:func:`core.simulate`. A mapping whose last array is gone is therefore kept, up to :data:`KEPT_BYTES` in
all, and given (zeroed again) to the next request of its size: ``malloc`` keeps freed memory the same way
below its mmap threshold (32 MB at most), which is why the engine's own arrays cost no such faults. The
memory kept is what the last dropped results' tables used, never more than :data:`KEPT_BYTES`; a process
that keeps its results keeps nothing here.
"""

from __future__ import annotations

import ctypes
import mmap
import threading
import weakref
from math import prod

import numpy as np

__all__ = ["KEPT_BYTES", "SMALL_PAGES_FROM", "written_once"]

#: Size from which numpy advises huge pages (``NPY_HUGEPAGE_SIZE`` in numpy's allocator: 4 MiB); smaller
#: arrays are allocated as usual.
SMALL_PAGES_FROM = 4 * 1024 * 1024


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
    size = count * dtype.itemsize
    if size < SMALL_PAGES_FROM:
        return np.zeros(shape, dtype)
    memory = _kept_mapping(size)
    fresh = memory is None
    if memory is None:
        memory = mmap.mmap(-1, size)  # anonymous, private, zero-filled
    lease = (ctypes.c_char * size).from_buffer(memory)  # the arrays' base: when it goes, the mapping is kept
    weakref.finalize(lease, _keep, memory).atexit = False
    out = np.frombuffer(lease, dtype=dtype, count=count).reshape(shape)
    if not fresh:
        out.fill(0)  # a kept mapping holds its last arrays' values
    return out


#: Most bytes of freed mappings :func:`written_once` keeps for the next requests of their size.
KEPT_BYTES = 512 * 1024 * 1024
_KEPT: list[mmap.mmap] = []  # freed mappings, oldest first
_TAKING = threading.Lock()


def _keep(memory: mmap.mmap) -> None:
    """Keep a mapping whose last array is gone (a finalizer: list appends and pops only), dropping the
    oldest ones beyond :data:`KEPT_BYTES` (unmapped when dropped)."""
    if len(memory) > KEPT_BYTES:
        return
    _KEPT.append(memory)
    try:
        while sum(map(len, _KEPT)) > KEPT_BYTES:
            _KEPT.pop(0)
    except IndexError:  # another thread took them meanwhile
        pass


def _kept_mapping(size: int) -> mmap.mmap | None:
    """A kept mapping of exactly ``size`` bytes, taken out of the pool, or None."""
    with _TAKING:
        for i in range(len(_KEPT) - 1, -1, -1):  # the newest first
            try:
                if len(_KEPT[i]) == size:
                    return _KEPT.pop(i)
            except IndexError:  # a finalizer dropped some meanwhile
                return None
    return None
