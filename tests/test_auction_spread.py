"""A Maker-style cohort of a lending or cdp protocol is a spread of vaults, barked vault by vault below their ratio
(core.engine.auction_vaults.auction_spread0, barked_share, spread_after_barks; core.mechanisms.cohort_spread).

Worked numbers: synthetic(1000, 5000, seed 7)'s cohort C000406 (cdp protocol E000894, Maker style): 221,322.031292
stETH against 336,901,314.3 DAI at a liquidation ratio of 1.5 (LT 2/3), its vaults' ratios spread +-5% about the
cohort's. At stETH $2,390.22 (ETH -12.77%, round 0) its ratio over the line is h = 221,322.03 x 2,390.22 x (2/3) /
336,901,314.3 = 1.046812; the vaults below 1 are the share s = (1/h - 0.95) / 0.10 = 0.052817 of its debt
($17.79M), holding s (0.95 + 0.05 s) = 0.050317 of its collateral (11,135.9 stETH); what is left is spread
0.05 (1 - s) / (1 + 0.05 s) = 0.047234 about its new ratio. At $2,320.30 (ETH -15.32%): h = 1.016190, s = 0.340682
($114.78M), 72,914.7 stETH, spread left 0.032414. (Barked whole at one ratio, the cohort went at $2,251.5 and not
at $2,287.3, a round apart across a drained pool: ``monotone-synthetic1000-seed7-usdc-depeg-eth-ftt-bad-debt``.)"""

from __future__ import annotations

import numpy as np
import pytest

import core
from core.engine import compile_network, simulate_batch
from core.engine.auction_vaults import auction_cohorts, auction_spread0, barked_share, spread_after_barks
from core.scenario import Scenario

C, D, LT = 221322.031292, 336901314.3, 2.0 / 3.0


def _one(x: float) -> np.ndarray:
    return np.array([[x]])


@pytest.mark.parametrize("price, share, coll, left", [
    (2390.22, 0.052817, 11135.9, 0.047234),
    (2320.30, 0.340682, 72914.7, 0.032414),
])
def test_barked_share_worked_numbers(price, share, coll, left):
    s, c = barked_share(_one(C), _one(D), _one(price), _one(1.0), _one(LT), _one(True), _one(0.05))
    assert s[0, 0] == pytest.approx(share, abs=1e-6)
    assert c[0, 0] == pytest.approx(coll, abs=0.1)
    assert spread_after_barks(_one(0.05), s)[0, 0] == pytest.approx(left, abs=1e-6)
    # what is left is not barked again at the same price
    s2, _ = barked_share(_one(C - c[0, 0]), _one(D * (1 - s[0, 0])), _one(price), _one(1.0), _one(LT), _one(True),
                         spread_after_barks(_one(0.05), s))
    assert s2[0, 0] == pytest.approx(0.0, abs=1e-9)


def test_without_a_spread_a_cohort_is_one_vault():
    line = D / (C * LT)  # $2,283.3 a stETH
    for price, whole in ((line * 0.999, 1.0), (line * 1.001, 0.0)):
        s, c = barked_share(_one(C), _one(D), _one(price), _one(1.0), _one(LT), _one(True), _one(0.0))
        assert (s[0, 0], c[0, 0]) == (whole, whole * C)
    s, _ = barked_share(_one(C), _one(D), _one(line * 0.999), _one(1.0), _one(LT), _one(False), _one(0.05))
    assert s[0, 0] == 0.0  # outside the mask: not an auction cohort


@pytest.fixture(scope="module")
def seed7():
    return core.datasets.synthetic(1000, 5000, seed=7)


def test_auction_cohorts_get_the_vaults_spread(seed7):
    c = compile_network(seed7)
    w = auction_spread0(c)
    j = list(seed7.cohorts["id"]).index("C000406")
    assert auction_cohorts(c)[j] and w[j] == pytest.approx(0.05)
    assert not w[~auction_cohorts(c)].any()  # close-factor cohorts keep their own spread (compiled c_spread)


def test_the_traced_pair_with_a_staking_floor_is_monotone(seed7):
    """The ledger pair on the synthetic network given the shipped stETH pegs row (its arbitrage floor): with the
    cohort barked whole it fell $164M of loss and $454.2M -> $0 of bad debt (C000406 barked at a round-3 auction
    clearing of $262 a stETH); with the vaults spread, loss $19.179bn -> $19.576bn and no bad debt at either.
    (Session 11's positions held to redemption, core.mechanisms.lst_holdings, moved the pair to
    $18.936bn -> $19.326bn, the rise from $396.6M to $390.0M: stETH bought back towards its floor in later rounds
    at both depths. Session 14's auctions' remainders handed to the vaults' owners, out of the cohort,
    core.engine.auction_vaults.returned_to_owner: the rise $401.1M.)"""
    ship = core.datasets.load("crypto-2022-05")
    frames = dict(seed7.frames())
    frames["pegs"] = ship.pegs[ship.pegs.asset == "stETH"].reset_index(drop=True)
    net = core.network.Network.from_frames(seed7.name, **frames)
    base = dict(depegs={"USDC": 0.25499967086639963}, run_intensity=1.0, liquidity=0.5876902070193909)
    pts = ((0.12765821112715847, 0.3754422144914799), (0.15317662712700564, 0.3937122613811779))
    br = simulate_batch(net, [Scenario(price_shocks={"ETH": -e, "FTT": -f}, **base) for e, f in pts])
    assert br.total_loss[1] >= br.total_loss[0] - 1.0
    assert br.bad_debt.sum(1)[1] >= br.bad_debt.sum(1)[0] - 1.0
    assert br.total_loss[1] - br.total_loss[0] == pytest.approx(401.1e6, rel=0.01)
