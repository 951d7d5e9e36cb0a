"""Step 1 of a round: liquidations of borrower cohorts at oracle prices, and bad debt on insurance funds.

Each cohort is valued at its protocol's oracle prices (``oracle_lag`` rounds
old; liquid-staking tokens with withdrawals at their redemption rate, a stablecoin some lenders fix at its peg at
that, a token some read at another asset's price at that one's, :mod:`core.engine.oracle`) and liquidated under its protocol's rules (:mod:`core.mechanisms.lending`:
close factor and bonus for Aave and Compound, auctions for Maker) within the
liquidators' capacity per round, shared by all protocols, which buys the debt token at the market's price
(:func:`core.engine.capital.debt_cost`; each unit repaid seizes at the oracle's): where it is scarce it goes where it earns most
(:mod:`core.engine.capital`), what liquidators take of a cohort is what they can sell at a profit
(:mod:`core.engine.limits`: under a lagging oracle, and of collateral a pool prices at any lag), and
Maker-style auctions clear at what their lots fetch (:mod:`core.engine.auctions`). Repayments arrive
at the protocol in the debt token; seized collateral is sold in the sell step;
a position left with debt and no collateral is bad debt, booked at the
protocol and paid first from its insurance fund (:mod:`core.engine.insurance`, re-exported here).
"""

from __future__ import annotations

import numpy as np

from .auction_vaults import (auction_cohorts, auction_lots, barked_share, clip_era, spread_after_barks)
from .auctions import clearing_prices
from .capital import capital_limit, close_factor_ask, debt_cost, split_capital
from .cohort_rules import liquidate_cohorts as liquidate_cohorts  # the rules (importable from here)
from .cohort_rules import liquidate_due
from .columns import put_columns
from .grouping import Group
from .limits import Cohorts, limit_terms, limit_units, liquidator_limit, pool_demand, pool_priced
from .batch import ScenarioBatch
from .books import add_to_holdings, booked_units, debt_price
from .compiled import MAKER_AUCTION, Compiled
from .due import cohorts_due, any_liquidatable as any_liquidatable, due_rows as due_rows  # importable from here
from .fees import kept_by_protocol, outside_borrowers_paid, paid_from_outside
from .insurance import insurance as insurance  # the round's insurance step, run as liquidate.insurance
from .insurance import handed_back, pooled_backing as pooled_backing, pooled_value as pooled_value  # importable from here
from .known_zeros import known_zero, take_rows
from .maker_ask import keeper_ask
from .maker_end import caged_at
from .loop_swaps import loop_cohorts, swapped_back
from .memo import per_network
from .repaid_units import buy_repaid_units, float_outside, repaid_algorithmic
from .sell import add_columns_in_order, unwrap_units
from .oracle import cohort_oracle_prices, fixed_oracle, oracle_prices, redeemable_tokens, redemption_rate_prices
from .state import CascadeState, Changes


#: Compute only the scenarios with something due (off: every row, as the rules would; tests compare the two).
SKIP_IDLE_ROWS = True
#: Share of the rows due (not halted) from which every row is computed, as with SKIP_IDLE_ROWS off: gathering the rows
#: due and writing them back then costs more than the rules on the few idle ones (a Monte Carlo on the 2022 network:
#: 98% of the rows still running are due from round 3).
EVERY_ROW_SHARE = 0.9
#: Weigh liquidators' limit for the cohorts due only (off: every cohort; tests compare the two).
SKIP_IDLE_COHORTS = True
#: Fewest cohorts for which a liquidation's repayments are added for the cohorts repaying only (one scenario over a table of positions: a cohort of 1,000,000 rows, 18% of them due
#: after round 2, spent 36% of its cascade's CPU in the rule over every cohort).
MIN_COHORTS = 4_096


#: Rows computed from which the repayments are added by passes of indexed adds (sell.add_columns_in_order):
#: np.add.at's cost grows with the values added, the passes' with the cohorts sharing a protocol and debt token
#: (31 on the 2022 network: fewer rows than this, np.add.at is the cheaper).
IN_ORDER_ROWS = 256


def liquidate(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> Changes:
    """Reads ``P, price_history, coll, debt, lt_eff, bonus_eff, cf_eff, halted``; writes ``coll, debt, liq_loss, bad_units,
    bad, sold, liq_by_proto, cohort_bad, liq_total, fee_income, oa, borrowers_penalty, borrowers_penalty_in`` (the
    protocols' share of seized collateral, :mod:`core.engine.fees`, at its value when seized), ``maker_capital`` (where a capacity is finite: the Maker
    system's keepers' share of the round's capital beside the close-factor cohorts and the auctions,
    :func:`core.engine.capital.split_capital`, their ask :func:`core.engine.maker_ask.keeper_ask`) and, in place,
    the repayments into ``H`` (an algorithmic coin's units repaid beyond those held outside the network are bought
    from its holders in the network at its market price, :mod:`core.engine.repaid_units`: their units in ``H``,
    their cash in ``oa``), and ``pooled_free`` (what a pooled collateral's barked vaults got back,
    :func:`~core.engine.insurance.handed_back`).

    Only the scenarios with a cohort below its threshold, not halted, are computed (:func:`due_rows`); every
    other row keeps its positions and tallies and books nothing, exactly what the rules give a row with
    nothing due, and a row's figures never depend on the other rows, so this is the same to the last bit."""
    owed = repaid_algorithmic(c)
    before = float_outside(c, s, owed) if owed.size else None
    changes, left = _liquidate(c, s, b)
    if before is not None:  # units repaid beyond the float outside are bought from holders in the network
        bought = buy_repaid_units(c, s, before, owed, changes.get("oa", s.oa))
        if bought is not None:
            changes["oa"] = bought
    if np.isfinite(b.capacity).any():  # what the round's liquidations leave of the capital (core.engine.capital)
        changes["maker_capital"] = left
    if (r == 0 or r in b.forcing_rounds or caged_at(s, r)) and s.cohort_bad is not None:  # the round's opening
        #   booked a shut-down Maker's gap (maker_end.cage: round 0, the round its failure is dated to, or the round
        #   after the clearing put it in default)
        booked = changes.get("cohort_bad")
        changes["cohort_bad"] = s.cohort_bad if booked is None else s.cohort_bad + booked
    return changes


def positive_zeros(H: np.ndarray, rows: np.ndarray | None, cells: np.ndarray) -> None:
    """``H[rows][:, cells // k, cells % k] += 0.0`` in place (``rows`` None: every row; ``cells`` flat positions in a
    row's (n, k)): adding 0.0 leaves every value as it is but -0.0, which becomes 0.0, so the cells are read and
    the add made only where one of them holds -0.0 (the same bits, without a write per cell)."""
    k = H.shape[2]
    flat = H.reshape(len(H), -1)  # read only (a copy where H is not contiguous)
    values = np.take(flat, cells, axis=1) if rows is None else flat[np.asarray(rows)[:, None], cells]
    if negative_zeros(values):
        H[slice(None) if rows is None else np.asarray(rows)[:, None], cells // k, cells % k] += 0.0


def negative_zeros(x: np.ndarray) -> bool:
    """Whether ``x`` holds a -0.0: ``(np.signbit(x) & (x == 0.0)).any()``, asked only where some sign bit is set
    (the state's tallies are mostly +0.0 and positive: one pass of three saved, synthetic(100k)'s 100,000 entities)."""
    negative = np.signbit(x)
    return bool(negative.any()) and bool((negative & (x == 0.0)).any())


def _liquidate(c: Compiled, s: CascadeState, b: ScenarioBatch) -> tuple[Changes, np.ndarray]:
    """:func:`liquidate`'s changes, and the Maker system's keepers' share of the round's capital, (S,)."""
    sold = np.zeros_like(s.P)
    if not len(c.c_coll):
        return dict(sold=sold, liq_by_proto=None, cohort_bad=None), b.capacity
    P = s.P
    Po = oracle_prices(s.price_history, b.lag, P) if b.any_lag else P
    redeemable = len(redeemable_tokens(c)) > 0
    Pc = None
    if redeemable:  # liquid-staking tokens with withdrawals at their redemption rate (core.engine.oracle), but
        # in Maker-style vaults, whose wstETH oracle medianises the market's stETH/ETH
        market = Po
        Po = redemption_rate_prices(c, market)
        Pc = np.where((c.c_style == MAKER_AUCTION)[None], np.take(market, c.c_ca, axis=1), np.take(Po, c.c_ca, axis=1))
    # each cohort's debt and collateral prices at the oracle, once a round for the due test, the auctions and the rules
    Pdo = debt_price(c, Po)  # the debt token's price to its protocol: a protocol's own coin at its peg
    fixed = fixed_oracle(c)
    if fixed is not None:  # a stablecoin some protocols' oracles fix at its peg, a token some read at another
        # asset's price (core.engine.oracle)
        Pc, Pdo = cohort_oracle_prices(c, np.take(Po, c.c_ca, axis=1) if Pc is None else Pc, Pdo, Po)
    Poc = np.take(Po, c.c_ca, axis=1) if Pc is None else Pc  # Po[:, c_ca], by the faster gather (the same elements)
    below = cohorts_due(c, s.coll, s.debt, Po, s.lt_eff, Poc, s.auction_spread, Pdo)
    rows = below.any(1)
    if not rows.any():
        return dict(sold=sold, liq_by_proto=None, cohort_bad=None), b.capacity
    rows = rows & ~s.halted if SKIP_IDLE_ROWS else np.ones_like(rows)  # a halted scenario liquidates nothing
    if not rows.any():
        return dict(sold=sold, liq_by_proto=np.zeros_like(s.oa), cohort_bad=np.zeros_like(s.coll)), b.capacity
    if np.count_nonzero(rows) >= EVERY_ROW_SHARE * rows.size:  # nearly every row: all of them (the same bits)
        rows = np.ones_like(rows)
    every = bool(rows.all())
    ix = np.flatnonzero(rows)

    gathered: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # id -> (array, its rows computed)

    def sub(x: np.ndarray) -> np.ndarray:  # the rows computed (ndarray.take: the same elements, the faster gather),
        # each array's gathered once and shared, as every row's path shares the array itself (the rules read their
        # arguments only): the oracle's prices, thresholds and bonuses were gathered up to 7 times a round
        if every:
            return x
        kept = gathered.get(id(x))
        if kept is None or kept[0] is not x:
            kept = gathered[id(x)] = (x, take_rows(x, ix))  # (known zeros: new zeros, core.engine.known_zeros)
        return kept[1]

    def put(full: np.ndarray, part: np.ndarray) -> np.ndarray:  # ``full`` with the rows computed replaced
        if every:
            return part
        out = full.copy()
        out[ix] = part
        return out

    def plus(full: np.ndarray, added: np.ndarray | float) -> np.ndarray:  # ``put(full, sub(full) + added)``
        # adding a zero (either sign) leaves a value as it is but -0.0 (+0.0 makes it 0.0): where nothing is added
        # and the rows computed hold no -0.0, ``full`` itself, the same bits without copying it
        nothing = not (added if isinstance(added, float) else added.any())  # np.any(added), without its wrapper
        if nothing and known_zero(full):  # +0.0 throughout (core.engine.known_zeros): no -0.0 in it
            return full
        part = sub(full)
        if nothing and not negative_zeros(part):
            return full
        return put(full, part + added)

    def placed(like: np.ndarray, part: np.ndarray) -> np.ndarray:  # ``put(np.zeros_like(like), part)``, one array
        out = np.zeros_like(like)
        out[ix] = part
        return out

    Pr, Por, coll, debt = sub(P), sub(Po), sub(s.coll), sub(s.debt)
    unwrap_memo: list[np.ndarray | None] = []

    def unwrapped() -> np.ndarray | None:  # sell.unwrap_units, once a call: the limits and the loop swaps read it
        if not unwrap_memo:
            unwrap_memo.append(unwrap_units(c, s, b))
        return unwrap_memo[0]

    limit = None
    every_terms = None  # every cohort's limit terms of every row, where weighed (capital_limit reads them)
    # liquidators weigh the trade where an oracle is apart from the market, and where a pool prices the collateral
    # they swap in the liquidation's transaction, whatever the lag (core.engine.limits.liquidator_limit)
    pooled = pool_priced(c)
    if b.any_lag or redeemable or pooled.any() or fixed is not None:
        apart = per_network(c, "liquidate_apart", lambda: (  # weighed whatever the lag
            np.isin(c.c_ca, redeemable_tokens(c)) | np.isin(c.c_da, redeemable_tokens(c)) | pool_priced(c)
            | np.isin(np.arange(len(c.c_ca)), [] if fixed is None else fixed.cohorts)))
        unwrap = unwrapped()
        # weighed for the cohorts due in a row computed only, where no capital is scarce (core.engine.capital reads
        # every cohort's): :func:`liquidate_cohorts` reads no other cohort's limit (a cohort not due is left idle,
        # whatever its limit), so the others stand unlimited (inf), the same to the last bit (limits.Cohorts)
        due = np.flatnonzero((below if every else below[rows]).any(0))  # (every row: the mask itself, not a copy)
        cut = SKIP_IDLE_COHORTS and 2 * due.size < len(c.c_ca) and not np.isfinite(b.capacity).any()
        if cut and not (sub(b.lag) > 0).any():
            # no row's oracle lags: liquidators weigh the cohorts apart only (liquidator_limit's ``weighed``), every
            # other's limit is inf whatever its terms, and a pool's fill reads the cohorts its pool prices, all of
            # them apart: weighed for the cohorts due and apart alone, the same limits to the last bit
            # (synthetic(100k): 9,894 of 17,968 cohorts due a round)
            due = due[apart[due]]
        if cut and not due.size:  # none weighed: every limit inf, as the rule would give
            limit = np.full(coll.shape, np.inf)
        else:
            few, cols = (Cohorts.of(c, due), due) if cut else (c, slice(None))
            bonus = np.take(sub(s.bonus_eff), due, axis=1) if cut else sub(s.bonus_eff)  # [:, cols], the faster gather
            demand = pool_demand(c, coll, debt, Por, sub(s.lt_eff), sub(s.bonus_eff), sub(s.cf_eff), sub(Poc),
                                 due if cut else None, sub(Pdo))
            if every and not cut and np.isfinite(b.capacity).any():
                # liquidator_limit with its terms kept: every cohort of every row weighed, they are the capital
                # search's (core.engine.capital.capital_limit), read there rather than computed again
                every_terms = limit_terms(c, Pr, Por, bonus, s.sold_reference_usd, s.supply, b.liquidity, unwrap,
                                          s.pool_res)
                part = limit_units(c, every_terms, b.lag, apart, demand)
            else:
                part = liquidator_limit(few, Pr, Por, bonus, sub(s.sold_reference_usd), sub(s.supply),
                                        sub(b.liquidity), sub(b.lag), apart[cols], None if unwrap is None else sub(unwrap),
                                        sub(s.pool_res), demand)
            limit = part
            if cut:
                limit = np.full(coll.shape, np.inf)
                put_columns(limit, due, part)
    scarce = bool(np.isfinite(b.capacity).any())
    close_capital = auction_capital = maker_capital = b.capacity
    cost = None  # what the capital pays for the debt token: where it binds only
    if scarce:  # one capital a round for every rule (core.engine.capital.split_capital): what the close-factor
        # rule asks, on every row (it reads the state whole), its rows computed taken: a row's figures read its own
        full = None if limit is None else put(np.full(s.coll.shape, np.inf), limit)
        cost = debt_cost(c, P, Po)  # the capital buys the debt token at the market (core.engine.capital.debt_cost)
        ask = close_factor_ask(c, s, Po, Pc, full, (Pdo, cost))
        maker_ask = keeper_ask(c, s, b)  # the Maker system's keepers', whose step comes after (core.engine.maker_ask)
    # Maker-style auctions clear at what their lots fetch (core.engine.auctions), read on the rows computed (each
    # row's descent stops at its own settled step: the rows computed alone give their prices to the last bit)
    cleared = clearing_prices(c, s, b, s.coll, s.debt, Poc, Pdo, s.lt_eff,
                              s.bonus_eff, ask.sum(1) if scarce else None, maker_ask if scarce else None,
                              due=np.asarray(below.any(0)), rows=None if every else ix)
    # each cohort's collateral at the market (the oracle's gather where the oracle reads the market: the same elements)
    Pca = Poc if every and Po is P and Pc is None else np.take(Pr, c.c_ca, axis=1)
    sell_at = Pca if cleared is None else np.take(cleared, c.c_ca, axis=1)
    if scarce:  # the capital split over the close-factor cohorts and the auctions' lots at their clearing price;
        # the close-factor share goes where it earns most (core.engine.capital.capital_limit)
        Pcr = sub(Poc)
        lots = auction_lots(coll, debt, Pcr, sub(Pdo), sub(s.lt_eff), auction_cohorts(c)[None],
                            sub(s.auction_spread), np.minimum(Pcr, sell_at), sub(s.bonus_eff))[3]
        close_capital, auction_capital, maker_capital = split_capital(b.capacity, ask.sum(1),
                                                                      put(np.zeros(b.S), lots.sum(1)), maker_ask)
        limit = capital_limit(c, s, b, P, Po, Poc, full, close_capital, ask, every_terms, (Pdo, cost))
        limit = None if limit is None else sub(limit)
    done = liquidate_due(c, coll, debt, Por, sub(s.lt_eff), sub(s.bonus_eff), sub(s.cf_eff), sub(close_capital),
                         sub(s.halted), limit, Pc=sub(Poc), market=sell_at, spread=sub(s.auction_spread),
                         auction_capacity=sub(auction_capital), Pd=sub(Pdo), below=sub(below),
                         cost=None if cost is None else sub(cost))
    # the rules' figures on the cohorts computed (done.cols, or every one): read there, and widened only where kept
    # over every cohort (the others' figures are zeros, and left out of the sums: Group.some, the same bits)
    res, at, computed = done.part, done.of, done.cols
    after_coll, after_debt = done.full("collateral_after"), done.full("debt_after")

    def summed(group: Group, w: np.ndarray) -> np.ndarray:  # group sums of the cohorts computed's figures
        return group(w) if computed is None else group.some(w, computed)

    named = c.c_named
    # the named borrowers' equity lost: before less after (each cohort's own: only theirs computed, the same bits);
    # with none, 0.0 added to their losses, as the zeros of their sums would be
    lost: np.ndarray | float = 0.0
    if c.by_borrower.idx.size:
        Pn, Pdn = Pca[:, named], Pr[:, c.c_da[named]]
        before = np.maximum(coll[:, named] * Pn - debt[:, named] * Pdn, 0.0)
        after = np.maximum(after_coll[:, named] * Pn - after_debt[:, named] * Pdn, 0.0)
        lost = c.by_borrower((before - after) * done.full("liquidated")[:, named])
    # Repayments arrive in the debt token (np.add.at's order, to the last bit).
    if s.H.flags.c_contiguous and len(coll) >= IN_ORDER_ROWS:
        add_columns_in_order(s.H.reshape(len(s.H), -1), None if every else ix, c.c_proto * s.H.shape[2] + c.c_da,
                             done.full("debt_repaid"))
    elif coll.shape[1] >= MIN_COHORTS:  # the cohorts repaying in a row computed only: adding 0.0 leaves a cell as it
        # is but for -0.0, which the first add makes 0.0, so every cohort's cell takes 0.0 first (the same bits)
        cells = per_network(c, "repaid_cells", lambda: np.unique(c.c_proto * s.H.shape[2] + c.c_da))
        positive_zeros(s.H, None if every else ix, cells)
        hit = np.flatnonzero(res.debt_repaid.any(0))
        paid = hit if computed is None else computed[hit]
        add_to_holdings(s.H, None if every else ix, c.c_proto[paid], c.c_da[paid], res.debt_repaid.take(hit, axis=1))
    else:
        add_to_holdings(s.H, None if every else ix, c.c_proto, c.c_da, done.full("debt_repaid"))
    liq_usd = res.collateral_seized * at(Pca)

    def to_book(seized: np.ndarray, repaid: np.ndarray, cohorts: np.ndarray | None) -> np.ndarray:
        # a loop's liquidator swaps the seized collateral back into the debt it repaid: only the rest is sold
        # (core.engine.loop_swaps); no loop on the network: the seized units themselves
        if not loop_cohorts(c)[0].any():
            return seized
        per_unit = unwrapped()
        return swapped_back(c, seized, repaid, None if per_unit is None else sub(per_unit), cohorts)

    sold_r = sold if every else np.zeros_like(Pr)
    fee_income, oa, borrowers_penalty, penalty_in = s.fee_income, s.oa, s.borrowers_penalty, s.borrowers_penalty_in
    if c.fees is not None and c.fees.any:
        # the protocol's treasury or reserves keep their share of the collateral (core.engine.fees), outside the
        # suppliers' pool; liquidators sell the rest. With no named borrower (synthetic networks) every cohort's
        # borrowers are outside the network: what they paid is the protocols' whole income, its sums the same
        # array's (paid_from_outside's np.where of no cohort: the same values, summed alike)
        anonymous = per_network(c, "no_named_cohorts", lambda: not c.c_named.any())
        if coll.shape[1] >= MIN_COHORTS:  # of the cohorts seized from only: the others' share of nothing is 0.0
            hit = np.flatnonzero(res.collateral_seized.any(0))
            seized = hit if computed is None else computed[hit]
            kept = np.zeros_like(res.collateral_seized)
            put_columns(kept, hit, kept_by_protocol(c, res.collateral_seized.take(hit, axis=1),
                                                    sub(s.bonus_eff).take(seized, axis=1), seized))
            sold_r += summed(c.by_coll_asset, to_book(res.collateral_seized - kept, res.debt_repaid, computed))
            paid_seized = kept.take(hit, axis=1) * Pca.take(seized, axis=1)
            paid_usd = np.zeros_like(coll)  # (kept x price: 0.0 at every cohort not seized from)
            put_columns(paid_usd, seized, paid_seized)
            income = c.by_proto.some(paid_seized, seized)
            from_outside = (income if anonymous  # (paid_from_outside of no named cohort: the same values)
                            else c.by_proto.some(paid_from_outside(named[seized], paid_seized), seized))
        else:
            seized_all = done.full("collateral_seized")
            kept = kept_by_protocol(c, seized_all, sub(s.bonus_eff))
            sold_r += c.by_coll_asset(to_book(seized_all - kept, done.full("debt_repaid"), None))
            paid_usd = kept * Pca
            income = c.by_proto(paid_usd)
            from_outside = income if anonymous else c.by_proto(paid_from_outside(named, paid_usd))
        fee_income = plus(s.fee_income, income)
        oa = plus(s.oa, income)
        # what the borrowers outside the network (cohorts with no named borrower) paid into it: their loss
        # (core.engine.fees.outside_borrowers_paid)
        borrowers_penalty = plus(s.borrowers_penalty,
                                 paid_usd.sum(1) if anonymous else outside_borrowers_paid(named, paid_usd))
        penalty_in = plus(s.borrowers_penalty_in, from_outside)  # by the protocol that booked it, its receiver
    else:
        sold_r += summed(c.by_coll_asset, to_book(res.collateral_seized, res.debt_repaid, computed))
    bad_debt = done.full("bad_debt")
    liq_by_proto, cohort_bad = summed(c.by_proto, liq_usd), bad_debt
    liq_usd = done.widen(liq_usd)  # every cohort's, for the row's total (the zeros set its sum's pairs too)
    if not every:
        sold[ix] = sold_r
        liq_by_proto = placed(s.oa, liq_by_proto)
        cohort_bad = placed(s.coll, cohort_bad)
    spread = s.auction_spread
    if res.liquidated.any() and spread.any():  # the barked vaults leave their cohort's spread (auction_vaults.spread_after_barks)
        # of the cohorts liquidated in a row computed and spread in one only: any other keeps its spread (a share of
        # 0 leaves it, and a spread of 0 stays 0: the share is at most 1), the same bits at their cost alone
        was = sub(spread)
        hit = np.flatnonzero(res.liquidated.any(0) & (at(was) != 0).any(0))
        k = hit if computed is None else computed[hit]

        def of(x: np.ndarray) -> np.ndarray:  # x[:, k], by the faster gather (the same elements)
            return x.take(k, axis=1)

        debt_k, was_k = of(debt), of(was)
        after_k, liquidated_k = res.debt_after.take(hit, axis=1), res.liquidated.take(hit, axis=1)
        Pcr = np.take(sub(Poc), k, axis=1)
        share, _ = barked_share(of(coll), debt_k, Pcr, of(sub(Pdo)), of(sub(s.lt_eff)), liquidated_k, was_k)
        if clip_era(c):  # only the share keepers took leaves (auction_vaults.taken_share); where they took it all
            # the debt left is the unbarked vaults' to the last bit, and the share is barked_share's
            with np.errstate(divide="ignore", invalid="ignore"):
                taken = 1.0 - after_k / np.where(debt_k > 0, debt_k, 1.0)
            share = np.where(liquidated_k & (debt_k > 0) & (after_k != debt_k - debt_k * share), taken, share)
        now = was.copy()
        put_columns(now, k, spread_after_barks(was_k, share))
        spread = put(spread, now)
    changes = {}
    # a pooled collateral's remainder stays in its pool (insurance.pooled_backing); none without one (handed_back)
    free = (handed_back(c, coll, after_coll, done.full("collateral_seized"))
            if res.liquidated.any() and c.pooled_collateral.any() else None)
    if free is not None:  # a cohort not liquidated barked no vault: nothing handed back, whatever its batch-mates
        # (its collateral's rounding residue, 7.3e-10 of Sai's ETH on crypto-2020-03, was handed back only where a
        # batch-mate's liquidation made the step compute this at all; session 42 (batch))
        free = np.where(done.full("liquidated"), free, 0.0)
    if free is not None and free.any():
        changes["pooled_free"] = put(s.pooled_free, sub(s.pooled_free) + free)
    if res.bad_debt.any():
        bad, bad_units = plus(s.bad, c.by_proto(bad_debt)), plus(s.bad_units, booked_units(bad_debt, sub(Pdo)))
    else:  # no bad debt booked (synthetic(100k) after round 2): the protocols' sums and the units are all 0.0, and
        # adding 0.0 leaves each value but -0.0, which becomes 0.0: the same bits without the sums and the division
        bad, bad_units = plus(s.bad, 0.0), plus(s.bad_units, 0.0)
    return dict(coll=put(s.coll, after_coll), debt=put(s.debt, after_debt), fee_income=fee_income, oa=oa,
                borrowers_penalty=borrowers_penalty, borrowers_penalty_in=penalty_in, auction_spread=spread, liq_loss=plus(s.liq_loss, lost),
                bad=bad, bad_units=bad_units, sold=sold, liq_by_proto=liq_by_proto,
                cohort_bad=cohort_bad, liq_total=plus(s.liq_total, liq_usd.sum(1)), **changes), maker_capital
