"""Tests for core.mechanisms.perps (liquidation, insurance fund, ADL, socialised loss)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from core.mechanisms.perps import adl_score, bankruptcy_price, liquidation_price, settle_liquidations

SETTINGS = settings(max_examples=50, deadline=None, database=None)


def test_liquidation_and_bankruptcy_prices_notes():
    # notes §5.8: 20x, MMR 0.5%, P0 = 100: long liq 95.48, bankrupt 95.0; 50x: 98.49 / 98.0
    np.testing.assert_allclose(liquidation_price(100.0, [20.0, 50.0], 1, 0.005), [95.477, 98.492], atol=1e-3)
    np.testing.assert_allclose(bankruptcy_price(100.0, [20.0, 50.0], "long"), [95.0, 98.0])
    # short: 100 * 1.05 / 1.005 = 104.478 ; bankrupt 105
    assert liquidation_price(100.0, 20.0, -1, 0.005) == pytest.approx(104.4776, abs=1e-4)
    assert bankruptcy_price(100.0, 20.0, "short") == pytest.approx(105.0)
    with pytest.raises(ValueError):
        liquidation_price(100.0, 20.0, 0)


def test_position_liquidated_exactly_below_liq_price():
    # 20x long, margin 5 per unit of 100 notional; liquidation at 95.477
    liq_px = float(liquidation_price(100.0, 20.0, 1, 0.005))
    above = settle_liquidations(1.0, 100.0, 5.0, liq_px + 1e-6)
    below = settle_liquidations(1.0, 100.0, 5.0, liq_px - 1e-6)
    assert not above.liquidated[0] and below.liquidated[0]
    assert below.deficit[0] == 0.0 and below.fund_contribution[0] == pytest.approx(liq_px - 95.0, abs=1e-5)


def test_adl_ranking_bitmex():
    # short -5 @110, margin 55, mark 90: PnL% = 20/110, eff lev = 450/155 -> 0.5279
    assert adl_score(-5.0, 110.0, 55.0, 90.0) == pytest.approx((20 / 110) * (450 / 155))
    # loser: PnL% / eff lev
    assert adl_score(5.0, 110.0, 100.0, 100.0) == pytest.approx((-10 / 110) / (500 / 50))
    assert adl_score(0.0, 100.0, 1.0, 100.0) == -np.inf


def test_waterfall_insurance_then_adl():
    # long 10 @100 margin 100 at mark 85: equity -50 -> deficit 50; fund 20 pays 20;
    # shorts: A(-5@100, m100) score 0.15*425/175 = 0.364; B(-5@110, m55) 0.227*425/180 = 0.537
    # -> ADL takes 30 from B only.
    r = settle_liquidations([10.0, -5.0, -5.0], [100.0, 100.0, 110.0], [100.0, 100.0, 55.0], 85.0,
                            insurance_fund=20.0)
    assert r.liquidated.tolist() == [True, False, False]
    assert r.deficit[0] == pytest.approx(50.0)
    assert r.insurance_fund_draw == pytest.approx(20.0) and r.insurance_fund_after == 0.0
    np.testing.assert_allclose(r.adl_amount, [0.0, 0.0, 30.0])
    assert r.uncovered_loss == 0.0
    # ADL takes more than B's profit (125) -> spills to A
    r = settle_liquidations([40.0, -5.0, -5.0], [100.0, 100.0, 110.0], [400.0, 100.0, 55.0], 85.0)
    np.testing.assert_allclose(r.adl_amount, [0.0, 75.0, 125.0])
    assert r.uncovered_loss == pytest.approx(0.0)
    # Past the profits, ADL closes the shorts at the bankruptcy price: their margin, in the same queue order.
    # A deficit of 300: the profits give 200 (B 125, A 75), then B's whole margin (55: B is closed with
    # nothing, 180 = its equity) and 45 of A's 100 (A gives 120 of its 175), nothing uncovered.
    r = settle_liquidations([40.0, -5.0, -5.0], [100.0, 100.0, 110.0], [300.0, 100.0, 55.0], 85.0)
    np.testing.assert_allclose(r.adl_amount, [0.0, 120.0, 180.0])
    assert r.uncovered_loss == pytest.approx(0.0, abs=1e-12)
    # With no margin on the long, the deficit is 600: the shorts' whole equity (175 + 180) covers 355; the
    # venue is short 245, and no short gives up more than its margin plus its profit.
    r = settle_liquidations([40.0, -5.0, -5.0], [100.0, 100.0, 110.0], [0.0, 100.0, 55.0], 85.0)
    np.testing.assert_allclose(r.adl_amount, [0.0, 175.0, 180.0])
    assert r.uncovered_loss == pytest.approx(245.0)


def test_adl_takes_a_losing_position_last_and_up_to_its_equity():
    # A long 10 @ 100 with margin 100 at 85: deficit 50. The only shorts: C (-5 @ 80, margin 40) loses 25 at
    # 85 (equity 15, ranked last), D (-1 @ 100, margin 10) gains 15. ADL takes D's profit 15, then D's
    # margin 10 (D's queue score is ahead), then 15 of C's equity (all of it): 40, and 10 is uncovered.
    r = settle_liquidations([10.0, -5.0, -1.0], [100.0, 80.0, 100.0], [100.0, 40.0, 10.0], 85.0)
    assert adl_score(-1.0, 100.0, 10.0, 85.0) > 0 > adl_score(-5.0, 80.0, 40.0, 85.0)
    np.testing.assert_allclose(r.adl_amount, [0.0, 15.0, 25.0])
    assert r.uncovered_loss == pytest.approx(10.0)


def test_fund_covers_no_adl_and_surplus_contribution():
    r = settle_liquidations([10.0, -10.0], [100.0, 100.0], [100.0, 500.0], 85.0, insurance_fund=1000.0)
    assert r.insurance_fund_draw == pytest.approx(50.0) and r.insurance_fund_after == pytest.approx(950.0)
    assert np.all(r.adl_amount == 0)
    # slippage on the fill: long closed at 85*(1-0.02) = 83.3 -> deficit 67
    r = settle_liquidations(10.0, 100.0, 100.0, 85.0, insurance_fund=1000.0, liquidation_slippage=0.02)
    assert r.deficit[0] == pytest.approx(67.0)


def test_socialised_loss():
    # deficit 50, fund 0; winners: short profits 75 and 125 -> h = 50/200 = 0.25
    r = settle_liquidations([10.0, -5.0, -5.0], [100.0, 100.0, 110.0], [100.0, 100.0, 55.0], 85.0,
                            mode="socialised")
    assert r.haircut_rate == pytest.approx(0.25)
    np.testing.assert_allclose(r.haircut_amount, [0.0, 18.75, 31.25])


def test_batched_scenarios():
    size = np.array([10.0, -5.0, -5.0])
    marks = np.array([[85.0], [95.0], [70.0]])
    funds = np.array([20.0, 0.0, 100.0])
    r = settle_liquidations(size, [100.0, 100.0, 110.0], [100.0, 100.0, 55.0], marks, insurance_fund=funds)
    for s in range(3):
        one = settle_liquidations(size, [100.0, 100.0, 110.0], [100.0, 100.0, 55.0], marks[s, 0],
                                  insurance_fund=funds[s])
        np.testing.assert_allclose(one.adl_amount, r.adl_amount[s])
        assert one.insurance_fund_after == pytest.approx(r.insurance_fund_after[s])


@st.composite
def book(draw):
    n = draw(st.integers(1, 8))
    size = draw(hnp.arrays(np.float64, n, elements=st.floats(-100, 100)))
    entry = draw(hnp.arrays(np.float64, n, elements=st.floats(50, 150)))
    lev = draw(hnp.arrays(np.float64, n, elements=st.floats(1, 100)))
    margin = np.abs(size) * entry / lev
    return size, entry, margin, draw(st.floats(20, 200)), draw(st.floats(0, 1e4))


@SETTINGS
@given(book(), st.sampled_from(["adl", "socialised"]), st.floats(0, 0.05))
def test_waterfall_invariants(b, mode, slip):
    size, entry, margin, mark, fund = b
    r = settle_liquidations(size, entry, margin, mark, 0.005, fund, mode=mode, liquidation_slippage=slip)
    assert r.insurance_fund_after >= 0 and r.insurance_fund_draw >= 0
    # conservation: loss beyond margin = fund draw + ADL + haircut + uncovered
    total = r.insurance_fund_draw + r.adl_amount.sum() + r.haircut_amount.sum() + r.uncovered_loss
    assert total == pytest.approx(r.deficit.sum(), rel=1e-9, abs=1e-6)
    assert r.insurance_fund_after == pytest.approx(fund + r.fund_contribution.sum() - r.insurance_fund_draw,
                                                   rel=1e-12, abs=1e-9)
    upnl = size * (mark - entry)
    # ADL: never more than margin plus unrealised profit (the position's equity); a haircut only profit
    assert np.all(r.adl_amount <= np.maximum(margin + upnl, 0) * (1 + 1e-12) + 1e-9)
    assert np.all(r.haircut_amount <= np.maximum(upnl, 0) * (1 + 1e-12) + 1e-9)
    # profit first: a side gives up margin only once every profit on it is taken
    profit = np.where(~r.liquidated & (upnl > 0), upnl, 0.0)
    beyond = r.adl_amount - np.minimum(r.adl_amount, profit)
    for side in (1.0, -1.0):
        on = np.sign(size) == side
        if beyond[on].sum() > 1e-9 * max(1.0, np.abs(upnl).max()):
            np.testing.assert_allclose((r.adl_amount - beyond)[on & (profit > 0)], profit[on & (profit > 0)], rtol=1e-9)
    assert np.all(r.adl_amount[r.liquidated] == 0)
    flat = size == 0
    assert np.all(r.adl_amount[flat] == 0) and np.all(r.haircut_amount[flat] == 0)
    if r.uncovered_loss > 1e-9:       # only when all eligible profit is gone
        assert r.insurance_fund_after == pytest.approx(0.0, abs=1e-9)
