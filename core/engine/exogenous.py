"""The exogenous step: what the scenario itself does to the system, before the cascade reacts.

This is the one place that reads the scenario's shocks (``shock``, ``depeg``,
``pool_sales``, ``forced`` in :class:`~core.engine.batch.ScenarioBatch`). In
round 0 it applies all of them at once:

* price moves: ``P = P0 * (1 + price_shock)``;
* depegs: a pegged token trades at ``peg * (1 - depeg)`` (its peg in USD, or
  in its peg asset at that asset's shocked price);
* wrapped tokens move with their underlying (a shock on the wrapped token
  itself is a basis against it: :func:`~core.engine.defend.wrapped_prices`);
* forced defaults: the entity loses its outside assets and tokens but the
  recovery share (``shock_loss``), and is in default from round 0; the
  margin it has pledged to perpetuals venues outside their books stays
  pledged, whole (:mod:`core.engine.perps_pledged`); a
  stablecoin it issues, or a wrapped token it holds the underlying of, trades
  at once at what it pays in a clearing of the opening books
  (:func:`forced_issuer_prices`); a forced Maker system is shut down first,
  its vaults skimmed by End (:func:`core.engine.maker_end.cage`);
* sales into AMM pools: the USD amount is swapped into the token's pool, which
  then sets the token's price (:mod:`core.engine.pools`); a shocked pool token
  is traded into its pool by arbitrage (:func:`~core.engine.pools.arbitrage`)
  at once, so that what is sold into the pool later moves it from there (the
  scenario imposes that sale, as it imposes its pool sales: the units come from
  holders outside the network, whatever the network's count of them). A
  liquid-staking token trades, in the round, at the price arbitrage leaves once
  it meets the sale (:func:`~core.engine.staking.met_sale_prices`).

A shock that unfolds over several rounds (``shock_rounds``, ``price_paths``:
:mod:`core.paths`) takes its first step in round 0; each later round's
exogenous move multiplies the prices the round opens at (the last close, so
the cascade's own impact composes with the path), and wrapped tokens move
with their underlying at once. The round's opening prices become the last
entry of the price history, which the circuit breaker and lagged oracles read.

A forced default the scenario dates to a later round (``forced_default_rounds``,
``ScenarioBatch.forced_round``: FTX stopped withdrawals on 8 November 2022, days
into FTT's fall; Maker's ESM is triggered once losses appear) gets, at the start
of that round, after the round's path move, exactly round 0's treatment of a
forced default (:func:`fail_forced`, :func:`forced_later`): the outside assets
and tokens lost but the recovery share, a forced Maker caged on that round's
oracles, the failed entity's coins, exchange tokens and wrapped tokens at what
it pays in a clearing of the books the round opens with, held there through the
round (:func:`~core.engine.issuer_caps.forced_now_kept`,
``opening_custodian_paid``); the clearings price them from the next round. Each
scenario of a batch fails its entities at its own rounds (an (S, n) array of
rounds), and a scenario does not settle before its last dated failure. Two
things differ from a failure at round 0, both the round's and not the failure's:
the round's runs see the failure at once (round 0 has no runs: no clearing yet
to read distress from), and a pool coin of an issuer failing later is traded
into its pool by the round's own arbitrage step (round 0's arbitrage of the
scenario's moves, at any size, is for the scenario's shocks and pool sales).

A Maker system a clearing put in default (past its backstop) is caged by End
at the opening of the next round by the same code, :func:`forced_later` with
nothing forced (:func:`core.engine.maker_end.ended`: the lead's decision 1,
the shutdown is the default).
"""

from __future__ import annotations

import numpy as np

from .. import paths as exogenous_paths
from ..mechanisms.market import PRICE_FLOOR
from . import maker_end, staking
from .batch import ScenarioBatch
from .compiled import Compiled
from .clear import clear_books, sink_claims
from .maker_co_issued import coin_recoveries
from .defend import custodian_paid, forced_custodian_paid, wrapped_prices
from .exchange_tokens import exchange_token_prices
from .issuer_caps import recovery_capped
from .known_zeros import zeros
from .perps_pledged import pledged_margin
from .pools import apply_pool_prices, arbitrage_pools, counter_move, pool_price, pool_sell, sync_pool_holdings
from .state import CascadeState, Changes


def exogenous(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> Changes:
    """Reads ``P, H, oa, pool_res`` (and the books a clearing reads, where an issuer of a coin or a custodian is forced
    to fail) and the batch's shocks; writes ``P, pool_res, pool_px, pool_counter_seen, shock_loss, issuer_cap, opening_custodian_paid, defaulted,
    default_round``, the last entry of ``price_history`` and, in place, ``H``, ``oa`` and ``illiquid`` of
    forced defaults; where the Maker system is forced, what :func:`~core.engine.maker_end.cage` writes (its
    vaults, auction slots and bad debt; End's collateral into ``H``). Later rounds: ``P`` and the last price, when a path
    moves them, and in a round a forced failure is dated to what :func:`forced_later` writes."""
    if r != 0:
        moved = _path_move(c, s, b, r)
        now = b.forced_at(r)
        endogenous = maker_end.ended(c, s)  # a Maker the last clearings put in default: caged now (maker_end)
        if (now is None or not now.any()) and endogenous is None:
            return moved
        s.apply(moved)
        if now is None or not now.any():  # the cage alone: the forced path's code, with nothing forced
            now = np.zeros(s.defaulted.shape, bool)
        return moved | forced_later(c, s, b, r, now, endogenous)
    shock0, depeg0 = exogenous_paths.round_zero(b.shock, b.depeg, b.paths)
    P = s.P * shock0
    pegged = c.peg_unit >= -1
    peg_ref = np.where(c.peg_unit >= 0, P[:, np.maximum(c.peg_unit, 0)], 1.0) * np.nan_to_num(c.peg_target)
    P = np.where((b.depeg > 0) & pegged, peg_ref * (1 - depeg0), P)
    # wrapped tokens move with their underlying from the first round (one whose custodian the scenario forces
    # to fail is priced at what the custodian pays below, once the forced losses are taken)
    P = wrapped_prices(c, P, b)
    now = b.forced_at(0)
    assert now is not None
    P, failed = fail_forced(c, s, b, P, now, 0)
    pool_res = s.pool_res
    if len(c.pool_asset):
        units = b.pool_sales[:, c.pool_asset] / np.maximum(P[:, c.pool_asset], 1e-12)
        pool_res = pool_sell(c, pool_res, units)
    pool_px = pool_price(c, pool_res)
    if len(c.pool_asset):
        P = apply_pool_prices(c, P, pool_px, c.pool_ref[None])
        # a shock on a pool's token (or its counter) is traded into the pool now, before anything is sold into
        # it, so that later sales move the pool from the shocked state (their impact is not absorbed by it)
        # the scenario's own move of a pool token is sold into its pool by holders outside the network, as its
        # pool sales are (the round's later arbitrage sells only the units they hold, pools.unheld_units)
        arbitraged = arbitrage_pools(c, P, pool_res, pool_px, np.full(pool_px.shape, np.inf))
        if arbitraged is not None:
            pool_res, pool_px = arbitraged
        sync_pool_holdings(c, s.H, pool_res)
        # the round trades at the price arbitrage leaves once it meets the scenario's sale into a liquid-staking
        # pool (the pool itself stays at the trough: the staking step nets all the round's sales)
        P = staking.met_sale_prices(c, s, b, P, pool_res, pool_px)
    # the scenario's opening prices are its premise: the pools' counters are seen at them (queue_sales.counter_fall)
    return failed | dict(P=P, pool_res=pool_res, pool_px=pool_px, defaulted=now.copy(), default_round=np.where(now, 0, -1),
                         price_history=s.price_history[:-1] + [P.copy()], pool_counter_seen=counter_move(c, P))


def _path_move(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> Changes:
    """Round ``r`` (> 0)'s exogenous move: the prices the round opens at where a path moves them, and the last entry
    of the price history; nothing where no path moves."""
    moved = exogenous_paths.apply_round(s.P, b.shock, b.depeg, b.paths, c.peg_unit, r)
    if moved is s.P:
        return {}
    # wrapped tokens move with their underlying, at what a failed custodian pays (its last clearing's ratio,
    # as defend.follow_underlying prices them at the close: not back at par until then)
    paid = custodian_paid(c, s)
    moved = wrapped_prices(c, moved, b, paid)
    if paid is not None:  # a custodian paying 0: worthless, not free of sign (defend.floor_prices)
        w = c.wrapped_idx
        moved[:, w] = np.maximum(moved[:, w], PRICE_FLOOR * c.P0[w])
    return dict(P=moved, price_history=s.price_history[:-1] + [moved.copy()])


def fail_forced(c: Compiled, s: CascadeState, b: ScenarioBatch, P: np.ndarray, now: np.ndarray,
                r: int, endogenous: np.ndarray | None = None) -> tuple[np.ndarray, Changes]:
    """The failures the scenarios force at the start of round ``r``, ``now`` (S, n), on the books the round opens with
    at prices ``P``: the round's prices once the failed issuers' coins and tokens and the failed custodians' wrapped
    tokens are repriced, and the changes (``shock_loss, issuer_cap, opening_custodian_paid``, a cage's).

    Each forced entity loses its outside assets and tokens but the recovery share (``shock_loss``: few (scenario,
    entity) pairs), except the margin it has pledged to perpetuals venues outside their books, which stays theirs
    to settle (:mod:`core.engine.perps_pledged`); a forced Maker is caged (:func:`~core.engine.maker_end.cage`) on the round's oracles; a coin,
    exchange token or wrapped token of a forced entity trades at what it pays in a clearing of the opening books
    (:func:`forced_issuer_prices`). Round 0 writes ``H``, ``oa`` and ``illiquid`` in place (the state owns
    them); a later round first copies them, so that nothing holding the last round's arrays sees the change."""
    if r:
        s.apply(dict(H=s.H.copy(), oa=s.oa.copy(), illiquid=s.illiquid.copy(), cohort_bad=None))  # cohort_bad: this
        #   round's, a cage's gap the first (core.engine.liquidate adds the round's own to it)
    # a Maker caged now (forced, or put in default by an earlier clearing: ``endogenous``) has its Vow caged first:
    # MKR holders' pledge is released before the forced loss takes its share of what the system holds
    caging = maker_end.caging(c, now, endogenous)
    released = maker_end.vow_cage(c, s, caging)
    if released:
        s.apply(released)
    H, oa = s.H, s.oa  # the state owns them: changed in place
    fs, fi = np.nonzero(now)
    lost = 1.0 - b.forced_recovery[fs]
    shock_loss = s.shock_loss if r else zeros(s.shock_loss.shape)  # none forced: known zeros (core.engine.known_zeros)
    # the margin it has pledged to perpetuals venues outside their books stays pledged (core.engine.perps_pledged)
    pledged = pledged_margin(c, s) if len(fs) else None
    kept_H = np.zeros_like(H[fs, fi]) if pledged is None else np.clip(pledged[0][fs, fi], 0.0, np.maximum(H[fs, fi], 0.0))
    kept_oa = np.zeros_like(oa[fs, fi]) if pledged is None else np.clip(pledged[1][fs, fi], 0.0, np.maximum(oa[fs, fi], 0.0))
    if len(fs):
        shock_loss = np.zeros_like(s.shock_loss) if not r else s.shock_loss.copy()
        taken = lost * ((oa[fs, fi] - kept_oa) + ((H[fs, fi] - kept_H) * P[fs]).sum(1))
        if r:
            shock_loss[fs, fi] += taken
        else:
            shock_loss[fs, fi] = taken
    if pledged is None or not (kept_oa.any() or kept_H.any()):
        oa[fs, fi] *= 1.0 - lost
        s.illiquid[fs, fi] *= 1.0 - lost  # what it keeps is cash and illiquid book alike
        H[fs, fi] *= (1.0 - lost)[:, None]
    else:
        before = oa[fs, fi]
        oa[fs, fi] = kept_oa + (1.0 - lost) * (before - kept_oa)
        # what it keeps of oa keeps its mix of cash and book (an entity with no pledged USD: exactly as above, so that
        # a scenario's figures do not depend on a batch-mate's forced failure)
        kept = kept_oa > 0
        s.illiquid[fs, fi] *= np.where(kept, oa[fs, fi] / np.where(kept, before, 1.0), 1.0 - lost)
        H[fs, fi] = kept_H + (1.0 - lost)[:, None] * (H[fs, fi] - kept_H)
    # a forced Maker is its emergency shutdown: End cages it and skims its vaults before anything trades, so the
    # opening books its DAI is priced on below hold the collateral End took (core.engine.maker_end)
    # (and a Maker a clearing put in default in an earlier round: caged at this opening alike)
    caged = maker_end.cage(c, s, b, P, s.price_history[:-1] + [P], caging)
    if caged:
        s.apply(caged)
    # an endogenous cage's DAI trades at what the caged books pay, in a clearing of them at this opening (as a
    # forced issuer's coin does below): its pledge released, its vaults skimmed
    opening = None if endogenous is None else clear_books(c, s, b, P)[1].paid_ratio
    marks = maker_end.cage_marks(c, s, now, endogenous, r, opening)
    if marks:
        s.apply(marks)
    issuer_cap, opening_paid = s.issuer_cap, None
    # a coin whose issuer, or a wrapped token whose custodian, the scenario forces to fail trades at what the
    # failed entity pays from the first trade (a pool coin's pool is then arbitraged to it below, as a depeg's is)
    failed = forced_issuer_prices(c, s, b, P, now)
    if failed is not None:
        P, issuer_cap, opening_paid = failed
    return P, released | caged | marks | dict(shock_loss=shock_loss, issuer_cap=issuer_cap, opening_custodian_paid=opening_paid)


def forced_later(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int, now: np.ndarray,
                 endogenous: np.ndarray | None = None) -> Changes:
    """The failures the scenarios date to round ``r`` > 0 (``forced_default_rounds``), ``now`` (S, n), with exactly
    round 0's treatment (:func:`fail_forced`) on the books and prices round ``r`` opens with (the last close, moved
    by the round's path): the forced loss with the recovery share, a Maker caged on the round's oracles, the
    opening clearing's prices of the failed entities' coins, tokens and wrapped tokens. Each is in default from
    round ``r`` (``default_round`` r; an entity already in default keeps its earlier round). Writes what
    :func:`fail_forced` writes, ``P``, ``defaulted``, ``default_round`` and the last entry of ``price_history``."""
    P, failed = fail_forced(c, s, b, s.P, now, r, endogenous)
    return failed | dict(P=P, defaulted=s.defaulted | now, default_round=np.where(now & (s.default_round < 0), r, s.default_round),
                         price_history=s.price_history[:-1] + [P.copy()])


def forced_issuer_prices(c: Compiled, s: CascadeState, b: ScenarioBatch, P: np.ndarray,
                         now: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
    """Round 0's opening prices ``P`` with every coin of an issuer and every wrapped token of a custodian (its
    issuer) the scenario forces to fail at what that entity pays in a clearing of the opening books, the issuers' caps, (S, k)
    each, and what each wrapped token's custodian pays, (S, w) (None where none is forced); None where the batch
    forces no such entity.

    Model. The scenario's premise is that the entity has failed when the shock lands: the market prices its
    coin or wrapped token at the expected recovery from the first trade, before any liquidation, run or sale of
    round 0, as every later round prices it from the last clearing (:func:`~core.engine.defend.issuer_effects`,
    :func:`~core.engine.defend.follow_underlying`). The recovery is the entity's paid ratio in a clearing of the
    opening books (:func:`~core.engine.clear.clear_books`, one clearing for both: the forced losses taken, the
    scenario's shocks and depegs priced, every wrapped token at its underlying, every other entity paying in
    full), the ratio the first clearing gives: a custodian owes its token's holders the underlying it holds for
    them (:func:`~core.engine.peg_terms.wrapped_custodians`), so it pays the share of its assets it keeps, times
    the default costs, over what it owes, which is the scenario's recovery share only where it held exactly
    what it owed. A coin's cap is recorded in ``issuer_cap`` (the clearings take over from round 1, both ways);
    a custodian's ratio in ``opening_custodian_paid`` for the rest of round 0
    (:func:`~core.engine.sell.unwrap_units`, :func:`~core.engine.defend.follow_underlying`).

    Sources: USDC, whose issuer had $3.3bn of its ~$40bn of reserves at Silicon Valley Bank, traded as low as
    $0.8774 on 11 March 2023, within a day of SVB's closure on 10 March and hours after Circle said so (Circle
    on X, 11 Mar 2023; CoinMarketCap's record as reported by Cointelegraph that day): the market priced the
    expected shortfall at once, not after the estate's first accounts. Tokens bridged by Multichain to Fantom
    traded at about 70% of what they stood for within days of its bridge's $126M outflow in July 2023
    (0xScope's figures as reported then): a bridge's failure reaches its wrapped tokens as soon as it is known.

    Before, the coin traded at par through round 0 and into round 1's opening: with CIRCLE forced to fail on
    crypto-2025-10 and full runs, round 0's liquidators repaid USDC loans at $1, round 1's runs paid
    depositors that USDC at par before it fell to ~0, and a deeper WBTC fall, which left the pools less USDC
    to pay, lost $31.0M less (``monotone-2025-wbtc-circle-failed-runs``). A wrapped token traded through round
    0 at the scenario's recovery share and from round 1 at the clearing's ratio (a custodian keeping 80% of 105
    BTC it holds for 100 owed: 0.80 of BTC, then 0.84). Reads ``H, oa`` (after the forced loss), ``debt, coll,
    ik_left`` and the initial ``lam, ratio``; the caller writes ``P``, ``issuer_cap`` and
    ``opening_custodian_paid``."""
    if not now.any():
        return None
    forced = now[:, np.maximum(c.issuer, 0)] & (c.issuer >= 0)[None]
    coins, tokens = c.issued_stable[None] & forced, c.exchange_token[None] & forced
    wrapped = np.zeros(c.k, bool)
    wrapped[c.wrapped_idx] = True
    if not (coins.any() or tokens.any() or (wrapped[None] & forced).any()):
        return None
    lam, clearing, _, _ = clear_books(c, s, b, P)
    cap = s.issuer_cap
    if coins.any():
        # a forced Maker is shut down (end.cage cages the flopper): its DAI trades at the clearing's paid ratio
        # alone, as maker_vow.clearing_recovery takes it, so no debt auction is counted here
        # (a later round: the PSMs' balances as they stand, and the caps of coins whose issuer failed before kept)
        psm = None if s.clearing is None else s.psm_balance
        P, capped = recovery_capped(c, P, cap, clearing.paid_ratio, forced, coin_recoveries(c, P, clearing.paid_ratio, now, psm))
        cap = np.where(forced & c.issued_stable[None], capped, cap)
    if tokens.any():
        # an exchange token at its forced issuer's health in the same opening clearing, as issuer_effects takes
        # it after each close (the equity mark_and_clear records, here taken at the opening prices)
        t = np.flatnonzero(tokens.any(0))
        equity = clearing.equity + sink_claims(c, s.ik_left, lam, clearing.paid_ratio)
        priced, cap_t = exchange_token_prices(c, s, t, P[:, t], equity=equity, p_prev=P[:, t])
        hit = tokens[:, t]
        P, cap = P.copy(), cap.copy()
        P[:, t] = np.where(hit, priced, P[:, t])
        cap[:, t] = np.where(hit, cap_t, cap[:, t])
    paid = forced_custodian_paid(c, now, clearing.paid_ratio)
    if paid is None:
        return P, cap, None
    before = custodian_paid(c, s)  # a later round: custodians failed before it, at their last clearing's ratio
    if before is None:  # a recovery of 0: worthless, not free of sign (defend.floor_prices)
        return np.maximum(wrapped_prices(c, P, b, paid), PRICE_FLOOR * c.P0[None]), cap, paid
    w = c.wrapped_idx
    hit = (c.issuer[w] >= 0)[None] & now[:, np.maximum(c.issuer[w], 0)]
    paid = np.where(hit, paid, before)
    P = P.copy()
    P[:, w] = np.where(hit, np.maximum(wrapped_prices(c, P, b, paid)[:, w], PRICE_FLOOR * c.P0[w]), P[:, w])
    return P, cap, paid
