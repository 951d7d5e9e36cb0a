"""Clip-era Maker-style auctions give nothing away (core.engine.auction_vaults.clip_era, taken_share;
core.engine.liquidate.liquidate_cohorts): the share of a round's lots beyond keepers' capital stays in its
auction for later rounds (clip.sol: the price falls along the abacus until a keeper takes the lot, or redo resets
it), where flip.sol (2020) clears it at zero bids (core.mechanisms.lending.maker_auction_discount).

Worked numbers. Two Maker-style cohorts barked whole at $100 ETH (ratio 1.5, penalty 13%): 10 ETH against 900
DAI and 5 ETH against 450 DAI, $1,500 of lots; keepers bring $600, 0.4 of it.

* flip: the lots clear at 1 - 0.4 = 60% off, $40 an ETH: the 10 ETH raise $400 of the 900 owed and the 5 ETH $200
  of 450: $750 of bad debt, keepers get $1,500 of ETH for $600.
* clip: keepers take 0.4 of each barked vault at $100: 4 ETH against 360 DAI (tab 406.8, the 4 ETH raise $400:
  360 repaid, $40 of penalty) and 2 ETH against 180 (raise $200: 180 repaid, $20); no bad debt, $600 paid, and
  6 ETH against 540 DAI and 3 ETH against 270 stay, below their ratio, for the next round.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from core.engine.auction_vaults import clip_era, taken_share
from core.engine.compiled import MAKER_AUCTION
from core.engine.liquidate import liquidate_cohorts


def _two_cohorts(flip: bool | None):
    maker = None if flip is None else SimpleNamespace(flip=flip, cohort_mask=np.zeros(2, bool))
    return SimpleNamespace(c_ca=np.array([0, 0]), c_da=np.array([1, 1]), c_style=np.full(2, MAKER_AUCTION),
                           c_spread=np.zeros(2), c_named=np.zeros(2, bool), maker=maker,
                           c_self_issued=np.zeros(2, bool), c_peg=np.zeros(2))


def _round(c, capacity):
    coll, debt = np.array([[10.0, 5.0]]), np.array([[900.0, 450.0]])
    Po = np.array([[100.0, 1.0]])
    f = np.ones((1, 2))
    return liquidate_cohorts(c, coll, debt, Po, f / 1.5, f * 0.13, f * 0.5, np.array([capacity]), np.zeros(1, bool))


def test_era():
    assert clip_era(_two_cohorts(None)) and clip_era(_two_cohorts(False)) and not clip_era(_two_cohorts(True))
    np.testing.assert_allclose(taken_share(np.array([[1000.0, 500.0], [0.0, 0.0]]), np.array([600.0, 600.0])),
                               [0.4, 1.0])


def test_flip_clears_the_rest_at_zero_bids():
    r = _round(_two_cohorts(True), 600.0)
    np.testing.assert_allclose(r.collateral_seized, [[10.0, 5.0]])
    np.testing.assert_allclose(r.debt_repaid, [[400.0, 200.0]])
    np.testing.assert_allclose(r.bad_debt, [[500.0, 250.0]])
    np.testing.assert_allclose(r.liquidator_profit.sum(), 900.0)  # $1,500 of ETH for $600


@pytest.mark.parametrize("flip", [None, False])
def test_clip_leaves_the_untaken_lots_for_later_rounds(flip):
    r = _round(_two_cohorts(flip), 600.0)
    np.testing.assert_allclose(r.collateral_seized, [[4.0, 2.0]])
    np.testing.assert_allclose(r.debt_repaid, [[360.0, 180.0]])
    np.testing.assert_allclose(r.protocol_fee, [[40.0, 20.0]])
    np.testing.assert_allclose(r.bad_debt, [[0.0, 0.0]], atol=1e-9)
    np.testing.assert_allclose(r.collateral_after, [[6.0, 3.0]])
    np.testing.assert_allclose(r.debt_after, [[540.0, 270.0]])
    assert (r.collateral_seized * 100.0).sum() == pytest.approx(600.0)  # keepers pay no more than they have
    np.testing.assert_allclose(r.liquidator_profit, 0.0, atol=1e-9)     # and get nothing for free


def test_clip_with_ample_capital_is_flip_with_ample_capital():
    a, b = _round(_two_cohorts(False), np.inf), _round(_two_cohorts(True), np.inf)
    for f in ("collateral_seized", "debt_repaid", "bad_debt", "collateral_after", "debt_after", "protocol_fee"):
        np.testing.assert_allclose(getattr(a, f), getattr(b, f), rtol=1e-12)
    np.testing.assert_allclose(a.debt_after, 0.0)
