"""A reserve that defends an algorithmic coin is paid in the backing minted for the units it redeems, and keeps it
(decision 29, docs/invariants.md, Session 45 (defender); ``core.engine.redemptions``,
``core.engine.defend``).

LFG's thread of 16 May 2022: from 8 May it converted its reserve into UST (USDT and USDC for 50,200,071 UST,
52,189 BTC for 1,515,689,462 UST, 33,206 BTC for 1,164,018,521 UST) and what it then held beside 313 BTC, its BNB
and AVAX was LUNA and UST "worth almost nothing": it took no cash out of Terra's mint-and-burn window, and it sold
none of its LUNA. Before, the engine paid it the window's cash (about $0.96 a UST its defence had bought at $0.64)
and it ended $356.15M richer in a scenario of falls (``s44-lead-value-2022-…-lfg``).
"""

from __future__ import annotations

import numpy as np
import pytest

import core
import core.engine.rounds as rounds
from core import datasets
from core.engine import compile_network, defend, queue_sales
from core.engine.redemptions import defenders, minted_kept, pay_redeemers, redeemable_units
from core.scenario import Scenario


def test_the_reserve_is_paid_in_the_minted_backing_it_keeps():
    """Worked numbers: STABLE_HOLDERS hold 100 UST, LFG 300, the holders outside the network 100 (supply 500).
    A round redeems 100 units, a fifth of every base: STABLE_HOLDERS give up 20 and receive 20 x 0.96 = $19.2 in
    cash; LFG gives up 60 and receives the LUNA minted for them at the oracle price, $50: 60 x $1 / $50 = 1.2 LUNA,
    and no cash (before: $57.6 in cash)."""
    c = compile_network(datasets.load("crypto-2022-05"))
    ust, luna = list(c.symbols).index("UST"), list(c.symbols).index("LUNA")
    ids = list(c.ids)
    lfg, holders = ids.index("LFG"), ids.index("STABLE_HOLDERS")
    assert list(defenders(c, ust)) == [lfg] and len(defenders(c, luna)) == 0
    H = np.zeros((1, c.n, c.k))
    H[0, holders, ust], H[0, lfg, ust] = 100.0, 300.0
    base, outside = redeemable_units(c, H, c.ik_amount[None], np.array([500.0]), ust)
    assert base[0, lfg] == 300.0 and base[0, holders] == 100.0 and outside[0] == 100.0
    oa = pay_redeemers(H, np.zeros((1, c.n)), base, outside, ust, np.array([100.0]), np.array([0.96]),
                       (defenders(c, ust), luna, np.array([1.0 / 50.0])))
    assert H[0, holders, ust] == pytest.approx(80.0) and H[0, lfg, ust] == pytest.approx(240.0)
    assert oa[0, holders] == pytest.approx(19.2) and oa[0, lfg] == 0.0
    assert H[0, lfg, luna] == pytest.approx(1.2) and H[0, holders, luna] == 0.0


def test_the_minted_units_kept_are_worth_no_more_than_at_the_steps_price():
    """Worked numbers (``minted_kept``): LUNA at $50 at the oracle and $45 after the step, the floor at $0.001: a
    UST redeemed mints 1 / 50 = 0.02 LUNA, all kept. Minted at $1e-20 and $1e-22 after the step, below the floor of
    $7.7e-11: 1e20 units minted, worth 1e20 x 1e-22 = $0.01 at the step's price; it keeps 0.01 / 7.7e-11 =
    1.2987e8, worth the same $0.01 marked at the floor (uncut: 1e20 x 7.7e-11 = $7.7e9 a UST)."""
    assert minted_kept(1.0, np.log([50.0]), np.log([45.0]), np.log(1e-3))[0] == pytest.approx(0.02, rel=1e-12)
    units = minted_kept(1.0, np.log([1e-20]), np.log([1e-22]), np.log(7.7e-11))[0]
    assert units == pytest.approx(0.01 / 7.7e-11, rel=1e-9)
    assert units * 7.7e-11 == pytest.approx(1e20 * 1e-22, rel=1e-9)


@pytest.fixture(scope="module")
def luna_falls():
    """The 2022 network, LUNA -60 %, full runs, 6 rounds: LFG's UST, LUNA and other assets around each round's
    mint-and-burn step, with LUNA's oracle price (market cap over supply) before it; and LFG's LUNA around each
    round's defence."""
    net = core.datasets.load("crypto-2022-05")
    ids, syms = list(net.entities["id"]), list(net.assets["symbol"])
    lfg, ust, luna = ids.index("LFG"), syms.index("UST"), syms.index("LUNA")
    seen, defended, queued = [], [], []

    def redeem(c, s, b, r):
        px = np.exp(np.minimum(s.log_mcap[0, luna], np.log(s.supply[0, luna]) + np.log(s.P[0, luna])) - np.log(s.supply[0, luna]))
        before = (s.H[0, lfg, ust], s.H[0, lfg, luna], s.oa[0, lfg], px)
        out = defend.redeem_algorithmic(c, s, b, r)
        seen.append((before, (s.H[0, lfg, ust], s.H[0, lfg, luna], np.asarray(out.get("oa", s.oa))[0, lfg])))
        return out

    def defence(c, s, b, r):
        before = s.H[0, lfg].copy()
        out = defend.defend_pegs(c, s, b, r)
        defended.append((before, s.H[0, lfg].copy()))
        return out

    def queue(c, s, b, r):
        before, sold = s.H[0, lfg, ust], s.H[0, ids.index("STABLE_HOLDERS"), ust]
        out = queue_sales.sell_unserved_queue(c, s, b, r)
        queued.append((before, s.H[0, lfg, ust], sold - s.H[0, ids.index("STABLE_HOLDERS"), ust]))
        return out

    swap = {defend.redeem_algorithmic: redeem, defend.defend_pegs: defence, queue_sales.sell_unserved_queue: queue}
    mp = pytest.MonkeyPatch()
    mp.setattr(rounds, "STEPS", tuple(swap.get(f, f) for f in rounds.STEPS))
    try:
        core.simulate(net, Scenario(price_shocks={"LUNA": -0.6}, run_intensity=1.0, horizon=6))
    finally:
        mp.undo()
    return syms, seen, defended, queued


def test_lfg_keeps_the_luna_minted_for_its_redeemed_ust(luna_falls):
    """Every round LFG redeems some UST (its pro-rata share of the window) and its cash does not move; its LUNA
    rises by the units redeemed over LUNA's oracle price before the step (a UST for a dollar of LUNA)."""
    _, seen, _, _ = luna_falls
    assert len(seen) == 6
    for (ust0, luna0, oa0, px), (ust1, luna1, oa1) in seen:
        given = ust0 - ust1
        assert given > 0
        assert oa1 == oa0
        assert luna1 - luna0 == pytest.approx(given / px, rel=1e-12)


def test_the_defence_sells_none_of_the_luna_it_keeps(luna_falls):
    """LFG's defence sells a slice of its BTC, USDT and USDC (the thread: "directly sold 26,281,671 USDT &
    23,555,590 USDC", the BTC through a counterparty and TFL), never its LUNA (1,691,261 on 7 May, still held)."""
    syms, _, defended, _ = luna_falls
    luna, btc = syms.index("LUNA"), syms.index("BTC")
    sold = [(b - a) for b, a in defended]
    assert any(s[btc] > 0 for s in sold)  # the defence ran
    assert all(s[luna] == 0.0 for s in sold)


def test_the_queue_sells_none_of_the_reserves_units(luna_falls):
    """The holders queued to redeem sell into UST's pool (``core.engine.queue_sales``), LFG not: it bought its units
    in that pool to lift it (before, the queue sold them back, at up to $0.998 a unit with UST at 3e-11)."""
    _, _, _, queued = luna_falls
    assert any(sold > 0 for _, _, sold in queued)  # the queue sold STABLE_HOLDERS' units
    assert all(before > 0 and after == before for before, after, _ in queued)
