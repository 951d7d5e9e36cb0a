"""What the oracle tests share (tests/test_asset_oracle.py, test_band_oracle.py, test_fixed_oracle.py): a shipped
snapshot as a module fixture, its twin with other cohorts (other oracle flags, an added cohort), and one round's
prices with some assets moved.

A module takes the snapshot it runs on by name, ``shipped = shipped_fixture("crypto-2020-03")``: the
fixture ``shipped`` is that network, loaded once per module.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

import core
from core.network import Network


def shipped_fixture(snapshot: str) -> Callable[[], Network]:
    """A module-scoped fixture named ``shipped``: the snapshot ``snapshot`` as a network (``core.datasets.load``)."""

    @pytest.fixture(scope="module", name="shipped")
    def network() -> Network:
        return core.datasets.load(snapshot)

    return network


def recast(net: Network, cohorts: pd.DataFrame, name: str) -> Network:
    """``net`` with ``cohorts`` in place of its cohorts (every other table as it is), named ``name``."""
    return Network.from_frames(name=name, **{**net.frames(), "cohorts": cohorts})


def prices_at(c, **moves: float) -> np.ndarray:
    """One round's prices (1 x assets) of the compiled network ``c``: its reference prices, those named moved to the
    price given (``prices_at(c, USDe=0.7)``)."""
    P = c.P0[None].copy()
    for sym, price in moves.items():
        P[0, list(c.symbols).index(sym)] = price
    return P
