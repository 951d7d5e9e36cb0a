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
(:mod:`core.engine.auction_vaults`), its lots the barked vaults' collateral; in the clip era only the share of
the lots keepers' capital takes is sold in the round (:func:`~core.engine.auction_vaults.taken_share`), their
capital the auctions' share of the round's one capital (:func:`core.engine.capital.split_capital`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np

from .auction_vaults import auction_cohorts as auction_cohorts  # importable from here as before
from .auction_vaults import auction_spread0 as auction_spread0
from .auction_vaults import barked_share, clip_era, taken_share
from .auction_vaults import spread_after_barks as spread_after_barks
from .capital import split_capital
from .grouping import Group
from .memo import per_network
from .pools import apply_pool_prices, pool_price, pool_sell, stableswap_invariants
from .row_views import rows_view
from .sell import sale_impact, unwrap_units
from .staking import sale_met_by_arbitrage

if TYPE_CHECKING:
    from .batch import ScenarioBatch
    from .compiled import Compiled
    from .state import CascadeState

#: Iterations of the descent to the clearing price, and the relative step below which it stops.
MAX_STEPS, STEP_TOL = 200, 1e-12


#: Compute the barked shares of the auction cohorts due only, where the caller gives them (off: every auction cohort;
#: tests compare the two).
DUE_ONLY = True
#: Run the descent on the rows the caller reads only, where it gives them (off: every row; tests compare the two).
ROWS_ONLY = True


def clearing_prices(c: Compiled, s: CascadeState, b: ScenarioBatch, coll: np.ndarray, debt: np.ndarray,
                    Pc: np.ndarray, Pd: np.ndarray, lt: np.ndarray, penalty: np.ndarray,
                    close_ask: np.ndarray | None = None, maker_ask: np.ndarray | None = None,
                    due: np.ndarray | None = None, rows: np.ndarray | None = None) -> np.ndarray | None:
    """Each token's auction clearing price this round, (S, k) (the market's ``s.P`` where no auction of it
    runs); None where no Maker-style vault is barked. ``Pc``, ``Pd`` (S, c): the oracle's collateral and debt
    prices of each cohort; ``lt`` its liquidation threshold (1 / ratio), ``penalty`` its liquidation penalty.
    The lots are the barked vaults' (:func:`barked_share`, the cohorts' spread ``s.auction_spread``).
    ``close_ask`` (S,): the USD the close-factor cohorts ask of the round's capital
    (:func:`core.engine.capital.close_factor_ask`), which keepers share it with at every price tried
    (:func:`core.engine.capital.split_capital`); None: keepers have the whole capacity. ``maker_ask`` (S,): the
    Maker system's keepers' (:func:`core.engine.maker_ask.keeper_ask`), the third to share it (None: none).
    ``due`` (c,): the cohorts below their threshold in some row at these prices (:func:`~core.engine.due.cohorts_due`
    of these arguments, the liquidation step's), where the caller has them: a vault is barked only where its
    cohort is due (below), so the barked shares are computed for those alone. ``rows`` (indices): the rows the
    caller reads, which then hold every row with a cohort due and not halted; the prices of those rows alone,
    (len(rows), k) (:func:`_rows_only`)."""
    if rows is not None and ROWS_ONLY:
        return _rows_only(c, s, b, coll, debt, Pc, Pd, lt, penalty, close_ask, maker_ask, due, rows)
    whole = _descent(c, s, b, coll, debt, Pc, Pd, lt, penalty, close_ask, maker_ask, due, [])
    return whole if rows is None or whole is None else whole.take(rows, axis=0)


def _descent(c: Compiled, s: CascadeState, b: ScenarioBatch, coll: np.ndarray, debt: np.ndarray, Pc: np.ndarray,
             Pd: np.ndarray, lt: np.ndarray, penalty: np.ndarray, close_ask: np.ndarray | None,
             maker_ask: np.ndarray | None, due: np.ndarray | None, steps: list[int]) -> np.ndarray | None:
    """:func:`clearing_prices` of every row of ``s``; the steps the descent took are appended to ``steps``."""
    # the auction cohorts' own (each cohort's share is its own: the others' are 0, as outside the mask), computed
    # on those cohorts alone: every other cohort's tab, lot and units are +0.0, which add nothing to a token's sum
    # (a sum that starts at +0.0 never holds -0.0, so adding +0.0 leaves it to the bit), and its lots are summed
    # in cohort order by a group of the auction cohorts alone (:class:`~core.engine.grouping.Group`)
    Pc_all = Pc
    cols, by_asset = per_network(c, "auction_clearing", lambda: _auction_columns(c))
    full = coll.shape

    def own(x: np.ndarray) -> np.ndarray:  # the auction cohorts' columns of an (S, c) array, by the faster gather
        # (of the array itself where it has the full shape: a take from a broadcast view is some 2x slower)
        return x.take(cols, axis=1) if x.shape == full else np.broadcast_to(x, full).take(cols, axis=1)

    clip = clip_era(c) and np.isfinite(b.capacity).any()
    if due is not None and DUE_ONLY and not clip and per_network(c, "auction_unspread", lambda: not c.c_spread[cols].any()):
        # a cohort's lowest vaults are below their ratio (share_below's s > 0: (1 - w) cvlt < dv, or cvlt < dv for
        # one vault) exactly where the due test holds, cvlt (1 - c_spread - w) < dv with c_spread 0 for the auction
        # cohorts, the same product (spreads are never negative); the descent reads the barked cohorts alone
        # (synthetic(100k): some 2,000 of the 14,865 auction cohorts due a round)
        cols = cols[due[cols]]
    spread = None if s.auction_spread is None else own(s.auction_spread)
    share, slice_coll = barked_share(own(coll), own(debt), own(Pc), own(Pd), own(lt), ~s.halted[:, None], spread)
    barked = share > 0
    if not barked.any():
        return None
    if not clip:
        # the descent on the cohorts barked in some row alone: every other's tab, lot and units are +0.0, which
        # add nothing to a token's sum (as above), summed in cohort order by a group of those cohorts
        # (synthetic(100k): 1,968 of the 14,865 auction cohorts barked a round)
        barked_cols = np.flatnonzero(barked.any(0))
        cols, share, slice_coll, barked = (cols[barked_cols], share[:, barked_cols], slice_coll[:, barked_cols],
                                           barked[:, barked_cols])
        by_asset = _by_token(c, cols, full[0])
    ca = c.c_ca[cols]
    Pc = own(Pc)
    tab = np.where(barked, own(debt) * share * own(Pd) * (1.0 + own(penalty)), 0.0)
    lot = np.where(barked, slice_coll, 0.0)
    unwrap = unwrap_units(c, s, b)
    # every step sells into the round's opening pools: their invariants once, where a lot's token is a pool's, at the
    # first step that sells into one (none where no step does: synthetic(100k) from round 2)
    kept_invariant: list[np.ndarray | None] = []

    def invariant() -> np.ndarray | None:
        if not kept_invariant:
            kept_invariant.append(stableswap_invariants(c, s.pool_res) if np.isin(ca, c.pool_asset).any() else None)
        return kept_invariant[0]

    p = s.P.copy()
    moving = np.ones(len(p), bool)  # the rows whose price has not settled yet
    taken = 0  # steps of the descent
    for _ in range(MAX_STEPS):
        taken += 1
        with np.errstate(divide="ignore", invalid="ignore"):
            units = np.minimum(lot, np.where(barked, tab / np.minimum(Pc, p[:, ca]), 0.0))
        if clip:  # only the lots keepers' capital takes are sold this round (auction_vaults.taken_share), their
            # value summed over every cohort, as before (a row's sum, whose pairing the other cohorts' zeros set)
            every = np.zeros(full)
            every[:, cols] = units
            lot_usd = np.nan_to_num(every) * np.minimum(np.broadcast_to(Pc_all, full), p[:, c.c_ca])
            capital = (b.capacity if close_ask is None
                       else split_capital(b.capacity, close_ask, lot_usd.sum(1), maker_ask)[1])
            units = units * taken_share(lot_usd, capital)[:, None]
        nxt = price_after(c, s, b, by_asset(np.nan_to_num(units)), unwrap, invariant)
        nxt = np.minimum(nxt, p)  # the descent never climbs (rounding)
        # each row stops at the first step its own prices settle at, and keeps them: a row's prices never read
        # its batch-mates' steps (stopped when every row had settled, a row settled early took the others' further
        # steps, which moved its last bits: synthetic(10k)'s seed 7 as a batch of 64 and of 16, loss 4.8e-7 apart)
        settled = np.all(np.abs(nxt - p) <= STEP_TOL * np.abs(p), axis=1)
        p = np.where(moving[:, None], nxt, p)
        moving &= ~settled
        if not moving.any():
            break
    steps.append(taken)
    return p


def _rows_only(c: Compiled, s: CascadeState, b: ScenarioBatch, coll: np.ndarray, debt: np.ndarray, Pc: np.ndarray,
               Pd: np.ndarray, lt: np.ndarray, penalty: np.ndarray, close_ask: np.ndarray | None,
               maker_ask: np.ndarray | None, due: np.ndarray | None, rows: np.ndarray) -> np.ndarray | None:
    """:func:`clearing_prices` of the rows ``rows`` (every row with a cohort due, not halted), (len(rows), k), the
    same to the last bit as the whole batch's rows ``rows``.

    Where the barked vaults are the cohorts due (the descent on the cohorts due: no clip-era capital, which every
    cohort of a row shares, and no spread of the auction cohorts' own), a row outside ``rows`` has no vault barked:
    its units are 0 at every price tried, and a row's prices read its own units and its own steps only (each row
    stops at the step its own prices settle at, :func:`_descent`; a row selling into no pool keeps its pools'
    prices, :func:`price_after`), so the descent on ``rows`` alone gives their prices to the last bit. (Stopped
    when every row had settled, the descent on ``rows`` alone was kept only where it took two steps or more: the
    other rows might take a second step, which moved these rows' last bits.)"""
    cols = per_network(c, "auction_clearing", lambda: _auction_columns(c))[0]
    cut = (due is not None and DUE_ONLY and not (clip_era(c) and np.isfinite(b.capacity).any())
           and per_network(c, "auction_unspread", lambda: not c.c_spread[cols].any()))
    steps: list[int] = []
    if cut:
        def of(x: np.ndarray) -> np.ndarray:  # the rows of an (S, c) argument
            return np.broadcast_to(x, coll.shape).take(rows, axis=0)

        return _descent(c, rows_view(s, rows), rows_view(b, rows), of(coll), of(debt), of(Pc), of(Pd), of(lt),
                        of(penalty), None, None, due, steps)
    whole = _descent(c, s, b, coll, debt, Pc, Pd, lt, penalty, close_ask, maker_ask, due, steps)
    return None if whole is None else whole.take(rows, axis=0)


def _by_token(c: Compiled, cols: np.ndarray, rows: int):
    """Sums (S, m) of the cohorts ``cols``' units into their collateral tokens, (S, k): a bincount for one scenario
    (the sums of :class:`~core.engine.grouping.Group`, to the bit, without building its matrix), else the group,
    kept with the network for the last :data:`GROUPS_KEPT` sets of cohorts (the same cohorts are barked round
    after round: the 1,000-seed ranking of synthetic(1000, 10000) meets one set of 30 cohorts in all 37 calls)."""
    tokens = c.c_ca[cols]
    if rows == 1:
        return lambda units: np.bincount(tokens, weights=units[0], minlength=c.k)[None]
    kept: dict[bytes, Group] = per_network(c, "auction_token_groups", dict)
    key = np.asarray(cols, np.int64).tobytes()
    group = kept.get(key)  # one lookup: chunks on threads share the dict
    if group is None:
        group = Group.of(tokens, c.k)
        if len(kept) >= GROUPS_KEPT:
            kept.clear()
        kept[key] = group
    return group


#: Most groups of :func:`_by_token` kept with a compiled network.
GROUPS_KEPT = 8


def _auction_columns(c: Compiled) -> tuple[np.ndarray, Group]:
    """:func:`clearing_prices`' per-network terms: the auction cohorts, and the sums of their units per collateral
    token (``c.by_coll_asset`` over those cohorts alone)."""
    cols = np.flatnonzero(auction_cohorts(c))
    return cols, Group.of(c.c_ca[cols], c.k)


def price_after(c: Compiled, s: CascadeState, b: ScenarioBatch, units: np.ndarray,
                unwrap: np.ndarray | None,
                invariant: np.ndarray | Callable[[], np.ndarray | None] | None = None) -> np.ndarray:
    """Prices (S, k) once ``units`` (S, k) are sold from the round's opening state, as
    :func:`core.engine.sell.price_impact` would move them (pools swapped into, the rest by the square-root
    law), without changing the state. ``invariant``: the stableswap pools' invariants at ``s.pool_res``
    (:func:`~core.engine.pools.stableswap_invariants`), where the caller has them, or a function that gives them
    (called only where some units are sold into a pool)."""
    P = s.P
    px = s.pool_px
    selling = np.asarray(units[:, c.pool_asset].any(1)) if len(c.pool_asset) else None  # the rows selling into one
    if selling is not None and selling.any():
        # a liquid-staking token's lots meet the round's arbitrage (staking.sale_met_by_arbitrage); a row selling
        # into no pool keeps its opening pools' prices, whatever its batch-mates sell
        sold = pool_sell(c, s.pool_res, units[:, c.pool_asset], invariant=invariant() if callable(invariant) else invariant)
        met = pool_price(c, sale_met_by_arbitrage(c, s, sold))
        px = met if selling.all() else np.where(selling[:, None], met, px)
    if units.any():
        impact, _ = sale_impact(c, s.supply, s.sold_reference_usd, units, b.liquidity, unwrap, sold=False)
        P = P * np.exp(-impact)
    return apply_pool_prices(c, P, px, c.pool_ref[None])
