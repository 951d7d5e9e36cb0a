"""The leader lines' fixed pool (dashboard/graph_leaders.py) and how sfm.renderRound moves it (assets/sfm_leaders.js,
run in node): after the run changes in the page, the far labels' pairs are shown at the marks the server would draw
for that run, every other pair is hidden on its node, and no element is added or removed. The browser's side is
tests/test_dashboard_layout_browser.py."""

from __future__ import annotations

import core
from dashboard import cascade, graph, graph_labels, scenarios
from test_dashboard_views import NEEDS_NODE, sfm_js

SNAPSHOT = "crypto-2022-05"  # the snapshot of the net fixture (tests/dashboard_fixtures.py)
POOL_FROM = 7  # after the nodes and edges: five sector titles and the frame's two marks


def _apply(elements: list[dict], patch: dict) -> list[dict]:
    out = [dict(e, data=dict(e["data"])) for e in elements]
    for op in patch["__patch"]:
        assert op[0] == "assign", op  # never an element added or removed
        i, key = op[1][0], op[1][1]
        if key == "data":
            out[i]["data"][op[1][2]] = op[2]
        else:
            out[i][key] = op[2]
    return out


@NEEDS_NODE
def test_a_run_changed_in_the_page_shows_its_leader_lines_where_the_server_draws_them(net):
    view = cascade.run_view(net, scenarios.presets()["terra_may_2022"], False)
    frames, last = view["frames"], view["last"]
    lab = frames["labels"]
    far = [i for i, p in enumerate(lab["pos"]) if p == graph_labels.FAR]
    assert far  # Celsius, Genesis, 3AC on this preset
    calm = graph.elements(net)  # the page as first built: no far label, every pair hidden
    n, m = frames["n"], frames["m"]
    pool = slice(n + m + POOL_FROM, None)
    assert len(calm[pool]) == 2 * n and all("off" in e["classes"].split() for e in calm[pool])
    patch, *_ = sfm_js("renderRound", last, frames, None, None, None, None, calm)
    drawn = _apply(calm, patch)
    assert len(drawn) == len(calm)
    # what the page built from this run's link holds
    linked = graph.elements(net, None, lab)
    assert [(e["data"]["id"], e["classes"], e.get("position")) for e in drawn[pool]] == \
           [(e["data"]["id"], e["classes"], e.get("position")) for e in linked[pool]]
    shown = [e for e in drawn[pool] if "off" not in e["classes"].split()]
    assert sorted({e["data"]["ent"] for e in shown}) == far and len(shown) == 2 * len(far)
    # and back to the calm run: every pair hidden again, each mark on its own node
    calm_frames = cascade.run_view(net, core.scenario.Scenario(), False)["frames"]
    patch, *_ = sfm_js("renderRound", 0, calm_frames, None, None, None, None, drawn)
    back = _apply(drawn, patch)
    assert all("off" in e["classes"].split() for e in back[pool])
    assert all(e["position"] == calm[e["data"]["ent"]]["position"] for e in back[pool] if "source" not in e["data"])
