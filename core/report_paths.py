"""The ``paths`` table of :class:`core.results.CascadeResult`: who carried each loss to whom, round by round.

Built from a recorded run in one pass per round over what changed (the report used to materialise
price losses by round x entity x asset and write-downs by round x edge, then difference them):

- price losses ``max(units (P0 - P), 0)`` of each (entity, asset) are computed round by round in one
  reused (entities, assets) buffer and differenced against the last round's;
- a network edge's write-down ``amount x short[debtor]`` changes only where its debtor's unpaid share
  changed: only those debtors' edges are visited.

Each kept element is the same floating-point operation on the same operands as before, and rows come
out in the same order, so the table is identical to the bit (``tests/test_report_single_pass.py``
compares it with the old report kept in ``tests/report_reference.py``).
"""

from __future__ import annotations

import weakref
from typing import Any, Callable

import numpy as np
import pandas as pd

from .network import Network
from .report_entities import entity_rows
from .report_rounds import inferred_strings
from .results import CHANNELS
from .scenario import Scenario

PATH_COLUMNS = ["source", "target", "round", "channel", "amount_usd"]


def build_paths(net: Network, c, scenario: Scenario, br, thr: float,
                channel_rounds: Callable[[str], np.ndarray], shock_ch: np.ndarray | None = None) -> pd.DataFrame:
    """Contagion edges of at least ``thr`` USD of the first scenario of the recorded run ``br``;
    ``channel_rounds(name)`` gives a channel's (rounds, entities) cumulative scaled losses, ``shock_ch`` each
    entity's final loss in the "shock" channel (``br.loss_by_channel``'s, computed again when not given)."""
    return paths_and_targets(net, c, scenario, br, thr, channel_rounds, shock_ch)[0]


def paths_and_targets(net: Network, c, scenario: Scenario, br, thr: float, channel_rounds: Callable[[str], np.ndarray],
                      shock_ch: np.ndarray | None = None) -> tuple[pd.DataFrame, np.ndarray | None]:
    """:func:`build_paths` and each row's target's row among the entities (-1: none), what
    ``_id_index(c).get_indexer(paths["target"])`` gives, known where the target was picked by its row (looked up
    by its string elsewhere: 17,201 strings in a 100,000-entity table at synthetic(100k), 3-4 ms CPU); None for
    a table sorted by pandas (a NaN amount)."""
    h = br.history
    s = 0
    out: list[tuple[str, str, int, str, float]] = []

    # The shock itself.
    sym = list(map(str, c.symbols))
    ids, liq_src, run_src, exact = _network_terms(c)
    sym_arr = np.asarray(sym, dtype=object)
    sym_rows = entity_rows(c, sym_arr)
    r_m, ent_m, asset_m, amount_m, asset_loss = price_loss_paths(c, h, s, thr)  # asset_loss: (R, k) new losses per asset
    hold0 = asset_loss[0]  # (k,)
    shocked = set(scenario.price_shocks) | set(scenario.depegs) | set(scenario.pool_sales_usd)
    for a in sorted(shocked):
        out.append(("SHOCK", a, 0, "shock", float(max(hold0[sym.index(a)], 0.0))))
    if scenario.forced_defaults:
        # the network's id index (c.ids is its entities' order), its hash table kept from validation
        pos = net.entity_pos(list(scenario.forced_defaults))
        if shock_ch is None:
            shock_ch = br.loss_by_channel[s, :, CHANNELS.index("shock")]
        out += [("SHOCK", e, 0, "shock", float(shock_ch[i])) for e, i in zip(scenario.forced_defaults, map(int, pos))]

    parts: list[tuple[np.ndarray, ...]] = []  # the columns of each group of rows, made one table at the end

    def add(source, target, round_, channel, amount, rows=None) -> None:
        """A group of rows; ``rows``: their targets' entity rows when known (the ids picked by row are the entities' own
        when their fixed-width strings lost nothing, ``exact``), else looked up."""
        round_ = np.asarray(round_, dtype=np.int64)
        target = np.asarray(target, dtype=object)
        parts.append((np.asarray(source, dtype=object), target, round_,
                      np.broadcast_to(np.asarray(channel, dtype=object), round_.shape), np.asarray(amount, dtype=float),
                      entity_rows(c, target) if rows is None else np.asarray(rows, dtype=np.intp)))

    def add_rows(rows: list[tuple[str, str, int, str, float]]) -> None:
        if rows:
            add(*(np.array(col, dtype=object) for col in zip(*rows)))

    add_rows(out)

    # Market: an asset's price fall costs its holders.
    add(sym_arr[asset_m], ids[ent_m], r_m, "market", amount_m, ent_m if exact else None)
    # What moved a price that the scenario did not shock: a pool token follows its counter asset,
    # a backing token its algorithmic stablecoin's redemptions, an issuer's token its issuer.
    R = asset_loss.shape[0]
    drivers: dict[int, list[str]] = {}
    pool_assets = list(c.pool_asset)
    for asset in range(len(sym)):  # assets (a handful)
        ds = []
        if asset in pool_assets:
            cu = c.pool_counter[pool_assets.index(asset)]
            if cu >= 0:
                ds.append(sym[cu])
        ds += [sym[x] for x in np.flatnonzero((c.backing == asset) & (c.kind == "algorithmic_stable"))]
        if c.issuer[asset] >= 0:
            ds.append(str(c.ids[c.issuer[asset]]))
        drivers[asset] = ds
    moved = []
    for round_ in range(R):
        for asset in map(int, np.flatnonzero(asset_loss[round_] >= thr)):
            if sym[asset] in shocked and round_ == 0:
                continue
            moved += [(d, sym[asset], round_, "market", float(asset_loss[round_, asset])) for d in drivers[asset]]
    add_rows(moved)
    # Credit: a defaulted debtor's shortfall is its creditors' write-down.
    r_, j_, el = edge_writedowns(c, h, s, thr)
    add(ids[c.edge_debtor[j_]], ids[c.edge_creditor[j_]], r_, "default", el, c.edge_creditor[j_] if exact else None)
    dep = sparse_record(h, "dep_loss")
    r_, j_, dl = round_increments(h["dep_loss"][s], thr) if dep is None else sparse_increments(dep, s, thr)
    add(ids[c.ik_debtor[j_]], ids[c.ik_creditor[j_]], r_, "default", dl, c.ik_creditor[j_] if exact else None)
    # Bad debt: a collateral asset's fall leaves a protocol with debt its collateral no longer covers.
    cbs = sparse_record(h, "cohort_bad")
    if cbs is not None:
        if cbs.size:
            add(*_bad_debt_paths(c, _positive_cells(cbs, s), cbs.rounds, sym, thr))
    else:
        cb = h["cohort_bad"][s]  # per round, not cumulative
        if cb.size:
            r_, q_ = np.nonzero(cb > 0)
            add(*_bad_debt_paths(c, (r_, q_, cb[r_, q_]), cb.shape[0], sym, thr))
    # Liquidation losses of named borrowers (from their first cohort's protocol) and run losses
    # (from their largest depositor), from the channel increments.
    r_, i_, v_ = round_increments(channel_rounds("liquidation"), thr)
    src = liq_src
    add(np.where(src[i_] >= 0, ids[np.maximum(src[i_], 0)], "LIQUIDATION"), ids[i_], r_, "liquidation", v_, i_ if exact else None)
    r_, i_, v_ = round_increments(channel_rounds("run"), thr)
    src = run_src
    add(np.where(src[i_] >= 0, ids[np.maximum(src[i_], 0)], "RUN"), ids[i_], r_, "run", v_, i_ if exact else None)
    # Sellers of each asset per round are summarised as protocol -> asset liquidation edges:
    # the protocol's collateral asset sold most that round (the first such, in asset order).
    lp = h["liq_by_proto"][s]
    r_, p_ = np.nonzero(lp >= thr)
    if len(r_):
        sold = h["sold"][s]  # sold USD per asset per round, from the selling side
        collateral_of = np.zeros((c.n, len(sym)), bool)
        collateral_of[c.c_proto, c.c_ca] = True
        has = collateral_of[p_].any(1)
        top = np.argmax(np.where(collateral_of[p_], sold[r_], -np.inf), 1)
        add(ids[p_[has]], sym_arr[top[has]], r_[has], "fire_sale", lp[r_[has], p_[has]], sym_rows[top[has]])
    _perps_paths(c, br, thr, add)
    parts = [x for x in parts if len(x[2])]
    columns = [np.concatenate([x[i] for x in parts]) for i in range(len(PATH_COLUMNS) + 1)] if parts else None
    if columns is None or np.isnan(columns[-2]).any():
        df = pd.DataFrame(dict(zip(PATH_COLUMNS, columns))) if columns is not None else pd.DataFrame(out, columns=PATH_COLUMNS)
        df["round"] = df["round"].astype(np.int64)
        df["amount_usd"] = df["amount_usd"].astype(float)
        return df.sort_values(["round", "amount_usd"], ascending=[True, False], kind="stable").reset_index(drop=True), None
    # by round, then amount descending, ties in row order: sort_values(kind="stable")'s order (no NaN amount here),
    # taken from the arrays before the table is made; the string columns made str arrays without inference
    source, target, round_of, channel, amount, rows = columns
    order = np.lexsort((-amount, round_of))
    return pd.DataFrame({"source": inferred_strings(source[order]), "target": inferred_strings(target[order]),
                         "round": round_of[order], "channel": inferred_strings(channel[order]),
                         "amount_usd": amount[order]}), rows[order]


#: :func:`_network_terms` by compiled network (they depend on the network only: computed once).
_TERMS: "weakref.WeakKeyDictionary[Any, tuple[np.ndarray, np.ndarray, np.ndarray, bool]]" = weakref.WeakKeyDictionary()


def _network_terms(c) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """The entities' ids as str objects (those of their fixed-width str array, made once: picking a path's ids from it
    made 34,000 new str objects a run at synthetic(100k), 1.4 ms); each named borrower's first cohort's protocol (the
    source of its liquidation paths) and each depositor's largest debtor (of its run paths), -1 where none; whether
    those str objects are the ids themselves (a fixed-width array drops an id's trailing NULs)."""
    terms = _TERMS.get(c)
    if terms is None:
        arrays = (np.asarray(c.ids).astype(str).astype(object),
                  first_per_key(c.c_borrower, np.zeros(len(c.c_borrower)), c.c_proto, c.n),
                  first_per_key(c.ik_debtor, -np.asarray(c.ik_amount, dtype=float), c.ik_creditor, c.n))
        for a in arrays:
            a.flags.writeable = False
        terms = _TERMS[c] = (*arrays, bool((arrays[0] == np.asarray(c.ids, dtype=object)).all()))
    return terms


def _positive_cells(rec, s: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(round, column, value) of the positive elements of scenario ``s``'s rounds in a sparse record, in
    (round, column) order: ``np.nonzero(cb > 0)`` of the dense (rounds, columns) array and its values there."""
    rs, qs, vs = [], [], []
    for r, (at, v) in enumerate(rec.row(s)):  # rounds (a handful)
        pos = v > 0
        rs.append(np.full(int(pos.sum()), r))
        qs.append(at[pos])
        vs.append(v[pos])
    return np.concatenate(rs).astype(np.intp), np.concatenate(qs).astype(np.intp), np.concatenate(vs)


def _bad_debt_paths(c, cells: tuple[np.ndarray, np.ndarray, np.ndarray], R: int, sym: list[str],
                    thr: float) -> tuple[Any, ...]:
    """(collateral asset -> protocol) rows' columns: each round's bad debt summed over the cohorts of a pair, in
    the order the pairs first appear (round-major), kept from ``thr``. ``cells``: the (round, cohort, bad
    debt) of each positive cohort bad debt, in (round, cohort) order, over ``R`` rounds."""
    r_, q_, cbv = cells
    if not len(r_):
        return (np.zeros(0, object), np.zeros(0, object), np.zeros(0, np.int64), "bad_debt", np.zeros(0))
    a_, p_ = np.asarray(c.c_ca)[q_], np.asarray(c.c_proto)[q_]
    key = (a_.astype(np.int64) * c.n + p_) * R + r_  # one integer per (asset, protocol, round)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    order = np.argsort(first)  # the pairs in the order they first appear
    group = np.empty(len(first), np.int64)
    group[order] = np.arange(len(first))
    group = group[inverse.ravel()]
    first = first[order]
    total = np.bincount(group, weights=cbv, minlength=len(first))  # in row order, from 0.0, as the old dict
    keep = total >= thr
    rows = first[keep]
    return (np.asarray(sym, dtype=object)[a_[rows]], np.asarray(c.ids)[p_[rows]].astype(str).astype(object),
            r_[rows].astype(np.int64), "bad_debt", total[keep])


def sparse_record(h, key: str):
    """The :class:`~core.engine.sparse_rounds.SparseRounds` a recorded history keeps ``key`` in, or None (dense)."""
    return getattr(getattr(h, "arrays", None), "sparse", {}).get(key)


def sparse_increments(rec, s: int, thr: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`round_increments` of scenario ``s``'s cumulative rounds kept sparse: each round made dense in one
    of two reused buffers and differenced against the last, element by element the same subtraction."""
    width = rec.size // rec.shape[0]
    bufs, diff = (np.empty(width), np.empty(width)), np.empty(width)
    rs, cols, vals = [], [], []
    for r in range(rec.rounds):  # rounds (a handful), each a vectorised pass
        cur = rec.dense_row(s, r, out=bufs[r % 2])
        d = cur if r == 0 else np.subtract(cur, bufs[(r - 1) % 2], out=diff)
        j = np.flatnonzero(d >= thr)
        rs.append(np.full(len(j), r))
        cols.append(j)
        vals.append(d[j])
    return np.concatenate(rs), np.concatenate(cols), np.concatenate(vals)


def round_increments(cum: np.ndarray, thr: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(round, column, increment) of a cumulative (R, m) array's per-round increments of at least ``thr``, in
    (round, column) order: each round differenced in one reused buffer (no (R, m) copy)."""
    R = cum.shape[0]
    buf = np.empty(cum.shape[1:])
    rs, cols, vals = [], [], []
    for r in range(R):  # rounds (a handful), each a vectorised pass
        d = cum[0] if r == 0 else np.subtract(cum[r], cum[r - 1], out=buf)
        j = np.flatnonzero(d >= thr)
        rs.append(np.full(len(j), r))
        cols.append(j)
        vals.append(d[j])
    return np.concatenate(rs), np.concatenate(cols), np.concatenate(vals)


def price_loss_paths(c, h, s: int, thr: float):
    """Scenario ``s``'s new price losses ``max(units (P0 - P), 0)`` round by round: (round, entity, asset,
    amount) of those of at least ``thr`` in (round, entity, asset) order, and their sum over entities per
    round and asset, (R, k). Only the (entity, asset) pairs that ever hold units are visited (the others'
    losses are zero in every round), in (entity, asset) order: each element the same product, clip and
    difference as the old (rounds, n, k) array's, and each sum over entities the same additions in the
    same order (a zero added changes no sum)."""
    P = h["prices"][s]
    k = P.shape[1]
    rounds = h.units.per_round(s)
    units = next(rounds, None)
    if units is None:
        return (np.zeros(0, np.intp),) * 3 + (np.zeros(0), np.zeros((0, k)))
    held = units != 0
    one = h.units.first.shape[0] == 1  # a single scenario's record: every change is its own (no selection to copy)
    for _r, rows, ents, vals in h.units.changes:  # rounds with changes (a handful)
        if one:
            held[ents] |= vals != 0
        else:
            sel = rows == s
            held[ents[sel]] |= vals[sel] != 0
    pos = np.flatnonzero(held)  # (entity, asset) pairs, flat, ascending
    asset = pos % k
    prev = np.zeros(len(pos))
    rs, flat, amounts, by_asset = [], [], [], []
    for r in range(P.shape[0]):  # rounds (a handful), each a vectorised pass over the pairs held
        if r:
            units = next(rounds)
        # np.take: fancy indexing's values, without its iterator (400,000 pairs held at synthetic(100k))
        cur = np.take(units.ravel(), pos) * np.take(c.P0 - P[r], asset)
        np.clip(cur, 0.0, None, out=cur)
        d = cur if r == 0 else cur - prev
        j = np.flatnonzero(d >= thr)
        rs.append(np.full(len(j), r))
        flat.append(pos[j])
        amounts.append(d[j])
        by_asset.append(np.bincount(asset, weights=d, minlength=k))
        prev = cur
    j = np.concatenate(flat)
    return np.concatenate(rs), j // k, j % k, np.concatenate(amounts), np.array(by_asset).reshape(-1, k)


#: :func:`_edge_terms` by compiled network (they depend on the network only: 8 ms a run at synthetic(100k)).
_EDGE_TERMS: "weakref.WeakKeyDictionary[Any, tuple[np.ndarray, np.ndarray]]" = weakref.WeakKeyDictionary()


def _edge_terms(c) -> tuple[np.ndarray, np.ndarray]:
    """Each debtor's edges, ``bounds[d]:bounds[d + 1]`` of the edges in debtor order, and its largest edge's
    absolute amount (0 without edges), computed once per compiled network (each time for a stand-in that cannot
    be weakly referenced)."""
    try:
        terms = _EDGE_TERMS.get(c)
    except TypeError:
        return _edge_bounds(c)
    if terms is None:
        terms = _EDGE_TERMS[c] = _edge_bounds(c)
    return terms


def _edge_bounds(c) -> tuple[np.ndarray, np.ndarray]:
    debtor = np.asarray(c.edge_debtor)
    if len(debtor) and not (np.diff(debtor) >= 0).all():
        raise ValueError("edges are expected in debtor order (the compiled network's CSR order)")
    bounds = np.searchsorted(debtor, np.arange(c.n + 1))
    has = np.flatnonzero(bounds[1:] > bounds[:-1])
    largest = np.zeros(c.n)
    if len(has):
        largest[has] = np.maximum.reduceat(np.abs(c.edge_amount), bounds[has])
    for a in (bounds, largest):
        a.flags.writeable = False
    return bounds, largest


def edge_writedowns(c, h, s: int, thr: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-edge write-downs of scenario ``s`` of at least ``thr`` in a round: (round, edge, amount), in
    (round, edge) order. An edge's write-down is ``amount x short[debtor]`` (its debtor's unpaid share);
    its increment ``amount x short_r - amount x short_(r-1)`` is nonzero only where that share changed, and
    below ``thr`` on every edge of a debtor whose largest edge times the change (plus a rounding margin)
    is: a round computes the increments, exactly as before, on the other debtors' edges only."""
    rec = sparse_record(h, "short")
    short = h.arrays["short"][s] if rec is None else None  # (R, n) when recorded dense
    R = rec.rounds if short is None else short.shape[0]
    bufs = (np.empty(c.n), np.empty(c.n))

    def row(r: int) -> np.ndarray:
        return short[r] if short is not None else rec.dense_row(s, r, out=bufs[r % 2])

    debtor = np.asarray(c.edge_debtor)
    bounds, largest = _edge_terms(c)
    rs, es, vals = [], [], []
    before = np.zeros(c.n)
    for r in range(R):  # rounds (a handful), each vectorised over the changed debtors' edges
        now = row(r)
        moved = np.flatnonzero(now != before)
        # |computed increment| <= largest x (|change| + 4 ulp of |now| + |before|): a debtor below thr is skipped
        bound = largest[moved] * (np.abs(now[moved] - before[moved]) + 1e-15 * (np.abs(now[moved]) + np.abs(before[moved])))
        moved = moved[bound >= thr * (1 - 1e-12)]
        lo, hi = bounds[moved], bounds[moved + 1]
        cnt = hi - lo
        e = np.repeat(lo - (np.cumsum(cnt) - cnt), cnt) + np.arange(cnt.sum())  # their edges, ascending
        amount = c.edge_amount[e]
        v = amount * now[debtor[e]]
        if r > 0:
            v = v - amount * before[debtor[e]]
        keep = v >= thr
        rs.append(np.full(int(keep.sum()), r))
        es.append(e[keep])
        vals.append(v[keep])
        before = now
    return np.concatenate(rs).astype(np.intp), np.concatenate(es).astype(np.intp), np.concatenate(vals)


def _perps_paths(c, br, thr: float, add) -> None:
    """Contagion paths of the perpetuals venues: ``adl`` (venue -> a named account whose profit ADL or a
    socialised haircut took), ``insurance`` (venue -> ``INSURANCE``: its fund's draw) and ``backstop``
    (venue -> the backstop vault that paid its deficits)."""
    pc = c.perps
    if pc is None:
        return
    from .engine.perps import TOTALS

    ids = np.asarray(c.ids).astype(str)
    venue_ids = ids[pc.venue_entity]
    taken = br.history["perps_taken"][0]  # (R, named rows)
    if taken.size:
        rows = pc.named_rows
        key = pd.DataFrame({"venue": np.tile(pc.pb.book.venue[rows], taken.shape[0]),
                            "entity": np.tile(pc.row_entity[rows], taken.shape[0]),
                            "round": np.repeat(np.arange(taken.shape[0]), len(rows)), "usd": taken.ravel()})
        agg = key.groupby(["round", "venue", "entity"], sort=True)["usd"].sum().reset_index()
        agg = agg[agg["usd"] >= thr]
        add(venue_ids[agg["venue"].to_numpy()], ids[agg["entity"].to_numpy()], agg["round"].to_numpy(), "adl", agg["usd"].to_numpy())
    flow = br.history["perps_flow"][0]  # (R, V, 7)
    ins = flow[:, :, TOTALS.index("insurance_draw_usd")]
    r_, v_ = np.nonzero(ins >= thr)
    add(venue_ids[v_], np.full(len(r_), "INSURANCE", dtype=object), r_, "insurance", ins[r_, v_])
    vault = flow[:, :, TOTALS.index("backstop_usd")]
    r_, v_ = np.nonzero((vault >= thr) & (pc.vault_entity >= 0)[None])
    add(venue_ids[v_], ids[pc.vault_entity[v_]], r_, "backstop", vault[r_, v_])


def first_per_key(key: np.ndarray, rank: np.ndarray, value: np.ndarray, n: int) -> np.ndarray:
    """For each key in ``0..n-1``, ``value`` at its row of smallest ``rank`` (ties: the first row),
    or -1 where the key has no row (negative keys are ignored)."""
    first = np.full(n, -1)
    key, rank = np.asarray(key), np.asarray(rank)
    ok = np.flatnonzero(key >= 0)
    if len(ok):
        best = np.full(n, np.inf)
        np.minimum.at(best, key[ok], rank[ok])
        at_best = ok[rank[ok] <= best[key[ok]]]  # rows at their key's smallest rank, ascending
        keys, head = np.unique(key[at_best], return_index=True)  # the first of them per key
        first[keys] = np.asarray(value)[at_best[head]]
    return first
