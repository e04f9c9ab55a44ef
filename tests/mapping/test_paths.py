"""Dotted-path helpers shared by the mapping compiler and destination hooks (mapping._paths)."""

from __future__ import annotations

from typing import Any

import pytest

from transformer import hooks
from transformer.mapping import (
    add_external_id_to_traits,
    path_get,
    path_keys,
    set_dotted,
    split_set_value_path,
)
from transformer.mapping._paths import compile_path


def test_path_keys_splits_and_caches() -> None:
    keys = path_keys("context.externalId.0.id")
    assert keys == (("context", None), ("externalId", None), ("0", 0), ("id", None))
    assert path_keys("context.externalId.0.id") is keys


@pytest.mark.parametrize(("doc", "path", "expected"), [
    ({"a": {"b": 1}}, "a.b", 1),
    ({"a": [{"id": "x"}]}, "a.0.id", "x"),
    ({"a": {"0": "key"}}, "a.0", "key"),
    ({"a": [1]}, "a.1", None),
    ({"a": [1]}, "a.x", None),
    ({"a": None}, "a.b", None),
    ({"a": "text"}, "a.length", None),
    ({"a": False}, "a", False),
    ({"a": 0}, "a", 0),
    ("not a dict", "a", None),
    (None, "a", None),
])
def test_path_get(doc: Any, path: str, expected: Any) -> None:
    assert path_get(doc, path) == expected
    assert path_get(doc, path) == compile_path(path)(doc)


def test_exported_to_hooks() -> None:
    assert hooks.path_get is path_get
    assert hooks.path_keys is path_keys


def test_set_dotted_nests_and_replaces_non_objects() -> None:
    doc: dict[str, Any] = {"a": 1, "b": {"keep": True}}
    set_dotted(doc, "a.x", 2)
    set_dotted(doc, "b.c.d", 3)
    set_dotted(doc, "plain", None)
    assert doc == {"a": {"x": 2}, "b": {"keep": True, "c": {"d": 3}}, "plain": None}
    assert hooks.set_dotted is set_dotted


@pytest.mark.parametrize(("message", "expected_traits", "expected_context"), [
    ({"traits": {"a": 1}, "context": {"externalId": [{"identifierType": "x.y", "id": 7}]}},
     {"a": 1, "x": {"y": 7}}, None),
    ({"traits": {}, "context": {"traits": {"b": 2}, "externalId": [{"identifierType": "k"}]}},
     {}, {"b": 2}),
    ({"traits": None, "context": {"traits": {"b": 2}, "externalId": [{"identifierType": "k",
                                                                        "id": "v"}]}},
     None, {"b": 2, "k": "v"}),
    ({"traits": {"a": 1}, "context": {"externalId": [{"identifierType": "", "id": 7}]}},
     {"a": 1}, None),
    ({"traits": "text", "context": {"externalId": [{"identifierType": "k", "id": 7}]}},
     "text", None),
])
def test_add_external_id_to_traits(message: dict[str, Any], expected_traits: Any,
                                   expected_context: Any) -> None:
    add_external_id_to_traits(message)
    assert message.get("traits") == expected_traits
    assert message["context"].get("traits") == expected_context
    assert hooks.add_external_id_to_traits is add_external_id_to_traits


@pytest.mark.parametrize(("path", "expected"), [
    ("a.b", ["a", "b"]),
    ("a.0.b", ["a", 0, "b"]),
    ("a. 1 .2.0x10.1.5", ["a", 1, 2, 16, 1, 5]),
    ("a\\.b.c", ["a.b", "c"]),
    ("a/b.c", ["a/b.c"]),
    ("a..b", ["a", "", "b"]),
    ("a.", ["a"]),
    ("a.\\", ["a", "undefined"]),
    ("a.-1", ["a", -1]),
    ("a. ", ["a", " "]),
    ("a.1e3.1.5e-1", ["a", 1000, 1, "5e-1"]),
])
def test_split_set_value_path(path: str, expected: list[Any]) -> None:
    assert split_set_value_path(path) == expected
    assert hooks.split_set_value_path is split_set_value_path


def test_split_set_value_path_trailing_escape() -> None:
    assert split_set_value_path("a.\\", trailing_escape="") == ["a"]
    assert split_set_value_path("a.b\\", trailing_escape="") == ["a", "b"]
