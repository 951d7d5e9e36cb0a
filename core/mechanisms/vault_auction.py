r"""Maker vault liquidation in one round, and the discount at which its auctions clear when keepers are short.

Unsafe iff :math:`C P_c < D \cdot LR` (``ink * spot < art * rate``,
``spot = price / mat``). The whole vault goes to auction with
:math:`tab = D (1 + \text{penalty})` (``chop``). Collateral is sold at the
effective price :math:`P_c (1-\delta)` until *tab* is raised or the collateral
runs out; leftover collateral returns to the owner; ``bad_debt`` is
:math:`\max(D - \text{proceeds}, 0)` (the Vow's *sin* not covered). The effective
discount :math:`\delta` rises when keeper capacity is short (see
:func:`maker_auction_discount`); :math:`\delta = 1` is Black Thursday's
zero-bid auctions (12-13 Mar 2020: $8.32M of ETH won for 0 DAI).

The engine runs the Maker system's own vaults under the contracts' rules (:mod:`core.mechanisms.maker_liquidations`,
:mod:`core.mechanisms.maker_clip`, :mod:`core.mechanisms.maker_flip`); :func:`liquidate_maker` is the rule for the
other Maker-style cohorts (``style`` ``maker``, :mod:`core.engine.liquidate`), and :func:`maker_auction_discount`
the share of a round's lots keepers' capital takes (:func:`core.engine.auction_vaults.taken_share`).

References
----------
* MakerDAO ``dss`` ``dog.sol``, ``clip.sol``, ``abaci.sol``, ``flip.sol``;
  https://docs.makerdao.com/smart-contract-modules/dog-and-clipper-detailed-documentation
* WhiteRabbit, "Black Thursday for MakerDAO: $8.32 million was liquidated for 0 DAI" (March 2020),
  https://medium.com/@whiterabbit_hq/black-thursday-for-makerdao-8-32-million-was-liquidated-for-0-dai-36b83cac56b6
"""

from __future__ import annotations

import numpy as np

from core.mechanisms._checks import as_amount_array as _arr
from core.mechanisms.liquidation_result import LiquidationResult, _frac

__all__ = ["maker_auction_discount", "liquidate_maker"]


def maker_auction_discount(lot_value_usd, keeper_capacity_usd=np.inf, base_discount=0.0, liquidity=1.0):
    r"""Effective auction discount when keeper capacity is scarce (model choice).

    Keepers absorb at most ``liquidity * keeper_capacity_usd`` of the lot at
    the competitive discount :math:`\delta_0`; the rest clears at zero bids
    (Black Thursday: ``flip.sol``'s English auctions, 2020; the engine applies it to
    flip-era cohorts only, :func:`core.engine.auction_vaults.clip_era`). The average
    clearing-price discount is

    .. math:: \delta = 1 - (1-\delta_0)\,\min\!\left(1, \frac{\ell\,K}{V}\right).

    Parameters
    ----------
    lot_value_usd : array_like
        Market value of collateral put up for auction (USD, per scenario).
    keeper_capacity_usd : array_like, default inf
        DAI keepers can bring this round (USD).
    base_discount : float, default 0.0
        Discount with ample keepers (Dutch-auction ``buf``/decay slack).
    liquidity : array_like, default 1.0
        Multiplier on keeper capacity (gas spikes, congestion: < 1).

    Returns
    -------
    ndarray
        Discount in [base_discount, 1].

    Examples
    --------
    >>> float(maker_auction_discount(100.0, 50.0, 0.02))
    0.51
    >>> float(maker_auction_discount(100.0, 0.0))  # no keepers: zero bids
    1.0
    """
    V = _arr(lot_value_usd, "lot_value_usd")
    K = _arr(keeper_capacity_usd, "keeper_capacity_usd")
    d0 = _frac(base_discount, "base_discount")
    liq = _arr(liquidity, "liquidity")
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(V > 0, np.minimum(1.0, liq * K / np.where(V > 0, V, 1.0)), 1.0)
    share = np.where(np.isnan(share), 1.0, share)
    return 1.0 - (1.0 - d0) * share


def liquidate_maker(
    collateral, debt, collateral_price, liquidation_ratio=1.5, penalty=0.13,
    auction_discount=0.0, *, keeper_capacity_usd=None, liquidity=1.0, debt_price=1.0,
):
    """One round of Maker vault liquidations (``dog.bark`` + ``clip`` auction).

    Parameters
    ----------
    collateral : array_like, shape (k,) or (S, k)
        Vault collateral (``ink``, units).
    debt : array_like
        Vault debt (``art * rate``, DAI units).
    collateral_price : array_like
        Oracle/market price (USD per unit); auctions clear at
        ``collateral_price * (1 - discount)``.
    liquidation_ratio : float, default 1.5
        ``mat`` (ETH-A used 1.45-1.5).
    penalty : float, default 0.13
        ``chop - 1``; ``tab = debt * (1 + penalty)``.
    auction_discount : float or array_like, default 0.0
        Competitive clearing discount; 1.0 reproduces zero-bid auctions.
    keeper_capacity_usd : float or array_like (S,), optional
        If given, the discount becomes
        ``maker_auction_discount(lot, keeper_capacity_usd, auction_discount, liquidity)``
        with ``lot`` the scenario's total collateral value put to auction.
    liquidity : float or array_like (S,), default 1.0
        Keeper-capacity multiplier (used only with ``keeper_capacity_usd``).
    debt_price : float, default 1.0
        USD per DAI.

    Returns
    -------
    LiquidationResult
        ``collateral_after`` is collateral returned to the owner,
        ``debt_after`` is 0 for liquidated vaults, ``protocol_fee`` the
        penalty collected, ``liquidator_profit`` the keepers' discount gain.

    Examples
    --------
    Vault 1 ETH at $100 against 80 DAI, LR 1.5: tab 90.4, sold 0.904 ETH:

    >>> r = liquidate_maker(1.0, 80.0, 100.0)
    >>> round(float(r.collateral_seized), 3), round(float(r.collateral_after), 3), float(r.bad_debt)
    (0.904, 0.096, 0.0)

    Zero bids (Black Thursday): all collateral taken for nothing:

    >>> r = liquidate_maker(1.0, 80.0, 100.0, auction_discount=1.0)
    >>> float(r.bad_debt), float(r.liquidator_profit)
    (80.0, 100.0)
    """
    C = _arr(collateral, "collateral")
    D = _arr(debt, "debt")
    P = _arr(collateral_price, "collateral_price")
    lr = _arr(liquidation_ratio, "liquidation_ratio", positive=True)
    pen = _arr(penalty, "penalty")
    d0 = _frac(auction_discount, "auction_discount")
    Pd = _arr(debt_price, "debt_price", positive=True)
    C, D, P, lr, pen, d0, Pd = np.broadcast_arrays(C, D, P, lr, pen, d0, Pd)

    liq = (C * P < D * Pd * lr) & (D > 0)
    if keeper_capacity_usd is not None:
        lot = np.where(liq, C * P, 0.0)
        lot_total = lot.sum(axis=-1) if lot.ndim else lot
        disc = maker_auction_discount(lot_total, keeper_capacity_usd, 0.0, liquidity)
        disc = np.asarray(disc)[..., None] if lot.ndim else disc
        disc = 1.0 - (1.0 - d0) * (1.0 - disc)
    else:
        disc = d0
    disc = np.broadcast_to(disc, C.shape)
    unit_px = P * (1.0 - disc)                    # USD raised per unit sold
    tab = D * Pd * (1.0 + pen)                    # USD
    with np.errstate(divide="ignore", invalid="ignore"):
        need = np.where(unit_px > 0, tab / unit_px, np.inf)
    sold = np.where(liq, np.minimum(need, C), 0.0)
    proceeds = sold * unit_px
    repaid_usd = np.minimum(proceeds, D * Pd)
    fee = proceeds - repaid_usd
    bad = np.where(liq, D * Pd - repaid_usd, 0.0)
    return LiquidationResult(
        debt_repaid=repaid_usd / Pd, collateral_seized=sold, collateral_sold_value=sold * P,
        bad_debt=bad, collateral_after=C - sold, debt_after=np.where(liq, 0.0, D),
        liquidated=liq, liquidator_profit=sold * P - proceeds, protocol_fee=fee,
    )
