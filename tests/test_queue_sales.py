"""Holders queued to redeem UST who cannot be served sell into its Curve pool (core.engine.queue_sales), worked on
the 2022 network."""

from __future__ import annotations

import json

import numpy as np
import pytest

import core
import core.engine.rounds as rounds
from core.engine import queue_sales
from core.engine.redemptions import redeemable_units
from core.scenario import Scenario
from invariants_support import REGRESSIONS, at_point, network


def _trace(net, scenario):
    """Each round's queue-sale step: (round, before, after, own units before) of UST on the 2022 network."""
    syms = list(net.assets["symbol"])
    a, luna = syms.index("UST"), syms.index("LUNA")
    seen = []

    def step(c, s, b, r):
        p = list(c.pool_asset).index(a)
        base, outside = redeemable_units(c, s.H, s.ik_left, s.supply[:, a], a)
        before = dict(P=s.P[0, a], queue=s.algo_queue[0, a], mcap=np.exp(s.log_mcap[0, luna]), H=s.H[0, :, a].copy(),
                      oa=s.oa[0].copy(), res=s.pool_res[0, p].copy(), own=base[0].sum() + outside[0],
                      pool_entity=c.pool_entity[p])
        out = queue_sales.sell_unserved_queue(c, s, b, r)
        seen.append((r, before, dict(P=np.asarray(out.get("P", s.P))[0, a], H=s.H[0, :, a].copy(),
                                     queue=np.asarray(out.get("algo_queue", s.algo_queue))[0, a],
                                     oa=np.asarray(out.get("oa", s.oa))[0].copy(),
                                     res=np.asarray(out.get("pool_res", s.pool_res))[0, p].copy())))
        return out

    steps = tuple(step if f is queue_sales.sell_unserved_queue else f for f in rounds.STEPS)
    mp = pytest.MonkeyPatch()
    mp.setattr(rounds, "STEPS", steps)
    try:
        res = core.simulate(net, scenario)
    finally:
        mp.undo()
    return seen, res


@pytest.fixture(scope="module")
def exhausted():
    """The deeper point of ``monotone-shipped-wbtc-luna-btc-steth-depeg-runs-lag2`` without runs: the units holders
    may redeem on their own account run out in round 9 (Anchor's UST stays owed to its depositors, who do not run),
    and the queue grows from then on. (With the entry's runs, 0.5, Anchor's depositors leave UST every round it is
    below peg, core.engine.withdraw.coin_exit_share, and own-account UST never runs out within the 12 rounds; before
    that run it ran out in round 7.)"""
    case = next(e for e in json.loads(REGRESSIONS.read_text(encoding="utf-8"))
                if e["id"] == "monotone-shipped-wbtc-luna-btc-steth-depeg-runs-lag2")
    point = {a: d[1] for a, d in case["depths"].items()}
    net = network("shipped")
    return _trace(net, at_point(Scenario.model_validate(case["scenario"] | {"run_intensity": 0.0}), point, "price"))


def test_price_falls_with_the_queue_once_nothing_can_redeem(exhausted):
    # Rounds 9-11: no own-account UST is left (0 units), nothing redeems and nothing sells, and the queue grows.
    # UST trades at most at what a redemption of the whole queue realises at LUNA's market cap, 1 / (1 + Q / MC):
    # 0.9537, 0.9133, 0.8489 (0.9562, 0.9164, 0.8537 before session 30 (s30-anchor) seized Anchor's collateral at its
    # queue's price, 1.6% more LUNA a UST repaid). (Before the liquidators bought the UST they repay to Anchor from its holders,
    # core.engine.repaid_units, the holders kept those units and the closes were 0.9560, 0.9486, 0.9046; with the
    # entry's runs before Anchor's depositors left UST below peg, rounds 7-9: 0.9030, 0.8115, 0.7031.)
    seen, _ = exhausted
    late = [(before, after) for r, before, after in seen if r in (9, 10, 11)]
    assert len(late) == 3
    for before, after in late:
        assert before["own"] == 0.0 and before["queue"] > 0
        assert after["queue"] == before["queue"]  # no one could sell: the queue stays
        worked = 1.0 / (1.0 + before["queue"] / before["mcap"])
        assert after["P"] == pytest.approx(min(before["P"], worked), rel=1e-12)
    closes = [after["P"] for _, after in late]
    assert all(b < a for a, b in zip(closes, closes[1:]))
    assert closes == pytest.approx([0.9537, 0.9133, 0.8489], abs=1e-4)


@pytest.fixture(scope="module")
def capped():
    """LUNA -60%, full runs: the mint/burn capacity (925M a round) binds while holders still hold UST."""
    return _trace(core.datasets.load("crypto-2022-05"), Scenario(price_shocks={"LUNA": -0.6}, run_intensity=1.0, horizon=6))


def test_sellers_give_up_what_they_sell_and_receive_what_the_pool_pays(capped):
    seen, _ = capped
    sold_rounds = 0
    for _r, before, after in seen:
        into_pool = after["res"][0] - before["res"][0]  # UST units the pool took
        paid = before["res"][1] - after["res"][1]  # counter (USD) the pool paid
        pe = before["pool_entity"]
        others = np.arange(len(before["H"])) != pe
        given = before["H"][others] - after["H"][others]
        if into_pool == 0:
            assert (given == 0).all() and after["queue"] == before["queue"]
            continue
        sold_rounds += 1
        assert (given >= 0).all() and (after["H"] >= 0).all()
        assert into_pool <= before["own"] * (1 + 1e-12)  # never more than the queued holders hold
        # what the network's sellers gave up entered the pool (nothing is held outside the network here)
        assert given.sum() == pytest.approx(into_pool, rel=1e-9)
        received = after["oa"][others] - before["oa"][others]
        assert received.sum() == pytest.approx(paid, rel=1e-9)
        # each seller received the pool's average price on what it gave up, below what it gave up at par
        mine = given > 0
        assert received[mine] == pytest.approx(given[mine] * paid / into_pool, rel=1e-9)
        assert paid < into_pool
        # the queue fell by what was sold; the coin trades at most at the pool's new price and the queue's value
        assert after["queue"] == pytest.approx(before["queue"] - into_pool, rel=1e-9)
        assert after["P"] <= 1.0 / (1.0 + before["queue"] / before["mcap"]) * (1 + 1e-12)
    assert sold_rounds >= 1
