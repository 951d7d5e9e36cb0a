"""Column checks of network tables: each cell coerced to its column's type (:mod:`core.schema`) or reported,
vectorised over a whole column (a column of repeated values is checked once per distinct value); references
checked against the entities and assets they name."""

from __future__ import annotations


import numpy as np
import pandas as pd

from .problems import Origin, _Collector
from .schema import PREFIX_FORMS, Column, Table


_ID_RE = r"^[A-Za-z0-9_.\-]+$"
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}
#: pandas.api.types.infer_dtype results that cannot hold a boolean.
_NO_BOOLEANS = frozenset({"string", "floating", "integer", "mixed-integer-float", "decimal", "empty"})


def _blank(s: pd.Series) -> np.ndarray:
    if s.dtype == object or pd.api.types.is_string_dtype(s):
        return (s.isna() | (s.astype(str).str.strip() == "")).to_numpy()
    return s.isna().to_numpy()



def _range_text(col: Column) -> str:
    """What a bounded number column expects, in words: 'a non-negative number of at most 1e+15'."""
    if col.low is not None and col.high is not None and col.high <= 1e3:
        return f"a number in {'(' if col.low_open else '['}{col.low:g}, {col.high:g}]"
    if col.low == 0:
        text = "a positive number" if col.low_open else "a non-negative number"
    elif col.low is not None:
        text = f"a number {'>' if col.low_open else '>='} {col.low:g}"
    else:
        text = "a number"
    return text + (f" of at most {col.high:g} (see core/schema.py, magnitudes)" if col.high is not None else "")


#: Rows above which a column of repeated values (references, kinds, dates, sources) is checked once per
#: distinct value and the result spread over its rows by the value's code.
_DISTINCT_ROWS = 10_000


def _coerce_column(col: Column, raw: pd.Series, origin: Origin, out: _Collector) -> pd.Series:
    """Parse one column to its type, reporting every bad cell."""
    if col.kind in ("ref", "enum", "date", "str", "bool", "float") and len(raw) > _DISTINCT_ROWS:
        typed = _coerce_distinct(col, raw)
        if typed is not None:
            return typed
    if col.kind == "float" and not pd.api.types.is_numeric_dtype(raw) and raw.dtype != object:
        # text cells (a CSV file): parse first, then look for blanks only among the cells that did not parse
        # (a blank never parses; a number is never blank); the same blanks and values as _blank then to_numeric
        vals = pd.to_numeric(raw, errors="coerce").astype(float)
        blank = np.zeros(len(raw), bool)
        miss = np.flatnonzero(vals.isna().to_numpy())
        if len(miss):
            blank[miss] = _blank(raw.iloc[miss])
    else:
        blank = _blank(raw)
    if col.kind == "float":
        if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
            vals = raw.astype(float)
        elif raw.dtype == object:
            vals = pd.to_numeric(raw.where(~blank, None), errors="coerce").astype(float)
        # JSON true/false is not a number (pandas would read it as 1/0)
        if pd.api.types.is_bool_dtype(raw):
            boolean = np.ones(len(raw), bool)
        elif raw.dtype == object and pd.api.types.infer_dtype(raw, skipna=True) not in _NO_BOOLEANS:
            boolean = raw.map(lambda x: isinstance(x, bool)).to_numpy(dtype=bool)  # only mixed columns are looked at cell by cell
        else:
            boolean = np.zeros(len(raw), bool)
        vals = vals.where(~pd.Series(boolean, index=vals.index), np.nan)
        if boolean.any():
            idx = np.flatnonzero(boolean)
            out.add(origin, idx, col.name, raw.iloc[idx], "a number, not true/false")
        bad_parse = ~blank & ~boolean & vals.isna().to_numpy()
        if bad_parse.any():
            nan_text = raw.astype(str).str.strip().str.lower().isin(["nan", "na", "n/a", "null", "none"]).to_numpy()
            for mask, expected in ((bad_parse & nan_text, "a finite number (NaN is not allowed)"),
                                   (bad_parse & ~nan_text, "a number")):
                if mask.any():
                    idx = np.flatnonzero(mask)
                    out.add(origin, idx, col.name, raw.iloc[idx], expected)
        missing = blank & ~col.nullable
        if missing.any():
            idx = np.flatnonzero(missing)
            out.add(origin, idx, col.name, raw.iloc[idx], "a number (the cell may not be empty)")
        v = vals.to_numpy()
        ok = np.isfinite(v)
        nonfinite = ~blank & ~bad_parse & ~ok
        if nonfinite.any():
            idx = np.flatnonzero(nonfinite)
            out.add(origin, idx, col.name, raw.iloc[idx], "a finite number")
        with np.errstate(invalid="ignore"):
            below = ok & ((v <= col.low) if col.low_open else (v < col.low)) if col.low is not None else np.zeros(len(v), bool)
            above = ok & (v > col.high) if col.high is not None else np.zeros(len(v), bool)
        out_of_range = below | above
        if out_of_range.any():
            idx = np.flatnonzero(out_of_range)
            out.add(origin, idx, col.name, raw.iloc[idx], _range_text(col))
        if col.default is not None:
            vals = vals.where(~pd.Series(blank, index=vals.index), float(col.default))  # type: ignore[arg-type]  # a float column's default is a number
        return vals
    if col.kind == "bool":
        if pd.api.types.is_bool_dtype(raw):
            return raw.astype(bool)
        text = raw.astype(str).str.strip().str.lower()
        is_t = text.isin(_TRUE).to_numpy()
        is_f = text.isin(_FALSE).to_numpy()
        use_default = blank & (col.default is not None)
        bad = ~(is_t | is_f | use_default)
        if bad.any():
            idx = np.flatnonzero(bad)
            out.add(origin, idx, col.name, raw.iloc[idx], "true or false")
        res = np.where(use_default, bool(col.default), is_t)
        return pd.Series(res, index=raw.index, dtype=bool)
    # text-like columns
    text = raw.astype(object).where(~pd.Series(blank, index=raw.index), "")
    text = text.map(lambda x: x if isinstance(x, str) else str(x)).astype(object)
    must_fill = not col.nullable and col.kind != "str" or (col.kind == "str" and col.required and not col.nullable)
    if must_fill and blank.any():
        idx = np.flatnonzero(blank)
        out.add(origin, idx, col.name, raw.iloc[idx], "a value (the cell may not be empty)")
    filled = ~blank
    if col.kind == "id":
        bad = filled & ~text.str.match(_ID_RE).to_numpy(dtype=bool)
        if bad.any():
            idx = np.flatnonzero(bad)
            out.add(origin, idx, col.name, raw.iloc[idx], "an identifier of letters, digits, '_', '.' or '-'")
    elif col.kind == "enum":
        bad = filled & ~text.isin(col.choices).to_numpy()
        for prefix in col.prefixes:  # ``prefix`` and a name (its referent checked with the other tables)
            bad &= ~(text.str.startswith(prefix) & (text.str.len() > len(prefix))).to_numpy(dtype=bool)
        if bad.any():
            idx = np.flatnonzero(bad)
            out.add(origin, idx, col.name, raw.iloc[idx],
                    "one of " + ", ".join(col.choices + tuple(PREFIX_FORMS.get(p, f"{p}NAME") for p in col.prefixes)))
    elif col.kind == "date":
        parsed = pd.to_datetime(text.where(filled, None), format="%Y-%m-%d", errors="coerce")
        bad = filled & parsed.isna().to_numpy()
        if bad.any():
            idx = np.flatnonzero(bad)
            out.add(origin, idx, col.name, raw.iloc[idx], "a date as YYYY-MM-DD")
    return text.astype(object)


def _coerce_distinct(col: Column, raw: pd.Series) -> pd.Series | None:
    """A long column of few distinct values, checked once per value: the typed column, or None when the
    column has many distinct values or any bad one (then the cell-by-cell path reports every row)."""
    if pd.api.types.infer_dtype(raw, skipna=True) != "string":   # only text: 1, 1.0 and True would share a code
        return None
    if raw.iloc[:_DISTINCT_ROWS].nunique(dropna=False) > _DISTINCT_ROWS // 4:   # amounts, ids: not worth it
        return None
    codes, uniques = pd.factorize(raw, use_na_sentinel=False)
    if len(uniques) > len(raw) // 4:
        return None
    probe = _Collector()
    typed = _coerce_column(col, pd.Series(uniques, dtype=raw.dtype if len(uniques) else object),
                           Origin("", 0, "record"), probe)
    if probe.problems:
        return None
    return pd.Series(typed.to_numpy()[codes], index=raw.index, dtype=typed.dtype)


def _check_table(table: Table, raw: pd.DataFrame, origin: Origin, out: _Collector) -> pd.DataFrame:
    present = [str(c) for c in raw.columns]
    # Column problems have no row; in a CSV file they are on the header line, which the text names.
    header = f" in the header (line {origin.first_row - 1})" if origin.row_kind == "line" else ""
    unknown = [c for c in present if c not in table.column_names]
    for c in dict.fromkeys(unknown):
        out.add(origin, None, c, None, f"only the columns of '{table.name}'{header}: " + ", ".join(table.column_names))
    for c in dict.fromkeys(c for c in present if present.count(c) > 1):
        where = ", ".join(str(i + 1) for i, x in enumerate(present) if x == c)
        out.add(origin, None, c, c, f"each column once{header} (duplicate column '{c}' at positions {where})")
    raw = raw.loc[:, ~raw.columns.duplicated()].reset_index(drop=True)
    typed: dict[str, pd.Series] = {}
    for col in table.columns:
        if col.name not in raw.columns:
            if col.required:
                out.add(origin, None, col.name, None, f"a column '{col.name}'{header} ({col.description}; it is required)")
                continue
            fill = col.default if col.default is not None else (np.nan if col.kind == "float" else "")
            series = pd.Series([fill] * len(raw), index=raw.index)
            typed[col.name] = series.astype(float) if col.kind == "float" else (
                series.astype(bool) if col.kind == "bool" else series.astype(object))
            continue
        typed[col.name] = _coerce_column(col, raw[col.name], origin, out)
    df = pd.DataFrame(typed, index=raw.index)
    # Keys: unique ids (a composite key reported on the later duplicate).
    key = [k for k in table.key if k in df.columns]
    if len(key) == len(table.key) and len(df):
        dup = df.duplicated(subset=key, keep="first").to_numpy()
        if dup.any():
            idx = np.flatnonzero(dup)
            label = "+".join(key)
            vals = df.loc[dup, key].astype(str).agg("+".join, axis=1) if len(key) > 1 else df.loc[dup, key[0]]
            out.add(origin, idx, label, vals, f"a unique {label} (this one appears on an earlier row)")
    return df


def _check_ref(df: pd.DataFrame, col: Column, targets: pd.Index, origin: Origin, out: _Collector, what: str) -> None:
    if col.name not in df.columns:
        return
    vals = df[col.name]
    filled = vals.astype(str) != ""
    bad = (filled & ~vals.isin(targets)).to_numpy()
    if bad.any():
        idx = np.flatnonzero(bad)
        out.add(origin, idx, col.name, vals.iloc[idx], f"the id of an existing {what}")
