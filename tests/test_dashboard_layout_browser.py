"""The graph's leader lines after an in-page run change, and the left panel's fit at 1366 × 768 (real headless Chromium).

* A label drawn away from its node (graph_layout.place_labels_far) is joined to it by a dashed leader line. The page
  built from a link drew them; after the run changed in the page they were hidden (sfm.renderRound could not add
  elements by patch without dash-cytoscape regrouping its element list). The graph now holds one leader line per
  entity and moves and shows them by patch (dashboard/graph_leaders.py, assets/sfm_leaders.js).
* At 1366 × 768 the Pegs heading of the left panel lay below the fold (the panel scrolled).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from browser_support import page_errors
from test_dashboard_browser import CY, N, open_dashboard, settle, shock, statuses

pytestmark = pytest.mark.browser

FAR = "c"  # graph_layout.FAR


def leader_lines(page: Page) -> list[dict]:
    """Per node whose label is drawn away from it: its leader line, whether shown, its ends and the label's box."""
    return page.evaluate(f"""() => {{
        const cy = {CY};
        return cy.nodes('[lpos = "{FAR}"]').map(n => {{
            const e = cy.getElementById('callout:' + n.id()), m = e.nonempty() ? e.target() : null;
            const box = n.boundingBox({{includeNodes: false, includeLabels: true, includeOverlays: false}});
            return {{id: n.id(), label: n.data('label'), found: e.nonempty(), visible: e.nonempty() && e.visible(),
                     display: e.nonempty() ? e.style('display') : null, dashed: e.nonempty() && e.style('line-style') === 'dashed',
                     source: e.nonempty() ? e.source().id() : null, node: n.position(), mark: m ? m.position() : null,
                     box: box}};
        }}); }}""")


def gap(p: dict, box: dict) -> float:
    """Distance from the point ``p`` to the box (0 inside it)."""
    dx = max(box["x1"] - p["x"], 0.0, p["x"] - box["x2"])
    dy = max(box["y1"] - p["y"], 0.0, p["y"] - box["y2"])
    return (dx * dx + dy * dy) ** 0.5


def test_leader_lines_show_after_the_run_changes_in_the_page(dashboard_server, page: Page, errors, screenshot):
    open_dashboard(page, dashboard_server.url)
    assert leader_lines(page) == []  # the calm network: every label by its node
    shock(page)  # ETH −60 %, LUNA −90 %, set with the sliders: Celsius, Genesis and 3AC are named away from their nodes
    page.wait_for_function(f"() => {CY}.nodes('[lpos = \"{FAR}\"]').length >= 3", timeout=15000)
    page.wait_for_function(f"() => {CY}.nodes('[lpos = \"{FAR}\"]').every(n => {CY}.getElementById('callout:' + n.id()).visible())",
                           timeout=15000)
    lines = leader_lines(page)
    assert len(lines) >= 3, lines
    for line in lines:
        assert line["found"] and line["visible"] and line["display"] == "element" and line["dashed"], line
        assert line["source"] == line["id"], line  # from the node ...
        b, m, n = line["box"], line["mark"], line["node"]
        # ... towards its label: the mark is nearer the label's drawn box than the node is, and at most a few units
        # off it (the server places the mark on its own estimate of the box, which is a little larger than the
        # drawn text: measured 0 to 30 units, 12 % of the label's width, on these three)
        assert gap(m, b) < gap(n, b) and gap(m, b) <= 0.15 * max(b["w"], b["h"]) + 2, line
    # only the far labels' lines show; one pair per entity, none added or removed
    shown = page.evaluate(f"() => {CY}.edges('.callout').filter(e => e.visible()).length")
    assert shown == len(lines)
    assert page.evaluate(f"() => {CY}.nodes().not('.sector').length") == N
    assert page.evaluate(f"() => {CY}.edges('.callout').length") == N
    screenshot(page, "leader-lines-after-in-page-change")
    # the same lines as the page built from the link of this view
    by_link = page.context.new_page()
    open_dashboard(by_link, page.url)
    settle(by_link)
    assert [(x["id"], x["visible"], x["mark"]) for x in leader_lines(by_link)] == [(x["id"], True, x["mark"]) for x in lines]
    by_link.close()
    # play still advances, and the graph still has one node shape per entity
    last_round = page.evaluate("() => +document.getElementById('round-label').textContent.match(/of (\\d+)/)[1]")
    final = statuses(page)
    page.click("#anim-play")
    expect(page.locator("#anim-play")).to_have_text(re.compile("Pause"), timeout=5000)
    seen = set()
    for _ in range(400):
        seen.add(int(page.inner_text("#round-label").split()[1]))
        if "Play" in page.inner_text("#anim-play"):
            break
        page.wait_for_timeout(40)
    assert len(seen) >= 2, seen
    expect(page.locator("#round-label")).to_contain_text(f"Round {last_round} ", timeout=20000)
    settle(page)
    assert statuses(page) == final
    assert page.evaluate(f"() => {CY}.nodes().not('.sector').length") == N
    assert all(x["visible"] for x in leader_lines(page))
    assert errors == []


@pytest.fixture(scope="module")
def server_2025():
    """The app with no data given (the newest snapshot, as ``sfm dashboard``)."""
    from browser_support import served
    from dashboard.app import create_app

    with served(create_app()) as srv:
        yield srv


def pegs_heading(page: Page) -> dict:
    """The Pegs heading's box and the visible part of the left column, in viewport pixels, and how far it scrolled."""
    return page.evaluate("""() => {
        const s = document.querySelector('#section-pegs > summary').getBoundingClientRect();
        const col = document.querySelector('.col-controls'), c = col.getBoundingClientRect();
        return {top: s.top, bottom: s.bottom, panel_bottom: c.bottom, scrolled: col.scrollTop + window.scrollY}; }""")


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_the_pegs_heading_is_in_view_without_scrolling(server_2025, browser, screenshot, size):
    """The longest left panel the presets give (October 2025: six price paths set by the file, no control), modified
    in the page (a list of changes above the sliders): the Pegs heading is in view as the page opens, at 1366 × 768
    too (before: its bottom at 742 px of 768 unmodified, and below the fold once modified)."""
    w, h = size
    context = browser.new_context(viewport={"width": w, "height": h})
    page = context.new_page()
    errors = page_errors(page)
    try:
        page.goto(f"{server_2025.url}?p=october_2025_crash")
        page.wait_for_selector("#headline .kpi", timeout=30000)
        box = page.locator("#wrap-price-ETH input[type=number]")
        box.fill("-20")
        box.press("Tab")
        expect(page.locator("#scenario-changes")).to_contain_text("ETH price", timeout=20000)
        page.wait_for_timeout(300)
        expect(page.locator("#section-pegs > summary")).to_be_visible()
        at = pegs_heading(page)
        assert at["scrolled"] == 0 and at["top"] >= 0 and at["bottom"] <= min(h, at["panel_bottom"]), (size, at)
        screenshot(page, f"page-{w}x{h}")
        assert errors == []
    finally:
        context.close()
