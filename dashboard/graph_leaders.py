"""The leader lines of labels drawn away from their nodes (graph_labels.place_labels_far): a dashed line from the node
to the label's box, the cartographer's callout.

The graph carries one leader line per entity, always (:func:`pool`): an invisible mark (class ``sector``, as the
frame's marks: no entity, not selectable) and an edge (class ``callout``) from the entity's node to it. A run's far
labels (:func:`callouts`) place their marks on the box edge nearest the node and show them; every other pair sits on
its node with class ``off`` (not displayed). When the run changes in the page, ``assets/sfm_leaders.js`` moves and
shows or hides these pairs by patch; it never adds or removes an element: dash-cytoscape writes its element list back
grouped (nodes, then edges) when a patch adds or removes one, which broke the element order ``sfm.renderRound``
relies on (play stuck at the last round; the SVG export drew 57 node shapes for 47 entities).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.network import Network

from . import graph_labels, graph_layout

#: Class of a leader line and its mark; with ``off`` they are not displayed (graph.stylesheet).
CLASS, OFF = "callout", "off"


def mark_id(eid: str) -> str:
    """Id of entity ``eid``'s leader-line mark (no '.', ',' or '@' beyond the entity's own: Cytoscape reads ids in
    selectors)."""
    return f"sector:callout-{eid}"


def callouts(network: Network, text: list[str], pos: str, off: np.ndarray) -> list[dict[str, Any]]:
    """The leader lines of the labels drawn away from their nodes: per such label its mark, on the label's box edge
    nearest the node, and the edge from the node to it (the shown pairs of :func:`pool`, ``ent`` the entity's index)."""
    lay = graph_layout.layout(network)
    xy = lay["positions"][["x", "y"]].to_numpy()
    out: list[dict[str, Any]] = []
    for i in np.flatnonzero(np.asarray(list(pos)) == graph_labels.FAR):
        w, h = lay["label_wh"][i]
        cx, cy = xy[i] + off[i]
        # the point of the label's box nearest the node's centre (the line stops where the text begins)
        ax, ay = graph_labels.leader_end(xy[i, 0], xy[i, 1], np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]))
        out += _pair(network, int(i), lay["title_font"], round(ax, 1), round(ay, 1), shown=True)
    return out


def _pair(network: Network, i: int, font: float, x: float, y: float, shown: bool) -> list[dict[str, Any]]:
    eid = str(network.entity_ids[i])
    cls = CLASS if shown else f"{CLASS} {OFF}"
    return [{"data": {"id": mark_id(eid), "label": "", "fs": font, "ent": i}, "position": {"x": x, "y": y},
             "classes": f"sector {cls}", "selectable": False, "grabbable": False},
            {"data": {"id": f"callout:{eid}", "source": eid, "target": mark_id(eid), "ent": i}, "classes": cls,
             "selectable": False}]


def pool(network: Network, shown: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every entity's leader-line pair, in entity order: those of ``shown`` (:func:`callouts`) as given, the others
    hidden on their nodes."""
    lay = graph_layout.layout(network)
    xy = lay["positions"][["x", "y"]].to_numpy()
    by_ent = {int(el["data"]["ent"]): el for el in shown if "source" not in el["data"]}
    out: list[dict[str, Any]] = []
    for i in range(network.n_entities):
        mark = by_ent.get(i)
        x, y = (mark["position"]["x"], mark["position"]["y"]) if mark else (float(xy[i, 0]), float(xy[i, 1]))
        out += _pair(network, i, lay["title_font"], x, y, shown=mark is not None)
    return out
