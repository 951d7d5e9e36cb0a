"""A CDP coin's claim on its vaults: each vault's collateral covers its own debt only (MakerDAO ``dss`` ``end.skim``:
``wad = min(ink, owe)``; ``clip.take`` hands the rest of a lot back to its owner), each cohort a spread of vaults
(core.mechanisms.cohort_spread.covered_debt, core.engine.maker_claim.vaults_cover)."""

from __future__ import annotations

import numpy as np
import pytest

import core
import core.engine.backing as backing
from core.engine import simulate_batch
from core.engine.backing import backing_links
from core.engine.batch import build_batch
from core.engine.compiled import compile_network
from core.engine.state import initial_state
from core.mechanisms.cohort_spread import covered_debt
from core.scenario import Scenario


def _integrated(collateral: float, debt: float, spread: float, n: int = 200_000) -> float:
    """E[min(C y, D)], y uniform on [1 - w, 1 + w], by the midpoint rule (w = 0: min(C, D))."""
    y = 1.0 - spread + 2.0 * spread * (np.arange(n) + 0.5) / n
    return float(np.mean(np.minimum(collateral * y, debt)))


def test_covered_debt_is_the_integral_of_each_positions_min():
    rng = np.random.default_rng(18)
    C = rng.uniform(0.0, 200.0, 300)
    D = rng.uniform(0.0, 200.0, 300)
    w = rng.choice([0.0, 0.01, 0.05, 0.3], 300)
    C[:20] = D[:20] * rng.uniform(0.9, 1.1, 20)  # straddling the line
    got = covered_debt(C, D, w)
    want = np.array([_integrated(c, d, s) for c, d, s in zip(C, D, w)])
    assert got == pytest.approx(want, rel=1e-8, abs=1e-8)
    assert (got <= np.minimum(C, D) + 1e-12).all()  # never more than the cohort as one vault
    assert (covered_debt(C, D, 0.0) == np.minimum(C, D)).all()


def test_covered_debt_never_falls_as_collateral_rises():
    C = np.linspace(0.0, 300.0, 3001)
    for w in (0.0, 0.05, 0.5):
        cover = covered_debt(C, 100.0, w)
        assert (np.diff(cover) >= 0).all()
        assert cover[0] == 0.0 and cover[-1] == 100.0


def _two_cohorts(mkr_price: float, spread: float) -> float:
    """DAI's price factor from crypto-2020-03's backing step (no PSM: share 0) with two of Maker's ETH-A cohorts of
    $100 of DAI each, at ratios 2.0 and 0.8, the others empty, no repayments, MKR at ``mkr_price``."""
    net = core.datasets.load("crypto-2020-03")
    c = compile_network(net)
    b = build_batch(c, [Scenario()], net, True)
    s = initial_state(c, b)
    M = c.maker.cohorts
    eth = s.P[0, c.c_ca[M[0]]]
    s.coll[:], s.debt[:] = 0.0, 0.0
    s.debt[0, M[:2]] = 100.0
    s.coll[0, M[0]], s.coll[0, M[1]] = 200.0 / eth, 80.0 / eth
    s.maker_spread[:] = spread
    s.mkr_price[:] = mkr_price
    return float(backing_links(c, s, b, 0)["peg_factor"][0, list(c.symbols).index("DAI")])


def test_a_vaults_excess_collateral_does_not_cover_another_vaults_deficit():
    """Two cohorts of equal debt at ratios 2.0 and 0.8: the aggregate 1.4 read as a whole claim (DAI at par, before
    this fix); each vault's collateral covers its own debt only, (1 + 0.8) / 2 = 0.9 where MKR holders can add
    nothing (MKR at 0), with or without a +-5% spread (1.9-2.1 all above water, 0.76-0.84 all under). With MKR at
    $490.48 (the 2020 snapshot's dated close; 1M MKR: 0.86 x $490.48M behind the $20 deficit) the claim is whole."""
    assert _two_cohorts(0.0, 0.0) == pytest.approx(0.9, abs=1e-12)
    assert _two_cohorts(0.0, 0.05) == pytest.approx(0.9, abs=1e-12)
    assert _two_cohorts(490.48, 0.05) == 1.0


LINE_2020 = dict(run_intensity=1.0, oracle_lag=1, liquidity=0.9762640210385409, liquidator_capacity_usd=5e7)


def test_dais_first_round_price_with_a_spent_backstop_follows_its_vaults_cover(monkeypatch):
    """crypto-2020-03 with MKR at one cent ($8.6k behind the vaults; the backstop fails in round 1), ETH -74.52%,
    the line of ``monotone-2020-eth-74-full-runs-lag1-capital-50m-bad-debt``: round 0's backing step sees Maker's
    eight ETH-A cohorts at ratios 0.41-1.85 (spread +-5%), $98.505M of DAI, $97.835M of ETH: 0.99320 in aggregate.
    The vaults above water (the 4.5 and 7.0 buckets, ratios 1.19 and 1.85) keep their excess; the six under water
    pay their collateral: 0.81857 by numerical integration over each cohort's vaults, 0.81865 with the $8.6k of
    MKR, and DAI's first-round price over the rich network's (the CDP premium's alone) is that claim (before: the
    aggregate 0.99329)."""
    net20 = core.datasets.load("crypto-2020-03")
    ilks = net20.maker_ilks.copy()
    ilks["mkr_price_usd"] = 0.01
    poor = core.Network.from_frames(name="mkr_one_cent", **{**net20.frames(), "maker_ilks": ilks})
    rich = simulate_batch(net20, [Scenario(price_shocks={"ETH": -0.7452198783785391}, **LINE_2020)], record=True)
    seen = []
    cover = backing.vaults_cover

    def spy(c, s, coll_usd, debt_usd, cohorts=None):
        if not seen:
            M = c.maker.cohorts
            seen.append((coll_usd[0, M].copy(), debt_usd[0, M].copy(), s.maker_spread[0].copy()))
        return cover(c, s, coll_usd, debt_usd, cohorts)

    monkeypatch.setattr(backing, "vaults_cover", spy)
    br = simulate_batch(poor, [Scenario(price_shocks={"ETH": -0.7452198783785391}, **LINE_2020)], record=True)
    dai = list(br.asset_symbols).index("DAI")
    C, D, w = seen[0]
    assert C.sum() / D.sum() == pytest.approx(0.99320, abs=1e-5) and D.sum() == pytest.approx(98.505e6, rel=1e-5)
    paid = sum(_integrated(ci, di, wi) for ci, di, wi in zip(C, D, w))
    assert paid / D.sum() == pytest.approx(0.81857, abs=1e-5)
    claim = (paid + 0.86 * 1e6 * 0.01) / D.sum()
    price = br.history["prices"][0, 0, dai] / rich.history["prices"][0, 0, dai]
    assert price == pytest.approx(claim, rel=1e-6)


def test_the_backing_steps_cover_of_the_coins_cohorts_alone_is_every_cohorts_to_the_bit(monkeypatch):
    """backing_links computes the vaults' cover on the cohorts owing a PSM coin only (the rest 0.0, never read by
    its mask): on the 2022 and 2020 networks, in a batch of shocks over every round, those cohorts' covers equal
    the cover over every cohort bit for bit, and the other cohorts are left at 0.0."""
    calls = []
    cover = backing.vaults_cover

    def spy(c, s, coll_usd, debt_usd, cohorts=None):
        some = cover(c, s, coll_usd, debt_usd, cohorts)
        every = cover(c, s, coll_usd, debt_usd)
        assert cohorts is not None and np.array_equal(some[:, cohorts].view(np.int64), every[:, cohorts].view(np.int64))
        others = np.setdiff1d(np.arange(coll_usd.shape[1]), cohorts)
        assert (some[:, others] == 0.0).all()
        calls.append(len(cohorts))
        return some

    monkeypatch.setattr(backing, "vaults_cover", spy)
    for snap, asset in (("crypto-2022-05", "ETH"), ("crypto-2020-03", "ETH")):
        net = core.datasets.load(snap)
        simulate_batch(net, [Scenario(price_shocks={asset: x}, run_intensity=0.5) for x in (-0.2, -0.5, -0.75)])
    assert calls and min(calls) > 0
