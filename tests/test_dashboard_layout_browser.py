"""The graph's leader lines after an in-page run change, and the left panel's fit at 1366 × 768 (real headless Chromium).

* A label drawn away from its node (graph_labels.place_labels_far) is joined to it by a dashed leader line. The page
  built from a link drew them; after the run changed in the page they were hidden (sfm.renderRound could not add
  elements by patch without dash-cytoscape regrouping its element list). The graph now holds one leader line per
  entity and moves and shows them by patch (dashboard/graph_leaders.py, assets/sfm_leaders.js).
* At 1366 × 768 the Pegs heading of the left panel lay below the fold (the panel scrolled).
* The graph's legend, every line and every entry of it (the entity types' key too, once folded under "Shapes"), is
  drawn and seen within its panel, under the graph's box and its nodes, and within the window, at 1366 × 768 and
  1920 × 1080; and no text of any panel is cut at the bottom by a box that hides what overflows it.
* No dropdown cuts its selected value or an option with "…" at either size, and the critical-nodes grid's elided
  entity names show in full in a tooltip.
* The critical-nodes grid scrolled sideways at both sizes (twelve columns, 1,170 px, in 446 px at 1366 × 768 and 616
  at 1920 × 1080): it now opens on the scenario's columns and "Alone", every header read in full, the other columns
  under "More columns" (dashboard/critical.py, assets/sfm.css).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from browser_support import page_errors
from dashboard import critical, ids
from test_dashboard_browser import CY, N, open_dashboard, settle, shock, statuses

pytestmark = pytest.mark.browser

FAR = "c"  # graph_labels.FAR


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


@contextlib.contextmanager
def page_at(browser, size: tuple[int, int]) -> Iterator[tuple[Page, list[str]]]:
    """A page in a new browser context of window ``size`` (width, height), and its errors; closed on leaving."""
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    try:
        yield page, page_errors(page)
    finally:
        context.close()


def open_october_2025(page: Page, url: str) -> None:
    """The October 2025 preset loaded from ``url``, its headline shown."""
    page.goto(f"{url}?p=october_2025_crash")
    page.wait_for_selector("#headline .kpi", timeout=30000)


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
    with page_at(browser, size) as (page, errors):
        open_october_2025(page, server_2025.url)
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


#: The legend's rows: one paragraph (the exposure menu, the statuses, the types' shapes, how edges and sizes read),
#: and the Monte Carlo halo's key when a Monte Carlo run has shown it.
LEGEND_LINES = "> .legend-row:not([hidden])"

#: Every entry of the legend that carries text (each status, each entity type, the exposure menu's label, the note on
#: edges and sizes, the Monte Carlo key's buckets): its text, whether the browser draws it (``checkVisibility``: not in
#: a closed ``details``, not hidden), its box in viewport pixels, whether its own box cuts its text (not asked of the
#: menu's label, whose dropdown holds a hidden list wider than itself: its value is test_no_dropdown_cuts_its_text's), and whether the
#: point at its box's centre shows it (not covered by another element, not outside a box that clips it).
LEGEND_ENTRIES_JS = """() => [...document.querySelectorAll(
        '.graph-panel > .legend :is(.legend-item, .edge-min-label, .legend-note, .legend-row b)')].filter(
        e => !e.closest('[hidden]')).map(e => {
    const b = e.getBoundingClientRect(), x = (b.left + b.right) / 2, y = (b.top + b.bottom) / 2;
    const hit = document.elementFromPoint(x, y);
    return {text: e.textContent.trim(), drawn: e.checkVisibility(), top: b.top, bottom: b.bottom, left: b.left,
            right: b.right, cut: !e.querySelector('.dash-dropdown') && (e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1),
            shown: !!hit && (e === hit || e.contains(hit) || hit.contains(e))}; })"""


def legend_fit(page: Page) -> dict:
    """Boxes in viewport pixels (Playwright's ``bounding_box``, as top/bottom/left/right) of the graph panel, the
    graph's box, the legend and each legend line shown; the nodes' drawn extent (labels included) and how far the
    page scrolls. Measured once the graph has been fitted to its box (sfm.js refits on the box's resize)."""
    # the page settles after the graph is first drawn (the headline's cards fill in and the graph's box shrinks by up
    # to 42 px; sfm.js refits 150 ms after the box's size changes): wait until the box's height, the graph's own and
    # its zoom have held for 600 ms
    page.evaluate("() => { window.__sfmFit = {sig: null, since: 0}; }")
    page.wait_for_function("""() => {
        const cy = document.getElementById('graph')._cyreg.cy, box = document.querySelector('.graph-canvas').clientHeight;
        const sig = [box, cy.height(), cy.zoom()].join(), w = window.__sfmFit, now = performance.now();
        if (sig !== w.sig) { w.sig = sig; w.since = now; return false; }
        return box === cy.height() && now - w.since > 600; }""", timeout=20000)

    def edges(b: dict | None) -> dict:
        assert b is not None
        return {"top": b["y"], "bottom": b["y"] + b["height"], "left": b["x"], "right": b["x"] + b["width"]}

    panel = page.locator(".graph-panel")
    legend = panel.locator("> .legend")
    lines = legend.locator(LEGEND_LINES)
    drawn = page.evaluate("""() => {
        const cy = document.getElementById('graph')._cyreg.cy, b = cy.nodes(':visible').renderedBoundingBox();
        const c = document.getElementById('graph').getBoundingClientRect();
        return {nodes: {top: c.top + b.y1, bottom: c.top + b.y2, left: c.left + b.x1, right: c.left + b.x2},
                scroll: document.scrollingElement.scrollHeight - innerHeight}; }""")
    return {"panel": edges(panel.bounding_box()), "canvas": edges(panel.locator("> .graph-canvas").bounding_box()),
            "legend": edges(legend.bounding_box()),
            "lines": [{"text": lines.nth(k).inner_text()[:24], **edges(lines.nth(k).bounding_box())} for k in range(lines.count())],
            "entries": page.evaluate(LEGEND_ENTRIES_JS), **drawn}


def within(inner: dict, outer: dict, slack: float = 0.5) -> bool:
    return (inner["top"] >= outer["top"] - slack and inner["bottom"] <= outer["bottom"] + slack
            and inner["left"] >= outer["left"] - slack and inner["right"] <= outer["right"] + slack)


#: Each text the legend must show: the statuses, the entity types as the legend names them, the two edge colours.
def legend_words() -> list[str]:
    from core.schema import ENTITY_TYPES
    from dashboard.graph_legend import STATUS_COLOURS, _type_label

    return [*STATUS_COLOURS, *(_type_label(t) for t in ENTITY_TYPES), "orange edge", "contagion path", "Exposures shown"]


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_every_legend_line_is_in_its_panel_and_in_view(server_2025, browser, size):
    """The legend under the graph, as the page opens and with the Monte Carlo halo's key shown (as a Monte Carlo run
    shows it): every entry of it is drawn and seen (each status, each entity type, the exposure menu, the note on
    edges and sizes), none cut by its own box, none covered, each within the legend and the window; the page does not
    scroll, the legend lies within the graph panel and below the graph's box, and the nodes lie within that box.
    Before: the entity types' key lay folded under "Shapes", a bare word on the legend's last line (its bottom 8.4 px
    above the panel's at 1366 × 768) that read as a line cut off; the key it folded was not drawn (``checkVisibility``
    false) and lay below the window (its "Type" at 757.7–770.7 px of 768, 1069.7–1082.7 of
    1080). Measured on this tree at 1366 × 768: legend 677.6–759 px (81.4 px, was 91), graph box 167.5–609.8 (442.3 px,
    was 432.5; the label tests ask for the graph's labels at 9.5 and 10 px, which a box of 403 px failed, the key in
    rows of its own); at 1920 × 1080: legend 1017.4–1071 (53.6 px, was 76), graph box 140.6–949.6 (809 px, was
    786.8)."""
    w, h = size
    words = legend_words()
    with page_at(browser, size) as (page, errors):
        open_october_2025(page, server_2025.url)
        expect(page.locator("#round-label")).to_contain_text(" of ", timeout=20000)
        for monte_carlo in (False, True):
            if monte_carlo:
                page.evaluate(f"() => {{ document.getElementById('{ids.PD_LEGEND}').hidden = false; }}")
            fit = legend_fit(page)
            lines, entries = fit["lines"], fit["entries"]
            for entry in entries:
                assert entry["drawn"] and entry["shown"] and not entry["cut"], (size, monte_carlo, entry)  # main: "Type" not drawn (folded), at 757.7-770.7 px of 768
                assert within(entry, fit["legend"]) and entry["bottom"] <= h and entry["right"] <= w, (size, monte_carlo, entry, fit)
            text = " ".join(e["text"] for e in entries)
            assert all(word in text for word in words), (size, [word for word in words if word not in text])
            # the menu, 4 statuses, "Type" and 12 types, the note; the Monte Carlo key's title and its 4 buckets
            assert len(entries) == 19 + (5 if monte_carlo else 0), (size, [e["text"] for e in entries])
            assert len(lines) == (2 if monte_carlo else 1), (size, fit)
            assert fit["scroll"] <= 0, (size, fit)
            assert within(fit["legend"], fit["panel"]), (size, fit)
            assert fit["legend"]["top"] >= fit["canvas"]["bottom"] - 0.5 and within(fit["nodes"], fit["canvas"]), (size, fit)
            for line in lines:
                assert within(line, fit["legend"]) and line["bottom"] <= h, (size, monte_carlo, line, fit)
        assert errors == []


#: Every element shown that hides what overflows it vertically and holds text taller than its box (AG Grid's 1 px
#: screen-reader description is meant to be so).
CLIPPED_JS = """() => [...document.querySelectorAll('body *')].filter(e => {
        if (!e.checkVisibility() || !e.textContent.trim() || e.classList.contains('ag-aria-description-container')) return false;
        const s = getComputedStyle(e);
        return ['hidden', 'clip'].includes(s.overflowY) && e.scrollHeight > e.clientHeight + 1; })
    .map(e => `${e.tagName}#${e.id}.${String(e.className).slice(0, 60)}: ${e.scrollHeight} px of content in ${e.clientHeight}`
              + ` ("${e.textContent.trim().slice(0, 40)}")`)"""


#: The side tabs, each with what shows once its content is drawn.
SIDE_TABS = (("Impact", "#chart-loss .js-plotly-plot"), ("Critical nodes", ".critical-grid .ag-row"),
             ("Entity", "#side-tabs .tab--selected"), ("Monte Carlo", "#sweep-x"), ("Data", "#side-tabs .tab--selected"))


def _open_every_section(page: Page, url: str) -> None:
    """The October 2025 preset loaded, its headline and round shown, every ``details`` section opened."""
    open_october_2025(page, url)
    expect(page.locator("#round-label")).to_contain_text(" of ", timeout=20000)
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")


def _each_side_tab(page: Page):
    """Each side tab in turn, selected and drawn: yields its name."""
    for tab, shown in SIDE_TABS:
        page.locator("#side-tabs .tab", has_text=re.compile(f"^{tab}$")).click()
        expect(page.locator("#side-tabs .tab--selected")).to_have_text(tab)
        page.wait_for_selector(shown, timeout=30000)
        page.wait_for_timeout(300)
        yield tab


#: Per dropdown shown (Dash 4's ``dcc.Dropdown``: a button ``.dash-dropdown`` whose trigger is a grid of the value, the
#: clear button when clearable and the arrow): its id, the selected value's text, that text's width (``scrollWidth``)
#: and the width of the value's box (``clientWidth``; the value elides with "…" past it), and ``room``: the widest the
#: value's box can grow to in that trigger (its inner width less the other cells and the gaps between cells).
DROPDOWNS_JS = """() => [...document.querySelectorAll('button.dash-dropdown')].filter(e => e.checkVisibility()).map(e => {
        const value = e.querySelector('.dash-dropdown-value'), trigger = e.querySelector('.dash-dropdown-trigger');
        const s = getComputedStyle(trigger), cells = [...trigger.children];
        const others = cells.filter(c => c !== value).reduce((w, c) => w + c.getBoundingClientRect().width, 0);
        const room = trigger.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight) - others
                     - parseFloat(s.columnGap) * (cells.length - 1);
        return {id: e.id, text: value ? value.textContent : null, text_width: value ? value.scrollWidth : null,
                box: value ? value.clientWidth : null, room: room, font: value ? getComputedStyle(value).font : null}; })"""

#: The open menu's options: each option's text, whether it is cut in its own box, its right edge, its text's width in
#: ``font`` (the closed dropdown's value font: the width the option takes once selected) and whether it can be the
#: one value shown (not a disabled heading, as the preset menu's snapshots, nor one of a multiple choice, whose
#: values share the box and are counted beside it).
OPTIONS_JS = """(font) => { const c = document.createElement('canvas').getContext('2d'); c.font = font;
    return [...document.querySelectorAll('.dash-dropdown-content .dash-dropdown-option')].map(o => {
        const t = o.textContent.trim();
        return {text: t, cut: o.scrollWidth > o.clientWidth, right: o.getBoundingClientRect().right,
                width: Math.ceil(c.measureText(t).width), single: !o.querySelector('input:disabled, input[type=checkbox]')}; }); }"""


@pytest.fixture(scope="module")
def walked(server_2025, browser):
    """``walked(size)``: the October 2025 preset at window ``size``, every section opened, each side tab in turn
    (:func:`_each_side_tab`), and on each tab what the two tests below read: the text clipped at the bottom
    (:data:`CLIPPED_JS`), read first, then every dropdown shown (:data:`DROPDOWNS_JS`) and, for each not seen on an
    earlier tab, its menu opened, read (:data:`OPTIONS_JS`) and closed; then how far the page scrolls, and its
    errors. One walk a size serves both tests (it was one each: an opening, five tabs drawn)."""
    walks: dict[tuple[int, int], dict] = {}

    def at(size: tuple[int, int]) -> dict:
        if size not in walks:
            with page_at(browser, size) as (page, errors):
                _open_every_section(page, server_2025.url)
                clipped: dict[str, list] = {}
                dropdowns: list[tuple[str, dict]] = []
                menus: dict[str, tuple[str, dict, list]] = {}
                for tab in _each_side_tab(page):
                    clipped[tab] = page.evaluate(CLIPPED_JS)
                    for d in page.evaluate(DROPDOWNS_JS):
                        dropdowns.append((tab, d))
                        if d["id"] in menus:
                            continue
                        # its menu: open, read, close
                        page.locator(f"button.dash-dropdown[id='{d['id']}']").click()
                        page.wait_for_selector(".dash-dropdown-content .dash-dropdown-option", timeout=5000)
                        menus[d["id"]] = tab, d, page.evaluate(OPTIONS_JS, d["font"])
                        page.keyboard.press("Escape")
                        page.wait_for_selector(".dash-dropdown-content", state="detached", timeout=5000)
                scroll = page.evaluate("() => [document.scrollingElement.scrollHeight - innerHeight, "
                                       "document.scrollingElement.scrollWidth - innerWidth]")
                walks[size] = {"clipped": clipped, "dropdowns": dropdowns, "menus": menus, "scroll": scroll,
                               "errors": list(errors)}
        return walks[size]

    return at


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_no_panel_cuts_its_text_at_the_bottom(walked, size):
    """Every section opened (the left panel's, the venue rules) and each side tab in turn: no
    text is clipped under a box of fixed height with its overflow hidden (a legend of 60 px with ``overflow: hidden``
    fails here, its lines, Shapes opened, 178 px high at 1366 px and 130 at 1920)."""
    walk = walked(size)
    assert list(walk["clipped"]) == [tab for tab, _ in SIDE_TABS]
    for tab, clipped in walk["clipped"].items():
        assert clipped == [], (size, tab, clipped)
    assert walk["errors"] == []


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_no_dropdown_cuts_its_text(walked, size):
    """Every dropdown of the page (every section opened and each side tab in turn, as
    :func:`test_no_panel_cuts_its_text_at_the_bottom`): its selected value reads in full (the value's text no wider
    than its box, so no "…"), and so does each of its options, in the open menu (not cut, within the window) and once
    selected (its text no wider than the room the closed dropdown gives its value); the page does not scroll. Before:
    the parameter sweep's "Collateral requirement (×)" 172 px in 94 at 1366 px (98 at 1920), "Insurance funds (×)"
    129 in 73 (77), "Bad debt at par" 102 in 94 (98); Binance's collateral pricing "venue rule (order book)" 131 in
    117 at 1366 px."""
    w, h = size
    walk = walked(size)
    cut: list = [(tab, d) for tab, d in walk["dropdowns"] if d["text"] is not None and d["text_width"] > d["box"]]
    for tab, d, options in walk["menus"].values():
        assert options, (size, tab, d)
        cut += [(tab, d["id"], o, d["room"]) for o in options if o["cut"] or o["right"] > w or (o["single"] and o["width"] > d["room"])]
    assert len(walk["menus"]) >= 25, (size, sorted(walk["menus"]))  # the left panel's (16 venues), the graph's, the tabs'
    assert cut == [], (size, cut)
    assert walk["scroll"] == [0, 0]
    assert walk["errors"] == []


def test_an_elided_entity_name_in_the_critical_grid_shows_in_full_on_hovering(server_2025, page: Page):
    """The critical-nodes grid elides a long name in its Entity column (AG Grid's ellipsis; the grid may): hovering the
    cell shows the full name in a tooltip (before: no tooltip, the name could not be read in the grid)."""
    open_october_2025(page, server_2025.url)
    page.locator("#side-tabs .tab", has_text=re.compile("^Critical nodes$")).click()
    page.wait_for_selector(".critical-grid .ag-row", timeout=30000)
    page.wait_for_timeout(300)
    # the first name on screen that the grid elides: its cell's text wider than the cell
    k = page.evaluate("""() => [...document.querySelectorAll('.critical-grid .ag-center-cols-container [col-id="name"]')]
        .findIndex(c => { const v = c.querySelector('.ag-cell-value') || c; return v.scrollWidth > v.clientWidth; })""")
    assert k >= 0, "no entity name is elided: choose a narrower case"
    cell = page.locator('.critical-grid .ag-center-cols-container [col-id="name"]').nth(k)
    name = page.evaluate("(c) => c.textContent.trim()", cell.element_handle())
    cell.hover()
    tip = page.locator(".ag-tooltip")
    expect(tip).to_be_visible(timeout=5000)
    assert tip.inner_text().strip() == name and len(name) > 12, (name, tip.inner_text())


#: The critical-nodes grid's sideways overflow (its columns' viewport: ``scrollWidth`` past ``clientWidth``) and, per
#: column shown, its header's box against that viewport and its text against its own box (a word wider than the box,
#: or lines taller than it, are cut), each word drawn in one box (not broken across lines) inside the text's box.
CRITICAL_HEADERS_JS = """() => {
    const grid = document.querySelector('#critical-table'), vp = grid.querySelector('.ag-center-cols-viewport');
    const at = vp.getBoundingClientRect();
    const heads = [...grid.querySelectorAll('.ag-header-row-column .ag-header-cell')].map(h => {
        const b = h.getBoundingClientRect(), t = h.querySelector('.ag-header-cell-text'), tb = t.getBoundingClientRect();
        const label = h.querySelector('.ag-header-cell-label').getBoundingClientRect(), node = t.firstChild, words = [];
        const re = /\\S+/g; let m;
        while (node && (m = re.exec(node.textContent))) {
            const r = document.createRange(); r.setStart(node, m.index); r.setEnd(node, m.index + m[0].length);
            const rects = [...r.getClientRects()];
            words.push({word: m[0], whole: rects.length === 1 && rects.every(x => x.left >= tb.left - 0.5 && x.right <= tb.right + 0.5)});
        }
        return {col: h.getAttribute('col-id'), left: b.left - at.left, right: b.right - at.left,
                text_cut: t.scrollWidth > t.clientWidth + 0.5 || t.scrollHeight > t.clientHeight + 0.5,
                label_out: label.bottom > b.bottom + 0.5 || label.top < b.top - 0.5,
                broken: words.filter(w => !w.whole).map(w => w.word)};
    });
    return {scroll: vp.scrollWidth, client: vp.clientWidth, heads: heads}; }"""


def critical_headers_cut(page: Page) -> dict:
    """The grid's overflow and the headers shown that are not read in full: out of the viewport, their text cut, a
    word broken or cut, their label (text and sort arrow) outside the header."""
    m = page.evaluate(CRITICAL_HEADERS_JS)
    cut = [h for h in m["heads"] if h["left"] < -0.5 or h["right"] > m["client"] + 0.5 or h["text_cut"] or h["label_out"] or h["broken"]]
    return {"overflow": m["scroll"] - m["client"], "shown": [h["col"] for h in m["heads"]], "cut": cut}


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_the_critical_grid_shows_its_columns_without_sideways_scrolling(server_2025, browser, size):
    """The Critical nodes tab on the October 2025 preset: the grid opens on the scenario's columns and "Alone", with no
    sideways overflow and every header read in full, unsorted and sorted by each column (the arrow goes under the
    text); the calm network's other columns are there under "More columns". Before: the twelve columns took 1,170 px
    of a 446 px viewport at 1366 × 768 (616 at 1920 × 1080): "Own loss here" was cut at its 32nd px of 84 and "Ends"
    and "Type" lay past the edge at 1366 px, "Type" was cut at 1920 px."""
    with page_at(browser, size) as (page, errors):
        open_october_2025(page, server_2025.url)
        page.locator("#side-tabs .tab", has_text=re.compile("^Critical nodes$")).click()
        page.wait_for_selector("#critical-table .ag-center-cols-container .ag-row", timeout=30000)
        page.wait_for_timeout(300)
        default = [c["field"] for c in critical.COLUMNS if not c.get("hide")]
        for col in (None, *default[2:]):  # unsorted, then sorted by each sortable column
            page.evaluate("""async (col) => (await dash_ag_grid.getApiAsync('critical-table'))
                .applyColumnState({state: col ? [{colId: col, sort: 'desc'}] : [], defaultState: {sort: null}})""", col)
            page.wait_for_timeout(150)
            fit = critical_headers_cut(page)
            assert fit["overflow"] <= 0 and fit["cut"] == [] and fit["shown"] == default, (size, col, fit)
        # every column a tick away: all shown, the grid scrolls sideways to them
        for label in critical.MORE.values():
            page.locator(f"#{ids.CRITICAL_MORE} label", has_text=re.compile(f"^{re.escape(label)}$")).click()
        shown = "() => dash_ag_grid.getApi('critical-table').getAllDisplayedColumns().map(c => c.getColId())"
        page.wait_for_function(f"() => ({shown})().length === {len(critical.COLUMNS)}", timeout=10000)
        assert page.evaluate(shown) == [c["field"] for c in critical.COLUMNS]
        assert errors == []
