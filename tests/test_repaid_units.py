"""Liquidators buy the UST they repay to Anchor from its holders (core.engine.repaid_units), worked on the 2022 network."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import core
import core.engine.rounds as rounds
from core.engine import liquidate
from core.engine import simulate_batch
from core.engine.compiled import compile_network
from core.engine.redemptions import redeemable_units
from core.scenario import Scenario
from depth_points import at_point, depth_points
from invariants_support import load_regressions, network

NET = core.datasets.load("crypto-2022-05")
IDS, SYMS = list(NET.entities["id"]), list(NET.assets["symbol"])
UST = SYMS.index("UST")
PROTOCOLS = np.unique(compile_network(NET).c_proto)


def _liquidations(scenario: Scenario) -> list[dict]:
    """Each round's liquidation step on the 2022 network (row 0): UST held by each entity, other assets (the step's,
    with what it returns), UST's supply and price, before and after; and the units left after it that holders may
    sell on their own account."""
    seen = []

    def step(c, s, b, r):
        before = dict(H=s.H[0, :, UST].copy(), oa=s.oa[0].copy(), supply=s.supply[0, UST], P=s.P[0, UST])
        out = liquidate.liquidate(c, s, b, r)
        own, outside = redeemable_units(c, s.H, s.ik_left, s.supply[:, UST], UST)
        seen.append(dict(r=r, before=before, H=s.H[0, :, UST].copy(), oa=np.asarray(out.get("oa", s.oa))[0].copy(),
                         left=own[0].sum() + outside[0]))
        return out

    mp = pytest.MonkeyPatch()
    mp.setattr(rounds, "STEPS", tuple(step if f is liquidate.liquidate else f for f in rounds.STEPS))
    try:
        core.simulate(NET, scenario)
    finally:
        mp.undo()
    return seen


def test_the_holders_sell_what_the_liquidators_repay_pro_rata_at_the_market_price():
    # LUNA -40%: round 0 liquidates Anchor's bLUNA/UST cohorts, which repay 512.837396M UST (session 39: the queue's
    # contract amount, query_liquidation_amount: hf1.02 and hf1.10 at HF 0.612 / 0.660 <= m / d = 0.6655 sell all of
    # their LUNA, hf1.25 at 0.75 repays 85.5 % and hf1.50 at 0.90 59.9 % of its debt, where each repaid half:
    # 332.488005M before). Session 40 (anchor, each position at its own HF): 512.837396M -> 510.794527M, hf1.10's
    # positions (HF 0.627-0.693 about 0.660) straddle m / d: those above it repay to the safe ratio, not all of their
    # LUNA (its share 97.33 %, was 100 %); hf1.02's lie all below (all of their LUNA, as before), hf1.25's and hf1.50's
    # all above (the share linear in HF: the aggregate's, as before). The network holds all
    # 18.5bn UST at the reference, so none is held outside: the liquidators buy it from the holders on their own
    # account, STABLE_HOLDERS' 4,434.547087M and LFG's 0.697344M (Anchor and TERRA_CHAIN owe theirs in kind, the Curve
    # pool's are its reserves), pro rata at UST's price, $1.00 in round 0: 332.435729M and 0.052276M.
    seen = _liquidations(Scenario(price_shocks={"LUNA": -0.4}, horizon=2))
    r0 = seen[0]
    anchor, holders, lfg = IDS.index("ANCHOR"), IDS.index("STABLE_HOLDERS"), IDS.index("LFG")
    repaid = r0["H"][anchor] - r0["before"]["H"][anchor]
    assert repaid == pytest.approx(510.794527e6, rel=1e-8)
    own = r0["before"]["H"][holders] + r0["before"]["H"][lfg]
    assert own == pytest.approx(4434.547087e6 + 0.697344e6, rel=1e-9)
    for i, held in ((holders, 4434.547087e6), (lfg, 0.697344e6)):
        sold = r0["before"]["H"][i] - r0["H"][i]
        assert sold == pytest.approx(repaid * held / own, rel=1e-9)
        assert r0["oa"][i] - r0["before"]["oa"][i] == pytest.approx(sold * r0["before"]["P"], rel=1e-9)
    assert r0["before"]["P"] == 1.0
    assert r0["H"].sum() == pytest.approx(r0["before"]["supply"], rel=1e-12)
    # round 1: 94.204935M more at UST's 0.868964 (0.869186 before session 30's queue price: more LUNA sold in round 0)
    r1 = seen[1]
    # (session 33, anchor: 149.337713M, was 94.204935M: Anchor's loans weighed at $1 a UST come due as LUNA falls)
    # (session 34, anchorfee: 153.979359M at UST's 0.868826, was 149.337713M at 0.868964: the queue keeps its 1%
    # liquidator fee beside the bid fee, so round 0 seizes and sells more LUNA for the same 332.488005M repaid, LUNA
    # opens round 1 lower and more of Anchor's bLUNA loans come due)
    # (session 39, anchor: 17.106119M at UST's 0.862257, was 153.979359M at 0.868826: round 0 took the cohorts past
    # m / d whole and the rest to the safe ratio, so little is due in round 1; more LUNA sold in round 0, UST lower)
    # (session 40, anchor, each position at its own HF, on decisions 19 and 21: 22.147202M at UST's 0.862324, was
    # 17.106119M at 0.862257: hf1.10's positions above m / d kept LUNA in round 0 and come due again in round 1)
    assert r1["H"][anchor] - r1["before"]["H"][anchor] == pytest.approx(22.147202e6, rel=1e-7)
    assert r1["before"]["P"] == pytest.approx(0.862324, abs=1e-6)
    assert r1["H"].sum() == pytest.approx(r1["before"]["supply"], rel=1e-12)


@settings(max_examples=10, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(luna=st.floats(-0.95, -0.25), runs=st.sampled_from([0.0, 0.5, 1.0]),
       terra_failed=st.booleans(), btc=st.floats(-0.5, 0.0))
@example(luna=-0.3207, runs=1.0, terra_failed=True, btc=0.0)  # the ledger pair's shallower point
@example(luna=-0.5, runs=0.0, terra_failed=False, btc=0.0)  # the holders' own UST runs out (below)
def test_liquidations_add_no_ust_beyond_the_supply_and_move_no_sellers_equity(luna, runs, terra_failed, btc):
    # Whatever the shock: a liquidation step leaves the network holding no more UST beyond the supply than before,
    # but where the holders on their own account have sold every unit they had (left as before: LUNA -50% without
    # runs, round 4, 1.729M UST repaid beyond it, the holders having redeemed theirs and Anchor, TERRA_CHAIN and the
    # Curve pool holding the rest); and the sellers' equity marked at UST's price does not move (a sale at the market
    # price): every entity but the protocols, which take the repayments and their fees.
    sc = Scenario(price_shocks={"LUNA": luna, "BTC": btc}, run_intensity=runs, horizon=8,
                  forced_defaults=["TERRA_CHAIN"] if terra_failed else [])
    others = np.setdiff1d(np.arange(len(IDS)), PROTOCOLS)
    for seen in _liquidations(sc):
        before, supply = seen["before"], seen["before"]["supply"]
        beyond, beyond_before = seen["H"].sum() - supply, before["H"].sum() - supply
        if beyond > max(beyond_before, 0.0) + 1e-12 * supply:
            assert seen["left"] == 0.0
        price = before["P"]
        marked, marked_before = (seen["oa"] + seen["H"] * price)[others], (before["oa"] + before["H"] * price)[others]
        assert marked == pytest.approx(marked_before, rel=1e-12, abs=1e-3)


def test_the_terra_chain_pair_s_loss_rises_once_the_repaid_units_are_bought():
    # monotone-2022-ftt-luna-terra-chain-failed-full-runs-365: before, the liquidators' 1,104.6M UST repaid to Anchor
    # were units no holder gave up beyond the 1,000M TERRA_CHAIN's failure put outside; the network ended holding
    # 617.48M UST against a supply of 0 (shallower) and 615.59M against 141.18M (deeper), those units redeemed as
    # its own, and the loss fell $45.61M ($45.3852bn -> $45.3396bn). Now the network ends holding exactly the supply
    # at both depths and the loss rises $66.45M ($45.3126bn -> $45.3791bn); the bad debt left open is the entry's.
    # Since session 30 (s30-anchor: Anchor's collateral seized at its queue's price) the loss rises $65.69M
    # ($45.3192bn -> $45.3849bn) and the entry passes (its ledger `fixed`).
    case = next(e for e in load_regressions() if e["id"] == "monotone-2022-ftt-luna-terra-chain-failed-full-runs-365")
    points = depth_points(tuple(case["assets"]), case["depths"])
    br = simulate_batch(network("shipped"), [at_point(Scenario.model_validate(case["scenario"]), p, "price")
                                             for p in points])
    assert br.total_loss[1] > br.total_loss[0]
    # (session 33, anchor: $45.3148bn -> $45.3908bn with ANCHOR's UST debt at $1; it still rises)
    # (session 34, anchorfee: $45.3193bn -> $45.3943bn with the queue's 1% liquidator fee; it still rises)
    # (session 39, anchor: $45.3125bn -> $45.4041bn with the queue's contract amount; it still rises, +$91.6M)
    # Decision 21 (session 40, crvust; split with benchmarks/rule_counterfactual.py's band:0, which gives main's
    # 45.3193 / 45.3943): UST's holders leave only on the discount beyond the 0.5 % band, (1 + 1)(0.995 - q). In
    # round 0 the shallower's holders redeem less and UST closes it at 0.962373 against 0.952975 (LUNA $46.45
    # against $45.55; the deeper's 0.950862 either way); round 1's defence lifts the deeper to 0.998512 against
    # 0.984044, and the spiral is slower at both depths (UST at round 3's close 0.942095 / 0.899810 against
    # 0.920393 / 0.851106, at round 5's 0.875411 / 0.680165 against 0.734635 / 0.590474): $45.3193bn -> $45.2776bn and
    # $45.3943bn -> $45.3772bn; the pair still rises (+$99.62M, was +$75.04M).
    # Session 40 (anchor, the queue's contract amount with each position at its own HF, on decisions 19 and 21; re-measured
    # on the merged tree): $45.2776bn -> $45.2809bn and $45.3772bn -> $45.3774bn, it still rises, +$96.5M; ANCHOR's
    # round-0 liquidations $259.05M / $270.87M -> $366.74M / $382.55M, UST 0.962373 / 0.950862 -> 0.950891 / 0.950480
    # and LUNA $46.45 / $44.95 -> $44.99 / $44.55 after round 0; at the shallower depth LFG +$6.01M, STABLE_HOLDERS
    # +$4.93M, ANCHOR_DEPOSITORS -$5.05M.
    # Session 43 (terrapace, the arbitrage's range unfollowed: LFG's buy-back of the units arbitrage sold into the Curve
    # pool lifts UST none): $45.2809bn -> $45.3212bn at the shallower depth (+$40.32M), the deeper's unchanged; it
    # still rises, +$56.22M (was +$96.54M). Round 1's lifts (0.950891 -> 0.998945 / 0.950480 -> 0.977895) changed
    # nothing, UST closing round 1 at the same price either way (LUNA's cover bound the redemptions); round 2's, at the
    # shallower depth only, 0.947953 -> 0.978305, set its holders' exit share. Without it the shallower's spiral runs
    # faster (UST at round 3's close 0.941380 -> 0.911488, round 5's 0.865615 -> 0.719807, round 7's 0.612920 ->
    # 0.539345) and ends 0.490855 -> 0.488604: STABLE_HOLDERS +$20.12M, ANCHOR_DEPOSITORS +$11.10M, LFG +$7.27M. The
    # deeper's losses are the same to the bit.
    # Decision 29 (Session 46 (defender)): LFG, UST's reserve, is paid the LUNA minted for the UST it redeems and keeps
    # it (LUNA ends $0.2771 / $0.2408), its defence sells none of it and the queue none of its UST: LFG's equity at the
    # end $2,796.67M / $2,786.21M -> $431.40M / $403.09M; UST closes 0.488604 / 0.482453 -> 0.489383 / 0.483517:
    # $45.3212bn -> $47.6416bn and $45.3774bn -> $47.7133bn; the pair still rises, +$71.73M (was +$56.22M)
    assert br.total_loss / 1e9 == pytest.approx([47.6416, 47.7133], abs=1e-4)
    assert br.defaulted.sum(1).tolist() == [9, 9]
