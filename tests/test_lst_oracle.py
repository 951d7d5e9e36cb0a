"""Lenders price a liquid-staking token that can be redeemed at its redemption rate (core.engine.oracle).

Worked numbers on the 2022 network with its stETH row switched to withdrawals (a 43.4-day exit queue, the
September 2025 queue): the oracle reads stETH at its reference ratio to ETH times ETH's price, whatever the
market discount, so a stETH sale that opens a discount liquidates no stETH position, where the 2022 rule (the
market price, no withdrawals) liquidates them.
"""

from __future__ import annotations

import numpy as np
import pytest

import core
from core.engine import compile_network, simulate_batch
from core.engine.oracle import redeemable_tokens, redemption_rate_prices
from core.network import Network
from core.scenario import Scenario


@pytest.fixture(scope="module")
def net():
    return core.datasets.load("crypto-2022-05")


def _with_withdrawals(net):
    pg = net.pegs.copy()
    st = pg["asset"] == "stETH"
    pg.loc[st, "withdrawals"] = True
    pg.loc[st, "exit_queue_days"] = 43.4
    pg.loc[st, "years_to_redemption"] = np.nan
    return Network.from_frames(name="stETH-withdrawals", pegs=pg, **{t: getattr(net, t) for t in (
        "entities", "assets", "holdings", "exposures", "cohorts", "maker_ilks")})


@pytest.fixture(scope="module")
def redeemable(net):
    return _with_withdrawals(net)


def test_only_tokens_with_withdrawals_are_read_at_their_redemption_rate(net, redeemable):
    assert len(redeemable_tokens(compile_network(net))) == 0   # 2022: no withdrawals, the market price
    c = compile_network(redeemable)
    st, eth = list(c.symbols).index("stETH"), list(c.symbols).index("ETH")
    assert list(redeemable_tokens(c)) == [st]
    Po = c.P0[None].copy()
    Po[0, st] *= 0.7       # stETH 30% below its reference on the market
    Po[0, eth] *= 0.9      # ETH -10%
    out = redemption_rate_prices(c, Po)
    # the reference ratio (0.9987 ETH) times ETH's price: 0.9 of stETH's reference price, not 0.7
    assert out[0, st] / c.P0[st] == pytest.approx(0.9, rel=1e-12)
    assert out[0, st] / out[0, eth] == pytest.approx(c.P0[st] / c.P0[eth], rel=1e-12)
    others = np.arange(c.k) != st
    assert np.array_equal(out[0, others], Po[0, others])   # nothing else moves


def test_a_steth_discount_liquidates_no_steth_position_at_the_redemption_rate(net, redeemable):
    """A $1.6bn stETH sale with ETH unchanged, one round: at the market price (2022 rule) the discount liquidates
    stETH positions; at the redemption rate nothing is liquidated and no bad debt is booked, while stETH's market
    discount is the same pool's. At the market price $89.1M is liquidated in the round since liquidators weigh
    the Curve pool's slippage at every lag (core.engine.limits.liquidator_limit); $108.1M before, when they
    weighed it only under a lagging oracle."""
    sale = [Scenario(pool_sales_usd={"stETH": 1.6e9}, horizon=1)]
    market = simulate_batch(net, sale, record=True)
    rate = simulate_batch(redeemable, sale, record=True)
    assert market.liquidated_usd[0] > 8e7
    assert rate.liquidated_usd[0] == 0.0
    assert rate.bad_debt[0].sum() == 0.0
    st, eth = (list(rate.asset_symbols).index(s) for s in ("stETH", "ETH"))
    ratio = rate.prices[0, st] / rate.prices[0, eth]
    assert ratio < 0.99   # the market still trades at a discount: only the lenders' oracle ignores it


def test_maker_style_vaults_keep_the_market_price(net):
    """Maker's wstETH oracle medianises the market's stETH/ETH (MIP10c3-SP42): with Anchor's stETH cohorts
    recast as Maker-style vaults, the same sale liquidates them at the market price while Aave's stETH
    positions, at the redemption rate, are untouched."""
    co = net.cohorts.copy()
    anchor = (co["protocol"] == "ANCHOR") & (co["collateral_asset"] == "stETH")
    assert anchor.any()
    co.loc[anchor, "style"] = "maker"
    co.loc[anchor, "debt_oracle"] = "market"   # Maker's OSM reads the market (validation: no fixed price on a maker row)
    recast = Network.from_frames(name="anchor-maker", cohorts=co, **{t: getattr(net, t) for t in (
        "entities", "assets", "holdings", "exposures", "pegs", "maker_ilks")})
    sale = [Scenario(pool_sales_usd={"stETH": 1.6e9}, horizon=1)]
    both = simulate_batch(_with_withdrawals(recast), sale)
    market_only = simulate_batch(recast, sale)
    assert 0.0 < both.liquidated_usd[0] < market_only.liquidated_usd[0]
