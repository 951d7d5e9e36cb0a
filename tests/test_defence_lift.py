"""A reserve's purchase lifts its pegged token by the purchase's own move of the pool (core.engine.defend.defend_pegs),
worked on the 2022 network's Curve UST pool and LFG."""

from __future__ import annotations

import numpy as np
import pytest

import core
from core.engine import compile_network, defend, exogenous, queue_sales, scenario_batch
from core.engine.state import initial_state
from core.engine.unfollowed import UNFOLLOWED_RANGES, empty_ranges
from core.scenario import Scenario

NET = core.datasets.load("crypto-2022-05")


def _defended(sale_usd: float, market_price: float | None):
    """UST sold into its pool in round 0 (``sale_usd``), UST's market price then set to ``market_price`` (None: it
    stays at the pool's price), and LFG's defence in round 1: (UST before, after, pool price before, after, the
    pool's price in USD after, units LFG bought)."""
    c = compile_network(NET)
    b = scenario_batch(NET, [Scenario(pool_sales_usd={"UST": sale_usd})])
    s = initial_state(c, b)
    s.apply(exogenous.exogenous(c, s, b, 0))
    i, a = list(c.ids).index("LFG"), list(c.symbols).index("UST")
    p = list(c.pool_asset).index(a)
    if market_price is not None:
        s.P[0, a] = market_price  # as the mint-and-burn step or the queue's value leaves it, below its pool's price
    before, px0, units0 = float(s.P[0, a]), float(s.pool_px[0, p]), float(s.H[0, i, a])
    changes = defend.defend_pegs(c, s, b, 1)
    s.apply(changes)
    cu = c.pool_counter[p]
    move = s.P[0, cu] / c.P0[cu] if cu >= 0 else 1.0
    at_pool = c.P0[a] * s.pool_px[0, p] / c.pool_ref[p] * move
    return before, float(s.P[0, a]), px0, float(s.pool_px[0, p]), float(at_pool), float(s.H[0, i, a]) - units0


def test_a_small_purchase_lifts_a_token_below_its_pool_by_its_own_move():
    # $1M of UST sold into the $700M Curve pool leaves it a hair below peg; UST itself trades at 0.90 (its
    # redemption's price). LFG buys the ~1M UST that lift the pool back to peg: the pool's price rises by
    # px1 / px0 (about 3e-5), and so does UST: 0.90 -> 0.90 * px1 / px0, not the pool's $1.00 (before: any
    # positive spend set it to the pool's price, 0.90 -> 1.00 for a $1M purchase; on the 2022 network LFG's
    # purchase of 3 UST lifted UST from 0.958 to 1.000).
    before, after, px0, px1, at_pool, bought = _defended(1e6, 0.90)
    assert 0 < bought < 2e6
    assert px0 < px1 and px1 / px0 - 1 < 1e-4
    assert after == pytest.approx(0.90 * px1 / px0, rel=1e-12)
    assert after < 0.9001 < at_pool


def test_a_token_at_its_pool_price_rises_with_the_pool():
    # 2bn UST sold into the pool: UST trades at the pool's price; LFG's purchase lifts both to (near) peg
    before, after, px0, px1, at_pool, bought = _defended(2e9, None)
    assert before < 0.99 and bought > 1e9
    assert after == pytest.approx(at_pool, rel=1e-12)
    assert after == pytest.approx(before * px1 / px0, rel=1e-9)
    assert 0.9999 <= after <= 1.0 + 1e-12


def test_no_purchase_no_lift():
    # the pool exactly at its reference and UST at 0.90: nothing to buy, UST stays where it is
    c = compile_network(NET)
    b = scenario_batch(NET, [Scenario()])
    s = initial_state(c, b)
    a = list(c.symbols).index("UST")
    s.P[0, a] = 0.90
    out = defend.defend_pegs(c, s, b, 1)
    assert "pool_res" not in out
    assert np.asarray(out.get("P", s.P))[0, a] == 0.90


def test_an_algorithmic_coin_is_lifted_at_most_to_what_its_queue_realises():
    # 2bn UST sold into the pool (UST at the pool's price, ~0.94) with $1bn of redemptions queued against LUNA's
    # $19bn market cap: the queue realises 1 / (1 + 1/19) = 0.95 a UST. LFG's purchase lifts the pool to peg, and
    # UST to 0.95, not $1.00: the purchase changes neither the queue nor LUNA's cap (before: 1.00, and whether a
    # queue sale had taken the pool down to UST's price decided a $1.238bn fall of loss,
    # monotone-shipped-luna-steth-aave-alt-failed-runs-lag1-capital-500m).
    c = compile_network(NET)
    b = scenario_batch(NET, [Scenario(pool_sales_usd={"UST": 2e9})])
    s = initial_state(c, b)
    s.apply(exogenous.exogenous(c, s, b, 0))
    a, luna = list(c.symbols).index("UST"), list(c.symbols).index("LUNA")
    p = list(c.pool_asset).index(a)
    s.algo_queue[0, a], s.log_mcap[0, luna] = 1e9, np.log(19e9)
    before = float(s.P[0, a])
    s.apply(defend.defend_pegs(c, s, b, 1))
    assert before < 0.95 and s.pool_px[0, p] >= c.pool_ref[p] * (1 - 1e-4)
    assert s.P[0, a] == pytest.approx(0.95, rel=1e-12)


def _queue_sold_then_defended(market_price: float, queue_usd: float, luna_cap_usd: float = 19e9):
    """UST at ``market_price``, ``queue_usd`` of redemptions queued against LUNA's cap: the queue's holders
    sell into the Curve pool (core.engine.queue_sales.sell_unserved_queue) in round 0, and LFG buys the pool back
    in round 1: (UST before the sale, after it, after LFG's purchase; the pool's price before, after the sale,
    after the purchase; the units the sale put into the pool, the units LFG bought)."""
    c = compile_network(NET)
    b = scenario_batch(NET, [Scenario()])
    s = initial_state(c, b)
    i, a, luna = list(c.ids).index("LFG"), list(c.symbols).index("UST"), list(c.symbols).index("LUNA")
    p = list(c.pool_asset).index(a)
    s.P[0, a], s.algo_queue[0, a], s.log_mcap[0, luna] = market_price, queue_usd, np.log(luna_cap_usd)
    px0, res0 = float(s.pool_px[0, p]), float(s.pool_res[0, p, 0])
    s.apply(queue_sales.sell_unserved_queue(c, s, b, 0))
    sold_price, px1, res1, units0 = float(s.P[0, a]), float(s.pool_px[0, p]), float(s.pool_res[0, p, 0]), float(s.H[0, i, a])
    s.apply(defend.defend_pegs(c, s, b, 1))
    return (market_price, sold_price, float(s.P[0, a]), px0, px1, float(s.pool_px[0, p]), res1 - res0,
            float(s.H[0, i, a]) - units0)


def test_buying_back_a_queue_sale_the_token_did_not_follow_lifts_it_none():
    # UST trades at 0.90 (its redemption's price) under its Curve pool at peg (LFG's purchases keep it there).
    # $200M of queued redemptions against LUNA's $19bn cap realise 1 / (1 + 0.2 / 19) = 0.98958 a UST: the queued
    # holders sell their 200M UST into the pool, which falls to 0.99380, still above UST's 0.90, so UST stays at
    # 0.90. LFG then buys 199.4M UST back, lifting the pool to 0.99999: UST stays at 0.90. (Before, the purchase
    # lifted UST by its own move of the pool, to 0.90 * 0.99999 / 0.99380 = 0.9056: the round trip of the same
    # units through the pool raised UST. On the 2022 network with LUNA -33.74% -> -33.79% and WBTC -59.36% ->
    # -59.39%, runs 0.5, oracle lag 1, that lift in the last round with redemptions set UST's close, 0.775 ->
    # 0.813, and loss fell $458.5M, monotone-shipped-luna-wbtc-half-runs-lag1-capital-50m.)
    before, sold, after, px0, px1, px2, into_pool, bought = _queue_sold_then_defended(0.90, 2e8)
    assert into_pool == pytest.approx(2e8, rel=1e-12)
    assert px1 == pytest.approx(0.99380, abs=1e-5) and px2 == pytest.approx(0.99999, abs=1e-5)
    assert bought == pytest.approx(199.4e6, rel=1e-3)
    assert sold == before == 0.90
    assert after == 0.90


def test_a_purchase_lifts_the_token_by_the_part_of_the_pool_it_followed_down():
    # A queue sale took the pool from 1.00 to 0.52 while its coin, at 0.535 in pool terms, followed it only from
    # 0.535 down (the 2022 network's UST, LUNA -33.45%, full runs, round 8): the range the coin did not follow is
    # [0.535, 1.00]. A purchase from 0.52 to 1.00 lifts the coin by 0.535 / 0.52 (back to 0.535), not 1.00 / 0.52;
    # one from 0.60 to 0.80 (inside the range) by nothing, and leaves [0.80, 1.00]; one from 0.52 to 0.53 (below
    # it) by all of its move, leaving the range as it was.
    none = empty_ranges((1,))  # (1, UNFOLLOWED_RANGES, 2): the first slot holds the range, the others are empty

    def one(low: float, high: float) -> list:
        return [[[low, high]] + [[0.0, 0.0]] * (UNFOLLOWED_RANGES - 1)]

    held = queue_sales.unfollowed_range(none, np.array([1.0]), np.array([0.52]), np.array([0.535]), np.array([True]))
    assert held.tolist() == one(0.535, 1.0)
    assert queue_sales.unfollowed_range(none, np.array([1.0]), np.array([0.52]), np.array([0.40]),
                                        np.array([True])).tolist() == one(0.52, 1.0)  # a coin below the pool stays
    factor, left = queue_sales.lift_outside_unfollowed(held, np.array([0.52]), np.array([1.0]))
    assert 0.52 * (1.0 / 0.52) / factor[0] == pytest.approx(0.535, rel=1e-12) and left.tolist() == one(0.0, 0.0)
    factor, left = queue_sales.lift_outside_unfollowed(held, np.array([0.60]), np.array([0.80]))
    assert factor[0] == pytest.approx(0.80 / 0.60, rel=1e-12) and left.tolist() == one(0.80, 1.0)
    factor, left = queue_sales.lift_outside_unfollowed(held, np.array([0.52]), np.array([0.53]))
    assert factor[0] == 1.0 and left.tolist() == held.tolist()
    # a later sale from 0.80 down to 0.70, the coin below: the ranges touch and join
    merged = queue_sales.unfollowed_range(np.array(one(0.80, 1.0)), np.array([0.80]), np.array([0.70]),
                                          np.array([0.50]), np.array([True]))
    assert merged.tolist() == one(0.70, 1.0)
