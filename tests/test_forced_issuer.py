"""A coin whose issuer the scenario forces to fail trades at the issuer's recovery from round 0
(core.engine.defend.forced_issuer_prices, called by core.engine.exogenous).

Before: the recovery reached the coin's price only after the first clearing, so the coin traded at par
through round 0 and into round 1's opening; round 0's liquidators repaid loans in it at par and round 1's
runs paid depositors in it at par (``monotone-2025-wbtc-circle-failed-runs``: CIRCLE forced to fail on
crypto-2025-10, USDC $1.000 at round 0's close and 1e-12 at round 1's, $31.0M less loss for a deeper WBTC
fall).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from core import Scenario
from core.engine import simulate_batch
from core.network import Network
from test_pass_through import _PROV, pool_network
from test_token_holders import failed, issuer_network


def coin_path(br, symbol: str) -> np.ndarray:
    """The coin's closing price each round of the first scenario."""
    return br.history["prices"][0, :, list(br.asset_symbols).index(symbol)]


def test_the_coin_opens_at_the_recovery():
    """ISSUER keeps 80% of its $105M of reserves and owes $100M: it pays 0.84, and USDX closes round 0 at 0.84
    (before: 1.00, then 0.84 from round 1); the losses are the worked example's ($5M ISSUER's equity, FUND's
    60M USDX x 0.16, outsiders' 40M x 0.16: the $21M destroyed)."""
    br = simulate_batch(issuer_network(), [failed(0.8)], record=True)
    ids = list(br.entity_ids)
    np.testing.assert_allclose(coin_path(br, "USDX"), 0.84, rtol=1e-12)
    assert br.loss[0, ids.index("ISSUER")] == pytest.approx(5e6, rel=1e-12)
    assert br.loss[0, ids.index("FUND")] == pytest.approx(9.6e6, rel=1e-12)
    assert br.outside_loss[0] == pytest.approx(6.4e6, rel=1e-12)


@settings(max_examples=20, deadline=None)
@given(recovery=st.floats(0.01, 1.0))
def test_the_opening_price_is_the_one_the_clearings_keep(recovery):
    """Property: with nothing else moving, the coin's price never jumps after round 0: every close is the
    issuer's paid ratio ``min(1, recovery x 105 / 100)``."""
    br = simulate_batch(issuer_network(), [failed(recovery)], record=True)
    np.testing.assert_allclose(coin_path(br, "USDX"), min(1.0, recovery * 1.05), rtol=1e-12)


def issued_pool_network() -> Network:
    """test_pass_through's pool (100M USDC idle, a cohort of 100,000 ETH owing 100M USDC, FUND owed $200M), with
    USDC issued by ISSUER, which holds $200M of reserves for the 200M USDC outstanding (100M in the pool, 100M
    outside)."""
    base = pool_network()
    entities = pd.concat([base.entities, pd.DataFrame([dict(
        id="ISSUER", name="Issuer", type="stablecoin_issuer", region="cefi", chain="Ethereum",
        other_assets_usd=200e6, other_liabilities_usd=200e6, liquid_share=1.0, insurance_fund_usd=0.0, **_PROV)])],
        ignore_index=True)
    assets = base.assets.copy()
    assets.loc[assets.symbol == "USDC", "supply"] = 200e6
    assets["issuer"] = np.where(assets.symbol == "USDC", "ISSUER", None)
    return Network.from_frames(name="issued-pool", entities=entities, assets=assets, holdings=base.holdings,
                               exposures=base.exposures, cohorts=base.cohorts)


def issuer_fails(eth: float) -> Scenario:
    return Scenario(price_shocks={"ETH": eth}, forced_defaults=["ISSUER"], forced_default_recovery=0.5)


def test_no_liquidation_repays_a_failed_issuers_coin_at_par():
    """ETH -40% ($1,200) with ISSUER keeping half its reserves: USDC trades at 0.5 from round 0, so the loan's
    120M USD of ETH at the 0.8 threshold cover its 100M USDC ($50M) 1.92 times and nothing is liquidated
    (before: at par the loan was under water in round 0 and liquidators repaid $68.9M of it at $1). The pool's
    100M USDC and its 100M USDC loan are worth $100M against the $200M it owes FUND: FUND loses $100M;
    outsiders' 100M USDC lose $50M."""
    br = simulate_batch(issued_pool_network(), [issuer_fails(-0.4)], record=True)
    ids = list(br.entity_ids)
    np.testing.assert_allclose(coin_path(br, "USDC"), 0.5, rtol=1e-12)
    assert br.liquidated_usd[0].sum() == 0.0
    assert br.loss[0, ids.index("FUND")] == pytest.approx(100e6, rel=1e-9)
    assert br.outside_loss[0] == pytest.approx(50e6, rel=1e-9)
    assert br.total_loss[0] == pytest.approx(150e6, rel=1e-9)


@pytest.mark.xfail(strict=True, reason=(
    "Open: an outside holder's write-down of a failed issuer's coin is counted on the coins outsiders hold at the "
    "end (core.engine.token_holders.network_held_liabilities); at ETH -72% the loan is liquidated, liquidators buy "
    "the outsiders' 100M USDC at the recovery and repay them into the pool, and the outsiders' $50M loss leaves the "
    "count although they bore it: loss $150M at ETH -65%, $100M at -72%"))
def test_losses_never_fall_as_eth_deepens_with_the_issuer_failed():
    br = simulate_batch(issued_pool_network(), [issuer_fails(-0.65), issuer_fails(-0.72)])
    assert br.total_loss[1] >= br.total_loss[0]


def test_a_forced_exchanges_token_opens_at_its_issuers_health():
    """FTX forced to fail with nothing recovered (shipped 2022 network): FTX's equity is gone in the opening
    clearing, so FTT closes round 0 at the floor share of its price at full health, 3% x $30 = $0.90, and no
    later close is above it (core.engine.exogenous.forced_issuer_prices, the exchange-token rule of
    core.engine.exchange_tokens.exchange_token_prices taken on the opening books). Before: FTT closed round 0 at its
    reference $30.00, and round 0's liquidations and sales transacted it there; it reached $0.90 only at round
    1's close. History: FTT $24.01 on 6 November 2022, $22.27 on 7 November, $2.10 on 13 November after FTX's
    bankruptcy filing on the 11th (-90.4%; CoinGecko, as reported by Fox Business), $25.77 to $2.68 in the week
    (bitcoinke.io, 11 November 2022)."""
    from core.mechanisms.pegs import EXCHANGE_TOKEN_FLOOR
    from invariants_support import network

    br = simulate_batch(network("shipped"), [Scenario(forced_defaults=["FTX"])], record=True)
    ftt = coin_path(br, "FTT")
    assert br.defaulted[0, list(br.entity_ids).index("FTX")]
    assert ftt[0] == pytest.approx(EXCHANGE_TOKEN_FLOOR * 30.0, rel=1e-12)
    assert (ftt <= ftt[0] * (1 + 1e-12)).all()


def test_an_exchange_token_of_an_issuer_not_forced_opens_where_the_scenario_puts_it():
    """The opening clearing prices only a forced issuer's token: with ALAMEDA forced (ftx_nov_2022's premise)
    and FTX standing, FTT opens round 0 at its price path's first step ($30 x (1 + 0)), as before."""
    from invariants_support import network

    sc = Scenario(forced_defaults=["ALAMEDA"], price_paths={"FTT": [0.0, -0.1]}, shock_rounds=1)
    br = simulate_batch(network("shipped"), [sc], record=True)
    assert coin_path(br, "FTT")[0] == pytest.approx(30.0, rel=1e-12)
