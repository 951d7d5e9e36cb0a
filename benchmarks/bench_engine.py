"""Cascade-engine timings, this engine beside a reference engine, in the same run (python benchmarks/bench_engine.py).

The reference is main's commit ``afafd7b`` (the engine before issue 11), checked
out as a git worktree in a temporary folder (or ``--old PATH``, a checkout of
any version). Each version runs the same jobs in its own process (``--worker``,
with its own ``PYTHONPATH``); the two take turns ``--passes`` times so that a
slow spell of the shared machine falls on both alike, and the table prints the
median of every job's times over all passes, and the ratio new / old.

Targets (issue 4): one cascade on the shipped network < 20 ms (each preset);
ranking every shipped entity as a seed, batched, < 100 ms; one full cascade on
synthetic(10_000, 100_000) < 1 s; ranking 1,000 seeds on a 1,000-entity
synthetic network < 1 s. Issue 11: no preset more than 10% slower than the
reference, the 1,000-seed ranking no slower.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = "afafd7b"


def _worker(repeat: int) -> None:
    """Run every job with the ``core`` on ``PYTHONPATH``; print {job: [ms, ...]} as JSON."""
    import core
    from core.chunks import engine_threads
    from core.engine import compile_network, simulate_batch
    from core.metrics import systemic_importance
    from core.scenario import Scenario

    times: dict[str, list[float]] = {}

    def timed(name: str, fn, n: int) -> None:
        fn()  # warm-up (also compiles the network once)
        for _ in range(n):
            t = time.perf_counter()
            fn()
            times.setdefault(name, []).append((time.perf_counter() - t) * 1e3)

    net = core.datasets.load("crypto-2022-05")
    presets = {p.stem: core.load_scenario(p) for p in sorted((ROOT / "data" / "scenarios").glob("*_*.json"))}
    for sc in presets.values():
        simulate_batch(net, [sc])
    for _ in range(8 * repeat):  # the presets take turns
        for k, sc in presets.items():
            t = time.perf_counter()
            simulate_batch(net, [sc])
            times.setdefault(f"preset {k} (final state)", []).append((time.perf_counter() - t) * 1e3)
    terra = presets["terra_may_2022"]
    timed("terra_may_2022 + result tables", lambda: core.simulate(net, terra), 4 * repeat)
    timed(f"rank all {net.n_entities} shipped entities (batched + DebtRank)", lambda: systemic_importance(net), 4 * repeat)
    big = core.datasets.synthetic(10_000, 100_000, seed=1)
    compile_network(big)
    seeds = list(big.entities["id"][:10])
    sc = Scenario(forced_defaults=seeds, price_shocks={"ETH": -0.3, "BTC": -0.2}, run_intensity=0.5, horizon=20)
    timed("one cascade, synthetic 10,000 / 100,000", lambda: simulate_batch(big, [sc]), repeat)
    mid = core.datasets.synthetic(1_000, 10_000, seed=1)
    compile_network(mid)
    timed("rank 1,000 seeds, synthetic 1,000 / 10,000 (threads)", lambda: systemic_importance(mid), repeat)
    with engine_threads(1):
        timed("rank 1,000 seeds, synthetic 1,000 / 10,000 (1 thread)", lambda: systemic_importance(mid), repeat)
    print(json.dumps(times))


def _run_worker(path: Path, repeat: int) -> dict[str, list[float]]:
    env = os.environ | {"PYTHONPATH": str(path)}
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", "--repeat", str(repeat)],
                         env=env, capture_output=True, text=True, check=True, cwd=str(path))
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--repeat", type=int, default=2, help="repeats of each job per pass (presets: 8x this)")
    ap.add_argument("--passes", type=int, default=3, help="turns each version takes")
    ap.add_argument("--old", type=Path, help=f"checkout of the reference engine (default: a worktree of {REFERENCE})")
    args = ap.parse_args()
    if args.worker:
        _worker(args.repeat)
        return
    with tempfile.TemporaryDirectory() as tmp:
        old = args.old
        if old is None:
            old = Path(tmp) / "reference"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(old), REFERENCE], check=True)
        try:
            runs: dict[str, dict[str, list[float]]] = {"old": {}, "new": {}}
            for _ in range(args.passes):
                for name, path in (("old", old), ("new", ROOT)):
                    for job, ts in _run_worker(path, args.repeat).items():
                        runs[name].setdefault(job, []).extend(ts)
        finally:
            if args.old is None:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=False)
    jobs = list(runs["new"])
    width = max(len(j) for j in jobs)
    print(f"{'job (median ms)':<{width}}  {'old':>9}  {'new':>9}  new/old")
    for j in jobs:
        o, n = statistics.median(runs["old"][j]), statistics.median(runs["new"][j])
        print(f"{j:<{width}}  {o:>9.2f}  {n:>9.2f}  {n / o:6.3f}")


if __name__ == "__main__":
    main()
