"""One name for one figure: bad debt at par (``bad_debt_reference_usd``) reads "at par" on every chart of the page.

Session 39's walk of the page saw the round table and the Monte Carlo risk table call the series "Bad debt at par"
while the hover boxes of the headline chart and the price-drop sensitivity chart said "at reference prices" (the
card's tooltip defines "at par" as those prices: one figure, two names in one meeting). Here every trace name, hover
template and title of the page's figures for a preset run is collected; the traces that draw the at-par series
(found by their values, not their names) and the marked one must say "at par" and "at market" in their name and
hover, and no text of the page's figures or help says "reference prices" of bad debt.
"""

from __future__ import annotations

import json
import re

import numpy as np
import plotly.utils
import pytest

from dashboard import cascade, scenarios, sensitivity, sweep_heatmap
from dashboard.headline import CARD_TITLES
from dashboard.montecarlo_inputs import RISK_LABELS, SWEEP_METRICS

SNAPSHOT = "crypto-2022-05"


def _strings(fig: dict) -> list[str]:
    """Every trace name and hover template and every title of a figure."""
    out = [t.get(k, "") for t in fig["data"] for k in ("name", "hovertemplate")]
    lay = fig["layout"]
    for key in ("title", *(k for k in lay if k.startswith(("xaxis", "yaxis")))):
        title = lay.get(key, {}).get("title") if key != "title" else lay.get("title")
        out.append(title.get("text", "") if isinstance(title, dict) else str(title or ""))
    out += [a.get("text", "") for a in lay.get("annotations", [])]
    return [s for s in out if s]


def _carries(trace: dict, values: np.ndarray, scale: float) -> bool:
    try:
        y = np.asarray(trace.get("y", []), dtype=float)
    except (TypeError, ValueError):  # a bar chart's names
        return False
    return len(y) == len(values) and np.allclose(y, values / scale, rtol=1e-9, atol=1e-12) and bool(np.any(values))


@pytest.fixture(scope="module")
def terra_view(net):
    return cascade.run_view(net, scenarios.presets()["terra_may_2022"], False)


@pytest.fixture(scope="module")
def page_figures(net, terra_view):
    """The figures a Terra May 2022 run puts on the page: the run's charts, the price-drop sensitivity (LUNA) and
    the sweep's heatmap of bad debt at par."""
    sens = sensitivity.sweep(net, scenarios.presets()["terra_may_2022"], "LUNA")
    rows = [{"collateral_multiplier": m, "bad_debt_reference_usd": 1e8 * m, "bad_debt_usd": 5e7 * m} for m in (1.0, 2.0)]
    heat = sweep_heatmap.heatmap_figure({"rows": rows, "params": ["collateral_multiplier"], "runs": 0})
    figs = dict(terra_view["figures"]) | {"sensitivity": sensitivity.figure(sens), "sweep": heat}
    return json.loads(json.dumps(figs, cls=plotly.utils.PlotlyJSONEncoder)), sens


def test_every_trace_of_bad_debt_at_par_is_named_and_hovers_at_par(terra_view, page_figures):
    figs, sens = page_figures
    totals = terra_view["result"].totals
    series = {"par": [(totals["bad_debt_reference_usd"].to_numpy(), 1e6), (np.asarray(sens["bad_debt_reference_usd"]), 1e9)],
              "market": [(totals["bad_debt_usd"].to_numpy(), 1e6), (np.asarray(sens["bad_debt_usd"]), 1e9)]}
    found = {"par": [], "market": []}
    for cid, fig in figs.items():
        for t in fig["data"]:
            for kind, pairs in series.items():
                if any(_carries(t, v, s) for v, s in pairs):
                    found[kind].append((cid, t["name"], t.get("hovertemplate", "")))
    assert len(found["par"]) == 2 and len(found["market"]) == 2, found  # the headline chart and the sensitivity chart
    for cid, name, hover in found["par"]:
        assert name.startswith("Bad debt at par") and hover.endswith(" at par"), (cid, name, hover)
    for cid, name, hover in found["market"]:
        assert name.startswith("Bad debt at market") and hover.endswith(" at market"), (cid, name, hover)
    # the sensitivity chart's per-protocol lines are the same figure for one protocol each
    for t in figs["sensitivity"]["data"]:
        if t["name"].startswith("at par: "):
            assert t["hovertemplate"].endswith(" at par"), t["name"]
    # the sweep's heatmap of the series names it as the Monte Carlo tables do
    assert figs["sweep"]["layout"]["title"]["text"].startswith("Bad debt at par (")
    assert "Bad debt at par: " in figs["sweep"]["data"][0]["hovertemplate"]


def test_no_figure_or_help_text_calls_bad_debt_anything_but_at_par_or_at_market(terra_view, page_figures):
    figs, _ = page_figures
    texts = [(cid, s) for cid, fig in figs.items() for s in _strings(fig)]
    help_text = str(terra_view["rounds"][-1].children)
    texts += [("rounds help", help_text), ("card title", CARD_TITLES["bad_debt_reference_usd"])]
    texts += [("risk table", v) for v in RISK_LABELS.values()] + [("sweep menu", v) for v in SWEEP_METRICS.values()]
    assert [(cid, s) for cid, s in texts if "reference price" in s.lower()] == []
    # where a trace's name or a table's row names bad debt, it says which of the two it is (a chart's title,
    # "Liquidated volume (cumulative) and bad debt", names the two lines its key names)
    named = [(cid, t["name"]) for cid, fig in figs.items() for t in fig["data"] if t.get("name")]
    named += [(cid, s) for cid, s in texts if cid in ("risk table", "sweep menu")]
    for cid, s in named:
        for m in re.finditer(r"bad debt", s, flags=re.IGNORECASE):
            assert s[m.end():].startswith((" at par", " at market", " beyond insurance")), (cid, s)
    # the explanation of "at par" is given once where help text is, in the same words
    for where in (help_text, CARD_TITLES["bad_debt_reference_usd"]):
        assert where.count("a stablecoin at its peg") == 1, where
        assert "each token owed at its par" in where, where
    assert "Bad debt at par:" in help_text and "Bad debt at market:" in help_text
