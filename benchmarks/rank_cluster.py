"""Issue 16, goal 2's second half: a 100,000-entity ranking on a Dask cluster, bit-identical to this process.

``systemic_importance`` maps :func:`core.metrics.rank_task` over the ranking's tasks (:func:`core.metrics.rank_tasks`)
on any backend of :mod:`core.backends`. Every seed of ``synthetic(100,000, 1,000,000)`` is ~100,000 seeds of
~50-100 ms of CPU each: hours on this machine's two cores, minutes on a cluster of a hundred. This script runs the
first ``--tasks`` tasks of that ranking (or ``--all``) twice, in this process and on a ``LocalCluster`` of worker
processes on 127.0.0.1, folds each the way ``systemic_importance`` does, and prints:

* whether every reduced array (caused loss, defaults caused, DebtRank, the column sums of losses and defaults) is the
  same to the bit on both;
* each side's CPU per seed, and the whole ranking's CPU extrapolated from it (the tasks are cut by the network
  alone, every task holds the same number of seeds; seeds differ in how far their cascades go, so it is an estimate,
  printed as such);
* each Dask worker's peak resident memory (VmHWM) against its memory once the network was loaded: memory per
  worker is O(task x entities), whatever the number of seeds.

    python benchmarks/rank_cluster.py                    # 4 tasks (256 seeds) of the 100k ranking, 2 workers
    python benchmarks/rank_cluster.py --entities 10000 --all   # a whole 10k ranking, on both sides
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import core  # noqa: E402
from core.backends import map_chunks  # noqa: E402
from core.engine import compile_network  # noqa: E402
from core.metrics import _RankFold, rank_task, rank_tasks  # noqa: E402
from core.scenario import Scenario  # noqa: E402


#: What a worker reads of itself: stdlib callables only (a worker cannot import this script, and Dask pickles a
#: module-level function by reference).
READ_STATUS = functools.partial(Path.read_text, Path("/proc/self/status"))


def memory_kb(status: str) -> dict[str, int]:
    """Resident memory now and at its peak (kB), from a process's /proc/self/status text."""
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {k: int(fields[k].split()[0]) for k in ("VmRSS", "VmHWM")}


def folded(network, payload, tasks, **backend) -> tuple[_RankFold, float, float]:
    """The tasks' reductions folded in seed order, with the wall and the CPU seconds of this process."""
    fold = _RankFold(compile_network(network).n)
    wall, cpu = time.perf_counter(), time.process_time()
    map_chunks(rank_task, network, payload, tasks, consume=fold, **backend)
    return fold, time.perf_counter() - wall, time.process_time() - cpu


def same(a: _RankFold, b: _RankFold) -> list[str]:
    """Names of the reduced arrays that differ between two folds (bit for bit)."""
    pairs = {"caused loss": (a.caused, b.caused), "defaults caused": (a.defaults_caused, b.defaults_caused),
             "DebtRank": (a.impact, b.impact), "loss column sums": ([a.loss_sum], [b.loss_sum]),
             "default column sums": ([a.default_sum], [b.default_sum])}
    return [name for name, (x, y) in pairs.items()
            if len(x) != len(y) or not all(np.array_equal(u, v) for u, v in zip(x, y))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entities", type=int, default=100_000, help="synthetic(n, 10n) (default 100,000)")
    ap.add_argument("--tasks", type=int, default=4, help="the ranking's first tasks to run (default 4)")
    ap.add_argument("--all", action="store_true", help="every task: the whole ranking")
    ap.add_argument("--workers", type=int, default=2, help="Dask worker processes, one thread each (default 2)")
    args = ap.parse_args(argv)

    n = args.entities
    net = core.datasets.synthetic(n, 10 * n, seed=1)
    compile_network(net)
    edges, tasks = rank_tasks(n)
    run = tasks if args.all else tasks[:args.tasks]
    seeds = run[-1][1] - run[0][0]
    payload = (Scenario(name="seed").model_dump_json(), 0.0, edges)
    print(f"rank_cluster: synthetic({n:,}, {10 * n:,}), {len(tasks):,} tasks of {tasks[0][1] - tasks[0][0]} seeds; "
          f"running {len(run):,} ({seeds:,} seeds, {seeds / n:.2%} of the ranking); {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}")

    here, wall_here, cpu_here = folded(net, payload, run, backend="inprocess")
    print(f"  this process: {wall_here:.1f} s wall, {cpu_here:.1f} s CPU = {1e3 * cpu_here / seeds:.1f} ms CPU a seed")

    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        one_chunk = [(int(edges[0]), int(edges[1]))] * args.workers  # a chunk on each worker: each loads the network
        folded(net, payload, one_chunk, backend="dask", scheduler=client)
        loaded, cpu_before = client.run(READ_STATUS), client.run(time.process_time)
        there, wall_there, _ = folded(net, payload, run, backend="dask", scheduler=client)
        cpu_there = sum(client.run(time.process_time).values()) - sum(cpu_before.values())
        after = client.run(READ_STATUS)
    print(f"  Dask LocalCluster, {args.workers} worker processes on 127.0.0.1: {wall_there:.1f} s wall "
          f"({seeds / wall_there:.2f} seeds/s); the workers' CPU {cpu_there:.1f} s = {1e3 * cpu_there / seeds:.1f} ms a seed "
          f"(the network loaded before, by a chunk on each worker)")
    for w in sorted(after):
        print(f"    worker {w}: resident {memory_kb(loaded[w])['VmRSS'] / 1024:.0f} MB with the network loaded, "
              f"peak {memory_kb(after[w])['VmHWM'] / 1024:.0f} MB after {len(run):,} tasks")
    differ = same(here, there)
    print(f"  identical to this process, bit for bit: {'yes' if not differ else 'NO: ' + ', '.join(differ)} "
          f"(caused loss, defaults caused, DebtRank of {seeds:,} seeds; column sums of losses and defaults)")
    if not args.all:
        total = cpu_here / seeds * n
        print(f"  estimate, the whole ranking: {total / 3600:.1f} CPU-hours at this process's {1e3 * cpu_here / seeds:.1f}"
              f" ms a seed = {total / 3600 / 100:.2f} h wall on 100 one-core workers (seeds differ in their cascades' "
              f"length: an extrapolation, not a measurement)")
    return 0 if not differ else 1


if __name__ == "__main__":
    sys.exit(main())
