"""Median timings of the DeFi/CeFi mechanisms at engine scale.

Run: ``PYTHONPATH=. python benchmarks/bench_defi.py``

* Aave / Compound / Maker liquidation round: 10,000 cohorts x 1,000 scenarios
  (with per-scenario liquidator capacity for Aave);
* stableswap D, swap and price over 10,000 two-coin pools;
* fire-sale equilibrium: 10,000 entities x 50 assets (dense and 10 %-dense
  sparse holdings), exponential impact.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from core.mechanisms import amm, firesales, lending, perps


def median_time(fn, repeat=5):
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts)), out


def main():
    rng = np.random.default_rng(42)
    S, k = 1000, 10_000
    C = rng.uniform(1, 100, k)
    D = C * 2000 * rng.uniform(0.3, 0.85, k)
    Pc = 2000 * rng.uniform(0.5, 1.1, (S, 1))
    cap = rng.uniform(1e6, 1e8, S)
    rows = []
    t, _ = median_time(lambda: lending.liquidate_aave(C, D, Pc, 1.0, 0.825, 0.05, capacity_usd=cap))
    rows.append(("liquidate_aave   10k cohorts x 1k scenarios", t))
    t, _ = median_time(lambda: lending.liquidate_compound(C, D, Pc, 1.0, 0.825))
    rows.append(("liquidate_compound 10k x 1k", t))
    t, _ = median_time(lambda: lending.liquidate_maker(C, D, Pc, 1.5, 0.13, keeper_capacity_usd=cap))
    rows.append(("liquidate_maker  10k x 1k (keeper capacity)", t))

    n = 10_000
    share = rng.uniform(0.02, 0.98, n)
    bal = np.stack([share, 1 - share], axis=-1) * rng.uniform(1e5, 1e9, (n, 1))
    A = rng.uniform(10, 2000, n)
    t, _ = median_time(lambda: amm.stableswap_D(bal, A))
    rows.append(("stableswap_D     10k pools", t))
    t, _ = median_time(lambda: amm.stableswap_swap(bal, A, 0, 1, 0.05 * bal[:, 0]))
    rows.append(("stableswap_swap  10k pools", t))
    t, _ = median_time(lambda: amm.stableswap_price(bal, A, 0, 1))
    rows.append(("stableswap_price 10k pools", t))

    N, M = 10_000, 50
    H = rng.uniform(0, 100, (N, M)) * (rng.random((N, M)) < 0.1)
    V = H.sum(axis=1)
    L = V * rng.uniform(0.5, 0.97, N)
    p0 = np.full(M, 0.9)
    alpha = 1.0 / H.sum(axis=0).clip(1) * 0.5      # selling half the float moves price ~40 %
    kw = dict(liabilities=L, min_equity_ratio=0.05, alpha=alpha)
    t, res = median_time(lambda: firesales.fire_sale_equilibrium(H, p0, **kw), repeat=3)
    rows.append((f"fire_sale_equilibrium 10k x 50 dense ({int(res.iterations)} it)", t))
    Hs = sp.csr_matrix(H)
    t, res = median_time(lambda: firesales.fire_sale_equilibrium(Hs, p0, **kw), repeat=3)
    rows.append((f"fire_sale_equilibrium 10k x 50 sparse ({int(res.iterations)} it)", t))

    na = 100_000
    size = rng.normal(0, 10, (10, na))
    entry = rng.uniform(80, 120, na)
    margin = np.abs(size) * entry / rng.uniform(2, 50, na)
    marks = rng.uniform(80, 120, (10, 1))
    t, _ = median_time(lambda: perps.settle_liquidations(size, entry, margin, marks, insurance_fund=1e5))
    rows.append(("settle_liquidations 100k accounts x 10 scenarios (ADL)", t))

    width = max(len(r[0]) for r in rows)
    for name, t in rows:
        print(f"{name:<{width}}  {t * 1e3:10.1f} ms")


if __name__ == "__main__":
    main()
