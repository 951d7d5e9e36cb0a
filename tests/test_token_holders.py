"""A failed issuer's token liabilities are borne once (core.engine.token_holders): by its holders in the network
through the token's price, and by outside creditors only for the supply held outside.

Before: the whole liability was also written down as outside creditors' loss, so the part held in the network
was counted twice (on the 2020 network with Maker failed, Maker's $3.54M outside write-down was the DAI its
network holders had already marked down; ``monotone-2020-maker-failed-penalty-income-2``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings, strategies as st

from core import Scenario
from core.engine import simulate_batch
from core.network import Network

_PROV = dict(as_of="2025-10-01", source="https://example.org/token-holders-test", flag="estimate", note="")
SUPPLY = 100e6  # USDX outstanding, all owed by ISSUER at par


def issuer_network(held: float = 60e6, issuer_equity: float = 5e6) -> Network:
    """ISSUER owes the USDX supply ($100M at par) against $100M + ``issuer_equity`` of reserves (outside assets);
    FUND (in the network, $10M of its own) holds ``held`` USDX, outsiders the rest."""
    entities = pd.DataFrame([
        dict(id="ISSUER", name="Issuer", type="stablecoin_issuer", region="cefi", chain="Ethereum",
             other_assets_usd=SUPPLY + issuer_equity, other_liabilities_usd=SUPPLY, liquid_share=1.0,
             insurance_fund_usd=0.0, **_PROV),
        dict(id="FUND", name="Fund", type="fund", region="cefi", chain="BVI", other_assets_usd=10e6,
             other_liabilities_usd=0.0, liquid_share=0.2, insurance_fund_usd=0.0, **_PROV),
    ])
    assets = pd.DataFrame([
        dict(symbol="ETH", name="Ether", kind="volatile", price_usd=2000.0, supply=1.2e8, adv_usd=1e10, daily_vol=0.04,
             **_PROV),
        dict(symbol="USDX", name="USD X", kind="fiat_stable", price_usd=1.0, supply=SUPPLY, adv_usd=1e10,
             daily_vol=0.001, peg_target=1.0, peg_unit="USD", issuer="ISSUER", **_PROV),
    ])
    holdings = pd.DataFrame([dict(entity="FUND", asset="USDX", amount=held, **_PROV)])
    exposures = pd.DataFrame(columns=["id", "creditor", "debtor", "kind", "amount_usd", *_PROV])
    cohorts = pd.DataFrame(columns=["id", "protocol", "borrower", "collateral_asset", "debt_asset", "collateral_amount",
                                    "debt_amount", "liquidation_threshold", "liquidation_bonus", "close_factor", "style",
                                    *_PROV])
    return Network.from_frames(name="token-holders", entities=entities, assets=assets, holdings=holdings,
                               exposures=exposures, cohorts=cohorts)


def failed(recovery: float) -> Scenario:
    return Scenario(forced_defaults=["ISSUER"], forced_default_recovery=recovery)


def test_worked_example():
    """ISSUER keeps 80% of its $105M of reserves: $21M destroyed. It pays $84M of the $100M it owes (USDX 0.84);
    it loses its $5M of equity, FUND its 60M USDX x 0.16 = $9.6M, outsiders their 40M x 0.16 = $6.4M:
    $21M in all, the value destroyed, not $30.6M (the $16M write-down counted again in full as outside)."""
    br = simulate_batch(issuer_network(), [failed(0.8)])
    ids = list(br.entity_ids)
    i, f = ids.index("ISSUER"), ids.index("FUND")
    assert br.defaulted[0, i]
    assert br.prices[0, list(br.asset_symbols).index("USDX")] == pytest.approx(0.84, rel=1e-12)
    assert br.loss[0, i] == pytest.approx(5e6, rel=1e-12)
    assert br.loss[0, f] == pytest.approx(9.6e6, rel=1e-12)
    assert br.outside_loss[0] == pytest.approx(6.4e6, rel=1e-12)
    assert br.total_loss[0] == pytest.approx(21e6, rel=1e-12)
    # creditors' write-downs still count the whole $16M (network holders through the price): equal to the shortfall
    assert br.writedowns[0] == pytest.approx(16e6, rel=1e-12) and br.shortfall[0] == pytest.approx(16e6, rel=1e-12)


def test_all_held_outside_and_all_held_inside():
    """No holder in the network: the $16M is all outside creditors'; the whole supply in the network: none is."""
    outside = simulate_batch(issuer_network(held=0.0), [failed(0.8)])
    assert outside.outside_loss[0] == pytest.approx(16e6, rel=1e-12)
    assert outside.total_loss[0] == pytest.approx(21e6, rel=1e-12)
    inside = simulate_batch(issuer_network(held=SUPPLY), [failed(0.8)])
    assert inside.outside_loss[0] == 0.0
    assert inside.total_loss[0] == pytest.approx(21e6, rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(recovery=st.floats(0.05, 1.0), share=st.floats(0.0, 1.0), equity=st.floats(0.0, 50e6))
# found by a search (session 9): the holder's reference book of 5e-324 x the supply had no finite reciprocal, and
# the in-kind index, then every loss, was NaN (core.engine.books.reciprocal)
@example(recovery=1.0, share=5e-324, equity=0.0)
def test_system_loss_is_the_value_destroyed(recovery, share, equity):
    """Random issuer shortfalls and holder shares: system loss equals the reserves destroyed, (1 - recovery) x
    reserves, whoever holds the coin (before, the network's share of the write-down was counted twice)."""
    br = simulate_batch(issuer_network(held=share * SUPPLY, issuer_equity=equity), [failed(recovery)])
    destroyed = (1.0 - recovery) * (SUPPLY + equity)
    assert br.total_loss[0] == pytest.approx(destroyed, rel=1e-9, abs=1.0)
    short = max(destroyed - equity, 0.0)  # the issuer's unpaid liabilities
    assert br.outside_loss[0] == pytest.approx((1.0 - share) * short, rel=1e-9, abs=1.0)
    assert br.loss[0, list(br.entity_ids).index("FUND")] == pytest.approx(share * short, rel=1e-9, abs=1.0)


def test_maker_failed_2020_dai_all_in_the_network():
    """The 2020 network with Maker failed (the -2 counterexample's shallower scenario): all $104M of DAI is held
    by network entities, so Maker's unpaid share is no outside creditor's loss; its creditors' write-down
    ($3.69M, Maker's $3.54M and the rest) still equals the shortfall. Measured: loss $191.141M before, $187.599M;
    $187.365M since the DAI Maker took in is worth par to it (core.engine.books.burnt_at_par); $187.419M since
    vault owners repay before the bark (core.mechanisms.vault_defence); $187.530M since a cohort's vaults'
    ratios are spread and its lowest are barked first, the collateral auctions hand back no longer counted as
    backing the vaults (core.engine.maker: maker_spread, maker_free); $187.492M since a forced Maker's DAI trades at
    its recovery from round 0 (core.engine.exogenous.forced_issuer_prices), not at par until the first clearing;
    $188.003M since the $0.511M of chop the anonymous vaults' owners paid into the Vow is their loss
    (``borrowers_penalty_loss``, core.engine.fees.outside_borrowers_paid), the rest unchanged at $187.492M;
    $218.059M since a forced Maker is shut down at round 0's opening (core.engine.maker_end): no auction, so no
    chop, and with the oracle two rounds behind End skims the vaults at the tag 1/$194, 515,464 ETH for the 100M DAI
    of debt, which DAI's holders then hold at the market (ETH -24.4%) while the vaults' owners keep the rest."""
    import json
    from pathlib import Path

    from invariants_support import network, with_depth

    cases = json.loads((Path(__file__).parent / "regressions" / "invariant_counterexamples.json").read_text())
    case = next(c for c in cases if c["id"] == "monotone-2020-maker-failed-penalty-income-2")
    sc = with_depth(Scenario.model_validate(case["scenario"]), tuple(case["assets"]), case["depths"][0], "price")
    br = simulate_batch(network("crypto-2020-03"), [sc])
    assert br.defaulted[0, list(br.entity_ids).index("MAKER")]
    assert br.outside_loss[0] == pytest.approx(0.0, abs=1.0)
    assert np.isclose(br.writedowns[0], br.shortfall[0], rtol=1e-9)
    assert br.borrowers_penalty_loss[0] == 0.0  # no auction after the cage: no chop
    # $218.059M before session 30: Compound's oracle reads the failed Maker's DAI no lower than its band's 0.95
    # (core.engine.oracle, "Banded market prices"), so its DAI borrowers are liquidated for more ETH
    assert br.total_loss[0] == pytest.approx(218.175e6, rel=1e-5)


def custodian_network(held: float = 600.0) -> Network:
    """CUST holds 1,000 ETH ($2M) for the 1,000 WETHX it issued (a wrapped token, no pool); FUND holds ``held``
    WETHX, outsiders the rest."""
    net = issuer_network(held=0.0, issuer_equity=0.0)
    entities = pd.concat([net.entities, pd.DataFrame([dict(
        id="CUST", name="Custodian", type="stablecoin_issuer", region="cefi", chain="Ethereum", other_assets_usd=0.0,
        other_liabilities_usd=2e6, liquid_share=1.0, insurance_fund_usd=0.0, **_PROV)])], ignore_index=True)
    assets = pd.concat([net.assets, pd.DataFrame([dict(
        symbol="WETHX", name="Wrapped ether X", kind="volatile", price_usd=2000.0, supply=1000.0, adv_usd=1e10,
        daily_vol=0.04, peg_target=1.0, peg_unit="ETH", issuer="CUST", **_PROV)])], ignore_index=True)
    holdings = pd.DataFrame([dict(entity="CUST", asset="ETH", amount=1000.0, **_PROV),
                             dict(entity="FUND", asset="WETHX", amount=held, **_PROV)])
    return Network.from_frames(name="custodian", entities=entities, assets=assets, holdings=holdings,
                               exposures=net.exposures, cohorts=net.cohorts)


def test_failed_custodian_wrapped_token():
    """CUST keeps 80% of its ETH: WETHX trades at 0.8 ETH; FUND's 600 WETHX lose ~$240k through the price, outsiders'
    400 are written down ~$160k: ~$400k in all, the 200 ETH lost (before: ~$640k, the whole write-down also
    counted as outside creditors')."""
    br = simulate_batch(custodian_network(), [Scenario(forced_defaults=["CUST"], forced_default_recovery=0.8)])
    ids, sy = list(br.entity_ids), list(br.asset_symbols)
    eth = br.prices[0, sy.index("ETH")]
    assert br.prices[0, sy.index("WETHX")] == pytest.approx(0.8 * eth, rel=1e-12)
    assert br.loss[0, ids.index("FUND")] == pytest.approx(600 * (2000 - 0.8 * eth), rel=1e-9)
    assert br.outside_loss[0] == pytest.approx(400 * 0.2 * eth, rel=1e-9)
    # the custodian (no equity) loses nothing more; ETH moves by the sale ahead of its estate (a few dollars), a
    # fall outsiders bear on their 400 WETHX outside the network
    assert eth == pytest.approx(2000.0, rel=1e-3)
    assert br.total_loss[0] == pytest.approx(600 * (2000 - 0.8 * eth) + 400 * 0.2 * eth, rel=1e-9)
