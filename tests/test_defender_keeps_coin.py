"""A reserve never redeems the coin it defends (decision 29, docs/invariants.md, Session 44 (lead)).

``core.engine.redemptions``: holders redeem an algorithmic coin pro rata through the rationed mint-and-burn
window; LFG, the reserve that defends UST on the 2022 network, is not among them: the UST its defence bought is
held, marked at UST's market price, as LFG kept its UST and LUNA in May 2022 (its thread of 16 May 2022). Before,
it redeemed its bought UST at the window's price, about $0.96, while the market marked UST at $0.64, and ended
richer than it started in a scenario of falls: the value search's two entries ``s44-lead-value-2022-…-lfg``.
"""

from __future__ import annotations

import numpy as np

from core import datasets
from core.engine import compile_network
from core.engine.redemptions import pay_redeemers, redeemable_units


def test_the_window_is_shared_by_the_holders_but_the_reserve():
    """Worked numbers: STABLE_HOLDERS hold 100 UST, LFG 300, the holders outside the network 100 (supply 500).
    A round's 100 redeemed units are shared by the 200 redeemable units: half each of STABLE_HOLDERS' and the
    outside holders' units (50 and 50) at $0.96 a unit; LFG keeps its 300 and receives nothing (before: the base
    was 500, a fifth each, LFG redeeming 60)."""
    c = compile_network(datasets.load("crypto-2022-05"))
    ust, ids = list(c.symbols).index("UST"), list(c.ids)
    lfg, holders = ids.index("LFG"), ids.index("STABLE_HOLDERS")
    H = np.zeros((1, c.n, c.k))
    H[0, holders, ust], H[0, lfg, ust] = 100.0, 300.0
    base, outside = redeemable_units(c, H, c.ik_amount[None], np.array([500.0]), ust)
    assert base[0, lfg] == 0.0 and base[0, holders] == 100.0 and outside[0] == 100.0
    assert base.sum() == 100.0
    cash = pay_redeemers(H, np.zeros((1, c.n)), base, outside, ust, np.array([100.0]), np.array([0.96]))
    assert H[0, holders, ust] == 50.0 and H[0, lfg, ust] == 300.0
    assert cash[0, holders] == 48.0 and cash[0, lfg] == 0.0


def test_only_the_reserve_of_the_coin_is_kept_out():
    """LFG defends UST only: for any other token it holds (USDT on the 2022 network) it redeems as a holder."""
    c = compile_network(datasets.load("crypto-2022-05"))
    usdt, lfg = list(c.symbols).index("USDT"), list(c.ids).index("LFG")
    H = np.zeros((1, c.n, c.k))
    H[0, lfg, usdt] = 300.0
    base, _ = redeemable_units(c, H, c.ik_amount[None], np.array([1000.0]), usdt)
    assert base[0, lfg] == 300.0
