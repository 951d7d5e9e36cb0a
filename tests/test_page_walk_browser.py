"""Session 39's walk through the page as an analyst preparing a meeting would (Terra May 2022: a slider, a play, Monte
Carlo, the sensitivity panel, an export), in a real headless Chromium: what contradicted itself, each fixed.

* The Monte Carlo's entity table was headed "Most likely to default" over rows reading 0.00 % (Retail CeFi customers,
  Anchor depositors: never default, large expected losses; ``core.montecarlo`` ranks by the probability of default,
  then by the expected loss): the heading now says both.
* Celsius Network's expected loss read "$350.0M ± $1": the same loss in every run, its standard error a sum's
  rounding, written as a spread no digit of the figure has (every other exact figure reads with no "±").
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from browser_support import page_errors
from test_dashboard_browser import open_dashboard

from dashboard import ids

pytestmark = pytest.mark.browser

#: The Monte Carlo tables' rows, by table heading: the cells' text.
TABLES_JS = f"""() => [...document.querySelectorAll('#{ids.MC_TABLES} table')].map(t => {{
    let h = t.previousElementSibling; while (h && h.tagName !== 'H4') h = h.previousElementSibling;
    return {{heading: h ? h.textContent.trim() : '', rows: [...t.querySelectorAll('tbody tr')].map(r => [...r.querySelectorAll('td')].map(c => c.innerText.trim()))}}; }})"""


def test_the_monte_carlo_tables_say_what_their_rows_are(dashboard_server, page: Page):
    """Terra May 2022, 100 runs, seed 0: the entity table's heading names both its orders, and no figure carries a
    "±" smaller than its last digit (before: "Most likely to default" over "0.00%" rows; "$350.0M ± $1")."""
    errors = page_errors(page)
    open_dashboard(page, f"{dashboard_server.url}?p=terra_may_2022")
    page.locator("#side-tabs .tab", has_text="Monte Carlo").click()
    runs = page.locator(f"#{ids.MC_RUNS}")
    runs.fill("100")
    runs.press("Tab")  # debounced: the value is sent on blur
    page.click(f"#{ids.MC_RUN}")
    expect(page.locator(f"#{ids.MC_STATUS}")).to_contain_text("100 runs", timeout=90000)
    tables = page.evaluate(TABLES_JS)
    entities = next(t for t in tables if "probability of default" not in t["heading"] and t["rows"] and t["rows"][0][1].endswith("%"))
    assert any(r[1] == "0.00%" for r in entities["rows"]), entities  # rows that never default...
    assert entities["heading"] == "Most likely to default, then largest expected loss", entities["heading"]  # ...and why they are there
    celsius = next(r for r in entities["rows"] if r[0] == "Celsius Network")
    assert celsius[1] == "100.00%" and celsius[2] == "$350.0M", celsius
    for t in tables:  # a "±" always moves the figure as written: its spread is at least half the figure's last digit
        for r in t["rows"]:
            for cell in r:
                assert not re.search(r"± \$\d+$", cell), (t["heading"], r)
    assert errors == []
