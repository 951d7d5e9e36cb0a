r"""Liquidators' capital in a round: where it goes when the cohorts due ask for more than there is.

Model. Liquidators are profit-seeking and their capital (``liquidator_capacity_usd`` a round) goes where it
earns most [Qin et al., "An Empirical Study of DeFi Liquidations: Incentives, Risks, and Instabilities"
(IMC 2021): liquidators race for the most profitable opportunities]. A liquidation of cohort :math:`i` earns
the margin :math:`L_i` (its bonus net of the gap between oracle and market,
:func:`~core.engine.limits.liquidation_margin`) less the impact of the liquidator's own sale, which grows
with the size taken (:func:`~core.engine.limits.liquidator_limit`). With the capital scarce, each cohort is
liquidated until its marginal margin falls to a common level :math:`\lambda` (water-filling, the competitive
equilibrium of a fixed capital): :math:`q_i(\lambda)` is the size whose own sale's impact is
:math:`L_i - \lambda` (0 where :math:`L_i \le \lambda`), at most the close factor's, and :math:`\lambda`
is the lowest level whose repayments :math:`\sum_i q_i(\lambda) P^o_i / (1 + b_i)`, paid for at the debt token's
market price (:math:`\times P^m_{d,i} / P^o_{d,i}`, :func:`debt_cost`), fit in the capital
(bisection, its steps verified several at a time along a guess of :math:`\lambda` in closed form,
:mod:`core.engine.level_guess`; repayments fall as :math:`\lambda` rises). The allocation moves continuously with the margins:
cohorts of nearly equal margin share the capital, and one whose margin is higher takes more of it. A
token without order-book impact (a stablecoin, whose price a peg sets) is taken whole while its margin
exceeds :math:`\lambda`; what the level leaves over the capital is shared pro rata
(:func:`~core.mechanisms.lending.liquidate_aave`'s capacity). (Shared pro rata to the debt repaid, a
deeper stETH fall on crypto-2025-10 made more of AAVE_ETH's stETH/ETH loops due, whose E-mode bonus is 1%,
and took capital from BTC-collateral cohorts with bonuses of 4-7%: less BTC was sold by the horizon and loss
fell $0.55bn, ``monotone-2025-steth-capacity-sharing-horizon``; served strictly in order of margin, the
order of two cohorts whose margins differed by rounding decided which collateral was sold.) The capital is the
round's one for every rule: the close-factor cohorts have the share :func:`split_capital` gives them beside the
Maker-style auctions and the Maker system's keepers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..mechanisms import lending
from .batch import batch_take
from .books import debt_price
from .compiled import ABSORB, BID_QUEUE, CLOSE_FACTOR, MAKER_AUCTION
from .level_guess import level_guess
from .level_search import LEVEL_STEPS as LEVEL_STEPS, bisect, bisect_guided
from .limits import (Cohorts, LimitTerms, PoolTerms, limit_terms, limit_units, pool_priced,
                     pool_rooms)
from .memo import per_network
from .oracle import fixed_oracle
from .sell import unwrap_units

if TYPE_CHECKING:
    from .batch import ScenarioBatch
    from .compiled import Compiled
    from .state import CascadeState

#: Guess the level from the repayments' excess and verify the bisection's steps towards it several at a time
#: (:func:`~core.engine.level_search.bisect_guided`; off: :func:`~core.engine.level_search.bisect`'s trees; tests compare the two, to the last bit).
GUIDED = True
#: Start the guided search along a guess of the level in closed form (:func:`~core.engine.level_guess.level_guess`;
#: off: a tree over the whole interval first; tests compare the two, to the last bit).
GUESS_LEVEL = True
#: Bound the pool-priced cohorts' units before solving their pools (off: solve at every level tried, as the
#: search did before; tests compare the two, to the last bit).
BOUND_POOL_COHORTS = True


#: The largest float: :func:`numpy.nan_to_num`'s stand-in for ``inf`` (its negative for ``-inf``).
_FLOAT_MAX = float(np.finfo(float).max)


def _finite(x: np.ndarray) -> np.ndarray:
    """``np.nan_to_num(x)`` of a float64 array, the same bits (NaN to 0.0, ``+-inf`` to ``+-`` the largest float,
    every other value, ``-0.0`` included, as it is), in four ufunc calls without its dtype lookups (a row of 40:
    18 -> 5.5 us; :func:`capital_limit`'s search takes it every evaluation with an infinite ask, and
    :func:`marginal_share` twice a search)."""
    return np.minimum(np.maximum(np.where(np.isnan(x), 0.0, x), -_FLOAT_MAX), _FLOAT_MAX)


def split_capital(capacity: np.ndarray, close_ask: np.ndarray, auction_ask: np.ndarray,
                  maker_ask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""The round's one capital :math:`K` (``capacity`` (S,)) split between the close-factor cohorts, the
    Maker-style auctions and the Maker system's keepers: ``(close-factor capital, auctions' capital, Maker
    system's capital)``, each (S,).

    Model. Liquidators and keepers draw on one capital a round (``liquidator_capacity_usd``): a dollar that repays
    an Aave-style loan is not also a keeper's bid. Each rule asks its own USD: :math:`A`, what the close-factor
    rule repays at the liquidators' limits (``close_ask``), :math:`V`, what keepers pay for the round's
    Maker-style lots (``auction_ask``, :func:`~core.engine.auction_vaults.auction_lots`: a lot's value at the price
    it clears at, at most its tab), and :math:`M`, what the network's Maker system's keepers pay for its barks
    and live auctions (``maker_ask``, :func:`core.engine.maker_ask.keeper_ask`; None: 0). Where
    :math:`A + V + M \le K` the close-factor cohorts and the auctions each have the capital (they take what they
    ask) and the Maker system has :math:`K - A - V` (at least its ask; :func:`core.engine.maker_ask.keeper_capacity`);
    where it is more, the capital is shared pro rata to what each asks, :math:`K A / T`, :math:`K V / T` and
    :math:`K M / T` with :math:`T = A + V + M`, so all three are served the same share :math:`K / T` of their ask.
    Within its share the close-factor capital goes where it earns most (:func:`capital_limit`), the auctions'
    takes the same share of every lot (:func:`~core.engine.auction_vaults.taken_share`), the Maker system's its
    auctions' pro rata (:func:`~core.mechanisms.maker_clip.clip_round`). [Qin et al., IMC 2021: liquidators race for profitable
    liquidations on every protocol at once; Maker's keepers bid the same stablecoin capital in ``clip.sol``'s
    Dutch auctions (Liquidation 2.0, MIP45). The pro-rata split across the rules is a model choice: the auctions
    have no margin comparable to the close-factor bonus net of the sale's impact (a Dutch auction's price falls
    until the lot is taken at what it sells for), so their ask, not a margin, weighs them.] The split moves
    continuously with every ask; with :math:`K = \infty` every rule has the whole capital. Where the other rules
    ask nothing a rule has :math:`K` exactly; with :math:`M = 0` the first two shares are the split of two's."""
    maker_ask = np.zeros_like(close_ask) if maker_ask is None else maker_ask
    both = close_ask + auction_ask
    total = both + maker_ask
    tight, over = total > capacity, np.where(total > 0, total, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        close = np.where(tight & (auction_ask + maker_ask > 0), capacity * (close_ask / over), capacity)
        auctions = np.where(tight & (close_ask + maker_ask > 0), capacity * (auction_ask / over), capacity)
        maker = np.where(tight, np.where(both > 0, capacity * (maker_ask / over), capacity), capacity - both)  # inf - x = inf
    return close, auctions, maker


def debt_cost(c: Compiled, P: np.ndarray, Po: np.ndarray) -> np.ndarray | None:
    r"""USD the liquidators' capital pays for a unit of each cohort's debt repaid, (S, c): the debt token at the
    market's price ``P`` (the engine's books before the round's sales), a protocol's own coin at its peg
    (:func:`~core.engine.books.debt_price` of ``P``); None where the oracle's prices ``Po`` are the market's
    (the protocol's price then, the same bits).

    Model. A liquidation repays the debt in its token and seizes collateral at the oracle's prices: Aave v3
    ``LiquidationLogic.executeLiquidationCall`` transfers ``actualDebtToLiquidate`` of the debt asset from the
    liquidator (``safeTransferFrom``) and ``_calculateAvailableCollateralToLiquidate`` seizes
    ``debtAssetPrice * debtToCover / collateralAssetPrice`` times the bonus, both prices the oracle's; Compound
    v2 ``liquidateBorrow`` likewise; Anchor's liquidation queue fills bids of UST its bidders deposited
    (``liquidation_queue`` ``submit_bid``: the bid is the ``uusd`` sent with it) at the oracle's price less the
    slot's premium. How the liquidator comes by the debt token is outside the protocol: it buys it in the market,
    at the market's price :math:`P^m_{debt}`, from whoever holds it (outside the network, or its holders in it at
    that price, :mod:`core.engine.repaid_units`), as :func:`~core.engine.limits.liquidation_margin` already
    prices it. So a capital :math:`K` repays :math:`K / P^m_{debt}` units, each seizing what the oracle's
    :math:`P^o_{debt}` sets: where the oracle lags a falling debt token the same dollars repay
    :math:`P^o_{debt} / P^m_{debt}` times the units the oracle's price would give. A protocol's own coin stays at
    its peg (:func:`~core.engine.books.debt_price`: the coin paid in is burnt at par and no holder is booked
    selling it, so keepers' dollars retire a coin each). (Converted at the oracle, the round's $50.655M bought UST
    at the close two rounds back: round 6 of ``monotone-shipped-gbtc-74-luna-35-...-capital-50m-bad-debt`` repaid
    62.213M UST at 0.81423 while the books read 0.6749, and the holders selling the units beyond the float were
    paid the market's price for units the capital was charged the oracle's: the capital's dollars and the sellers'
    cash did not match.)

    A bid queue's capital is the coin its bidders deposited (Anchor ``liquidation_queue`` ``submit_bid``: the bid
    is the ``uusd`` sent with it, before the cascade), so its dollars at the coin's peg are a number of units that
    repay as many units whatever the coin trades at: a unit costs the queue's capital the peg. (Bought at the
    market, a deeper LUNA fall that cheapened UST made the round's $23.59M repay 2.403M more UST for Anchor's bLUNA
    cohorts and lowered their bad debt at reference $1.35M: six such pairs, the debt-token family of sessions 27-28,
    ``monotone-2022-luna-37-full-runs-liquidity-047-capital-50m-365-bad-debt``; the lead's decision 10.)"""
    queue = _bid_queue_peg(c)
    if queue is None:  # (a debt token an oracle fixes is paid for at the market too: core.engine.oracle)
        return None if Po is P and not _fixed_debt(c) else debt_price(c, P)
    cost = debt_price(c, P)
    cols, peg = queue
    cost[:, cols] = peg
    return cost


def _fixed_debt(c: Compiled) -> bool:
    """Whether a protocol's oracle fixes the price of some cohort's debt token (:mod:`core.engine.oracle`)."""
    fixed = fixed_oracle(c)
    return fixed is not None and bool(fixed.debt_cols.size)


def _bid_queue_peg(c: Compiled) -> tuple[np.ndarray, np.ndarray] | None:
    """The bid queues' cohorts and their debt coin's peg (its reference price where it has none), (k,) each;
    None where the network has no bid queue (kept with the network)."""
    def build() -> tuple[np.ndarray, np.ndarray] | None:
        cols = np.flatnonzero(c.c_style == BID_QUEUE)
        if not len(cols):
            return None
        peg = np.where(np.isfinite(c.c_peg[cols]), c.c_peg[cols], c.P0[c.c_da[cols]])
        return cols, peg[None]
    return per_network(c, "capital_bid_queue_peg", build)


def close_factor_ask(c: Compiled, s: CascadeState, Po: np.ndarray, Pc: np.ndarray | None,
                     limit: np.ndarray | None, prices: tuple[np.ndarray, np.ndarray | None] | None = None) -> np.ndarray:
    """(S, c) USD each close-factor cohort's rule repays this round at the liquidators' ``limit`` and ample
    capital (:func:`~core.mechanisms.lending.liquidate_aave`'s repayments alone,
    :func:`~core.mechanisms.lending.close_factor_part`), at what liquidators pay for the debt token
    (:func:`debt_cost`); 0 at the auctions' and absorptions' cohorts, which are priced apart. ``prices``:
    ``(debt_price(c, Po), debt_cost(c, s.P, Po))`` where the caller has them (the same arrays)."""
    Pcol = Po[:, c.c_ca] if Pc is None else Pc
    Pd, cost = (debt_price(c, Po), debt_cost(c, s.P, Po)) if prices is None else prices
    repaid = lending.close_factor_part("debt_repaid", s.coll, s.debt, Pcol, Pd, s.lt_eff, s.bonus_eff, s.cf_eff,
                                       c.c_full_close, spread=c.c_spread, safe_ratio=c.c_safe_ratio,
                                       max_seize=None if limit is None else np.where(np.isinf(limit), np.inf, limit))
    return np.where(_close_factor(c)[None], repaid * (Pd if cost is None else cost), 0.0)


def _close_factor(c: Compiled) -> np.ndarray:
    """(c,) bool: the close-factor cohorts, the auctions' and absorptions' priced apart (kept with the network)."""
    return per_network(c, "capital_close_factor", lambda: (c.c_style != MAKER_AUCTION) & (c.c_style != ABSORB))


def capital_limit(c: Compiled, s: CascadeState, b: ScenarioBatch, P: np.ndarray, Po: np.ndarray,
                  Pc: np.ndarray | None, limit: np.ndarray | None, capital: np.ndarray | None = None,
                  ask: np.ndarray | None = None, terms: LimitTerms | None = None,
                  prices: tuple[np.ndarray, np.ndarray | None] | None = None) -> np.ndarray | None:
    """``limit`` (S, c) (None: none) with each close-factor cohort cut to :math:`q_i(\\lambda)` in the
    scenarios whose cohorts due ask for more than the capital (module docstring); unchanged elsewhere.
    ``capital`` (S,): the close-factor cohorts' share of the round's capital (:func:`split_capital`; None: the
    whole ``b.capacity``); ``ask``: :func:`close_factor_ask`'s, where already computed; ``terms``: every cohort's
    :func:`~core.engine.limits.limit_terms` of every row at ``P``, ``Po`` and the state's bonus, sales, supply,
    pools and wrapped tokens' units (the liquidation step's, where it weighed every cohort of every row), read
    where every row is tight instead of computing them again (the same function of the same arrays); ``prices``:
    :func:`close_factor_ask`'s."""
    Pcol = Po[:, c.c_ca] if Pc is None else Pc
    ask = close_factor_ask(c, s, Po, Pc, limit, prices) if ask is None else ask  # USD each cohort's rule repays
    close = _close_factor(c)  # auctions and absorptions are priced apart
    capital = b.capacity if capital is None else capital
    tight = (ask.sum(1) > capital) & ~s.halted
    if not tight.any():
        return limit
    rows = np.flatnonzero(tight)
    every = len(rows) == len(tight)  # every row tight (one scenario, say): its arrays as they are, not copies

    def sub(x: np.ndarray) -> np.ndarray:  # the tight rows (read only)
        return x if every else x[rows]

    bt = b if every else batch_take(b, rows)
    Pr, Por, cap = sub(P), sub(Po), sub(capital)
    bonus, sold, supply, res = sub(s.bonus_eff), sub(s.sold_reference_usd), sub(s.supply), sub(s.pool_res)
    unwrap = None if every and terms is not None else unwrap_units(c, s, b)  # (read by limit_terms alone)
    unwrap = None if unwrap is None else sub(unwrap)
    Pcol_r = sub(Pcol)
    Pd_all, cost = (debt_price(c, Po), debt_cost(c, P, Po)) if prices is None else prices
    per_usd = np.where(Pcol_r > 0, Pcol_r, 0.0) / (1.0 + bonus)  # USD repaid per unit seized, at the oracle
    if cost is not None:  # the capital's USD: the debt token at the market (debt_cost), 1.0 where it is the oracle's
        Pm, Pd = sub(cost), sub(Pd_all)
        per_usd = per_usd * np.where(Pm == Pd, 1.0, Pm / Pd)
    base: float | np.ndarray = np.inf if limit is None else sub(limit)

    ask_r = sub(ask)
    due = ask_r > 0
    some = np.flatnonzero(due.any(0))  # the cohorts due in some row: the others repay nothing at any level
    few = Cohorts.of(c, some)  # the same reads, fewer cohorts
    # what liquidator_limit computes before the level, once (core.engine.limits.LimitTerms): every cohort's (the
    # units at the level found), and those of the cohorts due, their columns; and the inputs of the rows an
    # evaluation stands for (``at``: the same rows come back each step of a walk), kept
    every_terms = (terms if every and terms is not None
                   else limit_terms(c, Pr, Por, bonus, sold, supply, bt.liquidity, unwrap, res))
    terms = _columns_of(every_terms, some)
    kept: dict[bytes, tuple] = {}
    ask_some, per_usd_some = ask_r.take(some, 1), per_usd.take(some, 1)
    base_some = base if isinstance(base, float) else base.take(some, 1)

    def inputs(at: np.ndarray) -> tuple:
        tag = at.tobytes()
        if tag not in kept:
            kept[tag] = (terms.take(at), bt.lag[at], base_some if isinstance(base_some, float) else base_some.take(at, 0),
                         ask_some.take(at, 0), per_usd_some.take(at, 0))  # x[at][:, some], by the faster gathers
        return kept[tag]

    def usd_sum(q: np.ndarray, cols: np.ndarray | None, ask_q: np.ndarray, per_usd_q: np.ndarray) -> np.ndarray:
        """The USD repaid by units ``q`` of the cohorts ``cols`` (all where None), summed over every cohort
        (with ``cols``, the others' at 0: what they repay where no row has them due, the same sum to the last
        bit, in the same order)."""
        with np.errstate(invalid="ignore"):
            usd = np.where(close[None] if cols is None else close[cols][None], np.minimum(ask_q, q * per_usd_q), 0.0)
        usd = np.where(np.isnan(usd), 0.0, usd)  # np.nan_to_num(usd, nan=0.0), in fewer calls
        if np.isinf(usd).any():
            usd = _finite(usd)
        if cols is not None:
            usd, part = np.zeros((len(usd), len(close))), usd
            usd[:, cols] = part
        return usd.sum(1)

    def repaid_some(level: np.ndarray, at: np.ndarray, pool_room: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Units of the cohorts ``some`` and USD repaid at ``level``, one per entry of ``at`` (indices into
        ``rows``); ``pool_room`` (:func:`~core.engine.limits.limit_units`): the units a pool leaves its
        cohorts, not solved for (``inf``: an upper bound)."""
        t_at, lag_at, base_at, ask_at, per_at = inputs(at)
        q = np.minimum(limit_units(few, t_at, lag_at, level=level, pool_room=pool_room), base_at)
        return q, usd_sum(q, some, ask_at, per_at)

    # the cohorts of ``some`` whose units a pool's room sets (liquidators weigh close-factor cohorts only)
    pooled = pool_priced(c)[some] & (c.c_style[some] == CLOSE_FACTOR)

    def over(level: np.ndarray, at: np.ndarray, excess: bool = False, bound: bool = True):
        """Whether the repayments at ``level`` exceed the capital, each (row, level) pair alone: first with
        the pool-priced cohorts' units bounded, 0 below and ``inf`` above (the rest of the sum exact), and
        solved along their pools' invariants (:func:`~core.engine.pool_solves.units_to_price`) only for the pairs
        the bounds leave open. The same answers to the last bit: the USD a cohort repays does not fall as its
        units rise (``min(ask, min(q, base) x per_usd)``, with ``per_usd >= 0``), and a rounded sum, taken
        in the same order, does not fall as a term rises (IEEE 754 rounding is monotone), so the sums with
        the bounds bracket the exact one. With ``excess``, also the repayments less the capital, which
        :func:`~core.engine.level_search.bisect_guided` guesses the level from: exact where the pools were solved, else the bound that
        answered (of the answer's sign). ``bound`` False: every pair's pools solved (levels near the turn,
        which the bounds leave open)."""
        if not pooled.any() or not BOUND_POOL_COHORTS or not bound:
            usd = repaid_some(level, at)[1]
            return (usd > cap[at], usd - cap[at]) if excess else usd > cap[at]
        q_hi, over_hi = repaid_some(level, at, np.inf)
        ix = np.flatnonzero(over_hi > cap[at])  # the pairs the upper bound leaves open (the rest: not over)
        out = np.zeros(len(level), bool)
        by = over_hi - cap[at]
        if not len(ix):
            return (out, by) if excess else out
        sub_at = at[ix]
        _, _, _, ask_at, per_at = inputs(at)
        usd_lo = usd_sum(np.where(pooled[None], 0.0, q_hi[ix]), some, ask_at[ix], per_at[ix])
        over_lo = usd_lo > cap[sub_at]
        out[ix[over_lo]] = True
        by[ix] = usd_lo - cap[sub_at]
        open_ = ix[~over_lo]  # over at the upper bound, not at the lower (room 0, units 0): solve the pools
        if len(open_):
            usd = usd_sum(exact(q_hi[open_], level[open_], at, open_), some, ask_at[open_], per_at[open_])
            out[open_] = usd > cap[at[open_]]
            by[open_] = usd - cap[at[open_]]
        return (out, by) if excess else out

    def exact(q_hi: np.ndarray, level: np.ndarray, at: np.ndarray, pairs: np.ndarray) -> np.ndarray:
        """The units at ``level`` of the pairs ``pairs`` of ``at``, from their upper bound ``q_hi``: the other
        cohorts' as they are (the pools' room is the pool-priced cohorts' alone), the pool-priced cohorts'
        with their room solved (:func:`~core.engine.limits.pool_rooms`) and finished as
        :func:`~core.engine.limits.limit_units` finishes it, then cut to ``base``."""
        t_at, _, base_at, _, _ = inputs(at)
        part = t_at.take(pairs)
        assert part.pool is not None
        Lp = part.L - level[:, None]
        cols, room, _ = pool_rooms(few, part.pool, Lp)
        units = np.where(Lp[:, cols] > 0, np.where(np.isnan(room), np.inf, np.maximum(room, 0.0)), 0.0)
        q = q_hi.copy()
        q[:, cols] = np.minimum(units, base_at if np.ndim(base_at) == 0 else base_at[pairs][:, cols])
        return q

    L = every_terms.L  # liquidation_margin(c, Pr, Por, bonus), as limit_terms took it
    lo = np.zeros(len(rows))
    hi = np.where(due & np.isfinite(L), L, 0.0).max(1)
    start = None
    if GUIDED and GUESS_LEVEL:  # where the first steps go: the level in closed form from the order-book cohorts
        start = level_guess(terms.L, terms.k, terms.Q, terms.twice_root_Q, terms.per_ref, terms.book, pooled,
                            close[some], base_some, ask_some, per_usd_some, cap, lo, hi,
                            weighed=c.c_style[some] == CLOSE_FACTOR)
    lo = (bisect_guided(lambda level, at, tree: over(level, at, True, tree), lo, hi, start) if GUIDED
          else bisect(over, lo, hi))
    # at or just over the capital; one ulp above, within it: the cohorts above the level are served in full there,
    # and those whose units jump at the level share what they leave (marginal_share)
    # (:func:`~core.engine.limits.liquidator_limit` at both levels in one call: its terms once, each row taken
    # twice; a row's units are its own, the same bits as two calls)
    R = len(rows)
    twice = np.concatenate([np.arange(R), np.arange(R)])
    both = limit_units(c, every_terms.take(twice), bt.lag[twice], level=np.concatenate([lo, np.nextafter(lo, np.inf)]))
    q, up = np.minimum(both[:R], base), np.minimum(both[R:], base)
    q = marginal_share(q, up, ask_r, per_usd, close, cap)
    out = np.full(ask.shape, np.inf) if limit is None else limit.copy()
    out[rows] = np.where(close[None], q, out[rows])
    return out


def _columns_of(terms: LimitTerms, cols: np.ndarray) -> LimitTerms:
    """The terms of the cohorts ``cols`` (sorted) of a network's :class:`~core.engine.limits.LimitTerms`: those
    :func:`~core.engine.limits.limit_terms` gives on their view (:class:`~core.engine.limits.Cohorts`), to the last
    bit: each term is its cohort's own (a sale's, its token's; a pool's invariant, its pool's), and the pool
    cohorts keep their order, numbered among ``cols``."""
    pool = terms.pool if len(cols) else None
    if pool is not None:
        at = np.minimum(np.searchsorted(cols, pool.cols), len(cols) - 1)
        kept = np.flatnonzero(cols[at] == pool.cols)
        inv = None if pool.invariant is None else (pool.invariant[0].take(kept, 1), pool.invariant[1].take(kept, 1))
        pool = (None if not len(kept) else PoolTerms(at[kept], pool.pj[kept], pool.scale.take(kept, 1),
                                                     pool.base.take(kept, 1), pool.res.take(kept, 1), inv))

    def of(x: np.ndarray) -> np.ndarray:  # x[:, cols], by the faster gather (the same elements)
        return x.take(cols, axis=1)
    return LimitTerms(of(terms.L), of(terms.Q), of(terms.k), of(terms.impact), of(terms.twice_root_Q),
                      of(terms.per_ref), terms.book[cols], pool)


def marginal_share(q_at: np.ndarray, q_above: np.ndarray, ask: np.ndarray, per_usd: np.ndarray, close: np.ndarray,
                   capital: np.ndarray) -> np.ndarray:
    r"""Units each cohort is liquidated for at the level found, (R, c): those above the level in full, and the
    capital they leave shared by the cohorts at the level, pro rata to what they ask there.

    ``q_at`` are the units at the level :math:`\lambda` (whose repayments exceed the capital, or match it),
    ``q_above`` one ulp above it (within the capital): a cohort with price impact moves by a rounding between the
    two, and a cohort without (a stablecoin's, taken whole while its margin exceeds :math:`\lambda`) jumps from
    nothing to its close factor where its margin is the level. A cohort repays
    :math:`\min(\text{ask}, q \cdot P^o / (1 + b))` (``per_usd``: USD a unit seized repays, at what the capital
    pays for the debt token, :func:`debt_cost`); each is given what
    it repays above the level and the share :math:`s = (K - \sum_i u_i^{+}) / \sum_i (u_i - u_i^{+})` (clipped to
    [0, 1]) of what more it would repay at the level. So the capital goes first where it earns most, as the
    level means, and continuously: a cohort at the level takes only what the cohorts above leave. (Shared pro
    rata over every cohort at :math:`\lambda`, a stablecoin cohort whose margin the level reached took capital
    from cohorts earning more in proportion to its $1.4bn ask, and whether the level reached it turned on the
    sign of a rounding where the others used the capital exactly: WBTC -88.82% deeper by 2e-16 gave AAVE_ETH's
    USDe/USDT cohorts $229M of round 11's $268.5M and MORPHO's WBTC cohorts $118.8M less, and BTC closed 3 bp
    higher, ``monotone-2025-wbtc-steth-cbeth-sol-buidl-lag1-capital-500m-edge``.) Where the cohorts above ask
    more than the capital (a level not resolved to the ulp) or those at it nothing more, ``q_at`` stands, and
    the capacity's pro rata share (:func:`~core.mechanisms.lending.liquidate_aave`) takes any rest."""
    with np.errstate(invalid="ignore"):
        at = np.where(close[None], np.minimum(ask, q_at * per_usd), 0.0)
        above = np.where(close[None], np.minimum(ask, q_above * per_usd), 0.0)
    at, above = _finite(at), _finite(above)
    extra = np.maximum(at - above, 0.0)
    more = extra.sum(1)
    jumps = (extra > 0) & (per_usd > 0)
    if not jumps.any():
        return q_at
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.clip((capital - above.sum(1)) / np.where(more > 0, more, 1.0), 0.0, 1.0)
        units = (above + share[:, None] * extra) / np.where(per_usd > 0, per_usd, 1.0)
    fits = (above.sum(1) <= capital)[:, None]
    return np.where(jumps & fits, units, q_at)
