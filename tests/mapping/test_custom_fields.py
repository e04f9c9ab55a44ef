"""The custom_fields source: the reference's extractCustomFields in a mapping."""

from __future__ import annotations

from typing import Any

import pytest

from transformer.mapping import CompileEnv, Context, Problems, compile_value, load_aliases

ENV = CompileEnv(aliases=load_aliases(), hooks={})


def value(spec: Any, message: dict[str, Any]) -> Any:
    problems = Problems()
    source = compile_value(spec, ENV, "f", problems)
    assert not problems, problems
    return source(Context(message=message))


def test_every_other_key_of_the_objects_later_ones_winning() -> None:
    """Excluded keys are left out; a key of a later object replaces an earlier one's."""
    message = {"traits": {"email": "e", "plan": "a", "age": 3},
               "context": {"traits": {"plan": "b", "city": "c"}}}
    spec = {"custom_fields": {"from": ["traits", "context.traits"], "exclude": ["email"]}}
    assert value(spec, message) == {"plan": "b", "age": 3, "city": "c"}


def test_paths_are_read_as_get_value_and_keys_written_as_set_value() -> None:
    """A key holding dots nests (integrations-lib's setValue); a missing object adds nothing."""
    message = {"properties.x": {"a.b": 1}}
    assert value({"custom_fields": {"from": "properties.x"}}, message) == {"a": {"b": 1}}
    assert value({"custom_fields": {"from": "properties"}}, {}) == {}


@pytest.mark.parametrize(("arg", "problem"), [
    ("traits", "expected a mapping with from"),
    ({"exclude": ["a"]}, "from: expected a dotted path"),
    ({"from": "traits", "exclude": "a"}, "exclude: expected a list of keys"),
    ({"from": "traits", "on": 1}, "unknown key 'on'"),
])
def test_invalid_arguments_are_reported(arg: Any, problem: str) -> None:
    """The argument is validated when the destination loads."""
    problems = Problems()
    compile_value({"custom_fields": arg}, ENV, "f", problems)
    assert any(problem in p for p in problems)
