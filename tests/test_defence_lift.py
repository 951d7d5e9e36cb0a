"""A reserve's purchase lifts its pegged token by the purchase's own move of the pool (core.engine.defend.defend_pegs),
worked on the 2022 network's Curve UST pool and LFG."""

from __future__ import annotations

import numpy as np
import pytest

import core
from core.engine import compile_network, defend, exogenous, scenario_batch
from core.engine.state import initial_state
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
