"""Views of the dashboard that must agree with each other, checked without a browser.

* the headline follows the round on screen (issue 15, defect 1): every figure equals the
  run's totals at that round, the defaults equal the round label's count;
* ``charts.headline_at`` (first page, Python) and ``sfm.headlineAt`` (browser, JavaScript, run here
  in node) draw the same cards from the same spec.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import plotly.utils
import pytest

import core
from dashboard import cascade, charts, graph, scenarios

NODE = shutil.which("node")
RUNNER = Path(__file__).resolve().parent / "js" / "run_sfm.js"


@pytest.fixture(scope="module")
def net():
    return core.datasets.default()


@pytest.fixture(scope="module")
def terra(net):
    return cascade.run_view(net, scenarios.presets()["terra_may_2022"], False)


def sfm_js(fn: str, *args):
    """Call ``window.dash_clientside.sfm[fn](*args)`` of assets/sfm.js in node."""
    proc = subprocess.run([NODE, str(RUNNER)], input=json.dumps({"fn": fn, "args": list(args)}), capture_output=True,
                          text=True, timeout=30, check=True)
    return json.loads(proc.stdout)


def _json(components) -> object:
    return json.loads(json.dumps(components, cls=plotly.utils.PlotlyJSONEncoder))


def _texts(components) -> list[str]:
    """Every string in a component tree, in order."""
    out: list[str] = []

    def walk(c):
        if isinstance(c, str):
            out.append(c)
        elif isinstance(c, list):
            for x in c:
                walk(x)
        elif isinstance(c, dict):
            walk(c.get("props", {}).get("children"))

    walk(_json(components))
    return out


def test_headline_follows_the_round_on_screen(net, terra):
    result, frames = terra["result"], terra["frames"]
    spec = frames["headline"]
    t = result.totals
    for r in range(result.n_rounds):
        texts = _texts(charts.headline_at(spec, r))
        # the figure at the round, not the final one (the final stands beside it, labelled final)
        assert f"{int(t['defaults'].iat[r])} of {net.n_entities}" in texts
        assert charts.usd(t["total_loss_usd"].iat[r]) in texts
        assert charts.usd(t["bad_debt_usd"].iat[r]) in texts
        assert charts.usd(t["liquidated_usd"].iat[r]) in texts
        # the round label counts defaulted nodes from the frames: the same number
        defaulted = int(graph.round_label(frames, r).split(" · ")[1].split()[0])
        assert defaulted == int(t["defaults"].iat[r])
        final = [s for s in texts if s.startswith(("at round", "final"))]
        assert len(final) == 4
        assert all(s.startswith("final, round") if r == result.n_rounds - 1 else s.startswith(f"at round {r} · final") for s in final)
    # round 0 of Terra: no default yet, $12bn of loss (the final is 4 defaults and $26bn)
    assert f"0 of {net.n_entities}" in _texts(charts.headline_at(spec, 0))


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_javascript_headline_equals_the_python_one(net):
    sc = scenarios.presets()["terra_may_2022"]
    sc = sc.model_copy(update={"safeguards": sc.safeguards.model_copy(update={"insurance_multiplier": 5.0, "collateral_multiplier": 1.5})})
    view = cascade.run_view(net, sc, True)
    spec = view["frames"]["headline"]
    for r in (0, 3, view["last"], view["last"] + 5):
        assert sfm_js("headlineAt", spec, r) == _json(charts.headline_at(spec, r)), r
