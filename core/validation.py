"""Validation of network tables: every problem at once, each with its place.

Each check is vectorised over a whole column, so validating the 100,000-row
synthetic network costs a few tens of milliseconds. A problem names the file,
the row (the line number in a CSV file, the 1-based record number in JSON or a
DataFrame), the column, the value found and what was expected. Nothing is
fixed silently: a value is either accepted as written or reported.

:func:`validate_tables` runs the column checks (:mod:`core.column_checks`), the
references between tables, then the consistency checks across them
(:mod:`core.consistency_checks`); problems are :class:`~core.problems.Problem`
records raised together in a :class:`DataValidationError`. Every
public name of those modules is importable from here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Mapping

import pandas as pd

from .column_checks import _check_ref, _check_table
from .consistency_checks import (MAKER_CLIP_COLUMNS as MAKER_CLIP_COLUMNS, MAKER_ILK_TOLERANCE as MAKER_ILK_TOLERANCE,
                                 MAKER_SYSTEM_COLUMNS as MAKER_SYSTEM_COLUMNS, _cross_checks, leverage_bucket_bounds)
from .problems import Origin as Origin, Problem, _Collector
from .schema import OPTIONAL_TABLES, TABLES


class DataValidationError(ValueError):
    """Raised by every loader when the input has problems; carries all of them.

    A ``ValueError`` whose message lists the first 200 problems, one per line.

    Parameters
    ----------
    problems : iterable of Problem

    Attributes
    ----------
    problems : list of Problem
        Every problem found.

    Examples
    --------
    >>> err = DataValidationError([Problem("exposures.csv", 3, "amount_usd", -5, "a number >= 0")])
    >>> print(err)
    1 problem in the input:
      - exposures.csv, line 3, column 'amount_usd': found -5; expected a number >= 0
    >>> len(err.problems)
    1
    """

    def __init__(self, problems: Iterable[Problem]):
        self.problems: list[Problem] = list(problems)
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the input"
        lines = [head + ":"] + [f"  - {p}" for p in self.problems[:200]]
        if n > 200:
            lines.append(f"  ... and {n - 200} more")
        super().__init__("\n".join(lines))


def validate_tables(raw: Mapping[str, pd.DataFrame | None], origins: Mapping[str, Origin]) -> dict[str, pd.DataFrame]:
    """Validate raw tables (cells as text or numbers) and return typed tables.

    Raises :class:`DataValidationError` listing every problem found.
    """
    out = _Collector()
    typed: dict[str, pd.DataFrame] = {}
    origins = dict(origins)
    for name, frame in raw.items():
        lines = None if frame is None else frame.attrs.get("source_lines")
        if lines is not None and name in origins and origins[name].row_kind == "line":
            origins[name] = replace(origins[name], lines=tuple(int(x) for x in lines))
    for name, table in TABLES.items():
        frame = raw.get(name)
        origin = origins.get(name, Origin(f"{name}", 1, "record"))
        if frame is None:
            if name not in OPTIONAL_TABLES:
                out.add(origin, None, None, None, f"a table '{name}' ({table.description})")
            frame = pd.DataFrame({c.name: pd.Series(dtype=object) for c in table.columns if c.required})
        typed[name] = _check_table(table, frame, origin, out)

    ent, ast = typed["entities"], typed["assets"]
    ent_ids = pd.Index(ent["id"]) if "id" in ent else pd.Index([])
    sym = pd.Index(ast["symbol"]) if "symbol" in ast else pd.Index([])
    kinds = {"entities": (ent_ids, "entity"), "assets": (sym, "asset")}
    keyless = {"entities"} if "id" not in ent else set()  # a missing key column is reported once, not per reference
    keyless |= {"assets"} if "symbol" not in ast else set()
    for name, table in TABLES.items():
        for col in table.columns:
            if col.kind == "ref" and col.refers_to and col.refers_to not in keyless:
                targets, what = kinds[col.refers_to]
                _check_ref(typed[name], col, targets, origins.get(name, Origin(name, 1, "record")), out, what)

    _cross_checks(typed, origins, out)
    if out.problems:
        raise DataValidationError(out.problems)
    return typed



def check_text_encoding(data: bytes, file: str) -> tuple[str | None, Problem | None]:
    """Decode bytes as UTF-8 or say where it fails."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, Problem(file, line, None, repr(data[exc.start : exc.start + 4]), "UTF-8 text", "line")


__all__ = ["Problem", "DataValidationError", "Origin", "validate_tables", "check_text_encoding", "leverage_bucket_bounds"]
