r"""Maker Liquidations 2.0: the Dog starts auctions, the Clipper sells by falling price.

Unsafe test (``dog.sol`` ``bark``, ``spot.sol`` ``poke``)
--------------------------------------------------------
.. math::

    \text{spot} = \frac{\text{price}}{\text{par}\cdot\text{mat}}, \qquad
    \text{unsafe} \iff \text{ink}\cdot\text{spot} < \text{art}\cdot\text{rate}.

``par`` is DAI's *target* price (1 USD), not its market price: a DAI premium or
discount never makes a vault unsafe.

Bark limits (``dog.sol``)
-------------------------
DAI being auctioned at once is capped per collateral type (``ilk.hole``,
counted in ``ilk.dirt``) and globally (``Hole``, counted in ``Dirt``). A vault
with debt ``art*rate`` is barked for

.. math::

    \text{room} = \min(\text{Hole}-\text{Dirt},\ \text{hole}-\text{dirt}),\quad
    \text{dart} = \min\!\left(\text{art},\ \frac{\text{room}}{\text{rate}\cdot\text{chop}}\right),\quad
    \text{tab} = \text{dart}\cdot\text{rate}\cdot\text{chop},

with the dust rule: if the leftover debt ``(art-dart)*rate < dust`` the whole
vault goes (the limit is overshot by at most ``dust*chop``); if instead the
partial auction itself is dusty (``dart*rate < dust``) the bark reverts.
Collateral moves in proportion, ``dink = ink*dart/art``. ``chop`` (e.g. 1.13)
makes the tab exceed the debt: what the auction raises above the debt is the
liquidation penalty and is credited to the Vow (surplus buffer).

Vectorised over vaults in the order keepers bark them: per-ilk room is applied
as :math:`x_i = \Delta\min(\text{room}_k, \sum_{j\le i} t_j)` within each ilk,
then the global room the same way over all vaults. After a bark reverts as
dusty, later vaults bound by the same room wait for the next round. This is
exactly the contract whenever every vault owes at least twice the dust (as
cohorts do): the room left is then below one dust-sized auction, and no later
vault fits in it or leaves a dusty remnant. With smaller vaults the contract
could still bark a later one that fits (less than ``dust*chop`` per round).

Auction price (``abaci.sol``, ``clip.sol``)
------------------------------------------
``kick`` sets ``top = feed * buf`` (``feed`` the OSM price, one hour old) and
pays the keeper ``tip + chip*tab`` (``vat.suck`` from the Vow, so it adds to
the system's debt). The price then falls along a calculator, e.g.
``StairstepExponentialDecrease``:

.. math:: p(t) = \text{top}\cdot\text{cut}^{\lfloor t/\text{step}\rfloor} .

The auction needs a reset (``redo``, new ``top`` from the current feed) once
``t > tail`` or ``p/top < cusp``. ``take`` buys at the current price, never
collects more than ``tab``; when ``tab`` is raised the leftover lot goes back
to the vault owner; when the lot runs out first the rest of ``tab`` is never
collected (the Vow keeps the uncovered debt: bad debt).

Round model (keepers)
---------------------
Within a round of ``round_seconds``, keepers take an auction at the first
price at or below ``market_price*(1-keeper_margin)`` (their cost of selling the
collateral), if that comes before a reset; a reset within the round restarts
the curve from ``feed*buf`` once, whether keepers could not reach the first curve's price or took what their
DAI allowed and left the rest to pass ``cusp``/``tail`` (``redo`` needs no bid). Keepers bring at most ``keeper_capacity_usd``
of DAI per round, shared pro rata by the auctions they can take. The curve's
clock keeps running through the round whatever keepers could pay: an auction
keepers could not finish starts the next round lower on its curve, so scarce
keeper capital shows up as sales below the market price (until a reset).

Parameters as governance set them for ETH vaults in 2021 (MakerDAO forum,
"ETH and WBTC Vaults Liquidations 2.0 Parameters", t/7628, and "Adjusting
Auction Parameters for ETH vault types", t/8477): ``cut`` 0.99, ``step`` 90 s
(ETH-B 60 s), ``buf`` 1.20, ``cusp`` 0.40, ``tail`` 90 min (ETH-B), ``chip``
0.1 %, ``tip`` 300 DAI, ``chop`` 1.13, ``ilk.hole`` 15M DAI (ETH-B), ``Hole``
100M DAI.

References
----------
* MakerDAO ``dss``: ``src/dog.sol`` (``bark``, ``digs``), ``src/clip.sol``
  (``kick``, ``redo``, ``take``, ``status``), ``src/abaci.sol``
  (``LinearDecrease``, ``StairstepExponentialDecrease``, ``ExponentialDecrease``),
  ``src/spot.sol`` (``poke``: ``spot = val / par / mat``).
* https://docs.makerdao.com/smart-contract-modules/dog-and-clipper-detailed-documentation
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.mechanisms._checks import checking, as_amount_array as _arr

__all__ = [
    "BarkResult",
    "ClipRoundResult",
    "stairstep_exponential_price",
    "linear_decrease_price",
    "exponential_decrease_price",
    "is_unsafe",
    "bark",
    "keeper_incentive",
    "clip_round",
]


def stairstep_exponential_price(top, elapsed, step, cut):
    """``StairstepExponentialDecrease.price``: ``top * cut ** floor(elapsed / step)``.

    Examples
    --------
    A 1 % drop every 90 s: after 10 minutes, six drops.

    >>> round(float(stairstep_exponential_price(1200.0, 600.0, 90.0, 0.99)), 4)
    1129.7762
    """
    top, t = _arr(top, "top"), _arr(elapsed, "elapsed")
    step, cut = _arr(step, "step", positive=True), _arr(cut, "cut")
    if checking() and np.any(cut > 1):
        raise ValueError("cut must be <= 1 (cut_gt_RAY in abaci.sol)")
    return top * cut ** np.floor(t / step)


def linear_decrease_price(top, elapsed, tau):
    """``LinearDecrease.price``: ``top * (tau - elapsed) / tau``, 0 once ``elapsed >= tau``.

    Parameters
    ----------
    top : array_like
        Starting price of the auction (USD, >= 0).
    elapsed : array_like
        Seconds since the auction started (>= 0).
    tau : array_like
        Seconds until the price reaches 0 (> 0).

    Returns
    -------
    ndarray

    Raises
    ------
    ValueError
        On NaN, a negative argument or ``tau <= 0``.

    Examples
    --------
    >>> float(linear_decrease_price(1000.0, 100.0, 1000.0))  # abaci.t.sol: (1000 - 100)
    900.0
    """
    top, t, tau = _arr(top, "top"), _arr(elapsed, "elapsed"), _arr(tau, "tau", positive=True)
    return np.where(t >= tau, 0.0, top * (tau - t) / tau)


def exponential_decrease_price(top, elapsed, cut):
    """``ExponentialDecrease.price``: ``top * cut ** elapsed``.

    Parameters
    ----------
    top : array_like
        Starting price of the auction (USD, >= 0).
    elapsed : array_like
        Seconds since the auction started (>= 0).
    cut : array_like
        Per-second multiplicative decrease (>= 0; below 1 for a falling price).

    Returns
    -------
    ndarray

    Raises
    ------
    ValueError
        On NaN or a negative argument.

    Examples
    --------
    >>> round(float(exponential_decrease_price(1.0, 900.0, 0.999230132966)), 6)  # 15-min half life
    0.5
    """
    return _arr(top, "top") * _arr(cut, "cut") ** _arr(elapsed, "elapsed")


def is_unsafe(ink, price, mat, art, rate=1.0, par=1.0):
    """Dog's unsafe test ``ink * price / (par * mat) < art * rate``.

    Parameters
    ----------
    ink : array_like
        Collateral (units).
    price : array_like
        Oracle price (USD).
    mat : array_like
        Liquidation ratio (e.g. 1.45, > 0).
    art, rate : array_like
        Normalised debt and accumulated rate (``art*rate`` is the debt in DAI).
    par : array_like
        DAI target price (1), never its market price.

    Returns
    -------
    ndarray of bool

    Raises
    ------
    ValueError
        On NaN, a negative amount or ``mat``, ``par`` <= 0.

    Examples
    --------
    >>> is_unsafe([10.0, 10.0], 100.0, 1.45, [689.0, 690.0]).tolist()
    [False, True]
    """
    spot = _arr(price, "price") / (_arr(par, "par", positive=True) * _arr(mat, "mat", positive=True))
    return _arr(ink, "ink") * spot < _arr(art, "art") * _arr(rate, "rate")


@dataclass(frozen=True)
class BarkResult:
    """Barks of one round; vault axis last.

    Attributes
    ----------
    dart : normalised debt moved to auction (``art`` units)
    dink : collateral moved to auction (units)
    due : debt moved to the Vow (DAI, ``dart*rate``)
    tab : DAI target of each auction (``due*chop``)
    ilk_dirt : (..., n_ilks) ``ilk.dirt`` after the round
    dirt : (...) global ``Dirt`` after the round

    Examples
    --------
    >>> r = bark([0, 0, 0], [1e5] * 3, [10e6] * 3, [True] * 3, rate=[1.0], chop=[1.13],
    ...          dust=[5e3], hole=[15e6], ilk_dirt=[0.0], Hole=100e6, Dirt=0.0)
    >>> (r.tab / 1e6).round(3).tolist()
    [11.3, 3.7, 0.0]
    """

    dart: np.ndarray
    dink: np.ndarray
    due: np.ndarray
    tab: np.ndarray
    ilk_dirt: np.ndarray
    dirt: np.ndarray


def _capped_cumulative(amount, room):
    """Sequential take under one cap along the last axis: each takes ``min(amount, room - what went before)``.

    Written as the room left before each (``room - cumsum`` of the ones before it, one subtraction), not
    as differences of capped running sums: those lose a few ulps, enough to put a take that exactly fills
    the room a hair below the dust and revert it (``dog.sol`` compares ``room < dust`` exactly).
    """
    before = _exclusive_cumsum(amount)
    return np.clip(room[..., None] - before, 0.0, amount)


def _exclusive_cumsum(a):
    """Running sum of the elements before each one along the last axis (0 for the first)."""
    c = np.cumsum(a, axis=-1)
    return np.concatenate([np.zeros(c.shape[:-1] + (1,)), c[..., :-1]], axis=-1)


def _dust_rule(x, full, dust_tab):
    """dog.sol's partial-bark rule on tab amounts: dusty leftover -> whole vault; dusty partial -> revert."""
    partial = (x > 0) & (x < full)
    leftover_dusty = partial & (full - x < dust_tab)
    partial_dusty = partial & ~leftover_dusty & (x < dust_tab)
    return np.where(leftover_dusty, full, np.where(partial_dusty, 0.0, x)), partial_dusty


class _IlkSegments:
    """Vaults grouped by ilk (stable order): running sums within each ilk along the last axis, without
    a (scenario, vault, ilk) array."""

    def __init__(self, ilk: np.ndarray):
        self.order = np.argsort(ilk, kind="stable")
        self.ilk_sorted = ilk[self.order]
        first = np.r_[True, self.ilk_sorted[1:] != self.ilk_sorted[:-1]] if ilk.size else np.zeros(0, bool)
        self.starts = np.flatnonzero(first)
        self.segment = np.cumsum(first) - 1
        self.inverse = np.argsort(self.order, kind="stable")

    def cumsum(self, a: np.ndarray) -> np.ndarray:
        """Running sum within each ilk (``a`` in sorted order)."""
        c = np.cumsum(a, axis=-1)
        base = c[..., self.starts] - a[..., self.starts]
        return c - base[..., self.segment]

    def capped_increments(self, a: np.ndarray, cap: np.ndarray) -> np.ndarray:
        """``diff(min(cap, running sum))`` within each ilk: sequential takes under the ilk's room."""
        c = self.cumsum(a)
        prev = np.concatenate([np.zeros(c.shape[:-1] + (1,)), c[..., :-1]], axis=-1)
        prev[..., self.starts] = 0.0
        return np.clip(cap - prev, 0.0, a)  # the room left before each, one subtraction (see _capped_cumulative)

    def unsort(self, a: np.ndarray) -> np.ndarray:
        return a[..., self.inverse]

    def totals(self, a: np.ndarray, n_ilks: int) -> np.ndarray:
        """Sum per ilk (``a`` in sorted order), shape (..., n_ilks)."""
        out = np.zeros(a.shape[:-1] + (n_ilks,))
        if self.starts.size:
            out[..., self.ilk_sorted[self.starts]] = np.add.reduceat(a, self.starts, axis=-1)
        return out


def bark(ilk, ink, art, unsafe, *, rate, chop, dust, hole, ilk_dirt, Hole, Dirt):
    """Bark the unsafe vaults of one round under ``ilk.hole``, ``Hole`` and ``dust`` (``dog.sol``).

    Parameters
    ----------
    ilk : array of int, shape (n,)
        Collateral type of each vault (index into the per-ilk arrays).
    ink, art : array_like, shape (..., n)
        Collateral and normalised debt per vault, in bark order.
    unsafe : array_like of bool, shape (..., n)
        Result of :func:`is_unsafe`.
    rate, chop, dust, hole : array_like, shape (n_ilks,)
        Per-ilk accumulated rate, penalty (e.g. 1.13), debt floor (DAI) and
        ``ilk.hole`` (DAI).
    ilk_dirt : array_like, shape (..., n_ilks)
        ``ilk.dirt`` at the start of the round (tab of live auctions).
    Hole, Dirt : array_like, shape (...)
        Global limit and its use.

    Returns
    -------
    BarkResult

    Examples
    --------
    ETH-B-style limits: 15M hole, three vaults of 10M debt, chop 1.13. The
    first gets the whole vault (11.3M tab), the second the 3.7M that is left.

    >>> r = bark([0, 0, 0], [1e5] * 3, [10e6] * 3, [True] * 3, rate=[1.0], chop=[1.13],
    ...          dust=[5e3], hole=[15e6], ilk_dirt=[0.0], Hole=100e6, Dirt=0.0)
    >>> (r.tab / 1e6).round(3).tolist(), float(r.dirt) / 1e6
    ([11.3, 3.7, 0.0], 15.0)
    """
    ilk = np.asarray(ilk, dtype=int)
    ink, art = _arr(ink, "ink"), _arr(art, "art")
    unsafe = np.asarray(unsafe, dtype=bool)
    rate, chop = _arr(rate, "rate", positive=True), _arr(chop, "chop", positive=True)
    dust, hole = _arr(dust, "dust"), _arr(hole, "hole")
    ilk_dirt, Hole, Dirt = _arr(ilk_dirt, "ilk_dirt"), _arr(Hole, "Hole"), _arr(Dirt, "Dirt")
    if not unsafe.any():  # no vault to bark (most rounds): the same zeros, without the per-ilk sums
        none = np.zeros(np.broadcast_shapes(ink.shape, art.shape, unsafe.shape))
        return BarkResult(dart=none, dink=none.copy(), due=none.copy(), tab=none.copy(), ilk_dirt=ilk_dirt + 0.0,
                          dirt=Dirt + none.sum(axis=-1))
    full = np.where(unsafe, art * rate[ilk] * chop[ilk], 0.0)               # tab of a whole-vault bark
    dust_tab = dust[ilk] * chop[ilk]
    ilk_room = np.maximum(hole - ilk_dirt, 0.0)                             # (..., n_ilks)
    # per-ilk sequential cap: vaults grouped by ilk (order kept within an ilk), running sums per group
    seg = _IlkSegments(ilk)
    full_s = full[..., seg.order]
    capped = seg.capped_increments(full_s, ilk_room[..., seg.ilk_sorted])
    x_s, reverted_s = _dust_rule(np.clip(capped, 0.0, full_s), full_s, dust_tab[seg.order])
    # after a reverted bark, later vaults of that ilk wait for the next round (see module docstring)
    x_s = np.where(seg.cumsum(reverted_s.astype(float)) > 0, 0.0, x_s)
    x = seg.unsort(x_s)
    x, reverted = _dust_rule(_capped_cumulative(x, np.maximum(Hole - Dirt, 0.0)), full, dust_tab)
    # after a bark reverted at the global boundary, all later vaults wait
    x = np.where(np.cumsum(reverted, axis=-1) > 0, 0.0, x)
    whole = (x >= full) & (full > 0)                                         # exact for whole-vault barks
    dart = np.where(whole, art, x / chop[ilk] / rate[ilk])
    due = dart * rate[ilk]
    with np.errstate(divide="ignore", invalid="ignore"):
        dink = np.where(whole, ink, np.where(art > 0, ink * dart / np.where(art > 0, art, 1.0), 0.0))
    new_ilk_dirt = ilk_dirt + seg.totals(x[..., seg.order], ilk_dirt.shape[-1])
    return BarkResult(dart=dart, dink=dink, due=due, tab=x, ilk_dirt=new_ilk_dirt, dirt=Dirt + x.sum(axis=-1))


def keeper_incentive(tab, tip, chip):
    """DAI paid to the keeper that kicks or redoes an auction: ``tip + chip * tab`` (``clip.sol``), 0 for no auction.

    Parameters
    ----------
    tab : array_like
        Debt the auction must raise (DAI, >= 0); 0 for no auction.
    tip : array_like
        Flat incentive (DAI).
    chip : array_like
        Incentive as a share of ``tab``.

    Returns
    -------
    ndarray

    Raises
    ------
    ValueError
        On NaN or a negative argument.

    Examples
    --------
    >>> keeper_incentive([11.3e6, 0.0], 300.0, 0.001).tolist()
    [11600.0, 0.0]
    """
    t = _arr(tab, "tab")
    return np.where(t > 0, _arr(tip, "tip") + _arr(chip, "chip") * t, 0.0)


@dataclass(frozen=True)
class ClipRoundResult:
    """One round of Clipper auctions; auction axis last.

    Attributes
    ----------
    owe : DAI raised this round
    slice : collateral sold this round (units)
    price : price paid (DAI per unit; NaN where nothing was taken)
    tab, lot : what remains of each auction
    top, elapsed : curve state for the next round (``elapsed`` seconds since kick/redo)
    returned : collateral handed back to the vault owner (tab fully raised)
    uncovered : tab never to be collected (lot ran out first), DAI
    resets : number of resets (``redo``) this round (0 or 1)

    Examples
    --------
    >>> r = clip_round(113e3, 130.0, 1200.0, 0.0, 1000.0, 1000.0, buf=1.2, step=90.0, cut=0.99,
    ...                tail=8400.0, cusp=0.4, round_seconds=3600.0, keeper_margin=0.01)
    >>> round(float(r.price), 2), round(float(r.returned), 2), float(r.tab)
    (981.49, 14.87, 0.0)
    """

    owe: np.ndarray
    slice: np.ndarray
    price: np.ndarray
    tab: np.ndarray
    lot: np.ndarray
    top: np.ndarray
    elapsed: np.ndarray
    returned: np.ndarray
    uncovered: np.ndarray
    resets: np.ndarray


def _first_take(top, elapsed, target, window, step, cut, tail, cusp):
    """Seconds until the stairstep price first reaches ``target`` and whether that is before a reset and within ``window``."""
    k_now = np.floor(elapsed / step)
    with np.errstate(divide="ignore", invalid="ignore"):
        k_need = np.ceil(np.log(np.maximum(target, 1e-300) / top) / np.log(cut) - 1e-12)
    k_need = np.where(top <= target, 0.0, np.where(cut < 1, k_need, np.inf))
    k = np.maximum(k_now, k_need)
    t_take = np.where(k > k_now, k * step, elapsed)                     # elapsed time when price hits target
    price = top * cut ** np.where(np.isfinite(k), k, 0.0)
    ok = np.isfinite(k) & (t_take <= tail) & (price >= cusp * top) & (t_take - elapsed <= window)
    # when the curve must reset: first of tail and the step at which price/top < cusp
    with np.errstate(divide="ignore", invalid="ignore"):
        k_cusp = np.where(cut < 1, np.floor(np.log(cusp) / np.log(cut)) + 1, np.inf)
    t_reset = np.minimum(tail, k_cusp * step)
    return ok, t_take - elapsed, price, np.maximum(t_reset - elapsed, 0.0)


def clip_round(tab, lot, top, elapsed, market_price, feed_price, *, buf, step, cut, tail, cusp,
               round_seconds, keeper_capacity_usd=np.inf, keeper_margin=0.0, auction_axes=1):
    """Advance Clipper auctions by one round of keeper activity (see module docstring).

    Parameters
    ----------
    tab, lot : array_like, shape (..., m)
        DAI still to raise and collateral left per auction (``tab = 0`` marks no auction).
    top, elapsed : array_like, shape (..., m)
        Starting price and seconds since kick/redo.
    market_price : array_like, shape (...) or (..., m)
        Collateral price where keepers sell (USD).
    feed_price : array_like
        OSM price used on a reset (``top = feed * buf``).
    buf, step, cut, tail, cusp : float
        Clipper and calculator parameters (``tail`` and ``step`` in seconds).
    round_seconds : float
        Length of the round.
    keeper_capacity_usd : array_like, shape (...)
        DAI keepers can bring to all auctions this round.
    keeper_margin : float
        Discount to the market price at which keepers take (their selling cost).
    auction_axes : int
        Trailing axes the auctions run along, the keepers' capacity shared over all of them (2: a cohort's
        auction slots and the cohorts, ``(S, slots, c)``, added over the cohorts first).

    Returns
    -------
    ClipRoundResult

    Examples
    --------
    ETH at 1,000 (feed 1,000), auction 113,000 DAI for 130 ETH: top 1,200,
    keepers take at the first step at or below 990, which is 1,200 x 0.99^20
    = 981.49 after 30 minutes; 115.13 ETH pay the tab, 14.87 ETH go back.

    >>> r = clip_round(113e3, 130.0, 1200.0, 0.0, 1000.0, 1000.0, buf=1.2, step=90.0, cut=0.99,
    ...                tail=8400.0, cusp=0.4, round_seconds=3600.0, keeper_margin=0.01)
    >>> round(float(r.price), 2), round(float(r.slice), 2), round(float(r.returned), 2), float(r.tab)
    (981.49, 115.13, 14.87, 0.0)
    """
    tab, lot = _arr(tab, "tab"), _arr(lot, "lot")
    top, elapsed = _arr(top, "top"), _arr(elapsed, "elapsed")
    mkt = _arr(market_price, "market_price")
    feed = _arr(feed_price, "feed_price")
    cap = _arr(keeper_capacity_usd, "keeper_capacity_usd")
    if mkt.ndim == tab.ndim - 1:
        mkt = mkt[..., None]
    if feed.ndim == tab.ndim - 1:
        feed = feed[..., None]
    tab, lot, top, elapsed, mkt, feed = np.broadcast_arrays(tab, lot, top, elapsed, mkt, feed)
    live = (tab > 0) & (lot > 0)
    target = mkt * (1.0 - keeper_margin)
    ok1, _, p1, to_reset = _first_take(top, elapsed, target, round_seconds, step, cut, tail, cusp)
    # one reset inside the round when the first curve cannot reach the keepers' price
    reset = live & ~ok1 & (to_reset <= round_seconds)
    top2 = np.where(reset, feed * buf, top)
    left = round_seconds - np.where(reset, to_reset, 0.0)
    if reset.any():
        ok2, _, p2, _ = _first_take(top2, np.zeros_like(top2), target, left, step, cut, tail, cusp)
    else:                                                             # no reset this round: no second curve
        ok2, p2 = np.zeros_like(reset), p1
    takeable = live & (ok1 | (reset & ok2))
    price = np.where(ok1, p1, p2)
    # DAI keepers would pay for each auction, then the capacity shared pro rata
    want = np.where(takeable, np.minimum(tab, lot * price), 0.0)
    total = want.sum(axis=-1)
    for _ in range(auction_axes - 1):
        total = total.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total > cap, cap / np.where(total > 0, total, 1.0), 1.0)
    owe = want * np.asarray(share)[(...,) + (None,) * auction_axes] if np.ndim(share) else want * share
    with np.errstate(divide="ignore", invalid="ignore"):
        sl = np.where(owe > 0, np.minimum(owe / np.where(price > 0, price, 1.0), lot), 0.0)
    tab_after = np.where(takeable, tab - owe, tab)
    lot_after = lot - sl
    raised_all = live & (tab_after <= tab * 1e-12)
    lot_gone = live & ~raised_all & (lot_after <= lot * 1e-12)
    returned = np.where(raised_all, lot_after, 0.0)
    uncovered = np.where(lot_gone, tab_after, 0.0)
    done = raised_all | lot_gone
    # the curve keeps falling for the rest of the round whether or not keepers had capital left; a slot with no
    # auction has no curve (its clock stays at 0 until a bark starts one)
    new_elapsed = np.where(reset, round_seconds - to_reset, np.where(tab > 0, elapsed + round_seconds, 0.0))
    # clip.redo once the curve passes cusp or tail, whether or not keepers had DAI: an auction keepers took at
    # the first curve's price but did not finish is reset at that moment too (``needsRedo`` does not ask for bids)
    redo = live & ~done & ~reset & (to_reset < round_seconds)
    if redo.any():
        top2 = np.where(redo, feed * buf, top2)
        new_elapsed = np.where(redo, round_seconds - to_reset, new_elapsed)
    return ClipRoundResult(
        owe=owe, slice=sl, price=np.where(takeable & (owe > 0), price, np.nan),
        tab=np.where(done, 0.0, tab_after), lot=np.where(done, 0.0, lot_after),
        top=top2, elapsed=np.where(done, 0.0, new_elapsed), returned=returned,
        uncovered=uncovered, resets=(reset | redo).astype(int),
    )
