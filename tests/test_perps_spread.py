"""An anonymous isolated perpetuals bucket as a distribution of accounts (core.mechanisms.perps_spread): worked
numbers, continuity in the price, and w = 0 as the one-account rule."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from core.mechanisms.cohort_spread import collateral_share_below
from core.mechanisms.perps_book import liquidated_positions, settle_book
from core.mechanisms.perps_spread import MARGIN_SPREAD, bucket_spread, deficit_and_left_over, share_past_maintenance
from core.network import Network
from core.perps_round import perps_round
from core.positions import position_book, venue_rules
from core.synthetic_perps import perps_example

#: One anonymous isolated BTC long on VENUE_B (index collateral policy): 1 BTC entered at 100,000 with 4,480 USDC
#: of margin, maintenance 0.5%. At 96,000 its maintenance less its PnL is 480 + 4,000 = 4,480, its margin: the
#: bucket's accounts (margins 4,256-4,704 per BTC) are half past maintenance.
MARGIN, HALF_WAY = 4480.0, 96_000.0


@pytest.fixture(scope="module")
def bucket():
    frames = perps_example().frames()
    frames["positions"] = pd.DataFrame([
        {"id": "B_BUCKET", "venue": "VENUE_B", "account": "", "market": "BTC", "side": "long", "size": 1.0,
         "entry_price": 1e5, "margin": MARGIN, "margin_asset": "USDC", "margin_mode": "isolated",
         "maintenance_margin": 0.005, "as_of": "2025-10-10", "source": "test", "flag": "estimate", "note": "x"},
        {"id": "B_MM_SHORT", "venue": "VENUE_B", "account": "MM", "market": "BTC", "side": "short", "size": 1.0,
         "entry_price": 1e5, "margin": 2e4, "margin_asset": "USDC", "margin_mode": "cross",
         "maintenance_margin": 0.005, "as_of": "2025-10-10", "source": "test", "flag": "estimate", "note": "x"}])
    net = Network.from_frames(**frames)
    rules = venue_rules(net)
    return net, rules, position_book(net, rules)


def _marks(net, btc):
    p = net.assets.set_index("symbol")["price_usd"].to_numpy().copy()
    p = np.repeat(p[None], np.size(btc), 0)
    p[:, 0] = btc
    return p


def test_only_the_anonymous_isolated_row_is_a_bucket(bucket):
    _, _, pb = bucket
    assert pb.margin_spread.tolist() == [0.05, 0.0]


def test_a_bucket_half_past_maintenance_closes_half_its_size_with_its_lowest_margins(bucket):
    """At 96,000 (no slippage) half the bucket's size is liquidated: 0.5 BTC, 48,000 of notional; its accounts
    hold 0.5 x (1 - 0.05 + 0.025) = 48.75% of the margin, 2,184 (not 2,240), lose 2,000 on the position and
    leave 184 to the fund; the half left keeps 2,296 of margin, spread +-2.439% about its new aggregate."""
    net, rules, pb = bucket
    marks = _marks(net, HALF_WAY)
    st = settle_book(pb.book, marks, spread=pb.margin_spread, insurance_fund=rules["insurance_fund_usd"].to_numpy())
    assert st.liquidated_share[0].tolist() == pytest.approx([0.5, 0.0], abs=1e-12)
    assert st.liquidated[0].tolist() == [True, False]
    assert collateral_share_below(np.array(0.5), np.array(0.05)) * MARGIN == pytest.approx(2184.0, rel=1e-12)
    assert st.liquidated_usd[0, 1] == pytest.approx(48_000.0, rel=1e-12)
    assert st.left_over[0, 0] == pytest.approx(184.0, rel=1e-9) and st.deficit[0, 0] == 0.0
    assert st.insurance_after[0, 1] == pytest.approx(rules["insurance_fund_usd"].to_numpy()[1] + 184.0, rel=1e-12)
    r = perps_round(pb, rules, marks, _marks(net, 1e5), net.assets["adv_usd"].to_numpy(),
                    net.assets["daily_vol"].to_numpy(), insurance_fund=rules["insurance_fund_usd"].to_numpy(),
                    backstop=rules["backstop_vault_usd"].to_numpy())
    assert r.sales_usd[0, 0] == pytest.approx(48_000.0, rel=1e-12)
    assert r.size_after[0].tolist() == pytest.approx([0.5, -1.0], rel=1e-12)
    assert r.margin_units_after[0, 0] == pytest.approx(2296.0, rel=1e-12)
    assert r.spread_after[0].tolist() == pytest.approx([0.05 * 0.5 / 1.025, 0.0], rel=1e-12)
    # the half left is not liquidated again at the same marks (its lowest account sits on the threshold)
    again = settle_book(pb.book, marks, spread=r.spread_after, size=r.size_after,
                        margin=r.margin_units_after * 1.0)
    assert again.liquidated_share[0, 0] <= 1e-12


def test_the_deficit_of_a_share_is_its_accounts_own_not_netted():
    """Margin 100 +-5%, the lowest half liquidated with a PnL at the fill of -97.5 for the bucket: the accounts
    with margin below 97.5 owe 0.3125 in all, those above leave 0.3125; netted, the share's equity is 0."""
    d, left = deficit_and_left_over(np.array([100.0]), np.array([-97.5]), np.array([0.5]), np.array([0.05]))
    assert d.tolist() == pytest.approx([0.3125], rel=1e-12) and left.tolist() == pytest.approx([0.3125], rel=1e-12)
    # the integral, by quadrature over the accounts
    y = np.linspace(0.95, 1.0, 200_001)
    equity = 100.0 * y - 97.5
    assert np.trapezoid(np.maximum(-equity, 0.0), y) / 0.1 == pytest.approx(0.3125, rel=1e-6)


def test_liquidations_are_continuous_in_the_price_and_deepen_with_it(bucket):
    """Swept across the bucket's band of liquidation prices, its liquidated share rises with the fall, by at most
    (1 - mm) |q| dP / (2 w M) a step; the whole bucket (w = 0) jumps from 0 to 1 at one price."""
    net, rules, pb = bucket
    prices = np.linspace(97_000.0, 95_000.0, 4001)
    marks = _marks(net, prices)
    share = settle_book(pb.book, marks, spread=pb.margin_spread).liquidated_share[:, 0]
    assert share[0] == 0.0 and share[-1] == 1.0
    assert (np.diff(share) >= 0).all()
    bound = (1 - 0.005) * 1.0 * (prices[0] - prices[1]) / (2 * 0.05 * MARGIN)
    assert np.abs(np.diff(share)).max() <= bound * (1 + 1e-9)
    whole = settle_book(pb.book, marks, spread=np.zeros(2)).liquidated_share[:, 0]
    assert np.abs(np.diff(whole)).max() == 1.0


def test_a_zero_spread_is_the_one_account_rule_to_the_bit(bucket):
    """w = 0: every field of the settlement and of the round is what the book's whole-account test gives."""
    net, rules, pb = bucket
    marks = _marks(net, np.linspace(99_000.0, 90_000.0, 37))
    zero = np.zeros(2)
    a = settle_book(pb.book, marks, spread=zero, insurance_fund=1e4, backstop=1e4, rule=2)
    b = settle_book(pb.book, marks, insurance_fund=1e4, backstop=1e4, rule=2)
    for f in dataclasses.fields(a):
        np.testing.assert_array_equal(getattr(a, f.name), getattr(b, f.name), err_msg=f.name)
    assert (a.liquidated == liquidated_positions(pb.book, marks, pb.book.size, pb.book.margin)).all()
    one = dataclasses.replace(pb, margin_spread=zero)
    args = (_marks(net, 1e5), net.assets["adv_usd"].to_numpy(), net.assets["daily_vol"].to_numpy())
    terms = dict(insurance_fund=rules["insurance_fund_usd"].to_numpy(), backstop=rules["backstop_vault_usd"].to_numpy())
    r0 = perps_round(one, rules, marks, *args, **terms)
    r1 = perps_round(pb, rules, marks, *args, spread=zero, **terms)
    for f in ("sales_usd", "size_after", "margin_units_after", "slippage", "account_value_usd"):
        np.testing.assert_array_equal(getattr(r0, f), getattr(r1, f), err_msg=f)
    liquidated = a.liquidated[:, 0]
    assert (r0.size_after[:, 0] == np.where(liquidated, 0.0, 1.0)).all()
    assert (r0.sales_usd[:, 0] == np.where(liquidated, marks[:, 0], 0.0)).all()


def test_share_past_maintenance_matches_the_cohort_rule():
    """The bucket's test is the cohort's share below HF 1 with margin as collateral and maintenance less PnL as
    debt: a bucket whose PnL covers its maintenance has no account past it."""
    s = share_past_maintenance(np.array([100.0, 100.0, 0.0]), np.array([5.0, 5.0, 5.0]),
                               np.array([-95.0, 10.0, -1.0]), np.full(3, 0.05))
    assert s.tolist() == pytest.approx([0.5, 0.0, 1.0], abs=1e-12)


def test_a_bucket_whose_loss_dwarfs_its_margin_owes_its_loss_without_a_warning():
    """A margin of 1e-160 against a PnL of -1 at the fill: ``-pnl / M`` is 1e160, whose square overflows in the
    straddle's branch; the bucket lies wholly past its PnL (y0 >= high), so its deficit is ``-net`` (half the
    bucket's 1.0 less its margin share) and no warning reaches the terminal (the fuzz of session 43 found the
    warning under ``sfm simulate`` on crypto-2025-10: USDe and DAI 99 % off peg, ABC failed, liquidity 0.01)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        d, left = deficit_and_left_over(np.array([1e-160]), np.array([-1.0]), np.array([0.5]), np.array([0.05]))
    assert d[0] == pytest.approx(0.5, rel=1e-12) and left[0] == 0.0


def test_the_fuzzed_scenario_runs_without_a_runtime_warning():
    """The scenario the session 43 fuzz found (a RuntimeWarning printed above `sfm simulate`'s story)."""
    import warnings

    import core

    scenario = core.Scenario(depegs={"USDe": 0.99, "USDtb": 0.5, "DAI": 0.99}, forced_defaults=["ABC", "DEFI_DEPOSITORS", "PAXOS_PYUSD"],
                             liquidity=0.01, horizon=40, shock_rounds=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        result = core.simulate(core.datasets.load("crypto-2025-10"), scenario)
    assert result.summary_dict()["defaults"] == 7


def test_a_bucket_healthy_beyond_the_largest_float_takes_the_full_spread_without_a_warning():
    """Margin 1 against maintenance less PnL of 1e-310 (subnormal): ``h0 = M / (MM - G)`` is beyond the largest float,
    a bucket healthy beyond measure, which takes the full spread as at ``MM - G = 0``; no overflow warning (the
    property test of positions drew such a book: "overflow encountered in divide", session 45)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        w = bucket_spread(np.array([True, True]), np.array([1.0, 1.0]), np.array([1e-310, 0.0]), np.zeros(2))
    assert w.tolist() == [MARGIN_SPREAD, MARGIN_SPREAD]
