"""The readable-message layer of mast.sourcemap that framework loading relies on."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationError

from mast.sourcemap import parse_text, problems_from_validation


class _Union(BaseModel):
    model_config = ConfigDict(extra="forbid")

    x: int | list[int]
    y: int | None = None


def _problems(text: str) -> list[str]:
    doc = parse_text(text, "u.yaml")
    try:
        _Union.model_validate(doc.data)
    except ValidationError as exc:
        return [str(p) for p in problems_from_validation(doc, exc)]
    raise AssertionError("validated")


def test_union_alternatives_collapse_to_one_line_per_field():
    assert _problems("x: abc\ny: [1]\n") == [
        "u.yaml:1:4: x: expected a number, got 'abc'; or expected a list, got 'abc'",
        "u.yaml:2:4: y: expected a number, got a list",
    ]


def test_missing_and_unknown_fields_stay_separate():
    assert _problems("z: 1\nw: 2\n") == [
        "u.yaml:1:1: missing required field 'x'",
        "u.yaml:1:1: unknown field 'z'",
        "u.yaml:2:1: unknown field 'w'",
    ]


def test_key_positions_in_nested_flow_mappings():
    line = "  - {b: 1,  c: 2}"
    doc = parse_text(f"a:\n{line}\n", "k.yaml")
    key, value = line.index("c") + 1, line.index("2") + 1
    assert doc.key_position(("a", 0, "c")) == (2, key)
    assert doc.position(("a", 0, "c")) == (2, value)
    assert doc.sub(("a", 0)).key_position(("c",)) == (2, key)
