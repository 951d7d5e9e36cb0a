"""Tests for core.mechanisms.pegs (fiat/CDP stables, UST/LUNA spiral, LST discount)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from core.mechanisms import amm
from core.mechanisms.pegs import (
    algo_stable_spiral, cdp_stable_price, fiat_backed_coverage, fiat_stable_price, lst_pool_price,
)

SETTINGS = settings(max_examples=50, deadline=None, database=None)

# notes §4.2: UST ~ $18.5bn, LUNA ~ $77 x ~350M (market cap ~ $27bn)
UST, LUNA_SUPPLY, LUNA_PX = 18.5e9, 350e6, 77.0


# ---------------------------------------------------------------- fiat-backed
def test_usdc_svb_example():
    cov = fiat_backed_coverage([36.7e9, 3.3e9], 40e9, [0.0, 1.0])     # $3.3bn stuck at SVB
    assert cov == pytest.approx(0.9175)
    assert fiat_stable_price(cov) == pytest.approx(0.9175)
    assert fiat_stable_price(cov, redemptions_open=False) == pytest.approx(0.9175 * 0.96)   # 0.881
    np.testing.assert_allclose(fiat_stable_price([1.3, 0.5], [True, False], 0.1), [1.0, 0.45])


def test_fiat_validation():
    with pytest.raises(ValueError):
        fiat_backed_coverage([1.0], 0.0)
    with pytest.raises(ValueError):
        fiat_stable_price(1.0, gate_discount=1.5)


# ---------------------------------------------------------------- CDP
def test_cdp_psm_absorbs_and_exhausts():
    assert cdp_stable_price(1.6, 1e8, 2e8, 1e9) == 1.0
    # PSM of 1e8 exhausted by 3e8 of selling: 2e8 unabsorbed at depth 1e9 -> e^{-0.2}
    assert cdp_stable_price(1.6, 3e8, 1e8, 1e9) == pytest.approx(np.exp(-0.2))
    # undercollateralised vaults cap fundamental value
    assert cdp_stable_price(0.8, 0.0, 0.0, 1e9) == pytest.approx(0.8)


def test_cdp_inherits_psm_collateral_depeg():
    # March 2023: half of DAI backed by USDC at 0.88 -> 0.5*0.88 + 0.5*1 = 0.94
    assert cdp_stable_price(1.6, 0.0, 5e9, 1e9, psm_share=0.5, psm_price=0.88) == pytest.approx(0.94)


def test_cdp_deleveraging_premium_bounded():
    # Black Thursday: no PSM, vault owners buy back DAI -> premium, capped at max_premium
    p = cdp_stable_price(1.5, np.array([-1e7, -1e8, -1e12]), 0.0, 1e8)
    assert np.all(p > 1) and np.all(np.diff(p) > 0) and p[-1] <= 1.12
    assert p[1] == pytest.approx(1 + 0.12 * (1 - np.exp(-1)))
    # PSM mint room absorbs the buying
    assert cdp_stable_price(1.5, -1e7, 0.0, 1e8, psm_mint_room_usd=2e7) == 1.0


@SETTINGS
@given(st.floats(0, 3), st.floats(-1e10, 1e10), st.floats(0, 1e10), st.floats(1e6, 1e10), st.floats(0, 1e10))
def test_cdp_monotone_in_selling(B, x, psm, K, extra):
    p1 = cdp_stable_price(B, x, psm, K)
    p2 = cdp_stable_price(B, x + extra, psm, K)
    assert 0 <= p2 <= p1 + 1e-15 and p1 <= 1.12 + 1e-12


# ---------------------------------------------------------------- UST/LUNA
def test_ust_peg_restores_when_luna_cap_large():
    r = algo_stable_spiral(UST, LUNA_SUPPLY, LUNA_PX, 2e9, redemption_cap_usd=1e9)
    assert r.peg_restored and not r.collapsed
    assert r.ust_price[1] < 1 and r.luna_price[-1] > 40            # LUNA dented, alive


def test_ust_death_spiral_when_luna_cap_below_ust():
    # LUNA halves first (cap $13.5bn < $18.5bn UST): same $2bn run collapses both
    r = algo_stable_spiral(UST, LUNA_SUPPLY, LUNA_PX / 2, 2e9, redemption_cap_usd=1e9)
    assert r.collapsed and not r.peg_restored
    assert r.luna_price[-1] < 1e-3                                  # May 2022: $77 -> $0.00014
    assert r.luna_supply[-1] > 1000 * LUNA_SUPPLY                   # hyperinflation (6.5T in 2022)
    assert np.all(np.isfinite(r.ust_price))


def test_spiral_accounting_and_batching():
    px = np.array([LUNA_PX, 55.0, LUNA_PX / 2])
    r = algo_stable_spiral(UST, LUNA_SUPPLY, px, 2e9, redemption_cap_usd=1e9, rounds=20)
    np.testing.assert_allclose(r.ust_supply[0] - r.ust_supply[-1], r.redeemed.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(r.luna_supply[-1] - r.luna_supply[0], r.luna_minted.sum(axis=0), rtol=1e-9)
    # 1 USD of LUNA at the oracle price per UST burnt
    np.testing.assert_allclose(r.luna_minted * r.luna_price[:-1], r.redeemed, rtol=1e-9)
    assert np.all(r.redeemed <= 1e9 * (1 + 1e-12))
    # lower LUNA price -> worse UST outcome
    assert np.all(np.diff(r.ust_price[-1]) <= 1e-12)
    for k in range(3):
        one = algo_stable_spiral(UST, LUNA_SUPPLY, px[k], 2e9, redemption_cap_usd=1e9, rounds=20)
        np.testing.assert_allclose(one.ust_price, r.ust_price[:, k], rtol=1e-12)


def test_no_cap_faster_regime_boundary():
    # without a mint/burn cap the peg restores iff MC > beta*U/kappa (defaults: MC > U)
    r = algo_stable_spiral(UST, LUNA_SUPPLY, np.array([77.0, 60.0]), 2e9)
    assert np.all(r.peg_restored)


@SETTINGS
@given(st.floats(5.0, 100.0), st.floats(0.0, 5e9), st.floats(0.0, 1.0))
def test_spiral_monotone_in_shock(px, shock, extra):
    a = algo_stable_spiral(UST, LUNA_SUPPLY, px, shock, redemption_cap_usd=1e9, rounds=10)
    b = algo_stable_spiral(UST, LUNA_SUPPLY, px * (1 - 0.5 * extra), shock, redemption_cap_usd=1e9, rounds=10)
    assert np.all((a.ust_price >= 0) & (a.ust_price <= 1))
    assert b.luna_price[-1] <= a.luna_price[-1] * (1 + 1e-9)


def test_spiral_validation():
    with pytest.raises(ValueError):
        algo_stable_spiral(0.0, 1.0, 1.0, 0.0)
    with pytest.raises(ValueError):
        algo_stable_spiral(1.0, 1.0, 1.0, 0.0, rounds=0)


# ---------------------------------------------------------------- LST
def test_steth_discount_from_pool():
    r = lst_pool_price([491e3, 111e3], 30.0, 0.0)
    assert r.price == pytest.approx(0.9467, abs=1e-4)                # notes: 0.947 at A=30
    # selling into a balanced pool until ~81.6% stETH gives the same discount
    start = np.array([301e3, 301e3])
    sell = 190e3
    r = lst_pool_price(start, 30.0, sell, fee=0.0)
    share = r.balances[0] / r.balances.sum()
    assert 0.80 < share < 0.83 and 0.93 < r.price < 0.96
    assert r.price == pytest.approx(amm.stableswap_price(r.balances, 30.0, 0, 1))
    assert 0.95 < r.average_price < 1.0                             # average beats the final price
    assert r.average_price > r.price


def test_lst_redeemable_floor_and_slashing():
    r = lst_pool_price([491e3, 111e3], 30.0, 0.0, redeemable=True, redemption_cost=0.01)
    assert r.price == pytest.approx(0.99) and r.pool_price < 0.95
    r = lst_pool_price([491e3, 111e3], 30.0, 0.0, redeemable=True, redemption_cost=0.01, fundamental=0.9)
    assert r.price == pytest.approx(r.pool_price)


def test_lst_sell_pressure_monotone_vectorised():
    sells = np.array([0.0, 5e4, 1e5, 2e5, 3e5])
    r = lst_pool_price(np.array([400e3, 400e3]), 50.0, sells)
    assert np.all(np.diff(r.price) < 0)
    assert r.price.shape == (5,)
