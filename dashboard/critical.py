"""Critical nodes: systemic importance and vulnerability of every entity, in a sortable table.

``importance`` is the system loss when the entity alone fails, ``vulnerability``
the loss the entity takes when the others fail (:func:`core.metrics.systemic_importance`,
computed once per network, when the tab is first opened). Next to them: what happens to the entity in the
scenario on screen. A click on a row selects the entity (highlight on the
graph, card in the detail tab).

Memory: the ranking runs one cascade seeded by each entity, so it holds ``n x n``
losses; measured at +206 to +247 MB and 1.4-1.8 s of CPU for 1,000 entities (the page's bound,
:data:`dashboard.limits.MAX_ROWS`) and +4.5 GB for 5,000. A network with more
entities (a large dataset the server was started on) gets a message naming
``sfm rank`` instead of the ranking.

The table is ``dash_table.DataTable``, which ships with Dash; ``dash-ag-grid``
would need a new dependency.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from dash import Input, Output, State, callback, dash_table, html
from dash.exceptions import PreventUpdate
from dash.dash_table.Format import Format, Scheme

from core.network import Network
from core.scenario import parse_scenario
from core.validation import DataValidationError, Problem

from . import critical_given, ids, limits
from .graph import STATUS_COLOURS
from .state import guarded, network_from_store, simulate, systemic_importance

_MONEY = Format(precision=1, scheme=Scheme.fixed).group(True)
_MONEY0 = Format(precision=0, scheme=Scheme.fixed).group(True)
_PCT = Format(precision=1, scheme=Scheme.percentage)
_NUM = Format(precision=3, scheme=Scheme.fixed)

COLUMNS: list[dict[str, Any]] = [
    {"id": "name", "name": "Entity", "type": "text"},
    {"id": "fail", "name": "", "type": "text"},
    {"id": "added_rank", "name": "Rank here", "type": "numeric"},
    {"id": "added_musd", "name": "Adds here (USD M)", "type": "numeric", "format": _MONEY0},
    {"id": "importance_musd", "name": "Alone (USD M)", "type": "numeric", "format": _MONEY0},
    {"id": "loss_musd", "name": "Own loss here (USD M)", "type": "numeric", "format": _MONEY0},
    {"id": "status", "name": "Ends", "type": "text"},
    {"id": "type", "name": "Type", "type": "text"},
    {"id": "importance_share", "name": "Importance (% of system equity)", "type": "numeric", "format": _PCT},
    {"id": "debtrank", "name": "DebtRank", "type": "numeric", "format": _NUM},
    {"id": "vulnerability_musd", "name": "Vulnerability (USD M)", "type": "numeric", "format": _MONEY},
    {"id": "vulnerability_share", "name": "Vulnerability (% of own equity)", "type": "numeric", "format": _PCT},
]


def table_rows(network: Network, importance: pd.DataFrame, result=None) -> list[dict[str, Any]]:
    """One row per entity, sorted by importance, with ``id`` = entity id (DataTable's row id)."""
    ent = network.entities.set_index("id")
    imp = importance.reindex(network.entity_ids)
    df = pd.DataFrame({
        "id": network.entity_ids.astype(str),
        "name": ent["name"].reindex(network.entity_ids).to_numpy(),
        "type": ent["type"].reindex(network.entity_ids).str.replace("_", " ").to_numpy(),
        "importance_musd": imp.get("importance_usd", pd.Series(np.nan, index=imp.index)).to_numpy() / 1e6,
        "importance_share": imp.get("importance_share", pd.Series(np.nan, index=imp.index)).to_numpy(),
        "debtrank": imp.get("debtrank", pd.Series(np.nan, index=imp.index)).to_numpy(),
        "vulnerability_musd": imp.get("vulnerability_usd", pd.Series(np.nan, index=imp.index)).to_numpy() / 1e6,
        "vulnerability_share": imp.get("vulnerability_share", pd.Series(np.nan, index=imp.index)).to_numpy(),
    })
    if result is not None:
        nodes = result.nodes.set_index("entity").reindex(network.entity_ids)
        df["loss_musd"] = nodes["loss_usd"].to_numpy() / 1e6
        df["status"] = nodes["status"].astype(str).to_numpy()
    df = df.sort_values(["importance_musd", "id"], ascending=[False, True], na_position="last")
    df = df.replace({np.nan: None})
    return df.to_dict("records")


NOTE = ("Rank and “adds here”: what the entity's failure adds to the system loss of the scenario on screen (one "
        "batched run). “Alone”: system loss if only it fails in a calm system. “Own loss here”: its loss in this scenario. Vulnerability: the entity's loss when others fail. "
        "“fail” adds the entity to the scenario's forced defaults; click a row to highlight it; click a header to sort.")


def panel() -> html.Div:
    return html.Div([
        html.P(NOTE, className="muted", id=ids.CRITICAL_NOTE),
        dash_table.DataTable(
            id=ids.CRITICAL_TABLE, columns=COLUMNS, data=[], sort_action="native", filter_action="native", page_action="native",
            page_size=15, style_table={"overflowX": "auto"}, cell_selectable=True,
            style_cell={"fontFamily": "inherit", "fontSize": 12, "padding": "3px 6px", "maxWidth": 180, "overflow": "hidden",
                        "textOverflow": "ellipsis", "whiteSpace": "nowrap"},
            style_header={"fontWeight": 600, "whiteSpace": "normal", "height": "auto", "backgroundColor": "#f3f5f7"},
            style_data_conditional=[
                {"if": {"filter_query": f'{{status}} = "{s}"', "column_id": "status"}, "backgroundColor": c, "color": "#000"}
                for s, c in STATUS_COLOURS.items()
            ] + [{"if": {"state": "active"}, "backgroundColor": "#dbe9f6", "border": "1px solid #0072B2"},
                 {"if": {"column_id": "fail"}, "color": "#0072B2", "fontWeight": 600, "cursor": "pointer"}],
            # the scenario's columns come first and fit a 640 px side column at 1920 px; the rest scroll
            style_cell_conditional=[{"if": {"column_id": "name"}, "maxWidth": 140, "width": 140},
                                    {"if": {"column_id": "fail"}, "width": 50, "maxWidth": 50, "minWidth": 50},
                                    {"if": {"column_id": "added_rank"}, "width": 52, "maxWidth": 52},
                                    *[{"if": {"column_id": c}, "width": 80, "maxWidth": 80, "minWidth": 64}
                                      for c in ("added_musd", "importance_musd", "loss_musd", "status")]],
        ),
    ], className="critical-panel")


@callback(
    Output(ids.CRITICAL_TABLE, "data"),
    Output(ids.CRITICAL_NOTE, "children"),
    Input(ids.SCENARIO, "data"),
    Input(ids.TABS, "value"),
    State(ids.NETWORK, "data"),
    prevent_initial_call=True,
)
@guarded(2, 1)
def on_scenario(scenario, tab, network_store):
    """Fill the table when its tab is open (opening the tab fills it for the scenario on screen)."""
    if tab != "critical":
        raise PreventUpdate
    network = network_from_store(network_store)
    if network.n_entities > limits.MAX_ROWS["entities"]:
        raise DataValidationError([Problem(network.name or "network", None, "entities", f"{network.n_entities:,} rows",
                                           f"at most {limits.MAX_ROWS['entities']:,} entities for the ranking on the page "
                                           f"(it holds one loss per pair of entities). Run `sfm rank` on the dataset instead.", "record")])
    importance = systemic_importance(network)
    sc = parse_scenario(scenario, file="page") if scenario else None
    result = simulate(network, sc) if sc is not None else None
    rows = table_rows(network, importance, result)
    if sc is not None:  # the ranking given the scenario on screen (dashboard/critical_given.py)
        rows = critical_given.add_columns(rows, critical_given.added_loss(network, sc))
    return rows, NOTE
