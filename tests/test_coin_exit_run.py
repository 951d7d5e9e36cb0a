"""Depositors whose claims are an algorithmic coin below peg withdraw at the rate the coin's holders leave it, every
round it stays below peg (core.engine.withdraw.coin_exit_share).

Worked numbers (the 2022 network): Anchor holds 12,714,755,568.88 UST and owes its depositors $14.0bn (CoinDesk,
9 May 2022: $14bn of deposits on 6 May). With UST at 0.70 and run intensity 0.8 the coin's holders want out at
``min(0.5, 1.8 x 0.30) = 0.5`` a round (core.mechanisms.algorithmic_stablecoin.holders_exit_share), so Anchor's
depositors withdraw 12,714,755,568.88 x 0.70 x 0.5 / 14.0e9 = 31.7869% of what it owes them; at peg, none (their
run on Anchor's solvency is core.mechanisms.runs' and stops at run x RUN_SHARE of them). In the Terra preset the
run no longer stops at 32% of Anchor's depositors by 11 May: its deposits fall from $14bn to $8.7bn by 9 May in
history (CoinDesk) and keep falling while UST is below peg.
"""

from __future__ import annotations

import numpy as np
import pytest

import core
from core.engine.batch import build_batch
from core.engine.compiled import compile_network
from core.engine.rounds import run_round
from core.engine.state import initial_state
from core.engine.withdraw import coin_exit_share, deposits_value
from core.mechanisms.algorithmic_stablecoin import holders_exit_share


@pytest.fixture(scope="module")
def network():
    return core.datasets.load("crypto-2022-05")


def test_holders_exit_share_worked_numbers():
    q = np.array([0.7, 0.95, 1.0, 1.02])
    # decision 21 (session 38): the discount beyond the 0.5% calm band, 1.8 x (1 - 0.005 - 0.95) = 0.081 (was
    # 1.8 x 0.05 = 0.09); 0.7 still hits the half-round cap
    assert holders_exit_share(q, 0.8).tolist() == pytest.approx([0.5, 0.081, 0.0, 0.0], abs=1e-15)
    # nothing leaves above peg, and the share never falls as the coin falls
    grid = np.linspace(0.0, 1.2, 121)
    assert (np.diff(holders_exit_share(grid, 0.3)) <= 0).all()


def test_anchor_depositors_leave_with_ust(network):
    c = compile_network(network)
    b = build_batch(c, [core.Scenario(run_intensity=0.8)], network, True)
    s = initial_state(c, b)
    ids, ust = list(c.ids), list(c.symbols).index("UST")
    anchor, prone = ids.index("ANCHOR"), np.flatnonzero(c.run_prone)
    assert c.H0[anchor, ust] == pytest.approx(12_714_755_568.88, abs=0.01)
    assert deposits_value(c, s)[0, anchor] == pytest.approx(14.0e9)
    at_peg = coin_exit_share(c, s, b, prone)
    assert not at_peg.any()  # at peg nobody leaves the coin
    s.P[0, ust] = 0.7
    share = coin_exit_share(c, s, b, prone)[0]
    assert share[list(prone).index(anchor)] == pytest.approx(12_714_755_568.88 * 0.7 * 0.5 / 14.0e9, rel=1e-12)
    assert share[list(prone).index(anchor)] == pytest.approx(0.317869, abs=1e-6)
    others = np.ones(len(prone), bool)
    others[list(prone).index(anchor)] = False
    assert not share[others].any()  # no other run-prone entity of the network holds UST for its depositors


def test_terra_preset_anchor_run_goes_on_below_peg(network):
    """The run on Anchor does not stop at run x RUN_SHARE (32%) of its depositors while UST is below peg: Anchor's
    UST falls every round from 10 May (round 3) to 20 May (before: 9.007bn on 11 May, 9.358bn on 20 May), and what
    it owes its depositors on 9 May is near history's $8.7bn (CoinDesk)."""
    sc = core.load_scenario(core.datasets.scenario_dir() / "terra_may_2022.json")
    c = compile_network(network)
    b = build_batch(c, [sc], network, True)
    s = initial_state(c, b)
    anchor, ust = list(c.ids).index("ANCHOR"), list(c.symbols).index("UST")
    held, price, owed = [], [], []
    for r in range(b.horizon):
        run_round(c, s, b, r)
        held.append(s.H[0, anchor, ust])
        price.append(s.P[0, ust])
        owed.append(deposits_value(c, s)[0, anchor])
    assert max(price[2:]) < 0.99
    assert (np.diff(held[2:]) < 0).all()
    assert held[-1] < 0.01 * c.H0[anchor, ust]
    assert 7.0e9 < owed[2] < 8.7e9
