"""The one path writer of the reference's ``set`` (mapping._set)."""

from __future__ import annotations

from typing import Any

import pytest

from transformer._errors import InstrumentationError
from transformer.mapping import UNDEFINED, SetFlavour, js_set, stringify

INTEGRATIONS_LIB = SetFlavour.INTEGRATIONS_LIB


def written(path: str, value: Any = 1, target: Any = None,
            flavour: SetFlavour = SetFlavour.SET_VALUE) -> Any:
    doc = {} if target is None else target
    js_set(doc, path, value, flavour)
    return doc


@pytest.mark.parametrize(("path", "expected"), [
    ("a", {"a": 1}),
    ("a.b.c", {"a": {"b": {"c": 1}}}),
    ("a\\.b", {"a.b": 1}),
    ("a\\\\b", {"a\\b": 1}),
    ("a\\", {"aundefined": 1}),
    ("e/f.g", {"e/f.g": 1}),
    ("ud[em]", {"ud[em]": 1}),
    ("a[0].b", {"a[0]": {"b": 1}}),
    ("12", {"12": 1}),
    (" 7 ", {"7": 1}),
    ("1e3", {"1000": 1}),
    ("a..b", {"a": {"": {"b": 1}}}),
    (".l", {"": {"l": 1}}),
    ("a.", {"a": 1}),
])
def test_paths_split_as_set_value_does(path: str, expected: Any) -> None:
    """Dots nest, a backslash escapes (a trailing one appends "undefined"), a "/" path and a
    bracket are plain key text, and integral parts print as JavaScript numbers."""
    assert written(path) == expected


def test_number_parts_make_arrays_with_holes() -> None:
    """A number after a key makes an array, grown with holes JSON prints as null."""
    doc = written("a.2.b", "x")
    assert doc == {"a": [UNDEFINED, UNDEFINED, {"b": "x"}]}
    assert stringify(doc) == '{"a":[null,null,{"b":"x"}]}'
    assert written("a.0", 5, {"a": [1, 2]}) == {"a": [5, 2]}
    assert written("a.3", 5, {"a": [1]}) == {"a": [1, UNDEFINED, UNDEFINED, 5]}


def test_number_part_replaces_an_object_with_an_array() -> None:
    """set-value makes a fresh array under a key whose value is not one, even an object."""
    assert written("a.0", 1, {"a": {"keep": True}}) == {"a": [1]}


def test_non_objects_on_the_way_are_overwritten() -> None:
    """A scalar, null or hole on the way becomes an object; an existing object is kept."""
    assert written("a.b", 1, {"a": "text"}) == {"a": {"b": 1}}
    assert written("a.b", 1, {"a": None}) == {"a": {"b": 1}}
    assert written("a.b", 1, {"a": {"c": 2}}) == {"a": {"c": 2, "b": 1}}
    assert written("a.1.b", 1, {"a": [0, UNDEFINED]}) == {"a": [0, {"b": 1}]}
    assert written("a", {"new": 1}, {"a": 5}) == {"a": {"new": 1}}


def test_names_and_negative_indexes_on_arrays_are_lost() -> None:
    """A name or a negative number on an array is a property JSON does not print."""
    assert written("a.x", 1, {"a": [1]}) == {"a": [1]}
    assert written("a.-1", 1, {"a": [1]}) == {"a": [1]}
    assert written("a.x.y", 1, {"a": [1]}) == {"a": [1]}


def test_an_absurd_index_is_dropped() -> None:
    """An index far past the array's end is not allocated (nor one past JavaScript's last)."""
    assert written("a.99999999", 1) == {"a": []}
    assert written("a.10000", 1)["a"][-1] == 1
    assert written("a.4294967295", 1) == {"a": []}


def test_undefined_deletes() -> None:
    """An undefined value deletes the key, or leaves a hole in an array."""
    assert written("a.b", UNDEFINED, {"a": {"b": 1, "c": 2}}) == {"a": {"c": 2}}
    assert written("a.0", UNDEFINED, {"a": [1, 2]}) == {"a": [UNDEFINED, 2]}
    assert written("a.5", UNDEFINED, {"a": [1]}) == {"a": [1]}
    assert written("x", UNDEFINED, {"x": 1}) == {}


def test_an_array_target_is_indexed() -> None:
    """The target itself may be an array."""
    assert written("1.a", 1, []) == [UNDEFINED, {"a": 1}]


def test_nothing_is_written_without_a_path_or_an_object() -> None:
    """An empty path, or a target that is not an object or array, is left alone."""
    assert written("") == {}
    text = "text"
    js_set(text, "a", 1)
    js_set(None, "a", 1)


@pytest.mark.parametrize("path", ["__proto__", "constructor", "a.prototype", "a.constructor.b",
                                  "\\constructor"])
def test_set_value_refuses_unsafe_keys(path: str) -> None:
    """set-value fails on a part naming the prototype, wherever it is."""
    with pytest.raises(InstrumentationError, match='Cannot set unsafe key: "'):
        written(path)


@pytest.mark.parametrize("path", ["__proto__", "constructor.prototype.x", "a.constructor.b"])
def test_integrations_lib_writes_unsafe_paths_flat(path: str) -> None:
    """integrations-lib writes a path with an unsafe part as one flat key."""
    assert written(path, 1, {"a": {}}, INTEGRATIONS_LIB) == {"a": {}, path: 1}


def test_flavours_agree_on_safe_paths() -> None:
    """Only unsafe parts tell the flavours apart."""
    for path in ("a.b", "a.0.b", "a\\.b", "x/y.z", "1"):
        assert written(path, 2, flavour=INTEGRATIONS_LIB) == written(path, 2)
