"""The graph's callouts cover nothing they do not name (real headless Chromium, the boxes Cytoscape draws).

The callouts are the contagion path's tags (the shock and the assets a path passes: "Shock", "ETH", "stETH", drawn
beside the entity they lead to, :func:`dashboard.detail.path_extras`) and the labels of failing entities drawn away
from their nodes with their leader lines (:func:`dashboard.graph_labels.place_labels_far`). Session 40 (lead) saw, on
the README's 2022 picture, the tags "Shock" and "ETH" drawn over the labels of Three Arrows Capital and Gemini Earn,
and on October 2025 two failing DeFi entities' labels drawn above the DeFi sector's title, their leader lines across
it. Measured here (``tests/js/callout_overlaps.js``) on every preset, with the entity selected whose contagion path
passes the most assets (the most tags), and on the README's view: no callout lies over an entity's node or label, a
sector title or another callout, and each stays near what it names.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from browser_support import page_errors, served

from core import datasets, metrics
from dashboard.state import encode_scenario, simulate

pytestmark = pytest.mark.browser

CALLOUTS_JS = (Path(__file__).parent / "js" / "callout_overlaps.js").read_text()
CY = "document.getElementById('graph')._cyreg.cy"
#: A callout is near what it names: a tag within this many label font sizes of the node (or tag) its path edge leads
#: to, a far label within this many of its node (graph_labels.FAR_REACH, box to node centre, is 14).
REACH = 14.0
#: The README's 2022 picture (tests/test_dashboard_browser.py::test_full_hd_view_from_a_link).
README = {"name": "eth-luna", "price_shocks": {"ETH": -0.6, "LUNA": -0.9}, "depegs": {"UST": 0.5}}


@pytest.fixture(scope="module")
def server_all():
    """The app with no data given (every snapshot; a preset's link opens its own), as ``sfm dashboard`` starts it."""
    from dashboard.app import create_app

    with served(create_app()) as srv:
        yield srv


def most_tagged(key: str) -> str:
    """The entity of preset ``key`` whose contagion path passes the most things that are not entities (the shock,
    assets: one tag each), ties to the largest loss, then by id."""
    p = datasets.preset(key)
    net = datasets.load(p.snapshot)
    result = simulate(net, p.scenario)
    entities = set(net.entity_ids)
    nodes = result.nodes[result.nodes["loss_usd"] >= 1.0].sort_values(["loss_usd", "entity"], ascending=[False, True])
    best, who = -1, ""
    for e in nodes["entity"].astype(str):
        path = metrics.contagion_path(result, e)
        if len(path):
            tags = sum(x not in entities for x in [str(path["source"].iloc[0]), *path["target"].astype(str)])
            if tags > best:
                best, who = tags, e
    return who


def measure(page: Page, url: str, entity: str) -> dict:
    """Open ``url`` with ``entity`` selected; once its path's tags are drawn and the graph fitted, the callouts'
    overlaps (``tests/js/callout_overlaps.js``)."""
    from test_dashboard_views_browser import fitted

    page.goto(url)
    page.wait_for_function(f"() => document.getElementById('graph')?._cyreg?.cy?.nodes('.hl').length === 1"
                           f" && {CY}.nodes('.hl')[0].id() === {entity!r}", timeout=60000)
    page.wait_for_function(f"() => {CY}.nodes('.asset').filter(n => n.visible()).length > 0", timeout=30000)
    page.wait_for_function("() => document.getElementById('round-label').textContent.includes(' of ')", timeout=30000)
    fitted(page)
    page.wait_for_timeout(300)
    return page.evaluate(CALLOUTS_JS)


def check(got: dict, what: str) -> None:
    assert got["tags"] >= 1, (what, got)
    assert got["hits"] == [], (what, got["hits"])
    far = [r for r in got["reach"] if r["px"] > REACH * got["fontPx"]]
    assert far == [], (what, got["fontPx"], far)


@pytest.mark.parametrize("key", [p.key for p in datasets.presets()])
def test_no_callout_covers_a_label_a_node_or_a_title_on_any_preset(server_all, browser, key):
    """Each preset at 1366 × 768 (the positions are in model units: the same at 1920 × 1080), the entity with the most
    tags selected."""
    entity = most_tagged(key)
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    errors = page_errors(page)
    try:
        p = datasets.preset(key)
        check(measure(page, f"{server_all.url}?snapshot={p.snapshot}&p={key}&e={entity}", entity), f"{key} {entity}")
        assert errors == []
    finally:
        page.close()


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_no_callout_covers_a_label_on_the_readme_s_2022_view(server_all, browser, size):
    """ETH −60 %, LUNA −90 %, UST −50 % on the 2022 snapshot, Celsius selected: the tags Shock → ETH → stETH lead to
    Celsius (on main "Shock" lay over "Three Arrows Capital" and "ETH" over "Gemini Earn")."""
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    errors = page_errors(page)
    try:
        url = f"{server_all.url}?snapshot=crypto-2022-05&s={encode_scenario(README)}&e=CELSIUS"
        check(measure(page, url, "CELSIUS"), f"README {size}")
        assert errors == []
    finally:
        page.close()
