"""Holders queued to redeem an algorithmic stablecoin who cannot be served sell it into its pool.

Model. Each round holders want out of an algorithmic stablecoin trading below peg
(:func:`~core.engine.defend.redeem_algorithmic`: the demand ``X``, of which the mint-and-burn module serves
``R``, at most ``ALGO_REDEMPTION_CAP`` of the supply a round and the units holders hold on their own account,
:mod:`core.engine.redemptions`; the rest, ``Q``, waits in the queue). Terra's market module swapped UST for LUNA
against a virtual pool whose depth (``BasePool``) refills over ``PoolRecoveryPeriod`` blocks, so its capacity
a day was bounded (jp12, "Understanding Terra's market module and redemption capacity", April 2022, from the
Terra docs' "Market module"); holders it could not serve sold UST where it had depth, first the Curve UST-3Crv
pool (Nansen, "On-chain forensics: demystifying TerraUSD de-peg", 2022: UST withdrawn from Anchor, bridged
through Wormhole and swapped for USDC and USDT on Curve, which left the pool heavily imbalanced towards UST;
Chainalysis: the 85M and 100M UST swaps of 7-8 May).

The queue, redeemed at the backing's market cap now, realises ``v = peg / (1 + Q / MC)`` a unit (the step's
slippage law, :func:`~core.mechanisms.pegs.log_slippage`, as :func:`~core.engine.defend.redeem_algorithmic`
pays its redeemers): a queued holder can expect no more of waiting. So

* the coin trades at most at ``v``: above it, queued holders sell it rather than wait (a unit held by an
  intermediary, Anchor's UST owed to its depositors, is worth no more to them than its redemption);
* queued holders holding units on their own account after the round's redemptions
  (:func:`~core.engine.redemptions.redeemable_units`: no one sells units it owes in kind or does not hold) sell
  them into the coin's pool while it pays more than ``v``: the units that bring its marginal price down to
  ``v`` (:func:`~core.engine.pool_solves.units_to_price`), at most the queue, swapped along the pool's invariant at its
  marginal prices, without the fee (:func:`~core.engine.pools.pool_sell`), as arbitrage and a reserve's defence
  trade (a fee would hand the pool's liquidity providers income in a scenario of falls: with it, TFL, an LP of
  the Curve UST pool, ended $0.305M richer with UST depegged 23.55%, GBTC -74.10% and full runs,
  ``test_no_value_created_in_falls[shipped]``). The sellers leave the queue and are booked as redeemers are
  (:func:`~core.engine.redemptions.pay_redeemers`): pro rata to their own-account units, each gives up what it
  sells and receives what the pool pays (the counter coin out of the swap at its price); units held outside the
  network enter the pool and their proceeds leave with their holders. The coin then trades at most at the
  pool's new marginal price (:func:`~core.engine.pools.apply_pool_prices`). The reserve that defends the coin
  (``Compiled.defender_of``, :func:`~core.engine.redemptions.defenders`: LFG for UST) is no seller: it bought its
  units in that pool to lift it (:func:`~core.engine.defend.defend_pegs`) and keeps them, redeeming its share of
  the window for the backing it keeps (decision 29; LFG's thread of 16 May 2022: what it held at the
  end was LUNA and UST "worth almost nothing"). (Before, the queue sold LFG's bought UST back into the pool it had
  just bought it from, at up to $0.998 a unit while UST traded at 3e-11, its defence and the sale a round trip
  through the pool whose share of LFG's units moved with the depth: LUNA -87.82 -> -87.91 % with ANCHOR failed,
  LFG's loss $2,408.99M -> $2,398.60M against STABLE_HOLDERS' +$8.39M, system loss -$1.79M,
  ``monotone-shipped-luna-88-anchor-failed-half-runs-capital-50m-bad-debt``);
* the pool prices the sale took the pool down through while the coin, trading below them, stayed are kept
  (:func:`unfollowed_range`, ``CascadeState.pool_unfollowed``): a reserve buying the pool back up through them
  lifts the coin none (:func:`lift_outside_unfollowed`, :func:`~core.engine.defend.defend_pegs`), as buying back
  the units the queued holders sold changes neither what a redemption realises nor the queue. (Before, the round
  trip lifted the coin by its pool's move: LFG bought back the queue's sale of the round before and lifted UST
  0.931 -> 0.951, and the deeper of two LUNA falls 0.05% apart lowered system loss $458.5M,
  ``monotone-shipped-luna-wbtc-half-runs-lag1-capital-50m``.) So are the dollar quotes the fall of the pool's
  counter took the pool down through while the coin, below them, stayed (:func:`counter_fall`, candidate
  decision 24): the range is kept at the counter's value when the pool last priced its coin
  (``CascadeState.pool_counter_seen``) and re-expressed at its value now before it is used.

(Before, once the own-account units ran out the unserved queue grew while the coin's price stayed where the
last redemption put it: on the 2022 network UST's close depended on the round the redeemable units ran out in
relative to LFG's defence, not on the shock, and a deeper LUNA fall lowered system loss $206.5M,
``monotone-shipped-wbtc-luna-btc-steth-depeg-runs-lag2``. Selling the whole unserved queue into the $700M pool
instead, with no price at which a holder would rather wait, crashed UST to $0.0001 on the Terra preset's 9 May
and turned that pair into a $13.9bn violation the other way: the queue's realisable value is the stopping rule.)
"""

from __future__ import annotations

import numpy as np

from ..mechanisms.pegs import log_slippage
from .batch import ScenarioBatch
from .compiled import Compiled
from .pool_solves import units_to_price
from .pools import apply_pool_prices, cheap_pools, counter_move, counter_value, pool_price, pool_sell, sync_pool_holdings
from .redemptions import defenders, pay_redeemers, redeemable_units
from .state import CascadeState, Changes
from .unfollowed import lift_outside_unfollowed, unfollowed_range

__all__ = ["counter_fall", "lift_outside_unfollowed", "queue_value", "sell_unserved_queue", "unfollowed_range"]


def queue_value(c: Compiled, queue: np.ndarray, log_mcap: np.ndarray, a: int) -> np.ndarray:
    """What a unit of algorithmic stablecoin ``a`` realises when its whole ``queue`` (S,) USD is redeemed at its
    backing's market cap ``exp(log_mcap)`` (S,): ``peg / (1 + Q / MC)``, the peg where the queue is empty (module
    docstring)."""
    with np.errstate(divide="ignore"):  # an empty queue: log 0, no slippage, the peg
        return c.peg1[a] * np.exp(-log_slippage(np.log(queue) - log_mcap))


def counter_fall(c: Compiled, s: CascadeState, P: np.ndarray, rows: np.ndarray | None = None) -> Changes:
    """The unfollowed ranges (:func:`unfollowed_range`) at the counter's value under the prices ``P`` (S, k), with
    the pool prices the counter's own fall took each pool down through while its coin stayed: the fields
    ``pool_unfollowed`` and ``pool_counter_seen`` to write, {} where no pool's counter moved since the last look.
    ``rows`` (S,) bool: only those scenarios (the ones a step trades in; the others keep their fields to the bit
    until a step looks at them, so that no row's range depends on what its batch-mates trade).

    Rule (candidate decision 24). A pool prices its coin in units of its counter; the coin's USD price is the pool
    price times the counter's value (:func:`~core.engine.pools.counter_value`). Curve's metapools rate their base
    pool's LP token (UST's pool: 3CRV, the 3pool's DAI, USDC and USDT) at the base pool's virtual price, which counts
    its coins at par (curvefi/curve-contract, contracts/pool-templates/meta/SwapTemplateMeta.vy, ``_vp_rate``;
    docs.curve.finance, "Metapools"; decision 19): when a base coin falls (DAI at End's cash), the pool's balances
    and its price in counter units stay where they were while its quote in dollars falls with the counter. A coin
    that trades on several venues is held by arbitrage at its cheapest: it follows that quote down only below the
    price it stood at elsewhere (UST at its mint-and-burn value, its queue's, :mod:`core.engine.queue_sales`;
    Liu, Makarov & Schoar, "Anatomy of a run: the Terra Luna crash", NBER WP 31160, 2023, on UST's venues), and
    above it the counter's fall moved a quote the coin never traded at. A reserve's purchase that lifts the pool
    back up through those dollar prices restores its counter-unit price, not the coin's: the coin is lifted only
    through the part of the range it followed (:func:`lift_outside_unfollowed`), as for the prices a queue sale
    took the pool down through while the coin stayed. So, with ``m`` the counter's move
    (:func:`~core.engine.pools.counter_move`) when the pool last priced its coin (``pool_counter_seen``) and ``m'``
    now, a pool at ``px`` quoted ``px m`` and quotes ``px m'``; in counter units at ``m'`` its quote fell from
    ``px m / m'`` to ``px``, and the coin, at ``P``, the pool price ``ref P / (P0 m')``, followed only below it:
    the range ``[clip(ref P / (P0 m'), px, px m / m'), px m / m']`` is merged into the pool's unfollowed range where
    the coin traded below the pool's quote before the fall (by more than the arbitrage's tolerance,
    :func:`~core.engine.pools.cheap_pools`: a coin at the quote followed the whole fall), and
    the range already held, a set of dollar quotes, is re-expressed at ``m'`` (times ``m / m'``). A counter that
    rises re-expresses the range and records none (the coin trades at most at its pool's quote: it does not follow
    a rise). Where ``m' = m`` every bit is kept. (Before, on the 2022 network with ETH -77.49%, GBTC -53.68% and
    WBTC -51.45%, UST 9.19% off peg, MAKER failed, End's cash took DAI to 0.880 and 3CRV's coins to 0.960, the UST
    pool's quote from $0.998486 to $0.958578 with UST at $0.966127: LFG's purchase lifted the pool back to
    $0.999498 and UST through that range to 0.997970, inside the calm band, where the shallower pair's UST, whose
    counter did not fall, stayed at 0.966127: system loss fell $1,306.86M,
    ``s41-lead-2022-eth-77-gbtc-53-54-wbtc-51-ust-depeg-9-no-runs-lag1-liquidity-123``.)"""
    if not len(c.pool_asset):
        return {}
    move, seen = counter_move(c, P), s.pool_counter_seen
    moved = (move != seen) if rows is None else (move != seen) & rows[:, None]
    if not moved.any():
        return {}
    pa = c.pool_asset
    back = np.where(moved, seen / move, 1.0)  # a quote at the last look, in counter units at the move now
    held = np.where(moved[..., None, None], s.pool_unfollowed * back[..., None, None], s.pool_unfollowed)
    at_coin = c.pool_ref * P[:, pa] / (c.P0[pa] * move)
    # only a coin below its pool's quote before the fall, beyond the arbitrage's tolerance (pools.cheap_pools): one at
    # the quote followed the whole fall, and its price over the move rounds an ulp from the pool's (a range of an ulp)
    below = cheap_pools(c, P, s.pool_px, seen)
    held = unfollowed_range(held, s.pool_px * back, s.pool_px, at_coin, moved & (move < seen) & below)
    return dict(pool_unfollowed=held, pool_counter_seen=np.where(moved, move, seen))


def sell_unserved_queue(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> Changes:
    """Each algorithmic stablecoin priced by a pool trades at most at what its queue realises, and queued holders
    sell their own units into its pool down to that price (module docstring). Reads ``algo_queue, supply, H,
    ik_left, oa, pool_res, pool_px, pool_unfollowed, pool_counter_seen, P, log_mcap``; writes ``algo_queue, oa,
    pool_res, pool_px, pool_unfollowed, pool_counter_seen, P`` and, in place, ``H`` (the sellers' units and the pools' holdings)."""
    algo = [a for a in c.algo_idx if a in c.pool_asset]
    if not algo or not s.algo_queue[:, algo].any():
        return {}
    queue, oa, res = s.algo_queue.copy(), s.oa, s.pool_res
    units = np.zeros((s.S, len(c.pool_asset)))
    sellers = []
    bound = s.P.copy()
    moves = counter_move(c, s.P)
    for a in algo:  # a handful of algorithmic stablecoins at most
        base, outside = redeemable_units(c, s.H, s.ik_left, s.supply[:, a], a)
        base[:, defenders(c, a)] = 0.0  # the coin's reserve keeps the units its defence bought (module docstring)
        p = list(c.pool_asset).index(a)
        behind = queue_value(c, queue[:, a], s.log_mcap[:, c.backing[a]], a)
        bound[:, a] = np.minimum(bound[:, a], behind)
        # the pool price at which the coin trades at that value; the units that bring the pool there
        move = moves[:, p]
        target = c.pool_ref[p] * behind / (c.P0[a] * move)
        have = base.sum(1) + outside
        if have.any():  # none held on their own account in any row (tac, steth after round 3): units 0 whatever the
            # pool's solve gives (at least 0: units_to_price), the queue as it is; the solve is skipped (the same bits)
            with np.errstate(over="ignore"):  # a queue worth almost nothing: 1 / target overflows, the units stay finite
                to_price = units_to_price(c, res[:, [p]], np.array([p]), target[:, None])[:, 0]
            units[:, p] = np.minimum(np.minimum(queue[:, a] / c.peg1[a], have), to_price)
            queue[:, a] -= units[:, p] * c.peg1[a]
        sellers.append((a, p, base, outside, c.pool_ref[p] * bound[:, a] / (c.P0[a] * move)))
    if not units.any():
        return dict(P=bound) if (bound < s.P).any() else {}
    # fee-less, at the pool's marginal prices (other rows keep their bits)
    sold = np.where(units[..., None] > 0, pool_sell(c, res, units, fee_less=True), res)
    paid = (res[..., 1] - sold[..., 1]) * counter_value(c, s.P)  # what each pool paid out, USD
    for a, p, base, outside, _ in sellers:
        price = np.where(units[:, p] > 0, paid[:, p] / np.where(units[:, p] > 0, units[:, p], 1.0), 0.0)
        oa = pay_redeemers(s.H, oa, base, outside, a, units[:, p], price)
    px = np.where(units > 0, pool_price(c, sold), s.pool_px)
    rows = np.flatnonzero(units.any(1))  # only the rows that sold: the others' holdings keep their bits
    held = np.ascontiguousarray(s.H[rows])
    sync_pool_holdings(c, held, sold[rows], None if s.lp_withdrawn is None else s.lp_withdrawn[rows])
    s.H[rows] = held
    at_pool = apply_pool_prices(c, s.P, px, c.pool_ref[None])
    P = bound
    seen = counter_fall(c, s, s.P, np.asarray(units.any(1)))  # the counter's fall came first: the ranges at its value now, then the sale's
    unfollowed = seen.get("pool_unfollowed", s.pool_unfollowed).copy()
    for a, p, _, _, px_at_coin in sellers:  # the coin sold, in the rows that sold it: no other price moves here
        P[:, a] = np.where(units[:, p] > 0, np.minimum(at_pool[:, a], P[:, a]), P[:, a])
        unfollowed[:, p] = unfollowed_range(unfollowed[:, p], s.pool_px[:, p], px[:, p], px_at_coin, units[:, p] > 0)
    return seen | dict(algo_queue=np.maximum(queue, 0.0), oa=oa, pool_res=sold, pool_px=px, P=P, pool_unfollowed=unfollowed)
