"""crypto-2025-10: Sky's DAI and USDS supplies, dated 10 Oct 2025, and what the snapshot derives from them.

MathWallet's Global Stablecoin Newsletter #08 (10 Oct 2025, DefiLlama data) states DAI $5.02bn and USDS $4.363bn,
the dated figures nearest to the snapshot's 1 Oct 2025 (session 33; before, $5.146bn and $5.319bn of an article
dated only by inference to late October). Worked numbers: SKY owes 5.02 + 4.363 = $9.383bn; the LitePSM's $4.0bn
of USDC (an estimate) is 4.0 / 9.383 = 0.4263 of the coins on both pegs rows; SKY's other assets close its balance
sheet to its $150M buffer: 9.383 + 0.15 - 1.5 (vault loans) - 4.0 (USDC) - 0.8 (SparkLend) - 0.55 (USDT) = $2.683bn.
"""

from __future__ import annotations

import pytest

import core


@pytest.fixture(scope="module")
def net():
    return core.datasets.load("crypto-2025-10")


def test_dai_and_usds_are_the_dated_supplies_of_10_october(net):
    a = net.assets.set_index("symbol")
    for coin, supply in (("DAI", 5.02e9), ("USDS", 4.363e9)):
        assert a.loc[coin, "supply"] == supply
        assert a.loc[coin, "flag"] == "sourced" and a.loc[coin, "as_of"] == "2025-10-10"
        assert "global-stablecoin-newsletter-08" in a.loc[coin, "source"]
    h = net.holdings
    for coin, supply in (("DAI", 5.02e9), ("USDS", 4.363e9)):  # every coin held by someone
        assert h.loc[h.asset == coin, "amount"].sum() == pytest.approx(supply, rel=1e-12)


def test_sky_owes_both_coins_and_its_psm_share_is_derived_from_them(net):
    e = net.entities.set_index("id")
    assert e.loc["SKY", "other_liabilities_usd"] == pytest.approx(9.383e9, rel=1e-12)
    assert e.loc["SKY", "other_assets_usd"] == pytest.approx(2.683e9, abs=1.0)
    assert e.loc["SKY", "other_assets_usd"] + 1.5e9 + 4.0e9 + 0.8e9 + 0.55e9 - 9.383e9 == pytest.approx(0.15e9, abs=1.0)
    pg = net.pegs.set_index("asset")
    assert pg.loc["DAI", "backing_share"] == pg.loc["USDS", "backing_share"] == 0.4263 == round(4.0 / 9.383, 4)
    h = net.holdings
    assert h.loc[(h.entity == "SKY") & (h.asset == "USDC"), "amount"].sum() == 4.0e9
