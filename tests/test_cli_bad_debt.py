"""The command line's printed summaries carry bad debt at reference prices beside bad debt marked at the close
(``sfm simulate``, ``sfm montecarlo``; core.engine.reference_bad_debt)."""

from __future__ import annotations

import json
import re

import pytest

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


def test_simulate_names_what_end_leaves_dai_s_holders_within_bad_debt_at_reference(tmp_path, capsys):
    """Decision 23 on the one line: Black Thursday's network with MAKER forced to fail under a stale tag (oracle lag 2,
    ETH -95 %): End's ``cage`` tags ETH at the OSM's $194 while the market reads $9.70, so of MAKER's bad debt at
    reference 95,000,000 DAI is what End leaves DAI's holders short (``tests/test_maker_shutdown.py`` works the
    number from end.sol's arithmetic), which the marked figure does not count. The summary's ``maker`` keys carry
    it, and the printed line names it; with no lag (the tag at the crash) End books the shortfall as its gap and the
    line names nothing."""
    shock = dict(price_shocks={"ETH": -0.95, "BTC": -0.93}, run_intensity=1.0, liquidity=0.4,
                 liquidator_capacity_usd=50e6, forced_defaults=["MAKER"])
    net = core.datasets.load("crypto-2020-03")
    for lag, left in ((2, 95.0e6), (0, 0.0)):
        scenario = core.Scenario(**shock, oracle_lag=lag)
        d = core.simulate(net, scenario).summary_dict()
        assert d["maker"]["end_left_to_holders_usd"] == pytest.approx(left, rel=1e-9, abs=1e-3)
        maker_reference = d["bad_debt_reference_by_protocol_usd"]["MAKER"]
        assert maker_reference == pytest.approx(95.0e6 if lag else 80.8e6, rel=1e-9)  # End's gap 0 / 80,800,000 DAI
        path = tmp_path / f"lag{lag}.json"
        path.write_text(json.dumps(dict(shock, oracle_lag=lag, name=f"stale tag {lag}")))
        assert main(["simulate", str(path), "--data", "crypto-2020-03"]) == 0
        line = next(ln for ln in capsys.readouterr().out.splitlines() if "bad debt" in ln)
        named = f", of which {usd(left)} End leaves the stablecoin's holders short (" in line
        assert named == (left > 0), line
