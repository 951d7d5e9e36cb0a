"""Median timings of the correlated-shock Monte Carlo on the shipped network, per backend.

Run: ``PYTHONPATH=. python benchmarks/bench_montecarlo.py [--runs 10000] [--repeat 3] [--workers 2]``

* in-process: 10,000 scenarios (normal and Student-t shocks), vectorised, one core;
* processes: the same on a pool of local processes (``spawn``; the pool's start-up,
  importing sfm and loading the network in each worker, is included and also shown alone);
* Dask: a ``LocalCluster`` of worker processes, started once; each call scatters the
  network and submits the chunks. Overhead per 10,000 runs = Dask time − in-process
  time, and the result is checked to be identical to the in-process one.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd

from core import datasets
from core.montecarlo import run_montecarlo


def median_time(fn, repeat):
    ts, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts)), out


def identical(a, b) -> bool:
    try:
        for name in ("losses", "risk", "entities", "paths"):
            pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
        return True
    except AssertionError:
        return False


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args()
    net = datasets.load("crypto-2022-05")
    N, R, W = args.runs, args.repeat, args.workers
    run_montecarlo(net, {}, runs=200, seed=0)  # warm-up: compile the network, import everything
    print(f"sfm Monte Carlo on the shipped network ({len(net.entities)} entities, {len(net.assets)} assets), "
          f"{N:,} runs, median of {R}, {os.cpu_count()} CPUs")

    t_in, ref = median_time(lambda: run_montecarlo(net, {}, runs=N, seed=1), R)
    print(f"  in-process, normal shocks        {t_in:7.2f} s   ({N / t_in:,.0f} runs/s)")
    t_t, _ = median_time(lambda: run_montecarlo(net, {"dist": "t"}, runs=N, seed=1), R)
    print(f"  in-process, Student-t (df 4)     {t_t:7.2f} s   ({N / t_t:,.0f} runs/s)")

    t_start, _ = median_time(lambda: run_montecarlo(net, {}, runs=100, seed=1, chunk_size=100, backend="processes", workers=W), R)
    print(f"  processes ({W}), start-up alone    {t_start:7.2f} s   (pool of {W} spawned workers + 100 runs)")
    t_p, res_p = median_time(lambda: run_montecarlo(net, {}, runs=N, seed=1, backend="processes", workers=W), R)
    print(f"  processes ({W}), {N:,} runs       {t_p:7.2f} s   identical to in-process: {identical(ref, res_p)}")

    if not args.no_dask:
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=W, threads_per_worker=1, processes=True, dashboard_address=None) as cl, Client(cl) as client:
            run_montecarlo(net, {}, runs=200, seed=0, backend="dask", scheduler=client)  # warm the workers
            t_d, res_d = median_time(lambda: run_montecarlo(net, {}, runs=N, seed=1, backend="dask", scheduler=client), R)
            t_d1, _ = median_time(lambda: run_montecarlo(net, {}, runs=N, seed=1, chunk_size=N - N % 100 or 100,
                                                         backend="dask", scheduler=client), R)
        print(f"  Dask LocalCluster ({W} workers)   {t_d:7.2f} s   identical to in-process: {identical(ref, res_d)}")
        print(f"  Dask, one chunk (no parallelism) {t_d1:7.2f} s")
        print(f"  Dask overhead per {N:,} runs    {t_d1 - t_in:+7.2f} s   (one-chunk Dask time - in-process time)")


if __name__ == "__main__":
    main()
