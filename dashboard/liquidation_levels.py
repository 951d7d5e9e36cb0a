"""Liquidation levels: collateral at risk by price level and the health-factor distribution per lending protocol;
perpetual positions liquidated by a price move, per perpetuals venue.

DefiLlama's "liquidation levels" and Block Analitica's capital-at-risk view, from the network's
borrower cohorts (``cohorts``: collateral and debt amounts, liquidation threshold). For each cohort,
at reference prices,

    HF = C · LT / D                                (Aave's health factor, core.mechanisms.lending.health_factor)
    fall to liquidation  f* = 1 − 1 / HF           (the collateral's price fall, debt price held, that brings HF to 1)

so a fall ``f`` of the collateral asset puts at risk the collateral of every cohort with ``f* ≤ f``.
Cohorts whose debt is the same asset as the collateral (no price exposure) and cohorts without debt
are left out. The curves are cumulative collateral value (USD, reference prices) against the fall,
one per protocol; the distribution is the debt (USD) by health-factor bucket, per protocol.

Perpetuals venues (issue 15, "per perpetuals venue ... from the positions"): the network's ``positions``
indexed as the engine indexes them (:func:`core.positions.position_book`: margin accounts, each
row's maintenance rate, collateral at the venue's price by its ``collateral_policy``), marked with
the chosen asset's index price moved by each ``m`` of ``MOVES`` (−90 % … +90 %), other prices held.
Tokens pegged to the asset (wBETH to ETH) move with it, so collateral posted in the asset or in
such a token gains or loses with it (:func:`core.positions.redemption_values`,
:func:`core.positions.venue_collateral_prices`). A margin account is liquidated when

    E_g = Σ M_j + q_j (P_k − P⁰_j)  <  Σ m_j |q_j| P_k          (core.mechanisms.perps_book.liquidated_positions)

which, for an isolated USD-margined position, is a mark beyond its liquidation price
``P⁰ (1 − σ/Λ) / (1 − σ m)`` (:func:`core.mechanisms.perps.liquidation_price`); an anonymous isolated
bucket is a distribution of accounts, liquidated in the share of them past maintenance
(:func:`core.mechanisms.perps_spread.liquidated_share`, as the engine liquidates it). The curve is the
notional at reference prices ``|q| P_k`` of the positions each venue liquidates at each move: longs
on falls, shorts on rises (and every position of a cross-margin account that fails).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from dash import Input, Output, State, callback, no_update

from core.mechanisms.lending import health_factor
from core.mechanisms.perps_spread import liquidated_share
from core.network import Network
from core.positions import position_book, redemption_values, venue_collateral_prices, venue_rules

from . import charts, ids
from .venues import short_name
from .state import guarded, network_from_store, usd

#: Health-factor buckets (upper edges) of the distribution.
HF_EDGES = (1.0, 1.05, 1.1, 1.25, 1.5, 2.0, np.inf)
HF_LABELS = ("< 1", "1–1.05", "1.05–1.1", "1.1–1.25", "1.25–1.5", "1.5–2", "≥ 2")
FALLS = np.arange(0, 91)  # percent
MOVES = np.arange(-90, 91)  # percent, the perpetuals view: falls liquidate longs, rises shorts


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


def perps_at_risk(network: Network, asset: str, moves: np.ndarray = MOVES) -> pd.DataFrame:
    """Notional (USD, reference prices) of the perpetual positions each venue liquidates when ``asset`` moves by
    each of ``moves`` (%): rows the moves, columns the perpetuals venues (none without positions).

    All moves are one batch: the moves are the scenario axis of :func:`core.mechanisms.perps_spread.liquidated_share`.
    """
    if network.positions.empty:
        return pd.DataFrame(index=np.asarray(moves))
    rules = venue_rules(network)
    pb = position_book(network, rules)
    b = pb.book
    symbols = network.asset_symbols
    reference = network.prices.reindex(symbols).to_numpy(dtype=float)                           # (K,)
    moving = (symbols == asset) | (network.assets["peg_unit"].astype(str).to_numpy() == asset)  # the asset and tokens pegged to it
    index = reference[None, :] * np.where(moving, 1.0 + np.asarray(moves, dtype=float)[:, None] / 100.0, 1.0)  # (S, K)
    own_book = np.broadcast_to(index[:, None, :], (len(index), len(rules), len(symbols)))      # books at the index
    collateral = venue_collateral_prices(rules["policy"].to_numpy(), index, redemption_values(network, index), own_book)
    margin = pb.margin_units[None, :] * np.where(pb.margin_asset >= 0, collateral[:, b.venue, np.maximum(pb.margin_asset, 0)], 1.0)
    liquidated = liquidated_share(b, index, b.size, margin, pb.margin_spread)                  # (S, N)
    notional = np.abs(b.size) * reference[b.market]
    per_venue = np.asarray(b.in_venue.T @ (liquidated * notional[None, :]).T).T               # (S, V)
    return pd.DataFrame(per_venue, index=np.asarray(moves), columns=rules.index)


def perps_figure(network: Network, asset: str) -> tuple[dict[str, Any] | None, str]:
    """The perpetuals venues' liquidation levels for ``asset`` (None without positions, or when no move of ``asset``
    liquidates any) and a one-line note."""
    risk = perps_at_risk(network, asset)
    risk = risk.loc[:, risk.columns.isin(network.positions["venue"])]  # the venues that hold positions
    if not len(risk.columns):
        return None, ""
    if not (risk.to_numpy() > 0).any():
        return None, f" No perpetual position is liquidated by a move of {asset} within ±{int(risk.index.max())} %."
    names = dict(zip(network.entities["id"], network.entities["name"]))
    x = risk.index.tolist()
    lines = [{"type": "scatter", "mode": "lines", "x": x, "y": (risk[v] / 1e9).round(4).tolist(), "name": short_name(names.get(v, v))[:24],
              "stackgroup": "one", "line": {"width": 1, "color": charts.OKABE_ITO[k % 7]}, "hovertemplate": "%{y:,.3f} bn USD"}
             for k, v in enumerate(risk.columns)]
    lay = charts._layout(f"{asset} perpetuals liquidated by its price move, per venue", f"Move of {asset} (%): longs fail on falls, shorts on rises",
                         "Notional (USD bn)", height=340, hovermode="x unified")
    lay["margin"]["b"] = 110  # the venues' legend, two columns under the axis
    lay["yaxis"]["rangemode"] = "tozero"
    charts._floor_range(lay, [v for t in lines for v in t["y"]])
    total = risk.sum(axis=1)
    at = {m: float(total.get(m, 0.0)) for m in (-20, 20)}
    note = (f" {len(network.positions)} perpetual positions on {len(risk.columns)} venues (notional at reference prices): a 20 % fall "
            f"of {asset} liquidates {usd(at[-20])} of them, a 20 % rise {usd(at[20])}.")
    return {"data": lines, "layout": lay}, note


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
    Output(ids.PERPS_LEVELS, "children"),
    Output(ids.SENS_NOTE, "children", allow_duplicate=True),
    Input(ids.LIQ_LEVELS_RUN, "n_clicks"),
    State(ids.SENS_ASSET, "value"),
    State(ids.NETWORK, "data"),
    prevent_initial_call=True,
)
@guarded(4, 3)
def on_levels(_n, asset, network_store):
    if not asset:
        return no_update, no_update, no_update, no_update
    from .sensitivity import graph

    network = network_from_store(network_store)
    curve, dist, note = figures(network, asset)
    perps, perps_note = perps_figure(network, asset)
    return graph(curve), graph(dist), graph(perps) if perps else None, note + perps_note
