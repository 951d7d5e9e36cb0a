"""What is wrong with an input, and where: a :class:`Problem` names the file, the row (the line number in a CSV
file, the 1-based record number in JSON or a DataFrame), the column, the value found and what was expected;
an :class:`Origin` says where a table came from, so that the checks can name it. Every problem found is raised
at once in a :class:`core.validation.DataValidationError`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np




@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input.

    Attributes
    ----------
    file : str
        The file (or input) the problem is in.
    row : int or None
        Its line (CSV) or record number (JSON, DataFrames); None for the whole file.
    column : str or None
        The column or field; None for the whole row.
    value : object
        The value found (None when there is none).
    expected : str
        What was expected instead.
    row_kind : str
        ``"line"`` or ``"record"``: how :attr:`row` is counted.

    Examples
    --------
    >>> print(Problem("exposures.csv", 3, "amount_usd", -5, "a number >= 0"))
    exposures.csv, line 3, column 'amount_usd': found -5; expected a number >= 0
    """

    file: str
    row: int | None
    column: str | None
    value: object
    expected: str
    row_kind: str = "line"  # "line" in CSV files, "record" in JSON or DataFrames

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"{self.row_kind} {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        found = "" if self.value is None else f": found {self.value!r}"
        return f"{', '.join(where)}{found}; expected {self.expected}"

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "row": self.row,
            "row_kind": self.row_kind,
            "column": self.column,
            "value": None if self.value is None else str(self.value),
            "expected": self.expected,
        }


@dataclass(frozen=True)
class Origin:
    """Where a table came from, to name it in problems."""

    file: str
    first_row: int  # row number of the first data row
    row_kind: str  # "line" or "record"
    #: the line each row starts on, when rows and lines do not match one to one (blank lines,
    #: line breaks inside quoted cells); from ``DataFrame.attrs["source_lines"]`` of a parsed CSV
    lines: tuple[int, ...] | None = None


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, origin: Origin, rows: np.ndarray | None, column: str | None, values, expected: str) -> None:
        if rows is None:
            self.problems.append(Problem(origin.file, None, column, values, expected, origin.row_kind))
            return
        for r, v in zip(rows.tolist(), list(values)):
            row = origin.lines[r] if origin.lines is not None and r < len(origin.lines) else int(r) + origin.first_row
            self.problems.append(Problem(origin.file, row, column, v, expected, origin.row_kind))
