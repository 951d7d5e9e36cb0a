"""What liquidators take from each close-factor cohort in a round: their margin, the size at which their own
sale eats it (order book or pool), and a pool's depth shared by its cohorts (:func:`liquidator_limit`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..mechanisms import lending, liquidators, market
from .books import debt_price
from .cohort_views import Cohorts as Cohorts, VIEWS_KEPT as VIEWS_KEPT  # importable from here
from .cohort_views import any_spread
from .columns import put_columns
from .compiled import CLOSE_FACTOR, Compiled
from .limit_tokens import PoolCohorts, SaleTokens as _SaleTokens  # (importable from here)
from .memo import per_network
from .oracle import fixed_oracle
from .pool_solves import pool_invariants, units_where


#: Solve a pool's room only in the rows where its cohorts ask for collateral (off: every row; tests compare the two).
SKIP_UNASKED_ROWS = True


def liquidation_margin(c: Compiled, P: np.ndarray, Po: np.ndarray, bonus: np.ndarray) -> np.ndarray:
    r"""A liquidator's margin on each cohort before its own sale's impact, (S, c):
    :math:`L = \ln\frac{(1 + b) P^m_{coll} P^o_{debt}}{P^o_{coll} P^m_{debt}}`, the bonus net of the gap between
    the oracle (``Po``) and the market (``P``), a cohort whose protocol fixes a stablecoin's price, or reads it at
    another asset's, at that price (:class:`~core.engine.oracle.FixedOracle`); ``inf`` where there are no prices to compare
    (:func:`liquidator_limit`)."""
    ca, da = c.c_ca, c.c_da
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # the gaps as ratios, so that a cohort read at the market has exactly log(1 + b): equal bonuses tie; each
        # token's log gap once, then read by its cohorts (an element's log is its own: the same bits)
        gap = np.log(P / Po)
        fixed = fixed_oracle(c)
        if fixed is None:
            L = np.log1p(bonus) + (_columns(gap, ca) - _columns(gap, da))
        else:  # a protocol's oracle fixing a token's price or reading another asset's: its gap against that
            coll_gap, debt_gap = fixed.gaps(P, ca, da, _columns(gap, ca), _columns(gap, da), Po)
            L = np.log1p(bonus) + (coll_gap - debt_gap)
    return np.where(np.isnan(L), np.inf, L)


def liquidator_limit(c: Compiled, P: np.ndarray, Po: np.ndarray, bonus: np.ndarray, sold_before: np.ndarray,
                     supply: np.ndarray, liquidity: np.ndarray, lag: np.ndarray,
                     apart: np.ndarray | None = None, unwrap: np.ndarray | None = None,
                     pool_res: np.ndarray | None = None, demand: np.ndarray | None = None,
                     level: np.ndarray | None = None, pool_room: float | None = None) -> np.ndarray:
    r"""Most collateral units liquidators take from each close-factor cohort this round, (S, c): what they can
    sell and still be paid for the debt they repay; ``inf`` where no limit applies, 0 where they stand aside.

    Model. A liquidator repays debt at the oracle's price of the debt token and receives :math:`1 + b` times
    its value in collateral at the oracle's price of the collateral (Aave ``liquidationCall``, Compound v2
    ``liquidateBorrow``: close factor and bonus), buys the debt token and sells the collateral at the market.
    Its sale moves the collateral's price by the square-root law the engine then applies
    (:func:`core.engine.sell.sale_impact`): with :math:`Q` the units sold so far (at reference prices),
    :math:`I(Q) = \operatorname{sign}(Q)\,k\sqrt{|Q|}`, :math:`k = \sigma / \sqrt{\text{liquidity}\cdot V}`,
    selling :math:`q` more lowers the log price by :math:`I(Q + q) - I(Q)`, and the whole sale is paid the
    price after it (the price the round's sales close at, :func:`core.engine.sell.price_impact`). The trade pays while
    :math:`(1 + b)\,e^{-(I(Q+q) - I(Q))}\,P^m_{coll} / P^o_{coll} \ge P^m_{debt} / P^o_{debt}`, i.e. while the
    impact stays within :math:`L = \ln\frac{(1 + b) P^m_{coll} P^o_{debt}}{P^o_{coll} P^m_{debt}}`, the bonus
    net of the gap between oracle and market. Solving :math:`I(Q + q) = I(Q) + L` gives the closed form
    :math:`q^* = \operatorname{sign}(J)\,(J / k)^2 - Q` with :math:`J = I(Q) + L`, for :math:`Q \ge 0`
    :math:`q^* = (L/k)\,(2\sqrt{Q} + L/k)` (the root of a quadratic in :math:`\sqrt{Q + q}`); liquidators take
    :math:`\min(q^*, \text{close factor})` and nothing when :math:`L \le 0`. So the amount liquidated falls
    continuously to 0 as the trade approaches break-even and never rises as the gap between oracle and market
    widens [limits to arbitrage: liquidations are permissionless and profit-seeking, and liquidators stop where
    slippage eats the bonus: Qin et al., "An Empirical Study of DeFi Liquidations" (IMC 2021); Perez et al.,
    "Liquidations: DeFi on a Knife-edge" (FC 2021); square-root impact: Toth et al. 2011]. (The rule was all
    or nothing: a liquidator that just broke even took the whole close factor and sold it with an impact it
    did not count; LUNA -34.55% on the 2022 network, BTC -50.5%, lag 2, liquidity 0.36: a shock deeper by
    1e-9 left Anchor's bLUNA cohort at break-even unliquidated and lowered loss $14.37bn -> $12.59bn,
    ``monotone-shipped-luna-liquidator-break-even``.)

    ``level`` (S,): a margin the capital earns elsewhere (:func:`core.engine.capital.capital_limit`): ``L`` less
    it, and the limit applies to every close-factor cohort, whatever the lag. ``pool_room``: the units a pool
    leaves each cohort whose collateral it prices, in place of the solve along its invariant (``inf`` bounds
    them from above: :func:`core.engine.capital.capital_limit`'s bisection).

    A wrapped token is sold as its underlying (as in :func:`~core.engine.sell.sale_impact`), ``unwrap`` (S, w) units
    of it a unit (:func:`~core.engine.sell.unwrap_units`; its peg where None). A token whose price an AMM pool
    sets is swapped into that pool (:func:`core.engine.sell.price_impact`), and moves with the pool's marginal
    price: given ``pool_res`` (S, p, 2), the reserves before the round's sales, liquidators take what lowers
    the token's price by :math:`e^{-L}`, i.e. the pool's price to
    :math:`\text{ref}\cdot P^m_{coll} e^{-L} / (P_0 \cdot \text{counter move})`, the units of
    :func:`core.engine.pool_solves.units_to_price` along the pool's invariant (Curve's stableswap, or the
    constant product), the same break-even rule as on the order book. (Without the pool's slippage,
    liquidators of a thin stETH pool took the whole close factor while the oracle, a round stale, still
    read the price before the round's sales: stETH -25.6% on synthetic(1000, 5000, seed 0) with lag 1 and
    liquidity 0.33 had them repay $61M of E000855's USDC loan for stETH that the round's sales took from
    2,040 to 12 USD in the pool, a loss outside the system, where stETH -8.5% left it due in round 6 and
    booked its $60.9M shortfall as bad debt: loss $14.95bn -> $13.83bn,
    ``monotone-synthetic1000-steth-lag1-thin``.) A token a peg prices (a stablecoin) has no impact
    here: liquidators take the close factor while :math:`L > 0`. Other sales of the round (other cohorts, estates)
    are not counted: each liquidator prices its own sale. Scenarios whose oracles do not lag, and Maker
    auctions and Compound v3 absorptions, have no limit (``inf``), except cohorts ``apart`` (c,), weighed
    whatever the lag: those whose oracle reads a price apart from the market's (a liquid-staking token at its
    redemption rate, :mod:`core.engine.oracle`) and those whose collateral a pool prices, which the engine
    passes too (:func:`core.engine.liquidate.liquidate`): a liquidator swaps the seized collateral into the pool
    in the transaction that repays the debt (flash-loan liquidations, Qin et al. 2021), so the pool's slippage
    is its cost even when the oracle reads the market. (Unweighed at lag 0, a Maker-style stETH vault of $94M
    barked in round 0 at ETH -16.873187915202298% and not one ulp shallower (TOKEN -11.16%, DAI 12.7% off peg,
    synthetic(1000, 5000, seed 7)) sold 54k stETH, round 1 opened at 1,688 USD instead of 1,871, and Aave-style
    stETH/USDC cohorts breaking even between the two were due at the deeper shock only: their liquidators repaid
    $790M more for stETH that the round's sales took to 3.95 USD, a loss outside the system, where the
    shallower shock booked the cohorts' shortfall as bad debt a round later: loss $24.34bn -> $23.43bn,
    ``monotone-synthetic1000-seed7-dai-depeg-eth-token-knife-edge``.)

    Nor has a bid queue (``style`` ``anchor``, :data:`~core.engine.compiled.BID_QUEUE`): no liquidator weighs
    an Anchor liquidation. Whoever triggers it (``liquidate_collateral`` on the overseer) takes the queue's
    ``liquidator_fee`` and bears no price risk; the collateral goes to bids committed in advance, in UST, to
    premium slots of 0-30 %, which the queue fills at the oracle's price less the slot's premium whatever the
    market trades at (Anchor ``money-market-contracts``, ``contracts/liquidation_queue``, README and
    ``bid.rs`` ``execute_liquidation``: "each of the pools deposited funds are used to buy the liquidated
    collateral at different discount rates"). Their owners weighed the trade when they bid; a bid stands until
    its owner retracts it (``retract_bid``), and the model keeps the queue's bids standing through the cascade
    [assumption: retail bidders, no retraction within the cascade], as deep as the liquidators' capacity. (With the limit
    applied, the queue stood aside as a deeper shock widened the gap between a lagging oracle and the market, or
    filled as a deeper UST depeg made UST cheaper to repay with: LUNA -34.1% -> -34.6% (BTC -50.5%, lag 2,
    liquidity 0.36) left Anchor's bLUNA cohorts unliquidated in round 2, spared the LUNA sale that starts the
    UST/LUNA spiral and lowered loss $13.377bn -> $12.635bn, ``monotone-shipped-luna-liquidators-withdraw``;
    LUNA -49.68% -> -51.82% (lag 3, UST 0.72 -> 0.68 in round 3) liquidated them only at the deeper shock,
    which cut Anchor's bad debt $446M -> $230M and its default, ``monotone-shipped-anchor-default-lag3``.) The
    queue's own check, that the oracle's price is under 60 s old (``price_timeframe``), is not modelled: a
    lagging oracle is one whose feed keeps updating with old prices.
    """
    return limit_units(c, limit_terms(c, P, Po, bonus, sold_before, supply, liquidity, unwrap, pool_res), lag, apart,
                       demand, level, pool_room)


@dataclass(frozen=True)
class LimitTerms:
    """What :func:`liquidator_limit` computes before the level is taken off the margin, one row per scenario
    (:func:`limit_terms`); :func:`limit_units` finishes it. A search over levels
    (:func:`core.engine.capital.capital_limit`) computes these once and the rest at each level: the same
    operations on the same numbers, so the same units to the last bit."""

    L: np.ndarray             # (S, c) the margin (liquidation_margin)
    Q: np.ndarray             # (S, c) units sold before, at reference prices, of the token the sale moves
    k: np.ndarray             # (S, c) the square-root law's coefficient
    impact: np.ndarray        # (S, c) the impact of ``Q``
    twice_root_Q: np.ndarray  # (S, c) 2 sqrt|Q|
    per_ref: np.ndarray       # (S, c) reference USD per unit of collateral
    book: np.ndarray          # (c,) the sale moves an order book
    pool: PoolTerms | None    # the cohorts a pool prices (None: none, or no reserves given)

    def take(self, rows: np.ndarray) -> LimitTerms:
        """The terms of scenarios ``rows`` (in that order; repeats allowed), by ndarray.take (x[rows]'s elements, a
        gather some 3x faster on a search's rows)."""
        return LimitTerms(self.L.take(rows, 0), self.Q.take(rows, 0), self.k.take(rows, 0), self.impact.take(rows, 0),
                          self.twice_root_Q.take(rows, 0), self.per_ref.take(rows, 0), self.book,
                          None if self.pool is None else self.pool.take(rows))


@dataclass(frozen=True)
class PoolTerms:
    """The pool side of :class:`LimitTerms`: the cohorts ``cols`` a pool prices, their pools ``pj``, the
    target's factors before the margin, and the reserves with their invariant and price
    (:func:`~core.engine.pool_solves.units_to_price`)."""

    cols: np.ndarray          # (m,) cohorts
    pj: np.ndarray            # (m,) their pools
    scale: np.ndarray         # (S, m) pool_ref x the token's price
    base: np.ndarray          # (S, m) P0 x the counter coin's move
    res: np.ndarray           # (S, m, 2) the pools' reserves
    invariant: tuple[np.ndarray, np.ndarray] | None  # (S, m_ss) D and price of the stableswap pools (units_to_price)

    def take(self, rows: np.ndarray) -> PoolTerms:
        inv = None if self.invariant is None else (self.invariant[0].take(rows, 0), self.invariant[1].take(rows, 0))
        return PoolTerms(self.cols, self.pj, self.scale.take(rows, 0), self.base.take(rows, 0), self.res.take(rows, 0), inv)


def limit_terms(c: Compiled, P: np.ndarray, Po: np.ndarray, bonus: np.ndarray, sold_before: np.ndarray,
                supply: np.ndarray, liquidity: np.ndarray, unwrap: np.ndarray | None = None,
                pool_res: np.ndarray | None = None) -> LimitTerms:
    """The terms of :func:`liquidator_limit` that do not depend on the level (:class:`LimitTerms`)."""
    sale = per_network(c, "limit_tokens", lambda: _SaleTokens.build(c))
    per_unit = sale.per_unit
    if unwrap is not None:
        per_unit = np.where(sale.wrapped[None], _columns(unwrap, sale.unwrap_col), per_unit)
    L = liquidation_margin(c, P, Po, bonus)
    # the sale's terms are its token's: computed once per token ``tokens`` and read by each cohort (``of``), the
    # same operations on the same numbers as per cohort, so the same bits
    tokens, of = sale.tokens, sale.of
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        Qt = _columns(sold_before, tokens)
        liq = liquidity[:, None]
        k = _columns(sale.vol[None] / np.sqrt(liq * sale.adv[None]), of)
        impact = _columns(market.log_sqrt_impact(Qt, sale.adv[None], sale.vol[None], 1.0, liq), of)
        twice_root_Q = _columns(2.0 * np.sqrt(np.abs(Qt)), of)
        held = _columns(supply, tokens)
        grown = _columns(np.where(held > 0, sale.supply[None] / np.where(held > 0, held, 1.0), 1.0), of)
        Q = _columns(Qt, of)
        per_ref = sale.P0_t[None] * grown * per_unit
    pool = _pool_terms(c, P, pool_res) if pool_res is not None and len(c.pool_asset) else None
    return LimitTerms(L, Q, k, impact, twice_root_Q, per_ref, sale.book, pool)  # each (S, c): rows are scenarios


def limit_units(c: Compiled, terms: LimitTerms, lag: np.ndarray, apart: np.ndarray | None = None,
                demand: np.ndarray | None = None, level: np.ndarray | None = None,
                pool_room: float | None = None) -> np.ndarray:
    """:func:`liquidator_limit` from its :class:`LimitTerms` (its parameters of the same names)."""
    close = per_network(c, "limit_close", lambda: c.c_style == CLOSE_FACTOR)  # weighed: not Maker, Comet, a queue
    L = terms.L
    if level is not None:  # the margin liquidators' capital earns at the margin (core.engine.capital)
        L = L - level[:, None]
    if terms.pool is not None and demand is not None and len(terms.pool.cols) == L.shape[1]:
        units = np.empty(L.shape)  # every cohort's collateral a pool prices: each takes its pool's fill (_pool_limit)
    else:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            Q, k = terms.Q, terms.k
            J = terms.impact + L
            r = L / k
            q_ref = np.where(Q >= 0, r * (terms.twice_root_Q + r), np.sign(J) * (J / k) ** 2 - Q)
            units = q_ref / terms.per_ref
        units = np.where(terms.book[None], units, np.inf)
    if terms.pool is not None:
        units = _pool_limit(c, terms.pool, L, units, demand, pool_room)
    units = np.where(L > 0, np.where(np.isnan(units), np.inf, np.maximum(units, 0.0)), 0.0)
    if level is not None:  # every close-factor cohort weighed, whatever the lag
        return np.where(close[None], units, np.inf)
    weighed = (lag > 0)[:, None] if apart is None else (lag > 0)[:, None] | apart[None]
    return np.where(close[None] & weighed, units, np.inf)


def pool_demand(c: Compiled, coll: np.ndarray, debt: np.ndarray, Po: np.ndarray, lt: np.ndarray, bonus: np.ndarray,
                cf: np.ndarray, Pc: np.ndarray | None = None, among: np.ndarray | None = None,
                Pd: np.ndarray | None = None) -> np.ndarray | None:
    """Collateral units the close factor asks of each cohort at oracle prices, with no limit and no capacity
    (:func:`~core.mechanisms.lending.liquidate_aave`), (S, c); None where no cohort's collateral a pool prices
    (the only use: :func:`~core.mechanisms.liquidators.fill_by_margin`). Computed for those cohorts only (0
    elsewhere): without a capacity the rule is each cohort's own, the same to the last bit, as long as the
    rule takes the same branch (with or without spreads) as on every cohort. ``among`` (cohort indices, sorted):
    the demand of those cohorts only, (S, len(among)) (0 at those whose collateral no pool prices). ``Pd``: each
    cohort's debt price, :func:`~core.engine.books.debt_price` of ``Po``, where the caller has it."""
    if not len(c.pool_asset):
        return None
    pooled = pool_priced(c)
    if not pooled.any():
        return None
    of = np.flatnonzero(pooled if among is None else pooled[among])  # the columns of the answer computed
    cols = of if among is None else among[of]
    Pcol = _columns(Po, c.c_ca) if Pc is None else Pc
    spread = c.c_spread
    if bool((spread[cols] > 0).any()) != any_spread(c):  # another branch of the rule: every cohort
        every = lending.close_factor_part("collateral_seized", coll, debt, Pcol, debt_price(c, Po), lt, bonus, cf,
                                          c.c_full_close, spread=spread, safe_ratio=c.c_safe_ratio)
        return every if among is None else every[:, among]
    out = np.zeros((len(coll), len(pooled) if among is None else len(among)))
    Pd = debt_price(c, Po) if Pd is None else Pd
    put_columns(out, of, lending.close_factor_part("collateral_seized", _columns(coll, cols), _columns(debt, cols),
                                                   _columns(Pcol, cols), _columns(Pd, cols), _columns(lt, cols),
                                                   _columns(bonus, cols), _columns(cf, cols), c.c_full_close[cols],
                                                   spread=spread[cols], safe_ratio=c.c_safe_ratio[cols]))
    return out


def pool_priced(c: Compiled) -> np.ndarray:
    """(c,) bool: the cohorts whose collateral a pool prices (``np.isin(c_ca, pool_asset)``, by a lookup)."""
    return per_network(c, "pool_priced", lambda: _mask(len(c.P0), c.pool_asset)[c.c_ca])


def _columns(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``x[:, idx]`` for integer indices ``idx`` (the same elements, a new array), by ``np.take``: some 2.5x faster
    than the fancy index on a row of 45,000 cohorts."""
    return x.take(idx, axis=1)  # the array's own method: np.take's wrapper costs a Python call more


def _mask(size: int, where: np.ndarray) -> np.ndarray:
    out = np.zeros(size, bool)
    out[where] = True
    return out


def _pool_terms(c: Compiled, P: np.ndarray, pool_res: np.ndarray) -> PoolTerms | None:
    """The cohorts whose collateral a pool prices, with their pools' terms (:class:`PoolTerms`); None where none."""
    pooled = per_network(c, "limit_pools", lambda: PoolCohorts.of(c))
    if pooled is None:
        return None
    # cohorts, their pools, token, counter (>= 0), distinct pools; the network's terms each cohort reads
    cols, pj, pa, cu, cu0, pools, of, countered, P0_counter, ref, P0_token = pooled
    move = np.where(countered, _columns(P, cu0) / P0_counter, 1.0)
    res = _columns(pool_res, pj)
    # each pool's invariant once, read by its cohorts (a pool's is its own: the same bits)
    inv = pool_invariants(c, _columns(pool_res, pools), pools)
    return PoolTerms(cols, pj, ref * _columns(P, pa), P0_token * move, res,
                     None if inv is None else (_columns(inv[0], of), _columns(inv[1], of)))


def _pool_limit(c: Compiled, pool: PoolTerms, L: np.ndarray, units: np.ndarray, demand: np.ndarray | None,
                room_given: float | None = None) -> np.ndarray:
    """``units`` with each cohort whose collateral a pool prices limited to what keeps the pool's price above
    its break-even, ``exp(-L)`` times the price (:func:`liquidator_limit`); cohorts with ``L <= 0`` are left
    (the caller stands them aside). With ``demand`` (S, c), the units the close factor asks of each cohort,
    its pool's cohorts are filled together (:func:`~core.mechanisms.liquidators.fill_by_margin`); without it,
    each cohort's room is its own, and only close-factor cohorts' is solved for (:func:`liquidator_limit`
    leaves every other cohort unlimited whatever its room). ``room_given``: each cohort's room, not solved
    for (:func:`liquidator_limit`'s ``pool_room``)."""
    if demand is None:
        cols, room, _ = pool_rooms(c, pool, L, room_given)
        if not len(cols):
            return units
        out = units.copy()
        put_columns(out, cols, room)
        return out
    out = units.copy()
    asking = (_columns(demand, pool.cols) > 0).any(1)
    if SKIP_UNASKED_ROWS and not asking.all():
        # a row whose cohorts of these pools ask nothing is filled with nothing (fill_by_margin: 0 where nothing
        # is asked, whatever the room), so its rooms are not solved for; the other rows' are their own (the same bits)
        rows = np.flatnonzero(asking)
        filled = np.zeros((len(units), len(pool.cols)))
        if rows.size:
            cols, room, Lc = pool_rooms(c, pool.take(rows), L[rows], room_given, every=True)
            filled[rows] = liquidators.fill_by_margin(room, demand[rows][:, cols], Lc, pool.pj)
        put_columns(out, pool.cols, filled)
        return out
    cols, room, Lc = pool_rooms(c, pool, L, room_given, every=True)
    put_columns(out, cols, liquidators.fill_by_margin(room, _columns(demand, cols), Lc, pool.pj))
    return out


def pool_rooms(c: Compiled, pool: PoolTerms, L: np.ndarray, room_given: float | None = None,
               every: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The units each cohort whose collateral a pool prices can sell before the pool's price falls to its
    break-even, ``exp(-L)`` times the price (:func:`_pool_limit`): ``(cols, room, margin)``, the cohorts (the
    close-factor ones, or ``every`` one), their room (``room_given`` where given; solved where the margin is positive
    only, 0.0 elsewhere: every caller keeps a room there alone) and their margin floored at 0."""
    cols, pj = pool.cols, pool.pj
    keep: slice | np.ndarray = slice(None)
    if not every:
        keep = np.flatnonzero(c.c_style[cols] == CLOSE_FACTOR)
        cols, pj = cols[keep], pj[keep]
    L_cols = _columns(L, cols)
    Lc = np.where(L_cols > 0, L_cols, 0.0)
    if room_given is not None or not len(cols):
        return cols, np.full(Lc.shape, np.inf if room_given is None else room_given), Lc
    def kept(x: np.ndarray) -> np.ndarray:  # x[:, keep] (a gather by ndarray.take, the same elements)
        return x if isinstance(keep, slice) else x.take(keep, 1)
    with np.errstate(over="ignore", invalid="ignore"):
        target = kept(pool.scale) * np.exp(-Lc) / kept(pool.base)
    target = np.where(np.isfinite(target), target, 0.0)
    inv = None if pool.invariant is None else (kept(pool.invariant[0]), kept(pool.invariant[1]))
    return cols, units_where(c, kept(pool.res), pj, target, Lc > 0, inv), Lc  # (read where Lc > 0 alone)
