"""get-value lookups compiled per path (mapping._get_value) answer as js_get does."""

from __future__ import annotations

from typing import Any

import pytest

from transformer.mapping import UNDEFINED, compile_get_value, get_value, js_get

DOCS: list[Any] = [
    {"a": {"b": {"c": 1}}},
    {"a": {"b": None}},
    {"a": None},
    {"a": "text"},
    {"a.b": {"c": 2}},
    {"a": {"b.c": 3}},
    {"a.b.c": 4, "a": {"b": {"c": 5}}},
    {"a": [{"b": {"c": 6}}]},
    {"a": {"b": [7, {"c": 8}]}},
    {"a": {"b": {"c": 0}}, "x": False},
    {},
    [{"b": 9}],
    "plain",
    None,
    42,
]
PATHS = ["a", "a.b", "a.b.c", "a.0.b", "a.b.1.c", "a.b.c.d", "x", "0.b"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("doc", DOCS)
def test_compiled_lookup_matches_get_value(path: str, doc: Any) -> None:
    """Every compiled shape (one, two, three and more keys) answers as js_get."""
    assert compile_get_value(path)(doc) == js_get(doc, path, UNDEFINED)
    assert compile_get_value(path, None)(doc) == js_get(doc, path)


def test_missing_value_is_the_given_marker() -> None:
    """A path that leads nowhere is UNDEFINED by default, or the ``missing`` given."""
    assert compile_get_value("a.b")({"a": {}}) is UNDEFINED
    assert compile_get_value("a.b", None)({"a": {}}) is None


def test_joined_key_wins_as_get_value_retries() -> None:
    """A key holding the dots ("a.b") is found where the nested walk fails."""
    assert compile_get_value("a.b.c")({"a.b": {"c": 2}}) == 2
    assert compile_get_value("a.b")({"a.b": 1, "a": {"b": 2}}) == 1


@pytest.mark.parametrize(("path", "expected"), [
    (1, "one"), (1.0, "one"), (None, {"1": "one"}), (True, {"1": "one"}), ("2", UNDEFINED),
])
def test_get_value_path_types(path: Any, expected: Any) -> None:
    """A number path is its string; any other non-string path gives the target itself."""
    assert get_value({"1": "one"}, path) == expected
