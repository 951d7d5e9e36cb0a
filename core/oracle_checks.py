"""Cross-table checks of the cohorts' oracle columns, ``collateral_oracle`` and ``debt_oracle`` (core.engine.oracle):
a fixed price needs a USD peg, another asset's price an asset of the network, and neither applies to Maker's OSM."""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from .problems import Origin, _Collector
from .schema import COHORT_ORACLE_PREFIXES

#: An oracle value naming the asset a token is read at (core.engine.oracle.ASSET_PREFIX).
ASSET_PREFIX = COHORT_ORACLE_PREFIXES[0]


def oracle_checks(coh: pd.DataFrame, ast: pd.DataFrame, o: Mapping[str, Origin], out: _Collector) -> None:
    """A cohort's token priced ``fixed_usd`` (``collateral_oracle``, ``debt_oracle``) must have a USD peg, its fixed
    price (``peg_unit`` USD and a ``peg_target``); one priced ``asset:SYMBOL`` must name an asset of the ``assets``
    table other than itself; and neither cohort be Maker-style: Maker's OSM reads the market (core.engine.oracle)."""
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
        fixed = (coh[column] == "fixed_usd").to_numpy()
        if "style" in coh.columns:
            maker = read & (coh["style"] == "maker").to_numpy()
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
