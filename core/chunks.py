"""Cache-sized chunks of a batch, run on threads.

A cascade round or a DebtRank step makes dozens of passes over
(scenario, entity) arrays. Cut into chunks of scenarios whose arrays fit a
core's cache (:data:`CHUNK_BYTES`), those passes stay out of main memory,
and the chunks run side by side on threads: numpy and scipy release the GIL
in their loops. Scenarios never read each other's rows, so a chunked run
gives the same numbers as one batch.

BLAS runs single-threaded meanwhile (:func:`single_threaded_blas`): the
products here are small, and OpenBLAS's own threads, spinning beside the
chunks' threads on the same cores, made a batch several times slower.

The C heap keeps what a round frees (:func:`keep_freed_heap`): a round frees
and allocates again dozens of (scenario, entity) arrays of a few MB, which
glibc by default hands back to the kernel and then faults in again page by page.
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator, TypeVar

import numpy as np
from threadpoolctl import ThreadpoolController

T = TypeVar("T")

#: Bytes of one (scenario, entity) float array in a chunk: about a third of a core's 2 MiB L2 here,
#: which timed best for ranking 1,000 seeds (384 KiB to 1 MiB tried).
CHUNK_BYTES = 768 * 1024
#: Fewest scenarios in a chunk (below it, per-operation overhead outweighs the cache).
MIN_CHUNK_ROWS = 8


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


_THREADS: contextvars.ContextVar[int] = contextvars.ContextVar("sfm_threads", default=_usable_cores())  # noqa: B039 - an int


@contextlib.contextmanager
def engine_threads(n: int) -> Iterator[None]:
    """Run chunked batches inside the block on at most ``n`` threads (process and Dask workers use 1)."""
    token = _THREADS.set(max(1, int(n)))
    try:
        yield
    finally:
        _THREADS.reset(token)


def engine_workers() -> int:
    """Threads a chunked batch runs on here (the usable cores, or what :func:`engine_threads` set)."""
    return _THREADS.get()


@functools.cache
def _controller() -> ThreadpoolController:
    return ThreadpoolController()


#: glibc's ``mallopt`` parameters (malloc.h) and what the engine sets them to: arrays below 32 MiB (glibc's own
#: ceiling for its sliding threshold) come from the heap, not from a mapping of their own; up to 256 MiB free at
#: the top of a heap stays there (glibc's default: twice the largest block freed so far, a few MB here); a heap
#: grows 64 MiB at a time (untouched pages cost nothing).
HEAP_SETTINGS = {"M_MMAP_THRESHOLD": (-3, 32 << 20), "M_TRIM_THRESHOLD": (-1, 256 << 20), "M_TOP_PAD": (-2, 64 << 20)}


#: glibc's initial thresholds, fixed (:func:`leave_heap_lean`): a block of 128 KiB or more gets a mapping of its
#: own, returned at ``free``, and more than 128 KiB free at the top of a heap goes back to the kernel. Set, they
#: stop glibc sliding its mmap threshold up to the largest block freed so far (its default, which kept the
#: engine's round arrays in the heap: ~305 MB against ~235 MB in the test below).
LEAN_HEAP_SETTINGS = {"M_MMAP_THRESHOLD": (-3, 128 << 10), "M_TRIM_THRESHOLD": (-1, 128 << 10)}
_heap_lean = False


def _glibc_heap_set_by_environment() -> bool:
    return any(os.environ.get(f"MALLOC_{name[2:]}_") for name in HEAP_SETTINGS) or (
        "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", ""))


def _mallopt(settings: dict[str, tuple[int, int]]) -> bool:
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return False
    return all(mallopt(param, value) == 1 for param, value in settings.values())


def leave_heap_lean() -> bool:
    """Have glibc's malloc give freed memory back at once in this process (:data:`LEAN_HEAP_SETTINGS`), and
    :func:`keep_freed_heap` make no settings.

    For a process that answers requests under a memory budget (the dashboard: ``dashboard.limits``), where
    what a heap keeps counts against every request. The peak that the 1,000-seed ranking of
    ``synthetic(1000, 10000)`` adds to a fresh process, measured session 30 (two threads): 380-500 MB with
    :data:`HEAP_SETTINGS`, ~305 MB with glibc's sliding defaults, ~235 MB with these (in cascades of 3 chunks:
    :data:`core.metrics.RANK_CASCADE_CHUNKS_HEAP_TRIMMED`). The cost is the page faults
    :func:`keep_freed_heap` saves. Call it before the first chunked run; left alone where the process was
    started with heap settings of its own, and off glibc.

    Returns
    -------
    bool
        Whether the settings were made (False too once :func:`keep_freed_heap` has made its own).
    """
    global _heap_lean
    if keep_freed_heap.cache_info().currsize and keep_freed_heap():
        return False
    _heap_lean = True
    return not _glibc_heap_set_by_environment() and _mallopt(LEAN_HEAP_SETTINGS)


@functools.cache
def keep_freed_heap() -> bool:
    """Have glibc's malloc keep freed memory for the next round rather than return it to the kernel.

    A cascade round frees and allocates again dozens of (scenario, entity) arrays (2.2 MB each in a cascade of
    273 seeds on 1,000 entities); by default glibc gives back the top of a heap once more than twice the largest
    block freed so far lies free there, and the next round faults the pages in again: 35,000-70,000 page faults
    and 70-240 ms of kernel time in the 1,000-seed ranking of synthetic(1000, 10000) (1.1 s of CPU), ~0
    with :data:`HEAP_SETTINGS`. The peak barely moves (what is kept is reused, not added to: the 10,000-seed
    ranking of synthetic(10000, 100000) 0.69 -> 0.71 GB), but a process keeps up to 256 MiB a heap (one a
    thread) more than it uses after a large batch (there 92 MB). Set once per process, on the first chunked run;
    left alone where the process was started with any of these set (``MALLOC_TRIM_THRESHOLD_`` etc. or
    ``GLIBC_TUNABLES``), where it called :func:`leave_heap_lean`, and off glibc. The peak does move for a
    ranking on two threads of a small network: 250 -> 380-500 MB added by the 1,000-seed ranking of
    synthetic(1000, 10000) in a fresh process (session 30), which is why the dashboard keeps the heap lean.

    Returns
    -------
    bool
        Whether the settings were made.
    """
    if _heap_lean or _glibc_heap_set_by_environment():
        return False
    return _mallopt(HEAP_SETTINGS)


_blas_lock = threading.Lock()
_blas_owner: int | None = None
_blas_depth = 0
_blas_limiter = None


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """BLAS on one thread inside the block.

    The limit is process-wide, but OpenBLAS restores it only when asked from
    the thread that set it: the first thread to enter sets it and restores
    it when it leaves; blocks entered meanwhile from other threads run under it.
    """
    global _blas_owner, _blas_depth, _blas_limiter
    keep_freed_heap()  # every chunked run comes here first: the heap settings are made on the first
    me = threading.get_ident()
    with _blas_lock:
        mine = _blas_owner in (None, me)
        if _blas_owner is None:
            _blas_limiter, _blas_owner = _controller().limit(limits=1, user_api="blas"), me
        if mine:
            _blas_depth += 1
    try:
        yield
    finally:
        if mine:
            with _blas_lock:
                _blas_depth -= 1
                if _blas_depth == 0:
                    if _blas_limiter is not None:
                        _blas_limiter.restore_original_limits()
                    _blas_limiter, _blas_owner = None, None


def chunk_rows(n_entities: int) -> int:
    """Scenarios per chunk for arrays of ``n_entities`` floats per scenario."""
    return max(MIN_CHUNK_ROWS, CHUNK_BYTES // (8 * max(n_entities, 1)))


def map_chunks(fn: Callable[[np.ndarray], T], n_rows: int, n_entities: int, workers: int | None = None) -> list[T]:
    """``fn(rows)`` for each cache-sized chunk of ``range(n_rows)``, in order, on up to ``workers`` threads."""
    chunks = np.array_split(np.arange(n_rows), max(1, -(-n_rows // chunk_rows(n_entities))))
    w = max(1, min(engine_workers() if workers is None else workers, len(chunks)))
    with single_threaded_blas():
        if w == 1:
            return [fn(idx) for idx in chunks]
        with ThreadPoolExecutor(max_workers=w, thread_name_prefix="sfm") as ex:
            return list(ex.map(fn, chunks))
