r"""Lenders' liquidation fees and dust rules: Aave v3 and Compound v2.

Aave v3 protocol fee (``LiquidationLogic._calculateAvailableCollateralToLiquidate``)
----------------------------------------------------------------------------------
Of the collateral :math:`s` a liquidation seizes (bonus included, ``LB`` e.g.
1.05), the bonus part is :math:`s - s/LB`; the treasury takes the share
``liquidationProtocolFee`` of it and the liquidator the rest:

.. math::

    \text{fee} = (s - s/LB)\cdot\text{liquidationProtocolFee}, \qquad
    \text{to liquidator} = s - \text{fee}.

Aave v3.3 close factor and dust (``LiquidationLogic.executeLiquidationCall``)
----------------------------------------------------------------------------
* The whole reserve debt is liquidatable when the position's collateral or
  debt in that reserve is below ``MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD``
  ($2,000) or when ``HF <= CLOSE_FACTOR_HF_THRESHOLD`` (0.95); otherwise at most
  ``DEFAULT_LIQUIDATION_CLOSE_FACTOR`` (50 %) of the *total* debt.
* A liquidation that neither repays all the debt nor takes all the collateral
  must leave at least ``MIN_LEFTOVER_BASE`` ($1,000) of both, else it reverts
  (``MUST_NOT_LEAVE_DUST``); a liquidator then repays the whole allowed amount
  if that clears the debt, or does not liquidate.

Dust left by a liquidation (:func:`dust_written_off`)
----------------------------------------------------
A liquidation (collateral seized that round) that leaves a cohort with
collateral worth less than the floor :math:`F` = :data:`DUST_COLLATERAL_USD`
while its debt is worth more,

.. math::

    C' P_c < F \quad\text{and}\quad D' P_d > C' P_c,

leaves a loan no liquidator will close: the debt left is bad debt, booked in
that round (``bad_debt`` :math:`= D' P_d`, ``debt_after`` 0). :math:`F` is v3.3's
``MIN_LEFTOVER_BASE``: v3.3 reverts a liquidation that would leave less of the
collateral without taking all of it, and burns the debt left once the
collateral is gone. Compound v2 and Aave v2 have no floor, but a liquidation
is profitable only while the bonus on the collateral taken exceeds its gas
(Aave's ``liquidationCall`` guide); BGD put a liquidation at ~1M gas, $85 at
30 gwei and ETH $2,830 (governance.aave.com, "[TEMP CHECK] BGD. Further Aave
v1 deprecation strategy", February 2024), so at those prices, with a 5-10 %
bonus, nobody takes less than $850-1,700 of collateral. The gas bound moves
with gas and ETH's price; where it lies below :math:`F` (ETH near $110 in
March 2020) the rule books up to :math:`F/(1+b)` of debt per cohort more than
a liquidator taking the remainder whole would recover. The dust is left with
the borrower: no contract moves collateral without a liquidation, and a
borrower owing more than it is worth never repays to reclaim it. A cohort
sums positions: its collateral below :math:`F` puts every position's below
:math:`F` whatever their sizes, so read per cohort the rule books no more
than per position (a cohort whose positions are each below the floor but sum
above it is left to later rounds). A table of positions is read per position:
split, a book meets the floor where its buckets do not (``benchmarks/bench_scale.py``
goal 6: 72,094 of the 1,000,000 positions of the ``synthetic(1,000)`` book, total
loss +2.2e-03 of system equity). A loan the round's liquidators do not reach
(no capital left to it, nothing they can sell) is left by no liquidation: it
stays on the books, dust or not, for the next liquidation to take whole (or to
leave dust, booked then) and for the close to count its shortfall
(:func:`core.engine.books.unbooked_bad_debt`). (Booked at once, a round without
capital wrote a loan of $1,000 against $900 of collateral off whole, where a
liquidator with capital repays $857.14 of it.)

Compound v2 seize share (``CToken.seizeInternal``)
--------------------------------------------------
Of the cTokens seized, ``protocolSeizeShareMantissa`` (2.8 %) is kept by the
protocol: those cTokens are burnt and their underlying,
``exchangeRate * protocolSeizeTokens``, is added to ``totalReserves``; the
liquidator receives the rest.

References
----------
* ``aave-dao/aave-v3-origin`` ``src/contracts/protocol/libraries/logic/LiquidationLogic.sol``
  (constants ``DEFAULT_LIQUIDATION_CLOSE_FACTOR = 0.5e4``,
  ``CLOSE_FACTOR_HF_THRESHOLD = 0.95e18``, ``MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD = 2000e8``,
  ``MIN_LEFTOVER_BASE = MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD / 2``).
* ``compound-finance/compound-protocol`` ``contracts/CToken.sol`` (``seizeInternal``,
  ``protocolSeizeShareMantissa = 2.8e16``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.mechanisms._checks import checking, as_amount_array as _arr

__all__ = [
    "DEFAULT_LIQUIDATION_CLOSE_FACTOR",
    "CLOSE_FACTOR_HF_THRESHOLD",
    "MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD",
    "MIN_LEFTOVER_BASE",
    "COMPOUND_PROTOCOL_SEIZE_SHARE",
    "CompoundSeizeSplit",
    "aave_protocol_fee",
    "aave_max_liquidatable_debt",
    "aave_dust_adjusted_repay",
    "compound_seize_split",
    "DUST_COLLATERAL_USD",
    "dust_written_off",
]

DEFAULT_LIQUIDATION_CLOSE_FACTOR = 0.5   # LiquidationLogic.sol, 0.5e4 bps
CLOSE_FACTOR_HF_THRESHOLD = 0.95         # LiquidationLogic.sol, 0.95e18
MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD = 2000.0  # USD, LiquidationLogic.sol 2000e8 (8-decimal base)
MIN_LEFTOVER_BASE = MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD / 2  # USD
COMPOUND_PROTOCOL_SEIZE_SHARE = 0.028    # CToken.sol protocolSeizeShareMantissa 2.8e16
#: Collateral (USD) below which a liquidation's remainder is dust: v3.3's ``MIN_LEFTOVER_BASE`` (module docstring).
DUST_COLLATERAL_USD = MIN_LEFTOVER_BASE


def aave_protocol_fee(collateral_seized, liquidation_bonus, protocol_fee):
    """Split seized collateral: returns ``(to_liquidator, to_treasury)`` (same units as the input).

    Parameters
    ----------
    collateral_seized : array_like
        Collateral taken including the bonus.
    liquidation_bonus : array_like
        ``LB`` as a multiplier (1.05 for a 5 % bonus, > 1).
    protocol_fee : array_like
        ``liquidationProtocolFee`` as a fraction (e.g. 0.10).

    Examples
    --------
    >>> liq, fee = aave_protocol_fee(105.0, 1.05, 0.10)
    >>> round(float(liq), 6), round(float(fee), 6)
    (104.5, 0.5)
    """
    s = _arr(collateral_seized, "collateral_seized")
    lb = _arr(liquidation_bonus, "liquidation_bonus", positive=True)
    f = _arr(protocol_fee, "protocol_fee")
    if checking() and (np.any(lb < 1) or np.any(f > 1)):
        raise ValueError("liquidation_bonus must be >= 1 and protocol_fee in [0, 1]")
    fee = (s - s / lb) * f
    return s - fee, fee


def aave_max_liquidatable_debt(reserve_debt_usd, reserve_collateral_usd, total_debt_usd, health_factor):
    """Largest debt (USD) a single v3.3 liquidation may repay in the debt reserve.

    Examples
    --------
    >>> aave_max_liquidatable_debt([10e3, 10e3, 1500.0], [12e3, 12e3, 9e3], [10e3] * 3,
    ...                            [0.97, 0.94, 0.97]).tolist()
    [5000.0, 10000.0, 1500.0]
    """
    d = _arr(reserve_debt_usd, "reserve_debt_usd")
    c = _arr(reserve_collateral_usd, "reserve_collateral_usd")
    total = _arr(total_debt_usd, "total_debt_usd")
    hf = _arr(health_factor, "health_factor")
    capped = (c >= MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD) & (d >= MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD) & (hf > CLOSE_FACTOR_HF_THRESHOLD)
    return np.where(capped, np.minimum(d, DEFAULT_LIQUIDATION_CLOSE_FACTOR * total), d)


def aave_dust_adjusted_repay(requested_usd, max_repay_usd, reserve_debt_usd, reserve_collateral_usd,
                             collateral_taken_usd):
    """Repayment a liquidator can actually make under v3.3's dust rule (USD).

    A partial liquidation must leave at least ``MIN_LEFTOVER_BASE`` of debt and
    of collateral; otherwise the liquidator repays ``max_repay_usd`` when that
    is the whole debt, or cannot liquidate (0).

    Parameters
    ----------
    requested_usd : repayment the liquidator asks for (capped at ``max_repay_usd``)
    max_repay_usd : from :func:`aave_max_liquidatable_debt`
    reserve_debt_usd, reserve_collateral_usd : the position in the two reserves
    collateral_taken_usd : collateral (with bonus and fee) the requested repayment takes

    Examples
    --------
    Leaving $500 of debt is dusty; with the full debt allowed the liquidator
    repays it all, with a 50 % cap it cannot liquidate:

    >>> aave_dust_adjusted_repay([4500.0, 4500.0, 3000.0], [5000.0, 4500.0, 5000.0], 5000.0,
    ...                          8000.0, [4725.0, 4725.0, 3150.0]).tolist()
    [5000.0, 0.0, 3000.0]
    """
    req = np.minimum(_arr(requested_usd, "requested_usd"), _arr(max_repay_usd, "max_repay_usd"))
    mx = _arr(max_repay_usd, "max_repay_usd")
    d = _arr(reserve_debt_usd, "reserve_debt_usd")
    c = _arr(reserve_collateral_usd, "reserve_collateral_usd")
    taken = _arr(collateral_taken_usd, "collateral_taken_usd")
    partial = (req < d) & (taken < c)
    dusty = partial & ((d - req < MIN_LEFTOVER_BASE) | (c - taken < MIN_LEFTOVER_BASE))
    return np.where(dusty, np.where(mx >= d, d, 0.0), req)


def dust_written_off(collateral_after_usd, debt_after_usd, liquidated):
    """Where a liquidation leaves dust: collateral worth less than :data:`DUST_COLLATERAL_USD` against debt
    worth more than it (module docstring); that debt is bad debt now. Plain numpy (it runs on every cohort of a
    batch): ``collateral_after_usd`` and ``debt_after_usd`` (USD, >= 0) and ``liquidated`` (bool: a liquidation
    seized collateral this round, not merely HF < 1) broadcast.

    Examples
    --------
    7.3e-12 ETH at $1,500 against 110.775M USDC; $999 against $1,000; $1,000 against $5,000; not liquidated:

    >>> dust_written_off([7.3e-12 * 1500, 999.0, 1000.0, 10.0], [110.775e6, 1000.0, 5000.0, 50.0],
    ...                  [True, True, True, False]).tolist()
    [True, True, False, False]
    """
    cv = np.asarray(collateral_after_usd)
    return np.asarray(liquidated) & (cv < DUST_COLLATERAL_USD) & (np.asarray(debt_after_usd) > cv)


@dataclass(frozen=True)
class CompoundSeizeSplit:
    """Compound v2 ``seizeInternal`` split (cToken units, reserves in underlying).

    Attributes
    ----------
    liquidator_tokens : cTokens to the liquidator
    protocol_tokens : cTokens burnt for the protocol
    reserves_added : underlying added to ``totalReserves``

    Examples
    --------
    >>> r = compound_seize_split(1000.0, 0.02)
    >>> float(r.liquidator_tokens), float(r.protocol_tokens)
    (972.0, 28.0)
    """

    liquidator_tokens: np.ndarray
    protocol_tokens: np.ndarray
    reserves_added: np.ndarray


def compound_seize_split(seize_tokens, exchange_rate, protocol_seize_share=COMPOUND_PROTOCOL_SEIZE_SHARE):
    """Split seized cTokens between the liquidator and the protocol's reserves (``CToken.seizeInternal``).

    Examples
    --------
    1,000 cTokens at an exchange rate of 0.02 underlying per cToken:

    >>> r = compound_seize_split(1000.0, 0.02)
    >>> float(r.liquidator_tokens), float(r.protocol_tokens), round(float(r.reserves_added), 6)
    (972.0, 28.0, 0.56)
    """
    s = _arr(seize_tokens, "seize_tokens")
    x = _arr(exchange_rate, "exchange_rate")
    share = _arr(protocol_seize_share, "protocol_seize_share")
    if checking() and np.any(share > 1):
        raise ValueError("protocol_seize_share must lie in [0, 1]")
    prot = s * share
    return CompoundSeizeSplit(liquidator_tokens=s - prot, protocol_tokens=prot, reserves_added=prot * x)
