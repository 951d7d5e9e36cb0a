"""Price-drop sensitivity: liquidations, bad debt and defaults against a fall of 0–90 % in one asset.

The risk teams' standard view (Gauntlet's and Chaos Labs' "price shock" curves, Block Analitica's
capital at risk): the scenario on screen, with the chosen asset's price shock (or its price path, scaled to keep
its shape, :func:`at_fall`) replaced by each fall on the grid ``DROPS``, run as **one batch** (:func:`core.engine.simulate_batch`: one compiled network,
scenarios as rows of the same arrays). The scenario's own fall of that asset is marked on the curves.

Bad debt is drawn at par (``BatchResult.bad_debt_reference_usd``: each shortfall's units of its debt token at the
token's reference price, a stablecoin at its peg; :mod:`core.engine.reference_bad_debt`) and marked at the close
(``BatchResult.bad_debt``): against a deeper fall of a debt token (UST) the marked figure shrinks with the token
though more of it is owed. It is read at par per protocol for the lending protocols and perpetuals venues of the
network, so the chart says where the bad debt lands as the fall deepens.
Computed on demand (a button), so that moving a slider stays one run.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from dash import Input, Output, State, callback, dcc, html

from core.engine import simulate_batch
from core.network import Network
from core.paths import final_fall, path_to_fall
from core.scenario import Scenario, parse_scenario

from . import charts, controls, ids
from . import liquidation_levels  # noqa: F401  (registers its callback; its charts sit in this panel)
from .state import dated, guarded, network_from_store, usd

#: The falls of the grid (0 %, 5 %, ..., 90 %).
DROPS = np.round(np.arange(0.0, 0.901, 0.05), 2)
#: Protocols drawn one line each (the largest bad debt at the deepest fall).
TOP_PROTOCOLS = 6
PROTOCOL_TYPES = ("lending_protocol", "cdp_protocol", "perpetuals_venue")


def own_fall(scenario: Scenario, asset: str) -> float:
    """The scenario's own fall of ``asset``: minus its price shock, or minus the final move of its price path."""
    return final_fall(scenario.price_paths.get(asset), scenario.price_shocks.get(asset, 0.0))


def at_fall(scenario: Scenario, asset: str, drop: float) -> Scenario:
    """``scenario`` with ``asset`` down by ``drop`` at the end: a price shock ``-drop``, or its price path
    reshaped to end there (:func:`core.paths.path_to_fall`)."""
    path = scenario.price_paths.get(asset)
    if path is None:
        shocks = {k: v for k, v in scenario.price_shocks.items() if k != asset}
        if drop > 0:
            shocks[asset] = -float(drop)
        return scenario.model_copy(update={"price_shocks": shocks})
    return scenario.model_copy(update={"price_paths": {**scenario.price_paths, asset: path_to_fall(path, drop)}})


def sweep(network: Network, scenario: Scenario, asset: str, drops: np.ndarray = DROPS) -> dict[str, Any]:
    """Run ``scenario`` with ``asset`` down by each of ``drops`` as one batch (:func:`at_fall`); totals and bad debt per protocol."""
    shocks = [at_fall(scenario, asset, float(d)) for d in drops]
    res = simulate_batch(network, shocks)
    types = network.entities.set_index("id").reindex(res.entity_ids)["type"].to_numpy()
    protocol = np.isin(types, PROTOCOL_TYPES)
    names = dict(zip(network.entities["id"], network.entities["name"]))
    per = res.bad_debt_reference_usd[:, protocol]  # (S, protocols), at par
    ids_ = np.asarray(res.entity_ids)[protocol]
    top = np.argsort(-per[-1], kind="stable")[:TOP_PROTOCOLS] if per.size else np.array([], dtype=int)
    return {
        "asset": asset, "drops": [float(d) for d in drops],
        "liquidated_usd": res.liquidated_usd.astype(float).tolist(),
        "bad_debt_usd": res.bad_debt.sum(axis=1).astype(float).tolist(),
        "bad_debt_reference_usd": res.bad_debt_reference_usd.sum(axis=1).astype(float).tolist(),
        "defaults": res.defaulted.sum(axis=1).astype(int).tolist(),
        "total_loss_usd": res.total_loss.astype(float).tolist(),
        "protocols": [{"id": str(ids_[j]), "name": names.get(str(ids_[j]), str(ids_[j])),
                       "bad_debt_reference_usd": per[:, j].astype(float).tolist()}
                      for j in top if per[-1, j] > 0],
        "current": own_fall(scenario, asset),
    }


def figure(data: dict[str, Any]) -> dict[str, Any]:
    """Liquidated and bad debt (USD bn) and defaults (right axis) against the fall, the scenario's fall marked."""
    x = [round(100 * d) for d in data["drops"]]
    cur = round(100 * data["current"])
    traces = [
        {"type": "scatter", "mode": "lines+markers", "x": x, "y": [v / 1e9 for v in data["liquidated_usd"]], "name": "Liquidated",
         "line": {"color": charts.OKABE_ITO[4], "width": 2}, "marker": {"size": 4}, "hovertemplate": "%{y:,.2f} bn USD"},
        {"type": "scatter", "mode": "lines+markers", "x": x, "y": [v / 1e9 for v in data["bad_debt_reference_usd"]],
         "name": "Bad debt at par", "line": {"color": charts.OKABE_ITO[0], "width": 2}, "marker": {"size": 4},
         "hovertemplate": "%{y:,.3f} bn USD at par"},
        {"type": "scatter", "mode": "lines+markers", "x": x, "y": [v / 1e9 for v in data["bad_debt_usd"]], "name": "Bad debt at market",
         "line": {"color": charts.OKABE_ITO[3], "width": 2}, "marker": {"size": 4}, "hovertemplate": "%{y:,.3f} bn USD at market"},
        {"type": "scatter", "mode": "lines+markers", "x": x, "y": data["defaults"], "name": "Defaults (right axis)", "yaxis": "y2",
         "line": {"color": charts.OKABE_ITO[7], "width": 1.5, "dash": "dot"}, "marker": {"size": 4}, "hovertemplate": "%{y} defaults"},
    ]
    for k, p in enumerate(data["protocols"]):
        traces.append({"type": "scatter", "mode": "lines", "x": x, "y": [v / 1e9 for v in p["bad_debt_reference_usd"]],
                       "name": f"at par: {p['name'][:22]}", "line": {"color": charts.OKABE_ITO[k % 7], "width": 1, "dash": "dash"},
                       "hovertemplate": "%{y:,.3f} bn USD at par", "visible": "legendonly" if k >= 3 else True})
    lay = charts._layout(f"Price-drop sensitivity: {data['asset']} falls 0–90 % (this scenario: {cur} %)",
                         f"Fall of {data['asset']} (%)", "USD bn", height=330, hovermode="x unified",
                         shapes=[{"type": "line", "xref": "x", "yref": "paper", "x0": cur, "x1": cur, "y0": 0, "y1": 1,
                                  "line": {"color": "#000", "width": 1.5, "dash": "dot"}}],
                         # whole entities: its own integer ticks, not the left axis' grid synced onto it (1.45, 2.9, 4.35)
                         yaxis2={"title": {"text": "Defaults"}, "overlaying": "y", "side": "right", "rangemode": "tozero", "showgrid": False,
                                 "tickmode": "auto", "nticks": 6, "tickformat": "d"})
    lay["yaxis"]["rangemode"] = "tozero"
    lay["margin"]["r"] = 50
    lay["legend"]["y"] = -0.25
    return {"data": traces, "layout": lay}


def graph(fig: dict[str, Any]) -> dcc.Graph:
    """A chart of this panel, drawn into its box."""
    return dcc.Graph(figure=fig, config={"displaylogo": False, "responsive": True}, className="chart")


def panel(network: Network) -> html.Div:
    assets = controls.price_assets(network)
    return html.Div([
        html.H4("Price-drop sensitivity"),
        html.Div([
            dcc.Dropdown(id=ids.SENS_ASSET, options=[{"label": a, "value": a} for a in assets], value=assets[0] if assets else None,
                         clearable=False, searchable=False, className="sens-asset"),
            html.Button("Run the curve", id=ids.SENS_RUN, className="btn btn-small btn-primary"),
            html.Button("Liquidation levels", id=ids.LIQ_LEVELS_RUN, className="btn btn-small"),
        ], className="sens-bar"),
        html.Small("The curve: the scenario on screen with the asset's fall from 0 to 90 % (one batched run). Liquidation levels: "
                   "the borrower cohorts' collateral at risk by the asset's fall, and their health factors; "
                   "the perpetual positions each venue liquidates as the asset moves.", className="muted"),
        # each chart is drawn into its box when asked for: no empty chart waits for plotly.js on the first load
        dcc.Loading(html.Div([html.Div(id=ids.SENS_NOTE, className="muted"),
                              *[html.Div(id=g) for g in (ids.SENS_CHART, ids.LIQ_LEVELS, ids.HF_DIST, ids.PERPS_LEVELS)]]), type="dot", delay_show=300),
    ], className="sens-panel")


@callback(
    Output(ids.SENS_CHART, "children"),
    Output(ids.SENS_NOTE, "children", allow_duplicate=True),
    Input(ids.SENS_RUN, "n_clicks"),
    State(ids.SENS_ASSET, "value"),
    State(ids.SCENARIO, "data"),
    State(ids.NETWORK, "data"),
    prevent_initial_call=True,
)
@guarded(2, 1)
def on_sensitivity(_n, asset, scenario, network_store):
    sc = parse_scenario(scenario or {}, file="page")
    data = sweep(dated(network_from_store(network_store), sc), sc, asset)  # the batch on the run's parameters
    worst = int(np.argmax(data["bad_debt_reference_usd"]))
    note = (f"{len(data['drops'])} runs in one batch. At a {round(100 * data['drops'][-1])} % fall: liquidated "
            f"{usd(data['liquidated_usd'][-1])}, bad debt {usd(data['bad_debt_reference_usd'][-1])} at par "
            f"({usd(data['bad_debt_usd'][-1])} marked), {data['defaults'][-1]} defaults; "
            f"the most bad debt at par at a {round(100 * data['drops'][worst])} % fall.")
    return graph(figure(data)), note
