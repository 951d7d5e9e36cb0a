"""What a barked vault's auction hands back is its owner's free collateral (core.engine.auction_vaults.returned_to_owner,
core.engine.liquidate.liquidate_cohorts): it leaves an anonymous Maker-style cohort's vaults, so the vaults left are
those not barked, as the spread the state carries says (core.mechanisms.cohort_spread.spread_after_removal).

Worked numbers. One anonymous Maker-style cohort, 15 ETH against 1,000 DAI (ratio 1.5 at $100, mat 1.5, penalty
13%), its vaults spread w = 5% about its ratio. At ETH $98 its ratio is 1.47, and the share of its debt in vaults
below mat is s = (1.5 / 1.47 - 0.95) / 0.10 = 0.70408; those vaults hold s (1 - w + w s) = 0.69366 of the
collateral, 10.4050 ETH, against 704.08 DAI. The tab is 795.61 DAI, 8.1185 ETH at $98; 2.2865 ETH go back to the
owners. The cohort keeps the vaults not barked: 15 - 10.4050 = 4.5950 ETH against 295.92 DAI, whose lowest
ratio, 4.5948 x 98 x (1 - w') / 295.92 with w' = w (1 - s) / (1 + w s), is exactly mat (1.5); a round at the
same price barks none of them. (With the 2.2865 ETH added back, as before, the vaults left started at ratio 2.246
instead of 1.5: propped up by collateral no longer locked against any debt.)
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from core.engine.auction_vaults import spread_after_barks
from core.engine.compiled import MAKER_AUCTION
from core.engine.liquidate import liquidate_cohorts
from core.mechanisms.cohort_spread import collateral_share_below, share_below


def _cohort(named: bool):
    return SimpleNamespace(c_ca=np.array([0]), c_da=np.array([1]), c_style=np.full(1, MAKER_AUCTION),
                           c_spread=np.zeros(1), c_named=np.array([named]), maker=None,
                           c_self_issued=np.zeros(1, bool), c_peg=np.zeros(1))


def _round(named: bool, coll=15.0, debt=1000.0, spread=0.05, price=98.0):
    f = np.ones((1, 1))
    return liquidate_cohorts(_cohort(named), np.array([[coll]]), np.array([[debt]]), np.array([[price, 1.0]]),
                             f / 1.5, f * 0.13, f * 0.5, np.array([np.inf]), np.zeros(1, bool),
                             spread=f * spread)


def test_worked_numbers():
    s = (1.5 / 1.47 - 0.95) / 0.10
    assert share_below(np.array([15.0 * 98 / 1.5]), np.array([1000.0]), 1.0, np.array([0.05]))[0] == pytest.approx(s)
    slice_coll = 15.0 * collateral_share_below(s, 0.05)
    assert s == pytest.approx(0.704082, abs=1e-6) and slice_coll == pytest.approx(10.40496, abs=1e-5)
    r = _round(named=False)
    sold = 1000.0 * s * 1.13 / 98.0
    assert r.collateral_seized[0, 0] == pytest.approx(sold, rel=1e-12)
    assert r.debt_repaid[0, 0] == pytest.approx(1000.0 * s, rel=1e-12)
    assert r.bad_debt[0, 0] == pytest.approx(0.0, abs=1e-9)
    # the cohort keeps its vaults not barked, and nothing of the barked ones' remainder (2.2865 ETH)
    assert r.collateral_after[0, 0] == pytest.approx(15.0 - slice_coll, rel=1e-12)
    assert r.debt_after[0, 0] == pytest.approx(1000.0 * (1 - s), rel=1e-12)
    assert slice_coll - sold == pytest.approx(2.28647, abs=1e-5)


def test_the_vaults_left_start_at_mat_and_an_unmoved_price_barks_none():
    r = _round(named=False)
    w = spread_after_barks(np.array([[0.05]]), r.debt_repaid / 1000.0)[0, 0]
    lowest = r.collateral_after[0, 0] * 98.0 * (1 - w) / r.debt_after[0, 0]
    assert lowest == pytest.approx(1.5, rel=1e-12)
    again = _round(named=False, coll=r.collateral_after[0, 0], debt=r.debt_after[0, 0], spread=w)
    assert again.collateral_seized[0, 0] == 0.0 and again.debt_repaid[0, 0] == 0.0


def test_a_named_borrowers_vault_keeps_its_remainder_as_its_own():
    # a named borrower's cohort is one vault (spread 0, barked whole): what its auction hands back stays in its
    # position, whose equity max(0, C P - D) is the borrower's: 15 ETH at $98 against 1,000 DAI, tab 1,130 =
    # 11.5306 ETH, 3.4694 ETH (its $340) left with no debt
    r = _round(named=True, spread=0.0)
    assert r.debt_after[0, 0] == 0.0
    assert r.collateral_after[0, 0] == pytest.approx(15.0 - 1130.0 / 98.0, rel=1e-12)
    # anonymous, the same vault's remainder leaves with its owner
    assert _round(named=False, spread=0.0).collateral_after[0, 0] == 0.0
