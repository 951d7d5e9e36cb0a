"""When a cascade has settled (core.engine.clear.settle): not while an insurance fund is still paying."""

from __future__ import annotations

import numpy as np
import pytest

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


def test_a_psm_still_filling_towards_its_line_has_not_settled():
    """USDC 25% off peg alone on the 2025 network, horizon 365. Arbitrageurs sell USDC into Sky's two PSMs for DAI
    and USDS, a capacity a round (core.mechanisms.psm.psm_arbitrage), which pins the coins at USDC's 0.75 while the
    PSMs fill towards their $5bn lines; a PSM's intake moves no equity (its holdings and what it owes move together,
    core.engine.backing.follow_balance) and no price, so the cascade settled at round 3 with the PSMs half full and
    DAI and USDS at 0.75. Run on, the lines bind and the coins lift to their backed value (38.2% USDC at 0.75, the
    rest at par: at most 0.9045): DAI 0.847, USDS 0.849, and the loss is $1.21bn less ($24.407bn before). A deeper
    shock whose run went on by chance met the lift and lost $154.4M less
    (monotone-2025-cbbtc-jitosol-cbeth-usdc-depeg-stable-holders-failed-runs-365). This is the PSMs with governance
    not acting (``safeguards.psm_governance_halt`` off); with Sky's halt of sellGem after 12 hours
    (core.mechanisms.psm_halt) half of round 0 fills them, and from round 1 the coins trade at their backed value with
    the PSMs' shares frozen (DAI 0.9037, USDS 0.9040), so the cascade rightly settles with nothing filling, and
    loses $22.505bn: at round 2 since session 31 (s31-poolidx: a claim held on a pool valued at the pool's index of
    the same round, core.engine.held_claims); it settled at round 3 when HLP's 300M and ABC's 47.95M on HYPERLIQUID
    (whose index follows 0.95 of its claims on the bridge's USDC: 0.05 + 0.95 x 0.75 = 0.7625) fell a round late,
    -$71.25M and -$11.39M in round 2 with SKY's claim on SPARKLEND's +$11.14M; now in round 0, and round 2 moves
    SKY's -$0.40M alone, the move that came at round 3 before. The loss is the same to the dollar.
    Session 33 (DAI $5.02bn and USDS $4.363bn of 10 Oct 2025, were $10.465bn together; the PSMs' share 0.382 ->
    0.4263 of $4.0bn of USDC): the backed value is 0.4263 x 0.75 + 0.5737 = 0.8934 (was 0.9045), so with the halt
    DAI 0.89268 and USDS 0.89285 from round 1 (were 0.90366, 0.90396) and the loss is $22.5257bn (was $22.5052bn),
    still settled at round 2; without it the run settles at round 121 (was 101) with DAI 0.84137 and USDS 0.83340
    (were 0.84719, 0.84916) and loses $23.1443bn (was $23.1937bn); round 3's DAI is 0.7499999999999999, USDC's 0.75
    less an ulp of the share's arithmetic (was 0.75 exactly)."""
    from core.scenario import Safeguards

    net = core.datasets.load("crypto-2025-10")
    halted = core.engine.simulate_batch(net, [Scenario(depegs={"USDC": 0.25}, horizon=365)], record=True)
    Ph, syms = halted.history["prices"][0], list(halted.asset_symbols)
    # $22.5591bn since s35-data (+$33.37M: COMPOUND_V3's supply $3.23bn, was $3.05bn, owed in kind; its book $1.06bn)
    assert halted.rounds_run[0] == 2 and halted.total_loss[0] == pytest.approx(22.5591e9, rel=1e-4)  # 22.5257e9 before s35, 22.505e9 before s33
    share = float(net.pegs.set_index("asset").loc["DAI", "backing_share"])
    assert share == 0.4263  # 4.0 / (5.02 + 4.363) (0.382 before session 33)
    backed = share * 0.75 + 1.0 - share
    for s in ("DAI", "USDS"):  # 0.89268, 0.89285 (0.904 before session 33)
        assert (np.abs(Ph[1:, syms.index(s)] - 0.8927) < 1e-3).all() and (Ph[1:, syms.index(s)] <= backed + 1e-12).all()
    br = core.engine.simulate_batch(net, [Scenario(depegs={"USDC": 0.25}, horizon=365,
                                                   safeguards=Safeguards(psm_governance_halt=False))], record=True)
    P, syms = br.history["prices"][0], list(br.asset_symbols)
    dai, usds, usdc = (P[:, syms.index(s)] for s in ("DAI", "USDS", "USDC"))
    assert 3 < br.rounds_run[0] < 365  # settles, once the lines bind
    assert usds[3] == usdc[3] == 0.75 and dai[3] == pytest.approx(0.75, abs=2e-16)  # where it stopped before (DAI an ulp low)
    for coin in (dai, usds):  # 0.84137, 0.83340 (0.84719, 0.84916 before session 33, bound 0.84)
        assert 0.83 < coin[-1] <= backed + 1e-12
    assert br.total_loss[0] < 24.0e9


def test_a_premium_pinned_at_its_cap_has_not_settled():
    """ETH -41.08% with BINANCE forced to fail on the 2020 network, full runs, liquidators' capital $50M, horizon
    365. Auctions burn DAI faster than vault owners and the PSM-less 2020 market re-mint it, so the squeeze holds DAI
    at its cap, 1 + MAX_PREMIUM = 1.12, in rounds 0-4 (core.engine.backing.backing_links); the liquidations are
    over by round 4 at this depth. A price pinned at its cap moves no equity while the re-mint under it still runs
    (core.mechanisms.cdp_premium.remint), and the cascade settled there with DAI at 1.12 (rounds_run 4), where
    ETH -41.00% still moved in round 4, ran on, and its DAI faded to 1.00019 by round 166: $312,203 less loss at
    the deeper shock (monotone-2020-eth-41-binance-failed-full-runs-capital-50m-365). Both now fade alike. On the
    network with Compound's DAI at the market, as before session 30 (with its band the run settles at round 5:
    test_a_fading_premium_that_liquidators_wait_out_has_not_settled)."""
    br = _binance_fade(_compound_dai_at_market())
    dai = list(br.asset_symbols).index("DAI")
    for row in range(2):
        P = br.history["prices"][row][:, dai]
        assert (P[:5] == 1.12).all()  # pinned at the cap in rounds 0-4 at both depths
        assert P[5] < 1.116 and 1.0 < P[-1] < 1.0003  # the fade
    # the deeper row settled at round 4 before; equity stops moving at round 166 and the fade's last rounds move
    # DAI's supply by more than the settle tolerance to round 259 / 260 (core.engine.clear.premium_fading)
    assert (br.rounds_run >= 166).all()
    assert br.total_loss[1] >= br.total_loss[0]  # $4,310.263M against $4,310.244M ($312,203 less before)


def _binance_fade(net: core.Network):
    """ETH -41.00% and -41.08% with BINANCE forced to fail, full runs, liquidity 1.136, $50M, 365 rounds, recorded."""
    base = dict(forced_defaults=["BINANCE"], run_intensity=1.0, liquidity=1.136429154151447, horizon=365,
                liquidator_capacity_usd=5e7)
    depths = (0.4100204695676999, 0.41077544198779437)
    return core.engine.simulate_batch(net, [Scenario(price_shocks={"ETH": -d}, **base) for d in depths], record=True)


def _compound_dai_at_market() -> core.Network:
    net = core.datasets.load("crypto-2020-03")
    co = net.cohorts.copy()
    co.loc[co["debt_oracle"].astype(str).str.startswith("band:"), "debt_oracle"] = "market"
    return core.Network.from_frames(name="crypto-2020-03-dai-market", **{**net.frames(), "cohorts": co})


def test_a_fading_premium_that_liquidators_wait_out_has_not_settled():
    """The scenario of test_a_premium_pinned_at_its_cap_has_not_settled on the shipped network (Compound's DAI at
    band:0.95:1.05). DAI at its cap 1.12 in rounds 0-4, 1.11438 / 1.11503 in round 5; Compound's DAI borrowers'
    liquidators pay 1.114 for a DAI the oracle values at 1.05 with a 5% bonus (margin ln(1.1025 / 1.114) < 0) and
    stand aside, so no equity moves in round 5 (max |change| 0.0 against the tolerance $21.40) and both rows settle
    there (rounds_run 5; loss $4,309.728M -> $4,309.746M). At the market oracle the same fade moves COMP's and its
    suppliers' equity by ~$15k a round and the rows run to round 166. The run goes on while the fade moves the
    value of DAI's supply by more than the settle tolerance (core.engine.clear.premium_fading): to round 259 / 260,
    DAI 1.0000050, loss $4,309.724M -> $4,309.750M (the deeper the larger)."""
    br = _binance_fade(core.datasets.load("crypto-2020-03"))
    dai = list(br.asset_symbols).index("DAI")
    for row in range(2):
        P = br.history["prices"][row][:, dai]
        assert 1.0 < P[-1] < 1.0003  # the fade followed to its end
    assert (br.rounds_run > 166).all()
    assert br.total_loss[1] >= br.total_loss[0]
