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

The table is a ``dash-ag-grid`` grid (``dash_table`` is deprecated in Dash 4.4): every column sorts and
filters (a filter row under the headers), and "Download CSV" exports the rows as filtered and sorted on screen.
Numbers are formatted in the browser (d3-format), so the CSV carries every digit. The grid opens on the columns of
the scenario on screen and "Alone", which fit the side panel at 1366 px without sideways scrolling; the calm network's
other columns are a tick away ("More columns"), and the CSV carries them all.

The rows are of one run, named by its id (:data:`~dashboard.ids.RUN_ID`, sent with the frames): the grid is filled
again for each new run while its tab is open, and the id of the run its rows are of goes to
:data:`~dashboard.ids.CRITICAL_RUN`, so that ``sfm.renderRound`` marks the grid computing beside another run's frames
(the ranking's round trip after a scenario change, or a run made while the tab was closed). The grid draws its new
rows a render or more after it is handed them (assets/sfm_run_cells.js says why), so each row carries its run too, the
cells of :data:`RUN_COLUMNS` are drawn by the page's ``RunCell``, which writes the runs of the cells on screen to
:data:`~dashboard.ids.CRITICAL_SHOWN`, and the grid is shown only when those are the run drawn
(:func:`dashboard.graph_frames.grid_run`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import dash_ag_grid as dag
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from core.network import Network
from core.scenario import parse_scenario
from core.validation import DataValidationError, Problem

from . import critical_given, graph_frames, ids, limits
from .graph_legend import STATUS_COLOURS
from .state import dated, error_message, network_from_store, simulate, systemic_importance

def _number(d3_format: str) -> dict[str, str]:
    """A numeric column's browser-side format (d3-format); an empty cell stays empty."""
    return {"function": f"params.value == null ? '' : d3.format('{d3_format}')(params.value)"}


_MONEY, _MONEY0, _PCT, _NUM = _number(",.1f"), _number(",.0f"), _number(".1%"), _number(".3f")

#: (field, header, format or None for text, width in px). The scenario's columns first: shown, they fit the grid of a
#: 470 px side column at 1366 px (446 px inside its borders) with no sideways scrolling, the Entity column taking what
#: the others leave (104 px at 1366 px, 274 at 1920; a longer name elides and reads whole in its tooltip). Cells are
#: of 13 px IBM Plex Sans and headers of 12 px (assets/sfm.css), padded 6 px a side; a header breaks only between
#: words and its sort arrow goes under its text where they do not fit side by side, so each column is as wide as the
#: wider of its longest header word and its widest cell, plus 12 px: "Rank" 28.0 px: 48; "256,000" 47.0 and
#: "(USD M)" 46.7: 60; "liquidating" 58.5: 72; "Vulnerability" 64.9: 88.
_COLUMNS: list[tuple[str, str, dict[str, str] | None, int]] = [
    ("name", "Entity", None, 96),
    ("fail", "", None, 40),
    ("added_rank", "Rank here", _number("d"), 48),
    ("added_musd", "Adds here (USD M)", _MONEY0, 60),
    ("importance_musd", "Alone (USD M)", _MONEY0, 60),
    ("loss_musd", "Own loss here (USD M)", _MONEY0, 62),  # "loss here" 48.6 px on one line: three lines, not four
    ("status", "Ends", None, 72),
    ("type", "Type", None, 120),
    ("importance_share", "Importance (% of system equity)", _PCT, 88),
    ("debtrank", "DebtRank", _NUM, 76),
    ("vulnerability_musd", "Vulnerability (USD M)", _MONEY, 88),
    ("vulnerability_share", "Vulnerability (% of own equity)", _PCT, 88),
]
#: The calm network's columns besides "Alone", hidden until asked for under "More columns" (:data:`MORE_OPTIONS`):
#: shown, they scroll sideways, the Entity column at its 96 px. The CSV carries every column, shown or not.
MORE: dict[str, str] = {"type": "Type", "importance_share": "Importance (%)", "debtrank": "DebtRank",
                        "vulnerability_musd": "Vulnerability (USD M)", "vulnerability_share": "Vulnerability (%)"}
MORE_OPTIONS = [{"label": label, "value": field} for field, label in MORE.items()]
#: The columns whose numbers are of the run on screen (the rest are of the calm network): drawn by the page's
#: ``RunCell`` (assets/sfm_run_cells.js), which says which run the text on screen is of, and drawn again with every new
#: row (``equals`` false: AG Grid would leave a cell of equal value as it was, still saying the old run).
RUN_COLUMNS = ("fail", "added_rank", "added_musd", "loss_musd", "status")
RUN_CELLS = {"cellRenderer": "RunCell", "cellRendererParams": {"store": ids.CRITICAL_SHOWN}, "equals": {"function": "false"}}
_STATUS_STYLE = {"styleConditions": [{"condition": f"params.value === '{s}'", "style": {"backgroundColor": c, "color": "#000"}}
                                     for s, c in STATUS_COLOURS.items()]}


def _column(field: str, header: str, fmt: dict[str, str] | None, width: int) -> dict[str, Any]:
    col: dict[str, Any] = {"field": field, "headerName": header, "width": width, "minWidth": min(width, 40)}
    if fmt is not None:
        col |= {"valueFormatter": fmt, "filter": "agNumberColumnFilter", "type": "rightAligned"}
    else:
        col |= {"filter": "agTextColumnFilter"}
    if field == "fail":
        col |= {"filter": False, "sortable": False, "cellClass": "grid-action", "headerTooltip": "Add the entity to the forced defaults"}
    if field == "status":
        col["cellStyle"] = _STATUS_STYLE
    if field == "name":  # takes the room the other columns leave, 96 px at the least; a long name elides and shows
        col |= {"flex": 1, "minWidth": width, "tooltipField": "name"}  # in full on hovering it
    if field in RUN_COLUMNS:
        col |= RUN_CELLS
    return col


def columns(more: list[str] | None = None) -> list[dict[str, Any]]:
    """The grid's columns (ag-grid ``columnDefs``), those of :data:`MORE` hidden unless named in ``more``."""
    shown = set(more or ())
    return [_column(*c) | {"hide": c[0] in MORE and c[0] not in shown} for c in _COLUMNS]


#: The grid's columns as the tab opens: the scenario's and "Alone".
COLUMNS: list[dict[str, Any]] = columns()


def table_rows(network: Network, importance: pd.DataFrame, result=None) -> list[dict[str, Any]]:
    """One row per entity, sorted by importance, with ``id`` = entity id (the grid's row id)."""
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


NOTE = ("Rank and “adds here”: what the entity's failure adds to the rest of the system's loss in the scenario on screen "
        "(one batched run). “Alone”: the rest of the system's loss if only it fails in a calm system. “Own loss here”: its loss in this scenario. Vulnerability: the entity's loss when others fail. "
        "“fail” adds the entity to the scenario's forced defaults; click a row to highlight it; click a header to sort, type under it to filter.")


def panel() -> html.Div:
    """The tab: the note, "Download CSV" beside the choice of more columns, and the grid, empty (and marked computing)
    until the tab is first opened."""
    return html.Div([
        html.P(NOTE, className="muted", id=ids.CRITICAL_NOTE),
        html.Div([
            html.Button("Download CSV", id=ids.CRITICAL_CSV, className="btn btn-small"),
            html.Span("More columns:", className="muted"),
            dcc.Checklist(id=ids.CRITICAL_MORE, options=MORE_OPTIONS, value=[], inline=True, className="critical-more"),
        ], className="critical-tools"),
        dcc.Store(id=ids.CRITICAL_RUN, data=""),
        dcc.Store(id=ids.CRITICAL_SHOWN, data=[]),  # written by the page: the runs of the grid's cells on screen
        html.Div(dag.AgGrid(
            id=ids.CRITICAL_TABLE, columnDefs=COLUMNS, rowData=[], getRowId="params.data.id",
            defaultColDef={"sortable": True, "filter": True, "floatingFilter": True, "resizable": True,
                           "wrapHeaderText": True, "autoHeaderHeight": True,
                           "useValueFormatterForExport": False},  # the CSV carries the numbers, not their display
            dashGridOptions={"pagination": True, "paginationPageSize": 15, "paginationPageSizeSelector": False,
                             "suppressCellFocus": False, "animateRows": False, "tooltipShowDelay": 300},
            csvExportParams={"fileName": "critical_nodes.csv", "allColumns": True},  # the hidden columns too
            style={"height": 560, "width": "100%"}, className="critical-grid",
        ), id=ids.CRITICAL_ROWS,  # of no run yet: computing until the tab is opened and filled
           className=f"{graph_frames.RUN_PANELS[ids.CRITICAL_ROWS]} {graph_frames.COMPUTING}"),
    ], className="critical-panel")


@callback(
    Output(ids.CRITICAL_TABLE, "exportDataAsCsv"),
    Input(ids.CRITICAL_CSV, "n_clicks"),
    prevent_initial_call=True,
)
def on_csv(_n):
    """Export the grid's rows (as filtered and sorted on screen) to a CSV file."""
    return True


@callback(
    Output(ids.CRITICAL_TABLE, "columnDefs"),
    Input(ids.CRITICAL_MORE, "value"),
    prevent_initial_call=True,
)
def on_more(more):
    """Show the columns of :data:`MORE` ticked under "More columns" (the grid keeps its sort and filters)."""
    return columns(more)


@callback(
    Output(ids.CRITICAL_TABLE, "rowData"),
    Output(ids.CRITICAL_NOTE, "children"),
    Output(ids.CRITICAL_RUN, "data"),
    Input(ids.RUN_ID, "data"),
    Input(ids.TABS, "value"),
    State(ids.SCENARIO, "data"),
    State(ids.NETWORK, "data"),
    State(ids.CRITICAL_RUN, "data"),
    prevent_initial_call=True,
)
def on_scenario(run, tab, scenario, network_store, rows_run=None):
    """Fill the table for the run ``run`` (the scenario store's) when its tab is open (opening the tab fills it for the
    run on screen), with the run's id, in the store and in every row; a bad input empties it and says why, never leaves
    an old run's rows."""
    if tab != "critical" or (run and rows_run == run):  # closed, or already showing this run
        raise PreventUpdate
    try:
        rows = ranking_rows(scenario, network_store)
    except Exception as exc:  # noqa: BLE001 - the message in the note, never a traceback
        return [], error_message(exc), run
    return [{**row, "run": run} for row in rows], NOTE, run


def ranking_rows(scenario: dict[str, Any] | None, network_store: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The grid's rows for the scenario-store value ``scenario`` on the network of ``network_store``."""
    network = network_from_store(network_store)
    if network.n_entities > limits.MAX_ROWS["entities"]:
        raise DataValidationError([Problem(network.name or "network", None, "entities", f"{network.n_entities:,} rows",
                                           f"at most {limits.MAX_ROWS['entities']:,} entities for the ranking on the page "
                                           f"(it holds one loss per pair of entities). Run `sfm rank` on the dataset instead.", "record")])
    sc = parse_scenario(scenario, file="page") if scenario else None
    network = dated(network, sc) if sc is not None else network  # the ranking, the run and the added losses alike
    importance = systemic_importance(network)
    result = simulate(network, sc) if sc is not None else None
    rows = table_rows(network, importance, result)
    if sc is not None:  # the ranking given the scenario on screen (dashboard/critical_given.py)
        rows = critical_given.add_columns(rows, critical_given.added_loss(network, sc))
    return rows
