"""Present: the graph as PNG or SVG, and a one-page HTML report that opens offline.

* PNG comes straight from the browser (dash-cytoscape ``generateImage``).
* SVG is drawn on the server by :mod:`dashboard.graph_svg` from the elements on
  screen (their positions, so a node the user dragged stays where it is) and the
  classes of the round on screen, with the page's stylesheet. (dash-cytoscape's
  own SVG export needs its 1.4 MB "extra" bundle, ``cyto.load_extra_layouts()``,
  which would slow every page load for one button.)
* The report is one self-contained HTML file written on the server: the
  scenario, the headline figures, the graph at the final round (the same SVG
  drawing, inline), every chart (plotly.js inlined once: the page's partial
  bundle, ``assets/plotly-cartesian.min.js``, so no network is needed), the
  narrative of the worst-hit entities and the tables of defaults and critical
  nodes.
"""

from __future__ import annotations

import datetime as _dt
import functools
import html as _html
import json
import re
from typing import Any

import plotly.io as pio
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, html

from core.network import Network
from core.resources import shipped_folder
from core.scenario import Scenario, parse_scenario

from . import charts, controls, graph, graph_frames, headline, ids
from .graph_legend import legend_items
from .graph_svg import graph_svg, svg_file
from .state import dated, guarded, network_from_store, pct, simulate, systemic_importance, usd

NARRATED = 5
#: The plotly.js the page uses (a vendored partial bundle, assets/VENDORED.md); inlined once in the report.
PLOTLY_JS = shipped_folder("dashboard", "assets") / "plotly-cartesian.min.js"
CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;color:#222;max-width:1100px;margin:24px auto;padding:0 16px;line-height:1.45}
h1{font-size:22px;margin-bottom:0}h2{font-size:17px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:28px}
.muted{color:#666}.kpis{display:flex;gap:12px;flex-wrap:wrap}.kpi{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:150px}
.kpi b{display:block;font-size:18px}table{border-collapse:collapse;font-size:13px;margin:6px 0}td,th{border-bottom:1px solid #eee;padding:3px 8px;text-align:left}
th{background:#f3f5f7}td.num{text-align:right}.charts{display:grid;grid-template-columns:1fr 1fr;gap:8px}
div.graph svg{max-width:100%;height:auto;border:1px solid #ddd}pre{background:#f7f7f7;padding:8px;font-size:12px;overflow:auto}
"""


def _esc(x: Any) -> str:
    return _html.escape(str(x))


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


@functools.cache
def _plotly_js() -> str | None:
    return PLOTLY_JS.read_text(encoding="utf-8") if PLOTLY_JS.is_file() else None


def picture_heading(name: str, frames: dict[str, Any] | None, round_: Any) -> str:
    """``Terra May 2022 · round 3 of 13 (t = 4 d)``: what a picture of the graph says it shows (``name``: the
    scenario's title, :func:`dashboard.controls.scenario_title`)."""
    if not frames:
        return f"{name} · interconnection graph"
    last = max(int(frames["rounds"]) - 1, 0)
    r = max(0, min(int(round_ or 0), last))
    times = frames.get("times") or []
    return f"{name} · round {r} of {last}" + (f" (t = {times[r]})" if r < len(times) else "")


def final_round_svg(network: Network, result, highlight: dict[str, Any] | None = None) -> str:
    """The graph at the last round of ``result`` (nodes where the layout puts them), as an inline ``<svg>``."""
    frames = graph_frames.frames(network, result)
    classes = graph_frames.round_classes(frames, frames["rounds"] - 1, highlight)
    return graph_svg(graph.elements(network, classes, graph.labels(network, frames)), graph.stylesheet(network.n_entities),
                     title="Interconnection graph, final round")


def report_html(network: Network, scenario: Scenario, result, baseline=None, importance=None,
                entity: str | None = None, highlight: dict[str, Any] | None = None) -> str:
    """A self-contained HTML page describing one run (opens offline); ``highlight`` marks a contagion path on the graph."""
    from core import metrics

    figs = charts.figures(result, network, baseline, result.n_rounds - 1)
    bundle = _plotly_js()  # else plotly's full bundle, inlined with the first chart
    chart_html = []
    for k, fig in enumerate(figs.values()):
        fig = {"data": fig["data"], "layout": {**fig["layout"], "shapes": []}}
        chart_html.append(pio.to_html(fig, full_html=False, include_plotlyjs=(k == 0 and bundle is None), config={"displaylogo": False},
                                      default_height=f"{fig['layout'].get('height', 250)}px", validate=False))
    v = headline.headline_values(result)
    # marked to market, as on the page: a loss that prices eased says where its peak was (headline.peak_line)
    loss_fig = headline.headline_spec(result, network)["figures"][0]
    peak = headline.peak_line(loss_fig, len(loss_fig["values"]) - 1)
    kpis = [("System loss (marked to market, final)", f"{usd(v['total_loss_usd'])} ({pct(v['loss_share'])} of equity)"
             + (f"; {peak}" if peak else "")), ("Defaults", f"{int(v['defaults'])} of {network.n_entities}"),
            ("Liquidated", usd(v["liquidated_usd"])), ("Bad debt (final)", f"{usd(v['bad_debt_reference_usd'])} at par · {usd(v['bad_debt_usd'])} at market"), ("Rounds", str(int(v["rounds"])))]
    if baseline is not None:
        b = headline.headline_values(baseline)
        kpis.append(("Without safeguards", f"loss {usd(b['total_loss_usd'])}, {int(b['defaults'])} defaults"))
    worst = result.nodes.sort_values("loss_usd", ascending=False)
    narrated = list(dict.fromkeys(([entity] if entity and entity in set(result.nodes["entity"]) else [])
                                  + worst[worst["loss_usd"] > 0]["entity"].head(NARRATED).tolist()))
    stories = "".join(f"<p><b>{_esc(n)}</b>: {_esc(metrics.narrative(result, e, network))}</p>"
                      for e, n in zip(narrated, result.nodes.set_index("entity").loc[narrated, "name"]))
    defaults = result.defaults_in_order()
    default_rows = [[int(r.default_round), r.name, r.type.replace("_", " "), usd(r.loss_usd), str(r.cause), str(r.caused_by)]
                    for r in defaults.head(50).itertuples(index=False)]
    crit = ""
    if importance is not None and len(importance):
        names = dict(zip(network.entities["id"], network.entities["name"]))
        top = importance.sort_values("importance_usd", ascending=False).head(10)
        crit = "<h2>Critical nodes (top 10 by systemic importance)</h2>" + _table(
            ["entity", "importance", "share of system equity", "vulnerability"],
            [[names.get(i, i), usd(r.importance_usd), pct(r.importance_share), usd(r.vulnerability_usd)] for i, r in top.iterrows()])
    img = f'<div class="graph">{final_round_svg(network, result, highlight)}</div>'
    when = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    title = controls.scenario_title(scenario)  # the name the page shows, not the raw "ftx_nov_2022" or "custom"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>sfm report: {_esc(title)}</title>
<style>{CSS}</style>{f'<script type="text/javascript">{bundle}</script>' if bundle else ''}</head><body>
<h1>Systemic failure report: {_esc(title)}</h1>
<p class="muted">Network {_esc(network.name)} ({network.n_entities} entities) · made {when} with sfm · horizon {scenario.horizon} rounds</p>
<p>{_esc(scenario.description)}</p>
<div class="kpis">{''.join(f'<div class="kpi">{_esc(k)}<b>{_esc(x)}</b></div>' for k, x in kpis)}</div>
<h2>Interconnection graph at the final round</h2>{img}
<h2>Systemic impact</h2><div class="charts">{''.join(f'<div>{c}</div>' for c in chart_html)}</div>
<h2>What happened</h2>{stories or '<p class="muted">No entity lost anything.</p>'}
<h2>Defaults in order ({len(defaults)})</h2>{_table(['round', 'entity', 'type', 'loss', 'cause', 'caused by'], default_rows) if default_rows else '<p class="muted">No defaults.</p>'}
{crit}
<h2>Scenario</h2><pre>{_esc(json.dumps(scenario.model_dump(mode='json'), indent=2))}</pre>
</body></html>
"""


# PNG download: the browser draws (with the heading and legend the SVG has), the server is not involved.
clientside_callback(
    ClientsideFunction("sfm", "generateImage"),
    Output(ids.GRAPH, "generateImage"),
    Input(ids.EXPORT_PNG, "n_clicks"),
    State(ids.SCENARIO, "data"),
    State(ids.ROUND_LABEL, "children"),
    State(ids.PAGE_CONFIG, "data"),
    State(ids.FRAMES, "data"),  # its "title": the scenario's name as the page shows it (controls.scenario_title)
    prevent_initial_call=True,
)


@callback(
    Output(ids.SVG_DOWNLOAD, "data"),
    Output(ids.MESSAGE, "children", allow_duplicate=True),
    Input(ids.EXPORT_SVG, "n_clicks"),
    State(ids.GRAPH, "elements"),
    State(ids.FRAMES, "data"),
    State(ids.ROUND, "value"),
    State(ids.HIGHLIGHT, "data"),
    State(ids.PD_OVERLAY, "data"),
    State(ids.SCENARIO, "data"),
    prevent_initial_call=True,
)
@guarded(2, 1)
def on_svg(_n, elements, frames, round_, highlight, pd_overlay, scenario=None):
    """The graph as on screen: positions from the elements, classes of the round on screen (as sfm.renderRound draws it),
    headed by the scenario's name as the page shows it (the frames' ``title``), the round and its time, with the legend."""
    elements = [dict(el) for el in elements or []]
    n_nodes = sum(1 for el in elements if "source" not in el.get("data", {}) and "sector" not in str(el.get("classes", "")).split())
    if frames and len(elements) >= frames["n"] + frames["m"]:
        for el, cls in zip(elements, graph_frames.round_classes(frames, round_, highlight, pd_overlay)):
            el["classes"] = cls
    title = (frames or {}).get("title") or controls.scenario_title(parse_scenario(scenario or {}, file="page"))
    heading = picture_heading(title, frames, round_)
    text = svg_file(elements, graph.stylesheet(n_nodes), title=heading, heading=heading, legend=legend_items())
    return {"content": text, "filename": "sfm-graph.svg", "type": "image/svg+xml"}, None


@callback(
    Output(ids.REPORT_DOWNLOAD, "data"),
    Output(ids.MESSAGE, "children", allow_duplicate=True),
    Input(ids.REPORT_BTN, "n_clicks"),
    State(ids.SCENARIO, "data"),
    State(ids.NETWORK, "data"),
    State(ids.COMPARE, "value"),
    State(ids.SELECTED, "data"),
    State(ids.HIGHLIGHT, "data"),
    prevent_initial_call=True,
)
@guarded(2, 1)
def on_report(_n, scenario, network_store, compare, entity, highlight):
    sc = parse_scenario(scenario or {}, file="page")
    network = dated(network_from_store(network_store), sc)
    result = simulate(network, sc)
    baseline = simulate(network, sc.without_safeguards()) if compare else None
    try:
        importance = systemic_importance(network)
    except Exception:  # noqa: BLE001 - the report is still useful without the ranking
        importance = None
    text = report_html(network, sc, result, baseline, importance, entity or None, highlight if entity else None)
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", sc.name or "scenario")
    return {"content": text, "filename": f"sfm-report-{stem}.html", "type": "text/html"}, None


def panel() -> html.Div:
    from dash import dcc

    return html.Div([
        html.Button("PNG", id=ids.EXPORT_PNG, className="btn btn-small", title="Download the graph as PNG"),
        html.Button("SVG", id=ids.EXPORT_SVG, className="btn btn-small", title="Download the graph as SVG"),
        html.Button("HTML report", id=ids.REPORT_BTN, className="btn btn-small", title="One-page report that opens offline"),
        dcc.Download(id=ids.SVG_DOWNLOAD),
        dcc.Download(id=ids.REPORT_DOWNLOAD),
    ], className="export-bar")
