"""Snapshots on the page: the switcher, the preset menu grouped by snapshot, and the comparison of two snapshots.

* The page shows one shipped snapshot at a time (``core.datasets.available()``);
  the link keeps it (``?snapshot=crypto-2022-05``) and the first page is built on
  it (:func:`dashboard.app.page`). The network store then holds
  ``{"source": "snapshot", "name": ...}`` (:func:`dashboard.state.snapshot_store`):
  per-user state in the page, the networks themselves read-only and shared.
* Switching snapshot loads the page again on the new one (everything on screen,
  the controls included, depends on the network): the switcher's callback sets
  the href of a refreshing ``dcc.Location``. So does choosing a preset written
  for another snapshot (``?snapshot=…&p=<preset>``): the page opens on that
  snapshot with the preset applied. A link naming a preset of another snapshot and
  no snapshot (``?p=terra_may_2022``) is sent on to the preset's own snapshot
  (:func:`redirect_presets_home`), and the address then names both.
* The preset menu lists the presets under the snapshot they belong to (a disabled
  heading per snapshot), the current snapshot's first.
* The comparison (Data tab) runs :func:`core.snapshot_diff.compare` on two shipped
  snapshots and shows its tables and a chart of the loss the standard shocks cause
  on each. It computes nothing itself.
"""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import parse_qs, urlencode

from dash import Input, Output, State, callback, dcc, html, no_update

from core import datasets
from core.formatting import figure
from core.scenario import Scenario
from core.validation import DataValidationError, Problem

from . import ids
from .state import error_message, snapshot_of_store, usd

#: Prefix of the disabled headings in the preset menu (never a preset key: keys are file stems).
HEADING = "snapshot:"


# -- the switcher and the preset menu ------------------------------------------------------------

def snapshot_options(current: str | None, custom_name: str | None = None) -> list[dict[str, Any]]:
    """The switcher's options: each shipped snapshot with its date, plus the served dataset when it is not one."""
    opts = [{"label": s.name, "value": s.name, "title": f"The system on {s.date}. {s.description}"} for s in datasets.available()]
    if custom_name is not None:
        opts.append({"label": f"{custom_name} (served)", "value": "", "title": "The dataset the server was started with"})
    return opts


def switcher(current: str | None, custom_name: str | None = None) -> html.Div:
    """The snapshot menu (its value: the snapshot on screen, '' for a served dataset that is not one) and the navigator."""
    return html.Div([
        html.Label("Snapshot", htmlFor=ids.SNAPSHOT, className="snapshot-label"),
        dcc.Dropdown(id=ids.SNAPSHOT, options=snapshot_options(current, custom_name), value=current or "",
                     clearable=False, searchable=False, className="snapshot-menu"),
        dcc.Location(id=ids.NAVIGATE, refresh=True),
    ], className="snapshot-bar")


def preset_options(current: str | None) -> list[dict[str, Any]]:
    """Presets grouped under the snapshot they belong to: a disabled heading per shipped snapshot (the one on
    screen first, then by date; "no presets yet" when it has none), then its presets.

    Presets that name no snapshot come last, under "any network". A preset file that does not
    validate is left out (``sfm validate`` reports it), so the page never fails on it.
    """
    from .scenarios import presets, preset_title

    by: dict[str | None, list[tuple[str, Scenario]]] = {}
    for key, sc in presets().items():
        by.setdefault(sc.snapshot, []).append((key, sc))
    dates = {s.name: s.date for s in datasets.available()}
    order = sorted(set(dates) | {k for k in by if k is not None}, key=lambda k: (k != current, dates.get(k, ""), k))
    out: list[dict[str, Any]] = []
    for snap in order + ([None] if None in by else []):
        head = (f"{snap} ({dates.get(snap, '')})" + (" · on screen" if snap == current else "")
                + ("" if by.get(snap) else " · no presets yet")) if snap else "any network"
        out.append({"label": head, "value": f"{HEADING}{snap or ''}", "disabled": True})
        out += [{"label": preset_title(key, sc), "value": key,
                 "title": (f"Parameters in force on {sc.date}. " if sc.date else "") + sc.description}
                for key, sc in by.get(snap, [])]
    return out


def preset_link(key: str, snapshot: str) -> str:
    """The link that opens ``snapshot`` with the preset ``key`` applied."""
    return "?" + urlencode({"snapshot": snapshot, "p": key})


@callback(
    Output(ids.NAVIGATE, "href"),
    Input(ids.SNAPSHOT, "value"),
    Input(ids.PRESET, "value"),
    State(ids.NETWORK, "data"),
    prevent_initial_call=True,
)
def on_snapshot(snapshot, preset, store):
    """Load the page again on another snapshot: the one chosen, or the one of a preset written for another."""
    from dash import ctx

    try:
        current = snapshot_of_store(store)
        if ctx.triggered_id == ids.SNAPSHOT:
            if snapshot == (current or ""):
                return no_update
            return "?" + urlencode({"snapshot": snapshot}) if snapshot else "?"
        if not isinstance(preset, str) or not preset or preset.startswith(HEADING):
            return no_update
        from .scenarios import presets

        sc = presets().get(preset)
        if sc is None or not sc.snapshot or sc.snapshot == current:
            return no_update  # applied on this page by scenarios.on_scenario_source
        return preset_link(preset, sc.snapshot)
    except Exception:  # noqa: BLE001 - a stale store or menu value: stay on the page
        return no_update


def other_snapshot(preset: Any, store: Any) -> str | None:
    """The snapshot a preset belongs to when it is not the one on screen (the page then switches), else None."""
    from .scenarios import presets

    sc = presets().get(preset) if isinstance(preset, str) else None
    if sc is None or not sc.snapshot:
        return None
    return sc.snapshot if sc.snapshot != snapshot_of_store(store) else None


def preset_home(query: str) -> str | None:
    """The link a link naming a preset but no snapshot (``?p=terra_may_2022``) is sent on to: the same link naming
    the preset's own snapshot first (``?snapshot=crypto-2022-05&p=terra_may_2022``), when that is not the snapshot
    the server shows; else None.

    A preset belongs to the snapshot it was written for (its entities and assets are that network's): opened on
    another, it could only list what that network lacks. A link naming a snapshot keeps it (both named is what the
    analyst asked for); an unknown preset is left to :func:`dashboard.state.parse_query` to report.
    """
    try:
        q = parse_qs((query or "").lstrip("?"), max_num_fields=20)
    except ValueError:
        return None
    key = (q.get("p") or q.get("preset") or [""])[0]
    if "snapshot" in q or not key:
        return None
    home = other_snapshot(key, {"source": "base"})
    return "?" + urlencode({"snapshot": home}) + "&" + query.lstrip("?") if home else None


def redirect_presets_home(app: Any) -> None:
    """Send a page request whose link names a preset of another snapshot on to that snapshot (:func:`preset_home`):
    the page opens there, and its address names both."""
    import flask

    page_path = app.config.requests_pathname_prefix

    @app.server.before_request
    def _preset_home():
        req = flask.request
        if req.method != "GET" or req.path != page_path or not req.query_string:
            return None
        target = preset_home(req.query_string.decode("utf-8", "replace"))
        return flask.redirect(page_path + target, code=302) if target else None


# -- the comparison -------------------------------------------------------------------------------

@functools.lru_cache(maxsize=8)
def _diff(a: str, b: str):
    from core.snapshot_diff import compare

    return compare(datasets.load(a), datasets.load(b))


def diff_of(a: Any, b: Any):
    """The comparison of two shipped snapshots, by name; an unknown name is a validation error listing them."""
    names = datasets.snapshot_names()
    bad = [Problem("snapshot comparison", None, side, v, "a shipped snapshot: " + ", ".join(names))
           for side, v in (("A", a), ("B", b)) if v not in names]
    if bad:
        raise DataValidationError(bad)
    return _diff(a, b)


def _table(head: list[str], rows: list[list[Any]], caption: str) -> html.Table:
    return html.Table([html.Caption(caption), html.Thead(html.Tr([html.Th(h) for h in head])),
                       html.Tbody([html.Tr([html.Td(c) for c in r]) for r in rows])], className="diff-table")


def diff_tables(d) -> list[Any]:
    """The comparison's tables (overview, standard shocks, critical nodes, entities by type, leverage, exposures)."""
    from core.snapshot_diff import MEASURE_UNITS

    a, b = d.a, d.b
    out = [_table(["", a, b], [[r.measure, figure(r.a, MEASURE_UNITS.get(r.measure, "int")),
                                figure(r.b, MEASURE_UNITS.get(r.measure, "int"))] for r in d.overview.itertuples()], "Overview")]
    rows = []
    for r in d.shocks.itertuples():
        side = a if r.side == "a" else b
        if isinstance(r.note, str) and r.note:
            rows.append([r.shock, side, "not applicable", r.note, "", "", ""])
        else:
            rows.append([r.shock, side, str(r.target), figure(r.loss_usd, "usd"), figure(r.loss_share, "share"),
                         figure(r.defaults, "int"), figure(r.bad_debt_usd, "usd")])
    out.append(_table(["shock", "snapshot", "target", "loss", "share of equity", "defaults", "bad debt"], rows,
                      "Standard shocks (targets from each snapshot's own data)"))
    out.append(_table(["#", a, "loss", b, "loss"],
                      [[r.rank, str(r.a_name), figure(r.a_loss_usd, "usd"), str(r.b_name), figure(r.b_loss_usd, "usd")]
                       for r in d.critical.itertuples()], "Critical nodes: system loss if the entity fails alone"))
    out.append(_table(["type", a, b, "change"], [[r.type, r.a, r.b, f"{r.change:+d}"] for r in d.entities_by_type.itertuples()],
                      "Entities by type"))
    out.append(_table(["type", f"{a} assets/equity", f"{b} assets/equity"],
                      [[r.type, figure(r.a, "x"), figure(r.b, "x")] for r in d.leverage.itertuples()], "Leverage"))
    out.append(_table(["kind", a, b], [[r.kind, usd(r.a_usd), usd(r.b_usd)] for r in d.exposures.itertuples()],
                      "Exposures by kind"))
    return out


def diff_figure(d) -> dict[str, Any]:
    """Grouped bars: the system loss (share of equity) each standard shock causes on each snapshot."""
    traces = []
    for side, name, colour in (("a", d.a, "#56B4E9"), ("b", d.b, "#D55E00")):
        s = d.shocks[d.shocks["side"] == side]
        y = [100 * v if v == v else None for v in s["loss_share"].to_numpy(dtype=float)]
        text = [f"{usd(v)}" if v == v else "n/a" for v in s["loss_usd"].to_numpy(dtype=float)]
        x = [_TICK.get(k, k) for k in s["shock"]]
        traces.append({"type": "bar", "name": name, "x": x, "y": y, "text": text, "textposition": "outside",
                       "cliponaxis": False, "marker": {"color": colour},
                       "hovertemplate": "%{x}<br>" + name + ": %{y:.1f}% of system equity (%{text})<extra></extra>"})
    return {"data": traces, "layout": {
        "barmode": "group", "height": 320, "margin": {"l": 50, "r": 10, "t": 60, "b": 50},
        "title": {"text": "Loss from the same shocks (share of system equity)", "font": {"size": 13}},
        "xaxis": {"tickangle": 0, "automargin": True},
        "yaxis": {"title": {"text": "% of system equity"}, "rangemode": "tozero", "ticksuffix": "%", "automargin": True},
        "legend": {"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"}, "font": {"size": 11}}}


#: The standard shocks as the chart's axis writes them (two short lines each).
_TICK = {"ETH -30%": "ETH −30%", "BTC -30%": "BTC −30%", "largest stablecoin -10%": "largest stablecoin<br>−10% (depeg)",
         "largest exchange fails": "largest exchange<br>fails"}


def diff_panel(current: str | None) -> html.Div:
    """The comparison view: two menus (the 2022 snapshot and the one on screen by default), a chart and tables."""
    names = datasets.snapshot_names()
    b = current if current in names else (names[-1] if names else None)
    a = next((n for n in reversed(names) if n != b and n <= (b or "")), names[0] if names else None)
    opts = [{"label": s.name, "value": s.name, "title": f"The system on {s.date}"} for s in datasets.available()]
    return html.Div([
        html.H3("Compare snapshots", className="section-title"),
        html.P(["The same standard shocks on two systems (ETH −30%, BTC −30%, the largest stablecoin 10% below its peg, "
               "the largest exchange failing; each target from that snapshot's own data), with entities, leverage, "
               "exposures and the critical nodes of each. The same figures as ", html.Code("sfm snapshot diff A B"), "."],
               className="muted"),
        html.Div([dcc.Dropdown(id=ids.DIFF_A, options=opts, value=a, clearable=False, searchable=False, className="diff-menu"),
                  html.Span("vs"),
                  dcc.Dropdown(id=ids.DIFF_B, options=opts, value=b, clearable=False, searchable=False, className="diff-menu"),
                  html.Button("Compare", id=ids.DIFF_RUN, className="btn btn-small")], className="diff-controls"),
        dcc.Loading(html.Div([dcc.Graph(id=ids.DIFF_CHART, figure={"data": [], "layout": {"height": 40}},
                                        config={"displaylogo": False}, style={"display": "none"}),
                              html.Div(id=ids.DIFF_TABLES, className="diff-tables")]), type="dot", delay_show=300),
    ], className="diff-panel")


@callback(
    Output(ids.DIFF_CHART, "figure"),
    Output(ids.DIFF_CHART, "style"),
    Output(ids.DIFF_TABLES, "children"),
    Input(ids.DIFF_RUN, "n_clicks"),
    State(ids.DIFF_A, "value"),
    State(ids.DIFF_B, "value"),
    prevent_initial_call=True,
)
def on_diff(_n, a, b):
    try:
        d = diff_of(a, b)
    except Exception as exc:  # noqa: BLE001 - a message, never a traceback
        return no_update, no_update, error_message(exc)
    return diff_figure(d), {"display": "block"}, diff_tables(d)

