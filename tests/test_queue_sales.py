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
    """The deeper point of ``monotone-shipped-wbtc-luna-btc-steth-depeg-runs-lag2`` without runs, run 30 rounds: the
    units holders may redeem on their own account run out in round 23 (decision 21; 22 before it), and the queue grows from then on. Anchor's
    depositors leave UST below peg at ``(1 + run)(1 - q)`` (core.engine.withdraw.coin_exit_share) whatever the run
    intensity, so even at intensity 0 the UST they withdraw refills what holders may redeem: own-account UST falls
    from $4,391.26M (round 0) by $14M to $731M a round to $20.10M in round 21 ($2,022.24M in round 9). (Before
    session 33 (s32-coinexit) the exits ran only where a batch-mate had a run intensity: alone, Anchor's UST stayed
    owed to its depositors and own-account UST ran out in round 8 of 12; with the entry's runs, 0.5, it never runs
    out within 12 rounds.)"""
    case = next(e for e in json.loads(REGRESSIONS.read_text(encoding="utf-8"))
                if e["id"] == "monotone-shipped-wbtc-luna-btc-steth-depeg-runs-lag2")
    point = {a: d[1] for a, d in case["depths"].items()}
    net = network("shipped")
    return _trace(net, at_point(Scenario.model_validate(case["scenario"] | {"run_intensity": 0.0, "horizon": 30}),
                                point, "price"))


def test_price_falls_with_the_queue_once_nothing_can_redeem(exhausted):
    # From round 21 no own-account UST is left (0 units; $32.90M in round 20), nothing redeems and nothing sells, and
    # the queue grows ($54.55M in round 21, $630.13M in round 29). UST trades at most at what a redemption of the
    # whole queue realises at LUNA's market cap, 1 / (1 + Q / MC): above the pool's price in rounds 21-25,
    # binding from round 26 as the queue grows and LUNA's cap falls ($5.126bn to $4.179bn): 0.9274, 0.9117,
    # 0.8925, 0.8690 in rounds 26-29. (Session 39 (anchor), the queue's contract amount: all of a bLUNA cohort's LUNA
    # past HF m / d sold at once, the rest to the safe ratio, so more LUNA is sold sooner, LUNA's cap is lower and the
    # queue larger when nothing can redeem: before, $75.78M in round 20, the queue $18.78M to $590.24M, 0.99720
    # against 0.94159 in round 21, closes 0.9335, 0.9192, 0.9016, 0.8800. Session 34 (anchorfee), the queue's 1% liquidator fee beside its bid fee, more
    # LUNA seized and sold a UST repaid: before, $88.69M in round 20, the queue $10.89M to $580.04M, 0.99838 against
    # 0.94181 in round 21, closes 0.9351, 0.9211, 0.9039, 0.8829. Session 33 (anchor), ANCHOR's UST debt weighed at $1: before, dry from round 22
    # ($20.10M in round 21), the queue $67.58M to $552.83M, binding from round 27 at 0.9260, 0.9100, 0.8903. Before
    # session 33 (s32-coinexit) Anchor's depositors left UST below peg only beside a
    # batch-mate with a run intensity; alone the scenario's own-account UST ran out in round 8 and rounds 9-11 closed
    # at 0.9537, 0.9133, 0.8489; 0.9562, 0.9164, 0.8537 before session 30 (s30-anchor) seized Anchor's collateral at
    # its queue's price, 1.6% more LUNA a UST repaid; before the liquidators bought the UST they repay to Anchor from
    # its holders, core.engine.repaid_units, 0.9560, 0.9486, 0.9046; with the entry's runs before Anchor's depositors
    # left UST below peg, rounds 7-9: 0.9030, 0.8115, 0.7031.)
    # Session 38/39 (decision 21, measured by s39-crvust: with the band set to 0 the figures above come back): the
    # holders and Anchor's depositors leave only on the discount beyond the calm band, so own-account UST lasts two
    # rounds longer ($59.55M in round 22, dry from round 23), the queue grows $26.01M -> $443.11M in rounds 23-29, and
    # the bound (0.99600 against 0.93651 in round 23) binds from round 28: closes 0.9336, 0.9326, 0.9299, 0.9155 in
    # rounds 26-29.
    seen, _ = exhausted
    dry = [(r, before, after) for r, before, after in seen if before["own"] == 0.0]
    assert [r for r, _, _ in dry] == list(range(23, 30))
    for _r, before, after in dry:
        assert before["queue"] > 0
        assert after["queue"] == before["queue"]  # no one could sell: the queue stays
        worked = 1.0 / (1.0 + before["queue"] / before["mcap"])
        assert after["P"] == pytest.approx(min(before["P"], worked), rel=1e-12)
    assert all(worked_binds == (r >= 28) for r, worked_binds in
               ((r, 1.0 / (1.0 + b_["queue"] / b_["mcap"]) < b_["P"]) for r, b_, _ in dry))
    # (r >= 28 since decision 21; it was r >= 26)
    closes = [after["P"] for _, _, after in dry]
    assert all(b < a for a, b in zip(closes, closes[1:]))
    # session 40 (anchor, the queue's contract amount on decisions 19 and 21; session 39 (anchor) measured 0.9274,
    # 0.9117, 0.8925, 0.8690 on the tree without them): 0.9336, 0.9326, 0.9299, 0.9155 -> 0.9333, 0.9323, 0.9260,
    # 0.9108: ANCHOR's round-2 liquidations $318.35M -> $452.82M (its bLUNA positions past HF m / d sell all of their
    # LUNA at once; none in rounds 3-4, $73.30M / $20.11M before), UST 0.973936 -> 0.969568 and LUNA $47.968 -> $47.329
    # after round 2; Anchor's depositors leave the cheaper UST faster, so the queue is larger when it binds from round
    # 28 and UST ends 0.915493 -> 0.910753 (ANCHOR_DEPOSITORS +$15.90M, LP_PROVIDERS +$9.74M)
    assert closes[-4:] == pytest.approx([0.9333, 0.9323, 0.9260, 0.9108], abs=1e-4)  # were 0.9335, 0.9192, 0.9016, 0.8800


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
