"""The pool prices a pool's counter's fall took the pool down through while its coin, below them, stayed
(core.engine.queue_sales.counter_fall, candidate decision 24): a reserve's purchase back up through them lifts the
coin none. Worked on the 2022 network's Curve UST pool (priced in USD over 3CRV's DAI, USDC and USDT in equal
thirds, decision 19) and LFG, through the engine's own steps: the round-0 opening (exogenous), round 1's
price_impact (where the pool caps UST at its dollar quote) and defend_pegs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st

import core
from core.engine import compile_network, defend, exogenous, queue_sales, scenario_batch, sell
from core.engine.pools import counter_move
from core.engine.state import initial_state
from core.scenario import Scenario

NET = core.datasets.load("crypto-2022-05")
C = compile_network(NET)
UST, DAI, USDT = (list(C.symbols).index(x) for x in ("UST", "DAI", "USDT"))
POOL = list(C.pool_asset).index(UST)
#: Where LFG's purchase takes the pool, in counter units, its budget binding short of the peg's 1.0416667 (half of
#: its reserve at UST 4 % under its peg, decision 22). Decision 29 (Session 46 (defender)): its defence sells none of
#: the LUNA it keeps, so the reserve it spends from is its BTC, USDT and USDC ($2,944.02M at the 6 May prices), not
#: those and its 1,691,261 LUNA ($3,074.24M): 1.0403120533789858 -> 1.0402928070893551 (UST's quote $0.998700 ->
#: $0.998681).
BOUGHT_TO = 1.0402928070893551


def _opened(sale_usd: float = 0.0):
    """The state after round 0's opening, with ``sale_usd`` of UST sold into its pool there."""
    b = scenario_batch(NET, [Scenario(pool_sales_usd={"UST": sale_usd})] if sale_usd else [Scenario()])
    s = initial_state(C, b)
    s.apply(exogenous.exogenous(C, s, b, 0))
    return s, b


def _quote(s) -> float:
    """The pool's dollar quote for UST: P0 * px / ref * counter move."""
    return float(C.P0[UST] * s.pool_px[0, POOL] / C.pool_ref[POOL] * counter_move(C, s.P)[0, POOL])


def test_the_counters_fall_is_recorded_at_the_counters_value_now():
    # DAI 1.00 -> 0.88 with USDC and USDT at par: a counter unit (a reference dollar of 3CRV's thirds) is worth
    # 0.96. The pool stays at its reference price 1.0 in counter units, its quote falls $1.00 -> $0.96. UST, at
    # $0.966, followed it from $0.966 down only: the range kept, in counter units at 0.96, is
    # [0.966 / 0.96, 1.00 / 0.96] = [1.00625, 1.0416667], and UST trades at the pool's quote, 0.96.
    s, b = _opened()
    assert s.pool_counter_seen[0, POOL] == 1.0 and s.pool_px[0, POOL] == 1.0
    s.P[0, UST] = 0.966
    s.P[0, DAI] = 0.88
    s.apply(sell.price_impact(C, s, b, 1))
    assert s.pool_counter_seen[0, POOL] == pytest.approx(0.96, rel=1e-15)
    assert s.pool_unfollowed[0, POOL, 0] == pytest.approx([0.966 / 0.96, 1.0 / 0.96], rel=1e-15)
    assert s.P[0, UST] == pytest.approx(0.96, rel=1e-15)


def test_a_purchase_does_not_lift_the_coin_through_the_counters_fall():
    # The same fall; LFG (UST 4 % under its peg: the whole half of its reserve, decision 22) buys the pool from 1.0
    # to 1.0402928 counter units (its quote $0.96 -> $0.99868; the budget binds short of the peg's 1.0416667).
    # The whole move lies in the range UST did not follow down but its first 1.00625: UST rises 0.96 ->
    # 0.96 * 1.00625 = 0.966, where it stood before DAI's fall. (Before: by the whole move, to $0.99868, inside
    # the calm band, so UST's holders stopped leaving: the s41-lead-2022 entry's -$1,306.86M.)
    s, b = _opened()
    s.P[0, UST] = 0.966
    s.P[0, DAI] = 0.88
    s.apply(sell.price_impact(C, s, b, 1))
    s.apply(defend.defend_pegs(C, s, b, 1))
    assert s.pool_px[0, POOL] == pytest.approx(BOUGHT_TO, rel=1e-12)
    assert _quote(s) == pytest.approx(0.96 * BOUGHT_TO, rel=1e-12)
    assert s.P[0, UST] == pytest.approx(0.966, rel=1e-14)
    # what is left of the range is above the pool: a later purchase on through it lifts UST none either
    assert s.pool_unfollowed[0, POOL, 0] == pytest.approx([BOUGHT_TO, 1.0 / 0.96], rel=1e-12)


def test_a_coin_that_followed_the_counters_fall_rises_with_the_pool():
    # UST at its pool's quote ($1.00) when DAI falls: it follows the whole fall to $0.96, no range is kept, and
    # LFG's purchase lifts it with the pool to the pool's quote, $0.99868, as before the rule.
    s, b = _opened()
    s.P[0, DAI] = 0.88
    s.apply(sell.price_impact(C, s, b, 1))
    held = s.pool_unfollowed[0, POOL, 0]
    assert held[0] >= held[1]  # none
    s.apply(defend.defend_pegs(C, s, b, 1))
    assert s.P[0, UST] == pytest.approx(_quote(s), rel=1e-14)
    assert s.P[0, UST] == pytest.approx(0.96 * BOUGHT_TO, rel=1e-12)


def test_a_queue_sales_range_is_re_expressed_at_the_counters_value():
    # A queue sale's range [0.95, 0.99] kept at a counter worth 1 is a set of dollar quotes, $0.95-$0.99: at a
    # counter worth 0.96 it is [0.95 / 0.96, 0.99 / 0.96]. UST at $0.94, under even the fallen quote $0.96, followed
    # none of the fall: [1.0, 1 / 0.96] joins it (the hull, as unfollowed_range merges).
    s, b = _opened()
    s.pool_unfollowed = s.pool_unfollowed.copy()
    s.pool_unfollowed[0, POOL, 0] = [0.95, 0.99]
    s.P[0, UST] = 0.94
    s.P[0, DAI] = 0.88
    out = queue_sales.counter_fall(C, s, s.P)
    assert out["pool_unfollowed"][0, POOL, 0] == pytest.approx([0.95 / 0.96, 1.0 / 0.96], rel=1e-15)
    # a counter that rises back re-expresses it and records none
    s.apply(out)
    s.P[0, DAI] = 1.0
    back = queue_sales.counter_fall(C, s, s.P)
    assert back["pool_counter_seen"][0, POOL] == 1.0
    assert back["pool_unfollowed"][0, POOL, 0] == pytest.approx([0.95, 1.0], rel=1e-14)
    # no move: nothing to write, every bit kept
    s.apply(back)
    assert queue_sales.counter_fall(C, s, s.P) == {}


@settings(max_examples=60, deadline=None)
@given(sale=st.floats(0.0, 1.5e9), share=st.floats(0.80, 1.0), dai=st.floats(0.6, 1.0), usdt=st.floats(0.85, 1.0),
       second=st.floats(0.7, 1.0))
@example(sale=0.0, share=0.966, dai=0.88, usdt=1.0, second=1.0)  # the worked numbers above
@example(sale=0.0, share=0.875, dai=1.0, usdt=1.0, second=0.75)  # found by the search on the tree before the rule
def test_a_purchase_lifts_the_coin_at_most_by_the_pools_rise_above_its_quote_before_the_fall(sale, share, dai,
                                                                                            usdt, second):
    """The rule as an inequality: with UST at ``q`` and its pool quoting ``U0`` before its counter falls (DAI and
    USDT down, in one round's price_impact or two, ``second`` a further fall of DAI between them), LFG's purchase
    that leaves the pool quoting ``U1`` lifts UST at most to ``q * max(1, U1 / U0)``: through the dollar quotes it
    followed down and above the quote it did not follow down, never through the range between (equality where the
    purchase reaches above the range's low, in exact arithmetic: the bound allows 1e-12 for rounding)."""
    s, b = _opened(sale)
    u0 = _quote(s)
    q = min(share * u0, float(s.P[0, UST]))
    s.P[0, UST] = q
    s.P[0, DAI], s.P[0, USDT] = dai, usdt
    s.apply(sell.price_impact(C, s, b, 1))
    if second < 1.0:
        s.P[0, DAI] = dai * second
        s.apply(sell.price_impact(C, s, b, 2))
    at = float(s.P[0, UST])
    assert at <= q * (1 + 1e-15)
    s.apply(defend.defend_pegs(C, s, b, 2))
    after, u1 = float(s.P[0, UST]), _quote(s)
    assert after >= at
    assert after <= u1 * (1 + 1e-12)
    assert after <= q * max(1.0, u1 / u0) * (1 + 1e-12)


def test_the_property_fails_without_the_rule(monkeypatch):
    """The inequality above is not vacuous: with the counter's fall not recorded (counter_fall a no-op), the worked
    example breaks it (UST 0.966 -> 0.99868 against a bound of 0.966)."""
    monkeypatch.setattr(queue_sales, "counter_fall", lambda c, s, P, rows=None: {})
    monkeypatch.setattr(sell, "counter_fall", lambda c, s, P, rows=None: {})
    monkeypatch.setattr(defend, "counter_fall", lambda c, s, P, rows=None: {})
    s, b = _opened()
    s.P[0, UST] = 0.966
    s.P[0, DAI] = 0.88
    s.apply(sell.price_impact(C, s, b, 1))
    s.apply(defend.defend_pegs(C, s, b, 2))
    assert float(s.P[0, UST]) == pytest.approx(0.96 * BOUGHT_TO, rel=1e-12)
    assert float(s.P[0, UST]) > 0.966 * max(1.0, _quote(s) / 1.0) * (1 + 1e-12)
    assert np.isfinite(s.P).all()


def test_a_purchase_wholly_inside_the_range_keeps_the_coins_price_to_the_bit():
    """$30M of UST sold into its pool at round 0 leaves it at 0.999566 counter units (a quote of $0.999566); UST at
    $0.85 stays below even the quote DAI's fall to 0.88 leaves ($0.959584), so the range is the pool's whole fall,
    [0.999566, 0.999566 / 0.96] = [0.999566, 1.041215]. LFG's purchase lifts the pool 0.999566 -> 1.040104, inside it: no
    lift is due, and UST keeps 0.85 to the bit (``low <= px_before`` and ``px_after <= high``, as
    ``redeem_pool_coins`` has it since Session 41 (reserve)). (Before, ``P * px_after / px_before / round_trip``
    gave 0.85 one ulp up, 0.8500000000000001.)"""
    s, b = _opened(3e7)
    px0 = float(s.pool_px[0, POOL])
    s.P[0, UST] = 0.85
    s.P[0, DAI] = 0.88
    s.apply(sell.price_impact(C, s, b, 1))
    low, high = s.pool_unfollowed[0, POOL, 0]
    assert low == px0 and high == pytest.approx(px0 / 0.96, rel=1e-15)
    s.apply(defend.defend_pegs(C, s, b, 1))
    px1 = float(s.pool_px[0, POOL])
    assert low <= px0 < px1 <= high
    assert s.P[0, UST] == 0.85


def test_a_rows_range_does_not_depend_on_what_its_batch_mates_buy():
    """The counter's fall is recorded for the rows a step trades in only: a row LFG does not buy in (UST at its
    quote, inside the calm band) keeps its range and its seen move to the bit, alone or beside a row LFG buys in
    (before the row mask, defend_pegs re-expressed every row's range whenever any row bought, so a row's range and
    its bits depended on its batch-mates)."""
    def run(rows):
        b = scenario_batch(NET, [Scenario()] * len(rows))
        s = initial_state(C, b)
        s.apply(exogenous.exogenous(C, s, b, 0))
        for j, (ust, dai) in enumerate(rows):
            s.P[j, UST], s.P[j, DAI] = ust, dai
        s.apply(defend.defend_pegs(C, s, b, 1))
        return s.pool_unfollowed[:, POOL].copy(), s.pool_counter_seen[:, POOL].copy(), s.P[:, UST].copy(), s.pool_px[:, POOL]

    calm = (0.9995, 0.999)  # UST inside the band, the counter a hair down: no purchase
    alone = run([calm])
    beside = run([calm, (0.90, 0.88)])
    assert beside[3][1] > 1.0 and beside[2][1] == 0.90  # the batch-mate bought, through the counter's fall alone
    for x, y in zip(alone, beside):
        assert x[0].tobytes() == y[0].tobytes()
    assert alone[1][0] == 1.0  # not looked at yet: the seen move of the opening
