"""``benchmarks/rule_counterfactual.py``: a kept pair re-run under a kept or rejected rule (session 38, trace25)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import core.engine.clear as clear
import core.engine.liquidate as liquidate
import core.engine.maker_governance as governance
import core.engine.sell as sell
from invariants_support import load_regressions

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "rule_counterfactual.py"
#: Decision 3's entry, traced in session 38 (trace25): SKY's clips sell 10,574.89 stETH fewer at 224.8499 DAI at the
#: deeper depth, End skims them at 232.3354: -$79,769.52 of bad debt at reference; equal with the capital unsplit.
CAPITAL = "monotone-2025-cbbtc-capital-waterfill-bad-debt"
#: Decision 18's clock started at the clearing's tolerance: SKY short $9.411884 / $9.411886 after round 4.
CLOCK = "s37-lead-2025-wbtc-83-cbeth-60-weeth-11-alts-74-eth-53-full-runs-lag2-liquidity-035-capital-500m"


def _load():
    spec = importlib.util.spec_from_file_location("rule_counterfactual", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _case(entry_id: str) -> dict:
    return next(e for e in load_regressions() if e["id"] == entry_id)


def test_the_capital_split_makes_the_bad_debt_entry_and_the_patch_is_undone():
    bench = _load()
    originals = (sell.unwrap_units, clear.deficit_clock, liquidate.split_capital, governance.GOVERNANCE_DELAY_HOURS)
    current, unsplit = (bench.measure(_case(CAPITAL), rule, [None])[0] for rule in ("current", "nosplit"))
    shallow, deep = current["bad_debt_reference"]
    assert shallow - deep == pytest.approx(79_769.52, abs=0.05)  # the ledger's stored size
    assert current["maker_round"] == [2, 2]  # SKY caged by the clock at the same round at both depths
    assert unsplit["bad_debt_reference"][1] >= unsplit["bad_debt_reference"][0]
    assert (sell.unwrap_units, clear.deficit_clock, liquidate.split_capital,
            governance.GOVERNANCE_DELAY_HOURS) == originals


def test_the_clock_starts_a_round_sooner_at_the_deeper_depth_at_the_tolerance():
    lines = _load().clock_lines(_case(CLOCK), 7)
    assert "clock since -1 / -1" in lines[3]
    assert "deficit 9.411884 / 9.411886, tolerance 9.411886 / 9.411886, clock since -1 / 4" in lines[4]
    assert "clock since 5 / 4" in lines[5]  # $1.83M short at both: the shallower's clock starts a round later
    assert lines[6].endswith("defaulted False / True")  # 48 hours on at the deeper depth only (decision 18's 36)


def test_an_unknown_rule_is_named():
    with pytest.raises(ValueError, match="no-such-rule"):
        _load().measure(_case(CAPITAL), "no-such-rule", [None])
