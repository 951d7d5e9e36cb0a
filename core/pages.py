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

A map whose arrays are all gone is kept for the next :func:`written_once` of its size (:class:`_Lease`, session 21):
repeated runs of one size (a dashboard's, a sweep's, a benchmark's) write into pages already mapped instead of
faulting fresh ones in and unmapping them again. Measured on 176 MB: populating a fresh map 57-61 ms CPU and
unmapping it 12-15 ms, writing a resident one 1 ms. The map is handed back ``madvise(MADV_FREE)`` (Linux 4.5; 9 ms
for 176 MB): its pages stay until the kernel needs the memory, which it then takes without writing them anywhere
(a page it took is a zero page again at the next write, as a fresh map's). At most :data:`POOL_BYTES` are kept
(oldest unmapped first). In ``core.simulate`` at 100,000 entities, alternating turns in one process at load 5-6
(a prototype): 750 -> 665 ms CPU with the maps kept resident, 800 -> 720 ms handed back so (kernel time 125 ->
25 ms); this module at load ~9.6, 8 turns: maps fresh 797 ms, reused 732 ms (the engine run 365 ms). The price:
after a 100,000-entity result is dropped its 176 MB block stays mapped (RSS 590 -> 767 MB) until reused, evicted
or taken back by the kernel.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import sys
import threading
from math import prod

import numpy as np

__all__ = ["SMALL_PAGES_FROM", "prefault", "small_pages", "written_once"]

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
    """An array of ``shape`` and ``dtype`` to be written once, in 4 KB pages when it is large. Its values are
    unset: zero in fresh memory (as ``np.empty`` gives), what an earlier array left in a map kept for reuse
    (callers write every element they read).

    Examples
    --------
    >>> a = written_once((3, 1_000_000))
    >>> a.shape, a.dtype.name, a.flags.writeable
    ((3, 1000000), 'float64', True)
    >>> a[:] = 2.0
    >>> float(a.sum())
    6000000.0
    >>> written_once((2, 2), np.int8).tolist()
    [[0, 0], [0, 0]]
    """
    dtype = np.dtype(dtype)
    count = prod(shape)
    if count * dtype.itemsize < SMALL_PAGES_FROM:
        return np.zeros(shape, dtype)
    size = -(-count * dtype.itemsize // _PAGE) * _PAGE
    memory = _POOL.take(size)
    reused = memory is not None
    if memory is None:
        memory = mmap.mmap(-1, size, **_PRIVATE)  # anonymous, zero-filled
    return np.asarray(_Lease(memory, (count,), dtype, reused)).reshape(shape)


#: Bytes of maps no array uses any more kept for reuse (:class:`_Pool`): a ``core.simulate`` at 100,000 entities
#: and 20 rounds writes 192 MB of them (the ``rounds`` block and its ``round`` column).
POOL_BYTES = 512 * 1024 * 1024
#: ``madvise(MADV_FREE)``: the pages of a map handed back are the kernel's to take when it needs memory.
_FREE = getattr(mmap, "MADV_FREE", None) if sys.platform.startswith("linux") else None


class _Lease:
    """A map lent to the arrays over it: the base of the array :func:`written_once` makes (``__array_interface__``),
    so every view of it keeps it; when the last goes, the map goes back to :data:`_POOL` (``__del__``)."""

    def __init__(self, memory: mmap.mmap, shape: tuple[int, ...], dtype: np.dtype, reused: bool) -> None:
        self.memory, self.reused = memory, reused
        address = np.frombuffer(memory, np.uint8, count=1).__array_interface__["data"][0]  # the map never moves
        self.__array_interface__ = {"data": (address, False), "shape": shape, "typestr": dtype.str, "version": 3}

    def __del__(self) -> None:
        try:
            _POOL.give_back(self.memory)
        except Exception:  # the interpreter shutting down: the map goes with the process
            pass


class _Pool:
    """Maps no array uses, newest last, at most :data:`POOL_BYTES` in all (the oldest unmapped first). Thread-safe:
    a map comes back in whichever thread drops its last array."""

    def __init__(self) -> None:
        self.maps: list[mmap.mmap] = []
        self.lock = threading.RLock()
        self.taking = False  # a map coming back while one is taken (a collection in that thread) is not evicting

    def take(self, size: int) -> mmap.mmap | None:
        """The smallest kept map of ``size`` to ``2 size`` bytes, out of the pool; None when none fits."""
        with self.lock:
            self.taking = True
            try:
                fits = [m for m in self.maps if size <= len(m) <= 2 * size]
                if not fits:
                    return None
                memory = min(fits, key=len)
                self.maps.remove(memory)
                return memory
            finally:
                self.taking = False

    def give_back(self, memory: mmap.mmap) -> None:
        if len(memory) > POOL_BYTES:
            return  # unmapped when its last reference goes
        if _FREE is not None:
            try:
                memory.madvise(_FREE)
            except (OSError, ValueError):
                pass
        with self.lock:
            self.maps.append(memory)
            while not self.taking and sum(map(len, self.maps)) > POOL_BYTES:
                _unmap(self.maps.pop(0))

    def clear(self) -> None:
        """Unmap every kept map."""
        with self.lock:
            while self.maps:
                _unmap(self.maps.pop())


def _unmap(memory: mmap.mmap) -> None:
    try:
        memory.close()
    except BufferError:  # something still exports its buffer: unmapped when that goes
        pass


_POOL = _Pool()
if hasattr(os, "register_at_fork"):  # a forked child's pool: its copies of the maps, and a lock no other thread holds
    os.register_at_fork(after_in_child=lambda: setattr(_POOL, "lock", threading.RLock()))


#: ``madvise(MADV_POPULATE_WRITE)`` (Linux 5.14, ``<linux/mman.h>``: 23; Python defines the name from 3.12 where the
#: headers do): the pages of a range faulted in, writable, by one call instead of one fault per 4 KB page.
_POPULATE_WRITE = getattr(mmap, "MADV_POPULATE_WRITE", 23) if sys.platform.startswith("linux") else None
_PAGE = mmap.PAGESIZE


def prefault(a: np.ndarray) -> None:
    """Fault in the pages under ``a``, a contiguous view of a :func:`written_once` map about to be written, in one
    kernel call (``MADV_POPULATE_WRITE``): the same zero pages the writes would fault in one by one (a 4 KB page
    costs its fault's entry and exit besides its zeroing). Anything else (another array, a strided view, an older
    kernel or another system) is left as it is: the writes fault it in.

    A map kept for reuse (:class:`_Lease`) is left as it is too: its pages were written before, and those the
    kernel took back meanwhile are faulted in by the writes (populating a resident 176 MB map cost 15 ms of page
    table walks, its writes 1 ms).

    Examples
    --------
    >>> a = written_once((4, 1_000_000))
    >>> prefault(a[1])
    >>> a[1] = 1.0
    >>> float(a[1].sum())
    1000000.0
    """
    if _POPULATE_WRITE is None or a.nbytes < SMALL_PAGES_FROM // 64 or not a.flags.c_contiguous:
        return  # a few pages (64 KB and less): not worth a call
    root = a
    while isinstance(root.base, np.ndarray):
        root = root.base
    base = root.base
    if isinstance(base, _Lease):
        if base.reused:
            return
        memory = base.memory
    else:
        memory = base.obj if isinstance(base, memoryview) else base  # np.frombuffer keeps a memoryview
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


#: numpy's switch for its huge-page advice on the arrays it allocates (``numpy._core.multiarray._set_madvise_hugepage``,
#: numpy 1.20 and later: sets it, returns what it was); None where this numpy has none.
_SET_HUGEPAGE = getattr(getattr(getattr(np, "_core", None), "multiarray", None), "_set_madvise_hugepage", None)
_SMALL_PAGES_LOCK = threading.Lock()
_small_pages_depth = 0
_hugepage_before = True


@contextlib.contextmanager
def small_pages():
    """Arrays numpy allocates inside the block are not advised huge pages (module docstring): for arrays that cannot
    live in a :func:`written_once` map, numpy's object arrays (numpy makes none over a foreign buffer), written once
    and dropped with the result that holds them. The ``rounds`` table's entity and status columns at 100,000
    entities and 20 rounds are two 16 MB object arrays, fresh for each call (:func:`core.report_rounds._rounds_table`).
    numpy's switch is the process's: blocks may nest and overlap in threads (the advice comes back when the last
    ends), and another thread's arrays allocated meanwhile go without the advice (their speed, never their values).

    Examples
    --------
    >>> with small_pages():
    ...     a = np.empty(1_000_000, dtype=object)
    >>> a.shape
    (1000000,)
    """
    global _small_pages_depth, _hugepage_before
    if _SET_HUGEPAGE is None:
        yield
        return
    with _SMALL_PAGES_LOCK:
        if _small_pages_depth == 0:
            _hugepage_before = bool(_SET_HUGEPAGE(False))
        _small_pages_depth += 1
    try:
        yield
    finally:
        with _SMALL_PAGES_LOCK:
            _small_pages_depth -= 1
            if _small_pages_depth == 0:
                _SET_HUGEPAGE(_hugepage_before)
