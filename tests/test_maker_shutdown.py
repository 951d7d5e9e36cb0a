"""A Maker the scenario forces to default is shut down: no debt auction, and MKR holders owe nothing
(``core.engine.maker.vault_auctions``; the shutdown's DAI price, ``core.engine.maker_vow.clearing_recovery``).

Source: dss ``end.sol`` ``cage`` calls ``vow.cage``, which sets ``Sin = 0`` and ``Ash = 0`` and cages the flopper
(``flop.sol`` ``cage``: ``live = 0``, and ``kick`` requires ``live``); ``vow.flop`` can start no auction after it.
So the deficit the vault auctions leave stays the Vow's, and DAI's holders bear it through End's ``gap``.

Worked numbers (session 26, ``monotone-2020-btc-eth-maker-failed-full-runs-lag2-capital-50m-bad-debt``'s shape):
crypto-2020-03, ETH -95%, BTC -93%, full runs, oracle lag 2, liquidity 0.4, liquidators' capital $50M (K = $20M a
round). Maker owes 104,000,000 DAI. Round 2's flip auctions raise 15,086,998.55 DAI (the keepers' share of the
round's capital; the rest of the lots goes at zero bids) and leave the Vow 84,413,001.45 short. Shut down, nothing
covers that: MKR stays at 1,000,000 units, nothing is pledged, and DAI trades from round 3 at the clearing's
15,086,998.55 / 104,000,000 = 0.145067. Before this rule the Vow's waiting sin was pledged by MKR holders
(``flop_pledge``) and auctioned from round 3 (288,262 MKR minted) although ``clearing_recovery`` took the failure
for a shutdown: the pledge entered the clearing's assets, and DAI traded at (15,086,998.55 + 84,413,001.45) /
104,000,000 = 0.956731 as if the debt auctions had come. The live Maker of the same shock still pledges its
84,671,009.66 deficit in round 2 and mints 288,262.35 MKR in round 3."""

from __future__ import annotations

import numpy as np
import pytest

import core
from core.engine import compile_network
from core.engine.batch import build_batch
from core.engine.rounds import run_round
from core.engine.state import initial_state
from core.scenario import Scenario


@pytest.fixture(scope="module")
def shut_and_live():
    net = core.datasets.load("crypto-2020-03")
    c = compile_network(net)
    shock = dict(price_shocks={"ETH": -0.95, "BTC": -0.93}, run_intensity=1.0, oracle_lag=2, liquidity=0.4,
                 liquidator_capacity_usd=50e6)
    b = build_batch(c, [Scenario(forced_defaults=["MAKER"], **shock), Scenario(**shock)], net)
    s = initial_state(c, b)
    seen = []
    for r in range(5):
        run_round(c, s, b, r)
        seen.append(s.P[:, list(c.symbols).index("DAI")].copy())
    return c, s, np.array(seen)


def test_a_shut_down_maker_runs_no_debt_auction_and_pledges_nothing(shut_and_live):
    c, s, _ = shut_and_live
    j, dai = list(c.ids).index("MAKER"), list(c.symbols).index("DAI")
    assert s.H[0, j, dai] == pytest.approx(15_086_998.55, abs=0.01)  # DAI the flip auctions raised
    assert s.maker_deficit[0] == pytest.approx(84_413_001.45, abs=0.01)  # the Vow's sin, left where it is
    assert s.maker_pledge[0] == 0.0 and s.maker_flop_raised[0] == 0.0 and s.mkr_supply[0] == 1.0e6
    assert s.oa[0, j] == 0.0  # nothing booked from MKR holders


def test_a_shut_down_makers_dai_bears_the_vows_deficit(shut_and_live):
    c, s, dai_closes = shut_and_live
    j = list(c.ids).index("MAKER")
    owed = s.clearing.total_liabilities[0, j] if s.clearing.total_liabilities.ndim == 2 else s.clearing.total_liabilities[j]
    assert owed == pytest.approx(104.0e6, rel=1e-12)
    assert s.clearing.paid_ratio[0, j] == pytest.approx(15_086_998.55 / 104.0e6, rel=1e-9)
    assert dai_closes[3:, 0] == pytest.approx(0.145067, abs=1e-6)  # was 0.956731 with the pledge counted


def test_a_live_maker_of_the_same_shock_still_pledges_and_flops(shut_and_live):
    _, s, _ = shut_and_live
    assert s.maker_flop_raised[1] == pytest.approx(84_671_009.66, abs=0.01)
    assert s.mkr_supply[1] == pytest.approx(1_288_262.35, abs=0.01)
