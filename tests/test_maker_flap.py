"""Maker's surplus auctions (vow.flap, flap.sol: core.mechanisms.maker_backstop.flap_auction) in the round
(core.mechanisms.maker_liquidations) and in the engine (core.engine.maker): the surplus beyond hump goes to MKR
holders in bump lots, a transfer the system's loss nets."""

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
from core.mechanisms.maker_backstop import flap_auction
from core.mechanisms.maker_liquidations import IlkParameters, maker_initial_state, maker_round
from core.network import Network
from core.results import MAKER_HISTORY
from core.scenario import Scenario

ROOT = Path(__file__).resolve().parent.parent
M = {k: i for i, k in enumerate(MAKER_HISTORY)}
ILK = IlkParameters(mat=np.array([1.45]), chop=np.array([1.13]), hole=np.array([np.inf]), dust=np.array([0.0]),
                    buf=1.2, tail=8400.0, cusp=0.4, chip=0.0, tip=0.0, step=90.0, cut=0.99, Hole=np.inf)


def test_flap_follows_the_contract_arithmetic():
    # vow.flap kicks a bump lot while dai >= sin + bump + hump: with hump 500,000, bump 10,000 and 1,237,000 of
    # surplus, the 73rd lot leaves 507,000 (< 510,000: no 74th); the lot leaves the Vow at the kick
    # (flapper.kick: vat.move); the MKR bid is burnt at deal.
    r = flap_auction(1.237e6, 0.5e6, 10e3, 1.0e6, 440.0)
    assert r.paid == 730e3 and r.surplus == 507e3
    assert r.surplus < 0.5e6 + 10e3 <= r.surplus + 10e3
    assert r.burnt == pytest.approx(730e3 / 440.0) and r.mkr_supply == pytest.approx(1.0e6 - 730e3 / 440.0)
    # exactly hump + k bump: k lots, nothing left over the buffer
    assert flap_auction(0.53e6, 0.5e6, 10e3, 1.0e6, 440.0).paid == pytest.approx(30e3)
    # the sin of live auctions counts against the surplus (vat.sin(vow) in the condition)
    assert flap_auction(1.237e6, 0.5e6, 10e3, 1.0e6, 440.0, sin=0.737e6).paid == 0.0
    # the 2022 Flapper's lid: whole lots within it
    assert flap_auction(300e6, 250e6, 30e3, 1.0e6, 1700.0, capacity_usd=150e3).paid == 150e3
    # no MKR bidder at price 0 (a failed backstop), no hump: nothing sold
    assert flap_auction(1.237e6, 0.5e6, 10e3, 1.0e6, 0.0).paid == 0.0
    assert flap_auction(1.237e6, np.inf, 10e3, 1.0e6, 440.0).paid == 0.0


def test_flap_in_the_round_after_the_penalty_and_not_with_a_deficit():
    # One ETH-A vault of 1M DAI at ratio 1.30 (ETH 1,300): barked, its 1.13M tab raised within the hour, 130k of
    # penalty in the Vow. With 490k of surplus and hump 500k, bump 10k: 620k -> 12 lots (120k) go, 500k stay.
    s = maker_initial_state([[1000.0]], [[1e6]], 1, 490e3, 1e6, 1000.0)
    P = np.array([[1300.0]])
    r = maker_round(s, [0], ILK, P, P, round_seconds=3600.0, keeper_margin=0.01, hump=0.5e6, bump=10e3)
    assert float(r.penalty_income[0]) == pytest.approx(130e3)
    assert float(r.flap_paid[0]) == pytest.approx(120e3) and float(r.state.surplus[0]) == pytest.approx(500e3)
    assert float(r.mkr_burnt[0]) == pytest.approx(120.0) and float(r.state.mkr_supply[0]) == pytest.approx(1e6 - 120.0)
    assert float(r.state.mkr_price[0]) == 1000.0                       # a buyback at the market price
    # an auction still live holds its sin against the surplus: keepers with no DAI leave the whole tab live
    r = maker_round(s, [0], ILK, P, P, round_seconds=3600.0, keeper_margin=0.01, hump=0.5e6, bump=10e3,
                    keeper_capacity_usd=0.0)
    assert float(r.flap_paid[0]) == 0.0
    # a vault under water: the shortfall eats the buffer, a deficit is left for flop, and nothing is flapped
    s = maker_initial_state([[1000.0]], [[1e6]], 1, 490e3, 1e6, 1000.0)
    P = np.array([[500.0]])
    r = maker_round(s, [0], ILK, P, P, round_seconds=3600.0, keeper_margin=0.01, hump=0.5e6, bump=10e3)
    assert float(r.bad_debt[0]) > 490e3 and float(r.flap_paid[0]) == 0.0


def _with_ilks(net: Network, **changes) -> Network:
    ilks = net.maker_ilks.copy()
    for col, v in changes.items():
        ilks[col] = v
    return Network.from_frames(name="edited", **{**net.frames(), "maker_ilks": ilks})


def test_the_engine_pays_the_flap_out_of_makers_assets(monkeypatch):
    # The 2022 network with hump at its 70M buffer (instead of 250M) and ETH -20% in a day: the auctions' penalties
    # lift the surplus over hump and whole 30k lots leave Maker's other assets for MKR bidders, within the
    # flapper's lid (150k) per hour of the round; MKR burnt at its price (MKR's dated close of 6 May 2022, $1,338.70,
    # session 37; at the rows' former ~$1,700 the same 3.6M DAI burnt 2,117.65 MKR, now 2,689.18).
    monkeypatch.setattr(vault_defence, "DAILY_SHARE", 0.0)
    net = _with_ilks(load_network(ROOT / "data" / "crypto-2022-05"), surplus_hump_usd=70e6)
    c = compile_network(net)
    b = build_batch(c, [Scenario()], net)
    s = initial_state(c, b)
    eth = list(c.symbols).index("ETH")
    s.P[:, eth] = c.P0[eth] * 0.8
    s.price_history = [s.P, s.P]
    ch = vault_auctions(c, s, b, 0)
    mk = c.maker
    paid = float(ch["maker_flap_paid"][0])
    assert paid > 0 and paid / 30e3 == pytest.approx(round(paid / 30e3)) and paid <= 150e3 * 24
    assert ch["maker_surplus"][0] >= 70e6 - 1e-6                       # never below hump
    assert mk.mkr_price0 == 1338.7
    assert ch["mkr_burnt"][0] == pytest.approx(paid / 1338.7)
    assert ch["mkr_supply"][0] == pytest.approx(mk.mkr_supply0 - paid / 1338.7)
    # Maker's other assets: less the keepers' pay and the DAI flapped (no debt auction, no owner repaid)
    assert ch["maker_flop_raised"][0] == 0
    np.testing.assert_allclose(ch["oa"][0, mk.protocol] - s.oa[0, mk.protocol], -paid - _incentives(ch, s, mk), rtol=1e-9)


def _incentives(ch, s, mk) -> float:
    """Keepers' pay this round: the penalty credited less the fee income booked."""
    return float(ch["maker_penalty"][0] - s.maker_penalty[0] - ch["fee_income"][0, mk.protocol])


def test_black_thursday_flaps_before_the_crash_and_the_loss_nets_it():
    # March 2020 (hump 500,000, bump 10,000 DAI): the penalties of the first hours' auctions go to MKR holders
    # in surplus auctions, so the buffer is back at hump when the zero-bid auctions come. Measured: 1.06M DAI
    # flapped (2,409.09 MKR burnt at 440; 1.18M, 2,681.82 MKR, before the flap was held to Maker's equity beyond
    # hump, core.engine.maker_surplus.flap_room: rounds 3-11 flapped while its vaults under water had not reached
    # the Vow). The 2-day vow.wait of March 2020 (session 10: dss-deploy-scripts
    # config/main.json, the 2020-03-12 spell's "Existing wait: 2 days") lets no debt auction start within the
    # preset's 48 hours: the 2.99M DAI deficit is owed by MKR holders (flop_pledge) and nothing is minted (history:
    # the debt auctions ran on 19-21 March, 20,980 MKR for 5.3M DAI, SmithCrown). Before the wait: 1.47M flapped,
    # 3.76M raised by debt auctions at once (10,030 MKR), the later penalties refilling the buffer and flapped.
    sc = core.load_scenario(ROOT / "data" / "scenarios" / "black_thursday_2020.json")
    br = simulate_batch(core.datasets.network_of(sc), [sc], record=True)
    m = np.asarray(br.history["maker"])[0]
    flap, flop, owed = m[-1, M["flap_paid_usd"]], m[-1, M["flop_raised_usd"]], m[-1, M["pledged_usd"]]
    assert flap > 1e6 and flop == 0.0 and owed > 2.5e6
    # burnt at MKR's price of the round: 490.48 (MKR's dated close of 11 Mar 2020, session 37; at the row's former
    # ~$440 the same 1.05M DAI burnt 2,386.36 MKR, now 2,140.76), no debt auction has diluted it yet
    assert m[-1, M["mkr_burnt"]] == pytest.approx(flap / 490.48, rel=1e-12)
    # what MKR holders paid in or owe, net: the debt auctions, raised or waiting, less the surplus auctions
    np.testing.assert_allclose(br.governance_backstop[0], flop + owed - flap, rtol=1e-12)
    total = (br.loss[0].sum() + br.outside_loss[0] + br.insurance_draw[0].sum() + br.governance_backstop[0]
             + br.traders_loss[0] + br.pooled_cover_usd[0] + br.borrowers_penalty_loss[0])
    np.testing.assert_allclose(br.total_loss[0], total, rtol=1e-12)


def test_the_flap_pays_no_surplus_the_protocols_equity_does_not_show():
    # core.engine.maker_surplus.flap_room: Sky's Splitter (400,000 USDS a day) against a buffer of 149.2M whose
    # books show 116.87M of equity (a loss not yet in the Vow): the day's lots go while the equity beyond the
    # 1M hump covers them; at 1.25M of equity only 250,000 may go (25 lots of 10,000 once flap_auction rounds
    # it), at 0.9M none; before the first clearing the reference equity is the buffer: no cap.
    from types import SimpleNamespace

    from core.engine.maker_surplus import flap_room
    mk = SimpleNamespace(protocol=1, hump=1e6)
    cap = np.full(3, 400_000.0)
    s = SimpleNamespace(equity=np.array([[0.0, 116.87e6], [0.0, 1.25e6], [0.0, 0.9e6]]))
    np.testing.assert_array_equal(flap_room(mk, s, cap), [400_000.0, 250_000.0, 0.0])
    assert flap_room(mk, SimpleNamespace(equity=None), cap) is cap
    paid = flap_auction(np.full(3, 149.2e6), 1e6, 10e3, 1e9, 0.06, capacity_usd=flap_room(mk, s, cap)).paid
    np.testing.assert_array_equal(paid, [400_000.0, 250_000.0, 0.0])


def test_sky_does_not_buy_back_its_way_into_default():
    # crypto-2025-10, JitoSOL -89.2%, cbETH -15.3%, cbBTC -93.7% with HYPE -52.8% and SOL -8.9%, full runs, lag 2,
    # liquidity 0.46, capital $500M, 365 rounds (the shallower depth of monotone-2025-jitosol-cbeth-cbbtc-flap-
    # default): Sky's equity falls $32.7M below its $149.2M buffer at round 1 and the Splitter's 400,000 a day
    # took it below zero at round 293 (a default at this depth and not at the deeper one, which settled at round
    # 44). Held to the equity beyond hump, the buybacks stop at hump and Sky never fails.
    sc = Scenario.model_validate({"price_shocks": {"HYPE": -0.5277334645906312, "SOL": -0.08915705752223639,
                                                   "JitoSOL": -0.8919988452029916, "cbETH": -0.15302065733937453,
                                                   "CBBTC": -0.9368474524703194},
                                  "run_intensity": 1.0, "oracle_lag": 2, "liquidity": 0.4644019114605421,
                                  "liquidator_capacity_usd": 500e6, "horizon": 365})
    net = load_network(ROOT / "data" / "crypto-2025-10")
    br = simulate_batch(net, [sc], record=True)
    sky = list(net.entities["id"]).index("SKY")
    eq = np.asarray(br.history["equity"])[0][:, sky]
    assert br.default_round[0, sky] == -1
    assert eq.min() >= 1e6 - 1.0  # hump, to the dollar
