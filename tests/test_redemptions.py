"""A redemption is given up by the holders who redeem (core.engine.redemptions), worked on the 2022 network."""

from __future__ import annotations

import numpy as np
import pytest

import core
import core.engine.rounds as rounds
from core.engine import defend
from core.engine.books import owed_in_kind_units
from core.engine import simulate_batch
from core.engine.compiled import compile_network
from core.engine.redemptions import redeemable_units
from core.scenario import Scenario
from invariants_support import value_created_violation


@pytest.fixture(scope="module")
def net():
    return core.datasets.load("crypto-2022-05")


@pytest.fixture(scope="module")
def luna_falls(net):
    """Each round's UST redemption step on the 2022 network, LUNA -60%, full runs: (round, before, after) with
    the UST holdings (S, n), other assets, supplies and LUNA's market cap before the step."""
    ids, syms = list(net.entities["id"]), list(net.assets["symbol"])
    a, luna = syms.index("UST"), syms.index("LUNA")
    seen = []

    def step(c, s, b, r):
        mcap = np.minimum(np.exp(s.log_mcap[0, luna]), s.supply[0, luna] * s.P[0, luna])
        before = dict(H=s.H[0, :, a].copy(), oa=s.oa[0].copy(), supply=s.supply[0, a], mcap=mcap)
        out = defend.redeem_algorithmic(c, s, b, r)
        seen.append((r, before, dict(H=s.H[0, :, a].copy(), oa=np.asarray(out.get("oa", s.oa))[0].copy(),
                                     supply=out["supply"][0, a])))
        return out

    steps = tuple(step if f is defend.redeem_algorithmic else f for f in rounds.STEPS)
    mp = pytest.MonkeyPatch()
    mp.setattr(rounds, "STEPS", steps)
    try:
        core.simulate(net, Scenario(price_shocks={"LUNA": -0.6}, run_intensity=1.0, horizon=6))
    finally:
        mp.undo()
    return ids, seen


def test_units_held_fall_as_the_supply_is_burnt(luna_falls):
    # The network holds all 18.5bn UST at the reference; each round burns 925M (the mint/burn capacity, 5% of
    # the supply) and the holders give up exactly what is burnt. (Before: the supply fell to 12.95bn over six
    # rounds while the network kept every unit.)
    _, seen = luna_falls
    assert len(seen) == 6
    for _round, before, after in seen:
        burnt = before["supply"] - after["supply"]
        assert burnt == pytest.approx(925e6, rel=1e-12)
        assert before["H"].sum() - after["H"].sum() == pytest.approx(burnt, rel=1e-12)
        assert (after["H"] >= 0).all()


def test_a_holder_that_redeems_gets_what_the_mint_realises(luna_falls):
    # Round 0: only STABLE_HOLDERS (4,434,547,087 UST) and LFG (697,344) redeem on their own account; ANCHOR's
    # UST is its depositors' and the Curve pool's its reserves. They give up the 925M burnt pro rata; STABLE_HOLDERS
    # receive 1 / (1 + R / MC) a unit in cash and LFG, UST's reserve, none: it is paid in the LUNA minted for its
    # units, which it keeps (decision 29, Session 45 (defender): before, it received 145,436 x 0.919070 =
    # $133,666 in cash; its LUNA: tests/test_defender_keeps_minted.py), MC = 360M LUNA at $29.1795 = $10.505bn: 0.919070 a UST (session 39, anchor:
    # the queue's contract amount sells all of the LUNA of the bLUNA cohorts past HF m / d at LUNA -60% (HF 0.41-0.60
    # for hf1.02-hf1.50) where it sold half, so more LUNA is seized and sold before the step; was $29.5004, 0.919880;
    # session 34,
    # anchorfee: the queue keeps its 1% liquidator fee beside the bid fee, more LUNA seized and sold before the step;
    # was $29.5068, 0.919896; session 30: Anchor's queue seizes its collateral at its own price, was $29.5172,
    # 0.919922).
    ids, seen = luna_falls
    _, before, after = seen[0]
    given = before["H"] - after["H"]
    cash = after["oa"] - before["oa"]
    sh, lfg = ids.index("STABLE_HOLDERS"), ids.index("LFG")
    base = before["H"][sh] + before["H"][lfg]
    assert given[sh] == pytest.approx(925e6 * before["H"][sh] / base, rel=1e-12)
    assert given[lfg] == pytest.approx(925e6 * before["H"][lfg] / base, rel=1e-12)
    per_unit = 1.0 / (1.0 + 925e6 / before["mcap"])
    assert per_unit == pytest.approx(0.919070, abs=1e-6)
    assert cash[sh] == pytest.approx(given[sh] * per_unit, rel=1e-12)
    assert given[lfg] > 0 and cash[lfg] == 0.0
    for e in ("ANCHOR", "CRV_UST", "TERRA_CHAIN"):  # intermediaries and pools redeem none of what they owe
        assert given[ids.index(e)] == 0.0 and cash[ids.index(e)] == 0.0
    # nobody else is paid: the cash is what the redeemers but LFG realised, never more than the face they gave up
    assert cash.sum() == pytest.approx((given.sum() - given[lfg]) * per_unit, rel=1e-12)
    assert cash.sum() < given.sum()


def test_depositors_redeem_what_their_run_paid_them(luna_falls):
    # From round 1 Anchor's depositors, paid UST in kind by its run, redeem it as holders; Anchor still none.
    ids, seen = luna_falls
    dep, anchor = ids.index("ANCHOR_DEPOSITORS"), ids.index("ANCHOR")
    _, before, after = seen[1]
    assert before["H"][dep] > 1e9
    redeemers = before["H"] > 0
    redeemers[[anchor, ids.index("CRV_UST"), ids.index("TERRA_CHAIN")]] = False
    share = 925e6 / before["H"][redeemers].sum()
    assert before["H"][dep] - after["H"][dep] == pytest.approx(share * before["H"][dep], rel=1e-12)
    assert after["H"][anchor] == before["H"][anchor]


def test_an_exchange_redeems_only_what_it_holds_beyond_what_it_owes(net):
    # A reference-book in-kind debtor owes its customers owed_in_kind_units of each coin it held at the
    # reference; it may redeem only the rest (module docstring of core.engine.redemptions). dYdX holds 909M USDC
    # and owes its traders 899M of it: it may redeem 10M.
    c = compile_network(net)
    a, e = list(c.symbols).index("USDC"), list(c.ids).index("DYDX")
    H = np.repeat(c.H0[None], 1, 0)
    ik = c.ik_amount[None].copy()
    owed = owed_in_kind_units(c, ik, np.array([e]))[0, 0, a]
    assert owed == pytest.approx(899e6, rel=1e-9)
    base, outside = redeemable_units(c, H, ik, np.array([c.supply[a]]), a)
    assert base[0, e] == pytest.approx(10e6, rel=1e-6)
    H2 = H.copy()
    H2[0, e, a] = owed + 1e6  # a million beyond what it owes: that million alone
    assert redeemable_units(c, H2, ik, np.array([c.supply[a]]), a)[0][0, e] == pytest.approx(1e6, rel=1e-6)
    assert outside[0] == pytest.approx(max(c.supply[a] - H[0, :, a].sum(), 0.0))


def test_fiat_redemptions_are_paid_at_face_by_the_issuer(net):
    # 8% of Circle's reserves frozen for good, rails shut two days: on day 2 the rails pay their 2.34bn a day.
    # The holders on their own account give it up pro rata (Maker's PSM and FRAX hold their USDC for DAI's and
    # FRAX's holders: none of theirs) and receive $1 a coin; Circle pays it from its assets and owes it no more,
    # so its equity does not move. (Before: the supply shrank, nobody gave a coin up and nobody was paid.)
    from core.engine import reserves
    ids, syms = list(net.entities["id"]), list(net.assets["symbol"])
    a = syms.index("USDC")
    seen = []

    def step(c, s, b, r):
        before = dict(H=s.H[0, :, a].copy(), oa=s.oa[0].copy(), supply=s.fiat_supply[0, 0])
        out = reserves.fiat_reserves_round(c, s, b, r)
        seen.append((before, dict(H=s.H[0, :, a].copy(), oa=np.asarray(out.get("oa", s.oa))[0].copy(),
                                  supply=out["fiat_supply"][0, 0], redeemed=out.get("redeemed_usd", s.redeemed_usd)[0].copy())))
        return out

    sc = Scenario(horizon=4, round_hours=24.0, reserve_impairments={"CIRCLE": dict(
        fraction=0.08, reserve="cash", expected_recovery=0.0, rails_closed_rounds=2)})
    mp = pytest.MonkeyPatch()
    mp.setattr(rounds, "STEPS", tuple(step if f is reserves.fiat_reserves_round else f for f in rounds.STEPS))
    try:
        res = core.simulate(net, sc)
    finally:
        mp.undo()
    circle, psm, frax, sh = (ids.index(e) for e in ("CIRCLE", "MAKER_PSM", "FRAX", "STABLE_HOLDERS"))
    before, after = seen[2]
    paid = before["supply"] - after["supply"]
    assert paid == pytest.approx(2.34e9, rel=1e-12)
    given = before["H"] - after["H"]
    cash = after["oa"] - before["oa"]
    # Holders outside the network redeem at the same rate as those inside: the units not held in the network (since
    # decision 19, session 39: the USDC outside holders of UST took out of CRV_UST's quote side, $94.38M here) get
    # their pro-rata share of the day's payment, the network's holders the rest.
    outside = max(before["supply"] - before["H"].sum(), 0.0)
    rate = given[sh] / before["H"][sh]
    assert outside > 9e7 and given.sum() + rate * outside == pytest.approx(paid, rel=1e-9)
    assert given[psm] == 0.0 and given[frax] == 0.0
    assert cash[sh] == pytest.approx(given[sh], rel=1e-12) and given[sh] > 2e9
    assert cash[circle] == pytest.approx(-paid, rel=1e-12)
    assert after["redeemed"][circle] == pytest.approx(paid, rel=1e-12)
    assert seen[0][1]["H"].sum() == seen[0][0]["H"].sum()  # rails shut: nothing paid, nothing given up
    assert list(res.prices["USDC"])[2] < 1.0
    br = simulate_batch(net, [sc])
    assert br.equity[0, circle] == pytest.approx(br.initial_equity[circle], abs=1.0)
    assert value_created_violation("shipped", [sc]).size == 0.0


@pytest.mark.parametrize("luna", [0.3, 0.6, 0.9])
def test_redeemers_create_no_value(luna):
    # What a redeemer receives is at most the face it gives up (1 / (1 + y) <= 1 a UST): no entity gains beyond
    # what invariant 2 allows, and the system's value never rises in a fall.
    v = value_created_violation("shipped", [Scenario(price_shocks={"LUNA": -luna}, run_intensity=1.0)])
    assert v.size == 0.0, v.note
    assert v.detail["system"] == 0.0
