"""Counterexample entries with a depth per asset (tests/depth_points.py): the format, its reading, and the entries
kept in it reproducing what was measured."""

from __future__ import annotations

import json

import pytest

from core.scenario import Scenario
from depth_points import at_point, depth_points, describe, pair_depths, search_entry
from invariants_support import entry_inputs, entry_monotone_violation, load_regressions, monotone_violation, with_depth


def test_a_list_applies_one_depth_to_every_asset():
    assert depth_points(("ETH", "BTC"), [0.3, 0.1]) == [{"ETH": 0.1, "BTC": 0.1}, {"ETH": 0.3, "BTC": 0.3}]


def test_a_mapping_gives_each_asset_its_depths():
    pts = depth_points(("ETH", "TOKEN"), {"TOKEN": [0.11, 0.12], "ETH": [0.16, 0.17]})
    assert pts == [{"ETH": 0.16, "TOKEN": 0.11}, {"ETH": 0.17, "TOKEN": 0.12}]
    sc = at_point(Scenario(price_shocks={"BTC": -0.2}), pts[1], "price")
    assert sc.price_shocks == {"BTC": -0.2, "ETH": -0.17, "TOKEN": -0.12}
    assert at_point(Scenario(), {"DAI": 0.1}, "depeg").depegs == {"DAI": 0.1}


@pytest.mark.parametrize("depths", [
    {"ETH": [0.2, 0.1], "TOKEN": [0.1, 0.2]},   # ETH shallower at the second point
    {"ETH": [0.1, 0.2], "TOKEN": [0.1]},        # lengths differ
    {"ETH": [0.1, 0.2]},                        # TOKEN missing
    {"ETH": [0.1, 0.2], "TOKEN": [0.1, 0.2], "BTC": [0.1, 0.2]},  # an asset the entry does not name
])
def test_a_mapping_that_is_not_a_deeper_shock_is_refused(depths):
    with pytest.raises(ValueError):
        depth_points(("ETH", "TOKEN"), depths)


def test_pair_depths_writes_a_list_when_every_asset_moves_alike():
    assert pair_depths(["A", "B"], {"A": 0.1, "B": 0.1}, {"A": 0.2, "B": 0.2}) == [0.1, 0.2]
    assert pair_depths(["A", "B"], {"A": 0.1, "B": 0.3}, {"A": 0.2, "B": 0.4}) == {"A": [0.1, 0.2], "B": [0.3, 0.4]}
    assert describe({"A": 0.1, "B": 0.1}) == "0.1000"
    assert describe({"A": 0.1, "B": 0.3}) == "A 0.100000000, B 0.300000000"


def test_a_search_pair_becomes_an_entry_the_table_reads():
    """benchmarks/monotone_search.py's --emit-json form: depths are the negated shocks, per asset where they differ;
    the base's moved assets and settings are the scenario, a capacity of None (unlimited) left out."""
    e = search_entry("synthetic-200-800-1", {"liquidity": 0.5, "liquidator_capacity_usd": None,
                                             "price_shocks": {"FTT": -0.3}},
                     {"ETH": -0.1, "LUNA": -0.5}, {"ETH": -0.11, "LUNA": -0.55}, {"size": 1.0}, "test")
    assert e["depths"] == {"ETH": [0.1, 0.11], "LUNA": [0.5, 0.55]} and e["assets"] == ["ETH", "LUNA"]
    assert e["scenario"] == {"price_shocks": {"FTT": -0.3}, "liquidity": 0.5}
    assert "fixed" not in e
    json.dumps(e)  # a JSON entry as it stands
    sc = Scenario.model_validate(e["scenario"])
    assert at_point(sc, depth_points(e["assets"], e["depths"])[1], "price").price_shocks == \
        {"FTT": -0.3, "ETH": -0.11, "LUNA": -0.55}


def test_per_asset_depths_equal_to_one_list_give_the_same_violation():
    """The two forms of the same depths measure the same scenarios (a small synthetic network)."""
    base = Scenario(liquidity=0.5)
    one = monotone_violation("synthetic-200-800-1", base, ("ETH", "stETH"), [0.1, 0.3, 0.5])
    per = monotone_violation("synthetic-200-800-1", base, ("ETH", "stETH"),
                             {"ETH": [0.1, 0.3, 0.5], "stETH": [0.1, 0.3, 0.5]})
    assert per.size == one.size
    assert per.detail["total_loss_usd"]["values"] == one.detail["total_loss_usd"]["values"]
    assert with_depth(base, ("ETH",), 0.2, "price") == at_point(base, {"ETH": 0.2}, "price")


PER_ASSET = [c for c in load_regressions() if c["invariant"].startswith("monotone") and isinstance(c["depths"], dict)]


def test_the_table_keeps_per_asset_entries():
    assert PER_ASSET, "no entry of the table gives per-asset depths"
    for c in PER_ASSET:
        assert sorted(c["depths"]) == sorted(c["assets"])


def shared_work(item) -> tuple | None:
    """The entry's batch, measured once per process and read by tests/test_invariants.py's test_counterexample too
    (tests/slow_first.py keeps them on one xdist worker)."""
    if getattr(item, "originalname", "") == "test_an_open_per_asset_entry_reproduces_its_measured_size":
        return ("entry", entry_inputs(item.callspec.params["case"]))
    return None


@pytest.mark.parametrize("case", [pytest.param(c, id=c["id"]) for c in PER_ASSET if not c.get("fixed")])
def test_an_open_per_asset_entry_reproduces_its_measured_size(case):
    """An open entry (a strict xfail in tests/test_invariants.py) measures what it says, to 1e-6 relative."""
    v = entry_monotone_violation(case)  # the batch test_invariants' test_counterexample reads, where it ran here
    size = v.detail["defaults_drop"] if case["invariant"].endswith("defaults") else v.size
    assert size == pytest.approx(case["measured"]["size"], rel=1e-6)
    assert v.inputs["depths"] == case["depths"]
