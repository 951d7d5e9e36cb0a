r"""Compound v3 (Comet) liquidation: ``absorb`` takes the whole position onto the protocol's books.

The rule of a cohort of ``style`` ``compound_v3`` (Comet, from August 2022): all collateral is seized, the debt is
wiped, the borrower is credited the collateral's value times
``liquidationFactor`` less the debt, and the reserves bear any shortfall;
the protocol then sells the collateral at a discount (``buyCollateral``)
(``Comet.sol`` ``absorbInternal``; https://docs.compound.finance/liquidation/).
See :func:`liquidate_compound_v3`.

References
----------
* ``compound-finance/comet`` ``Comet.sol`` (``absorbInternal``, ``buyCollateral``);
  https://docs.compound.finance/liquidation/
"""

from __future__ import annotations

import numpy as np

from core.mechanisms._checks import as_amount_array as _arr
from core.mechanisms.liquidation_result import LiquidationResult, _frac

__all__ = ["liquidate_compound_v3"]


def liquidate_compound_v3(collateral, debt, collateral_price, debt_price, liquidation_threshold, liquidation_penalty):
    """One round of Compound v3 (Comet) ``absorb`` over borrower cohorts: the whole position, at once.

    A position with ``C * P_c * LT < D * P_d`` (``liquidateCollateralFactor``
    plays ``LT``) is absorbed: its collateral is valued at
    ``C * P_c * (1 - penalty)`` (``liquidationFactor = 1 - penalty``), its debt
    is wiped, and the borrower keeps what that value exceeds the debt by (here
    as collateral units: ``(C P_c (1 - penalty) - D P_d) / P_c``); a shortfall
    is the protocol's bad debt. The collateral taken is sold by the protocol
    (``buyCollateral``) and its buyers pay the debt's worth: ``debt_repaid`` is
    ``min(D, C P_c (1 - penalty) / P_d)``. Absorbing needs no liquidator
    capital, so no capacity limit applies. Result as :func:`liquidate_aave`.

    Examples
    --------
    Collateral $100 (LT 0.8, penalty 7 %), debt $85: absorbed; $93 covers the
    debt, the borrower keeps $8 of collateral, $92 is seized:

    >>> r = liquidate_compound_v3(100.0, 85.0, 1.0, 1.0, 0.8, 0.07)
    >>> float(r.debt_repaid), round(float(r.collateral_seized), 6), float(r.collateral_after), float(r.debt_after)
    (85.0, 92.0, 8.0, 0.0)

    Debt $98: $93 is all the collateral fetches, $5 is bad debt:

    >>> r = liquidate_compound_v3(100.0, 98.0, 1.0, 1.0, 0.8, 0.07)
    >>> float(r.debt_repaid), float(r.collateral_seized), round(float(r.bad_debt), 6)
    (93.0, 100.0, 5.0)
    """
    C = _arr(collateral, "collateral")
    D = _arr(debt, "debt")
    Pc = _arr(collateral_price, "collateral_price")
    Pd = _arr(debt_price, "debt_price", positive=True)
    lt = _frac(liquidation_threshold, "liquidation_threshold")
    pen = _frac(liquidation_penalty, "liquidation_penalty")
    cv, dv = C * Pc, D * Pd
    liq = (cv * lt < dv) & (D > 0)
    worth = cv * (1.0 - pen)                        # collateral at liquidationFactor
    credit = np.where(liq, np.maximum(worth - dv, 0.0), 0.0)
    kept = np.divide(credit, Pc, out=np.zeros(np.broadcast_shapes(credit.shape, Pc.shape)), where=Pc > 0)
    seize = np.where(liq, C - kept, 0.0)
    repay = np.where(liq, np.minimum(D, np.divide(worth, Pd)), 0.0)
    bad = np.where(liq, np.maximum(dv - worth, 0.0), 0.0)
    seized_value = seize * Pc
    return LiquidationResult(
        debt_repaid=repay, collateral_seized=seize, collateral_sold_value=seized_value, bad_debt=bad,
        collateral_after=np.where(liq, kept, C), debt_after=np.where(liq, 0.0, D), liquidated=liq,
        liquidator_profit=seized_value - repay * Pd, protocol_fee=np.zeros_like(seized_value),
    )
