"""Perpetuals data: the positions and venues tables, venue rules, collateral prices and the book they make."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from core.io import load_network, network_from_json_text
from core.mechanisms.perps_book import settle_book
from core.positions import collateral_prices, position_book, venue_rules
from core.scenario import Safeguards, Scenario, parse_scenario
from core.schema import ADL_RULES, COLLATERAL_POLICIES, TABLES
from core.synthetic_perps import perps_example
from core.validation import DataValidationError, leverage_bucket_bounds


@pytest.fixture(scope="module")
def net():
    return perps_example()


@pytest.fixture
def folder(net, tmp_path: Path) -> Path:
    d = tmp_path / "perps"
    net.to_csv(str(d))
    return d


def edit(folder: Path, table: str, line: int, column: str, value: str) -> None:
    """Set one cell of a CSV file (header is line 1)."""
    f = folder / f"{table}.csv"
    df = pd.read_csv(f, dtype=str, keep_default_na=False)
    df.loc[line - 2, column] = value
    df.to_csv(f, index=False, lineterminator="\n")


def problems_of(folder: Path) -> list:
    with pytest.raises(DataValidationError) as exc:
        load_network(folder)
    return exc.value.problems


def only(problems, file: str, line: int, column: str, value: str, expected_part: str) -> None:
    """Exactly one problem, at the place named, quoting the value and saying what was expected."""
    assert len(problems) == 1, [str(p) for p in problems]
    p = problems[0]
    assert p.file.endswith(file) and p.row == line and p.column == column, str(p)
    quoted = str(p.value)
    as_number = quoted.split(" ")[0]  # computed values quote the cell as a number, "1e+17 units at ..."
    assert (quoted.startswith(value) or as_number == f"{float(value):g}") and expected_part in p.expected, str(p)


# -- the tables ------------------------------------------------------------------------------

def test_the_example_loads_with_both_tables(net):
    assert len(net.positions) == 4 and len(net.venues) == 2
    assert set(TABLES) >= {"positions", "venues"}
    assert net.names["venues"] == {"VENUE_A", "VENUE_B"} and net.names["vaulted"] == {"VENUE_B"}
    assert net.balance_sheet()["derived_equity_usd"].min() >= 0.0


def test_a_network_without_perpetuals_has_empty_tables(tmp_path):
    from core import datasets

    n = datasets.synthetic(30, 60, seed=1)
    assert n.positions.empty and n.venues.empty
    n.to_csv(str(tmp_path / "s"))
    assert not (tmp_path / "s" / "positions.csv").exists() and not (tmp_path / "s" / "venues.csv").exists()
    assert venue_rules(n).empty or (venue_rules(n)["adl_rule"] == "adl").all()


def test_csv_and_json_round_trips_are_exact(net, folder, tmp_path):
    again = load_network(folder)
    again.to_csv(str(tmp_path / "again"))
    for name in ("positions", "venues"):
        assert (folder / f"{name}.csv").read_bytes() == (tmp_path / "again" / f"{name}.csv").read_bytes()
    text = net.to_json()
    assert network_from_json_text(text).to_json() == text
    g = net.to_networkx()
    assert len(g.graph["positions"]) == 4 and g.graph["venues"][1]["backstop_vault_entity"] == "VAULT_B"


def test_defaults_of_optional_columns(folder):
    pos = pd.read_csv(folder / "positions.csv", dtype=str, keep_default_na=False)
    pos.drop(columns=["margin_asset", "leverage_bucket", "maintenance_margin", "account"]).to_csv(
        folder / "positions.csv", index=False, lineterminator="\n")
    ven = pd.read_csv(folder / "venues.csv", dtype=str, keep_default_na=False)
    ven[["venue", "as_of", "source", "flag", "note"]].to_csv(folder / "venues.csv", index=False, lineterminator="\n")
    n = load_network(folder)
    assert (n.positions["margin_asset"] == "").all() and (n.positions["account"] == "").all()
    assert n.positions["maintenance_margin"].isna().all()
    rules = venue_rules(n)
    assert rules["adl_rule"].tolist() == ["adl", "adl"] and rules["collateral_policy"].tolist() == ["index", "index"]
    assert rules["maintenance_margin"].tolist() == [0.005, 0.005] and rules["backstop_vault_usd"].tolist() == [0.0, 0.0]


# -- bad input names file, line, column, value and what was expected ----------------------------

@pytest.mark.parametrize("table, line, column, value, expected", [
    ("positions", 2, "venue", "MM", "an entity of type perpetuals_venue"),
    ("positions", 3, "account", "VENUE_A", "an account other than the venue"),
    ("positions", 2, "margin", "0", "a positive margin for an isolated position"),
    ("positions", 4, "leverage_bucket", "20-10x", "a leverage bucket such as 10-20x"),
    ("positions", 4, "leverage_bucket", "twenty", "a leverage bucket such as 10-20x"),
    ("positions", 5, "side", "flat", "one of long, short"),
    ("positions", 5, "margin_mode", "portfolio", "one of isolated, cross"),
    ("positions", 3, "market", "DOGE", "the id of an existing asset"),
    ("positions", 3, "margin_asset", "DOGE", "the id of an existing asset"),
    ("positions", 2, "size", "0", "a positive number"),
    ("positions", 2, "size", "1e17", "a notional (size x entry_price) of at most"),
    ("positions", 2, "margin", "1e16", "a margin worth at most"),
    ("positions", 2, "entry_price", "nan", "a finite number"),
    ("positions", 2, "maintenance_margin", "0.7", "a number in [0, 0.5]"),
    ("positions", 3, "id", "A_LONGS_20X", "a unique id"),
    ("venues", 2, "venue", "MM", "an entity of type perpetuals_venue"),
    ("venues", 3, "backstop_vault_entity", "VENUE_B", "an entity other than the venue"),
    ("venues", 3, "collateral_policy", "mark", "one of order_book, index, redemption_value"),
    ("venues", 3, "backstop_vault_usd", "-1", "a non-negative number"),
    ("venues", 2, "own_book_share", "0", "a number in (0, 1]"),
    ("venues", 3, "venue", "VENUE_A", "a unique venue"),
])
def test_a_bad_cell_is_named(folder, table, line, column, value, expected):
    edit(folder, table, line, column, value)
    only(problems_of(folder), f"{table}.csv", line, column, value, expected)


def test_a_backstop_vault_rule_needs_a_vault(folder):
    edit(folder, "venues", 2, "adl_rule", "backstop_vault")
    only(problems_of(folder), "venues.csv", 2, "backstop_vault_usd", "0", "a vault of more than 0 USD for adl_rule backstop_vault")


def test_every_problem_at_once(folder):
    edit(folder, "positions", 2, "venue", "MM")
    edit(folder, "positions", 5, "side", "flat")
    edit(folder, "venues", 3, "collateral_policy", "mark")
    assert len(problems_of(folder)) == 3


@settings(max_examples=200, deadline=None)
@given(st.floats(0.1, 500, allow_nan=False).map(lambda x: round(x, 2)),
       st.floats(0.0, 500, allow_nan=False).map(lambda x: round(x, 2)), st.sampled_from(["", "+", "range"]))
def test_leverage_bucket_bounds_read_back_what_was_written(low, width, form):
    high = round(low + width, 2)
    label = {"": f"{low:g}x", "+": f"{low:g}x+", "range": f"{low:g}-{high:g}x"}[form]
    b = leverage_bucket_bounds(pd.Series([label])).iloc[0]
    assert b["low"] == pytest.approx(low)
    assert b["high"] == (np.inf if form == "+" else pytest.approx(high if form == "range" else low))


# -- venue rules and scenario overrides --------------------------------------------------------

def test_venue_rules_with_overrides(net):
    r = venue_rules(net)
    assert r.loc["VENUE_A", ["adl_rule", "collateral_policy", "insurance_fund_usd"]].tolist() == ["adl", "order_book", 1e5]
    assert r.loc["VENUE_B", ["adl_rule", "rule", "backstop_vault_usd", "backstop_vault_entity"]].tolist() == [
        "backstop_vault", 2, 1e6, "VAULT_B"]
    o = venue_rules(net, adl_rules={"VENUE_A": "socialised"}, collateral_policies={"VENUE_A": "redemption_value"},
                    insurance_funds_usd={"VENUE_B": 7.0, "MM": 3.0})
    assert o.loc["VENUE_A", ["adl_rule", "rule", "collateral_policy"]].tolist() == ["socialised", 1, "redemption_value"]
    assert o.loc["VENUE_B", "insurance_fund_usd"] == 7.0
    with pytest.raises(ValueError, match="VENUE_A: expected a venue with a backstop vault"):
        venue_rules(net, adl_rules={"VENUE_A": "backstop_vault"})
    with pytest.raises(ValueError, match="'MM': expected a perpetuals venue"):
        venue_rules(net, collateral_policies={"MM": "index"})


def test_scenario_overrides_are_safeguards_checked_against_the_network(net):
    s = parse_scenario({"safeguards": {"adl_rules": {"VENUE_A": "socialised"}, "collateral_policies": {"VENUE_A": "index"}}})
    assert s.safeguards.active and not s.without_safeguards().safeguards.active
    s.check_against(net)
    with pytest.raises(DataValidationError) as exc:
        parse_scenario({"safeguards": {"adl_rules": {"VENUE_A": "clawback"}}})
    assert exc.value.problems[0].column == "safeguards.adl_rules.VENUE_A"
    bad = Scenario(safeguards=Safeguards(adl_rules={"MM": "adl", "VENUE_A": "backstop_vault"},
                                         collateral_policies={"NOBODY": "index"}))
    with pytest.raises(DataValidationError) as exc:
        bad.check_against(net)
    got = {(p.column, p.expected.split(" (")[0]) for p in exc.value.problems}
    assert got == {("safeguards.adl_rules.MM", "a perpetuals venue of the network"),
                   ("safeguards.collateral_policies.NOBODY", "a perpetuals venue of the network"),
                   ("safeguards.adl_rules.VENUE_A", "a venue with a backstop vault")}


def test_scenario_choices_are_the_schema_choices():
    props = Safeguards.model_json_schema()["properties"]
    assert tuple(props["adl_rules"]["additionalProperties"]["enum"]) == ADL_RULES
    assert tuple(props["collateral_policies"]["additionalProperties"]["enum"]) == COLLATERAL_POLICIES
    shipped = json.loads((Path(__file__).resolve().parent.parent / "data" / "scenarios" / "scenario.schema.json").read_text())
    assert "adl_rules" in shipped["$defs"]["Safeguards"]["properties"]


# -- collateral prices and the book ------------------------------------------------------------

def test_collateral_policy_prices_a_depegged_token_three_ways(net):
    """USDX trades at 0.65 on VENUE_A's own book and at 0.95 on the index; it redeems at 1."""
    index = net.prices.copy()
    index["USDX"] = 0.95
    book = pd.DataFrame({"USDX": [0.65, np.nan]}, index=["VENUE_A", "VENUE_B"])
    for policy, price_a in (("order_book", 0.65), ("index", 0.95), ("redemption_value", 1.0)):
        rules = venue_rules(net, collateral_policies={"VENUE_A": policy})
        c = collateral_prices(net, rules, index, book)
        assert c.loc["VENUE_A", "USDX"] == pytest.approx(price_a)
        assert c.loc["VENUE_B", "USDX"] == pytest.approx(0.95)  # index policy; no book of its own there
        assert c.loc["VENUE_A", "BTC"] == 1e5 and c.loc["VENUE_A", "USDC"] == 1.0


def test_the_book_of_the_example_and_a_hand_checked_waterfall(net):
    """BTC -10 % to 90,000, no slippage.

    VENUE_A: the 20x longs (100 BTC, margin 0.5m) lose 1.0m: deficit 0.5m; the fund pays 0.1m;
    ADL takes the remaining 0.4m from the only profitable short, the market maker's (+1.0m).
    VENUE_B (vault 1m): the 25x longs (50 BTC, margin 0.2m) lose 0.5m: deficit 0.3m, all the vault's.
    The market maker's long on B (-1.0m) survives (equity 1.0m > 45k maintenance): hedged before,
    it is now down 1.0m - (1.0m - 0.4m) = 0.4m because ADL closed its winning leg.
    """
    rules = venue_rules(net)
    pb = position_book(net, rules)
    marks = net.prices.to_numpy().copy()
    marks[pb.markets.get_loc("BTC")] = 9e4
    r = settle_book(pb.book, marks, insurance_fund=rules["insurance_fund_usd"].to_numpy(),
                    backstop=rules["backstop_vault_usd"].to_numpy(), rule=rules["rule"].to_numpy())
    venue_totals = {k: getattr(r, k)[0].tolist() for k in ("deficit_usd", "backstop_usd", "insurance_draw_usd", "adl_usd", "uncovered_usd")}
    assert venue_totals == {"deficit_usd": [5e5, 3e5], "backstop_usd": [0.0, 3e5], "insurance_draw_usd": [1e5, 0.0],
                            "adl_usd": [4e5, 0.0], "uncovered_usd": [0.0, 0.0]}
    assert r.liquidated[0].tolist() == [True, False, True, False]
    assert r.adl[0].tolist() == [0.0, 4e5, 0.0, 0.0]
    mm = pb.account_entity == net.entity_pos(["MM"])[0]
    pnl = pb.book.size * (9e4 - pb.book.entry)
    assert float((pnl - r.adl[0])[mm].sum()) == pytest.approx(-4e5)


def test_collateral_policy_decides_a_liquidation(net):
    """BTC +15 %: the market maker's short on A loses 1.5m against 2m USDX of margin. At A's own book
    (USDX 0.65) its margin is worth 1.3m, its equity -0.2m: liquidated. At redemption value (1.0) it
    keeps 0.5m of equity, above the 57.5k maintenance: not liquidated."""
    index = net.prices.copy()
    book = pd.DataFrame({"USDX": [0.65, np.nan]}, index=["VENUE_A", "VENUE_B"])
    marks = index.to_numpy().copy()
    marks[net.asset_symbols.get_loc("BTC")] = 1.15e5
    liquidated = {}
    for policy in ("order_book", "redemption_value"):
        rules = venue_rules(net, collateral_policies={"VENUE_A": policy})
        pb = position_book(net, rules, collateral_prices(net, rules, index, book))
        r = settle_book(pb.book, marks, insurance_fund=rules["insurance_fund_usd"].to_numpy(),
                        backstop=rules["backstop_vault_usd"].to_numpy(), rule=rules["rule"].to_numpy())
        liquidated[policy] = r.liquidated[0, pb.ids.get_loc("A_MM_SHORT")]
        if policy == "order_book":
            assert r.deficit_usd[0, 0] == pytest.approx(2e5)
    assert liquidated == {"order_book": True, "redemption_value": False}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["VENUE_A", "VENUE_B"]), st.sampled_from(["", "MM", "LENDER"]),
                          st.sampled_from(["isolated", "cross"]), st.sampled_from(["long", "short"]),
                          st.floats(0.01, 1e3), st.floats(1.0, 1e6), st.sampled_from(["", "USDC", "USDX"]),
                          st.one_of(st.none(), st.floats(0.0, 0.5))),
                min_size=1, max_size=25))
def test_accounts_and_margins_of_any_book(net, rows):
    """Cross rows of one named account on one venue share a margin account; every other row is its own;
    USD margin = units x the venue's collateral price; a row's maintenance rate is its own, else its venue's."""
    frames = net.frames()
    frames["positions"] = pd.DataFrame([
        {"id": f"P{i}", "venue": v, "account": a, "market": "BTC", "side": s, "size": q, "entry_price": 1e5,
         "margin": m, "margin_asset": c, "margin_mode": mode, "maintenance_margin": mm,
         "as_of": "2025-10-10", "source": "test", "flag": "estimate", "note": "x"}
        for i, (v, a, mode, s, q, m, c, mm) in enumerate(rows)])
    from core.network import Network

    n = Network.from_frames(**frames)
    index = n.prices.copy()
    index["USDX"] = 0.8
    rules = venue_rules(n)
    pb = position_book(n, rules, collateral_prices(n, rules, index))
    pos = n.positions
    key = [(v, a) if (mode == "cross" and a) else ("row", i) for i, (v, a, mode) in
           enumerate(zip(pos["venue"], pos["account"], pos["margin_mode"]))]
    acc = pb.book.account
    for i in range(len(key)):
        for j in range(len(key)):
            assert (acc[i] == acc[j]) == (key[i] == key[j])
    # VENUE_A marks at its own book, which without a book of its own is the index; VENUE_B at the index
    unit = pos["margin_asset"].map({"": 1.0, "USDC": 1.0, "USDX": 0.8}).to_numpy()
    np.testing.assert_allclose(pb.margin_usd, pos["margin"].to_numpy() * unit)
    expected_mm = pos["maintenance_margin"].fillna(0.005).to_numpy()
    np.testing.assert_allclose(pb.book.maintenance, expected_mm)
    assert (pb.book.size > 0).tolist() == (pos["side"] == "long").tolist()


def test_an_upload_keeps_the_overrides_that_still_apply(net):
    from core import datasets
    from dashboard.upload import carry_scenario

    doc = {"safeguards": {"adl_rules": {"VENUE_A": "socialised", "VENUE_B": "adl"},
                          "collateral_policies": {"VENUE_A": "redemption_value"}}}
    assert carry_scenario(doc, net).safeguards.adl_rules == {"VENUE_A": "socialised", "VENUE_B": "adl"}
    other = datasets.synthetic(20, 40, seed=2)
    kept = carry_scenario(doc, other)
    assert kept.safeguards.adl_rules == {} and kept.safeguards.collateral_policies == {}
    kept.check_against(other)
    vaultless = carry_scenario({"safeguards": {"adl_rules": {"VENUE_A": "backstop_vault", "VENUE_B": "backstop_vault"}}}, net)
    assert vaultless.safeguards.adl_rules == {"VENUE_B": "backstop_vault"}


def test_cli_validate_counts_the_positions_and_names_a_bad_cell(net, folder, capsys):
    from core.cli import main as cli_main

    assert cli_main(["validate", str(folder)]) == 0
    assert "4 perpetual positions ($35.0M at entry)" in capsys.readouterr().out
    edit(folder, "venues", 3, "collateral_policy", "mark")
    assert cli_main(["validate", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "venues.csv, line 3, column 'collateral_policy': found 'mark'; expected one of order_book, index, redemption_value" in err
    assert "Traceback" not in err


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["VENUE_A", "VENUE_B"]), st.sampled_from(["", "MM", "LENDER"]),
                          st.sampled_from(["long", "short"]), st.floats(1e-6, 1e6), st.floats(1e-3, 1e6),
                          st.floats(1e-3, 1e9), st.sampled_from(["", "USDC", "USDX"]), st.sampled_from(["isolated", "cross"]),
                          st.sampled_from(["", "1-5x", "20x", "50x+"]), st.one_of(st.none(), st.floats(0.0, 0.5))),
                min_size=1, max_size=20))
def test_any_valid_positions_table_round_trips_exactly(net, tmp_path_factory, rows):
    frames = net.frames()
    frames["positions"] = pd.DataFrame([
        {"id": f"P{i}", "venue": v, "account": a, "market": "BTC", "side": s, "size": q, "entry_price": p, "margin": m,
         "margin_asset": c, "margin_mode": mode, "leverage_bucket": lb, "maintenance_margin": mm,
         "as_of": "2025-10-10", "source": "test", "flag": "estimate", "note": ""}
        for i, (v, a, s, q, p, m, c, mode, lb, mm) in enumerate(rows)])
    from core.network import Network

    n = Network.from_frames(**frames)
    folder = tmp_path_factory.mktemp("rt")
    n.to_csv(str(folder))
    back = load_network(folder)
    pd.testing.assert_frame_equal(back.positions, n.positions)
    assert network_from_json_text(n.to_json()).to_json() == n.to_json()
