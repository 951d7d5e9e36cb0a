r"""Pass-through pools: a shortfall their owners bear is a haircut, not a default.

Lending pools
-------------
A lending pool (an Aave v3 instance, a Compound market, a Morpho market or
vault, Spark) owes its suppliers their share of what it holds: the suppliers
own the pool. Bad debt that its reserve or safety module does not cover is
socialised to them pro rata, and the pool goes on operating:

* Morpho Blue realises bad debt in ``liquidate``: when a borrower's collateral
  reaches zero, the remaining debt is deducted from the market's
  ``totalSupplyAssets`` (and ``totalBorrowAssets``), so every supply share is
  worth less (morpho-org/morpho-blue ``src/Morpho.sol``; Morpho docs,
  "Liquidation": bad debt is "realized immediately and socialized pro-rata
  to the market's lenders").
* Aave v3.3 books the debt left on an account with no collateral as the
  reserve's ``deficit`` (``LiquidationLogic._burnBadDebt``), which Umbrella's
  stakers eliminate (``Pool.eliminateReserveDeficit``); until it is covered,
  the aTokens outstanding exceed the reserve's assets by the deficit
  (aave-dao/aave-v3-origin ``docs/3.3/Aave-v3.3-features.md``, "Bad Debt
  Management").

With a pool's shortfall :math:`D_i = \bar p_i - p_i` after its reserve
(:math:`\bar p_i` what it owes its suppliers and other creditors, :math:`p_i`
what clearing pays), its **supplier haircut** is

.. math::  h_i = D_i / \bar p_i = 1 - p_i / \bar p_i,

borne by every supplier in proportion to its claim (clearing's pro-rata rule
does exactly this; nothing is lost on the way: suppliers own the pool's assets
directly, so no default costs apply; a supplier who withdraws is paid its
claim's value, :math:`(1 - h_i)` of it, :func:`core.engine.withdraw.claims_value`).
The pool **fails** (counts as a default) only when

.. math::  h_i > h^\ast = 3\%,

and never for want of liquidity: a run draws only the pool's liquidity, in
kind, and sells none of its loans or its borrowers' collateral, as no
withdrawal can make a pool sell them (Morpho Blue's ``withdraw`` reverts with
``INSUFFICIENT_LIQUIDITY`` once borrows would exceed supply); a run that
empties it leaves it fully utilised, its runners not paid waiting for the
liquidity its repayments and liquidations return
(:func:`core.engine.withdraw.pool_waits`). A failure is a status, never a
suspension (decision 17, session 36): a failed pool's suppliers go on
withdrawing from its cash (:func:`core.engine.withdraw.still_pays`), as Aave's
``withdraw``, Compound's ``redeem`` and Anchor's ``redeem_stable`` pay while
the pool's cash lasts. :math:`h^\ast`
is a model choice anchored on the nearest precedent of a pooled-deposit
vehicle whose holders bore a loss pro rata: the Reserve Primary Fund's net
asset value fell to $0.97 a share (a 3% loss) on 16 September 2008, and it
suspended redemptions and was liquidated (SEC, "Money Market Fund Reform",
Release IC-29132, 2010); a loss of 0.5% "breaks the buck" under Rule 2a-7
but leaves a fund operating. DeFi pools with far smaller haircuts kept
operating: Aave's ~$0.4M deficit of 10-11 October 2025 and $30k of February
2026 (Chaos Labs' reports to Aave governance).

Pooled collateral (Sai)
-----------------------
Single-collateral Dai held all its vaults' collateral in one pool: WETH was
joined into PETH (``SaiTub.join``), a vault locked PETH, and a PETH was worth
``per = pie / PETH supply`` WETH (``SaiTub.per``). ``bite`` sends a vault's
PETH to the tap and its debt to the tap's ``sin``; the tap's ``bust`` sells
PETH for Sai, and when the PETH it holds cannot cover the debt, ``flop``
mints new PETH to sell (makerdao/sai ``src/tub.sol``, ``src/tap.sol``). The
minting lowers ``per``: the bad debt falls on every PETH holder, in
proportion to their PETH, and Sai holders are paid in full as long as PETH is
worth anything. The cover the PETH holders can give is the value of the pool
beyond the Sai it backs,

.. math::  B = \sum_{\text{vaults}} \max(c_v P - d_v, 0),

so a shortfall :math:`D` is covered up to :math:`\min(D, B)` (the dilution
:math:`\min(D, B) / \sum_v c_v P` of every PETH), and only what exceeds
:math:`B` reaches Sai holders, as a default.

Examples
--------
>>> import numpy as np
>>> h = supplier_haircut(np.array([100.0, 100.0]), np.array([99.4, 90.0]))
>>> np.round(h, 3).tolist()
[0.006, 0.1]
>>> pool_failed(h).tolist()
[False, True]
>>> pooled_collateral_cover(np.array([5.0, 50.0]), np.array([20.0, 20.0])).tolist()
[5.0, 20.0]
"""

from __future__ import annotations

import numpy as np

__all__ = ["POOL_FAILURE_HAIRCUT", "pool_failed", "pooled_collateral_cover", "supplier_haircut"]

#: Supplier haircut above which a pass-through pool counts as failed (see the module docstring).
POOL_FAILURE_HAIRCUT = 0.03


def supplier_haircut(owed: np.ndarray, paid: np.ndarray) -> np.ndarray:
    """Share of what a pool owes that it does not pay, :math:`1 - p / \\bar p` in [0, 1]; 0 where it owes nothing.

    Examples
    --------
    A pool owing its suppliers $200M pays $198M: a 1% haircut.

    >>> supplier_haircut(200e6, 198e6).round(6).tolist()
    0.01
    """
    owed = np.asarray(owed, dtype=float)
    short = np.maximum(owed - np.asarray(paid, dtype=float), 0.0)
    return np.divide(short, owed, out=np.zeros(np.broadcast(owed, short).shape), where=owed > 0)


def pool_failed(haircut: np.ndarray, threshold: float | None = None) -> np.ndarray:
    """Whether a pass-through pool with supplier haircut ``haircut`` has failed: ``haircut > threshold``
    (default :data:`POOL_FAILURE_HAIRCUT`, read at the call).

    Examples
    --------
    >>> pool_failed(np.array([0.0076, 0.031])).tolist()
    [False, True]
    """
    return np.asarray(haircut) > (POOL_FAILURE_HAIRCUT if threshold is None else threshold)


def pooled_collateral_cover(shortfall: np.ndarray, surplus: np.ndarray) -> np.ndarray:
    """What the owners of a pooled collateral (Sai's PETH holders) pay in: ``min(shortfall, surplus)``, at least 0.

    Examples
    --------
    Sai's $62k of bad debt against PETH worth $35M beyond the Sai it backs: PETH holders pay it all.

    >>> pooled_collateral_cover(np.array([62e3]), np.array([35e6])).tolist()
    [62000.0]
    """
    return np.maximum(np.minimum(shortfall, surplus), 0.0)
