"""The fast paths of column validation (core/column_checks.py) give the cell-by-cell path's values and problems.

A long column of few distinct values is checked once per value; a CSV number column looks for blanks only
among cells that did not parse. Both are compared here with the plain path on any column hypothesis draws,
bad cells included: the same typed values (bit for bit) and the same problems, row for row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import core.column_checks as C
import core.problems as P
import core.validation as V
from core.schema import TABLES

COLUMNS = {c.name: c for c in TABLES["cohorts"].columns}
CELLS = {
    "float": st.sampled_from(["0.5", "1", " 2.5 ", "", "  ", "nan", "abc", "-1", "1e300", "0.825", "inf", "1.5e3"]),
    "ref": st.sampled_from(["AAVE", "ETH", "", " ", "E0001", "bad id", "USDC"]),
    "enum": st.sampled_from(["aave", "aave_v3", "maker", "", "nope", "compound"]),
    "bool": st.sampled_from(["true", "false", "1", "0", "yes", "", "maybe", "TRUE"]),
    "date": st.sampled_from(["2022-05-06", "2022-13-01", "", "yesterday", "2024-02-29"]),
    "str": st.sampled_from(["sfm", "", "  ", "a note", "x,y"]),
}
NAMES = {"float": "liquidation_threshold", "ref": "protocol", "enum": "style", "bool": "underwater_ok",
         "date": "as_of", "str": "note"}


def both_paths(col, raw: pd.Series, monkeypatch) -> tuple:
    results = []
    for rows in (0, 10**9):  # every column through the distinct-value path, then none
        monkeypatch.setattr(C, "_DISTINCT_ROWS", rows)
        out = P._Collector()
        typed = C._coerce_column(col, raw, V.Origin("cohorts.csv", 2, "line"), out)
        results.append((typed, [str(p) for p in out.problems]))
    return results


@settings(max_examples=120, deadline=None)
@given(kind=st.sampled_from(sorted(CELLS)), data=st.data())
def test_fast_paths_equal_the_cell_path(kind, data):
    """Reference: object cells, cell by cell (the path before); against it text cells (a CSV file) and
    object cells, each grouped by value and not."""
    cells = data.draw(st.lists(CELLS[kind], min_size=1, max_size=60))
    cells = cells * 5                                   # repeated values, as in a long positions table
    col = COLUMNS[NAMES[kind]]
    with pytest.MonkeyPatch.context() as mp:
        (_, _), (reference, reference_problems) = both_paths(col, pd.Series(cells, dtype=object), mp)
        for dtype in ("str", "object"):
            for typed, problems in both_paths(col, pd.Series(cells, dtype=dtype), mp):
                assert problems == reference_problems
                pd.testing.assert_series_equal(typed, reference, check_exact=True)


def test_plain_path_numbers_keep_their_blanks_and_problems():
    """Worked example: a CSV number column with blanks, text, NaN and a value out of range."""
    raw = pd.Series(["0.5", "", " ", "nan", "x", "2"], dtype="str")
    out = P._Collector()
    vals = C._coerce_column(COLUMNS["liquidation_threshold"], raw, V.Origin("cohorts.csv", 2, "line"), out)
    assert vals.iloc[0] == 0.5 and vals.iloc[1:5].isna().all() and vals.iloc[5] == 2.0
    text = [str(p) for p in out.problems]
    assert any("line 5" in t and "NaN is not allowed" in t for t in text)
    assert any("line 6" in t and "'x'" in t and "a number" in t for t in text)
    assert any("line 3" in t and "may not be empty" in t for t in text)
    assert any("line 4" in t and "may not be empty" in t for t in text)
    assert any("line 7" in t and "(0, 1]" in t for t in text)
    assert len(text) == 5


def test_mixed_json_cells_stay_on_the_plain_path(monkeypatch):
    """1, 1.0 and True hash alike: a column that is not all text is never grouped by value."""
    raw = pd.Series(["AAVE", 1, 1.0, True] * 10, dtype=object)
    (fast, fp), (plain, pp) = both_paths(COLUMNS["protocol"], raw, monkeypatch)
    assert fp == pp
    pd.testing.assert_series_equal(fast, plain, check_exact=True)
    assert list(plain.iloc[:4]) == ["AAVE", "1", "1.0", "True"]
    assert np.all(C._blank(raw) == np.zeros(40, bool))
