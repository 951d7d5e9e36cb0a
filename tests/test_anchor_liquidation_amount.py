"""Anchor's liquidation amount as its contract computes it (``core.mechanisms.bid_queue``, issue 11).

``Anchor-Protocol/money-market-contracts`` ``contracts/liquidation_queue/src/query.rs``
``query_liquidation_amount``: nothing at ``borrow_amount <= borrow_limit``; else
``(borrow_amount - safe_ratio * borrow_limit) / (price * ((1 - premium) * fees - safe_ratio * max_ltv))`` units
of collateral, at most all of it. The worked numbers below are that formula's, by hand.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

import core
from core.mechanisms import lending
from core.mechanisms.bid_queue import (ANCHOR_SAFE_RATIO, anchor_discount, anchor_liquidation_amount,
                                       anchor_mean_repaid_share, anchor_repaid_share, bid_queue_bonus,
                                       queue_close_factor)
from core.mechanisms.cohort_spread import share_below
from core.validation import DataValidationError

MINI = Path(__file__).parent / "fixtures" / "mini"
#: the query's discount at the 8 % slot, 1 % bid fee, 1 % liquidator fee: 0.92 x 0.99 x 0.99
D = 0.92 * 0.99 * 0.99


def test_the_query_discount_multiplies_the_fee_factors():
    assert float(anchor_discount(0.08)) == pytest.approx(0.901692, abs=1e-12)
    # the execution (bid.rs) subtracts them: the engine's bonus, 1 / (0.92 x 0.98) - 1
    assert 1 / (1 + float(bid_queue_bonus(0.08))) == pytest.approx(0.9016, abs=1e-12)


def test_worked_numbers_partial_to_the_safe_ratio():
    """bLUNA: 1,000 LUNA at $50, Max LTV 0.6 (limit 30,000 UST), borrowing 30,600 UST (HF 0.980): x = (30,600 -
    0.8 x 30,000) / (50 x (0.901692 - 0.48)) = 6,600 / 21.0846 = 313.0247 LUNA, repaying 313.0247 x 50 x 0.901692 =
    14,112.59 UST; the loan left, 16,487.41 UST against 686.9753 LUNA x $50 x 0.6 = 20,609.26 UST, is at 0.8."""
    x = float(anchor_liquidation_amount(30_600.0, 1_000.0, 50.0, 0.6, D))
    assert x == pytest.approx(6_600.0 / (50.0 * (D - 0.48)), rel=1e-12)
    assert x == pytest.approx(313.0247, abs=1e-4)
    repaid = x * 50.0 * D
    assert repaid == pytest.approx(14_112.59, abs=0.01)
    assert (30_600.0 - repaid) / ((1_000.0 - x) * 50.0 * 0.6) == pytest.approx(ANCHOR_SAFE_RATIO, rel=1e-12)


def test_worked_numbers_share_of_the_debt_at_hf_1():
    """At the limit (HF 1) the share repaid is d (1 - s) / (d - s m): bLUNA 0.9016 x 0.2 / 0.4216 = 42.77 %, bETH
    (0.75) 0.18032 / 0.3016 = 59.79 %; the flat close factor was 0.5 for both."""
    assert float(anchor_repaid_share(1.0, 0.6, 0.9016)) == pytest.approx(0.18032 / 0.4216, rel=1e-12)
    assert float(anchor_repaid_share(1.0, 0.75, 0.9016)) == pytest.approx(0.18032 / 0.3016, rel=1e-12)
    # the share agrees with the amount: x P d / B
    B, C, P = 30_000.0, 1_000.0, 50.0
    x = float(anchor_liquidation_amount(B * (1 + 1e-12), C, P, 0.6, D))
    assert x * P * D / B == pytest.approx(float(anchor_repaid_share(1.0, 0.6, D)), rel=1e-9)


def test_not_enough_collateral_liquidates_all_of_it():
    """Past B = C P d (LTV >= d: HF <= m / d = 0.6654 for bLUNA) the formula asks more than there is:
    "Not enough collateral. Also liquidate all collateral" (``liquidation_amount.min(collateral.1)``). At LTV 0.95,
    47,500 UST on 1,000 LUNA at $50: (47,500 - 24,000) / 21.0846 = 1,114.56 > 1,000: all 1,000, repaying 45,084.60
    UST, 2,415.40 UST left with nothing behind it."""
    asked = (47_500.0 - 24_000.0) / (50.0 * (D - 0.48))
    assert asked == pytest.approx(1_114.5575, abs=1e-4)
    assert float(anchor_liquidation_amount(47_500.0, 1_000.0, 50.0, 0.6, D)) == 1_000.0
    assert float(anchor_repaid_share(0.6 / 0.95, 0.6, D)) == 1.0
    # the edge: at LTV d exactly the formula gives the whole collateral
    assert float(anchor_liquidation_amount(1_000.0 * 50.0 * D, 1_000.0, 50.0, 0.6, D)) == pytest.approx(1_000.0)


def test_below_the_limit_nothing():
    """``if borrow_amount <= borrow_limit``: an empty answer. At the limit exactly, and at HF 1.25."""
    assert anchor_liquidation_amount([30_000.0, 24_000.0], 1_000.0, 50.0, 0.6, D).tolist() == [0.0, 0.0]


def test_a_bad_discount_is_refused():
    with pytest.raises(ValueError, match="safe_ratio x max_ltv"):
        anchor_liquidation_amount(100.0, 1.0, 100.0, 0.95, 0.7)
    with pytest.raises(ValueError, match="safe_ratio x max_ltv"):
        anchor_repaid_share(0.9, 0.95, 0.7)


@settings(max_examples=300, deadline=None)
@given(collateral=st.floats(1e-3, 1e9), price=st.floats(1e-3, 1e5), max_ltv=st.floats(0.05, 0.9),
       hf=st.floats(0.01, 2.0), premium=st.floats(0.0, 0.3))
def test_repaid_and_seized_are_bounded_and_the_loan_ends_at_the_safe_ratio(collateral, price, max_ltv, hf, premium):
    """Repaid <= debt, seized <= collateral, and the loan after is at the safe ratio or has no collateral left; the
    amount does not fall as the loan deepens (the same collateral owing more)."""
    d = float(anchor_discount(premium))
    if d - ANCHOR_SAFE_RATIO * max_ltv <= 1e-3:
        return
    limit = collateral * price * max_ltv
    debt = limit / hf
    x = float(anchor_liquidation_amount(debt, collateral, price, max_ltv, d))
    repaid = x * price * d
    assert 0.0 <= x <= collateral
    assert repaid <= debt * (1 + 1e-12)
    if debt <= limit:
        assert x == 0.0
    elif x < collateral:
        left_debt, left_limit = debt - repaid, (collateral - x) * price * max_ltv
        assert left_debt == pytest.approx(ANCHOR_SAFE_RATIO * left_limit, rel=1e-9, abs=1e-9 * debt)
    else:
        assert debt >= collateral * price * d * (1 - 1e-12)  # all of it only once the loan is past C P d
    deeper = float(anchor_liquidation_amount(debt * 1.01, collateral, price, max_ltv, d))
    assert deeper >= x
    share = float(anchor_repaid_share(hf, max_ltv, d))
    if hf < 1.0 and x < collateral:
        assert share == pytest.approx(x * price * d / debt, rel=1e-9, abs=1e-12)
    elif hf < 1.0:  # all of the collateral: a close factor of 1, which the rule's cap on what there is turns into it
        assert share == 1.0


@settings(max_examples=200, deadline=None)
@given(hf=st.floats(0.05, 1.0, exclude_max=True), max_ltv=st.floats(0.3, 0.85), premium=st.floats(0.0, 0.3),
       collateral=st.floats(1.0, 1e8))
def test_the_close_factor_path_takes_the_contracts_amount(hf, max_ltv, premium, collateral):
    """``liquidate_aave`` with ``safe_ratio`` (one position, no spread) repays the contract's amount and leaves the
    loan at the safe ratio, or seizes all of the collateral and books the rest as bad debt; nothing is created:
    repaid <= seized value, repaid + bad debt = debt."""
    bonus = float(bid_queue_bonus(premium))
    d = 1 / (1 + bonus)
    if d - ANCHOR_SAFE_RATIO * max_ltv <= 1e-3:
        return
    price = 7.0
    debt = collateral * price * max_ltv / hf
    r = lending.liquidate_aave(np.array([collateral]), np.array([debt]), price, 1.0, max_ltv, bonus, 1.0, None,
                               safe_ratio=np.array([ANCHOR_SAFE_RATIO]))
    x = float(anchor_liquidation_amount(debt, collateral, price, max_ltv, d))
    assert float(r.collateral_seized[0]) == pytest.approx(x, rel=1e-9)
    assert float(r.debt_repaid[0]) <= float(r.collateral_seized[0]) * price * (1 + 1e-12)
    assert float(r.debt_repaid[0]) + float(r.debt_after[0]) + float(r.bad_debt[0]) == pytest.approx(debt, rel=1e-9)
    if x < collateral * (1 - 1e-9) and float(r.collateral_after[0]) > 0:
        assert float(r.debt_after[0]) / (float(r.collateral_after[0]) * price * max_ltv) == pytest.approx(0.8, rel=1e-7)


def test_only_the_queue_cohorts_change_and_the_scenario_cap_holds():
    """Two cohorts at HF 0.9 (LTV 0.6 / 0.9 = 0.667): the queue's (safe ratio 0.8, compiled close factor 1) repays
    d (1 - 0.72) / (d - 0.48) = 59.88 % at d = 0.9016; the other keeps its 0.5; a cap of 0.3 (``max_close_factor``)
    caps both."""
    cvlt, dv = np.array([54.0, 54.0]), np.array([60.0, 60.0])
    out = queue_close_factor(np.array([1.0, 0.5]), cvlt, dv, 0.6, 1 / 0.9016 - 1, np.array([0.8, np.nan]), (2,))
    assert out.tolist() == pytest.approx([0.9016 * 0.28 / 0.4216, 0.5], rel=1e-12)
    capped = queue_close_factor(np.array([0.3, 0.3]), cvlt, dv, 0.6, 1 / 0.9016 - 1, np.array([0.8, np.nan]), (2,))
    assert capped.tolist() == [0.3, 0.3]


def _positions_repaid(h, w, m, d, n=200_001):
    """The mean share of their debt the positions below HF 1 of a cohort at aggregate HF ``h`` (spread ``w``) repay,
    each sized by the contract's formula (``anchor_liquidation_amount``: debt 1, price 1, collateral u / m)."""
    u = h * np.linspace(1 - w, 1 + w, n)
    u = u[u < 1.0]
    return float((anchor_liquidation_amount(1.0, u / m, 1.0, m, d) * d).mean())


def test_worked_numbers_the_mean_over_a_spread_cohorts_positions_below_hf_1():
    """bLUNA (m 0.6, d 0.9016) at aggregate HF 1.02 with the 5 % spread: the positions below HF 1 lie on HF
    0.969-1 (mean 0.9845); the contract repays each d (1 - 0.8 u) / (d - 0.48) of its debt, linear in its HF u, so
    on average 0.9016 (1 - 0.8 x 0.9845) / 0.4216 = 45.42 %, not the aggregate's 39.35 % nor less than phi(1) =
    42.77 %. Deeper, the positions at or below u = m / d = 0.6655 sell all of their collateral, repaying d u / m of
    their debt. Each checked against the contract's formula over 200,001 positions."""
    d = 0.9016
    assert float(anchor_mean_repaid_share(1.02, 0.05, 0.6, d)) == pytest.approx(d * (1 - 0.8 * 0.9845) / 0.4216,
                                                                                 rel=1e-12)
    assert float(anchor_repaid_share(1.02, 0.6, d)) == pytest.approx(0.393488, abs=1e-6)
    for h, w, m in ((1.02, 0.05, 0.6), (0.68, 0.05, 0.6), (0.64, 0.05, 0.6), (0.5, 0.05, 0.6), (1.05, 0.05, 0.75),
                    (0.85, 0.03, 0.75)):
        assert float(anchor_mean_repaid_share(h, w, m, d)) == pytest.approx(_positions_repaid(h, w, m, d), rel=1e-6)


@settings(max_examples=100, deadline=None)
@given(h=st.floats(0.2, 1.0 / 0.95 - 1e-6), w=st.floats(0.001, 0.05), max_ltv=st.floats(0.3, 0.85),
       premium=st.floats(0.0, 0.3))
def test_the_mean_share_is_what_the_contract_gives_the_positions(h, w, max_ltv, premium):
    """The cohort's share is the contract's amount over its positions below HF 1; each repays at least phi(1) of its
    debt unless its collateral runs out first (d u / m), and nothing pays more than it owes."""
    d = 1 / (1 + float(bid_queue_bonus(premium)))
    if d - ANCHOR_SAFE_RATIO * max_ltv <= 1e-3 or h * (1 - w) >= 1.0 - 1e-6:
        return
    mean = float(anchor_mean_repaid_share(h, w, max_ltv, d))
    assert mean == pytest.approx(_positions_repaid(h, w, max_ltv, d, 20_001), rel=1e-4)
    assert mean <= 1.0
    if h * (1 - w) >= max_ltv / d:
        assert mean >= float(anchor_repaid_share(1.0, max_ltv, d)) * (1 - 1e-12)


def test_a_spread_cohort_repays_the_mean_share_of_its_positions_below_hf_1():
    """``liquidate_aave`` on a bLUNA cohort at aggregate HF 1.02 with the 5 % spread: the debt below HF 1,
    s_1 = (1 / 1.02 - 0.95) / 0.1 = 30.39 % of it, repays the mean share 45.42 % (debt 100: 13.80 repaid), no value
    created (repaid <= seized value)."""
    bonus = 1 / 0.9016 - 1
    collateral, price, m = 100.0, 1.0, 0.6
    debt = collateral * price * m / 1.02
    r = lending.liquidate_aave(np.array([collateral]), np.array([debt]), price, 1.0, m, bonus, 1.0, None,
                               safe_ratio=np.array([ANCHOR_SAFE_RATIO]), spread=np.array([0.05]))
    below = float(share_below(np.array([collateral * price * m]), np.array([debt]), 1.0, np.array([0.05]))[0])
    assert below == pytest.approx((1 / 1.02 - 0.95) / 0.1, rel=1e-12)
    mean = float(anchor_mean_repaid_share(1.02, 0.05, m, 0.9016))
    assert float(r.debt_repaid[0]) == pytest.approx(mean * below * debt, rel=1e-12)
    assert float(r.debt_repaid[0]) <= float(r.collateral_seized[0]) * price * (1 + 1e-12)


def test_an_anchor_cohort_the_queue_cannot_size_is_a_clear_error(tmp_path):
    d = tmp_path / "bad"
    shutil.copytree(MINI, d)
    c = pd.read_csv(d / "cohorts.csv", keep_default_na=False)
    c["style"] = "anchor"
    c.loc[0, "liquidation_threshold"] = 0.95
    c.loc[0, "liquidation_bonus"] = 0.25
    c.loc[0, "debt_amount"] = 1.0
    c.to_csv(d / "cohorts.csv", index=False)
    with pytest.raises(DataValidationError) as e:
        core.load_network(d)
    text = str(e.value)
    assert "cohorts" in text and "liquidation_threshold" in text and "0.95" in text and "safe ratio" in text
