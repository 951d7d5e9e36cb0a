"""Liquidation levels: collateral at risk by price level, and the health-factor distribution per lending protocol.

DefiLlama's "liquidation levels" and Block Analitica's capital-at-risk view, from the network's
borrower cohorts (``cohorts``: collateral and debt amounts, liquidation threshold). For each cohort,
at reference prices,

    HF = C · LT / D                                (Aave's health factor, core.mechanisms.lending.health_factor)
    fall to liquidation  f* = 1 − 1 / HF           (the collateral's price fall, debt price held, that brings HF to 1)

so a fall ``f`` of the collateral asset puts at risk the collateral of every cohort with ``f* ≤ f``.
Cohorts whose debt is the same asset as the collateral (no price exposure) and cohorts without debt
are left out. The curves are cumulative collateral value (USD, reference prices) against the fall,
one per protocol; the distribution is the debt (USD) by health-factor bucket, per protocol.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from dash import Input, Output, State, callback, no_update

from core.mechanisms.lending import health_factor
from core.network import Network

from . import charts, ids
from .state import guarded, network_from_store, usd

#: Health-factor buckets (upper edges) of the distribution.
HF_EDGES = (1.0, 1.05, 1.1, 1.25, 1.5, 2.0, np.inf)
HF_LABELS = ("< 1", "1–1.05", "1.05–1.1", "1.1–1.25", "1.25–1.5", "1.5–2", "≥ 2")
FALLS = np.arange(0, 91)  # percent


def levels(network: Network) -> pd.DataFrame:
    """One row per cohort with price exposure: protocol, assets, USD values, HF and the fall to liquidation."""
    c = network.frames().get("cohorts")
    if c is None or c.empty:
        return pd.DataFrame(columns=["protocol", "collateral_asset", "debt_asset", "collateral_usd", "debt_usd", "hf", "fall"])
    price = network.prices
    coll = c["collateral_amount"].to_numpy(float) * price.reindex(c["collateral_asset"]).to_numpy(float)
    debt = c["debt_amount"].to_numpy(float) * price.reindex(c["debt_asset"]).to_numpy(float)
    hf = health_factor(coll, debt, c["liquidation_threshold"].to_numpy(float))
    with np.errstate(divide="ignore"):
        fall = np.clip(1.0 - 1.0 / hf, 0.0, 1.0)
    out = pd.DataFrame({"protocol": c["protocol"].astype(str), "collateral_asset": c["collateral_asset"].astype(str),
                        "debt_asset": c["debt_asset"].astype(str), "collateral_usd": coll, "debt_usd": debt, "hf": hf, "fall": fall})
    keep = (out["debt_usd"] > 0) & (out["collateral_asset"] != out["debt_asset"]) & np.isfinite(out["collateral_usd"])
    return out[keep].reset_index(drop=True)


def at_risk(lv: pd.DataFrame, asset: str) -> pd.DataFrame:
    """Collateral of ``asset`` (USD) liquidatable at each fall of ``FALLS`` (%), per protocol (columns)."""
    mine = lv[lv["collateral_asset"] == asset]
    if mine.empty:
        return pd.DataFrame(index=FALLS)
    reached = (100 * mine["fall"].to_numpy())[None, :] <= FALLS[:, None]  # (falls, cohorts)
    per = pd.DataFrame(reached * mine["collateral_usd"].to_numpy()[None, :], index=FALLS)
    return per.T.groupby(mine["protocol"].to_numpy()).sum().T


def hf_distribution(lv: pd.DataFrame) -> pd.DataFrame:
    """Debt (USD) per protocol (rows) and health-factor bucket (columns)."""
    bucket = pd.Categorical.from_codes(np.searchsorted(np.asarray(HF_EDGES), lv["hf"].to_numpy(), side="right").clip(0, len(HF_LABELS) - 1),
                                       categories=HF_LABELS)
    return lv.assign(bucket=bucket).pivot_table(index="protocol", columns="bucket", values="debt_usd", aggfunc="sum",
                                                fill_value=0.0, observed=False)


def figures(network: Network, asset: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    lv = levels(network)
    names = dict(zip(network.entities["id"], network.entities["name"]))
    risk = at_risk(lv, asset)
    curve = [{"type": "scatter", "mode": "lines", "x": FALLS.tolist(), "y": (risk[p] / 1e9).round(4).tolist(), "name": names.get(p, p)[:24],
              "stackgroup": "one", "line": {"width": 1, "color": charts.OKABE_ITO[k % 7]}, "hovertemplate": "%{y:,.3f} bn USD"}
             for k, p in enumerate(risk.columns)]
    lay = charts._layout(f"{asset} collateral liquidatable by its price fall (reference prices)", f"Fall of {asset} (%)",
                         "Collateral at risk (USD bn)", height=300, hovermode="x unified")
    lay["yaxis"]["rangemode"] = "tozero"
    charts._floor_range(lay, [v for t in curve for v in t["y"]])
    dist = hf_distribution(lv)
    bars = [{"type": "bar", "x": [names.get(p, p)[:18] for p in dist.index], "y": (dist[b] / 1e9).round(4).tolist(), "name": f"HF {b}",
             "marker": {"color": c, "line": {"color": "#444", "width": 0.5}}, "hovertemplate": f"HF {b}: " + "%{y:,.3f} bn USD<extra></extra>"}
            for b, c in zip(HF_LABELS, ("#D55E00", "#E69F00", "#F0E442", "#56B4E9", "#0072B2", "#009E73", "#999999"))]
    lay2 = charts._layout("Debt by health factor, per lending protocol", "", "Debt (USD bn)", height=320, barmode="stack", hovermode="closest")
    lay2["xaxis"]["automargin"] = True
    total = float(risk.iloc[-1].sum()) if len(risk.columns) else 0.0
    note = (f"{len(lv)} borrower cohorts with price exposure. A 90 % fall of {asset} puts {usd(total)} of {asset} collateral "
            "at risk" if len(risk.columns) else f"No cohort holds {asset} as collateral.")
    return {"data": curve, "layout": lay}, {"data": bars, "layout": lay2}, note


@callback(
    Output(ids.LIQ_LEVELS, "children"),
    Output(ids.HF_DIST, "children"),
    Output(ids.SENS_NOTE, "children", allow_duplicate=True),
    Input(ids.LIQ_LEVELS_RUN, "n_clicks"),
    State(ids.SENS_ASSET, "value"),
    State(ids.NETWORK, "data"),
    prevent_initial_call=True,
)
@guarded(3, 2)
def on_levels(_n, asset, network_store):
    if not asset:
        return no_update, no_update, no_update
    from .sensitivity import graph

    curve, dist, note = figures(network_from_store(network_store), asset)
    return graph(curve), graph(dist), note
