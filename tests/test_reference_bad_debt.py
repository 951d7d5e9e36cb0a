"""Bad debt in the debt token's units at reference prices, beside bad debt marked at the close
(core.engine.reference_bad_debt; the lead's decision on issue 11's bad-debt invariant)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import core
from core.engine import simulate_batch
from core.scenario import Scenario

MINI = Path(__file__).parent / "fixtures" / "mini"


@pytest.fixture(scope="module")
def ust_loan(tmp_path_factory) -> core.Network:
    """The mini network with its stablecoin renamed UST (an algorithmic stablecoin pegged to $1, no backing token)
    and one loan: AAVE's cohort C1, 50,000 ETH ($2,750) against 100M UST."""
    d = tmp_path_factory.mktemp("ust") / "mini"
    shutil.copytree(MINI, d)
    for f in d.glob("*.csv"):
        f.write_text(f.read_text().replace("USDC,USD Coin,fiat_stable", "UST,TerraUSD,algorithmic_stable").replace("USDC", "UST"))
    c = pd.read_csv(d / "cohorts.csv", keep_default_na=False)
    c[c["id"] == "C1"].to_csv(d / "cohorts.csv", index=False)
    return core.load_network(d)


# Shallow: ETH -60% ($1,100), UST 10% off peg; deep: ETH to $600, UST 50% off peg. One round, liquidators' capital
# $1 a round (the loan stays under water, unbooked). UST short: 100M - 50,000 x 1,100 / 0.9 = 38.889M, then
# 100M - 50,000 x 600 / 0.5 = 40M (more units unpaid); marked at UST's close: 35M, then 20M.
SHALLOW = dict(price_shocks={"ETH": -0.6}, depegs={"UST": 0.1})
DEEP = dict(price_shocks={"ETH": 600 / 2750 - 1}, depegs={"UST": 0.5})


def test_a_ust_loan_deeper_under_water_has_more_bad_debt_at_reference_and_less_marked(ust_loan):
    br = simulate_batch(ust_loan, [Scenario(**SHALLOW, liquidator_capacity_usd=1.0, horizon=1),
                                   Scenario(**DEEP, liquidator_capacity_usd=1.0, horizon=1)])
    aave = list(br.entity_ids).index("AAVE")
    ust = list(br.asset_symbols).index("UST")
    np.testing.assert_array_equal(br.prices[:, ust], [0.9, 0.5])
    marked, reference, fall = br.bad_debt[:, aave], br.bad_debt_reference_usd[:, aave], br.bad_debt_token_fall_usd[:, aave]
    # the $1.05 of ETH the $1 of capital sells each round moves ETH by 7e-7 of its price: the worked figures hold to 2e-6
    assert marked == pytest.approx([35e6, 20e6], rel=2e-6)
    assert reference == pytest.approx([100e6 - 50_000 * 1_100 / 0.9, 40e6], rel=2e-6)
    # the same UST units: at the close (0.9, 0.5) and at the peg ($1)
    assert reference == pytest.approx(marked / br.prices[:, ust], rel=1e-12)
    assert reference[1] > reference[0] and marked[1] < marked[0]
    np.testing.assert_array_equal(fall, reference - marked)
    assert fall == pytest.approx([(100e6 - 50_000 * 1_100 / 0.9) * (1 - 0.9), 40e6 * (1 - 0.5)], rel=2e-6)


def test_booked_bad_debt_keeps_its_units_at_reference_prices(ust_loan):
    """Liquidators without a limit exhaust C1's ETH at the deep shock and the shortfall is booked, in UST units:
    at the peg it is the marked figure over UST's close, as when it was still under water."""
    br = simulate_batch(ust_loan, [Scenario(**DEEP, horizon=3)])
    aave = list(br.entity_ids).index("AAVE")
    ust = list(br.asset_symbols).index("UST")
    assert br.liquidated_usd[0] > 0 and br.bad_debt[0, aave] > 0
    assert br.bad_debt_reference_usd[0, aave] == pytest.approx(br.bad_debt[0, aave] / br.prices[0, ust], rel=1e-12)


def test_summary_reports_both_measures_and_the_token_fall(ust_loan):
    res = core.simulate(ust_loan, Scenario(**DEEP, liquidator_capacity_usd=1.0, horizon=1))
    marked, reference = res.summary_value("bad_debt_usd"), res.summary_value("bad_debt_reference_usd")
    assert reference == pytest.approx(40e6, rel=2e-6) and marked == pytest.approx(20e6, rel=2e-6)
    assert res.summary_value("bad_debt_token_fall_usd") == reference - marked
    assert res.summary_dict()["bad_debt_reference_by_protocol_usd"] == {"AAVE": reference}


def test_without_a_fall_of_the_debt_token_both_measures_agree(ust_loan):
    br = simulate_batch(ust_loan, [Scenario(price_shocks={"ETH": -0.6}, liquidator_capacity_usd=1.0, horizon=1)])
    assert br.bad_debt.sum() > 0
    np.testing.assert_allclose(br.bad_debt_reference_usd, br.bad_debt, rtol=1e-15)


def test_rounds_and_totals_carry_the_reference_measure_round_by_round(ust_loan):
    """Each round's bad debt at reference prices beside the marked one: AAVE's UST shortfall at the peg is the marked
    figure over that round's UST price, the totals add the protocols up, and the last round is the summary's."""
    res = core.simulate(ust_loan, Scenario(**DEEP, liquidator_capacity_usd=1.0, horizon=3))
    aave = res.rounds[res.rounds["entity"] == "AAVE"]
    ust = res.prices["UST"].to_numpy()
    assert (aave["bad_debt_usd"] > 0).all() and (ust < 1).all()
    np.testing.assert_allclose(aave["bad_debt_reference_usd"], aave["bad_debt_usd"] / ust, rtol=1e-12)
    assert aave["bad_debt_reference_usd"].iloc[0] == pytest.approx(40e6, rel=2e-6)
    by_round = res.rounds.groupby("round")["bad_debt_reference_usd"].sum().to_numpy()
    np.testing.assert_allclose(res.totals["bad_debt_reference_usd"], by_round, rtol=1e-15)
    assert res.totals["bad_debt_reference_usd"].iloc[-1] == res.summary_value("bad_debt_reference_usd")
    assert res.totals["bad_debt_usd"].iloc[-1] == res.summary_value("bad_debt_usd")
    cols = list(res.rounds.columns)
    assert cols.index("bad_debt_reference_usd") == cols.index("bad_debt_usd") + 1


def _ust_montecarlo(network, ust_falls: bool, **kw):
    from core.montecarlo import run_montecarlo

    spec = {"default_depegs": False, "path": "jump", "jumps": {"ETH": {"probability": 1.0, "mean": -1.0, "sd": 0.3}},
            "depegs": {"UST": {"probability": 1.0 if ust_falls else 0.0, "size_min": 0.1, "size_max": 0.5}},
            "base": {"liquidator_capacity_usd": 1.0, "horizon": 1}}
    return run_montecarlo(network, spec, runs=200, seed=3, chunk_size=100, **kw)


def test_montecarlo_losses_and_risk_carry_the_reference_measure(ust_loan):
    """Per run, AAVE's UST shortfall at the peg is never below its value at UST's close (UST only falls), and above
    it in every run with bad debt; the risk table's rows for it are the measures of that column."""
    from core.montecarlo import expected_shortfall, value_at_risk

    res = _ust_montecarlo(ust_loan, True)
    losses = res.losses
    cols = list(losses.columns)
    assert cols.index("bad_debt_reference_usd") == cols.index("bad_debt_usd") + 1
    marked, reference = losses["bad_debt_usd"].to_numpy(), losses["bad_debt_reference_usd"].to_numpy()
    assert (marked > 0).sum() > 100
    assert (reference >= marked).all() and (reference[marked > 0] > marked[marked > 0] * 1.1).all()
    for conf in (0.95, 0.99):
        assert res.risk_value("bad_debt_reference_usd", "VaR", conf)[0] == value_at_risk(reference, conf)
        assert res.risk_value("bad_debt_reference_usd", "ES", conf)[0] == expected_shortfall(reference, conf)
    assert res.risk_value("bad_debt_reference_usd", "mean")[0] == pytest.approx(reference.mean(), rel=1e-12)
    streamed = _ust_montecarlo(ust_loan, True, streaming=True)
    assert streamed.risk_value("bad_debt_reference_usd", "VaR", 0.99)[0] == pytest.approx(value_at_risk(reference, 0.99),
                                                                                       rel=streamed.meta["streaming"]["sketch_relative_accuracy"])


def test_montecarlo_without_a_fall_of_the_debt_token_gives_both_measures_equal(ust_loan):
    losses = _ust_montecarlo(ust_loan, False).losses
    assert (losses["bad_debt_usd"] > 0).sum() > 100
    np.testing.assert_allclose(losses["bad_debt_reference_usd"], losses["bad_debt_usd"], rtol=1e-12)


def test_a_collateral_at_the_price_floor_covers_no_units_of_a_debt_token_at_its_own(ust_loan):
    """Worked numbers (core.engine.reference_bad_debt, ``floored_cover``). ETH shocked to its floor,
    PRICE_FLOOR x 2,750 = $2.75e-9, and UST depegged to its floor, $1e-12, in one round with $1 of liquidators'
    capital: at the ratio of the two bounds C1's 50,000 ETH would cover 50,000 x 2.75e-9 / 1e-12 = 137.5M UST of
    its 100M UST, so ``max(debt x debt price - collateral x price, 0) / debt price`` counts 0 units short. A price
    at the floor is a bound on a worthless token: the ETH covers nothing, and the loan is 100M UST short, $100M at
    UST's peg (0 before the rule: session 45 (shortfall), ``s44-terraedge-...-bad-debt``). Marked at the close it
    is 100M x 1e-12 = $1e-4, as before: the dollars the bounds give."""
    from core.mechanisms.market import PRICE_FLOOR

    br = simulate_batch(ust_loan, [Scenario(price_shocks={"ETH": -(1 - 1e-15)}, depegs={"UST": 1 - 1e-15},
                                            liquidator_capacity_usd=1.0, horizon=1)])
    aave = list(br.entity_ids).index("AAVE")
    eth, ust = (list(br.asset_symbols).index(a) for a in ("ETH", "UST"))
    np.testing.assert_array_equal(br.prices[0, [eth, ust]], [PRICE_FLOOR * 2750, PRICE_FLOOR * 1.0])
    assert br.bad_debt_reference_usd[0, aave] == pytest.approx(100e6, rel=1e-12)
    assert br.bad_debt[0, aave] == pytest.approx(0.0, abs=1e-3)


@pytest.fixture(scope="module")
def anchor_like_loan(tmp_path_factory) -> core.Network:
    """The UST loan with its protocol's oracle fixing the debt at $1 a UST (``debt_oracle`` ``fixed_usd``, as
    Anchor's overseer weighs a loan: core.engine.oracle, "Fixed-price oracles"); its ETH at the market."""
    d = tmp_path_factory.mktemp("anchor") / "mini"
    shutil.copytree(MINI, d)
    for f in d.glob("*.csv"):
        f.write_text(f.read_text().replace("USDC,USD Coin,fiat_stable", "UST,TerraUSD,algorithmic_stable").replace("USDC", "UST"))
    c = pd.read_csv(d / "cohorts.csv", keep_default_na=False)
    c = c[c["id"] == "C1"].copy()
    c["collateral_oracle"], c["debt_oracle"] = "market", "fixed_usd"
    c.to_csv(d / "cohorts.csv", index=False)
    return core.load_network(d)


def test_a_loan_under_water_at_a_fixed_debt_oracle_is_short_the_units_its_liquidation_would_book(anchor_like_loan):
    """Worked numbers (core.engine.reference_bad_debt, candidate decision (debtoracle)). 100M UST owed against
    50,000 ETH at $600 ($30M at the market), UST at 0.5 then 0.4, one round, $1 of liquidators' capital (the loan
    stays under water, unbooked). Its protocol weighs a UST at $1 (``fixed_usd``) and its liquidation would book
    ``(debt x $1 - collateral x price) / $1`` = 100M - 30M = 70M UST at both (``booked_units(bad_debt, Pdo)``):
    70M UST short, $70M at the peg, whatever UST trades at. At UST's market price the loan counted
    100M - 30M / 0.5 = 40M, then 100M - 30M / 0.4 = 25M: fewer units short as UST fell (before the rule). The marked
    measure is not moved: 100M x 0.5 - 30M = $20M, then 100M x 0.4 - 30M = $10M."""
    br = simulate_batch(anchor_like_loan, [Scenario(price_shocks={"ETH": 600 / 2750 - 1}, depegs={"UST": d},
                                                    liquidator_capacity_usd=1.0, horizon=1) for d in (0.5, 0.6)])
    aave = list(br.entity_ids).index("AAVE")
    ust = list(br.asset_symbols).index("UST")
    np.testing.assert_allclose(br.prices[:, ust], [0.5, 0.4], rtol=1e-15)
    assert br.liquidated_usd.max() < 3.0  # $1 of capital buys 2 or 2.5 UST, repaid at $1: nothing to speak of
    # the $1.05 of ETH the $1 of capital sells moves ETH by 7e-7 of its price: the worked figures hold to 2e-6
    assert br.bad_debt_reference_usd[:, aave] == pytest.approx([70e6, 70e6], rel=2e-6)
    assert br.bad_debt_reference_usd[1, aave] >= br.bad_debt_reference_usd[0, aave] * (1 - 1e-9)
    # the same ETH moves: $30M x 2e-6 = $60 on a difference of $10M
    assert br.bad_debt[:, aave] == pytest.approx([20e6, 10e6], abs=60)
