r"""Daily-close figures of the 2022 and 2020 snapshots: pair correlations and MKR's price on ``as_of``.

Model
-----
The correlation of a pair is Pearson's :math:`\rho` of the two assets' daily log returns
:math:`r_t = \ln(P_t / P_{t-1})` of daily closes :math:`P_t` (UTC days), over the returns dated in the 365 days
that end on the snapshot's ``as_of`` (closes from ``as_of`` - 365 days to ``as_of``: 365 returns when both series
are complete), on the days both series have a close. MKR's price is its daily close on ``as_of``.

Series
------
Yahoo Finance ``X-USD`` daily closes, as downloaded into public repositories (pinned by commit). None of these
repositories states a licence, so the series are not committed here: they are read by URL
(``raw.githubusercontent.com/<repo>/<commit>/<path>``), or from a local copy laid out the same way
(``--local DIR`` reads ``DIR/<repo>/<commit>/<path>``). The overlapping days of two downloads of one ticker agree
to 1e-9 (ETH and BTC, 2021-05-09 to 2022-05-08, in budydeveloper/crypto-dataset and viveksing77/Portfolio-Optimization).

Not in any series found: stETH, CEL (Celsius; the series found end 2021-05-20 and 2021-12-14), GBTC over
2021-05 to 2022-05, and MKR's total supply (a supply is not a price: no dated daily table of it was found).

Usage
-----
``python data/crypto-2022-05/_prices.py [--local DIR]`` prints each figure with its window and count;
``--check`` also fails unless ``correlations.csv`` of both snapshots carries them and every ``maker_ilks.csv`` row's
note states MKR's close and its ``mkr_price_usd`` is that close to the cent (session 36 recorded the closes in the
notes; session 37 applied them and re-found the Maker backstop edges they moved: docs/invariants.md,
"Session 37 (mkrclose)").
"""

from __future__ import annotations

import argparse
import io
import math
import sys
import urllib.request
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DATA = HERE.parent

BUDY = ("budydeveloper/crypto-dataset", "7791d62448ab98c384aa496df73ffc72a64c5399")
VIVEK = ("viveksing77/Portfolio-Optimization", "4d45f6645f89d99ae4b2956ee8e0d7e091068951")
ROMAN = ("Roman-Nowak/interactive-data-visualization-webapp", "fc9806e1e997e6c2d3e1f9a9319dfa7dddab6c56")
BENJAMIN = ("benjaminpo/crypto-price", "a9d3c86b6285bc1cc0a9c59c5b7ec53efec09fb1")

#: symbol -> (repository, commit, path) of its Yahoo Finance daily closes.
SERIES = {
    "ETH": (*BUDY, "cryptos/eth/ETH-USD_1d.csv"),
    "BTC": (*BUDY, "cryptos/btc/BTC-USD_1d.csv"),
    "FTT": (*VIVEK, "data/FTT-USD.csv"),
    "LUNA": (*ROMAN, "data/LUNA1-USD.csv"),
    "MKR-2022": (*VIVEK, "data/MKR-USD.csv"),
    "MKR-2020": (*BENJAMIN, "data/crypto/1d/MKR-USD-1d.csv"),
}

#: snapshot -> (as_of, pairs computed from the series).
SNAPSHOTS = {
    "crypto-2022-05": (date(2022, 5, 6), [("ETH", "BTC"), ("ETH", "LUNA"), ("ETH", "FTT"), ("BTC", "LUNA"),
                                          ("BTC", "FTT"), ("LUNA", "FTT")]),
    "crypto-2020-03": (date(2020, 3, 11), [("ETH", "BTC")]),
}
MKR_SERIES = {"crypto-2022-05": "MKR-2022", "crypto-2020-03": "MKR-2020"}

#: stETH has no daily series for 2021-22 in any source found: its pairs with a computed ETH pair follow the
#: one-factor rule rho(stETH, X) = rho(ETH, stETH) * rho(ETH, X) (stETH = ETH plus depeg noise independent of X),
#: with rho(ETH, stETH) = 0.98, the snapshot's own estimate.
STETH_ETH = 0.98
STETH_DERIVED = {"crypto-2022-05": ["BTC", "LUNA", "FTT"]}


def url(symbol: str) -> str:
    repo, commit, path = SERIES[symbol]
    return f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"


def closes(symbol: str, local: Path | None) -> pd.Series:
    """Daily closes of ``symbol`` indexed by ISO date; empty closes (days before listing) dropped."""
    repo, commit, path = SERIES[symbol]
    if local is not None:
        text = (local / repo / commit / path).read_text()
    else:
        with urllib.request.urlopen(url(symbol), timeout=60) as response:
            text = response.read().decode()
    frame = pd.read_csv(io.StringIO(text))
    frame["Date"] = pd.to_datetime(frame["Date"]).dt.strftime("%Y-%m-%d")
    series = frame.set_index("Date")["Close"].astype(float).dropna()
    if series.index.has_duplicates:
        raise ValueError(f"{url(symbol)}: column Date repeats {series.index[series.index.duplicated()][0]}; "
                         "expected one close a day")
    if (series <= 0).any():
        raise ValueError(f"{url(symbol)}: column Close has {series[series <= 0].iloc[0]} on "
                         f"{series[series <= 0].index[0]}; expected a positive price")
    return series


def log_returns(series: pd.Series, as_of: date) -> pd.Series:
    """Log returns of consecutive calendar days' closes, dated by their second day, in (as_of - 365 d, as_of]."""
    days = pd.to_datetime(series.index)
    consecutive = pd.Series((days[1:] - days[:-1]).days == 1, index=series.index[1:])
    returns = np.log(series.iloc[1:].to_numpy() / series.iloc[:-1].to_numpy())
    returns = pd.Series(returns, index=series.index[1:])[consecutive]
    start = (as_of - timedelta(days=364)).isoformat()
    return returns.loc[start:as_of.isoformat()]


def pair_correlation(a: pd.Series, b: pd.Series) -> tuple[float, int, str, str]:
    """Pearson correlation of two return series on their common days: (rho, count, first day, last day)."""
    joined = pd.concat([a, b], axis=1, join="inner")
    rho = float(np.corrcoef(joined.iloc[:, 0], joined.iloc[:, 1])[0, 1])
    return rho, len(joined), joined.index[0], joined.index[-1]


def figures(local: Path | None) -> tuple[dict, dict]:
    """(correlations {snapshot: {(a, b): (rho, count, first, last)}}, MKR closes {snapshot: (close, day)})."""
    series = {symbol: closes(symbol, local) for symbol in SERIES}
    correlations: dict[str, dict] = {}
    mkr: dict[str, tuple[float, str]] = {}
    for snapshot, (as_of, pairs) in SNAPSHOTS.items():
        returns = {s: log_returns(series[s], as_of) for pair in pairs for s in pair}
        correlations[snapshot] = {(a, b): pair_correlation(returns[a], returns[b]) for a, b in pairs}
        for other in STETH_DERIVED.get(snapshot, []):
            rho, count, first, last = correlations[snapshot][("ETH", other)]
            correlations[snapshot][("stETH", other)] = (STETH_ETH * rho, count, first, last)
        mkr_closes = series[MKR_SERIES[snapshot]]
        mkr[snapshot] = (float(mkr_closes.loc[as_of.isoformat()]), as_of.isoformat())
    return correlations, mkr


def check(correlations: dict, mkr: dict) -> list[str]:
    """Differences between the figures and the snapshots' CSVs (rounded as written: rho 3 d.p., MKR $0.01)."""
    problems = []
    for snapshot, pairs in correlations.items():
        table = pd.read_csv(DATA / snapshot / "correlations.csv")
        for (a, b), (rho, count, _, _) in pairs.items():
            row = table[(table.asset_a == a) & (table.asset_b == b)]
            if len(row) != 1 or not math.isclose(float(row.correlation.iloc[0]), round(rho, 3), abs_tol=1e-12):
                problems.append(f"{snapshot}/correlations.csv {a},{b}: {row.correlation.tolist()} != {rho:.3f}")
            elif f"{count} returns" not in str(row.note.iloc[0]):
                problems.append(f"{snapshot}/correlations.csv {a},{b}: note does not say '{count} returns'")
        ilks = pd.read_csv(DATA / snapshot / "maker_ilks.csv")
        close = round(mkr[snapshot][0], 2)
        stated = f"${close:,.2f}"
        for ilk, note, price in zip(ilks.ilk, ilks.note, ilks.mkr_price_usd):
            if stated not in str(note):
                problems.append(f"{snapshot}/maker_ilks.csv {ilk}: the note does not state MKR's close {stated}")
            if not math.isclose(float(price), close, abs_tol=1e-9):
                problems.append(f"{snapshot}/maker_ilks.csv {ilk}: mkr_price_usd {price} != MKR's close {close:.2f}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--local", type=Path, help="read DIR/<repo>/<commit>/<path> instead of the URL")
    parser.add_argument("--check", action="store_true", help="fail unless the CSVs carry these figures")
    args = parser.parse_args(argv)
    correlations, mkr = figures(args.local)
    for snapshot, pairs in correlations.items():
        for (a, b), (rho, count, first, last) in pairs.items():
            print(f"{snapshot} {a},{b}: rho {rho:.4f} ({rho:.3f}), {count} returns {first}..{last}")
        close, day = mkr[snapshot]
        print(f"{snapshot} MKR close {day}: {close:.4f} ({url(MKR_SERIES[snapshot])})")
    if args.check:
        problems = check(correlations, mkr)
        for problem in problems:
            print("MISMATCH", problem, file=sys.stderr)
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
