"""Perpetuals venues in a real headless Chromium (Playwright, Debian's /usr/bin/chromium), on the 2025 snapshot.

An analyst sets Hyperliquid's ADL rule in the safeguards: the link carries it, the venues' table
and the headline move from the venue's own rule (HLP backstop vault) to plain ADL by the amounts
``core.simulate`` gives for the two scenarios, and compare mode puts the venue's own rule beside.
The liquidation levels draw one curve per perpetuals venue.
"""

from __future__ import annotations


import pytest
from playwright.sync_api import Page, expect

from dashboard_fixtures import linked_scenario

import core
from core.scenario import Safeguards, Scenario
from dashboard.state import encode_scenario, usd

pytestmark = pytest.mark.browser

SNAPSHOT = "crypto-2025-10"  # positions on eight perpetuals venues: the server and net fixtures' (tests/dashboard_fixtures.py)
CY = "document.getElementById('graph')._cyreg.cy"
SHOCK = Scenario(name="btc-20", price_shocks={"BTC": -0.2, "ETH": -0.25, "SOL": -0.3})


def open_page(page: Page, url: str) -> None:
    n = core.datasets.load(SNAPSHOT).n_entities
    page.goto(url)
    page.wait_for_function(f"() => document.getElementById('graph')?._cyreg?.cy?.nodes().not('.sector, .asset').length === {n}",
                           timeout=30000)
    page.wait_for_selector("#headline .kpi", timeout=30000)
    page.wait_for_selector("#perps-table table", timeout=30000)


def cell(page: Page, venue: str, column: str) -> str:
    return page.inner_text(f"#perps-{venue}-{column}").strip()


def test_an_adl_rule_set_on_the_page_reaches_the_link_table_and_headline(server, page: Page, errors):
    net = core.datasets.load(SNAPSHOT)
    with_rule = SHOCK.model_copy(update={"safeguards": Safeguards(adl_rules={"HYPERLIQUID": "adl"})})
    with_rule = Scenario.model_validate(with_rule.model_dump())
    own, new = core.simulate(net, SHOCK), core.simulate(net, with_rule)
    own_hl, new_hl = own.summary_dict()["perps"]["HYPERLIQUID"], new.summary_dict()["perps"]["HYPERLIQUID"]
    own_loss, new_loss = own.summary_dict()["total_loss_usd"], new.summary_dict()["total_loss_usd"]
    assert own_hl["backstop_usd"] > 0 and new_hl["backstop_usd"] == 0
    # the loss the vault bore moves onto the traders ADL takes profit from (system loss the same)
    traders = [r.summary_dict()["loss_by_bearer_usd"]["outside_traders"] for r in (own, new)]
    # what moves is the vault's loss, its whole $300M here: it paid the deficits ($300.02M) with the left-over margin
    # it kept from the liquidated accounts still above water as well (a bucket's accounts are settled one by one,
    # core.mechanisms.perps_spread), as test_dashboard_venues.test_compare_runs_the_venues_own_rules_beside reads it
    vault = float(net.venues.set_index("venue").loc["HYPERLIQUID", "backstop_vault_usd"])
    assert own_hl["backstop_usd"] >= vault
    assert traders[1] - traders[0] == pytest.approx(vault, rel=1e-6)

    open_page(page, f"{server.url}?s={encode_scenario(SHOCK.model_dump(mode='json'))}")
    # the venue's own rule: HLP takes the deficit
    assert cell(page, "HYPERLIQUID", "backstop_usd") == usd(own_hl["backstop_usd"])
    assert cell(page, "HYPERLIQUID", "adl_usd") == usd(own_hl["adl_usd"])
    expect(page.locator("#kpi-total_loss_usd")).to_have_text(usd(own_loss))

    page.locator(".venue-rules", has_text="ADL rule per perpetuals venue").locator("summary").click()
    row = page.locator("#sg-adl-rule-row-HYPERLIQUID")
    expect(row.locator(".venue-dropdown")).to_contain_text("venue rule (vault)")
    row.locator(".venue-dropdown").click()
    page.get_by_role("option", name="ADL", exact=True).click()

    # the run under ADL: the table and the headline show core.simulate's figures for that scenario
    expect(page.locator("#perps-HYPERLIQUID-adl_usd")).to_have_text(usd(new_hl["adl_usd"]), timeout=30000)
    expect(page.locator("#perps-HYPERLIQUID-backstop_usd")).to_have_count(0)  # no venue's vault pays: the column goes
    assert cell(page, "HYPERLIQUID", "deficit_usd") == usd(new_hl["deficit_usd"])
    expect(page.locator("#kpi-total_loss_usd")).to_have_text(usd(new_loss), timeout=30000)
    expect(page.locator("#section-safeguards-count")).to_have_text(" · 1 set")
    # the venue named as the forced-to-fail menu names an entity (session 39; was "HYPERLIQUID ADL rule: …")
    expect(page.locator("#scenario-changes")).to_contain_text("Hyperliquid (perps L1, clearinghouse) (HYPERLIQUID) ADL rule: venue rule → adl")
    # the link carries it
    page.wait_for_function("() => new URLSearchParams(location.search).get('s')?.length > 0 && location.search.includes('s=')")
    page.wait_for_function(f"() => location.search !== '?s={encode_scenario(SHOCK.model_dump(mode='json'))}'", timeout=15000)
    assert linked_scenario(page).safeguards.adl_rules == {"HYPERLIQUID": "adl"}

    # compare: the run under the venues' own rules beside, in the headline and the table
    page.locator("#sg-compare input").check()
    expect(page.locator("#headline")).to_contain_text(f"{usd(abs(new_loss - own_loss))} vs no safeguards ({usd(own_loss)})",
                                                      timeout=30000)
    expect(page.locator("#perps-HYPERLIQUID-backstop_usd")).to_have_text(f"{usd(0.0)}vs {usd(own_hl['backstop_usd'])}")
    dashed = page.evaluate("() => document.querySelector('#chart-loss .js-plotly-plot').data.filter(t => t.line && t.line.dash).length")
    assert dashed >= 1

    # opened again from its link, the page shows the same rule in the dropdown
    page.goto(page.url)
    page.wait_for_selector("#perps-HYPERLIQUID-adl_usd", timeout=30000)
    expect(page.locator("#sg-adl-rule-row-HYPERLIQUID .venue-dropdown")).to_have_text("ADL", timeout=20000)
    assert cell(page, "HYPERLIQUID", "adl_usd").startswith(usd(new_hl["adl_usd"]))
    assert errors == []


def test_liquidation_levels_per_perpetuals_venue_render(server, page: Page, errors):
    from dashboard.liquidation_levels import perps_at_risk

    net = core.datasets.load(SNAPSHOT)
    open_page(page, server.url)
    page.click("#sens-asset")
    page.get_by_role("option", name="BTC", exact=True).click()
    page.click("#liq-levels-run")
    page.wait_for_function("() => document.querySelector('#perps-levels .js-plotly-plot')?.data?.length === 8", timeout=30000)
    got = page.evaluate("""() => { const g = document.querySelector('#perps-levels .js-plotly-plot');
        return {x0: g.data[0].x[0], x1: g.data[0].x[g.data[0].x.length - 1], names: g.data.map(t => t.name), title: g.layout.title.text}; }""")
    assert got["x0"] == -90 and got["x1"] == 90 and "BTC" in got["title"] and got["names"][0].startswith("Hyperliquid")
    total = perps_at_risk(net, "BTC").sum(axis=1)
    expect(page.locator("#sens-note")).to_contain_text(f"a 20 % fall of BTC liquidates {usd(total[-20])}")
    assert page.locator("#perps-levels .main-svg").first.is_visible()
    assert errors == []


def _open_groups(page: Page) -> dict[str, bool]:
    """Each venue group's heading -> whether it is open."""
    return page.evaluate("() => Object.fromEntries([...document.querySelectorAll('details.venue-rules')]"
                         ".map(d => [d.querySelector('summary').textContent.split(' per ')[0], d.open]))")


def test_the_venue_groups_open_when_a_link_or_a_file_sets_a_venue(server, page: Page, errors, tmp_path):
    # a link that sets one venue's collateral pricing: that group opens, the ADL rules' stays shut
    linked = Scenario.model_validate({**SHOCK.model_dump(mode="json"), "safeguards": {"collateral_policies": {"BINANCE_FUT": "index"}}})
    open_page(page, f"{server.url}?s={encode_scenario(linked.model_dump(mode='json'))}")
    assert _open_groups(page) == {"ADL rule": False, "Collateral pricing": True}
    expect(page.locator("#sg-collateral-policy-row-BINANCE_FUT .venue-dropdown")).to_have_text("index")
    # a link with no venue setting: both shut
    open_page(page, f"{server.url}?s={encode_scenario(SHOCK.model_dump(mode='json'))}")
    assert _open_groups(page) == {"ADL rule": False, "Collateral pricing": False}
    # a scenario file that sets an ADL rule, opened on that page: its group opens as the dropdown takes the value
    saved = tmp_path / "hl-adl.json"
    saved.write_text(SHOCK.model_copy(update={"safeguards": Safeguards(adl_rules={"HYPERLIQUID": "adl"})}).model_dump_json())
    page.set_input_files("#scenario-upload input[type=file]", str(saved))
    expect(page.locator("#sg-adl-rule-row-HYPERLIQUID .venue-dropdown")).to_have_text("ADL", timeout=20000)
    page.wait_for_function("() => [...document.querySelectorAll('details.venue-rules')][0].open", timeout=10000)
    assert _open_groups(page) == {"ADL rule": True, "Collateral pricing": False}
    assert errors == []
