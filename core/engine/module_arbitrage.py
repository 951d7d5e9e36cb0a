"""Arbitrageurs buy an algorithmic stablecoin where its pool sells it cheap and redeem it through the mint-and-burn.

Model. On Terra anyone could buy UST on Curve below what the market module paid for it and swap it for a
dollar of LUNA, minted at the oracle price, less the module's spread (Terra docs, "Market module"; terra-money/core
``x/market``: ``ComputeSwap``, ``DefaultMinStabilitySpread`` 2%). The module's capacity a round is bounded
(``ALGO_REDEMPTION_CAP`` of the initial supply, :func:`~core.engine.defend.redeem_algorithmic`); what the holders'
own redemptions leave of it this round (``CascadeState.algo_redeemed``) the arbitrageurs use on the pool's coins:

* the redemption of ``R`` USD realises ``w(R) = peg (1 - spread) / (1 + R (1 - spread) / MC)`` a unit
  (the step's slippage law, :func:`~core.mechanisms.pegs.log_slippage`, at the backing's market cap after the
  round's redemptions; the LUNA minted is sold into depth equal to that cap);
* they buy the coin from its pool, along its invariant without the fee (as :func:`~core.engine.pools.arbitrage`
  trades), until the pool's marginal price meets ``w`` of the units bought, at most the spare capacity: the
  largest such purchase, found by bisection on the pool's price (the pool's price rises with the units bought,
  ``w`` falls with them);
* the units bought are burnt, and the backing minted for them is sold as the holders' is
  (:func:`~core.mechanisms.pegs.algo_stable_step` on ``R (1 - spread)``: the supply falls by ``R``, the spread
  is burnt with it). The arbitrageurs are outside the network: they pay the pool's counter coin in and take
  the spread between ``w`` and what they paid with them. No value is created: the pool sells the coin at its
  own prices, and the backing minted dilutes its holders.

The purchase lifts the coin as a reserve's purchase from the same pool does (:func:`~core.engine.defend.defend_pegs`):
by its own move of the pool, ``P · px_after / px_before``, to the pool's new price at most, not through a range of
pool prices queued holders sold the pool down through while the coin stayed (:func:`~core.engine.queue_sales.lift_outside_unfollowed`),
nor above what its queue realises (:func:`~core.engine.queue_sales.queue_value`), then at most at what this
redemption realises (the step's ``q``); its backing's price falls with the mint. This is the channel by which the
mint-and-burn holds the peg: "the price stability ... is achieved through Terra<>Luna arbitrage activity against the
protocol's algorithmic market-maker which expands and contracts Terra supply" (terra-money/core, ``x/market/spec``,
README): the units the arbitrage redeems are bought in the market, so the coin's market price rises with them.
(Before, the coin did not rise with the pool's price here; only the pool did. With TETHER failed on the 2022
network, runs 0.5, lag 1, BTC −56.96 %, LFG's round-0 purchase left UST's pool and UST at 0.961703; the holders'
redemptions ($924.0M) left $1.0M of the round's capacity, with which arbitrageurs bought 0.56M UST from the pool (its
UST side down to 17.8M after the defence) and lifted the pool to 0.97998 while UST stayed at 0.961703; in round 1
LFG bought the pool to peg and lifted UST by its own move, 1.5 / 1.46997, to 0.981349, where nothing lifted it
again: the pool at peg, so no defence, no outside units for the pool's arbitrage, and UST beyond the calm band of
decision 21, so the holders redeemed about 2 % of the supply a round ($359.9M, $352.5M, $345.3M, …) and LUNA fell
$71.69 → $18.97 by round 60 in a run that settled only after 287 rounds. At BTC −57.08 % the holders' demand met the
cap, no arbitrage ran, LFG lifted UST to 0.999994 and the run settled in 5 rounds: loss −$1,188.01M at 12 rounds,
−$3,700.16M at 365, ``s39-crvust-2022-btc-57-gbtc-19-wbtc-17-tether-failed-…``.)

(Before, the UST held by the pool could never be redeemed: on the Terra preset holders' own UST ran out by
19 May, sold into the pool rather than redeemed, and the spiral stalled at UST 0.193 and LUNA 1.494 on 20 May.)
"""

from __future__ import annotations

import numpy as np

from ..mechanisms import _stableswap_floats as ssf
from ..mechanisms import amm, pegs
from ..mechanisms.pegs import ALGO_REDEMPTION_CAP, log_slippage
from .batch import ScenarioBatch
from .compiled import Compiled
from .pools import counter_move, pool_price, sync_pool_holdings
from .queue_sales import counter_fall, lift_outside_unfollowed, queue_value
from .state import CascadeState, Changes
from .unfollowed import moved_within

#: Terra's market module's minimum spread on swaps to and from LUNA (terra-money/core, x/market/types/params.go,
#: ``DefaultMinStabilitySpread``).
MODULE_SPREAD = 0.02
#: Halvings of the pool-price bracket: 60 bring it to float resolution.
_BISECTIONS = 60


def _at_price(c: Compiled, p: int, res: np.ndarray, price: np.ndarray, invariant=None) -> np.ndarray:
    """Reserves (m, 2) of pool ``p`` moved along its invariant, fee-less, until its marginal price is ``price``
    (m,), from ``res`` (m, 2) where it is lower. ``invariant``: a stableswap pool's ``(D, quote)`` at ``res``
    (:func:`_invariant_of`), which the bisection's steps share rather than solve again."""
    A = c.pool_A[p]
    if np.isfinite(A):
        D, quote = (None, None) if invariant is None else invariant
        return amm.stableswap_balances_for_price(res, np.full(len(res), A), price, D=D, price=quote)
    k = res[:, 0] * res[:, 1]  # constant product: x y = k at y / x = price
    return np.stack([np.sqrt(k / price), np.sqrt(k * price)], -1)


def _invariant_of(c: Compiled, p: int, res: np.ndarray):
    """A stableswap pool's invariant ``D`` and coin 0's marginal price at ``res`` (m, 2), as
    :func:`~core.mechanisms.stableswap_price_target.stableswap_balances_for_price` computes them from the
    reserves it is given (the same calls on the same operands, so the same bits); None for a constant-product
    pool. The bisection of :func:`redeem_pool_coins` moves one pool from the same reserves at every step, which
    solved its ``D`` and price again at each of its 60 steps (a 2022 pair run to 365 rounds with the arbitrage due
    in every round: 4.4 s of CPU before, 3.0 s since)."""
    A = c.pool_A[p]
    if not np.isfinite(A):
        return None
    amplification = np.full(len(res), A)
    D = amm.stableswap_D(res, amplification)
    return D, amm.stableswap_price(res, amplification, 0, 1, D=D)


def _coin_zero_at(c: Compiled, p: int, res: np.ndarray, invariant):
    """Coin 0's balance (m,) of pool ``p`` moved from ``res`` (m, 2) to each price of the bisection: a function of
    the price (m,), ``_at_price(c, p, res, price, invariant)[:, 0]`` to the last bit. For a few rows of a
    stableswap pool (at most ``FLOAT_POOLS``, where :func:`~core.mechanisms.stableswap_price_target.stableswap_balances_for_price`
    solves each pool on Python floats) the operands that do not change between the bisection's steps (the
    reserves, ``D``, ``D^3``, ``4 A`` and the price at ``res``) are made Python floats once, and each step makes
    the same :func:`~core.mechanisms._stableswap_floats.moved_to_price` calls that function makes, without its
    argument checks, broadcasts and stacking again at each of the 60 steps (the engine's arguments are trusted,
    so those checks are off in a run: :mod:`core.engine.rounds`)."""
    if invariant is None or len(res) > ssf.FLOAT_POOLS:
        return lambda price: _at_price(c, p, res, price, invariant)[:, 0]
    D, quote = invariant
    amplification = 4.0 * np.full(len(res), c.pool_A[p])  # ``Ann`` as the solve forms it from ``A``
    columns = [a.tolist() for a in (res[:, 0], res[:, 1], quote, D, D * D * D, amplification)]
    pools = list(zip(*columns))

    def coin_zero(price: np.ndarray) -> np.ndarray:
        return np.array([ssf.moved_to_price(x, y, t, q < t, d, d3, ann, _MAX_ITER)[0]
                         for (x, y, q, d, d3, ann), t in zip(pools, price.tolist())], dtype=float)

    return coin_zero


#: ``stableswap_balances_for_price``'s default ``max_iter``, which :func:`_at_price` leaves as it is.
_MAX_ITER = 100


def _worth(R: np.ndarray, peg: float, log_mcap: np.ndarray) -> np.ndarray:
    """USD a unit of the coin realises when ``R`` USD of it are redeemed through the module against the backing's
    market cap ``exp(log_mcap)``: ``peg (1 - spread) / (1 + R (1 - spread) / MC)`` (module docstring)."""
    keep = 1.0 - MODULE_SPREAD
    with np.errstate(divide="ignore"):
        return peg * keep * np.exp(-log_slippage(np.log(R * keep) - log_mcap))


def redeem_pool_coins(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> Changes:
    """Arbitrageurs redeem, with the module's spare capacity, coins they buy from the coin's pool below what the
    redemption realises (module docstring). Reads ``algo_redeemed, supply, log_mcap, pool_res, pool_px, P,
    pool_unfollowed, pool_counter_seen``; writes ``supply, log_mcap, pool_res, pool_px, P, pool_unfollowed,
    pool_counter_seen`` and, in place, the pools' holdings in ``H``."""
    algo = [a for a in c.algo_idx if a in c.pool_asset]
    if not algo:
        return {}
    supply, log_mcap, P = s.supply.copy(), s.log_mcap.copy(), s.P.copy()
    res, px = s.pool_res.copy(), s.pool_px.copy()
    seen = counter_fall(c, s, P)  # the ranges at the counter's value now, with its fall since the last look
    unfollowed = seen.get("pool_unfollowed", s.pool_unfollowed).copy()
    keep = 1.0 - MODULE_SPREAD
    bought = np.zeros(s.S, bool)
    for a in algo:  # a handful of algorithmic stablecoins at most
        p, bk, peg = list(c.pool_asset).index(a), c.backing[a], c.peg1[a]
        spare = np.minimum(np.maximum(ALGO_REDEMPTION_CAP * c.supply[a] * peg - s.algo_redeemed[:, a], 0.0),
                           supply[:, a] * peg)
        move = counter_move(c, P)[:, p]
        to_pool = c.pool_ref[p] / (c.P0[a] * move)  # pool price of a coin worth a dollar
        due = (spare > 0) & (px[:, p] < peg * keep * to_pool * (1.0 - 1e-12))
        if not due.any():
            continue
        rows = np.flatnonzero(due)
        pool, lmc, cap, scale = res[rows, p], log_mcap[rows, bk], spare[rows], to_pool[rows]

        lo, hi = px[rows, p], peg * keep * scale
        invariant = _invariant_of(c, p, pool)  # the pool every step moves from
        coin_zero = _coin_zero_at(c, p, pool, invariant)
        for _ in range(_BISECTIONS):  # every row at once: the pool's price at which the purchase stops
            mid = 0.5 * (lo + hi)
            R = np.maximum(pool[:, 0] - coin_zero(mid), 0.0) * peg
            ok = (R <= cap) & (mid <= _worth(R, peg, lmc) * scale)
            lo, hi = np.where(ok, mid, lo), np.where(ok, hi, mid)
        moved = _at_price(c, p, pool, lo, invariant)
        units = np.maximum(pool[:, 0] - moved[:, 0], 0.0)
        went = units > 0
        if not went.any():
            continue
        rows, moved, units, lmc = rows[went], moved[went], units[went], lmc[went]
        R = units * peg
        U = supply[rows, a] * peg
        lL0 = np.log(np.maximum(supply[rows, bk], 1e-300))
        with np.errstate(divide="ignore"):
            _, lL, lP, q_new, _ = pegs.algo_stable_step(U, lL0, lmc - lL0, R * keep)
        supply[rows, a] = (U - R) / peg
        supply[rows, bk] = np.exp(np.minimum(lL, 700.0))
        log_mcap[rows, bk] = lL + lP
        P[rows, bk] = np.exp(lP)
        px_before = px[rows, p]
        res[rows, p] = moved
        px[rows, p] = pool_price(c, moved[:, None, :], np.array([p]))[:, 0]
        # The purchase lifts the coin as a reserve's purchase does (defend_pegs): by its own move of the pool, to
        # the pool's new price at most, not through a range queued holders sold the pool down through, nor above
        # what its queue realises; then at most what this redemption realises (module docstring).
        held = unfollowed[rows, p]
        round_trip, left = lift_outside_unfollowed(held, px_before, px[rows, p])
        # No lift is due where the pool did not rise or rose only inside one unfollowed range (``moved_within``:
        # ``low <= px_before`` and ``px_after <= high``): there the coin keeps its price to the bit, where
        # ``P * px_after / px_before / round_trip``, ``P`` in exact arithmetic, gave it up to rounding. (A move that
        # starts under the range lifts the coin by that part: on the tree before decision 22 the Terra preset's
        # 10 May queue sale left the pool 3 ulps under the price it aimed at, UST's queue value, and UST followed
        # it; the arbitrage lifts UST back to that value, 0.40943539828564623, to the bit.)
        within = moved_within(held, px_before, px[rows, p])
        own_move = np.where(within, P[rows, a], P[rows, a] * px[rows, p] / px_before / round_trip)
        lifted = np.minimum(c.P0[a] * px[rows, p] / c.pool_ref[p] * move[rows], own_move)
        lifted = np.minimum(lifted, np.maximum(queue_value(c, s.algo_queue[rows, a], log_mcap[rows, bk], a), P[rows, a]))
        unfollowed[rows, p] = left
        P[rows, a] = np.minimum(np.maximum(P[rows, a], lifted), peg * q_new)
        bought[rows] = True
    if not bought.any():
        return seen
    rows = np.flatnonzero(bought)  # only the rows that bought: the others' holdings keep their bits
    held = np.ascontiguousarray(s.H[rows])
    sync_pool_holdings(c, held, res[rows], None if s.lp_withdrawn is None else s.lp_withdrawn[rows])
    s.H[rows] = held
    return seen | dict(supply=supply, log_mcap=log_mcap, pool_res=res, pool_px=px, P=P, pool_unfollowed=unfollowed)
