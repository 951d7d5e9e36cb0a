"""The perpetuals book's settlement, and the cascade's perps step, against a bare numpy evaluation of the
same margin formulas.

    python benchmarks/bench_perps.py [--positions N] [--scenarios S] [--quick] [--engine-only]

A book of N positions (cross and isolated accounts, 4 venues, 20 markets) is marked at S
scenarios of prices and settled (:func:`core.mechanisms.perps_book.settle_book`: account
equity and maintenance, liquidation at the fill, the vault -> fund -> ADL / socialised-loss
waterfall per venue). The reference, timed in the same run, is the bare isolated-margin
arithmetic on the same arrays: mark, equity, liquidation test, deficit at the fill and its
per-venue sum (one bincount) — what any evaluation of the book must do at least. Both run in
the same cache-sized chunks of scenarios on the same threads. Prints the medians and the ratio.

The engine step (:func:`core.engine.perps.perps`) is timed the same way on a network built
around such a book (4 venues, one with a backstop vault, named funds holding a tenth of the
rows, USDC and a synthetic dollar as collateral, each venue marking it its own way): one
round of every scenario (a random shock of the 20 markets), from the state after the shock,
in the engine's own chunks of scenarios. The step does what the settlement does plus the
market makers' depth, the two passes of the fills, the collateral at each venue's price and
what passes on to balance sheets. Its memory per chunk is measured (tracemalloc peak) at
N/4, N/2 and N positions: it grows linearly with the book.
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


def make_network(N: int, venues: int = 4, markets: int = 20, seed: int = 0):
    """A network around a random book of N positions (see the module docstring)."""
    import pandas as pd

    from core.network import Network

    rng = np.random.default_rng(seed)
    prov = {"as_of": "2025-10-10", "source": "benchmark", "flag": "estimate", "note": "random"}
    venue_ids = [f"V{i}" for i in range(venues)]
    funds = [f"F{i}" for i in range(20)]
    ents = [{"id": v, "name": v, "type": "perpetuals_venue", "region": "exchange", "chain": "x", "other_assets_usd": 1e7,
             "other_liabilities_usd": 0.0, "insurance_fund_usd": 1e6} for v in venue_ids]
    ents += [{"id": f, "name": f, "type": "fund", "region": "cefi", "chain": "x", "other_assets_usd": 1e7,
              "other_liabilities_usd": 0.0, "insurance_fund_usd": 0.0} for f in funds + ["VAULT"]]
    syms = [f"M{i}" for i in range(markets)]
    assets = [{"symbol": s, "name": s, "kind": "volatile", "price_usd": 100.0, "supply": 1e9, "adv_usd": 1e9, "daily_vol": 0.04}
              for s in syms]
    assets += [{"symbol": "USDC", "name": "USDC", "kind": "fiat_stable", "price_usd": 1.0, "supply": 1e10, "adv_usd": 1e9,
                "daily_vol": 0.001, "peg_target": 1.0, "peg_unit": "USD"},
               {"symbol": "USDX", "name": "USDX", "kind": "algorithmic_stable", "price_usd": 1.0, "supply": 1e10,
                "adv_usd": 1e8, "daily_vol": 0.002, "peg_target": 1.0, "peg_unit": "USD"}]
    size = rng.lognormal(0, 1, N)
    leverage = rng.choice([2.0, 5.0, 10.0, 20.0, 50.0], N)
    entry = rng.uniform(50, 150, N)
    named = rng.random(N) < 0.1
    account = np.where(named, np.array(funds)[rng.integers(0, len(funds), N)], "")
    positions = pd.DataFrame({
        "id": [f"P{i}" for i in range(N)], "venue": np.array(venue_ids)[rng.integers(0, venues, N)], "account": account,
        "market": np.array(syms)[rng.integers(0, markets, N)], "side": np.where(rng.random(N) < 0.5, "long", "short"),
        "size": size, "entry_price": entry, "margin": size * entry / leverage,
        "margin_asset": np.where(rng.random(N) < 0.2, "USDX", "USDC"),
        "margin_mode": np.where(named, "cross", "isolated"), "leverage_bucket": "", **prov})
    vens = pd.DataFrame([{"venue": v, "maintenance_margin": 0.005, "adl_rule": ["adl", "socialised", "backstop_vault", "adl"][i % 4],
                          "backstop_vault_usd": 5e6 if i % 4 == 2 else 0.0, "backstop_vault_entity": "VAULT" if i % 4 == 2 else "",
                          "collateral_policy": ["order_book", "index", "redemption_value", "index"][i % 4], "own_book_share": 0.01,
                          **prov} for i, v in enumerate(venue_ids)])
    exposures = pd.DataFrame([{"id": f"{f}_ON_{v}", "creditor": f, "debtor": v, "kind": "customer_balance", "amount_usd": 1e6, **prov}
                              for f in funds for v in venue_ids])
    holdings = pd.DataFrame([{"entity": v, "asset": "USDC", "amount": 2e7, **prov} for v in venue_ids])
    return Network.from_frames(name="bench-perps", entities=pd.DataFrame([{**e, **prov} for e in ents]),
                               assets=pd.DataFrame([{**a_, **prov} for a_ in assets]), holdings=holdings,
                               exposures=exposures, positions=positions, venues=vens)


def bench_engine(N: int, S: int, repeat: int) -> None:
    """The engine's perps step against the bare margin arithmetic on the same book and marks."""
    import tracemalloc

    from core.chunks import chunk_rows
    from core.engine import compile_network, scenario_batch
    from core.engine import exogenous, perps as perps_step
    from core.engine.batch import batch_take
    from core.engine.state import initial_state
    from core.scenario import Scenario

    t0 = time.perf_counter()
    net = make_network(N)
    c = compile_network(net)
    pc = c.perps
    b1 = scenario_batch(net, [Scenario(name="bench")])
    rng = np.random.default_rng(2)
    b = batch_take(b1, np.zeros(S, dtype=int))
    shock = np.ones((S, c.k))
    shock[:, :20] = np.exp(rng.normal(0, 0.15, (S, 20)))
    b = b.replace(shock=shock)
    width = c.n + N
    rows_per = chunk_rows(width)
    chunks = np.array_split(np.arange(S), max(1, -(-S // rows_per)))
    print(f"\nengine step: {N:,} positions, {c.n} entities; {S:,} scenarios in chunks of {rows_per} "
          f"(built in {time.perf_counter() - t0:.1f} s)")
    bk = pc.pb.book
    q, P0, mm, venue, V = bk.size, bk.entry, bk.maintenance, bk.venue, bk.n_venues
    M = pc.pb.margin_usd

    batches = [batch_take(b, idx) for idx in chunks]

    def state(bb):
        s = initial_state(c, bb)
        s.apply(exogenous.exogenous(c, s, bb, 0))
        s.apply({"sold": np.zeros_like(s.P)})
        return s

    def step(bb, s):
        with trusted():
            ch = perps_step.perps(c, s, bb, 0)
        return float(ch["perps_flow"].sum())

    def bare(bb, s):
        P = s.P[:, pc.market]
        E = M + q * (P - P0)
        liq = E < mm * np.abs(q) * P
        fill = P * (1 - np.sign(q) * 0.01)
        deficit = np.where(liq, np.maximum(-(M + q * (fill - P0)), 0.0), 0.0)
        n = len(P)
        return np.bincount((np.arange(n)[:, None] * V + venue).ravel(), deficit.ravel(), n * V).sum()

    def timed(fn):
        """Seconds of ``fn`` over every chunk (each chunk's state is built, untimed, just before)."""
        total = 0.0
        for bb in batches:
            s = state(bb)
            t = time.perf_counter()
            fn(bb, s)
            total += time.perf_counter() - t
        return total

    timed(bare)
    b_times, s_times = [], []
    for _ in range(repeat):  # turns, so that a slow spell of the machine falls on both
        b_times.append(timed(bare))
        s_times.append(timed(step))
    bt, st = statistics.median(b_times), statistics.median(s_times)
    print(f"bare isolated-margin arithmetic : {bt * 1e3:9.1f} ms")
    print(f"engine perps step               : {st * 1e3:9.1f} ms")
    print(f"ratio                           : {st / bt:9.2f}x")
    # memory of one chunk's step at N/4, N/2, N positions (same chunk of scenarios)
    rows = min(rows_per, S)
    peaks = []
    for n_ in (N // 4, N // 2, N):
        net_ = make_network(n_)
        c_ = compile_network(net_)
        bb = batch_take(scenario_batch(net_, [Scenario(name="bench")]), np.zeros(rows, dtype=int)).replace(shock=shock[:rows])
        s_ = initial_state(c_, bb)
        s_.apply(exogenous.exogenous(c_, s_, bb, 0))
        s_.apply({"sold": np.zeros_like(s_.P)})
        tracemalloc.start()
        with trusted():
            perps_step.perps(c_, s_, bb, 0)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        peaks.append(peak)
        print(f"peak memory of the step, {rows} scenarios x {n_:>7,} positions: {peak / 2**20:8.1f} MiB "
              f"({peak / (rows * n_):6.0f} bytes per scenario-position)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--positions", type=int, default=100_000)
    ap.add_argument("--scenarios", type=int, default=1_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="a small book, one repeat (for CI: runs, asserts no time)")
    ap.add_argument("--engine-only", action="store_true", help="only the engine step")
    a = ap.parse_args()
    if a.quick:
        a.positions, a.scenarios, a.repeat = 2_000, 50, 1
    if a.engine_only:
        bench_engine(a.positions, a.scenarios, a.repeat)
        return
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
    bench_engine(a.positions, a.scenarios, a.repeat)


if __name__ == "__main__":
    main()
