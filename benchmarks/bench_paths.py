"""What shocks that unfold over time cost: core.paths per round, and the engine hook on one-gap presets.

Run: ``PYTHONPATH=. python benchmarks/bench_paths.py [--scenarios 20000] [--rounds 365] [--repeat 5]``

* **Per-round increment** (:func:`core.paths.log_increment`) for S scenarios over a
  365-round horizon, each spreading its shocks over its own number of rounds and a
  quarter with an explicit 365-round path, beside two references: reading one
  precomputed (S, k) increment per round from a materialised (rounds, S, k) array
  (the blow-up the module avoids; its memory is printed), and one round of the
  cascade engine on the shipped network for the same S (what the increment adds to).
* **Engine hook**: the five presets as one gap each (``tests/fixtures/presets_as_gaps``)
  with the hook live and with ``paths=None`` (the code before paths), interleaved.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import core
from core.engine import compile_network, run_batch, scenario_batch
from core.paths import ExogenousPaths, log_increment


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenarios", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=365)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    S, R, k = args.scenarios, args.rounds, 14
    rng = np.random.default_rng(0)
    shock = np.exp(rng.normal(0, 0.3, (S, k)))
    depeg = np.where(rng.random((S, k)) < 0.05, rng.uniform(0, 0.5, (S, k)), 0.0)
    unit = np.full(k, -2)
    unit[1], unit[5] = 0, -1
    table = np.cumsum(rng.normal(0, 0.04, (4, R, k)), 1)
    paths = ExogenousPaths(rng.integers(1, R, S), np.where(rng.random(S) < 0.25, rng.integers(0, 4, S), -1), table,
                           np.full(4, R - 1))
    t_path = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        for r in range(1, R):
            log_increment(shock, depeg, paths, unit, r)
        t_path.append((time.perf_counter() - t0) / (R - 1))
    full = np.zeros((R, S, k))  # the bare reference: every round's increment stored up front
    t_ref = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        for r in range(1, R):
            np.array(full[r])
        t_ref.append((time.perf_counter() - t0) / (R - 1))
    print(f"per-round increment, S={S:,}, k={k}, {R} rounds")
    print(f"  core.paths.log_increment  {np.median(t_path) * 1e3:8.3f} ms/round, holds {paths.table.nbytes / 2**20:7.1f} MiB of paths")
    print(f"  materialised (R, S, k)    {np.median(t_ref) * 1e3:8.3f} ms/round, holds {full.nbytes / 2**20:7.1f} MiB  "
          f"(ratio of time {np.median(t_path) / np.median(t_ref):.2f}, of memory {full.nbytes / max(paths.table.nbytes, 1):.0f}x)")

    net = core.datasets.load("crypto-2022-05")
    c = compile_network(net)
    crash = scenario_batch(net, [core.Scenario(price_shocks={"ETH": -0.3, "BTC": -0.3}, run_intensity=0.5)], repeat=S)
    t0 = time.perf_counter()
    res = run_batch(c, crash)
    per_round = (time.perf_counter() - t0) / max(int(res.rounds_run.max()), 1)
    print(f"  one engine round, same S    {per_round * 1e3:8.3f} ms/round  (increment / engine round "
          f"{np.median(t_path) / per_round:.3f})")
    gap = sorted((Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "presets_as_gaps").glob("*.json"))
    batches = [scenario_batch(net, [core.load_scenario(p)]) for p in gap]
    t = {"hook": [], "none": []}
    for _ in range(args.repeat * 4):
        for b in batches:
            for key, bb in (("hook", b), ("none", b.replace(paths=None))):
                t0 = time.perf_counter()
                run_batch(c, bb)
                t[key].append(time.perf_counter() - t0)
    hook, none = (np.median(t[k_]) for k_ in ("hook", "none"))
    print(f"engine on the five gap presets (median of {len(t['hook'])} runs): hook {hook * 1e3:.2f} ms, "
          f"without {none * 1e3:.2f} ms, ratio {hook / none:.3f}")


if __name__ == "__main__":
    main()
