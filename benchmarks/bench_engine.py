"""Cascade-engine timings: prints median wall time of each job (run: python benchmarks/bench_engine.py).

Targets (issue 4): one cascade on the shipped network < 20 ms (each preset); ranking every
shipped entity as a seed, batched, < 100 ms; one full cascade on
synthetic(10_000, 100_000) < 1 s; ranking 1,000 seeds on a 1,000-entity
synthetic network < 1 s.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import core  # noqa: E402
from core.chunks import engine_threads, engine_workers  # noqa: E402
from core.engine import compile_network, simulate_batch  # noqa: E402
from core.metrics import systemic_importance  # noqa: E402
from core.scenario import Scenario  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def median_ms(fn, repeat: int) -> tuple[float, object]:
    out = fn()  # warm-up (also compiles the network once)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times), out


def main() -> None:
    net = core.datasets.default()
    terra = core.load_scenario(ROOT / "data" / "scenarios" / "terra_may_2022.json")
    rows = []
    # The presets take turns, 40 rounds of all five, so that a slow spell of the machine falls on each alike.
    presets = {p.stem: core.load_scenario(p) for p in sorted((ROOT / "data" / "scenarios").glob("*_*.json"))}
    times: dict[str, list[float]] = {k: [] for k in presets}
    rounds = {k: int(simulate_batch(net, [sc]).rounds_run[0]) for k, sc in presets.items()}  # warm-up
    for _ in range(40):
        for k, sc in presets.items():
            t = time.perf_counter()
            simulate_batch(net, [sc])
            times[k].append((time.perf_counter() - t) * 1e3)
    for k in presets:
        rows.append((f"one cascade, shipped network ({k}, {rounds[k]} rounds, final state)", statistics.median(times[k]), "< 20"))
    ms, res = median_ms(lambda: core.simulate(net, terra), 20)
    rows.append(("one cascade + result tables, shipped network", ms, "-"))
    ms, _ = median_ms(lambda: systemic_importance(net), 20)
    rows.append((f"rank all {net.n_entities} shipped entities as seeds (batched + DebtRank)", ms, "< 100"))

    big = core.datasets.synthetic(10_000, 100_000, seed=1)
    compile_network(big)
    seeds = list(big.entities["id"][:10])
    sc = Scenario(forced_defaults=seeds, price_shocks={"ETH": -0.3, "BTC": -0.2}, run_intensity=0.5, horizon=20)
    ms, br = median_ms(lambda: simulate_batch(big, [sc]), 5)
    rows.append((f"one cascade, synthetic 10,000 / 100,000 ({int(br.rounds_run[0])} rounds, {int(br.defaulted.sum())} defaults)", ms, "< 1000"))

    mid = core.datasets.synthetic(1_000, 10_000, seed=1)
    compile_network(mid)
    ms, _ = median_ms(lambda: systemic_importance(mid), 5)
    rows.append((f"rank 1,000 seeds on synthetic 1,000 / 10,000 (batched + DebtRank, {engine_workers()} threads)", ms, "< 1000"))
    with engine_threads(1):
        ms, _ = median_ms(lambda: systemic_importance(mid), 3)
    rows.append(("rank 1,000 seeds on synthetic 1,000 / 10,000 (batched + DebtRank, 1 thread)", ms, "-"))

    width = max(len(r[0]) for r in rows)
    print(f"{'job':<{width}}  {'median ms':>10}  target ms")
    for name, ms, target in rows:
        print(f"{name:<{width}}  {ms:>10.1f}  {target}")


if __name__ == "__main__":
    main()
