"""Turning a recorded engine run into the tables of :class:`core.results.CascadeResult`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .network import Network
from .results import CHANNELS, STATUSES, CascadeResult
from .scenario import Scenario

#: Contagion edges smaller than this share of system equity are left out of ``paths``.
PATH_MIN_SHARE = 1e-5

_SUPPLIER_DEBTORS = ("lending_protocol", "cdp_protocol", "amm_pool", "liquid_staking")


def build_result(net: Network, scenario: Scenario, br) -> CascadeResult:
    from .engine import compile_network

    c = compile_network(net)
    h = br.history
    R = h["equity"].shape[1]
    n = c.n
    s = 0  # single scenario
    net.entities.set_index("id")
    sys_eq = br.system_equity
    status_names = np.array(STATUSES, dtype=object)

    # rounds: one row per (round, entity)
    ch = h["channels"][s]  # (R, n, C)
    rounds = pd.DataFrame(
        {
            "round": np.repeat(np.arange(R), n),
            "entity": np.tile(c.ids, R),
            "equity_usd": h["equity"][s].ravel(),
            "status": status_names[h["status"][s].ravel()],
            "loss_usd": h["loss"][s].ravel(),
            "liquidated_usd": h["liquidated"][s].ravel(),
            "bad_debt_usd": h["bad_debt"][s].ravel(),
            **{f"loss_{name}_usd": ch[:, :, i].ravel() for i, name in enumerate(CHANNELS)},
        }
    )
    prices = pd.DataFrame(h["prices"][s], columns=list(c.symbols))
    prices.insert(0, "round", np.arange(R))

    total = h["loss"][s].sum(1) + h["outside"][s] + h["ins_draw"][s].sum(1)
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
            **{f"loss_{name}_usd": ch[:, :, i].sum(1) for i, name in enumerate(CHANNELS)},
        }
    )

    paths = _paths(net, c, scenario, br, sys_eq)
    nodes = _nodes(net, c, br, paths)
    summary = _summary(net, c, br, sys_eq, R, scenario.round_hours)
    return CascadeResult(
        rounds=rounds, prices=prices, totals=totals, nodes=nodes, paths=paths, summary=summary,
        scenario=scenario.model_dump(mode="json"),
        meta={"network": net.name, "system_equity_usd": sys_eq, "reference_prices": dict(zip(map(str, c.symbols), map(float, c.P0)))},
    )


def _paths(net: Network, c, scenario: Scenario, br, sys_eq: float) -> pd.DataFrame:
    h = br.history
    s = 0
    h["equity"].shape[1]
    thr = max(1.0, PATH_MIN_SHARE * sys_eq)
    out: list[tuple[str, str, int, str, float]] = []

    # The shock itself.
    sym = list(map(str, c.symbols))
    hold0 = h["hold_loss"][s][0].sum(0)  # (k,)
    shocked = set(scenario.price_shocks) | set(scenario.depegs) | set(scenario.pool_sales_usd)
    for a in shocked:
        out.append(("SHOCK", a, 0, "shock", float(max(hold0[sym.index(a)], 0.0))))
    for e in scenario.forced_defaults:
        i = int(np.flatnonzero(c.ids == e)[0])
        out.append(("SHOCK", e, 0, "shock", float(br.loss_by_channel[s, i, CHANNELS.index("shock")])))

    def deltas(arr):  # cumulative (R, ...) -> per-round increments
        d = arr.copy()
        d[1:] -= arr[:-1]
        return d

    # Market: an asset's price fall costs its holders.
    hl = deltas(h["hold_loss"][s])  # (R, n, k)
    r_, i_, a_ = np.nonzero(hl >= thr)
    out += [(sym[a], str(c.ids[i]), int(r), "market", float(hl[r, i, a])) for r, i, a in zip(r_, i_, a_)]
    # What moved a price that the scenario did not shock: a pool token follows its counter asset,
    # a backing token its algorithmic stablecoin's redemptions, an issuer's token its issuer.
    asset_loss = hl.sum(1)  # (R, k) new price losses per asset
    R = asset_loss.shape[0]
    drivers: dict[int, list[str]] = {}
    for a in range(len(sym)):
        ds = []
        if a in set(c.pool_asset):
            cu = c.pool_counter[list(c.pool_asset).index(a)]
            if cu >= 0:
                ds.append(sym[cu])
        ds += [sym[x] for x in np.flatnonzero((c.backing == a) & (c.kind == "algorithmic_stable"))]
        if c.issuer[a] >= 0:
            ds.append(str(c.ids[c.issuer[a]]))
        drivers[a] = ds
    for r in range(R):
        for a in np.flatnonzero(asset_loss[r] >= thr):
            if sym[a] in shocked and r == 0:
                continue
            out += [(d, sym[a], r, "market", float(asset_loss[r, a])) for d in drivers[a]]
    # Sales that moved prices: sold USD per asset per round, from the selling side.
    sold = h["sold"][s]
    # Credit: a defaulted debtor's shortfall is its creditors' write-down.
    el = deltas(h["edge_loss"][s])
    r_, j_ = np.nonzero(el >= thr)
    out += [(str(c.ids[c.edge_debtor[j]]), str(c.ids[c.edge_creditor[j]]), int(r), "default", float(el[r, j])) for r, j in zip(r_, j_)]
    dl = deltas(h["dep_loss"][s])
    r_, j_ = np.nonzero(dl >= thr)
    out += [(str(c.ids[c.ik_debtor[j]]), str(c.ids[c.ik_creditor[j]]), int(r), "default", float(dl[r, j])) for r, j in zip(r_, j_)]
    # Bad debt: a collateral asset's fall leaves a protocol with debt its collateral no longer covers.
    cb = h["cohort_bad"][s]  # per round, not cumulative
    if cb.size:
        r_, q_ = np.nonzero(cb > 0)
        agg: dict[tuple[str, str, int], float] = {}
        for r, q in zip(r_, q_):
            key = (sym[c.c_ca[q]], str(c.ids[c.c_proto[q]]), int(r))
            agg[key] = agg.get(key, 0.0) + float(cb[r, q])
        out += [(a, p, r, "bad_debt", v) for (a, p, r), v in agg.items() if v >= thr]
    # Liquidation losses of named borrowers and run losses, from the channel increments.
    chd = deltas(h["channels"][s])  # (R, n, C)
    li = CHANNELS.index("liquidation")
    r_, i_ = np.nonzero(chd[:, :, li] >= thr)
    for r, i in zip(r_, i_):
        protos = c.c_proto[c.c_borrower == i]
        src = str(c.ids[protos[0]]) if len(protos) else "LIQUIDATION"
        out.append((src, str(c.ids[i]), int(r), "liquidation", float(chd[r, i, li])))
    ri = CHANNELS.index("run")
    r_, i_ = np.nonzero(chd[:, :, ri] >= thr)
    for r, i in zip(r_, i_):
        deps = c.ik_creditor[c.ik_debtor == i]
        amts = c.ik_amount[c.ik_debtor == i]
        src = str(c.ids[deps[np.argmax(amts)]]) if len(deps) else "RUN"
        out.append((src, str(c.ids[i]), int(r), "run", float(chd[r, i, ri])))
    # Sellers of each asset per round are summarised as protocol -> asset liquidation edges.
    lp = h["liq_by_proto"][s]
    r_, p_ = np.nonzero(lp >= thr)
    for r, p in zip(r_, p_):
        mine = c.c_proto == p
        assets = np.unique(c.c_ca[mine])
        a = assets[np.argmax([sold[r, x] for x in assets])] if len(assets) else None
        if a is not None:
            out.append((str(c.ids[p]), sym[a], int(r), "fire_sale", float(lp[r, p])))
    df = pd.DataFrame(out, columns=["source", "target", "round", "channel", "amount_usd"])
    return df.sort_values(["round", "amount_usd"], ascending=[True, False], kind="stable").reset_index(drop=True)


def _nodes(net: Network, c, br, paths: pd.DataFrame) -> pd.DataFrame:
    s = 0
    h = br.history
    ent = net.entities
    dr = br.default_round[s]
    final_status = h["status"][s][-1]
    cause, caused_by = [], []
    for i in range(c.n):
        if dr[i] < 0:
            cause.append(""), caused_by.append("")
            continue
        # Unscaled channel losses: an entity with no equity to lose still has a cause.
        chans = h["channels_raw"][s][dr[i], i]
        ch = CHANNELS[int(np.argmax(chans))] if chans.sum() > 0 else "shock"
        inc = paths[(paths["target"] == c.ids[i]) & (paths["round"] <= dr[i]) & (paths["channel"] == ch)]
        if inc.empty:
            inc = paths[(paths["target"] == c.ids[i]) & (paths["round"] <= dr[i])]
        cause.append(ch)
        caused_by.append(str(inc.sort_values("amount_usd").iloc[-1]["source"]) if len(inc) else "SHOCK")
    e0 = c.E0
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
            "loss_share": np.where(e0 > 0, loss / np.where(e0 > 0, e0, 1.0), 0.0),
            "status": np.array(STATUSES, dtype=object)[final_status],
            "default_round": dr,
            "cause": cause,
            "caused_by": caused_by,
        }
    )


def _summary(net: Network, c, br, sys_eq: float, R: int, round_hours: float) -> pd.DataFrame:
    s = 0
    h = br.history
    rows: list[tuple[str, str, float]] = []
    total = float(br.total_loss[s])
    rows += [
        ("total_loss_usd", "", total),
        ("loss_share", "", total / sys_eq if sys_eq > 0 else 0.0),
        ("system_equity_usd", "", sys_eq),
        ("defaults", "", float(br.defaulted[s].sum())),
        ("liquidated_usd", "", float(br.liquidated_usd[s])),
        ("bad_debt_usd", "", float(br.bad_debt[s].sum())),
        ("rounds", "", float(R)),
        ("round_hours", "", float(round_hours)),
        ("hours", "", float(R * round_hours)),
        ("writedowns_usd", "", float(br.writedowns[s])),
        ("shortfall_usd", "", float(br.shortfall[s])),
    ]
    for i in np.flatnonzero(br.bad_debt[s] > 0):
        rows.append(("bad_debt_by_protocol_usd", str(c.ids[i]), float(br.bad_debt[s, i])))
    # Who bore the losses.
    bearer = {k: 0.0 for k in ("suppliers", "depositors", "insurance_funds", "token_holders", "creditors", "equity_holders", "outside_creditors")}
    bearer["insurance_funds"] = float(br.insurance_draw[s].sum())
    bearer["outside_creditors"] = float(br.outside_loss[s])
    # Depositor aggregates' credit losses: suppliers' when the debtor is a protocol or pool, depositors' otherwise.
    dep_loss = h["dep_loss"][s][-1]
    sink = c.ik_sink
    sup = sink & np.isin(c.etype[c.ik_debtor], _SUPPLIER_DEBTORS)
    agg = c.is_aggregate
    chl = br.loss_by_channel[s]
    agg_credit = float(chl[agg, CHANNELS.index("default")].sum())
    sink_loss = float(dep_loss[sink].sum())
    bearer["suppliers"] = float(dep_loss[sup].sum()) * agg_credit / sink_loss if sink_loss > 0 else 0.0
    bearer["depositors"] = agg_credit - bearer["suppliers"]
    bearer["token_holders"] = float(chl[:, CHANNELS.index("market")].sum())
    bearer["creditors"] = float(chl[~agg, CHANNELS.index("default")].sum())
    other = [CHANNELS.index(x) for x in ("shock", "liquidation", "bad_debt", "run")]
    bearer["equity_holders"] = float(chl[:, other].sum())
    rows += [("loss_by_bearer_usd", k, v) for k, v in bearer.items()]
    rows += [("loss_by_channel_usd", ch, float(chl[:, i].sum())) for i, ch in enumerate(CHANNELS)]
    return pd.DataFrame(rows, columns=["metric", "key", "value"])
