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
``t > tail`` or ``p/top < cusp``; ``redo`` pays its keeper ``tip + chip*tab`` from the Vow
too, where ``tab`` and ``lot * feed`` reach ``chost = dust * chop``
(:func:`~core.mechanisms.maker_dog.redo_incentive`). ``take`` buys at the current price, never
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
from core.mechanisms.maker_dog import BarkResult, bark, is_unsafe, keeper_incentive, redo_incentive  # the Dog's side (dog.sol)

__all__ = [
    "BarkResult",
    "ClipRoundResult",
    "stairstep_exponential_price",
    "linear_decrease_price",
    "exponential_decrease_price",
    "is_unsafe",
    "bark",
    "keeper_incentive",
    "redo_incentive",
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
    incentives : DAI ``redo`` paid its keeper this round (:func:`~core.mechanisms.maker_dog.redo_incentive`)

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
    incentives: np.ndarray


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
               round_seconds, keeper_capacity_usd=np.inf, keeper_margin=0.0, auction_axes=1, tip=0.0, chip=0.0,
               chost=0.0):
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
    tip, chip, chost : array_like
        The reset's keeper incentive, ``tip + chip * tab`` where ``tab`` and ``lot * feed`` reach ``chost``
        (``dust * chop``), drawn from the Vow (:func:`~core.mechanisms.maker_dog.redo_incentive`; 0: none).

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
    # clip.redo pays its keeper from the Vow: a reset within the round before any take on the first curve (the
    # auction as it stood), one at the end of what keepers left of it
    paid = np.zeros_like(tab)
    if reset.any():
        paid = np.where(reset, redo_incentive(tab, lot, feed, tip, chip, chost), 0.0)
    if redo.any():
        paid = paid + np.where(redo, redo_incentive(tab_after, lot_after, feed, tip, chip, chost), 0.0)
    return ClipRoundResult(
        owe=owe, slice=sl, price=np.where(takeable & (owe > 0), price, np.nan),
        tab=np.where(done, 0.0, tab_after), lot=np.where(done, 0.0, lot_after),
        top=top2, elapsed=np.where(done, 0.0, new_elapsed), returned=returned,
        uncovered=uncovered, resets=(reset | redo).astype(int), incentives=paid,
    )
