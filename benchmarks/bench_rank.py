"""The 1,000-seed ranking alone, several versions side by side in one run (python benchmarks/bench_rank.py).

``systemic_importance`` on ``synthetic(1000, 10000, seed=1)`` (the ranking of ``bench_engine.py``), on one
thread and on the usable cores, each version in its own process (``--worker``, with its own ``PYTHONPATH``).
The versions take turns ``--turns`` times, in a different order each turn, so that a slow spell of the shared
machine falls on all alike; the table prints each version's median CPU time (``time.process_time``: all its
threads' work, not the neighbours') over all turns and repeats, and its ratio to the first version. The load
average is printed before and after.

    python benchmarks/bench_rank.py old=<checkout of afafd7b> main=<checkout of main> new=.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def _worker(repeat: int) -> None:
    import core
    from core.chunks import engine_threads
    from core.engine import compile_network
    from core.metrics import systemic_importance

    net = core.datasets.synthetic(1_000, 10_000, seed=1)
    compile_network(net)
    systemic_importance(net)  # warm-up
    times: dict[str, list[float]] = {}
    for _ in range(repeat):
        for label, threads in (("1 thread", 1), ("threads", None)):
            with engine_threads(threads or len(os.sched_getaffinity(0))):
                t = time.process_time()
                systemic_importance(net)
                times.setdefault(label, []).append((time.process_time() - t) * 1e3)
    print(json.dumps(times))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("versions", nargs="*", metavar="NAME=PATH", help="checkouts to time; the first is the reference")
    ap.add_argument("--turns", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=2, help="rankings of each kind per worker")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        _worker(args.repeat)
        return
    versions = [(v.split("=", 1)[0], Path(v.split("=", 1)[1]).resolve()) for v in args.versions]
    print(f"load average before: {os.getloadavg()}")
    runs: dict[str, dict[str, list[float]]] = {name: {} for name, _ in versions}
    for turn in range(args.turns):
        order = versions[turn % len(versions):] + versions[:turn % len(versions)]
        for name, path in order:
            out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", "--repeat", str(args.repeat)],
                                 env=os.environ | {"PYTHONPATH": str(path)}, capture_output=True, text=True, check=True,
                                 cwd=str(path))
            for job, ts in json.loads(out.stdout.strip().splitlines()[-1]).items():
                runs[name].setdefault(job, []).extend(ts)
    print(f"load average after: {os.getloadavg()}")
    first = versions[0][0]
    names = [name for name, _ in versions]
    print(f"{'median CPU ms':<12}" + "".join(f"{n:>10}" for n in names) + "".join(f"  {n}/{first}" for n in names[1:]))
    for job in runs[first]:
        med = {n: statistics.median(runs[n][job]) for n in names}
        print(f"{job:<12}" + "".join(f"{med[n]:>10.1f}" for n in names)
              + "".join(f"  {med[n] / med[first]:>{len(n) + len(first) + 1}.3f}" for n in names[1:]))


if __name__ == "__main__":
    main()
