"""Each bark kicks its own Clipper auction (``dog.bark`` -> ``clip.kick``: a new ``id``, ``top = feed * buf``).

Worked numbers for one ETH-A cohort (mat 1.45, chop 1.13, ``ilk.hole`` 60,000 DAI, dust 15,000; buf 1.20, a 1 % cut
every 90 s, cusp 0.40, tail 8,400 s; no ``tip``/``chip``), one-hour rounds, keepers at 1 % below the market:

* round 1, ETH 1,000: 100,000 DAI on 130 ETH is unsafe (130 x 1,000 / 1.45 = 89,655). The hole cuts the bark to a
  60,000 DAI tab (53,097.35 DAI of debt, 69.0265 ETH). Its curve starts at ``top`` 1,200 and first reaches
  990 after 20 steps (981.49); keepers bring 30,000 DAI and buy 30.566 ETH. At the hour the curve is at
  1,200 x 0.99^40 = 802.65, with a 30,000 DAI tab left; taken DAI frees its room (``dog.digs``).
* round 2, ETH 900: the vault left (46,902.65 DAI on 60.9735 ETH) is unsafe (37,845 at mat); the 30,000 DAI of
  room barks 26,548.67 DAI of its debt (34.513 ETH). ``clip.kick`` opens a second auction at ``top`` 900 x 1.2
  = 1,080; the first keeps its own curve (``top`` 1,200, an hour old).
"""

from __future__ import annotations

import numpy as np
import pytest

from core.mechanisms.maker_liquidations import IlkParameters, maker_initial_state, maker_round

P = IlkParameters(mat=np.array([1.45]), chop=np.array([1.13]), hole=np.array([60e3]), dust=np.array([15e3]),
                  buf=1.2, tail=8400.0, cusp=0.4, chip=0.0, tip=0.0, step=90.0, cut=0.99, Hole=100e6)
KW = dict(round_seconds=3600.0, keeper_margin=0.01)


def _round_one(slots):
    s = maker_initial_state([[130.0]], [[100e3]], 1, 0.0, 1e6, 1000.0, slots=slots)
    return maker_round(s, [0], P, [[1000.0]], [[1000.0]], keeper_capacity_usd=np.array([30e3]), **KW)


def test_round_one_worked_numbers():
    r = _round_one(4)
    st = r.state
    assert st.tab.shape == (1, 4, 1)
    assert r.barked_debt[0, 0] == pytest.approx(60e3 / 1.13, rel=1e-12)
    assert r.dai_raised[0, 0] == pytest.approx(30e3, rel=1e-12)
    assert r.collateral_sold[0, 0] == pytest.approx(30e3 / (1200 * 0.99 ** 20), rel=1e-12)   # 30.566 ETH
    assert st.tab[0, :, 0].tolist() == pytest.approx([30e3, 0.0, 0.0, 0.0])
    assert st.top[0, 0, 0] == pytest.approx(1200.0) and st.elapsed[0, 0, 0] == 3600.0


def test_a_cohort_barked_in_two_rounds_holds_two_auctions_with_their_own_tops():
    r1 = _round_one(4)
    r2 = maker_round(r1.state, [0], P, [[900.0]], [[900.0]], keeper_capacity_usd=np.array([0.0]), **KW)
    st = r2.state
    dart2 = 30e3 / 1.13
    assert r2.barked_debt[0, 0] == pytest.approx(dart2, rel=1e-12)
    lot1 = 130.0 * (60e3 / 1.13) / 100e3 - 30e3 / (1200 * 0.99 ** 20)
    lot2 = (130.0 - 130.0 * (60e3 / 1.13) / 100e3) * dart2 / (100e3 - 60e3 / 1.13)
    np.testing.assert_allclose(st.tab[0, :2, 0], [30e3, 30e3], rtol=1e-12)
    np.testing.assert_allclose(st.lot[0, :2, 0], [lot1, lot2], rtol=1e-12)        # 38.461, 34.513 ETH
    np.testing.assert_allclose(st.top[0, :2, 0], [1200.0, 1080.0], rtol=1e-12)    # each its own top
    np.testing.assert_allclose(st.elapsed[0, :2, 0], [7200.0, 3600.0])           # each its own clock
    assert int(r2.overflow[0]) == 0


def test_the_second_auction_sells_on_its_own_curve_not_the_first_ones():
    # With keepers' DAI unbounded in round 2, the first auction is taken at once at its curve, 1,200 x 0.99^40
    # = 802.65 (below 891, what keepers pay), and the second at its first step at or below 891, 1,080 x 0.99^20
    # = 883.34: each raises its 30,000 DAI tab and hands back the rest of its lot; no bad debt. Joined on the first
    # auction's curve (the former model, one slot), the 72.97 ETH of both lots fetch 72.97 x 802.65 = 58,574 DAI
    # against a 60,000 DAI tab: the lot runs out 1,426 DAI short of the tabs, and the Vow's penalty income falls
    # from 10,354 DAI (90,000 raised on 79,646 of debt) to 8,928.
    r1 = _round_one(4)
    r2 = maker_round(r1.state, [0], P, [[900.0]], [[900.0]], keeper_capacity_usd=np.array([np.inf]), **KW)
    p1, p2 = 1200 * 0.99 ** 40, 1080 * 0.99 ** 20
    assert r2.dai_raised[0, 0] == pytest.approx(60e3, rel=1e-12)
    assert r2.collateral_sold[0, 0] == pytest.approx(30e3 / p1 + 30e3 / p2, rel=1e-12)
    assert float(r2.bad_debt[0]) == 0.0 and float(r2.state.tab.sum()) == 0.0
    one = _round_one(1)                                   # one slot: the second bark overflows into the first
    j2 = maker_round(one.state, [0], P, [[900.0]], [[900.0]], keeper_capacity_usd=np.array([np.inf]), **KW)
    assert int(j2.overflow[0]) == 1
    joined = float(one.state.lot[0, 0, 0] + (one.state.ink[0, 0] - j2.state.ink[0, 0]))   # both lots, 72.97 ETH
    assert j2.collateral_sold[0, 0] == pytest.approx(joined, rel=1e-12)
    assert j2.dai_raised[0, 0] == pytest.approx(joined * p1, rel=1e-12)               # 58,574 DAI
    assert float(j2.bad_debt[0]) == 0.0
    assert float(r2.penalty_income[0]) == pytest.approx(90e3 - 90e3 / 1.13, rel=1e-12)
    assert float(j2.penalty_income[0]) == pytest.approx(30e3 + joined * p1 - 90e3 / 1.13, rel=1e-12)


def test_redo_resets_only_the_auction_that_needs_it():
    # Round 3 (ETH 950, no keepers): the first auction reaches cusp (0.99^92 < 0.40) at 8,280 s, 1,080 s into the
    # round: clip.redo restarts it at 950 x 1.2 = 1,140, 2,520 s old at the round's end; the second (3,600 s old)
    # keeps its top of 1,080.
    r1 = _round_one(4)
    r2 = maker_round(r1.state, [0], P, [[900.0]], [[900.0]], keeper_capacity_usd=np.array([0.0]), **KW)
    r3 = maker_round(r2.state, [0], P, [[950.0]], [[950.0]], keeper_capacity_usd=np.array([0.0]),
                     can_bark=False, **KW)
    np.testing.assert_allclose(r3.state.top[0, :2, 0], [1140.0, 1080.0], rtol=1e-12)
    np.testing.assert_allclose(r3.state.elapsed[0, :2, 0], [2520.0, 7200.0])


def test_one_bark_per_auction_is_the_same_to_the_bit_in_any_number_of_slots():
    # No cohort barked while its auction is live: the slots beyond the first stay empty and add exact zeros.
    rng = np.random.default_rng(3)
    S, c = 5, 6
    ink = rng.uniform(50, 150, (S, c))
    debt = rng.uniform(5e4, 1.2e5, (S, c))
    p = IlkParameters(mat=np.array([1.45, 1.3]), chop=np.array([1.13, 1.13]), hole=np.array([40e6, 15e6]),
                      dust=np.array([15e3, 40e3]), buf=1.2, tail=8400.0, cusp=0.4, chip=0.001, tip=300.0,
                      step=90.0, cut=0.99, Hole=100e6)
    ilk = np.array([0, 1, 0, 1, 0, 1])
    out = []
    for slots in (1, 4):
        s = maker_initial_state(ink, debt, 2, 1e5, 1e6, 1000.0, spread=0.0, slots=slots)
        res = []
        for feed in (900.0, 1100.0):
            r = maker_round(s, ilk, p, np.full((S, c), feed), np.full((S, c), feed * 0.98), round_seconds=3600.0,
                            keeper_capacity_usd=np.full(S, 2e5),
                            keeper_margin=0.01)
            s = r.state
            res.append((r.dai_raised, r.collateral_sold, r.returned, r.bad_debt, r.penalty_income,
                        r.flop_raised, s.surplus, s.deficit, s.ink, s.debt, s.tab[:, 0], s.lot[:, 0], s.top[:, 0]))
        out.append(res)
    for a, b in zip(out[0], out[1]):
        for x, y in zip(a, b):
            assert np.array_equal(x, y)
