"""The Maker system's keepers ask their share of the round's one capital (issue 11): a pure function of the round's
opening state (core.engine.maker_ask.keeper_ask), weighed beside the close-factor cohorts' and the Maker-style
auctions' asks (core.engine.capital.split_capital), so the three are served the same share K / (A + V + M).

Worked numbers (keeper_ask alone): an ETH-A cohort, ETH and its OSM at 1,300, DAI $1, ratio 1.45, penalty 13%:
100 ETH in vaults against 100,000 DAI (89,655 < 100,000 at the ratio: unsafe), and a live auction of 30 ETH
with a tab of 50,000 (45,000 due). The bark's tab is 113,000 for the 100 ETH, worth 100 x 1,300 x 0.97 = 126,100
to keepers (the market less their 3% margin): they ask 113,000; the live lot is worth 30 x 1,261 = 37,830, less than
its tab: 37,830. M = 150,830. With ``hole`` 80,000 (the live auction's 50,000 in it) the bark is cut to a 30,000 tab:
M = 67,830. With the keepers' table at 100,000 a round, M = 100,000; halted, 0.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import core
from core.engine import liquidate as liquidate_module
from core.engine import maker as maker_module
from core.engine import simulate_batch
from core.engine.capital import split_capital
from core.engine.maker_ask import keeper_ask
from core.mechanisms.maker_liquidations import IlkParameters
from core.mechanisms.maker_state import AUCTION_SLOTS
from core.scenario import Scenario

ETH, DAI = 0, 1
LEDGER = Path(__file__).parent / "regressions" / "invariant_counterexamples.json"


def _system(hole=np.inf, table=np.inf, halted=(False,)):
    """The module docstring's cohort and live auction, one scenario per ``halted`` entry."""
    S = len(halted)
    params = IlkParameters(mat=np.array([1.45]), chop=np.array([1.13]), hole=np.array([hole]), dust=np.array([15e3]),
                           buf=1.2, tail=8400.0, cusp=0.4, chip=0.0, tip=0.0, step=90.0, cut=0.99, Hole=np.inf)
    mk = SimpleNamespace(m=1, cohorts=np.array([0]), ca=np.array([ETH]), ilk=np.array([0]), params=params, flip=False,
                         keeper_capacity=table, named=np.array([True]), cycle_seconds=np.array([86400.0]))
    c = SimpleNamespace(maker=mk, c_debt=np.array([145e3]), c_coll=np.array([130.0]), P0=np.array([2000.0, 1.0]))
    slots = np.zeros((S, AUCTION_SLOTS, 1))
    tab, lot, due = slots.copy(), slots.copy(), slots.copy()
    tab[:, 0, 0], lot[:, 0, 0], due[:, 0, 0] = 50e3, 30.0, 45e3
    s = SimpleNamespace(coll=np.full((S, 1), 130.0), debt=np.full((S, 1), 145e3), P=np.tile([1300.0, 1.0], (S, 1)),
                        lt_eff=np.full((S, 1), 1 / 1.45), maker_tab=tab, maker_lot=lot, maker_due=due,
                        maker_raised=slots.copy(), maker_top=np.where(tab > 0, 1500.0, 0.0), maker_elapsed=slots.copy(),
                        maker_free=np.zeros((S, 1)), maker_ilk_dirt=np.full((S, 1), 50e3), maker_dirt=np.full(S, 50e3),
                        mkr_supply=np.full(S, 1e6), mkr_price=np.full(S, 1000.0), maker_spread=np.zeros((S, 1)),
                        halted=np.array(halted), price_history=None)
    b = SimpleNamespace(S=S, lag=np.zeros(S, int), any_lag=False, round_hours=np.full(S, 24.0), liquidity=np.ones(S),
                        capacity=np.full(S, np.inf))
    return c, s, b


def test_the_maker_systems_ask_by_hand():
    c, s, b = _system()
    assert keeper_ask(c, s, b)[0] == pytest.approx(113e3 + 30 * 1300 * 0.97, rel=1e-12)  # 150,830
    c, s, b = _system(hole=80e3)  # the live auction's 50,000 in the hole leaves the bark a 30,000 tab
    assert keeper_ask(c, s, b)[0] == pytest.approx(30e3 + 37_830.0, rel=1e-12)
    c, s, b = _system(table=100e3, halted=(False, True))  # at most what the system's keepers bring; none halted
    np.testing.assert_allclose(keeper_ask(c, s, b), [100e3, 0.0], rtol=1e-12)


def test_the_ask_is_continuous_and_rises_as_the_price_falls():
    """Lower prices: more vaults barked (a spread of ratios) and lots worth less; the ask moves without a jump."""
    c, s, b = _system()
    s.maker_spread = np.full((1, 1), 0.2)
    c.maker.named = np.array([False])
    asks = []
    for eth in np.linspace(1500.0, 1100.0, 401):
        s.P = np.array([[eth, 1.0]])
        asks.append(keeper_ask(c, s, b)[0])
    steps = np.abs(np.diff(asks))
    assert max(asks) > 1e5 and steps.max() < 0.02 * max(asks)


def test_three_asks_each_have_the_same_share():
    """K 200; A 410, V 1,000, M 590: T = 2,000, each has 200 / 2,000 = 10% of its ask: 41, 100, 59."""
    K = np.array([200.0, 3000.0, np.inf, 200.0, 200.0])
    A = np.array([410.0, 410.0, 410.0, 0.0, 410.0])
    V = np.array([1000.0, 1000.0, 1000.0, 0.0, 1000.0])
    M = np.array([590.0, 590.0, 590.0, 590.0, 0.0])
    close, auctions, maker = split_capital(K, A, V, M)
    np.testing.assert_allclose(close[:3], [41.0, 3000.0, np.inf], rtol=1e-14)
    np.testing.assert_allclose(auctions[:3], [100.0, 3000.0, np.inf], rtol=1e-14)
    np.testing.assert_allclose(maker[:3], [59.0, 1590.0, np.inf], rtol=1e-14)  # ample: what the others leave
    assert maker[3] == 200.0  # alone, the whole capital exactly
    tight = (A + V + M) > K
    assert (close + auctions + maker <= K * (1 + 1e-15))[tight].all()
    # no Maker ask: the split of two, to the last bit
    two = split_capital(K, A, V)
    for x, y in zip(split_capital(K, A, V, np.zeros(5)), two):
        np.testing.assert_array_equal(x, y)
    assert maker[4] == 0.0 and two[2][4] == 0.0


def test_served_last_the_maker_system_had_nothing():
    """Round 0 of the ledger's celsius pair: the close-factor ask $1,735.2M alone exceeds $500M x 0.573; served last
    (the old split's ``left``) the Maker system had 0, now the share of its ask, K M / (A + M)."""
    K, A, M = np.array([286.5e6]), np.array([1735.2e6]), np.array([1867.9e6])
    _, _, maker = split_capital(K, A, np.zeros(1), M)
    assert maker[0] == pytest.approx(286.5e6 * 1867.9 / (1735.2 + 1867.9), rel=1e-12)  # $148.5M (was $0)


def test_the_celsius_pair_round_zero(monkeypatch):
    """The engine's round 0 of monotone-shipped-cel-eth-luna-ulp-celsius-runs-capital-maker: Maker's keepers have
    K x M / (A + V + M) of the capital and raise it all, the close-factor cohorts K x A / (A + V + M); the
    three together spend no more than K. Before: the close-factor ask exceeded K and Maker's keepers had 0."""
    entry = next(e for e in json.loads(LEDGER.read_text()) if e["id"].endswith("celsius-runs-capital-maker"))
    shocks = {a: -d[0] for a, d in entry["depths"].items()}
    sc = Scenario(price_shocks=shocks, **{**entry["scenario"], "horizon": 1})
    seen: dict[str, np.ndarray] = {}
    split, run = liquidate_module.split_capital, maker_module.maker_round

    def split_spy(K, A, V, M=None):
        out = split(K, A, V, M)
        seen.update(K=K, A=A, V=V, M=M, shares=np.array(out))
        return out

    def round_spy(*a, **k):
        res = run(*a, **k)
        seen.update(keepers=np.asarray(k["keeper_capacity_usd"]), raised=res.dai_raised.sum(1))
        return res

    monkeypatch.setattr(liquidate_module, "split_capital", split_spy)
    monkeypatch.setattr(maker_module, "maker_round", round_spy)
    simulate_batch(core.datasets.load("crypto-2022-05"), [sc])  # the "shipped" network
    K, A, V, M = seen["K"][0], seen["A"][0], seen["V"][0], seen["M"][0]
    assert K == pytest.approx(500e6 * entry["scenario"]["liquidity"], rel=1e-12)
    assert A > K and M > 0.5 * K  # each ask alone more than the capital
    assert seen["keepers"][0] == pytest.approx(K * M / (A + V + M), rel=1e-12)
    assert seen["raised"][0] == pytest.approx(seen["keepers"][0], rel=1e-9)  # Maker's keepers use their share
    assert seen["shares"][:, 0].sum() <= K * (1 + 1e-12)
