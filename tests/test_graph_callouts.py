"""The graph's callouts on the server's own (conservative) boxes: a contagion path's tags (dashboard/detail.path_extras,
graph_labels.place_tags) and the far labels' leader lines (graph_labels.place_labels_far) cover no node, label or
sector title they do not name. The browser's side, on the boxes Cytoscape draws, is tests/test_graph_callouts_browser.py."""

from __future__ import annotations

import numpy as np
import pytest

from core import datasets, metrics
from dashboard import cascade, detail, graph_labels, graph_layout
from dashboard.state import simulate
from test_graph_callouts_browser import most_tagged


def _boxes(net, labelled, selected):
    """Per thing a callout could cover: (kind, owner index or key, box)."""
    lay = graph_layout.layout(net)
    x, y, size = lay["positions"]["x"].to_numpy(), lay["positions"]["y"].to_numpy(), lay["size"]
    out = [("node", i, (x[i] - size[i] / 2, y[i] - size[i] / 2, x[i] + size[i] / 2, y[i] + size[i] / 2)) for i in range(len(x))]
    for i, t in enumerate(labelled["text"]):
        t = lay["short"][i] if net.entity_ids[i] == selected else t
        if t:
            out.append(("label", i, graph_labels.label_box(x[i], y[i], size[i], t, lay["font"], labelled["pos"][i],
                                                           (labelled["mx"][i], labelled["my"][i]))))
    out += [("title", k, b) for k, b in lay["title_boxes"].items()]
    return out


def _leaders(net, labelled):
    lay = graph_layout.layout(net)
    xy = lay["positions"][["x", "y"]].to_numpy()
    return [(el["data"]["ent"], (*xy[el["data"]["ent"]], el["position"]["x"], el["position"]["y"]))
            for el in labelled["callouts"] if "source" not in el["data"]]


def _met(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("key", [p.key for p in datasets.presets()])
def test_tags_and_leader_lines_cover_nothing_they_do_not_name(key):
    p = datasets.preset(key)
    net = datasets.load(p.snapshot)
    labelled = cascade.run_view(net, p.scenario, False)["frames"]["labels"]
    entity = most_tagged(key)
    path = metrics.contagion_path(simulate(net, p.scenario), entity)
    tags = [e for e in detail.path_extras(net, path, labelled, entity) if "asset" in e["classes"].split()]
    assert tags, (key, entity)
    things = _boxes(net, labelled, entity)
    leaders = _leaders(net, labelled)
    x0, y0, x1, y1 = graph_layout.layout(net)["frame"]
    boxes = []
    for t in tags:
        w, h, (cx, cy) = t["data"]["w"], t["data"]["h"], t["position"].values()
        box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        assert x0 <= box[0] and y0 <= box[1] and box[2] <= x1 and box[3] <= y1, (key, t)
        assert [(k, o) for k, o, b in things if _met(box, b)] == [], (key, t["data"]["id"])
        assert [b for b in boxes if _met(box, b)] == [], (key, t["data"]["id"])
        boxes.append(box)
    # a leader line crosses no node, label or title but its own node's and label's, and no tag
    for i, seg in leaders:
        others = np.asarray([b for k, o, b in things if o != i] + boxes, dtype=float)
        crossed = graph_labels.segments_meet(np.asarray([seg], dtype=float), others)[0]
        assert not crossed.any(), (key, i, [others[k] for k in np.flatnonzero(crossed)])
