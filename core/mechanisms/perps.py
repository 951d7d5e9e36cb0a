r"""Perpetual futures: margin, liquidation, insurance fund, ADL and socialised loss.

Linear (USD-margined) contract, isolated margin (research notes §5.8)
---------------------------------------------------------------------
Entry :math:`P_0`, leverage :math:`\Lambda`, maintenance-margin rate *m*,
side :math:`\sigma=+1` long / :math:`-1` short:

.. math::

    P_{bk} = P_0 (1 - \sigma/\Lambda), \qquad
    P_{liq} = P_0 \frac{1 - \sigma/\Lambda}{1 - \sigma m}.

(20x, m = 0.5 %, :math:`P_0=100`: long liquidated at 95.48, bankrupt at 95.00;
50x: 98.49 / 98.00.) A position of signed size *q* with margin *M* has equity
:math:`E = M + q(P - P_0)` at mark *P* and is liquidated when
:math:`E < m|q|P`. A row may also be a cross-margin account holding one net
position (margin = account collateral).

Waterfall (BitMEX, Binance insurance fund docs)
-----------------------------------------------
1. Liquidated positions are closed at the fill price
   :math:`P_f = P(1 - \sigma s)` (slippage *s*). The trader's margin is gone;
   remaining equity :math:`(E_f)^+` goes to the insurance fund (IF), the loss
   beyond margin :math:`(-E_f)^+` is the *deficit*.
2. The IF (plus this round's contributions) pays the deficit while it lasts;
   it never goes negative.
3. The rest is socialised:

   * ``mode="adl"`` (auto-deleveraging): the residual of bankrupt longs
     is taken from non-liquidated shorts and vice versa, in the queue order of
     the ranking :math:`\text{PnL\%}\times\text{effective leverage}`
     (:math:`\text{PnL\%}/\text{eff. lev.}` for losers, so they come last),
     with :math:`\text{eff. lev.} = |qP| / E`. The counterparties are closed
     at the bankrupt order's bankruptcy price, which can cost them more than
     their profit; modelled as a USD transfer in two tiers: every unrealised
     profit first, in queue order, then, once the side's whole profit is
     taken, each position's equity beyond its profit,
     :math:`M + \min(q(P - P_0), 0)`, in queue order. No position gives up
     more than its margin plus its unrealised profit.
   * ``mode="socialised"`` (pre-2015 clawback): every winner keeps
     :math:`(1-h)` of its profit, :math:`h = \min(1, L / \sum \text{profits})`.

Conservation: ``sum(deficit) = insurance_fund_draw + sum(adl_amount) +
sum(haircut_amount) + uncovered_loss``; a loss is only uncovered when every
eligible profit (and, under ADL, every opposite position's margin) has been
taken.

References
----------
* BitMEX, "Auto-Deleveraging examples",
  https://www.bitmex.com/app/autoDeleveragingExamples ; BitMEX insurance fund blog.
* Binance, "Introduction to futures insurance funds"; Binance, "What Is
  Auto-Deleveraging (ADL) and How Does It Work" (closed at the bankruptcy
  price, profitable positions ranked by profit % x effective leverage,
  loss-making ones last); Hyperliquid docs "Auto-deleveraging".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.mechanisms._checks import as_float_array as _arr

__all__ = ["PerpSettlement", "liquidation_price", "bankruptcy_price", "adl_score", "settle_liquidations"]


def _side(side):
    s = np.asarray(side)
    if s.dtype.kind in "US":
        s = np.where(s == "long", 1.0, np.where(s == "short", -1.0, np.nan))
    s = np.asarray(s, dtype=float)
    if np.isnan(s).any() or not np.all(np.isin(s, (-1.0, 1.0))):
        raise ValueError("side must be +1/'long' or -1/'short'")
    return s


def bankruptcy_price(entry, leverage, side):
    """Price at which the position's margin is exhausted: ``entry * (1 - side/leverage)``.

    Examples
    --------
    >>> float(bankruptcy_price(100.0, 20.0, 1)), float(bankruptcy_price(100.0, 20.0, "short"))
    (95.0, 105.0)
    """
    P0 = _arr(entry, "entry", positive=True)
    L = _arr(leverage, "leverage", positive=True)
    return P0 * (1.0 - _side(side) / L)


def liquidation_price(entry, leverage, side, maintenance_margin=0.005):
    """Mark price at which equity equals maintenance margin (linear, isolated).

    ``entry * (1 - side/leverage) / (1 - side * maintenance_margin)``.

    Examples
    --------
    >>> round(float(liquidation_price(100.0, 20.0, 1)), 2), round(float(liquidation_price(100.0, 50.0, 1)), 2)
    (95.48, 98.49)
    """
    P0 = _arr(entry, "entry", positive=True)
    L = _arr(leverage, "leverage", positive=True)
    m = _arr(maintenance_margin, "maintenance_margin", nonneg=True)
    if np.any(m >= 1):
        raise ValueError("maintenance_margin must be < 1")
    s = _side(side)
    return P0 * (1.0 - s / L) / (1.0 - s * m)


def adl_score(size, entry_price, margin, mark_price):
    """BitMEX ADL ranking: ``PnL% * eff_lev`` if PnL% > 0 else ``PnL% / eff_lev``.

    ``PnL% = side * (mark - entry) / entry``, ``eff_lev = |size * mark| / equity``
    (``inf`` when equity <= 0). Flat positions score ``-inf``.

    The score depends on a position's size only through its margin per unit, so it is computed per unit held:
    ``eff_lev = mark / e`` with ``e = margin / |size| + side * (mark - entry)``, the equity per unit. Two positions
    that differ only in scale (a named account's 4x hedge and a bucket of anonymous 4x accounts at the same entry)
    then score the same to the bit, and the queue's tie rule decides between them
    (:func:`core.mechanisms.perps_book.settle_book`: the earlier row). Computed from the totals, ``|size * mark| /
    (margin + size * (mark - entry))`` rounds differently at each scale, and the order of such a pair followed the
    last bit of the mark (docs/invariants.md, session 28 (t25o)).

    Examples
    --------
    >>> round(float(adl_score(-5.0, 110.0, 55.0, 90.0)), 4)
    0.5279

    A 4x short of 200M units and one of 1.95bn, both from 1.0, at a mark of 0.5284575322144102: the same score
    (from the totals the larger scored one unit in the last place higher).

    >>> float(adl_score(-2e8, 1.0, 5e7, 0.5284575322144102)) == float(adl_score(-1.95e9, 1.0, 4.875e8, 0.5284575322144102))
    True
    """
    q = _arr(size, "size")
    P0 = _arr(entry_price, "entry_price", positive=True)
    M = _arr(margin, "margin", nonneg=True)
    P = _arr(mark_price, "mark_price", positive=True)
    pnl_pct = np.sign(q) * (P - P0) / P0
    with np.errstate(divide="ignore", invalid="ignore"):
        e = M / np.abs(q) + np.sign(q) * (P - P0)  # equity per unit held (flat positions: masked below)
        lev = np.where(e > 0, P / np.where(e > 0, e, 1.0), np.inf)
        score = np.where(pnl_pct > 0, pnl_pct * lev, pnl_pct / lev)
    return np.where(q == 0, -np.inf, score)


@dataclass(frozen=True)
class PerpSettlement:
    """Outcome of one liquidation round. Account axis last; ``(S,)`` fields per scenario.

    Attributes
    ----------
    liquidated : ndarray of bool, (..., n)
    equity : ndarray, (..., n)
        Equity at the mark before liquidation (USD).
    deficit : ndarray, (..., n)
        Trader loss beyond margin at the fill price (USD).
    fund_contribution : ndarray, (..., n)
        Leftover margin of liquidated positions paid into the fund (USD).
    insurance_fund_draw, insurance_fund_after : ndarray, (...)
    adl_amount : ndarray, (..., n)
        What ADL took from each account (USD): its profit first, then its margin.
    adl_score : ndarray, (..., n)
    haircut_rate : ndarray, (...)
        Socialised-loss haircut h on profits.
    haircut_amount : ndarray, (..., n)
    uncovered_loss : ndarray, (...)
        Deficit no mechanism could cover (USD).

    Examples
    --------
    >>> r = settle_liquidations([10.0, -5.0, -5.0], [100.0, 100.0, 110.0], [100.0, 100.0, 55.0], 85.0, insurance_fund=20.0)
    >>> float(r.insurance_fund_draw), r.adl_amount.tolist()
    (20.0, [0.0, 0.0, 30.0])
    """

    liquidated: np.ndarray
    equity: np.ndarray
    deficit: np.ndarray
    fund_contribution: np.ndarray
    insurance_fund_draw: np.ndarray
    insurance_fund_after: np.ndarray
    adl_amount: np.ndarray
    adl_score: np.ndarray
    haircut_rate: np.ndarray
    haircut_amount: np.ndarray
    uncovered_loss: np.ndarray


def _take_in_order(amount, capacity, key):
    """Allocate ``amount`` (...,) over accounts by descending ``key``, each up to ``capacity``."""
    order = np.argsort(-key, axis=-1, kind="stable")
    cap_sorted = np.take_along_axis(capacity, order, axis=-1)
    before = np.cumsum(cap_sorted, axis=-1) - cap_sorted
    alloc_sorted = np.clip(amount[..., None] - before, 0.0, cap_sorted)
    out = np.empty_like(alloc_sorted)
    np.put_along_axis(out, order, alloc_sorted, axis=-1)
    return out


def settle_liquidations(
    size, entry_price, margin, mark_price, maintenance_margin=0.005, insurance_fund=0.0,
    *, fill_price=None, liquidation_slippage=0.0, mode="adl", surplus_to_fund=True,
):
    """Liquidate under-margined positions and run the IF → ADL / socialised-loss waterfall.

    Parameters
    ----------
    size : array_like, shape (n,) or (S, n)
        Signed position size (base units; + long, - short).
    entry_price : array_like
        Average entry price (USD, > 0), broadcast to ``size``.
    margin : array_like
        Isolated margin / account collateral (USD, >= 0).
    mark_price : array_like
        Mark price, broadcastable to ``size`` (e.g. shape (S, 1)).
    maintenance_margin : float, default 0.005
    insurance_fund : float or array_like (S,), default 0.0
        Fund balance before the round (USD, >= 0).
    fill_price : array_like, optional
        Execution price of the liquidation orders; default
        ``mark * (1 - side * liquidation_slippage)``.
    liquidation_slippage : float, default 0.0
    mode : {"adl", "socialised"}
    surplus_to_fund : bool, default True
        Leftover margin of liquidated positions goes to the fund (BitMEX).

    Returns
    -------
    PerpSettlement

    Examples
    --------
    A 10x long (10 @ 100, margin 100) marked at 85 loses 50 beyond margin;
    the fund pays 20 and ADL takes 30 from the top-ranked profitable short:

    >>> r = settle_liquidations([10.0, -5.0, -5.0], [100.0, 100.0, 110.0],
    ...                         [100.0, 100.0, 55.0], 85.0, insurance_fund=20.0)
    >>> float(r.insurance_fund_draw), r.adl_amount.tolist()
    (20.0, [0.0, 0.0, 30.0])
    """
    q = _arr(size, "size")
    P0 = _arr(entry_price, "entry_price", positive=True)
    M = _arr(margin, "margin", nonneg=True)
    P = _arr(mark_price, "mark_price", positive=True)
    m = _arr(maintenance_margin, "maintenance_margin", nonneg=True)
    F = _arr(insurance_fund, "insurance_fund", nonneg=True)
    slip = _arr(liquidation_slippage, "liquidation_slippage", nonneg=True)
    if mode not in ("adl", "socialised"):
        raise ValueError("mode must be 'adl' or 'socialised'")
    q, P0, M, P = np.broadcast_arrays(q, P0, M, P)
    if q.ndim == 0:
        q, P0, M, P = (a[None] for a in (q, P0, M, P))
    side = np.sign(q)
    E = M + q * (P - P0)
    liq = (q != 0) & (E < m * np.abs(q) * P)
    Pf = P * (1.0 - side * slip) if fill_price is None else np.broadcast_to(_arr(fill_price, "fill_price", positive=True), q.shape)
    Ef = M + q * (Pf - P0)
    deficit = np.where(liq, np.maximum(-Ef, 0.0), 0.0)
    contrib = np.where(liq & surplus_to_fund, np.maximum(Ef, 0.0), 0.0)
    total_def = deficit.sum(axis=-1)
    avail = F + contrib.sum(axis=-1)
    draw = np.minimum(total_def, avail)
    fund_after = avail - draw
    resid = total_def - draw

    upnl = q * (P - P0)
    winner = ~liq & (upnl > 0)
    profit = np.where(winner, upnl, 0.0)
    score = adl_score(q, P0, M, P)
    adl = np.zeros_like(q)
    hair = np.zeros_like(q)
    h = np.zeros_like(resid)
    if mode == "adl":
        with np.errstate(divide="ignore", invalid="ignore"):
            share_long = np.where(total_def > 0, np.where(liq & (side > 0), deficit, 0.0).sum(axis=-1) / np.where(total_def > 0, total_def, 1.0), 0.0)
        # each account's equity beyond its profit, the second tier's capacity
        beyond = np.where(liq | (q == 0), 0.0, np.maximum(M + np.minimum(upnl, 0.0), 0.0))
        for bankrupt_side, amount in ((1.0, resid * share_long), (-1.0, resid * (1.0 - share_long))):
            opposite = side == -bankrupt_side
            elig = winner & opposite
            capacity = np.where(elig, profit, 0.0)
            adl = adl + _take_in_order(amount, capacity, np.where(elig, score, -np.inf))
            side_profit = capacity.sum(axis=-1)
            rest = np.where(amount > side_profit, amount - side_profit, 0.0)
            adl = adl + _take_in_order(rest, np.where(opposite, beyond, 0.0), np.where(opposite, score, -np.inf))
    else:
        tot = profit.sum(axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            h = np.where(tot > 0, np.minimum(1.0, resid / np.where(tot > 0, tot, 1.0)), 0.0)
        hair = h[..., None] * profit
    uncovered = np.maximum(resid - adl.sum(axis=-1) - hair.sum(axis=-1), 0.0)
    return PerpSettlement(
        liquidated=liq, equity=E, deficit=deficit, fund_contribution=contrib,
        insurance_fund_draw=draw, insurance_fund_after=fund_after, adl_amount=adl,
        adl_score=score, haircut_rate=h, haircut_amount=hair, uncovered_loss=uncovered,
    )
