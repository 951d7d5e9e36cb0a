"""core.strict_json: strict reading agrees with json.loads on valid documents, names the place of every
refusal, and writing never emits NaN/Infinity (property tests that search)."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.strict_json import MAX_JSON_DEPTH, boolean_problems, finite_json_dumps, locate, parse_json_text
from core.validation import DataValidationError

keys = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6)
finite = st.floats(allow_nan=False, allow_infinity=False)
scalars = st.none() | st.booleans() | st.integers(-10**20, 10**20) | finite | st.text(max_size=8)
documents = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
                         max_leaves=30)


def strict_loads(text: str):
    def refuse(name):
        raise ValueError(name)

    return json.loads(text, parse_constant=refuse)


@settings(max_examples=200, deadline=None)
@given(documents, st.sampled_from([None, 1, 2]))
def test_valid_documents_read_as_json_loads_reads_them(doc, indent):
    text = json.dumps(doc, indent=indent, ensure_ascii=False)
    assert parse_json_text(text, "f.json") == json.loads(text)
    assert parse_json_text("\ufeff" + text, "f.json") == json.loads(text)  # a byte-order mark is accepted


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(keys, scalars, min_size=1, max_size=5), st.data())
def test_a_repeated_key_is_named_at_its_line(doc, data):
    key = data.draw(st.sampled_from(sorted(doc)))
    lines = [f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in doc.items()]
    at = data.draw(st.integers(0, len(lines)))
    lines.insert(at, f"  {json.dumps(key)}: 0,")
    text = "{\n" + "\n".join(lines).rstrip(",") + "\n}"
    with pytest.raises(DataValidationError) as exc:
        parse_json_text(text, "f.json")
    p = exc.value.problems[0]
    assert p.value == key and f"duplicate key '{key}'" in p.expected
    # the line named is the second time the key is written
    first = [i for i, line in enumerate(lines) if line.startswith(f"  {json.dumps(key)}:")]
    assert p.row == first[1] + 2


@settings(max_examples=100, deadline=None)
@given(documents, st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-2E+999"]))
def test_a_non_finite_number_is_refused_where_it_stands(doc, bad):
    marker = '"__not_finite__"'  # longer than any string the strategy draws
    text = json.dumps({"ok": doc, "bad": [1, "NaN Infinity", "__not_finite__"]}, indent=1)
    line = text[: text.index(marker)].count("\n") + 1
    text = text.replace(marker, bad)
    with pytest.raises(DataValidationError) as exc:
        parse_json_text(text, "f.json")
    p = exc.value.problems[0]
    assert p.column == "bad.2" and p.value == bad
    assert p.row == line


def test_nesting_the_parser_can_read_is_accepted():
    assert parse_json_text("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH, "f.json") is not None


@pytest.mark.parametrize("depth", [5_000, 200_000])
def test_nesting_too_deep_for_the_parser_is_refused_with_its_place(depth):
    text = '{"a":\n' + "[" * depth + "]" * depth + "}"
    with pytest.raises(DataValidationError, match=f"nested at most {MAX_JSON_DEPTH} deep") as exc:
        parse_json_text(text, "f.json")
    p = exc.value.problems[0]
    assert p.row == 2 and p.column.startswith("a.0.0")


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.floats() | st.integers() | st.none(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4), max_leaves=30))
def test_writing_never_emits_nan_or_infinity(doc):
    text = finite_json_dumps({"doc": doc})
    out = strict_loads(text)

    def count(x):
        if isinstance(x, float):
            return int(not math.isfinite(x))
        if isinstance(x, dict):
            return sum(count(v) for v in x.values())
        if isinstance(x, list):
            return sum(count(v) for v in x)
        return 0

    assert len(out.get("null_reasons", [])) == count(doc)


def test_locate_names_line_and_character():
    text = '{\n "a": {"b": [1, 2,\n   3]},\n "c": true\n}'
    assert locate(text, ("a", "b", 2)) == (3, 4)
    assert locate(text, ("c",)) == (4, 2)
    assert locate(text, ("missing",)) is None


def test_booleans_only_where_the_model_says_bool():
    from pydantic import BaseModel

    class M(BaseModel):
        n: int = 0
        x: float | None = None
        flag: bool = False
        by_key: dict[str, float] = {}

    text = '{"n": true,\n "x": false, "flag": true,\n "by_key": {"a": 1, "b": true}}'
    problems = boolean_problems(json.loads(text), M, "m.json", text)
    assert [(p.column, p.row) for p in problems] == [("n", 1), ("x", 2), ("by_key.b", 3)]
