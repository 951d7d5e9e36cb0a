"""The app factory: ``create_app(data)`` builds the page for a network; ``run`` serves it.

* ``python -m dashboard`` or ``sfm dashboard`` start the development server;
* ``gunicorn dashboard.app:server`` serves the module-level app, built from
  ``$SFM_DATA_PATH`` (a dataset folder or JSON file) or the shipped dataset.

Page layout (CSS grid in ``assets/sfm.css``)::

    ┌ header: name, dataset, presets, scenario save/open/link, export ───────────┐
    │ controls  │ headline figures               │ tabs: Impact · Critical nodes │
    │ (shocks,  │ graph + legend                 │       · Entity · Data         │
    │ safeguards)│ animation bar                  │                              │
    └────────────────────────────────────────────────────────────────────────────┘

Callbacks are declared with ``dash.callback`` in the panel modules. Dash hands
such callbacks to the first app that serves a request, so this module takes
them once at import and gives every app it creates its own copy: several apps
(a test's, gunicorn's) can live in one process.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import dash_cytoscape as cyto
from dash import Dash, dcc, html
from dash import _callback as _dash_callback

import core
from core import datasets
from core.network import Network

from . import ids
from . import cascade, charts, controls, critical, detail, export, graph, scenarios, upload  # noqa: F401 - registers callbacks
from .state import BASE_NETWORK_KEY, network_store

log = logging.getLogger("sfm.dashboard")

ASSETS = Path(__file__).resolve().parent.parent / "assets"
#: Synthetic network shown when the shipped dataset is not on disk (a development checkout).
FALLBACK = dict(n_entities=60, n_exposures=200, seed=1)

_CALLBACK_MAP = dict(_dash_callback.GLOBAL_CALLBACK_MAP)
_CALLBACK_LIST = list(_dash_callback.GLOBAL_CALLBACK_LIST)
_dash_callback.GLOBAL_CALLBACK_MAP.clear()
_dash_callback.GLOBAL_CALLBACK_LIST.clear()


def load(data: str | os.PathLike[str] | Network | None = None) -> tuple[Network, str]:
    """The network to serve, and a note for the page when it is not the one asked for."""
    if isinstance(data, Network):
        return data, ""
    data = data or os.environ.get("SFM_DATA_PATH") or None
    if data is not None:
        return core.load_network(data), ""
    if datasets.data_path(datasets.DEFAULT_DATASET).is_dir():
        return datasets.default(), ""
    log.warning("shipped dataset %s not found; serving a synthetic network", datasets.data_path(datasets.DEFAULT_DATASET))
    return datasets.synthetic(**FALLBACK), "The shipped dataset is not installed: this is a synthetic network."


def layout(network: Network, note: str = "") -> html.Div:
    return html.Div(
        [
            dcc.Location(id=ids.URL, refresh=False),
            dcc.Store(id=ids.NETWORK, data=network_store(None)),
            dcc.Store(id=ids.SCENARIO),
            dcc.Store(id=ids.SCENARIO_EXTRAS, data={}),
            dcc.Store(id=ids.FRAMES),
            dcc.Store(id=ids.HIGHLIGHT, data={"entity": None, "nodes": [], "edges": []}),
            dcc.Store(id=ids.SELECTED),
            dcc.Store(id=ids.PENDING),
            dcc.Store(id=ids.URL_SCENARIO),
            dcc.Store(id=ids.URL_SINK),
            html.Header(
                [
                    html.Div([html.H1("sfm"), html.Span("systemic failure lab", className="subtitle"),
                              html.Span(upload.describe(network), id=ids.DATASET_NAME, className="dataset")], className="brand"),
                    scenarios.panel(),
                    export.panel(),
                ],
                className="app-header",
            ),
            html.Div([html.Div(note, className="alert alert-info") if note else None], className="notes"),
            dcc.Loading(html.Div(id=ids.MESSAGE, className="message"), type="dot", delay_show=400, overlay_style={"visibility": "visible"}),
            html.Main(
                [
                    html.Aside(controls.panel(network), className="col-controls", **{"aria-label": "Shock controls and safeguards"}),
                    html.Section([html.Div(id=ids.HEADLINE, className="headline"), graph.panel(network)], className="col-graph"),
                    html.Aside(
                        dcc.Tabs(
                            id=ids.TABS, value="impact", className="side-tabs",
                            children=[
                                dcc.Tab(charts.panel(), label="Impact", value="impact"),
                                dcc.Tab(critical.panel(), label="Critical nodes", value="critical"),
                                dcc.Tab(detail.panel(), label="Entity", value="detail"),
                                dcc.Tab(upload.panel(), label="Data", value="data"),
                            ],
                        ),
                        className="col-side",
                    ),
                ],
                className="app-main",
            ),
        ],
        className="app",
    )


def create_app(data: str | None = None) -> Dash:
    """Build the Dash app for the network at ``data`` (a folder of CSV files or a JSON file; default: shipped)."""
    network, note = load(data)
    cyto.load_extra_layouts()  # the extra bundle is what provides SVG export
    app = Dash(
        __name__, assets_folder=str(ASSETS), title="sfm · systemic failure lab", update_title=None,
        serve_locally=True, meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    app.server.config[BASE_NETWORK_KEY] = network
    app.layout = layout(network, note)
    app.callback_map.update({k: dict(v) for k, v in _CALLBACK_MAP.items()})
    app._callback_list.extend(dict(c) for c in _CALLBACK_LIST)
    return app


def run(data: str | None = None, host: str = "127.0.0.1", port: int = 8050, debug: bool = False) -> None:
    """Serve the dashboard (development server; use gunicorn ``dashboard.app:server`` in production)."""
    create_app(data).run(host=host, port=port, debug=debug, dev_tools_disable_version_check=True)


app = create_app(os.environ.get("SFM_DATA_PATH"))
server = app.server
