"""The command line's printed summaries carry bad debt at reference prices beside bad debt marked at the close
(``sfm simulate``, ``sfm montecarlo``; core.engine.reference_bad_debt)."""

from __future__ import annotations

import re

import core
from core.cli import main
from core.formatting import usd


def test_simulate_prints_bad_debt_at_reference_prices_beside_the_marked_figure(capsys):
    """Terra: lenders short UST with UST far below its peg, so the two figures differ and the reference one is larger."""
    assert main(["simulate", "terra_may_2022"]) == 0
    out = capsys.readouterr().out
    d = core.simulate(core.datasets.load("crypto-2022-05"), core.datasets.preset("terra_may_2022").scenario).summary_dict()
    reference, marked = d["bad_debt_reference_usd"], d["bad_debt_usd"]
    assert reference > marked * 1.05
    assert f"bad debt {usd(reference)} at reference prices ({usd(marked)} marked at the close)" in out


def test_montecarlo_prints_the_risk_of_bad_debt_at_reference_prices(tmp_path, capsys):
    out_file = tmp_path / "mc.json"
    assert main(["montecarlo", "--runs", "200", "--seed", "1", "--dist", "t", "--chunk-size", "100", "--out", str(out_file)]) == 0
    text = capsys.readouterr().out
    res = core.montecarlo.MonteCarloResult.from_json(out_file.read_text())
    for label, quantity in (("bad debt at ref.", "bad_debt_reference_usd"), ("bad debt marked", "bad_debt_usd")):
        line = next(l for l in text.splitlines() if l.strip().startswith(label))
        value, se = res.risk_value(quantity, "VaR", 0.99)
        assert re.search(re.escape(f"VaR99 {usd(value)} ± {usd(se)}"), line), line
