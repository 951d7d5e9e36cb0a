"""Maker inside the engine (core.engine.maker): barks at par within hole/Hole, the Clipper's curve, the Vow, flop;
flip auctions on the 2020 system; lenders' fees (core.engine.fees); the maker_ilks table's validation."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

import core
from core.cli import main as cli_main
from core.engine import compile_network, simulate_batch
from core.engine.batch import build_batch
from core.engine.books import unbooked_bad_debt
from core.engine.fees import AAVE_V3_PROTOCOL_FEE, compile_fees
from core.engine.maker import KEEPER_MARGIN, auction_seconds, vault_auctions
from core.results import MAKER_HISTORY
from core.engine.rounds import run_round
from core.engine.state import initial_state
from core.mechanisms import vault_defence
from core.io import load_network
from core.network import Network
from core.scenario import Scenario
from core.validation import DataValidationError

ROOT = Path(__file__).resolve().parent.parent
DATA22, DATA20 = ROOT / "data" / "crypto-2022-05", ROOT / "data" / "crypto-2020-03"
M = {k: i for i, k in enumerate(MAKER_HISTORY)}


@pytest.fixture(scope="module")
def net22() -> Network:
    return load_network(DATA22)


def _with_ilks(net: Network, **changes) -> Network:
    ilks = net.maker_ilks.copy()
    for col, v in changes.items():
        ilks[col] = v
    return Network.from_frames(name="edited", **{**net.frames(), "maker_ilks": ilks})


def _one_step(net: Network, P_moves: dict[str, float], round_hours: float = 24.0):
    """The state just before the Maker step of round 0 at moved prices (oracle = market, no lag), and the step's changes."""
    c = compile_network(net)
    b = build_batch(c, [Scenario(round_hours=round_hours)], net)
    s = initial_state(c, b)
    sym = list(c.symbols)
    for a, v in P_moves.items():
        s.P[:, sym.index(a)] = c.P0[sym.index(a)] * (1 + v)
    s.price_history = [s.P, s.P]
    return c, s, vault_auctions(c, s, b, 0)


# --- dog.sol: the unsafe test at par, hole/Hole, dust --------------------------------------------------------

def test_unsafe_at_par_not_at_dai_market_price(net22):
    # ETH -20%: the HF 1.10 bucket (collateral ratio 1.595 at mat 1.45) is at 1.276 < 1.45: unsafe whatever DAI trades at.
    c, s, changes = _one_step(net22, {"ETH": -0.20})
    assert changes["maker_due"].sum() > 0 or changes["maker_penalty"].sum() > 0
    # ETH -5%: every bucket is safe at par (1.10 x 0.95 > 1); a DAI premium (DAI at 1.25) must not make it unsafe
    # (owners below their target repay some debt, core.mechanisms.vault_defence, but nothing is barked).
    c, s, changes = _one_step(net22, {"ETH": -0.05, "DAI": 0.25})
    assert not {"maker_due", "maker_tab", "maker_penalty"} & changes.keys()


def test_hole_caps_what_one_auction_cycle_barks(net22):
    # A round shorter than an auction's life (6 minutes) is one cycle. ETH -50%: ETH-A's buckets HF 1.10, 1.25, 1.50
    # (10M, 30M, 400M DAI) are unsafe. With ilk.hole 15M DAI (chop 1.13) dog.sol barks the first vault whole
    # (11.3M tab) and 3.7M of tab of the second (dart = 3.7M / 1.13 = 3.274M DAI; the 26.7M left is above dust).
    net = _with_ilks(net22, hole_usd=15e6)
    c, s, changes = _one_step(net, {"ETH": -0.5}, round_hours=0.1)
    mk = c.maker
    due = changes["maker_due"][0].sum(0)  # over each cohort's auction slots (one auction each here)
    eth_a = mk.ilk == list(net.maker_ilks["ilk"]).index("ETH-A")
    np.testing.assert_allclose(due[eth_a][:3], [10e6, 3.7e6 / 1.13, 0.0], rtol=1e-12)
    # every ilk within its hole, all of them within Hole (100M)
    tab = changes["maker_tab"][0].sum(0)
    per_ilk = np.bincount(mk.ilk, tab, len(mk.params.mat))
    assert (per_ilk <= 15e6 * (1 + 1e-12)).all() and tab.sum() <= 100e6
    np.testing.assert_allclose(changes["maker_ilk_dirt"][0], per_ilk)
    np.testing.assert_allclose(changes["maker_dirt"][0], tab.sum())


def test_the_clip_curve_in_the_engine(net22):
    # The auction starts at top = feed * buf (ETH 2,750 x 0.5 x 1.20 = 1,650) and falls 1% a 90 s step: after a
    # 6-minute round, 1,650 x 0.99^4 = 1,585.0 is still above what keepers pay (1,375 x 0.97): nothing is taken.
    net = _with_ilks(net22, hole_usd=15e6)
    c, s, changes = _one_step(net, {"ETH": -0.5}, round_hours=0.1)
    live = changes["maker_tab"][0] > 0
    np.testing.assert_allclose(changes["maker_top"][0][live], 2750 * 0.5 * 1.20)
    np.testing.assert_allclose(changes["maker_elapsed"][0][live], 360.0)
    assert 1650 * 0.99 ** 4 > 1375 * (1 - KEEPER_MARGIN)
    assert changes["maker_raised"][0].sum() == 0 and changes["maker_penalty"][0] == 0


def test_auction_life_from_the_curve(net22):
    # ETH-A 2022: ceil(ln(0.97 / 1.20) / ln(0.99)) = 22 steps of 90 s = 33 minutes (t/7628 expected ~40 minutes).
    secs = auction_seconds(compile_network(net22).maker)
    assert secs[0] == 22 * 90
    assert np.ceil(np.log((1 - KEEPER_MARGIN) / 1.2) / np.log(0.99)) == 22


@pytest.fixture
def no_defence(monkeypatch):
    """Vault owners do not repay (core.mechanisms.vault_defence): the auction arithmetic alone."""
    monkeypatch.setattr(vault_defence, "DAILY_SHARE", 0.0)


def test_chop_credited_to_the_vow(net22, no_defence):
    # ETH -20% over a day: each cohort's vaults unsafe at par are barked, the share of its debt below mat
    # (core.mechanisms.cohort_spread: ratios spread +-w about the cohort's, w = s.maker_spread) with their
    # collateral, the share s (1 - w + w s) of the cohort's; keepers take at the first step at or below the
    # market less their margin, 1.20 x 0.99^22 = 0.9608 of the price, each auction raising min(tab, lot x price)
    # (clip.sol: the lot runs out first where collateral is short of the 13% penalty, as for ETH-B's HF 1.10
    # bucket: 1.43 x 0.8 x 0.9608 = 1.099 < 1.13). The penalty raised lands in the Vow, less keepers'
    # tip + chip x tab, and is the protocol's fee income; no bad debt. (Before the spread every cohort was one
    # vault, barked whole or not at all.)
    from core.mechanisms.cohort_spread import share_below

    c, s, changes = _one_step(net22, {"ETH": -0.20})
    mk = c.maker
    debt0, ink0 = s.debt[0, mk.cohorts], s.coll[0, mk.cohorts]
    w = s.maker_spread[0]
    price0 = s.P[0, mk.ca]
    share = share_below(ink0 * price0 * c.c_lt[mk.cohorts], debt0, 1.0, w)
    due = debt0 - changes["debt"][0, mk.cohorts]
    np.testing.assert_allclose(due, share * debt0, rtol=1e-12, atol=1e-6)
    barked = due > 0
    whole, part = barked & (share == 1.0), barked & (share < 1.0)
    assert whole.any() and part.any() and changes["maker_bad"][0] == 0
    assert (changes["debt"][0, mk.cohorts][whole] == 0).all() and (changes["debt"][0, mk.cohorts][part] > 0).all()
    lot = ink0 * share * (1.0 - w + w * share)                       # the lowest vaults' collateral
    price = price0 * 1.20 * 0.99 ** 22
    assert 1.20 * 0.99 ** 22 <= 1 - KEEPER_MARGIN < 1.20 * 0.99 ** 21
    raised = np.minimum(1.13 * due, lot * price)[barked]
    penalty = (raised - due[barked]).sum()
    assert 0 < penalty < 0.13 * due.sum()
    np.testing.assert_allclose(changes["maker_penalty"][0], penalty, rtol=1e-9)
    incentives = 300.0 * barked.sum() + 0.001 * 1.13 * due.sum()
    np.testing.assert_allclose(changes["maker_surplus"][0] - s.maker_surplus[0], penalty - incentives, rtol=1e-9)
    np.testing.assert_allclose(changes["fee_income"][0, mk.protocol], penalty - incentives, rtol=1e-9)
    # the collateral left after raising the tab goes back to the vault owner (stays in the cohort, debt-free and
    # free: maker_free), and the vaults not barked keep theirs
    back = changes["coll"][0, mk.cohorts]
    np.testing.assert_allclose(back, ink0 - np.minimum(lot, 1.13 * due / price), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(changes["maker_free"][0], np.maximum(lot - 1.13 * due / price, 0.0), rtol=1e-9, atol=1e-9)
    # what is left of a cohort barked in part is its higher vaults, spread less about a higher ratio
    np.testing.assert_allclose(changes["maker_spread"][0][part], (w * (1 - share) / (1 + w * share))[part], rtol=1e-12)


def test_state_take_keeps_maker_rows(net22):
    c = compile_network(net22)
    scs = [Scenario(price_shocks={"ETH": -x}) for x in (0.2, 0.5, 0.35)]
    b = build_batch(c, scs, net22)
    s = initial_state(c, b)
    from core.engine.rounds import run_round

    for r in range(2):
        run_round(c, s, b, r)
    t = s.take(np.array([True, False, True]))
    for name in ("maker_tab", "maker_due", "maker_ilk_dirt", "maker_surplus", "mkr_supply", "mkr_price", "fee_income"):
        np.testing.assert_array_equal(getattr(t, name), getattr(s, name)[[0, 2]])


# --- the backstop on whole runs ------------------------------------------------------------------------------

def _run(net, sc):
    br = simulate_batch(net, [sc], record=True)
    return br, br.history["maker"][0]


def test_black_thursday_sized_fall_on_2022_maker_survives(net22):
    # ETH -43% along a one-day path (two-hour rounds), oracles one round late, keepers and depth at 10%:
    # before this step Maker failed in round 1 with $1.64bn of bad debt and DAI at 0.70.
    path = list(np.round(np.linspace(-0.43 / 12, -0.43, 12), 4))
    sc = Scenario(price_paths={"ETH": path, "stETH": path}, round_hours=2.0, oracle_lag=1, liquidity=0.1,
                  liquidator_capacity_usd=2e9, horizon=30)
    br, m = _run(net22, sc)
    i = list(br.entity_ids).index("MAKER")
    assert br.default_round[0, i] == -1 and m[-1, M["failed"]] == 0
    assert br.bad_debt[0, i] < 100e6
    dai = list(br.asset_symbols).index("DAI")
    assert br.history["prices"][0][:, dai].min() >= 0.99


def test_deficit_beyond_the_buffer_mints_mkr_and_mkr_falls(net22, no_defence):
    # A 70% gap: vaults of the HF 1.50 buckets hold collateral worth 0.65 of their debt, so their auctions close
    # short; the 70M buffer is used up and flop mints MKR (in one round: owners who repay part of their gap spread
    # the shortfalls over two rounds, and the identity below holds for one debt auction).
    sc = Scenario(price_shocks={"ETH": -0.7, "WBTC": -0.7, "BTC": -0.7}, horizon=40)
    br, m = _run(net22, sc)
    assert m[-1, M["bad_debt_usd"]] > 70e6 and m[-1, M["flop_raised_usd"]] > 0  # the buffer refills from later penalties
    # MKR's price before: its dated close of 6 May 2022, $1,338.70 (session 37; the rows had ~$1,700 and the literal
    # 1700 here read the loss against the old price: 969.3M against the 616.3M raised / 0.86)
    assert m[-1, M["mkr_minted"]] > 0 and m[-1, M["mkr_price_usd"]] < 1338.7
    np.testing.assert_allclose(br.governance_backstop[0], m[-1, M["flop_raised_usd"]])
    # old holders' loss is the dilution: supply x (p0 - p1) = raised / (1 - discount)
    loss_old = 977000 * (1338.7 - m[-1, M["mkr_price_usd"]])
    np.testing.assert_allclose(loss_old, m[-1, M["flop_raised_usd"]] / (1 - 0.14), rtol=1e-9)


def _unbooked_at_the_close(net: Network, sc: Scenario, cage_of: int) -> tuple[np.ndarray, float]:
    """Each protocol's loans still under water when the run ends (core.engine.books.unbooked_bad_debt), (n,), and
    the bad debt the Maker system's entity ``cage_of`` booked in the round whose opening cages it (End's skim,
    core.engine.maker_end), 0.0 where it is never caged: the run's rounds replayed to reach its final state."""
    c = compile_network(net)
    b = build_batch(c, [sc], net)
    s = initial_state(c, b)
    caged = 0.0
    for r in range(b.horizon):
        live, before = s.maker_cage_round[0] < 0, s.bad[0, cage_of]
        run_round(c, s, b, r)
        if live and s.maker_cage_round[0] >= 0:
            caged = float(s.bad[0, cage_of] - before)
        if s.settled.all():
            break
    return unbooked_bad_debt(c, s.P, s.coll, s.debt)[0], caged


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(fall=st.floats(0.05, 0.9), btc=st.floats(0.0, 0.9), liquidity=st.floats(0.001, 1.0), lag=st.integers(0, 2),
       hours=st.sampled_from([1.0, 24.0, 72.0]))
# found by a search: vaults still under water at the 40th hourly round, not yet barked (the Vow has $1,222.2M of
# bad debt, the engine $1,287.5M: the $65.3M difference is those vaults' shortfall, which the books write off)
@example(fall=0.75, btc=0.0, liquidity=0.08203125, lag=0, hours=1.0)
# found by the suite's draws once surplus auctions came in (session 9): the Vow's surplus was 3.75M DAI (125 lots of
# 30,000 DAI, flapped) short of the identity that did not count what surplus auctions pay out
@example(fall=0.5, btc=0.5, liquidity=1.0, lag=0, hours=1.0)
# found by the suite's draws (session 17): a feed that barely fell in a round where the market fell steeply made the
# crossing integral's exponent overflow both powers (inf - inf), a NaN market price in the clip auction
@example(fall=0.5, btc=0.48046875, liquidity=1.0, lag=2, hours=1.0)
# found by the suite's draws (session 29) once an endogenous default came to be caged: MAKER in default at round 0,
# caged by End at round 1 with a gap of $1,999.35M that End's skim books as bad debt and the Vow never sees
@example(fall=0.875, btc=0.0, liquidity=1.0, lag=0, hours=1.0)
def test_vow_identity(net22, fall, btc, liquidity, lag, hours):
    # Surplus less deficit at the end = buffer + penalties less incentives (the fee income) - shortfalls + what
    # the debt auctions raised - what the surplus auctions paid out: nothing is lost or made up between the
    # auctions, the Vow and the books.
    sc = Scenario(price_shocks={"ETH": -fall, "BTC": -btc, "WBTC": -btc}, liquidity=liquidity, oracle_lag=lag,
                  liquidator_capacity_usd=5e8, round_hours=hours, horizon=40)
    br, m = _run(net22, sc)
    if m[-1, M["under_auction_usd"]] > 1.0:  # (rounding leaves dust: 6e-8 DAI on the example below)
        return  # an auction still live at the horizon: its penalty is not yet in the Vow
    i = list(br.entity_ids).index("MAKER")
    lhs = m[-1, M["surplus_usd"]] - m[-1, M["deficit_usd"]]
    rhs = 70e6 + br.fee_income[0, i] - m[-1, M["bad_debt_usd"]] + m[-1, M["flop_raised_usd"]] - m[-1, M["flap_paid_usd"]]
    np.testing.assert_allclose(lhs, rhs, rtol=1e-9, atol=1.0)
    # the protocol's bad debt: what the Vow booked, loans still under water at the close (not yet auctioned) and,
    # where MAKER defaulted before the last round, the gap End's skim booked at the cage's opening a round later
    # (core.engine.maker_end: vow.cage; no auction, bark or flop follows, so that round books nothing else)
    unbooked, caged = _unbooked_at_the_close(net22, sc, cage_of=i)
    np.testing.assert_allclose(br.bad_debt[0, i], m[-1, M["bad_debt_usd"]] + caged + unbooked[i], rtol=1e-9, atol=1.0)


def test_batch_rows_do_not_depend_on_batch_mates(net22):
    # settled rows leave the batch (CascadeState.take): each row's Maker results equal its own run's
    scs = [Scenario(price_shocks={"ETH": -x}, liquidity=0.2, liquidator_capacity_usd=3e8) for x in (0.1, 0.45, 0.3, 0.6)]
    together = simulate_batch(net22, scs)
    for j, sc in enumerate(scs):
        alone = simulate_batch(net22, [sc])
        np.testing.assert_allclose(together.fee_income[j], alone.fee_income[0], rtol=1e-12, atol=1e-6)
        np.testing.assert_allclose(together.governance_backstop[j], alone.governance_backstop[0], atol=1e-6)
        np.testing.assert_allclose(together.bad_debt[j], alone.bad_debt[0], rtol=1e-12, atol=1e-6)


def test_flip_keepers_decide_the_2020_deficit():
    # flip.sol: what keepers cannot reach goes at zero bids. Keepers at full capacity (liquidity 1) leave far
    # less bad debt than at a tenth (the preset's gas-crippled keepers).
    net = load_network(DATA20)
    base = core.load_scenario(ROOT / "data" / "scenarios" / "black_thursday_2020.json")
    crippled = simulate_batch(net, [base])
    healthy = simulate_batch(net, [Scenario.model_validate(base.model_dump() | {"liquidity": 1.0})])
    i = list(crippled.entity_ids).index("MAKER")
    assert healthy.bad_debt[0, i] < 0.2 * crippled.bad_debt[0, i]


# --- lenders' fees --------------------------------------------------------------------------------------------

def test_fee_rules_by_version_and_date():
    f = compile_fees(["aave_v2", "aave_v3", "compound_v2", "compound_v2", "maker", "compound_v3"],
                     pd.Series(["2022-05-06", "2022-05-06", "2022-05-06", "2020-03-11", "2022-05-06", "2025-10-01"]))
    assert f.bonus_fee.tolist() == [0.0, AAVE_V3_PROTOCOL_FEE, 0.0, 0.0, 0.0, 0.0]
    assert f.seize_share.tolist() == [0.0, 0.0, 0.028, 0.0, 0.0, 0.0]


def test_compound_keeps_its_seize_share(net22):
    # ETH -40% in one gap: COMP's fee income is 2.8% of the collateral its liquidations seized, valued when seized.
    sc = Scenario(price_shocks={"ETH": -0.4}, horizon=1)
    br = simulate_batch(net22, [sc], record=True)
    c = compile_network(net22)
    i = list(br.entity_ids).index("COMP")
    seized_usd = br.history["liquidated"][0][0, i]
    assert seized_usd > 0
    np.testing.assert_allclose(br.fee_income[0, i], 0.028 * seized_usd, rtol=1e-9)
    assert c.fees.bonus_fee.sum() >= 0


# --- the table --------------------------------------------------------------------------------------------------

def _bad_copy(tmp_path, edit) -> Path:
    d = tmp_path / "ds"
    shutil.copytree(DATA22, d)
    df = pd.read_csv(d / "maker_ilks.csv", keep_default_na=False, dtype=str)
    edit(df)
    df.to_csv(d / "maker_ilks.csv", index=False)
    return d


@pytest.mark.parametrize("edit, words", [
    (lambda df: df.__setitem__("buf", ["", *df["buf"][1:]]), ["maker_ilks.csv", "line 2", "buf", "clip"]),
    (lambda df: df.__setitem__("mkr_supply", [*df["mkr_supply"][:-1], "5"]), ["maker_ilks.csv", "line 6", "mkr_supply", "same"]),
    (lambda df: df.__setitem__("liquidation_ratio", ["1.5", *df["liquidation_ratio"][1:]]), ["cohorts.csv", "liquidation_threshold", "ETH at 1/1.45"]),
    (lambda df: df.__setitem__("protocol", ["AAVE_ETH"] * len(df)), ["maker_ilks.csv", "protocol", "cdp_protocol"]),
    (lambda df: df.__setitem__("cut", ["1.5", *df["cut"][1:]]), ["maker_ilks.csv", "line 2", "cut", "1.5"]),
    (lambda df: df.__setitem__("flap_bump_usd", [""] * len(df)), ["maker_ilks.csv", "line 2", "flap_bump_usd", "surplus_hump_usd"]),
    (lambda df: df.__setitem__("surplus_hump_usd", [*df["surplus_hump_usd"][:-1], "1e6"]), ["maker_ilks.csv", "line 6", "surplus_hump_usd", "same"]),
    # vow.wait (core.mechanisms.maker_backstop.flop_ready): one value for the system, never negative
    (lambda df: df.__setitem__("vow_wait_seconds", [*df["vow_wait_seconds"][:-1], "172800"]),
     ["maker_ilks.csv", "line 6", "vow_wait_seconds", "same"]),
    (lambda df: df.__setitem__("vow_wait_seconds", ["-1"] * len(df)), ["maker_ilks.csv", "line 2", "vow_wait_seconds"]),
], ids=["clip-without-buf", "system-column-differs", "cohort-without-ilk", "not-a-cdp", "cut-above-1", "hump-without-bump",
        "hump-differs", "wait-differs", "wait-negative"])
def test_validate_names_file_line_column(tmp_path, capsys, edit, words):
    d = _bad_copy(tmp_path, edit)
    with pytest.raises(DataValidationError):
        load_network(d)
    assert cli_main(["validate", str(d)]) == 2
    out = capsys.readouterr()
    text = out.out + out.err
    assert "Traceback" not in text
    for w in words:
        assert w in text, (w, text)
