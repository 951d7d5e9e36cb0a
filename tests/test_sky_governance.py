"""Decision 18 (session 37): Sky, whose debt auctions are off (``vow.sump`` = max from the 15 May 2025 spell), is
shut down by governance, not by the clearing's tolerance (:mod:`core.engine.maker_governance`).

Worked cases on crypto-2025-10: a shortfall of a few dollars does not default SKY and takes deficit/debt off DAI
and USDS; a large deficit that lasts cages it after the governance delay (36 hours: a 12-hour vote, then the
spells' 24-hour ``pause_delay``, sky-ecosystem/spells-mainnet ``src/test/config.sol``) and not before; a failure
the scenario forces cages it at its round. And a searching property on Sky's edge: a deeper shock never lowers the
loss, the bad debt at reference or the defaults there.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings, target
from hypothesis import strategies as st

import core
from core.engine import compile_network, simulate_batch
from core.engine import defend, maker_governance
from core.network import Network
from core.results import MAKER_HISTORY
from core.scenario import Safeguards
from invariants_support import monotone_violation

M = {k: i for i, k in enumerate(MAKER_HISTORY)}

#: The s36-trace WBTC pair's deeper point (the ledger's ``s36-trace-2025-wbtc-87-usdc-depeg-23-...``), re-found: SKY
#: is $8.50 short of what it owes after round 0, its clock starts there, and the deficit has closed by round 1. Until
#: session 44 WBTC -0.8715290287232971 ($8.4952 of $8,495,191,877.52); with s44-skyedge (SKY's one book: DAI's backed
#: value no longer takes the vaults' cover on its own row) SKY is $2.35M above water there (DAI at par on its vault
#: side, the PSM's round-0 swaps differ), and the same edge is at WBTC -0.875459741253729: $8.502604 of
#: $8,502,604,123.12, at the tolerance $8.502604 (one ulp shallower, -0.8754597412537289: $8.502604 under it).
WBTC_DEEP = dict(price_shocks={"WBTC": -0.875459741253729}, depegs={"USDC": 0.2291568583877435}, run_intensity=0.5,
                 oracle_lag=2, liquidity=1.1939136011014981, liquidator_capacity_usd=50e6)


@pytest.fixture(scope="module")
def net25() -> Network:
    return core.datasets.load("crypto-2025-10")


def _sky(br) -> tuple[int, int, int]:
    ids, syms = list(br.entity_ids), list(br.asset_symbols)
    return ids.index("SKY"), syms.index("DAI"), syms.index("USDS")


def test_the_delay_is_the_vote_and_the_pause():
    assert maker_governance.PAUSE_DELAY_HOURS == 24.0  # afterSpell.pause_delay = 24 hours
    assert maker_governance.GOVERNANCE_DELAY_HOURS == 36.0


def test_a_few_dollars_short_does_not_default_sky(net25):
    br = simulate_batch(net25, [core.Scenario(**WBTC_DEEP, horizon=12)], record=True)
    j, dai, usds = _sky(br)
    deficit = -br.history["equity"][0, 0, j]
    assert 8.50 < deficit < 8.51  # $8.502604 (s44-skyedge's re-found point; $8.49519253 before, Session 36 (trace))
    assert not br.defaulted[0, j] and br.default_round[0, j] == -1  # before decision 18: default in round 0, caged at 1
    assert (br.history["equity"][0, 1:, j] > 0).all()  # the deficit closed at round 1: the clock reset


def test_a_small_deficit_moves_skys_coins_by_deficit_over_debt(net25, monkeypatch):
    # ETH and stETH -65.03957%: SKY owes $9,583,000,000 after round 0 and is $1.14151382 short (paid ratio
    # 0.9999999998808814). In round 1 USDS (at par) closes at 1 - 1.19e-10 of its unbound price, and DAI, lifted by a
    # squeeze's premium (1.02173), keeps the premium and takes the same factor
    sc = core.Scenario(price_shocks={"ETH": -0.65039571672678, "stETH": -0.65039571672678}, horizon=2)
    bound = simulate_batch(net25, [sc], record=True)
    j, dai, usds = _sky(bound)
    deficit = -bound.history["equity"][0, 0, j]
    assert deficit == pytest.approx(1.14151382, abs=1e-6)
    monkeypatch.setattr(defend, "deficit_priced", lambda c, s, P, cap: (P, cap))
    unbound = simulate_batch(net25, [sc], record=True)
    for coin in (dai, usds):
        moved = bound.history["prices"][0, 1, coin] / unbound.history["prices"][0, 1, coin] - 1.0
        assert moved == pytest.approx(-deficit / 9_583_000_000.0, rel=1e-4)  # -1.19e-10
    assert bound.history["prices"][0, 1, dai] == pytest.approx(1.02173076, abs=1e-8)
    assert bound.history["prices"][0, 0, dai] == unbound.history["prices"][0, 0, dai]  # round 0: no clearing yet


def test_a_live_psm_pin_below_the_recovery_stands(net25):
    # USDC 30% off, ETH -80%, BTC -70%, the LitePSM open (no governance halt): SKY $514M short after round 0, live until the clock defaults it at round 2.
    # Its LitePSM pins DAI to USDC (0.7 / (1 - tin)): 0.70817 in round 1, under end.cash's recovery at a shutdown
    # then (0.8054); DAI 0.7978 from the cage at round 3 (end.cash's blend)
    br = simulate_batch(net25, [core.Scenario(price_shocks={"ETH": -0.8, "BTC": -0.7}, depegs={"USDC": 0.3}, horizon=5,
                                               safeguards=Safeguards(psm_governance_halt=False))],
                        record=True)
    j, dai, _ = _sky(br)
    assert br.default_round[0, j] == 2
    assert br.history["prices"][0, 1, dai] == pytest.approx(0.70817068, abs=1e-8)
    assert br.history["prices"][0, 3, dai] == pytest.approx(0.79777621, abs=1e-8)


@pytest.mark.parametrize("hours, default_round", [(24.0, 2), (12.0, 3), (6.0, 6)])
def test_a_lasting_deficit_cages_sky_after_the_delay_and_not_before(net25, hours, default_round):
    # ETH and stETH -80%: Sky's vault auctions leave it $440M short from round 0's clearing on. The clock runs from
    # that clearing; the clearing 36 hours on (the first round boundary at or after it) defaults SKY, and End cages
    # it at the next round's opening: round 2 in daily rounds (48 h), 3 in 12-hour rounds (36 h), 6 in 6-hour ones.
    br = simulate_batch(net25, [core.Scenario(price_shocks={"ETH": -0.8, "stETH": -0.8}, horizon=default_round + 3,
                                              round_hours=hours)], record=True)
    j, dai, usds = _sky(br)
    eq = br.history["equity"][0, :, j]
    assert (eq[: default_round + 1] < -1e8).all()  # short at every clearing before the cage
    assert br.defaulted[0, j] and br.default_round[0, j] == default_round
    # while live, its coins carry the deficit's share: in daily rounds DAI and USDS at 0.95409 in round 1, $440M off
    # the $9.6bn (in shorter rounds a squeeze's premium lifts DAI above par under the same factor)
    if hours == 24.0:
        assert br.history["prices"][0, 1, dai] == pytest.approx(0.95409199, abs=1e-8)
        assert br.history["prices"][0, 1, usds] == pytest.approx(0.95409199, abs=1e-8)


def test_a_forced_failure_cages_sky_at_its_round(net25):
    for at in (0, 2):
        sc = core.Scenario(price_shocks={"ETH": -0.3}, forced_defaults=["SKY"], forced_default_rounds={"SKY": at},
                           horizon=5)
        br = simulate_batch(net25, [sc], record=True)
        j, _, _ = _sky(br)
        assert br.defaulted[0, j] and br.default_round[0, j] == at


def test_sky_with_debt_auctions_keeps_the_clearing_rule(net25):
    # the rule is Sky's alone: the same network with its debt auctions on is not governed
    ilks = net25.maker_ilks.copy()
    ilks["debt_auctions"] = True
    on = Network.from_frames(name="edited", **{**net25.frames(), "maker_ilks": ilks})
    assert maker_governance.governed(compile_network(net25))
    assert not maker_governance.governed(compile_network(on))


#: Where SKY's round-0 deficit crosses the clearing's old threshold on the WBTC pair ($8.49519188: the ledger's
#: two depths, 8e-16 apart, straddle it).
WBTC_EDGE = 0.8754597412537289  # s44-skyedge: the last depth whose round-0 clock does not start (0.8715290287232967 before)


@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)
@given(offset=st.floats(-1e-12, 1e-12), step=st.sampled_from([8e-16, 1e-14, 2e-12, 1e-9]))
@example(offset=-4e-16, step=8e-16)  # the ledger's pair: before decision 18, -$256.56M (SKY defaulted at the deeper)
def test_a_deeper_shock_never_lowers_loss_bad_debt_or_defaults_on_skys_edge(offset, step):
    # WBTC deepened across the depth where SKY's deficit after round 0 crosses a billionth of what it owes (the
    # deficit closes at round 1): before decision 18 every pair that straddled it defaulted SKY at the deeper depth
    # only (-$256.56M for 8e-16 / 1e-14 / 2e-12 apart, measured on the tree before it); now neither depth defaults it
    base = core.Scenario(**{k: v for k, v in WBTC_DEEP.items() if k != "price_shocks"}, horizon=12)
    v = monotone_violation("crypto-2025-10", base, ("WBTC",), [WBTC_EDGE + offset, WBTC_EDGE + offset + step], "price")
    target(float(v.size), label="usd")
    assert v.size == 0.0, v.note
    assert v.detail["defaults_drop"] == 0.0, v.note


def test_the_clock_resets_when_the_deficit_closes(net25):
    # the WBTC pair's deeper point run on: SKY $8.50 short after round 0, +$9.75M after round 1 (the clock at -1;
    # +$7.13M at the point before s44-skyedge)
    br = simulate_batch(net25, [core.Scenario(**WBTC_DEEP, horizon=30)])
    j, _, _ = _sky(br)
    assert not br.defaulted[0, j]
    assert np.isfinite(br.total_loss[0])
