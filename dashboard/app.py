"""The app factory: ``create_app(data)`` builds the page for a network; ``run`` serves it.

* ``python -m dashboard`` or ``sfm dashboard`` start the development server;
* ``gunicorn dashboard.app:server`` serves the module-level app, built from
  ``$SFM_DATA_PATH`` (a shipped snapshot's name, a dataset folder or JSON file) or
  the newest shipped snapshot; the page switches to any shipped snapshot
  (``?snapshot=crypto-2022-05``, :mod:`dashboard.snapshots`).

Page layout (CSS grid in ``assets/sfm.css``)::

    ┌ header: name, dataset, presets, scenario save/open/link, export ───────────┐
    │ controls  │ headline figures               │ tabs: Impact · Critical nodes │
    │ (shocks,  │ graph + legend                 │       · Entity · Data         │
    │ safeguards)│ animation bar                  │                              │
    └────────────────────────────────────────────────────────────────────────────┘

The layout is a function (:func:`page`): the first page already holds the run
of the scenario in the link (or the calm default) — graph classes, charts,
headline, slider, entity card — so nothing waits for a callback after load.
The link is read from the layout request's ``Referer`` (the page's own URL);
if a proxy strips it, ``sfm.checkLink`` sends the link to the server instead.

Callbacks are declared with ``dash.callback`` in the panel modules. Dash hands
such callbacks to the first app that serves a request, so this module takes
them once at import and gives every app it creates its own copy: several apps
(a test's, gunicorn's) can live in one process.

Background callbacks (Monte Carlo, sweeps) run through
:func:`background_manager` (:mod:`dashboard.jobs`): ``DiskcacheManager`` on the
user's private job store by default, ``CeleryManager`` when ``$SFM_CELERY_BROKER``
holds a Redis URL (then start workers with ``celery -A dashboard.app:celery_app worker``).
An unsafe store stops the start with a message.
"""

from __future__ import annotations

import functools
import logging
import os
from typing import Any
from urllib.parse import urlsplit

# First: an unsafe job store stops a server's start before the engine and the page's modules are imported.
from . import store_gate  # noqa: F401 - imported for its check

import flask
from dash import Dash, dcc, html
from dash import _callback as _dash_callback

from core import datasets
from core.network import Network
from core.resources import shipped_folder
from core.scenario import Scenario

# the panel modules register their callbacks when imported
from . import (
    bundles,
    cascade,
    charts,
    controls,
    critical,
    detail,
    export,
    graph,
    graph_frames,
    ids,
    limits,
    jobs,
    montecarlo,
    rounds,
    scenarios,
    story,
    sensitivity,
    snapshots,
    upload,
    venues,
)
from .state import (  # noqa: F401 - load and FALLBACK stay importable from here
    BASE_NETWORK_KEY,
    FALLBACK,
    load,
    encode_scenario,
    error_message,
    network_store,
    parse_query,
    link_snapshot,
    snapshot_store,
)

log = logging.getLogger("sfm.dashboard")

ASSETS = shipped_folder("dashboard", "assets")

_CALLBACK_MAP = dict(_dash_callback.GLOBAL_CALLBACK_MAP)
_CALLBACK_LIST = list(_dash_callback.GLOBAL_CALLBACK_LIST)
_dash_callback.GLOBAL_CALLBACK_MAP.clear()
_dash_callback.GLOBAL_CALLBACK_LIST.clear()


def page_query() -> str:
    """The query string of the page being loaded ('' outside a request or without a same-origin Referer).

    The browser asks for the layout (``/_dash-layout``) from the page itself, so
    the request's Referer is the page's URL, link included.
    """
    if not flask.has_request_context():
        return ""
    ref = flask.request.referrer
    if not ref:
        return ""
    parts = urlsplit(ref)
    if parts.netloc and parts.netloc != flask.request.host:
        return ""
    return parts.query


def initial_view(network: Network, query: str = "") -> dict[str, Any]:
    """The view a link (``?s=…&cmp=1&r=…&e=…``, or nothing) opens: the run and every panel's first content.

    The preset menu shows the preset the link names (``p=``), else the one the link's scenario is named after
    (a preset's link, once the page has written the scenario into it, or a saved preset).

    A bad link gives the calm default view and a message, never an error page.
    """
    message = None
    try:
        q = parse_query(query)
        sc = q.get("scenario", Scenario())
        compare = bool(q.get("compare"))
        view = cascade.run_view(network, sc, compare, {"round": q.get("round")})
    except Exception as exc:  # a bad link shows a message and the default view (error_message logs a server fault)
        q, sc, compare, message = {}, Scenario(), False, error_message(exc)
        view = cascade.run_view(network, sc, False)
    entity = q.get("entity")
    highlight: dict[str, Any] = detail.no_highlight(view["frames"]["run"])
    card = None
    if entity:
        card, found = detail.card(network, view["result"], entity, view["frames"]["labels"])
        highlight = {"run": view["frames"]["run"], **found}
    classes = graph_frames.round_classes(view["frames"], view["round"], highlight)
    scenario = sc.model_dump(mode="json")
    return {"preset": q.get("preset") or scenarios.preset_of(sc, datasets.snapshot_of(network)),
        "scenario": sc, "scenario_json": scenario, "url_scenario": encode_scenario(scenario), "compare": compare,
        "view": view, "entity": entity, "highlight": highlight, "card": card, "message": message,
        "elements": graph.elements(network, classes, view["frames"].get("labels")) + highlight.get("extras", []), "label": graph_frames.round_label(view["frames"], view["round"]),
        "query": query,
    }


def page(network: Network, note: str = "", query: str | None = None) -> html.Div:
    """The whole page for a network, showing the view of the link ``query`` (default: the request's).

    A pure function of its arguments, so it is memoised per process (:func:`_page`): the
    layout request is on the path of every first load, and building the page costs
    tens of ms (the run's frames, the graph's elements, the charts), serialising it a few more.
    Dash only reads the returned components (it wraps them, never changes them).
    """
    return _page(network, note, page_query() if query is None else query)


def link_network(base: Network, query: str) -> tuple[Network, dict[str, Any]]:
    """The network a link shows and its store value: the shipped snapshot of ``?snapshot=``, else the served one.

    A bad snapshot name shows the served network (:func:`initial_view` then says what is wrong with the link).
    """
    name = link_snapshot(query)
    if name and name != datasets.snapshot_of(base):
        return datasets.load(name), snapshot_store(name)
    return base, network_store(None)


@functools.lru_cache(maxsize=32)
def _page(base: Network, note: str, query: str) -> html.Div:
    network, store = link_network(base, query)
    current = datasets.snapshot_of(network)
    v = initial_view(network, query)
    view, sc = v["view"], v["scenario"]
    return html.Div(
        [
            dcc.Location(id=ids.URL, refresh=False),
            dcc.Store(id=ids.NETWORK, data=store),
            dcc.Store(id=ids.SCENARIO, data=v["scenario_json"]),
            dcc.Store(id=ids.SCENARIO_EXTRAS, data=controls.extras_of(sc)),
            dcc.Store(id=ids.FRAMES, data=view["frames"]),
            # the first run's charts and tables are drawn in the layout: the view holds its id only
            dcc.Store(id=ids.RUN_VIEW, data={"run": view["frames"]["run"], "outputs": None}),
            dcc.Store(id=ids.RUN_ID, data=view["frames"]["run"]),
            dcc.Store(id=ids.HIGHLIGHT, data=v["highlight"]),
            # (no store is left at None: a memory store set to None writes its data again on mount, which fires its callbacks)
            dcc.Store(id=ids.SELECTED, data=v["entity"] or ""),
            dcc.Store(id=ids.PENDING),
            dcc.Store(id=ids.URL_SCENARIO, data=v["url_scenario"]),
            dcc.Store(id=ids.URL_SINK),
            dcc.Store(id=ids.VIEW_QUERY, data=v["query"]),
            dcc.Store(id=ids.LINK, data=""),
            dcc.Store(id=ids.PD_OVERLAY, data={}),
            *montecarlo.stores(),
            html.Header(
                [
                    html.Div([html.H1("sfm"), html.Span("systemic failure lab", className="subtitle"),
                              html.Span(upload.describe(network), id=ids.DATASET_NAME, className="dataset")], className="brand"),
                    snapshots.switcher(current, None if datasets.snapshot_of(base) else (base.name or "served dataset")),
                    scenarios.panel(current, v["preset"]),
                    export.panel(),
                ],
                className="app-header",
            ),
            html.Div([html.Div(note, className="alert alert-info") if note else None], className="notes"),
            dcc.Loading(html.Div(v["message"], id=ids.MESSAGE, className="message"), type="dot", delay_show=400,
                        overlay_style={"visibility": "visible"}),
            html.Main(
                [
                    html.Aside(controls.panel(network, sc, v["compare"]), className="col-controls",
                               **{"aria-label": "Shock controls and safeguards"}),
                    html.Section([html.Div(view["headline"], id=ids.HEADLINE, className="headline"),
                                  graph.panel(network, v["elements"], view["round"], view["last"], v["label"])],
                                 id=ids.GRAPH_COLUMN, className="col-graph"),
                    html.Aside(
                        dcc.Tabs(
                            id=ids.TABS, value="detail" if v["entity"] else "impact", className="side-tabs",
                            children=[
                                dcc.Tab([charts.panel(view["figures"]), rounds.rounds_panel(view["rounds"]), venues.panel(view["perps"]), sensitivity.panel(network)],
                                        label="Impact", value="impact"),
                                dcc.Tab(critical.panel(), label="Critical nodes", value="critical",
                                        className=bundles.tab_class("dash_ag_grid")),
                                dcc.Tab([story.panel(), detail.panel(v["card"])], label="Entity", value="detail"),
                                dcc.Tab(montecarlo.panel(), label="Monte Carlo", value="montecarlo"),
                                dcc.Tab([upload.panel(), snapshots.diff_panel(current)], label="Data", value="data"),
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


#: Environment variable naming a Redis URL: background callbacks then go to Celery workers.
CELERY_ENV = jobs.CELERY_ENV
#: Environment variable naming the folder of the diskcache background-callback store.
CACHE_ENV = jobs.STORE_ENV
cache_dir = jobs.store_dir
background_manager = jobs.background_manager


def _own_copy(cb: dict[str, Any]) -> dict[str, Any]:
    out = dict(cb)
    if isinstance(out.get("background"), dict):  # Dash pops cancel inputs from it when an app starts
        out["background"] = dict(out["background"])
    return out


def _on_callback_error(exc: Exception) -> None:
    """Dash's handler for an exception no callback caught: the plain message (details to the log), nothing else changes."""
    from dash import set_props

    set_props(ids.MESSAGE, {"children": error_message(exc)})


def create_app(data: str | os.PathLike[str] | Network | None = None) -> Dash:
    """Build the Dash app for the network at ``data`` (a folder of CSV files or a JSON file; default: shipped).

    Raises :class:`dashboard.jobs.JobStoreError` first when the job store is unsafe.
    """
    manager = background_manager(os.environ.get(CELERY_ENV) or None)
    secret = jobs.app_secret()
    network, note = load(data)
    # No cyto.load_extra_layouts(): its 1.4 MB bundle only added SVG export, which graph_svg draws on the server.
    app = Dash(
        __name__, assets_folder=str(ASSETS), title="sfm · systemic failure lab", update_title=None,
        serve_locally=True, meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
        background_callback_manager=manager,
        on_error=_on_callback_error,  # a callback without its own guard: a plain message, never a traceback
        # plotly.js is loaded by dcc.Graph when a chart first mounts (assets/sfm.js), not as a page script
        assets_ignore=r"plotly-cartesian\.min\.js$",
    )
    bundles.defer(app)  # the critical-nodes grid's 1.3 MB bundle loads when its tab is about to open
    jobs.bind(app, secret)  # the secret that signs job handles: never kept in the evictable result store
    app.server.config[BASE_NETWORK_KEY] = network
    limits.bound_requests(app)  # body cap and its message; no Python version in _dash-config
    snapshots.redirect_presets_home(app)  # ?p=<preset> of another snapshot: that snapshot's page, both in the link
    app.validation_layout = page(network, note, "")
    app.layout = functools.partial(page, network, note)
    app.callback_map.update({k: _own_copy(v) for k, v in _CALLBACK_MAP.items()})
    app._callback_list.extend(dict(c) for c in _CALLBACK_LIST)
    return app


def run(data: str | None = None, host: str = "127.0.0.1", port: int = 8050, debug: bool = False) -> None:
    """Serve the dashboard (development server; use gunicorn ``dashboard.app:server`` in production)."""
    create_app(data).run(host=host, port=port, debug=debug, dev_tools_disable_version_check=True)


try:
    app = create_app(os.environ.get("SFM_DATA_PATH"))
except jobs.JobStoreError as _exc:  # an unsafe job store: a message, no traceback, no start
    jobs.refuse_to_start(_exc)
server = app.server
#: The Celery application when ``$SFM_CELERY_BROKER`` is set (``celery -A dashboard.app:celery_app worker``).
celery_app = getattr(app._background_manager, "handle", None) if os.environ.get(CELERY_ENV) else None
