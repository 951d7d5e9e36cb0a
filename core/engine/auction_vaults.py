"""Maker-style cohorts of lending and cdp protocols: which they are, and the share of each one's vaults a bark takes.

A cohort of the snapshots is a bucket of vaults about one collateral ratio (:mod:`core.mechanisms.cohort_spread`);
``dog.bark`` takes each vault below its ratio at the OSM price, vault by vault (MakerDAO ``dss`` ``dog.sol``;
Liquidation 2.0, MIP45), so a cohort's barks are the share of its vaults below the line, continuous in the price.
The auctions' clearing (:mod:`core.engine.auctions`) and the liquidation step (:mod:`core.engine.liquidate`) read
these; the state carries each cohort's spread (``CascadeState.auction_spread``), narrowed as its lowest vaults go.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataclasses import replace

import numpy as np

from ..mechanisms.lending import maker_auction_discount
from ..mechanisms.liquidation_result import LiquidationResult
from ..mechanisms.cohort_spread import collateral_share_below, cohort_spread, share_below, spread_after_removal
from .compiled import MAKER_AUCTION

if TYPE_CHECKING:
    from .compiled import Compiled


def auction_cohorts(c: Compiled) -> np.ndarray:
    """(c,) Maker-style cohorts the close of a round auctions here (not the Maker system's own vaults,
    :mod:`core.engine.maker`)."""
    own = c.maker.cohort_mask if c.maker is not None else np.zeros(len(c.c_style), bool)
    return (c.c_style == MAKER_AUCTION) & ~own


def clip_era(c: Compiled) -> bool:
    """Whether the Maker-style cohorts auctioned here run Liquidations 2.0's Dutch auctions (``clip.sol``, from
    2021) rather than ``flip.sol``'s English auctions (2020): flip where the network's Maker system runs flip
    (the ``auction`` column of its ilks: the 2020 snapshot), clip otherwise (the 2022 snapshot's Maker, 2025's Sky
    and the synthetic networks' cdp protocols, which have no Maker system of their own, are of the clip era).

    What it changes (:func:`taken_share`): under ``flip.sol`` a lot keepers do not bid on goes for what is bid,
    at worst nothing (Black Thursday's zero bids), so the share of a round's lots beyond keepers' capital clears
    at zero bids (:func:`~core.mechanisms.lending.maker_auction_discount`); under ``clip.sol`` an untaken lot stays
    in its auction, its price falls along the abacus until a keeper takes it, or ``redo`` resets it at the feed:
    nothing is given away, and the lots keepers cannot pay for this round are taken in later rounds."""
    return c.maker is None or not c.maker.flip


def taken_share(lot_usd: np.ndarray, keeper_capacity_usd: np.ndarray) -> np.ndarray:
    r"""(S,) The share of a round's Maker-style lots (``lot_usd`` (S, c), their value at the price they clear at)
    keepers' capital (``keeper_capacity_usd`` (S,): the auctions' share of the round's one capital,
    :func:`core.engine.capital.split_capital`) takes: :math:`\min(1, K / V)`, the share
    :func:`~core.mechanisms.lending.maker_auction_discount` sells at the competitive price (1 where nothing is
    auctioned). Under ``clip.sol`` (:func:`clip_era`) the rest stays barked-to-be: the engine leaves those vaults
    in their cohort, below their ratio, and barks them again next round at that round's prices [model: an
    untaken Clipper auction is taken later or reset by ``redo`` at the feed; a vault whose price recovers above
    its ratio meanwhile is left alone, where its auction would still sell the lot]."""
    return 1.0 - maker_auction_discount(lot_usd.sum(-1), keeper_capacity_usd, 0.0, 1.0)


def auction_spread0(c: Compiled) -> np.ndarray:
    """(c,) Each Maker-style cohort's spread of its vaults' collateral ratios about its own at reference prices
    (:func:`~core.mechanisms.cohort_spread.cohort_spread` of its ratio over its liquidation ratio, at most
    :data:`~core.mechanisms.cohort_spread.HF_SPREAD`, as the Maker system's vaults,
    :func:`core.engine.maker.vault_spread`); 0 for every other cohort and a named borrower's vaults, kept as one.

    Model. A cohort is a bucket of vaults about one ratio (:mod:`core.mechanisms.cohort_spread`), and
    ``dog.bark`` takes each vault below its ratio at the OSM price, vault by vault (``dog.sol``; Maker's
    Liquidation 2.0, MIP45), so a cohort's barks are the share of its vaults below the line, continuous in the
    price (:func:`barked_share`). Barked whole at one ratio, a cohort was all or nothing: on synthetic(1000,
    5000, seed 7) a cdp protocol's $336.9M stETH cohort (221,322 stETH, ratio 1.5) was barked whole in round 1
    at ETH -15.32% (stETH's round-0 close 2,251.5 against its line at 2,283.3) and not at all at ETH -12.77%
    until round 3 (its round-1 close 2,287.3, $4 above the line), after the round's sales had drained stETH's
    pool: $291.2M of bad debt against none, and the deeper shock booked $546.2M less
    (``monotone-synthetic1000-seed7-usdc-depeg-eth-ftt-bad-debt``)."""
    mask = auction_cohorts(c) & ~c.c_named
    with np.errstate(divide="ignore", invalid="ignore"):
        dv = c.c_debt * c.P0[c.c_da]
        hf0 = np.where(dv > 0, c.c_coll * c.P0[c.c_ca] * c.c_lt / np.where(dv > 0, dv, 1.0), np.inf)
    return np.where(mask, cohort_spread(hf0), 0.0)


def barked_share(coll: np.ndarray, debt: np.ndarray, Pc: np.ndarray, Pd: np.ndarray, lt: np.ndarray,
                 mask: np.ndarray, spread: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The share of each cohort's debt in vaults below their ratio at the oracle's prices ``Pc``, ``Pd`` (the
    vaults ``dog.bark`` takes, the lowest of the cohort), 0 outside ``mask``, and the collateral those vaults
    hold (:func:`~core.mechanisms.cohort_spread.share_below`, :func:`~core.mechanisms.cohort_spread.
    collateral_share_below`); ``spread`` None or 0: the cohort is one vault, barked whole below its ratio."""
    w = np.zeros_like(coll) if spread is None else np.broadcast_to(spread, coll.shape)
    share = np.where(mask & (debt > 0), share_below(coll * Pc * lt, debt * Pd, 1.0, w), 0.0)
    return share, coll * collateral_share_below(share, w)


def auction_lots(coll: np.ndarray, debt: np.ndarray, Pc: np.ndarray, Pd: np.ndarray, lt: np.ndarray, mask: np.ndarray,
                 spread: np.ndarray | None, price: np.ndarray,
                 penalty: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The round's barks and lots, each (S, c): the share of each cohort's debt barked and the collateral and debt
    of its barked vaults (:func:`barked_share`), and the USD keepers pay for the lot at ``price`` (what its auction
    clears at, at most the oracle's): its value, at most its tab (``clip.take`` pays ``min(tab, lot x price)``,
    the rest of the lot going back to the vault's owner; ``penalty``: ``chop - 1``), what :func:`taken_share`
    weighs keepers' capital against (0 where nothing is barked)."""
    share, slice_coll = barked_share(coll, debt, Pc, Pd, lt, mask, spread)
    barked = share > 0
    slice_debt = np.where(barked, debt * share, 0.0)
    lot = np.where(barked & (slice_debt > 0) & (slice_coll * price < slice_debt * Pd / lt),
                   np.minimum(slice_coll * price, slice_debt * Pd * (1.0 + penalty)), 0.0)
    return share, slice_coll, slice_debt, lot


def spread_after_barks(spread: np.ndarray, share: np.ndarray) -> np.ndarray:
    """The spread of what is left of each cohort once its lowest ``share`` of debt is barked
    (:func:`~core.mechanisms.cohort_spread.spread_after_removal`): a cohort is not barked again at a price that
    has not moved."""
    return np.where(share > 0, spread_after_removal(spread, share), spread)


def returned_to_owner(c: Compiled, auction: LiquidationResult, barked: np.ndarray,
                      unbarked_coll: np.ndarray) -> LiquidationResult:
    """The round's Maker-style auctions with what each barked vault's auction hands back (the lot beyond its tab)
    gone to the vault's owner: an anonymous cohort keeps the collateral of its vaults not barked only, a named
    borrower's cohort (one vault, its position) keeps it all as before.

    Model. ``dog.bark`` confiscates the vault's whole ``ink`` (``vat.grab``) and ``clip.take``, once the tab is
    raised, moves the rest of the lot to the owner with ``vat.flux(ilk, clip, usr, lot)`` (MakerDAO ``dss``
    ``dog.sol``, ``clip.sol``): it is the owner's free ``gem``, no longer locked against any debt. A cohort of the
    snapshots is a bucket of vaults spread about one ratio (:mod:`core.mechanisms.cohort_spread`); once its lowest
    share is barked, what is left is the vaults not barked, uniform about the aggregate :math:`1 + w s` times the
    old one (:func:`~core.mechanisms.cohort_spread.spread_after_removal`, the spread the state carries). Added back
    to the cohort's collateral, the lots' remainders raised that aggregate above the vaults' own and lifted every
    vault left as if the barked owners' collateral backed their debt; an auction taken at a higher price hands
    back more, so a deeper shock that barked a cohort's vaults a round earlier, before the price fell, left fewer
    of them to bark later, and sold less (synthetic(1000, 5000, seed 11), FTT -31.21% -> -33.58% at lag 1: the
    cdp protocols' ETH and stETH vaults barked in rounds 3 and 5, $4.7M less collateral sold at the deeper shock
    and system loss $0.59M lower, ``monotone-synthetic1000-seed11-ftt-lag1-capital-500m``). The Maker system's
    own vaults already keep it apart (:mod:`core.engine.maker`: the owner's ``free``). An anonymous cohort's owners
    are outside the network, so their free collateral leaves it; a named borrower's cohort is one vault
    (:func:`auction_spread0`) and its position's equity, ``max(0, C P_c - D P_d)``, is the borrower's either way."""
    anonymous = barked & ~c.c_named[None]
    if not anonymous.any():
        return auction
    return replace(auction, collateral_after=np.where(anonymous, unbarked_coll, auction.collateral_after))
