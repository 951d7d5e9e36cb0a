"""The prices protocols' oracles report: the closing prices of ``lag`` rounds ago (Maker's OSM is one hour late;
congested or stale feeds more), per scenario. Read by the liquidation steps."""

from __future__ import annotations

import numpy as np


def oracle_prices(price_history: list[np.ndarray], lag: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Prices the protocols' oracles report: ``lag`` rounds old, per scenario."""
    if not lag.any():
        return P
    stack = np.stack(price_history)  # (rounds, S, k)
    idx = np.maximum(len(price_history) - 1 - lag, 0)
    return stack[idx, np.arange(len(lag))]
