"""Wrapped BTC follows BTC; only a failure of its custodian opens the basis (core.engine.peg_terms.wrapped_custodians).

Worked numbers on the 2025 network, where WBTC_BITGO holds the 128,800 BTC behind WBTC and CBBTC the 43,100
behind cbBTC, and each owes its tokens' holders that BTC (other_liabilities at the reference price, $117,000).
"""

from __future__ import annotations

import numpy as np
import pytest

import core
from core.engine import compile_network, simulate_batch
from core.engine.backing import backed_liabilities
from core.scenario import Scenario

BTC0 = 117_000.0


@pytest.fixture(scope="module")
def net():
    return core.datasets.load("crypto-2025-10")


@pytest.fixture(scope="module")
def c(net):
    return compile_network(net)


def test_custodians_owe_the_btc_they_hold(c):
    ids, syms = list(c.ids), list(c.symbols)
    btc = syms.index("BTC")
    g = c.pegs
    found = {ids[e]: (syms[b], u) for e, b, u in zip(g.liable_entity, g.liable_backing, g.liable_units)}
    assert found["WBTC_BITGO"] == ("BTC", pytest.approx(128_800))
    assert found["CBBTC"] == ("BTC", pytest.approx(43_100))
    P = c.P0[None].copy()
    P[0, btc] = 0.7 * BTC0
    L = backed_liabilities(c, P)[0]
    # 128,800 BTC at $81,900 = $10,548,720,000; 43,100 at $81,900 = $3,529,890,000
    assert L[ids.index("WBTC_BITGO")] == pytest.approx(10_548_720_000.0, rel=1e-12)
    assert L[ids.index("CBBTC")] == pytest.approx(3_529_890_000.0, rel=1e-12)


def test_a_btc_fall_leaves_the_custodians_solvent_and_wbtc_at_btc(net):
    br = simulate_batch(net, [Scenario(price_shocks={"BTC": -0.3}, horizon=3)])
    ids, syms = list(br.entity_ids), list(br.asset_symbols)
    for e in ("WBTC_BITGO", "CBBTC"):
        assert br.default_round[0, ids.index(e)] < 0
        assert abs(br.equity[0, ids.index(e)]) < 1.0   # $128,800 x 81,900 held against as much owed
    btc = br.prices[0, syms.index("BTC")]
    for w in ("WBTC", "CBBTC"):
        assert br.prices[0, syms.index(w)] == pytest.approx(btc, rel=1e-12)


@pytest.mark.parametrize("btc_move", [0.0, -0.3])
def test_a_custodian_failure_opens_the_basis_by_its_recovery(net, btc_move):
    """WBTC_BITGO fails keeping 80% of its BTC (a hack of 20%): it pays 0.8 of the BTC it owes whatever BTC does,
    so WBTC trades at 0.8 of BTC; cbBTC, whose custodian did not fail, stays at BTC."""
    sc = Scenario(forced_defaults=["WBTC_BITGO"], forced_default_recovery=0.8, horizon=3,
                  price_shocks={"BTC": btc_move} if btc_move else {})
    br = simulate_batch(net, [sc])
    syms = list(br.asset_symbols)
    btc = br.prices[0, syms.index("BTC")]
    assert br.prices[0, syms.index("WBTC")] / btc == pytest.approx(0.8, rel=1e-9)
    assert br.prices[0, syms.index("CBBTC")] == pytest.approx(btc, rel=1e-12)
    assert np.isfinite(br.total_loss[0])


def test_liquid_staking_issuers_owe_the_staked_eth_and_only_their_failure_opens_the_basis(net):
    """Lido holds the staked ETH behind stETH (8,436,782 ETH = its $36.7bn TVL at $4,350) and owes it: ETH -30%
    leaves it solvent and stETH at its exchange rate to ETH (no pool prices stETH here); Lido failing with 90% of
    its ETH puts stETH at 0.9 of that rate, weETH (ether.fi did not fail) stays at its rate."""
    c = compile_network(net)
    ids, syms = list(c.ids), list(c.symbols)
    g = c.pegs
    units = {ids[e]: (syms[b], u) for e, b, u in zip(g.liable_entity, g.liable_backing, g.liable_units)}
    assert units["LIDO"] == ("ETH", pytest.approx(36.7e9 / 4350.0))
    assert units["JITO"] == ("SOL", pytest.approx(17.6e6))
    assert "EIGENLAYER" not in units    # restaked LSTs, held in USD
    fall = simulate_batch(net, [Scenario(price_shocks={"ETH": -0.3}, horizon=3)])
    eth, st, we = (syms.index(s) for s in ("ETH", "stETH", "weETH"))
    assert fall.default_round[0, ids.index("LIDO")] < 0 and abs(fall.equity[0, ids.index("LIDO")]) < 1.0
    rate_st, rate_we = c.P0[st] / c.P0[eth], c.P0[we] / c.P0[eth]
    assert fall.prices[0, st] / fall.prices[0, eth] == pytest.approx(1.0 * c.peg1[st], rel=1e-12)
    hit = simulate_batch(net, [Scenario(forced_defaults=["LIDO"], forced_default_recovery=0.9, horizon=3)])
    assert hit.prices[0, st] / hit.prices[0, eth] == pytest.approx(0.9 * c.peg1[st], rel=1e-9)
    assert hit.prices[0, we] / hit.prices[0, eth] == pytest.approx(c.peg1[we], rel=1e-12)
    assert rate_st < 1.0 and rate_we > 1.0   # the reference prices: 0.999 and 1.075 ETH
