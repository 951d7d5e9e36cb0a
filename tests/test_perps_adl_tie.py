"""The ADL tie on the perps test network (docs/invariants.md, "Session 22 (perps USDC pair)").

VENUE_A ranks its profitable shorts by PnL% x effective leverage (:func:`core.mechanisms.perps.adl_score`, BitMEX's
and Binance's rule). MM's 100 BTC short on 2M USDX and the anonymous 3x cohort's 50 BTC short on 1,666,667 USDC
entered at the same price, so they have the same PnL% and, where their margins per notional are equal, the same
effective leverage: at USDC = 0.6 x USDX's value, whatever BTC's mark. A deeper USDC depeg past it moves the cohort
ahead of MM, which then keeps its hedge: the open ledger entries ``monotone-perps-usdc-depeg-40-btc-8-runs-lag3-adl-tie``
(and ``-defaults``) and ``monotone-perps-usdc-depeg-traders-failed-mm-edge`` are that flip. These tests pin where the
tie is and what crossing it does, so a change to the queue shows here.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

from core.engine import simulate_batch
from core.mechanisms.perps import adl_score
from core.mechanisms.perps_book import RULES, book, settle_book
from core.scenario import Scenario
from core.synthetic_perps import perps_example

ENTRY = 1e5            # both shorts' entry price (core.synthetic_perps)
MM_MARGIN = 2e6        # USDX units, MM's cross account on VENUE_A
COHORT_MARGIN = 5e6 / 3  # USDC units, A_SHORTS_3X: 50 BTC at 1e5 over 3


@given(mark=st.floats(20_000.0, 99_999.0), usdx=st.floats(0.05, 1.0))
def test_the_two_shorts_tie_where_usdc_is_six_tenths_of_usdx(mark, usdx):
    """Same PnL% and the same margin per notional (0.2 x USDX's value): the same score, at any profitable mark."""
    mm = float(adl_score(-100.0, ENTRY, MM_MARGIN * usdx, mark))
    cohort = float(adl_score(-50.0, ENTRY, COHORT_MARGIN * 0.6 * usdx, mark))
    assert cohort == pytest.approx(mm, rel=1e-12)
    assert float(adl_score(-50.0, ENTRY, COHORT_MARGIN * 0.6 * usdx * (1 - 1e-6), mark)) > mm  # deeper: cohort first
    assert float(adl_score(-50.0, ENTRY, COHORT_MARGIN * 0.6 * usdx * (1 + 1e-6), mark)) < mm  # shallower: MM first


def test_the_worked_tie_at_btc_minus_7_59_percent():
    """The session-22 pair's mark: $92,410 (BTC -7.59%); both scores 0.0759 x 9,241,000 / 2,759,000 at USDC $0.6."""
    expected = 0.0759 * 100 * 92_410.0 / (2e6 + 100 * 7_590.0)
    assert float(adl_score(-100.0, ENTRY, MM_MARGIN, 92_410.0)) == pytest.approx(expected, rel=1e-12)
    assert float(adl_score(-50.0, ENTRY, COHORT_MARGIN * 0.6, 92_410.0)) == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(0.2542196085538, rel=1e-12)


def test_crossing_the_tie_moves_the_take_from_mm_to_the_cohort():
    """USDC 40% off peg (the tie: the earlier row, MM, first) against 40.000001%: MM's profit is taken and it and
    LENDER default, or the cohort's is taken outside the network and MM keeps its hedge (measured, session 22)."""
    net = perps_example(mm_loan_usd=4e6, a_shorts_btc=50.0)
    base = dict(price_shocks={"BTC": -0.0759}, depegs={"USDX": 0.0}, run_intensity=0.8, oracle_lag=3, liquidity=0.5)
    br = simulate_batch(net, [Scenario(**base | {"depegs": {"USDX": 0.0, "USDC": d}}) for d in (0.4, 0.40000001)])
    ids = list(br.entity_ids)
    failed = [sorted(ids[i] for i in np.flatnonzero(row)) for row in br.defaulted]
    assert failed == [["LENDER", "MM", "VAULT_B"], ["VAULT_B"]]
    assert br.traders_loss[0] == 0.0
    assert br.traders_loss[1] == pytest.approx(368_885.02, abs=0.5)
    np.testing.assert_allclose(br.total_loss, [3_016_139.21, 2_211_880.49], atol=0.5)


# Session 28 (t25o): an exact tie scored apart by rounding. On the 2025 network WINTERMUTE's ALTS short on Binance
# (200M ALTS from 1.00 on $50M: 4x) and the anonymous 4x bucket (1.95bn ALTS from 1.00 on $487.5M) are the same
# position but for scale. Computed from the totals, |q P| / (M + q (P - P0)), their scores came out one unit in the
# last place apart, in either order as the mark's last bit went: the queue's tie rule (the earlier row) was not
# what decided between them. ``monotone-2025-eth-66-btc-87-alts-45-half-runs-liquidity-126-365-owed-defaults``:
# WINTERMUTE first at ALTS 0.5500660408752132 (its $89.99M of profit taken, it defaults in round 0), the bucket
# first at 0.5284575322144102 ($9.73M taken, no default): defaults 16 -> 15.
TIE_MARKS = (0.5500660408752132, 0.5284575322144102)  # the pair's round-0 ALTS marks


@given(size=st.floats(1e3, 1e11), scale=st.floats(1e-3, 1e3), mark=st.floats(0.01, 0.99))
def test_positions_that_differ_only_in_scale_score_the_same_to_the_bit(size, scale, mark):
    """A 4x short and one ``scale`` times its size on ``scale`` times its margin (the margins per unit the same
    float: a quarter of the size) score the same at any profitable mark, bit for bit."""
    big = size * scale
    assert float(adl_score(-size, 1.0, size / 4, mark)) == float(adl_score(-big, 1.0, big / 4, mark))


@pytest.mark.parametrize("mark", TIE_MARKS)
def test_an_exact_tie_goes_to_the_earlier_row_at_either_mark(mark):
    """Worked: a 10x long of 100M from 1.00 on $10M, marked at ``mark`` with no slippage and no fund, leaves a
    deficit of 10M - 100M (1 - mark), $34.99M / $37.15M; the venue's ADL takes it from the shorts in queue order.
    The two shorts (200M on $50M, then 1.95bn on $487.5M, both 4x from 1.00) score alike, PnL% (1 - mark) times
    mark / (0.25 + 1 - mark): 0.353595 / 0.345358. The earlier row pays it all at both marks (its profit, 200M
    (1 - mark) = $89.99M / $94.31M, covers it); before, the later row paid it all at the second mark."""
    bk = book([0, 0, 0], [0, 0, 0], [1e8, -2e8, -1.95e9], [1.0, 1.0, 1.0], [1e7, 5e7, 4.875e8])
    r = settle_book(bk, np.array([mark]), insurance_fund=0.0, rule=RULES.index("adl"))
    deficit = 1e8 * (1.0 - mark) - 1e7
    assert r.deficit_usd[0, 0] == pytest.approx(deficit, rel=1e-12)
    assert deficit == pytest.approx({TIE_MARKS[0]: 34_993_395.91, TIE_MARKS[1]: 37_154_246.78}[mark], abs=0.01)
    np.testing.assert_allclose(r.adl[0], [0.0, deficit, 0.0], rtol=1e-12)
    score = (1.0 - mark) * mark / (0.25 + 1.0 - mark)
    assert score == pytest.approx({TIE_MARKS[0]: 0.353595, TIE_MARKS[1]: 0.345358}[mark], abs=1e-6)
    assert float(adl_score(-2e8, 1.0, 5e7, mark)) == float(adl_score(-1.95e9, 1.0, 4.875e8, mark))
