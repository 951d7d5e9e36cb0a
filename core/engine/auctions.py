r"""The price Maker-style collateral auctions clear at in a round: what their lots fetch once sold.

Model. A Maker-style vault below its liquidation ratio at the oracle's price is barked and its collateral put
to a Dutch auction (Maker's Liquidation 2.0, MIP45: ``dog.bark`` at the OSM price; ``clip`` starts the lot at
``top = feed x buf`` and its price falls along the abacus until a keeper takes it). A keeper buys once the
auction's price is at or below what the collateral sells for, and sells it into the market in the same round
(flash-loan ``clipperCallee`` keepers: they pay out of the sale), so the auctions of a token clear at the
market's price after the auctions' own sales: the largest price :math:`p \le P^m` with

.. math:: p = f\Big(\sum_i \min\big(C_i,\ \text{tab}_i / \min(p^o_i, p)\big)\Big),

:math:`f(U)` the token's price once :math:`U` units are sold (its pool's invariant where an AMM pool prices
it, :func:`core.engine.pools.pool_sell`, else the square-root law of :func:`core.engine.sell.sale_impact`,
from the round's opening state), :math:`\text{tab}_i = D_i P_d (1 + \text{penalty})`, :math:`p^o_i` the
oracle's price (an auction never starts below it). :math:`f` falls as more is sold and the lots grow as the
price falls, so :math:`p \mapsto f(U(p))` rises with :math:`p`, and iterating it from the market's price
descends to the largest fixed point (Tarski; the Dutch auction descends from above and stops at the first
price keepers take). Sales of the round other than the auctions' (close-factor liquidations, estates) are
not counted: keepers price the auctions'. (The auctions cleared at the oracle's price: a stETH vault barked
in round 1 of stETH -33.4% on synthetic(1000, 5000, seed 0) at lag 1 had keepers pay 1,825 USD a unit for
stETH that the round's sales, 650k units into a pool of 1.40M, took to 29.5, where stETH -33.2% left the vault
due two rounds later and booked its shortfall as bad debt: loss $15.975bn -> $15.754bn,
``monotone-synthetic1000-steth-auction-stale-clearing``.)

The vaults barked are those of each cohort below their ratio: a cohort is a spread of vaults
(:func:`auction_spread0`, :func:`barked_share`), its lots the barked vaults' collateral.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..mechanisms.cohort_spread import collateral_share_below, cohort_spread, share_below, spread_after_removal
from .compiled import MAKER_AUCTION
from .pools import apply_pool_prices, pool_price, pool_sell
from .sell import sale_impact, unwrap_units

if TYPE_CHECKING:
    from .batch import ScenarioBatch
    from .compiled import Compiled
    from .state import CascadeState

#: Iterations of the descent to the clearing price, and the relative step below which it stops.
MAX_STEPS, STEP_TOL = 200, 1e-12


def auction_cohorts(c: Compiled) -> np.ndarray:
    """(c,) Maker-style cohorts the close of a round auctions here (not the Maker system's own vaults,
    :mod:`core.engine.maker`)."""
    own = c.maker.cohort_mask if c.maker is not None else np.zeros(len(c.c_style), bool)
    return (c.c_style == MAKER_AUCTION) & ~own


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


def spread_after_barks(spread: np.ndarray, share: np.ndarray) -> np.ndarray:
    """The spread of what is left of each cohort once its lowest ``share`` of debt is barked
    (:func:`~core.mechanisms.cohort_spread.spread_after_removal`): a cohort is not barked again at a price that
    has not moved."""
    return np.where(share > 0, spread_after_removal(spread, share), spread)


def clearing_prices(c: Compiled, s: CascadeState, b: ScenarioBatch, coll: np.ndarray, debt: np.ndarray,
                    Pc: np.ndarray, Pd: np.ndarray, lt: np.ndarray, penalty: np.ndarray) -> np.ndarray | None:
    """Each token's auction clearing price this round, (S, k) (the market's ``s.P`` where no auction of it
    runs); None where no Maker-style vault is barked. ``Pc``, ``Pd`` (S, c): the oracle's collateral and debt
    prices of each cohort; ``lt`` its liquidation threshold (1 / ratio), ``penalty`` its liquidation penalty.
    The lots are the barked vaults' (:func:`barked_share`, the cohorts' spread ``s.auction_spread``)."""
    mask = auction_cohorts(c)
    share, slice_coll = barked_share(coll, debt, Pc, Pd, lt, mask[None] & ~s.halted[:, None], s.auction_spread)
    barked = share > 0
    if not barked.any():
        return None
    ca = c.c_ca
    tab = np.where(barked, debt * share * Pd * (1.0 + penalty), 0.0)
    lot = np.where(barked, slice_coll, 0.0)
    unwrap = unwrap_units(c, s, b)
    p = s.P.copy()
    for _ in range(MAX_STEPS):
        with np.errstate(divide="ignore", invalid="ignore"):
            units = np.minimum(lot, np.where(barked, tab / np.minimum(Pc, p[:, ca]), 0.0))
        nxt = price_after(c, s, b, c.by_coll_asset(np.nan_to_num(units)), unwrap)
        nxt = np.minimum(nxt, p)  # the descent never climbs (rounding)
        done = np.all(np.abs(nxt - p) <= STEP_TOL * np.abs(p))
        p = nxt
        if done:
            break
    return p


def price_after(c: Compiled, s: CascadeState, b: ScenarioBatch, units: np.ndarray,
                unwrap: np.ndarray | None) -> np.ndarray:
    """Prices (S, k) once ``units`` (S, k) are sold from the round's opening state, as
    :func:`core.engine.sell.price_impact` would move them (pools swapped into, the rest by the square-root
    law), without changing the state."""
    P = s.P
    px = s.pool_px
    if len(c.pool_asset) and units[:, c.pool_asset].any():
        px = pool_price(c, pool_sell(c, s.pool_res, units[:, c.pool_asset]))
    if units.any():
        impact, _ = sale_impact(c, s.supply, s.sold_reference_usd, units, b.liquidity, unwrap)
        P = P * np.exp(-impact)
    return apply_pool_prices(c, P, px, c.pool_ref[None])
