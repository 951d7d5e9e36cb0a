"""Shocks that unfold over time (core.paths, the scenario fields, and the engine's hook)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st

import core
from core.engine import compile_network, run_batch, scenario_batch, simulate_batch
from core.paths import ExogenousPaths, final_fall, path_to_fall, apply_round, cumulative_log_move, log_increment, moving_after, round_zero
from core.scenario import Scenario, parse_scenario
from core.validation import DataValidationError

ROOT = Path(__file__).resolve().parent.parent
#: The five presets as they were before paths: every move one gap at round 0.
GAP_PRESETS = sorted((Path(__file__).parent / "fixtures" / "presets_as_gaps").glob("*.json"))
UNPEGGED = np.array([-2])


@pytest.fixture(scope="module")
def net():
    return core.datasets.load("crypto-2022-05")


# --- the path function: worked numbers ---------------------------------------------------------

def test_shock_over_four_rounds_moves_by_the_fourth_root_each_round():
    shock, depeg = np.array([[0.5]]), np.zeros((1, 1))
    p = ExogenousPaths.of([4], [{}], ["ETH"])
    s0, d0 = round_zero(shock, depeg, p)
    assert s0[0, 0] == pytest.approx(0.5 ** 0.25, rel=1e-15)  # 0.8409
    factors = [float(np.exp(log_increment(shock, depeg, p, UNPEGGED, r)[0, 0])) for r in (1, 2, 3)]
    assert factors == pytest.approx([0.5 ** 0.25] * 3, rel=1e-14)
    assert log_increment(shock, depeg, p, UNPEGGED, 4) is None  # arrived: nothing moves any more
    cum = [float(np.exp(cumulative_log_move(shock, depeg, p, UNPEGGED, r)[0, 0])) for r in range(6)]
    assert cum == pytest.approx([0.8409, 0.7071, 0.5946, 0.5, 0.5, 0.5], abs=5e-5)
    assert moving_after(p, 2).tolist() == [True] and moving_after(p, 3) is None


def test_one_round_and_no_path_is_the_gap_bit_for_bit():
    shock = np.array([[0.57, 1.0, 0.1]])
    depeg = np.array([[0.0, 0.3, 0.0]])
    p = ExogenousPaths.of([1], [{}], ["A", "B", "C"])
    s0, d0 = round_zero(shock, depeg, p)
    assert np.array_equal(s0, shock) and np.array_equal(d0, depeg)
    assert all(log_increment(shock, depeg, p, np.array([-2, -1, -2]), r) is None for r in range(1, 5))
    P = np.array([[3.0, 1.0, 2.0]])
    assert apply_round(P, shock, depeg, p, np.array([-2, -1, -2]), 1) is P


def test_explicit_path_moves_round_by_round_then_stays():
    p = ExogenousPaths.of([1], [{"ETH": [-0.05, -0.12, -0.20]}], ["BTC", "ETH"])
    shock, depeg, unit = np.ones((1, 2)), np.zeros((1, 2)), np.array([-2, -2])
    s0, _ = round_zero(shock, depeg, p)
    assert s0[0].tolist() == pytest.approx([1.0, 0.95])
    rel = [float(np.exp(log_increment(shock, depeg, p, unit, r)[0, 1])) for r in (1, 2)]
    assert rel == pytest.approx([0.88 / 0.95, 0.80 / 0.88])
    assert log_increment(shock, depeg, p, unit, 3) is None
    assert float(np.expm1(cumulative_log_move(shock, depeg, p, unit, 10)[0, 1])) == pytest.approx(-0.20)
    assert moving_after(p, 1).tolist() == [True] and moving_after(p, 2) is None


def test_a_path_that_rises_again_is_followed():
    p = ExogenousPaths.of([1], [{"X": [-0.5, -0.3, -0.3, -0.4]}], ["X"])
    assert p.last_move.tolist() == [3]
    one = np.ones((1, 1))
    steps = [log_increment(one, 0 * one, p, UNPEGGED, r) for r in (1, 2, 3, 4)]
    assert float(np.exp(steps[0][0, 0])) == pytest.approx(0.7 / 0.5)
    assert float(steps[1][0, 0]) == 0.0 and float(np.exp(steps[2][0, 0])) == pytest.approx(0.6 / 0.7)
    assert steps[3] is None


def test_depeg_reached_evenly_in_log_price_and_following_its_unit():
    # UST (pegged to USD) to 0.19 of its peg over 2 rounds: 0.9, then 0.81 of peg... of 1 - 0.19.
    # stETH (pegged to ETH) 10% below peg over 2 rounds while ETH falls 36% over the same 2 rounds.
    symbols = ["ETH", "stETH", "UST"]
    unit = np.array([-2, 0, -1])
    shock = np.array([[0.64, 1.0, 1.0]])
    depeg = np.array([[0.0, 0.1, 0.19]])
    p = ExogenousPaths.of([2], [{}], symbols)
    s0, d0 = round_zero(shock, depeg, p)
    assert s0[0, 0] == pytest.approx(0.8) and d0[0, 2] == pytest.approx(0.1) and d0[0, 1] == pytest.approx(1 - 0.9 ** 0.5)
    inc = np.exp(log_increment(shock, depeg, p, unit, 1)[0])
    assert inc[0] == pytest.approx(0.8)                    # ETH: the second half of its fall
    assert inc[2] == pytest.approx(0.9)                    # UST: 0.9 → 0.81 of peg
    assert inc[1] == pytest.approx(0.8 * 0.9 ** 0.5)       # stETH: ETH's step times its own depeg step
    x = np.exp(cumulative_log_move(shock, depeg, p, unit, 1)[0])
    assert x.tolist() == pytest.approx([0.64, 0.64 * 0.9, 0.81])


def test_identical_paths_are_stored_once():
    p = ExogenousPaths.of([1] * 4, [{"ETH": [-0.1]}, {}, {"ETH": [-0.1]}, {"BTC": [-0.2, -0.3]}], ["ETH", "BTC"])
    assert p.path_id.tolist() == [0, -1, 0, 1] and p.table.shape == (2, 2, 2)
    sub = p.take(np.array([3, 3, 1]))
    assert sub.path_id.tolist() == [1, 1, -1] and sub.table is p.table


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 9), st.lists(st.floats(-0.95, 3.0), min_size=1, max_size=8), st.floats(-0.95, 2.0),
       st.floats(0.0, 0.9), st.integers(0, 14))
def test_increments_add_up_to_the_cumulative_move(R, path, shock_move, dep, r):
    # Property: round 0's multipliers times every later round's increment reach x_r (closed form), asset by asset.
    symbols = ["ETH", "stETH", "USDX", "X"]
    unit = np.array([-2, 0, -1, -2])
    shock = np.array([[1.0 + shock_move, 1.0, 1.0, 1.0]])
    depeg = np.array([[0.0, dep, dep, 0.0]])
    p = ExogenousPaths.of([R], [{"X": path}], symbols)
    s0, d0 = round_zero(shock, depeg, p)
    start = np.log(s0[0])
    if dep > 0:  # a depegged token starts at its (moved) peg times (1 - d0); undepegged, at its reference
        start[1] = start[0] + np.log1p(-d0[0, 1])
        start[2] = np.log1p(-d0[0, 2])
    total = start + sum((log_increment(shock, depeg, p, unit, t) if log_increment(shock, depeg, p, unit, t) is not None
                         else np.zeros((1, 4)))[0] for t in range(1, r + 1))
    np.testing.assert_allclose(total, cumulative_log_move(shock, depeg, p, unit, r)[0], atol=1e-12)
    # and the move has arrived once both the spread and the path are over
    if r >= max(R, len(path)) - 1:
        end = np.array([np.log1p(shock_move), (np.log1p(shock_move) if dep > 0 else 0.0) + np.log1p(-dep), np.log1p(-dep),
                        np.log1p(path[-1])])
        np.testing.assert_allclose(total, end, atol=1e-12)
        still = moving_after(p, r)
        assert still is None or not still[0]


# --- scenario fields ------------------------------------------------------------------------

def test_old_scenario_files_stay_valid_with_gap_defaults():
    for f in GAP_PRESETS:
        sc = core.load_scenario(f)
        assert sc.shock_rounds == 1 and sc.price_paths == {} and sc.round_hours == 24.0


@pytest.mark.parametrize("doc, column, words", [  # the message names the file, the field and the value
    ({"price_shocks": {"ETH": -0.2}, "price_paths": {"ETH": [-0.1]}}, "price_paths", "both a price shock and a price path"),
    ({"depegs": {"UST": 0.2}, "price_paths": {"UST": [-0.1]}}, "price_paths", "both a depeg and a price path"),
    ({"shock_rounds": 20, "horizon": 12}, "shock_rounds", "shock_rounds 20 exceeds horizon 12"),
    ({"price_paths": {"ETH": [-0.1] * 13}}, "price_paths", "longer than the horizon"),
    ({"price_paths": {"ETH": []}}, "price_paths", "at least one move"),
    ({"price_paths": {"ETH": [-0.1, -1.0]}}, "price_paths", "ETH[1]"),
    ({"shock_rounds": 0}, "shock_rounds", "found 0; expected an integer >= 1"),
    ({"round_hours": 0}, "round_hours", "found 0; expected a number > 0"),
    ({"horizon": 366}, "horizon", "found 366; expected an integer <= 365"),
])
def test_bad_path_fields_say_what_is_wrong(doc, column, words):
    with pytest.raises(DataValidationError) as exc:
        parse_scenario(doc, file="s.json")
    text = str(exc.value)
    assert words in text and "s.json" in text
    assert column in {p.column for p in exc.value.problems}


def test_path_assets_are_checked_against_the_network(net):
    with pytest.raises(DataValidationError) as exc:
        Scenario(price_paths={"DOGE": [-0.5]}).check_against(net)
    assert {p.column for p in exc.value.problems} == {"price_paths.DOGE"}


def test_a_long_horizon_is_accepted(net):
    sc = Scenario(price_shocks={"ETH": -0.3}, shock_rounds=300, horizon=365)
    br = simulate_batch(net, [sc])
    assert br.rounds_run[0] >= 300


# --- the engine's hook ----------------------------------------------------------------------

def test_gap_presets_run_bit_for_bit_as_without_the_hook(net):
    # shock_rounds = 1 and no path: the path machinery changes nothing, to the last bit.
    scs = [core.load_scenario(f) for f in GAP_PRESETS] + [Scenario(price_shocks={"ETH": -0.5, "BTC": -0.5})]
    c = compile_network(net)
    b = scenario_batch(net, scs)
    with_hook, without = run_batch(c, b, record=True), run_batch(c, b.replace(paths=None), record=True)
    for f in ("equity", "loss", "bad_debt", "total_loss", "prices", "rounds_run", "default_round", "liquidated_usd"):
        assert np.array_equal(getattr(with_hook, f), getattr(without, f)), f
    for k, v in with_hook.history.items():
        assert np.array_equal(v, without.history[k]), k


def _lender_bad_debt(net, br):
    lenders = np.isin(net.entities["type"].to_numpy(), ["lending_protocol", "cdp_protocol"])
    return br.bad_debt[:, lenders].sum(1)


def test_a_gap_leaves_far_more_lender_bad_debt_than_the_same_fall_over_100_rounds(net, monkeypatch):
    # Issue 11: a 50% BTC+ETH fall as one gap gave $504-586M of lender bad debt, spread over 100 steps $0.
    # Measured here: $544M as a gap, $275M over 2 rounds, $40M over 5, $0 over 30 and over 100.
    shocks = {"ETH": -0.5, "BTC": -0.5}
    gap = Scenario(price_shocks=shocks)
    slow = Scenario(price_shocks=shocks, shock_rounds=100, horizon=112)
    br = simulate_batch(net, [gap, slow])
    bad = _lender_bad_debt(net, br)
    assert bad[0] > 400e6
    assert bad[1] < 1e6
    # The same fall arrives either way.
    eth = list(net.assets["symbol"]).index("ETH")
    assert br.prices[1, eth] <= 0.5 * compile_network(net).P0[eth] * (1 + 1e-9)
    assert br.rounds_run[1] >= 100
    # Given time, Maker's vault owners repay (core.mechanisms.vault_defence), so less is liquidated (measured:
    # $3.34bn over 100 rounds against $4.93bn as a gap); without their defence liquidators sell no less
    # collateral when they have time.
    assert br.liquidated_usd[1] < br.liquidated_usd[0]
    from core.mechanisms import vault_defence

    monkeypatch.setattr(vault_defence, "DAILY_SHARE", 0.0)
    undefended = simulate_batch(net, [gap, slow])
    assert undefended.liquidated_usd[1] >= 0.9 * undefended.liquidated_usd[0]


def test_the_path_multiplies_the_cascade_price_instead_of_overwriting_it(net):
    # A fall over 5 rounds that forces liquidations: the collateral sold pushes ETH below the path's -50%,
    # which an overwrite of the price by the path would erase.
    sc = Scenario(price_shocks={"ETH": -0.5, "stETH": -0.5}, shock_rounds=5, liquidity=0.2)
    res = core.simulate(net, sc)
    p0 = res.meta["reference_prices"]["ETH"]
    eth = res.prices["ETH"].to_numpy() / p0
    path = 0.5 ** (np.minimum(np.arange(len(eth)) + 1, 5) / 5)
    assert np.all(eth <= path * (1 + 1e-12))
    assert eth[-1] < 0.5 * (1 - 1e-3)
    assert res.totals["hours"].tolist() == [24.0 * (r + 1) for r in range(len(eth))]


def test_paths_do_not_depend_on_batch_mates_or_chunks(net, monkeypatch):
    # (one horizon for all: a batch runs to its longest horizon)
    scs = [Scenario(price_shocks={"ETH": -0.4}, shock_rounds=R, horizon=20) for R in (1, 3, 7)] + \
          [Scenario(price_paths={"ETH": [-0.1, -0.3, -0.25, -0.5], "BTC": [-0.2]}, run_intensity=0.5, horizon=20),
           Scenario(depegs={"UST": 0.6}, shock_rounds=4, run_intensity=0.8, horizon=20)]
    br = simulate_batch(net, scs)
    for i, sc in enumerate(scs):
        one = simulate_batch(net, [sc])
        np.testing.assert_allclose(br.total_loss[i], one.total_loss[0], rtol=1e-12)
        np.testing.assert_array_equal(br.default_round[i], one.default_round[0])
    monkeypatch.setattr(core.chunks, "CHUNK_BYTES", 8 * compile_network(net).n * 2)  # two scenarios a chunk
    b = scenario_batch(net, scs, repeat=3)
    many, whole = run_batch(net, b, workers=2), run_batch(net, b, record=True)
    np.testing.assert_array_equal(many.total_loss, np.tile(br.total_loss, 3))
    np.testing.assert_array_equal(many.total_loss, whole.total_loss)


def test_results_report_round_hours():
    res = core.simulate(core.datasets.load("crypto-2022-05"), Scenario(price_shocks={"ETH": -0.3}, shock_rounds=3, round_hours=6))
    d = res.summary_dict()
    assert d["round_hours"] == 6.0 and d["hours"] == 6.0 * d["rounds"]
    assert res.totals["hours"].iloc[0] == 6.0


def test_a_row_stops_at_its_own_horizon(net):
    # Regression: a batch ran every row to the longest horizon in it, so a 12-round scenario beside a 20-round one
    # lost $2.1M more than alone ($8,700.3M vs $8,698.2M), once presets came with different horizons.
    sc = Scenario(price_paths={"ETH": [-0.1, -0.3, -0.25, -0.5], "BTC": [-0.2]}, run_intensity=0.5)
    br = simulate_batch(net, [sc, Scenario(price_shocks={"ETH": -0.4}, shock_rounds=7, horizon=20)])
    one = simulate_batch(net, [sc])
    assert br.total_loss[0] == one.total_loss[0] and br.rounds_run[0] == one.rounds_run[0] <= 12


# -- a path reshaped to a fall (price-drop sensitivity) --------------------------------------

@settings(max_examples=200, deadline=None)
@example(path=[9.0, -0.99], drop=0.0).via("a rise of 900 % then a fall: the tilt would pass +1000 %")
@example(path=[5.0, -0.01], drop=0.9).via("no scaling to a 90 % fall stays in range")
@example(path=[-0.3, 0.0], drop=0.5).via("a path that ends flat")
@given(path=st.lists(st.floats(-0.99, 9.0), min_size=1, max_size=20), drop=st.sampled_from([float(d) for d in np.round(np.arange(0.0, 0.901, 0.05), 2)]))
def test_a_scaled_price_path_ends_at_the_fall_and_stays_a_valid_path(path, drop):
    """Any path, any fall of the grid: the reshaped path ends at exactly −fall, every move stays in (−1, 10] (a valid
    scenario), and a path that can be scaled keeps its shape (one factor in log-price for every round)."""
    out = path_to_fall(path, drop)
    assert len(out) == len(path) and out[-1] == -drop
    assert all(-1.0 < v <= 10.0 for v in out)
    parse_scenario({"price_paths": {"ETH": out}, "horizon": 20})  # a valid scenario
    last = np.log1p(path[-1])
    factor = np.log1p(-drop) / last if abs(last) > 1e-12 else np.nan
    with np.errstate(over="ignore"):  # a path ending near 0 needs a huge factor: the reference overflows, not checked
        kept = np.expm1(np.log1p(np.asarray(path)) * factor)
    if np.isfinite(kept).all() and (kept > -1).all() and (kept <= 10).all():
        assert out[:-1] == pytest.approx(kept[:-1].tolist(), rel=1e-9, abs=1e-12)


def test_a_path_scaled_in_log_price_worked_numbers():
    """LUNA's Terra path (0 %, -16 %, -61 %) reshaped to a 60 % fall: k = ln 0.4 / ln 0.39 = 0.9731, so the
    middle move is 0.84^0.9731 - 1 = -15.60 %; the final fall reads back from the path or from a shock."""
    out = path_to_fall([0.0, -0.16, -0.61], 0.6)
    k = np.log(0.4) / np.log(0.39)
    assert k == pytest.approx(0.97311, abs=1e-5)
    assert out == pytest.approx([0.0, 0.84 ** k - 1, -0.6]) and out[1] == pytest.approx(-0.1560, abs=1e-4)
    assert path_to_fall([-0.3, 0.0], 0.5) == pytest.approx([np.expm1(np.log(0.7) + 0.5 * np.log(0.5)), -0.5])  # tilted
    assert final_fall([0.0, -0.61]) == pytest.approx(0.61) and final_fall(None, -0.3) == pytest.approx(0.3)
    assert final_fall(None) == 0.0
