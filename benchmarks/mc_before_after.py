"""Issue 16 goal 4's Monte Carlo call on two trees, interleaved: runs per second and CPU-seconds per 1,000 runs.

Run: ``python benchmarks/mc_before_after.py --before OLD_TREE --after NEW_TREE [--turns 5] [--runs 20000]
[--threads 2,1] [--network crypto-2022-05] [--exact]``

Each measurement is a child process (this file with ``--child``) whose ``PYTHONPATH`` is one tree, so ``import
core`` is that tree's engine; the trees take turns (before, after, before, ...; the first of each turn alternates)
so that a busy spell of the shared machine falls on both. A child loads the network, runs the call once untimed
(the first run in a process pays for its threads' fresh heap pages, 80,000 minor faults a thread on the 2022 network),
then times it once: wall, the process's CPU (user + kernel, every thread) and the 1-minute load average at its
end. The call is goal 4's: ``run_montecarlo(net, {}, runs=RUNS, seed=1, streaming=True)`` (``--exact``: the per-run
table and the bootstrap) inside ``engine_threads(T)``. The table gives, per tree and thread count, the medians and
ranges over the turns, and the per-turn ratio after / before of CPU per run (below 1: the after tree spends less).
Under load the wall figure is the machine's (the threads wait for a CPU); CPU per run is the comparable figure.
An experiment on one tree (a constant changed) is two trees: a worktree with the change committed and one without.
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


def child(args: argparse.Namespace) -> None:
    from core import datasets
    from core.chunks import engine_threads
    from core.montecarlo import run_montecarlo

    net = datasets.load(args.network)
    with engine_threads(args.threads):
        run_montecarlo(net, {}, runs=args.runs, seed=1, streaming=not args.exact)  # warm-up: heaps, caches
        cpu0, wall0 = time.process_time(), time.perf_counter()
        run_montecarlo(net, {}, runs=args.runs, seed=1, streaming=not args.exact)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    print(json.dumps({"wall": wall, "cpu": cpu, "load": os.getloadavg()[0]}))


def run_child(tree: Path, threads: int, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--threads", str(threads), "--runs", str(args.runs),
           "--network", args.network] + (["--exact"] if args.exact else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(tree)), cwd=str(tree))
    if proc.returncode:
        raise SystemExit(f"child on {tree} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", type=Path)
    ap.add_argument("--after", type=Path)
    ap.add_argument("--turns", type=int, default=5)
    ap.add_argument("--runs", type=int, default=20_000)
    ap.add_argument("--threads", default="2,1", help="engine thread counts, comma-separated (child: one)")
    ap.add_argument("--network", default="crypto-2022-05")
    ap.add_argument("--exact", action="store_true", help="the per-run table and the bootstrap instead of streaming")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        args.threads = int(args.threads)
        child(args)
        return
    if args.before is None or args.after is None:
        ap.error("--before and --after are required")
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    threads = [int(t) for t in args.threads.split(",")]
    got: dict[tuple[str, int], list[dict]] = {(k, t): [] for k in trees for t in threads}
    print(f"{args.network}, {args.runs:,} runs {'exact' if args.exact else 'streamed'}, {args.turns} turns; "
          f"load average {os.getloadavg()[0]:.2f} at the start", flush=True)
    for turn in range(args.turns):
        order = ["before", "after"] if turn % 2 == 0 else ["after", "before"]
        for t in threads:
            for k in order:
                r = run_child(trees[k], t, args)
                got[(k, t)].append(r)
                print(f"  turn {turn + 1} {k:6s} {t} thread(s): {args.runs / r['wall']:8,.0f} runs/s  "
                      f"{1000 * r['cpu'] / args.runs:.4f} CPU-s per 1,000 runs  load {r['load']:.2f}", flush=True)
    print("medians (ranges):")
    for t in threads:
        for k in trees:
            rs = got[(k, t)]
            rate = [args.runs / r["wall"] for r in rs]
            cpu = [1000 * r["cpu"] / args.runs for r in rs]
            print(f"  {k:6s} {t} thread(s): {statistics.median(rate):8,.0f} runs/s ({min(rate):,.0f}-{max(rate):,.0f}); "
                  f"{statistics.median(cpu):.4f} CPU-s per 1,000 runs ({min(cpu):.4f}-{max(cpu):.4f}); "
                  f"load {min(r['load'] for r in rs):.2f}-{max(r['load'] for r in rs):.2f}")
        ratios = [a["cpu"] / b["cpu"] for a, b in zip(got[("after", t)], got[("before", t)])]
        walls = [a["wall"] / b["wall"] for a, b in zip(got[("after", t)], got[("before", t)])]
        print(f"  {t} thread(s), after / before per turn: CPU {statistics.median(ratios):.3f} "
              f"({min(ratios):.3f}-{max(ratios):.3f}), wall {statistics.median(walls):.3f} ({min(walls):.3f}-{max(walls):.3f})")


if __name__ == "__main__":
    main()
