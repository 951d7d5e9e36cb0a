"""Where a threaded Monte Carlo's time goes: per engine thread, on the CPU, waiting for a CPU, or asleep.

Run: ``PYTHONPATH=. python benchmarks/mc_threads.py [--runs 20000] [--turns 3] [--network crypto-2022-05]
[--switch 0.005,0.001] [--threads 2,3]``

Issue 16's goal 4 (>= 10,000 runs/s in process on the machine's two cores) is measured on two engine threads
(:func:`core.backends.map_chunks`, ``threads=True``). Two threads have run 1.16-1.3x one; this splits what each
chunk's thread did while its chunk ran, from the kernel's own per-thread accounting (Linux
``/proc/self/task/<tid>/schedstat``: nanoseconds on a CPU, nanoseconds runnable but waiting for one):

* **on-CPU**: the chunk's work; more CPU per run on two threads than on one is the cores slowing each other
  (shared caches, memory bus, a neighbour on the host), not the interpreter;
* **runqueue**: runnable, no CPU free (other processes: a shared machine's load);
* **asleep**: neither, which for a chunk's thread is waiting for the GIL (the engine takes no other lock and
  does no I/O; the kernel's own locks, e.g. the memory map's in a page fault, would count here too), with the
  number of times the thread went to sleep (``voluntary_ctxt_switches``) and so the mean wait.

Beside them, per call: the process's user and kernel CPU and minor page faults (fresh memory zeroed by the
kernel), the main thread's CPU (the chunks' draw is in the chunk; the main thread folds streamed chunks), the time
before the first chunk starts and after the last ends (serial sections), and each thread's idle tail (its last
chunk ended before the other's). One thread runs the same call for comparison, alternating with the threaded one;
``--switch`` times the threaded call under each of several interpreter switch intervals (``sys.setswitchinterval``:
how long a thread waiting for the GIL waits before it asks the holder to hand it over; 5 ms by default), and
``--threads`` several numbers of engine threads (more threads than cores: while one holds the GIL, the others
may be in numpy's loops, on both cores), in turns.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import threading
import time

import numpy as np

import core.backends as backends
from core import datasets
from core.chunks import engine_threads
from core.montecarlo import run_montecarlo

_CHUNKS: list[dict[str, float]] = []


def _schedstat() -> tuple[float, float]:
    """Seconds this thread has been on a CPU, and runnable waiting for one."""
    with open(f"/proc/self/task/{threading.get_native_id()}/schedstat") as f:
        on, queued, _ = f.read().split()
    return int(on) / 1e9, int(queued) / 1e9


def _sleeps() -> int:
    """Times this thread has gone to sleep (voluntary context switches: for a chunk's thread, a wait for the GIL)."""
    with open(f"/proc/self/task/{threading.get_native_id()}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("voluntary_ctxt_switches"))


def _timed_task(fn, network, payload, a, b):  # stands in for core.backends._thread_task
    w0, (c0, q0), v0 = time.perf_counter(), _schedstat(), _sleeps()
    try:
        return _TASK(fn, network, payload, a, b)
    finally:
        w1, (c1, q1), v1 = time.perf_counter(), _schedstat(), _sleeps()
        _CHUNKS.append({"thread": threading.get_ident(), "start": w0, "stop": w1, "wall": w1 - w0,
                        "cpu": c1 - c0, "queued": q1 - q0, "sleeps": float(v1 - v0)})


_TASK = backends._thread_task


def one_call(net, runs: int, threads: int) -> dict[str, float]:
    """One streamed Monte Carlo of ``runs`` runs on ``threads`` engine threads, its time split."""
    _CHUNKS.clear()
    t0, r0, m0, w0 = os.times(), resource.getrusage(resource.RUSAGE_SELF), _schedstat()[0], time.perf_counter()
    with engine_threads(threads):
        run_montecarlo(net, {}, runs=runs, seed=1, streaming=True)
    w1, m1, r1, t1 = time.perf_counter(), _schedstat()[0], resource.getrusage(resource.RUSAGE_SELF), os.times()
    out = {"wall": w1 - w0, "user": t1.user - t0.user, "sys": t1.system - t0.system,
           "faults": float(r1.ru_minflt - r0.ru_minflt), "main_cpu": m1 - m0}
    if _CHUNKS:  # threaded: the chunks' own accounting
        a = {k: sum(c[k] for c in _CHUNKS) for k in ("wall", "cpu", "queued", "sleeps")}
        ends = {}
        for c in _CHUNKS:
            ends[c["thread"]] = max(ends.get(c["thread"], 0.0), c["stop"])
        first, last = min(c["start"] for c in _CHUNKS), max(ends.values())
        out |= {"chunk_wall": a["wall"], "chunk_cpu": a["cpu"], "chunk_queued": a["queued"],
                "chunk_asleep": a["wall"] - a["cpu"] - a["queued"], "sleeps": a["sleeps"], "before": first - w0, "after": w1 - last,
                "tail": sum(last - e for e in ends.values())}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20_000)
    ap.add_argument("--turns", type=int, default=3)
    ap.add_argument("--network", default="crypto-2022-05")
    ap.add_argument("--switch", default=None, help="comma-separated switch intervals (s) for the threaded call")
    ap.add_argument("--threads", default="2", help="comma-separated numbers of engine threads for the threaded call")
    args = ap.parse_args()
    switches = [float(x) for x in args.switch.split(",")] if args.switch else [sys.getswitchinterval()]
    net = datasets.load(args.network)
    backends._thread_task = _timed_task
    run_montecarlo(net, {}, runs=200, seed=0, streaming=True)  # warm-up: compile, import
    for t in sorted({int(t) for t in args.threads.split(",")}):  # a first threaded call faults its arenas in: not counted
        one_call(net, args.runs, t)
    print(f"{args.network}, {args.runs:,} runs streamed, seed 1, {args.turns} alternating turns, "
          f"load average {os.getloadavg()[0]:.2f} at the start")
    before = sys.getswitchinterval()
    configs = [(1, before)] + [(int(t), s) for t in args.threads.split(",") for s in switches]
    calls: dict[tuple[int, float], list[dict[str, float]]] = {k: [] for k in configs}
    for turn in range(args.turns):
        for threads, switch in (configs if turn % 2 == 0 else configs[::-1]):
            sys.setswitchinterval(switch)
            calls[threads, switch].append(one_call(net, args.runs, threads))
    sys.setswitchinterval(before)
    N = args.runs
    for (threads, switch), rows in calls.items():
        med = {k: float(np.median([r[k] for r in rows])) for k in rows[0]}
        cpu = med["user"] + med["sys"]
        print(f"{threads} thread{'s' if threads > 1 else ''}, switch interval {switch * 1e3:g} ms: {N / med['wall']:,.0f} runs/s, "
              f"{N / cpu:,.0f} runs per CPU-second (user {med['user']:.2f} s, kernel {med['sys']:.2f} s, "
              f"{med['faults']:,.0f} minor faults), main thread CPU {med['main_cpu']:.3f} s")
        if threads > 1:
            print(f"   chunks' threads: wall {med['chunk_wall']:.2f} s = on-CPU {med['chunk_cpu']:.2f} + runqueue "
                  f"{med['chunk_queued']:.2f} + asleep (GIL) {med['chunk_asleep']:.2f} "
                  f"({med['chunk_asleep'] / med['chunk_wall']:.1%} of the chunks' wall, "
                  f"{med['chunk_asleep'] / med['chunk_cpu']:.1%} of their CPU) in {med['sleeps']:,.0f} sleeps "
                  f"({med['chunk_asleep'] / max(med['sleeps'], 1) * 1e6:.0f} us each); serial: {med['before'] * 1e3:.0f} ms "
                  f"before the first chunk, {med['after'] * 1e3:.0f} ms after the last; idle tails "
                  f"{med['tail'] * 1e3:.0f} ms")
    print(f"   (medians; load average {os.getloadavg()[0]:.2f} at the end)")


if __name__ == "__main__":
    main()
