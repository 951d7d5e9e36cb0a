r"""Maker's 2020 collateral auctions (``flip.sol``): English auctions that can clear at zero.

Contract (``flip.sol``, with ``cat.sol`` starting auctions)
-----------------------------------------------------------
An auction sells ``lot`` collateral to raise ``tab`` DAI in two phases:

* ``tend``: bidders raise the DAI bid for the whole lot, by at least ``beg``
  (5 %) each time, up to ``tab``;
* ``dent``: once the bid equals ``tab``, bidders compete by accepting *less*
  collateral; the collateral given up returns to the vault owner.

Each bid lives ``ttl`` (3 hours in the contract defaults; 10 minutes on
Black Thursday) and the auction ends at ``tau`` (2 days). ``deal`` gives the lot
to the last bidder whatever the bid: any positive bid wins if nobody else bids
before ``ttl`` runs out.

Round model
-----------
With competition a keeper pays up to the collateral's resale value
:math:`v = \text{lot}\cdot P(1-m)` (``m`` the keeper's selling cost): the
auction raises :math:`\min(\text{tab}, v)`; in the dent phase the lot sold is
:math:`\text{tab}/(P(1-m))` and the rest goes back. Keepers' DAI per round is
limited (gas, congestion, DAI liquidity); the share of the auctions' value
they cannot reach is won by a lone bidder at (almost) zero when
``zero_bids`` is True: it raises nothing and its collateral is lost to the
system. On 12-13 Mar 2020, 36 % of liquidations cleared at 0 DAI and $8.32M of
ETH was taken for free (WhiteRabbit; research notes §4.1), i.e. keepers
reached about 64 % of the value: ``keeper_capacity_usd`` equal to 64 % of the
demand reproduces that share.

References
----------
* MakerDAO ``dss``: ``src/flip.sol`` (``kick``, ``tend``, ``dent``, ``deal``;
  ``beg = 1.05``, ``ttl = 3 hours``, ``tau = 2 days``), ``src/cat.sol``.
* Research notes §4.1 and its sources (WhiteRabbit, BulletinTime).

The DAI raised (``tend``/``dent`` move the bid to the Vow, which heals it
against the system's debt) leaves DAI's supply: the engine reads it as the
supply squeeze of :func:`core.mechanisms.cdp_premium.supply_squeeze_factor`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.mechanisms._checks import as_float_array

__all__ = ["FlipRoundResult", "flip_round"]


@dataclass(frozen=True)
class FlipRoundResult:
    """One round of flip auctions; auction axis last.

    Attributes
    ----------
    raised : DAI raised per auction
    collateral_sold : collateral passed to winning bidders (units)
    returned : collateral returned to vault owners in the dent phase
    zero_bid_collateral : collateral won by a lone bidder at zero (units)
    uncovered : tab not raised (DAI)
    served_share : (...) share of demand keepers reached

    Examples
    --------
    >>> r = flip_round([113.0], [1.0], 150.0)
    >>> float(r.raised[0]), round(float(r.returned[0]), 3)
    (113.0, 0.247)
    """

    raised: np.ndarray
    collateral_sold: np.ndarray
    returned: np.ndarray
    zero_bid_collateral: np.ndarray
    uncovered: np.ndarray
    served_share: np.ndarray


def flip_round(tab, lot, market_price, *, keeper_capacity_usd=np.inf, keeper_margin=0.0,
               zero_bids=True):
    """Settle flip auctions started this round (see module docstring).

    Parameters
    ----------
    tab, lot : array_like, shape (..., m)
        DAI to raise (debt times the 13 % penalty in 2020) and collateral per auction.
    market_price : array_like, shape (...) or (..., m)
        Collateral price where keepers resell.
    keeper_capacity_usd : array_like, shape (...)
        DAI keepers can bid this round across all auctions.
    keeper_margin : float
        Keepers' resale cost as a share of the price.
    zero_bids : bool, default True
        Whether the unserved share clears at 0 (Black Thursday); if False it
        stays unsold (the caller keeps it for the next round).

    Examples
    --------
    A 113 DAI tab on 1 ETH at 150: competitive keepers raise the full tab and
    return 0.247 ETH. With keepers reaching 64 % of demand, 36 % of the lot
    goes for nothing:

    >>> r = flip_round([113.0], [1.0], 150.0)
    >>> float(r.raised[0]), round(float(r.returned[0]), 3)
    (113.0, 0.247)
    >>> r = flip_round([113.0], [1.0], 150.0, keeper_capacity_usd=0.64 * 113.0)
    >>> round(float(r.raised[0]), 2), round(float(r.zero_bid_collateral[0]), 2)
    (72.32, 0.36)
    """
    tab = as_float_array(tab, "tab", nonneg=True)
    lot = as_float_array(lot, "lot", nonneg=True)
    P = as_float_array(market_price, "market_price", nonneg=True)
    if P.ndim == tab.ndim - 1:
        P = P[..., None]
    cap = as_float_array(keeper_capacity_usd, "keeper_capacity_usd", nonneg=True)
    resale = P * (1.0 - keeper_margin)
    bid = np.minimum(tab, lot * resale)
    total = bid.sum(axis=-1)
    # the share served, cap / total, only where the asks exceed the capital (then total > cap >= 0): no quotient is
    # formed elsewhere (a subnormal total under a larger cap would overflow in a branch never taken)
    served = np.divide(cap, total, out=np.ones(np.broadcast_shapes(np.shape(cap), np.shape(total))), where=total > cap)
    phi = served[..., None] if np.ndim(served) else served
    # tab / resale beyond the largest float (a subnormal resale price) is inf: more units than any lot, and the
    # minimum takes the lot, which is the answer (nothing non-finite leaves)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        lot_for_tab = np.where(resale > 0, np.minimum(lot, tab / np.where(resale > 0, resale, 1.0)), lot)
    raised = phi * bid
    sold = phi * lot_for_tab
    returned = phi * (lot - lot_for_tab)
    unserved_lot = (1.0 - phi) * lot
    zero = unserved_lot if zero_bids else np.zeros_like(unserved_lot)
    uncovered = tab - raised if zero_bids else phi * (tab - bid)
    return FlipRoundResult(raised=raised, collateral_sold=sold + zero, returned=returned,
                           zero_bid_collateral=zero, uncovered=uncovered,
                           served_share=np.asarray(served))
