"""A failed perpetuals venue's estate (core.engine.perps_estate.estate_recovery): its customers' claims, PnL included,
share its shortfall pro rata, so its default costs them no more than the shortfall, continuously in it."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from core.engine.perps import TOTALS
from core.engine.perps_estate import estate_recovery
from core.engine.rounds import simulate_batch
from core.mechanisms.perps_book import book
from core.positions import venue_rules
from core.scenario import Scenario

from depth_points import at_point
from invariants_support import network, usd_tolerance

ENTRY = "monotone-2025-wbeth-weeth-binance-failed-eth-60-runs-lag1-capital-50m-edge"


def two_venues(owed: list[float], paid: list[float]) -> tuple[SimpleNamespace, SimpleNamespace]:
    """Venue 0 (entity 2) holds its traders' margin elsewhere; venue 1 (entity 3) owes it as customer balances.
    Each has a 10x short of 10 @ 100 and a long of 5 @ 100 in one market, marked at 80: the short +200, the
    long -100."""
    bk = book([0, 0, 1, 1], [0, 0, 0, 0], [-10.0, 5.0, -10.0, 5.0], [100.0] * 4, [100.0, 100.0, 100.0, 100.0])
    pc = SimpleNamespace(pb=SimpleNamespace(book=bk), venue_entity=np.array([2, 3]),
                         margin_in_books=np.array([False, True]))
    liabilities = np.array([[0.0, 0.0, *owed]])
    payments = np.array([[0.0, 0.0, *paid]])
    s = SimpleNamespace(clearing=SimpleNamespace(total_liabilities=liabilities, payments=payments),
                        ratio=np.where(liabilities > 0, payments / np.where(liabilities > 0, liabilities, 1.0), 1.0))
    return pc, s


def test_the_estate_shares_its_shortfall_over_its_customers_claims_pnl_included():
    # venue 0: owes 50 (its uncovered deficit), pays 0; its winner's claim is its +200 profit (the loser pays
    # out of margin the venue does not book): rho = 1 - 50 / (50 + 200) = 0.8, where the clearing's ratio is 0.
    # venue 1: owes 1,000 of customer balances, pays 900; its customers' claims are those balances plus the
    # positions' net PnL (+200 - 100): rho = 1 - 100 / (1,000 + 100)
    pc, s = two_venues([50.0, 1000.0], [0.0, 900.0])
    size = pc.pb.book.size[None]
    rho = estate_recovery(pc, s, size, np.array([[80.0]]))
    assert s.ratio[0, 2] == 0.0
    assert rho[0].tolist() == pytest.approx([0.8, 1.0 - 100.0 / 1100.0], rel=1e-15)
    # the winner's set-off, -(1 - rho) * G, is its pro-rata share of the shortfall: 200 / 250 of 50 = 40, and
    # with the 10 the venue's other creditor loses, the shortfall is borne once, no more
    assert (1.0 - rho[0, 0]) * 200.0 == pytest.approx(40.0, rel=1e-12)
    assert (1.0 - rho[0, 0]) * 200.0 + (1.0 - rho[0, 0]) * 50.0 == pytest.approx(50.0, rel=1e-12)


def test_the_recovery_goes_to_one_with_the_shortfall():
    # a venue a dollar short costs its winner 200 / 201 of a dollar; a millionth of a dollar short, a millionth
    size = two_venues([1.0, 1.0], [0.0, 0.0])[0].pb.book.size[None]
    for short in (1.0, 1e-6, 0.0):
        pc, s = two_venues([short, 1000.0], [0.0, 1000.0])
        rho = estate_recovery(pc, s, size, np.array([[80.0]]))
        # (1 - rho is known to an ulp of 1: 200 x 2.2e-16)
        assert (1.0 - rho[0, 0]) * 200.0 == pytest.approx(short * 200.0 / (200.0 + short), rel=1e-9, abs=1e-13)
        assert rho[0, 1] == 1.0
    # before the first clearing, the state's ratios
    pc, s = two_venues([50.0, 1000.0], [0.0, 900.0])
    s.clearing = None
    assert estate_recovery(pc, s, size, np.array([[80.0]]))[0].tolist() == [0.0, 0.9]


@functools.cache
def entry() -> tuple[Scenario, dict]:
    cases = json.loads((Path(__file__).parent / "regressions" / "invariant_counterexamples.json").read_text())
    case = next(c for c in cases if c["id"] == ENTRY)
    return Scenario.model_validate(case["scenario"]), case["depths"]


def at_wbeth(depths: list[float]):
    base, d = entry()
    return simulate_batch(network("crypto-2025-10"), [at_point(base, {"wBETH": w, "weETH": d["weETH"][0]}, "price")
                                                      for w in depths])


def test_binance_futures_is_whole_at_both_depths_of_the_entry():
    # wBETH -89.845% with ETH -60.1% and BINANCE forced to fail. BINANCE_FUT's anonymous cross-margined 8x ALTS long
    # on wBETH margin (120M ALTS) was one account: liquidated whole in round 3 at the deeper depth, with margin
    # left, and in round 4 at the shallower, at ALTS 1.00 where its shorts have no profit, $699,066 short; the
    # venue defaulted (14 -> 13 defaults) and its estate cut ETHENA $114.5k. It is a cohort of accounts (a bucket,
    # core.mechanisms.perps_spread), liquidated in the share past maintenance: the two depths, 3e-14 apart,
    # give the same cascade to float noise, the venue whole and not in default at both
    base, d = entry()
    br = at_wbeth(d["wBETH"])
    ids = list(br.entity_ids)
    fut = ids.index("BINANCE_FUT")
    assert br.defaulted[:, fut].tolist() == [False, False]
    venue = list(venue_rules(network("crypto-2025-10")).index).index("BINANCE_FUT")
    uncovered = br.perps_usd[:, venue, TOTALS.index("uncovered_usd")]
    assert (uncovered < 1e-6).all()  # (2.3e-10: float residue)
    np.testing.assert_allclose(br.equity[0], br.equity[1], rtol=0, atol=usd_tolerance(br))
    assert abs(br.total_loss[1] - br.total_loss[0]) <= usd_tolerance(br)  # before: $1.408bn lower at the deeper


def _along_the_line(half_width: float, offsets: list[float]):
    w0, w1 = entry()[1]["wBETH"]
    return at_wbeth(sorted({w0 + half_width * x for x in offsets} | {w0, w1}))


@settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([2e-9, 2e-6]), st.lists(st.floats(-1.0, 1.0), min_size=4, max_size=4))
def test_loss_bad_debt_and_defaults_do_not_fall_along_the_entrys_line(half_width, offsets):
    # wBETH's depth within 2e-9 and 2e-6 of the entry's (the cliff between its two depths included): system loss,
    # bad debt at reference and defaults never fall as the depth grows (before: $1.408bn of loss, then $69.5k of
    # bad debt and 14 -> 13 defaults at the cliff, BINANCE_FUT's $0.70M shortfall)
    br = _along_the_line(half_width, offsets)
    tolerance = usd_tolerance(br)
    for x in (br.total_loss, np.asarray(br.bad_debt_reference_usd).sum(axis=1)):
        assert (np.maximum.accumulate(x)[:-1] - x[1:]).max() <= tolerance
    assert (np.diff(br.defaulted.sum(axis=1)) >= 0).all()
