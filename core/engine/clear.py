"""Step 5 of a round: mark to market, clearing and defaults; then whether the cascade has settled.

Every entity's outside assets are valued at the new prices, its claims at
what its debtors paid in the previous round, and it pays what it can
(:func:`~core.mechanisms.clearing.clearing_step`, the Rogers–Veraart map
applied once; Eisenberg–Noe with ``alpha = beta = 1``); a PSM's or a fractional
coin's issuer owes the coin at its backing value
(:func:`~core.engine.backing.backed_liabilities`). A default thus reaches
the creditors one round later, as in Furfine's (2003) sequential default, and
once prices stop moving the rounds converge to the greatest clearing vector.

A lending pool is a pass-through (:mod:`core.mechanisms.pass_through`): its
suppliers own it, so its shortfall is their pro-rata haircut, paid without
default costs, and it counts as failed (``defaulted``) only when the haircut
exceeds :data:`~core.mechanisms.pass_through.POOL_FAILURE_HAIRCUT` (a run that
empties it leaves it fully utilised, not failed: :func:`core.engine.withdraw.pool_waits`).
Its failure is a status, never a suspension: its suppliers go on withdrawing
(decision 17, :func:`core.engine.withdraw.still_pays`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..mechanisms import cdp_premium, pass_through
from ..mechanisms.clearing import DEFAULT_TOL, ClearingStep, clearing_step
from ..paths import moving_after
from . import maker
from .batch import ScenarioBatch
from .backing import backed_liabilities
from .books import SETTLE_TOL, inkind_index, marks, outside_books
from .compiled import Compiled
from .held_claims import first_pass_here, held_at_index
from .maker_book import securing_collateral
from .maker_end import caged, ended
from .maker_governance import deficit_clock, governed
from .perps_close import CloseDeficit, close_deficit, marked_at_close
from .state import CascadeState, Changes

__all__ = ["ORACLE_CLOSE_RTOL", "SETTLE_TOL", "clear_books", "mark_and_clear", "oracles_caught_up", "premium_pinned", "settle", "sink_claims"]


def sink_claims(c: Compiled, ik_left: np.ndarray, lam: np.ndarray, ratio: np.ndarray) -> np.ndarray | float:
    """What depositor aggregates recover on their in-kind claims, (S, n); 0.0 where there are none (added to the
    equity, the bits of adding the zeros of an empty sum)."""
    if not c.by_sink_creditor.idx.size:
        return 0.0
    d = c.sink_debtor  # each claim's debtor's index and paid ratio gathered first: the same products, at the claims' cost
    return c.by_sink_creditor(ik_left[:, c.ik_sink] * (np.take(lam, d, axis=1) * np.take(ratio, d, axis=1)))


def clear_books(c: Compiled, s: CascadeState, b: ScenarioBatch,
                P: np.ndarray) -> tuple[np.ndarray, ClearingStep, np.ndarray, CloseDeficit | None]:
    """The clearing of the state's books marked at prices ``P``, without changing the state: the in-kind index
    ``lam`` (S, n), the clearing step (one Rogers–Veraart map from the last paid ratios ``ratio``), the
    outside liabilities (S, n) and the venues' provisional deficits for named accounts past their margin
    (:func:`~core.engine.perps_close.close_deficit`; None: none). :func:`mark_and_clear` takes it at the close;
    round 0's exogenous step at the opening, for the recovery of an issuer the scenario forces to fail
    (:func:`~core.engine.exogenous.forced_issuer_prices`)."""
    # the loans at most the collateral securing them: not what Maker's finished auctions handed back, free
    # (the claims held at the last round's index: valued in the index's passes where they alone read them)
    m = marks(c, P, s.H, s.debt, None if first_pass_here(c) else s.lam, s.ratio, securing_collateral(c, s))
    lam = inkind_index(c, P, m, s.bad, s.ratio, s.run_units if b.any_run or s.run_units.any() else None, s.lam)
    # claims held on others at their debtors' index of this round (solved in the order they hold each other) and
    # last clearing's paid ratio, on both sides of the holder's book
    m = replace(m, held=held_at_index(c, lam, s.ratio))
    # perpetuals' gains and losses (core.engine.perps), the open positions marked at P as the tokens are
    gap = None
    if s.perps_value is None:
        oa = s.oa
    else:
        gap = close_deficit(c, s, b, P, lam)
        oa = s.oa + s.perps_value + marked_at_close(c, s, P, gap)
    e, xl = outside_books(c, P, m, oa, s.coll, s.debt, s.ik_left, lam, redeemed_liabilities(c, s, P))
    alpha, beta = (1.0, 1.0) if b.costless else (b.alpha[:, None], b.beta[:, None])
    if not b.costless and c.pass_through.any():
        # a pool's suppliers own its assets: nothing is lost to a bankruptcy estate on the way to them
        alpha, beta = np.where(c.pass_through, 1.0, alpha), np.where(c.pass_through, 1.0, beta)
    clearing = clearing_step(c.L, e, s.ratio, alpha, beta, xl, checked=True, liabilities_t=c.claims_received.MT,
                             network_owed=c.owed_network, received=c.claims_received(s.ratio))
    return lam, clearing, xl, gap


def redeemed_liabilities(c: Compiled, s: CascadeState, P: np.ndarray) -> np.ndarray | None:
    """Every entity's outside liabilities at prices ``P`` (:func:`~core.engine.backing.backed_liabilities`; ``None``:
    at par), less the face a fiat issuer has paid its coin's holders in redemptions (``redeemed_usd``,
    :mod:`core.engine.reserves`): a coin redeemed is no longer owed."""
    out = backed_liabilities(c, P, s.psm_balance)
    if not s.redeemed_usd.any():
        return out
    return (c.other_liab[None] if out is None else out) - s.redeemed_usd


def mark_and_clear(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> Changes:
    """Reads ``P, H, debt, coll, oa, perps_value, ik_left, lam, ratio, bad, run_units`` (and the ``mkr_*``/``maker_*``
    fields); writes ``lam, clearing, ratio, outside_liab, equity, prev_equity, maker_recovery, maker_deficit_since,
    perps_close_*``, in place the new ``defaulted, default_round``, and appends the closing prices to ``price_history`` (which keeps the last
    ``max lag + 3`` closes, all that is read)."""
    P = s.P
    lam, clearing, xl, gap = clear_books(c, s, b, P)
    equity = clearing.equity + sink_claims(c, s.ik_left, lam, clearing.paid_ratio)
    # A default is a shortfall beyond rounding: a dollar, or a billionth of what is owed; a pass-through
    # pool's, a supplier haircut beyond POOL_FAILURE_HAIRCUT; the Maker system's, one its debt auctions cannot
    # cover (maker.backstop_covers), and with its debt auctions off none: its deficit clock (maker_governance).
    # candidates: few pairs (on booleans, > is and-not), in row-major order as np.nonzero gives them, by the flat
    # search (np.nonzero's two-dimensional one took 8x as long on 100,000 entities: 119 -> 15 us)
    ds, di = np.divmod(np.flatnonzero(clearing.defaulted > s.defaulted), s.defaulted.shape[1])
    if len(ds):
        total = clearing.total_liabilities
        owed = total[ds, di] if total.ndim == 2 else total[di]
        paid = clearing.payments[ds, di]
        short = paid < owed - np.maximum(1.0, DEFAULT_TOL * owed)
        pools = c.pass_through[di]
        if pools.any():
            short &= ~pools | pass_through.pool_failed(pass_through.supplier_haircut(owed, paid))
        if c.maker is not None and c.maker.m:  # the Maker system: short only beyond what its debt auctions cover
            vow = di == c.maker.protocol
            if vow.any():
                short[vow] &= ~maker.backstop_covers(c, s, ds[vow], owed[vow] - paid[vow])
        s.defaulted[ds[short], di[short]] = True  # in place: the state owns its arrays
        s.default_round[ds[short], di[short]] = r
    clock = {}
    if governed(c):  # debt auctions off: governance cages it once its deficit has lasted its delay (decision 18)
        assert c.maker is not None
        since, timed_out = deficit_clock(c, s, b, clearing, r)
        s.defaulted[timed_out, c.maker.protocol] = True
        s.default_round[timed_out, c.maker.protocol] = r
        clock = dict(maker_deficit_since=since)
    s.price_history.append(P.copy())
    keep = b.closes_kept  # what the oracles, the breaker and the settling check read back from the close
    if len(s.price_history) > keep:  # older closes are never read again: not kept (nor copied when the batch is cut)
        del s.price_history[:-keep]
    out = dict(lam=lam, clearing=clearing, ratio=clearing.paid_ratio, outside_liab=xl, equity=equity,
               prev_equity=s.equity, **clock)
    if c.perps is not None:  # the venues' provisional deficits outside the books, as the clearing booked them
        #                        (read before this clearing's defaults were written)
        out["perps_close_drawn"] = None if gap is None else gap.drawn
        out["perps_close_taken"] = None if gap is None else gap.taken
    if c.maker is not None and c.maker.m:  # what a failed Maker's DAI trades at (defend.issuer_effects)
        out["maker_recovery"] = maker.clearing_recovery(c, s, clearing, caged(s))  # caged: no debt auction
    return out


def oracles_caught_up(price_history: list[np.ndarray], lag: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Whether each scenario's lagged oracles hold nothing its liquidations have not yet seen, (S,).

    After the close is appended, this round's liquidations read entry ``len - 2 - lag`` of the history
    (:func:`~core.engine.liquidate.oracle_prices`) and the next round's read ``len - 1 - lag``: every entry
    from the first to the last must equal the close ``P``. (Checking only the next round's entry let a
    cascade settle one round before its oracles showed a fall: BTC -57.7% with stETH 7.1% off peg and lag 2
    stopped at round 7, its stETH loops not yet liquidated at the lower price, and lost $9.7bn less than
    BTC -52.2%.) "Equal" is within :data:`ORACLE_CLOSE_RTOL` of the close: a close that moves by an ulp a round
    (a perpetuals bucket's spread taking 9e-9 ETH past maintenance each round, whose sale's impact rounds to one
    more ulp) shows its oracles nothing a liquidation could act on, and compared to the bit it held a cascade whose
    equity moved less than $1e-4 a round to its horizon (the deeper point of
    ``monotone-2025-bnb-87-weeth-31-wbtc-57-no-runs-lag1-365``: 365 rounds for what it lost by round 12)."""
    ok = np.ones(len(P), bool)
    n = len(price_history)
    tol = ORACLE_CLOSE_RTOL * np.abs(P)
    for j in range(1, int(lag.max()) + 3):  # entries back from the close (a handful: the largest lag + 2)
        if j > n:
            break
        within = j <= lag + 2
        ok &= ~within | (np.abs(price_history[n - j] - P) <= tol).all(1)
    return ok


#: Relative distance within which a lagged oracle's price is the close (:func:`oracles_caught_up`): some 4,500
#: ulps, a millionth of a cent on ETH at $4,000; the settle test's own equity tolerance, ``SETTLE_TOL``, is 1e-9.
ORACLE_CLOSE_RTOL = 1e-12


def premium_pinned(c: Compiled, s: CascadeState) -> np.ndarray:
    """(S, q): the PSM coins whose price the round's squeeze left at its cap, ``backed (1 + MAX_PREMIUM)``
    (:func:`core.engine.backing.backing_links` sets ``peg_factor`` to exactly that product where the cap binds;
    a coin below it, or no squeeze, is not pinned)."""
    assert c.pegs is not None
    return s.peg_factor[:, c.pegs.psm_asset] >= s.psm_value * (1.0 + cdp_premium.MAX_PREMIUM)


def premium_fading(c: Compiled, s: CascadeState, settle_tol: float) -> np.ndarray:
    """(S, q): the PSM coins trading above their backed value whose close moved this round the value of their
    supply by more than ``settle_tol`` (the settle test's dollar tolerance on equity), a squeeze's premium fading
    as the re-mint fills the burnt supply (:func:`core.mechanisms.cdp_premium.remint`). The fade may move no
    equity for rounds (liquidators standing aside while the premium exceeds a lender's oracle band and bonus) and
    then bring them back: crypto-2020-03, ETH -41%, BINANCE failed, Compound's DAI read in its band [0.95, 1.05]:
    DAI 1.1144 at round 5, no equity moved and the cascade settled there, where liquidators return below 1.1025
    (round 8) and the fade runs on to round 166 (tests/test_settle.py)."""
    assert c.pegs is not None
    q = c.pegs.psm_asset
    above = s.peg_factor[:, q] > s.psm_value * (1.0 + ORACLE_CLOSE_RTOL)  # as premium_pinned reads it
    moved = np.abs(s.P[:, q] - s.price_history[-2][:, q]) * s.psm_supply > settle_tol
    return above & moved


def settle(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> Changes:
    """A scenario has settled when no equity moved by more than ``SETTLE_TOL`` of the largest initial equity,
    no insurance fund paid more, no breaker halts, no run paid out this round, its exogenous path has arrived and its protocols' lagged
    oracles show the closing prices; a row settles at its own horizon in any case.

    The oracles: with ``oracle_lag`` L, liquidations read prices L entries back in the price history. A
    cascade whose equity stood still for a round is over only if every price from the one this round's
    liquidations read up to the close is the close (:func:`oracles_caught_up`): otherwise its lagged
    oracles have yet to show a move, and its liquidations are still to come. (Before, a deeper shock that settled the clearing a round sooner stopped
    before its lagged oracles moved, with $0 liquidated, where the shallower one went on to liquidate $784M:
    ``monotone-shipped-lag3-early-settle`` in the regression table.)
    Reads ``equity, prev_equity, cb_left, halted, run_paid, ins_draw, ins_drawn_seen, psm_balance, psm_seen,
    peg_factor, psm_value, maker_flap_paid, maker_flap_seen, price_history, P``; writes ``rounds_run, settled`` (never
    in round 0), ``ins_drawn_seen, psm_seen, maker_flap_seen``: a PSM still filling towards its line (or emptying)
    has not settled either, nor a coin whose squeeze premium sits at its cap (:func:`premium_pinned`) or still
    fades (:func:`premium_fading`)."""
    assert s.equity is not None
    assert c.equity_terms is not None
    settle_tol = c.equity_terms.settle_tol  # SETTLE_TOL of the largest initial equity
    mk = c.maker
    flap_seen = s.maker_flap_seen
    if s.prev_equity is None:
        changed = np.ones(s.S, bool)
    elif mk is not None and mk.m and np.isfinite(mk.hop):
        # the Splitter's lots (one bump per hop, a timer's payout to the governance token's holders) move the
        # system's equity every round while its buffer stands above hump, whatever the cascade does: they keep no
        # cascade open (Sky's $149M above its 1M hump would hold every 2025 run to its horizon, 400,000 a day)
        moved = s.equity - s.prev_equity
        moved[:, mk.protocol] += s.maker_flap_paid - s.maker_flap_seen
        changed = np.abs(moved).max(1) > settle_tol
        flap_seen = s.maker_flap_paid
    else:
        changed = np.abs(s.equity - s.prev_equity).max(1) > settle_tol
    if b.any_breaker:
        changed |= (s.cb_left > 0) | s.halted  # a halt only postpones liquidations
    if b.any_run or s.run_units.any():  # (coin exits run without a run intensity: withdraw.runs_possible)
        changed |= s.run_paid > 1.0  # a run paid from cash moves no equity yet, but drains it
    # insurance funds paying bad debt move no entity's equity, but the system's losses still move (stETH -27.09% on
    # 2022, lag 1, capital $50M: with stETH on its staking floor Aave's liquidators took $29M a round and its fund
    # paid $1M of loans under water a round, and the cascade settled at round 9 where 0.09% less deep ran on: $2.28M
    # less bad debt at the deeper shock, monotone-shipped-steth-27-lag1-bad-debt)
    drawn = s.ins_draw.sum(1)
    changed |= np.abs(drawn - s.ins_drawn_seen) > settle_tol
    # a PSM taking in its backing coin moves no equity either (its holdings and what it owes move together,
    # core.engine.backing.follow_balance) nor, while arbitrage pins the coin to its backing, any price; but it fills
    # towards its line, where the coin lifts to its backed value (USDC 25.2% off peg on crypto-2025-10: Sky's DAI
    # PSM took in $12-17M a round and reached its $5bn line at round 206, DAI 0.748 -> 0.846, USDS at round 299;
    # a cascade settled at round 38 while it filled, and one that ran on met the lift:
    # monotone-2025-cbbtc-jitosol-cbeth-usdc-depeg-stable-holders-failed-runs-365)
    g = c.pegs
    psm_seen = s.psm_seen
    if g is not None and len(g.psm_asset):
        changed |= (np.abs(s.psm_balance - s.psm_seen) * s.P[:, g.psm_backing]).sum(1) > settle_tol
        psm_seen = s.psm_balance
        # a squeeze's premium pinned at its cap (core.engine.backing.backing_links: the backing's value plus
        # cdp_premium.MAX_PREMIUM) moves no price and so no equity while the coin's re-mint still fills the burnt
        # supply under it: the premium fades once the shortfall is below the cap's (crypto-2020-03, ETH -41.08%,
        # BINANCE failed: the deeper run stopped at round 4 with DAI at 1.12, the shallower faded to 1.00019 by
        # round 166 and lost $312,203 more: monotone-2020-eth-41-binance-failed-full-runs-capital-50m-365)
        changed |= premium_pinned(c, s).any(1) | premium_fading(c, s, settle_tol).any(1)
    if b.any_lag:  # rows with a lag only, as a row alone (any_lag False) would be: a row's settling never
        # depends on its batch-mates (a lag-0 row read the check in a batch with lagged rows: with its cohorts'
        # tail liquidations (core.mechanisms.cohort_spread) moving prices by cents while equity stood within
        # SETTLE_TOL, ETH -20% on 2022 ran to its horizon beside the presets and settled at round 9 alone, $81 apart)
        changed |= ~oracles_caught_up(s.price_history, b.lag, s.P) & (b.lag > 0)
    still = moving_after(b.paths, r)
    if still is not None:
        changed |= still  # the exogenous path has not arrived yet
    later = b.forced_after(r - 1)
    if later is not None:  # a failure the scenario dates to this round or a later one: not settled (round 0's rule
        changed |= later   # for the round a failure comes in: its clearing reaches the creditors at the next)
    uncaged = ended(c, s)
    if uncaged is not None:  # a Maker this clearing put in default is caged at the next round's opening (maker_end)
        changed |= uncaged
    if governed(c):  # a governed Maker's deficit clock still runs: its cage may be still to come (maker_governance)
        changed |= s.maker_deficit_since >= 0
    settled = ~changed if r > 0 else np.zeros(s.S, bool)
    if b.horizons is not None:
        settled |= r + 1 >= b.horizons  # a row stops at its own horizon, whatever its batch-mates'
    return dict(rounds_run=np.where(changed, r + 1, s.rounds_run), settled=settled, ins_drawn_seen=drawn, psm_seen=psm_seen,
                maker_flap_seen=flap_seen)
