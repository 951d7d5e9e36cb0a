r"""Pegged assets: fiat-backed and CDP stablecoins, LST discounts (the UST/LUNA spiral: its own module).

Fiat-backed stablecoin (research notes §5.7)
--------------------------------------------
Coverage :math:`V = \sum_k R_k (1-h_k) / \text{supply}`. With redemptions open,
arbitrage pins :math:`p = \min(1, V)`; when redemptions are gated (weekend,
bank closure) holders cannot reach the reserves and the price trades at a
further discount :math:`g`: :math:`p = \min(1, V)(1-g)`. Example: USDC on
11 Mar 2023, $3.3bn of $40bn reserves stuck at SVB gives :math:`V=0.9175`;
with the weekend gate :math:`g=0.04` [estimate], :math:`p=0.881` (observed low
≈0.88).

CDP stablecoin (DAI; Klages-Mundt & Minca 2020)
-----------------------------------------------
Fundamental value :math:`V = s\,p_{psm} + (1-s)\min(1, B)` with :math:`s` the
PSM share of supply, :math:`p_{psm}` the PSM collateral price (USDC) and
:math:`B` the vault collateral value per unit of vault-backed supply. The PSM
absorbs net selling up to its balance (swap out at parity) and net buying up to
its mint room. The unabsorbed remainder moves the price against market depth
:math:`K` (USD per unit log move):

.. math::

    p = V\,e^{-u_{sell}/K}\,\bigl[1 + \pi_{max}(1 - e^{-u_{buy}/K})\bigr],

so the price can exceed 1 by at most :math:`\pi_{max}` when vault owners must
buy back debt (Black Thursday: DAI at $1.06-1.12) [reduced form, estimate].

Algorithmic stablecoin (UST/LUNA mint-and-burn)
-----------------------------------------------
The mint-and-burn spiral and the reserve that defends its peg are in
:mod:`core.mechanisms.algorithmic_stablecoin` (its names are re-exported here).

Liquid-staking token (stETH before withdrawals)
-----------------------------------------------
Without redemption the LST price is its Curve stableswap price
(:mod:`core.mechanisms.amm`): selling :math:`X` LST into the pool moves it to
the post-trade marginal price. With redemption open, arbitrage floors it at
:math:`\text{fundamental}\times(1-\text{redemption cost})` (exit-queue cost),
where *fundamental* < 1 after slashing.

References
----------
* Research notes §4.3, §5.6, §5.7 (USDC/SVB, DAI, stETH episodes).
* A. Klages-Mundt, A. Minca, "(In)Stability for the blockchain: deleveraging
  spirals and stablecoin attacks", arXiv 1906.02152 (2020).
* M. Egorov, "StableSwap" (2019).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.mechanisms import amm
from core.mechanisms._checks import as_unit_array as _unit, as_amount_array as _arr
from core.mechanisms.algorithmic_stablecoin import (
    ALGO_MAX_RATE,
    ALGO_REDEMPTION_CAP,
    DEFENCE_RAMP,
    PEG_CALM_BAND,
    RESERVE_EXHAUSTED,
    AlgoSpiralResult,
    algo_stable_spiral,
    algo_stable_step,
    holders_exit_share,
    log_slippage,
    reserve_defence,
)

__all__ = [
    "AlgoSpiralResult",
    "LSTPriceResult",
    "fiat_backed_coverage",
    "fiat_stable_price",
    "cdp_stable_price",
    "algo_stable_spiral",
    "algo_stable_step",
    "holders_exit_share",
    "log_slippage",
    "reserve_defence",
    "lst_pool_price",
    "ALGO_MAX_RATE",
    "ALGO_REDEMPTION_CAP",
    "EXCHANGE_TOKEN_FLOOR",
    "PEG_CALM_BAND",
    "DEFENCE_RAMP",
    "RESERVE_EXHAUSTED",
]


def fiat_backed_coverage(reserves, supply, haircuts=0.0):
    """Reserve coverage ``sum_k reserves_k * (1 - haircut_k) / supply``.

    Parameters
    ----------
    reserves : array_like, shape (..., K)
        Reserve buckets (USD).
    supply : array_like, shape (...)
        Stablecoin supply (> 0).
    haircuts : array_like, broadcastable to reserves
        Impairment per bucket in [0, 1].

    Examples
    --------
    >>> round(float(fiat_backed_coverage([36.7, 3.3], 40.0, [0.0, 1.0])), 12)
    0.9175
    """
    R = _arr(reserves, "reserves")
    s = _arr(supply, "supply", positive=True)
    h = _unit(haircuts, "haircuts")
    return (R * (1.0 - h)).sum(axis=-1) / s


def fiat_stable_price(coverage, redemptions_open=True, gate_discount=0.04):
    """Fiat-backed stable price: ``min(1, coverage)``, times ``1 - gate_discount`` if gated.

    Parameters
    ----------
    coverage : array_like
        Reserve coverage (>= 0).
    redemptions_open : bool or array_like of bool, default True
    gate_discount : float, default 0.04
        Extra discount while redemptions are closed [estimate, USDC Mar 2023].

    Examples
    --------
    >>> round(float(fiat_stable_price(0.9175, redemptions_open=False)), 3)
    0.881
    >>> float(fiat_stable_price(1.2))
    1.0
    """
    V = _arr(coverage, "coverage")
    g = _unit(gate_discount, "gate_discount")
    open_ = np.asarray(redemptions_open, dtype=bool)
    return np.minimum(1.0, V) * np.where(open_, 1.0, 1.0 - g)


def cdp_stable_price(
    backing_ratio, net_sell_usd, psm_balance_usd, market_depth_usd, *,
    psm_share=0.0, psm_price=1.0, psm_mint_room_usd=0.0, max_premium=0.12,
):
    """CDP stablecoin price with a PSM and a bounded deleveraging premium.

    Parameters
    ----------
    backing_ratio : array_like
        Vault collateral value / vault-backed supply (B).
    net_sell_usd : array_like
        Net market selling of the stable (USD); negative = net buying, e.g.
        vault owners buying back debt to deleverage.
    psm_balance_usd : array_like
        PSM reserve that absorbs selling at parity (USD).
    market_depth_usd : array_like
        Depth K: USD of unabsorbed flow per unit log price move (> 0).
    psm_share : float, default 0.0
        Share of supply backed by the PSM (s).
    psm_price : float, default 1.0
        Price of the PSM collateral (e.g. USDC).
    psm_mint_room_usd : float, default 0.0
        Buying the PSM can absorb by minting against PSM collateral (USD).
    max_premium : float, default 0.12
        Cap on the premium above fundamental (Black Thursday: up to 1.12).

    Returns
    -------
    ndarray

    Examples
    --------
    >>> float(cdp_stable_price(1.5, 1e6, 2e6, 1e8))  # PSM absorbs the selling
    1.0
    >>> round(float(cdp_stable_price(1.5, -1e8, 0.0, 1e8)), 4)  # squeeze: 1 + 0.12(1-1/e)
    1.0759
    """
    B = _arr(backing_ratio, "backing_ratio")
    x = _arr(net_sell_usd, "net_sell_usd", nonneg=False)
    psm = _arr(psm_balance_usd, "psm_balance_usd")
    K = _arr(market_depth_usd, "market_depth_usd", positive=True)
    s = _unit(psm_share, "psm_share")
    pp = _arr(psm_price, "psm_price")
    room = _arr(psm_mint_room_usd, "psm_mint_room_usd")
    pmax = _arr(max_premium, "max_premium")
    V = s * pp + (1.0 - s) * np.minimum(1.0, B)
    u_sell = np.maximum(x - psm, 0.0)
    u_buy = np.maximum(-x - room, 0.0)
    return V * np.exp(-u_sell / K) * (1.0 - pmax * np.expm1(-u_buy / K))


#: Floor of an exchange token's price relative to its reference when its issuer's equity is gone
#: (FTT traded near 3% of its early-2022 price after FTX failed, November 2022).
EXCHANGE_TOKEN_FLOOR = 0.03


@dataclass(frozen=True)
class LSTPriceResult:
    """LST price after selling into its stableswap pool.

    Attributes
    ----------
    price : ndarray
        Marginal LST price in the paired asset after the sale (floored by the
        redemption value when redeemable).
    pool_price : ndarray
        Post-trade marginal pool price (no floor).
    average_price : ndarray
        Paired asset received per LST sold (NaN when nothing is sold).
    amount_out : ndarray
        Paired asset received (units).
    balances : ndarray, (..., n)
        Pool balances after the sale.

    Examples
    --------
    >>> round(float(lst_pool_price([491e3, 111e3], 30.0, 0.0).price), 4)
    0.9467
    """

    price: np.ndarray
    pool_price: np.ndarray
    average_price: np.ndarray
    amount_out: np.ndarray
    balances: np.ndarray


def lst_pool_price(
    balances, A, sell_amount, *, i=0, j=1, fee=0.0004, redeemable=False,
    redemption_cost=0.0, fundamental=1.0,
):
    """Price of a liquid-staking token set by its Curve pool after ``sell_amount`` is sold.

    Parameters
    ----------
    balances : array_like, shape (..., n)
        Pool balances (LST at index ``i``, ETH at ``j``).
    A : float or array_like
        Amplification (whitepaper convention; stETH/ETH 2022 effective ≈30).
    sell_amount : array_like, shape (...)
        LST sold into the pool (units, >= 0).
    fee : float, default 0.0004
    redeemable : bool or array_like of bool, default False
        If True the price is floored at ``fundamental * (1 - redemption_cost)``.
    redemption_cost : float, default 0.0
        Cost of the exit queue as a fraction.
    fundamental : float, default 1.0
        ETH per LST claim (< 1 after slashing).

    Returns
    -------
    LSTPriceResult

    Examples
    --------
    >>> r = lst_pool_price([491e3, 111e3], 30.0, 0.0)
    >>> round(float(r.price), 4)
    0.9467
    """
    sell = _arr(sell_amount, "sell_amount")
    res = amm.stableswap_swap(balances, A, i, j, sell, fee)
    pool_p = amm.stableswap_price(res.balances, A, i, j)
    floor = _arr(fundamental, "fundamental") * (1.0 - _unit(redemption_cost, "redemption_cost"))
    price = np.where(np.asarray(redeemable, dtype=bool), np.maximum(pool_p, floor), pool_p)
    with np.errstate(divide="ignore", invalid="ignore"):
        avg = np.where(sell > 0, res.amount_out / np.where(sell > 0, sell, 1.0), np.nan)
    return LSTPriceResult(price=price, pool_price=pool_p, average_price=avg, amount_out=res.amount_out, balances=res.balances)
