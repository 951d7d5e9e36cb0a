"""What a batch of cascades returns (:class:`BatchResult`), and how the final state becomes losses.

An entity's loss is ``E0 − max(E, 0)`` (limited liability: its creditors
record the rest as their own losses); system loss adds outside creditors'
write-downs and insurance-fund draws. A failed issuer's tokens held in the
network are no outside creditor's write-down: their holders bear it once,
through the token's price (:mod:`core.engine.token_holders`); a defaulted
Maker's DAI trades at the recovery counting its debt auctions, and the part of
its shortfall those auctions will pay stays in the outside loss, as before the
default (:func:`~core.engine.maker_vow.held_dai_cover`). A protocol's bad debt is what its
liquidations booked (gross of its insurance fund) plus the shortfall of loans
still under water at the closing prices (:func:`~core.engine.books.unbooked_bad_debt`),
which its loan book already writes off: with liquidators' capacity short, which
underwater cohort is liquidated first decides only when it is booked. (Booked
alone, a deeper shock that spent the capacity elsewhere showed less bad debt:
$20.8bn -> $4.7bn on ``monotone-synthetic5000-btc-luna``.) It is reported marked at the closing prices
(``bad_debt``) and, in the same units of each debt token, at the tokens' reference prices
(``bad_debt_reference_usd``, :mod:`core.engine.reference_bad_debt`). Losses are traced to named channels
(shock, liquidation, bad debt, default, run); "market" is what remains.
System loss also counts what governance-token holders paid in to recapitalise
a protocol (Maker's debt auctions: ``governance_backstop``), and the margin
that perpetuals accounts outside the network left at their liquidation to a
venue's fund or vault, and their profit taken by ADL (``traders_loss``;
:mod:`core.engine.perps`), what the owners of a pooled collateral (Sai's
PETH holders, outside the network) paid in to cover its bad debt, and the
liquidation penalties and protocol fees that borrowers outside the network
(anonymous cohorts) paid into its protocols (``borrowers_penalty_loss``:
Maker's ``chop`` into the Vow, dog.sol/clip.sol; Aave v3's
``liquidationProtocolFee`` into its treasury; Compound v2's
``protocolSeizeShareMantissa`` into reserves; the PSM's ``tin``/``tout``;
:func:`core.engine.fees.outside_borrowers_paid`).
Each is a transfer from outside into the network, whose gain from it is no
value created: equity changes plus outside parties' losses are the value
destroyed. The margin and the penalties and fees count as far as their
receiver's gain lowers a counted loss: what a receiver keeps above its
initial equity is no gain the loss of equity counts, so no outside party's
loss either (capped at the receiver's gain once, whatever it received:
:mod:`core.engine.outside_transfers`); MKR holders' and PETH holders'
payments cover a deficit and cannot carry their receiver above its start. Liquidation bonuses paid to liquidators outside the network (outside
to outside) and the collateral's own fall are not counted.
A pass-through entity's shortfall borne by its owners is its
``supplier_haircut_usd`` (:mod:`core.mechanisms.pass_through`): a lending
pool's shortfall at the last clearing, which its suppliers (in the network)
already record as their losses, and a pooled collateral's cover.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..mechanisms.clearing import ClearingStep
from .books import unbooked_bad_debt
from .reference_bad_debt import reference_bad_debt
from .compiled import Compiled
from .known_zeros import take_rows
from .losses import NAMED_CHANNELS, final_losses, split_channels, supplier_haircuts, with_totals
from .maker_book import secured_units
from .maker_end import network_holdings
from .maker_governance import priced_at_recovery
from .maker_co_issued import co_issued
from .outside_transfers import kept_in_state
from .recording import RecordedHistory, RoundBuffer, RoundOutcome, new_history, record
from .state import CascadeState
from .token_holders import recovery_priced

__all__ = ["BatchResult", "PER_SCENARIO", "empty_outcome", "joined", "store", "batch_result", "new_history", "record",
           "final_losses", "split_channels", "supplier_haircuts", "NAMED_CHANNELS"]


@dataclass(frozen=True, eq=False)
class BatchResult:
    """Final state of a batch of cascades (leading axis: scenario).

    Built by :func:`~core.engine.simulate_batch`; arrays of shape ``(S, n)`` hold one
    row per scenario and one column per entity (``entity_ids``), ``(S, k)`` one
    column per asset (``asset_symbols``), ``(S,)`` one value per scenario. Amounts
    are USD.

    Attributes
    ----------
    entity_ids, asset_symbols : ndarray of str
        Column labels, in the network's order.
    initial_equity : ndarray, shape (n,)
        Equity before the shock.
    equity, loss : ndarray, shape (S, n)
        Final equity, and the loss of equity (limited liability: at most the initial equity).
    channel_parts : dict of str to ndarray, shape (S, n)
        Losses by named channel before the split of :attr:`loss_by_channel`.
    defaulted : ndarray of bool, shape (S, n)
    default_round : ndarray of int, shape (S, n)
        Round of default, -1 for never.
    bad_debt, insurance_draw, fee_income : ndarray, shape (S, n)
        Bad debt at each protocol marked at the closing prices (booked by liquidations, gross of insurance,
        and still under water), insurance funds drawn, and protocols' income from liquidation penalties and fees.
    bad_debt_reference_usd : ndarray, shape (S, n)
        The same bad debt in its debt tokens' units, valued at their reference prices (a dollar-pegged token at
        its peg, any other at its snapshot price): rises with the units left unpaid, whatever the debt token
        does (:mod:`core.engine.reference_bad_debt`); the monotone invariant on bad debt reads it. Maker's also
        counts what DAI's holders are left short when End cages it at a tag above the market (decision 23,
        :func:`~core.engine.maker_end.left_to_holders`), which :attr:`bad_debt` does not.
        :attr:`bad_debt_token_fall_usd` is it less :attr:`bad_debt`: the part the debt token's own fall explains
        (and End's shortfall to DAI's holders, counted at reference alone).
    outside_loss, liquidated_usd, total_loss, writedowns, shortfall, governance_backstop : ndarray, shape (S,)
        Outside creditors' write-downs, collateral sold in liquidations, total loss,
        creditors' write-downs, debtors' unpaid obligations, and DAI raised from
        governance-token holders by debt auctions.
    traders_loss : ndarray, shape (S,)
        What perpetuals accounts outside the network lost to it: margin left at their liquidation, kept by
        the venues' insurance funds and backstop vaults, as far as the keeper's gain lowers a counted loss (not
        what it keeps above its initial equity, :mod:`core.engine.outside_transfers`), and profit taken by ADL or
        socialisation (zeros without positions).
    supplier_haircut_usd : ndarray, shape (S, n)
        What a pass-through entity's owners bear (:mod:`core.mechanisms.pass_through`): a lending pool's
        shortfall to its suppliers at the last clearing (pro rata; the pool fails only beyond
        ``POOL_FAILURE_HAIRCUT``) with the haircut its runners took on the claims they withdrew at their value
        (:func:`core.engine.withdraw.claims_value`), and what the owners of a pooled collateral (Sai's PETH) paid
        in; zero elsewhere. :attr:`supplier_haircut` is it as a share of what the pool owes and of the claims its
        runners gave up at a haircut.
    pooled_cover_usd : ndarray, shape (S,)
        What the owners of pooled collaterals (Sai's PETH holders, outside the network) paid in to cover bad
        debt: value from outside the entities' books, in system loss (the pooled entities' part of
        ``supplier_haircut_usd``).
    borrowers_penalty_loss : ndarray, shape (S,)
        Outside borrowers' penalties: what the borrowers of cohorts with no named borrower (outside the
        network) paid into its protocols as liquidation penalties and fees (Maker's ``chop``, gross of keepers'
        incentives; Aave v3's ``liquidationProtocolFee``; Compound v2's ``protocolSeizeShareMantissa``), and the
        PSM fees (``tin``/``tout``) arbitrageurs outside paid into its issuer's Vow, in
        system loss (:func:`core.engine.fees.outside_borrowers_paid`), as far as the receiving protocol's gain
        lowers a counted loss: not what it keeps above its initial equity, the cap shared with any perpetuals
        margin it keeps (:mod:`core.engine.outside_transfers`); of the part of :attr:`fee_income` they paid.
    borrowers_penalty_paid : ndarray, shape (S,)
        The same payments whole, what the outside borrowers and arbitrageurs paid in: the transfer, for value
        accounting (equity changes less outside parties' payments in); :attr:`borrowers_penalty_loss` is what of
        it system loss counts.
    prices : ndarray, shape (S, k)
        Final prices.
    rounds_run : ndarray of int, shape (S,)
        Rounds until the cascade settled.
    history : dict of str to ndarray
        Per-round arrays, when the batch was run with ``record=True``.

    Examples
    --------
    >>> from core import Scenario, simulate_batch
    >>> from core.datasets import synthetic
    >>> batch = simulate_batch(synthetic(20, 50, seed=1),
    ...                        [Scenario(price_shocks={"ETH": -0.2}), Scenario(price_shocks={"ETH": -0.6})])
    >>> batch.equity.shape, batch.defaulted.sum(axis=1).tolist()
    ((2, 20), [12, 15])
    >>> bool(batch.total_loss[1] > batch.total_loss[0])
    True
    """

    entity_ids: np.ndarray
    asset_symbols: np.ndarray
    initial_equity: np.ndarray     # (n,)
    equity: np.ndarray             # (S, n) final
    loss: np.ndarray               # (S, n) final, limited liability
    channel_parts: dict[str, np.ndarray]  # (S, n) each: losses by named channel, before the split (see loss_by_channel)
    defaulted: np.ndarray          # (S, n)
    default_round: np.ndarray      # (S, n), -1 never
    bad_debt: np.ndarray           # (S, n) bad debt at each protocol: booked (gross) and still under water, marked at the close
    insurance_draw: np.ndarray     # (S, n)
    outside_loss: np.ndarray       # (S,) outside creditors' write-downs
    liquidated_usd: np.ndarray     # (S,) collateral sold in liquidations
    total_loss: np.ndarray         # (S,)
    prices: np.ndarray             # (S, k) final
    rounds_run: np.ndarray         # (S,) rounds until settled
    writedowns: np.ndarray         # (S,) creditors' write-downs (network + depositors + outside)
    shortfall: np.ndarray          # (S,) debtors' unpaid obligations
    fee_income: np.ndarray         # (S, n) protocols' income from liquidation penalties and fees, paid by borrowers
    governance_backstop: np.ndarray  # (S,) DAI raised from governance-token holders by debt auctions (Maker's flop), or owed by them for a deficit waiting vow.wait, less surplus auctions' pay (flap)
    history: Mapping[str, np.ndarray] = field(default_factory=dict)
    perps_usd: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 7)))  # (S, V, 7) perpetuals venues' totals
    # (core.engine.perps.TOTALS: liquidated, deficit, backstop, insurance draw, ADL, socialised, uncovered)
    traders_loss: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (S,) outside perps accounts' margin kept
    supplier_haircut_usd: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (S, n) pass-through owners' share
    supplier_owed: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (S, n) what those entities owe (haircut base)
    pooled_cover_usd: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (S,) PETH holders' cover, outside the network
    borrowers_penalty_loss: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (S,) outside borrowers' penalties and fees counted
    borrowers_penalty_paid: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (S,) the same, paid in whole
    bad_debt_reference_usd: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (S, n) bad debt's units at reference prices

    @property
    def bad_debt_token_fall_usd(self) -> np.ndarray:
        """(S, n) bad debt at reference prices less bad debt marked at the close: what the debt tokens' own fall
        takes off the shortfall's dollar value (negative where a debt token ended above its reference price), and at
        a Maker caged above the market what End leaves DAI's holders (counted at reference alone, decision 23)."""
        return self.bad_debt_reference_usd - self.bad_debt

    @property
    def supplier_haircut(self) -> np.ndarray:
        """(S, n) each pass-through entity's haircut as a share of what it owes its owners and creditors (0 elsewhere)."""
        return np.divide(self.supplier_haircut_usd, self.supplier_owed, out=np.zeros_like(self.supplier_haircut_usd),
                         where=self.supplier_owed > 0)

    @property
    def system_equity(self) -> float:
        return float(np.maximum(self.initial_equity, 0).sum())

    @functools.cached_property
    def loss_by_channel(self) -> np.ndarray:
        """(S, n, channels): each entity's loss split over the channels that caused it (built when first read)."""
        return split_channels(self.loss, self.channel_parts)[0]



#: Result arrays with a leading scenario axis (concatenated when a batch runs in chunks).
PER_SCENARIO = ("equity", "loss", "defaulted", "default_round", "bad_debt", "insurance_draw",
                "outside_loss", "liquidated_usd", "total_loss", "prices", "rounds_run", "writedowns", "shortfall", "fee_income",
                "governance_backstop", "perps_usd", "traders_loss", "supplier_haircut_usd", "supplier_owed",
                "pooled_cover_usd", "bad_debt_reference_usd",
                "borrowers_penalty_loss", "borrowers_penalty_paid")


def joined(parts: Sequence[BatchResult], rows: np.ndarray | None = None) -> BatchResult:
    """One result of the rows of ``parts``, one after another (a batch run in chunks), or put in the order ``rows``
    gives (``rows[j]``: the row of the joined result that the parts' ``j``-th row, counted through them all, is).

    The parts must be runs on networks of the same entities, assets and initial equity (one network, or one
    snapshot at several dates, :func:`core.engine.rounds.simulate_batch`): those columns are one array for every row.
    A recorded part's per-round history is not joined (each part's has its own rounds).

    Raises
    ------
    ValueError
        When the parts' entities, assets or initial equity differ.
    """
    first = parts[0]
    if any(not (np.array_equal(p.entity_ids, first.entity_ids) and np.array_equal(p.asset_symbols, first.asset_symbols)
                and np.array_equal(p.initial_equity, first.initial_equity)) for p in parts[1:]):
        raise ValueError("the parts of a batch ran on networks of other entities, assets or initial equity: their rows "
                         "share no columns (run each network's scenarios as a batch of its own)")
    order = None if rows is None else np.argsort(rows, kind="stable")  # the joined row i is the parts' row order[i]

    def rows_of(arrays: list[np.ndarray]) -> np.ndarray:
        a = np.concatenate(arrays)
        return a if order is None else a[order]

    merged: dict[str, Any] = {f_: (rows_of([getattr(p_, f_) for p_ in parts]) if f_ in PER_SCENARIO else getattr(first, f_))
                              for f_ in BatchResult.__dataclass_fields__ if f_ != "history"}
    merged["channel_parts"] = {ch: rows_of([p_.channel_parts[ch] for p_ in parts]) for ch in first.channel_parts}
    return BatchResult(**merged)


def empty_outcome(c: Compiled, S: int) -> dict[str, Any]:
    """The result arrays of ``S`` scenarios, to be filled as each settles (:func:`store`)."""
    n, k = c.n, c.k
    return {
        "equity": np.zeros((S, n)), "loss": np.zeros((S, n)), "parts": {ch: np.zeros((S, n)) for ch in NAMED_CHANNELS},
        "defaulted": np.zeros((S, n), bool), "default_round": np.full((S, n), -1), "bad": np.zeros((S, n)),
        "ins_draw": np.zeros((S, n)), "outside": np.zeros(S), "traders": np.zeros(S), "liq_total": np.zeros(S), "total_loss": np.zeros(S),
        "P": np.zeros((S, k)), "rounds_run": np.zeros(S, int), "writedowns": np.zeros(S), "shortfall": np.zeros(S),
        "perps": np.zeros((S, 0 if c.perps is None else c.perps.V, 7)),
        "fee_income": np.zeros((S, n)), "governance_backstop": np.zeros(S),
        "haircut": np.zeros((S, n)), "haircut_owed": np.zeros((S, n)), "pooled_cover": np.zeros(S),
        "bad_reference": np.zeros((S, n)),
        "borrowers_penalty": np.zeros(S), "borrowers_paid": np.zeros(S),
    }


def store(out: dict[str, Any], ids: np.ndarray, c: Compiled, s: CascadeState, sel: np.ndarray,
          known: RoundOutcome | None = None) -> None:
    """Write the final state of the selected live scenarios into the output rows they stand for (the holdings,
    the largest array, gathered only where :func:`~core.engine.token_holders.network_held_liabilities` reads them).
    ``known``: what a recorded run's round just computed of this state (:func:`~core.engine.recording.record`):
    its losses and bad debt are taken as they are, with the totals added, when every row is selected (a single
    recorded run's last round), instead of computed again."""
    assert s.clearing is not None and s.equity is not None
    sel = np.flatnonzero(sel)
    rows = ids[sel]
    if known is not None and len(sel) < s.S:
        known = None  # the round's values are every row's: only a whole batch's are taken

    def at(x: np.ndarray) -> np.ndarray:  # the selected rows (ndarray.take: the same elements as x[sel], the faster
        return take_rows(x, sel)          # gather; known zeros: new zeros, core.engine.known_zeros)

    cl = ClearingStep(**{f_: at(getattr(s.clearing, f_)) for f_ in ClearingStep.__dataclass_fields__})
    equity = at(s.equity)
    P, coll, defaulted, pooled = at(s.P), at(s.coll), at(s.defaulted), at(s.pooled_cover)
    # MKR holders' net payment into Maker: what debt auctions raised less what surplus auctions paid them, and what
    # they owe for the deficit still waiting for its debt auctions (vow.wait; 0 without)
    ins_draw, flop = at(s.ins_draw), at(s.maker_flop_raised) - at(s.maker_flap_paid) + at(s.maker_pledge)
    if s.perps_close_drawn is not None:  # the venues' funds' provisional draws at the close (perps_close.close_deficit)
        ins_draw = ins_draw + at(s.perps_close_drawn)
    if known is not None:
        fin = with_totals(c, cl, known.losses)
    else:
        tok = recovery_priced(c)
        # a PSM's pass-through is counted live too (maker_co_issued.dai_holders_outside): its coin's holders are read
        read = len(tok) > 0 and (bool(defaulted[:, c.issuer[tok]].any()) or co_issued(c) is not None)
        fin = final_losses(c, cl, equity, at(s.shock_loss), at(s.liq_loss), at(s.run_loss),
                           at(s.bad_net), at(s.ik_left) * at(s.lam)[:, c.ik_debtor], at(s.outside_liab),
                           holders=(P, network_holdings(c, at(s.H), at(s.maker_end_units)) if read else s.H[:0], coll,
                                    priced_at_recovery(c, defaulted, cl.paid_ratio)), maker_recovery=at(s.maker_recovery),
                           issuer_cap=at(s.issuer_cap), psm=(at(s.psm_balance), at(s.psm_paid_in), at(s.psm_value)),
                           shut=defaulted)
    out["equity"][rows] = equity
    out["loss"][rows] = fin["loss"]
    for ch, v in fin["parts"].items():
        out["parts"][ch][rows] = v
    out["defaulted"][rows] = defaulted
    out["default_round"][rows] = at(s.default_round)
    if known is not None:
        out["bad"][rows], out["bad_reference"][rows] = known.bad_debt, known.bad_reference
    else:
        # not Maker's free collateral (maker_book.securing_collateral), of the selected rows alone
        secured = secured_units(c, coll, at(s.maker_free), at(s.maker_lot))
        out["bad"][rows] = at(s.bad) + unbooked_bad_debt(c, P, secured, at(s.debt))
        out["bad_reference"][rows] = reference_bad_debt(c, P, secured, at(s.debt), at(s.bad_units) + at(s.maker_end_left))
    out["ins_draw"][rows] = ins_draw
    out["outside"][rows] = fin["outside"]
    out["liq_total"][rows] = at(s.liq_total)
    # transfers from outside into the network, less what their receivers keep above their initial equity
    # (core.engine.outside_transfers): outside perpetuals accounts' margin and profit taken (perps_outside), outside
    # borrowers' liquidation penalties and fees (core.engine.fees.outside_borrowers_paid)
    kept_margin, kept_penalty = kept_in_state(c, s, equity, at)
    traders = np.zeros(len(rows)) if s.perps_outside is None else at(s.perps_outside) - kept_margin
    if s.perps_close_taken is not None:  # and the outside winners' provisional loss
        traders = traders + at(s.perps_close_taken)
    out["traders"][rows] = traders
    paid = at(s.borrowers_penalty)
    penalty = paid - kept_penalty
    out["borrowers_paid"][rows] = paid
    out["borrowers_penalty"][rows] = penalty
    out["total_loss"][rows] = (fin["loss"].sum(1) + fin["outside"] + ins_draw.sum(1) + flop
                               + traders + pooled.sum(1) + penalty)
    out["haircut"][rows], out["haircut_owed"][rows] = supplier_haircuts(c, cl, pooled, P, coll, at(s.pooled_free),
                                                                    (at(s.pool_run_haircut), at(s.pool_run_claims)))
    out["pooled_cover"][rows] = pooled.sum(1)
    out["P"][rows] = P
    out["rounds_run"][rows] = at(s.rounds_run)
    out["writedowns"][rows] = fin["writedowns"]
    out["shortfall"][rows] = fin["shortfall"]
    if s.perps_total is not None:
        out["perps"][rows] = at(s.perps_total)
    out["fee_income"][rows] = at(s.fee_income)
    out["governance_backstop"][rows] = flop


def batch_result(c: Compiled, out: dict[str, Any], hist: dict[str, RoundBuffer]) -> BatchResult:
    """The :class:`BatchResult` of a finished batch: the stored final rows ``out`` and, when recorded, the
    per-round history ``hist`` on a round axis."""
    return BatchResult(
        entity_ids=c.ids, asset_symbols=c.symbols, initial_equity=c.E0, equity=out["equity"],
        loss=out["loss"], channel_parts=out["parts"], defaulted=out["defaulted"],
        default_round=out["default_round"], bad_debt=out["bad"], insurance_draw=out["ins_draw"],
        outside_loss=out["outside"], liquidated_usd=out["liq_total"], total_loss=out["total_loss"], prices=out["P"],
        rounds_run=out["rounds_run"], writedowns=out["writedowns"], shortfall=out["shortfall"],
        fee_income=out["fee_income"], governance_backstop=out["governance_backstop"],
        history=RecordedHistory.of(c, hist) if hist else {}, perps_usd=out["perps"], traders_loss=out["traders"],
        supplier_haircut_usd=out["haircut"], supplier_owed=out["haircut_owed"], pooled_cover_usd=out["pooled_cover"],
        bad_debt_reference_usd=out["bad_reference"],
        borrowers_penalty_loss=out["borrowers_penalty"], borrowers_penalty_paid=out["borrowers_paid"],
    )
