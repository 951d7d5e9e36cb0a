"""The perpetuals book's settlement against a bare numpy evaluation of the same margin formulas.

    python benchmarks/bench_perps.py [--positions N] [--scenarios S] [--quick]

A book of N positions (cross and isolated accounts, 4 venues, 20 markets) is marked at S
scenarios of prices and settled (:func:`core.mechanisms.perps_book.settle_book`: account
equity and maintenance, liquidation at the fill, the vault -> fund -> ADL / socialised-loss
waterfall per venue). The reference, timed in the same run, is the bare isolated-margin
arithmetic on the same arrays: mark, equity, liquidation test, deficit at the fill and its
per-venue sum (one bincount) — what any evaluation of the book must do at least. Both run in
the same cache-sized chunks of scenarios on the same threads. Prints the medians and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.chunks import chunk_rows, map_chunks  # noqa: E402
from core.mechanisms._checks import trusted  # noqa: E402
from core.mechanisms.perps_book import book, settle_book  # noqa: E402


def make_book(N: int, venues: int = 4, markets: int = 20, seed: int = 0):
    rng = np.random.default_rng(seed)
    venue = rng.integers(0, venues, N)
    market = rng.integers(0, markets, N)
    entry = rng.uniform(50, 150, N)
    size = rng.choice([-1.0, 1.0], N) * rng.lognormal(0, 1, N)
    leverage = rng.choice([2.0, 5.0, 10.0, 20.0, 50.0], N)
    margin = np.abs(size) * entry / leverage
    # a third of the rows in cross-margin accounts of ~5 positions on one venue
    cross = rng.random(N) < 1 / 3
    account = np.where(cross, N + venue * (N // 15 + 1) + rng.integers(0, N // 15 + 1, N), np.arange(N))
    return book(venue, market, size, entry, margin, 0.005, account, n_venues=venues, n_markets=markets), markets, venues


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--positions", type=int, default=100_000)
    ap.add_argument("--scenarios", type=int, default=1_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="a small book, one repeat (for CI: runs, asserts no time)")
    a = ap.parse_args()
    if a.quick:
        a.positions, a.scenarios, a.repeat = 2_000, 50, 1
    bk, K, V = make_book(a.positions)
    rng = np.random.default_rng(1)
    marks = 100 * np.exp(rng.normal(0, 0.15, (a.scenarios, K)))
    slip = np.full((a.scenarios, V), 0.01)
    fund = np.full((a.scenarios, V), 1e4)
    vault = np.full((a.scenarios, V), 5e3)
    rule = np.tile(np.array([0, 1, 2, 0]), (a.scenarios, 1))

    def settle(rows):
        with trusted():
            r = settle_book(bk, marks[rows], slippage=slip[rows], insurance_fund=fund[rows], backstop=vault[rows], rule=rule[rows])
        return r.uncovered_usd.sum() + r.adl_usd.sum()

    q, P0, M, m, venue = bk.size, bk.entry, bk.margin, bk.maintenance, bk.venue

    def bare(rows):
        P = marks[rows][:, bk.market]
        E = M + q * (P - P0)
        liq = E < m * np.abs(q) * P
        fill = P * (1 - np.sign(q) * slip[rows][:, venue])
        deficit = np.where(liq, np.maximum(-(M + q * (fill - P0)), 0.0), 0.0)
        S = len(rows)
        return np.bincount((np.arange(S)[:, None] * V + venue).ravel(), deficit.ravel(), S * V).sum()

    def timed(fn):
        times = []
        for _ in range(a.repeat):
            t = time.perf_counter()
            map_chunks(fn, a.scenarios, a.positions)
            times.append(time.perf_counter() - t)
        return statistics.median(times), min(times), max(times)

    chunk = chunk_rows(a.positions)
    print(f"book: {a.positions:,} positions ({bk.n_accounts:,} margin accounts), {V} venues, {K} markets; "
          f"{a.scenarios:,} scenarios in chunks of {chunk}")
    timed(bare) if a.repeat > 1 else None  # warm-up
    # the two take turns so that a slow spell of the machine falls on both
    b_times, s_times = [], []
    for _ in range(a.repeat):
        b_times.append(timed(bare)[0] if a.repeat == 1 else timed(bare)[1])
        s_times.append(timed(settle)[0] if a.repeat == 1 else timed(settle)[1])
    b, s = statistics.median(b_times), statistics.median(s_times)
    print(f"bare isolated-margin arithmetic : {b * 1e3:9.1f} ms")
    print(f"settle_book (margin + waterfall): {s * 1e3:9.1f} ms")
    print(f"ratio                           : {s / b:9.2f}x")


if __name__ == "__main__":
    main()
