"""``benchmarks/rule_counterfactual.py``: a kept pair re-run under a kept or rejected rule (session 38, trace25;
``endtag`` and ``band:X`` session 39, trace; ``halt:H`` session 43, mkredge; ``haltat:H`` session 44, mkrhalt)."""

from __future__ import annotations

import pytest

import core.engine.backing as backing
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
#: Decision 18's clock started at the clearing's tolerance. Until session 44 the s37-lead-2025-wbtc-83-… entry (SKY
#: short $9.411884 / $9.411886 after round 4 against $9.411886); with s44-skyedge (SKY's one book) SKY owes $19.30M
#: more there, the tolerance passed both depths and the entry passes. The same edge on the s43-lead 2025 pair's
#: scenario (fixed by s44-skyedge) at WBTC 0.8931205243446698 / …699 (one ulp; wBETH as the entry's shallower):
#: SKY short $8.710907 / $8.710909 after round 9 against $8.710908.
CLOCK = "s43-lead-2025-wbtc-88-wbeth-37-one-ulp-usdc-depeg-17-full-runs-lag2-liquidity-088-capital-50m"
CLOCK_WBTC = [0.8931205243446698, 0.8931205243446699]
#: Decision 11's cage with its lagged tag (session 39, trace): MAKER in default at round 1 / 0, caged at round 2 / 1;
#: under oracle lag 2 the deeper's End reads the snapshot's prices (no gap), the shallower's round 0's close.
END_TAG = "s38-lead-2022-eth-78-80-luna-49-54-ftt-45-50-full-runs-lag2-liquidity-143-capital-500m-bad-debt"
#: The LUNA -33 % family (session 39, trace): LUNA's market cap covers UST's supply at the shallower depth only
#: (1.003403 / 0.996475 of it at round 0), so only the deeper's holders redeem in round 0 ($130.41M) without the
#: band; with decision 21's band (the engine's since session 40) the pair passes (its ledger entry says so).
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
    # decision 23 (s41-endgap, decision 8's second reading): SKY, caged at round 2 at both depths on an oracle above the market,
    # leaves DAI's holders $291,540.43 / $281,289.04 past its gap (maker_end.left_to_holders), now in its bad debt at
    # reference ($9,698,225,828.73 / $9,698,146,059.21 -> $9,698,517,369.16 / $9,698,427,348.25): $79,769.52 -> $90,020.91
    assert shallow - deep == pytest.approx(90_020.91, abs=0.05)  # the ledger's stored size
    assert current["maker_round"] == [2, 2]  # SKY caged by the clock at the same round at both depths
    assert unsplit["bad_debt_reference"][1] >= unsplit["bad_debt_reference"][0]
    assert (sell.unwrap_units, clear.deficit_clock, liquidate.split_capital,
            governance.GOVERNANCE_DELAY_HOURS) == originals


def test_the_clock_starts_a_round_sooner_at_the_deeper_depth_at_the_tolerance():
    case = dict(_case(CLOCK))
    shallower_wbeth = case["depths"]["wBETH"][0]
    case["depths"] = {"WBTC": CLOCK_WBTC, "wBETH": [shallower_wbeth, shallower_wbeth]}
    lines = _load().clock_lines(case, 12)
    assert "clock since -1 / -1" in lines[8]
    assert "deficit 8.710907 / 8.710909, tolerance 8.710908 / 8.710908, clock since -1 / 9" in lines[9]
    assert "clock since 10 / 9" in lines[10]  # $289,658 short at both: the shallower's clock starts a round later
    assert lines[11].endswith("defaulted False / True")  # 48 hours on at the deeper depth only (decision 18's 36)


def test_an_unknown_rule_is_named():
    with pytest.raises(ValueError, match="no-such-rule"):
        _load().measure(_case(CAPITAL), "no-such-rule", [None])


def test_end_s_lagged_tag_makes_the_bad_debt_pair_and_at_the_market_it_holds():
    bench = _load()
    original = maker_end.oracle_prices
    current, at_market = (bench.measure(_case(END_TAG), rule, [None])[0] for rule in ("current", "endtag"))
    shallow, deep = current["bad_debt_reference"]
    # session 40 (crvust): $916,900,020.63 -> $916,899,858.01 (-$162.62) with decisions 19 and 21, bad debt at
    # reference +$1,917.22 / +$2,079.85. Decision 21 (band:0 on this tree: $916,899,879.88): the shallower's holders
    # queue $7,765.65M in round 0 against $7,950.65M ((1 + 1)(0.995 - q), $185M less), UST closes it at 0.629500
    # against 0.623992: -$21.87 at the shallower. Decision 19, the rest: once MAKER defaults, DAI (0.699397 from
    # round 1 at the deeper, 0.863799 from round 2 at the shallower) takes up to a tenth off CRV_UST's 3CRV quote
    # and LFG's defence sells 15,913.92 BTC in the deeper's round 2 (9,135.74 before) and 16,384.67 in the
    # shallower's round 3 (9,164.78); BTC closes round 3 at $35,766.21 / $35,745.26 against $35,792.06 /
    # $35,791.59, and the WBTC that follows it is worth less in the vaults End skims.
    # Session 40 (anchor, Anchor's queue repays the contract's amount, each position below HF 1 at its own HF):
    # $916,899,858.01 -> $928,688,472.50 (+$11.79M), bad debt at reference -$26.72M at the shallower, -$38.51M at the
    # deeper. ANCHOR's bLUNA and bETH positions past HF m / d sell whole in round 2 ($476.88M / $528.23M ->
    # $639.18M / $618.50M), its book bad debt $83.94M / $79.89M -> $76.02M / $71.60M; ETH closes round 2 at 587.77 /
    # 533.90 -> 592.70 / 538.26, so COMP's round-2 liquidations ($207.98M / $174.55M) wait for round 3 and its bad
    # debt at the deeper falls $921.98M -> $918.56M; ANCHOR_DEPOSITORS -$24.99M / -$22.43M
    # Session 42 (data, crypto-2022-05's dated 6 May rows): $928,688,472.50 -> $928,825,140.68 (+$136,668.18; the
    # ledger's size re-measured in session 41 (data)): Aave v2 stETH's threshold 0.75 with the loops' debt at it (the
    # same to the cent on a copy of the data with DAI's tin 0.001: DAI's tin does not move it); not traced to the step
    # decision 23 (s41-endgap, decision 8's second reading): the deeper's End, caged at round 1 on the snapshot tag (ETH $2,750
    # against $538.26), leaves DAI's holders $2,533.44M past its gap, the shallower's $2.23M, both now in MAKER's bad
    # debt at reference ($3,487,292,512.59 / $2,558,604,040.09 -> $3,489,524,315.24 / $5,092,048,541.19): the pair
    # holds under the lagged tag too, the entry fixed; the fall $928,688,472.50 -> a rise of $1,602,524,225.94 on the
    # undated rows. Both together (session 42, lead's merge): the dated rows' +$136,668.18 on the fall (above) carried
    # into the rise: -$1,602,524,225.94 + $136,668.17 = -$1,602,387,557.77
    # Session 45 (debtoracle): ANCHOR's bLUNA and bETH loans still under water at the close are short the UST its
    # liquidation would book at Anchor's $1 (debt_oracle fixed_usd), not at UST's close: ANCHOR $234,564,608 /
    # $284,273,414 -> $235,623,864 / $284,917,715 (+$1,059,256 / +$644,301): -$1,602,387,557.77 -> -$1,601,972,602.75
    # Decision 29 (Session 46 (defender): LFG is paid the LUNA minted for the UST it redeems and keeps it, its defence
    # sells none of it, the queue none of its UST): UST and LUNA close a little higher (0.324098 -> 0.324611 /
    # 0.251858 -> 0.252402; LUNA 2.5671 -> 2.5780 / 1.4017 -> 1.4090), bad debt at reference +$23,966.95 at the
    # shallower, +$2,537.88 at the deeper (not split by protocol): -$1,601,972,602.75 -> -$1,601,951,173.68
    assert shallow - deep == pytest.approx(-1_601_951_173.68, abs=0.05)
    assert current["maker_round"] == at_market["maker_round"] == [1, 0]  # the same cage rounds under both tags
    # at the market tag the pair holds: +$401.05M -> +$392.03M with Anchor's contract amount (session 40)
    # session 42 (data, the stETH rows as above): +$392.03M -> +$391.89M
    # session 45 (debtoracle), ANCHOR's under-water UST at its $1 as above: +$391.89M -> +$391.47M (measured
    # $391,474,667; -$0.415M, the current tag's ANCHOR shift on the pair, -$414,955; not broken down under this tag);
    # decision 29 (above): $391,474,942
    assert at_market["bad_debt_reference"][1] - at_market["bad_debt_reference"][0] == pytest.approx(391.47e6, abs=0.01e6)
    assert maker_end.oracle_prices is original


def test_the_calm_band_is_the_engine_s_rule_and_without_it_the_first_exit_pair_rises_since_decision_29():
    """Decision 21: the engine's band is :data:`PEG_CALM_BAND`, 0.005, so ``band:0.005`` is the current rule to the
    bit and ``band:0`` is the rule without it (the holders' side; the reserve's defence keeps its 0.5 % trigger).
    Without the band the pair fell (main's stored fall before decision 21 and Anchor's contract amount,
    -$49,927,982.94; -$49,243,892.13 with the contract amount, session 40 (anchor)); with it the shallower's
    holders are inside the band at round 0 (UST 1.0 / 0.996475) and the pair rises (session 39 (crvust)).
    Decision 29 (Session 46 (defender)): without the band the pair now rises too, +$47,100,946.24. Before, LFG
    redeemed the UST its defence bought for the window's cash and the queue sold it back into CRV_UST, and its equity
    fell $55.51M with the depth ($2,458.31M -> $2,402.80M) against the other holders' gains (ANCHOR_DEPOSITORS
    +$248.40M at the deeper: UST 0.52567 / 0.51736, LUNA 13.580 / 11.436). Now LFG keeps the LUNA minted for its UST,
    marked at the deeper's lower LUNA (13.628 / 11.484), and loses $162.04M with the depth ($2,041.40M ->
    $1,879.36M): the pair's loss $21,482.74M -> $21,529.84M. So the band is no longer what holds this pair."""
    bench = _load()
    original = pegs.holders_exit_share
    current, zero, band = (bench.measure(_case(FIRST_EXIT), rule, [None])[0] for rule in ("current", "band:0", "band:0.005"))
    assert pegs.PEG_CALM_BAND == 0.005
    assert band["loss"] == current["loss"]  # the band's formula at X = 0.005 is the engine's own, to the bit
    # session 40 (anchor): the stored size $49,927,982.94 (main's, the fixed entry's) -> $49,243,892.13; under the
    # current rule the rise $1,080.01M -> $1,079.19M: ANCHOR's book bad debt $47.81M / $68.00M -> $46.75M / $66.12M,
    # its loss -$1.06M / -$1.88M (the band:0 pair's -$0.68M not traced separately)
    # decision 29 (docstring): the band:0 pair's fall $49,243,892.13 -> a rise of $47,100,946.24; under the current
    # rule the rise $1,079.19M -> $1,245.90M (LFG's equity $2,595.09M -> $2,167.67M with the depth, was $2,797.44M
    # -> $2,577.60M: its kept LUNA marked at LUNA's close, 17.592 / 13.664)
    assert zero["loss"][1] - zero["loss"][0] == pytest.approx(47_100_946.24, abs=0.05)
    assert current["loss"][1] - current["loss"][0] == pytest.approx(1_245.90e6, abs=0.01e6)  # inside the band: no exit
    assert pegs.holders_exit_share is original


#: Session 42 (lead)'s closing-search pair at MKR's backstop edge (session 43, mkredge): with CIRCLE forced, MAKER is
#: in default at round 0's clearing at the deeper depth only ($159.17M short beyond a pledge of $971.06M, against
#: what MKR's cap has left at the debt auctions' discount: 977,000 x $182.98 x 0.86 = $153.75M; the shallower's
#: $159.09M beyond $959.88M is inside 977,000 x $196.28 x 0.86 = $164.92M), and End cages it at round 1's opening.
MKR_EDGE = "s42-lead-2022-eth-76-circle-failed-half-runs-no-lag-liquidity-071"
#: Its 365-round twin: MAKER in default at round 0 at the deeper depth and at round 18 at the shallower.
MKR_EDGE_365 = "s42-lead-2022-eth-76-77-circle-failed-no-runs-no-lag-liquidity-044-capital-50m-365"


def test_the_mkr_edge_pairs_fall_by_the_psm_s_open_hours_and_rise_with_governance_s_halt_at_the_cage():
    """Both entries fall only by the hours the shallower's live PSM stays open after the deeper's cage shut its PSM
    (round 1's opening, 24 h): governance's 60-hour halt (``psm_halt_hours``; ``halt:60`` is the engine's rule to the
    bit) leaves ``sellGem`` open there for 36 more hours, and outside arbitrageurs sell it 1,425.0M of worthless
    USDC for DAI (the PSM's balance $4,150.25M -> $5,575.25M, DAI's supply 9,450M -> 10,875M), which takes DAI
    0.56082 -> 0.48733 at the 12-round shallower. With the halt at 24 h the shallower's PSM closes when the deeper's
    does and each pair rises: the MKR pledge the shallower's holders pay ($959.88M at 12 rounds) is more than
    matched by what the deeper's DAI holders bear once End pays vault DAI 0.78782 (MKR's backstop edge, decisions 1
    and 11: no value uncounted). The deeper's run is the same to the bit under both rules (its PSM is shut from
    round 1 either way)."""
    bench = _load()
    original = backing.psm_halt.sell_open_share
    # Decision 29 (Session 46 (defender): LFG keeps the LUNA minted for the UST it redeems, its defence sells none of it,
    # the queue none of its UST): each run's loss rises by $1.7M-$0.8M (the halted shallower $70,381,500,173.67 ->
    # $70,383,247,880.01, $75,184,770,782.63 -> $75,185,588,678.93), the falls $528,539,360.69 -> $528,528,626.10 (the
    # ledger's size re-measured) and $545,752,496.44 -> $545,752,114.84 (within the ledger's 1e-6), the rises
    # $127,417,333.73 -> $127,417,792.47 and $121,732,202.06 -> $121,723,956.41; not split by entity
    for entry, stored, halted_shallower, rise in ((MKR_EDGE, 528_528_626.10, 70_383_247_880.01, 127_417_792.47),
                                                  (MKR_EDGE_365, 545_752_114.84, 75_185_588_678.93, 121_723_956.41)):
        current, engine, halted = (bench.measure(_case(entry), rule, [None])[0] for rule in ("current", "halt:60", "halt:24"))
        assert engine["loss"] == current["loss"]  # the 2022 rows' 60 hours: the engine's rule
        assert current["loss"][0] - current["loss"][1] == pytest.approx(stored, abs=0.05)
        assert halted["loss"][1] == current["loss"][1]  # the deeper: caged at round 1, its PSM shut either way
        assert halted["loss"][0] == pytest.approx(halted_shallower, abs=0.05)
        assert halted["loss"][1] - halted["loss"][0] == pytest.approx(rise, abs=0.05)
    assert backing.psm_halt.sell_open_share is original


#: Session 43 (lead)'s closing search's 365-round entry (CIRCLE forced, MAKER in default at round 2 / 0).
MKR_EDGE_S43 = "s43-lead-2022-eth-77-steth-86-circle-failed-no-runs-no-lag-liquidity-073-capital-50m-365"


def test_the_mkr_edge_fall_grows_with_the_halt_hours_the_dated_record_allows():
    """Session 44 (mkrhalt): the 2022 row's ``psm_halt_hours`` (60 h) against the dated record. No GSM exception
    reached a PSM in 2022 (the Debt Ceiling Breaker came with the spell of 14 March 2023); Maker's one emergency
    spell under the same 48 h pause was deployed 10 h or more after USDC left $1 (11 March 2023), so a halt took at
    least 58 h plus the vote, up to ~72 h plus the vote at the emergency spells' 24 h SLA. ``haltat:H`` sets every
    finite halt to ``H`` (``haltat:60`` is the engine's rule to the bit). Across that range the 12-round MKR-edge
    pair falls by the shallower's open hours after the deeper's cage (round 1's opening, 24 h), about $16M an hour:
    -$342.60M at 48 h (the pause alone, a vote in no time), -$528.53M at 60 h, -$732.43M at 72 h; the deeper's run
    is the same under every H (its PSM shut at the cage). The session 43 closing search's 365-round entry is the
    same family: at 24 h (``halt:24``) the pair rises, +$23.30M (decision 29; +$23.52M before; the shallower at 24 h $70,736.87M; MAKER's
    default at the shallower round 2 -> 3)."""
    bench = _load()
    original = backing.psm_halt.sell_open_share
    case = _case(MKR_EDGE)
    runs = {rule: bench.measure(case, rule, [None])[0]["loss"] for rule in ("current", "haltat:60", "haltat:48", "haltat:72")}
    assert runs["haltat:60"] == runs["current"]  # the 2022 row's 60 hours: the engine's rule, to the bit
    assert {run[1] for run in runs.values()} == {runs["current"][1]}  # the deeper: caged at round 1 under every H
    deeper = runs["current"][1]
    # decision 29 (the test above): the shallower's loss $70,851,529,781.64 -> $70,853,267,212.49 at 48 h,
    # $71,037,456,868.09 -> $71,039,194,298.59 at 60 h, $71,241,361,648.73 -> $71,243,092,075.55 at 72 h; the falls
    # $342,612,274.24 -> $342,601,540.01, $528,539,360.69 -> $528,528,626.10, $732,444,141.34 -> $732,426,403.07
    for rule, shallower, fall in (("haltat:48", 70_853_267_212.49, 342_601_540.01),
                                  ("current", 71_039_194_298.59, 528_528_626.10),
                                  ("haltat:72", 71_243_092_075.55, 732_426_403.07)):
        assert runs[rule][0] == pytest.approx(shallower, abs=0.05)
        assert runs[rule][0] - deeper == pytest.approx(fall, abs=0.05)
    assert runs["haltat:48"][0] < runs["current"][0] < runs["haltat:72"][0]  # more open hours, more worthless USDC in
    current, halted = (bench.measure(_case(MKR_EDGE_S43), rule, [None])[0] for rule in ("current", "halt:24"))
    # decision 29 (above): the stored fall $650,671,709.22 -> $650,885,806.66 (the ledger's size re-measured), the
    # rise at 24 h $23,519,983.02 -> $23,296,657.58 (the shallower at 24 h $70,736,866,140.99); MAKER's rounds as before
    assert current["loss"][0] - current["loss"][1] == pytest.approx(650_885_806.66, abs=0.05)  # the stored fall
    assert halted["loss"][1] == current["loss"][1]
    assert halted["loss"][1] - halted["loss"][0] == pytest.approx(23_296_657.58, abs=0.05)
    assert (current["maker_round"], halted["maker_round"]) == ([2, 0], [3, 0])
    assert backing.psm_halt.sell_open_share is original
