"""One Maker liquidation round over a batch of scenarios against the bare arithmetic of the same round.

    python benchmarks/bench_maker.py [--cohorts C] [--scenarios S] [--quick]

C vault cohorts in 3 ilks are marked at S scenarios of ETH prices and run through
:func:`core.mechanisms.maker_liquidations.maker_round` (unsafe test at par, bark within
``hole``/``Hole``/``dust``, Clipper auctions within keeper capacity, Vow, flop). The reference,
timed in the same run, is what any evaluation of that round must do at least, on the same
arrays: the unsafe test, the running sum of tabs capped by the global room (one cumsum), the
stairstep price at the round's end and each auction's proceeds (no per-ilk rooms, dust,
resets or Vow). Prints the medians and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.mechanisms._checks import trusted  # noqa: E402
from core.mechanisms.maker_liquidations import IlkParameters, maker_initial_state, maker_round  # noqa: E402

PARAMS = IlkParameters(mat=np.array([1.45, 1.30, 1.70]), chop=np.full(3, 1.13), hole=np.array([40e6, 25e6, 30e6]),
                       dust=np.array([15e3, 40e3, 15e3]), buf=1.2, tail=8400.0, cusp=0.4, chip=0.001, tip=300.0,
                       step=90.0, cut=0.99, Hole=100e6)


def make(C: int, S: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    ilk = rng.integers(0, 3, C)
    debt = rng.lognormal(16, 1.5, C)
    ratio = rng.uniform(1.05, 3.0, C) * PARAMS.mat[ilk]
    ink = debt * ratio / 2750.0
    price = 2750.0 * rng.uniform(0.5, 1.0, S)
    return ilk, np.repeat(ink[None], S, 0), np.repeat(debt[None], S, 0), price


def run_round(ilk, ink, debt, price):
    s = maker_initial_state(ink, debt, 3, 70e6, 0.977e6, 1500.0)
    feed = np.repeat(price[:, None], ink.shape[1], 1)
    with trusted():
        return maker_round(s, ilk, PARAMS, feed, feed, round_seconds=3600.0, keeper_capacity_usd=10e6,
                           keeper_margin=0.01)


def reference(ilk, ink, debt, price):
    unsafe = ink * (price[:, None] / PARAMS.mat[ilk]) < debt
    tab = np.where(unsafe, debt * PARAMS.chop[ilk], 0.0)
    capped = np.diff(np.minimum(np.cumsum(tab, axis=1), PARAMS.Hole), axis=1, prepend=0.0)
    auction_price = price[:, None] * PARAMS.buf * PARAMS.cut ** np.floor(3600.0 / PARAMS.step)
    return np.minimum(capped, ink * capped / np.where(tab > 0, tab, 1.0) * auction_price).sum(1)


def median_time(f, *args, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f(*args)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cohorts", type=int, default=60)
    ap.add_argument("--scenarios", type=int, default=2000)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    C, S = (20, 200) if a.quick else (a.cohorts, a.scenarios)
    args = make(C, S)
    repeat = 3 if a.quick else 7
    t_round = median_time(run_round, *args, repeat=repeat)
    t_ref = median_time(reference, *args, repeat=repeat)
    print(f"{C} cohorts x {S} scenarios: maker_round {t_round * 1e3:.1f} ms, bare reference {t_ref * 1e3:.1f} ms, "
          f"ratio {t_round / t_ref:.1f}x")


if __name__ == "__main__":
    main()
