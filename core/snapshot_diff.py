"""Two snapshots side by side: is the system more fragile now than before Terra?

:func:`compare` puts two networks (two shipped snapshots, or any two datasets)
next to each other on the measures a risk team reads first, each computed by
the model the rest of sfm uses:

* **entities by type**: how many entities of each :data:`core.schema.ENTITY_TYPES`;
* **leverage** by type and for the system: total assets over equity,
  :math:`\\lambda_T = \\sum_{i \\in T} A_i / \\sum_{i \\in T} \\max(E_i, 0)` with
  :math:`A_i` and :math:`E_i` from the balance-sheet identity
  (:meth:`core.network.Network.balance_sheet`); undefined (``None``) when the
  type's equity is not positive. Beside it the borrowing of the protocols'
  cohorts, debt over collateral value (the loan-to-value of the lending books);
* **exposures**: USD and count by kind of claim (loan, deposit, customer balance, ...);
* **critical nodes**: the ten entities whose failure alone costs the system most
  (:func:`core.metrics.systemic_importance`, one batched cascade per seed,
  nothing recovered from the seed);
* **standard shocks**, the same four on each system, each target chosen from
  that snapshot's own data: ETH −30 %, BTC −30 % (price shocks at round 0),
  the largest USD stablecoin by market value (price × supply) 10 % below its peg,
  and the largest centralised exchange by total assets failing with nothing
  recovered. Each runs through the cascade engine (:func:`core.engine.simulate_batch`,
  one batch per network) with every other input at its default (12 daily rounds,
  no run, normal liquidity, no safeguards), and reports the system loss (the failing
  exchange's own loss included, unlike the critical-node ranking), its share of
  system equity, the defaults it causes (the forced one not counted), liquidated
  collateral and bad debt booked at the protocols.

A shock whose asset or entity a snapshot lacks is reported as not applicable
(``None`` with the reason), never as a zero loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .network import Network
from .scenario import Scenario
from .schema import ENTITY_TYPES

#: The standardised shocks, in the order they are reported.
STANDARD_SHOCKS = ("ETH -30%", "BTC -30%", "largest stablecoin -10%", "largest exchange fails")
#: The unit of each overview measure (how :func:`core.formatting.figure` writes it); others are counts.
MEASURE_UNITS = {"date": "text", "total exposure (USD)": "usd", "total assets (USD)": "usd", "system equity (USD)": "usd",
                 "protocol borrowing (USD)": "usd", "cohort loan-to-value": "share", "rows sourced (share)": "share"}
#: How many critical nodes each side lists.
TOP_CRITICAL = 10


@dataclass(frozen=True)
class SnapshotDiff:
    """Two networks compared (``a`` then ``b``); every table has one column per side.

    Tables
    ------
    ``overview``         one row per measure: ``measure, a, b`` (date, entities, exposures, system equity, ...).
    ``entities_by_type`` ``type, a, b, change`` (counts).
    ``leverage``         ``type, a, b`` (assets over equity; ``None`` where equity is not positive), ``a_equity_share,
                         b_equity_share`` (equity over assets, the same figure read the other way), last row ``system``.
    ``exposures``        ``kind, a_usd, b_usd, a_count, b_count``.
    ``critical``         ``rank, a_entity, a_name, a_loss_usd, a_share, b_entity, b_name, b_loss_usd, b_share``.
    ``shocks``           ``shock, side, target, loss_usd, loss_share, defaults, liquidated_usd, bad_debt_usd, note``.
    """

    a: str
    b: str
    overview: pd.DataFrame
    entities_by_type: pd.DataFrame
    leverage: pd.DataFrame
    exposures: pd.DataFrame
    critical: pd.DataFrame
    shocks: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict: every table as a list of records (missing values as ``None``)."""
        def records(df: pd.DataFrame) -> list[dict[str, Any]]:
            return [{k: _plain(v) for k, v in row.items()} for row in df.to_dict(orient="records")]

        return {"a": self.a, "b": self.b, **{name: records(getattr(self, name)) for name in
                                             ("overview", "entities_by_type", "leverage", "exposures", "critical", "shocks")}}


def _plain(v: Any) -> Any:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return float(v) if np.isfinite(v) else None
    if v is pd.NA or v is None:
        return None
    return v


# -- the measures ------------------------------------------------------------------------------------------

def _type_of(net: Network) -> pd.Series:
    return pd.Series(net.entities["type"].to_numpy(), index=net.entity_ids)


def entity_counts(net: Network) -> pd.Series:
    """Entities per type, in the order of :data:`ENTITY_TYPES` (types absent count 0)."""
    return net.entities["type"].value_counts().reindex(list(ENTITY_TYPES), fill_value=0)


def leverage_by_type(net: Network) -> pd.Series:
    r"""Assets over positive equity per entity type and for the ``system`` (NaN where equity is not positive).

    :math:`\lambda_T = \sum_{i \in T} A_i / \sum_{i \in T} \max(E_i, 0)`, from the balance-sheet identity.
    """
    bs = net.balance_sheet()
    frame = pd.DataFrame({"type": _type_of(net), "assets": bs["total_assets_usd"],
                          "equity": np.maximum(bs["derived_equity_usd"].to_numpy(), 0.0)})
    g = frame.groupby("type")[["assets", "equity"]].sum()
    g.loc["system"] = [frame["assets"].sum(), frame["equity"].sum()]
    eq = g["equity"].to_numpy()
    return pd.Series(np.where(eq > 0, g["assets"].to_numpy() / np.where(eq > 0, eq, 1.0), np.nan), index=g.index)


def equity_share_by_type(net: Network) -> pd.Series:
    """Positive equity over total assets per entity type and for the ``system`` (the reciprocal of the leverage; NaN without assets)."""
    lev = leverage_by_type(net)
    return pd.Series(np.where(np.isfinite(lev.to_numpy()), 1.0 / lev.to_numpy(), 0.0), index=lev.index).where(
        _assets_by_type(net).reindex(lev.index).to_numpy() > 0)


def _assets_by_type(net: Network) -> pd.Series:
    bs = net.balance_sheet()
    assets = pd.Series(bs["total_assets_usd"].to_numpy(), index=_type_of(net).to_numpy()).groupby(level=0).sum()
    assets.loc["system"] = float(bs["total_assets_usd"].sum())
    return assets


def cohort_loan_to_value(net: Network) -> float:
    """Debt over collateral value of every borrower cohort (NaN without cohorts)."""
    c, p = net.cohorts, net.prices
    coll = float((c["collateral_amount"].to_numpy() * p.reindex(c["collateral_asset"]).to_numpy()).sum())
    debt = float((c["debt_amount"].to_numpy() * p.reindex(c["debt_asset"]).to_numpy()).sum())
    return debt / coll if coll > 0 else float("nan")


def largest_stablecoin(net: Network) -> str | None:
    """The USD-pegged asset with the largest market value (price × supply), or None."""
    a = net.assets[(net.assets["peg_unit"] == "USD") & net.assets["peg_target"].notna()]
    if a.empty:
        return None
    cap = a["price_usd"].to_numpy() * a["supply"].to_numpy()
    return str(a["symbol"].iloc[int(np.argmax(cap))])


def largest_exchange(net: Network) -> str | None:
    """The centralised exchange with the largest total assets (balance-sheet identity), or None."""
    ex = net.entities.loc[net.entities["type"] == "centralised_exchange", "id"]
    if ex.empty:
        return None
    assets = net.balance_sheet()["total_assets_usd"].reindex(ex)
    return str(assets.idxmax())


def standard_shocks(net: Network) -> list[tuple[str, str | None, Scenario | None, str]]:
    """The four standard shocks on ``net``: (shock, target, scenario or None, note)."""
    syms = set(net.asset_symbols)
    names = dict(zip(net.entities["id"], net.entities["name"]))
    out: list[tuple[str, str | None, Scenario | None, str]] = []
    for label, sym in (("ETH -30%", "ETH"), ("BTC -30%", "BTC")):
        out.append((label, sym, Scenario(name=label, price_shocks={sym: -0.3}), "") if sym in syms else
                   (label, None, None, f"{sym} is not an asset of {net.name}"))
    stable = largest_stablecoin(net)
    out.append(("largest stablecoin -10%", stable, Scenario(name=f"{stable} -10%", depegs={stable: 0.10}), "")
               if stable else ("largest stablecoin -10%", None, None, f"{net.name} has no USD-pegged asset"))
    ex = largest_exchange(net)
    out.append(("largest exchange fails", names.get(ex, ex), Scenario(name=f"{ex} fails", forced_defaults=[ex]), "")
               if ex else ("largest exchange fails", None, None, f"{net.name} has no centralised exchange"))
    return out


def shock_losses(net: Network) -> pd.DataFrame:
    """The standard shocks run on ``net`` in one batch: ``shock, target, loss_usd, loss_share, defaults, liquidated_usd, bad_debt_usd, note``."""
    from .engine import simulate_batch

    rows = standard_shocks(net)
    runnable = [sc for _, _, sc, _ in rows if sc is not None]
    res = simulate_batch(net, runnable) if runnable else None
    sys_eq = res.system_equity if res is not None else float("nan")
    out, j = [], 0
    for label, target, sc, note in rows:
        if sc is None:
            out.append({"shock": label, "target": target, "loss_usd": np.nan, "loss_share": np.nan, "defaults": np.nan,
                        "liquidated_usd": np.nan, "bad_debt_usd": np.nan, "note": note})
            continue
        assert res is not None  # a runnable shock was run
        forced = np.isin(res.entity_ids, sc.forced_defaults)
        out.append({"shock": label, "target": target, "loss_usd": float(res.total_loss[j]),
                    "loss_share": float(res.total_loss[j]) / sys_eq if sys_eq > 0 else np.nan,
                    "defaults": int((res.defaulted[j] & ~forced).sum()),  # failures caused, not the forced one
                    "liquidated_usd": float(res.liquidated_usd[j]), "bad_debt_usd": float(res.bad_debt[j].sum()), "note": note})
        j += 1
    return pd.DataFrame(out)


def critical_nodes(net: Network, top: int = TOP_CRITICAL) -> pd.DataFrame:
    """The ``top`` entities by system loss when each fails alone: ``rank, entity, name, loss_usd, share``."""
    from .metrics import systemic_importance

    si = systemic_importance(net).head(top)
    return pd.DataFrame({"rank": np.arange(1, len(si) + 1), "entity": si.index.to_numpy(), "name": si["name"].to_numpy(),
                         "loss_usd": si["importance_usd"].to_numpy(), "share": si["importance_share"].to_numpy()})


def _overview(net: Network) -> dict[str, Any]:
    from .datasets import available, sourced_counts

    bs = net.balance_sheet()
    sourced = sourced_counts(net)
    d = net.describe()
    dated = {s.name: s.date for s in available()}
    return {
        "date": dated.get(net.name, d["as_of"]), "entities": net.n_entities, "assets": len(net.assets), "exposures": len(net.exposures),
        "borrower cohorts": len(net.cohorts), "perpetual positions": len(net.positions),
        "total exposure (USD)": float(net.exposures["amount_usd"].sum()),
        "total assets (USD)": float(bs["total_assets_usd"].sum()),
        "system equity (USD)": float(np.maximum(bs["derived_equity_usd"].to_numpy(), 0).sum()),
        "protocol borrowing (USD)": float(d["cohort_debt_usd"]),
        "cohort loan-to-value": cohort_loan_to_value(net),
        "rows sourced (share)": float(sourced["sourced"].sum() / max(sourced["rows"].sum(), 1)),
    }


# -- the comparison ------------------------------------------------------------------------------------------

def compare(a: Network, b: Network, *, top: int = TOP_CRITICAL) -> SnapshotDiff:
    """Compare network ``a`` (say, the older snapshot) with ``b`` on the measures of the module docstring.

    >>> from core import datasets
    >>> d = compare(datasets.load("crypto-2020-03"), datasets.load("crypto-2022-05"))
    >>> d.shocks.loc[d.shocks["shock"] == "largest exchange fails", ["side", "target"]].values.tolist()
    [['a', 'Coinbase'], ['b', 'Coinbase']]
    """
    oa, ob = _overview(a), _overview(b)
    overview = pd.DataFrame({"measure": list(oa), "a": list(oa.values()), "b": [ob[k] for k in oa]})
    ca, cb = entity_counts(a), entity_counts(b)
    types = pd.DataFrame({"type": ca.index, "a": ca.to_numpy(), "b": cb.to_numpy(), "change": cb.to_numpy() - ca.to_numpy()})
    types = types[(types["a"] > 0) | (types["b"] > 0)].reset_index(drop=True)
    la, lb = leverage_by_type(a), leverage_by_type(b)
    order = [t for t in ENTITY_TYPES if t in la.index or t in lb.index] + ["system"]
    qa, qb = equity_share_by_type(a), equity_share_by_type(b)
    leverage = pd.DataFrame({"type": order, "a": la.reindex(order).to_numpy(), "b": lb.reindex(order).to_numpy(),
                             "a_equity_share": qa.reindex(order).to_numpy(), "b_equity_share": qb.reindex(order).to_numpy()})
    ea = a.exposures.groupby("kind")["amount_usd"].agg(["sum", "count"])
    eb = b.exposures.groupby("kind")["amount_usd"].agg(["sum", "count"])
    kinds = sorted(set(ea.index) | set(eb.index), key=lambda k: -(ea["sum"].get(k, 0) + eb["sum"].get(k, 0)))
    exposures = pd.DataFrame({"kind": kinds, "a_usd": ea["sum"].reindex(kinds, fill_value=0.0).to_numpy(),
                              "b_usd": eb["sum"].reindex(kinds, fill_value=0.0).to_numpy(),
                              "a_count": ea["count"].reindex(kinds, fill_value=0).to_numpy(),
                              "b_count": eb["count"].reindex(kinds, fill_value=0).to_numpy()})
    cra, crb = critical_nodes(a, top), critical_nodes(b, top)
    critical = pd.concat([cra.drop(columns="rank").add_prefix("a_"), crb.drop(columns="rank").add_prefix("b_")], axis=1)
    critical.insert(0, "rank", np.arange(1, len(critical) + 1))
    sa, sb = shock_losses(a).assign(side="a"), shock_losses(b).assign(side="b")
    shocks = pd.concat([sa, sb]).set_index(["shock", "side"]).reindex(
        pd.MultiIndex.from_product([STANDARD_SHOCKS, ["a", "b"]], names=["shock", "side"])).reset_index()
    return SnapshotDiff(a=a.name, b=b.name, overview=overview, entities_by_type=types, leverage=leverage,
                        exposures=exposures, critical=critical, shocks=shocks)
