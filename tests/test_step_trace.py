"""``benchmarks/step_trace.py``: a kept pair's two depths, step by step (session 21's tool)."""

from __future__ import annotations

import pytest

from benchmark_scripts import load_benchmark
from invariants_support import load_regressions, network

#: (Was the -93-maker-failed- pair of this family; since session 27 a forced Maker is shut down at round 0, End's
#: DAI opens at 0.06, and COMP's ETH/DAI cohorts are no longer liquidated there.)
ENTRY = "monotone-2020-eth-btc-lag1-capital-50m-bad-debt"


def _load():
    return load_benchmark("step_trace")


def test_the_trace_shows_the_shock_and_a_cohort_liquidated_at_both_depths():
    lines = _load().trace(ENTRY, None, 2, ["ETH"], "COMP", "COMP-ETH-DAI-hf1_50", ["exogenous", "liquidate"])
    case = next(e for e in load_regressions() if e["id"] == ENTRY)
    assets = network(case["network"]).assets
    p0 = float(assets.loc[assets["symbol"] == "ETH", "price_usd"].iloc[0])
    shallow, deep = case["depths"]["ETH"]
    assert lines[1] == "round 0 exogenous"
    eth = lines[2].split()
    assert eth[0] == "ETH"
    assert [float(v) for v in eth[1].split("/")] == pytest.approx([p0 * (1 - shallow), p0 * (1 - deep)], rel=1e-5)
    # round 1: the cohort is liquidated at both depths; what it repays and books adds up to its debt's fall. (The
    # hf1_25 cohort until session 27: with the capital buying DAI at its market 0.233, not the lag-1 oracle's $1.00
    # (core.engine.capital.debt_cost), hf1_25 goes whole at both depths and hf1_50 is the one the capital splits.)
    at = lines.index("round 1 liquidate")
    row = next(line for line in lines[at:] if "COMP-ETH-DAI-hf1_50:" in line).split()
    seized = [float(v) for v in row[2].split("/")]
    assert all(v < 0 for v in seized) and seized[1] < seized[0]  # the deeper depth's capital buys more ETH units


def test_an_unknown_entry_is_named_in_the_error():
    with pytest.raises(KeyError, match="no-such-entry"):
        _load().trace("no-such-entry", None, 1, [], None, None, None)
