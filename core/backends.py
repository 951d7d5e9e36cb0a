"""Where a Monte Carlo runs: in this process, in local processes, or on a Dask cluster.

A Monte Carlo is a list of *chunks* (runs ``start:stop``) mapped through one
function ``fn(network, payload, start, stop)``; every chunk is vectorised
across its scenarios, and the chunks are independent. The backends differ only
in who calls ``fn``:

* ``"inprocess"`` (default): this process, chunk after chunk, or with ``threads`` on the engine's
  threads (:func:`core.chunks.engine_workers`), a chunk on each, its engine on one thread: numpy
  releases the GIL in its loops, and a chunk's cascade is mostly such loops;
* ``"processes"``: a :class:`concurrent.futures.ProcessPoolExecutor` of local
  processes (started with ``spawn``, so no thread state is forked; a script
  that uses it needs the usual ``if __name__ == "__main__":`` guard). The pool
  lives for one call: its start-up (~2.5 s for two workers) is paid each time;
* ``"dask"``: an existing ``dask.distributed`` cluster, given its scheduler
  address (``Client(address)``) or a ``Client``.

The network travels to workers as its JSON text (:class:`NetworkRef`, keyed by
its SHA-256), once per worker: the processes backend loads it in each worker's
initializer, the Dask backend scatters it to every worker. A worker keeps the
loaded :class:`~core.network.Network` (and so the engine's compiled arrays) in a
small per-process cache, so it is parsed and compiled once per worker, not per
chunk. Results come back in chunk order whatever the order in which they
finish, so a seed gives the same numbers on every backend and worker count.

With ``consume`` the results are not kept: each is handed over in chunk order
as soon as it and every chunk before it are in, and at most ``window`` chunks
are in flight or waiting ahead of the next one to hand over, so memory stays
bounded by the window however many chunks there are (a streamed Monte Carlo).
"""

from __future__ import annotations

import contextvars
import hashlib
import multiprocessing as mp
import os
from collections import OrderedDict
from concurrent.futures import FIRST_COMPLETED, Executor, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Callable, Sequence, TypeVar

from .chunks import engine_threads, engine_workers, single_threaded_blas
from .network import Network
from .validation import DataValidationError, Problem

BACKENDS: tuple[str, ...] = ("inprocess", "processes", "dask")

P = TypeVar("P")
R = TypeVar("R")
ChunkFn = Callable[[Network, Any, int, int], R]
ProgressFn = Callable[[int, int], None]

#: Networks loaded in this process, by key (a handful: each worker serves one Monte Carlo at a time).
_LOADED: "OrderedDict[str, Network]" = OrderedDict()
_MAX_LOADED = 4


@dataclass(frozen=True)
class NetworkRef:
    """A network as JSON text plus its SHA-256 key: what is sent to workers."""

    key: str
    text: str

    @classmethod
    def of(cls, network: Network) -> "NetworkRef":
        text = network.to_json()
        key = hashlib.sha256(text.encode("utf-8")).hexdigest()
        ref = cls(key=key, text=text)
        _remember(key, network)  # this process already has it
        return ref

    def load(self) -> Network:
        """The network, parsed once per process."""
        hit = _LOADED.get(self.key)
        if hit is not None:
            _LOADED.move_to_end(self.key)
            return hit
        from .io import network_from_json_text

        net = network_from_json_text(self.text, file="network.json", default_name="")
        _remember(self.key, net)
        return net


def _remember(key: str, net: Network) -> None:
    _LOADED[key] = net
    _LOADED.move_to_end(key)
    while len(_LOADED) > _MAX_LOADED:
        _LOADED.popitem(last=False)


def map_chunks(fn: ChunkFn, network: Network, payload: Any, chunks: Sequence[tuple[int, int]], *,
               backend: str = "inprocess", workers: int | None = None, scheduler: Any = None,
               progress: ProgressFn | None = None, consume: Callable[[Any], None] | None = None,
               window: int | None = None, threads: bool = False) -> list[Any]:
    """``[fn(network, payload, a, b) for a, b in chunks]`` on the chosen backend, in chunk order.

    Parameters
    ----------
    fn : callable
        A module-level function (it is pickled by reference for remote backends).
    network : Network
    payload : picklable
        Shared by all chunks; sent once per worker on Dask, with each task on processes.
    chunks : sequence of (start, stop)
    backend : {"inprocess", "processes", "dask"}
    workers : int, optional
        Processes for ``"processes"`` (default: the CPU count, at most the number of chunks).
    scheduler : str or distributed.Client
        Required for ``"dask"``: the scheduler address or a client.
    progress : callable(done, total), optional
        Called with runs done so far as chunks finish.
    consume : callable(result), optional
        Takes each result in chunk order as soon as the chunks before it are in; nothing is kept and
        the call returns ``[]``.
    window : int, optional
        With ``consume``: most chunks submitted ahead of the next one to consume (default: twice the
        workers, at least 4).
    threads : bool, default False
        ``"inprocess"``: run the chunks side by side on the engine's threads
        (:func:`core.chunks.engine_workers`), each chunk's engine on one thread and in a copy of the
        caller's context; results are handed over in chunk order as on the other backends, so they are
        the same, bit for bit. For ``fn`` whose chunks share nothing they write (a Monte Carlo's).

    Raises
    ------
    DataValidationError
        Unknown backend, bad worker count, or ``"dask"`` without a scheduler.
    """
    if backend not in BACKENDS:
        raise DataValidationError([Problem("backend", None, "backend", backend, f"one of {', '.join(BACKENDS)}", "record")])
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise DataValidationError([Problem("backend", None, "workers", workers, "a positive number of workers", "record")])
    total = sum(b - a for a, b in chunks)
    tick = _Ticker(progress, total)
    if not chunks:
        return []
    sink = _Ordered(consume)
    if backend == "inprocess":
        # BLAS held to one thread once for every chunk, not entered and left by each chunk's engine run: each
        # entry reads and sets the libraries' thread counts through threadpoolctl, whose symbol names, built
        # anew each time, stay in the interpreter's attribute cache (traced memory that grew with the chunks)
        with single_threaded_blas():
            return _in_process(fn, network, payload, chunks, tick, sink, window, threads)
    if backend == "processes":
        return _processes(fn, network, payload, chunks, workers, tick, sink, window)
    return _dask(fn, network, payload, chunks, scheduler, tick, sink, window)


def _in_process(fn: ChunkFn, network: Network, payload: Any, chunks: Sequence[tuple[int, int]], tick: "_Ticker",
                sink: "_Ordered", window: int | None, threads: bool) -> list[Any]:
    if threads and len(chunks) > 1 and engine_workers() > 1:
        n = min(engine_workers(), len(chunks))
        with ThreadPoolExecutor(max_workers=n, thread_name_prefix="sfm-chunk") as ex:
            return _pooled(ex, lambda a, b: ex.submit(contextvars.copy_context().run, _thread_task, fn, network, payload, a, b),
                           chunks, tick, sink, _window(window, n, sink, len(chunks)))
    for a, b in chunks:  # a loop over chunks; each chunk is vectorised
        sink.put(sink.next, fn(network, payload, a, b))
        tick(b - a)
    return sink.results()


class _Ordered:
    """Results in chunk order: kept in a list, or handed to ``consume`` as soon as their turn comes."""

    def __init__(self, consume: Callable[[Any], None] | None):
        self.consume, self.next = consume, 0
        self.kept: list[Any] = []
        self.waiting: dict[int, Any] = {}

    def put(self, i: int, result: Any) -> None:
        self.waiting[i] = result
        while self.next in self.waiting:
            r = self.waiting.pop(self.next)
            if self.consume is None:
                self.kept.append(r)
            else:
                self.consume(r)
            self.next += 1

    def results(self) -> list[Any]:
        return self.kept


def _window(window: int | None, workers: int, sink: _Ordered, total: int) -> int:
    """Chunks allowed ahead of the next one to hand over (all of them when results are kept anyway)."""
    if sink.consume is None:
        return total
    return max(1, int(window)) if window is not None else max(4, 2 * workers)


class _Ticker:
    def __init__(self, progress: ProgressFn | None, total: int):
        self.progress, self.total, self.done = progress, total, 0
        if progress is not None:
            progress(0, total)

    def __call__(self, n: int) -> None:
        self.done += n
        if self.progress is not None:
            self.progress(self.done, self.total)


def _pooled(ex: Executor, submit: Callable[[int, int], Any], chunks: Sequence[tuple[int, int]], tick: _Ticker,
            sink: _Ordered, ahead: int) -> list[Any]:
    """Chunks submitted to ``ex`` at most ``ahead`` beyond the next one to hand over, handed over in chunk order."""
    futs: dict[Any, int] = {}
    submitted = 0
    while sink.next < len(chunks):
        while submitted < len(chunks) and submitted < sink.next + ahead:
            futs[submit(*chunks[submitted])] = submitted
            submitted += 1
        done, _ = wait(set(futs), return_when=FIRST_COMPLETED)
        for f in done:
            i = futs.pop(f)
            sink.put(i, f.result())
            tick(chunks[i][1] - chunks[i][0])
    return sink.results()


# -- threads of this process ----------------------------------------------------------

def _thread_task(fn: ChunkFn, network: Network, payload: Any, a: int, b: int) -> Any:
    with engine_threads(1):  # the chunks are the parallelism
        return fn(network, payload, a, b)


# -- local processes ------------------------------------------------------------------

def _init_worker(ref: NetworkRef) -> None:
    ref.load()


def _process_task(fn: ChunkFn, key: str, payload: Any, a: int, b: int) -> Any:
    net = _LOADED.get(key)
    if net is None:  # pragma: no cover - the initializer loads it
        raise RuntimeError("network not loaded in this worker")
    with engine_threads(1):  # the processes are the parallelism
        return fn(net, payload, a, b)


def _processes(fn, network, payload, chunks, workers, tick, sink: _Ordered, window: int | None) -> list[Any]:
    ref = NetworkRef.of(network)
    n = min(workers or os.cpu_count() or 1, len(chunks))
    ahead = _window(window, n, sink, len(chunks))
    with ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn"),
                             initializer=_init_worker, initargs=(ref,)) as ex:
        return _pooled(ex, lambda a, b: ex.submit(_process_task, fn, ref.key, payload, a, b), chunks, tick, sink, ahead)


# -- Dask -------------------------------------------------------------------------------

def _dask_task(fn: ChunkFn, ref: NetworkRef, payload: Any, a: int, b: int) -> Any:
    with engine_threads(1):  # Dask's workers are the parallelism
        return fn(ref.load(), payload, a, b)


def _dask(fn, network, payload, chunks, scheduler, tick, sink: _Ordered, window: int | None) -> list[Any]:
    try:
        from distributed import Client, as_completed
    except ImportError:  # pragma: no cover - optional dependency
        raise DataValidationError([Problem("backend", None, "backend", "dask",
                                           "dask.distributed installed (pip install 'sfm[dask]')", "record")]) from None
    if scheduler is None:
        raise DataValidationError([Problem("backend", None, "scheduler", None,
                                           "a Dask scheduler address (tcp://host:8786) or a distributed.Client", "record")])
    own = not isinstance(scheduler, Client)
    client = Client(scheduler) if own else scheduler
    try:
        ref_f = client.scatter(NetworkRef.of(network), broadcast=True)
        pay_f = client.scatter(payload, broadcast=True)
        ahead = _window(window, sum(client.nthreads().values()) or 1, sink, len(chunks))
        index: dict[Any, int] = {}

        def submit(i: int):
            a, b = chunks[i]
            f = client.submit(_dask_task, fn, ref_f, pay_f, a, b, pure=False)
            index[f.key] = i
            return f

        submitted = min(ahead, len(chunks))
        running = as_completed([submit(i) for i in range(submitted)])
        for f in running:
            i = index.pop(f.key)
            sink.put(i, f.result())
            f.release()
            tick(chunks[i][1] - chunks[i][0])
            while submitted < len(chunks) and submitted < sink.next + ahead:
                running.add(submit(submitted))
                submitted += 1
        return sink.results()
    finally:
        if own:
            client.close()


__all__ = ["BACKENDS", "NetworkRef", "map_chunks"]
