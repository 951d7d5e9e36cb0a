"""``benchmarks/rule_counterfactual.py``: a kept pair re-run under a kept or rejected rule (session 38, trace25;
``endtag`` and ``band:X`` session 39, trace)."""

from __future__ import annotations

import pytest

import core.engine.clear as clear
import core.engine.liquidate as liquidate
import core.engine.maker_end as maker_end
import core.engine.maker_governance as governance
import core.engine.sell as sell
import core.mechanisms.pegs as pegs

from benchmark_scripts import load_benchmark
from invariants_support import load_regressions

#: Decision 3's entry, traced in session 38 (trace25): SKY's clips sell 10,574.89 stETH fewer at 224.8499 DAI at the
#: deeper depth, End skims them at 232.3354: -$79,769.52 of bad debt at reference; equal with the capital unsplit.
CAPITAL = "monotone-2025-cbbtc-capital-waterfill-bad-debt"
#: Decision 18's clock started at the clearing's tolerance: SKY short $9.411884 / $9.411886 after round 4.
CLOCK = "s37-lead-2025-wbtc-83-cbeth-60-weeth-11-alts-74-eth-53-full-runs-lag2-liquidity-035-capital-500m"
#: Decision 11's cage with its lagged tag (session 39, trace): MAKER in default at round 1 / 0, caged at round 2 / 1;
#: under oracle lag 2 the deeper's End reads the snapshot's prices (no gap), the shallower's round 0's close.
END_TAG = "s38-lead-2022-eth-78-80-luna-49-54-ftt-45-50-full-runs-lag2-liquidity-143-capital-500m-bad-debt"
#: The LUNA -33 % family (session 39, trace): LUNA's market cap covers UST's supply at the shallower depth only
#: (1.003403 / 0.996475 of it at round 0), so only the deeper's holders redeem in round 0 ($130.41M).
FIRST_EXIT = "s38-lead-2022-luna-33-34-ftt-33-full-runs-lag1-liquidity-071-capital-50m"


def _load():
    return load_benchmark("rule_counterfactual")


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


def test_end_s_lagged_tag_makes_the_bad_debt_pair_and_at_the_market_it_holds():
    bench = _load()
    original = maker_end.oracle_prices
    current, at_market = (bench.measure(_case(END_TAG), rule, [None])[0] for rule in ("current", "endtag"))
    shallow, deep = current["bad_debt_reference"]
    assert shallow - deep == pytest.approx(916_900_020.63, abs=0.05)  # the ledger's stored size
    assert current["maker_round"] == at_market["maker_round"] == [1, 0]  # the same cage rounds under both tags
    assert at_market["bad_debt_reference"][1] - at_market["bad_debt_reference"][0] == pytest.approx(401.05e6, abs=0.01e6)
    assert maker_end.oracle_prices is original


def test_a_calm_band_of_zero_is_the_current_rule_and_decision_21_s_holds_the_first_exit_pair():
    bench = _load()
    original = pegs.holders_exit_share
    current, zero, band = (bench.measure(_case(FIRST_EXIT), rule, [None])[0] for rule in ("current", "band:0", "band:0.005"))
    assert current["loss"][0] - current["loss"][1] == pytest.approx(49_927_982.94, abs=0.05)  # the stored size
    assert zero["loss"] == current["loss"]  # the band's formula at X = 0 is the engine's own, to the bit
    assert band["loss"][1] - band["loss"][0] == pytest.approx(1_080.01e6, abs=0.01e6)  # inside the band: no exit
    assert pegs.holders_exit_share is original
