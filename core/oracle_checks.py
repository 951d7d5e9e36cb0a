"""Cross-table checks of the cohorts' oracle columns, ``collateral_oracle`` and ``debt_oracle`` (core.engine.oracle):
a fixed price needs a USD peg, another asset's price an asset of the network, a band two numbers ``0 < LOW <= HIGH``
and a USD peg, and none applies to Maker's OSM."""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from .problems import Origin, _Collector
from .schema import COHORT_ORACLE_PREFIXES

#: An oracle value naming the asset a token is read at, and one naming a band (core.engine.oracle's prefixes).
ASSET_PREFIX, BAND_PREFIX = COHORT_ORACLE_PREFIXES


def _malformed_band(value: object) -> bool:
    """Whether ``value`` is a ``band:`` value that is not ``band:LOW:HIGH`` with ``0 < LOW <= HIGH``, finite (the
    engine's own parser: core.engine.oracle.band_edges, imported here, as core.engine imports core.network)."""
    from .engine.oracle import band_edges

    try:
        band_edges(value)
    except ValueError:
        return True
    return False


def oracle_checks(coh: pd.DataFrame, ast: pd.DataFrame, o: Mapping[str, Origin], out: _Collector) -> None:
    """A cohort's token priced ``fixed_usd`` (``collateral_oracle``, ``debt_oracle``) must have a USD peg, its fixed
    price (``peg_unit`` USD and a ``peg_target``); one priced ``asset:SYMBOL`` must name an asset of the ``assets``
    table other than itself; one priced ``band:LOW:HIGH`` must give two numbers, ``0 < LOW <= HIGH``, on a token
    with a USD peg (the band is around it); and none be Maker-style: Maker's OSM reads the market
    (core.engine.oracle)."""
    usd_pegged: set[str] = set()
    if {"symbol", "peg_unit", "peg_target"} <= set(ast.columns):
        usd_pegged = set(ast["symbol"][(ast["peg_unit"] == "USD").to_numpy() & ast["peg_target"].notna().to_numpy()])
    symbols = set(ast["symbol"]) if "symbol" in ast.columns else set()
    for column, asset in (("collateral_oracle", "collateral_asset"), ("debt_oracle", "debt_asset")):
        if not len(coh) or column not in coh.columns or asset not in coh.columns:
            continue
        value = coh[column].astype(str)
        read = value.str.startswith(ASSET_PREFIX).to_numpy()
        if read.any():
            named = value.str[len(ASSET_PREFIX):]
            unknown = read & ~named.isin(symbols).to_numpy()
            if unknown.any():
                idx = np.flatnonzero(unknown)
                out.add(o["cohorts"], idx, column, value.iloc[idx],
                        f"{ASSET_PREFIX}SYMBOL with SYMBOL a symbol of assets.csv")
            itself = read & (named == coh[asset].astype(str)).to_numpy()
            if itself.any():
                idx = np.flatnonzero(itself)
                out.add(o["cohorts"], idx, column, value.iloc[idx],
                        f"market: {ASSET_PREFIX}SYMBOL names an asset other than the cohort's {asset}")
        banded = value.str.startswith(BAND_PREFIX).to_numpy()
        if banded.any():
            distinct = value[banded].unique()  # each distinct value parsed once
            bad_values = {v for v in distinct if _malformed_band(v)}
            malformed = banded & value.isin(bad_values).to_numpy()
            if malformed.any():
                idx = np.flatnonzero(malformed)
                out.add(o["cohorts"], idx, column, value.iloc[idx],
                        f"{BAND_PREFIX}LOW:HIGH with LOW and HIGH numbers, 0 < LOW <= HIGH (e.g. band:0.95:1.05)")
            no_peg = banded & ~malformed & ~coh[asset].isin(usd_pegged).to_numpy()
            if no_peg.any():
                idx = np.flatnonzero(no_peg)
                vals = [f"{v} on {a}" for v, a in zip(value.iloc[idx], coh[asset].iloc[idx])]
                out.add(o["cohorts"], idx, column, vals, f"market: {BAND_PREFIX}LOW:HIGH needs a {asset} with "
                        "peg_unit USD and a peg_target (the band is around it)")
        fixed = (coh[column] == "fixed_usd").to_numpy()
        if "style" in coh.columns:
            maker = (read | banded) & (coh["style"] == "maker").to_numpy()
            if maker.any():
                idx = np.flatnonzero(maker)
                out.add(o["cohorts"], idx, column, coh[column].iloc[idx],
                        "market on a maker cohort (Maker's OSM reads the market price)")
        if not fixed.any():
            continue
        no_peg = fixed & ~coh[asset].isin(usd_pegged).to_numpy()
        if no_peg.any():
            idx = np.flatnonzero(no_peg)
            vals = [f"fixed_usd on {a}" for a in coh[asset].iloc[idx]]
            out.add(o["cohorts"], idx, column, vals, f"market: fixed_usd needs a {asset} with peg_unit USD and a "
                    "peg_target (its fixed price)")
        if "style" in coh.columns:
            maker = fixed & (coh["style"] == "maker").to_numpy()
            if maker.any():
                idx = np.flatnonzero(maker)
                out.add(o["cohorts"], idx, column, coh[column].iloc[idx],
                        "market on a maker cohort (Maker's OSM reads the market price)")
