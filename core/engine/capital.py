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
is the lowest level whose repayments :math:`\sum_i q_i(\lambda) P^o_i / (1 + b_i)` fit in the capital
(bisection; repayments fall as :math:`\lambda` rises). The allocation moves continuously with the margins:
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
from .compiled import ABSORB, CLOSE_FACTOR, MAKER_AUCTION
from .limits import Cohorts, limit_terms, limit_units, liquidation_margin, liquidator_limit, pool_rooms
from .sell import unwrap_units

if TYPE_CHECKING:
    from .batch import ScenarioBatch
    from .compiled import Compiled
    from .state import CascadeState

#: Bisection steps for the level (the margin interval halves each step: 2^-60 of it).
LEVEL_STEPS = 60
#: Guess the level from the repayments' excess and verify the bisection's steps towards it several at a time
#: (:func:`_bisect_guided`; off: :func:`_bisect`'s trees; tests compare the two, to the last bit).
GUIDED = True
#: Bound the pool-priced cohorts' units before solving their pools (off: solve at every level tried, as the
#: search did before; tests compare the two, to the last bit).
BOUND_POOL_COHORTS = True


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
    ask) and the Maker system has :math:`K - A - V` (at least its ask; :func:`core.engine.maker.keeper_capacity`);
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


def close_factor_ask(c: Compiled, s: CascadeState, Po: np.ndarray, Pc: np.ndarray | None,
                     limit: np.ndarray | None) -> np.ndarray:
    """(S, c) USD each close-factor cohort's rule repays this round at the liquidators' ``limit`` and ample
    capital (:func:`~core.mechanisms.lending.liquidate_aave`); 0 at the auctions' and absorptions' cohorts,
    which are priced apart."""
    Pcol = Po[:, c.c_ca] if Pc is None else Pc
    Pd = debt_price(c, Po)
    first = lending.liquidate_aave(s.coll, s.debt, Pcol, Pd, s.lt_eff, s.bonus_eff, s.cf_eff, c.c_full_close,
                                   max_seize=None if limit is None else np.where(np.isinf(limit), np.inf, limit),
                                   spread=c.c_spread)
    close = (c.c_style != MAKER_AUCTION) & (c.c_style != ABSORB)
    return np.where(close[None], first.debt_repaid * Pd, 0.0)


def capital_limit(c: Compiled, s: CascadeState, b: ScenarioBatch, P: np.ndarray, Po: np.ndarray,
                  Pc: np.ndarray | None, limit: np.ndarray | None, capital: np.ndarray | None = None,
                  ask: np.ndarray | None = None) -> np.ndarray | None:
    """``limit`` (S, c) (None: none) with each close-factor cohort cut to :math:`q_i(\\lambda)` in the
    scenarios whose cohorts due ask for more than the capital (module docstring); unchanged elsewhere.
    ``capital`` (S,): the close-factor cohorts' share of the round's capital (:func:`split_capital`; None: the
    whole ``b.capacity``); ``ask``: :func:`close_factor_ask`'s, where already computed."""
    Pcol = Po[:, c.c_ca] if Pc is None else Pc
    ask = close_factor_ask(c, s, Po, Pc, limit) if ask is None else ask  # USD each close-factor cohort's rule repays
    close = (c.c_style != MAKER_AUCTION) & (c.c_style != ABSORB)  # auctions and absorptions are priced apart
    capital = b.capacity if capital is None else capital
    tight = (ask.sum(1) > capital) & ~s.halted
    if not tight.any():
        return limit
    rows = np.flatnonzero(tight)
    bt = batch_take(b, rows)
    Pr, Por, cap = P[rows], Po[rows], capital[rows]
    bonus, sold, supply, res = s.bonus_eff[rows], s.sold_reference_usd[rows], s.supply[rows], s.pool_res[rows]
    unwrap = unwrap_units(c, s, b)
    unwrap = None if unwrap is None else unwrap[rows]
    per_usd = np.where(Pcol[rows] > 0, Pcol[rows], 0.0) / (1.0 + bonus)  # USD repaid per unit seized
    base: float | np.ndarray = np.inf if limit is None else limit[rows]

    ask_r = ask[rows]
    due = ask_r > 0
    some = np.flatnonzero(due.any(0))  # the cohorts due in some row: the others repay nothing at any level
    few = Cohorts.of(c, some)  # the same reads, fewer cohorts
    # what liquidator_limit computes before the level, once (core.engine.limits.LimitTerms), and the inputs of
    # the rows an evaluation stands for (``at``: the same rows come back each step of a walk), kept
    terms = limit_terms(few, Pr, Por, bonus[:, some], sold, supply, bt.liquidity, unwrap, res)
    kept: dict[bytes, tuple] = {}

    def inputs(at: np.ndarray) -> tuple:
        tag = at.tobytes()
        if tag not in kept:
            kept[tag] = (terms.take(at), bt.lag[at], base if isinstance(base, float) else base[at][:, some],
                         ask_r[at][:, some], per_usd[at][:, some])
        return kept[tag]

    def usd_sum(q: np.ndarray, cols: np.ndarray | None, ask_q: np.ndarray, per_usd_q: np.ndarray) -> np.ndarray:
        """The USD repaid by units ``q`` of the cohorts ``cols`` (all where None), summed over every cohort
        (with ``cols``, the others' at 0: what they repay where no row has them due, the same sum to the last
        bit, in the same order)."""
        with np.errstate(invalid="ignore"):
            usd = np.where(close[None] if cols is None else close[cols][None], np.minimum(ask_q, q * per_usd_q), 0.0)
        usd = np.where(np.isnan(usd), 0.0, usd)  # np.nan_to_num(usd, nan=0.0), in fewer calls
        if np.isinf(usd).any():
            usd = np.nan_to_num(usd)
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
    pooled = np.isin(c.c_ca[some], c.pool_asset) & (c.c_style[some] == CLOSE_FACTOR)

    def over(level: np.ndarray, at: np.ndarray, excess: bool = False, bound: bool = True):
        """Whether the repayments at ``level`` exceed the capital, each (row, level) pair alone: first with
        the pool-priced cohorts' units bounded, 0 below and ``inf`` above (the rest of the sum exact), and
        solved along their pools' invariants (:func:`~core.engine.pools.units_to_price`) only for the pairs
        the bounds leave open. The same answers to the last bit: the USD a cohort repays does not fall as its
        units rise (``min(ask, min(q, base) x per_usd)``, with ``per_usd >= 0``), and a rounded sum, taken
        in the same order, does not fall as a term rises (IEEE 754 rounding is monotone), so the sums with
        the bounds bracket the exact one. With ``excess``, also the repayments less the capital, which
        :func:`_bisect_guided` guesses the level from: exact where the pools were solved, else the bound that
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

    L = liquidation_margin(c, Pr, Por, bonus)
    lo = np.zeros(len(rows))
    hi = np.where(due & np.isfinite(L), L, 0.0).max(1)
    lo = _bisect_guided(lambda level, at, tree: over(level, at, True, tree), lo, hi) if GUIDED else _bisect(over, lo, hi)
    # at or just over the capital: the capacity's pro rata share takes the rest
    q = np.minimum(liquidator_limit(c, Pr, Por, bonus, sold, supply, bt.liquidity, bt.lag, None, unwrap, res, None, lo),
                   base)
    out = np.full(ask.shape, np.inf) if limit is None else limit.copy()
    out[rows] = np.where(close[None], q, out[rows])
    return out


#: Most (row, level) pairs one evaluation of the bisection takes: a few rows try several levels at once.
TREE_BUDGET = 64


def _bisect(over, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``lo`` after :data:`LEVEL_STEPS` bisection steps on ``[lo, hi]``: each step sets ``lo`` to the midpoint
    ``0.5 * (lo + hi)`` where ``over(mid, rows)`` holds, else ``hi``; ``over`` takes levels and the indices of
    the rows they stand for, and answers each pair alone (no pair's answer depends on its batch-mates).

    Several steps are taken at once for a few rows (numpy's cost per call dwarfs the arithmetic there): the
    ``2^d - 1`` midpoints the next ``d`` steps could visit, each computed as the step would compute it, are
    evaluated together, and each row then walks down its tree; the result is the same to the last bit as
    one step at a time. Rows whose interval has shrunk to a point stop changing, and the steps stop once all have."""
    R = len(lo)
    left = LEVEL_STEPS
    while left > 0 and bool((lo != hi).any()):
        d = 1
        while d < left and R * (2 ** (d + 1) - 1) <= TREE_BUDGET:
            d += 1
        m = 2 ** d - 1  # the tree's nodes, heap order from 0: node j's children are 2j + 1 (not over), 2j + 2
        a, b, mid = np.empty((R, m)), np.empty((R, m)), np.empty((R, m))
        a[:, 0], b[:, 0] = lo, hi
        for depth in range(d):  # the tree's levels, not rows: nodes 2^depth - 1 .. 2^(depth + 1) - 2
            j = slice(2 ** depth - 1, 2 ** (depth + 1) - 1)
            mid[:, j] = 0.5 * (a[:, j] + b[:, j])
            if depth + 1 < d:  # children of node i: 2i + 1 on (a, mid), 2i + 2 on (mid, b)
                first = slice(2 ** (depth + 1) - 1, 2 ** (depth + 2) - 1, 2)
                second = slice(2 ** (depth + 1), 2 ** (depth + 2) - 1, 2)
                a[:, first], a[:, second] = a[:, j], mid[:, j]
                b[:, first], b[:, second] = mid[:, j], b[:, j]
        ok = over(mid.ravel(), np.repeat(np.arange(R), m)).reshape(R, m)
        node = np.zeros(R, int)
        at = np.arange(R)
        for _ in range(d):
            up = ok[at, node]
            x = mid[at, node]
            lo, hi = np.where(up, x, lo), np.where(up, hi, x)
            node = 2 * node + 1 + up
        left -= d
    return lo


def _bisect_guided(measure, lo_start: np.ndarray, hi_start: np.ndarray) -> np.ndarray:
    """:func:`_bisect`'s ``lo``, to the last bit, in fewer evaluations: ``measure(levels, rows)`` gives each pair's
    answer (``over``; ``tree``: whether some row's levels are a tree's, spread over its interval, else all
    near the guessed turn) and a number that is positive where it holds (the repayments less the capital), which
    locates the level where the answers turn, so that the steps can be guessed ahead and checked.

    Each evaluation takes, for every row still moving, the levels of a plan: the ``2^d - 1`` midpoints its
    next ``d`` steps could visit (a tree, as :func:`_bisect`), or the midpoints of the path its next steps take
    if each answer is the one a guess of the turn predicts (a midpoint below the guess holds), or a smaller
    tree and the path beyond it. The guess is the secant through the nearest levels evaluated on either side
    of the turn; a row takes the path alone where the inverse quadratic through the nearest three agrees with
    it closely enough that the path should outrun a tree (where the number is smooth near the turn: the
    pools' solves and the cohorts' square roots, between the kinks where a cohort's margin or its close factor
    binds), a tree alone before both sides are seen and for the last few steps. A row then takes the
    bisection's steps, each from its midpoint ``0.5 * (lo + hi)``, for as long as that midpoint was evaluated
    (an answer is its level's and row's alone), and the next evaluation goes on from there: every step taken
    is the bisection's step, so a wrong guess costs evaluations, never bits. A row stops after
    :data:`LEVEL_STEPS` steps, once its interval is a point, or once a step leaves it as it was (a midpoint
    rounded to an end that stays: every later step then has the same midpoint and answer)."""
    R = len(lo_start)
    if not (np.isfinite(lo_start).all() and np.isfinite(hi_start).all()):  # the walk looks midpoints up
        return _bisect(lambda level, at: measure(level, at, True)[0], lo_start, hi_start)
    lo, hi = [float(x) for x in lo_start], [float(x) for x in hi_start]
    left = [LEVEL_STEPS] * R
    # the nearest levels evaluated on each side of the turn, two each, with their numbers (the guess's points)
    below: list[list[tuple[float, float]]] = [[] for _ in range(R)]
    above: list[list[tuple[float, float]]] = [[] for _ in range(R)]
    while True:
        live = [i for i in range(R) if left[i] > 0 and lo[i] != hi[i]]
        if not live:
            break
        share = max(1, TREE_BUDGET // len(live))  # the pairs each row's plan may take
        plans, spread = [], False
        for i in live:
            d = 1
            while d < left[i] and 2 ** (d + 1) - 1 <= share:
                d += 1
            guess = _guess(below[i], above[i], lo[i], hi[i], d)
            steps = _steps_left(lo[i], hi[i], left[i])
            if guess is None or steps <= d + 1:  # a tree; the last steps in one
                plans.append(_tree_levels(lo[i], hi[i], d + 1 if steps == d + 1 else d))
                spread = True
            elif guess[1]:  # a path
                plans.append(_path_levels(lo[i], hi[i], guess[0], min(left[i], share)))
            else:  # a smaller tree, and the path where it does not reach
                tree = _tree_levels(lo[i], hi[i], d - 1)
                path = _path_levels(lo[i], hi[i], guess[0], min(left[i], share - len(tree) + d - 1))
                plans.append(tree + path[d - 1:])
                spread = True
        at = np.repeat(np.asarray(live), [len(p_) for p_ in plans])
        ok, excess = measure(np.asarray([x for p_ in plans for x in p_]), at, spread)
        ok, excess = ok.tolist(), excess.tolist()
        k = 0
        for i, plan in zip(live, plans):
            answers, numbers = ok[k:k + len(plan)], excess[k:k + len(plan)]
            k += len(plan)
            for x, up, v in zip(plan, answers, numbers):  # the guess's nearest points on each side
                if v != v:  # not computed (NaN): an answer without a number
                    continue
                if up:
                    below[i] = sorted(below[i] + [(x, v)], reverse=True)[:2]
                else:
                    above[i] = sorted(above[i] + [(x, v)])[:2]
            seen = dict(zip(plan, answers))  # an answer is its level's (and row's): looked up by the midpoint
            while left[i] > 0:
                x = 0.5 * (lo[i] + hi[i])  # the bisection's midpoint
                up = seen.get(x)
                if up is None:  # not evaluated: the next evaluation goes on from here
                    break
                if (x == lo[i] and up) or (x == hi[i] and not up):  # a step that changes nothing: the next
                    left[i] = 0  # has the same midpoint and answer, and so on to the last (a fixed point)
                    break
                lo[i], hi[i] = (x, hi[i]) if up else (lo[i], x)
                left[i] -= 1
    return np.asarray(lo)


def _guess(below: list[tuple[float, float]], above: list[tuple[float, float]], lo: float, hi: float,
           d: int) -> tuple[float, bool] | None:
    """Where the repayments' excess turns, guessed from the nearest levels evaluated on either side
    (``below``: where it holds, nearest first; ``above``: where it does not): the secant through the nearest
    two, inside ``[lo, hi]``, and whether it should outrun a tree of depth ``d`` (the inverse quadratic through
    the nearest three within ``2^-(d + 2)`` of the interval of it: about the error of either); None before both
    sides are seen."""
    if not below or not above:
        return None
    (xa, ga), (xb, gb) = below[0], above[0]
    if not (xa < xb and ga > 0 >= gb and np.isfinite(ga) and np.isfinite(gb)):
        return None
    x = xa + (xb - xa) * (ga / (ga - gb))
    if not np.isfinite(x):
        return None
    x = min(max(x, lo), hi)
    if len(below) + len(above) < 3:
        return x, False
    (x2, g2) = min(below[1:] + above[1:], key=lambda p_: min(abs(p_[0] - xa), abs(p_[0] - xb)))
    if not np.isfinite(g2) or len({ga, gb, g2}) < 3:
        return x, False
    with np.errstate(all="ignore"):
        q = (xa * gb * g2 / ((ga - gb) * (ga - g2)) + xb * ga * g2 / ((gb - ga) * (gb - g2))
             + x2 * ga * gb / ((g2 - ga) * (g2 - gb)))
    return x, bool(abs(q - x) * 2.0 ** (d + 2) <= hi - lo)


def _steps_left(lo: float, hi: float, left: int) -> int:
    """Steps that can still change ``[lo, hi]``: until it is a point (about one per bit between them), at most ``left``."""
    gap = hi - lo
    if not (gap > 0):
        return 0
    ulp = float(np.spacing(max(abs(lo), abs(hi))))
    return min(left, int(np.ceil(np.log2(max(gap / ulp, 1.0)))) + 2)


def _tree_levels(lo: float, hi: float, d: int) -> list[float]:
    """The ``2^d - 1`` midpoints the next ``d`` steps could visit, heap order (node j's children: 2j + 1 where
    its answer does not hold, 2j + 2 where it does)."""
    a, b, mid = [lo], [hi], []
    for j in range(2 ** d - 1):
        m = 0.5 * (a[j] + b[j])
        mid.append(m)
        a += [a[j], m]
        b += [m, b[j]]
    return mid


def _path_levels(lo: float, hi: float, guess: float, n: int) -> list[float]:
    """The midpoints of the next ``n`` steps if each answer is the guess's (a midpoint below ``guess`` holds)."""
    out = []
    for _ in range(n):
        m = 0.5 * (lo + hi)
        out.append(m)
        lo, hi = (m, hi) if m < guess else (lo, m)
    return out
