"""Governance halts a PSM's sellGem against an impaired backing (issue 12, gap (b); :mod:`core.mechanisms.psm_halt`).

Worked numbers from the mechanism's sources (Maker's 11 March 2023 executive, Sky's LitePSM halt spell), the
invariants (no value created, nothing pays more than it has, a deeper depeg never lowers the system's loss across
the halt: searched), the 2025 ledger pair the halt closes, and the data's documented reaction times.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st, target

import core
from core import Scenario
from core.engine import simulate_batch
from core.mechanisms.psm import psm_arbitrage, psm_backed_value
from core.mechanisms.psm_halt import halted_backing_price, sell_open_share
from test_psm_books import with_room

LEDGER = Path(__file__).resolve().parent / "regressions" / "invariant_counterexamples.json"
PAIR = "monotone-2025-usdc-depeg-steth-wbeth-jitosol-lag1-capital-500m-sky-shutdown-edge"


# --- the mechanism, one round ------------------------------------------------------------------------------

def test_halted_round_mints_nothing_and_freezes_the_sell_side():
    """March 2023's numbers (USDC 0.878, DAI's backed value 0.939 with half the supply in the PSM, depth $1bn):
    open, arbitrage mints 67M DAI and takes DAI to USDC's price; halted for the round, nothing is minted, the PSM's
    balance and DAI's supply stay where they were and DAI stays at its backed value."""
    value = float(psm_backed_value(0.5, 0.878))
    open_ = psm_arbitrage(value, 0.878, 2.5e9, 5e9, 1e9)
    shut = psm_arbitrage(value, 0.878, 2.5e9, 5e9, 1e9, sell_open=0.0)
    assert float(open_.price) == pytest.approx(0.878, rel=1e-12)
    assert float(open_.minted) == pytest.approx(1e9 * np.log(value / 0.878), rel=1e-12)
    assert float(shut.minted) == 0.0 and float(shut.redeemed) == 0.0
    assert float(shut.psm_balance) == 2.5e9 and float(shut.dai_supply) == 5e9 and float(shut.psm_share) == 0.5
    assert float(shut.price) == value
    # half the round open: half the open round's inflow, at its price impact
    half = psm_arbitrage(value, 0.878, 2.5e9, 5e9, 1e9, sell_open=0.5)
    assert float(half.minted) == pytest.approx(0.5 * float(open_.minted), rel=1e-12)
    assert float(half.price) == pytest.approx(value * np.exp(-0.5 * float(open_.minted) / 1e9), rel=1e-12)


def test_buygem_stays_open_at_tout_after_the_halt():
    """The halt is on sellGem only (LitePSM flow SELL: tin = HALTED): DAI at 0.85 under USDC at 0.95 is bought and
    redeemed through the PSM at tout 0.1% until DAI is at 0.95 / 1.001; the outflow pays out of the balance."""
    r = psm_arbitrage(0.85, 0.95, 2.5e9, 5e9, 1e9, tout=0.001, sell_open=0.0)
    assert float(r.minted) == 0.0
    assert float(r.redeemed) == pytest.approx(1e9 * np.log(0.95 / (0.85 * 1.001)), rel=1e-12)
    assert float(r.price) == pytest.approx(0.95 / 1.001, rel=1e-12)
    assert float(r.psm_balance) == pytest.approx(2.5e9 - float(r.redeemed) / 1.001, rel=1e-12)
    # nothing pays more than it has: a small PSM is drained to zero, not below
    small = psm_arbitrage(0.85, 0.95, 1e6, 5e9, 1e9, tout=0.001, sell_open=0.0)
    assert float(small.psm_balance) == pytest.approx(0.0, abs=1e-6) and float(small.redeemed) == pytest.approx(1e6 * 1.001)


def test_a_halted_psm_still_caps_a_premium_at_par():
    """Halted, the sell pin is floored at par (max(p_b / (1 - tin), 1)): with USDC at 0.9 and DAI bid to 1.03 by
    its vault owners' repayments, the PSM still mints until DAI is at par (the March 2023 proposal kept the
    liquidity "to prevent DAI from trading significantly above $1")."""
    r = psm_arbitrage(1.03, 0.9, 2.5e9, 5e9, 1e9, sell_open=0.0)
    assert float(r.price) == pytest.approx(1.0, rel=1e-12)
    assert float(halted_backing_price(0.9, 0.0)) == 1.0


def test_reaction_times_worked():
    """Sky's 12 h in daily rounds: half the first round below the pin open, none after; Maker's 60 h (12 h to
    draft and vote + the 48 h GSM delay of May 2022) in 6-hour rounds: ten rounds open, none from the eleventh."""
    t = np.arange(4) * 24.0
    np.testing.assert_array_equal(sell_open_share(t, 24.0, 12.0), [0.5, 0.0, 0.0, 0.0])
    t6 = np.arange(12) * 6.0
    np.testing.assert_array_equal(sell_open_share(t6, 6.0, 60.0), [1.0] * 10 + [0.0] * 2)
    np.testing.assert_array_equal(sell_open_share(t, 24.0, np.inf), 1.0)


@settings(max_examples=300, deadline=None)
@given(p0=st.floats(0.3, 1.15), pb=st.floats(0.3, 1.05), tin=st.sampled_from([0.0, 0.001, 0.01]),
       tout=st.sampled_from([0.0, 0.001]), share=st.floats(0.0, 1.0), o1=st.floats(0.0, 1.0), o2=st.floats(0.0, 1.0))
def test_halt_bounds_and_continuity(p0, pb, tin, tout, share, o1, o2):
    """Searched: a more-closed sellGem never mints more, never lowers the price; it changes the inflow by at most
    ``K ln(max(p_b, 1 - tin) / p_b)`` (0 at the pin: continuous in the depeg); and the swaps create no value (the
    PSM's balance moves by the backing paid in or out, never below zero; the supply moves with it)."""
    K, bal, S = 1e9, share * 5e9, 5e9
    lo, hi = sorted((o1, o2))
    a = psm_arbitrage(p0, pb, bal, S, K, tin=tin, tout=tout, sell_open=lo)
    b = psm_arbitrage(p0, pb, bal, S, K, tin=tin, tout=tout, sell_open=hi)
    assert float(a.minted) <= float(b.minted) + 1e-6
    assert float(a.price) >= float(b.price) * (1 - 1e-12)
    open_ = psm_arbitrage(p0, pb, bal, S, K, tin=tin, tout=tout)
    gap = K * np.log(max(pb, 1.0 - tin) / pb)
    assert float(open_.minted) - float(a.minted) <= gap + 1e-3
    for r in (a, b):
        assert float(r.psm_balance) >= -1e-6
        assert float(r.redeemed) <= bal * (1 + tout) + 1e-6
        assert float(r.psm_balance) - bal == pytest.approx(float(r.minted) / (1 - tin) - float(r.redeemed) / (1 + tout),
                                                           abs=1e-3)
        assert float(r.dai_supply) - S == pytest.approx(float(r.psm_balance) - bal, abs=1e-3)


# --- the engine ----------------------------------------------------------------------------------------------

def _halt_network(hours: float):
    net = with_room()
    pegs = net.pegs.copy()
    pegs["psm_halt_hours"] = hours
    return core.network.Network.from_frames(name="two-issuers-halt", pegs=pegs,
                                            **{t: getattr(net, t) for t in ("entities", "assets", "holdings",
                                                                             "exposures", "cohorts")})


def test_engine_halts_the_psm_after_its_reaction_time():
    """The two-issuer network (VAULTS owes 60M DAIX against $65M, the PSM 40M against 40M USDY, room to mint,
    tin 0.1%, depth $300M), USDY at par for two rounds then 30% off peg, governance's reaction 12 hours, daily
    rounds. Round 2 (USDY 0.7): DAIX's backed value 0.4 x 0.7 + 0.6 = 0.88; the PSM is open half the round, so
    arbitrage mints half the open round's K ln(0.88 x 0.999 / 0.7) = 68.4M, 34.2M DAIX. From round 3 nothing is
    minted: the balance and supply stay put and DAIX trades at its backed value with the share frozen, 0.834,
    instead of following USDY to 0.7 / 0.999. With governance's halt turned off (the scenario's safeguard), it
    follows USDY as before."""
    from core.engine import compile_network
    from core.engine.batch import build_batch
    from core.engine.rounds import run_round
    from core.engine.state import initial_state

    net = _halt_network(12.0)
    sc = Scenario(price_paths={"USDY": [0.0, 0.0, -0.3]}, horizon=6)
    c = compile_network(net)
    b = build_batch(c, [sc], net)
    s = initial_state(c, b)
    dai = list(c.symbols).index("DAIX")
    balances, prices = [], []
    for r in range(6):
        run_round(c, s, b, r)
        balances.append(float(s.psm_balance[0, 0]))
        prices.append(float(s.P[0, dai]))
    value0 = 0.4 * 0.7 + 0.6
    minted = 0.5 * 3e8 * np.log(value0 * 0.999 / 0.7)
    assert balances[:2] == [40e6, 40e6]
    assert balances[2] == pytest.approx(40e6 + minted / 0.999, rel=1e-9)
    assert balances[3:] == [balances[2]] * 3
    share = balances[2] / (100e6 + minted / 0.999)
    np.testing.assert_allclose(prices[3:], float(psm_backed_value(share, 0.7)), rtol=1e-12)
    assert prices[3] == pytest.approx(0.834, abs=5e-4)

    off = simulate_batch(net, [sc.model_copy(update={"safeguards": core.scenario.Safeguards(psm_governance_halt=False)})],
                         record=True)
    np.testing.assert_allclose(off.history["prices"][0][2:, list(off.asset_symbols).index("DAIX")], 0.7 / 0.999,
                               rtol=1e-12)


def test_the_safeguard_is_declared_and_validated():
    from core.scenario import parse_scenario

    assert Scenario().safeguards.psm_governance_halt is True and not Scenario().safeguards.active
    assert Scenario(safeguards={"psm_governance_halt": False}).safeguards.active
    from core.validation import DataValidationError

    with pytest.raises(DataValidationError) as exc:
        parse_scenario({"safeguards": {"psm_governance_halt": "sometimes"}})
    assert any("psm_governance_halt" in str(p.column) for p in exc.value.problems), exc.value.problems
    schema = core.scenario.scenario_schema()
    assert "psm_governance_halt" in schema["$defs"]["Safeguards"]["properties"]


def test_the_data_documents_each_psms_reaction_time():
    """2022: Maker's executive, ~12 h + the 48 h GSM pause delay = 60 h; 2025: Sky's pre-deployed halt spell, no GSM
    delay, 12 h; each an estimate whose note says how it was made."""
    for key, hours, words in (("crypto-2022-05", 60.0, ("GSM pause delay", "48 h")),
                              ("crypto-2025-10", 12.0, ("SingleLitePsmHaltSpell", "no GSM delay"))):
        pegs = core.datasets.load(key).pegs
        rows = pegs[pegs["mechanism"] == "psm"]
        assert (rows["psm_halt_hours"].astype(float) == hours).all(), key
        assert (rows["flag"] == "estimate").all()
        assert all(all(w in note for w in words) for note in rows["note"]), key


# --- the invariants on the shipped networks -------------------------------------------------------------------

@pytest.fixture(scope="module")
def nets():
    return {k: core.datasets.load(k) for k in ("crypto-2022-05", "crypto-2025-10")}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(["crypto-2022-05", "crypto-2025-10"]), d=st.floats(0.0, 0.6), step=st.floats(1e-6, 0.1),
       eth=st.floats(0.0, 0.5), hours=st.sampled_from([6.0, 12.0, 24.0]), lag=st.integers(0, 1))
# the ledger's monotone-2022-usdc-depeg-eth-20-6h-rounds-celsius-edge, found by this search's random draws and
# missed by CI's derandomized ones: kept as an example so that the exception below is always exercised
@example(key="crypto-2022-05", d=0.0, step=0.03125, eth=0.1953125, hours=6.0, lag=0)
def test_deeper_usdc_depeg_never_lowers_loss_across_the_halt(nets, key, d, step, eth, hours, lag):
    """Searched: with governance's halt in force, a deeper USDC depeg (with an ETH fall, oracle lag, rounds of 6,
    12 or 24 hours: the halt lands in different rounds and part-rounds) never lowers the system's loss, except
    where the deeper depeg keeps a debtor of USDC or DAI out of default by what its debts fall
    (:mod:`debtor_rescue`: USDC is an owed token on the 2022 network, which the monotone searches never deepen)."""
    from debtor_rescue import debtor_rescues

    base = dict(price_shocks={"ETH": -eth}, oracle_lag=lag, round_hours=hours)
    deep = min(d + step, 0.95)
    br = simulate_batch(nets[key], [Scenario(depegs={"USDC": d}, **base), Scenario(depegs={"USDC": deep}, **base)],
                        record=True)
    loss = br.total_loss
    drop = float(loss[0] - loss[1])
    tolerance = max(1.0, 1e-9 * abs(float(loss[0])))
    rescues = debtor_rescues(key, br) if drop > tolerance else None
    unexplained = 0.0 if rescues else drop
    target(unexplained, label="loss drop no debtor's rescue explains (USD)")
    assert unexplained <= tolerance, (key, d, deep, eth, hours, lag, loss)


@pytest.mark.parametrize("key", ["crypto-2022-05", "crypto-2025-10"])
def test_halt_creates_no_value(key):
    """No entity gains beyond what its holdings' prices and fees explain, with the halt in force (USDC depegs of
    5-40%, with and without an ETH fall)."""
    from invariants_support import value_created_violation

    scs = [Scenario(depegs={"USDC": d}, price_shocks={"ETH": -e}) for d in (0.05, 0.2, 0.4) for e in (0.0, 0.3)]
    v = value_created_violation(key, scs)
    assert v.size == 0.0, v.note


def test_the_2025_sky_shutdown_edge_pair_holds_with_the_halt():
    """The ledger's 2025 pair (USDC 27.9% off peg, stETH/wBETH/JitoSOL deepened): before, SKY stayed live at the
    shallower depth and its LitePSM pinned DAI and USDS to USDC's 0.7206 while the deeper one shut it down at
    end.cash's 0.8814, $1.886bn less loss. With Sky's halt (12 h) SKY is live at both, DAI and USDS trade at their
    backed value (~0.880: 0.4263 x 0.7206 + 0.5737 = 0.8809 at most; ~0.892 with the PSM's share 0.382 before
    session 33) and the deeper shock loses more; without it (the safeguard off) the old pair returns."""
    from depth_points import at_point, depth_points

    entry = next(e for e in json.loads(LEDGER.read_text()) if e["id"] == PAIR)
    net = core.datasets.load(entry["network"])
    pts = depth_points(tuple(entry["assets"]), entry["depths"])
    syms, ids = list(net.assets["symbol"]), list(net.entities["id"])
    results = {}
    for halt in (True, False):
        sc = Scenario.model_validate({**entry["scenario"], "safeguards": {"psm_governance_halt": halt}})
        results[halt] = simulate_batch(net, [at_point(sc, p, entry["mode"]) for p in pts])
    on, off = results[True], results[False]
    assert on.total_loss[1] >= on.total_loss[0]
    assert not on.defaulted[:, ids.index("SKY")].any()
    np.testing.assert_allclose(on.prices[:, syms.index("DAI")], 0.880, atol=1e-3)  # 0.8800439, 0.8800539 (0.892 before s33)
    # the old pair returns: $1,886.32M when found (the entry's size); $1,863.89M since session 25's loop swap
    # (core.engine.loop_swaps: its stETH/wBETH loops' seizures no longer pressed whole on ETH's book; with
    # swapped_back undone it measures the entry's size again); $1,863.96M since session 27 (the liquidators' capital
    # buys the USDC it repays at its market discount, not the lagging oracle's $1: core.engine.capital.debt_cost);
    # $1,863.95M with session 29's fixed oracles (SparkLend's DAI and USDS debt at its fixed $1: core.engine.oracle);
    # $1,864.18M with session 29's cage alone (SKY, in default in round 8 at the deeper depth, is caged by End at
    # round 9); $1,864.20M with both; $1,864.37M with session 30's stETH at the snapshot's 0.999 ETH instead of par
    # (core.engine.sell.reference_basis: the deepened stETH reads its shock from its reference price); $1,864.38M
    # since session 31 (s31-poolidx: a claim held on a pool valued at the pool's index of the same round,
    # core.engine.held_claims): SKY's 800M on SPARKLEND carries SPARKLEND's fall in round 0 (SKY's round-0 equity
    # at the deeper depth $81.69M -> $41.43M), SKY still defaults in round 8 and its cage restores its equity in
    # round 9, not 10, ending $13,815 higher ($18.77M -> $18.79M): the deeper loss $13,815 less, the pair +$13,815
    # ($1,864,367,029 -> $1,864,380,844 measured; s31-kept then lowered both depths alike, -$2,859.45, the pair by
    # $0.002); $1,561.00M since session 33 (DAI $5.02bn and USDS $4.363bn of 10 Oct 2025, were $10.465bn together):
    # at the shallower depth the open PSM pins $1.082bn fewer coins to USDC's 0.7206 (loss $34.2591bn -> $33.9568bn,
    # 1.082bn x 0.2794 = $0.302bn), while the deeper depth's end.cash pays 0.8683 (was 0.8802) on fewer coins
    # (loss $32.3948bn -> $32.3958bn)
    # $1,561.03M since s35-data (COMPOUND_V3's book dated at $1.06bn, was $0.90bn; supply $3.23bn, was $3.05bn):
    # $1,561,028,900.48, +$24,704.38 (the per-entity split between the depths not traced)
    # $1,531.32M since s37-skycage (decision 18: the clearing no longer defaults SKY; its deficit, -$1.1M from round
    # 8's clearing at the deeper depth, lasts and the clock defaults it at round 10, caged at 11, where the clearing
    # defaulted it at round 8, caged at 9): the deeper loss $32,450.47M -> $32,480.17M (DAI 0.868314 -> 0.865485 at
    # the close), the shallower unchanged ($34,011.50M, SKY live)
    # $1,517.46M since s44-skyedge (SKY's one book: DAI's backed value no longer takes the vaults' cover B < 1 on its
    # own row): the deeper depth's live LitePSM, pinning DAI to USDC's 0.720589 in both trees, mints more DAI against
    # USDC with DAI's backed value higher (the DAI row's supply 5,573.997M -> 5,664.596M after round 10), so End's
    # blend at the cage (round 11) shares SKY's book among 90.6M more DAI backed by USDC at 0.72: DAI and USDS close
    # 0.865485 -> 0.864230, STABLE_HOLDERS +$11.77M, DEFI_DEPOSITORS +$1.92M, SKY +$0.17M; the deeper loss
    # $32,480.17M -> $32,494.04M, the shallower unchanged ($34,011.50M)
    assert off.total_loss[0] - off.total_loss[1] == pytest.approx(1_517_456_721.74, rel=1e-6)


def test_svb_weekend_low_comes_before_makers_halt():
    """The SVB overlay on the 2022 network (8% of USDC's reserves frozen over the weekend, resolved Monday,
    benchmarks/scenarios/usdc_svb_reserves.json): Maker's 60 h reaction lands in round 2, after the weekend, as
    the 11 March 2023 executive did (deployed 12:57 UTC Saturday, cast after the 48 h GSM delay, when USDC was back
    near par). So DAI's weekend low is the open PSM's, 0.902 against history's 0.897 (USDC 0.878), the same with
    the halt off; from Monday the halted PSM stops taking the still-discounted USDC and DAI is nearer par."""
    sc = core.load_scenario(Path(__file__).resolve().parent.parent / "benchmarks" / "scenarios" / "usdc_svb_reserves.json")
    net = core.datasets.load("crypto-2022-05")
    off = sc.model_copy(update={"safeguards": core.scenario.Safeguards(psm_governance_halt=False)})
    br = simulate_batch(net, [sc, off], record=True)
    dai = br.history["prices"][:, :, list(br.asset_symbols).index("DAI")]
    assert dai[0].min() == dai[1].min() == pytest.approx(0.897, abs=0.006)
    np.testing.assert_array_equal(dai[0, :2], dai[1, :2])
    assert dai[0, 2] > dai[1, 2]


def test_bad_halt_hours_name_row_column_and_value():
    """A reaction time on a row that is not a PSM, or out of range, is an error naming the table, row, column,
    value and what was expected."""
    from core.validation import DataValidationError

    net = with_room()
    for value, expected, mech in ((12.0, "empty, except on psm rows", "fractional"), (-5.0, "a non-negative number", "psm")):
        pegs = net.pegs.copy()
        pegs["psm_halt_hours"] = value
        pegs["mechanism"] = mech
        if mech == "fractional":
            pegs["liable_entity"] = None
        with pytest.raises(DataValidationError) as exc:
            core.network.Network.from_frames(name="bad-halt", pegs=pegs,
                                             **{t: getattr(net, t) for t in ("entities", "assets", "holdings",
                                                                              "exposures", "cohorts")})
        hits = [p for p in exc.value.problems if p.column == "psm_halt_hours"]
        assert hits and expected in hits[0].expected and float(hits[0].value) == value, exc.value.problems
        assert hits[0].row is not None and "pegs" in str(hits[0].file)
