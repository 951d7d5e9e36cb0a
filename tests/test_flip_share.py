"""Flip-era Maker-style auctions (2020, ``flip.sol``) when keepers' capital is short: every lot served the same share,
weighed by what keepers pay for it (at most its tab), the rest at zero bids
(:func:`core.mechanisms.vault_auction.liquidate_maker_flip`, called by :mod:`core.engine.cohort_rules`).

Model. ``flip.sol``: keepers bid the lot's value up to the tab (``tend``), then take less collateral for the tab
(``dent``), the rest going back to the vault's owner; an auction nobody reaches is won by a lone bid at zero
(``deal``; Black Thursday). The round's one capital is split by what each rule asks
(:func:`core.engine.capital.split_capital`), the auctions asking what keepers pay, ``min(tab, lot x price)``. Before,
the flip-era branch weighed the auctions' share against the lots' whole value and sold every lot at that average
price: beside an above-water lot (worth more than its tab) capital went unspent while an under-water one went in
part at zero bids, and where the round's asks crossed the capital the auctions' share jumped from the whole capital
to their ask's share of it. On crypto-2020-03 (`monotone-2020-eth-btc-genesis-failed-no-runs-lag1-capital-50m-bad-debt`)
the asks were $39.82M against $39.79M at the shallower depth (keepers $10.848M of $10.858M asked: 0.9991) and
$39.74M at the deeper (keepers the whole $39.79M): Sai's lots were served 0.867 and 1.0 of their value, and Sai's
bad debt at reference prices fell $4.104M -> $4.006M at the deeper depth (-$98.6k).

Worked numbers (:func:`core.engine.liquidate.liquidate_cohorts` alone; ETH $100, DAI and USDC $1):

* A, close-factor (Aave v3): 10 ETH against 820 USDC, LT 0.8, bonus 5%: asks 410;
* B4, Maker-style, 10 ETH against 1,000 DAI, ratio 1.5, penalty 13%: barked, lot $1,000 < tab 1,130: asks 1,000;
* B2, Maker-style, 10 ETH against 700 DAI: barked, lot $1,000 > tab 791: asks 791.

Asks 2,201. With $2,200 the auctions have 2,200 x 1,791 / 2,201 = 1,790.19 and every lot is served 1,790.19 / 1,791 =
2,200 / 2,201: B4 raises 999.546 (bad debt 0.454), B2 raises 790.641 of which 700 repays its debt (fee 90.641) and
gets back 2,200/2,201 x 2.09 ETH; $1,790.19 raised, the auctions' share to the cent. Before: the lots' whole value
$2,000, 0.895 of it: B4 raised 895.09 (bad debt 104.91), B2 its whole tab 791; $1,686.09 raised, $104.09 unspent. With
$2,202 (asks covered) the auctions have it all and nothing is at zero bids, before and now: bad debt 0.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from core.mechanisms.maker_flip import flip_round
from core.mechanisms.vault_auction import liquidate_maker, liquidate_maker_flip
from test_one_capital import A, _round
from core.engine.compiled import MAKER_AUCTION

B4 = (MAKER_AUCTION, 10.0, 1000.0, 1 / 1.5, 0.13)
B2 = (MAKER_AUCTION, 10.0, 700.0, 1 / 1.5, 0.13)


def test_flip_lots_are_served_by_what_keepers_pay_for_them():
    r = _round(A, B4, B2, capacity=2200.0, flip=True)
    keepers = 2200.0 * 1791.0 / 2201.0
    served = keepers / 1791.0
    assert served == pytest.approx(2200.0 / 2201.0, rel=1e-12)
    raised = r.debt_repaid[0, 1:] + r.protocol_fee[0, 1:]
    assert raised.sum() == pytest.approx(keepers, rel=1e-12)  # the auctions' share, all of it (was 1,686.09)
    np.testing.assert_allclose(raised, [1000.0 * served, 791.0 * served], rtol=1e-12)
    np.testing.assert_allclose(r.bad_debt[0, 1:], [1000.0 * (1.0 - served), 0.0], rtol=1e-9, atol=1e-9)
    assert r.bad_debt[0, 1] == pytest.approx(0.454339, rel=1e-5)  # was 104.91 (0.105 of the lot at zero bids)
    np.testing.assert_allclose([r.debt_repaid[0, 2], r.protocol_fee[0, 2]], [700.0, 791.0 * served - 700.0], rtol=1e-12)
    # B4's whole lot leaves (its served share for less than its tab, the rest at zero bids); B2 loses its served share
    # of the 7.91 ETH that raise the tab and the rest of the lot at zero bids, and gets back its served share of 2.09
    np.testing.assert_allclose(r.collateral_seized[0, 1:], [10.0, served * 7.91 + (1.0 - served) * 10.0], rtol=1e-12)
    assert 10.0 - r.collateral_seized[0, 2] == pytest.approx(served * 2.09, rel=1e-9)


def test_the_capital_crossing_the_asks_moves_bad_debt_continuously():
    """$2 of capital either side of the asks: bad debt 0.454 and 0 (was 104.91 and 0: a jump at the crossing)."""
    tight, ample = (_round(A, B4, B2, capacity=k, flip=True) for k in (2200.0, 2202.0))
    assert ample.bad_debt[0].sum() == 0.0
    assert 0.0 < tight.bad_debt[0].sum() < 0.5


def test_the_ledger_pair_holds():
    """The ledger's pair, measured as test_counterexample does (tests/regressions/invariant_counterexamples.json)."""
    from core.scenario import Scenario
    from invariants_support import load_regressions, monotone_violation

    case = next(e for e in load_regressions()
                if e["id"] == "monotone-2020-eth-btc-genesis-failed-no-runs-lag1-capital-50m-bad-debt")
    v = monotone_violation(case["network"], Scenario.model_validate(case["scenario"]), tuple(case["assets"]),
                           case["depths"], case["mode"])
    assert v.size == 0.0, v.note


amounts = st.floats(0.0, 1e9, allow_nan=False)
positive = st.floats(1e-3, 1e6, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(coll=st.lists(amounts, min_size=1, max_size=6), debt_share=st.lists(st.floats(0.0, 3.0), min_size=6, max_size=6),
       price=positive, penalty=st.floats(0.0, 0.2), capacity=st.one_of(st.just(np.inf), st.floats(0.0, 1e10)))
def test_flip_rule_is_flip_round_and_pays_no_more_than_it_has(coll, debt_share, price, penalty, capacity):
    """Against the Maker system's own flip auctions (:func:`~core.mechanisms.maker_flip.flip_round`, the same model):
    the same DAI raised, the same collateral lost at zero bids and handed back; keepers pay at most their capital, all
    of it when the asks exceed it; nothing repays more than its debt; the value identity holds."""
    C = np.array(coll)
    D = C * price * np.array(debt_share[:len(C)]) / 1.5 * 1.2
    lr = 1.5
    liq = (C * price < D * lr) & (D > 0)
    tab = D * (1.0 + penalty)
    asks = np.where(liq, np.minimum(tab, C * price), 0.0)
    served = 1.0 if asks.sum() <= capacity else capacity / asks.sum()
    r = liquidate_maker_flip(C, D, price, lr, penalty, served)
    ref = flip_round(np.where(liq, tab, 0.0), np.where(liq, C, 0.0), price, keeper_capacity_usd=capacity)
    raised = r.debt_repaid + r.protocol_fee
    scale = max(1.0, float(np.abs(tab).max(initial=0.0)), float((C * price).max(initial=0.0)))
    np.testing.assert_allclose(raised, ref.raised, rtol=1e-12, atol=1e-12 * scale)
    np.testing.assert_allclose(r.collateral_after, np.where(liq, ref.returned, C), rtol=1e-12, atol=1e-12 * max(1.0, C.max()))
    assert raised.sum() <= min(capacity, asks.sum()) * (1 + 1e-12) + 1e-9
    if capacity < asks.sum():
        assert raised.sum() == pytest.approx(capacity, rel=1e-9)
    assert np.all(r.debt_repaid <= D * (1 + 1e-15))
    assert np.all(r.collateral_seized <= C * (1 + 1e-15)) and np.all(r.collateral_seized >= 0.0)
    np.testing.assert_allclose(r.debt_repaid + r.liquidator_profit + r.protocol_fee, r.collateral_seized * price,
                               rtol=1e-9, atol=1e-9 * scale)
    np.testing.assert_allclose(r.bad_debt, np.where(liq, D - r.debt_repaid, 0.0), rtol=1e-12, atol=1e-9 * scale)


@settings(max_examples=200, deadline=None)
@given(coll=st.lists(amounts, min_size=1, max_size=6), debt_share=st.lists(st.floats(0.0, 3.0), min_size=6, max_size=6),
       price=positive, penalty=st.floats(0.0, 0.2), low=st.floats(0.0, 1.0), high=st.floats(0.0, 1.0))
def test_less_served_never_lowers_bad_debt(coll, debt_share, price, penalty, low, high):
    """Keepers reaching less of the lots never lowers any vault's bad debt nor raises what it repays."""
    low, high = sorted((low, high))
    C = np.array(coll)
    D = C * price * np.array(debt_share[:len(C)]) / 1.5 * 1.2
    few, many = (liquidate_maker_flip(C, D, price, 1.5, penalty, phi) for phi in (low, high))
    assert np.all(few.bad_debt >= many.bad_debt - 1e-9 * max(1.0, float(D.max())))
    assert np.all(few.debt_repaid <= many.debt_repaid + 1e-9 * max(1.0, float(D.max())))


@settings(max_examples=200, deadline=None)
@given(coll=st.lists(amounts, min_size=1, max_size=6), debt_share=st.lists(st.floats(0.0, 3.0), min_size=6, max_size=6),
       price=st.floats(0.0, 1e6), penalty=st.floats(0.0, 0.2))
def test_served_whole_is_the_ample_keepers_rule_to_the_bit(coll, debt_share, price, penalty):
    """With every lot served, the figures of :func:`liquidate_maker` with ample keepers, to the bit (the engine's runs
    with unlimited or ample capital do not move)."""
    C = np.array(coll)
    D = C * max(price, 1.0) * np.array(debt_share[:len(C)]) / 1.5 * 1.2
    a = liquidate_maker_flip(C, D, price, 1.5, penalty, 1.0)
    b = liquidate_maker(C, D, price, 1.5, penalty, keeper_capacity_usd=np.inf)
    for f in a.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)


def test_a_subnormal_price_sells_the_whole_lot_with_no_overflow():
    """At a price so small (1e-310, subnormal) that tab / price is beyond the largest float, every lot is sold whole
    and every figure is finite, and no arithmetic overflows: the quotient is formed only where it is taken
    (``flip_round``'s served share) or its inf is the minimum's "more than the lot" (the units each rule needs).
    The suite's property tests drew such prices and numpy warned "overflow encountered in divide" (session 45)."""
    tiny = 1e-310
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = flip_round([1.0], [1.0], tiny, keeper_capacity_usd=1.0)
        a = liquidate_maker_flip([1.0], [1.0], tiny, 1.5, 0.13, 1.0)
        b = liquidate_maker([1.0], [1.0], tiny, 1.5, 0.13, keeper_capacity_usd=np.inf)
    assert float(r.collateral_sold[0]) == 1.0 and float(r.returned[0]) == 0.0 and float(r.zero_bid_collateral[0]) == 0.0
    for res in (a, b):
        assert float(res.collateral_seized[0]) == 1.0 and float(res.bad_debt[0]) == pytest.approx(1.0)
        assert all(np.isfinite(getattr(res, f)).all() for f in res.__dataclass_fields__)
