"""A redemption is given up by the holders who redeem (core.engine.redemptions), worked on the 2022 network."""

from __future__ import annotations

import numpy as np
import pytest

import core
import core.engine.rounds as rounds
from core.engine import defend
from core.engine.books import owed_in_kind_units
from core.engine.compiled import compile_network
from core.engine.redemptions import redeemable_units
from core.scenario import Scenario


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
    # UST is its depositors' and the Curve pool's its reserves. They give up the 925M burnt pro rata and receive
    # 1 / (1 + R / MC) a unit in cash, MC = 360M LUNA at $29.5172 = $10.626bn: 0.919922 a UST.
    ids, seen = luna_falls
    _, before, after = seen[0]
    given = before["H"] - after["H"]
    cash = after["oa"] - before["oa"]
    sh, lfg = ids.index("STABLE_HOLDERS"), ids.index("LFG")
    base = before["H"][sh] + before["H"][lfg]
    assert given[sh] == pytest.approx(925e6 * before["H"][sh] / base, rel=1e-12)
    assert given[lfg] == pytest.approx(925e6 * before["H"][lfg] / base, rel=1e-12)
    per_unit = 1.0 / (1.0 + 925e6 / before["mcap"])
    assert per_unit == pytest.approx(0.919922, abs=1e-6)
    assert cash[sh] == pytest.approx(given[sh] * per_unit, rel=1e-12)
    assert cash[lfg] == pytest.approx(given[lfg] * per_unit, rel=1e-12)
    for e in ("ANCHOR", "CRV_UST", "TERRA_CHAIN"):  # intermediaries and pools redeem none of what they owe
        assert given[ids.index(e)] == 0.0 and cash[ids.index(e)] == 0.0
    # nobody else is paid: the cash is what the redeemers realised, never more than the face they gave up
    assert cash.sum() == pytest.approx(given.sum() * per_unit, rel=1e-12)
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
