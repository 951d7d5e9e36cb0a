"""When a cascade has settled (core.engine.clear.settle): not while an insurance fund is still paying."""

from __future__ import annotations

import numpy as np

import core
from core.scenario import Scenario


def test_a_cascade_whose_insurance_fund_still_pays_has_not_settled():
    """stETH -27.09% alone on the 2022 network, oracle lag 1, liquidators' capital $50M: stETH sits on its staking
    floor, so prices stand still while Aave's liquidators take about $29M a round of its stETH cohorts and its
    fund pays about $1M a round of loans left under water. No entity's equity moves (the fund is outside the
    balance sheets), yet the system's losses do. Before, the cascade settled at round 9, where stETH -27.01%
    ran on to its horizon, and the deeper shock booked $2.28M less bad debt
    (monotone-shipped-steth-27-lag1-bad-debt)."""
    net = core.datasets.load("crypto-2022-05")
    sc = Scenario(price_shocks={"stETH": -0.27092914471094254}, oracle_lag=1, liquidity=1.2065749970636264,
                  liquidator_capacity_usd=5e7)
    res = core.simulate(net, sc)
    assert res.n_rounds == sc.horizon == 12
    aave = res.rounds[res.rounds["entity"] == "AAVE_ETH"].set_index("round")["bad_debt_usd"]
    assert (np.diff(aave.to_numpy()[-4:]) > 1e5).all()  # still $0.9-1.0M a round at the horizon
