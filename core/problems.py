"""What is wrong with an input, and where: a :class:`Problem` names the file, the row (the line number in a CSV
file, the 1-based record number in JSON or a DataFrame), the column, the value found and what was expected;
an :class:`Origin` says where a table came from, so that the checks can name it. Every problem found is raised
at once in a :class:`core.validation.DataValidationError`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

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


#: pydantic's error types (``ValidationError.errors()``) and what a field was expected to be, in the words of a
#: :class:`Problem` ("found 0; expected an integer >= 1", not "expected Input should be greater than or equal to 1").
_COMPARISONS = {"greater_than_equal": ("ge", ">="), "greater_than": ("gt", ">"), "less_than_equal": ("le", "<="),
                "less_than": ("lt", "<")}
_KINDS = {"int_parsing": "an integer", "int_type": "an integer", "int_from_float": "a whole number",
          "float_parsing": "a number", "float_type": "a number", "finite_number": "a finite number",
          "bool_parsing": "true or false", "bool_type": "true or false", "string_type": "text",
          "dict_type": "a JSON object", "model_type": "a JSON object", "list_type": "a JSON list",
          "missing": "a value (the field is required)", "extra_forbidden": "a known field name (this one is not in the format)"}


def _is_integer_field(model: type | None, loc: tuple) -> bool:
    """Whether ``loc`` names an ``int`` field of the pydantic ``model`` (walking nested models)."""
    for part in loc:
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return False
        model = fields[part].annotation
    return model is int


def expected_of(error: Mapping[str, Any], model: type | None = None) -> str:
    """What a field was expected to be, from one of pydantic's errors (``ValidationError.errors()``), as a
    :class:`Problem`'s ``expected``.

    A bound reads ``a number >= 0`` (``an integer >= 1`` for an ``int`` field of ``model``), a type ``an integer``,
    ``a JSON object``...; a validator's own message is kept, without pydantic's "Value error, " before it; any other
    message without its "Input should be " (pydantic's wording, which would read "expected Input should be ...").

    >>> expected_of({"type": "greater_than_equal", "loc": ("shock_rounds",), "msg": "Input should be greater than or equal to 1",
    ...              "ctx": {"ge": 1}})
    'an integer >= 1'
    >>> expected_of({"type": "greater_than", "loc": ("round_hours",), "msg": "Input should be greater than 0", "ctx": {"gt": 0.0}})
    'a number > 0'
    >>> expected_of({"type": "enum", "loc": ("x",), "msg": "Input should be 'a' or 'b'"})
    "'a' or 'b'"
    """
    kind, msg, ctx = error.get("type", ""), str(error.get("msg", "")), error.get("ctx") or {}
    loc = tuple(error.get("loc", ()))
    if kind in _COMPARISONS and _COMPARISONS[kind][0] in ctx:
        key, sign = _COMPARISONS[kind]
        bound = ctx[key]
        integer = _is_integer_field(model, loc) if model is not None else isinstance(bound, int) and not isinstance(bound, bool)
        return f"{'an integer' if integer else 'a number'} {sign} {bound:g}"
    if kind in _KINDS:
        return _KINDS[kind]
    for prefix in ("Value error, ", "Input should be "):
        if msg.startswith(prefix):
            return msg[len(prefix):]
    return msg


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
