"""Data model: loading, validation of bad input, round trips, networkx export, CLI."""

from __future__ import annotations

import filecmp
import json
import shutil
import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import core
from core.cli import main as cli_main
from core.io import load_network, network_from_json_text
from core.validation import DataValidationError

MINI = Path(__file__).parent / "fixtures" / "mini"
DATASET = Path(__file__).resolve().parent.parent / "data" / "crypto-2022-05"


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    d = tmp_path / "mini"
    shutil.copytree(MINI, d)
    return d


def edit(folder: Path, table: str, line: int, column: str, value: str) -> None:
    """Set one cell of a CSV file (line numbers as in an editor: header is line 1)."""
    f = folder / f"{table}.csv"
    df = pd.read_csv(f, dtype=str, keep_default_na=False)
    df.loc[line - 2, column] = value
    df.to_csv(f, index=False, lineterminator="\n")


def problems_of(folder: Path) -> list:
    with pytest.raises(DataValidationError) as exc:
        load_network(folder)
    return exc.value.problems


def has(problems, file: str, row: int | None, column: str | None, expected_part: str = "") -> bool:
    return any(
        p.file.endswith(file) and p.row == row and p.column == column and expected_part in p.expected
        for p in problems
    )


def test_mini_loads():
    net = load_network(MINI)
    assert net.n_entities == 5
    assert list(net.asset_symbols) == ["ETH", "stETH", "USDC"]
    assert net.cohorts["underwater_ok"].dtype == bool
    assert np.isnan(net.entities.loc[0, "reported_equity_usd"])


# --- bad input: each kind names file, row and column -------------------------------------

def test_missing_column(mini):
    df = pd.read_csv(mini / "exposures.csv", dtype=str, keep_default_na=False).drop(columns=["amount_usd"])
    df.to_csv(mini / "exposures.csv", index=False)
    assert has(problems_of(mini), "exposures.csv", None, "amount_usd", "a column")


def test_unknown_column(mini):
    df = pd.read_csv(mini / "holdings.csv", dtype=str, keep_default_na=False)
    df["colour"] = "red"
    df.to_csv(mini / "holdings.csv", index=False)
    assert has(problems_of(mini), "holdings.csv", None, "colour", "only the columns")


def test_unknown_entity_reference(mini):
    edit(mini, "exposures", 3, "debtor", "NOBODY")
    ps = problems_of(mini)
    assert has(ps, "exposures.csv", 3, "debtor", "existing entity")
    assert any(p.value == "NOBODY" for p in ps)


def test_unknown_asset_reference(mini):
    edit(mini, "holdings", 4, "asset", "DOGE")
    assert has(problems_of(mini), "holdings.csv", 4, "asset", "existing asset")


def test_duplicate_id(mini):
    edit(mini, "entities", 3, "id", "AAVE")
    ps = problems_of(mini)
    assert has(ps, "entities.csv", 3, "id", "unique")


def test_duplicate_composite_key(mini):
    edit(mini, "holdings", 3, "asset", "ETH")  # POOL already holds ETH on line 2
    assert has(problems_of(mini), "holdings.csv", 3, "entity+asset", "unique")


def test_negative_amount(mini):
    edit(mini, "exposures", 2, "amount_usd", "-5")
    ps = problems_of(mini)
    assert has(ps, "exposures.csv", 2, "amount_usd", "non-negative")
    assert any(p.value == "-5" for p in ps)


def test_non_numeric_amount(mini):
    edit(mini, "holdings", 2, "amount", "lots")
    assert has(problems_of(mini), "holdings.csv", 2, "amount", "a number")


def test_nan_amount(mini):
    edit(mini, "cohorts", 2, "debt_amount", "NaN")
    assert has(problems_of(mini), "cohorts.csv", 2, "debt_amount", "finite")


def test_empty_required_number(mini):
    edit(mini, "entities", 4, "other_assets_usd", "")
    assert has(problems_of(mini), "entities.csv", 4, "other_assets_usd", "may not be empty")


def test_liquidation_threshold_out_of_range(mini):
    edit(mini, "cohorts", 3, "liquidation_threshold", "1.2")
    ps = problems_of(mini)
    assert has(ps, "cohorts.csv", 3, "liquidation_threshold", "(0, 1]")
    edit(mini, "cohorts", 3, "liquidation_threshold", "0")
    assert has(problems_of(mini), "cohorts.csv", 3, "liquidation_threshold", "(0, 1]")


def test_negative_bonus(mini):
    edit(mini, "cohorts", 2, "liquidation_bonus", "-0.05")
    assert has(problems_of(mini), "cohorts.csv", 2, "liquidation_bonus", "[0, 1]")


def test_self_loan(mini):
    edit(mini, "exposures", 2, "debtor", "LENDER")
    assert has(problems_of(mini), "exposures.csv", 2, "debtor", "cannot lend to itself")


def test_underwater_cohort_needs_flag(mini):
    edit(mini, "cohorts", 2, "debt_amount", "200000000")  # 50k ETH = 137.5M < 200M
    assert has(problems_of(mini), "cohorts.csv", 2, "debt_amount", "underwater_ok")
    edit(mini, "cohorts", 2, "underwater_ok", "true")
    assert load_network(mini).cohorts.loc[0, "debt_amount"] == 200_000_000


def test_bad_date(mini):
    edit(mini, "assets", 3, "as_of", "06/05/2022")
    assert has(problems_of(mini), "assets.csv", 3, "as_of", "YYYY-MM-DD")


def test_bad_enum(mini):
    edit(mini, "entities", 2, "type", "bank")
    assert has(problems_of(mini), "entities.csv", 2, "type", "one of")


def test_bad_flag_and_bool(mini):
    edit(mini, "holdings", 2, "flag", "guess")
    edit(mini, "cohorts", 2, "underwater_ok", "maybe")
    ps = problems_of(mini)
    assert has(ps, "holdings.csv", 2, "flag", "sourced")
    assert has(ps, "cohorts.csv", 2, "underwater_ok", "true or false")


def test_not_utf8(mini):
    (mini / "entities.csv").write_bytes((MINI / "entities.csv").read_bytes().replace(b"Lender", b"L\xe9nder"))
    ps = problems_of(mini)
    assert has(ps, "entities.csv", 5, None, "UTF-8")


def test_file_too_large(mini):
    with pytest.raises(DataValidationError) as exc:
        load_network(mini, max_bytes=100)
    assert any("at most 100 bytes" in p.expected for p in exc.value.problems)


def test_missing_file(mini):
    (mini / "assets.csv").unlink()
    assert has(problems_of(mini), "assets.csv", None, None, "a file assets.csv")


def test_all_problems_reported_at_once(mini):
    edit(mini, "exposures", 2, "amount_usd", "-1")
    edit(mini, "holdings", 3, "asset", "XYZ")
    edit(mini, "cohorts", 3, "close_factor", "2")
    ps = problems_of(mini)
    assert len(ps) >= 3
    files = {Path(p.file).name for p in ps}
    assert {"exposures.csv", "holdings.csv", "cohorts.csv"} <= files


def test_bad_json(tmp_path):
    f = tmp_path / "net.json"
    f.write_text('{"entities": [ }', encoding="utf-8")
    with pytest.raises(DataValidationError) as exc:
        load_network(f)
    assert exc.value.problems[0].row == 1 and "valid JSON" in exc.value.problems[0].expected


def test_json_record_numbers():
    doc = json.loads(load_network(MINI).to_json())
    doc["exposures"][1]["amount_usd"] = "abc"
    with pytest.raises(DataValidationError) as exc:
        network_from_json_text(json.dumps(doc), file="x.json")
    p = exc.value.problems[0]
    assert (p.file, p.row, p.row_kind, p.column) == ("x.json [exposures]", 2, "record", "amount_usd")


def test_frames_validation():
    frames = load_network(MINI).frames()
    frames["exposures"].loc[0, "creditor"] = "GHOST"
    with pytest.raises(DataValidationError) as exc:
        core.Network.from_frames(**frames)
    p = exc.value.problems[0]
    assert (p.row, p.column, p.value) == (1, "creditor", "GHOST")


# --- round trips and exports ----------------------------------------------------------------

def test_csv_round_trip_identical(tmp_path):
    net = load_network(MINI)
    net.to_csv(tmp_path / "a")
    again = load_network(tmp_path / "a")
    again.to_csv(tmp_path / "b")
    for f in ("entities", "assets", "holdings", "exposures", "cohorts"):
        assert filecmp.cmp(tmp_path / "a" / f"{f}.csv", tmp_path / "b" / f"{f}.csv", shallow=False)
        pd.testing.assert_frame_equal(getattr(net, f), getattr(again, f))


@pytest.mark.skipif(not DATASET.exists(), reason="dataset not present")
def test_shipped_dataset_round_trip_is_byte_identical(tmp_path):
    net = load_network(DATASET)
    net.to_csv(tmp_path)
    for f in DATASET.glob("*.csv"):
        if f.name == "parameter_changes.csv":  # the snapshot's dated changes, not a table of the network
            continue
        assert (tmp_path / f.name).read_bytes() == f.read_bytes(), f.name


def test_json_round_trip_exact(tmp_path):
    net = load_network(MINI)
    text = net.to_json(tmp_path / "n.json")
    again = load_network(tmp_path / "n.json")
    assert again.to_json() == text
    for f in ("entities", "assets", "holdings", "exposures", "cohorts"):
        pd.testing.assert_frame_equal(getattr(net, f), getattr(again, f))


def test_networkx_export_has_everything():
    net = load_network(MINI)
    g = net.to_networkx()
    assert isinstance(g, nx.MultiDiGraph)
    assert set(g.nodes) == set(net.entities["id"])
    assert g.number_of_edges() == len(net.exposures)
    for row in net.exposures.to_dict("records"):
        attrs = g.edges[row["creditor"], row["debtor"], row["id"]]
        for k, v in row.items():
            if isinstance(v, float) and np.isnan(v):
                assert attrs[k] is None
            else:
                assert attrs[k] == v
    for row in net.entities.to_dict("records"):
        for k, v in row.items():
            if not (isinstance(v, float) and np.isnan(v)):
                assert g.nodes[row["id"]][k] == v
    assert len(g.graph["cohorts"]) == len(net.cohorts)


def test_balance_sheet_identity():
    net = load_network(MINI)
    bs = net.balance_sheet()
    # FUND: 50k stETH + 300M other + 40k stETH locked + 10k stETH pledged - 400M loan - 80M protocol debt
    expected = 50_000 * 2740 + 300e6 + 40_000 * 2740 + 10_000 * 2740 - 400e6 - 80e6
    assert bs.loc["FUND", "derived_equity_usd"] == pytest.approx(expected)
    assert bs.loc["LENDER", "equity_mismatch"]  # reported 100M vs derived 600M
    assert list(net.equity_mismatches().index) == ["LENDER"]


def test_synthetic_is_reproducible():
    a = core.datasets.synthetic(200, 1000, seed=3)
    b = core.datasets.synthetic(200, 1000, seed=3)
    c = core.datasets.synthetic(200, 1000, seed=4)
    for f in ("entities", "exposures", "holdings", "cohorts"):
        pd.testing.assert_frame_equal(getattr(a, f), getattr(b, f))
    assert not a.exposures["amount_usd"].equals(c.exposures["amount_usd"])
    assert len(a.exposures) == 1000 and a.n_entities == 200
    assert (a.balance_sheet()["derived_equity_usd"] > 0).all()


# --- CLI ---------------------------------------------------------------------------------

def test_cli_validate_ok(capsys):
    assert cli_main(["validate", str(MINI)]) == 0
    assert "is valid" in capsys.readouterr().out


def test_cli_validate_bad_exits_2(mini, capsys):
    edit(mini, "exposures", 2, "amount_usd", "-5")
    assert cli_main(["validate", str(mini)]) == 2
    err = capsys.readouterr().err
    assert "exposures.csv, line 2, column 'amount_usd'" in err and "'-5'" in err


def test_cli_describe(capsys):
    assert cli_main(["describe", "--data", str(MINI), "--top", "2"]) == 0
    out = capsys.readouterr().out
    assert "Largest creditors" in out and "SUPPLIERS" in out


def test_cli_help_everywhere(capsys):
    """``python -m core.cli --help`` in a fresh process (the module entry point and its exit status), and each
    command's help through the same ``main`` in process: a fresh interpreter per command (~1.2 s of CPU each) would
    check nothing more, since ``__main__`` only passes ``main``'s status to ``sys.exit``."""
    r = subprocess.run([sys.executable, "-m", "core.cli", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "usage: sfm" in r.stdout
    for args in (["validate", "--help"], ["describe", "--help"], ["dashboard", "--help"]):
        assert cli_main(args) == 0, args
        assert "usage: sfm " + args[0] in capsys.readouterr().out, args
