"""JSON in and out, strictly by RFC 8259, with every problem placed at its line and column.

Reading (:func:`parse_json_text`, :func:`read_json_file`)
    * UTF-8, with or without a byte-order mark (as the CSV datasets);
    * no duplicate keys in an object (RFC 8259 §4: names SHOULD be unique; a
      later key silently replacing an earlier one hides a typo, so it is an error
      naming the key);
    * no bare ``NaN``, ``Infinity`` or ``-Infinity`` (not JSON) and no number that
      overflows a double (``1e400``);
    * a document nested too deep for the parser (a 100,000-deep array exhausts
      its recursion) is reported at the place its nesting passes
      :data:`MAX_JSON_DEPTH` (no sfm document needs more than 5 levels).

    The fast C parser reads the document; only when it fails does a small
    token scanner (:func:`_scan`) walk the text again to name the line and column.

Writing (:func:`finite_json_dumps`)
    Non-finite floats become ``null`` and each is listed, with its place and
    reason, under the document's ``"null_reasons"`` key; the text is produced
    with ``allow_nan=False`` so a bare ``Infinity``/``NaN`` can never be written.
"""

from __future__ import annotations

import json
import math
import os
import re
import types
import typing
from pathlib import Path
from typing import Any, Iterator

from .validation import DataValidationError, Problem

#: Deepest nesting of arrays and objects accepted in an input document.
MAX_JSON_DEPTH: int = 64

_TOKEN = re.compile(
    r'(?P<str>"(?:[^"\\]|\\.)*")(?P<colon>\s*:)?'
    r"|(?P<open>[\[{])|(?P<close>[\]}])"
    r"|(?P<num>-?(?:\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?)"
    r"|(?P<const>-?Infinity|NaN|true|false|null)",
    re.S,
)


class _Frame:
    __slots__ = ("is_object", "keys", "index", "path")

    def __init__(self, is_object: bool, path: tuple) -> None:
        self.keys: set[str] = set()
        self.is_object, self.index, self.path = is_object, 0, path


def _scan(text: str) -> Iterator[tuple[str, tuple, int, object]]:
    """Walk JSON text, yielding ``(event, path, offset, detail)`` for keys, values and nesting.

    Events: ``"key"`` (detail: the key; ``"duplicate"`` when repeated in its object),
    ``"value"`` (a scalar's token text), ``"open"`` (detail: the depth reached).
    """
    stack: list[_Frame] = []
    pending: tuple | None = None  # path of the value that follows a key

    def value_path() -> tuple:
        nonlocal pending
        if pending is not None:
            p, pending = pending, None
            return p
        if stack and not stack[-1].is_object:
            top = stack[-1]
            top.index += 1
            return top.path + (top.index - 1,)
        return ()

    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if m.group("str") is not None and m.group("colon") is not None and stack and stack[-1].is_object:
            try:
                key = json.loads(m.group("str"))
            except ValueError:
                key = m.group("str")[1:-1]
            top = stack[-1]
            yield ("duplicate" if key in top.keys else "key"), top.path + (key,), m.start(), key
            top.keys.add(key)
            pending = top.path + (key,)
        elif kind == "open":
            path = value_path()
            stack.append(_Frame(m.group("open") == "{", path))
            yield "open", path, m.start(), len(stack)
        elif kind == "close":
            if stack:
                stack.pop()
        else:
            yield "value", value_path(), m.start(), m.group(0)


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _dotted(path: tuple) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def locate(text: str, path: tuple) -> tuple[int, int] | None:
    """Line and column (1-based) where the value at ``path`` (or its key) is written, or None."""
    path = tuple(path)
    for event, p, offset, _ in _scan(text):
        if p == path and event in ("key", "duplicate", "value", "open"):
            return _line_col(text, offset)
    return None


def _short(value: object) -> object:
    return value[:40] + f"... ({len(value):,} characters)" if isinstance(value, str) and len(value) > 48 else value


def _problem(file: str, text: str, offset: int, column: str | None, value: object, expected: str) -> Problem:
    line, col = _line_col(text, offset)
    value = _short(value)
    return Problem(file, line, column, value, f"{expected} (line {line}, character {col})", "line")


def _structural_problems(text: str, file: str) -> list[Problem]:
    """Duplicate keys, non-finite numbers and excess depth, each at its line and column."""
    problems: list[Problem] = []
    for event, path, offset, detail in _scan(text):
        if event == "duplicate":
            problems.append(_problem(file, text, offset, _dotted(path), detail,
                                     f"each key once in an object (duplicate key '{detail}')"))
        elif event == "value" and isinstance(detail, str):
            if detail in ("NaN", "Infinity", "-Infinity"):
                problems.append(_problem(file, text, offset, _dotted(path), detail,
                                         "a finite number (NaN and Infinity are not JSON)"))
            elif detail[:1] in "-0123456789" and not math.isfinite(float(detail)):
                problems.append(_problem(file, text, offset, _dotted(path), detail,
                                         "a number within the range of a double (about 1.8e308)"))
        elif event == "open" and detail == MAX_JSON_DEPTH + 1:
            problems.append(_problem(file, text, offset, _dotted(path[:8]) + ("..." if len(path) > 8 else ""), None,
                                     f"arrays and objects nested at most {MAX_JSON_DEPTH} deep"))
            break
        if len(problems) >= 200:
            break
    return problems


class _Reject(ValueError):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        raise _Reject("duplicate key")
    return d


def _const(name: str) -> float:
    raise _Reject(name)


def _float(s: str) -> float:
    x = float(s)
    if not math.isfinite(x):
        raise _Reject(s)
    return x


def parse_json_text(text: str, file: str) -> Any:
    """Parse JSON text strictly (see the module docstring); raise DataValidationError naming line and column."""
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        return json.loads(text, object_pairs_hook=_pairs, parse_constant=_const, parse_float=_float)
    except json.JSONDecodeError as exc:
        raise DataValidationError([Problem(file, exc.lineno, None, None,
                                           f"valid JSON ({exc.msg}, line {exc.lineno}, character {exc.colno})",
                                           "line")]) from None
    except (_Reject, RecursionError, ValueError):
        # ValueError: also an integer of more than 4,300 digits (Python's int_max_str_digits).
        problems = _structural_problems(text, file)
        if not problems:
            problems = [Problem(file, None, None, None, "valid JSON with numbers of at most 4,300 digits")]
        raise DataValidationError(problems) from None


def read_json_file(path: str | os.PathLike[str], what: str, max_bytes: int | None = None) -> tuple[Any, str]:
    """Read and strictly parse a JSON file; returns ``(document, text)`` (the text, to locate later problems)."""
    p = Path(path)
    if not p.is_file():
        raise DataValidationError([Problem(str(p), None, None, None, f"{what} that exists")])
    if max_bytes is not None and p.stat().st_size > max_bytes:
        raise DataValidationError([Problem(str(p), None, None, f"{p.stat().st_size:,} bytes",
                                           f"a file of at most {max_bytes:,} bytes")])
    data = p.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataValidationError([Problem(str(p), line, None, repr(data[exc.start: exc.start + 4]),
                                           "UTF-8 text", "line")]) from None
    return parse_json_text(text, str(p)), text


# -- booleans where numbers are expected ---------------------------------------

def _unwrap(annotation: Any) -> list[Any]:
    """The alternatives of an annotation (``X | None`` → ``[X, NoneType]``), Annotated stripped."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [a for arg in typing.get_args(annotation) for a in _unwrap(arg)]
    return [annotation]


def boolean_problems(doc: Any, model: type, file: str, text: str | None = None, path: tuple = ()) -> list[Problem]:
    """Every ``true``/``false`` in ``doc`` where the pydantic ``model`` expects no boolean.

    Pydantic's lax mode reads ``true`` as 1 for an integer or number field
    (``"horizon": true`` would run one round); a boolean is accepted only where
    the field's annotation says ``bool``.
    """
    problems: list[Problem] = []

    def bad(p: tuple, v: bool, expected: str) -> None:
        where = locate(text, p) if text is not None else None
        line = where[0] if where else None
        suffix = f" (line {where[0]}, character {where[1]})" if where else ""
        problems.append(Problem(file, line, _dotted(p), v, f"{expected}, not true/false{suffix}",
                                "line" if line else "record"))

    def walk(value: Any, annotation: Any, p: tuple) -> None:
        alts = _unwrap(annotation)
        if isinstance(value, bool):
            if bool not in alts and Any not in alts:
                names = sorted({getattr(a, "__name__", str(a)) for a in alts if a is not type(None)})
                bad(p, value, "a " + " or ".join(n.replace("float", "number").replace("int", "whole number")
                                                  for n in names))
            return
        for alt in alts:
            origin = typing.get_origin(alt)
            if isinstance(alt, type) and hasattr(alt, "model_fields") and isinstance(value, dict):
                for k, v in value.items():
                    if k in alt.model_fields:
                        walk(v, alt.model_fields[k].annotation, p + (k,))
                return
            if origin is dict and isinstance(value, dict):
                vt = typing.get_args(alt)[1] if typing.get_args(alt) else Any
                for k, v in value.items():
                    walk(v, vt, p + (k,))
                return
            if origin in (list, tuple) and isinstance(value, list):
                args = typing.get_args(alt)
                et = args[0] if args else Any
                for i, v in enumerate(value):
                    walk(v, et, p + (i,))
                return

    walk(doc, model, path)
    return problems


# -- writing ---------------------------------------------------------------------

def finite_json_dumps(doc: Any, **kwargs: Any) -> str:
    """``json.dumps`` that never writes ``NaN``/``Infinity``: such floats become null, each with a reason.

    The reasons go to ``doc["null_reasons"]`` (a list of ``{"where", "value", "reason"}``)
    when ``doc`` is a dict; the text is strict RFC 8259 JSON.
    """
    reasons: list[dict[str, str]] = []

    def clean(x: Any, p: tuple) -> Any:
        if isinstance(x, float) and not math.isfinite(x):
            reasons.append({"where": _dotted(p), "value": repr(x),
                            "reason": "not a finite number (an overflow or a ratio with a zero denominator); "
                                      "JSON has no Infinity or NaN"})
            return None
        if isinstance(x, dict):
            return {k: clean(v, p + (k,)) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v, p + (i,)) for i, v in enumerate(x)]
        return x

    out = clean(doc, ())
    if reasons and isinstance(out, dict):
        out["null_reasons"] = list(out.get("null_reasons") or []) + reasons
    return json.dumps(out, allow_nan=False, **kwargs)


__all__ = ["MAX_JSON_DEPTH", "parse_json_text", "read_json_file", "locate", "boolean_problems", "finite_json_dumps"]
