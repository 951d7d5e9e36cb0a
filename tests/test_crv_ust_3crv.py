"""CRV_UST's quote side is 3CRV, and a reserve's defence gains only what its purchase lifted (decision 19,
docs/invariants.md, Session 37 (crvust)).

1. *A pool whose quote coin has depegged still prices its token, in units of what its quote side holds* (decision
   16): UST's USD price is its pool price times the quote asset's price. The UST-3Crv metapool's quote side is 3CRV,
   the LP token of Curve's 3pool; the 2022 network holds it as what it redeems for, CRV_3POOL's DAI, USDC and USDT in
   CRV_3POOL's proportions (equal thirds of $350M), and prices UST in USD over that basket
   (:func:`core.engine.pools.counter_value`: ``sum_j h_j P_j / sum_j h_j P0_j``). 3CRV's price is CRV_3POOL's value
   per LP unit, its holdings at their prices over its LP units; no step swaps into CRV_3POOL, so its holdings keep
   their proportions and the two are the same number every round (checked below in runs). A USDC fall of ``x``
   moves 3CRV by ``x / 3`` plus DAI's and USDT's own moves over three; before, the stand-in (USDC alone) moved it by
   ``x``.
2. *A defender's purchase that lifts a price is a real rise* (decision 13 extended): LFG's gain on the UST its
   defence bought, marked at the price its own purchase lifted, is allowed by the value checks, and only to that
   amount (``tests/defence_purchase.py``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st, target

import core
import invariants_support as inv
from core.engine import queue_sales
from core.engine.batch import build_batch
from core.engine.compiled import compile_network
from core.engine.pools import counter_value
from core.engine.rounds import STEPS
from core.engine.state import initial_state
from core.mechanisms._checks import trusted
from core.scenario import Scenario
from defence_purchase import purchase_gains


@pytest.fixture(scope="module")
def net():
    return core.datasets.load("crypto-2022-05")


@pytest.fixture(scope="module")
def compiled(net):
    return compile_network(net)


def _ust_pool(c) -> int:
    return list(c.pool_asset).index(list(c.symbols).index("UST"))


def _prices(c, **moves: float) -> np.ndarray:
    P = c.P0[None].copy()
    for a, v in moves.items():
        P[0, list(c.symbols).index(a)] = v
    return P


def test_the_quote_side_is_the_3pools_coins_in_its_proportions(net, compiled):
    """CRV_UST holds 350M / 3 of each of DAI, USDC and USDT, CRV_3POOL's proportions, and UST's pool is priced in USD
    over them (no ``amm_counter``): its counter is the basket, not USDC."""
    h = net.holdings[net.holdings["entity"] == "CRV_UST"].set_index("asset")["amount"]
    three = net.holdings[net.holdings["entity"] == "CRV_3POOL"].set_index("asset")["amount"]
    assert set(h.index) == {"UST", "DAI", "USDC", "USDT"}
    assert h[["DAI", "USDC", "USDT"]].sum() == pytest.approx(350e6, rel=1e-15)
    assert np.allclose(h[["DAI", "USDC", "USDT"]] / h[["DAI", "USDC", "USDT"]].sum(),
                       three[["DAI", "USDC", "USDT"]] / three.sum(), rtol=1e-12, atol=0)
    p = _ust_pool(compiled)
    assert compiled.pool_counter[p] == -1 and p in compiled.pool_usd_counter


def test_3crv_after_a_usdc_fall_in_worked_numbers(compiled):
    """USDC at 0.88 (its low on 11 March 2023) with DAI and USDT at par: 3CRV is worth (0.88 + 1 + 1) / 3 = 0.96,
    a USDC fall of 12% moving it 4%; with DAI at the engine's PSM-arbitrage price in that depeg, 0.880880 (decision
    15), (0.88 + 0.88088 + 1) / 3 = 0.920293. USDC alone, the stand-in before, gave 0.88."""
    p = _ust_pool(compiled)
    assert counter_value(compiled, _prices(compiled, USDC=0.88))[0, p] == pytest.approx(0.96, rel=1e-15)
    assert counter_value(compiled, _prices(compiled, USDC=0.88, DAI=0.88088))[0, p] == pytest.approx(
        (0.88 + 0.88088 + 1.0) / 3, rel=1e-15)
    assert counter_value(compiled, _prices(compiled, USDC=1e-12))[0, p] == pytest.approx((1e-12 + 2.0) / 3, rel=1e-15)
    assert counter_value(compiled, compiled.P0[None])[0, p] == 1.0


@settings(max_examples=40, deadline=None)
@given(dai=st.floats(1e-6, 1.2), usdc=st.floats(1e-12, 1.2), usdt=st.floats(1e-6, 1.2))
def test_3crv_is_the_3pools_value_per_reference_dollar(compiled, dai, usdc, usdt):
    """At any prices of the three coins the pool's counter is worth CRV_3POOL's holdings at those prices over their
    reference value (its value per LP unit over its reference value), and never more than the dearest coin nor less
    than the cheapest."""
    P = _prices(compiled, DAI=dai, USDC=usdc, USDT=usdt)
    e = list(compiled.ids).index("CRV_3POOL")
    per_unit = (compiled.H0[e] @ P[0]) / (compiled.H0[e] @ compiled.P0)
    got = counter_value(compiled, P)[0, _ust_pool(compiled)]
    assert got == pytest.approx(per_unit, rel=1e-12)
    assert min(dai, usdc, usdt) * (1 - 1e-12) <= got <= max(dai, usdc, usdt) * (1 + 1e-12)


def _step_by_step(net, c, scenarios, rounds, at=None):
    """Run ``scenarios`` step by step for ``rounds`` rounds; call ``at(step, before, s, r)`` around each step ``at``
    names (``before``: a copy of the state's arrays it reads)."""
    b = build_batch(c, scenarios, net, True)
    s = initial_state(c, b)
    out = []
    with trusted():
        for r in range(rounds):
            for step in STEPS:
                before = dict(res=s.pool_res.copy(), oa=s.oa.copy(), P=s.P.copy(), H=s.H.copy())
                changes = step(c, s, b, r)
                if changes:
                    s.apply(changes)
                if at is not None:
                    out.append(at(step, before, s, r))
    return s, out


def test_3crv_follows_the_3pool_every_round_of_a_run(net, compiled):
    """In runs where USDC, DAI and USDT fall or their issuers fail, CRV_3POOL's holdings never change (no step swaps
    into it) and the UST pool's counter is worth its value per LP unit after every step."""
    scs = [Scenario(forced_defaults=["CIRCLE"], run_intensity=1.0),
           Scenario(depegs={"USDC": 0.12}, price_shocks={"LUNA": -0.6}, run_intensity=1.0, liquidity=0.3),
           Scenario(price_shocks={"USDT": -0.5, "DAI": -0.2}, forced_defaults=["CONVEX"], run_intensity=1.0)]
    e, p = list(compiled.ids).index("CRV_3POOL"), _ust_pool(compiled)

    def gap(step, before, s, r):
        h = s.H[:, e, :]
        per_unit = (h * s.P).sum(1) / (h * compiled.P0[None]).sum(1)
        return float(np.abs(counter_value(compiled, s.P)[:, p] / per_unit - 1).max())

    s, gaps = _step_by_step(net, compiled, scs, 8, gap)
    assert max(gaps) < 1e-12
    assert np.array_equal(s.H[:, e, :], np.repeat(compiled.H0[e][None], len(scs), 0))


def test_a_sale_into_crv_ust_pays_3crv_units_at_their_price(net, compiled):
    """LUNA -90% with USDC 12% below its peg: the queued UST holders sell into CRV_UST and are paid, in cash, the
    counter units the pool gives up times 3CRV's price that round: 0.96 in round 0 (DAI still at par before the
    PSM's arbitrage), 0.92 from round 1 (DAI at USDC's 0.88: tin 0 since session 41; 0.920294 at tin 0.001); the same sale without the USDC fall is paid a dollar
    a unit. Measured: round 0, 657.52M UST sold, 634.84M counter units out, $609.44M paid."""
    scs = [Scenario(price_shocks={"LUNA": -0.9}, depegs={"USDC": 0.12}), Scenario(price_shocks={"LUNA": -0.9})]
    p = _ust_pool(compiled)

    def paid(step, before, s, r):
        if step is not queue_sales.sell_unserved_queue:
            return None
        out = before["res"][:, p, 1] - s.pool_res[:, p, 1]
        cash = (s.oa - before["oa"]).sum(1)
        return r, out, cash, counter_value(compiled, before["P"])[:, p], s.pool_res[:, p, 0] - before["res"][:, p, 0]

    _, rows = _step_by_step(net, compiled, scs, 3, paid)
    rows = [x for x in rows if x is not None]
    assert len(rows) == 3
    for r, out, cash, price, sold in rows:
        assert (out > 0).all() and (sold > 0).all()
        assert np.allclose(cash, out * price, rtol=1e-12, atol=0)
        assert price[1] == 1.0
        # session 41 (data): DAI's tin 0 (the row held 0.001) pins DAI at USDC's 0.88 itself, not 0.88 / (1 - 0.001)
        # = 0.880880: 3CRV from round 1 is (0.88 + 0.88 + 1) / 3 = 0.92, was 0.920294
        assert price[0] == pytest.approx(0.96 if r == 0 else (0.88 + 0.88 + 1) / 3, rel=1e-6)
    r, out, cash, price, sold = rows[0]
    # Decision 29 (Session 46 (defender)): the queue sells none of the units of UST's reserve (LFG's 697,344 UST of 6
    # May, its pro-rata share of round 0's sale): 657.52841698 -> 657.51973108M UST sold, 634.84476467 -> 634.83792233M
    # counter units out, $609.45097409M -> $609.44440544M paid
    assert (sold[0] / 1e6, out[0] / 1e6, cash[0] / 1e6) == pytest.approx((657.51973108, 634.83792233, 609.44440544),
                                                                       rel=1e-8)


@pytest.mark.xfail(strict=True, reason="decision 19 prices 3CRV at CRV_3POOL's holdings, which no step rebalances: "
                   "in March 2023 arbitrage filled the 3pool with the falling coins (CoinDesk, 10 March 2023: USDC and "
                   "DAI over 46% each, USDT under 7%), so 3CRV followed USDC closer than a static third does")
def test_3crv_in_march_2023(compiled):
    """At USDC 0.88 (with DAI at the engine's 0.880880 in that depeg and USDT at par) the 3pool's reported shares
    give 3CRV about 0.46 x 0.88 + 0.46 x 0.880880 + 0.07 x 1 = 0.8800 per dollar of coins (0.88 + 0.01 at par for
    the share the report leaves out); the model's equal thirds give 0.9203."""
    reported = 0.46 * 0.88 + 0.46 * 0.88088 + 0.07 * 1.0 + 0.01 * 1.0
    model = counter_value(compiled, _prices(compiled, USDC=0.88, DAI=0.88088))[0, _ust_pool(compiled)]
    assert model == pytest.approx(reported, abs=0.01)


# Decision 21 (session 38): LFG's gain 19.421909 -> 20.353896 at 41.8% and -8.633965 -> -8.571218 at 5%, its
# allowance unchanged: UST's holders redeem only the discount beyond the 0.5% band, so fewer LUNA are minted and
# LUNA closes higher ($75.666 -> $76.238, $76.610 -> $76.651), on LFG's 1.69M LUNA.
# Session 40 (anchor, Anchor's queue repays the contract's amount, each position below HF 1 at its own HF):
# 20.353896 -> 20.366413 and -8.571218 -> -8.564861, the allowance unchanged: the bLUNA positions just below HF 1
# repay ~44 % of their debt where the data's close factor repaid half (ANCHOR's round-1 liquidations $5.56M ->
# $4.84M, $2.42M -> $2.09M), less LUNA is sold and LUNA closes $76.238 -> $76.246, $76.651 -> $76.655 on LFG's LUNA.
# Session 41 (data, crypto-2022-05's own rows: DAI's tin 0, stETH's Aave v2 threshold 0.75 with the loops' debt at it):
# 20.366413 -> 20.369130 and -8.564861 -> -8.561334, the allowance 39.250969 -> 39.253818 and 3.480831 -> 3.490018. DAI's tin 0 pins DAI at USDC's price, not USDC / 0.999, so 3CRV
# and UST's pool fall a little further with USDC; on a copy with the threshold 0.75 and tin 0.001 (before the loops'
# debt fix) the gains were 20.366229 and -8.564866: the tin is most of the move; the two are not separated further.
# Decision 29 (Session 46 (defender)): LFG's defence sells none of its 1,691,261 LUNA (before, a slice of them with
# its BTC, USDT and USDC each round it bought), so its reserve to spend is $2,944.02M, not $3,074.24M, at the 6 May
# prices: its purchases are smaller (round 0's gain $38.025710M -> $37.986831M at 41.8 %, $3.201063M -> $3.199932M at
# 5 %) and the LUNA it sold is held, marked at LUNA's close: the gain 20.369130 -> 20.423399 and -8.561334 ->
# -8.208037, the allowance 39.253818 -> 39.217434 and 3.490018 -> 3.489098; still nothing unexplained.
@pytest.mark.parametrize("depth, gain, allowed", [(0.418, 20.423399, 39.217434), (0.05, -8.208037, 3.489098)])
def test_lfgs_gain_is_its_purchases_lift_and_no_more(depth, gain, allowed):
    """USDC 41.8% and 5% below its peg (the depths of the four value failures session 35's branch left): UST's pool
    falls with 3CRV, LFG's defence buys UST in it and the purchase lifts UST. Its gain on what it bought, marked at the
    lifted price, is allowed (decision 19 item 2), and without that allowance LFG's gain is unexplained; the
    allowance is its purchases' own gain in worked numbers (round 0 then round 1: $37.986831M + $1.230603M at 41.8%)."""
    sc = Scenario(depegs={"USDC": depth})
    br, g, excess, _, _ = inv.value_of_falls("shipped", [sc])
    _, _, without, _, _ = inv.value_of_falls("shipped", [sc], defence=False)
    lfg = list(br.entity_ids).index("LFG")
    by_round, _ = purchase_gains("shipped", [sc], br.rounds_run)
    assert g[0, lfg] / 1e6 == pytest.approx(gain, abs=1e-6)
    assert by_round[0, :, lfg].sum() / 1e6 == pytest.approx(allowed, abs=1e-6)
    assert excess.sum() == 0.0
    assert without[0, lfg] == pytest.approx(max(g[0, lfg], 0.0), rel=1e-9, abs=0)
    others = np.ones(by_round.shape[-1], bool)
    others[lfg] = False
    assert not by_round[..., others].any()  # no other entity's gain is allowed by it


def test_a_gain_beyond_the_purchases_lift_stays_a_violation():
    """The allowance is the purchases' gain and no more: LFG's gain at USDC -41.8% with the allowance halved is
    unexplained by the difference."""
    sc = Scenario(depegs={"USDC": 0.418})
    t = inv.tables("shipped")
    br, g, _, _, up = inv.value_of_falls("shipped", [sc])
    by_round, _ = purchase_gains("shipped", [sc], br.rounds_run)
    lfg = list(br.entity_ids).index("LFG")
    _, excess, _ = inv.value_measures(t, br, up, by_round.sum(1) / 4)
    assert excess[0, lfg] == pytest.approx(g[0, lfg] - by_round[0, :, lfg].sum() / 4, rel=1e-9)


#: :func:`invariants_support.usd_tolerance` on the 2022 network: a dollar and a billionth of its $607.69bn of equity.
LOSS_TOLERANCE_USD = 1.0 + 1e-9 * 607.69e9


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(shallow=0.0031, step=0.0269, luna=0.3, runs=1.0, lag=0, liquidity=0.9826445706723763)
@given(shallow=st.floats(0.0, 0.6), step=st.floats(0.001, 0.3), luna=st.sampled_from([0.0, 0.3, 0.6, 0.9]),
       runs=st.sampled_from([0.0, 0.5, 1.0]), lag=st.integers(0, 2), liquidity=st.floats(0.3, 1.5))
def test_a_deeper_usdc_fall_never_lowers_loss_with_usts_pool(shallow, step, luna, runs, lag, liquidity):
    """The system's loss never falls as USDC's depeg deepens, now that it moves UST's pool through 3CRV (a search:
    the largest drop is the target). Loss only: defaults fall in a USDC depeg on main too (LUNA -60%, liquidity
    0.5, USDC 0 -> 25%: GEMINI_EARN's default goes), and so does loss where they do (LUNA -90%, lag 2, liquidity
    0.42, USDC 29.47% -> 33.49%: 3AC, GENESIS, VOYAGER and GEMINI_EARN's defaults go, loss -$6.52bn on both trees).
    The explicit example is the entry session 37's branch found, ``monotone-s37-crvust-usdc-depeg-luna-30-full-runs-
    defence-trigger`` (USDC 0.31% -> 3%, loss $6,866.3M -> $2,934.8M: UST 0.2% under its peg started a run that LFG's
    0.5% trigger left undefended), kept as a plain regression: since decision 21 the holders run only beyond the calm
    band where the reserve defends, and the pair's loss rises, $1,362.11M -> $2,758.55M (UST closes 0.99827 and 1.0)."""
    base = Scenario(price_shocks={"LUNA": -luna} if luna else {}, run_intensity=runs, oracle_lag=lag,
                    liquidity=liquidity)
    v = inv.monotone_violation("shipped", base, ("USDC",), [shallow, min(shallow + step, 0.95)], mode="depeg")
    drop = v.detail["total_loss_usd"]["drop"]
    target(drop, label="loss drop (USD)")
    assert drop <= LOSS_TOLERANCE_USD, v.note


def test_holders_and_reserve_act_from_the_same_discount():
    """Decision 21: the holders' exit share is zero at and inside the calm band and starts continuously beyond it,
    with slope ``1 + run``, and the reserve's defence starts at the same point: no price where one acts and the
    other does not."""
    from core.mechanisms.algorithmic_stablecoin import PEG_CALM_BAND, holders_exit_share, reserve_defence

    edge = 1.0 - PEG_CALM_BAND
    q = np.array([1.0, 0.998, edge, edge - 1e-4, edge - 1e-2])
    share = holders_exit_share(q, 1.0)
    assert share[:3].tolist() == [0.0, 0.0, 0.0]
    assert share[3] == pytest.approx(2.0 * 1e-4, rel=1e-9)  # continuous: a basis point beyond, (1 + run) of it
    assert share[4] == pytest.approx(2.0 * 1e-2, rel=1e-9)
    spend = reserve_defence(q, 1.0, 1e9)
    assert ((share > 0) == (spend > 0)).all()  # one threshold for both
    # the share never falls as the discount deepens
    grid = np.linspace(0.0, 1.0, 2001)
    assert (np.diff(holders_exit_share(grid[::-1], 0.5)) >= 0).all()
