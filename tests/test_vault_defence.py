"""Vault owners' defence (core.mechanisms.vault_defence) and its place in the Maker step (core.engine.maker)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import core
from core.engine import compile_network, simulate_batch
from core.engine.batch import build_batch
from core.engine.maker import vault_auctions
from core.engine.state import initial_state
from core.io import load_network
from core.mechanisms import vault_defence
from core.mechanisms.vault_defence import acting_share, defence_repayment
from core.results import MAKER_HISTORY
from core.scenario import Scenario

ROOT = Path(__file__).resolve().parent.parent
M = {k: i for i, k in enumerate(MAKER_HISTORY)}


@pytest.fixture(scope="module")
def net22():
    return load_network(ROOT / "data" / "crypto-2022-05")


def test_acting_share_is_a_flow_and_follows_liquidity():
    # a day repays 25% of the gap; three days 75%; an hour at a tenth of the liquidity (gas 6x, Black Thursday)
    # 0.25 x 0.1 / 24 = 0.104%; never above the whole gap
    assert acting_share(24.0) == pytest.approx(0.25)
    assert acting_share(72.0) == pytest.approx(0.75)
    assert acting_share(1.0, 0.1) == pytest.approx(0.25 * 0.1 / 24)
    assert acting_share(1e6) == 1.0 and acting_share(0.0) == 0.0


def test_repayment_restores_part_of_the_gap_and_only_above_water():
    # ETH-A (mat 1.45) at the Block Analitica buffer, target 1.45 x 1.39 = 2.0155: a vault of 100,000 DAI on
    # collateral worth 150,000 (ratio 1.50) needs 25,577 DAI to get back; in a day it repays a quarter of that.
    T = 1.45 * (1 + vault_defence.TARGET_MARGIN)
    assert T == pytest.approx(2.0155)
    gap = 100e3 - 150e3 / T
    assert defence_repayment(150e3, 100e3, T, 1.0) == pytest.approx(gap) and gap == pytest.approx(25577, abs=1)
    assert defence_repayment(150e3, 100e3, T, acting_share(24.0)) == pytest.approx(0.25 * gap)
    # at or above target nothing; under water nothing (the owner walks away)
    assert defence_repayment(250e3, 100e3, T, 1.0) == 0.0
    assert defence_repayment(99e3, 100e3, T, 1.0) == 0.0


def test_the_ratio_after_defence_falls_with_the_price():
    # whether a vault is barked after its owner's repayment must not improve as the price falls
    price = np.linspace(0.5, 1.0, 200)
    C, D, T, a = 180e3 * price, 100e3, 1.45 * 1.39, 0.4
    ratio = C / (D - defence_repayment(C, D, T, a))
    assert (np.diff(ratio[C >= D]) > 0).all()


def _step(net, moves, round_hours=24.0, liquidity=1.0):
    c = compile_network(net)
    b = build_batch(c, [Scenario(round_hours=round_hours, liquidity=liquidity)], net)
    s = initial_state(c, b)
    sym = list(c.symbols)
    for a, v in moves.items():
        s.P[:, sym.index(a)] = c.P0[sym.index(a)] * (1 + v)
    s.price_history = [s.P, s.P]
    H0 = s.H.copy()
    return c, s, H0, vault_auctions(c, s, b, 0)


def test_a_repayment_during_a_dai_depeg_costs_maker_nothing(net22):
    # DAI at 0.927 (USDC 7.35% off peg through the PSM): owners buy DAI cheap and repay their debt at par; Maker's
    # books move by the same par amount on both sides (a crypto-2022 search found Maker defaulting when the DAI was
    # held at its market price: defaults 11 at ETH -40.2% against 10 at -43.3%).
    c, s, H0, changes = _step(net22, {"ETH": -0.05, "DAI": -0.073})
    mk = c.maker
    repaid = s.debt[0, mk.cohorts] - changes["debt"][0, mk.cohorts]
    assert repaid.sum() > 0
    np.testing.assert_allclose(changes["oa"][0, mk.protocol] - s.oa[0, mk.protocol], repaid.sum(), rtol=1e-12)


def test_nothing_is_repaid_at_reference_prices(net22):
    # owners restore the ratio they chose (or the buffer, where lower): the reference book does not drift
    c, s, H0, changes = _step(net22, {})
    assert changes == {} and (s.H == H0).all()


def test_repayment_burns_dai_and_leaves_makers_equity_unchanged(net22):
    # ETH -5% in a day: no vault is unsafe (HF 1.10 x 0.95 > 1), the buckets below their target repay 25% of their
    # gap; the DAI comes into Maker, burnt against its liability at face value, as the debt goes: its loan book
    # falls and its other assets rise by the same amount (not its DAI holdings, which are marked at DAI's price).
    # The named Celsius vault is left to its owner.
    c, s, H0, changes = _step(net22, {"ETH": -0.05})
    mk = c.maker
    repaid = s.debt[0, mk.cohorts] - changes["debt"][0, mk.cohorts]
    assert repaid.sum() > 0 and (repaid >= 0).all() and (repaid[mk.named] == 0).all()
    assert not {"maker_due", "maker_tab", "maker_penalty"} & changes.keys()
    np.testing.assert_allclose(changes["maker_repaid"][0], repaid.sum(), rtol=1e-12)
    np.testing.assert_allclose(changes["oa"][0, mk.protocol] - s.oa[0, mk.protocol], repaid.sum(), rtol=1e-12)
    assert (s.H == H0).all()
    # a cohort at HF 1.10 (ratio 1.595 at reference, its own target) at ETH -5%: gap D - 0.95 C / 1.595 = 5% of D
    eth_a = np.flatnonzero(c.c_ca[mk.cohorts] == list(c.symbols).index("ETH"))[0]
    d0 = s.debt[0, mk.cohorts][eth_a]
    np.testing.assert_allclose(repaid[eth_a], 0.25 * 0.05 * d0, rtol=1e-4)


def test_less_repaid_when_liquidity_is_short(net22):
    fast = _step(net22, {"ETH": -0.05})[3]["maker_repaid"][0]
    slow = _step(net22, {"ETH": -0.05}, liquidity=0.1)[3]["maker_repaid"][0]
    assert 0 < slow < fast


def test_june_2022_liquidation_penalties_are_of_the_order_history_reports():
    # Maker's liquidations earned 11.3M DAI of penalty while its non-stable collateral fell from $3.3bn to $1.2bn
    # from 1 May 2022 (Risk Core Unit, Weekly Relay 19-25 July 2022). Without owners' defence the stETH June
    # preset liquidated nearly every ETH and WBTC vault: 408.6M DAI of penalty. Measured with it: 4.7M with each
    # cohort one vault; 10.9M since a cohort's vaults are spread (tests/test_vault_spread.py).
    sc = core.load_scenario(ROOT / "data" / "scenarios" / "steth_june_2022.json")
    br = simulate_batch(core.datasets.network_of(sc), [sc], record=True)
    penalty = np.asarray(br.history["maker"])[0][-1, M["penalty_usd"]]
    assert 11.3e6 / 3 < penalty < 11.3e6 * 3
