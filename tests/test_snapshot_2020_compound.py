"""Compound in the crypto-2020-03 snapshot ties to its sourced market figures of 11 March 2020.

Source (README tag PLF-data): Compound's API market history as published with Gudgeon, Werner,
Perez & Knottenbelt, *DeFi Protocols for Loanable Funds* (AFT 2020), daily means of 11 March 2020:

    market   supplied       borrowed
    DAI      18,390,660     17,327,042      (the repository's notebook prints the day's row)
    USDC     36,605,498      4,352,161      (cTokens x exchange rate, the authors' conversion)
    ETH      297,354.3 ETH   2,811.5 ETH    (ETH borrows are not modelled)

Model: a lending pool owes its suppliers loans + idle liquidity, so for each stable market
loans (the cohorts' debt) + idle holding = supplied, and the ETH pledged by the cohorts plus
Compound's idle ETH = the cETH supply; the suppliers' claims are one deposit row per market.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "crypto-2020-03"
SUPPLIED = {"DAI": 18_390_660, "USDC": 36_605_498}
BORROWED = {"DAI": 17_327_042, "USDC": 4_352_161}
ETH_SUPPLIED = 297_354.3
ETH_USD = 194.0


def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"{name}.csv", keep_default_na=False)


@pytest.fixture(scope="module")
def compound():
    c = _csv("cohorts")
    h = _csv("holdings")
    x = _csv("exposures")
    return c[c["protocol"] == "COMP"], h[h["entity"] == "COMP"].set_index("asset")["amount"].astype(float), \
        x[x["debtor"] == "COMP"].set_index("id")


@pytest.mark.parametrize("asset", ["DAI", "USDC"])
def test_stable_markets_tie_to_the_sourced_supply_and_borrows(compound, asset):
    cohorts, idle, deposits = compound
    loans = cohorts.loc[cohorts["debt_asset"] == asset, "debt_amount"].astype(float).sum()
    assert loans == BORROWED[asset]
    assert loans + idle[asset] == SUPPLIED[asset]
    row = deposits.loc[f"DEFI_SUPPLIERS-COMP-{asset}-deposit"]
    assert float(row["amount_usd"]) == SUPPLIED[asset] and row["flag"] == "sourced"


def test_eth_pledged_plus_idle_is_the_ceth_supply(compound):
    cohorts, idle, deposits = compound
    pledged = cohorts["collateral_amount"].astype(float).sum()
    assert pledged + idle["ETH"] == pytest.approx(ETH_SUPPLIED, abs=1e-3)
    # Worked numbers: 260,866 ETH pledged at the profile's health factors, 36,489 ETH idle = $7.08M of claims.
    assert pledged == pytest.approx(260_865.62, abs=0.01)
    assert float(deposits.loc["DEFI_SUPPLIERS-COMP-ETH-deposit", "amount_usd"]) == pytest.approx(idle["ETH"] * ETH_USD, abs=1.0)


def test_compound_owes_exactly_its_loans_and_idle_liquidity(compound):
    # Equity 0: what suppliers are owed ($62.07M) is the loan book ($21.68M) plus idle DAI, USDC and ETH.
    cohorts, idle, deposits = compound
    assets = cohorts["debt_amount"].astype(float).sum() + idle["DAI"] + idle["USDC"] + idle["ETH"] * ETH_USD
    owed = deposits.loc[deposits["creditor"] == "DEFI_SUPPLIERS", "amount_usd"].astype(float).sum()
    assert owed == pytest.approx(62_074_961, abs=1.0)
    assert 0.0 <= assets - owed < 1.0


def test_cohort_health_factors_are_the_profile(compound):
    # collateral x $194 x LT / debt is the health factor named in each cohort's id (hf1_02 -> 1.02).
    cohorts, _, _ = compound
    hf = cohorts["collateral_amount"].astype(float) * ETH_USD * cohorts["liquidation_threshold"].astype(float) \
        / cohorts["debt_amount"].astype(float)
    named = cohorts["id"].str.extract(r"hf(\d)_(\d\d)$").astype(float).pipe(lambda d: d[0] + d[1] / 100)
    assert (hf - named).abs().max() < 1e-6
