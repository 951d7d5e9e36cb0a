"""When a cascade has settled (core.engine.clear.settle): not while an insurance fund is still paying, nor while
LPs are still leaving a staking pool."""

from __future__ import annotations

import sys
from pathlib import Path

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


def test_a_cascade_whose_lps_still_leave_a_staking_pool_has_not_settled(monkeypatch):
    """Worked numbers: FTT -66.256% with USDC 20.3% off peg, full runs, oracle lag 2, liquidity 0.52, on
    synthetic(1000, 5000, seed 16), run to horizon 365. The stETH pool's LPs withdraw each round a share of the
    pool, balanced (core.engine.staking.liquid_staking_round): that moves no price and no entity's equity (the
    units stay the pool entity's), but the pool they leave thins, and some hundred rounds on the cascade's
    small flows move stETH again and four more entities default (rounds 220-222). In round 114 the LPs still
    took $10.73M; before, the cascade settled there (the equity still, the oracles' prices equal to the last
    bit), while FTT -64.757% ran on to its horizon: loss fell $257.1M and 4 defaults at the deeper shock
    (monotone-synthetic1000-seed16-ftt-usdc-depeg-runs-lag2-end)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from invariants_support import at_point, network

    import core.engine.rounds as rounds
    import core.engine.staking as staking
    from core.engine import simulate_batch

    taken: dict[int, float] = {}
    step = staking.liquid_staking_round

    def recorded(c, s, b, r):
        before = s.lp_withdrawn.copy()
        changes = step(c, s, b, r)
        lp, P = c.pegs.lst_pool, changes["P"]
        units = changes["lp_withdrawn"][:, lp] - before[:, lp]  # what the LPs took this round: token, counter
        taken[r] = float((units[..., 0] * P[:, c.pegs.lst_asset] + units[..., 1] * P[:, c.pool_counter[lp]]).sum())
        return changes

    monkeypatch.setattr(rounds, "STEPS", tuple(recorded if f is step else f for f in rounds.STEPS))
    base = Scenario(depegs={"USDC": 0.20341209708037997}, run_intensity=1.0, oracle_lag=2,
                    liquidity=0.5168862928984137, horizon=365)
    br = simulate_batch(network("synthetic-1000-5000-16"), [at_point(base, {"FTT": 0.6625566527364319}, "price")])
    assert 10.7e6 < taken[114] < 10.8e6  # the LPs' withdrawals of the round the cascade settled in before
    assert br.rounds_run[0] == 365 and 58e3 < taken[364] < 59e3  # still leaving at the horizon
    assert (br.default_round[0] >= 200).sum() == 4
