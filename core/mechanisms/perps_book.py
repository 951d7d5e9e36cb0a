r"""A perpetuals book across venues and markets: margin, liquidation and the loss waterfall.

:mod:`core.mechanisms.perps` settles one market of one venue. A cascade needs
every venue's whole book at once, for a batch of scenarios: many markets,
isolated and cross-margined accounts, and each venue's own rule for a loss
its liquidations leave. This module does that in arrays of shape
``(scenarios, positions)`` with no loop over positions or venues.

The book
--------
Positions, margin accounts (isolated and cross) and the maintenance test
:math:`E_g < MM_g` that liquidates a whole account are
:mod:`core.mechanisms.perps_margin` (its names are re-exported here). A
liquidated account's positions close at the fill
:math:`P^f_j = P_{k_j}(1 - \sigma_j s)` with the venue's slippage *s*. A
negative equity at the fill is the account's *deficit*
:math:`D_g = (-E^f_g)^+`; a positive one is left-over margin, the venue's.

The waterfall, per venue and scenario
-------------------------------------
1. **Backstop vault** (``rule = "backstop_vault"``, Hyperliquid's HLP and its
   liquidator vault): the vault takes liquidated positions over first; it
   keeps their left-over margin and pays their deficits, up to its equity.
   Its profit or loss is its depositors'.
2. **Insurance fund**: pays what is left of the deficit (on other venues it also
   receives the left-over margin, BitMEX's and Binance's rule), never below 0.
3. **Auto-deleveraging** (``"adl"``, and after the vault under
   ``"backstop_vault"``): what remains is taken from positions on the
   *opposite side of the same market* of the same venue (Hyperliquid: "no
   cross-asset ADL", October 2025), in the queue order of the ADL score
   (:func:`~core.mechanisms.perps.adl_score`: :math:`\text{PnL\%} \times
   \text{effective leverage}` for profitable positions, loss-making ones after
   them). The counterparties are closed at the bankrupt position's bankruptcy
   price (Binance, "What Is Auto-Deleveraging (ADL) and How Does It Work";
   BitMEX, "Auto-Deleveraging examples"), which can cost them more than their
   unrealised profit; modelled as a USD transfer in two tiers: first every
   position's unrealised profit, in queue order (closing it); then, only once
   the side's whole profit is taken, its margin, again in queue order: a
   position's equity beyond its profit, :math:`M_j + \min(G_j, 0)` (closed in
   the share of that equity taken, with the same share of its margin), never
   more than what its margin account has left (an ADL'd account is closed, not
   made to owe). A market's share of the venue's residual is its share of the
   venue's deficit. The venue is left short only when the opposite side's whole
   equity cannot cover it (Hyperliquid docs, "Auto-deleveraging": ADL is meant
   to leave the platform with no bad debt).
   **Socialised loss** (``"socialised"``): every profitable position of the
   venue keeps :math:`1 - h` of its profit, :math:`h = \min(1, R / \sum
   \text{profits})`.
4. What no one could cover is the venue's **uncovered** loss; it reaches the
   venue's creditors through clearing.

Conservation (tested as a property): per venue and scenario,
``deficit = backstop + insurance + adl + socialised + uncovered``; no position
gives up more than its margin plus its unrealised profit (ADL takes profit
first in queue order, then margin; a socialised haircut only profit); a loss
is uncovered only when the fund, the vault and every eligible position's
equity are exhausted.

Sources
-------
* BitMEX, "Auto-Deleveraging examples" (ranking, transfer at bankruptcy price).
* Binance, "What Is Auto-Deleveraging (ADL) and How Does It Work" (the queue: profit % x effective
  leverage for profitable positions, loss-making ones last; closed at the bankrupt order's bankruptcy price).
* Hyperliquid docs, "Liquidations" (cross and isolated margin, the liquidator
  vault within HLP as backstop) and "Auto-deleveraging" (per-asset ADL).
* Binance, "Introduction to futures insurance funds" (left-over margin to the fund).
* October 2025 ADL data: ConejoCapital/HyperMultiAssetedADL (COMPLETE_METHODOLOGY.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.mechanisms._checks import checking
from core.mechanisms.perps import adl_score
from core.mechanisms.perps_margin import Book, _below_maintenance, _per, book, liquidated_positions
from core.mechanisms.cohort_spread import collateral_share_below
from core.mechanisms.perps_spread import deficit_and_left_over, share_past_maintenance

__all__ = ["RULES", "Book", "BookSettlement", "book", "liquidated_positions", "settle_book"]

#: A venue's rule for the loss its liquidations leave, in the order of the codes ``rule`` takes.
RULES = ("adl", "socialised", "backstop_vault")
_ADL, _SOCIALISED, _VAULT = range(3)

@dataclass(frozen=True)
class BookSettlement:
    """One round of a book's liquidations and waterfall. Per position ``(S, N)``; per venue ``(S, V)``.

    Attributes
    ----------
    liquidated : bool (S, N)
        Positions liquidated in whole or (a bucket of accounts, :mod:`core.mechanisms.perps_spread`) in part.
    liquidated_share : (S, N)
        The share of each position's size liquidated: 1 or 0 for one account, a bucket's share past maintenance.
    deficit : (S, N)
        Each liquidated position's share of its account's loss beyond margin (USD).
    left_over : (S, N)
        Margin left at the fill, kept by the vault or the fund (USD).
    adl : (S, N)
        What auto-deleveraging took from each position (USD): its profit, then (``adl_margin``) its margin.
    adl_margin : (S, N)
        The part of ``adl`` taken beyond the position's profit, out of its margin (USD).
    adl_margin_share : (S, N)
        The share of each position's equity beyond its profit that ``adl_margin`` is: the share of its size
        (what is left after its profit was taken) and of its margin that ADL closes.
    socialised : (S, N)
        Profit taken from each position by a socialised-loss haircut (USD).
    liquidated_usd, deficit_usd, backstop_usd, insurance_draw_usd, adl_usd, socialised_usd, uncovered_usd : (S, V)
        The venue's totals: notional closed at the fill, and the waterfall
        (``deficit = backstop + insurance_draw + adl + socialised + uncovered``).
    insurance_after, backstop_after : (S, V)
        Fund and vault after the round (the vault's change is its depositors' profit or loss).

    Examples
    --------
    >>> bk = book([0, 0, 0], [0, 0, 0], [10.0, -5.0, -5.0], [100.0, 100.0, 110.0], [100.0, 100.0, 55.0])
    >>> r = settle_book(bk, np.array([85.0]), insurance_fund=10.0, backstop=30.0, rule=2)
    >>> float(r.deficit_usd[0, 0]), float(r.backstop_usd[0, 0]), r.adl[0].tolist()
    (50.0, 30.0, [0.0, 0.0, 10.0])
    """

    liquidated: np.ndarray
    liquidated_share: np.ndarray
    deficit: np.ndarray
    left_over: np.ndarray
    adl: np.ndarray
    socialised: np.ndarray
    liquidated_usd: np.ndarray
    deficit_usd: np.ndarray
    backstop_usd: np.ndarray
    insurance_draw_usd: np.ndarray
    adl_usd: np.ndarray
    socialised_usd: np.ndarray
    uncovered_usd: np.ndarray
    insurance_after: np.ndarray
    backstop_after: np.ndarray
    adl_margin: np.ndarray
    adl_margin_share: np.ndarray


def _take_in_rank_order(needed: np.ndarray, capacity: np.ndarray, b: Book, marks_at: np.ndarray,
                        size: np.ndarray, margin: np.ndarray) -> np.ndarray:
    """Allocate ``needed`` (S, n_segments) over the positions (S, N) of each segment, highest
    ADL score first (ties: the earlier row), each up to its ``capacity``.

    Only the (scenario, position) pairs that can give and are asked to are ranked: one sort
    of those pairs by (scenario, segment, -score), then a running total within each group.
    """
    out = np.zeros_like(capacity)
    s_idx, j_idx = np.nonzero((capacity > 0) & (needed[:, b.segment] > 0))
    if not len(s_idx):
        return out
    def at(x: np.ndarray) -> np.ndarray:
        return x[s_idx, j_idx] if x.ndim == 2 else x[j_idx]

    score = adl_score(at(size), b.entry[j_idx], at(margin), marks_at[s_idx, j_idx])
    group = s_idx * b.n_segments + b.segment[j_idx]
    order = np.lexsort((j_idx, -score, group))
    s_idx, j_idx, group = s_idx[order], j_idx[order], group[order]
    segment = b.segment[j_idx]
    cap = capacity[s_idx, j_idx]
    # capacity ranked ahead within the group (a grouped running total: no cancellation across groups)
    ahead = pd.Series(cap).groupby(group, sort=False).cumsum().to_numpy() - cap
    out[s_idx, j_idx] = np.clip(needed[s_idx, segment] - ahead, 0.0, cap)
    return out


def _adl_from_margin(b: Book, needed: np.ndarray, profit: np.ndarray, beyond_profit: np.ndarray,
                     from_profit: np.ndarray, equity: np.ndarray, marks_at: np.ndarray, size: np.ndarray,
                     margin: np.ndarray) -> np.ndarray:
    """ADL's second tier, (S, N): where a segment's whole profit does not cover what it is asked, the rest
    from its positions' equity beyond their profit (``beyond_profit``), in queue order.

    A cross-margin account gives up no more than its equity left after the first tier, shared over its rows in
    passes (below): an ADL'd account is closed, not made to owe.
    """
    profit_by_segment = _per(profit, b.in_segment)
    rest = np.where(needed > profit_by_segment, needed - profit_by_segment, 0.0)
    if not (rest > 0).any():
        return np.zeros_like(profit)
    capacity = np.where(rest[:, b.segment] > 0, beyond_profit, 0.0)
    if not (b.account_rows > 1).any():
        return _take_in_rank_order(rest, capacity, b, marks_at, size, margin)
    # A cross account's equity left after its profit was taken is a budget its rows share: each pass shares
    # what is left of it over its rows' capacity in the segments still short, pro rata, and the queue takes
    # from that. (One pass left budget unused where a row's share exceeded what its segment asked while
    # another row's segment stayed short: $0.44 uncovered beside $1.39 of an account's equity. A one-row
    # account, a bucket included, has its capacity already: a bucket's liquidated accounts' negative equity
    # is the venue's deficit, not the remaining accounts'.)
    multi = (b.account_rows > 1)[None]
    budget = np.maximum(_per(equity - from_profit, b.in_account), 0.0)
    taken = np.zeros_like(profit)
    for _ in range(_ADL_PASSES):
        short = rest - _per(taken, b.in_segment)
        room = np.where(short[:, b.segment] > 1e-12 * np.maximum(rest[:, b.segment], 1.0), capacity - taken, 0.0)
        room_by_account = _per(room, b.in_account)
        budget_left = np.maximum(budget - _per(taken, b.in_account), 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where((room_by_account > budget_left) & multi,
                             budget_left / np.where(room_by_account > 0, room_by_account, 1.0), 1.0)
        step = _take_in_rank_order(np.maximum(short, 0.0), room * scale[:, b.account], b, marks_at, size, margin)
        taken = taken + step
        if not (step > 0).any():
            break
    return taken


#: Passes of the margin tier's sharing of a cross account's equity (each shares what the last left unused).
_ADL_PASSES = 8


def settle_book(b: Book, marks: np.ndarray, *, slippage: np.ndarray | float = 0.0,
                insurance_fund: np.ndarray | float = 0.0, backstop: np.ndarray | float = 0.0,
                rule: np.ndarray | int = _ADL, size: np.ndarray | None = None,
                margin: np.ndarray | None = None, spread: np.ndarray | None = None) -> BookSettlement:
    """Liquidate the book at ``marks`` and run each venue's waterfall.

    Parameters
    ----------
    b : Book
    marks : (S, K) or (K,)
        Each venue's mark price of each market (a venue-specific mark, e.g. its own
        order book, is a column of its own).
    slippage : float or (S, V)
        Fill discount of liquidation orders at each venue (grows as market makers withdraw).
    insurance_fund, backstop : float or (S, V)
        Fund and backstop-vault equity before the round (USD).
    rule : int or (V,) or (S, V)
        Codes into :data:`RULES`.
    size, margin : (S, N) or (N,), optional
        The positions as they stand in each scenario, in place of the book's (a cascade
        closes positions and revalues collateral scenario by scenario): a size keeps its
        row's side or is 0 (closed); accounts and segments stay as indexed.
    spread : (S, N) or (N,), optional
        Each row's accounts' margin spread (:mod:`core.mechanisms.perps_spread`): a row with spread > 0 is a
        bucket of isolated accounts, liquidated in the share past maintenance, its deficit and left-over
        margin those of that share; 0 (the default) is one account.

    Examples
    --------
    One venue with an HLP-like vault of 30: a 10x long (10 @ 100, margin 100) marked at 85
    leaves a deficit of 50; the vault pays 30, the fund (10) pays 10, and ADL takes 10 from
    the most profitable short by score:

    >>> bk = book([0, 0, 0], [0, 0, 0], [10.0, -5.0, -5.0], [100.0, 100.0, 110.0], [100.0, 100.0, 55.0])
    >>> r = settle_book(bk, np.array([85.0]), insurance_fund=10.0, backstop=30.0, rule=2)
    >>> [float(x[0, 0]) for x in (r.deficit_usd, r.backstop_usd, r.insurance_draw_usd, r.adl_usd, r.uncovered_usd)]
    [50.0, 30.0, 10.0, 10.0, 0.0]
    >>> r.adl[0].tolist()
    [0.0, 0.0, 10.0]
    """
    marks = np.atleast_2d(np.asarray(marks, dtype=float))
    S, V = marks.shape[0], b.n_venues
    if checking() and (marks.shape[1] < b.n_markets or not np.isfinite(marks).all() or (marks <= 0).any()):
        raise ValueError(f"marks must be finite, > 0, with a column per market ({b.n_markets})")

    def per_venue(x) -> np.ndarray:
        return np.broadcast_to(np.asarray(x, dtype=float), (S, V))

    slip = per_venue(slippage)
    fund = per_venue(insurance_fund)
    vault = per_venue(backstop)
    rules = np.broadcast_to(np.asarray(rule, dtype=np.int64), (S, V))
    if checking() and (((slip < 0) | (slip >= 1)).any() or (fund < 0).any() or (vault < 0).any()
                       or not np.isin(rules, (_ADL, _SOCIALISED, _VAULT)).all()):
        raise ValueError("slippage in [0, 1), funds >= 0, rule codes in 0..2")

    N = len(b.size)
    # as indexed, (N,) (broadcast against the scenarios), or as given, (S, N)
    q = b.size if size is None else np.broadcast_to(np.asarray(size, dtype=float), (S, N))
    M = b.margin if margin is None else np.broadcast_to(np.asarray(margin, dtype=float), (S, N))
    P0 = b.entry
    if checking() and (size is not None or margin is not None):
        if not np.isfinite(q).all() or ((q != 0) & (np.sign(q) != np.sign(b.size))).any():
            raise ValueError("size must be finite and keep each row's side (or be 0)")
        if not np.isfinite(M).all() or (M < 0).any():
            raise ValueError("margin must be finite and >= 0")
    side = np.sign(q)
    P = marks[:, b.market]                                  # (S, N)
    pnl = q * (P - P0)
    liquidated_account, liquidated = _below_maintenance(b, q, M, P, pnl, size is None)
    fill = P * (1.0 - side * slip[:, b.venue])
    pnl_fill = q * (fill - P0)
    equity_fill = _per(M + pnl_fill, b.in_account)
    account_deficit = np.where(liquidated_account, np.maximum(-equity_fill, 0.0), 0.0)
    account_left = np.where(liquidated_account, np.maximum(equity_fill, 0.0), 0.0)
    # An account's deficit and left-over margin, spread over its positions by their losses at the fill
    # (by margin for the left-over); an isolated position carries its own.
    loss_fill = np.maximum(-pnl_fill, 0.0)
    loss_total = _per(loss_fill, b.in_account)[:, b.account]
    count = b.account_rows[b.account] if size is None else np.maximum(_per((q != 0).astype(float), b.in_account)[:, b.account], 1.0)
    loss_share = np.where(loss_total > 0, loss_fill / np.where(loss_total > 0, loss_total, 1.0), 1.0 / count)
    # (with sizes given, the left-over margin is spread over the open rows: a closed row's collateral is the account's)
    M_share = M if size is None else np.where(q != 0, M, 0.0)
    margin_total = b.account_margin[b.account] if (size is None and margin is None) else _per(M_share, b.in_account)[:, b.account]
    margin_share = np.where(margin_total > 0, M_share / np.where(margin_total > 0, margin_total, 1.0), 1.0 / count)
    deficit = np.where(liquidated, account_deficit[:, b.account] * loss_share, 0.0)
    left_over = np.where(liquidated, account_left[:, b.account] * margin_share, 0.0)
    liquidated_share = liquidated.astype(float)
    closed_usd = np.where(liquidated, np.abs(q) * fill, 0.0)
    winner = ~liquidated & (pnl > 0)
    profit = np.where(winner, pnl, 0.0)
    # what ADL can take beyond a position's profit: its equity beyond the profit, M + min(G, 0), of an open position
    beyond_profit = np.where(liquidated | (q == 0), 0.0, np.maximum(M + np.minimum(pnl, 0.0), 0.0))
    bucket = None if spread is None else np.broadcast_to(np.asarray(spread, dtype=float), (S, N))
    if bucket is not None and (bucket > 0).any():
        # buckets of isolated accounts: the share past maintenance, its deficits and left-over margin
        w = bucket
        bucket = w > 0
        part = share_past_maintenance(M, b.maintenance * np.abs(q) * P, pnl, w)
        part_deficit, part_left = deficit_and_left_over(M, pnl_fill, part, w)
        liquidated_share = np.where(bucket, part, liquidated_share)
        liquidated = np.where(bucket, part > 0, liquidated)
        deficit = np.where(bucket, part_deficit, deficit)
        left_over = np.where(bucket, part_left, left_over)
        closed_usd = np.where(bucket, part * np.abs(q) * fill, closed_usd)
        profit = np.where(bucket, np.where(pnl > 0, (1.0 - part) * pnl, 0.0), profit)
        # the accounts left hold the margin the liquidated ones did not, and (1 - part) of the PnL
        left = M * (1.0 - collateral_share_below(part, w)) + (1.0 - part) * np.minimum(pnl, 0.0)
        beyond_profit = np.where(bucket, np.where(q != 0, np.maximum(left, 0.0), 0.0), beyond_profit)

    deficit_v = _per(deficit, b.in_venue)
    left_v = _per(left_over, b.in_venue)
    liquidated_usd = _per(closed_usd, b.in_venue)
    is_vault = rules == _VAULT
    backstop_usd = np.where(is_vault, np.minimum(deficit_v, vault + left_v), 0.0)
    fund_available = fund + np.where(is_vault, 0.0, left_v)
    insurance_draw = np.minimum(deficit_v - backstop_usd, fund_available)
    residual = np.maximum(deficit_v - backstop_usd - insurance_draw, 0.0)

    # ADL: a market-side's share of the venue's residual is its share of the venue's deficit.
    by_segment = _per(deficit, b.in_segment)
    seg_venue = b.segment_venue
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(deficit_v[:, seg_venue] > 0, by_segment / deficit_v[:, seg_venue], 0.0)
    deleverage = rules[:, seg_venue] != _SOCIALISED
    owed_by_segment = np.where(deleverage, residual[:, seg_venue] * share, 0.0)
    needed = np.zeros_like(owed_by_segment)
    has_other = b.opposite >= 0
    needed[:, b.opposite[has_other]] = owed_by_segment[:, has_other]
    adl = _take_in_rank_order(needed, profit, b, P, q, M)
    adl_margin = _adl_from_margin(b, needed, profit, beyond_profit, adl, M + pnl, P, q, M)
    adl = adl + adl_margin
    with np.errstate(divide="ignore", invalid="ignore"):
        adl_margin_share = np.where(adl_margin > 0, np.minimum(adl_margin / np.where(beyond_profit > 0, beyond_profit, 1.0), 1.0), 0.0)
    adl_v = _per(adl, b.in_venue)
    # Socialised loss: one haircut on every profit of the venue.
    profit_v = _per(profit, b.in_venue)
    socialise = rules == _SOCIALISED
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # masked out: haircut <= 1
        haircut = np.where(socialise & (profit_v > 0), np.minimum(1.0, residual / np.where(profit_v > 0, profit_v, 1.0)), 0.0)
    socialised = haircut[:, b.venue] * profit
    socialised_v = _per(socialised, b.in_venue)
    uncovered = np.maximum(residual - adl_v - socialised_v, 0.0)
    return BookSettlement(
        liquidated=liquidated, liquidated_share=liquidated_share, deficit=deficit, left_over=left_over, adl=adl, socialised=socialised,
        liquidated_usd=liquidated_usd, deficit_usd=deficit_v, backstop_usd=backstop_usd,
        insurance_draw_usd=insurance_draw, adl_usd=adl_v, socialised_usd=socialised_v, uncovered_usd=uncovered,
        insurance_after=fund_available - insurance_draw,
        backstop_after=np.where(is_vault, vault + left_v - backstop_usd, vault), adl_margin=adl_margin,
        adl_margin_share=adl_margin_share,
    )
