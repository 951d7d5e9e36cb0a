r"""Maker Liquidations 2.0, the Dog's side: which vaults are unsafe, how much of them a bark takes within the
holes and ``dust``, and what the keeper who barks is paid.

The model (the unsafe test at ``par``, ``ilk.hole``/``Hole`` with ``ilk.dirt``/``Dirt``, the ``dust`` rule and
the ``tip + chip * tab`` incentive) is stated in :mod:`core.mechanisms.maker_clip`'s docstring, with the
auctions it starts; the functions live here so that each module stays readable, and ``maker_clip`` re-exports
them under their old names.

References
----------
* MakerDAO ``dss``: ``src/dog.sol`` (``bark``, ``digs``), ``src/spot.sol`` (``poke``:
  ``spot = val / par / mat``).
* https://docs.makerdao.com/smart-contract-modules/dog-and-clipper-detailed-documentation
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.mechanisms._checks import as_amount_array as _arr, broadcast_shape

__all__ = ["BarkResult", "is_unsafe", "bark", "keeper_incentive", "redo_incentive"]


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
        none = np.zeros(broadcast_shape(ink.shape, art.shape, unsafe.shape))
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


def redo_incentive(tab, lot, feed_price, tip, chip, chost):
    """DAI ``clip.redo`` pays the keeper that resets an auction: ``tip + chip * tab`` where the auction is worth
    the reset, ``tab >= chost`` and ``lot * feed >= chost``, else 0 (``chost = dust * chop``, ``clip.upchost``).

    Source: ``clip.sol`` ``redo``: after resetting ``tic`` and ``top = feed * buf``, "incentive to redo auction":
    ``if (tab >= _chost && mul(lot, feedPrice) >= _chost) { coin = add(_tip, wmul(tab, _chip)); vat.suck(vow,
    kpr, coin); }``. ``vat.suck`` mints the DAI against sin of the Vow: it adds to Maker's deficit like the
    ``bark`` incentive (:func:`keeper_incentive`), once per reset.

    Parameters
    ----------
    tab, lot : array_like
        What the auction has left to raise (DAI) and its collateral (units) at the reset; ``tab = 0``: no auction.
    feed_price : array_like
        The OSM price the reset reads (USD per unit).
    tip, chip : array_like
        Flat incentive (DAI) and share of ``tab``.
    chost : array_like
        ``dust * chop`` of the auction's ilk (DAI).

    Examples
    --------
    2022's ETH-A (tip 300 DAI, chip 0.1%, dust 15,000 DAI, chop 1.13: chost 16,950 DAI): an 11.3M DAI auction
    with 10,000 ETH left at a 1,000 feed pays 300 + 11,300 = 11,600 DAI; a 16,000 DAI tab, or 16 ETH worth
    16,000 DAI at the feed, is below ``chost`` and pays nothing; no auction pays nothing:

    >>> redo_incentive([11.3e6, 16e3, 11.3e6, 0.0], [1e4, 1e4, 16.0, 0.0], 1000.0, 300.0, 0.001, 15e3 * 1.13).tolist()
    [11600.0, 0.0, 0.0, 0.0]
    """
    t, q = _arr(tab, "tab"), _arr(lot, "lot")
    c = _arr(chost, "chost")
    worth = (t > 0) & (t >= c) & (q * _arr(feed_price, "feed_price") >= c)
    return np.where(worth, keeper_incentive(t, tip, chip), 0.0)  # worth implies tab > 0
