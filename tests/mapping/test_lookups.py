"""The constructPayload sources get_value and multiply, and the paths a table reads."""

from __future__ import annotations

from typing import Any

import pytest

from transformer._errors import InstrumentationError
from transformer.mapping import (
    CompileEnv,
    Context,
    Problems,
    Table,
    compile_object,
    compile_value,
    load_aliases,
    source_paths,
)

ENV = CompileEnv(aliases=load_aliases(), hooks={})
EVENT: dict[str, Any] = {
    "properties": {"price": "2.5", "quantity": 4, "empty": "", "zero": 0, "off": False,
                   "word": "abc", "null": None},
    "a.b": {"c": "joined"},
}


def value(spec: Any, message: Any = EVENT) -> Any:
    problems = Problems()
    source = compile_value(spec, ENV, "f", problems)
    assert not problems, problems
    return source(Context(message=message))


def problems_of(spec: Any) -> list[str]:
    problems = Problems()
    compile_value(spec, ENV, "f", problems)
    return list(problems)


def test_get_value_reads_as_npm_get_value() -> None:
    """One path finds a key holding dots, and a document that is no object answers itself."""
    assert value({"get_value": "a.b.c"}) == "joined"
    assert value({"path": "a.b.c"}) is None
    assert value({"get_value": "product_id"}, "a string product") == "a string product"
    assert value({"get_value": "properties.empty", "keep": "empty"}) == ""


def test_get_value_list_takes_the_first_present_value() -> None:
    """A list skips null, missing and "" values but keeps 0 and false, else is null."""
    assert value({"get_value": ["properties.null", "properties.empty", "properties.zero"]}) == 0
    assert value({"get_value": ["properties.missing", "properties.off"]}) is False
    assert value({"get_value": ["properties.null", "properties.empty"],
                  "default_nullish": "d"}) == "d"


def test_get_value_list_may_hold_fields() -> None:
    """A field in the list is a computed source key, tried in its turn."""
    spec = {"get_value": ["properties.missing", {"value": "computed"}, "properties.word"]}
    assert value(spec) == "computed"


def test_get_value_required_names_its_source_keys() -> None:
    """The required error shows the source keys as the reference's JSON does."""
    with pytest.raises(InstrumentationError, match=r'from \["properties.x","properties.y"\]$'):
        value({"get_value": ["properties.x", "properties.y"], "required": True})


@pytest.mark.parametrize(("factors", "expected"), [
    (["properties.price", "properties.quantity"], 10),
    (["properties.price", {"get_value": "properties.missing", "default": 3}], 7.5),
    (["properties.price", {"get_value": "properties.empty", "default": 2}], 5),
    (["properties.price", "properties.missing"], None),
    (["properties.price", "properties.word"], None),
    (["properties.price", "properties.off"], None),
    (["properties.zero", "properties.quantity"], 0),
])
def test_multiply_is_the_reference_multiplication(factors: list[Any], expected: Any) -> None:
    """Numbers and decimal strings multiply; an absent or non-numeric factor makes it absent."""
    assert value({"multiply": factors}) == expected


@pytest.mark.parametrize(("spec", "problem"), [
    ({"get_value": []}, "expected a dotted path or a non-empty list"),
    ({"get_value": 3}, "expected a dotted path or a non-empty list"),
    ({"multiply": "properties.price"}, "expected a non-empty list of paths and fields"),
    ({"multiply": ["a", {"path": "b", "type": "nope"}]}, "f.multiply[1].type: unknown type"),
])
def test_invalid_arguments_are_reported(spec: dict[str, Any], problem: str) -> None:
    """Arguments, and the fields inside them, are validated when the destination loads."""
    assert any(problem in p for p in problems_of(spec))


def test_source_paths_are_the_path_and_get_value_sources_of_a_table() -> None:
    """The string paths of each field's path/get_value source, in order; fields in lists and
    other sources are not listed."""
    table = {"a": {"get_value": ["properties.x", {"multiply": ["properties.p"]}, "y"]},
             "b": {"path": "context.z"}, "c": {"config": "k"}, "d": "constant",
             "e": {"generic": "userId"}}
    assert source_paths(table) == ("properties.x", "y", "context.z")


def test_context_reports_a_tables_paths() -> None:
    """ctx.table_paths names what a Table reads; a plain object mapping reads nothing known."""
    spec = {"id": {"get_value": "properties.price"}}
    problems = Problems()
    build = compile_object(spec, ENV, "t", problems)
    ctx = Context(message=EVENT, tables={"t": Table(build, source_paths(spec)), "plain": build})
    assert ctx.build("t") == {"id": "2.5"}
    assert ctx.table_paths("t") == ("properties.price",)
    assert ctx.table_paths("plain") == ()
