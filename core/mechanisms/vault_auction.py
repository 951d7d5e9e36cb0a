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
the share of a round's lots keepers' capital takes (:func:`core.engine.auction_vaults.taken_share`);
:func:`liquidate_maker_flip` the flip-era rule (2020, ``flip.sol``) for those cohorts when keepers' capital is short.

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

__all__ = ["maker_auction_discount", "liquidate_maker", "liquidate_maker_flip"]


def _unsafe_vaults(collateral, debt, collateral_price, liquidation_ratio, penalty, share, share_name, debt_price):
    """The vaults' arrays checked and broadcast (``share`` a fraction named ``share_name``), and which are unsafe:
    ``C P < D P_d LR`` with debt (``cat.bite``/``dog.bark``)."""
    C = _arr(collateral, "collateral")
    D = _arr(debt, "debt")
    P = _arr(collateral_price, "collateral_price")
    lr = _arr(liquidation_ratio, "liquidation_ratio", positive=True)
    pen = _arr(penalty, "penalty")
    f = _frac(share, share_name)
    Pd = _arr(debt_price, "debt_price", positive=True)
    C, D, P, lr, pen, f, Pd = np.broadcast_arrays(C, D, P, lr, pen, f, Pd)
    return C, D, P, pen, f, Pd, (C * P < D * Pd * lr) & (D > 0)


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
    C, D, P, pen, d0, Pd, liq = _unsafe_vaults(collateral, debt, collateral_price, liquidation_ratio, penalty,
                                               auction_discount, "auction_discount", debt_price)
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
    # tab / unit_px beyond the largest float (a subnormal price) is inf, as where nothing is raised: more units than
    # the lot, and the minimum below sells the lot (nothing non-finite leaves)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
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


def liquidate_maker_flip(collateral, debt, collateral_price, liquidation_ratio, penalty, served_share, *,
                         debt_price=1.0):
    r"""One round of flip-era Maker vault liquidations (``cat.bite`` + ``flip.sol``) when keepers reach a share
    :math:`\phi` of the round's auctions (``served_share``; the rest clears at zero bids).

    Model (``flip.sol``, as :func:`core.mechanisms.maker_flip.flip_round` settles the Maker system's own auctions).
    A vault is unsafe iff :math:`C P_c < D P_d \cdot LR` and its whole collateral goes to auction with
    :math:`tab = D P_d (1 + \text{penalty})`. Keepers bid the lot's value up to the tab (``tend``), then take less
    collateral for the tab (``dent``) and the rest of the lot returns to the owner: a served auction raises
    :math:`\min(tab, C P_c)` and sells :math:`\min(C, tab / P_c)`. Keepers' capital reaches the share :math:`\phi`
    of every auction; the rest, :math:`(1 - \phi) C`, goes to a lone bidder at zero (``deal`` whatever the bid:
    Black Thursday, 12-13 Mar 2020, $8.32M of ETH won for 0 DAI). So the auction raises :math:`\phi \min(tab, C P_c)`,
    the vault loses :math:`\phi \min(C, tab/P_c) + (1 - \phi) C` and gets back :math:`\phi (C - \min(C, tab/P_c))`;
    the raised DAI repays the debt first, the rest is the penalty (the protocol's fee), and what the debt lacks
    is bad debt. With keepers' capital :math:`K` short of the round's asks, :math:`\phi = K / \sum \min(tab, C P_c)`
    (:func:`core.engine.auction_vaults.taken_share`): what a keeper pays for a served lot, at most its tab, is what
    the capital is weighed against, so the auctions raise exactly :math:`K`.
    (:func:`liquidate_maker`'s ``keeper_capacity_usd`` weighs the capital against the lots' whole value
    :math:`\sum C P_c` and sells every lot at the average price :math:`P_c \min(1, K / \sum C P_c)`: on lots
    worth more than their tab that leaves capital unspent while other lots go at zero bids. Beside the engine's
    one capital, whose split weighs the auctions by their tabs (:func:`core.engine.capital.split_capital`), it made
    Sai's bad debt jump where the round's asks crossed the capital: 0.9991 of the asks served gave 0.867 of the
    lots at the shallower depth of ``monotone-2020-eth-btc-genesis-failed-no-runs-lag1-capital-50m-bad-debt``.)

    Parameters
    ----------
    collateral, debt, collateral_price : array_like, shape (..., k)
        ``ink``, the debt in DAI units and the price the lot sells at (USD a unit).
    liquidation_ratio, penalty : array_like
        ``mat`` and ``chop - 1``.
    served_share : array_like, shape (...) or (..., k)
        :math:`\phi` in [0, 1]: 1 with ample keepers (then the same figures as :func:`liquidate_maker` without
        ``keeper_capacity_usd``, to the bit).
    debt_price : array_like, default 1.0
        USD per DAI.

    Returns
    -------
    LiquidationResult
        ``collateral_seized`` the collateral the vault loses (keepers' and the zero bids'), ``collateral_after``
        what its owner gets back, ``protocol_fee`` the penalty raised, ``liquidator_profit`` the bidders' gain
        at ``collateral_price``.

    Examples
    --------
    One ETH at $100 against 80 DAI (tab 90.4) and one at $100 against 95 DAI (tab 107.35, more than the lot),
    keepers reaching 60%: the first raises 0.6 x 90.4 = 54.24 DAI and gives its owner back 0.6 x 0.096 ETH, the
    second raises 60 DAI; the other 40% of each lot goes for nothing:

    >>> r = liquidate_maker_flip([1.0, 1.0], [80.0, 95.0], 100.0, 1.5, 0.13, 0.6)
    >>> [round(float(x), 4) for x in r.debt_repaid], [round(float(x), 4) for x in r.bad_debt]
    ([54.24, 60.0], [25.76, 35.0])
    >>> [round(float(x), 4) for x in r.collateral_after]
    [0.0576, 0.0]
    """
    C, D, P, pen, phi, Pd, liq = _unsafe_vaults(collateral, debt, collateral_price, liquidation_ratio, penalty,
                                                served_share, "served_share", debt_price)
    tab = D * Pd * (1.0 + pen)                    # USD
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # inf beyond the largest float, as above
        need = np.where(P > 0, tab / P, np.inf)   # units a served auction sells for the tab (dent)
    for_tab = np.where(liq, np.minimum(need, C), 0.0)
    raised = phi * (for_tab * P)                  # min(tab, C P) where served, 0 at zero bids
    seized = np.where(liq, phi * for_tab + (1.0 - phi) * C, 0.0)  # keepers' lots and the zero bids' whole lots
    repaid_usd = np.minimum(raised, D * Pd)
    bad = np.where(liq, D * Pd - repaid_usd, 0.0)
    return LiquidationResult(
        debt_repaid=repaid_usd / Pd, collateral_seized=seized, collateral_sold_value=seized * P,
        bad_debt=bad, collateral_after=C - seized, debt_after=np.where(liq, 0.0, D),
        liquidated=liq, liquidator_profit=seized * P - raised, protocol_fee=raised - repaid_usd,
    )
