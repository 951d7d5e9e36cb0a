"""Step 4 of a round: pegs. Reserves defend, algorithmic stablecoins are redeemed, issuers' tokens follow them.

* A reserve defending a pegged token below peg sells its other tokens and buys
  the token in its pool (:func:`defend_pegs`).
* An algorithmic stablecoin below peg is redeemed for its backing token by
  mint-and-burn, the UST/LUNA spiral (:func:`redeem_algorithmic`).
* A stablecoin whose issuer defaulted trades at the issuer's recovery, and an
  exchange token follows its issuer's equity, wrong-way risk
  (:func:`issuer_effects`).
* A wrapped or bridged token (pegged to another asset, with no pool of its
  own: WBTC) follows its underlying every round, with a basis only where the
  scenario opens one or its custodian or bridge fails (:func:`follow_underlying`).
* No price falls below ``PRICE_FLOOR`` of its reference (:func:`floor_prices`).
"""

from __future__ import annotations

import numpy as np

from .. import paths as exogenous_paths
from ..mechanisms import amm, pegs
from ..mechanisms.market import PRICE_FLOOR
from ..mechanisms.pegs import ALGO_REDEMPTION_CAP, RESERVE_EXHAUSTED
from .batch import ScenarioBatch
from .compiled import Compiled
from .exchange_tokens import exchange_token_prices
from .issuer_caps import forced_now_kept, forced_opening_kept, recovery_capped
from .maker_governance import deficit_priced
from .maker_co_issued import coin_recoveries
from .maker_vow import debt_auction_recovery
from .pools import counter_move, counter_value, sync_pool_holdings
from .queue_sales import counter_fall, lift_outside_unfollowed, queue_value
from .redemptions import defenders, minted_kept, pay_redeemers, redeemable_units
from .sell import sale_impact, unwrap_units, wrapped_basis
from .state import CascadeState, Changes
from .unfollowed import moved_within


def defend_pegs(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> Changes:
    """Reserves defend their pegged token: below peg they sell their other tokens and buy it in its pool.

    Below ``peg * (1 - trigger)`` a reserve may spend a share of what is left, in proportion to the discount
    beyond the band and full at twice the band (:func:`~core.mechanisms.pegs.reserve_defence`, decision 22: a
    budget continuous in the price; with the full budget from the band's edge on, a coin one ulp beyond it was
    lifted to the peg and one at it was not), but only what lifts the
    pool's marginal price up to the peg
    (:func:`~core.mechanisms.amm.stableswap_amount_in_for_price`,
    :func:`~core.mechanisms.amm.cp_amount_in_for_price`): it buys at the pool's
    marginal prices, never above peg, and nothing once the pool is at peg. It
    sells a vertical slice of its other tokens, which moves them by the
    square-root law (:func:`~core.engine.sell.sale_impact`); the proceeds, at
    the prices after that impact, are swapped into the pool along its invariant
    without the pool's fee, as arbitrage trades (:func:`~core.engine.pools.arbitrage`):
    the amount that lifts the pool to peg is the fee-less one, and a fee would
    hand the pool's liquidity providers income in a scenario of falls (at UST
    10% below peg, 0.04% of LFG's purchases made TFL, an LP of the Curve UST
    pool, $43K richer than it started). What it bought is held at market like any token. (Before: half the reserve went in each
    round whatever the pool could absorb, and the pool's price above peg was
    cut to the peg; in the Terra preset LFG paid $2.85bn for 535M UST.) The purchase lifts the token by the
    factor it moves the pool's price, up to the pool's new price: a token that trades at its pool's price follows
    the pool; one that trades below it (UST at its mint-and-burn price or its queue's value,
    :mod:`~core.engine.queue_sales`, while the pool is near peg) rises by the purchase's own move. (Before, any
    positive spend set it to the pool's price: LFG's purchase of 3 UST lifted UST from 0.958 to 1.000, and one
    of under a unit from 0.889, ``monotone-shipped-luna-steth-aave-alt-failed-runs-lag1-capital-500m``.) An
    algorithmic coin is lifted at most to what its queue realises (:func:`~core.engine.queue_sales.queue_value`):
    the purchase changes neither the queue nor the backing's market cap, and above that value the queued holders
    sell rather than wait. (Without it, whether the round's queue sale had taken the pool down to UST's price
    decided whether LFG's purchase lifted UST to $1.00 (0.669 -> 1.000) or by its own move (0.729 -> 0.733), and
    that pair's loss fell $1.238bn.) Nor does it lift the token through the pool prices a queue sale took the pool
    down through, or the dollar quotes its counter's fall did (candidate decision 24,
    :func:`~core.engine.queue_sales.counter_fall`), while the token, trading below them, stayed
    (``CascadeState.pool_unfollowed``,
    :func:`~core.engine.queue_sales.lift_outside_unfollowed`): buying back the units the queued holders sold changes
    neither what a redemption realises nor the queue, and the round trip of the same units through the pool leaves
    the token where it was. (Before, on the 2022 network with LUNA -33.79% and WBTC -59.39%, runs 0.5, oracle lag 1,
    LFG's purchase of the 267M UST the queue had sold the round before lifted UST from 0.931 to 0.951 in the last
    round with redemptions, against 0.932 to 0.937 after a 200M sale at LUNA -33.74%: UST closed at 0.813 against
    0.775 and loss fell $458.5M, ``monotone-shipped-luna-wbtc-half-runs-lag1-capital-50m``.)
    The proceeds buy the pool's counter at its price (:func:`~core.engine.pools.counter_value`: the asset the
    pool's quote side holds, decision 16 in Session 35 (lead)), and the peg is the token's own (UST's a dollar),
    not its pool's counter. On the 2022 network UST's pool is priced in USD over 3CRV's coins (DAI, USDC and USDT in
    CRV_3POOL's proportions, decision 19 in Session 37 (crvust)): with CIRCLE failed a counter unit is worth about
    (DAI + USDT) / 3, UST's pool price falls with it, and the reserve buys the pool's UST with counter units bought
    at that value; what it gains on them, marked at the price its purchase lifted, is a real rise (decision 19
    item 2, ``tests/defence_purchase.py``). (Before, a USD-counter pool's proceeds entered as counter units at $1
    each, and a token-counter pool's peg was its counter's price.)
    A scenario whose reserve buys nothing this round keeps its pool's reserves and price to the last bit, whatever
    its batch-mates' reserves do. (Before session 42 (batch) the purchase's swap and price ran on every row once any
    row bought, so a row that bought nothing had its pool re-priced from the invariant this step solves: on the
    2022 network with Aave v2 stETH's threshold at 0.75, a storm's UST pool price 1.1822815841795644 became
    ...646 in round 3 inside a batch and not alone, and the storm's equity ended 1.9e-6 USD apart.)
    Reads ``P, H, supply, pool_res, pool_px, pool_unfollowed, pool_counter_seen, defaulted, halted``; writes ``P,
    pool_res, pool_px, pool_unfollowed, pool_counter_seen, impact_log, sold_reference_usd`` and, in place, ``H``.
    """
    if not c.defender_of.size or not len(c.pool_asset):
        return {}
    P = s.P.copy()
    changes: Changes = {}
    for i, a in zip(c.defender_of[:, 0], c.defender_of[:, 1]):  # a reserve or two at most
        if a not in c.pool_asset:
            continue
        p = list(c.pool_asset).index(a)
        unit = c.peg_unit[a]  # the peg's unit, not the pool's counter (UST: USD, its pool's USDC)
        peg = c.peg1[a] * (P[:, unit] if unit >= 0 else 1.0)
        if not pegs.reserve_defence(P[:, a], peg, 1.0).any():
            continue  # at peg everywhere: the reserve holds still
        others = (np.arange(c.k) != a) & (np.arange(c.k) != c.backing[a])  # nor the backing it keeps (LUNA)
        held = s.H[:, i, :] * others[None]
        value = (held * P).sum(1)
        # A reserve down to its last percent has given up (LFG was empty by 10 May).
        spent_out = value < RESERVE_EXHAUSTED * (c.H0[i] * others) @ c.P0
        imposed = imposed_depeg(c, b, r, a)
        budget = np.where(s.defaulted[:, i] | s.halted | spent_out | imposed, 0.0, pegs.reserve_defence(P[:, a], peg, value))
        if not budget.any():
            continue
        # What lifts the pool to peg: its price at which the token trades at peg, P0 * px / ref * counter move = peg.
        counter_px = counter_value(c, P)[:, p]  # what a unit of the pool's counter is worth (decision 16)
        move = counter_move(c, P)[:, p]
        px_peg = c.pool_ref[p] * peg / (c.P0[a] * move)
        res = s.pool_res[:, p]
        stable = np.isfinite(c.pool_A[p])
        D = amm.stableswap_D(res, c.pool_A[p]) if stable else None  # the invariant: the fee-less swap keeps it
        if stable:
            # the whole budget may not reach peg (then no need to find what would): one cheap check first
            short = amm.stableswap_price_after_in(res, c.pool_A[p], budget / counter_px, D=D) <= px_peg
            need = (np.full(len(P), np.inf) if short.all()
                    else np.where(short, np.inf, amm.stableswap_amount_in_for_price(res, c.pool_A[p], px_peg, D=D)))
        else:
            need = amm.cp_amount_in_for_price(res[:, 0], res[:, 1], px_peg)
        spend = np.minimum(budget, need * counter_px)
        if not (spend > 0).any():
            continue
        frac = np.where(value > 0, spend / np.where(value > 0, value, 1.0), 0.0)
        sold = held * frac[:, None]
        impact, s.sold_reference_usd = sale_impact(c, s.supply, s.sold_reference_usd, sold, b.liquidity, unwrap_units(c, s, b))
        P = P * np.exp(-impact)
        s.impact_log = s.impact_log + impact
        s.H[:, i, :] -= sold
        seen = counter_fall(c, s, P, spend > 0)  # the spending rows' ranges at the counter's value after the sale
        s.apply(seen)
        # The proceeds, at the prices the sale got, buy the token: they go into the pool on the counter side.
        counter_units = (sold * P).sum(1) / counter_value(c, P)[:, p]
        res_all = s.pool_res.copy()
        px_before, px = s.pool_px[:, p], s.pool_px.copy()
        if stable:
            sw = amm.stableswap_swap(res_all[:, p], c.pool_A[p], 1, 0, counter_units, fee=0.0, D=D)
            bought, res_all[:, p] = sw.amount_out, sw.balances
            px[:, p] = amm.stableswap_price(res_all[:, p], c.pool_A[p], 0, 1, D=D)
        else:
            cp = amm.cp_swap(res_all[:, p, 1], res_all[:, p, 0], counter_units, fee=0.0)
            bought, res_all[:, p, 1], res_all[:, p, 0] = cp.amount_out, cp.reserves_in, cp.reserves_out
            px[:, p] = res_all[:, p, 1] / res_all[:, p, 0]
        # A row whose reserve buys nothing keeps its pool as it stands, bit for bit: the pool re-priced from this
        # step's invariant may land an ulp from the price it holds, and whether it was re-priced would then
        # depend on whether a batch-mate's reserve bought (session 42 (batch)).
        buys = spend > 0
        bought = np.where(buys, bought, 0.0)
        res_all[:, p] = np.where(buys[:, None], res_all[:, p], s.pool_res[:, p])
        px[:, p] = np.where(buys, px[:, p], px_before)
        s.H[:, i, a] += bought
        s.pool_res, s.pool_px = res_all, px
        changes |= seen | dict(pool_res=res_all, pool_px=px, impact_log=s.impact_log, sold_reference_usd=s.sold_reference_usd)
        # The purchase lifts the defended token by its own move of the pool, to the pool's price at most (and so
        # to the peg at most, by construction); a token trading at its pool's price rises to the pool's new price.
        move = counter_move(c, P)[:, p]
        held = s.pool_unfollowed[:, p]
        round_trip, left = lift_outside_unfollowed(held, px_before, px[:, p])
        # none due where the pool rose only inside one range: the token keeps its bits (as in redeem_pool_coins)
        within = moved_within(held, px_before, px[:, p])
        own_move = np.where(within, P[:, a], P[:, a] * px[:, p] / px_before / round_trip)
        lifted = np.minimum(c.P0[a] * px[:, p] / c.pool_ref[p] * move, own_move)
        if held.any():  # the purchase uses up the ranges it bought back through
            s.pool_unfollowed = s.pool_unfollowed.copy()
            s.pool_unfollowed[:, p] = np.where((spend > 0)[:, None, None], left, held)
            changes["pool_unfollowed"] = s.pool_unfollowed
        if a in c.algo_idx:  # nor above what its queue realises: the purchase leaves the queue and its backing as they are
            lifted = np.minimum(lifted, np.maximum(queue_value(c, s.algo_queue[:, a], s.log_mcap[:, c.backing[a]], a), P[:, a]))
        P[:, a] = np.where(spend > 0, np.maximum(P[:, a], lifted), P[:, a])
    if changes:
        sync_pool_holdings(c, s.H, s.pool_res, s.lp_withdrawn)
    return changes | dict(P=P)


def imposed_depeg(c: Compiled, b: ScenarioBatch, r: int, a: int) -> np.ndarray | bool:
    """Scenarios whose own depeg of token ``a`` moves it in round ``r`` (round 0, or a later step of a depeg
    spread over rounds, :mod:`core.paths`), (S,) bool; False where none does.

    Such a depeg is the scenario's premise for that round: outsiders trade the token at the scenario's price
    and sell it into its pool at once (:func:`core.engine.exogenous.exogenous`). A defender that bought it back
    up to peg within the same round would make them sell below the price the round closes at, handing the
    network value from outside: with UST depegged 47.29% (oracle lag 2, liquidity 2, ETH and CEL -7.29%, stETH
    -47.29% on the 2022 network), outsiders sold 348M UST into the Curve pool and LFG bought 347M back for
    $336M in round 0, lifting UST to $1.00 and ending $0.81M richer (``value-shipped-lfg-own-purchase``).
    """
    depeg = b.depeg[:, a]
    if not (depeg > 0).any():
        return False
    if r == 0:
        return depeg > 0
    inc = exogenous_paths.log_increment(b.shock, b.depeg, b.paths, c.peg_unit, r)
    return False if inc is None else (depeg > 0) & (inc[:, a] != 0)


def redeem_algorithmic(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> Changes:
    """One round of mint-and-burn redemptions of algorithmic stablecoins (the UST/LUNA spiral).

    Holders redeem a share ``w = min(ALGO_MAX_RATE, (1 + run) * max(0, 1 - PEG_CALM_BAND - q))`` of
    the supply when the stablecoin trades at ``q`` of its peg (decision 21: only the discount beyond the calm
    band in which the reserve does not defend either, :func:`~core.mechanisms.pegs.holders_exit_share`); redemptions
    beyond the mint/burn capacity (``ALGO_REDEMPTION_CAP`` of the supply per
    round) queue. Each redeemed dollar mints a dollar of the backing token,
    sold into depth equal to its market cap: :func:`core.mechanisms.pegs.algo_stable_step`.

    The redeemed units are given up by the holders who redeem, on their own account
    (:mod:`core.engine.redemptions`: not the units an intermediary owes in kind; Anchor's depositors redeem
    what its runs pay them), pro rata, and never more than they hold: the round's redemptions are at most the
    holders' redeemable units, the rest waits in the queue. Terra's market module swapped a UST for a dollar
    of LUNA minted at the oracle price, less a spread (Terra docs, "Market module"; terra-money/core
    ``x/market``, ``ComputeSwap``); the redeemer sells it into the market's depth, as the step's price law
    has it, and receives ``peg / (1 + y)`` a unit in cash (``y = R / MC``, :func:`~core.mechanisms.pegs.log_slippage`),
    which the step's LUNA price already carries (the minted LUNA goes to its buyers outside the network). The coin's
    own reserve (LFG) is paid instead in the LUNA minted for its units at the oracle price, which it keeps
    (decision 29, :mod:`core.engine.redemptions`, :func:`~core.engine.redemptions.minted_kept`).
    (Before, the supply was burnt while every holder kept its units: the redeemers' slippage left the system,
    and a deeper LUNA fall, which burnt more UST earlier, raised the remaining float's cover and UST's close:
    $41.2M less loss, ``monotone-shipped-luna-33-full-runs-capital-500m``.)
    Reads ``P, supply, algo_queue, log_mcap, H, oa, ik_left``; writes ``P, supply, algo_queue, log_mcap, oa,
    algo_redeemed`` and, in place, ``H``.
    """
    algo = c.algo_idx
    if not len(algo):
        return {}
    P, supply, queue = s.P.copy(), s.supply.copy(), s.algo_queue.copy()
    log_mcap, oa, used = s.log_mcap.copy(), s.oa, np.zeros_like(s.algo_redeemed)
    for a in algo:  # a handful of algorithmic stablecoins at most
        bk = c.backing[a]
        peg = c.peg1[a]
        # The backing's market cap in logs: a diluted token's price sits on the price floor,
        # so supply times floored price would overstate it by orders of magnitude.
        with np.errstate(divide="ignore"):
            lmc = np.minimum(log_mcap[:, bk], np.log(np.maximum(supply[:, bk], 1e-300)) + np.log(np.maximum(P[:, bk], 1e-300)))
            # It cannot trade above its backing's market cap per token, redemptions or not.
            cover = np.where(supply[:, a] > 0, np.exp(np.minimum(lmc - np.log(np.maximum(supply[:, a] * peg, 1e-300)), 700.0)), np.inf)
        P[:, a] = np.minimum(P[:, a], peg * np.minimum(1.0, cover))
        q = np.minimum(P[:, a] / peg, 1.0)
        w = pegs.holders_exit_share(q, b.run)
        U = supply[:, a] * peg
        X = np.minimum(queue[:, a] + w * (U - queue[:, a]), U)
        base, outside = redeemable_units(c, s.H, s.ik_left, supply[:, a], a)
        R = np.minimum(np.minimum(X, ALGO_REDEMPTION_CAP * c.supply[a] * peg), (base.sum(1) + outside) * peg)
        queue[:, a] = X - R
        used[:, a] = R
        lL0 = np.log(np.maximum(supply[:, bk], 1e-300))
        redeemed = R > 0
        if not redeemed.any():  # no redemptions: only the backing's market-cap record applies
            log_mcap[:, bk] = lmc
            P[:, bk] = np.exp(lmc - lL0)
            continue
        with np.errstate(divide="ignore"):
            # what a redeemer realises a unit, as the step computes it (depth fraction 1: log 1 = 0)
            realised = np.exp(-pegs.log_slippage(np.log(R) - 0.0 - (lmc - lL0) - lL0))
            U, lL, lP, q_new, _ = pegs.algo_stable_step(U, lL0, lmc - lL0, R)
        # a reserve that defends the coin is paid in the backing minted for its units, which it keeps (redemptions)
        kept = (defenders(c, a), bk, minted_kept(peg, lmc - lL0, lP, np.log(PRICE_FLOOR * c.P0[bk])))
        oa = pay_redeemers(s.H, oa, base, outside, a, np.where(redeemed, R / peg, 0.0), peg * realised, kept)
        # rows without redemptions keep the values of the branch above (the round trips through logs and the
        # peg would move their last bits, and a row's bits would depend on whether a batch-mate redeemed)
        supply[:, a] = np.where(redeemed, U / peg, supply[:, a])
        supply[:, bk] = np.where(redeemed, np.exp(np.minimum(lL, 700.0)), supply[:, bk])
        log_mcap[:, bk] = np.where(redeemed, lL + lP, lmc)
        P[:, bk] = np.where(redeemed, np.exp(lP), np.exp(lmc - lL0))
        P[:, a] = np.where(redeemed, np.minimum(P[:, a], peg * q_new), P[:, a])
    return dict(P=P, supply=supply, algo_queue=queue, log_mcap=log_mcap, oa=oa, algo_redeemed=used)


def issuer_effects(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> Changes:
    """Stablecoins of defaulted issuers trade at recovery; exchange tokens follow their issuer's equity.

    An exchange token trades at most at ``P0 * health * exp(-impact_log)``: its
    issuer's equity share (floored at ``EXCHANGE_TOKEN_FLOOR``) times the
    impact of every sale of it so far, so that the issuer's markdown does not
    erase the impact of the sales before it, and solved with its issuer's
    equity (:func:`exchange_token_prices`): it follows that health both ways.

    The step runs after the peg channels (:mod:`~core.engine.reserves`,
    :mod:`~core.engine.backing`): a holder of a defaulted issuer's coin is paid
    the issuer's recovery, whatever factor those channels compose into the
    price. Run before them, the cap was divided by last round's factor, which
    the capped price no longer carried (on the 2020 network DAI closed above
    Maker's recovery after a shortfall of vault collateral, below it after a
    CDP premium).

    The recovery is the last clearing's, and it moves both ways as the estate
    realises its assets: the coin trades at ``min(P_free, peg * paid_ratio)``,
    ``P_free`` the price the other steps give it, which is the price before last
    round's cap, ``P / issuer_cap`` (every other step moves such a coin by
    factors). Taken as ``min(P, target)`` on a price that already carried last
    round's cap, a low early recovery held the coin down for good: on the 2020
    network with Maker failed, a vault auctioned a round later (at ETH
    -44.44447%, against 1e-15 deeper) left Maker's round-0 recovery at 0.972
    instead of 0.991 and DAI at 0.972 to the end, $2.1M more loss for the
    shallower shock. Coins priced by a pool keep ``min(P, target)``: the pool
    step sets their price. Reads ``P, issuer_cap, impact_log``, ``defaulted``
    and last round's ``clearing`` and ``equity``; writes ``P, issuer_cap``.
    """
    if not (c.issuer >= 0).any():
        return {}
    if s.clearing is None:  # round 0: a coin whose issuer the scenario forces to fail took its cap in exogenous
        return forced_opening_kept(c, s)
    P = s.P.copy()
    changes: Changes = {}
    iss = np.maximum(c.issuer, 0)
    ratio = debt_auction_recovery(c, s, s.clearing.paid_ratio)  # a failed Maker counts its pending debt auctions
    if c.issued_stable.any():
        P, cap = recovery_capped(c, P, s.issuer_cap, ratio, s.defaulted[:, iss],
                                 coin_recoveries(c, P, ratio, s.defaulted, s.psm_balance))
        # a live Maker whose debt auctions are off: its deficit's share off its coins (maker_governance, decision 18)
        P, changes["issuer_cap"] = deficit_priced(c, s, P, cap)
    xt = c.exchange_token
    if xt.any() and s.equity is not None:
        t = np.flatnonzero(xt)
        P[:, t], cap_x = exchange_token_prices(c, s, t, P[:, t])
        caps = changes.get("issuer_cap", s.issuer_cap).copy()
        caps[:, t] = cap_x
        changes["issuer_cap"] = caps
    now = b.forced_at(r)
    if now is not None:  # an issuer the scenario forces to fail at this round's opening: its coins and tokens as in round 0
        P, changes["issuer_cap"] = forced_now_kept(c, s, now, P, changes.get("issuer_cap", s.issuer_cap))
    return changes | dict(P=P)


def wrapped_prices(c: Compiled, P: np.ndarray, b: ScenarioBatch, custodian_paid: np.ndarray | None = None) -> np.ndarray:
    """Prices with every wrapped token at its underlying: ``P_w = peg * P_u * basis * custodian``, (S, k).

    A wrapped or bridged token is redeemable for ``peg`` units of its
    underlying (WBTC for BTC through BitGo), so arbitrage holds it there, or
    at the discount the snapshot prices it at where its redemption waits in a
    queue (stETH at 0.999 ETH on the 2025 network:
    :func:`~core.engine.sell.reference_basis`); a further
    basis opens only where the scenario sets one (a ``depegs`` entry, or a
    ``price_shocks`` entry on the wrapped token deeper than its underlying's:
    the ratio of the two moves, never a premium, since wrapping more would
    sell it down; a token without an entry follows its underlying up as well
    as down) or where its custodian or bridge (its ``issuer``) has
    defaulted, which pays ``custodian_paid`` of what it owes.
    """
    w = c.wrapped_idx
    if not len(w):
        return P
    basis = wrapped_basis(c, b)
    out = P.copy()
    out[:, w] = c.peg1[w] * P[:, c.peg_unit[w]] * basis
    if custodian_paid is not None:
        out[:, w] *= custodian_paid
    return out


def follow_underlying(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> Changes:
    """Wrapped tokens follow their underlying (:func:`wrapped_prices`), times what a defaulted custodian pays:
    last round's clearing's paid ratio, and in round 0, before any clearing, the opening clearing's where the
    scenario forces the custodian to fail (``opening_custodian_paid``, as round 0's exogenous step priced it:
    :func:`~core.engine.exogenous.forced_issuer_prices`), which this step then drops: from round 1 the
    clearings price it.
    (Without it, round 0's close put LIDO's stETH back at par, $4,350, between round 0's liquidations at $4e-9,
    which seized stETH for no debt, and round 1's, which repaid real DAI for what was left, in proportion to
    the capital's share: a deeper WBTC fall lowered bad debt $15.8M, ``monotone-2025-wbtc-lido-failed-bad-debt``.)
    Reads ``P, defaulted`` and last round's ``clearing`` (round 0: ``opening_custodian_paid``); writes ``P`` and,
    in round 0, ``opening_custodian_paid`` (None)."""
    w = c.wrapped_idx
    if not len(w):
        return {}
    if s.clearing is None or s.opening_custodian_paid is not None:  # round 0, or the round a failure is dated to: a
        #   custodian the scenario forces to fail then pays the opening clearing's ratio
        P = wrapped_prices(c, s.P, b, s.opening_custodian_paid)
        return dict(P=P, opening_custodian_paid=None)
    return dict(P=wrapped_prices(c, s.P, b, custodian_paid(c, s)))


def custodian_paid(c: Compiled, s: CascadeState) -> np.ndarray | None:
    """What each wrapped token's custodian pays, (S, w): last clearing's paid ratio where the custodian has
    defaulted, 1 elsewhere; None where no wrapped token has a custodian. (The wrapped tokens' price and
    :func:`~core.engine.sell.unwrap_units` from round 1; a later round's exogenous move re-prices them with it.)"""
    iss = c.issuer[c.wrapped_idx]
    if s.clearing is None or not (iss >= 0).any():
        return None
    at = np.maximum(iss, 0)
    return np.where((iss >= 0)[None] & s.defaulted[:, at], s.clearing.paid_ratio[:, at], 1.0)


def floor_prices(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> Changes:
    """A token can become worthless, not free of sign: ``P >= PRICE_FLOOR * P0``. Reads and writes ``P``."""
    return dict(P=np.maximum(s.P, PRICE_FLOOR * c.P0[None]))


def forced_custodian_paid(c: Compiled, forced: np.ndarray, paid_ratio: np.ndarray) -> np.ndarray | None:
    """What each wrapped token's custodian pays, (S, w), where the scenario forces it to default (``forced`` (S, n):
    the entities forced to fail at the start of the round): its paid ratio
    ``paid_ratio`` (S, n) in the clearing of the opening books (:func:`~core.engine.exogenous.forced_issuer_prices`);
    1 elsewhere; None where no custodian is forced.

    A default known at the outset reaches the token's price in round 0, before any liquidation, as it reaches
    every later round's (:func:`~core.engine.defend.follow_underlying`, from the last clearing), and at the same
    ratio: the clearing's, not the scenario's recovery share (which is what the custodian keeps of its assets,
    not what it pays: a custodian holding more than it owes pays more, default costs make it pay less). (Before,
    the first clearing's paid ratio reached it only after round 1's liquidations: with ether.fi forced to default
    and oracle lag 1, those traded weETH at round 0's close, and a deeper weETH fall made more weETH loops due
    in that window: $375M less Aave bad debt, ``monotone-2025-weeth-custodian-default-window``. Then round 0
    priced it at the recovery share and the clearings from round 1 at the paid ratio: a jump between round 0's
    liquidations and round 1's.)"""
    w = c.wrapped_idx
    if not len(w) or not forced.any():
        return None
    iss = c.issuer[w]
    hit = (iss >= 0)[None] & forced[:, np.maximum(iss, 0)]
    if not hit.any():
        return None
    return np.where(hit, paid_ratio[:, np.maximum(iss, 0)], 1.0)
