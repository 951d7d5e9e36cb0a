"""The page as an analyst shows it in a meeting (real headless Chromium), at 1366 × 768 and 1920 × 1080.

* The critical-nodes grid's headers broke inside words: "Rank here" read "Ran / k / here" in its 62 px column, and one
  letter a line once sorted by it. AG Grid's theme pads each header cell by 16 px a side and writes its text with
  ``overflow-wrap: break-word``, so a word wider than what is left (30 px for "Rank", 32.7 px wide; less again beside
  the 24 px sort arrow) is broken wherever it must be. The grid now pads its cells 8 px a side, breaks header text
  only between words, and gives each column room for its longest header word beside the sort arrow
  (dashboard/critical.py, assets/sfm.css).
* The headline said "0.0% of equity" beside a system loss of $320.0M (Stream / Elixir, November 2025): a share that
  is not zero but rounds to zero now reads "< 0.1%", on the first page (dashboard/state.py ``pct``) and at every
  round the page draws (assets/sfm.js ``pct``).
* "Open scenario" with a file that is not .json did nothing: the browser dropped it (the upload's ``accept``), and
  the message of the file before (naming that file) stayed on screen. The file is now sent and refused with a
  message naming it (dashboard/scenarios.py).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from browser_support import page_errors, served
from test_dashboard_browser import open_dashboard
from test_dashboard_views_browser import link

from dashboard import critical, ids

pytestmark = pytest.mark.browser

SIZES = [(1366, 768), (1920, 1080)]


def header_words(page: Page, column: str) -> list[dict]:
    """Each word of the column's header: how many boxes it is drawn in (2 or more: broken across lines) and whether
    it lies inside the header's text box (outside: clipped)."""
    return page.evaluate("""(col) => {
        const t = document.querySelector(`#critical-table .ag-header-cell[col-id="${col}"] .ag-header-cell-text`);
        const node = t.firstChild, text = node ? node.textContent : '', box = t.getBoundingClientRect(), out = [];
        const re = /\\S+/g; let m;
        while ((m = re.exec(text))) {
            const r = document.createRange(); r.setStart(node, m.index); r.setEnd(node, m.index + m[0].length);
            const rects = [...r.getClientRects()];
            out.push({word: m[0], boxes: rects.length,
                      inside: rects.every(x => x.left >= box.left - 0.5 && x.right <= box.right + 0.5)});
        }
        return out; }""", column)


#: The grid's number columns (formatted in the browser, right-aligned).
NUMBERS = tuple(c["field"] for c in critical.COLUMNS if c.get("type") == "rightAligned")


def cut_cells(page: Page, column: str) -> list[str]:
    """The column's cells on screen whose text is wider than the cell (drawn cut short, with an ellipsis)."""
    return page.evaluate("""(col) => [...document.querySelectorAll(`#critical-table .ag-row [col-id="${col}"]`)]
        .filter(c => c.scrollWidth > c.clientWidth + 0.5 || [...c.querySelectorAll('*')].some(k => k.scrollWidth > k.clientWidth + 0.5))
        .map(c => c.textContent)""", column)


def sort_by(page: Page, column: str | None) -> None:
    """Sort the grid by ``column`` (None: unsorted) and scroll it into view, through the grid's API."""
    page.evaluate("""async (col) => {
        const api = await dash_ag_grid.getApiAsync('critical-table');
        api.applyColumnState({state: col ? [{colId: col, sort: 'desc'}] : [], defaultState: {sort: null}});
        if (col) api.ensureColumnVisible(col); }""", column)
    page.wait_for_timeout(150)


@pytest.mark.parametrize("size", SIZES)
def test_critical_headers_break_only_between_words(dashboard_server, browser, size):
    w, h = size
    page = browser.new_page(viewport={"width": w, "height": h})
    try:
        open_dashboard(page, link(dashboard_server))
        page.locator("#side-tabs .tab", has_text="Critical nodes").click()
        page.wait_for_selector("#critical-table .ag-center-cols-container .ag-row", timeout=30000)
        for label in critical.MORE.values():  # every column shown, those under "More columns" too
            page.locator(f"#{ids.CRITICAL_MORE} label", has_text=re.compile(f"^{re.escape(label)}$")).click()
        page.wait_for_function(f"() => dash_ag_grid.getApi('critical-table').getAllDisplayedColumns().length === {len(critical.COLUMNS)}",
                               timeout=10000)
        bad = []
        for col in (c["field"] for c in critical.COLUMNS if c["headerName"]):
            for sorted_by in (None, col):
                sort_by(page, sorted_by)
                page.evaluate("""async (col) => (await dash_ag_grid.getApiAsync('critical-table')).ensureColumnVisible(col)""", col)
                page.wait_for_selector(f'#critical-table .ag-header-cell[col-id="{col}"]', timeout=5000)
                words = header_words(page, col)
                assert words, col
                bad += [(col, "sorted" if sorted_by else "unsorted", x) for x in words if x["boxes"] != 1 or not x["inside"]]
            if col in NUMBERS:  # and no number is cut short ("256,…"), the largest first
                bad += [(col, "cut", t) for t in cut_cells(page, col)]
        assert bad == [], (size, bad)
    finally:
        page.close()


@pytest.fixture(scope="module")
def server_2025():
    """The app with no data given (the newest snapshot, as ``sfm dashboard``)."""
    from dashboard.app import create_app

    with served(create_app()) as srv:
        yield srv


@pytest.mark.parametrize("size", SIZES)
def test_a_small_loss_is_not_zero_percent_of_equity(server_2025, browser, size):
    w, h = size
    page = browser.new_page(viewport={"width": w, "height": h})
    errors = page_errors(page)
    try:
        page.goto(f"{server_2025.url}?p=stream_elixir_nov_2025")
        card = page.locator("#kpi-total_loss_usd").locator("xpath=ancestor::*[contains(@class, 'kpi')][1]")
        expect(card).to_contain_text("$320.0M", timeout=30000)
        for shown in ("Round 4 of 4", "Round 3 of 4"):  # the first page (the server's), then a round the page draws
            expect(page.locator("#round-label")).to_contain_text(shown, timeout=10000)
            text = card.inner_text()
            assert "< 0.1% of equity" in text and "0.0%" not in text, (shown, text)
            page.click("#anim-back")
        assert errors == []
    finally:
        page.close()


def test_a_scenario_file_of_another_type_is_refused_by_name(server_2025, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    errors = page_errors(page)
    try:
        page.goto(server_2025.url)
        page.wait_for_selector("#headline .kpi", timeout=30000)
        first = tmp_path / "first.json"
        first.write_text('{"name": "x", "horizon": 0}')
        page.set_input_files("#scenario-upload input[type=file]", str(first))
        alert = page.locator(".alert-error")
        expect(alert).to_contain_text("first.json", timeout=15000)
        expect(alert).to_contain_text("horizon")
        table = tmp_path / "shocks.csv"
        table.write_text("asset,shock\nETH,-0.3\n")
        page.set_input_files("#scenario-upload input[type=file]", str(table))
        expect(alert).to_contain_text("shocks.csv", timeout=15000)
        expect(alert).to_contain_text("JSON")
        expect(alert).not_to_contain_text("first.json")
        assert errors == []
    finally:
        page.close()
