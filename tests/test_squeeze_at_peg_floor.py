"""The supply squeeze lifts a CDP coin at its peg only; a PSM pins it to a backing coin below par only where
the PSM can hold that coin (``core.engine.backing.backing_links``).

On 12 March 2020 DAI had no PSM (Maker's PSM-USDC-A came in December 2020): the 2020 network's DAI row has no
debt line and no balance. With CIRCLE forced to fail, USDC trades at 1e-12; the at-peg test multiplied its floor
by USDC's price whatever the PSM, so the floor fell to 1e-12 and a DAI the scenario depegged 9.5% was lifted by
the squeeze to 1.005-1.014 from round 1 (the ledger's ``monotone-2020-eth-45-circle-failed-dai-depeg-9-lag1``,
traced in session 28 (t20): the deeper ETH burnt more DAI in Maker's auctions and so held DAI higher, and the
loss fell $2.33M). Worked numbers: that pair's shallower scenario, DAI at round 1's close.
"""

import pytest

import core
from core.scenario import Scenario

DEPEG = 0.09495488771485627


@pytest.fixture(scope="module")
def net20():
    return core.datasets.load("crypto-2020-03")


def _scenario(eth: float) -> Scenario:
    return Scenario(price_shocks={"ETH": -eth}, depegs={"DAI": DEPEG}, forced_defaults=["CIRCLE"], oracle_lag=1,
                    liquidity=1.4494675034561368)


SHALLOW, DEEP = 0.4526322035676843, 0.4711916902850577


def test_the_2020_dai_has_no_psm(net20):
    pegs = net20.pegs.set_index("asset") if "asset" in net20.pegs else net20.pegs
    assert float(pegs.loc["DAI", "psm_line_usd"]) == 0.0 and float(pegs.loc["DAI", "backing_share"]) == 0.0


@pytest.mark.parametrize("eth, round1", [(SHALLOW, 0.912386), (DEEP, 0.9127)])
def test_a_depegged_dai_without_a_psm_is_not_lifted_when_usdc_fails(net20, eth, round1):
    dai = core.simulate(net20, _scenario(eth)).prices["DAI"].to_numpy()
    # the depeg's level 0.90505 with the repayment flow's premium on it (session 28's trace: 0.91239 / 0.9127 at
    # round 1), not the squeeze towards par (1.00529 / 1.01365 before)
    assert dai[1] == pytest.approx(round1, abs=5e-5), dai[:4]
    assert dai.max() < 1.0 - DEPEG + 0.02, dai.max()


def test_the_eth_45_pair_no_longer_lowers_loss(net20):
    shallow, deep = (core.simulate(net20, _scenario(e)).summary_value("total_loss_usd") for e in (SHALLOW, DEEP))
    assert deep >= shallow, (shallow, deep)  # was $587.988M -> $585.658M (-$2.33M)
