r"""CDP stablecoin premium: vault owners must buy the coin back to deleverage (a short squeeze).

When collateral prices fall, vault owners below their target collateral ratio
repay debt to avoid liquidation, and keepers need the coin to bid in
auctions. Both must *buy* the stablecoin; when that demand is larger than what
the market and the PSM can supply, the coin trades above peg (Klages-Mundt &
Minca's deleveraging spiral). Black Thursday (12-13 Mar 2020, no PSM yet):
DAI traded at 1.06-1.12 (research notes §4.1).

Repayment demand
----------------
A vault with collateral value :math:`C` and debt :math:`D` below its target
ratio :math:`T` (e.g. the liquidation ratio plus a safety margin) must repay
:math:`D - C/T` to get back to it; a share :math:`\alpha` of owners act within
the round:

.. math:: \text{demand} = \alpha \sum_v \max(0,\ D_v - C_v/T_v) + \text{keeper demand}.

Price
-----
The demand is net buying in :func:`core.mechanisms.pegs.cdp_stable_price`:
the PSM mints against its backing coin up to its room (price held at the
PSM's bound, :func:`core.mechanisms.psm.psm_arbitrage`); the rest moves the
price against market depth :math:`K` up to the premium cap :math:`\pi_{max}`:

.. math:: p = V\,[1 + \pi_{max}(1 - e^{-u/K})], \quad u = \max(0, \text{demand} - \text{sell} - \text{room}).

References
----------
* A. Klages-Mundt, A. Minca, "(In)Stability for the blockchain: deleveraging
  spirals and stablecoin attacks", arXiv 1906.02152 (2020).
* Research notes §4.1 (DAI 1.06-1.12 on Black Thursday), §5.7.
"""

from __future__ import annotations

import numpy as np

from core.mechanisms import pegs
from core.mechanisms._checks import as_float_array

__all__ = ["repay_demand", "cdp_premium_price"]


def repay_demand(collateral_value, debt, target_ratio, acting_share=1.0):
    """DAI vault owners buy to restore ``target_ratio``: ``acting_share * sum max(0, D - C/T)`` over the last axis.

    Examples
    --------
    Two vaults at a 1.75 target: one at 1.5 must repay 14.29 of its 100, the
    other is fine.

    >>> round(float(repay_demand([150.0, 300.0], [100.0, 100.0], 1.75)), 2)
    14.29
    """
    C = as_float_array(collateral_value, "collateral_value", nonneg=True)
    D = as_float_array(debt, "debt", nonneg=True)
    T = as_float_array(target_ratio, "target_ratio", positive=True)
    a = as_float_array(acting_share, "acting_share", nonneg=True)
    return a * np.maximum(D - C / T, 0.0).sum(axis=-1)


def cdp_premium_price(backing_ratio, buy_demand_usd, market_depth_usd, *, net_sell_usd=0.0,
                      psm_share=0.0, psm_price=1.0, psm_balance_usd=0.0, psm_mint_room_usd=0.0,
                      max_premium=0.12):
    """CDP stablecoin price under deleveraging demand, bounded by the PSM while it has room.

    Parameters
    ----------
    backing_ratio : array_like
        Vault collateral value per vault-backed coin (B).
    buy_demand_usd : array_like
        From :func:`repay_demand` plus keepers' demand (USD).
    market_depth_usd : array_like
        Depth K (> 0).
    net_sell_usd : array_like
        Other net selling of the coin this round (USD).
    psm_share, psm_price, psm_balance_usd, psm_mint_room_usd, max_premium
        As in :func:`core.mechanisms.pegs.cdp_stable_price`.

    Examples
    --------
    Black Thursday (no PSM): buying equal to the market depth gives
    1 + 0.12 (1 - 1/e) = 1.076, inside the observed 1.06-1.12; with a PSM
    that can mint it all the price stays at par.

    >>> round(float(cdp_premium_price(1.5, 100e6, 100e6)), 4)
    1.0759
    >>> float(cdp_premium_price(1.5, 100e6, 100e6, psm_mint_room_usd=2e9))
    1.0
    """
    demand = as_float_array(buy_demand_usd, "buy_demand_usd", nonneg=True)
    sell = as_float_array(net_sell_usd, "net_sell_usd")
    return pegs.cdp_stable_price(backing_ratio, sell - demand, psm_balance_usd, market_depth_usd,
                                 psm_share=psm_share, psm_price=psm_price,
                                 psm_mint_room_usd=psm_mint_room_usd, max_premium=max_premium)
