"""Anchor's liquidation queue prices a bid's premium as a discount on the collateral's price (``bid.rs``
``execute_pool_liquidation``: ``premium_price = price * (1 - premium_rate)``) and repays the loan with the
bidders' coin less its fees (``execute_liquidation``: ``repay_amount - bid_fee - liquidator_fee``), with worked
numbers."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import core
from core.engine import compile_network, exogenous, liquidate, scenario_batch
from core.engine.state import initial_state
from core.mechanisms.bid_queue import ANCHOR_BID_FEE, ANCHOR_LIQUIDATOR_FEE, bid_queue_bonus
from core.scenario import Scenario

MINI = Path(__file__).parent / "fixtures" / "mini"


def test_a_bid_at_8_percent_seizes_repaid_over_the_discounted_price_and_the_fees():
    """Repay 1,000 UST at LUNA $80 from a bid in the 8% slot: the bidders pay 80 x 0.92 = 73.60 UST a LUNA, the
    queue keeps 1% of it (the bid fee) and 1% more (the liquidator's fee; Anchor docs, "Loan Liquidation": "1% of
    the liquidated value is set aside as incentives for liquidators"), so a LUNA repays 72.128 UST and 1,000 UST
    seizes 13.8642 LUNA; the bidders pay 1,020.41 UST, 10.20 of it each fee. With the bid fee alone (the constant
    before session 34, liquidator fee 0) 13.7242 LUNA; without either fee, 1000 / 73.6 = 13.587 LUNA; the engine's
    old bonus read of 8% seized 1000 x 1.08 / 80 = 13.5 LUNA."""
    assert (ANCHOR_BID_FEE, ANCHOR_LIQUIDATOR_FEE) == (0.01, 0.01)
    b = float(bid_queue_bonus(0.08))
    assert b == pytest.approx(1 / (0.92 * 0.98) - 1, rel=1e-12) and b == pytest.approx(0.109139, abs=1e-6)
    seized = 1000 * (1 + b) / 80
    assert seized == pytest.approx(13.86424, abs=1e-5)
    paid = seized * 80 * 0.92
    assert paid == pytest.approx(1020.4082, abs=1e-4) and paid * 0.01 == pytest.approx(10.2041, abs=1e-4)
    assert paid - 2 * paid * 0.01 == pytest.approx(1000.0, rel=1e-12)
    # the bid fee alone (session 30's 9.79%) and neither fee
    assert float(bid_queue_bonus(0.08, 0.01, 0.0)) == pytest.approx(0.097936, abs=1e-6)
    assert 1000 * (1 + float(bid_queue_bonus(0.08, 0.01, 0.0))) / 80 == pytest.approx(13.72420, abs=1e-5)
    assert 1000 * (1 + float(bid_queue_bonus(0.08, 0.0, 0.0))) / 80 == pytest.approx(13.58696, abs=1e-5)
    # the fees are subtracted from the same coin (bid.rs), not compounded (query.rs): 1 - 0.02, not 0.99 x 0.99
    assert b != pytest.approx(1 / (0.92 * 0.99 * 0.99) - 1, rel=1e-6)
    # slot 0 still costs the borrower both fees: 1 / 0.98 - 1 = 2.04%
    assert float(bid_queue_bonus(0.0)) == pytest.approx(1 / 0.98 - 1, rel=1e-12)
    with pytest.raises(ValueError):
        bid_queue_bonus(1.0)


def test_the_2022_dataset_anchor_cohorts_seize_at_the_queue_price():
    """crypto-2022-05: ANCHOR's cohorts (bLUNA and bETH, premium 8%) compile to the bonus 1/(0.92 x 0.98) - 1 =
    10.91% (session 34, the documented 1% liquidator fee beside the 1% bid fee; was 1/(0.92 x 0.99) - 1 = 9.79%);
    every other cohort keeps the bonus its row states."""
    net = core.datasets.load("crypto-2022-05")
    c = compile_network(net)
    co = net.cohorts
    anchor = (co["style"] == "anchor").to_numpy()
    assert anchor.sum() == 12 and set(co.loc[anchor, "protocol"]) == {"ANCHOR"}
    np.testing.assert_allclose(c.c_bonus[anchor], 1 / (0.92 * 0.98) - 1, rtol=1e-12)
    np.testing.assert_array_equal(c.c_bonus[~anchor], co.loc[~anchor, "liquidation_bonus"].to_numpy(dtype=float))


def _mini_as(tmp_path: Path, style: str):
    d = tmp_path / style
    shutil.copytree(MINI, d)
    c = pd.read_csv(d / "cohorts.csv", keep_default_na=False)
    c["style"] = style
    c.to_csv(d / "cohorts.csv", index=False)
    return core.load_network(d)


#: C1's debt share Anchor's queue repays at ETH $2,150 (HF h = 107.5 x 0.825 / 100 = 0.886875, d = 0.95 x 0.98), each
#: of its positions at its own HF u on h x [0.95, 1.05] (query_liquidation_amount, core.mechanisms.bid_queue,
#: anchor_mean_repaid_share): above u* = m / d = 0.88614 a position repays A - B u of its debt (A = d / (d - 0.66),
#: B = 0.8 A), below it all of its collateral, d u / m: 95.64 % (session 40 (anchor); session 39 took the aggregate's
#: d (1 - 0.8 h) / (d - 0.66) = 99.80 %; the data's close factor 0.5 before)
_U0, _U1, _EDGE, _A = 0.886875 * 0.95, 0.886875 * 1.05, 0.825 / 0.931, 0.931 / (0.931 - 0.8 * 0.825)
QUEUE_SHARE = (0.931 / (2 * 0.825) * (_EDGE**2 - _U0**2) + _A * (_U1 - _EDGE) - 0.4 * _A * (_U1**2 - _EDGE**2)) / (_U1 - _U0)


@pytest.mark.parametrize("style,repaid,seized", [
    # C1: 50,000 ETH for $100M USDC, LT 0.825, bonus/premium 5%, close factor 0.5; ETH $2,150 (HF 0.887): half
    # the debt, $50M, repaid (tests/test_lending_versions.py).
    ("aave_v2", 50e6, 50e6 * 1.05 / 2150),           # a bonus on the debt: 24,418.6 ETH
    # a discount on the price, and the 1% bid and 1% liquidator fees: repaying $50M seized 24,979.4 ETH (24,727.1
    # with the bid fee alone, before session 34); the contract's amount, $95.64M, seizes 47,781.5 ETH of 50,000
    ("anchor", 100e6 * QUEUE_SHARE, 100e6 * QUEUE_SHARE / (2150 * 0.95 * 0.98)),
])
def test_the_engine_seizes_what_the_queue_would(tmp_path, style, repaid, seized):
    net = _mini_as(tmp_path, style)
    c = compile_network(net)
    b = scenario_batch(net, [Scenario(price_shocks={"ETH": 2150 / 2750 - 1})])
    s = initial_state(c, b)
    s.apply(exogenous.exogenous(c, s, b, 0))
    debt0, coll0 = s.debt.copy(), s.coll.copy()
    s.apply(liquidate.liquidate(c, s, b, 0))
    q = list(net.cohorts["id"]).index("C1")
    assert (debt0 - s.debt)[0, q] == pytest.approx(repaid, rel=1e-9)
    assert (coll0 - s.coll)[0, q] == pytest.approx(seized, rel=1e-9)
    if style == "anchor":  # the positions that keep collateral (u > u* = m / d) are left at the safe ratio,
        # borrow / limit = 0.8; those below u* sold all of it and keep 1 - d u / m of their debt, unbacked
        # (session 40 (anchor): the mean over the positions; session 39's one position at the aggregate ended at 0.8)
        emptied = 100e6 * ((_EDGE - _U0) - 0.931 / (2 * 0.825) * (_EDGE**2 - _U0**2)) / (_U1 - _U0)
        assert (s.debt[0, q] - emptied) / (s.coll[0, q] * 2150 * 0.825) == pytest.approx(0.8, rel=1e-9)
