"""A reserve buying back the units arbitrage sold into its coin's pool lifts the coin none (core.engine.pool_arbitrage.arbitrage
keeps the prices its sale took the pool down through as the pool's unfollowed range; core.engine.defend.defend_pegs),
worked on the 2022 network's Curve UST pool and LFG, and on the ledger's pair whose cause it was."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import core
from core.engine import compile_network, defend, pool_arbitrage, pools, scenario_batch
from core.engine.rounds import STEPS
from core.engine.state import initial_state
from core.mechanisms._checks import trusted
from core.scenario import Scenario

sys.path.insert(0, str(Path(__file__).resolve().parent))

from depth_points import at_point, depth_points  # noqa: E402
from invariants_support import load_regressions, network  # noqa: E402

NET = core.datasets.load("crypto-2022-05")
PAIR = "monotone-shipped-btc-cel-luna-stable-holders-failed-full-runs-lag1-capital-50m-horizon"


def _arbitraged_then_defended(market_price: float, outside_units: float):
    """UST at ``market_price`` (its mint-and-burn price) under its Curve pool at peg, ``outside_units`` of it held
    outside the network: the round's arbitrage sells them into the pool (at most down to UST's price), and LFG
    buys the pool back: (UST after the purchase; the pool's price before, after the arbitrage, after the purchase;
    the units the arbitrage sold into the pool, the units LFG bought)."""
    c = compile_network(NET)
    b = scenario_batch(NET, [Scenario()])
    s = initial_state(c, b)
    i, a = list(c.ids).index("LFG"), list(c.symbols).index("UST")
    p = list(c.pool_asset).index(a)
    s.supply[0, a] += outside_units - float(pools.unheld_units(c, s.H, s.supply)[0, p])
    s.P[0, a] = market_price
    px0, res0 = float(s.pool_px[0, p]), float(s.pool_res[0, p, 0])
    s.apply(pool_arbitrage.arbitrage(c, s, b, 1))
    px1, res1, units0 = float(s.pool_px[0, p]), float(s.pool_res[0, p, 0]), float(s.H[0, i, a])
    s.apply(defend.defend_pegs(c, s, b, 1))
    return float(s.P[0, a]), px0, px1, float(s.pool_px[0, p]), res1 - res0, float(s.H[0, i, a]) - units0


def test_buying_back_what_arbitrage_sold_lifts_the_coin_none():
    # UST trades at 0.95 (its redemption's price) under its Curve pool at peg; 1bn UST held outside the network.
    # Arbitrageurs sell 298.67M of them into the pool, down to 0.95, the coin's price: the coin stays where it was.
    # LFG then buys back 297.59M UST, lifting the pool to 0.999985: UST stays at 0.95. (Before, the coin traded at
    # its pool's price after the arbitrage and rose with the purchase to the pool's, 0.999985: the round trip of
    # the same units through the pool lifted it.)
    after, px0, px1, px2, into_pool, bought = _arbitraged_then_defended(0.95, 1e9)
    assert px0 == 1.0 and px1 == pytest.approx(0.95, rel=1e-12)
    assert into_pool == pytest.approx(298.67e6, rel=1e-4) and bought == pytest.approx(297.59e6, rel=1e-4)
    assert px2 == pytest.approx(0.999985, abs=1e-6)
    assert after == 0.95


def test_where_outside_units_run_out_the_purchase_lifts_the_coin_none_either():
    # The same with only 100M UST held outside: the arbitrage sells all of them and leaves the pool at 0.998314,
    # above UST's 0.95; LFG buys 99.79M back, to 0.999997, and UST stays at 0.95 (before: lifted by its own move
    # of the pool, 0.95 * 0.999997 / 0.998314 = 0.951601). Both ways the same: the lift no longer turns on whether
    # the units held outside sufficed to take the pool down to the coin.
    after, px0, px1, px2, into_pool, bought = _arbitraged_then_defended(0.95, 1e8)
    assert into_pool == pytest.approx(1e8, rel=1e-12) and bought == pytest.approx(99.79e6, rel=1e-4)
    assert px1 == pytest.approx(0.998314, abs=1e-6)
    assert px2 == pytest.approx(0.999997, abs=1e-6)
    assert after == 0.95


def _pair_defences(rounds: int = 12, pair: str = PAIR):
    """A ledger pair's two runs (shallower, deeper; ``PAIR`` unless another is named), round by round: UST's price
    before and after LFG's defence and LFG's UST bought in it, each (rounds, 2)."""
    case = next(e for e in load_regressions() if e["id"] == pair)
    points = depth_points(tuple(case["assets"]), case["depths"])
    scs = [at_point(Scenario.model_validate(case["scenario"]), pt, case["mode"]) for pt in points]
    net = network(case["network"])
    c = compile_network(net)
    b = scenario_batch(net, scs)
    s = initial_state(c, b)
    i, a = list(c.ids).index("LFG"), list(c.symbols).index("UST")
    out = np.zeros((3, rounds, 2))
    with trusted():
        for r in range(rounds):
            for step in STEPS:
                if step is defend.defend_pegs:
                    out[0, r], units = s.P[:, a], s.H[:, i, a].copy()
                changes = step(c, s, b, r)
                if changes:
                    s.apply(changes)
                if step is defend.defend_pegs:
                    out[1, r], out[2, r] = s.P[:, a], s.H[:, i, a] - units
    return out


def test_the_ledger_pair_lfg_buys_back_and_lifts_ust_none():
    # monotone-shipped-btc-cel-luna-...-capital-50m-horizon (BTC -38.70 / -38.96 %, CEL -72.13 / -72.25 %, LUNA
    # -34.31 / -34.58 %, STABLE_HOLDERS failed, full runs, oracle lag 1, liquidity 0.84, capital $50M). Each round
    # the mint-and-burn redemptions mark UST down below its pool, the arbitrage sells the units held outside into
    # the pool, and LFG buys the pool back up. Before, where the outside units took the pool all the way down to
    # UST, LFG's purchase lifted UST with the pool (round 1: 0.978803 -> 0.999983 / 0.970740 -> 0.999982), and where
    # they ran out above it, by the purchase's own move: in round 7 the deeper run's pool, already at 0.992995 from
    # its queue sale of round 6, took 98.86M of 210.18M units held outside down to UST's 0.932357, and LFG's 98.68M
    # UST lifted UST to 0.992977; the shallower's pool, at 0.998422, took its last 96.53M units and stopped at
    # 0.994488, so its 103.53M lifted UST from 0.933885 to 0.937719 only. The deeper run's holders saw the smaller
    # discount and its spiral ran slower: system loss $854.57M lower at 12 rounds, $25.91M at 365. Now no purchase
    # of the pair lifts UST beyond rounding, and LFG buys in every round 1-9 of both runs. (In rounds 5, 7 and 9 the
    # pool's price as the defence reads it is a few ulps under the range's low, the price the arbitrage's own solve
    # gave, e.g. 0.9305256897613086 against 0.930525689761309 in round 5 at the shallower depth: the purchase's
    # part below the range lifts UST by that, at most 2.0e-15 of its price.)
    before, after, bought = _pair_defences()
    assert (bought[1:10] > 1e6).all()
    assert after[:, 0] == pytest.approx(before[:, 0], rel=1e-14) and after[:, 1] == pytest.approx(before[:, 1], rel=1e-14)
    assert after[1].tolist() == before[1].tolist() == pytest.approx([0.978803, 0.970740], abs=1e-6)
    # Decision 29 (Session 46 (defender)): the queue sells none of LFG's bought UST back into CRV_UST (rounds 2-6:
    # 31.27M, 43.27M, 51.99M, 57.46M, 34.72M at the shallower depth before), LFG takes the LUNA minted for the UST it
    # redeems instead of the window's cash and its defence sells none of its LUNA (0.19-0.28M a round before): UST
    # at round 6's close (round 7's defence's before) 0.808319 / 0.735114 -> 0.831139 / 0.765869
    assert before[7].tolist() == pytest.approx([0.831139, 0.765869], abs=1e-6)
