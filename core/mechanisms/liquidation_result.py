r"""The outcome of one liquidation round, shared by every lender's rule (:mod:`core.mechanisms.lending`,
:mod:`core.mechanisms.vault_auction`, :mod:`core.mechanisms.comet_absorb`).

``debt_repaid`` (debt units), ``collateral_seized`` (collateral units leaving
the borrower), ``collateral_sold_value`` (USD at ``collateral_price`` of the
collateral passed to liquidators/keepers, which the engine should treat as sold
on the market), ``bad_debt`` (USD), ``liquidator_profit`` (USD at the given
prices) and ``protocol_fee`` (USD) satisfy the value identity

.. math:: q P_d + \text{profit} + \text{protocol\_fee} = s P_c .

References
----------
* Aave v3 ``LiquidationLogic.sol`` (the liquidator's bonus and the protocol fee); Compound v2
  ``Comptroller.sol`` (``liquidateCalculateSeizeTokens``); MakerDAO ``dss`` ``clip.sol`` (``take``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.mechanisms._checks import as_amount_array as _arr, checking

__all__ = ["LiquidationResult"]


@dataclass(frozen=True)
class LiquidationResult:
    """Per-cohort outcome of one liquidation round (all arrays share one shape).

    Attributes
    ----------
    debt_repaid : ndarray
        Debt repaid by liquidators / auction proceeds (debt-token units).
    collateral_seized : ndarray
        Collateral taken from the borrower (collateral units).
    collateral_sold_value : ndarray
        USD value (at ``collateral_price``) of collateral passed to liquidators.
    bad_debt : ndarray
        Debt left uncovered and written off (USD).
    collateral_after, debt_after : ndarray
        Borrower position after the round (units).
    liquidated : ndarray of bool
        Whether the cohort was liquidatable this round.
    liquidator_profit : ndarray
        Liquidator/keeper gain (USD) = seized value - repaid value - fee.
    protocol_fee : ndarray
        Protocol's take (USD): Aave liquidation protocol fee, Maker penalty
        actually collected.

    Examples
    --------
    >>> from core.mechanisms.comet_absorb import liquidate_compound_v3
    >>> r = liquidate_compound_v3(100.0, 98.0, 1.0, 1.0, 0.8, 0.07)
    >>> float(r.debt_repaid), float(r.collateral_seized), round(float(r.bad_debt), 6), bool(r.liquidated)
    (93.0, 100.0, 5.0, True)
    """

    debt_repaid: np.ndarray
    collateral_seized: np.ndarray
    collateral_sold_value: np.ndarray
    bad_debt: np.ndarray
    collateral_after: np.ndarray
    debt_after: np.ndarray
    liquidated: np.ndarray
    liquidator_profit: np.ndarray
    protocol_fee: np.ndarray



def _frac(x, name, lo=0.0, hi=1.0):
    a = _arr(x, name)
    if checking() and np.any((a < lo) | (a > hi)):
        raise ValueError(f"{name} must lie in [{lo}, {hi}]")
    return a
