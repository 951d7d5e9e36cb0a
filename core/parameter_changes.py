"""Dated parameter changes: a snapshot's figures as they stood on a later day.

A snapshot describes the system on one day, its ``as_of`` (``snapshot.json``'s
``date``); every row holds the figure in force that day. A protocol's governance
changes some of those figures afterwards (Aave v2 raised stETH's liquidation
threshold from 75 % to 81 % on 19 May 2022, AIP-75), and a scenario dated after
the change runs on the new figure. The snapshot folder carries such changes in
one table, ``parameter_changes.csv``, one row per change:

``table, row, column, value, effective, source, flag, note``

* ``table``, ``row``, ``column``: the cell changed: a table of the network, the
  row's key (:data:`KEYS`: a cohort's ``id``, a peg row's ``asset``...) and a number
  column of that table (:mod:`core.schema`);
* ``value``: the figure from ``effective`` (ISO date, after the snapshot's date: a
  figure already in force on ``as_of`` belongs in the row itself);
* ``source``, ``flag`` (``sourced``/``estimate``), ``note``: provenance, as on every row.

The network in force on day ``d`` (:func:`in_force`) is the snapshot with, for
each cell, the value of the latest change whose ``effective <= d`` (none: the
row's own value); it is validated again as a whole, so a change that breaks a
cross-table check is reported. :func:`read_changes` validates the file and reports
every problem at once (file, line, column, value, what was expected), as
:mod:`core.validation` does for the tables.

Examples
--------
>>> from core import snapshots
>>> net = snapshots.load("crypto-2022-05")
>>> ch = changes_of(snapshots.data_path("crypto-2022-05"), net)
>>> sorted(set(ch["effective"]))
['2022-05-19']
>>> lt = lambda n: float(n.cohorts.set_index("id").loc["AAVE_ETH.stETH-ETH.hf1.02", "liquidation_threshold"])
>>> lt(net), lt(in_force(net, ch, "2022-05-18")), lt(in_force(net, ch, "2022-06-18"))
(0.75, 0.75, 0.81)
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .network import Network
from .problems import Problem
from .schema import FLAGS, TABLES
from .validation import DataValidationError

#: The file of a snapshot folder that holds its dated changes.
CHANGES_FILE = "parameter_changes.csv"
#: The columns of that file, in order.
COLUMNS: tuple[str, ...] = ("table", "row", "column", "value", "effective", "source", "flag", "note")
#: The key column that names a row, per table a change may touch.
KEYS: dict[str, str] = {"entities": "id", "assets": "symbol", "exposures": "id", "cohorts": "id",
                        "positions": "id", "venues": "venue", "maker_ilks": "ilk", "pegs": "asset"}


def _date(text: str) -> _dt.date | None:
    try:
        return _dt.date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def snapshot_date(folder: str | os.PathLike[str]) -> str | None:
    """The ``date`` of a snapshot folder's ``snapshot.json`` (None without one)."""
    import json

    from .snapshot_catalog import SNAPSHOT_FILE

    f = Path(folder) / SNAPSHOT_FILE  # only its date: a copied folder keeps the name it was shipped under
    try:
        date = json.loads(f.read_text(encoding="utf-8")).get("date") if f.exists() else None
    except (ValueError, AttributeError):
        return None
    return date if isinstance(date, str) and _date(date) is not None else None


def read_changes(path: str | os.PathLike[str], network: Network, as_of: str | None = None) -> pd.DataFrame:
    """The validated changes of ``path`` (a ``parameter_changes.csv``) to ``network``.

    Parameters
    ----------
    path : str or path-like
        The CSV file.
    network : Network
        The snapshot the changes apply to (rows, columns and the changed networks are checked against it).
    as_of : str or None
        The snapshot's date: every ``effective`` must come after it.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`COLUMNS`, ``value`` as float, sorted by ``effective`` (stable).

    Raises
    ------
    DataValidationError
        Every problem, each with the file, line, column, value found and what was expected.
    """
    from .io import parse_csv_text

    file = str(path)
    df, prob = parse_csv_text(Path(path).read_text(encoding="utf-8"), file)
    if prob is not None or df is None:
        raise DataValidationError([prob] if prob else [])
    missing = [c for c in COLUMNS if c not in df.columns]
    extra = [c for c in df.columns if c not in COLUMNS]
    if missing or extra:
        raise DataValidationError([Problem(file, None, c, None, "the columns " + ", ".join(COLUMNS)) for c in missing + extra])
    lines = df.attrs.get("source_lines") or tuple(range(2, len(df) + 2))
    problems: list[Problem] = []
    values = pd.to_numeric(df["value"].str.strip(), errors="coerce").to_numpy(dtype=float)
    start = _date(as_of) if as_of else None
    for i, r in enumerate(df.itertuples(index=False)):  # a file of a few governance changes, not of entities
        line = int(lines[i])
        if r.table not in KEYS:
            problems.append(Problem(file, line, "table", r.table, "one of the tables " + ", ".join(KEYS)))
            continue
        table = getattr(network, r.table)
        if r.row not in set(table[KEYS[r.table]].astype(str)):
            problems.append(Problem(file, line, "row", r.row, f"the {KEYS[r.table]} of a row of {r.table}"))
        col = next((c for c in TABLES[r.table].columns if c.name == r.column), None)
        if col is None or col.kind != "float":
            problems.append(Problem(file, line, "column", r.column, f"a number column of {r.table}"))
        elif not np.isfinite(values[i]):
            problems.append(Problem(file, line, "value", r.value, "a finite number"))
        elif (col.low is not None and (values[i] < col.low or (col.low_open and values[i] == col.low))) or \
                (col.high is not None and values[i] > col.high):
            lo = "(" if col.low_open else "["
            problems.append(Problem(file, line, "value", r.value, f"a number in {lo}{col.low}, {col.high}] ({r.table}.{r.column})"))
        day = _date(r.effective)
        if day is None:
            problems.append(Problem(file, line, "effective", r.effective, "a date YYYY-MM-DD"))
        elif start is not None and day <= start:
            problems.append(Problem(file, line, "effective", r.effective,
                                    f"a date after the snapshot's {as_of} (a figure in force on {as_of} belongs in the row itself)"))
        if r.flag not in FLAGS:
            problems.append(Problem(file, line, "flag", r.flag, "one of " + ", ".join(FLAGS)))
        if not r.source.strip():
            problems.append(Problem(file, line, "source", r.source, "the URL or citation that states the change"))
    dup = df.duplicated(["table", "row", "column", "effective"], keep="first").to_numpy()
    problems += [Problem(file, int(lines[i]), "effective", df["effective"].iat[i],
                         "one change per cell and date (this cell already changes on that date)") for i in np.flatnonzero(dup)]
    if problems:
        raise DataValidationError(problems)
    out = df.loc[:, list(COLUMNS)].assign(value=values).sort_values("effective", kind="stable").reset_index(drop=True)
    for day in sorted(set(out["effective"])):  # each network a change makes must itself be valid
        try:
            in_force(network, out, day)
        except DataValidationError as exc:
            raise DataValidationError([Problem(file, None, "effective", day, f"changes that leave a valid network ({p})")
                                       for p in exc.problems]) from None
    return out


def changes_of(folder: str | os.PathLike[str] | None, network: Network) -> pd.DataFrame:
    """The validated changes of a snapshot folder (an empty table for None or a folder without :data:`CHANGES_FILE`)."""
    f = Path(folder) / CHANGES_FILE if folder is not None else None
    if f is None or not f.exists():
        return pd.DataFrame({c: pd.Series(dtype=float if c == "value" else object) for c in COLUMNS})
    return read_changes(f, network, snapshot_date(f.parent))


def in_force(network: Network, changes: pd.DataFrame, date: str) -> Network:
    """``network`` with every change of ``changes`` whose ``effective <= date`` applied (the latest per cell).

    Parameters
    ----------
    network : Network
        The snapshot (its rows hold the figures in force on its own date).
    changes : pandas.DataFrame
        As :func:`read_changes` returns them.
    date : str
        ISO date.

    Returns
    -------
    Network
        The same object when no change is in force by ``date``; else a new network of the same name,
        validated, whose ``meta`` records ``parameters_as_of`` (``date``) and the ``parameter_changes`` applied.
    """
    due = changes.loc[changes["effective"] <= date]
    if due.empty:
        return network
    due = due.drop_duplicates(["table", "row", "column"], keep="last")  # sorted by effective: the latest wins
    frames = {t: getattr(network, t).copy() for t in TABLES}
    for (table, column), grp in due.groupby(["table", "column"], sort=False):
        df = frames[table]
        new = df[KEYS[table]].astype(str).map(dict(zip(grp["row"], grp["value"])))
        df[column] = new.where(new.notna(), df[column]).astype(float)
    applied = [f"{r.table}.{r.row}.{r.column} = {r.value:g} from {r.effective}" for r in due.itertuples(index=False)]
    out = Network.from_frames(name=network.name, **frames)
    object.__setattr__(out, "meta", {**network.meta, "parameters_as_of": date, "parameter_changes": applied})
    return out


__all__ = ["CHANGES_FILE", "COLUMNS", "KEYS", "changes_of", "in_force", "read_changes", "snapshot_date"]
