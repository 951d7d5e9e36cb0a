"""Maker vaults barked at their OSM crossing within the round (core.mechanisms.maker_crossing), in the
mechanism and in Liquidations 2.0's round (core.mechanisms.maker_liquidations.maker_round)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import core
from core.engine import simulate_batch
from core.mechanisms.maker_crossing import crossing_terms, delay_seconds
from core.mechanisms.maker_liquidations import IlkParameters, maker_initial_state, maker_round
from core.results import MAKER_HISTORY

ROOT = Path(__file__).resolve().parent.parent
M = {name: i for i, name in enumerate(MAKER_HISTORY)}

#: ETH-B in 2022 (data/crypto-2022-05/maker_ilks.csv): mat 1.30, chop 1.13, buf 1.20, cut 0.99 every 60 s.
ETH_B = IlkParameters(mat=np.array([1.30]), chop=np.array([1.13]), hole=np.array([np.inf]), dust=np.array([0.0]),
                      buf=1.2, tail=4800.0, cusp=0.4, chip=0.0, tip=0.0, step=60.0, cut=0.99, Hole=np.inf)
#: The stETH June preset's 72-hour round 13: ETH from 1,442.54 to 1,067.02 (-26%).
P0, P1, T = 1442.54, 1067.02, 72 * 3600.0


def _quadrature(p0, p1, m0, m1, lo, hi, delta, n=400_001):
    """The module's model by brute force: vaults uniform in debt over [lo, hi], collateral in proportion."""
    r = np.linspace(lo, hi, n)
    L, K = np.log(p1 / p0), np.log(m1 / m0)
    u = np.clip(1 - np.log(r) / L, 0, 1) if L < 0 else np.zeros_like(r)
    p, q = p0 * np.exp(L * u), m0 * np.exp(K * np.minimum(u + delta, 1))
    w = np.trapezoid(r, r)
    return np.trapezoid(r * p, r) / w, np.trapezoid(r * q, r) / w, np.trapezoid(r * u, r) / w


def test_one_vault_crosses_at_its_ratio_and_is_taken_after_the_delay():
    # ETH-B vaults at 101.8% at the round's end (rho = 1.018/1.30) crossed 130% at 1,067.02 / rho = 1,362.6,
    # at u = 1 - ln(rho)/ln(P1/P0) = 0.189 of the round; keepers take 82 minutes later (22 one-minute steps
    # and the OSM's hour) at 1,442.54 * (P1/P0)^(0.189 + 0.019) = 1,354.8.
    rho = 1.018 / 1.30
    t = crossing_terms(P0, P1, P0, P1, rho, rho, 4920.0 / T)
    u = 1 - np.log(rho) / np.log(P1 / P0)
    assert float(t.kick_feed) == pytest.approx(P1 / rho, rel=1e-12)
    assert float(t.kick_share) == pytest.approx(u, rel=1e-12) and float(t.kick_share) == pytest.approx(0.1891, abs=1e-4)
    assert float(t.take_market) == pytest.approx(P0 * (P1 / P0) ** (u + 4920.0 / T), rel=1e-12)
    assert float(t.take_market) == pytest.approx(1354.82, abs=0.01)


@pytest.mark.parametrize("seed", range(4))
def test_slice_means_match_quadrature(seed):
    rng = np.random.default_rng(seed)
    for _ in range(25):
        p1 = 1000.0 * np.exp(rng.uniform(-1.0, 0.2))
        m0, m1 = 1000.0 * np.exp(rng.normal(0, 0.1)), p1 * np.exp(rng.normal(0, 0.2))
        lo = rng.uniform(0.3, 0.95)
        hi = min(lo + rng.uniform(0.01, 0.2), 1.0)
        delta = rng.choice([0.0, 0.02, rng.uniform(0, 1.5)])
        t = crossing_terms(1000.0, p1, m0, m1, lo, hi, delta)
        ref = _quadrature(1000.0, p1, m0, m1, lo, hi, delta)
        np.testing.assert_allclose([float(t.kick_feed), float(t.take_market), float(t.kick_share)], ref,
                                   rtol=1e-8, atol=1e-9)


def test_limits_end_of_round_and_rising_feed():
    # a delay of a whole round or more: every vault is taken at the round's end market (the one-step model)
    t = crossing_terms(P0, P1, P0, P1, 0.7, 0.9, 1.0)
    assert float(t.take_market) == pytest.approx(P1, rel=1e-12)
    # a feed that rose: the vaults were unsafe at the round's start (kept back by a hole or a halt)
    t = crossing_terms(1000.0, 1100.0, 1000.0, 1100.0, 0.8, 0.9, 0.5)
    assert float(t.kick_feed) == pytest.approx(1000.0, rel=1e-12) and float(t.kick_share) == 0.0
    assert float(t.take_market) == pytest.approx(1000.0 * 1.1 ** 0.5, rel=1e-12)
    # vaults already unsafe at the start of a falling round are kicked at its start
    t = crossing_terms(1000.0, 800.0, 1000.0, 800.0, 0.7, 0.7, 0.0)
    assert float(t.kick_feed) == pytest.approx(1000.0, rel=1e-12) and float(t.take_market) == pytest.approx(1000.0)


def test_delay_counts_the_osm_hour_the_lag_does_not_hold():
    np.testing.assert_allclose(delay_seconds(1440.0, [86400.0, 3600.0, 1800.0], [0, 1, 1]),
                               [1440.0 + 3600.0, 1440.0, 1440.0 + 1800.0])


def test_a_deeper_fall_never_sells_a_vault_higher():
    # one vault of fixed collateral and debt, crossing mat at 1,300: the deeper the round's fall, the lower the
    # market when keepers take it
    ink, debt, mat = 100.0, 100_000.0, 1.30
    p1 = np.linspace(1290.0, 300.0, 200)
    rho = ink * p1 / (mat * debt)
    t = crossing_terms(1500.0, p1, 1500.0, p1, rho, rho, 0.05)
    np.testing.assert_allclose(t.kick_feed, 1300.0, rtol=1e-12)
    assert (np.diff(t.take_market) <= 1e-9).all()


def test_maker_round_barks_at_the_crossing_not_at_the_round_end():
    # The stETH June preset's ETH-B HF-1.10 cohort in round 13: 101.8% at the round's end. At the end price the
    # auction starts at 1,280.42 (1,067.02 x 1.2) and keepers take at 1,280.42 x 0.99^22 = 1,026.43, the first
    # step below 1,067.02 x 0.97: 95.41 ETH raise 97,927 DAI against 100,000 of debt (the preset's 2,377 DAI of
    # bad debt on 114,000). At the crossing the auction starts at 1,362.6 x 1.2 = 1,635.1 and keepers take at
    # 1,635.1 x 0.99^22 = 1,310.8 (the first step below 1,354.8 x 0.97): the tab, 113,000 DAI, is raised and
    # 9.2 ETH go back to the owner.
    ink = 1.018 * 100e3 / P1
    s = maker_initial_state([[ink]], [[100e3]], 1, 0.0, 1e6, 1000.0)
    kw = dict(round_seconds=T, keeper_margin=0.03)
    end = maker_round(s, [0], ETH_B, [[P1]], [[P1]], **kw)
    assert float(end.dai_raised[0, 0]) == pytest.approx(ink * P1 * 1.2 * 0.99 ** 22, rel=1e-12)
    assert float(end.bad_debt[0]) == pytest.approx(100e3 - ink * 1026.43, abs=1.0)
    crossing = maker_round(s, [0], ETH_B, [[P1]], [[P1]], feed_start=[[P0]], market_start=[[P0]],
                           delay_seconds=4920.0, **kw)
    assert float(crossing.bad_debt[0]) == 0.0
    assert float(crossing.dai_raised[0, 0]) == pytest.approx(113e3, rel=1e-12)
    assert float(crossing.penalty_income[0]) == pytest.approx(13e3, rel=1e-9)
    price = 1.2 * P1 / (1.018 / 1.30) * 0.99 ** 22
    assert float(crossing.returned[0, 0]) == pytest.approx(ink - 113e3 / price, rel=1e-9)
    assert float(crossing.returned[0, 0]) == pytest.approx(9.2, abs=0.05)


def test_maker_round_without_start_prices_is_unchanged():
    s = maker_initial_state([[95.0, 40.0]], [[100e3, 30e3]], 1, 0.0, 1e6, 1000.0, spread=0.05)
    a = maker_round(s, [0, 0], ETH_B, [[P1, P1]], [[P1, P1]], round_seconds=T, keeper_margin=0.03)
    b = maker_round(s, [0, 0], ETH_B, [[P1, P1]], [[P1, P1]], round_seconds=T, keeper_margin=0.03,
                    feed_start=[[P1, P1]], market_start=[[P1, P1]], delay_seconds=4920.0)
    # a flat round: every unsafe vault was unsafe at its start, kicked and taken at the same prices
    np.testing.assert_allclose(a.dai_raised, b.dai_raised, rtol=1e-12)
    np.testing.assert_allclose(a.bad_debt, b.bad_debt, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("preset", ["steth_june_2022", "tac_june_2022"])
def test_june_2022_presets_leave_maker_without_bad_debt(preset):
    # History: no bad debt at Maker in May-June 2022, 11.3M DAI of penalty (Risk Core Unit, Weekly Relay 19-25 July
    # 2022). Measured before the crossing model: 2,377 DAI of bad debt in round 13 (ETH-B's lowest vaults sold at
    # the round's end price); with it, none, and 10.95M DAI of penalty (10.94M before).
    sc = core.load_scenario(ROOT / "data" / "scenarios" / f"{preset}.json")
    br = simulate_batch(core.datasets.network_of(sc), [sc], record=True)
    last = np.asarray(br.history["maker"])[0][-1]
    assert last[M["bad_debt_usd"]] == 0.0
    assert 11.3e6 / 3 < last[M["penalty_usd"]] < 11.3e6 * 3


def test_a_feed_that_barely_fell_against_a_falling_market_gives_finite_terms():
    # The feed fell by 1e-13 in the round while the market fell 5% (an oracle lag holds the feed at the last
    # hour's price): the market path over the crossed ratios goes as rho^(2 - K/L), an exponent near 5e11, whose
    # two powers overflowed to inf - inf = NaN and reached the clip auction as its market price. The slice
    # crossing in the round is empty (no vault's ratio is within 1e-13 of its mat), so the terms are the
    # unsafe-at-start piece's: its vaults barked at the round's start, taken at the market after the delay.
    L, K, delta = -1e-13, np.log(0.95), 0.1
    t = crossing_terms(1000.0, 1000.0 * np.exp(L), 1000.0, 950.0, 0.5, 0.8, delta)
    assert np.isfinite([t.kick_feed, t.take_market, t.kick_share]).all()
    assert float(t.take_market) == pytest.approx(1000.0 * np.exp(K * delta), rel=1e-12)
    # the integral itself, with the steep exponent, on an interval it can be written for
    from core.mechanisms.maker_crossing import _power_integral
    lo, hi, x = 0.9999999, 0.99999995, -5e7
    assert float(_power_integral(lo, hi, x)) == pytest.approx((hi ** x - lo ** x) / x, rel=1e-9)
    assert float(_power_integral(0.9, 0.9, 5e15)) == 0.0
