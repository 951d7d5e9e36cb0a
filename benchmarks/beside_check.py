"""The engine's second thread (:func:`core.chunks.beside`) changes no result: goal 5's storm
(``bench_scale.storm``) on ``synthetic(n, 10n)``, one scenario, run with ``engine_threads(1)`` (every task on the
caller's thread) and ``engine_threads(2)``, every array of the two ``BatchResult`` compared to the bit; then the
round's wall and CPU time both ways, interleaved.

Run: ``PYTHONPATH=. python benchmarks/beside_check.py [--entities 100000] [--repeat 7]``
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import fields
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import core  # noqa: E402
from core.chunks import engine_threads  # noqa: E402
from core.engine import compile_network, simulate_batch  # noqa: E402
from bench_scale import storm  # noqa: E402


def arrays(obj, prefix: str = "") -> dict[str, np.ndarray]:
    """Every numpy array reachable from a result (dataclass fields, dicts), by path."""
    out: dict[str, np.ndarray] = {}
    if isinstance(obj, np.ndarray):
        out[prefix] = obj
    elif hasattr(obj, "__dataclass_fields__"):
        for f in fields(obj):
            out |= arrays(getattr(obj, f.name), f"{prefix}.{f.name}")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            out |= arrays(v, f"{prefix}[{k!r}]")
    return out


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind == "f":
        return bool(np.array_equal(a.view(f"u{a.itemsize}"), b.view(f"u{b.itemsize}")))
    return bool(np.array_equal(a, b))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entities", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--record", action="store_true", help="compare the recorded history too")
    a = ap.parse_args()
    n = a.entities
    net = core.datasets.synthetic(n, 10 * n, seed=1)
    compile_network(net)
    long, short = storm(net, 20), storm(net, 10)
    res = {}
    for k in (1, 2):
        with engine_threads(k):
            res[k] = arrays(simulate_batch(net, [long], record=a.record))
    moved = [p for p in res[1] if not same_bits(res[1][p], res[2][p])]
    print(f"synthetic({n:,}, {10 * n:,}), storm of 20 rounds: {len(res[1])} arrays compared, "
          f"{len(moved)} differ between engine_threads(1) and engine_threads(2)" + (f": {moved}" if moved else ""))
    runs = {(k, sc): (lambda k=k, sc=sc: _run(net, sc, k)) for k in (1, 2) for sc in ("long", "short")}
    scen = {"long": long, "short": short}
    wall = {key: [] for key in runs}
    cpu = {key: [] for key in runs}
    loads = [os.getloadavg()[0]]
    for _ in range(a.repeat):
        for (k, sc) in runs:
            c0, t0 = time.process_time(), time.perf_counter()
            with engine_threads(k):
                simulate_batch(net, [scen[sc]])
            wall[(k, sc)].append(time.perf_counter() - t0)
            cpu[(k, sc)].append(time.process_time() - c0)
        loads.append(os.getloadavg()[0])
    for k in (1, 2):
        mw = (np.median(wall[(k, "long")]) - np.median(wall[(k, "short")])) / 10
        mc = (np.median(cpu[(k, "long")]) - np.median(cpu[(k, "short")])) / 10
        print(f"engine_threads({k}): marginal round {mw * 1e3:.2f} ms wall, {mc * 1e3:.2f} ms CPU "
              f"(medians of {a.repeat}; 20-round run {np.median(wall[(k, 'long')]) * 1e3:.0f} ms wall)")
    print(f"load average {min(loads):.2f}-{max(loads):.2f} during the runs")


def _run(net, sc, k):  # pragma: no cover - kept for readability of the pairs above
    with engine_threads(k):
        return simulate_batch(net, [sc])


if __name__ == "__main__":
    main()
