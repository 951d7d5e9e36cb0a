"""A loop's liquidation swaps the seized collateral back into the debt it repays: only the bonus reaches the book.

A loop borrows a token against a wrapped form of it (ETH against wstETH, weETH, wBETH or cbETH; BTC against WBTC
or cbBTC; SOL against JitoSOL). Its liquidator repays ``r`` units of the debt token and seizes collateral worth
``r (1 + bonus)`` of it; in the same transaction it swaps the seized collateral for the debt token, repays the flash
loan that paid the debt, and keeps the bonus (Aave v3 ``liquidationCall`` with a flash loan, "Liquidations" in
Aave's developer docs; Morpho Blue ``liquidate`` hands the seized collateral to the liquidator's
``onMorphoLiquidate`` callback before it pulls the repaid assets, ``Morpho.sol`` and ``IMorphoCallbacks.sol``).
On the underlying's order book the two legs cancel: selling the seized collateral there (it unwraps onto the
underlying's book at what a unit is worth, :func:`core.engine.sell.unwrap_units`) and buying the repaid debt
there. So of a loop cohort's seized collateral, the units that pay back the repaid debt,

.. math::

    b = \\min\\Big(s,\\ \\frac{r}{w}\\Big),

with ``s`` the units seized and sold, ``r`` the debt units repaid and ``w`` the underlying units a unit of
collateral stands for, are swapped back and never reach the book; the rest, the bonus, is sold there as before.

Before, the whole seized collateral was pressed on the underlying's book and the debt's purchase left out: on
crypto-2025-10 (BNB -86.9%, weETH -30.7%, WBTC -57.0%, no runs, lag 1), round 1 sold 488,759 ETH of ETH-debt loops'
weETH with no ETH bought back; the deeper shock's cascade sold less of it and its ETH holders lost less, $311.39M
less loss in all at 365 rounds (``monotone-2025-bnb-87-weeth-31-wbtc-57-no-runs-lag1-365``).

The liquidators weigh a loop the same way (:func:`core.engine.limits.liquidator_limit`): no sale of theirs moves
the book, so they take the close factor while the margin (bonus net of the oracle's gap) pays, as on a peg.
Left as before: the purchase of a debt token that is not the collateral's underlying (BTC seized for ETH repaid:
the ETH bought from holders at the market price, :mod:`core.engine.repaid_units`, with no impact).
"""

from __future__ import annotations

import numpy as np

from .compiled import Compiled
from .memo import per_network


def loop_cohorts(c: Compiled) -> tuple[np.ndarray, np.ndarray]:
    """The loops: cohorts whose collateral is a wrapped token of their debt token (a bool mask over the cohorts),
    and each cohort's position among the wrapped tokens (``c.wrapped_idx``; 0 where not a loop)."""
    def build() -> tuple[np.ndarray, np.ndarray]:
        position = np.full(c.k, -1)
        position[c.wrapped_idx] = np.arange(len(c.wrapped_idx))
        at = position[c.c_ca]
        loop = (at >= 0) & (c.peg_unit[c.c_ca] == c.c_da)
        return loop, np.where(loop, at, 0)
    return per_network(c, "loop_cohorts", build)


def swapped_back(c: Compiled, sold: np.ndarray, repaid: np.ndarray, unwrap: np.ndarray | None,
                 cohorts: np.ndarray | None) -> np.ndarray:
    """The seized collateral that reaches the book, (R, m): ``sold`` (units seized and sold, (R, m), the cohorts
    ``cohorts`` or every one) less, for a loop cohort, the units that pay back its repaid debt ``repaid`` (debt
    units, (R, m)), ``min(s, r / w)`` (module docstring); ``unwrap`` (R, w) the underlying units a wrapped unit
    stands for (:func:`core.engine.sell.unwrap_units` on the rows; None: its peg). Every other cohort's figure is
    ``sold`` itself, to the last bit.

    Examples
    --------
    A weETH/ETH loop repays 100 ETH with a 5% bonus. At a weETH worth 1 ETH 105 weETH are seized and 5 reach ETH's
    book; at a weETH worth 1.05 ETH (its rate) 100 are seized, 100 / 1.05 = 95.24 pay the debt back and 4.76 are sold:

    >>> from types import SimpleNamespace
    >>> c = SimpleNamespace(k=2, wrapped_idx=np.array([1]), peg_unit=np.array([-2, 0]), c_ca=np.array([1]),
    ...                     c_da=np.array([0]), peg1=np.array([1.0, 1.0]))
    >>> swapped_back(c, np.array([[105.0]]), np.array([[100.0]]), None, None)
    array([[5.]])
    >>> swapped_back(c, np.array([[100.0]]), np.array([[100.0]]), np.array([[1.05]]), None).round(2)
    array([[4.76]])
    """
    loop, at = loop_cohorts(c)
    if cohorts is not None:
        loop, at = loop[cohorts], at[cohorts]
    if not loop.any():
        return sold
    per_unit = c.peg1[c.wrapped_idx][None] if unwrap is None else unwrap
    w = np.take(per_unit, at, axis=1)
    # a collateral worth nothing in the underlying (its custodian paying 0) puts nothing on the book either way; at
    # a subnormal worth repaid / w is beyond the largest float, inf: more than was sold, and the minimum keeps what
    # was sold (the result is right; the overflow is allowed, not hidden)
    with np.errstate(over="ignore"):
        back = np.where(w > 0, repaid / np.where(w > 0, w, 1.0), 0.0)
    return np.where(loop[None], np.maximum(sold - np.minimum(back, sold), 0.0), sold)
