"""Turning a recorded engine run into the tables of :class:`core.results.CascadeResult`."""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd

from .network import Network
from .pages import written_once
from .report_entities import _id_index, entity_columns
from .report_paths import paths_and_targets, sparse_record
from .report_rounds import _ROUND_FLOATS, CHANNEL_ROW, EntityTerms, _rounds_table, entity_terms, inferred_strings
from .results import (CHANNELS, MAKER_HISTORY, PERPS_COLUMNS, STATUSES, CascadeResult, empty_perps, loss_shares,
                      prekeyed)
from .report_summary import summary_table
from .scenario import Scenario

#: Contagion edges smaller than this share of system equity are left out of ``paths``.
PATH_MIN_SHARE = 1e-5
#: :func:`~core.report_rounds.entity_terms` by compiled network.
_ENTITY_TERMS: "weakref.WeakKeyDictionary[object, EntityTerms]" = weakref.WeakKeyDictionary()


def _entity_terms(c) -> EntityTerms:
    terms = _ENTITY_TERMS.get(c)
    if terms is None:
        terms = _ENTITY_TERMS[c] = entity_terms(c.ids)
    return terms


def build_result(net: Network, scenario: Scenario, br, c, block: np.ndarray | None = None) -> CascadeResult:
    """The :class:`~core.results.CascadeResult` tables of the first scenario of a recorded batch run
    ``br`` of the compiled network ``c`` (the engine's own, so this module never imports the engine).

    One pass per table over the recorded rounds: the losses by channel are written straight into the
    ``rounds`` table's float block (the (rounds, entities, channels) history array is never built), the
    totals and the paths read them there, and the ``rounds`` index is built from its known structure
    (every entity in every round) instead of factorising two million keys. Each value is the same
    floating-point operation as before (``tests/test_report_single_pass.py``: identical tables).
    ``block`` is :func:`rounds_storage`'s, when the run was recorded into it."""
    h = br.history
    R = h["equity"].shape[1]
    s = 0  # single scenario
    n = len(c.ids)
    sys_eq = br.system_equity
    raw_at_default = _raw_channels_at(h, s, br.default_round[s])  # before the channels are scaled in place
    final_recorded = _final_is_last_round(br, h, s)  # before the channels are scaled in place
    sums = np.empty((1 + len(CHANNELS), R))  # each round's loss and losses by channel summed over the entities
    block = _rounds_block(h, s, R, n, block, sums)
    # each entity's final loss by channel: the last round's row of the block when the final state is that round's
    # (the same split, element by element, as BatchResult.loss_by_channel), else split again
    chl = block[CHANNEL_ROW:, (R - 1) * n:R * n].T if final_recorded else br.loss_by_channel[s]
    rounds = _rounds_table(R, c.ids, block, h["status"][s], _entity_terms(c))
    prices = pd.DataFrame(h["prices"][s], columns=list(c.symbols))
    prices.insert(0, "round", np.arange(R))

    # the summary's total, round by round (core.engine.outcome.store): MKR holders' recapitalisation,
    # outside perpetuals traders' margin kept at liquidation, Sai's PETH holders' cover and outside borrowers'
    # liquidation penalties and fees count as they accrue
    total = (sums[0] + h["outside"][s] + _row_sums(h, "ins_draw", s, R)
             + h["maker"][s][:, MAKER_HISTORY.index("flop_raised_usd")] - h["maker"][s][:, MAKER_HISTORY.index("flap_paid_usd")]
             + h["maker"][s][:, MAKER_HISTORY.index("pledged_usd")]
             + h["traders_loss"][s] + h["pooled_cover"][s] + h["borrowers_penalty"][s])
    st = h["status"][s]
    totals = pd.DataFrame(
        {
            "round": np.arange(R),
            "hours": (np.arange(R) + 1) * scenario.round_hours,  # time at the end of the round
            "total_loss_usd": total,
            "loss_share": total / sys_eq if sys_eq > 0 else np.zeros(R),
            "defaults": (st == 3).sum(1),
            "distressed": (st == 1).sum(1),
            "liquidating": (st == 2).sum(1),
            "liquidated_usd": h["liquidated_total"][s],
            "bad_debt_usd": h["bad_debt"][s].sum(1),
            "bad_debt_reference_usd": h["bad_reference"][s].sum(1),  # the same shortfalls' units at reference prices
            **{f"loss_{name}_usd": sums[1 + i] for i, name in enumerate(CHANNELS)},
        }
    )

    def channel_rounds(name: str) -> np.ndarray:
        return block[CHANNEL_ROW + CHANNELS.index(name)].reshape(R, n)

    paths, targets = paths_and_targets(net, c, scenario, br, max(1.0, PATH_MIN_SHARE * sys_eq), channel_rounds,
                                       chl[:, CHANNELS.index("shock")])
    nodes = _nodes(net, c, br, paths, raw_at_default, targets)
    summary = summary_table(net, c, br, sys_eq, R, scenario.round_hours, chl)
    with prekeyed("rounds"):
        return CascadeResult(
            rounds=rounds, prices=prices, totals=totals, nodes=nodes, paths=paths, summary=summary,
            scenario=scenario.model_dump(mode="json"), perps=_perps(c, br),
            meta={"network": net.name, "system_equity_usd": sys_eq,
                  "reference_prices": dict(zip(map(str, c.symbols), map(float, c.P0)))},
        )


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes()


def _final_is_last_round(br, h, s: int) -> bool:
    """Whether scenario ``s``'s final loss and named channel parts are, to the bit, those its last recorded round
    kept (a single recorded run stores its result the round it stops): then the split of the last round's
    row in the ``rounds`` block is :attr:`~core.engine.outcome.BatchResult.loss_by_channel`'s, the same
    operations on the same operands (:func:`_rounds_block`, :func:`core.engine.losses.split_channels`)."""
    if not _same_bits(br.loss[s], h["loss"][s][-1]):
        return False
    parts = _named_parts(h, s)
    return all(_same_bits(br.channel_parts[ch][s], parts[ch][-1]) for ch in parts)


def _row_sums(h, key: str, s: int, R: int) -> np.ndarray:
    """``h[key][s].sum(1)``: each round's sum over its row, a recorded-sparse row made dense in one reused
    buffer first (the same additions, zeros included)."""
    rec = sparse_record(h, key)
    if rec is None:
        return h[key][s].sum(1)
    buf = np.empty(rec.size // rec.shape[0])
    return np.array([rec.dense_row(s, r, out=buf).sum() for r in range(R)])


def _named_parts(h, s: int) -> dict[str, np.ndarray]:  # (R, n) each, in the engine's order
    return {ch: v[s] for ch, v in h.parts().items()}


#: Recorded history arrays that are columns of ``rounds`` (the named channels' parts before their scaling).
_RECORDED_COLUMNS = {"equity": "equity_usd", "loss": "loss_usd", "liquidated": "liquidated_usd", "bad_debt": "bad_debt_usd",
                     "bad_reference": "bad_debt_reference_usd",
                     **{f"part_{ch}": f"loss_{ch}_usd" for ch in CHANNELS if ch != "market"}}


def rounds_storage(horizon: int, n: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A block for the float columns of ``rounds`` with room for ``horizon`` rounds, and the history arrays
    recorded straight into its rows, (1, horizon, n) each (rounds never run are never touched; in small pages,
    :func:`~core.pages.written_once`); the status codes (0-3, :data:`~core.results.STATUSES`) in one byte each
    (the table reads them as strings: an int64 history was 16 MB of fresh memory at 100,000 entities and 20 rounds).
    The named channels' parts are recorded unscaled, as every recorded run keeps them (its history's ``channels``
    and ``channels_raw`` are built from them), and split over the channels after the run (:func:`_rounds_block`).
    (From 65,536 entities each round was once split as it was recorded, its rows still in cache: its history then
    had no unscaled parts. The split after the run costs 12-18 ms CPU at 100,000 entities and 20 rounds; in
    ``core.simulate`` there, 0.88 s CPU before, 0.87 s after, within the noise, and 9 MB less peak memory, session 20.)"""
    block = written_once((len(_ROUND_FLOATS), horizon * n))
    into = {k: block[_ROUND_FLOATS.index(col)].reshape(1, horizon, n) for k, col in _RECORDED_COLUMNS.items()}
    into["status"] = written_once((1, horizon, n), np.int8)
    return block, into


#: Elements of the ``rounds`` block :func:`_rounds_block` splits over the channels at a time (its two buffers').
SPLIT_CHUNK = 65_536


def _rounds_block(h, s: int, R: int, n: int, block: np.ndarray | None = None, sums: np.ndarray | None = None) -> np.ndarray:
    """The float columns of ``rounds`` as one (columns, rounds x entities) block: the recorded equity, loss,
    liquidations and bad debt (marked, and at reference prices), then each channel's loss. The channels split the loss as
    :func:`core.engine.outcome.split_channels` does (the named parts and "market", the loss none of them
    explains, scaled to add up to the loss), element by element the same operations, in place.

    A run recorded into ``block`` (:func:`rounds_storage`) already holds the recorded columns: they are split
    there, in place (the history's named parts, which are those rows, are then scaled: read its ``channels`` and
    ``channels_raw`` before). Otherwise a block is allocated, the recorded columns are copied in and split here.
    ``sums`` (1 + channels, R), when given, gets each round's loss and its channels' summed over the entities as the
    rounds are split (their rows still in cache), each the same ``.sum(1)`` of the round's row as the whole
    (R, n) array's."""
    recorded = block is not None and all(h.arrays.get(k) is not None and np.may_share_memory(h.arrays[k], block)
                                         for k in _RECORDED_COLUMNS)
    if block is None or not recorded:
        block = written_once((len(_ROUND_FLOATS), R * n))
        for key, col in _RECORDED_COLUMNS.items():
            block[_ROUND_FLOATS.index(col)].reshape(R, n)[:] = h[key][s] if key in h else h.arrays[key][s]
    assert block is not None
    block = block[:, :R * n]

    def row(col: str) -> np.ndarray:
        return block[_ROUND_FLOATS.index(col)].reshape(R, n)

    from .engine.losses import split_in_place

    losses, markets = row("loss_usd"), row("loss_market_usd")
    channels = [row(f"loss_{ch}_usd") for ch in CHANNELS if ch != "market"]  # the engine's NAMED_CHANNELS order
    summed = [losses] + [row(f"loss_{ch}_usd") for ch in CHANNELS]
    # a few rounds at a time in two reused buffers of ~SPLIT_CHUNK elements (a (rounds, entities) temporary was
    # fresh memory to fault in: 16 MB at 100,000 entities and 20 rounds)
    step = max(1, SPLIT_CHUNK // max(n, 1))
    named_buffer, positive_buffer = np.empty((min(step, R), n)), np.empty((min(step, R), n), bool)
    for r in range(0, R, step):  # rounds (a handful), each chunk a vectorised pass over its elements
        rows = slice(r, r + step)
        loss = losses[rows]
        split_in_place(loss, markets[rows], [p[rows] for p in channels], named_buffer[:len(loss)], positive_buffer[:len(loss)])
        if sums is not None:
            for i, x in enumerate(summed):
                sums[i, rows] = x[rows].sum(1)
    return block


def _perps(c, br) -> pd.DataFrame:
    """``CascadeResult.perps``: one row per perpetuals venue and round (empty without positions)."""
    flow = br.history["perps_flow"][0]  # (R, V, 7)
    R, V = flow.shape[:2]
    if c.perps is None or V == 0:
        return empty_perps()
    venues = np.asarray(c.ids)[c.perps.venue_entity].astype(object)
    out = pd.DataFrame({"venue": np.tile(venues, R), "round": np.repeat(np.arange(R, dtype=np.int64), V)})
    for i, col in enumerate(PERPS_COLUMNS[2:]):
        out[col] = flow[:, :, i].ravel()
    return out


def _nodes(net: Network, c, br, paths: pd.DataFrame, raw_at_default: np.ndarray,
           targets: np.ndarray | None = None) -> pd.DataFrame:
    s = 0
    h = br.history
    dr = br.default_round[s]
    final_status = h["status"][s][-1]
    cause, caused_by = causes_at_default(c, dr, raw_at_default, paths, targets)
    e0 = c.E0
    loss = br.loss[s]
    # the string columns made str arrays without inference (inferred_strings: every value is a str object)
    own = entity_columns(net, c)
    return pd.DataFrame(
        {
            "entity": inferred_strings(np.asarray(c.ids, dtype=object)),
            # the entities' own columns, their strings inferred once per network (entity_columns)
            "name": own["name"],
            "type": own["type"],
            "region": own["region"],
            "initial_equity_usd": e0,
            "final_equity_usd": br.equity[s],
            "loss_usd": loss,
            "loss_share": loss_shares(loss, e0, c.equity_floor),
            "status": inferred_strings(np.array(STATUSES, dtype=object)[final_status]),
            "default_round": dr,
            "cause": inferred_strings(cause),
            "caused_by": inferred_strings(caused_by),
            # pass-through entities (core.mechanisms.pass_through): what their owners bear, and its share
            "haircut": br.supplier_haircut[s],
            "supplier_haircut_usd": br.supplier_haircut_usd[s],
        }
    )


def _raw_channels_at(h, s: int, default_round: np.ndarray) -> np.ndarray:
    """Unscaled channel losses (the named parts and "market") of each defaulted entity in its default round,
    (defaulted, channels): ``history["channels_raw"]`` at those elements only."""
    failed = np.flatnonzero(default_round >= 0)

    def at(v: np.ndarray) -> np.ndarray:
        """``v[default_round[failed], failed]`` of a (rounds, entities) array: one gather at flat positions when it is
        contiguous (58,564 elements of 2,000,000 at synthetic(100k): 0.15 ms against 0.43 for the pair of indices)."""
        if v.flags.c_contiguous:
            return np.take(v.reshape(-1), default_round[failed].astype(np.intp) * v.shape[1] + failed)
        return v[default_round[failed], failed]

    parts = {ch: at(v) for ch, v in _named_parts(h, s).items()}
    raw = np.zeros((len(failed), len(CHANNELS)))
    for ch, v in parts.items():
        raw[:, CHANNELS.index(ch)] = v
    raw[:, CHANNELS.index("market")] = np.maximum(at(h["loss"][s]) - sum(parts.values()), 0.0)
    return raw


def _causes(c, default_round: np.ndarray, channels_raw: np.ndarray, paths: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """:func:`causes_at_default` from the whole (rounds, entities, channels) unscaled history."""
    failed = np.flatnonzero(default_round >= 0)
    return causes_at_default(c, default_round, channels_raw[default_round[failed], failed], paths)


def causes_at_default(c, default_round: np.ndarray, chans: np.ndarray, paths: pd.DataFrame,
                      targets: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each defaulted entity's ``cause`` (the channel of its largest unscaled loss in its default
    round, ``chans``: (defaulted, channels)) and ``caused_by`` (the source of its largest incoming path of
    that channel up to that round; failing one, of any channel; failing any, ``SHOCK``). Entities never
    defaulted get "". ``targets``: each path's target's row among the entities, -1 where none
    (:func:`~core.report_paths.paths_and_targets`); looked up from the paths' target strings when not given.

    One pass over the paths table (a sort and a group), not one filter per defaulted entity:
    ties in amount go to the path listed last in ``paths``.
    """
    n = len(default_round)
    # np.repeat of one "": np.full's values, without its element-by-element fill of an object array (0.36 ms against 0.72)
    cause = np.repeat(np.array([""], dtype=object), n)
    caused_by = cause.copy()
    failed = np.flatnonzero(default_round >= 0)
    if not len(failed):
        return cause, caused_by
    # Unscaled channel losses: an entity with no equity to lose still has a cause.
    ch = np.where(chans.sum(1) > 0, np.argmax(chans, 1), CHANNELS.index("shock"))
    cause[failed] = np.array(CHANNELS, dtype=object)[ch]
    caused_by[failed] = "SHOCK"
    channel_of = np.full(n, -1)
    channel_of[failed] = ch
    # only the defaulted entities' rows count: targets looked up among all ids (ids are unique) in the network's
    # index, hashed once per network (an index of the defaulted ids alone was hashed again each run: 58,564 ids at
    # synthetic(100k)), then kept where they defaulted
    target = _id_index(c).get_indexer(paths["target"].to_numpy()) if targets is None else targets
    known = target >= 0
    known[known] = default_round[target[known]] >= 0
    rows = np.flatnonzero(known)
    target = target[known]
    keep = paths["round"].to_numpy()[rows] <= default_round[target]
    rows, target = rows[keep], target[keep]
    if not len(rows):
        return cause, caused_by
    channel = pd.Index(CHANNELS).get_indexer(paths["channel"].to_numpy()[rows])
    preferred = channel == channel_of[target]
    amount = paths["amount_usd"].to_numpy()[rows]
    # The last row of each target after sorting by (target, preferred, amount, position) wins.
    order = np.lexsort((rows, amount, preferred, target))
    last = order[np.r_[target[order][1:] != target[order][:-1], True]]
    caused_by[target[last]] = paths["source"].to_numpy()[rows[last]].astype(str)
    return cause, caused_by
