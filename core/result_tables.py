"""Result tables as pandas users and files meet them: keyed by their natural keys, written to JSON exactly, to CSV safely.

:func:`keyed` labels a table's rows by its keys (:data:`INDEX_KEYS`: ``nodes`` by
entity, ``rounds`` by (round, entity), ``prices`` by round), keeping the key columns
as columns too (see :mod:`core.results`, Index); :func:`prekeyed` tells a result
built inside that its tables are keyed already. :func:`table_to_doc` and
:func:`table_from_doc` round-trip a table through strict JSON (every finite float
exactly, the dtypes; :func:`non_finite_cells` lists the cells written as null and
why). :func:`csv_safe` and :func:`csv_text` write CSV that a spreadsheet does not
run as a formula.
"""

from __future__ import annotations

import csv
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator

import numpy as np
import pandas as pd

#: The key columns that index each table: ``res.nodes.loc["FTX"]``, ``res.rounds.loc[(3, "FTX")]``, ``res.prices.loc[3]``.
INDEX_KEYS: dict[str, tuple[str, ...]] = {"nodes": ("entity",), "rounds": ("round", "entity"), "prices": ("round",)}


#: Tables that the code building a result has already keyed as :func:`keyed` would (see :func:`prekeyed`).
_PREKEYED: ContextVar[frozenset[str]] = ContextVar("prekeyed", default=frozenset())


@contextmanager
def prekeyed(*names: str) -> Iterator[None]:
    """Results built inside take the tables ``names`` as already keyed by :data:`INDEX_KEYS` (their index
    set as :func:`keyed` sets it: ``core.report`` builds the ``rounds`` index from its known structure
    rather than factorising every row's keys again).

    Examples
    --------
    >>> from core.results import CascadeResult
    >>> t = keyed(pd.DataFrame({"round": [0, 0], "entity": ["FTX", "Celsius"]}), ("round", "entity"))
    >>> with prekeyed("rounds"):
    ...     res = CascadeResult(rounds=t, prices=pd.DataFrame(), totals=pd.DataFrame(), nodes=pd.DataFrame(),
    ...                         paths=pd.DataFrame(), summary=pd.DataFrame())
    >>> res.rounds is t
    True
    """
    token = _PREKEYED.set(frozenset(names))
    try:
        yield
    finally:
        _PREKEYED.reset(token)


def keyed(df: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    """``df`` with its rows labelled by the ``keys`` columns, which stay columns too (see "Index" in the module docs).

    Examples
    --------
    >>> t = keyed(pd.DataFrame({"entity": ["FTX", "Celsius"], "loss_usd": [8e9, 1.2e9]}), ("entity",))
    >>> float(t.loc["FTX", "loss_usd"]), t["entity"].tolist()
    (8000000000.0, ['FTX', 'Celsius'])
    """
    if not all(k in df.columns for k in keys):
        return df
    index = pd.Index(df[keys[0]].to_numpy()) if len(keys) == 1 else pd.MultiIndex.from_arrays([df[k].to_numpy() for k in keys])
    return df.set_axis(index, axis=0)


def table_to_doc(df: pd.DataFrame) -> dict[str, Any]:
    """A table as JSON-ready ``{"columns", "data", "dtypes"}``, each cell a Python scalar (floats keep every digit).

    Parameters
    ----------
    df : pandas.DataFrame

    Returns
    -------
    dict

    Examples
    --------
    >>> import pandas as pd
    >>> table_to_doc(pd.DataFrame({"a": [0.1], "b": ["x"]}))
    {'columns': ['a', 'b'], 'data': [[0.1, 'x']], 'dtypes': ['float64', 'str']}
    """
    cols = [df[c].tolist() for c in df.columns]
    return {"columns": [str(c) for c in df.columns],
            "data": [list(row) for row in zip(*cols)] if cols else [],
            "dtypes": [str(t) for t in df.dtypes]}


def table_from_doc(doc: dict[str, Any]) -> pd.DataFrame:
    """Inverse of :func:`table_to_doc`: the columns, cells and (when recorded) dtypes.

    Parameters
    ----------
    doc : dict
        ``{"columns", "data"}`` and optionally ``"dtypes"``.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": [0.1, 1 / 3], "b": ["x", "y"]})
    >>> table_from_doc(table_to_doc(df)).equals(df)
    True
    """
    columns = list(doc["columns"])
    data = doc.get("data") or []
    df = pd.DataFrame({c: [row[i] for row in data] for i, c in enumerate(columns)}, columns=columns)
    for c, dtype in zip(columns, doc.get("dtypes") or []):
        if dtype == "object" or str(df[c].dtype) == dtype:
            continue
        try:
            target = pd.api.types.pandas_dtype(dtype)
        except TypeError:  # a dtype this pandas does not know: keep what was read
            continue
        if getattr(target, "kind", "") in "iub" and df[c].isna().any():  # a null in an integer column: stays float
            continue
        df[c] = df[c].astype(target)
    return df


def non_finite_cells(df: pd.DataFrame, table: str) -> list[dict[str, str]]:
    """Where a table holds NaN or ±inf (pandas writes them as JSON null): one entry per column, with its reason.

    Parameters
    ----------
    df : pandas.DataFrame
    table : str
        The table's name, used in ``where``.

    Returns
    -------
    list of dict
        ``{"where", "value", "rows", "reason"}`` per column with non-finite cells.

    Examples
    --------
    >>> import pandas as pd
    >>> [(c["where"], c["value"], c["rows"]) for c in non_finite_cells(pd.DataFrame({"a": [1.0, float("nan")]}), "t")]
    [('t.a', 'NaN', '1')]
    """
    out = []
    for col in df.columns:
        s = df[col]
        if not pd.api.types.is_float_dtype(s):
            continue
        v = s.to_numpy(dtype=float)
        bad = ~np.isfinite(v)
        if bad.any():
            rows = np.flatnonzero(bad)
            kinds = sorted({"NaN" if np.isnan(x) else ("inf" if x > 0 else "-inf") for x in v[rows[:1000]]})
            out.append({"where": f"{table}.{col}", "value": "/".join(kinds),
                        "rows": ", ".join(map(str, rows[:20].tolist())) + (" ..." if len(rows) > 20 else ""),
                        "reason": "not a finite number (undefined, e.g. a share of a zero total, or an overflow); "
                                  "JSON has no Infinity or NaN"})
    return out


#: First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells beginning with = + - @ tab or CR get a leading ``'``.

    OWASP's rule against CSV (formula) injection: an entity named ``=HYPERLINK(...)``
    in a dataset would otherwise run as a formula when the output is opened in a
    spreadsheet. Numbers are left as they are (a negative number is not text).

    Parameters
    ----------
    df : pandas.DataFrame

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> import pandas as pd
    >>> csv_safe(pd.DataFrame({"id": ["=1+1", "ok"], "x": [-1.0, 2.0]})).values.tolist()
    [["'=1+1", -1.0], ['ok', 2.0]]
    """
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s):
            text = s.astype(object)
            risky = (s.notna() & text.astype(str).str.startswith(FORMULA_PREFIXES)).to_numpy(dtype=bool)
            if risky.any():
                out[col] = text.where(~risky, "'" + text.astype(str))
    return out


def csv_text(df: pd.DataFrame) -> str:
    """CSV for output (the CLI's --format csv and sweep tables): formula cells escaped (:func:`csv_safe`) and every text cell quoted.

    Quoting every text cell keeps a carriage return or tab inside its cell (a
    spreadsheet would otherwise start a new row) and follows OWASP's advice to
    wrap cells in double quotes; numbers are written bare.

    Parameters
    ----------
    df : pandas.DataFrame

    Returns
    -------
    str

    Examples
    --------
    >>> import pandas as pd
    >>> print(csv_text(pd.DataFrame({"id": ["=1+1"], "x": [2.5]})), end="")
    "id","x"
    "'=1+1",2.5
    """
    return csv_safe(df).to_csv(index=False, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
