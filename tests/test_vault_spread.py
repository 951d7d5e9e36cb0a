"""Maker vaults spread within a cohort (core.mechanisms.cohort_spread in core.mechanisms.maker_liquidations and
core.engine.maker): the share barked is continuous in the price and in the owners' pace."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import core
from core.engine import maker as engine_maker
from core.engine import simulate_batch
from core.mechanisms import vault_defence
from core.mechanisms.cohort_spread import collateral_share_below, share_below, spread_after_removal
from core.mechanisms.maker_liquidations import IlkParameters, maker_initial_state, maker_round
from core.results import MAKER_HISTORY

ROOT = Path(__file__).resolve().parent.parent
M = {k: i for i, k in enumerate(MAKER_HISTORY)}
# ETH-A's 2022 parameters, hole and Hole out of the way
ILK = IlkParameters(mat=np.array([1.45]), chop=np.array([1.13]), hole=np.array([np.inf]), dust=np.array([0.0]),
                    buf=1.2, tail=8400.0, cusp=0.4, chip=0.0, tip=0.0, step=90.0, cut=0.99, Hole=np.inf)


def _bark(prices, spread, ratio0=1.595, debt=100e6):
    """Debt barked from one ETH-A cohort of ``debt`` DAI at ``ratio0`` (ETH 2,000) at each feed price."""
    P = np.asarray(prices, float)[:, None]
    ink = np.full_like(P, debt * ratio0 / 2000.0)
    s = maker_initial_state(ink, np.full_like(P, debt), 1, 0.0, 1e6, 1000.0, spread=spread)
    return maker_round(s, [0], ILK, P, P, round_seconds=60.0, keeper_capacity_usd=0.0)


def test_worked_numbers_of_the_removal():
    # w = 5%: the lowest half of the debt holds 0.5 x (0.95 + 0.025) = 48.75% of the collateral; the rest spans
    # 1.00-1.05 of the old ratio, i.e. +-2.439% about 1.025 times it
    assert collateral_share_below(0.5, 0.05) == pytest.approx(0.4875)
    assert spread_after_removal(0.05, 0.5) == pytest.approx(0.025 / 1.025)
    # the collateral left over the debt left is the old ratio x 1.025
    assert (1 - 0.4875) / 0.5 == pytest.approx(1.025)


def test_share_barked_is_continuous_and_monotone_in_the_price():
    # A cohort at ratio 1.595 (1.10 x mat) at ETH 2,000, its vaults spread +-5%: the lowest falls below mat at
    # 2,000 x 1.45 / (1.595 x 0.95) = 1,913.9, the highest at 2,000 x 1.45 / (1.595 x 1.05) = 1,731.6; in
    # between the share barked rises linearly in 1/price. One vault (spread 0) is barked whole below 1,818.2.
    prices = np.linspace(2000.0, 1600.0, 401)
    due = _bark(prices, 0.05).barked_debt[:, 0]
    ratio = 1.595 * prices / 2000.0
    want = 100e6 * share_below(ratio, np.ones_like(ratio) * 1.45, 1.0, np.full_like(ratio, 0.05))
    np.testing.assert_allclose(due, want, rtol=1e-12, atol=1e-3)
    assert (np.diff(due) >= 0).all()                                   # the deeper the fall, the more barked
    assert np.abs(np.diff(due)).max() < 100e6 * 0.01                    # no jump: < 1% of the debt per $1 of ETH
    assert due[prices > 2000 * 1.45 / (1.595 * 0.95)].max() == 0 and due[prices < 2000 * 1.45 / (1.595 * 1.05)].min() == 100e6
    whole = _bark(prices, 0.0).barked_debt[:, 0]
    assert set(np.unique(whole)) == {0.0, 100e6}                        # one vault: all or nothing


def test_no_second_bark_at_an_unmoved_price():
    # The vaults left after a bark are the cohort's higher ones (spread_after_removal): at the same price none
    # of them is unsafe, so nothing more is barked (re-spreading about the new ratio with the old w would bark
    # part of what is left again, and again every round).
    r = _bark([1800.0], 0.05)
    s1 = r.state
    assert 0 < r.barked_debt[0, 0] < 100e6
    r2 = maker_round(s1, [0], ILK, np.array([[1800.0]]), np.array([[1800.0]]), round_seconds=60.0, keeper_capacity_usd=0.0)
    assert r2.barked_debt[0, 0] == 0.0
    # the vaults left: their lowest ratio is exactly mat
    w, ink, debt = s1.spread[0, 0], s1.ink[0, 0], s1.debt[0, 0]
    assert ink * 1800.0 / debt * (1 - w) == pytest.approx(1.45, rel=1e-12)
    # and a further fall barks again, from there
    r3 = maker_round(s1, [0], ILK, np.array([[1750.0]]), np.array([[1750.0]]), round_seconds=60.0, keeper_capacity_usd=0.0)
    assert r3.barked_debt[0, 0] > 0


def test_a_hole_barks_the_lowest_vaults_of_the_slice():
    # ilk.hole 11.3M of tab: 10M DAI of the cohort's unsafe debt, the lowest 10% with their collateral
    # 0.1 x (0.95 + 0.005) of the cohort's; the spread left is that of the 90% above
    p = replace(ILK, hole=np.array([11.3e6]))
    P = np.array([[1700.0]])
    s = maker_initial_state(np.array([[100e6 * 1.595 / 2000.0]]), np.array([[100e6]]), 1, 0.0, 1e6, 1000.0, spread=0.05)
    r = maker_round(s, [0], p, P, P, round_seconds=60.0, keeper_capacity_usd=0.0)
    assert r.barked_debt[0, 0] == pytest.approx(10e6)
    assert s.ink[0, 0] - r.state.ink[0, 0] == pytest.approx(s.ink[0, 0] * 0.1 * (0.95 + 0.05 * 0.1))
    assert r.state.spread[0, 0] == pytest.approx(0.05 * 0.9 / 1.005)


def _june():
    sc = core.load_scenario(ROOT / "data" / "scenarios" / "steth_june_2022.json")
    br = simulate_batch(core.datasets.network_of(sc), [sc], record=True)
    return float(np.asarray(br.history["maker"])[0][-1, M["penalty_usd"]])


def test_june_2022_penalties_are_continuous_and_monotone_in_the_owners_pace(monkeypatch):
    # Each cohort barked whole or not at all, the stETH June preset's penalty income jumped from 25.5M to 4.7M DAI
    # between paces 0.24 and 0.25 a day (and 147M at 0.20, 196M at 0.18). With the spread, measured: 40.5M at
    # 0.22, 20.8M at 0.23, 15.7M at 0.24, 10.9M at 0.25, 6.3M at 0.26 (history 11.3M DAI, Risk Core Unit Weekly
    # Relay 19-25 July 2022): no step of 0.005 a day moves it by more than 3M DAI here.
    chop = []
    for a in (0.23, 0.235, 0.24, 0.245, 0.25, 0.255, 0.26):
        monkeypatch.setattr(vault_defence, "DAILY_SHARE", a)
        chop.append(_june())
    assert (np.diff(chop) < 0).all()
    assert np.abs(np.diff(chop)).max() < 3e6


def test_june_2022_penalties_are_monotone_in_the_spread(monkeypatch):
    # The spread is a model choice (core.engine.maker.VAULT_SPREAD): the wider, the earlier a cohort's lowest vaults
    # cross mat, the more is barked before owners repay. Measured: 4.69M at 0 and 0.01, 5.3M at 0.02, 8.4M at 0.03,
    # 10.0M at 0.04, 10.9M at 0.05, 11.6M at 0.06, 12.1M at 0.075.
    chop = []
    for w in (0.0, 0.02, 0.04, 0.05, 0.06, 0.075):
        monkeypatch.setattr(engine_maker, "VAULT_SPREAD", w)
        chop.append(_june())
    assert (np.diff(chop) > 0).all()
    assert 11.3e6 / 3 < chop[3] < 11.3e6 * 3
