"""The liquidation rules run on a round's borrower cohorts (:func:`liquidate_cohorts`, the step
:mod:`core.engine.liquidate` calls): the close-factor rule, Maker-style auctions and Compound v3 absorptions, each
cohort by its own, merged into one result, and the cut of them to the cohorts due where the figures are each
cohort's own (:data:`DUE_ONLY`, :data:`MIN_ROWS`, :data:`MIN_CELLS`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..mechanisms import lending
from .auction_vaults import auction_lots, clip_era, returned_to_owner, taken_share
from .books import debt_price
from .capital import split_capital
from .compiled import ABSORB, MAKER_AUCTION, Compiled
from .cohort_views import any_spread
from .columns import put_columns
from .limits import Cohorts
from .memo import per_network

#: Run the rules on the cohorts due only, where a cohort's figures are its own (off: every cohort, as the rules
#: would; tests compare the two).
DUE_ONLY = True
#: Fewest scenarios for which the close-factor rule runs on the cohorts due only (below it, the calls that cut and
#: write back cost more than the elements they save).
MIN_ROWS = 16
#: Or fewest (scenario, cohort) cells: one scenario of a large network (synthetic(100k): 44,845 cohorts, 16,000 due a
#: round) costs 1.3 ms a call cut against 2.9 ms whole.
MIN_CELLS = 16_384


@dataclass(frozen=True, eq=False)
class Liquidated:
    """The liquidation rules' result computed on the cohorts ``cols`` only (increasing; None: every cohort), each
    field of ``part`` (S, len(cols)); every other cohort idle, its collateral and debt as they were (``coll``,
    ``debt``, (S, c)), nothing seized, repaid or liquidated, no bad debt (:func:`liquidate_due`). The liquidation
    step reads most figures on ``cols`` alone and widens (:meth:`full`) only what it keeps over every cohort."""

    part: lending.LiquidationResult
    cols: np.ndarray | None
    coll: np.ndarray
    debt: np.ndarray

    def of(self, x: np.ndarray) -> np.ndarray:
        """``x`` (S, c)'s columns of the cohorts computed (``x[:, cols]``, by the faster gather; ``x`` itself
        where every cohort was)."""
        return x if self.cols is None else x.take(self.cols, axis=1)

    def full(self, name: str) -> np.ndarray:
        """The field ``name`` over every cohort, (S, c): the idle cohorts' values where none was computed."""
        value: np.ndarray = getattr(self.part, name)
        if self.cols is None or name not in ("collateral_after", "debt_after"):
            return self.widen(value)
        out = self.coll.copy() if name == "collateral_after" else self.debt.copy()
        put_columns(out, self.cols, value)
        return out

    def widen(self, values: np.ndarray) -> np.ndarray:
        """``values`` (S, len(cols)), a figure of the cohorts computed, over every cohort, (S, c): 0 (False) at
        the others."""
        if self.cols is None:
            return values
        out = np.zeros(self.coll.shape, values.dtype)
        put_columns(out, self.cols, values)
        return out

    def widened(self) -> lending.LiquidationResult:
        """The result over every cohort (:func:`liquidate_cohorts`'s)."""
        return lending.LiquidationResult(**{f_: self.full(f_) for f_ in lending.LiquidationResult.__dataclass_fields__})


def liquidate_cohorts(c: Compiled, coll: np.ndarray, debt: np.ndarray, Po: np.ndarray, lt: np.ndarray,
                      bonus: np.ndarray, cf: np.ndarray, cap: np.ndarray, halted: np.ndarray,
                      limit: np.ndarray | None = None, *, Pc: np.ndarray | None = None,
                      market: np.ndarray | None = None, spread: np.ndarray | None = None,
                      auction_capacity: np.ndarray | None = None, Pd: np.ndarray | None = None,
                      below: np.ndarray | None = None, cost: np.ndarray | None = None) -> lending.LiquidationResult:
    """Liquidations under each cohort's own version rules, merged into one result; none where halted. Of a
    close-factor cohort, liquidators take at most ``limit`` units (:func:`liquidator_limit`), before sharing
    their capacity; none where ``limit`` is 0: they stand aside, and the others share their capacity.

    Aave v2/v3, Compound v2 and Anchor positions follow the close-factor rule (Aave
    v3's full close at HF <= 0.95, none for the others) in one call, so
    liquidators' capacity is shared among them pro rata (where it is scarce the engine first cuts each
    cohort's ``limit`` to its water-filled share, :mod:`core.engine.capital`); Maker vaults go to
    auction, with keepers of the same capital; Compound v3 positions are
    absorbed whole by their protocol. A rule runs only if one of its cohorts is due. ``Pc``: each cohort's
    collateral price where it is not ``Po``'s (Maker-style vaults at the market's price of a redeemable
    liquid-staking token, :mod:`core.engine.oracle`).

    Debt is priced as its protocol prices it, a protocol's own coin at its peg (:func:`~core.engine.books.debt_price`):
    keepers' dollars retire a coin each, whatever it trades at. ``cost`` (S, c): what the liquidators' capital pays
    for a unit of each cohort's debt, the debt token at the market (:func:`core.engine.capital.debt_cost`); ``Pd``
    where None.

    ``spread`` (S, c): the half-width of each Maker-style cohort's vaults' ratios about its own (the state's
    ``auction_spread``; 0, one vault, where not given): only its vaults below their ratio are barked
    (:func:`core.engine.auction_vaults.barked_share`).

    ``market`` (S, c): the price each cohort's collateral sells for at the market (the engine passes the
    auctions' clearing price, :func:`core.engine.auctions.clearing_prices`). A Maker-style vault is barked
    at the oracle's price and its auction clears at no more than that: Maker's Liquidation 2.0 (MIP45,
    ``dog.bark`` at the OSM price; ``clip``'s Dutch auction starts at ``top = feed x buf`` and its price falls
    until a keeper takes the lot, which it does once the price is at or below what the lot sells for), so
    ``liquidate_maker`` prices the lot at ``min(oracle, market)``. (Priced at a lagging oracle, keepers paid
    929 USD a unit for stETH the market priced at 14.65: stETH -10.0% -> -26.0% on synthetic(1000, 5000,
    seed 0) at lag 2, ``monotone-synthetic1000-steth-bad-debt``, lowered bad debt $55M once close-factor
    liquidators counted the pool's slippage.)

    In the clip era (:func:`~core.engine.auction_vaults.clip_era`) keepers take the share of the round's lots their
    capital pays for and the rest of the barked vaults stays in its cohort for later rounds
    (:func:`~core.engine.auction_vaults.taken_share`); in the flip era (2020) keepers reach the same share of every
    lot and the rest clears at zero bids (:func:`~core.mechanisms.vault_auction.liquidate_maker_flip`).
    One capital (``cap``) meets the close-factor repayments and the auctions' lots, split pro rata to what each
    asks where it is short (:func:`core.engine.capital.split_capital`; ``auction_capacity``: the engine's split,
    ``cap`` then the close-factor share; each had the whole capital before, ``tests/test_one_capital.py``).
    Keepers' ask is the collateral of every Maker-style cohort due, whatever share of the close-factor capital
    the water-filling gives each
    (:mod:`core.engine.capital`). (The lot left out the cohorts whose ``limit`` was 0, so it moved with the
    allocation: once the water-filling cut SPARKLEND's and AAVE_GHO's stETH cohorts to 0, a deeper CBBTC fall took
    $454M of stETH out of round 1's lot ($2,277M -> $1,820M), raised what Sky's auctions fetched and cut Sky's bad
    debt $819.5M -> $757.6M: DAI ended at 0.9503 against 0.9444 and loss fell $87.7M,
    ``monotone-2025-cbbtc-capital-waterfill-dai``; bad debt fell $122M, ``...-waterfill-bad-debt``. Counting Sky's
    vaults alone instead broke ``monotone-synthetic1000-unbooked-bad-debt``, -$36M: vaults barked a round later
    at a lower price.)

    Computed on the cohorts due in some scenario only, the others left idle, where :func:`_due_only` allows it:
    every rule leaves a cohort with nothing due idle, and what reads other cohorts (a finite capital shared over a
    row, keepers' share of the round's lots) is then absent, so each cohort's figures are its own, the same to the
    last bit (``tests/test_engine_speed_paths.py`` compares the two); and each rule on its own cohorts among them
    (:func:`_by_rule`: synthetic(100k) auctions 14,865 of its 44,845 cohorts, which the close-factor rule
    computed too, as the auctions computed the others).

    ``Pd`` (S, c): each cohort's debt price, :func:`~core.engine.books.debt_price` of ``Po``, and ``below`` (S, c):
    the cohorts below their threshold, :func:`~core.engine.due.cohorts_due` of these arguments, where the caller has
    them (the liquidation step: computed once a round). A cohort liquidators stand aside from (``limit`` 0) is not
    due: its debt counts as 0 in the test, and its collateral's value at its threshold, never negative (collateral,
    prices and thresholds are not, and the spreads are at most 5% each: core.mechanisms.cohort_spread), is not
    below 0; so ``below`` without those cohorts is the test on ``lent``, the same bits.
    """
    return liquidate_due(c, coll, debt, Po, lt, bonus, cf, cap, halted, limit, Pc=Pc, market=market, spread=spread,
                         auction_capacity=auction_capacity, Pd=Pd, below=below, cost=cost).widened()


def liquidate_due(c: Compiled, coll: np.ndarray, debt: np.ndarray, Po: np.ndarray, lt: np.ndarray,
                  bonus: np.ndarray, cf: np.ndarray, cap: np.ndarray, halted: np.ndarray,
                  limit: np.ndarray | None = None, *, Pc: np.ndarray | None = None,
                  market: np.ndarray | None = None, spread: np.ndarray | None = None,
                  auction_capacity: np.ndarray | None = None, Pd: np.ndarray | None = None,
                  below: np.ndarray | None = None, cost: np.ndarray | None = None) -> Liquidated:
    """:func:`liquidate_cohorts` (its parameters), its result left on the cohorts computed (:class:`Liquidated`):
    the liquidation step reads it there, and widens only what it keeps over every cohort (synthetic(100k): some
    16,000 of 44,845 cohorts due a round)."""
    losing = None if limit is None else limit <= 0.0
    bound = None if limit is None or np.isinf(limit).all() else limit
    standing_aside = losing is not None and bool(losing.any())
    lent = np.where(losing, 0.0, debt) if losing is not None and standing_aside else debt  # not due; restored in _rules
    Pc = np.take(Po, c.c_ca, axis=1) if Pc is None else Pc  # Po[:, c_ca], by the faster gather
    Pd = debt_price(c, Po) if Pd is None else Pd  # a protocol's own coin at its peg
    spread = np.zeros_like(coll) if spread is None else spread  # Maker-style cohorts' vaults (auction_vaults.auction_spread0)
    if below is None:
        due = (coll * Pc * lt * (1.0 - c.c_spread - spread) < lent * Pd).any(0)  # its lowest positions, as the rules
    else:
        due = (below & ~losing).any(0) if losing is not None and standing_aside else below.any(0)
    j = _due_only(c, due, cap, auction_capacity, coll.shape)
    if j is None:
        return Liquidated(_rules(c, coll, debt, lent, Pc, Pd, lt, bonus, cf, cap, halted, losing, bound, due, market,
                                 spread, auction_capacity, cost), None, coll, debt)

    def of(x: np.ndarray, k: np.ndarray) -> np.ndarray:  # x[:, k], by the faster gather (the same elements)
        return x.take(k, axis=1)

    def cut(x: np.ndarray | None, k: np.ndarray) -> np.ndarray | None:
        return None if x is None else of(x, k)

    def rules_on(k: np.ndarray) -> lending.LiquidationResult:  # the rules on the cohorts k alone
        debt_k = of(debt, k)
        return _rules(Cohorts.of(c, k), of(coll, k), debt_k, debt_k if lent is debt else of(lent, k), of(Pc, k),
                      of(Pd, k), of(lt, k), of(bonus, k), of(cf, k), cap, halted, cut(losing, k), cut(bound, k), due[k],
                      cut(market, k), of(spread, k), auction_capacity, cut(cost, k))

    places = _by_rule(c, j)
    if places is None or len(places) == 1:  # one rule's cohorts: they are j
        return Liquidated(rules_on(j), j, coll, debt)
    # the rules' parts (disjoint, together j: _due_only) merged on j, in its order
    parts = [(rules_on(j[at]), at) for at in places]
    if sum(len(at) for _, at in parts) == len(j):  # (every column written by its part: no idle value to start from)
        return Liquidated(merged(parts, len(j)), j, coll, debt)
    return Liquidated(widened(parts, of(coll, j), of(debt, j)), j, coll, debt)


def _by_rule(c: Compiled, j: np.ndarray) -> list[np.ndarray] | None:
    """The cohorts ``j`` (sorted) split by the rule that liquidates them (close factor, auction, absorption), each
    part run on its own (a rule's cohorts are its own there: a cohort of another rule would be computed by every
    rule and dropped), as each part's places in ``j``; None (``j`` whole) where the close-factor rule's branch,
    with or without spreads, is set by another rule's cohorts (as on every cohort: :func:`_due_only`)."""
    maker, absorb, close = per_network(c, "cohort_rules", lambda: _cohort_rules(c))
    shut = np.flatnonzero(close[j])
    if shut.size and bool((c.c_spread[j[shut]] > 0).any()) != any_spread(c):
        return None
    return [at for at in (shut, np.flatnonzero(maker[j]), np.flatnonzero(absorb[j])) if at.size]


def _due_only(c: Compiled, due: np.ndarray, cap: np.ndarray, auction_capacity: np.ndarray | None,
              shape: tuple[int, ...]) -> np.ndarray | None:
    """The cohorts ``due`` (c,) to run the rules on, or None (every cohort): where they are at most half the
    cohorts, the batch has :data:`MIN_ROWS` scenarios or :data:`MIN_CELLS` cells, no capital is finite (a finite
    one is shared over a row's cohorts, :func:`~core.mechanisms.liquidators.capacity_pro_rata`, and keepers' over
    the row's lots, :func:`~core.engine.auction_vaults.taken_share`: sums whose pairing the idle cohorts' zeros
    set), the network has no Maker system (its vaults' mask and era are the network's, :mod:`core.engine.maker`)
    and the close-factor rule takes the same branch, with or without spreads, as on every cohort."""
    j = np.flatnonzero(due)
    if not (DUE_ONLY and (shape[0] >= MIN_ROWS or shape[0] * shape[1] >= MIN_CELLS) and 2 * j.size < due.size
            and c.maker is None and np.isinf(cap).all()
            and (auction_capacity is None or np.isinf(auction_capacity).all())
            and bool((c.c_spread[j] > 0).any()) == any_spread(c)):
        return None
    return j


def widened(parts: list[tuple[lending.LiquidationResult, np.ndarray]], coll: np.ndarray,
            debt: np.ndarray) -> lending.LiquidationResult:
    """``parts``, the rules' results each on its cohorts (disjoint), over every cohort: the others idle (their
    collateral and debt as they were, nothing seized, repaid or liquidated)."""
    out = {}
    for f_ in lending.LiquidationResult.__dataclass_fields__:
        full = (coll.copy() if f_ == "collateral_after" else debt.copy() if f_ == "debt_after"
                else np.zeros(coll.shape, bool if f_ == "liquidated" else float))
        for part, j in parts:
            put_columns(full, j, getattr(part, f_))  # (one scenario: its row's own assignment, the same elements)
        out[f_] = full
    return lending.LiquidationResult(**out)


def merged(parts: list[tuple[lending.LiquidationResult, np.ndarray]], m: int) -> lending.LiquidationResult:
    """:func:`widened` of ``parts`` that together are every one of the ``m`` columns (disjoint): each column is its
    part's, so no idle value is written first (new arrays, ``np.empty``, the same dtypes: the same elements)."""
    out = {}
    for f_ in lending.LiquidationResult.__dataclass_fields__:
        values = getattr(parts[0][0], f_)
        full = np.empty((values.shape[0], m), bool if f_ == "liquidated" else float)
        for part, j in parts:
            put_columns(full, j, getattr(part, f_))
        out[f_] = full
    return lending.LiquidationResult(**out)


def _rules(c: Compiled, coll: np.ndarray, full_debt: np.ndarray, debt: np.ndarray, Pc: np.ndarray, Pd: np.ndarray,
           lt: np.ndarray, bonus: np.ndarray, cf: np.ndarray, cap: np.ndarray, halted: np.ndarray,
           losing: np.ndarray | None, bound: np.ndarray | None, due: np.ndarray, market: np.ndarray | None,
           spread: np.ndarray, auction_capacity: np.ndarray | None,
           cost: np.ndarray | None = None) -> lending.LiquidationResult:
    """:func:`liquidate_cohorts` on the cohorts of ``c``: ``debt`` is ``full_debt`` with the cohorts liquidators
    stand aside from (``losing``) at 0, restored at the end; ``bound``: the limit where one applies; ``due`` (c,)
    the cohorts below their threshold in some scenario."""
    maker, absorb, close = per_network(c, "cohort_rules", lambda: _cohort_rules(c))
    results = []
    keepers = cap if auction_capacity is None else auction_capacity
    if (due & maker).any():
        # the cohort's lowest vaults, those below their ratio at the oracle (auctions.barked_share), are barked and
        # sold at no more than the market
        price = Pc if market is None else np.minimum(Pc, market)
        share, slice_coll, slice_debt, lots = auction_lots(coll, np.where(maker[None], debt, full_debt), Pc, Pd, lt,
                                                           maker[None], spread, price, bonus)
        if auction_capacity is None and (due & close).any() and np.isfinite(cap).any():  # one capital, split here
            ask = _close_factor(c, coll, debt, Pc, Pd, lt, bonus, cf, np.full_like(cap, np.inf), bound, due & close)
            paid = Pd if cost is None else cost  # the capital's USD (core.engine.capital.debt_cost)
            cap, keepers, _ = split_capital(cap, (ask.debt_repaid * paid)[:, close].sum(1), lots.sum(1))
    if (due & close).any():
        results.append((close, _close_factor(c, coll, debt, Pc, Pd, lt, bonus, cf, cap, bound, due & close, cost)))
    names = lending.LiquidationResult.__dataclass_fields__
    idle = {"collateral_after": coll, "debt_after": full_debt}

    def idle_value(name: str) -> np.ndarray:
        return idle[name] if name in idle else np.zeros(coll.shape, bool if name == "liquidated" else float)

    if (due & maker).any():
        barked = share > 0
        if clip_era(c):  # the lots keepers cannot pay for stay in their auctions, for later rounds
            taken = taken_share(lots, keepers)[:, None]
            slice_coll, slice_debt = slice_coll * taken, slice_debt * taken
            barked = barked & (slice_debt > 0)
            auction = lending.liquidate_maker(slice_coll, slice_debt, price, 1.0 / lt, bonus, 0.0, debt_price=Pd)
        else:  # flip.sol: keepers reach the same share of every lot, weighed by what they pay for it (at most its
            # tab), and the rest goes at zero bids (vault_auction.liquidate_maker_flip)
            auction = lending.liquidate_maker_flip(slice_coll, slice_debt, price, 1.0 / lt, bonus,
                                                   taken_share(lots, keepers)[:, None], debt_price=Pd)
        # the vaults not barked stay as they were; the barked ones' owners keep what their auctions hand back, as
        # free collateral (clip.take's vat.flux to the vault's owner; returned_to_owner): it leaves an anonymous
        # cohort's vaults, and a named borrower's one vault keeps it in its position, as its own
        unbarked = dict(collateral_after=coll - slice_coll, debt_after=full_debt - slice_debt)
        auction = lending.LiquidationResult(**{
            f_: np.where(barked, getattr(auction, f_) + unbarked[f_] if f_ in unbarked else getattr(auction, f_),
                         idle_value(f_)) for f_ in names})
        auction = returned_to_owner(c, auction, barked, coll - slice_coll)
        results.append((maker, auction))
    if (due & absorb).any():
        results.append((absorb, lending.liquidate_compound_v3(coll, debt, Pc, Pd, lt, bonus)))

    # a cohort whose rule did not run was not due: the other rules leave it idle too
    if not results:
        return lending.LiquidationResult(**{f_: idle_value(f_) for f_ in names})
    own_due = c.maker is not None and bool((due & c.maker.cohort_mask).any())  # due, but liquidated in core.engine.maker
    # each cohort takes its own rule's figures, idle where none is its own; the rules' arrays are new, so they
    # are written in place (the columns of the others, then the cells off)
    res = {f_: getattr(results[0][1], f_) for f_ in names}
    if len(results) > 1 or own_due:
        for mask, r_ in results[1:]:
            cols = np.flatnonzero(mask)
            for f_ in names:
                res[f_][:, cols] = getattr(r_, f_)[:, cols]
        rest = np.flatnonzero(~np.logical_or.reduce([mask for mask, _ in results]))
        if rest.size:
            for f_ in names:
                res[f_][:, rest] = idle[f_][:, rest] if f_ in idle else 0
    off = halted[:, None] if losing is None or not losing.any() else halted[:, None] | losing
    if off.any():
        for f_ in names:
            np.copyto(res[f_], idle[f_] if f_ in idle else (False if f_ == "liquidated" else 0.0), where=off)
    return lending.LiquidationResult(**res)


def _cohort_rules(c: Compiled) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(c,) each: the Maker-style cohorts auctioned here (the Maker system's own vaults go to core.engine.maker),
    the Compound v3 ones absorbed, and the close-factor ones (:func:`liquidate_cohorts`)."""
    maker, absorb = c.c_style == MAKER_AUCTION, c.c_style == ABSORB
    close = ~maker & ~absorb
    if c.maker is not None:
        maker = maker & ~c.maker.cohort_mask
    return maker, absorb, close


def _other_rules(c: Compiled) -> tuple[np.ndarray, bool]:
    """The cohorts of ``c`` another rule than the close factor's liquidates (Maker-style, Compound v3), and whether
    there is one (:func:`_close_factor`)."""
    other = (c.c_style == MAKER_AUCTION) | (c.c_style == ABSORB)
    return other, bool(other.any())


def _close_factor(c: Compiled, coll: np.ndarray, debt: np.ndarray, Pc: np.ndarray, Pd: np.ndarray, lt: np.ndarray,
                  bonus: np.ndarray, cf: np.ndarray, cap: np.ndarray, bound: np.ndarray | None,
                  due: np.ndarray, cost: np.ndarray | None = None) -> lending.LiquidationResult:
    """The close-factor rule (:func:`~core.mechanisms.lending.liquidate_aave`) over every cohort; run on the
    cohorts ``due`` (c,) in some scenario only, the others left idle, where no scenario's capacity is finite,
    they are most and the batch has :data:`MIN_ROWS` scenarios or :data:`MIN_CELLS` cells: the rule leaves a cohort with nothing due
    idle, and only a finite capacity, shared over a row's cohorts, reads them (the same to the last bit). The
    capacity is shared over the close-factor cohorts only, as :func:`core.engine.capital.capital_limit`
    water-fills it: a Maker-style cohort (keepers' share: :func:`~core.engine.auction_vaults.taken_share`) or a
    Compound v3 one (absorbed, no capital) is idle here and asks for none. (Counted, the cdp protocols'
    Maker-style cohorts, below their ratio at a deeper shock only, asked $1,849.4M beside the close-factor
    cohorts' $50.89M, left them $1.36M and the rest unused: loss fell $75.0M,
    ``monotone-synthetic1000-seed7-ftt-eth-e000504-runs-lag1-capital``.)"""
    j = np.flatnonzero(due)
    # (cut, the rule must take the same branch, with or without spreads, as on every cohort: limits.pool_demand)
    if not (DUE_ONLY and (coll.shape[0] >= MIN_ROWS or coll.size >= MIN_CELLS) and 2 * j.size < due.size
            and np.isinf(cap).all() and bool((c.c_spread[j] > 0).any()) == any_spread(c)):
        # another rule's cohorts: idle, nothing asked (once per network or view: none among a view of the close-factor
        # cohorts due, _by_rule's)
        other, any_other = per_network(c, "other_rules", lambda: _other_rules(c))
        res = lending.liquidate_aave(coll, np.where(other[None], 0.0, debt) if any_other else debt, Pc, Pd, lt,
                                     bonus, cf, c.c_full_close, cap, max_seize=bound, spread=c.c_spread,
                                     capacity_price=cost, safe_ratio=c.c_safe_ratio)
        if any_other:
            res.debt_after[:, other] = debt[:, other]  # (their collateral, and the zeros of the rest, are idle's already)
        return res
    part = lending.liquidate_aave(coll[:, j], debt[:, j], Pc[:, j], Pd[:, j], lt[:, j], bonus[:, j], cf[:, j],
                                  c.c_full_close[j], cap, max_seize=None if bound is None else bound[:, j],
                                  spread=c.c_spread[j], capacity_price=None if cost is None else cost[:, j],
                                  safe_ratio=c.c_safe_ratio[j])
    return widened([(part, j)], coll, debt)
