"""The engine's fixed cost per call and per round: CPU of small ``simulate_batch`` calls, and where it goes.

Run: ``PYTHONPATH=. python benchmarks/call_overhead.py [--passes 8] [--presets DIR]`` (times: the median CPU
milliseconds of each job over the passes, the jobs taking turns), ``--steps SNAPSHOT`` (CPU per round of each step
of :data:`core.engine.rounds.STEPS`, one-row ETH -30 % on that snapshot), or ``--profile JOB`` (cProfile on CPU
time, the 45 largest own times). Jobs: a one-row ETH -30 % call on crypto-2022-05 and crypto-2025-10 (default
horizon), each preset file of ``--presets`` on crypto-2022-05 (default this checkout's ``data/scenarios``, those for
that snapshot; ``bench_engine.py`` runs the reference's), and a 64-row batch on each network. CPU, not wall: the
machine is shared. The ``core`` timed is the one on ``PYTHONPATH`` (this script adds no path of its own), so one
copy of it compares two checkouts: run it under each one's ``PYTHONPATH`` in turns (A, B, A, B, ...).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time
from pathlib import Path

import core
import round_profile  # noqa: E402  (benchmarks/, the script's own folder)
from core.engine import simulate_batch
from core.scenario import Scenario

ROOT = Path(__file__).resolve().parent.parent


def jobs(preset_dir: Path) -> dict:
    net22, net25 = core.datasets.load("crypto-2022-05"), core.datasets.load("crypto-2025-10")
    out = {"2022 one-row default": (net22, [Scenario(price_shocks={"ETH": -0.3})]),
           "2025 one-row default": (net25, [Scenario(price_shocks={"ETH": -0.3})])}
    for p in sorted(preset_dir.glob("*_*.json")):
        sc = core.load_scenario(p)
        if getattr(sc, "snapshot", None) in (None, "crypto-2022-05"):
            out[f"2022 preset {p.stem}"] = (net22, [sc])
    many = [Scenario(price_shocks={"ETH": -0.05 * (1 + i % 16), "BTC": -0.01 * i}) for i in range(64)]
    out["2025 64-row"], out["2022 64-row"] = (net25, many), (net22, many)
    return out


def step_times(snapshot: str, calls: int = 30) -> None:
    """A call's CPU (timed bare) and each step's CPU a round (timed by ``round_profile.step_times``)."""
    net, sc = core.datasets.load(snapshot), Scenario(price_shocks={"ETH": -0.3})
    n = int(simulate_batch(net, [sc]).rounds_run[0])  # also the warm-up
    t = time.process_time()
    for _ in range(calls):
        simulate_batch(net, [sc])
    total = time.process_time() - t
    spent = round_profile.step_times(net, sc, calls, 0)
    print(f"{snapshot}: {n} rounds a call, {total / calls * 1e3:.2f} ms CPU a call, "
          f"steps {sum(spent.values()) * 1e3:.3f} ms a round")
    for k, v in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {k:40s} {v * 1e3:.3f} ms a round")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--passes", type=int, default=8)
    ap.add_argument("--presets", type=Path, default=ROOT / "data" / "scenarios")
    ap.add_argument("--steps", metavar="SNAPSHOT")
    ap.add_argument("--profile", metavar="JOB")
    args = ap.parse_args()
    if args.steps:
        step_times(args.steps)
        return
    J = jobs(args.presets)
    if args.profile:
        net, scs = J[args.profile]
        simulate_batch(net, scs)
        pr = cProfile.Profile(time.process_time)
        pr.enable()
        for _ in range(args.passes):
            simulate_batch(net, scs)
        pr.disable()
        pstats.Stats(pr).sort_stats("tottime").print_stats(45)
        return
    for net, scs in J.values():  # warm-up (compiles each network once)
        simulate_batch(net, scs)
    spent: dict[str, list[float]] = {k: [] for k in J}
    for _ in range(args.passes):
        for k, (net, scs) in J.items():
            t = time.process_time()
            simulate_batch(net, scs)
            spent[k].append((time.process_time() - t) * 1e3)
    for k, v in spent.items():
        print(f"{k:45s} {statistics.median(v):8.2f} ms")


if __name__ == "__main__":
    main()
