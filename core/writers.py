"""Writing a network: CSV folders and JSON documents that the loaders (:mod:`core.io`) read back identically.

Numbers are written in the shortest form that reads back to the same float
(``repr``; whole numbers below 1e16 without a decimal point), booleans as
``true``/``false``, missing values as empty cells (CSV) or ``null`` (JSON).
This module reads :mod:`core.schema` only, so :class:`core.network.Network`
can use it without an import cycle.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .schema import OPTIONAL_TABLES, TABLES, Column

if TYPE_CHECKING:
    from .network import Network


def _fmt_number(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    x = float(x)
    if x.is_integer() and abs(x) < 1e16:
        return str(int(x))
    return repr(x)


def _cell(col: Column, v: Any) -> str:
    if col.kind == "float":
        return _fmt_number(v)
    if col.kind == "bool":
        return "true" if bool(v) else "false"
    return "" if v is None else str(v)


def _json_cell(col: Column, v: Any) -> Any:
    if col.kind == "float":
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return None
        f = float(v)
        return int(f) if f.is_integer() and abs(f) < 1e16 else f
    if col.kind == "bool":
        return bool(v)
    return None if (v == "" and col.nullable) else str(v)


def table_to_csv_text(name: str, df: pd.DataFrame) -> str:
    """One table as CSV text, columns in schema order, numbers in their shortest exact form.

    Parameters
    ----------
    name : str
        The table's name (``"assets"``, ``"exposures"``, ...).
    df : pandas.DataFrame

    Returns
    -------
    str

    Examples
    --------
    >>> from core.datasets import synthetic
    >>> table_to_csv_text("assets", synthetic(5, 6).assets).splitlines()[0][:40]
    'symbol,name,kind,price_usd,supply,adv_us'
    """
    cols = TABLES[name].columns
    out = pd.DataFrame({c.name: [_cell(c, v) for v in df[c.name].tolist()] for c in cols}, columns=[c.name for c in cols])
    return out.to_csv(index=False, lineterminator="\n")


def write_csv_folder(network: Network, folder: str | os.PathLike[str]) -> None:
    """Write a network as a folder of CSV files (optional tables only when not empty).

    Parameters
    ----------
    network : Network
    folder : str or path-like
        Created when missing.

    Examples
    --------
    >>> import os, tempfile
    >>> from core.datasets import synthetic
    >>> folder = tempfile.mkdtemp()
    >>> write_csv_folder(synthetic(5, 6), folder)
    >>> sorted(os.listdir(folder))
    ['assets.csv', 'cohorts.csv', 'entities.csv', 'exposures.csv', 'holdings.csv', 'pegs.csv']
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        df = getattr(network, name)
        if name in OPTIONAL_TABLES and df.empty:
            continue
        (folder / f"{name}.csv").write_text(table_to_csv_text(name, df), encoding="utf-8")


def network_to_dict(network: Network) -> dict[str, Any]:
    """A network as a JSON-ready dict: ``name``, one list of records per table, ``meta``.

    Parameters
    ----------
    network : Network

    Returns
    -------
    dict

    Examples
    --------
    >>> from core.datasets import synthetic
    >>> d = network_to_dict(synthetic(5, 6))
    >>> d["name"], len(d["entities"]), len(d["exposures"])
    ('synthetic-5-6-0', 5, 6)
    """
    doc: dict[str, Any] = {"name": network.name}
    for name, table in TABLES.items():
        df = getattr(network, name)
        doc[name] = [
            {c.name: _json_cell(c, v) for c, v in zip(table.columns, row)}
            for row in df[list(table.column_names)].itertuples(index=False, name=None)
        ]
    if network.meta:
        doc["meta"] = network.meta
    return doc


def network_to_json(network: Network, path: str | os.PathLike[str] | None = None) -> str:
    """A network as JSON text (strict: no NaN/Infinity); also written to ``path`` when given.

    Parameters
    ----------
    network : Network
    path : str or path-like, optional

    Returns
    -------
    str

    Examples
    --------
    >>> import json
    >>> from core.datasets import synthetic
    >>> json.loads(network_to_json(synthetic(5, 6)))["name"]
    'synthetic-5-6-0'
    """
    text = json.dumps(network_to_dict(network), indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text
