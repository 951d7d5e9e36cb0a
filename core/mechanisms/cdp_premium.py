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

Supply squeeze (the DAI liquidations burn)
------------------------------------------
The DAI a collateral auction raises is burnt: keepers bid DAI for the debt
(``flip.sol`` ``tend``/``dent``, ``clip.sol`` ``take``: the bid moves from the
keeper to the Vow) and the Vow annihilates it against the system's debt
(``vow.sol`` ``heal``: ``vat.heal``); a debt auction's DAI (``flop.sol``) is
burnt the same way. Keepers must buy that DAI in the market (or spend their
inventory, which they then restock), so the coin's supply shrinks by the DAI
the auctions raised. Klages-Mundt & Minca clear the stablecoin market with a
fixed dollar demand :math:`x` of its holders against the supply the
speculators (vault owners) leave outstanding, :math:`p = x / (\eta + \Delta L)`
(their ``DStablecoin.clear_stblc_market``; :math:`\Delta L < 0` when vaults
deleverage). With the holders' demand at reference :math:`x = S_0` (the coin
at par) and :math:`b` the DAI burnt so far, the holders sell
:math:`S_0(1 - 1/p)` at a premium and the price is

.. math:: p / V = \min\left(\frac{S_0}{S_0 - u},\ 1 + \pi_{max}\right),
   \qquad u = \max(0,\ b - \text{room}),

where a PSM with minting room re-mints what was burnt at par (``dss-psm``
``sellGem``), so with a PSM ``u`` stays 0 while its room lasts. The squeeze
is a stock (supply gone), not a flow: it lasts while the supply stays short.

Supply recovery (the premium's fade)
------------------------------------
Above peg, vault owners with room draw new coin and sell it at the premium
(``vat.frob`` with a positive ``dart``; Klages-Mundt & Minca's speculators
lever up when the coin is dear), so the supply burnt grows back: the part
still missing relaxes towards zero at a rate :math:`\rho` a day,

.. math:: m_{t+1} = m_t + (1 - e^{-\rho d})\,\max(0,\ u_t - m_t),

:math:`m` the coin re-minted so far and :math:`d` the round's days; the
squeeze then clears on :math:`u - m` (:func:`remint`). New vaults are fully
collateralised: they leave the issuer's equity as it was and are not among
the network's cohorts [model]. :data:`REMINT_RATE` comes from DAI's re-peg
after Black Thursday: 1.06 on 12 March 2020 (Coinbase Pro daily), within
0.3% of peg two and a half months later (ethereumprice.org, "DAI supply
reaches all-time high as peg returns"), :math:`\rho = \ln(0.06/0.003)/77`
= 0.039 a day, 1.02 after about four weeks (that period also had USDC-A from
16 March and rate cuts to 0%, so it bounds the market's own pace from below).

References
----------
* A. Klages-Mundt, A. Minca, "(In)Stability for the blockchain: deleveraging
  spirals and stablecoin attacks", arXiv 1906.02152 (2020), §2.3 (market
  clearing), §3.3 (deleveraging and liquidity); code
  ``aklamun/stablecoin_deleveraging``, ``simple_agent_model.py``.
* MakerDAO ``dss``: ``flip.sol``, ``clip.sol``, ``flop.sol``, ``vow.sol``; ``dss-psm``.
* Research notes §4.1 (DAI 1.06-1.12 on Black Thursday: Coinbase Pro DAI/USDC
  1.06 daily, 1.12 intraday, Kraken 1.10 [S:Longhash-DAI]), §5.7.
"""

from __future__ import annotations

import numpy as np

from core.mechanisms import pegs
from core.mechanisms._checks import as_float_array

__all__ = ["MAX_PREMIUM", "REMINT_RATE", "repay_demand", "cdp_premium_price", "supply_squeeze_factor", "remint"]

#: Cap on the premium above the coin's backing value: DAI's highest print on Black Thursday (1.12 intraday on
#: Coinbase Pro, research notes §4.1).
MAX_PREMIUM = 0.12
#: Rate a day at which vault owners re-mint the coin burnt while it trades above peg (module docstring: DAI's
#: premium from 6% on 12 March 2020 to 0.3% in 77 days, ln(20)/77).
REMINT_RATE = float(np.log(20.0) / 77.0)


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
                      max_premium=MAX_PREMIUM):
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


def supply_squeeze_factor(burnt_usd, supply0_usd, psm_mint_room_usd=0.0, max_premium=MAX_PREMIUM):
    """Price over backing value after burns shrink the coin's supply: ``min(S0 / (S0 - u), 1 + max_premium)``,
    ``u = max(0, burnt - room)`` (module docstring, Klages-Mundt & Minca's market clearing).

    Parameters
    ----------
    burnt_usd : array_like
        Coin burnt so far by auctions and repayments (USD face, >= 0).
    supply0_usd : array_like
        The coin's supply at reference (> 0): its holders' dollar demand.
    psm_mint_room_usd : array_like
        What a PSM can still mint at par to replace it.
    max_premium : float
        Cap on the premium (:data:`MAX_PREMIUM`).

    Examples
    --------
    Black Thursday's supply (104M DAI) after auctions burnt 9.55M DAI: holders give it up at 1.101; at 24.1M
    burnt the clearing price (1.302) is above the cap, which holds it at 1.12; a PSM with room mints it back:

    >>> round(float(supply_squeeze_factor(9.55e6, 104e6)), 3)
    1.101
    >>> round(float(supply_squeeze_factor(24.1e6, 104e6)), 3)
    1.12
    >>> float(supply_squeeze_factor(24.1e6, 104e6, psm_mint_room_usd=6.8e9))
    1.0
    """
    b = as_float_array(burnt_usd, "burnt_usd", nonneg=True)
    S0 = as_float_array(supply0_usd, "supply0_usd", positive=True)
    room = as_float_array(psm_mint_room_usd, "psm_mint_room_usd", nonneg=True)
    cap = 1.0 + as_float_array(max_premium, "max_premium", nonneg=True)
    u = np.maximum(b - room, 0.0)
    left = S0 - u
    # the clearing price exceeds the cap once the supply left is below S0 / cap (also where none is left)
    return np.where(left * cap > S0, S0 / np.where(left * cap > S0, left, 1.0), cap)


def remint(missing_usd, reminted_usd, days, rate=REMINT_RATE):
    """Coin re-minted against the premium after a round of ``days``: ``m + (1 - exp(-rate d)) max(0, u - m)``.

    Parameters
    ----------
    missing_usd : array_like
        Supply burnt beyond what a PSM can re-mint, ``u`` (USD face, >= 0).
    reminted_usd : array_like
        Re-minted so far, ``m`` (>= 0).
    days : array_like
        Days the round stands for.

    Examples
    --------
    24.1M DAI burnt and nothing re-minted: a day brings back 0.92M, four weeks 16.0M, after which the squeeze
    clears at 104 / (104 - 8.1) = 1.085, below the 12% cap:

    >>> round(float(remint(24.1e6, 0.0, 1.0)) / 1e6, 2), round(float(remint(24.1e6, 0.0, 28.0)) / 1e6, 1)
    (0.92, 16.0)
    >>> round(float(supply_squeeze_factor(24.1e6 - remint(24.1e6, 0.0, 28.0), 104e6)), 3)
    1.085
    """
    u = as_float_array(missing_usd, "missing_usd", nonneg=True)
    m = as_float_array(reminted_usd, "reminted_usd", nonneg=True)
    d = as_float_array(days, "days", nonneg=True)
    r = as_float_array(rate, "rate", nonneg=True)
    return m + (1.0 - np.exp(-r * d)) * np.maximum(u - m, 0.0)
