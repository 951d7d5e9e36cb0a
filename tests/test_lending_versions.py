"""Lender rules by protocol version (a cohort's ``style``), with worked numbers."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import core
from core.engine import compile_network, exogenous, liquidate, scenario_batch
from core.engine.state import initial_state
from core.mechanisms import lending
from core.scenario import Scenario
from core.validation import DataValidationError

MINI = Path(__file__).parent / "fixtures" / "mini"


def test_aave_v2_closes_half_even_deep_under_water():
    # HF = 100 * 0.8 / 85 = 0.941: Aave v3 may repay all of it (HF <= 0.95), Aave v2 half (close factor 50% always).
    v3 = lending.liquidate_aave(100.0, 85.0, 1.0, 1.0, 0.8, 0.05, 0.5, lending.FULL_CLOSE_HF["aave_v3"])
    v2 = lending.liquidate_aave(100.0, 85.0, 1.0, 1.0, 0.8, 0.05, 0.5, lending.FULL_CLOSE_HF["aave_v2"])
    assert (float(v3.debt_repaid), float(v3.collateral_seized)) == (85.0, pytest.approx(89.25))
    assert (float(v2.debt_repaid), float(v2.collateral_seized)) == (42.5, pytest.approx(44.625))
    # Compound v2: close factor 50% too, never a full close
    assert lending.FULL_CLOSE_HF["compound_v2"] == -1.0


def test_compound_v3_absorbs_the_whole_position():
    # Collateral $100 (LT 0.8, penalty 7%), debt $85: absorbed; the collateral counts $93, the debt is wiped,
    # the borrower keeps $8; with $98 of debt the reserves bear $5.
    r = lending.liquidate_compound_v3(np.array([100.0, 100.0, 100.0]), np.array([85.0, 98.0, 70.0]), 1.0, 1.0, 0.8, 0.07)
    np.testing.assert_allclose(r.debt_repaid, [85.0, 93.0, 0.0])
    np.testing.assert_allclose(r.collateral_seized, [92.0, 100.0, 0.0])
    np.testing.assert_allclose(r.collateral_after, [8.0, 0.0, 100.0])
    np.testing.assert_allclose(r.debt_after, [0.0, 0.0, 70.0])
    np.testing.assert_allclose(r.bad_debt, [0.0, 5.0, 0.0])
    np.testing.assert_array_equal(r.liquidated, [True, True, False])
    # value identity: repaid + profit + fee = seized value
    np.testing.assert_allclose(r.debt_repaid + r.liquidator_profit + r.protocol_fee, r.collateral_seized)


def test_old_style_values_are_mapped():
    assert lending.canonical_style("aave") == "aave_v3"
    assert lending.canonical_style("compound") == "compound_v2"
    for s in lending.STYLES:
        assert lending.canonical_style(s) == s
    with pytest.raises(ValueError, match="unknown liquidation style 'aave_v4'"):
        lending.canonical_style("aave_v4")


def _mini_with_style(tmp_path: Path, style: str):
    d = tmp_path / style
    shutil.copytree(MINI, d)
    c = pd.read_csv(d / "cohorts.csv", keep_default_na=False)
    c["style"] = style
    c.to_csv(d / "cohorts.csv", index=False)
    return core.load_network(d)


@pytest.mark.parametrize("style,repaid_usd", [
    # Aave's cohort C1: 50,000 ETH for $100M USDC at LT 0.825, bonus 5%. At ETH $2,150 the collateral is worth
    # $107.5M: HF = 107.5 * 0.825 / 100 = 0.887, and its positions, within 5% of it
    # (core.mechanisms.cohort_spread), all at or below 0.931.
    ("aave_v3", 100e6),   # HF <= 0.95: the whole debt
    ("aave", 100e6),      # the old value: Aave v3's rule
    ("aave_v2", 50e6),    # half, always
    ("compound_v2", 50e6),
    ("compound_v3", 100e6),  # absorbed whole
    # Anchor's queue: to the safe ratio 0.8 (query_liquidation_amount, core.mechanisms.bid_queue), d = 0.95 x 0.98
    # at the 5 % slot, each position at its own HF u on 0.886875 x [0.95, 1.05] = [0.84253, 0.93122]
    # (anchor_mean_repaid_share): those above u* = m / d = 0.88614 repay A - B u of their debt
    # (A = d / (d - 0.66), B = 0.8 A), those below sell all of their collateral, d u / m of their debt: 95.64 %.
    # (Session 40 (anchor); session 39 took the aggregate's share, d (1 - 0.8 h) / (d - 0.66) = 99.80 % at
    # h = 0.886875, above u*, as if every position were at the aggregate; the data's close factor 0.5 before.)
    ("anchor", 100e6 * (0.931 / (2 * 0.825) * ((0.825 / 0.931) ** 2 - (0.886875 * 0.95) ** 2)
                        + 0.931 / 0.271 * (0.886875 * 1.05 - 0.825 / 0.931)
                        - 0.4 * 0.931 / 0.271 * ((0.886875 * 1.05) ** 2 - (0.825 / 0.931) ** 2)) / (0.886875 * 0.1)),
])
def test_cohort_style_sets_the_rule_in_the_engine(tmp_path, style, repaid_usd):
    net = _mini_with_style(tmp_path, style)
    c = compile_network(net)
    b = scenario_batch(net, [Scenario(price_shocks={"ETH": 2150 / 2750 - 1})])
    s = initial_state(c, b)
    s.apply(exogenous.exogenous(c, s, b, 0))
    debt0 = s.debt.copy()
    s.apply(liquidate.liquidate(c, s, b, 0))
    q = list(net.cohorts["id"]).index("C1")
    assert (debt0 - s.debt)[0, q] == pytest.approx(repaid_usd, rel=1e-9)


@pytest.mark.parametrize("style,full_close", [("aave_v3", True), ("aave_v2", False), ("compound_v2", False)])
def test_the_close_factor_applies_to_the_share_of_a_cohorts_positions_past_each_threshold(tmp_path, style, full_close):
    """C1 at ETH $2,300: HF 115 x 0.825 / 100 = 0.949, its positions' HF uniform on 0.949 x [0.95, 1.05]
    (spread 5%: its HF at reference prices, 1.134, keeps them all above 1): all are below 1 and a share
    (0.95 / 0.949 - 0.95) / 0.1 = 51.5% at or below 0.95, which Aave v3 closes whole, the rest by half."""
    net = _mini_with_style(tmp_path, style)
    c = compile_network(net)
    b = scenario_batch(net, [Scenario(price_shocks={"ETH": 2300 / 2750 - 1})])
    s = initial_state(c, b)
    s.apply(exogenous.exogenous(c, s, b, 0))
    debt0 = s.debt.copy()
    s.apply(liquidate.liquidate(c, s, b, 0))
    q = list(net.cohorts["id"]).index("C1")
    hf = 50_000 * 2300 * 0.825 / 100e6
    assert c.c_spread[q] == 0.05
    full = (0.95 / hf - 0.95) / 0.1 if full_close else 0.0
    assert (debt0 - s.debt)[0, q] == pytest.approx(100e6 * (0.5 * (1 - full) + full), rel=1e-9)


def test_unknown_style_is_a_clear_error(tmp_path):
    d = tmp_path / "bad"
    shutil.copytree(MINI, d)
    c = pd.read_csv(d / "cohorts.csv", keep_default_na=False)
    c.loc[0, "style"] = "aave_v4"
    c.to_csv(d / "cohorts.csv", index=False)
    with pytest.raises(DataValidationError) as e:
        core.load_network(d)
    assert "cohorts" in str(e.value) and "style" in str(e.value) and "aave_v4" in str(e.value)


def test_2022_dataset_uses_the_versions_of_2022_05_06():
    c = core.datasets.load("crypto-2022-05").cohorts
    by = c.groupby("protocol")["style"].unique().to_dict()
    assert list(by["AAVE_ETH"]) == ["aave_v2"] and list(by["COMP"]) == ["compound_v2"] and list(by["MAKER"]) == ["maker"]


def test_2022_anchor_uses_its_liquidation_queue_rules():
    by = core.datasets.load("crypto-2022-05").cohorts.groupby("protocol")["style"].unique().to_dict()
    assert list(by["ANCHOR"]) == ["anchor"]


def test_anchor_keeps_no_liquidation_fee():
    """LUNA -50% in one round on the 2022 network: Anchor liquidates bLUNA but is credited nothing (its queue's 1%
    bid fee goes to the overseer's interest buffer, not modelled as Anchor's income: core.engine.fees). Before, its cohorts had the legacy ``aave`` style (= aave_v3) and Anchor was
    credited Aave v3's protocol fee, 10% of the bonus part of what it seized: 0.10 x (1 - 1/1.08) of it."""
    from core.engine import simulate_batch
    from core.network import Network
    net = core.datasets.load("crypto-2022-05")
    sc = Scenario(price_shocks={"LUNA": -0.5}, horizon=1)
    br = simulate_batch(net, [sc], record=True)
    i = list(br.entity_ids).index("ANCHOR")
    assert br.history["liquidated"][0][0, i] > 1e7 and br.fee_income[0, i] == 0.0
    co = net.cohorts.copy()
    co.loc[co["protocol"] == "ANCHOR", "style"] = "aave"
    old = Network.from_frames(name="anchor-as-aave", cohorts=co,
                              **{t: getattr(net, t) for t in ("entities", "assets", "holdings", "exposures", "maker_ilks", "pegs")})
    ob = simulate_batch(old, [sc], record=True)
    seized = ob.history["liquidated"][0][0, i]
    assert ob.fee_income[0, i] == pytest.approx(0.10 * (1 - 1 / 1.08) * seized, rel=1e-9)
