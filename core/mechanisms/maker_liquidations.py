r"""One round of Maker's liquidation system: unsafe test, bark, Clipper auctions, Vow, flop.

The round composes the contract mechanisms in the order they act:

1. **Unsafe test** at the OSM price and par (:func:`~core.mechanisms.maker_clip.is_unsafe`).
2. **Bark** within ``ilk.hole``/``Hole`` and ``dust`` (:func:`~core.mechanisms.maker_clip.bark`);
   keepers are paid ``tip + chip*tab`` from the Vow (and again at each ``clip.redo``, where the auction
   reaches ``chost``). Where the round's start prices are given, each vault
   is barked when the OSM price crosses its ratio within the round, its auction starting at that price and
   taken at the market of the moment keepers reach it (:mod:`~core.mechanisms.maker_crossing`); otherwise
   at the round's end prices.
3. **Auctions** (:func:`~core.mechanisms.maker_clip.clip_round`) within the
   keepers' DAI capacity; taken DAI frees ``dirt``/``Dirt`` (``dog.digs``).
4. **Vow** (:func:`~core.mechanisms.maker_backstop.vow_round`): finished
   auctions credit their penalty or debit their shortfall; the surplus buffer
   absorbs losses first.
5. **Flop** (:func:`~core.mechanisms.maker_backstop.flop_auction`): a deficit
   mints MKR; Maker defaults only if MKR's equity cannot cover it. The debt
   auctions also cover, beyond the buffer, what the live auctions' collateral
   cannot raise at the keepers' price (``_exposed``): ``vow.flop`` sells MKR
   against sin no DAI has healed whether or not its auction has ended.

State is per vault *cohort* (an aggregate of vaults of one ilk about one
collateral ratio). Its vaults' ratios are spread about the cohort's
(:mod:`~core.mechanisms.cohort_spread`: each unit of debt in a vault of ratio
:math:`r\,y`, :math:`y` uniform on :math:`[1-w, 1+w]`, ``MakerState.spread`` =
:math:`w`), so the bark takes the share of the cohort's debt in vaults unsafe at
the OSM price, continuous in the price, with the collateral of those vaults,
the cohort's lowest; what is left keeps a narrower spread about its higher
ratio (:func:`~core.mechanisms.cohort_spread.spread_after_removal`).
``spread`` 0 is one vault (a cohort barked whole or not at all).

Each bark starts its own auction, as the contracts do: ``dog.bark`` calls ``clip.kick``, which opens a new
auction ``id`` with ``top = feed * buf`` and its own clock (``tic``), whatever auctions of the same ilk are
live; a cohort barked in two rounds holds two auctions, each on its own curve (``abaci.sol``
``StairstepExponentialDecrease``: ``top * cut^floor((now - tic)/step)``). An auction whose price has fallen
below ``cusp * top`` or that has outlived ``tail`` is reset by ``clip.redo`` at the current ``feed * buf``
(:func:`~core.mechanisms.maker_clip.clip_round`). A cohort holds up to
:data:`~core.mechanisms.maker_state.AUCTION_SLOTS` auctions at once ((S, slots, c) arrays, memory linear in
the cohorts): a bark kicks in the cohort's first free slot; one that finds every slot live joins the live
auction latest kicked or reset, at its point on the curve [model; counted in ``MakerRoundResult.overflow``,
none on the presets]. Keepers' DAI is shared pro rata over every live auction.

Leftover collateral of an auction that raised its tab goes back to the vault
owner (``returned``); the vault's remaining debt and collateral stay in the
vault.

All arrays carry a leading scenario axis ``(S, c)`` for cohorts and
``(S, n_ilks)`` for ilks; parameters are per ilk.

References
----------
* MakerDAO ``dss`` ``dog.sol``, ``clip.sol``, ``abaci.sol``, ``vow.sol``, ``flop.sol``
  (see the modules named above); ``dog.bark`` -> ``clip.kick(tab, lot, usr, kpr)`` returns a new ``id``
  (``kicks``), ``clip.redo(id, kpr)`` resets ``top``/``tic`` once ``status`` says ``needsRedo``
  (``now - tic > tail`` or ``price / top < cusp``).
"""

from __future__ import annotations

import functools
from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from core.mechanisms import maker_backstop, maker_clip, maker_crossing, maker_flip
from core.mechanisms.cohort_spread import collateral_share_below, share_below, spread_after_removal
from core.mechanisms.maker_state import (AUCTION_SLOTS, IlkParameters, MakerRoundResult, MakerState, maker_initial_state,
                                         total_over_auctions)

__all__ = ["AUCTION_SLOTS", "IlkParameters", "MakerState", "MakerRoundResult", "maker_initial_state", "maker_round",
           "maker_flip_round"]


def _barks(st: MakerState, ilk: np.ndarray, params: IlkParameters, feed: np.ndarray, mat, par: float, can_bark):
    """``dog.bark`` on every vault unsafe at the OSM price and ``par`` that may be barked this round, within
    the holes (:func:`~core.mechanisms.maker_clip.bark`); the first step of both auction styles. Returns the
    barks, each cohort's spread after them and its barked vaults' lowest and highest ratio over ``mat``.

    A cohort's vaults are spread about its ratio (``st.spread``, module docstring): the unsafe ones are the
    share :math:`s` of its debt below ``mat`` (:func:`~core.mechanisms.cohort_spread.share_below`, the
    contract's test ``ink * price / (par * mat) < art * rate`` vault by vault,
    :func:`~core.mechanisms.maker_clip.is_unsafe`), holding the share :math:`s(1 - w + ws)` of its collateral;
    the holes and ``dust`` apply to that slice as to one vault. The vaults barked are the cohort's lowest, so
    the collateral moved is that of the debt share barked and the spread left narrows
    (:func:`~core.mechanisms.cohort_spread.spread_after_removal`)."""
    m = params.mat[ilk] if mat is None else mat
    w = np.broadcast_to(np.asarray(st.spread, float), np.shape(st.debt))
    spot = np.asarray(feed, float) / (par * np.asarray(m, float))
    share = share_below(st.ink * spot, st.debt, 1.0, w) * ((st.debt > 0) & np.asarray(can_bark, bool))
    slice_ink = st.ink * collateral_share_below(share, w)
    b = maker_clip.bark(ilk, slice_ink, st.debt * share, share > 0, rate=np.ones(len(params.mat)), chop=params.chop,
                        dust=params.dust, hole=params.hole, ilk_dirt=st.ilk_dirt, Hole=params.Hole, Dirt=st.Dirt)
    with np.errstate(divide="ignore", invalid="ignore"):
        barked = np.where(st.debt > 0, np.clip(b.due / np.where(st.debt > 0, st.debt, 1.0), 0.0, 1.0), 0.0)
    partial = (b.due > 0) & (b.due < st.debt * share)  # a hole cut the slice: its lowest vaults, their collateral
    if partial.any():
        b = replace(b, dink=np.where(partial, st.ink * collateral_share_below(barked, w), b.dink))
    return b, spread_after_removal(w, barked), _barked_ratios(st.ink * spot, st.debt, w, barked)


def _barked_ratios(value_over_mat, debt, w, barked):
    """Lowest and highest ratio over ``mat`` (at par and the OSM price) of each cohort's barked vaults, (S, c):
    the aggregate ratio times :math:`1 - w` and :math:`1 - w + 2w s` (:mod:`~core.mechanisms.cohort_spread`)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(debt > 0, value_over_mat / np.where(debt > 0, debt, 1.0), 1.0)
    return ratio * (1.0 - w), ratio * (1.0 - w + 2.0 * w * barked)


def _with_slot_axis(st: MakerState) -> MakerState:
    """The state with its auction arrays (S, slots, c); arrays (S, c) are one slot per cohort (as before slots)."""
    if np.ndim(st.tab) == np.ndim(st.debt) + 1:
        return st
    return replace(st, tab=st.tab[:, None], lot=st.lot[:, None], top=st.top[:, None], elapsed=st.elapsed[:, None],
                   due=st.due[:, None], raised=st.raised[:, None])


def _kick_slots(st: MakerState, new: np.ndarray):
    """Where each cohort's bark of this round starts its auction (``clip.kick``: a new ``id``), (S, slots, c):
    the first free slot, or where every slot holds a live auction, the live one latest kicked or reset (least
    ``elapsed``, its curve nearest its ``top``), which it joins [model: ``slots`` auctions per cohort at once;
    the overflow is counted, ``MakerRoundResult.overflow``]. Returns the slot of each bark, the slots kicked
    fresh (``top`` and the clock set) and the number of barks that joined a live auction, (S,)."""
    free = st.tab <= 0
    has_free = free.any(1)
    youngest = np.argmin(np.where(free, np.inf, st.elapsed), axis=1)
    target = np.where(has_free, np.argmax(free, axis=1), youngest)
    slot = (np.arange(free.shape[1])[None, :, None] == target[:, None, :]) & new[:, None, :]
    return slot, slot & free, (new & ~has_free).sum(-1)


def _per_cohort(x: np.ndarray) -> np.ndarray:
    """An (S, slots, c) amount added over each cohort's auctions, slot by slot in order, (S, c)."""
    return x.sum(1)


@functools.lru_cache(maxsize=64)
def _by_ilk(ilk: tuple[int, ...], n_ilks: int) -> sp.csr_array:
    """The (ilks, cohorts) 0/1 matrix that adds cohorts' amounts per ilk, built once per set of cohorts
    (a sparse matrix costs more to build than a round's product with it)."""
    return sp.csr_array((np.ones(len(ilk)), (np.asarray(ilk, int), np.arange(len(ilk)))), shape=(n_ilks, len(ilk)))


def maker_round(state: MakerState, ilk, params: IlkParameters, feed_price, market_price, *,
                round_seconds, keeper_capacity_usd=np.inf, keeper_margin=0.0, par=1.0,
                flop_capacity_usd=np.inf, flop_discount=0.14, mat=None, can_bark=True,
                hump=np.inf, bump=0.0, flap_capacity_usd=np.inf, feed_start=None, market_start=None,
                delay_seconds=0.0) -> MakerRoundResult:
    """Advance Maker's liquidations by one round (module docstring).

    Parameters
    ----------
    state : MakerState
    ilk : array of int, shape (c,)
        Ilk of each cohort.
    params : IlkParameters
    feed_price, market_price : array_like, shape (S, c)
        The OSM price the Dog and Clipper see and the price keepers sell at,
        per cohort (its collateral's).
    round_seconds : float
    keeper_capacity_usd : array_like, shape (S,)
    keeper_margin, par, flop_capacity_usd, flop_discount : see the mechanisms.
    mat : array_like, shape (S, c), optional
        Liquidation ratio per cohort where a scenario changes it (default ``params.mat[ilk]``).
    can_bark : array_like of bool, broadcast to (S, c)
        False where no vault may be barked this round (a halt); live auctions go on.
    hump, bump, flap_capacity_usd : array_like
        The Vow's surplus buffer and lot size for surplus auctions, and the DAI the flapper's ``lid`` lets
        under auction this round (:func:`~core.mechanisms.maker_backstop.flap_auction`; ``hump`` inf: none).
    feed_start, market_start : array_like, shape (S, c), optional
        The OSM and market prices at the round's start. Given, each vault is barked when the feed crosses its
        ratio within the round and its auction starts at that feed (``top``) and is taken ``delay_seconds``
        later at that moment's market (:mod:`~core.mechanisms.maker_crossing`); None: at the round's end prices.
    delay_seconds : array_like
        From a vault's crossing to the keepers' take (:func:`~core.mechanisms.maker_crossing.delay_seconds`).

    Examples
    --------
    An ETH-A cohort of 100,000 DAI debt on 100 ETH, ETH at 1,300 with the OSM
    already there (ratio 1.30 < 1.45): the vault is barked for a 113,000 DAI
    tab, the auction clears within the hour, the 13,000 DAI penalty lands in
    the Vow and the unsold ETH goes back to the owner.

    >>> p = IlkParameters(mat=np.array([1.45]), chop=np.array([1.13]), hole=np.array([40e6]),
    ...                   dust=np.array([15e3]), buf=1.2, tail=8400.0, cusp=0.4, chip=0.0,
    ...                   tip=0.0, step=90.0, cut=0.99, Hole=100e6)
    >>> s = maker_initial_state([[100.0]], [[100e3]], 1, 0.0, 1e6, 1000.0)
    >>> r = maker_round(s, [0], p, [[1300.0]], [[1300.0]], round_seconds=3600.0, keeper_margin=0.01)
    >>> round(float(r.dai_raised[0, 0])), round(float(r.penalty_income[0])), round(float(r.returned[0, 0]), 2)
    (113000, 13000, 11.44)
    """
    ilk = np.asarray(ilk, int)
    feed = np.asarray(feed_price, float)
    mkt = np.asarray(market_price, float)
    st = _with_slot_axis(state)
    # 1-2. unsafe vaults at the OSM price and par; barks within the holes
    b, spread, (ratio_low, ratio_high) = _barks(st, ilk, params, feed, mat, par, can_bark)
    incentives = maker_clip.keeper_incentive(b.tab, params.tip, params.chip).sum(-1)
    new = b.tab > 0
    slot, fresh, overflow = _kick_slots(st, new)
    tab = st.tab + np.where(slot, b.tab[:, None], 0.0)
    lot = st.lot + np.where(slot, b.dink[:, None], 0.0)
    due = st.due + np.where(slot, b.due[:, None], 0.0)
    elapsed = np.where(fresh, 0.0, st.elapsed)
    kick_feed = feed
    mkt3 = mkt[:, None]
    take_market = mkt3
    if feed_start is not None and new.any():  # barked at their crossing within the round (maker_crossing)
        ct = maker_crossing.crossing_terms(feed_start, feed, market_start, mkt, ratio_low, ratio_high,
                                           np.asarray(delay_seconds, float) / round_seconds)
        kick_feed = ct.kick_feed
        with np.errstate(divide="ignore", invalid="ignore"):  # the kicked slot's lot, by collateral (an overflow
            dink = b.dink[:, None]                              # joins a live one: module docstring)
            joined = (st.lot * mkt3 + dink * ct.take_market[:, None]) / (st.lot + dink)
        take_market = np.where(slot & (dink > 0), joined, mkt3)
    top = np.where(fresh, kick_feed[:, None] * params.buf, st.top)   # clip.kick: top = feed * buf
    # 3. auctions within the keepers' capacity, shared by every slot of every cohort
    rs = np.asarray(round_seconds, float)
    cr = maker_clip.clip_round(tab, lot, top, elapsed, take_market, feed[:, None], buf=params.buf, step=params.step,
                               cut=params.cut, tail=params.tail, cusp=params.cusp,
                               round_seconds=rs[:, None] if rs.ndim >= 2 else rs,
                               keeper_capacity_usd=keeper_capacity_usd, keeper_margin=keeper_margin, auction_axes=2,
                               tip=params.tip, chip=params.chip, chost=(params.dust * params.chop)[ilk])
    incentives = incentives + cr.incentives.sum(-1).sum(-1)             # clip.redo's keepers, from the Vow
    raised = st.raised + cr.owe
    done = (tab > 0) & (cr.tab <= 0)
    freed = _per_cohort(cr.owe + cr.uncovered)                       # dog.digs: owe, or tab + owe at lot == 0
    n_ilks = len(params.mat)
    # per ilk, the auctions' freed amounts added in order (a sparse product: a dense one blocks its sums by the
    # number of scenarios, and a scenario's bits would depend on its batch-mates)
    # (one scenario: a bincount, which adds them in the same order from zero, without the sparse product's call)
    flat = np.reshape(freed, (-1, len(ilk)))
    if flat.shape[0] == 1:
        summed = np.bincount(ilk, weights=flat[0], minlength=n_ilks)[None]
    else:
        summed = np.asarray(_by_ilk(tuple(ilk.tolist()), n_ilks) @ flat.T).T
    ilk_dirt = np.maximum(b.ilk_dirt - summed.reshape(np.shape(freed)[:-1] + (n_ilks,)), 0.0)
    Dirt = np.maximum(b.dirt - freed.sum(-1), 0.0)
    # 4. the Vow settles the auctions that finished
    vow = maker_backstop.vow_round(st.surplus, st.deficit, np.where(done, raised, 0.0),
                                   np.where(done, due, 0.0), incentives)
    shortfall = _per_cohort(np.maximum(np.where(done, due - raised, 0.0), 0.0))
    bad = shortfall.sum(-1)
    # 5. flop covers the deficit, and what the live auctions' collateral cannot raise at the keepers' price
    # beyond the buffer, by minting MKR; the second part waits in the buffer for the auctions' end
    pre = np.maximum(_exposed(cr, due, raised, mkt, keeper_margin) - vow.surplus, 0.0)
    fl = maker_backstop.flop_auction(vow.deficit + pre, st.mkr_supply, st.mkr_price, auction_discount=flop_discount,
                                     capacity_usd=flop_capacity_usd)
    covered = np.minimum(fl.raised, vow.deficit)
    surplus, deficit = vow.surplus + fl.raised - covered, vow.deficit - covered
    due_left, raised_left = np.where(done, 0.0, due), np.where(done, 0.0, raised)
    mkr_supply, mkr_price = st.mkr_supply + fl.minted, np.where(fl.failed, 0.0, fl.mkr_price)
    fp = _flap(surplus, deficit, due_left, raised_left, mkr_supply, mkr_price, hump, bump, flap_capacity_usd)
    if fp is not None:
        surplus, mkr_supply = fp.surplus + np.where(deficit > 0, surplus, 0.0), fp.mkr_supply
    new_state = MakerState(
        ink=st.ink - b.dink, debt=st.debt - b.due,
        tab=cr.tab, lot=cr.lot, top=cr.top, elapsed=cr.elapsed, due=due_left, raised=raised_left,
        ilk_dirt=ilk_dirt, Dirt=Dirt, surplus=surplus, deficit=deficit,
        mkr_supply=mkr_supply, mkr_price=mkr_price, spread=spread,
    )
    return MakerRoundResult(state=new_state, barked_debt=b.due, collateral_sold=_per_cohort(cr.slice),
                            dai_raised=_per_cohort(cr.owe), returned=_per_cohort(cr.returned), bad_debt=bad,
                            penalty_income=vow.penalty_income, incentives=incentives, mkr_minted=fl.minted,
                            flop_raised=fl.raised, maker_failed=fl.failed, shortfall=shortfall,
                            flap_paid=0.0 if fp is None else fp.paid, mkr_burnt=0.0 if fp is None else fp.burnt,
                            overflow=overflow, exposed=np.maximum(pre - (fl.raised - covered), 0.0))


def _flap(surplus, deficit, due, raised, mkr_supply, mkr_price, hump, bump, flap_capacity_usd):
    """5b. ``vow.flap``: the surplus beyond ``hump`` and the live auctions' sin, in ``bump`` lots, where no
    deficit is left (:func:`~core.mechanisms.maker_backstop.flap_auction`)."""
    if not np.any(np.isfinite(hump)):
        return None
    sin = total_over_auctions(np.maximum(due - raised, 0.0), np.ndim(surplus))
    return maker_backstop.flap_auction(np.where(deficit > 0, 0.0, surplus), hump, bump, mkr_supply, mkr_price,
                                       sin=sin, capacity_usd=flap_capacity_usd)


def _exposed(cr, due, raised, mkt, keeper_margin) -> np.ndarray:
    """Debt of the auctions still live after the round that their collateral cannot raise at the keepers'
    price, (S,): ``sum max(due - raised - lot * market * (1 - margin), 0)``.

    The Vow's debt auctions cover it as soon as it shows, not when the auction ends [model: ``vow.sol``
    queues a bark's ``due`` as sin (``fess``) and lets ``flop`` sell MKR against the sin no DAI has healed
    once ``wait`` has passed, whether or not its auction has finished; netting the collateral left at the
    keepers' price is this model's reduced form]. The amount falls continuously to the auction's shortfall
    as its lot runs out, so the debt auctions do not wait for the round a lot reaches zero: an auction that
    ends with a residue of 1e-12 of its lot one round later would otherwise move the whole flop a round.
    Where ``vow.wait`` holds the debt auctions back, what this leaves unraised (``MakerRoundResult.exposed``)
    is sin waiting as a finished auction's shortfall waits: MKR holders' pledge counts it
    (:func:`core.engine.maker.vault_auctions`)."""
    left = np.maximum(due - raised - cr.lot * np.asarray(mkt)[:, None] * (1.0 - keeper_margin), 0.0)
    return np.where(cr.tab > 0, left, 0.0).sum(-1).sum(-1)


def maker_flip_round(state: MakerState, ilk, params: IlkParameters, feed_price, market_price, *,
                     keeper_capacity_usd=np.inf, keeper_margin=0.0, par=1.0, flop_capacity_usd=np.inf,
                     flop_discount=0.14, mat=None, can_bark=True, zero_bids=True,
                     hump=np.inf, bump=0.0, flap_capacity_usd=np.inf) -> MakerRoundResult:
    """One round of the 2020 system: ``cat.bite`` then ``flip.sol`` auctions, the Vow and ``flop``.

    As :func:`maker_round`, with flip auctions
    (:func:`~core.mechanisms.maker_flip.flip_round`) instead of the Clipper:
    the unsafe vaults are bitten whole (``cat.sol`` before Liquidations 1.2
    had no ``box``; an ilk's ``hole`` and ``Hole`` apply if finite), and the
    auctions settle within the round: keepers pay up to the collateral's
    resale value for the share of demand their DAI reaches, and the rest goes
    to a lone zero bid when ``zero_bids`` (Black Thursday). Each auction's
    shortfall ``due - raised`` is bad debt for the Vow; keepers get no
    ``tip``/``chip`` in flip.sol. ``par``, ``mat``/``can_bark`` and the surplus auctions (``hump``, ``bump``,
    ``flap_capacity_usd``) as in :func:`maker_round`.

    Examples
    --------
    Two vaults of 100 ETH each, 10,000 DAI debt, ETH at 110 (ratio 1.1 < 1.5):
    tabs of 11,300 DAI; keepers bring 11,000 DAI, half the 22,000 they would
    pay, so half of each lot goes for nothing. Each auction raises 5,500 DAI
    against 10,000 of debt: 9,000 of bad debt, met by the 1,000 buffer and then
    by 8,000 DAI of MKR.

    >>> p = IlkParameters(mat=np.array([1.5]), chop=np.array([1.13]), hole=np.array([np.inf]),
    ...                   dust=np.array([20.0]), buf=1.0, tail=1.0, cusp=1.0, chip=0.0,
    ...                   tip=0.0, step=1.0, cut=1.0, Hole=np.inf)
    >>> s = maker_initial_state([[100.0, 100.0]], [[10e3, 10e3]], 1, 1000.0, 1e6, 300.0)
    >>> r = maker_flip_round(s, [0, 0], p, [[110.0, 110.0]], [[110.0, 110.0]], keeper_capacity_usd=11e3)
    >>> r.dai_raised[0].tolist(), float(r.bad_debt[0]), float(r.flop_raised[0]), float(r.state.surplus[0])
    ([5500.0, 5500.0], 9000.0, 8000.0, 0.0)
    """
    ilk = np.asarray(ilk, int)
    feed = np.asarray(feed_price, float)
    mkt = np.asarray(market_price, float)
    st = state
    b, spread, _ = _barks(st, ilk, params, feed, mat, par, can_bark)
    fr = maker_flip.flip_round(b.tab, b.dink, mkt, keeper_capacity_usd=keeper_capacity_usd,
                               keeper_margin=keeper_margin, zero_bids=zero_bids)
    done = b.tab > 0
    vow = maker_backstop.vow_round(st.surplus, st.deficit, np.where(done, fr.raised, 0.0), np.where(done, b.due, 0.0))
    shortfall = np.maximum(np.where(done, b.due - fr.raised, 0.0), 0.0)
    fl = maker_backstop.flop_auction(vow.deficit, st.mkr_supply, st.mkr_price, auction_discount=flop_discount,
                                     capacity_usd=flop_capacity_usd)
    surplus, mkr_supply, mkr_price = vow.surplus, st.mkr_supply + fl.minted, np.where(fl.failed, 0.0, fl.mkr_price)
    fp = _flap(surplus, fl.deficit, st.due, st.raised, mkr_supply, mkr_price, hump, bump, flap_capacity_usd)
    if fp is not None:
        surplus, mkr_supply = fp.surplus + np.where(fl.deficit > 0, surplus, 0.0), fp.mkr_supply
    new_state = MakerState(
        ink=st.ink - b.dink, debt=st.debt - b.due, tab=st.tab, lot=st.lot, top=st.top, elapsed=st.elapsed,
        due=st.due, raised=st.raised, ilk_dirt=st.ilk_dirt, Dirt=st.Dirt, surplus=surplus, deficit=fl.deficit,
        mkr_supply=mkr_supply, mkr_price=mkr_price, spread=spread,
    )
    return MakerRoundResult(state=new_state, barked_debt=b.due, collateral_sold=fr.collateral_sold, dai_raised=fr.raised,
                            returned=fr.returned, bad_debt=shortfall.sum(-1), penalty_income=vow.penalty_income,
                            incentives=np.zeros_like(vow.surplus), mkr_minted=fl.minted, flop_raised=fl.raised,
                            maker_failed=fl.failed, shortfall=shortfall,
                            flap_paid=0.0 if fp is None else fp.paid, mkr_burnt=0.0 if fp is None else fp.burnt)
