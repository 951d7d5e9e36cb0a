"""The page's four small wrongs that session 36's look at the page saw and left, each in a real headless Chromium.

* The entity card's WHY sentence wrote a share of equity with no decimals beside the loss table's one decimal:
  Terraform Labs (Terra May 2022) "(30% of its equity)" over "29.8% of its $750.0M". Both now write it with one
  function, ``core.formatting.equity_share`` ("29.8% of its $750.0M of equity", or "it had no equity").
* The sentence named the entity twice, its path's last step and its tail: Stream Finance on the November 2025 preset
  read "Shock → Stream Finance (xUSD) (shock) → Stream Finance (xUSD) defaults in round 1", two steps for an entity
  the scenario shocks and that fails of it. It now reads "Shock → Stream Finance (xUSD) (shock), which defaults ...".
* The "Entities forced to fail" menu cut its value with an ellipsis in the 244 px (1366 × 768) and 284 px
  (1920 × 1080) column: "Alameda Research (ALA…" (FTX November 2022). Its values now wrap, one a line, and each
  carries its full name as a tooltip (its test, ``test_the_forced_failures_read_in_full``, is in
  tests/test_page_five_wrongs_browser.py, on the same openings as the boxes under that menu).
* The HTML report's title and heading, and the SVG / PNG pictures' heading, wrote the scenario's raw name
  ("ftx_nov_2022", "custom", "modified from ftx_nov_2022"); they now write the name the scenario panel shows ("FTX
  Nov 2022", "Custom scenario"; a changed preset "FTX Nov 2022, modified").
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from browser_support import page_errors, served
from test_dashboard_browser import open_dashboard, set_slider
from test_dashboard_views_browser import link

from dashboard import ids

pytestmark = pytest.mark.browser

SIZES = [(1366, 768), (1920, 1080)]


def entity_card(page: Page) -> tuple[str, str]:
    """The Entity tab's WHY sentence and its loss table's "Equity lost" cell."""
    page.locator("#side-tabs .tab", has_text="Entity").click()
    card = page.locator("#entity-detail")
    expect(card.locator("p.narrative")).to_be_visible(timeout=20000)
    lost = page.evaluate("""() => [...document.querySelectorAll('#entity-detail table.losses tr')]
        .map(r => [...r.querySelectorAll('td')].map(c => c.innerText.trim())).find(r => r[0] === 'Equity lost')[1]""")
    return card.locator("p.narrative").inner_text(), lost


def test_the_why_sentence_and_the_loss_table_give_one_share_of_equity(dashboard_server, page: Page):
    """Terraform Labs (Terra May 2022) survives with a loss of $223.4M of $750.0M: 29.8%, in both places, in the same
    words (before: "(30% of its equity)" in the sentence, "(29.8% of its $750.0M)" in the table)."""
    errors = page_errors(page)
    open_dashboard(page, link(dashboard_server, e="TFL"))
    story, lost = entity_card(page)
    share = re.search(r"\(([^()]*of equity|it had no equity)\)$", lost)
    assert share, lost
    assert f"({share.group(1)})" in story, (story, lost)
    assert "29.8% of its $750.0M of equity" == share.group(1), lost
    assert errors == []


@pytest.fixture(scope="module")
def server_2025():
    """The app with no data given (the newest snapshot, as ``sfm dashboard``)."""
    from dashboard.app import create_app

    with served(create_app()) as srv:
        yield srv


@pytest.mark.parametrize("entity, name", [("STREAM", "Stream Finance (xUSD)"), ("ELIXIR", "Elixir (deUSD issuer)")])
def test_the_why_sentence_names_its_entity_once(server_2025, browser, entity, name):
    """November 2025: Stream is shocked by the scenario and fails of it, one step; Elixir fails of Stream's default.
    Each sentence names its entity once (before: twice, "→ Stream Finance (xUSD) (shock) → Stream Finance (xUSD)
    defaults in round 1")."""
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    errors = page_errors(page)
    try:
        page.goto(f"{server_2025.url}?p=stream_elixir_nov_2025&e={entity}")
        page.wait_for_selector("#headline .kpi", timeout=30000)
        story, _ = entity_card(page)
        assert story.count(name) == 1, story
        assert re.search(rf"{re.escape(name)} \(\w[\w ]*\), which defaults in round \d", story), story
        if entity == "STREAM":
            assert story.startswith(f"Shock → {name} (shock), which defaults in round 1"), story
        assert errors == []
    finally:
        page.close()


def _download(page: Page, button: str, tmp_path, name: str) -> str:
    with page.expect_download(timeout=60000) as dl:
        page.click(f"#{button}")
    path = tmp_path / name
    dl.value.save_as(path)
    return path.read_text(encoding="utf-8") if not name.endswith(".png") else ""


@pytest.mark.parametrize("case", ["preset", "custom", "modified"])
def test_the_exports_are_headed_by_the_name_the_page_shows(dashboard_server, page: Page, tmp_path, case):
    """The report's title and heading, the SVG's and the PNG's heading: the scenario panel's name ("FTX Nov 2022",
    "Custom scenario"), a changed preset named as modified ("FTX Nov 2022, modified"); never the raw name
    ("ftx_nov_2022", "custom", "modified from ftx_nov_2022")."""
    errors = page_errors(page)
    if case == "custom":
        open_dashboard(page, dashboard_server.url)
    else:
        open_dashboard(page, f"{dashboard_server.url}?p=ftx_nov_2022")
    shown = page.locator("#scenario-name").inner_text().strip()
    assert shown == {"custom": "Custom scenario"}.get(case, "FTX Nov 2022"), shown
    if case == "modified":
        page.locator("#section-prices > summary").evaluate("s => { s.parentElement.open = true; }")
        set_slider(page, "wrap-price-ETH", -40)
        expect(page.locator("#scenario-changes")).to_be_visible(timeout=20000)
    title = shown + (", modified" if case == "modified" else "")
    report = _download(page, ids.REPORT_BTN, tmp_path, "report.html")
    assert f"<title>sfm report: {title}</title>" in report, report[:400]
    assert f"<h1>Systemic failure report: {title}</h1>" in report, re.findall(r"<h1>.*?</h1>", report)
    svg = _download(page, ids.EXPORT_SVG, tmp_path, "graph.svg")
    heading = re.search(r"<title>(.*?)</title>", svg).group(1)
    assert heading.startswith(f"{title} · round "), heading
    page.evaluate("""() => { window.__sfmTexts = []; const f = CanvasRenderingContext2D.prototype.fillText;
        CanvasRenderingContext2D.prototype.fillText = function (t) { window.__sfmTexts.push(String(t)); return f.apply(this, arguments); }; }""")
    _download(page, ids.EXPORT_PNG, tmp_path, "graph.png")
    png = [t for t in page.evaluate("() => window.__sfmTexts") if " · round " in t]  # (the graph's labels draw too)
    assert len(png) == 1 and png[0].startswith(f"{title} · round "), png
    assert errors == []
