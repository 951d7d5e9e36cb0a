"""stETH's floor: arbitrage capital elastic to the discount, and whether a deeper sale or ETH fall ever helps.

Mechanism level (core.mechanisms.liquid_staking): worked numbers of the capital's supply curve from the
June 2022 calibration, the purchase meeting the capital its price draws, and a search that a deeper sale
never ends at a higher price. Engine level (core.engine.staking): a search over sales into the Curve pool
and ETH falls on the 2022 network, targeting the size of the violation, with the counterexamples it found
kept below with their measured sizes.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st, target

import core
from core.engine import simulate_batch
from core.mechanisms import amm, liquid_staking
from core.scenario import Scenario
from search_marks import open_search

#: June 2022 [estimates, data/crypto-2022-05/pegs.csv]: carry floor and the gap of the June low (0.935).
FLOOR = 1 - float(liquid_staking.carry_floor_discount(1.0, 0.10, 0.04))
GAP_REF = FLOOR / 0.935 - 1
JUNE_POOL = np.array([491e3, 111.3e3])  # ForkLog / CoinDesk, 16-17 June 2022


def test_capital_supply_curve_worked_numbers():
    """56k ETH a day at the June low's gap (1.118 %); at Gauntlet's 20 % depeg (gap 18.18 %) 16.26 times that,
    911k ETH; none at or above the floor; the fixed capital of the model before at any gap below it."""
    assert FLOOR == pytest.approx(0.945455, abs=1e-6) and GAP_REF == pytest.approx(0.011181, abs=1e-6)
    k = liquid_staking.arbitrage_capital(np.array([0.935, 0.80, FLOOR, 0.99]), FLOOR, 56e3, GAP_REF)
    np.testing.assert_allclose(k[:2], [56e3, 56e3 * (FLOOR / 0.80 - 1) / GAP_REF], rtol=1e-12)
    assert round(float(k[1])) == 910_609 and (k[2:] == 0).all()
    fixed = liquid_staking.arbitrage_capital(np.array([0.5, 0.94, 0.95]), FLOOR, 56e3)
    np.testing.assert_array_equal(fixed, [56e3, 56e3, 0.0])


def test_purchase_meets_the_capital_its_price_draws():
    """The June pool after a 100k stETH sale (0.552): the purchase equals the capital at the price it leaves
    (58.4k ETH, 0.9156, gap 3.26 % = 2.9 times the reference gap, 20k x 2.9), and the fixed 20k of the model
    before lifts it only to 0.773."""
    x = amm.stableswap_swap(JUNE_POOL, 30.0, 0, 1, 100e3).balances
    assert float(amm.stableswap_price(x, 30.0, 0, 1)) == pytest.approx(0.5519, abs=1e-4)
    dx = float(liquid_staking.arbitrage_purchase(x, 30.0, FLOOR, FLOOR, 20e3, GAP_REF, fee=0.0))
    p = float(amm.stableswap_price(amm.stableswap_swap(x, 30.0, 1, 0, dx, 0.0).balances, 30.0, 0, 1))
    assert dx == pytest.approx(float(liquid_staking.arbitrage_capital(p, FLOOR, 20e3, GAP_REF)), rel=1e-9)
    assert dx == pytest.approx(20e3 * (FLOOR / p - 1) / GAP_REF, rel=1e-9)
    assert dx == pytest.approx(58.39e3, rel=1e-3) and p == pytest.approx(0.9156, abs=1e-4)
    fixed = float(liquid_staking.arbitrage_purchase(x, 30.0, FLOOR, FLOOR, 20e3, fee=0.0))
    lifted = amm.stableswap_price(amm.stableswap_swap(x, 30.0, 1, 0, fixed, 0.0).balances, 30.0, 0, 1)
    assert fixed == 20e3 and float(lifted) == pytest.approx(0.7734, abs=1e-4)


def test_electra_exit_queue_and_its_time_cost():
    """Where withdrawals exist the floor is the queue's time cost. Mid-September 2025 (after Electra's 256 ETH
    per epoch exit cap): 2.5M ETH waiting clears in 2.5M / (256 x 225) = 43.4 days (dashboards: 44-46); at a
    5 % yearly cost of capital that is a floor discount of 1 - (1 - c)**43.4 = 0.58 %, c = 1.05**(1/365) - 1.
    Before Electra the same queue with 1.1M validators (16 per epoch, 115,200 ETH a day) took 21.7 days."""
    days = float(liquid_staking.exit_queue_rounds(2.5e6, 1_100_000, electra=True))
    assert days == pytest.approx(2.5e6 / (256 * 225), rel=1e-12) and round(days, 1) == 43.4
    assert float(liquid_staking.exit_queue_rounds(2.5e6, 1_100_000)) == pytest.approx(2.5e6 / (16 * 32 * 225), rel=1e-12)
    c = 1.05 ** (1 / 365) - 1
    floor = float(liquid_staking.withdrawal_floor_discount(days, c))
    assert floor == pytest.approx(1 - (1 - c) ** days, rel=1e-12) and round(floor, 4) == 0.0058
    # a small network: Electra's 128 ETH per epoch minimum
    assert float(liquid_staking.exit_queue_rounds(28_800, 1000, electra=True)) == pytest.approx(1.0, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(x_lst=st.floats(1e4, 3e6), x_eth=st.floats(1e4, 3e6), s1=st.floats(0, 2e6), s2=st.floats(0, 2e6),
       k=st.floats(0, 5e5), g=st.floats(1e-3, 0.2), cap=st.floats(0.3, 1.0))
def test_deeper_sale_never_ends_higher(x_lst, x_eth, s1, s2, k, g, cap):
    """A deeper sale into the pool, then the elastic arbitrage: the price it ends at is never higher, never
    above the cap, and the purchase never exceeds the capital its end price draws."""
    lo, hi = sorted((s1, s2))
    x = amm.stableswap_swap(np.array([[x_lst, x_eth]] * 2), 30.0, 0, 1, np.array([lo, hi])).balances
    cap_price = FLOOR * cap
    dx = liquid_staking.arbitrage_purchase(x, 30.0, FLOOR, cap_price, k, g, fee=0.0)
    p0 = amm.stableswap_price(x, 30.0, 0, 1)
    end = amm.stableswap_price(amm.stableswap_swap(x, 30.0, 1, 0, dx, 0.0).balances, 30.0, 0, 1)
    target(float(end[1] - end[0]), label="deeper sale's price above the shallower's")
    assert end[1] <= end[0] * (1 + 1e-9) + 1e-12
    assert (end <= np.maximum(cap_price, p0) * (1 + 1e-9)).all()
    assert (dx <= liquid_staking.arbitrage_capital(end, FLOOR, k, g) * (1 + 1e-9) + 1e-9).all()


# --- engine: a deeper sale or ETH fall never lowers the system's loss --------------------------------------

@pytest.fixture(scope="module")
def net():
    return core.datasets.load("crypto-2022-05")


def _violations(net, base: dict, shallow: dict, deep: dict) -> dict[str, float]:
    br = simulate_batch(net, [Scenario(**base, **shallow), Scenario(**base, **deep)])
    loss, bad, nd = br.total_loss, br.bad_debt.sum(1), br.defaulted.sum(1)
    slack = np.maximum(1.0, 1e-9 * np.abs(loss[0]))
    return {"loss": float(loss[0] - loss[1] - slack), "bad_debt": float(bad[0] - bad[1] - max(1.0, 1e-9 * bad[0])),
            "defaults": float(nd[0] - nd[1])}


@st.composite
def _sale_or_fall(draw, max_sale=1e9):
    base = dict(liquidity=draw(st.floats(0.3, 1.5)), oracle_lag=draw(st.integers(0, 2)), horizon=12,
                liquidator_capacity_usd=draw(st.sampled_from([None, 5e7, 5e8])))
    sale = draw(st.floats(0.0, max_sale))
    eth = -draw(st.floats(0.0, 0.6))
    if draw(st.booleans()):   # a deeper sale
        deeper = min(max_sale * 1.5, sale * (1 + draw(st.floats(0.0, 0.5))) + draw(st.floats(0.0, 2e8)))
        shallow = dict(pool_sales_usd={"stETH": sale}, price_shocks={"ETH": eth, "stETH": eth})
        deep = dict(pool_sales_usd={"stETH": deeper}, price_shocks={"ETH": eth, "stETH": eth})
    else:                     # a deeper ETH fall, stETH with it
        f = 1 - draw(st.floats(1e-6, 0.1))
        shallow = dict(pool_sales_usd={"stETH": sale}, price_shocks={"ETH": eth, "stETH": eth})
        deep = dict(pool_sales_usd={"stETH": sale}, price_shocks={"ETH": (1 + eth) * f - 1, "stETH": (1 + eth) * f - 1})
    return base, shallow, deep


@open_search("random draws may find a deeper sale lowering loss through liquidation timing (the two found, "
             "-$0.23M and -$0.93M, are fixed since session 7 and kept in REGRESSIONS)", finds_under_ci=False)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(case=_sale_or_fall())
def test_search_deeper_sale_or_eth_fall(net, case):
    """Sales up to $1bn into the Curve pool (up to $1.5bn for the deeper one) and ETH falls to -60%, stETH
    moving with ETH, no runs (their first-mover timing breaks the rule on its own: test_engine_monotone OPEN)."""
    v = _violations(net, *case)
    target(max(v["loss"], 0.0), label="loss violation (USD)")
    assert v["loss"] <= 0 and v["bad_debt"] <= 0 and v["defaults"] <= 0, (case, v)


_ETH = lambda a, b: {"ETH": a, "stETH": b}  # noqa: E731

#: (base, shallow, deep) found by the random search of this session (200-250 draws a run, runs off), that
#: violated the rule before the fix named beside them and are kept as regressions.
REGRESSIONS = [
    # a $2.1bn and a $3.08bn sale both drain the pool (0.015 and 0.003 of ETH) with stETH shocked to a 0.728
    # basis; arbitrage lifted both back to it from the trough; the sale's 0.04 % fee, paid in ETH at a drained
    # pool, raises the invariant (D 1.637M -> 1.693M for 2.2M stETH sold), so LPs ended $37.9M richer with the
    # deeper sale: -$41.1M of system loss ($78.9M with LPs withdrawing at the trough, before). Netting the
    # round's sales and the arbitrage from the open pool (liquid_staking.netted_arbitrage): the deeper sale
    # loses $5.1M more.
    pytest.param(dict(liquidity=0.5594680692228173, oracle_lag=0, liquidator_capacity_usd=5e7, horizon=12),
                 dict(pool_sales_usd={"stETH": 2105848429.1579685}, price_shocks=_ETH(-0.27385837252893364, -0.4408950134673896)),
                 dict(pool_sales_usd={"stETH": 3079527198.8631916}, price_shocks=_ETH(-0.27385837252893364, -0.4408950134673896)),
                 id="drained pool, sale fee (-$41.1M before)"),
    # $2.83bn -> $3.16bn with stETH at a 0.767 basis: -$3.37bn and 2 defaults fewer before netting; now the
    # deeper sale loses $9.5M more
    pytest.param(dict(liquidity=0.737275321374956, oracle_lag=1, liquidator_capacity_usd=5e8, horizon=12),
                 dict(pool_sales_usd={"stETH": 2833228592.55689}, price_shocks=_ETH(-0.29274850875876335, -0.4571136814740856)),
                 dict(pool_sales_usd={"stETH": 3156926605.6400194}, price_shocks=_ETH(-0.29274850875876335, -0.4571136814740856)),
                 id="drained pool, defaults (-$3.37bn before)"),
    # a $2.85bn sale (stETH at 0.894 of ETH either way) and ETH -12.5% -> -20.5%: round 0's liquidations read
    # the pool's trough after the scenario's sale alone (0.03 of ETH) before the round's arbitrage lifted it to
    # 0.894; at -12.5% the stETH/ETH loops were wiped out there ($1.43bn of AAVE_ETH bad debt), at -20.5%
    # liquidators' capacity, shared with ETH/USDC borrowers, left them to later rounds ($0.38bn): -$858M
    # before pass-through pools, -$830M (3 defaults both) after. Round 0 now trades at the price arbitrage
    # leaves once it meets the scenario's sale (core.engine.staking.met_sale_prices): $2.234bn -> $5.713bn,
    # 0 -> 1 default
    pytest.param(dict(liquidity=0.7299879086466454, oracle_lag=0, liquidator_capacity_usd=5e8, horizon=12),
                 dict(pool_sales_usd={"stETH": 2852598539.1137094}, price_shocks=_ETH(-0.12484382321333282, -0.12484382321333282)),
                 dict(pool_sales_usd={"stETH": 2852598539.1137094}, price_shocks=_ETH(-0.20544258873705612, -0.20544258873705612)),
                 id="ETH fall with a $2.85bn sale (-$858M before)"),
    # oracle lag 2: the shallow sale's liquidations came over rounds 1-7 into a pool each round's arbitrage
    # lifts no higher than the round's opening price; the deeper sale's came in round 0: it ended at 0.9369 of
    # ETH against 0.9359 and lost $0.93M less (Anchor $2.0M worse off, LPs $1.6M better). Session 7
    # (liquidators' capital water-filled by margin, core.engine.capital; pool-priced collateral limited by the
    # pool's slippage): $8.5643bn -> $8.5792bn, bad debt $239.8M -> $242.1M, 2 defaults both
    pytest.param(dict(liquidity=0.6459366520934182, oracle_lag=2, liquidator_capacity_usd=5e8, horizon=12),
                 dict(pool_sales_usd={"stETH": 693347654.6254027}, price_shocks=_ETH(-0.3957788357128792, -0.3957788357128792)),
                 dict(pool_sales_usd={"stETH": 856762926.495034}, price_shocks=_ETH(-0.3957788357128792, -0.3957788357128792)),
                 id="sale, liquidation timing (-$0.93M before)"),
    # lag 0, capital $50M: -$0.23M (not traced); session 7, the same fixes: $1.67286bn -> $1.67597bn
    pytest.param(dict(liquidity=1.1586184223956806, oracle_lag=0, liquidator_capacity_usd=5e7, horizon=12),
                 dict(pool_sales_usd={"stETH": 753306201.9224982}, price_shocks=_ETH(-0.12361773586495106, -0.12361773586495106)),
                 dict(pool_sales_usd={"stETH": 764247130.2510707}, price_shocks=_ETH(-0.12361773586495106, -0.12361773586495106)),
                 id="sale, lag 0 (-$0.23M before)"),
]


@pytest.mark.parametrize("base,shallow,deep", REGRESSIONS)
def test_found_staking_cases(net, base, shallow, deep):
    v = _violations(net, base, shallow, deep)
    assert v["loss"] <= 0 and v["bad_debt"] <= 0 and v["defaults"] <= 0, v


