"""The dashboard in a real headless Chromium (Playwright, Debian's /usr/bin/chromium).

One server for the session (``dashboard_server`` in conftest.py), one fresh page
per test. Waits are polls (``wait_for_function``), never fixed sleeps.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from browser_support import page_errors

import core

pytestmark = pytest.mark.browser

N = core.datasets.load("crypto-2022-05").n_entities
CY = "document.getElementById('graph')._cyreg.cy"


@pytest.fixture
def errors_of():
    return page_errors


def open_dashboard(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_function(f"() => document.getElementById('graph')?._cyreg?.cy?.nodes().not('.sector, .asset').length === {N}", timeout=20000)
    page.wait_for_selector("#headline .kpi", timeout=20000)
    page.wait_for_function("() => document.getElementById('round-label').textContent.includes(' of ')", timeout=20000)
    # the first page carries its run: the charts draw as soon as plotly.js has loaded, no callback needed
    page.wait_for_function("() => !document.querySelector('#side-tabs .tab--selected')?.textContent.startsWith('Impact')"
                           " || document.querySelector('#chart-loss .js-plotly-plot')?.data?.length > 0", timeout=20000)


def set_slider(page: Page, wrap_id: str, value: float) -> None:
    box = page.locator(f"#{wrap_id} input[type=number]")
    box.fill(str(value))
    box.press("Tab")  # the Dash 4 slider commits its number box on blur


def settle(page: Page) -> None:
    """Wait until the graph shows what the round label says (both are drawn by the same clientside callback)."""
    page.wait_for_function(f"""() => {{
        const m = document.getElementById('round-label').textContent.match(/(\\d+) defaulted/);
        return m && +m[1] === {CY}.nodes('.st-defaulted').length; }}""", timeout=15000)


def statuses(page: Page) -> dict[str, int]:
    return page.evaluate(f"""() => {{
        const out = {{}};
        for (const s of ['healthy', 'distressed', 'liquidating', 'defaulted']) out[s] = {CY}.nodes('.st-' + s).length;
        return out; }}""")


def loss_trace_max(page: Page) -> float:
    return page.evaluate("() => Math.max(...document.getElementById('chart-loss').querySelector('.js-plotly-plot').data[0].y)")


def shock(page: Page) -> None:
    """ETH −60 %, LUNA −90 %: defaults follow on the shipped network. Returns once both runs are on screen."""
    set_slider(page, "wrap-price-ETH", -60)
    set_slider(page, "wrap-price-LUNA", -90)
    # the prices chart draws one line per shocked asset: both shocks have reached the page
    page.wait_for_function("() => { const g = document.querySelector('#chart-prices .js-plotly-plot');"
                           " return g && g.data && g.data.map(t => t.name).join() === 'ETH,LUNA'; }", timeout=15000)
    page.wait_for_function(f"() => {CY}.nodes('.st-defaulted').length > 0", timeout=15000)
    steady(page)
    settle(page)


def steady(page: Page, quiet_ms: int = 800) -> None:
    """Wait until no node has changed state for ``quiet_ms``: the last run is on screen, not one before it."""
    page.evaluate("() => { window.__sfmSteady = {sig: null, since: 0}; }")
    page.wait_for_function(f"""() => {{
        const sig = {CY}.nodes().map(n => n.classes().join(' ')).join('|');
        const w = window.__sfmSteady, now = performance.now();
        if (sig !== w.sig) {{ w.sig = sig; w.since = now; return false; }}
        return now - w.since > {quiet_ms}; }}""", timeout=20000)


def test_page_loads_with_every_entity_and_no_errors(dashboard_server, page: Page, errors, screenshot):
    open_dashboard(page, dashboard_server.url)
    assert page.evaluate(f"() => {CY}.nodes().not('.sector, .asset').length") == N
    assert page.evaluate(f"() => {CY}.edges().length") > 0
    # nodes stay where the server put them (preset layout)
    pos = page.evaluate(f"() => {CY}.nodes().map(n => [n.id(), Math.round(n.position('x')), Math.round(n.position('y'))])")
    page.reload()
    open_dashboard(page, dashboard_server.url)
    assert page.evaluate(f"() => {CY}.nodes().map(n => [n.id(), Math.round(n.position('x')), Math.round(n.position('y'))])") == pos
    screenshot(page, "load")
    # a smaller window: the graph is fitted to its (smaller) box again
    zoom = page.evaluate(f"() => {CY}.zoom()")
    page.set_viewport_size({"width": 1200, "height": 680})
    page.wait_for_function(f"""() => {{ const cy = {CY}, bb = cy.nodes().boundingBox(), ex = cy.extent();
        return cy.zoom() < {zoom} && bb.x1 >= ex.x1 && bb.x2 <= ex.x2 && bb.y1 >= ex.y1 && bb.y2 <= ex.y2; }}""", timeout=5000)
    assert errors == []


def test_first_load_fetches_only_the_light_bundles(dashboard_server, page: Page, errors):
    """No 4.8 MB plotly.js (dcc.Graph loads the partial bundle of assets/) and no 1.4 MB Cytoscape "extra" bundle."""
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    open_dashboard(page, dashboard_server.url)
    assert any("plotly-cartesian.min.js" in u for u in urls)
    assert not [u for u in urls if "plotly.min.js" in u or "dash_cytoscape_extra" in u]
    assert page.evaluate("() => document.querySelector('#chart-loss .js-plotly-plot').data.length") > 0
    # the first paint's static chart pictures give way to the live charts
    assert page.locator(".chart-box img.chart-static").count() == 6
    page.wait_for_function("() => Array.from(document.querySelectorAll('.chart-box')).every(b => b.querySelector('.main-svg'))")
    assert page.evaluate("() => Array.from(document.querySelectorAll('.chart-static')).filter(i => i.getClientRects().length).length") == 0
    assert errors == []


def test_exports_svg_png_and_report(dashboard_server, page: Page, errors, tmp_path):
    """SVG (drawn on the server, one shape per entity as on screen), PNG (drawn by the browser), the HTML report."""
    import xml.etree.ElementTree as ET

    open_dashboard(page, dashboard_server.url)
    shock(page)
    with page.expect_download() as dl:
        page.click("#export-svg")
    assert dl.value.suggested_filename == "sfm-graph.svg"
    svg = tmp_path / "graph.svg"
    dl.value.save_as(svg)
    root = ET.parse(svg).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    nodes = [g for g in root.iter(f"{ns}g") if g.get("class", "").split()[:1] == ["node"]]
    assert root.tag == f"{ns}svg" and len(nodes) == N
    assert sorted(g.get("data-id") for g in nodes) == sorted(page.evaluate(f"() => {CY}.nodes().not('.sector, .asset').map(n => n.id())"))
    assert all(len([c for c in g if c.get("class") == "shape"]) == 1 for g in nodes)
    # the run's round on screen: the page draws the same defaults (it may still be patching the graph for the run)
    drawn = sum("st-defaulted" in g.get("class").split() for g in nodes)
    assert drawn > 0
    page.wait_for_function(f"() => {CY}.nodes('.st-defaulted').length === {drawn}", timeout=10000)
    page.evaluate("""() => { window.__drawn = []; const f = CanvasRenderingContext2D.prototype.fillText;
        CanvasRenderingContext2D.prototype.fillText = function (t, x, y) { window.__drawn.push(String(t)); return f.apply(this, arguments); }; }""")
    graph_h = page.evaluate(f"""() => new Promise(r => {{ const i = new Image(); i.onload = () => r(i.height);
        i.src = {CY}.png({{full: true, bg: '#ffffff', scale: 2}}); }})""")
    with page.expect_download() as dl:
        page.click("#export-png")
    png = tmp_path / "graph.png"
    dl.value.save_as(png)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and dl.value.suggested_filename == "sfm-graph.png"
    assert int.from_bytes(data[20:24], "big") > graph_h  # (IHDR height) the graph and a band above it
    drawn = page.evaluate("() => window.__drawn")
    label = page.locator("#round-label").inner_text().split(" · ")[0].lower()
    assert any(t.endswith(" · " + label) for t in drawn), drawn  # scenario name, round and time
    assert {"defaulted", "healthy", "contagion path"} <= set(drawn), drawn  # the legend
    with page.expect_download(timeout=30000) as dl:
        page.click("#report-btn")
    report = tmp_path / "report.html"
    dl.value.save_as(report)
    text = report.read_text()
    assert '<div class="graph"><svg' in text and text.count("Plotly.newPlot") == 6
    assert errors == []


def test_shock_slider_changes_states_and_charts(dashboard_server, page: Page, errors, screenshot):
    open_dashboard(page, dashboard_server.url)
    assert statuses(page)["defaulted"] == 0
    calm_loss = loss_trace_max(page)
    shock(page)
    s = statuses(page)
    assert s["defaulted"] > 0 and sum(s.values()) == N
    page.wait_for_function(f"() => Math.max(...document.getElementById('chart-loss').querySelector('.js-plotly-plot').data[0].y) > {calm_loss}")
    assert "?s=" in page.url  # the view is in the address bar
    screenshot(page, "shock-1366")
    assert errors == []


def test_play_advances_rounds(dashboard_server, page: Page, errors):
    open_dashboard(page, dashboard_server.url)
    shock(page)
    last_round = page.evaluate("() => +document.getElementById('round-label').textContent.match(/of (\\d+)/)[1]")
    final = statuses(page)
    assert last_round >= 2
    page.locator("#anim-speed").click()
    page.get_by_text("4×", exact=True).click()
    page.click("#anim-play")  # at the last round, play starts again from round 0
    expect(page.locator("#anim-play")).to_have_text(re.compile("Pause"), timeout=5000)
    seen = set()
    for _ in range(200):
        label = page.inner_text("#round-label")
        seen.add(int(label.split()[1]))
        if "Play" in page.inner_text("#anim-play"):
            break
        page.wait_for_timeout(40)
    assert len(seen) >= 2  # it went through the rounds ...
    expect(page.locator("#round-label")).to_contain_text(f"Round {last_round} ")  # ... and stopped at the last
    page.wait_for_function(f"() => {CY}.nodes('.st-defaulted').length === {final['defaulted']}", timeout=5000)
    x0 = page.evaluate("() => document.getElementById('chart-loss').querySelector('.js-plotly-plot').layout.shapes[0].x0")
    assert x0 == last_round  # the charts' round marker follows
    page.click("#anim-back")
    expect(page.locator("#round-label")).to_contain_text(f"Round {last_round - 1} ")
    assert errors == []


def test_clicking_a_node_opens_its_detail_and_path(dashboard_server, page: Page, errors, screenshot):
    open_dashboard(page, dashboard_server.url)
    shock(page)
    target = page.evaluate(f"() => {{ const d = {CY}.nodes('.st-defaulted'); return d[d.length - 1].id(); }}")
    page.evaluate(f"() => {{ {CY}.getElementById('{target}').emit('tap'); return true; }}")  # return nothing big: Playwright would serialise the collection
    expect(page.locator("#entity-detail")).to_contain_text("Why", timeout=10000)
    expect(page.locator("#entity-detail")).to_contain_text("Balance sheet")
    expect(page.locator("#entity-detail")).to_contain_text("Contagion path")
    page.wait_for_function(f"() => {CY}.nodes('.hl').length === 1 && {CY}.nodes('.hl')[0].id() === '{target}'", timeout=10000)
    assert "e=" in page.url
    screenshot(page, "detail")
    assert errors == []


def test_bad_upload_shows_its_error_and_keeps_the_network(dashboard_server, page: Page, errors, tmp_path):
    open_dashboard(page, dashboard_server.url)
    page.locator("#side-tabs .tab", has_text=re.compile("^Data$")).click()
    name_before = page.inner_text("#dataset-name")
    bad = tmp_path / "exposures.csv"
    bad.write_text("id,creditor,debtor,kind,amount_usd,as_of,source,flag\nX1,CELSIUS,NOBODY,loan,-5,2022-05-06,test,sourced\n")
    page.set_input_files("#data-upload input[type=file]", str(bad))
    err = page.locator("#data-status .alert-error")
    expect(err).to_contain_text("exposures.csv", timeout=10000)
    expect(err).to_contain_text("line 2")
    expect(err).to_contain_text("column 'debtor'")
    assert page.inner_text("#dataset-name") == name_before
    assert page.evaluate(f"() => {CY}.nodes().not('.sector, .asset').length") == N
    # a good upload replaces the network
    good = tmp_path / "small.json"
    core.datasets.synthetic(30, 60, seed=2).to_json(str(good))
    page.set_input_files("#data-upload input[type=file]", str(good))
    page.wait_for_function(f"() => {CY}.nodes().not('.sector, .asset').length === 30", timeout=15000)
    expect(page.locator("#dataset-name")).to_contain_text("30 entities")
    assert errors == []


def test_saved_scenario_loads_back_to_the_same_view(dashboard_server, page: Page, errors, tmp_path, context):
    open_dashboard(page, dashboard_server.url)
    shock(page)
    page.wait_for_function(f"() => {CY}.nodes('.st-defaulted').length > 0")
    settle(page)  # the view to compare against is the settled one, not a frame in between
    view = (page.inner_text("#headline"), statuses(page))
    label = page.inner_text("#round-label")
    with page.expect_download() as dl:
        page.click("#scenario-download-btn")
    saved = tmp_path / "saved.json"
    dl.value.save_as(saved)
    assert json.loads(saved.read_text())["price_shocks"] == {"ETH": -0.6, "LUNA": -0.9}
    link = page.url
    loss = page.inner_text("#kpi-total_loss_usd")
    page.click("#controls-reset")
    expect(page.locator("#kpi-defaults")).to_have_text(re.compile(r"^0 of"), timeout=15000)
    page.wait_for_function(f"() => {CY}.nodes('.st-defaulted').length === 0", timeout=15000)
    page.set_input_files("#scenario-upload input[type=file]", str(saved))
    expect(page.locator("#kpi-total_loss_usd")).to_have_text(loss, timeout=15000)
    # the graph is patched a frame after the headline: wait for the same round as before
    expect(page.locator("#round-label")).to_have_text(label, timeout=15000)
    settle(page)
    assert _numbers(page.inner_text("#headline")) == _numbers(view[0])
    assert statuses(page) == view[1]
    # the same file once more (after a reset) applies again
    page.click("#controls-reset")
    expect(page.locator("#kpi-defaults")).to_have_text(re.compile(r"^0 of"), timeout=15000)
    page.set_input_files("#scenario-upload input[type=file]", str(saved))
    expect(page.locator("#kpi-total_loss_usd")).to_have_text(loss, timeout=15000)
    # the link reproduces the view in a fresh page
    other = context.new_page()
    open_dashboard(other, link)
    expect(other.locator("#kpi-total_loss_usd")).to_have_text(loss, timeout=15000)
    expect(other.locator("#round-label")).to_have_text(label, timeout=15000)
    settle(other)
    assert statuses(other) == view[1]
    assert errors == []


def _numbers(headline: str) -> str:
    """The headline without the timing footnote (engine/page ms)."""
    return re.sub(r"engine \d+ ms · page \d+ ms", "", headline)


def test_full_hd_view_from_a_link(dashboard_server, browser, errors_of, screenshot):
    """A link with scenario, round and entity opens the same view; this is the README's screenshot (1920×1080)."""
    from dashboard.state import encode_scenario

    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    errors = errors_of(page)
    s = encode_scenario({"name": "eth-luna", "price_shocks": {"ETH": -0.6, "LUNA": -0.9}, "depegs": {"UST": 0.5}})
    open_dashboard(page, f"{dashboard_server.url}?s={s}&e=CELSIUS")
    page.wait_for_function(f"() => {CY}.nodes('.st-defaulted').length > 0", timeout=15000)
    page.wait_for_function(f"() => {CY}.nodes('.hl').length === 1 && {CY}.nodes('.hl')[0].id() === 'CELSIUS'", timeout=15000)
    expect(page.locator("#wrap-depeg-UST input[type=number]")).to_have_value("50")
    page.wait_for_timeout(400)  # let the 250 ms colour transitions finish before the picture
    screenshot(page, "full-hd", publish=True)
    page.close()
    assert errors == []


HIST = "document.querySelector('#mc-hist .js-plotly-plot')"


def test_monte_carlo_runs_in_the_background(dashboard_server, browser, errors_of, screenshot):
    """300 runs through the background callback (diskcache manager, a forked job process): histogram, VaR, halos, sweep."""
    from dashboard.state import encode_scenario

    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    errors = errors_of(page)
    open_dashboard(page, f"{dashboard_server.url}?s={encode_scenario({'name': 'ETH -30%', 'price_shocks': {'ETH': -0.3}})}")
    page.locator("#side-tabs .tab", has_text="Monte Carlo").click()
    runs = page.locator("#mc-runs")
    runs.fill("300")
    runs.press("Tab")  # debounced: the value is sent on blur
    page.click("#mc-run")
    page.wait_for_function(f"""() => {{ const g = {HIST};
        return g && g.data && g.data.length && g.data[0].type === 'bar'
            && (g.layout.shapes || []).some(s => s.name === 'VaR 99%'); }}""", timeout=30000)
    assert page.evaluate(f"() => {HIST}.data[0].y.reduce((a, b) => a + b, 0)") == 300
    expect(page.locator("#mc-status")).to_contain_text("300 runs")
    expect(page.locator("#mc-tables")).to_contain_text("VaR 99%")
    expect(page.locator("#mc-run")).to_be_enabled()
    expect(page.locator("#mc-progress-box")).to_be_hidden()
    # default probabilities as halos on the graph
    page.locator("#mc-pd-switch input").check()
    page.wait_for_function(f"() => {CY}.nodes('.pd-1, .pd-2, .pd-3, .pd-4').length > 0", timeout=10000)
    expect(page.locator("#pd-legend")).to_be_visible()
    assert statuses(page)["defaulted"] + statuses(page)["healthy"] + statuses(page)["distressed"] + statuses(page)["liquidating"] == N
    page.wait_for_timeout(300)  # colour transitions
    screenshot(page, "montecarlo", publish="montecarlo.png")
    # a bad value: a message, and the last result stays
    runs.fill("5")
    runs.press("Tab")
    page.click("#mc-run")
    expect(page.locator("#mc-status .alert-error")).to_contain_text("runs", timeout=15000)
    assert page.evaluate(f"() => {HIST}.data[0].y.reduce((a, b) => a + b, 0)") == 300
    # a sweep in the background: the heatmap
    page.click("#sweep-run")
    page.wait_for_function("() => { const g = document.querySelector('#sweep-heatmap .js-plotly-plot');"
                           " return g && g.data && g.data.length && g.data[0].type === 'heatmap'; }", timeout=30000)
    expect(page.locator("#sweep-status")).to_contain_text("20 cells")
    page.locator("#mc-pd-switch input").uncheck()
    page.wait_for_function(f"() => {CY}.nodes('.pd-1, .pd-2, .pd-3, .pd-4').length === 0", timeout=10000)
    # another shock: the results say they ran on the scenario as it was
    expect(page.locator("#mc-stale .alert-warning")).to_have_count(0)
    set_slider(page, "wrap-price-BTC", -40)
    expect(page.locator("#mc-stale .alert-warning")).to_contain_text("changed", timeout=15000)
    expect(page.locator("#sweep-stale .alert-warning")).to_contain_text("changed")
    page.close()
    assert errors == []
