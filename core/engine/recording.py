"""What a recorded run keeps each round, and the per-round history built from it when first read.

:func:`record` writes a round's compact record (:data:`RECORDED`) into per-round buffers
(:class:`RoundBuffer`, or nonzero elements for the sparse arrays, :mod:`.sparse_rounds`);
:class:`RecordedHistory` gives :attr:`core.engine.outcome.BatchResult.history` (:data:`HISTORY`) from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from ..results import DISTRESS_SHARE
from .books import unbooked_bad_debt, underwater_shortfall
from .compiled import Compiled
from .maker_book import securing_collateral
from .maker_end import network_holdings
from .maker_governance import priced_at_recovery
from .maker_vow import mkr_market_price
from .outside_transfers import kept_in_state
from .memo import per_network
from .losses import NAMED_CHANNELS, final_losses, split_channels
from .reference_bad_debt import reference_bad_debt, reference_debt_price
from ..pages import prefault, written_once
from .sparse_rounds import LazyArrays, SparseRounds
from .state import CascadeState


class RoundBuffer:
    """One array per round, written as it comes into a buffer with the rounds on axis 1.

    A recorded run at 100,000 entities keeps ~0.6 GB of history; stacking per-round arrays at the end
    copied it all once more. The buffer holds room for :data:`ROUNDS_RESERVED` rounds (pages never written
    are never touched; large buffers in small pages, :func:`~core.pages.written_once`) and doubles
    when a run goes on longer.
    """

    def __init__(self, storage: np.ndarray | None = None) -> None:
        self.data: np.ndarray | None = storage  # (S, rounds reserved, ...) to write into, when given
        self.rounds = 0

    def append(self, a: np.ndarray) -> None:
        if self.data is None:
            self.data = written_once((a.shape[0], ROUNDS_RESERVED) + a.shape[1:], a.dtype)
        elif self.rounds == self.data.shape[1]:
            grown = written_once((a.shape[0], 2 * self.rounds) + a.shape[1:], a.dtype)
            grown[:, :self.rounds] = self.data
            self.data = grown
        slot = self.data[:, self.rounds]
        prefault(slot)  # its pages in one call, not one fault each (core.pages)
        slot[...] = a
        self.rounds += 1

    def claim(self, shape: tuple[int, ...], dtype) -> np.ndarray:
        """The next round's slot, (S, ...), to be written in place (instead of appending a finished array)."""
        if self.data is None:
            self.data = written_once((shape[0], ROUNDS_RESERVED) + shape[1:], dtype)
        elif self.rounds == self.data.shape[1]:
            grown = written_once((shape[0], 2 * self.rounds) + shape[1:], self.data.dtype)
            grown[:, :self.rounds] = self.data
            self.data = grown
        self.rounds += 1
        slot = self.data[:, self.rounds - 1]
        prefault(slot)
        return slot

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
            | {UNITS: UnitsRecord(), SCRATCH: {}})


#: Per-round arrays of a recorded run, as :attr:`BatchResult.history` gives them (``(S, rounds, ...)``).
HISTORY = ("equity", "status", "loss", "channels", "channels_raw", "prices", "liquidated", "bad_debt", "bad_reference", "edge_loss",
           "dep_loss", "hold_loss", "sold", "cohort_bad", "liq_by_proto", "outside", "ins_draw", "liquidated_total", "maker",
           "perps_flow", "perps_taken", "traders_loss", "pooled_cover", "borrowers_penalty")
#: What :func:`record` keeps each round. The rest of :data:`HISTORY` is built from it when first read
#: (:class:`RecordedHistory`): the channels from the loss and its named parts (``part_*``), the per-edge
#: write-downs from each debtor's unpaid share (``short``), the price losses by entity and asset from the
#: holdings' changes (:class:`UnitsRecord`) and the prices. A round thus writes O(entities) numbers, plus
#: the holdings of the entities whose holdings changed, instead of O(edges + entities x assets).
RECORDED = ("equity", "status", "loss", *(f"part_{ch}" for ch in NAMED_CHANNELS), "short", "prices", "liquidated",
            "bad_debt", "bad_reference", "dep_loss", "sold", "cohort_bad", "outside", "ins_draw", "liquidated_total", "maker",
            "perps_flow", "perps_taken", "traders_loss", "pooled_cover", "borrowers_penalty")
UNITS = "units"
#: A recorded run's working arrays (:func:`_claims_scratch`), reused round after round; not recorded.
SCRATCH = "scratch"
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
            # the (scenario, entity) pairs with a changed element: the changed flat positions come ascending,
            # so their pairs do too, each pair's first position marks it (no sort, as np.unique would do)
            pair = np.flatnonzero(units != self.last) // units.shape[2]
            if len(pair):
                pair = pair[np.r_[True, pair[1:] != pair[:-1]]]
                rows, ents = np.divmod(pair, units.shape[1])
                if units.shape[0] == 1:  # one scenario: a gather along one axis, without the (row, entity) iterator
                    vals = np.take(units[0], ents, axis=0)
                    self.last[0][ents] = vals
                else:
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
        one = self.first.shape[0] == 1  # a single scenario's record: every change is its own (no selection to copy)
        for r, rows, ents, vals in self.changes:
            if one:
                at.setdefault(r, []).append((ents, vals))
                continue
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
        return cls(c, LazyArrays({k_: v.array() for k_, v in hist.items() if k_ not in (UNITS, SCRATCH) and k_ not in SPARSE},
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
        """The named channels' losses as recorded (unscaled), (S, rounds, n) each."""
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


class RoundOutcome(NamedTuple):
    """What :func:`record` computed of a round's result: :func:`~core.engine.losses.final_losses` without totals,
    and the bad debt marked at the round's prices and at reference prices, (S, n) each. On a run's last round these
    are the result's own (:func:`core.engine.outcome.store` takes them instead of computing them again)."""

    losses: dict[str, Any]
    bad_debt: np.ndarray
    bad_reference: np.ndarray


def record(hist: dict[str, Any], c: Compiled, s: CascadeState) -> RoundOutcome:
    """Append this round's state to the history of a recorded run (one buffer per array of :data:`RECORDED`;
    appending copies, so live state goes in as it is); return the round's result values it computed."""
    assert s.clearing is not None and s.equity is not None
    S = s.S
    liq_proto = np.zeros((S, c.n)) if s.liq_by_proto is None else s.liq_by_proto
    cohort_bad = np.zeros((S, len(c.c_coll))) if s.cohort_bad is None else s.cohort_bad
    gathered, ik_val, scratch = _claims_scratch(hist, S, len(c.ik_debtor))
    # each claim's value, ik_left x its debtor's lam (np.take's values: "clip" writes straight into the buffer, where
    # "raise" buffers its output; the compiled debtors are in range)
    np.multiply(s.ik_left, np.take(s.lam, c.ik_debtor, axis=1, out=gathered, mode="clip"), out=ik_val)
    fin = final_losses(c, s.clearing, s.equity, s.shock_loss, s.liq_loss, s.run_loss, s.bad_net,
                       ik_val, s.outside_liab, holders=(s.P, network_holdings(c, s.H, s.maker_end_units), s.coll,
                                                        priced_at_recovery(c, s.defaulted, s.clearing.paid_ratio)),
                       totals=False, maker_recovery=s.maker_recovery, issuer_cap=s.issuer_cap, shut=s.defaulted,
                       psm=(s.psm_balance, s.psm_paid_in, s.psm_value), scratch=scratch)
    loss = fin["loss"]
    P = s.P
    # no equity to lose a share of below its floor (a remainder of floating point or of the data's rounding,
    # core.results.equity_floors): never distressed by it
    e0 = per_network(c, "distress_base", lambda: np.where(c.E0 >= c.equity_floor, c.E0, np.inf)[None])
    # status: 3 defaulted, else 2 liquidating, else 1 distressed, else 0; written in place in its slot. The codes
    # rank as the rules do, so each rule is a maximum with its code where it holds: branch-free passes (masked
    # writes, np.copyto(status, 2, where=...), branch on each element: at synthetic(100k), with ~half the entities
    # defaulted, two such writes cost some 0.6 ms a round)
    status = hist["status"].claim(loss.shape, np.asarray(0).dtype)
    np.greater_equal(loss / e0, DISTRESS_SHARE, out=status, casting="unsafe")
    np.maximum(status, np.multiply(liq_proto > 0, 2, dtype=status.dtype), out=status)
    np.maximum(status, np.multiply(s.defaulted, 3, dtype=status.dtype), out=status)
    hist["equity"].append(s.equity)
    hist["loss"].append(loss)
    for ch, v in fin["parts"].items():
        hist[f"part_{ch}"].append(v)
    hist["short"].append(fin["short"])  # 1 - paid_ratio: per-edge write-downs are edge_amount * short[debtor]
    hist["prices"].append(P)
    hist["liquidated"].append(liq_proto)
    secured = securing_collateral(c, s)  # not Maker's free collateral (maker_book.securing_collateral)
    underwater = underwater_shortfall(c, P, secured, s.debt)  # the loans under water, read by both measures
    bad_debt = s.bad + unbooked_bad_debt(c, P, secured, s.debt, underwater)
    hist["bad_debt"].append(bad_debt)
    # the same shortfalls' units at their debt tokens' reference prices (BatchResult.bad_debt_reference_usd's, each round)
    bad_reference = reference_bad_debt(c, P, secured, s.debt, s.bad_units + s.maker_end_left, underwater)
    hist["bad_reference"].append(bad_reference)
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
    # the venues' provisional deficits at the close outside the books (core.engine.perps_close.close_deficit)
    hist["ins_draw"].append(s.ins_draw if s.perps_close_drawn is None else s.ins_draw + s.perps_close_drawn)
    hist["liquidated_total"].append(s.liq_total)
    hist["perps_flow"].append(np.zeros((S, 0, 7)) if s.perps_flow is None else s.perps_flow)
    hist["perps_taken"].append(np.zeros((S, 0)) if s.perps_taken is None else s.perps_taken)
    # transfers from outside less what their receivers keep above their initial equity (core.engine.outside_transfers)
    kept_margin, kept_penalty = kept_in_state(c, s, s.equity)
    traders = np.zeros(S) if s.perps_outside is None else s.perps_outside - kept_margin
    hist["traders_loss"].append(traders if s.perps_close_taken is None else traders + s.perps_close_taken)
    hist["pooled_cover"].append(s.pooled_cover.sum(1))
    hist["borrowers_penalty"].append(s.borrowers_penalty - kept_penalty)
    # MKR's market price: the deficit its holders owe (vow.wait) priced in (maker_backstop.pledged_price)
    hist["maker"].append(np.stack([s.maker_surplus, s.maker_deficit, s.mkr_supply, mkr_market_price(s), s.mkr_minted,
                                   s.maker_flop_raised, s.maker_penalty, s.maker_bad, s.maker_dirt,
                                   s.maker_failed.astype(float), s.maker_flap_paid, s.mkr_burnt, s.maker_pledge,
                                   end_left_usd(c, s)], 1))
    return RoundOutcome(fin, bad_debt, bad_reference)


def end_left_usd(c: Compiled, s: CascadeState) -> np.ndarray:
    """What End, caged at a tag above the market, leaves DAI's holders short, (S,): the units
    :func:`~core.engine.maker_end.left_to_holders` left, at their debt token's reference price (DAI's peg), the part of
    Maker's bad debt at reference that the marked figure does not count (decision 23)."""
    if not s.maker_end_left.any():
        return np.zeros(s.maker_end_left.shape[0])
    return s.maker_end_left @ reference_debt_price(c)


def _claims_scratch(hist: dict[str, Any], S: int, m: int) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Four (S, m) arrays over the in-kind claims, kept with the history and written again each round: the debtors'
    gathered index, the claims' values, and :func:`~core.engine.losses.final_losses`' ``scratch``. A round's
    are read by that round alone (the history keeps copies: :class:`~.sparse_rounds.SparseRounds`; the last round's
    losses go to :func:`~core.engine.outcome.store`, which copies them, before the next round). Fresh each round,
    these 2.6 MB temporaries at synthetic(100k)'s 324,315 claims were memory the allocator had handed back,
    faulted in again: some 4,400-6,100 page faults a run (session 24)."""
    work = hist[SCRATCH]
    if work.get("shape") != (S, m):
        work.clear()
        work.update(shape=(S, m), arrays=tuple(np.empty((S, m)) for _ in range(4)))
    a, b, c_, d = work["arrays"]
    return a, b, (c_, d)
