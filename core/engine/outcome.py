"""What a batch of cascades returns (:class:`BatchResult`), and how the final state becomes losses.

An entity's loss is ``E0 − max(E, 0)`` (limited liability: its creditors
record the rest as their own losses); system loss adds outside creditors'
write-downs and insurance-fund draws. A failed issuer's tokens held in the
network are no outside creditor's write-down: their holders bear it once,
through the token's price (:mod:`core.engine.token_holders`). A protocol's bad debt is what its
liquidations booked (gross of its insurance fund) plus the shortfall of loans
still under water at the closing prices (:func:`~core.engine.books.unbooked_bad_debt`),
which its loan book already writes off: with liquidators' capacity short, which
underwater cohort is liquidated first decides only when it is booked. (Booked
alone, a deeper shock that spent the capacity elsewhere showed less bad debt:
$20.8bn -> $4.7bn on ``monotone-synthetic5000-btc-luna``.) Losses are traced to named channels
(shock, liquidation, bad debt, default, run); "market" is what remains.
System loss also counts what governance-token holders paid in to recapitalise
a protocol (Maker's debt auctions: ``governance_backstop``), and the margin
that perpetuals accounts outside the network left at their liquidation to a
venue's fund or vault, and their profit taken by ADL (``traders_loss``;
:mod:`core.engine.perps`), and what the owners of a pooled collateral (Sai's
PETH holders, outside the network) paid in to cover its bad debt.
A pass-through entity's shortfall borne by its owners is its
``supplier_haircut_usd`` (:mod:`core.mechanisms.pass_through`): a lending
pool's shortfall at the last clearing, which its suppliers (in the network)
already record as their losses, and a pooled collateral's cover.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..mechanisms.clearing import ClearingStep
from ..results import CHANNELS, DISTRESS_SHARE
from .books import unbooked_bad_debt
from .liquidate import pooled_value
from .compiled import Compiled
from .sparse_rounds import LazyArrays, SparseRounds
from .state import CascadeState
from .token_holders import network_held_liabilities, recovery_priced

_CH = {c: i for i, c in enumerate(CHANNELS)}


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
        Bad debt booked at each protocol, insurance funds drawn, and protocols'
        income from liquidation penalties and fees.
    outside_loss, liquidated_usd, total_loss, writedowns, shortfall, governance_backstop : ndarray, shape (S,)
        Outside creditors' write-downs, collateral sold in liquidations, total loss,
        creditors' write-downs, debtors' unpaid obligations, and DAI raised from
        governance-token holders by debt auctions.
    traders_loss : ndarray, shape (S,)
        What perpetuals accounts outside the network lost to it: margin left at their liquidation, kept by
        the venues' insurance funds and backstop vaults, and profit taken by ADL or socialisation (zeros
        without positions).
    supplier_haircut_usd : ndarray, shape (S, n)
        What a pass-through entity's owners bear (:mod:`core.mechanisms.pass_through`): a lending pool's
        shortfall to its suppliers at the last clearing (pro rata; the pool fails only beyond
        ``POOL_FAILURE_HAIRCUT``), and what the owners of a pooled collateral (Sai's PETH) paid in; zero
        elsewhere. :attr:`supplier_haircut` is it as a share of what the pool owes.
    pooled_cover_usd : ndarray, shape (S,)
        What the owners of pooled collaterals (Sai's PETH holders, outside the network) paid in to cover bad
        debt: value from outside the entities' books, in system loss (the pooled entities' part of
        ``supplier_haircut_usd``).
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
    bad_debt: np.ndarray           # (S, n) bad debt at each protocol: booked (gross) and still under water
    insurance_draw: np.ndarray     # (S, n)
    outside_loss: np.ndarray       # (S,) outside creditors' write-downs
    liquidated_usd: np.ndarray     # (S,) collateral sold in liquidations
    total_loss: np.ndarray         # (S,)
    prices: np.ndarray             # (S, k) final
    rounds_run: np.ndarray         # (S,) rounds until settled
    writedowns: np.ndarray         # (S,) creditors' write-downs (network + depositors + outside)
    shortfall: np.ndarray          # (S,) debtors' unpaid obligations
    fee_income: np.ndarray         # (S, n) protocols' income from liquidation penalties and fees, paid by borrowers
    governance_backstop: np.ndarray  # (S,) DAI raised from governance-token holders by debt auctions (Maker's flop)
    history: Mapping[str, np.ndarray] = field(default_factory=dict)
    perps_usd: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 7)))  # (S, V, 7) perpetuals venues' totals
    # (core.engine.perps.TOTALS: liquidated, deficit, backstop, insurance draw, ADL, socialised, uncovered)
    traders_loss: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (S,) outside perps accounts' margin kept
    supplier_haircut_usd: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (S, n) pass-through owners' share
    supplier_owed: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (S, n) what those entities owe (haircut base)
    pooled_cover_usd: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (S,) PETH holders' cover, outside the network

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
                "pooled_cover_usd")


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
    }


def store(out: dict[str, Any], ids: np.ndarray, c: Compiled, s: CascadeState, sel: np.ndarray) -> None:
    """Write the final state of the selected live scenarios into the output rows they stand for (the holdings,
    the largest array, gathered only where :func:`~core.engine.token_holders.network_held_liabilities` reads them)."""
    assert s.clearing is not None and s.equity is not None
    sel = np.flatnonzero(sel)
    rows = ids[sel]
    cl = ClearingStep(**{f_: getattr(s.clearing, f_)[sel] for f_ in ClearingStep.__dataclass_fields__})
    equity = s.equity[sel]
    P, coll, defaulted, pooled = s.P[sel], s.coll[sel], s.defaulted[sel], s.pooled_cover[sel]
    ins_draw, flop = s.ins_draw[sel], s.maker_flop_raised[sel]
    tok = recovery_priced(c)
    read = len(tok) > 0 and bool(defaulted[:, c.issuer[tok]].any())
    fin = final_losses(c, cl, equity, s.shock_loss[sel], s.liq_loss[sel], s.run_loss[sel],
                       s.bad_net[sel], s.ik_left[sel] * s.lam[sel][:, c.ik_debtor], s.outside_liab[sel],
                       holders=(P, s.H[sel] if read else s.H[:0], coll, defaulted))
    out["equity"][rows] = equity
    out["loss"][rows] = fin["loss"]
    for ch, v in fin["parts"].items():
        out["parts"][ch][rows] = v
    out["defaulted"][rows] = defaulted
    out["default_round"][rows] = s.default_round[sel]
    out["bad"][rows] = s.bad[sel] + unbooked_bad_debt(c, P, coll, s.debt[sel])
    out["ins_draw"][rows] = ins_draw
    out["outside"][rows] = fin["outside"]
    out["liq_total"][rows] = s.liq_total[sel]
    # governance-token holders' recapitalisation (MKR minted by debt auctions) is a loss outside the network
    traders = np.zeros(len(rows)) if s.perps_outside is None else s.perps_outside[sel]
    out["traders"][rows] = traders
    out["total_loss"][rows] = (fin["loss"].sum(1) + fin["outside"] + ins_draw.sum(1) + flop
                               + traders + pooled.sum(1))
    out["haircut"][rows], out["haircut_owed"][rows] = supplier_haircuts(c, cl, pooled, P, coll)
    out["pooled_cover"][rows] = pooled.sum(1)
    out["P"][rows] = P
    out["rounds_run"][rows] = s.rounds_run[sel]
    out["writedowns"][rows] = fin["writedowns"]
    out["shortfall"][rows] = fin["shortfall"]
    if s.perps_total is not None:
        out["perps"][rows] = s.perps_total[sel]
    out["fee_income"][rows] = s.fee_income[sel]
    out["governance_backstop"][rows] = flop


class RoundBuffer:
    """One array per round, written as it comes into a buffer with the rounds on axis 1.

    A recorded run at 100,000 entities keeps ~0.6 GB of history; stacking per-round arrays at the end
    copied it all once more. The buffer holds room for :data:`ROUNDS_RESERVED` rounds (``np.empty``: pages
    never written are never touched) and doubles when a run goes on longer.
    """

    def __init__(self, storage: np.ndarray | None = None) -> None:
        self.data: np.ndarray | None = storage  # (S, rounds reserved, ...) to write into, when given
        self.rounds = 0

    def append(self, a: np.ndarray) -> None:
        if self.data is None:
            self.data = np.empty((a.shape[0], ROUNDS_RESERVED) + a.shape[1:], dtype=a.dtype)
        elif self.rounds == self.data.shape[1]:
            grown = np.empty((a.shape[0], 2 * self.rounds) + a.shape[1:], dtype=a.dtype)
            grown[:, :self.rounds] = self.data
            self.data = grown
        self.data[:, self.rounds] = a
        self.rounds += 1

    def claim(self, shape: tuple[int, ...], dtype) -> np.ndarray:
        """The next round's slot, (S, ...), to be written in place (instead of appending a finished array)."""
        if self.data is None:
            self.data = np.empty((shape[0], ROUNDS_RESERVED) + shape[1:], dtype=dtype)
        elif self.rounds == self.data.shape[1]:
            grown = np.empty((shape[0], 2 * self.rounds) + shape[1:], dtype=self.data.dtype)
            grown[:, :self.rounds] = self.data
            self.data = grown
        self.rounds += 1
        return self.data[:, self.rounds - 1]

    def array(self) -> np.ndarray:
        """The rounds recorded, (S, rounds, ...): the same values as ``np.stack(arrays, 1)``."""
        if self.data is None:
            raise ValueError("no round was recorded")
        return self.data[:, :self.rounds]


#: Rounds a history buffer makes room for before it grows (scenario horizons are 20 rounds by default).
ROUNDS_RESERVED = 32


def new_history(into: Mapping[str, np.ndarray] | None = None) -> dict[str, Any]:
    """Empty per-round buffers for every array of :data:`RECORDED`, and the record of holdings' changes;
    ``into`` gives some arrays their storage, ``(S, rounds reserved, ...)`` (``core.report`` records a single
    run straight into the ``rounds`` table's block)."""
    into = into or {}
    return ({k_: SparseRounds() if k_ in SPARSE else RoundBuffer(into.get(k_)) for k_ in RECORDED}
            | {UNITS: UnitsRecord()})


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
    )


def supplier_haircuts(c: Compiled, clearing: ClearingStep, pooled_cover: np.ndarray, P: np.ndarray,
                      coll: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What each pass-through entity's owners bear, USD, and the base of its haircut, (S, n) each
    (:mod:`core.mechanisms.pass_through`): a lending pool's shortfall at the clearing ``clearing`` and what
    it owes; the cover paid in by the owners of a pooled collateral (``pooled_cover``) and the pool's value
    at prices ``P`` (Sai: the dilution of PETH, cover / pie)."""
    owed = np.broadcast_to(clearing.total_liabilities, clearing.payments.shape)
    pool = np.where(c.pass_through, np.maximum(owed - clearing.payments, 0.0), 0.0)
    return pool + pooled_cover, np.where(c.pass_through, owed, 0.0) + pooled_value(c, P, coll)


#: Channels a loss is traced to; "market" is what remains of a loss once they are counted.
NAMED_CHANNELS = ("shock", "liquidation", "bad_debt", "default", "run")


def split_channels(loss: np.ndarray, parts: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Each entity's loss split over the channels, (S, n, channels), and the unscaled parts with "market".

    The named channels' losses are scaled so that they and "market" (the loss
    none of them explains: prices) add up to the limited-liability loss.
    """
    named = sum(parts.values())
    market = np.maximum(loss - named, 0.0)
    tot = named + market
    scale = np.divide(loss, tot, out=np.zeros_like(loss), where=tot > 0)
    raw = np.zeros(loss.shape + (len(CHANNELS),))
    for ch, v in parts.items():
        raw[..., _CH[ch]] = v
    raw[..., _CH["market"]] = market
    return raw * scale[..., None], raw


def final_losses(c, clearing, equity, shock_loss, liq_loss, run_loss, bad_net, ik_val, xl, holders=None):
    """Limited-liability losses per entity and their named channels; write-downs and shortfalls.

    ``holders`` = ``(P, H, coll, defaulted)``: a defaulted issuer's tokens held in the network are written
    down once, through their price in their holders' equity, not again as outside creditors' loss
    (:mod:`core.engine.token_holders`); ``None``: every outside liability is an outside creditor's."""
    pbar = clearing.total_liabilities
    short = 1 - clearing.paid_ratio
    dep_loss = ik_val * short[:, c.ik_debtor]
    credit = c.claims_received(short) + c.by_ik_creditor(dep_loss)
    # Outside liabilities other than depositors' claims go unpaid in the same proportion.
    outside_owed = xl - c.by_ik_debtor(ik_val)
    written = (outside_owed * short).sum(1)
    held = None
    if holders is not None:
        P, H, coll, defaulted = holders
        held = network_held_liabilities(c, P, H, coll, defaulted, outside_owed)
    outside = written if held is None else ((outside_owed - held) * short).sum(1)
    loss = np.maximum(c.E0[None] - np.maximum(equity, 0.0), 0.0)
    loss = np.where(c.E0[None] > 0, np.minimum(loss, np.maximum(c.E0[None], 0) + credit), loss)
    writedowns = short @ c.owed_network + dep_loss.sum(1) + written  # network holders' tokens included
    shortfall = (pbar - clearing.payments).sum(1)
    parts = dict(zip(NAMED_CHANNELS, (shock_loss, liq_loss, bad_net, credit, run_loss)))
    out = {"loss": loss, "parts": parts, "outside": outside,
           "writedowns": writedowns, "shortfall": shortfall, "dep_loss": dep_loss, "credit": credit}
    return out



#: Per-round arrays of a recorded run, as :attr:`BatchResult.history` gives them (``(S, rounds, ...)``).
HISTORY = ("equity", "status", "loss", "channels", "channels_raw", "prices", "liquidated", "bad_debt", "edge_loss",
           "dep_loss", "hold_loss", "sold", "cohort_bad", "liq_by_proto", "outside", "ins_draw", "liquidated_total", "maker",
           "perps_flow", "perps_taken", "traders_loss", "pooled_cover")
#: What :func:`record` keeps each round. The rest of :data:`HISTORY` is built from it when first read
#: (:class:`RecordedHistory`): the channels from the loss and its named parts (``part_*``), the per-edge
#: write-downs from each debtor's unpaid share (``short``), the price losses by entity and asset from the
#: holdings' changes (:class:`UnitsRecord`) and the prices. A round thus writes O(entities) numbers, plus
#: the holdings of the entities whose holdings changed, instead of O(edges + entities x assets).
RECORDED = ("equity", "status", "loss", *(f"part_{ch}" for ch in NAMED_CHANNELS), "short", "prices", "liquidated",
            "bad_debt", "dep_loss", "sold", "cohort_bad", "outside", "ins_draw", "liquidated_total", "maker",
            "perps_flow", "perps_taken", "traders_loss", "pooled_cover")
UNITS = "units"
#: Recorded arrays that are zero almost everywhere, kept as their nonzero elements (:mod:`.sparse_rounds`).
SPARSE = ("short", "dep_loss", "ins_draw", "cohort_bad")
#: History arrays that are another's, recorded once: ``liq_by_proto`` is ``liquidated`` (the same array each round).
ALIASES = {"liq_by_proto": "liquidated"}


class UnitsRecord:
    """Each round's token units by (scenario, entity, asset), held or locked as named borrowers' collateral,
    kept as the first round's array and then only the rows that changed: ``(round, scenario rows, entity
    rows, their units)``. A round compares the units with the last ones kept (one pass) and copies the
    few rows that changed."""

    def __init__(self) -> None:
        self.first: np.ndarray | None = None
        self.last: np.ndarray | None = None
        self.changes: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
        self.rounds = 0

    def append(self, units: np.ndarray) -> None:
        if self.first is None:
            self.first, self.last = units.copy(), units.copy()
        else:
            assert self.last is not None
            changed = units != self.last
            rows = ents = np.zeros(0, np.intp)
            if changed.any():  # one pass; the (scenario, entity) pairs only when something changed
                pair = np.unique(np.flatnonzero(changed) // units.shape[2])
                rows, ents = np.divmod(pair, units.shape[1])
            if len(rows):
                vals = units[rows, ents]
                self.last[rows, ents] = vals
                self.changes.append((self.rounds, rows, ents, vals))
        self.rounds += 1

    def per_round(self, s: int):
        """Scenario ``s``'s units round by round, (n, k) each: one array updated in place with each round's
        changes (read it before asking for the next round); the values of :meth:`price_losses`' ``units``."""
        assert self.first is not None
        cur = self.first[s].copy()
        at: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
        for r, rows, ents, vals in self.changes:
            sel = rows == s
            at.setdefault(r, []).append((ents[sel], vals[sel]))
        for r in range(self.rounds):  # rounds (a handful), each a vectorised write
            for ents, vals in at.get(r, ()):
                cur[ents] = vals
            yield cur

    def price_losses(self, s: int, P: np.ndarray, P0: np.ndarray) -> np.ndarray:
        """Scenario ``s``'s price losses ``max(units (P0 - P), 0)`` per round, (rounds, n, k), for its
        prices ``P`` (rounds, k): each element the same product as a per-round record's."""
        assert self.first is not None
        out = np.repeat(self.first[s][None], self.rounds, 0)
        for r, rows, ents, vals in self.changes:  # rounds (a handful), each a vectorised write
            sel = rows == s
            out[r:, ents[sel]] = vals[sel][None]
        np.multiply(out, P0[None, None] - P[:, None, :], out=out)
        return np.clip(out, 0.0, None, out=out)


class RecordedHistory(Mapping):
    """:attr:`BatchResult.history`: the arrays of :data:`HISTORY` by name, (S, rounds, ...). Arrays recorded
    as they are come back as they are; ``channels``, ``channels_raw``, ``edge_loss`` and ``hold_loss`` are
    built when first read, vectorised over the rounds, with the same operations per element as a round's
    own (the same bits as recording them each round)."""

    def __init__(self, c: Compiled, arrays: dict[str, np.ndarray], units: UnitsRecord) -> None:
        self.compiled, self.arrays, self.units = c, arrays, units
        self._built: dict[str, np.ndarray] = {}

    @classmethod
    def of(cls, c: Compiled, hist: dict[str, Any]) -> "RecordedHistory":
        return cls(c, LazyArrays({k_: v.array() for k_, v in hist.items() if k_ != UNITS and k_ not in SPARSE},
                                 {k_: hist[k_] for k_ in SPARSE}), hist[UNITS])

    def __iter__(self):
        return iter(HISTORY)

    def __len__(self) -> int:
        return len(HISTORY)

    def __getitem__(self, key: str) -> np.ndarray:
        key = ALIASES.get(key, key)
        if key in self.arrays and key in HISTORY:
            return self.arrays[key]
        if key not in HISTORY:
            raise KeyError(key)
        if key not in self._built:
            self._built.update(self._build(key))
        return self._built[key]

    def parts(self) -> dict[str, np.ndarray]:
        """The named channels' losses, (S, rounds, n) each."""
        return {ch: self.arrays[f"part_{ch}"] for ch in NAMED_CHANNELS}

    def _build(self, key: str) -> dict[str, np.ndarray]:
        c = self.compiled
        if key in ("channels", "channels_raw"):
            split, raw = split_channels(self.arrays["loss"], self.parts())
            return {"channels": split, "channels_raw": raw}
        if key == "edge_loss":
            return {key: c.edge_amount * self.arrays["short"][:, :, c.edge_debtor]}
        P = self.arrays["prices"]
        return {key: np.stack([self.units.price_losses(s, P[s], c.P0) for s in range(len(P))])}


def record(hist: dict[str, Any], c: Compiled, s: CascadeState) -> None:
    """Append this round's state to the history of a recorded run (one buffer per array of :data:`RECORDED`;
    appending copies, so live state goes in as it is)."""
    assert s.clearing is not None and s.equity is not None
    S = s.S
    liq_proto = np.zeros((S, c.n)) if s.liq_by_proto is None else s.liq_by_proto
    cohort_bad = np.zeros((S, len(c.c_coll))) if s.cohort_bad is None else s.cohort_bad
    fin = final_losses(c, s.clearing, s.equity, s.shock_loss, s.liq_loss, s.run_loss, s.bad_net,
                       s.ik_left * s.lam[:, c.ik_debtor], s.outside_liab, holders=(s.P, s.H, s.coll, s.defaulted))
    loss = fin["loss"]
    P = s.P
    e0 = np.where(c.E0 > 0, c.E0, np.inf)[None]
    # status: 3 defaulted, else 2 liquidating, else 1 distressed, else 0; written in place in its slot
    status = hist["status"].claim(loss.shape, np.asarray(0).dtype)
    np.greater_equal(loss / e0, DISTRESS_SHARE, out=status, casting="unsafe")
    status[liq_proto > 0] = 2
    status[s.defaulted] = 3
    hist["equity"].append(s.equity)
    hist["loss"].append(loss)
    for ch, v in fin["parts"].items():
        hist[f"part_{ch}"].append(v)
    hist["short"].append(1 - s.clearing.paid_ratio)  # per-edge write-downs: edge_amount * short[debtor]
    hist["prices"].append(P)
    hist["liquidated"].append(liq_proto)
    hist["bad_debt"].append(s.bad + unbooked_bad_debt(c, P, s.coll, s.debt))
    hist["dep_loss"].append(fin["dep_loss"])
    # Token units per (entity, asset): held, and collateral locked in protocol positions (price losses).
    named = c.c_named
    if named.any():
        units = s.H.copy()
        np.add.at(units, (slice(None), c.c_borrower[named], c.c_ca[named]), s.coll[:, named])  # type: ignore[arg-type]
    else:
        units = s.H
    hist[UNITS].append(units)
    hist["sold"].append(s.sold * P)
    hist["cohort_bad"].append(cohort_bad)
    hist["outside"].append(fin["outside"])
    hist["ins_draw"].append(s.ins_draw)
    hist["liquidated_total"].append(s.liq_total)
    hist["perps_flow"].append(np.zeros((S, 0, 7)) if s.perps_flow is None else s.perps_flow)
    hist["perps_taken"].append(np.zeros((S, 0)) if s.perps_taken is None else s.perps_taken)
    hist["traders_loss"].append(np.zeros(S) if s.perps_outside is None else s.perps_outside)
    hist["pooled_cover"].append(s.pooled_cover.sum(1))
    hist["maker"].append(np.stack([s.maker_surplus, s.maker_deficit, s.mkr_supply, s.mkr_price, s.mkr_minted,
                                   s.maker_flop_raised, s.maker_penalty, s.maker_bad, s.maker_dirt,
                                   s.maker_failed.astype(float)], 1))
