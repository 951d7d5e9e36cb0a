"""Step 2 of a round: runs on entities that owe depositors (:mod:`core.mechanisms.runs`).

Depositors of a run-prone entity withdraw at a rate rising with its distress
(:func:`~core.mechanisms.runs.run_distress`: its loss share of equity, the
share of its claims on defaulted debtors, the discount of its own token),
scaled by the scenario's run intensity; calm-market withdrawals are business
as usual, so the run is the excess over them, and it is a share of the
depositors (:data:`~core.mechanisms.runs.RUN_SHARE` in a panic): once they
have withdrawn it stops (``CascadeState.run_kept``). Withdrawals are paid in kind:
the runners' share of the coins their claims follow first (:func:`in_kind_payout`),
then the part of the claims fixed in dollars from cash, then from the tokens the
entity holds beyond what it owes in kind (tokens pass to the depositors'
holdings, not to the market), then from its illiquid book sold at the fire-sale
discount (:func:`~core.mechanisms.firesales.fire_sale_discount`). Cash is a
stock: ``liquid_share`` of the other assets at the snapshot (cash, stablecoins,
customer coins held 1:1 in custody) plus what the entity has received since,
paid out once; the illiquid book (``CascadeState.illiquid``) shrinks only when
sold, by the run or, what is left of it, by the estate at default
(:func:`~core.engine.sell.estate_sales`), at the same discount. (Before,
``liquid_share`` of the other assets *left* was liquid again every round, so a
run that lasted a round longer took more of the book at par while the estate
sold the rest at the discount: a deeper shock that made Celsius default a round
later lowered system loss by $181M, monotone-shipped-wbtc-celsius-run-round.) A lending
pool (a pass-through, :mod:`core.mechanisms.pass_through`) sells none: it
pays its runners their claims' value (its paid ratio, :func:`claims_value`)
from its liquidity until it is fully utilised, and goes on paying once it has
failed (decision 17: a pool's failure is a status, never a suspension,
:func:`still_pays`); an exchange, lender or fund in default pays nothing. Too
little to pay is a liquidity default of an exchange, lender or fund; a pool
then is fully utilised, not failed, and its runners not paid wait and ask again
(:func:`pool_waits`). What a run-prone estate (an exchange, lender or fund) paid
out is recovered from its depositors when it defaults, and their claims
revive (:func:`~core.engine.preferences.claw_back`: preferences, 11 U.S.C. § 547).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..mechanisms import pegs, runs
from ..mechanisms.clearing import DEFAULT_TOL
from ..mechanisms.firesales import fire_sale_discount
from .batch import ScenarioBatch
from .books import clip, holdings_value, owed_in_kind_units
from .compiled import Compiled
from .memo import per_network
from .state import CascadeState, Changes

_CALM, _PANIC = float(runs.withdrawal_rate(0.0)), float(runs.withdrawal_rate(10.0))


def withdraw(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> Changes:
    """Reads ``equity`` (last round's), ``P, H, oa, illiquid, run_kept, ik_left, lam, defaulted, halted, run_out,
    run_cash``; writes ``H, oa, illiquid, run_kept, run_units, run_out, run_cash, run_loss, run_paid, ik_left, defaulted,
    default_round`` and, in place, ``peer_defaulted, peer_bad_claims``. Nothing before the first clearing or without
    runs."""
    prev_equity = s.equity
    if prev_equity is None or not runs_possible(c, s, b):
        return dict(run_paid=np.zeros(s.S))
    P = s.P
    # Only run-prone entities are run on: their distress alone is computed (each element as over all entities;
    # the others' withdrawal rate is 0). None (a synthetic network's entities): nothing to do.
    t = per_network(c, "run_terms", lambda: _RunTerms.of(c))
    prone = t.prone
    if not len(prone):
        return dict(run_paid=np.zeros(s.S))
    # Entities without equity to lose (pass-throughs) are distressed only once they are short. A loss within
    # rounding (a dollar, or a billionth of what the entity owes: the default rule's tolerance) is no distress:
    # a lending pool with a nominal dollar of equity and billions of deposits lost cents to rounding, its
    # depositors ran on it, and the run's own residue defaulted it (monotone-2025-weeth-defaults).
    assert s.clearing is not None
    prev = prev_equity[:, prone]
    real_loss = t.E0 - prev > np.maximum(1.0, DEFAULT_TOL * s.clearing.total_liabilities[..., prone])
    loss_share = np.where(t.positive, np.where(real_loss, clip(1 - prev / t.divisor, 0.0, 1.0), 0.0),
                          prev < t.short_of)
    # Peers: the share of an entity's claims owed by defaulted debtors.
    if s.peer_defaulted is not None and same_defaults(s.peer_defaulted, s.defaulted):
        bad_claims = s.peer_bad_claims  # no default since they were valued: one sparse product saved
    else:
        bad_claims = c.claims_received(s.defaulted.astype(float))
        s.peer_defaulted, s.peer_bad_claims = s.defaulted.copy(), bad_claims
    assert bad_claims is not None
    peer = np.where(t.has_claims, bad_claims[:, prone] / t.claims_divisor, 0.0)
    d = runs.run_distress(loss_share, peer, own_token_discount(c, P)[:, prone])
    # Calm-market withdrawals are business as usual: the run is the excess over them, scaled by intensity.
    calm, panic = _CALM, _PANIC
    scale = b.run[:, None] * clip((runs.withdrawal_rate(d) - calm) / (panic - calm), 0.0, 1.0)
    # The run is a share of the depositors, not a rate forever: it stops once ``scale * RUN_SHARE`` of them have
    # withdrawn (runs.RUN_SHARE), and grows again only if the distress does.
    kept = s.run_kept[:, prone]
    stay = 1.0 - scale * runs.RUN_SHARE
    w_prone = np.minimum(scale * panic, np.maximum(1.0 - stay / np.maximum(kept, stay), 0.0))
    # depositors whose claims are an algorithmic coin below peg leave with its holders, for as long as it is
    w_prone = np.maximum(w_prone, coin_exit_share(c, s, b, prone))
    w = np.zeros((s.S, c.n))
    w[:, prone] = np.where(still_pays(c, s.defaulted[:, prone], prone) & ~s.halted[:, None], w_prone, 0.0)
    run_kept = s.run_kept.copy()
    run_kept[:, prone] = kept * (1.0 - w[:, prone])
    if not w.any():  # nobody runs this round: nothing is paid, sold or defaulted on
        return dict(run_paid=np.zeros(s.S))
    H, oa = s.H, s.oa
    sink, sd = c.ik_sink, c.sink_debtor
    dep_val = s.ik_left[:, sink] * s.lam[:, sd]
    D = c.by_sink_debtor(dep_val)  # deposits_value, from the claims' values the payout below shares out
    # what the runners' claims are worth: a pool's at its paid ratio (its suppliers' haircut, pro rata), others' at
    # face (an exchange or lender that cannot pay them in full defaults: pool_waits)
    V = claims_value(c, D, s.ratio)
    # Its other assets are cash, a stock paid out once (what it holds beyond its illiquid book: ``liquid_share`` of
    # them at the snapshot, plus what it has received since), and an illiquid book sold at the fire-sale discount.
    book = np.minimum(s.illiquid, np.maximum(oa, 0.0))
    cash = np.maximum(oa, 0.0) - book
    # A lending pool (a pass-through) pays from the liquidity it holds and sells nothing: the rest of its assets
    # are its loans and its borrowers' collateral, which no withdrawal can make it sell (Morpho Blue's
    # ``withdraw`` reverts with INSUFFICIENT_LIQUIDITY once borrows would exceed supply, morpho-org/morpho-blue
    # ``src/Morpho.sol``; an Aave aToken pays out only the underlying it holds). A run drains it to full
    # utilisation without a fire sale, and its runners not paid wait (pool_waits). (Before, it fire-sold them:
    # a pool 2.98% short was run on and sold $15.2bn for $2.9bn at liquidity 0.31, $12.4bn lost, while one
    # 3.02% short had failed at once and was not run on: monotone-2025-steth-elastic-arbitrage-bifurcation.)
    illiquid = np.where(c.pass_through[None], 0.0, book)
    # The runners' coins first: each is owed in kind its share of the tokens the claims follow, and is paid them;
    # the rest of what it asks (the part of the claims fixed in dollars) from cash, the entity's own tokens beyond
    # what it owes in kind, then the book (in_kind_payout).
    # Only run-prone entities pay anything (w = 0 elsewhere): their tokens alone are valued, (S, prone, k).
    held = H[:, prone]
    kind, spare = in_kind_payout(c, held, P, (w * V)[:, prone], w[:, prone], prone, s.ik_left)
    kind_val = np.zeros((s.S, c.n))
    spare_val = np.zeros((s.S, c.n))
    spare_val[:, prone] = holdings_value(spare, P)
    if kind is not None:
        kind_val[:, prone] = holdings_value(kind, P)
    # the share of the deposits still to pay (w itself where nothing was paid in kind: not w V / V, an ulp apart)
    rest = np.where(kind_val > 0, np.maximum(w * V - kind_val, 0.0) / np.where(V > 0, V, 1.0), w)
    rs = runs.run_step(V, cash + spare_val, illiquid, fire_sale_discount(b.liquidity)[:, None], rest)
    tok_used = np.maximum(rs.liquid_used - cash, 0.0)
    frac = np.where(spare_val > 0, np.minimum(tok_used / np.where(spare_val > 0, spare_val, 1.0), 1.0), 0.0)
    units_out = np.zeros_like(H)
    units_out[:, prone] = spare * frac[:, prone, None] if kind is None else spare * frac[:, prone, None] + kind
    H = H - units_out
    cash_out = np.minimum(rs.liquid_used, cash) + rs.fire_sale_proceeds
    oa = oa - np.minimum(rs.liquid_used, cash) - rs.illiquid_sold
    paid = rs.withdrawals_paid + kind_val
    # the share of the claims the payment settles (a pool's runner paid its claim's value gives up the whole claim)
    paid_share = np.where(V > 0, paid / np.where(V > 0, V, 1.0), 0.0)
    # Each depositor aggregate receives its pro-rata part of the cash and of the tokens.
    Dd = D[:, sd]
    part = np.where(Dd > 0, dep_val / np.where(Dd > 0, Dd, 1.0), 0.0)
    oa = oa + c.by_sink_creditor(part * cash_out[:, sd])
    if units_out.any():
        got = units_out[:, sd, :] * part[:, :, None]  # (S, claims, k)
        for a in np.flatnonzero(got.any(axis=(0, 1))):  # assets actually paid out: a handful
            H[:, :, a] += c.by_sink_creditor(got[:, :, a])
    left = s.ik_left.copy()
    left[:, sink] = left[:, sink] * (1 - paid_share[:, sd])
    # Only a withdrawal can be left unpaid: where nobody runs (w = 0) there is no liquidity default, whatever the
    # books hold. (An entity whose liquid assets were a rounding error below zero, with no depositor running, was
    # flagged as failed when a batch-mate's run made the step run at all: RETAIL_CEFI, returning a run's cash
    # to failed lenders in a first version of claw_back, defaulted in a batch of 64 and not alone.)
    # A lending pool that cannot pay is fully utilised, not failed: its runners who were not paid wait (pool_waits).
    newly, run_kept = pool_waits(c, rs.liquidity_default & (w > 0), s.run_kept, run_kept, paid_share)
    newly &= ~s.defaulted
    e = c.clawback_idx  # what a run-prone estate pays out, recovered if it defaults (preferences.claw_back)
    # a pool's runners bear its suppliers' haircut on the claims they gave up: booked with the pool's (losses)
    cut = V < D
    out = dict(pool_run_haircut=s.pool_run_haircut + np.where(cut, paid_share * (D - V), 0.0),
               pool_run_claims=s.pool_run_claims + np.where(cut, paid_share * D, 0.0)) if (cut & (paid > 0)).any() else {}
    return out | dict(H=H, oa=oa, illiquid=book - rs.illiquid_sold, run_kept=run_kept, run_units=s.run_units + units_out[:, c.live_idx], run_loss=s.run_loss + rs.haircut_loss,
                run_out=s.run_out + units_out[:, e], run_cash=s.run_cash + cash_out[:, e],
                run_paid=paid.sum(1), ik_left=left, default_round=np.where(newly, r, s.default_round),
                defaulted=s.defaulted | newly)


def pool_waits(c: Compiled, short: np.ndarray, kept_before: np.ndarray, run_kept: np.ndarray,
               paid_share: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Which entities a run left short default, and the share of their depositors still in (not yet run on),
    (S, n) each. ``short``: those paid less than their runners asked this round; ``kept_before``: the share not yet
    run on before the round, ``run_kept`` after it (every runner served); ``paid_share``: what was paid, as a share
    of what the entity owed its depositors.

    Model. An exchange, lender or fund that cannot pay its runners has failed: it stops paying (Celsius, Voyager,
    FTX paused withdrawals) and defaults (a liquidity default, :func:`~core.mechanisms.runs.run_step`). A lending
    pool (a pass-through, :mod:`core.mechanisms.pass_through`) that cannot pay is fully utilised, not failed: a
    withdrawal beyond its liquidity reverts and the supplier keeps its claim in full (Compound v2's
    ``CToken.redeemFresh``: "Fail gracefully if protocol has insufficient cash", ``revert
    RedeemTransferOutNotPossible()``, compound-finance/compound-protocol ``contracts/CToken.sol``; Morpho Blue's
    ``withdraw`` reverts with ``INSUFFICIENT_LIQUIDITY``, morpho-org/morpho-blue ``src/Morpho.sol``), the pool goes
    on operating, and the borrow rate climbs its second slope to 100% utilisation to draw repayments and supply
    back (Aave v3, "Interest Rate Strategy": two slopes, the second from the optimal usage ratio to 100%). Its
    repayments and liquidations return liquidity, which the waiting runners take: those not paid stay in the run,
    :math:`k' = k\,(1 - p/D)` of the depositors not yet served (:math:`p` paid, :math:`D` owed) against
    :math:`k\,(1 - w)` for a run served in full, and ask again next round (``paid_share`` is then the share of
    the claims the payment settled, at their value: :func:`claims_value`). A pool fails only when its suppliers'
    haircut passes :data:`~core.mechanisms.pass_through.POOL_FAILURE_HAIRCUT` (:mod:`core.engine.clear`), and
    its runners wait and are paid after it as before (decision 17, :func:`still_pays`).

    Why: counted as a default, a pool's empty liquidity made the number of defaults fall as a shock deepened, since
    a deeper fall of its borrowers' collateral liquidates more of its loans, whose repayments pay its runners. On
    the 2022 network (WBTC -30.34% -> -31.98%, full runs, oracle lag 1, liquidity 1.36, liquidators' capital
    $500M) AAVE_ALT ($1.13bn owed to DeFi suppliers, $0.5-2.6M short from bad debt, so run on in full) paid round
    1's $339.75M (30%) and met round 2's $113.25M with $108.79M at the shallower depth (a liquidity default) and
    $116.29M at the deeper, whose round-1 liquidations had repaid $52.29M of USDC against $44.79M: defaults
    2 -> 1 while loss rose $18.6M (monotone-shipped-wbtc-30-32-full-runs-lag1-capital-500m-defaults, and
    the same pool in three kept pairs with GBTC and FTT).
    """
    waits = short & c.pass_through[None]
    if waits.any():
        run_kept = np.where(waits, kept_before * (1.0 - paid_share), run_kept)
    return short & ~c.pass_through[None], run_kept


def still_pays(c: Compiled, defaulted: np.ndarray, rows: np.ndarray) -> np.ndarray:
    r"""Whether each entity of ``rows`` still pays its depositors who withdraw, (S, len(rows)): every entity not in
    default, and a lending pool (a pass-through, :mod:`core.mechanisms.pass_through`) in default or not.

    Model (decision 17, session 36). An exchange, CeFi lender or fund that defaults stops paying: Celsius
    (12 June 2022), Voyager (1 July 2022) and FTX (8 November 2022) paused withdrawals, and the estate is frozen
    (:mod:`core.engine.sell`). A lending pool never freezes its suppliers: its failure (a supplier haircut beyond
    :data:`~core.mechanisms.pass_through.POOL_FAILURE_HAIRCUT`, :mod:`core.engine.clear`) is a status, counted as
    a default, and its suppliers go on withdrawing from its cash at their claims' value
    (:func:`claims_value`); a withdrawal reverts only for want of cash, which :func:`pool_waits` models as
    waiting. None of the modelled contracts suspends a supplier for a loss: Aave v3's ``Pool.withdraw``
    (``SupplyLogic.executeWithdraw``, ``ValidationLogic.validateWithdraw``) asks only that the amount be at most
    the supplier's aToken balance and the reserve be active and not paused, a governance pause, not a rule of the
    pool's solvency (a frozen reserve still allows withdraw), aave-dao/aave-v3-origin; Compound v2's
    ``CToken.redeemFresh`` pays ``redeemTokens * exchangeRate`` and reverts only when
    ``getCashPrior() < redeemAmount`` (``RedeemTransferOutNotPossible``), compound-finance/compound-protocol
    ``contracts/CToken.sol``; Anchor's ``redeem_stable`` pays ``burn_amount * exchange_rate`` and fails only
    with ``NoStableAvailable`` when the market's balance less its reserves is short of the amount,
    Anchor-Protocol/money-market-contracts ``contracts/market/src/deposit.rs``.

    Why: frozen at 3%, a failed pool's suppliers kept their claims to the end while its cash stayed idle in its
    books. Terra's ANCHOR failed in round 1 and its UST holders could no longer leave UST through it (session 35,
    anchorltv), and a deeper shock that crossed the line a round earlier stopped its runners a round earlier
    (the "pool failure line cut by runs" ledger entries of sessions 33 and 34).
    """
    return ~defaulted | c.pass_through[rows][None]


def claims_value(c: Compiled, deposits: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    r"""What the depositors' claims on each entity are worth to a runner, (S, n) USD: a lending pool's at its
    last paid ratio, :math:`V_i = \rho_i D_i`, every other entity's at face, :math:`V_i = D_i` (``deposits`` the
    claims at their in-kind index, ``ratio`` (S, n) the last clearing's paid ratios).

    Model. A supplier owns its share of the pool: its claim is worth the pool's assets pro rata, which is what
    the clearing pays it, :math:`\rho_i = p_i / \bar p_i = 1 - h_i` (:func:`~core.mechanisms.pass_through.supplier_haircut`);
    a withdrawal redeems the claim at that value (Compound's ``exchangeRate`` and Anchor's ``exchange_rate`` are
    the pool's assets over its shares) and extinguishes it in full. The model's priority is equal: a runner bears
    the same haircut as a supplier who stays, so a run moves no loss between them. Aave's order is first come,
    first served (an aToken is redeemed at par while the reserve's cash lasts, and an uncovered deficit falls on
    those who stay); that order is not modelled. An exchange, lender or fund owes its depositors at face, and one
    that cannot pay them defaults (:func:`pool_waits`). A pool 5% short (paid ratio 0.95) owing $100 to its
    depositors pays a runner of 30% of them $28.50 and extinguishes $30 of claims; $1.50 is the runners' share of
    the haircut, booked with the pool's (``pool_run_haircut``, :func:`~core.engine.losses.supplier_haircuts`).
    """
    if not c.pass_through.any():
        return deposits
    return np.where(c.pass_through[None], deposits * ratio, deposits)


@dataclass(frozen=True, eq=False)
class _RunTerms:
    """The run-prone entities and their equity terms, (len(prone),) each: constants of the network, taken once
    (:func:`~core.engine.memo.per_network`) by the same indexing :func:`withdraw` did every round."""

    prone: np.ndarray
    E0: np.ndarray
    positive: np.ndarray
    divisor: np.ndarray
    short_of: np.ndarray
    has_claims: np.ndarray
    claims_divisor: np.ndarray

    @classmethod
    def of(cls, c: Compiled) -> "_RunTerms":
        q = c.equity_terms
        assert q is not None
        prone = np.flatnonzero(c.run_prone)
        return cls(prone=prone, E0=c.E0[prone], positive=q.positive[prone], divisor=q.divisor[prone],
                   short_of=q.short_of[prone], has_claims=q.has_claims[prone], claims_divisor=q.claims_divisor[prone])


def deposits_value(c: Compiled, s: CascadeState) -> np.ndarray:
    """What each entity owes its depositors now, (S, n) USD: the in-kind claims left at their index."""
    return c.by_sink_debtor(s.ik_left[:, c.ik_sink] * s.lam[:, c.sink_debtor])


def runs_possible(c: Compiled, s: CascadeState, b: ScenarioBatch) -> bool:
    """Whether anyone can withdraw this round: a scenario with a run intensity, or an algorithmic coin below its
    peg, whose depositors leave at :func:`coin_exit_share`'s rate ``(1 + run) max(0, 1 - band - q)`` whatever the
    intensity (zero inside the calm band, decision 21).
    (Gated on the intensity alone, a scenario of run intensity 0 had its coin exits only where a batch-mate had a
    run: a LUNA fall with UST below peg, 2022, lost $1.80bn more in a batch with a run than alone, session 32.)"""
    if b.any_run:
        return True
    algo = c.algo_idx
    return bool(len(algo)) and bool((s.P[:, algo] < c.peg1[algo]).any())


def coin_exit_share(c: Compiled, s: CascadeState, b: ScenarioBatch, prone: np.ndarray) -> np.ndarray:
    r"""Share of the depositors of each run-prone entity ``prone`` who withdraw this round to leave an
    algorithmic stablecoin it holds for them, (S, len(prone)).

    Model. A depositor whose claim is a coin below peg wants out of the coin, not only out of the entity: it
    withdraws at the rate the coin's own holders leave it,
    :math:`w_a = \min(w_{max}, (1 + \text{run}) \max(0, 1 - b - q_a))`, ``b`` the calm band
    :data:`~core.mechanisms.pegs.PEG_CALM_BAND` (decision 21: a depositor leaves for the coin only on the discount
    beyond the band, where the coin's reserve defends too)
    (:func:`~core.mechanisms.algorithmic_stablecoin.holders_exit_share`, the rate at which
    :func:`~core.engine.defend.redeem_algorithmic`'s holders ask to redeem), every round the coin stays below peg,
    and then redeems or sells what it receives as a holder. The entity's share is the coins' part of its deposits,
    :math:`\sum_a w_a\,u_a P_a / D`, with :math:`u_a` the units its claims follow (a live book's holdings, a
    reference book's :func:`~core.engine.books.owed_in_kind_units`) and :math:`D` what it owes its depositors,
    at most 1. Unlike a run on the entity's solvency (:data:`~core.mechanisms.runs.RUN_SHARE` of the depositors
    in all), it has no end while the coin is below peg.

    Source: Anchor's deposits, almost all UST, fell from $14bn on 6 May 2022 to $8.7bn on 9 May (CoinDesk,
    "Investors Flee Terra's Anchor as UST Stablecoin Repeatedly Loses $1 Peg", 9 May 2022) and went on falling
    while UST stayed below peg: Anchor's TVL from $22bn to $2.56bn in five days (Peak Blockchain, "The Fall of
    UST - Luna fiasco"); the run on Anchor was the holders' exit from UST (Liu, Makarov & Schoar, "Anatomy of a
    run: the Terra Luna crash", NBER WP 31160, 2023). (Before, the run stopped at ``run * RUN_SHARE`` = 32% of
    Anchor's depositors in the Terra preset, by 11 May: $9.35bn of UST stayed in Anchor to 20 May, no holder
    could redeem it, and the spiral stalled with UST at 0.193 and LUNA at $1.48.)
    """
    algo = c.algo_idx
    if not len(algo):
        return np.zeros((s.S, len(prone)))
    q = s.P[:, algo] / c.peg1[algo]
    rate = pegs.holders_exit_share(q, b.run[:, None])  # (S, a)
    if not rate.any():
        return np.zeros((s.S, len(prone)))
    live, ref = per_network(c, "coin_exit_books", lambda: _coin_books(c, prone, algo))
    units = np.zeros((s.S, len(prone), len(algo)))
    units[:, live] = np.maximum(s.H[:, prone[live][:, None], algo[None, :]], 0.0)
    if len(ref):
        units[:, ref] = owed_in_kind_units(c, s.ik_left, prone[ref])[:, :, algo]
    leaving = (units * (s.P[:, algo] * rate)[:, None, :]).sum(-1)
    D = deposits_value(c, s)[:, prone]
    return np.where(D > 0, np.minimum(leaving / np.where(D > 0, D, 1.0), 1.0), 0.0)


def _coin_books(c: Compiled, prone: np.ndarray, algo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which run-prone entities keep live books (their claims follow their holdings), and the positions among
    ``prone`` of the reference books that held an algorithmic coin (a reference book owes only what it held)."""
    live = np.isin(prone, c.live_idx)
    return live, np.flatnonzero(~live & (c.H0[prone][:, algo] > 0).any(1))


def in_kind_payout(c: Compiled, held: np.ndarray, P: np.ndarray, ask: np.ndarray, w: np.ndarray, prone: np.ndarray,
                   ik_left: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    r"""The tokens the run-prone entities ``prone`` pay in kind, and the tokens left to pay the rest with,
    (S, len(prone), k) each (``None, held`` where none owes a token in kind). ``held``: their tokens; ``ask``:
    what their runners ask this round, USD; ``w``: the share of their depositors who run, (S, len(prone)) each.

    Model. A depositor of an exchange or lender is owed the coins it deposited: its claim follows them
    (:func:`~core.engine.books.inkind_index`), and a withdrawal hands them over. A run of ``w`` of the depositors
    takes ``w`` of the units owed in kind, :math:`u_a = w\,O_a` (:func:`~core.engine.books.owed_in_kind_units`,
    at most what the entity holds), and the rest of what it asks (the part of the claims fixed in dollars) is
    paid from cash, then from the tokens the entity holds beyond what it still owes in kind,
    :math:`(H_a - u_a - (1-w)\,O_a)^+`, then from its book at the fire-sale discount. So a run never hands the
    runners the coins owed to the depositors who stay: an entity that held what it owed in kind still does after
    the run, and is never made short a coin by its runners' dollar claims.

    Why: paid from cash and then every token pro rata, the dollar part of the claims took the coins owed to those
    who stay, and left the lender short them. On the 2022 network Celsius's $12bn of customer balances follow its
    352.9M CEL (its reference book); a run of 20% took all its CEL (round 2), and it owed the 80% who stayed
    282.4M CEL it no longer held. CEL then falls with its issuer's equity (core.engine.exchange_tokens.exchange_token_prices),
    which the short turned into a gain: a deeper fall of CEL, or of WBTC (which made the round-1 run larger, and
    the short larger), left Celsius solvent where the shallower one defaulted it, $2.67-3.11bn of system loss
    apart (monotone-shipped-cel-31-celsius-survives-deeper, -celsius-owes-coins-run-share,
    -gbtc-wbtc-voyager-failed-celsius-edge). Celsius's own coin report of 29 July 2022 (filed in its Chapter 11
    case) shows it long CEL (658M held, 279M owed to customers) and short BTC, ETH and USDC: its customers'
    withdrawals of the coins they were owed made it short those, not of a coin they were not owed [Celsius Network
    LLC, Case 22-10964, Bankr. S.D.N.Y., coin report as of 29 July 2022, as reported in
    https://cryptonews.com/news/celsius-coin-report-reveals-usd-28bn-crypto-shortfall/]."""
    owed = owed_in_kind_units(c, ik_left, prone)
    if not owed.any():
        return None, held
    wk = w[:, :, None]
    kind = np.minimum(wk * owed, held)
    # valued at today's prices a hair above what the index (last close) asks: never more than the run asks
    val = holdings_value(kind, P)
    kind *= np.where(val > ask, ask / np.where(val > ask, val, 1.0), 1.0)[:, :, None]
    return kind, np.maximum(held - kind - (1.0 - wk) * owed, 0.0)


def same_defaults(before: np.ndarray, now: np.ndarray) -> bool:
    """No entity has defaulted since ``before`` (defaults are never undone): the claims on defaulted debtors
    valued then still hold."""
    return bool(np.array_equal(before, now))


def own_token_discount(c: Compiled, P: np.ndarray) -> np.ndarray:
    """Discount of the tokens an entity issued (its stablecoin or exchange token), (S, n)."""
    out = np.zeros((P.shape[0], c.n))
    q = c.equity_terms
    assert q is not None
    if q.issued.size:
        disc = clip(1 - P[:, q.issued] / q.issued_p0, 0.0, 1.0)
        if q.one_token_each:  # each issuer has one token: max(0, disc) is disc (never negative)
            out[:, q.issuers] = disc
        else:
            np.maximum.at(out.T, q.issuers, disc.T)
    return out
