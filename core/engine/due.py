"""The cohorts due for liquidation: below their liquidation threshold at the oracle's prices.

A cohort is due where its collateral at the oracle's price times its liquidation threshold, less the spread of its
positions about its health factor (:mod:`core.mechanisms.cohort_spread`; a close-factor cohort is due once its
lowest positions are, a Maker-style cohort's vaults by the state's ``auction_spread``), is below its debt: Aave's
``healthFactor < 1`` (``GenericLogic.calculateUserAccountData``), Compound's ``getAccountLiquidity`` shortfall and
Maker's ``dog.bark`` test (``ink * spot < art * rate``) on a cohort's aggregate. Used by the liquidation step
(:mod:`core.engine.liquidate`) to skip the rows and cohorts with nothing due.
"""

from __future__ import annotations

import numpy as np

from .books import debt_price
from .compiled import Compiled
from .memo import per_network


def any_liquidatable(c: Compiled, coll: np.ndarray, debt: np.ndarray, Po: np.ndarray, lt: np.ndarray,
                     Pc: np.ndarray | None = None) -> bool:
    """Cheap screen: is any cohort below its liquidation threshold in any scenario? (``Pc``: each cohort's
    collateral price, where it is not ``Po``'s.)"""
    return due_rows(c, coll, debt, Po, lt, Pc) is not None


def due_rows(c: Compiled, coll: np.ndarray, debt: np.ndarray, Po: np.ndarray, lt: np.ndarray,
             Pc: np.ndarray | None = None, spread: np.ndarray | float = 0.0) -> np.ndarray | None:
    """The scenarios with a cohort below its liquidation threshold, (S,) bool; None where there is none (the
    test :func:`liquidate_cohorts` and the close-factor and absorption rules apply)."""
    rows = np.any(cohorts_due(c, coll, debt, Po, lt, Pc, spread), axis=1)
    return rows if rows.any() else None


def cohorts_due(c: Compiled, coll: np.ndarray, debt: np.ndarray, Po: np.ndarray, lt: np.ndarray,
           Pc: np.ndarray | None = None, spread: np.ndarray | float = 0.0, Pd: np.ndarray | None = None) -> np.ndarray:
    """(S, c) bool: the cohorts below their liquidation threshold (:func:`due_rows`). ``Pd`` (S, c): each cohort's
    debt price to its protocol, :func:`~core.engine.books.debt_price` of ``Po``, where the caller has it."""
    with np.errstate(divide="ignore", invalid="ignore"):
        # a close-factor cohort's positions spread about its HF: due once its lowest are (core.mechanisms.cohort_spread)
        # (the rule's own product, so a cohort is due exactly where the rule liquidates a share of it)
        # (``spread``: the Maker-style cohorts' vaults', the state's ``auction_spread``)
        collateral_price = np.take(Po, c.c_ca, axis=1) if Pc is None else Pc  # Po[:, c_ca], by the faster gather
        # (1 - c_spread, the network's, once per network: the same bits as ``1.0 - c.c_spread - spread``)
        kept = per_network(c, "one_less_spread", lambda: 1.0 - c.c_spread)
        below: np.ndarray = (coll * collateral_price * lt * (kept - spread)
                             < debt * (debt_price(c, Po) if Pd is None else Pd))
    return below
