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
    leaves it solvent and stETH at its exchange rate to ETH times the snapshot's basis, 0.999 (no pool prices stETH
    here: core.engine.sell.reference_basis); Lido failing with 90% of its ETH puts stETH at 0.9 of that, weETH
    (ether.fi did not fail) stays at its rate."""
    c = compile_network(net)
    ids, syms = list(c.ids), list(c.symbols)
    g = c.pegs
    units = {ids[e]: (syms[b], u) for e, b, u in zip(g.liable_entity, g.liable_backing, g.liable_units)}
    assert units["LIDO"] == ("ETH", pytest.approx(36.7e9 / 4350.0))
    assert units["JITO"] == ("SOL", pytest.approx(3.2e9 / 215.0))  # its $3.2bn TVL of 9 Sep 2025 at $215: 14,883,721 SOL
    assert "EIGENLAYER" not in units    # restaked LSTs, held in USD
    fall = simulate_batch(net, [Scenario(price_shocks={"ETH": -0.3}, horizon=3)])
    eth, st, we = (syms.index(s) for s in ("ETH", "stETH", "weETH"))
    assert fall.default_round[0, ids.index("LIDO")] < 0 and abs(fall.equity[0, ids.index("LIDO")]) < 1.0
    rate_st, rate_we = c.P0[st] / c.P0[eth], c.P0[we] / c.P0[eth]
    assert fall.prices[0, st] / fall.prices[0, eth] == pytest.approx(0.999 * c.peg1[st], rel=1e-12)
    hit = simulate_batch(net, [Scenario(forced_defaults=["LIDO"], forced_default_recovery=0.9, horizon=3)])
    assert hit.prices[0, st] / hit.prices[0, eth] == pytest.approx(0.9 * 0.999 * c.peg1[st], rel=1e-9)
    assert hit.prices[0, we] / hit.prices[0, eth] == pytest.approx(c.peg1[we], rel=1e-12)
    assert rate_st < 1.0 and rate_we > 1.0   # the reference prices: 0.999 and 1.075 ETH


def custody_network(held_btc: float = 105.0) -> "core.Network":
    """CUST holds ``held_btc`` BTC behind the 100 WBX outstanding and owes their holders 100 BTC ($10M at
    $100,000: other_liabilities, moved with BTC for the units held, core.engine.peg_terms.wrapped_custodians);
    FUND (in the network, $1M of its own) holds 60 WBX, outsiders the other 40."""
    import pandas as pd

    from core.network import Network

    prov = dict(as_of="2025-10-01", source="https://example.org/wrapped-custody-test", flag="estimate", note="")
    entities = pd.DataFrame([
        dict(id="CUST", name="Custodian", type="bridge", region="defi", chain="Ethereum", other_assets_usd=0.0,
             other_liabilities_usd=100 * 100_000.0, liquid_share=1.0, insurance_fund_usd=0.0, **prov),
        dict(id="FUND", name="Fund", type="fund", region="cefi", chain="BVI", other_assets_usd=1e6,
             other_liabilities_usd=0.0, liquid_share=0.2, insurance_fund_usd=0.0, **prov),
    ])
    assets = pd.DataFrame([
        dict(symbol="BTC", name="Bitcoin", kind="volatile", price_usd=100_000.0, supply=2e7, adv_usd=5e10,
             daily_vol=0.03, **prov),
        dict(symbol="WBX", name="Wrapped BTC X", kind="volatile", price_usd=100_000.0, supply=100.0, adv_usd=1e8,
             daily_vol=0.03, peg_target=1.0, peg_unit="BTC", backing_asset="BTC", issuer="CUST", **prov),
    ])
    holdings = pd.DataFrame([dict(entity="CUST", asset="BTC", amount=held_btc, **prov),
                             dict(entity="FUND", asset="WBX", amount=60.0, **prov)])
    exposures = pd.DataFrame(columns=["id", "creditor", "debtor", "kind", "amount_usd", *prov])
    cohorts = pd.DataFrame(columns=["id", "protocol", "borrower", "collateral_asset", "debt_asset", "collateral_amount",
                                    "debt_amount", "liquidation_threshold", "liquidation_bonus", "close_factor", "style",
                                    *prov])
    return Network.from_frames(name="wrapped-custody", entities=entities, assets=assets, holdings=holdings,
                               exposures=exposures, cohorts=cohorts)


def wbx_to_btc(br) -> np.ndarray:
    """WBX's closing price over BTC's, each round of the first scenario."""
    hp = br.history["prices"][0]
    syms = list(br.asset_symbols)
    return hp[:, syms.index("WBX")] / hp[:, syms.index("BTC")]


def test_a_failed_custodians_token_opens_at_what_the_opening_clearing_pays():
    """CUST fails keeping 80% of its 105 BTC: 84 BTC for the 100 it owes, so it pays 0.84, and WBX trades at 0.84
    of BTC from round 0's close on (core.engine.exogenous.forced_issuer_prices), the ratio every later clearing
    gives (before: 0.80, the scenario's recovery share, through round 0, then 0.84 from round 1). What is
    destroyed is the 21 BTC lost ($2.1M): CUST's 5 BTC of equity ($0.5M), FUND's 60 WBX x 0.16 BTC ($0.96M),
    outsiders' 40 x 0.16 ($0.64M)."""
    br = simulate_batch(custody_network(), [Scenario(forced_defaults=["CUST"], forced_default_recovery=0.8)],
                        record=True)
    ids = list(br.entity_ids)
    np.testing.assert_allclose(wbx_to_btc(br), 0.84, rtol=1e-12)
    assert br.loss[0, ids.index("CUST")] == pytest.approx(5e5, rel=1e-9)
    assert br.loss[0, ids.index("FUND")] == pytest.approx(9.6e5, rel=1e-9)
    assert br.outside_loss[0] == pytest.approx(6.4e5, rel=1e-9)


def test_default_costs_reach_the_opening_price_too():
    """With Rogers-Veraart default costs (alpha 0.5: a defaulted entity realises half its outside assets) CUST
    pays 0.5 x 84 / 100 = 0.42 in every clearing, the opening one included: WBX at 0.42 of BTC from round 0."""
    sc = Scenario(forced_defaults=["CUST"], forced_default_recovery=0.8, default_costs={"alpha": 0.5, "beta": 1.0})
    br = simulate_batch(custody_network(), [sc], record=True)
    np.testing.assert_allclose(wbx_to_btc(br), 0.42, rtol=1e-12)


@pytest.mark.parametrize("recovery", [0.0, 0.3, 0.9, 0.97, 1.0])
@pytest.mark.parametrize("btc_move", [0.0, -0.4])
def test_the_opening_price_is_the_one_the_clearings_keep(recovery, btc_move):
    """With nothing else moving, WBX's price over BTC's never jumps after round 0: every close is CUST's paid
    ratio ``min(1, recovery x 105 / 100)``, whatever BTC does (at recovery 0, WBX is worthless from round 0: the
    price floor)."""
    sc = Scenario(forced_defaults=["CUST"], forced_default_recovery=recovery,
                  price_shocks={"BTC": btc_move} if btc_move else {})
    ratio = wbx_to_btc(simulate_batch(custody_network(), [sc], record=True))
    if recovery == 0.0:
        assert (ratio < 1e-9).all()
    else:
        np.testing.assert_allclose(ratio, min(1.0, recovery * 1.05), rtol=1e-12)


def test_a_later_rounds_exogenous_move_keeps_the_custodians_ratio():
    """BTC -30% spread over 3 rounds with CUST failed (keeping 80% of its 105 BTC): each later round's exogenous
    move re-prices WBX with its underlying at CUST's last paid ratio, 0.84, as the close did (before: at par,
    1.00 of BTC, from each round's opening until its close, through the round's liquidations and sales)."""
    from core.engine import exogenous, scenario_batch
    from core.engine.rounds import run_round
    from core.engine.state import initial_state

    net = custody_network()
    c = compile_network(net)
    b = scenario_batch(net, [Scenario(forced_defaults=["CUST"], forced_default_recovery=0.8,
                                      price_shocks={"BTC": -0.3}, shock_rounds=3)])
    s = initial_state(c, b)
    wbx, btc = net.asset_pos(["WBX", "BTC"])
    for r in range(3):
        if r:
            opening = exogenous.exogenous(c, s, b, r)["P"]
            assert opening[0, btc] < s.P[0, btc]  # the path moves BTC this round
            assert opening[0, wbx] / opening[0, btc] == pytest.approx(0.84, rel=1e-12)
        run_round(c, s, b, r)
        assert s.P[0, wbx] / s.P[0, btc] == pytest.approx(0.84, rel=1e-12)
