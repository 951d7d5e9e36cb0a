"""The report as it was before the single-pass tables (kept as the reference the tests compare with; the
parts the one-pass report left unchanged -- causes, perps, summary -- are imported from core.report, not copied).

:func:`reference_tables` is the old ``core.report.build_result`` and ``core.results.keyed``: it builds
every table of a recorded run from the dense per-round history (``channels``, the (rounds, entities,
assets) price losses, the (rounds, edges) write-downs), one pass per table, and indexes the tables with
``MultiIndex.from_arrays``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.network import Network
from core.report import _causes, _perps  # unchanged by the one-pass report: not copied
from core.report_summary import summary_table
from core.results import CHANNELS, EQUITY_FLOOR_SHARE, EQUITY_FLOOR_USD, MAKER_HISTORY, STATUSES, INDEX_KEYS
from core.scenario import Scenario

#: Contagion edges smaller than this share of system equity are left out of ``paths``.
PATH_MIN_SHARE = 1e-5
_PATH_COLUMNS = ["source", "target", "round", "channel", "amount_usd"]

_SUPPLIER_DEBTORS = ("lending_protocol", "cdp_protocol", "amm_pool", "liquid_staking")


def reference_tables(net: Network, scenario: Scenario, br, c) -> dict[str, pd.DataFrame]:
    """The tables of the first scenario of a recorded batch run ``br`` of the compiled network ``c``, keyed
    as :class:`~core.results.CascadeResult` keys them."""
    h = br.history
    R = h["equity"].shape[1]
    s = 0  # single scenario
    sys_eq = br.system_equity
    status_names = np.array(STATUSES, dtype=object)
    rounds = _rounds_table(R, c.ids, h, status_names, s)
    ch = h["channels"][s]  # (R, n, C)
    prices = pd.DataFrame(h["prices"][s], columns=list(c.symbols))
    prices.insert(0, "round", np.arange(R))

    # the summary's total, round by round (core.engine.outcome.store): MKR holders' recapitalisation,
    # outside perpetuals traders' margin kept at liquidation and Sai's PETH holders' cover count as they accrue
    total = (h["loss"][s].sum(1) + h["outside"][s] + h["ins_draw"][s].sum(1)
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
            "bad_debt_reference_usd": h["bad_reference"][s].sum(1),
            **{f"loss_{name}_usd": ch[:, :, i].sum(1) for i, name in enumerate(CHANNELS)},
        }
    )

    paths = _paths(net, c, scenario, br, sys_eq)
    nodes = _nodes(net, c, br, paths)
    summary = summary_table(net, c, br, sys_eq, R, scenario.round_hours)
    tables = dict(rounds=rounds, prices=prices, totals=totals, nodes=nodes, paths=paths, summary=summary,
                  perps=_perps(c, br))
    return {k: _keyed(v, INDEX_KEYS[k]) if k in INDEX_KEYS else v for k, v in tables.items()}


def reference_equity_floors(net: Network) -> pd.Series:
    """Each entity's floor of initial equity, USD, by entity id, from the network's own tables (not the compiled
    network's ``equity_floor``, the code it checks): max($0.50, 1e-6 x gross assets), the gross assets at the
    assets table's reference prices as ``core.results.equity_floors`` and docs/invariants.md ("Session 37 (lead)")
    define them: tokens held (holdings x price), loan book (a protocol's cohorts' debt x its debt token's price),
    deposit claims and network claims (every exposure's amount the entity holds as creditor, less its secured
    part: the collateral pledged at reference prices, up to the amount), other assets."""
    ent, h, loans, x = net.entities, net.holdings, net.cohorts, net.exposures
    price = pd.Series(net.assets["price_usd"].to_numpy(dtype=float), index=net.assets["symbol"])
    amount = x["amount_usd"].to_numpy(dtype=float)
    pledged = np.nan_to_num(x["collateral_amount"].to_numpy(dtype=float)) * x["collateral_asset"].map(price).fillna(0.0)
    terms = {
        "tokens held": (h["entity"], h["amount"].to_numpy(dtype=float) * h["asset"].map(price).to_numpy()),
        "loan book": (loans["protocol"], loans["debt_amount"].to_numpy(dtype=float) * loans["debt_asset"].map(price).to_numpy()),
        "claims": (x["creditor"], amount - np.minimum(amount, pledged.to_numpy())),
        "other assets": (ent["id"], ent["other_assets_usd"].to_numpy(dtype=float)),
    }
    rows = pd.concat([pd.DataFrame({"entity": who.to_numpy(), "usd": usd}) for who, usd in terms.values()])
    gross = rows.groupby("entity")["usd"].sum().reindex(ent["id"], fill_value=0.0).to_numpy()
    return pd.Series(np.maximum(EQUITY_FLOOR_USD, EQUITY_FLOOR_SHARE * gross), index=pd.Index(ent["id"], name="entity"),
                     name="equity_floor_usd")

def _keyed(df: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    if not all(k in df.columns for k in keys):
        return df
    index = pd.Index(df[keys[0]].to_numpy()) if len(keys) == 1 else pd.MultiIndex.from_arrays([df[k].to_numpy() for k in keys])
    return df.set_axis(index, axis=0)


def _rounds_table(R: int, ids: np.ndarray, h, status_names: np.ndarray, s: int) -> pd.DataFrame:
    """``rounds``: one row per (round, entity). The float columns are written once into one (columns, rows)
    block that becomes the table's block as it is (a dict of columns was copied again by pandas'
    consolidation: a second pass over ~10 columns of rounds x entities rows)."""
    n = len(ids)
    ch = h["channels"][s]  # (R, n, C)
    floats = ["equity_usd", "loss_usd", "liquidated_usd", "bad_debt_usd", "bad_debt_reference_usd",
              *(f"loss_{name}_usd" for name in CHANNELS)]
    block = np.empty((len(floats), R * n))
    recorded = ("equity", "loss", "liquidated", "bad_debt", "bad_reference")
    for i, key in enumerate(recorded):
        block[i].reshape(R, n)[:] = h[key][s]
    for i in range(len(CHANNELS)):
        block[len(recorded) + i].reshape(R, n)[:] = ch[:, :, i]
    out = pd.DataFrame(block.T, columns=floats, copy=False)
    out.insert(0, "round", np.repeat(np.arange(R), n))
    out.insert(1, "entity", np.tile(ids, R))
    out.insert(3, "status", status_names[h["status"][s].ravel()])
    return out


def _paths(net: Network, c, scenario: Scenario, br, sys_eq: float) -> pd.DataFrame:
    h = br.history
    s = 0
    thr = max(1.0, PATH_MIN_SHARE * sys_eq)
    out: list[tuple[str, str, int, str, float]] = []

    # The shock itself.
    sym = list(map(str, c.symbols))
    hl, hold_entity, hold_asset = _price_losses(c, h, s)
    asset_loss = _by_asset(hl, hold_asset, len(sym))  # (R, k) new price losses per asset
    hold0 = asset_loss[0]  # (k,)
    shocked = set(scenario.price_shocks) | set(scenario.depegs) | set(scenario.pool_sales_usd)
    for a in sorted(shocked):
        out.append(("SHOCK", a, 0, "shock", float(max(hold0[sym.index(a)], 0.0))))
    for e in scenario.forced_defaults:
        i = int(np.flatnonzero(c.ids == e)[0])
        out.append(("SHOCK", e, 0, "shock", float(br.loss_by_channel[s, i, CHANNELS.index("shock")])))

    ids = np.asarray(c.ids).astype(str)
    sym_arr = np.asarray(sym, dtype=object)
    parts = [pd.DataFrame(out, columns=_PATH_COLUMNS)]

    def add(source, target, round_, channel: str, amount) -> None:
        parts.append(pd.DataFrame({"source": np.asarray(source, dtype=object), "target": np.asarray(target, dtype=object),
                                   "round": np.asarray(round_, dtype=np.int64), "channel": channel,
                                   "amount_usd": np.asarray(amount, dtype=float)}))

    # Market: an asset's price fall costs its holders.
    r_, p_ = np.nonzero(hl >= thr)
    add(sym_arr[hold_asset[p_]], ids[hold_entity[p_]], r_, "market", hl[r_, p_])
    # What moved a price that the scenario did not shock: a pool token follows its counter asset,
    # a backing token its algorithmic stablecoin's redemptions, an issuer's token its issuer.
    R = asset_loss.shape[0]
    drivers: dict[int, list[str]] = {}
    pool_assets = list(c.pool_asset)
    for asset in range(len(sym)):
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
    parts.append(pd.DataFrame(moved, columns=_PATH_COLUMNS))
    # Sales that moved prices: sold USD per asset per round, from the selling side.
    sold = h["sold"][s]
    # Credit: a defaulted debtor's shortfall is its creditors' write-down.
    r_, j_, el = _edge_writedowns(c, h, s, thr)
    add(ids[c.edge_debtor[j_]], ids[c.edge_creditor[j_]], r_, "default", el)
    dl = _deltas(h["dep_loss"][s])
    r_, j_ = np.nonzero(dl >= thr)
    add(ids[c.ik_debtor[j_]], ids[c.ik_creditor[j_]], r_, "default", dl[r_, j_])
    # Bad debt: a collateral asset's fall leaves a protocol with debt its collateral no longer covers.
    cb = h["cohort_bad"][s]  # per round, not cumulative
    if cb.size:
        r_, q_ = np.nonzero(cb > 0)
        agg: dict[tuple[str, str, int], float] = {}
        for round_, q in zip(map(int, r_), map(int, q_)):
            key = (sym[c.c_ca[q]], str(c.ids[c.c_proto[q]]), round_)
            agg[key] = agg.get(key, 0.0) + float(cb[round_, q])
        parts.append(pd.DataFrame([(a, p, r, "bad_debt", v) for (a, p, r), v in agg.items() if v >= thr], columns=_PATH_COLUMNS))
    # Liquidation losses of named borrowers (from their first cohort's protocol) and run losses
    # (from their largest depositor), from the channel increments.
    chd = _deltas(h["channels"][s])  # (R, n, C)
    li = CHANNELS.index("liquidation")
    r_, i_ = np.nonzero(chd[:, :, li] >= thr)
    src = _first_per_key(c.c_borrower, np.zeros(len(c.c_borrower)), c.c_proto, c.n)
    add(np.where(src[i_] >= 0, ids[np.maximum(src[i_], 0)], "LIQUIDATION"), ids[i_], r_, "liquidation", chd[r_, i_, li])
    ri = CHANNELS.index("run")
    r_, i_ = np.nonzero(chd[:, :, ri] >= thr)
    src = _first_per_key(c.ik_debtor, -np.asarray(c.ik_amount, dtype=float), c.ik_creditor, c.n)
    add(np.where(src[i_] >= 0, ids[np.maximum(src[i_], 0)], "RUN"), ids[i_], r_, "run", chd[r_, i_, ri])
    # Sellers of each asset per round are summarised as protocol -> asset liquidation edges:
    # the protocol's collateral asset sold most that round (the first such, in asset order).
    lp = h["liq_by_proto"][s]
    r_, p_ = np.nonzero(lp >= thr)
    if len(r_):
        collateral_of = np.zeros((c.n, len(sym)), bool)
        collateral_of[c.c_proto, c.c_ca] = True
        has = collateral_of[p_].any(1)
        top = np.argmax(np.where(collateral_of[p_], sold[r_], -np.inf), 1)
        add(ids[p_[has]], sym_arr[top[has]], r_[has], "fire_sale", lp[r_[has], p_[has]])
    _perps_paths(c, br, thr, add)
    df = pd.concat([x for x in parts if len(x)], ignore_index=True) if any(len(x) for x in parts) \
        else pd.DataFrame(out, columns=_PATH_COLUMNS)
    df["round"] = df["round"].astype(np.int64)
    df["amount_usd"] = df["amount_usd"].astype(float)
    return df.sort_values(["round", "amount_usd"], ascending=[True, False], kind="stable").reset_index(drop=True)


def _deltas(arr: np.ndarray) -> np.ndarray:
    """Cumulative (R, ...) -> per-round increments, in one pass (no copy first)."""
    d = np.empty_like(arr)
    d[0] = arr[0]
    np.subtract(arr[1:], arr[:-1], out=d[1:])
    return d


def _price_losses(c, h, s: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """New price losses per round of scenario ``s``, ``max(units (P0 - P), 0)`` as increments, (R, n x k)
    with each column's entity and asset (built from the recorded holdings' changes, then differenced in
    place: the same bits as differencing a per-round record)."""
    hl = h.units.price_losses(s, h["prices"][s], c.P0)  # (R, n, k)
    _deltas_in_place(hl)
    R, n, k = hl.shape
    return hl.reshape(R, n * k), np.repeat(np.arange(n), k), np.tile(np.arange(k), n)


def _deltas_in_place(arr: np.ndarray) -> None:
    """Cumulative (R, ...) -> per-round increments, overwriting ``arr`` (last round first)."""
    for r in range(arr.shape[0] - 1, 0, -1):  # rounds, each a vectorised subtraction
        np.subtract(arr[r], arr[r - 1], out=arr[r])


def _by_asset(hl: np.ndarray, asset: np.ndarray, k: int) -> np.ndarray:
    """(R, k): the increments (R, n x k) summed over entities, as a sum over the entity axis of (R, n, k)."""
    R = hl.shape[0]
    return hl.reshape(R, -1, k).sum(1)


def _edge_writedowns(c, h, s: int, thr: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-edge write-downs of scenario ``s`` of at least ``thr`` in a round: (round, edge, amount), in
    (round, edge) order. An edge's write-down is ``amount x short[debtor]`` (its debtor's unpaid share),
    built for every round at once and differenced in place."""
    short = h.arrays["short"][s]  # (R, n)
    # edges whose debtor never fell short write nothing down in any round: left out (the rest keep their order)
    edges = np.flatnonzero((short != 0).any(0)[c.edge_debtor])
    el = c.edge_amount[edges][None] * np.take(short, c.edge_debtor[edges], axis=1)  # (R, edges), row-major
    _deltas_in_place(el)
    r_, e_ = np.nonzero(el >= thr)
    return r_, edges[e_], el[r_, e_]


def _perps_paths(c, br, thr: float, add) -> None:
    """Contagion paths of the perpetuals venues: ``adl`` (venue -> a named account whose profit ADL or a
    socialised haircut took), ``insurance`` (venue -> ``INSURANCE``: its fund's draw) and ``backstop``
    (venue -> the backstop vault that paid its deficits)."""
    pc = c.perps
    if pc is None:
        return
    from core.engine.perps import TOTALS

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


def _first_per_key(key: np.ndarray, rank: np.ndarray, value: np.ndarray, n: int) -> np.ndarray:
    """For each key in ``0..n-1``, ``value`` at its row of smallest ``rank`` (ties: the first row),
    or -1 where the key has no row (negative keys are ignored)."""
    first = np.full(n, -1)
    ok = np.flatnonzero(np.asarray(key) >= 0)
    if len(ok):
        order = ok[np.lexsort((ok, np.asarray(rank)[ok], np.asarray(key)[ok]))]
        k_sorted = np.asarray(key)[order]
        head = np.r_[True, k_sorted[1:] != k_sorted[:-1]]
        first[k_sorted[head]] = np.asarray(value)[order[head]]
    return first


def _nodes(net: Network, c, br, paths: pd.DataFrame) -> pd.DataFrame:
    s = 0
    h = br.history
    ent = net.entities
    dr = br.default_round[s]
    final_status = h["status"][s][-1]
    cause, caused_by = _causes(c, dr, h["channels_raw"][s], paths)
    e0 = c.E0
    floor = reference_equity_floors(net).to_numpy()  # from the network's own tables, not the compiled network's
    loss = br.loss[s]
    return pd.DataFrame(
        {
            "entity": c.ids,
            "name": ent["name"].to_numpy(),
            "type": ent["type"].to_numpy(),
            "region": ent["region"].to_numpy(),
            "initial_equity_usd": e0,
            "final_equity_usd": br.equity[s],
            "loss_usd": loss,
            # no equity below the entity's floor (EQUITY_FLOOR_USD, or a millionth of its book: a remainder of
            # floating point or of the data's rounding): no share of it
            "loss_share": np.where(e0 >= floor, loss / np.where(e0 >= floor, e0, 1.0), 0.0),
            "status": np.array(STATUSES, dtype=object)[final_status],
            "default_round": dr,
            "cause": cause,
            "caused_by": caused_by,
            # pass-through entities (core.mechanisms.pass_through): what their owners bear, and its share
            "haircut": br.supplier_haircut[s],
            "supplier_haircut_usd": br.supplier_haircut_usd[s],
        }
    )
