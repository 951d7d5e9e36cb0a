"""Snapshots in a real headless Chromium (Playwright, Debian's /usr/bin/chromium).

The page opens on the newest snapshot; every preset of every snapshot plays (loads on its own
snapshot, runs, shows its name, and its final figures are the engine's); the link keeps the
snapshot; the menu switches it; a preset of another snapshot switches to that snapshot; the
comparison view draws its chart and tables. The server is the app with no data given
(``create_app()``), as ``sfm dashboard`` starts it.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from browser_support import SharedPages, page_errors, served

import core
from core import datasets
from dashboard.scenarios import preset_title

pytestmark = pytest.mark.browser

CY = "document.getElementById('graph')._cyreg.cy"
NEW = datasets.DEFAULT_DATASET
PRESETS = [p.key for p in datasets.presets()]


@pytest.fixture(scope="module")
def server():
    """The dashboard as ``sfm dashboard`` serves it without --data (the newest snapshot), from a thread."""
    from dashboard.app import create_app

    with served(create_app()) as srv:
        yield srv


@pytest.fixture(scope="module")
def preset_tab(browser):
    """One page (and its cache) for every preset of :func:`test_every_preset_of_every_snapshot_plays`: each test opens
    its own link in it, so nothing but the browser's cached scripts carries over; ``.errors`` is emptied per test."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    tab = context.new_page()
    tab.errors = page_errors(tab)
    yield tab
    context.close()


def shows_network(page: Page, name: str) -> None:
    """Wait until the graph holds every entity of snapshot ``name`` and the first run is on screen."""
    n = datasets.load(name).n_entities
    page.wait_for_function(f"() => document.getElementById('graph')?._cyreg?.cy?.nodes().not('.sector, .asset').length === {n}",
                           timeout=30000)
    page.wait_for_selector("#headline .kpi", timeout=30000)
    page.wait_for_function("() => document.getElementById('round-label').textContent.includes(' of ')", timeout=30000)
    expect(page.locator("#dataset-name")).to_contain_text(name)
    expect(page.locator("#snapshot-menu")).to_contain_text(name)


@pytest.fixture(scope="module")
def shared(browser):
    """The page the next three tests share (:class:`browser_support.SharedPages`): the newest snapshot as the page
    opens, read by the first, then the comparison run on its Data tab, then the preset menu read and a preset of
    another snapshot chosen (the last)."""
    pages = SharedPages(browser)
    yield pages
    pages.close()


def newest(shared: SharedPages, server) -> tuple[Page, list[str]]:
    """The server's page with no parameter, the newest snapshot shown (1366 × 768), shared, and its errors."""
    def open_(page: Page) -> None:
        page.goto(server.url)
        shows_network(page, NEW)

    return shared.get("newest", (1366, 768), open_)


def test_the_page_opens_on_the_newest_snapshot(server, shared):
    page, errors = newest(shared, server)
    assert "snapshot=" not in page.url  # the default needs no parameter
    assert errors == []


def test_the_comparison_view_draws_its_chart_and_tables(server, shared):
    page, errors = newest(shared, server)
    page.locator("#side-tabs .tab", has_text=re.compile("^Data$")).click()
    page.click("#diff-run")
    page.wait_for_function("() => document.querySelector('#diff-chart .js-plotly-plot')?.data?.length === 2", timeout=60000)
    tables = page.locator("#diff-tables")
    expect(tables).to_contain_text("Standard shocks")
    expect(tables).to_contain_text("largest exchange fails")
    expect(tables).to_contain_text("Critical nodes")
    names = page.evaluate("() => document.querySelector('#diff-chart .js-plotly-plot').data.map(t => t.name)")
    assert names[1] == NEW and names[0] != NEW
    assert "NaN" not in tables.inner_text() and "Infinity" not in tables.inner_text()
    assert errors == []


def test_presets_are_listed_under_their_snapshot_and_one_of_another_switches_to_it(server, shared):
    page, errors = newest(shared, server)  # the last on the shared page: it goes to another snapshot
    page.click("#preset")
    texts = [t.strip() for t in page.get_by_role("option").all_inner_texts()]
    headings = [i for i, t in enumerate(texts) if re.match(r"crypto-\d{4}-\d{2} \(", t)]
    assert texts[headings[0]].startswith(NEW) and "on screen" in texts[headings[0]]  # the snapshot on screen first
    for p in datasets.presets():
        i = texts.index(preset_title(p.key, p.scenario))
        under = max(h for h in headings if h < i)
        assert texts[under].startswith(p.snapshot), (p.key, texts[under])
    terra = datasets.preset("terra_may_2022")
    page.get_by_role("option", name=preset_title("terra_may_2022", terra.scenario)).click()
    page.wait_for_url(re.compile(r"snapshot=crypto-2022-05"), timeout=30000)
    shows_network(page, "crypto-2022-05")
    expect(page.locator("#scenario-name")).to_have_text("Terra May 2022", timeout=20000)
    page.wait_for_function(f"() => {CY}.nodes('.st-defaulted').length > 0 || "
                           "document.getElementById('round-label').textContent.includes('defaulted')", timeout=20000)
    assert errors == []
    shared.release("newest", (1366, 768))


@pytest.mark.parametrize("key", PRESETS)
def test_every_preset_of_every_snapshot_plays(server, preset_tab, key):
    page, errors = preset_tab, preset_tab.errors
    errors.clear()
    p = datasets.preset(key)
    net = datasets.load(p.snapshot)
    res = core.simulate(net, p.scenario)
    page.goto(f"{server.url}?snapshot={p.snapshot}&p={key}")
    shows_network(page, p.snapshot)
    title = preset_title(key, p.scenario)
    expect(page.locator("#scenario-name")).to_have_text(title, timeout=20000)
    expect(page.locator("#preset")).to_contain_text(title)
    # play it to the end at the fastest speed, every round drawn on the graph, the round label and the headline; the
    # side panel on a tab without charts while it plays (plotly redrawing four charts' round marker each round was
    # two thirds of the time; test_play_advances_rounds plays with them on screen), then back on the charts: they
    # mark the last round. The final figures on screen are the engine's.
    last = int(re.search(r"of (\d+)", page.inner_text("#round-label")).group(1))
    page.locator("#side-tabs .tab", has_text=re.compile("^Entity$")).click()
    page.click("#anim-speed")
    page.get_by_role("option", name="4×", exact=True).click()
    page.wait_for_function("() => document.querySelector('#anim-speed').textContent.includes('4×')", timeout=5000)
    # The page opens on the last round, so "Round N of N" is on screen before Play takes effect too (the click's
    # callback runs a moment later: under load, long enough for the waits below to pass at once and the card to be
    # read at round 0, "1 of 47" for FTX): wait until the play has rewound to round 0, then for its end, and read
    # the label, the headline's round and the card at one instant.
    page.evaluate("""() => { window.sfmRewound = false; const label = document.getElementById('round-label');
        new MutationObserver(() => { if (label.textContent.startsWith('Round 0 of')) window.sfmRewound = true; })
            .observe(label, {subtree: true, childList: true, characterData: true}); }""")
    page.click("#anim-play")
    page.wait_for_function(f"""() => window.sfmRewound && document.getElementById('round-label').textContent.startsWith('Round {last} of {last}')
                               && document.getElementById('headline').textContent.includes('final, round {last}')""", timeout=60000)
    label, card = page.evaluate("() => [document.getElementById('round-label').textContent, document.getElementById('kpi-defaults').textContent]")
    assert label.startswith(f"Round {last} of {last}")
    assert card.startswith(f"{int(res.summary_dict()['defaults'])} of {net.n_entities}"), (label, card)
    page.locator("#side-tabs .tab", has_text=re.compile("^Impact$")).click()
    page.wait_for_function(f"() => document.querySelector('#chart-loss .js-plotly-plot')?.layout?.shapes?.[0]?.x0 === {last}",
                           timeout=20000)
    # the link keeps the snapshot once the view writes itself into the address bar
    page.click("#anim-back")
    page.wait_for_function("() => new URLSearchParams(window.location.search).has('r')", timeout=20000)
    assert f"snapshot={p.snapshot}" in page.url
    assert errors == []


def test_the_menu_switches_snapshot_and_the_link_keeps_it(server, page: Page, errors):
    page.goto(server.url)
    shows_network(page, NEW)
    old = datasets.available()[0]
    page.click("#snapshot-menu")
    page.get_by_role("option", name=old.name, exact=True).click()
    page.wait_for_url(re.compile(rf"snapshot={old.name}"), timeout=30000)
    shows_network(page, old.name)
    page.click("#anim-step")
    page.wait_for_function("() => new URLSearchParams(window.location.search).get('r') === '1'", timeout=20000)
    assert f"snapshot={old.name}" in page.url
    page.reload()  # the link alone reopens the same snapshot and round
    shows_network(page, old.name)
    expect(page.locator("#round-label")).to_contain_text("Round 1 of")
    assert errors == []


@pytest.mark.parametrize("key", ["terra_may_2022", "black_thursday_2020"])
def test_a_link_naming_a_preset_opens_its_own_snapshot(server, page: Page, errors, key):
    """``?p=terra_may_2022`` on a server showing another snapshot said "3 problems" (GBTC, LUNA, UST are not in that
    network): the page now opens the preset's own snapshot, the preset applied, and the address names both."""
    p = datasets.preset(key)
    assert p.snapshot != NEW
    page.goto(f"{server.url}?p={key}&e=nobody-{key}")
    shows_network(page, p.snapshot)
    query = dict(re.findall(r"[?&]([^=&]+)=([^&]*)", page.url))
    assert query["snapshot"] == p.snapshot and query["p"] == key, page.url
    expect(page.locator("#scenario-name")).to_have_text(preset_title(key, p.scenario), timeout=20000)
    assert "problem" not in page.locator("#message").inner_text()
    expect(page.locator("#entity-detail")).to_contain_text(f"No entity 'nobody-{key}'")  # the link's other terms kept
    assert errors == []
