"""The prices protocols' oracles report: the closing prices of ``lag`` rounds ago (Maker's OSM is one hour late;
congested or stale feeds more), per scenario. Read by the liquidation steps."""

from __future__ import annotations

import numpy as np


def oracle_prices(price_history: list[np.ndarray], lag: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Prices the protocols' oracles report: ``lag`` rounds old, per scenario."""
    if not lag.any():
        return P
    idx = np.maximum(len(price_history) - 1 - lag, 0)  # the history entry each scenario's oracles read
    first = int(idx[0])
    if (idx == first).all():
        return price_history[first].copy()
    out = np.empty_like(P)
    for j in np.unique(idx):  # distinct lags: a handful (not a stack of the whole history every round)
        rows = idx == j
        out[rows] = price_history[j][rows]
    return out
