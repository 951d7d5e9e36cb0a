"""A one-cohort lending network for the tests of liquidation fees and who counts them (tests/test_penalty_loss.py,
tests/test_outside_transfers.py).

LENDER (a lending protocol) lends 100M USDC against 100,000 ETH ($200M at $2,000; threshold 0.80, bonus 8%, close
factor 0.5) to one cohort, anonymous unless ``borrower`` names FUND; it holds 100M USDC and ``eth_held`` ETH of its
own; deep markets (no price impact). Its funding is either FUND's $200M deposit (``fund_deposit``) or
``other_liabilities`` owed outside, with ``other_assets`` beside.
"""

from __future__ import annotations

import pandas as pd

from core.network import Network

PROV = dict(as_of="2022-05-06", source="https://example.org/lending-fee-test", flag="estimate", note="")
ETH0 = 2000.0


def lending_network(style: str = "aave_v3", borrower: str = "", *, eth_held: float = 0.0, other_assets: float = 0.0,
                    other_liabilities: float = 0.0, fund_deposit: float = 200e6) -> Network:
    entities = pd.DataFrame([
        dict(id="LENDER", name="Lender", type="lending_protocol", region="defi", chain="Ethereum",
             other_assets_usd=other_assets, other_liabilities_usd=other_liabilities, liquid_share=1.0,
             insurance_fund_usd=0.0, **PROV),
        dict(id="FUND", name="Fund", type="fund", region="cefi", chain="BVI", other_assets_usd=300e6,
             other_liabilities_usd=0.0, liquid_share=0.2, insurance_fund_usd=0.0, **PROV)])
    assets = pd.DataFrame([
        dict(symbol="ETH", name="Ether", kind="volatile", price_usd=ETH0, supply=1.2e8, adv_usd=1e14, daily_vol=0.04,
             **PROV),
        dict(symbol="USDC", name="USD Coin", kind="fiat_stable", price_usd=1.0, supply=5e10, adv_usd=1e14,
             daily_vol=0.001, peg_target=1.0, peg_unit="USD", **PROV)])
    holdings = [dict(entity="LENDER", asset="USDC", amount=100e6, **PROV)]
    if eth_held:
        holdings.append(dict(entity="LENDER", asset="ETH", amount=eth_held, **PROV))
    exposures = (pd.DataFrame([dict(id="X1", creditor="FUND", debtor="LENDER", kind="deposit", amount_usd=fund_deposit,
                                    **PROV)]) if fund_deposit
                 else pd.DataFrame(columns=["id", "creditor", "debtor", "kind", "amount_usd", *PROV]))
    cohorts = pd.DataFrame([dict(
        id="LENDER.ETH", protocol="LENDER", borrower=borrower, collateral_asset="ETH", debt_asset="USDC",
        collateral_amount=100_000.0, debt_amount=100e6, liquidation_threshold=0.8, liquidation_bonus=0.08,
        close_factor=0.5, style=style, underwater_ok=False, **PROV)])
    return Network.from_frames(name="lending-fee", entities=entities, assets=assets, holdings=pd.DataFrame(holdings),
                               exposures=exposures, cohorts=cohorts)
