r"""Step 1b of a round: Maker's vaults under the contracts' own rules (Liquidations 2.0, or flip.sol in 2020).

A dataset with a ``maker_ilks`` table (:data:`core.schema.MAKER_ILKS`) names
one Maker system and its collateral types; its ``maker`` cohorts are then
liquidated here, not by :func:`core.engine.liquidate.liquidate` (which keeps
its simple auction rule for Maker-style cohorts of other protocols). Each round,
vectorised over scenarios and cohorts
(:func:`~core.mechanisms.maker_liquidations.maker_round`, or
:func:`~core.mechanisms.maker_liquidations.maker_flip_round` for a flip-era system):

0. owners of vaults below their target ratio repay part of their gap (at
   most their vault's equity), DAI bought outside the network and burnt
   against Maker's liability at face value, an other asset at par
   (:func:`~core.engine.maker_ask.owners_repay`, :mod:`~core.mechanisms.vault_defence`): a gradual
   fall is met by repayments, a sudden one (or one under congestion) by barks;
1. vaults unsafe at the oracle price and **par** (DAI's target, never its
   market price) are barked within ``ilk.hole``, ``Hole`` and ``dust``
   (``dog.sol``); none while a circuit breaker halts liquidations. Each is
   barked when the OSM price crossed its ratio within the round (the path
   from the prices this step saw the round before, ``maker_feed_seen`` and
   ``maker_market_seen``, log-linear), its auction starting at that price and
   taken at the market of the moment keepers reach it: the auction's life on
   the curve plus what the rounds' oracle lag leaves of the OSM's hour
   (:mod:`~core.mechanisms.maker_crossing`; the flip auctions of 2020 keep
   the round's end prices);
2. auctions run on the Clipper's price curve (``buf``, ``step``/``cut``,
   ``tail``, ``cusp``: ``clip.sol``, ``abaci.sol``) within the round's keeper
   capacity, each bark its own auction (``clip.kick``: its own ``top`` and clock, up to
   :data:`~core.mechanisms.maker_state.AUCTION_SLOTS` per cohort at once, the ``maker_tab`` ... ``maker_raised``
   fields (S, slots, m)), reset by ``redo`` at the current ``feed * buf`` past ``cusp`` or ``tail``,
   keepers taking at the first price at or below the market less their margin (:data:`KEEPER_MARGIN`); keepers are paid ``tip + chip*tab`` at each kick and at each ``redo`` where ``tab`` and ``lot * feed`` reach ``chost``;
3. the collateral keepers buy is sold on the market in the sell step
   (through the price-impact channel, like every liquidation);
4. the Vow credits the penalty (``chop``) of auctions that raised their tab,
   and meets shortfalls from the surplus buffer first; a deficit mints MKR
   (``flop``), whose price falls with the dilution; Maker fails only when
   MKR's equity cannot cover the deficit; a surplus beyond ``hump`` is sold
   in ``bump`` lots for MKR that is burnt (``flap``, within the flapper's
   ``lid`` per :data:`~core.engine.maker_surplus.FLAP_SECONDS`, and one lot per Splitter ``hop`` where one
   calls it, :func:`~core.engine.maker_surplus.flap_capacity`): DAI paid out of the protocol's other
   assets to MKR holders, a transfer (``maker_flap_paid``) that the system's
   loss nets against what MKR holders paid in through ``flop``. With ``vow_wait_seconds``
   (``vow.wait``) the debt auctions sell only against the deficit of rounds the wait has released
   (:func:`flop_capacity`); where governance switched the debt auctions off (``debt_auctions`` false:
   ``vow.sump`` = max uint256, Sky in 2025) none starts and the deficit stays in the Vow, with nothing
   behind it but the protocol's own balance sheet, as in a shutdown (a default the scenario forces, or the
   clearing's from the next round's opening: ``end.cage`` -> ``vow.cage`` zeroes the queue and cages the flopper,
   so nothing is pledged either, and End skims its vaults at that opening, :mod:`~core.engine.maker_end`, so
   none is barked); the deficit still waiting, and what live auctions' lots cannot
   raise beyond the buffer (``vow.fess`` queued it at the bark: ``MakerRoundResult.exposed``), is owed by MKR holders where their equity covers
   it (:func:`~core.mechanisms.maker_backstop.flop_pledge`), booked in the protocol's other assets and
   counted in their payment (``governance_backstop``), so queued sin is no default; MKR's market price
   prices it (:func:`~core.mechanisms.maker_backstop.pledged_price`). Where the clearing finds the system short
   beyond that backstop, its DAI trades at the recovery that counts what the debt auctions will still raise
   (:func:`~core.mechanisms.maker_backstop.flop_recovery`, :func:`~core.engine.maker_vow.clearing_recovery`).

The system as the engine compiles it once (its cohorts, ilks and contract parameters) is
:class:`~core.engine.maker_book.MakerBook` (:func:`~core.engine.maker_book.compile_maker`).

Books. A cohort's ``coll``/``debt`` in :class:`~core.engine.state.CascadeState`
stay the vaults *and* their live auctions (collateral under auction; debt not
yet raised) *and* the collateral finished auctions handed back to their owners
(``maker_free``: free, not locked, so neither the bark nor the owners' defence
counts it as backing the vaults' debt, nor the clearing's marks, the coin's claim on its vaults and the bad-debt
measures, which read :func:`~core.engine.maker_book.securing_collateral`): each cohort worth its debt, but never
more than the collateral securing it. DAI raised arrives in
the protocol's holdings (burnt against its liability, as repayments do in
:mod:`~core.engine.liquidate`); keepers' incentives leave its other assets;
what the debt auctions raise from MKR buyers enters them. The Vow's surplus
buffer is the protocol's ``insurance_fund_usd`` (under the scenario's
safeguards): it is part of the protocol's equity, not money paid in from
outside, so the generic insurance step does not draw on it (:func:`insurance_funds`).

Keeper capacity per round: the scenario's liquidator capacity, and at most
the table's ``keeper_capacity_usd`` (DAI per day in normal markets) scaled
by the scenario's ``liquidity`` and the round's length.

References
----------
* MakerDAO ``dss``: ``dog.sol``, ``clip.sol``, ``abaci.sol``, ``vow.sol``,
  ``flop.sol``; 2020: ``cat.sol``, ``flip.sol`` (see the mechanisms).
* https://docs.makerdao.com/smart-contract-modules/dog-and-clipper-detailed-documentation
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import paths as exogenous_paths
from ..mechanisms import maker_backstop, maker_crossing
from ..mechanisms.cohort_spread import HF_SPREAD, cohort_spread
from ..mechanisms.maker_liquidations import AUCTION_SLOTS, MakerState, maker_flip_round, maker_round
from .books import booked_units, debt_price
from .fees import outside_borrowers_paid
from .known_zeros import zeros
from .maker_ask import keeper_capacity, owners_repay, round_limits
from .maker_book import KEEPER_MARGIN, maker_columns, slot_sum, unused_slots, vault_books
from .maker_claim import FLOP_DISCOUNT
from .maker_end import caged
from .maker_surplus import flap_capacity, flap_hump, flap_room
from .maker_vow import flop_capacity, queue_room, queued_deficit
from .maker_vow import backstop_covers as backstop_covers  # called by clear.mark_and_clear as maker.backstop_covers
from .maker_vow import clearing_recovery as clearing_recovery  # called by clear.mark_and_clear as maker.clearing_recovery
from .maker_book import auction_seconds as auction_seconds  # compiled with the book; importable from here as before
from .maker_book import compile_maker as compile_maker

if TYPE_CHECKING:
    from .state import CascadeState, Changes

    from .batch import ScenarioBatch
    from .compiled import Compiled

def initial_fields(c: Compiled, b: ScenarioBatch) -> dict[str, np.ndarray]:
    """The Maker fields of :class:`~core.engine.state.CascadeState` before any shock: no live auction; the
    Vow's surplus buffer is the protocol's insurance fund under the scenario's safeguards."""
    mk, S = c.maker, b.S
    m, n_ilks = (mk.m, len(mk.params.mat)) if mk is not None else (0, 0)
    full = (lambda v: np.full(S, v)) if mk is not None else (lambda v: np.zeros(S))  # noqa: E731
    K = AUCTION_SLOTS  # each cohort's auctions at once (core.mechanisms.maker_state)
    return dict(
        # the slots start empty, known so (core.engine.known_zeros: read by no pass until an auction fills one)
        maker_tab=zeros((S, K, m)), maker_lot=zeros((S, K, m)), maker_top=zeros((S, K, m)),
        maker_elapsed=zeros((S, K, m)), maker_due=zeros((S, K, m)), maker_raised=zeros((S, K, m)),
        maker_ilk_dirt=np.zeros((S, n_ilks)), maker_dirt=np.zeros(S),
        maker_surplus=b.insurance[:, mk.protocol].copy() if mk is not None else np.zeros(S), maker_deficit=np.zeros(S),
        mkr_supply=full(mk.mkr_supply0 if mk is not None else 0.0),
        mkr_price=full(mk.mkr_price0 if mk is not None else 0.0),
        mkr_minted=np.zeros(S), maker_flop_raised=np.zeros(S), maker_penalty=np.zeros(S),
        maker_bad=np.zeros(S), maker_failed=np.zeros(S, bool), maker_repaid=np.zeros(S),
        maker_spread=np.repeat(vault_spread(c)[None], S, 0), maker_free=np.zeros((S, m)),
        maker_flap_paid=np.zeros(S), mkr_burnt=np.zeros(S), maker_flap_seen=np.zeros(S),
        maker_feed_seen=np.repeat(c.P0[mk.ca][None], S, 0) if mk is not None else np.zeros((S, 0)),
        maker_market_seen=np.repeat(c.P0[mk.ca][None], S, 0) if mk is not None else np.zeros((S, 0)),
        maker_sin_queue=np.zeros((S, max(b.horizon, 1) if mk is not None and mk.wait > 0 else 0)),
        maker_pledge=np.zeros(S), maker_exposed_pledge=np.zeros(S), maker_recovery=np.ones(S),
        maker_cage_round=np.full(S, -1), maker_end_units=np.zeros((S, c.k)),
        maker_end_left=np.zeros((S, len(c.c_coll))), maker_deficit_since=np.full(S, -1),
    )


def round_zero_start(c: Compiled, b: ScenarioBatch, feed: np.ndarray, market: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where round 0's price path starts for Maker's step (:mod:`~core.mechanisms.maker_crossing`), (S, m) each:
    round 0's prices less the part of their move that is a *path* (an explicit ``price_paths`` entry, or shocks
    spread over ``shock_rounds`` > 1, :func:`core.paths.round_zero`), so a scenario's gaps (price shocks applied at
    once, ``shock_rounds`` 1: :mod:`core.paths`' "one-gap scenario") are there from the round's start and every
    vault they leave unsafe meets them then. A wrapped token moves with its underlying. The OSM starts where it is
    where oracles lag (it shows round 0's move a round late, as a move within the next round)."""
    mk = c.maker
    assert mk is not None
    shock0, _ = exogenous_paths.round_zero(b.shock, b.depeg, b.paths)
    once = (b.paths.shock_rounds == 1 if b.paths is not None else np.ones(b.S, bool))[:, None]
    path_move = shock0 / np.where(once, b.shock, 1.0)
    if len(c.wrapped_idx):
        path_move[:, c.wrapped_idx] = path_move[:, c.peg_unit[c.wrapped_idx]]
    start = market / path_move[:, mk.ca]
    return np.where((b.lag > 0)[:, None], feed, feed / path_move[:, mk.ca]), start


def vault_spread(c: Compiled) -> np.ndarray:
    """Each Maker cohort's spread of its vaults' collateral ratios about its own at reference prices, (m,)
    (:func:`~core.mechanisms.cohort_spread.cohort_spread` of its ratio over ``mat``, :data:`VAULT_SPREAD` at
    most: never so wide that a vault is unsafe before a shock); 0 for a named borrower's vaults, kept as one.

    The spread makes the share of a cohort barked continuous in the price and in the owners' pace
    (:mod:`~core.mechanisms.vault_defence`): one vault per cohort made June 2022's penalty income on the stETH
    preset jump from 25.5M to 4.7M DAI between paces 0.24 and 0.25 a day."""
    mk = c.maker
    if mk is None:
        return np.zeros(0)
    debt0 = c.c_debt[mk.cohorts]
    with np.errstate(divide="ignore", invalid="ignore"):
        hf0 = np.where(debt0 > 0, c.c_coll[mk.cohorts] * c.P0[mk.ca] * c.c_lt[mk.cohorts] / debt0, np.inf)
    return np.where(mk.named, 0.0, cohort_spread(hf0, VAULT_SPREAD))


#: Relative half-width of a Maker cohort's vaults' collateral ratios about its own (:func:`vault_spread`): the
#: lending cohorts' :data:`~core.mechanisms.cohort_spread.HF_SPREAD`, a model choice (no published distribution
#: of vaults' ratios within the snapshot's buckets was found; the buckets of ``cohorts.csv`` are 10-25% apart).
VAULT_SPREAD = HF_SPREAD

#: Run the auctions only in the scenarios with something to do (off: every row, as the round would; tests
#: compare the two).
SKIP_IDLE_ROWS = True


def vault_auctions(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> Changes:
    """Reads ``P, price_history, coll, debt, lt_eff, halted``, the ``maker_*``/``mkr_*`` fields, ``sold,
    liq_by_proto, cohort_bad``; writes ``coll, debt, liq_loss, bad, bad_units, sold, liq_by_proto, cohort_bad, liq_total,
    oa, fee_income, borrowers_penalty, borrowers_penalty_in``, the ``maker_*``/``mkr_*`` fields and, in place, the DAI raised
    into ``H``.

    The owners' defence runs in every scenario; the round runs only in the scenarios with a vault unsafe (by
    this step's test or the bark's own, :func:`~core.mechanisms.maker_clip.is_unsafe`), a live auction or a
    deficit; in the others it barks nothing, sells nothing and leaves the Vow and MKR as they are, and a row
    never reads another, so their rows are kept as the defence left them: the same to the last bit."""
    mk = c.maker
    if mk is None or not mk.m:
        return {}
    M = maker_columns(c)  # mk.cohorts, a slice where contiguous (the same elements)
    coll, debt, outstanding, free, ink, vault_debt, feed, market = vault_books(c, s, b)
    # where the next round's path starts (an idle round whose prices did not move changes nothing)
    moved = not (np.array_equal(feed, s.maker_feed_seen) and np.array_equal(market, s.maker_market_seen))
    seen = dict(maker_feed_seen=feed, maker_market_seen=market) if moved else {}
    mat = 1.0 / s.lt_eff[:, M]
    # 0. owners of vaults with no named borrower repay part of their gap to their target ratio first
    owner_repaid = owners_repay(c, b, ink, vault_debt, np.minimum(feed, market), mat)
    defended = owner_repaid.any()
    if defended:
        vault_debt = vault_debt - owner_repaid
        # the DAI is burnt against the protocol's liability at face value: an asset worth par whatever DAI trades at
        # (held as DAI it would be marked at DAI's price, and a repayment during a depeg a loss to the protocol)
        oa0 = _add_column(s.oa, mk.protocol, owner_repaid.sum(1))
    else:
        oa0 = s.oa
    live = np.zeros(b.S, bool) if unused_slots(s.maker_tab) else (s.maker_tab > 0).any((1, 2))  # (no auction: none)
    low = 1.0 - s.maker_spread  # a cohort's lowest vaults (core.mechanisms.cohort_spread)
    with np.errstate(divide="ignore", invalid="ignore"):
        unsafe = (ink * feed * low < vault_debt * mat) & (vault_debt > 0)
    if not (unsafe.any() or live.any() or (s.maker_deficit > 0).any() or (s.maker_surplus >= flap_hump(mk, s) + mk.bump).any()):
        if not defended:
            return dict(maker_repaid=np.zeros(b.S), **seen) if s.maker_repaid.any() else seen
        all_debt = s.debt.copy()
        all_debt[:, M] = debt - owner_repaid
        return dict(debt=all_debt, oa=oa0, maker_repaid=owner_repaid.sum(1), **seen)
    if SKIP_IDLE_ROWS:
        with np.errstate(divide="ignore", invalid="ignore"):  # the bark's own test (maker_liquidations._barks, par 1)
            cv = ink * (feed / mat)
            w = s.maker_spread
            barkable = np.where(w > 0, vault_debt - (1.0 - w) * cv > 0, cv < vault_debt) & (vault_debt > 0)
        rows = (unsafe | barkable).any(1) | live | (s.maker_deficit > 0) | (s.maker_surplus >= flap_hump(mk, s) + mk.bump)
    else:
        rows = np.ones(s.S, bool)
    every = bool(rows.all())
    ix = np.flatnonzero(rows)

    def sub(x: np.ndarray) -> np.ndarray:  # the rows the round runs in (ndarray.take: the same elements, faster)
        return x if every else x.take(ix, axis=0)

    def put(full: np.ndarray, part: np.ndarray) -> np.ndarray:  # ``full`` with those rows replaced
        if every:
            return part
        out = full.copy()
        out[ix] = part
        return out

    def put_slots(full: np.ndarray, part: np.ndarray) -> np.ndarray:  # ``put`` of auction slots: none before or after
        return full if not every and unused_slots(part) and unused_slots(full) else put(full, part)  # (as it is)

    def add_column(full: np.ndarray, j: int, v: np.ndarray) -> np.ndarray:
        out = full.copy()
        out[ix, j] += v
        return out

    add = _add_column if every else add_column
    all_coll, all_debt = s.coll.copy(), s.debt.copy()
    if defended and not every:  # the rows the round leaves: their vaults as the owners' repayments left them
        all_debt[:, M] = vault_debt + outstanding
    feed_start, market_start = round_zero_start(c, b, feed, market) if r == 0 else (s.maker_feed_seen, s.maker_market_seen)
    feed_start, market_start = sub(feed_start), sub(market_start)
    coll, debt, outstanding, feed, market, mat = sub(coll), sub(debt), sub(outstanding), sub(feed), sub(market), sub(mat)
    st = MakerState(ink=sub(ink), debt=sub(vault_debt), tab=sub(s.maker_tab), lot=sub(s.maker_lot), top=sub(s.maker_top),
                    elapsed=sub(s.maker_elapsed), due=sub(s.maker_due), raised=sub(s.maker_raised),
                    ilk_dirt=sub(s.maker_ilk_dirt), Dirt=sub(s.maker_dirt), surplus=sub(s.maker_surplus),
                    deficit=sub(s.maker_deficit), mkr_supply=sub(s.mkr_supply), mkr_price=sub(s.mkr_price),
                    spread=sub(s.maker_spread))
    cap = sub(keeper_capacity(mk, b, s.halted, s.maker_capital))
    queue = s.maker_sin_queue
    flop_cap: np.ndarray | float = np.inf  # vow.wait: flop sells only against the deficit of eras flog has released
    if not mk.debt_auctions:  # vow.sump = max uint256: no debt auction starts, the deficit stays in the Vow
        flop_cap = 0.0
    elif mk.wait > 0:
        queue = queue_room(queue, r)
        flop_cap = sub(flop_capacity(mk, queue, b, r, s.maker_flop_raised))
    # a caged Maker (a default the scenario forces, or the round after the clearing's: maker_end) is shut down:
    # end.cage -> vow.cage zeroes the queue (Sin, Ash) and cages the flopper, so no debt auction runs and MKR
    # holders owe nothing (clearing_recovery prices it so)
    shut = sub(caged(s))
    flop_cap = np.where(shut, 0.0, flop_cap) if shut.any() else flop_cap
    can_bark = ~sub(s.halted)[:, None]
    b_hours = b.round_hours if b.round_hours is not None else np.full(b.S, 24.0)
    hours = sub(b_hours)
    flap = dict(hump=sub(flap_hump(mk, s)), bump=mk.bump,
                flap_capacity_usd=sub(flap_room(mk, s, flap_capacity(mk, b_hours * 3600.0, r))))
    if mk.flip:
        res = maker_flip_round(st, mk.ilk, mk.params, feed, market, keeper_capacity_usd=cap,
                               keeper_margin=KEEPER_MARGIN, flop_discount=FLOP_DISCOUNT, mat=mat, can_bark=can_bark,
                               flop_capacity_usd=flop_cap, **flap)
    else:
        params = round_limits(mk, hours * 3600.0)
        delay = maker_crossing.delay_seconds(mk.cycle_seconds[mk.ilk][None], (hours * 3600.0)[:, None], sub(b.lag)[:, None])
        res = maker_round(st, mk.ilk, params, feed, market, round_seconds=(hours * 3600.0)[:, None],
                          keeper_capacity_usd=cap, keeper_margin=KEEPER_MARGIN, flop_discount=FLOP_DISCOUNT,
                          mat=mat, can_bark=can_bark, feed_start=feed_start, market_start=market_start,
                          delay_seconds=delay, flop_capacity_usd=flop_cap, **flap)
    ns = res.state
    # the cohort: its vaults (with collateral handed back by finished auctions) and their live auctions
    new_free = sub(free) + res.returned
    left = slot_sum(np.maximum(ns.due - ns.raised, 0.0))
    new_coll = ns.ink + new_free + slot_sum(ns.lot)
    new_debt = ns.debt + left
    # income: DAI raised beyond the debt it repaid (the penalty, chop), less keepers' incentives
    repaid = outstanding + res.barked_debt - left - res.shortfall
    penalty = res.dai_raised - repaid
    income = penalty.sum(1) - res.incentives
    Pd = sub(s.P[:, mk.da])[:, None]
    at = (np.ix_(ix, M) if not isinstance(M, slice) else (ix, M)) if not every else (slice(None), M)
    all_coll[at], all_debt[at] = new_coll, new_debt
    sold_usd = res.collateral_sold * market
    proto = mk.protocol
    outside_chop = outside_borrowers_paid(mk.named, penalty)
    # DAI raised is burnt against the protocol's liability (held, like repayments); keepers' pay leaves it;
    # MKR buyers' DAI from the debt auctions comes in.
    s.H[slice(None) if every else ix, proto, mk.da] += res.dai_raised.sum(1)
    out = dict(
        coll=all_coll, debt=all_debt, sold=put(s.sold, sub(s.sold) + mk.by_asset(res.collateral_sold)),
        liq_by_proto=add(np.zeros_like(s.oa) if s.liq_by_proto is None else s.liq_by_proto, proto, sold_usd.sum(1)),
        liq_total=put(s.liq_total, sub(s.liq_total) + sold_usd.sum(1)), oa=add(oa0, proto, res.flop_raised - res.incentives - res.flap_paid),
        fee_income=add(s.fee_income, proto, income),
        # the anonymous vaults' owners' chop: their loss (core.engine.fees.outside_borrowers_paid)
        borrowers_penalty=put(s.borrowers_penalty, sub(s.borrowers_penalty) + outside_chop),
        borrowers_penalty_in=add(s.borrowers_penalty_in, proto, outside_chop),  # the Vow's: the system's
        maker_tab=put_slots(s.maker_tab, ns.tab), maker_lot=put_slots(s.maker_lot, ns.lot),
        maker_top=put_slots(s.maker_top, ns.top), maker_elapsed=put_slots(s.maker_elapsed, ns.elapsed),
        maker_due=put_slots(s.maker_due, ns.due), maker_raised=put_slots(s.maker_raised, ns.raised), maker_ilk_dirt=put(s.maker_ilk_dirt, ns.ilk_dirt),
        maker_dirt=put(s.maker_dirt, ns.Dirt), maker_surplus=put(s.maker_surplus, ns.surplus),
        maker_deficit=put(s.maker_deficit, ns.deficit), mkr_supply=put(s.mkr_supply, ns.mkr_supply),
        mkr_price=put(s.mkr_price, ns.mkr_price), mkr_minted=put(s.mkr_minted, sub(s.mkr_minted) + res.mkr_minted),
        maker_flop_raised=put(s.maker_flop_raised, sub(s.maker_flop_raised) + res.flop_raised),
        maker_penalty=put(s.maker_penalty, sub(s.maker_penalty) + res.penalty_income),
        maker_bad=put(s.maker_bad, sub(s.maker_bad) + res.bad_debt),
        maker_failed=put(s.maker_failed, sub(s.maker_failed) | res.maker_failed), maker_repaid=owner_repaid.sum(1),
        maker_spread=put(s.maker_spread, np.asarray(ns.spread, float)), maker_free=put(s.maker_free, new_free),
        maker_flap_paid=put(s.maker_flap_paid, sub(s.maker_flap_paid) + res.flap_paid),
        mkr_burnt=put(s.mkr_burnt, sub(s.mkr_burnt) + res.mkr_burnt), **seen,
    )
    if mk.wait > 0 and mk.debt_auctions:  # the deficit that showed this round joins the queue in this round's era
        queue = queue.copy()
        queue[slice(None) if every else ix, r] += queued_deficit(ns.deficit, res.flop_raised, st.deficit)
        # what MKR holders owe for the deficit still waiting is Maker's (vow.sol: queued sin, no default)
        pledge = maker_backstop.flop_pledge(ns.deficit + res.exposed, ns.mkr_supply, ns.mkr_price, auction_discount=FLOP_DISCOUNT)
        pledge = np.where(shut, 0.0, pledge)  # none after vow.cage (above)
        out.update(maker_sin_queue=queue, maker_pledge=put(s.maker_pledge, pledge),
                   maker_exposed_pledge=put(s.maker_exposed_pledge, np.where(pledge > 0, res.exposed, 0.0)),
                   oa=add(out["oa"], proto, pledge - sub(s.maker_pledge)))
    if res.shortfall.any():
        short = np.zeros_like(s.coll)
        short[at] = res.shortfall
        out.update(cohort_bad=short if s.cohort_bad is None else s.cohort_bad + short,
                   bad=add(s.bad, proto, res.bad_debt),
                   bad_units=s.bad_units + booked_units(short, debt_price(c, s.P)))
    if mk.named.any():  # named borrowers' loss: their positions' equity before and after
        before = np.maximum(coll * market - debt * Pd, 0.0)[:, mk.named]
        after = np.maximum(new_coll * market - new_debt * Pd, 0.0)[:, mk.named]
        out.update(liq_loss=put(s.liq_loss, sub(s.liq_loss) + mk.by_borrower(before - after)))
    return out


def _add_column(a: np.ndarray, j: int, v: np.ndarray) -> np.ndarray:
    out = a.copy()
    out[:, j] += v
    return out


def insurance_funds(c: Compiled, insurance: np.ndarray) -> np.ndarray:
    """Insurance funds the generic insurance step draws on, (S, n): none for the Maker system, whose
    surplus buffer and debt auctions are its loss absorbers (:func:`vault_auctions`)."""
    if c.maker is None:
        return insurance
    out = insurance.copy()
    out[:, c.maker.protocol] = 0.0
    return out
