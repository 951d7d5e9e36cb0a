"""A forced failure dated on the page, in a real headless Chromium (Playwright, Debian's /usr/bin/chromium).

The Stream/Elixir preset dates Stream's failure to round 1 (its announcement of 4 November 2025); the page showed
that date only as text among the inputs "set by the file", with no way to set or change a date. Now a "fails at
round" box stands beside each entity forced to fail (:mod:`dashboard.forced_rounds`): the preset shows 1 in
Stream's box, 2 reruns the cascade (one more round: the run's figures are core.simulate's of the dated scenario),
a round outside the run (typed, or left there by a lower horizon) is a message naming the entity, and a second entity
forced with a date rides in the link, which reproduces the dated run. The list of changes and the messages name each
entity as its box and the menu do, "Stream Finance (xUSD) (STREAM)" (before session 39: "STREAM fails at round").
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from browser_support import page_errors
from dashboard_fixtures import linked_scenario

import core
from dashboard import scenarios
from dashboard.scenarios import preset_title

pytestmark = pytest.mark.browser

SNAPSHOT = "crypto-2025-10"  # the server and net fixtures' (tests/dashboard_fixtures.py)
STREAM = "stream_elixir_nov_2025"


def last_round(net, sc) -> str:
    """The round label's opening for the run of ``sc`` on the page (the run opens on its last round)."""
    last = core.simulate(net, sc).n_rounds - 1
    return f"Round {last} of {last} "


def box(page: Page, entity: str):
    return page.locator(f"#forced-round-row-{entity} input[type=number]")


def dated_link(page: Page, dates: dict[str, int]):
    """The scenario in the page's address (``?s=``) once it holds ``dates`` (the page writes it after each run)."""
    deadline, sc = time.monotonic() + 15, None
    while time.monotonic() < deadline:
        sc = linked_scenario(page)
        if sc is not None and sc.forced_default_rounds == dates:
            return sc
        page.wait_for_timeout(200)
    raise AssertionError(f"the link holds {sc and sc.forced_default_rounds}, not {dates}")


def set_round(page: Page, entity: str, value: str) -> None:
    b = box(page, entity)
    b.fill(value)
    b.press("Enter")


def test_a_dated_failure_is_set_on_the_page_and_rides_in_the_link(server, net, page: Page, artifacts):
    errors = page_errors(page)
    preset = scenarios.presets()[STREAM]
    page.goto(server.url)
    page.wait_for_selector("#headline .kpi", timeout=30000)
    page.click("#preset")
    page.get_by_role("option", name=preset_title(STREAM, preset)).click()
    expect(page.locator("#scenario-name")).to_have_text(preset_title(STREAM, preset), timeout=30000)
    # "Failures and market": closed on the calm first page; open it where the preset's load has not
    if not page.locator("#section-market").evaluate("d => d.open"):
        page.click("#section-market > summary")
    # the preset's date in Stream's box, its day beside it, and no longer among the inputs "set by the file"
    expect(box(page, "STREAM")).to_have_value("1", timeout=15000)
    expect(page.locator("#forced-round-row-STREAM")).to_contain_text("= day 1 (24 h after the shock)")
    expect(page.locator("#round-label")).to_contain_text(last_round(net, preset), timeout=30000)
    assert "fails at round" not in page.inner_text("#scenario-info")

    # round 2 (the box's "+"): the cascade reruns, one round longer, as core.simulate says
    page.locator("#forced-round-row-STREAM button.dash-stepper-increment").click()
    expect(box(page, "STREAM")).to_have_value("2")
    dated = preset.model_copy(update={"forced_default_rounds": {"STREAM": 2}})
    assert last_round(net, dated) != last_round(net, preset)  # the date moves what the page shows
    expect(page.locator("#round-label")).to_contain_text(last_round(net, dated), timeout=30000)
    expect(page.locator("#scenario-changes")).to_contain_text("Stream Finance (xUSD) (STREAM) fails at round: 1 → 2")
    expect(page.locator("#forced-round-row-STREAM")).to_contain_text("= day 2 (48 h after the shock)")

    # a round outside the run: a message naming the entity, the value and the rounds allowed; the run stays
    set_round(page, "STREAM", "9")
    expect(page.locator("#message")).to_contain_text("Stream Finance (xUSD) (STREAM) fails at round: found 9; expected a whole round from 0 to 6",
                                                     timeout=15000)
    expect(page.locator("#forced-round-row-STREAM")).to_contain_text("outside the run (rounds 0–6)")
    expect(page.locator("#round-label")).to_contain_text(last_round(net, dated))
    set_round(page, "STREAM", "2")
    expect(page.locator("#message")).to_be_empty(timeout=15000)

    # MEV Capital forced too, at round 3: a box of its own, its date in the link
    page.locator("button.dash-dropdown[id='shock-defaults']").click()
    page.locator(".dash-dropdown-content input.dash-dropdown-search").fill("MEV")
    page.locator(".dash-dropdown-content").get_by_role("option", name="(MEV_CAPITAL)").click()
    page.keyboard.press("Escape")
    expect(box(page, "MEV_CAPITAL")).to_have_value("0", timeout=15000)
    expect(box(page, "STREAM")).to_have_value("2")
    set_round(page, "MEV_CAPITAL", "3")
    changes = page.locator("#scenario-changes")
    expect(changes).to_contain_text("MEV Capital (vault curator) (MEV_CAPITAL) fails at round: 0 → 3", timeout=15000)
    expect(changes).to_contain_text("forced to fail: Stream Finance (xUSD) (STREAM) → Stream Finance (xUSD) (STREAM), "
                                    "MEV Capital (vault curator) (MEV_CAPITAL)")
    assert not re.search(r"(^|[\s,])(STREAM|MEV_CAPITAL)\b(?!\))", changes.inner_text()), changes.inner_text()  # never the id alone
    linked = dated_link(page, {"STREAM": 2, "MEV_CAPITAL": 3})
    assert linked.forced_defaults == ["STREAM", "MEV_CAPITAL"]
    assert linked.forced_default_rounds == {"STREAM": 2, "MEV_CAPITAL": 3}
    expect(page.locator("#round-label")).to_contain_text(last_round(net, linked), timeout=30000)
    page.locator("#section-market").screenshot(path=str(artifacts / "forced-rounds-controls.png"))

    # the link, opened afresh: the same boxes, the same run
    url = page.url
    fresh = page.context.new_page()
    fresh_errors = page_errors(fresh)
    fresh.goto(url)
    fresh.wait_for_selector("#headline .kpi", timeout=30000)
    # a first page whose scenario forces a failure opens "Failures and market", its boxes in view
    expect(fresh.locator("#section-market")).to_have_js_property("open", True, timeout=15000)
    expect(box(fresh, "STREAM")).to_have_value("2", timeout=15000)
    expect(box(fresh, "MEV_CAPITAL")).to_have_value("3")
    expect(fresh.locator("#forced-round-row-MEV_CAPITAL")).to_contain_text("= day 3 (72 h after the shock)")
    expect(fresh.locator("#round-label")).to_contain_text(last_round(net, linked), timeout=30000)
    # taking Stream off the list takes its box and its date with it
    fresh.locator("button.dash-dropdown[id='shock-defaults']").click()
    fresh.locator(".dash-dropdown-content").get_by_role("option", name="(STREAM)").click()
    fresh.keyboard.press("Escape")
    expect(fresh.locator("#forced-round-row-STREAM")).to_have_count(0, timeout=15000)
    alone = linked.model_copy(update={"forced_defaults": ["MEV_CAPITAL"], "forced_default_rounds": {"MEV_CAPITAL": 3}})
    expect(fresh.locator("#round-label")).to_contain_text(last_round(net, alone), timeout=30000)
    assert dated_link(fresh, {"MEV_CAPITAL": 3}).forced_defaults == ["MEV_CAPITAL"]
    # the horizon lowered below the date: the same message (the rounds the new horizon allows), the run stays
    horizon = fresh.locator("#wrap-horizon input[type=number]")
    horizon.fill("3")
    horizon.press("Tab")
    expect(fresh.locator("#message")).to_contain_text("MEV Capital (vault curator) (MEV_CAPITAL) fails at round: found 3; expected a whole round from 0 to 2",
                                                      timeout=15000)
    expect(fresh.locator("#forced-round-row-MEV_CAPITAL")).to_contain_text("outside the run (rounds 0–2)")
    expect(fresh.locator("#round-label")).to_contain_text(last_round(net, alone))
    horizon.fill("7")
    horizon.press("Tab")
    expect(fresh.locator("#message")).to_be_empty(timeout=15000)
    expect(fresh.locator("#forced-round-row-MEV_CAPITAL")).to_contain_text("= day 3 (72 h after the shock)")
    assert errors == [] and fresh_errors == []
