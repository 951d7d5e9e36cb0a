"""The interconnection graph: positions, elements and style, the panel that holds it, and its round-by-round drawing.

Positions are computed once per network and never move: entities sit in
fixed, labelled sector regions (:mod:`dashboard.graph_layout`: stablecoins and
reserves, DeFi lenders and pools, exchanges and venues, depositors, CeFi lenders
and funds). Labels are placed without overlaps (:mod:`dashboard.graph_labels`), the entities the run affects
first; the others are named in the hover box. Edges below the exposure threshold
chosen under the graph are hidden (``sfm.edgeThreshold``).

The graph is drawn once per network. A run of the engine produces *frames*
(per-round status of every node, the edges that carried losses in that round,
equity for the hover box), kept in a ``dcc.Store``; the clientside callback
``sfm.renderRound`` (``assets/sfm.js``) patches element ``classes`` from them,
so animation never calls the server and never restyles the whole graph.

The panel's other parts have their own modules: the legend under the graph (:mod:`dashboard.graph_legend`, with the
colours and shapes drawn here) and the animation bar (:mod:`dashboard.graph_animation`).
"""

from __future__ import annotations

from typing import Any

import dash_cytoscape as cyto
import numpy as np
import pandas as pd
from dash import ClientsideFunction, Input, Output, State, clientside_callback, html

from core.network import Network

from . import graph_frames, graph_labels, graph_layout, graph_leaders, ids
from .graph_animation import animation_bar
from .graph_frames import PD_BUCKETS, affected, edge_table
from .graph_leaders import callouts
from .graph_legend import LIT_COLOUR, PATH_COLOUR, PD_COLOUR, STATUS_COLOURS, TYPE_SHAPES, kind_label, legend

BIG = 500               # above this many nodes: no transitions, cheaper edges


# -- positions and elements --------------------------------------------------------

def positions(network: Network) -> pd.DataFrame:
    """x, y (model units) per entity, in the order of ``network.entity_ids``; deterministic (sector regions)."""
    return graph_layout.layout(network)["positions"]


def labels(network: Network, frames: dict[str, Any] | None = None, selected: int | None = None) -> dict[str, Any]:
    """The labels the graph shows for a run: ``{"text": [...], "pos": "btrl…", "mx": [...], "my": [...], "callouts": [...]}``
    (see :func:`graph_labels.place_labels_far`): a label drawn away from its node (position ``c``) is offset by
    (mx, my) and joined to its node by a leader line (:func:`callouts`)."""
    text, pos, off = graph_labels.place_labels_far(network, affected(frames) if frames else None, selected)
    mx, my = (np.round(off[:, k], 1) for k in (0, 1))
    return {"text": text, "pos": pos, "mx": mx.tolist(), "my": my.tolist(), "callouts": callouts(network, text, pos, off)}


def elements(network: Network, classes: list[str] | None = None, labelled: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Cytoscape elements: one node per entity (in entity order), one edge per exposure pair, then the sector titles.

    Node ``i`` of the list is entity ``i``; edge ``j`` is element ``n + j``; the sector titles follow
    (class ``sector``, not selectable), then the frame's two corner marks (class ``sector`` too, no label), then the
    leader lines, one pair per entity in entity order, shown for the labels drawn away from their nodes
    (:func:`graph_leaders.pool`). The clientside animation relies on that order. ``classes``
    (one string per node and edge, :func:`round_classes`) draws a round of a run; default: all healthy.
    ``labelled`` (:func:`labels`) says which labels to show where; default: the calm network's.
    """
    lay = graph_layout.layout(network)
    pos = lay["positions"]
    bs = network.balance_sheet()
    ta = bs["total_assets_usd"].to_numpy()
    size = lay["size"]
    ent = network.entities
    lab = labelled or labels(network)
    font = lay["font"]
    mx, my = lab.get("mx") or [0.0] * len(ent), lab.get("my") or [0.0] * len(ent)
    nodes = [
        {
            "data": {
                "id": eid, "idx": i, "name": name, "type": typ, "kind": kind_label(typ, chain),
                "label": lab["text"][i], "lpos": lab["pos"][i], "mx": mx[i], "my": my[i], "fs": font, "short": graph_layout.short_name(name),
                "size": round(float(size[i]), 1), "assets": round(float(ta[i])),
                "equity": round(float(bs["derived_equity_usd"].iat[i])),
            },
            "position": {"x": float(pos["x"].iat[i]), "y": float(pos["y"].iat[i])},
            "classes": "st-healthy",
        }
        for i, (eid, name, typ, chain) in enumerate(zip(ent["id"], ent["name"], ent["type"], ent["chain"]))
    ]
    et = edge_table(network)
    if len(et):
        logs = np.log10(np.maximum(et["amount_usd"].to_numpy(), 1.0))
        lo, hi = float(logs.min()), float(logs.max())
        width = 0.6 + 5.4 * ((logs - lo) / (hi - lo) if hi > lo else np.full(len(logs), 0.5))
    else:
        width = np.array([])
    edges = [
        # drawn debtor -> creditor: the way a loss travels, as the contagion paths read
        {"data": {"id": f"x:{c}>{d}", "source": d, "target": c, "amount": round(float(a)), "n": int(k), "w": round(float(w), 2)}, "classes": ""}
        for (c, d, a, k), w in zip(et[["creditor", "debtor", "amount_usd", "n"]].itertuples(index=False, name=None), width)
    ]
    titles = [
        {"data": {"id": f"sector:{key}", "label": graph_layout.SECTORS[key][0], "fs": lay["title_font"]},
         "position": {"x": x, "y": y}, "classes": "sector", "selectable": False, "grabbable": False}
        for key, (x, y) in lay["titles"].items()
    ]
    # two invisible marks at the corners of the frame (graph_layout.frame_marks): the page's fit takes in the frame, so
    # the labels (all inside it) draw at the size graph_layout chose for them
    titles += [{"data": {"id": f"sector:frame-{k}", "label": "", "fs": lay["title_font"]}, "position": {"x": x, "y": y},
                "classes": "sector", "selectable": False, "grabbable": False}
               for k, (x, y) in enumerate(graph_layout.frame_marks(network))]
    els = nodes + edges
    if classes is not None:
        for el, cls in zip(els, classes):
            el["classes"] = cls
    return els + titles + graph_leaders.pool(network, list(lab.get("callouts") or []))


def stylesheet(n_nodes: int) -> list[dict[str, Any]]:
    big = n_nodes > BIG
    node = {
        "width": "data(size)", "height": "data(size)", "label": "data(label)",
        "font-size": "data(fs)", "color": "#222", "text-valign": "bottom", "text-halign": "center", "text-margin-y": 2,
        "text-wrap": "wrap", "text-max-width": 400, "line-height": 1.1,
        "text-outline-color": "#fff", "text-outline-width": 2, "min-zoomed-font-size": 6,
        "border-width": 1, "border-color": "#444", "background-color": STATUS_COLOURS["healthy"],
    }
    edge = {
        "width": "data(w)", "line-color": "#9aa3ad", "opacity": 0.45,
        "curve-style": "haystack" if big else "straight",
        "target-arrow-shape": "none" if big else "triangle", "target-arrow-color": "#9aa3ad", "arrow-scale": 0.6,
    }
    if not big:
        node |= {"transition-property": "background-color, border-width", "transition-duration": "250ms"}
        edge |= {"transition-property": "line-color, opacity", "transition-duration": "250ms"}
    sheet = [{"selector": "node", "style": node}, {"selector": "edge", "style": edge}]
    # label positions chosen by graph_labels.place_labels: below (default), above, right, left
    sheet += [{"selector": 'node[lpos = "t"]', "style": {"text-valign": "top", "text-margin-y": -2}},
              {"selector": 'node[lpos = "r"]', "style": {"text-valign": "center", "text-halign": "right", "text-margin-y": 0, "text-margin-x": 2}},
              {"selector": 'node[lpos = "l"]', "style": {"text-valign": "center", "text-halign": "left", "text-margin-y": 0, "text-margin-x": -2}}]
    sheet += [{"selector": f'node[lpos = "{code}"]', "style": {"text-valign": "bottom" if sy > 0 else "top", "text-halign": "right" if sx > 0 else "left",
                                                           "text-margin-x": 2 * sx, "text-margin-y": 2 * sy}}
              for code, (sx, sy) in graph_labels.DIAGONALS.items()]
    # a label drawn away from its node (graph_labels.FAR): centred on the node, shifted by (mx, my); its leader line
    sheet += [{"selector": f'node[lpos = "{graph_labels.FAR}"]', "style": {"text-valign": "center", "text-halign": "center",
                                                                        "text-margin-x": "data(mx)", "text-margin-y": "data(my)"}},
              {"selector": "edge.callout", "style": {"width": 3, "line-color": "#333", "line-style": "dashed", "opacity": 1, "target-arrow-shape": "none",
                                                     "curve-style": "straight", "events": "no", "z-index": 0}},
              {"selector": ".callout.off", "style": {"display": "none"}},  # no far label for this entity (graph_leaders)
              {"selector": ".extra.off", "style": {"display": "none"}}]  # a path's hops of another run (sfm.js drawElements)
    sheet += [{"selector": f'node[type = "{t}"]', "style": {"shape": s}} for t, s in TYPE_SHAPES.items()]
    sheet += [{"selector": f".st-{s}", "style": {"background-color": c, **({"border-width": 3, "border-color": "#000"} if s == "defaulted" else {})}}
              for s, c in STATUS_COLOURS.items()]
    sheet += [
        {"selector": "edge.lit", "style": {"line-color": LIT_COLOUR, "target-arrow-color": LIT_COLOUR, "opacity": 0.95, "z-index": 10}},
        {"selector": "node.path", "style": {"border-width": 4, "border-color": PATH_COLOUR, "z-index": 20}},
        {"selector": "edge.path", "style": {"line-color": PATH_COLOUR, "target-arrow-color": PATH_COLOUR, "opacity": 1, "width": 5, "z-index": 20}},
        {"selector": "node.hl", "style": {"border-width": 6, "border-color": "#000", "border-style": "double", "z-index": 30,
                                          "label": "data(short)", "font-weight": "bold"}},
        # the hops of a contagion path through the shock or an asset (detail.path_extras): small labelled tags
        {"selector": "node.asset", "style": {"shape": "round-rectangle", "width": "data(w)", "height": "data(h)", "background-color": "#fff",
                                             "border-width": 3, "border-color": PATH_COLOUR, "label": "data(label)", "text-valign": "center",
                                             "text-halign": "center", "text-margin-y": 0, "color": PATH_COLOUR, "font-weight": "bold", "z-index": 25}},
        {"selector": "edge.extra", "style": {"width": 5, "line-color": PATH_COLOUR, "target-arrow-color": PATH_COLOUR, "opacity": 1, "z-index": 20,
                                             "target-arrow-shape": "triangle", "curve-style": "straight"}},
        # sector titles: text only, under everything, not interactive
        {"selector": "node.sector", "style": {"width": 1, "height": 1, "background-opacity": 0, "border-width": 0, "text-valign": "center",
                                              "text-wrap": "none",  # one line, as graph_layout places its box
                                              "color": "#5f6b76", "font-weight": "bold", "text-outline-width": 0, "z-index": 0,
                                              "events": "no", "min-zoomed-font-size": 0}},
        {"selector": "node:selected", "style": {"overlay-color": "#000", "overlay-opacity": 0.12}},
    ]
    # Monte Carlo probability of default: a halo (underlay) that leaves fill and border to the status
    sheet += [{"selector": f"node.pd-{k}", "style": {"underlay-color": PD_COLOUR, "underlay-padding": 3 + 3 * k,
                                                     "underlay-opacity": round(0.25 + 0.15 * k, 2), "underlay-shape": "ellipse"}}
              for k in range(1, len(PD_BUCKETS) + 1)]
    return sheet


def panel(network: Network, els: list[dict[str, Any]] | None = None, round_: int = 0, last: int = 1,
          label: str = "Round 0") -> html.Div:
    """The graph, the animation bar and the legend; ``els``/``round_``/``last``/``label`` draw a run at once."""
    els = elements(network) if els is None else els
    return html.Div(
        [
            html.Div(
                [
                    cyto.Cytoscape(
                        id=ids.GRAPH, elements=els, stylesheet=stylesheet(network.n_entities),
                        layout={"name": "preset", "fit": True, "padding": 24}, autoRefreshLayout=False,
                        minZoom=0.05, maxZoom=5, boxSelectionEnabled=False, responsive=True,
                        style={"width": "100%", "height": "100%"},
                    ),
                    html.Pre(id=ids.HOVER, className="hover-box", children=""),
                ],
                className="graph-canvas",
            ),
            animation_bar(round_, last, label),
            legend(),
        ],
        className="graph-panel",
    )


# -- callbacks (all clientside: per-frame work stays in the browser) -------------------

# Draw round r: patch node / edge classes, the round label, the headline and the charts' round marker; when a new run
# arrives (the run view, cascade.view_store), its charts and tables too, and the round slider's value, range and marks,
# in the same output set as its first round, and only when the view and the frames are of the same run (their "run" ids
# agree). The contagion path is drawn only when the highlight is of the frames' run, and the entity card and the
# critical-nodes grid are marked computing (graph_frames.RUN_PANELS) while they are of another run (sfm.drawPanels
# shows them when their answers come).
clientside_callback(
    ClientsideFunction("sfm", "renderRound"),
    Output(ids.GRAPH, "elements", allow_duplicate=True),
    Output(ids.ROUND_LABEL, "children"),
    Output(ids.HEADLINE, "children"),
    *[Output(*o.split("."), allow_duplicate=o.split(".")[0] in ids.TIME_CHARTS) for o in graph_frames.VIEW_OUTPUTS],
    *[Output(*o.split("."), allow_duplicate=o == f"{ids.ROUND}.value") for o in graph_frames.RUN_OUTPUTS],
    Input(ids.ROUND, "value"),
    Input(ids.FRAMES, "data"),
    Input(ids.PD_OVERLAY, "data"),
    Input(ids.RUN_VIEW, "data"),
    State(ids.HIGHLIGHT, "data"),
    State(ids.CRITICAL_RUN, "data"),
    State(ids.GRAPH, "elements"),
    State(ids.CRITICAL_SHOWN, "data"),
    prevent_initial_call=True,
)

# The entity's highlight or the critical-nodes grid's run arrives (server answers after the run), or the grid's cells
# on screen are of other runs (written by the page once drawn, assets/sfm_run_cells.js): the path drawn, and the run
# panels shown, only beside the run drawn. (Read by renderRound as State, not Input: Dash holds a callback
# back until every callback that is to change one of its Inputs has answered, which held the new run's drawing back
# for the card's and the ranking's round trip.)
clientside_callback(
    ClientsideFunction("sfm", "drawPanels"),
    Output(ids.GRAPH, "elements", allow_duplicate=True),
    *[Output(p, "className", allow_duplicate=True) for p in graph_frames.RUN_PANELS],
    Input(ids.HIGHLIGHT, "data"),
    Input(ids.CRITICAL_RUN, "data"),
    Input(ids.CRITICAL_SHOWN, "data"),
    State(ids.ROUND, "value"),
    State(ids.FRAMES, "data"),
    State(ids.PD_OVERLAY, "data"),
    State(ids.GRAPH, "elements"),
    prevent_initial_call=True,
)


# Hover box: name, type, equity and status at the round on screen.
clientside_callback(
    ClientsideFunction("sfm", "hover"),
    Output(ids.HOVER, "children"),
    Input(ids.GRAPH, "mouseoverNodeData"),
    State(ids.FRAMES, "data"),
    State(ids.ROUND, "value"),
    prevent_initial_call=True,
)
