"""Arbitrageurs buy UST where the Curve pool sells it below what the market module pays and redeem it with the
module's spare capacity (core.engine.module_arbitrage), worked on the Terra preset."""

from __future__ import annotations

import numpy as np
import pytest

import core
import core.engine.rounds as rounds
from core.engine import module_arbitrage
from core.engine.pools import pool_price
from core.mechanisms.pegs import ALGO_REDEMPTION_CAP

NET = core.datasets.load("crypto-2022-05")
SYMS = list(NET.assets["symbol"])
UST, LUNA = SYMS.index("UST"), SYMS.index("LUNA")


@pytest.fixture(scope="module")
def terra():
    """Each round's module-arbitrage step on the Terra preset: (round, before, after)."""
    seen = []

    def step(c, s, b, r):
        p = list(c.pool_asset).index(UST)
        pe = c.pool_entity[p]
        before = dict(supply=s.supply[0].copy(), res=s.pool_res[0, p].copy(), px=s.pool_px[0, p], P=s.P[0].copy(),
                      redeemed=s.algo_redeemed[0, UST], lmc=s.log_mcap[0, LUNA], held=s.H[0, pe].copy(),
                      cap=ALGO_REDEMPTION_CAP * c.supply[UST] * c.peg1[UST], peg=c.peg1[UST])
        out = module_arbitrage.redeem_pool_coins(c, s, b, r)
        after = dict(supply=np.asarray(out.get("supply", s.supply))[0], res=np.asarray(out.get("pool_res", s.pool_res))[0, p],
                     px=np.asarray(out.get("pool_px", s.pool_px))[0, p], P=np.asarray(out.get("P", s.P))[0],
                     held=s.H[0, pe].copy(), priced=pool_price(c, np.asarray(out.get("pool_res", s.pool_res)))[0, p])
        seen.append((r, before, after))
        return out

    mp = pytest.MonkeyPatch()
    mp.setattr(rounds, "STEPS", tuple(step if f is module_arbitrage.redeem_pool_coins else f for f in rounds.STEPS))
    try:
        core.simulate(NET, core.load_scenario(core.datasets.scenario_dir() / "terra_may_2022.json"))
    finally:
        mp.undo()
    return seen


def test_arbitrageurs_redeem_pool_ust_with_the_spare_capacity_only(terra):
    bought = []
    for r, before, after in terra:
        units = before["supply"][UST] - after["supply"][UST]
        assert units >= 0
        if units == 0:
            assert after["res"].tolist() == before["res"].tolist()
            continue
        bought.append((r, units))
        # at most what the holders' redemptions left of the round's capacity
        assert units * before["peg"] <= before["cap"] - before["redeemed"] + 1e-6
        # the units burnt are the units the pool gave up, and the pool's holdings follow it
        assert before["res"][0] - after["res"][0] == pytest.approx(units, abs=1e-15 * before["supply"][UST])
        assert after["held"][UST] == pytest.approx(after["res"][0], rel=1e-9)  # the holdings carry withdrawn units
        # the arbitrageurs paid the counter coin in; the pool's price rose to what the redemption realises
        assert after["res"][1] > before["res"][1] and after["px"] > before["px"]
        assert after["px"] == after["priced"]
        worth = module_arbitrage._worth(np.array([units * before["peg"]]), before["peg"], np.array([before["lmc"]]))[0]
        assert after["px"] <= worth * (1 + 1e-9)
        assert after["px"] == pytest.approx(worth, rel=1e-6)
        # LUNA was minted for them and fell; UST's price did not rise
        assert after["supply"][LUNA] > before["supply"][LUNA] and after["P"][LUNA] < before["P"][LUNA]
        assert after["P"][UST] <= before["P"][UST]
    # 18 May (round 11): the holders' redemptions used 463M of the 925M capacity; arbitrageurs bought 28.2M UST
    # from the pool ($6.3M of counter against 717M UST), which lifted its price from 0.217 to 0.919; in rounds
    # 12-13 the pool's price sits at the redemption's value net of the spread (0.98) and they buy 6,159 and 2,939
    assert [r for r, _ in bought] == [11, 12, 13]
    assert [u for _, u in bought] == pytest.approx([28.232e6, 6158.8, 2939.1], rel=1e-4)


def test_no_purchase_while_the_holders_use_the_whole_capacity(terra):
    for _r, before, after in terra:
        if before["redeemed"] >= before["cap"]:
            assert after["supply"][UST] == before["supply"][UST]
