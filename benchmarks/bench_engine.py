"""Cascade-engine timings, this engine beside a reference engine, in the same run (python benchmarks/bench_engine.py).

The reference is main's commit ``afafd7b`` (the engine before issue 11), checked
out as a git worktree in a temporary folder (or ``--old PATH``, a checkout of
any version). Each version runs the same jobs in its own process (``--worker``,
with its own ``PYTHONPATH``); the two take turns ``--passes`` times so that a
slow spell of the shared machine falls on both alike, and the table prints the
median of every job's times over all passes, and the ratio new / old. Times
are CPU seconds of the worker process (``--clock cpu``, the default: on a
machine shared with other work, wall-clock time measures the neighbours as much
as the engine; a threaded job counts the CPU time of all its threads, i.e. its
work) or wall-clock seconds (``--clock wall``).

Targets (issue 4): one cascade on the shipped network < 20 ms (each preset);
ranking every shipped entity as a seed, batched, < 100 ms; one full cascade on
synthetic(10_000, 100_000) < 1 s; ranking 1,000 seeds on a 1,000-entity
synthetic network < 1 s. Issue 11: no preset more than 10% slower than the
reference, the 1,000-seed ranking no slower.

``--also PATH`` times more versions in the same turns (e.g. main before a
change: ``git worktree add /tmp/main main``), each with its own column and
ratio. Every version runs the reference commit's preset files (the scenario documents
as they were there: one gap in round 0, a 12-round horizon), which both engines
read, so old and new do the same work; today's presets (price paths over up to
24 rounds, which the reference engine cannot read) are timed for the new engine
alone, on lines marked ``(today's file)`` without a ratio.
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


def _worker(repeat: int, preset_dir: Path, today: bool, clock: str) -> None:
    """Run every job with the ``core`` on ``PYTHONPATH``; print {job: [ms, ...]} as JSON.

    ``preset_dir`` holds the preset files both versions run; ``today`` adds this checkout's own presets."""
    import core
    from core.chunks import engine_threads
    from core.engine import compile_network, simulate_batch
    from core.metrics import systemic_importance
    from core.scenario import Scenario

    times: dict[str, list[float]] = {}
    now = time.process_time if clock == "cpu" else time.perf_counter

    def timed(name: str, fn, n: int) -> None:
        fn()  # warm-up (also compiles the network once)
        for _ in range(n):
            t = now()
            fn()
            times.setdefault(name, []).append((now() - t) * 1e3)

    # the 2022 system (the reference engine has no snapshots by name: its default is that one)
    net = core.datasets.load("crypto-2022-05") if hasattr(core.datasets, "load") else core.datasets.default()
    presets = {f"preset {p.stem} (final state)": core.load_scenario(p) for p in sorted(preset_dir.glob("*_*.json"))}
    if today:  # this checkout's presets written for the 2022 snapshot
        today_files = {f"preset {p.stem} (today's file)": core.load_scenario(p)
                       for p in sorted((ROOT / "data" / "scenarios").glob("*_*.json"))}
        presets |= {k: sc for k, sc in today_files.items() if getattr(sc, "snapshot", None) in (None, "crypto-2022-05")}
    for sc in presets.values():
        simulate_batch(net, [sc])
    for _ in range(8 * repeat):  # the presets take turns
        for k, sc in presets.items():
            t = now()
            simulate_batch(net, [sc])
            times.setdefault(k, []).append((now() - t) * 1e3)
    terra = presets["preset terra_may_2022 (final state)"]
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


def _run_worker(path: Path, repeat: int, preset_dir: Path, today: bool, clock: str) -> dict[str, list[float]]:
    env = os.environ | {"PYTHONPATH": str(path)}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--repeat", str(repeat), "--presets", str(preset_dir),
           "--clock", clock]
    out = subprocess.run(cmd + (["--today"] if today else []),
                         env=env, capture_output=True, text=True, check=True, cwd=str(path))
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--repeat", type=int, default=2, help="repeats of each job per pass (presets: 8x this)")
    ap.add_argument("--passes", type=int, default=3, help="turns each version takes")
    ap.add_argument("--old", type=Path, help=f"checkout of the reference engine (default: a worktree of {REFERENCE})")
    ap.add_argument("--also", type=Path, action="append", default=[], metavar="PATH",
                    help="checkout of another version timed in the same turns (e.g. main before a change); repeatable")
    ap.add_argument("--presets", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--today", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--clock", choices=("cpu", "wall"), default="cpu", help="CPU time of the worker (default) or wall clock")
    args = ap.parse_args()
    if args.worker:
        _worker(args.repeat, args.presets, args.today, args.clock)
        return
    with tempfile.TemporaryDirectory() as tmp:
        old = args.old
        if old is None:
            old = Path(tmp) / "reference"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(old), REFERENCE], check=True)
        versions = [("old", old)] + [(f"also{i + 1}", p_) for i, p_ in enumerate(args.also)] + [("new", ROOT)]
        try:
            runs: dict[str, dict[str, list[float]]] = {name: {} for name, _ in versions}
            for _ in range(args.passes):
                for name, path in versions:
                    # every version runs the reference's preset files; the new one adds its own
                    for job, ts in _run_worker(path, args.repeat, old / "data" / "scenarios", name == "new", args.clock).items():
                        runs[name].setdefault(job, []).extend(ts)
        finally:
            if args.old is None:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=False)
    jobs = list(runs["new"])
    width = max(len(j) for j in jobs)
    others = [name for name, _ in versions if name != "new"]
    for name, path in versions:
        print(f"{name}: {path}")
    print(f"{f'job (median {args.clock} ms)':<{width}}  " + "  ".join(f"{v:>9}" for v in others + ["new"])
          + "".join(f"  new/{v}" for v in others))
    for j in jobs:
        n = statistics.median(runs["new"][j])
        med = {v: statistics.median(runs[v][j]) for v in others if j in runs[v]}
        cells = "  ".join(f"{med[v]:>9.2f}" if v in med else f"{'':>9}" for v in others)
        ratios = "".join(f"  {n / med[v]:{len(v) + 4}.3f}" if v in med else f"  {'':>{len(v) + 4}}" for v in others)
        print(f"{j:<{width}}  {cells}  {n:>9.2f}{ratios}")


if __name__ == "__main__":
    main()
