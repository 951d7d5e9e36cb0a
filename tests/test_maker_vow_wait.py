"""The Vow's debt-auction delay (vow.sol ``wait``: ``fess`` queues a bark's sin, ``flog`` releases it after
``wait``, ``flop`` sells MKR only against released sin): core.mechanisms.maker_backstop.flop_ready, the engine's
queue (core.engine.maker) and the ``vow_wait_seconds`` column of ``maker_ilks``."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import core
from core.cli import main as cli_main
from core.engine import simulate_batch
from core.io import load_network
from core.mechanisms.maker_backstop import flop_pledge, flop_ready
from core.network import Network
from core.results import MAKER_HISTORY

ROOT = Path(__file__).resolve().parent.parent
DATA20, DATA22 = ROOT / "data" / "crypto-2020-03", ROOT / "data" / "crypto-2022-05"
M = {k: i for i, k in enumerate(MAKER_HISTORY)}
H = 3600.0


def test_flop_ready_follows_flog_and_the_spells_values():
    # Black Thursday: 5.67M DAI of deficit (WhiteRabbit) queued at hour 16 of 12 March 2020. The launch wait, 2 days
    # (dss-deploy-scripts config/main.json vow_wait 172800; the 2020-03-12 spell: "Existing wait: 2 days"), releases
    # it at hour 64; the 156 hours that spell set (561,600 s) at hour 172, 04:00 UTC on 19 March: the debt auctions
    # ran on 19-21 March (Smith+Crown). After the first 5.3M DAI raised, 0.37M is left to sell.
    assert flop_ready([5.67e6], [16 * H], 63 * H, 172800.0) == 0.0
    assert flop_ready([5.67e6], [16 * H], 64 * H, 172800.0) == 5.67e6
    assert flop_ready([5.67e6], [16 * H], 171 * H, 561600.0) == 0.0
    assert flop_ready([5.67e6], [16 * H], 172 * H, 561600.0, 5.3e6) == pytest.approx(0.37e6)
    # eras released in order; wait 0 (the contract's default) releases everything at once; never below zero
    q, at = np.array([4e6, 2e6]), np.array([10 * H, 30 * H])
    assert flop_ready(q, at, 40 * H, 24 * H, 1e6) == 3e6 and flop_ready(q, at, 54 * H, 24 * H, 1e6) == 5e6
    assert flop_ready(q, at, 30 * H, 0.0) == 6e6
    assert flop_ready(q, at, 54 * H, 24 * H, 7e6) == 0.0
    # vectorised over scenarios: (S, eras) with per-scenario clocks
    got = flop_ready(np.array([[4e6, 2e6], [4e6, 2e6]]), np.array([[0.0, H], [0.0, 2 * H]]), np.array([2 * H, 2 * H]), 1 * H)
    assert got.tolist() == [6e6, 4e6]


def _with_wait(net: Network, wait) -> Network:
    ilks = net.maker_ilks.copy()
    ilks["vow_wait_seconds"] = wait
    return Network.from_frames(name="edited", **{**net.frames(), "maker_ilks": ilks})


def _black_thursday(net: Network):
    sc = core.load_scenario(ROOT / "data" / "scenarios" / "black_thursday_2020.json")
    return simulate_batch(net, [sc], record=True)


def test_the_engine_waits_before_the_debt_auctions():
    # Black Thursday 2020 (hourly rounds; the preset's path on the 2020 snapshot): with no wait the deficit is
    # auctioned the round it shows; with a 6-hour wait the first MKR is minted at the end of the 6th hour after the start of the round the first deficit shows
    # in (its era: core.engine.maker.flop_capacity), 5 rounds later, and the deficit left at the end is the same
    # once every era has been released (same losses, later recapitalisation); with 2 days nothing is auctioned in
    # the preset's 48 hours and the whole deficit is still queued at the end.
    net = load_network(DATA20)
    runs = {w: _black_thursday(_with_wait(net, w)) for w in (0.0, 6 * H, 172800.0)}
    hist = {w: r.history["maker"][0] for w, r in runs.items()}
    first_deficit = int(np.flatnonzero(hist[0.0][:, M["flop_raised_usd"]] > 0)[0])
    delayed = hist[6 * H][:, M["flop_raised_usd"]]
    assert delayed[: first_deficit + 5].max() == 0.0 and delayed[first_deficit + 5] > 0
    assert hist[0.0][-1, M["bad_debt_usd"]] == pytest.approx(hist[6 * H][-1, M["bad_debt_usd"]], rel=1e-9)
    # while the sin waits, the penalties of later auctions heal it (vow.heal), so the debt auctions raise less (here
    # 2.99M DAI against 3.76M with no wait, which then flapped 0.26M of those penalties back to MKR holders and
    # refilled the 0.5M buffer): MKR holders' net payment less the buffer left is the same loss either way
    def net(h):
        return h[-1, M["flop_raised_usd"]] - h[-1, M["flap_paid_usd"]] - h[-1, M["surplus_usd"]]
    assert delayed[-1] < hist[0.0][-1, M["flop_raised_usd"]]
    assert net(hist[6 * H]) == pytest.approx(net(hist[0.0]), rel=1e-6)
    late = hist[172800.0]
    assert late[:, M["mkr_minted"]].max() == 0.0 and late[:, M["flop_raised_usd"]].max() == 0.0
    # the deficit waits, owed by MKR holders (flop_pledge): the same as the 6-hour wait's debt auctions raised, no
    # default at Maker, and the same loss to MKR holders (governance_backstop) and to the system
    assert late[-1, M["deficit_usd"]] == pytest.approx(delayed[-1], rel=1e-9)
    maker = list(runs[0.0].entity_ids).index("MAKER")
    for w in (6 * H, 172800.0):
        assert not runs[w].defaulted[0, maker]
    assert runs[172800.0].governance_backstop[0] == pytest.approx(runs[6 * H].governance_backstop[0], rel=1e-9)
    assert runs[172800.0].total_loss[0] == pytest.approx(runs[6 * H].total_loss[0], rel=1e-9)


def test_no_wait_is_bit_identical_to_a_file_without_the_column(tmp_path):
    # a file written before the column (no vow_wait_seconds) and one stating 0 run the same to the last bit
    d = tmp_path / "old"
    shutil.copytree(DATA20, d)
    df = pd.read_csv(d / "maker_ilks.csv", keep_default_na=False, dtype=str).drop(columns=["vow_wait_seconds"])
    df.to_csv(d / "maker_ilks.csv", index=False)
    old = load_network(d)
    assert old.maker_ilks["vow_wait_seconds"].tolist() == [0.0]
    a, b = _black_thursday(old), _black_thursday(_with_wait(load_network(DATA20), 0.0))
    for name in ("total_loss", "bad_debt", "equity", "prices"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert np.array_equal(a.history["maker"], b.history["maker"])


def test_validate_reports_the_wait(tmp_path, capsys):
    assert cli_main(["validate", str(DATA22)]) == 0
    assert "Maker vow.wait: 156 hours" in capsys.readouterr().out
    assert cli_main(["validate", str(DATA20)]) == 0
    assert "Maker vow.wait: 48 hours" in capsys.readouterr().out
    d = tmp_path / "old"
    shutil.copytree(DATA20, d)
    df = pd.read_csv(d / "maker_ilks.csv", keep_default_na=False, dtype=str).drop(columns=["vow_wait_seconds"])
    df.to_csv(d / "maker_ilks.csv", index=False)
    assert cli_main(["validate", str(d)]) == 0
    assert "Maker vow.wait: 0 (vow_wait_seconds empty or absent" in capsys.readouterr().out


def test_the_2022_snapshot_states_the_spells_values():
    # the values the spell tests assert after the 29 Apr 2022 spell (spells-mainnet
    # archive/2022-04-29-DssSpell/test/config.sol), unchanged until after 6 May 2022
    ilks = load_network(DATA22).maker_ilks.set_index("ilk")
    assert ilks["hole_usd"].to_dict() == {"ETH-A": 65e6, "ETH-B": 30e6, "ETH-C": 35e6, "WBTC-A": 40e6, "WBTC-C": 25e6}
    assert ilks["dust_usd"].to_dict() == {"ETH-A": 15e3, "ETH-B": 40e3, "ETH-C": 5e3, "WBTC-A": 15e3, "WBTC-C": 7.5e3}
    assert ilks["tail_seconds"].to_dict() == {"ETH-A": 8400.0, "ETH-B": 8400.0, "ETH-C": 8400.0, "WBTC-A": 8400.0, "WBTC-C": 5400.0}
    assert set(ilks["vow_wait_seconds"]) == {561600.0} and set(ilks["flap_lid_usd"]) == {150e3}


def test_flop_pledge_is_the_waiting_deficit_where_mkr_covers_it():
    # MKR holders owe the waiting deficit where their equity at the debt auctions' discount covers it (flop_auction
    # would not fail): Black Thursday's 5.67M DAI against ~1.0M MKR at ~300 USD (300M USD of equity) is owed; a
    # deficit above E(1 - 0.14) = 258M USD is not (the backstop would fail), nor is anything at MKR price 0
    assert flop_pledge(5.67e6, 1.0e6, 300.0) == 5.67e6
    assert flop_pledge(257e6, 1.0e6, 300.0) == 257e6 and flop_pledge(259e6, 1.0e6, 300.0) == 0.0
    assert flop_pledge(5.67e6, 1.0e6, 0.0) == 0.0 and flop_pledge(0.0, 1.0e6, 300.0) == 0.0
    assert flop_pledge([1e6, 400e6], [1e6, 1e6], [300.0, 300.0]).tolist() == [1e6, 0.0]


def _peak_dai(net: Network, falls) -> np.ndarray:
    from core.engine import compile_network, run_round, scenario_batch
    from core.engine.state import initial_state
    from core.scenario import Scenario
    c = compile_network(net)
    b = scenario_batch(net, [Scenario(price_shocks={"ETH": -v}, liquidity=0.1, oracle_lag=1, horizon=8, round_hours=1.0)
                             for v in falls])
    s = initial_state(c, b)
    d = list(c.symbols).index("DAI")
    peak = np.ones(len(falls))
    for r in range(b.horizon):
        run_round(c, s, b, r)
        peak = np.maximum(peak, s.peg_factor[:, d])
    assert not s.defaulted[:, c.issuer[d]].any()
    return peak


def test_the_wait_delays_the_squeeze_of_the_debt_auctions():
    # DAI's supply squeeze (core.engine.backing) counts the DAI MKR buyers bring to the debt auctions as burnt when
    # they bring it. ETH -37.5% in an hour on the 2020 snapshot leaves a 9.6M DAI deficit: with no wait the debt
    # auctions buy it at once and DAI peaks at its 1.12 cap; with March 2020's 2 days it waits, owed by MKR holders,
    # and DAI peaks at 1.0876 in the 8 hours, below ETH -25%'s 1.0891 (no deficit there): the zero-bid auctions of the
    # deeper fall burn less DAI, and the DAI that makes it up comes after the wait (history: 19-21 March).
    net = load_network(DATA20)
    waited, at_once = _peak_dai(net, (0.25, 0.375)), _peak_dai(_with_wait(net, 0.0), (0.25, 0.375))
    assert at_once[0] == pytest.approx(waited[0], rel=1e-12)          # no deficit at -25%: the wait changes nothing
    assert at_once[1] == pytest.approx(1.12, rel=1e-12) and waited[1] < waited[0] < at_once[1]


def test_mkr_prices_the_deficit_its_holders_owe():
    # MKR's market price prices the deficit waiting vow.wait (maker_backstop.pledged_price): on Black Thursday with
    # March 2020's 2-day wait no MKR is minted in the 48 hours and MKR holders owe the deficit left at the end, so
    # MKR trades at 490.48 - owed / (0.86 x supply), the supply 1,000,000 less what the surplus auctions of the first
    # hours burnt (at the market price, which they leave alone); 490.48 before any deficit (MKR's dated close of
    # 11 Mar 2020, session 37; the row had ~$440: final price 436.74 -> 487.22, the 1.05M DAI flapped burning 2,141
    # MKR instead of 2,409, supply 997,591 -> 997,859, owed $2.7995M). (436.50 before session 14's
    # auctions' remainders handed to the Sai vaults' owners, core.engine.auction_vaults.returned_to_owner; 436.52
    # before session 22's flap_room held the surplus auctions to Maker's equity: they pay 1.06M DAI instead of 1.18M
    # and burn less MKR, supply 997,318 -> 997,591, and MKR holders owe 2.867M instead of 2.985M.)
    from core.mechanisms.maker_backstop import pledged_price
    h = _black_thursday(load_network(DATA20)).history["maker"][0]
    owed = h[:, M["pledged_usd"]]
    assert owed[-1] > 1e6 and owed[0] == 0.0 and h[:, M["mkr_minted"]].max() == 0.0
    np.testing.assert_allclose(h[:, M["mkr_price_usd"]], 490.48 - owed / (0.86 * h[:, M["mkr_supply"]]), rtol=1e-12)
    # 436.66 before session 30: Compound's oracle reads DAI at its band's 1.05, its liquidators sell less ETH and
    # Maker's deficit is $4.213M, not $4.264M (core.engine.oracle, "Banded market prices")
    # 436.74 at the row's former ~$440 (session 37: MKR's dated close 490.48)
    assert h[-1, M["mkr_price_usd"]] == pytest.approx(487.22, abs=0.005)
    assert h[0, M["mkr_price_usd"]] == 490.48
    assert pledged_price(1.0e6, 490.48, 5.67e6) == pytest.approx(483.89, abs=0.005)  # history's whole 5.67M (433.41 at ~$440)
    assert pledged_price(1.0e6, 490.48, 5.67e6) == pytest.approx(483.89, abs=0.005)  # at the dated close


@pytest.mark.xfail(strict=True, reason="MKR moves only by the debt auctions' dilution: Black Thursday's pledged deficit "
                   "moves it under 1% (490.48 -> ~487), where MKR fell 47% to $252 on 13 March 2020 (CoinGape) and traded "
                   "~$245 as the auctions opened on 19 March (Cointelegraph): the fall of its franchise value with "
                   "the market and Maker's crisis is not modelled")
def test_mkr_falls_as_it_did_on_black_thursday():
    h = _black_thursday(load_network(DATA20)).history["maker"][0]
    assert h[:, M["mkr_price_usd"]].min() < 0.7 * 490.48
