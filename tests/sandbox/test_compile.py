"""Restricted compilation: positioned errors and required entry points."""

from __future__ import annotations

import pytest

from sandbox import CompileError, MissingEntryPoint, SandboxError, compile_function


def test_compile_returns_the_top_level_functions() -> None:
    """A valid source compiles and lists its top-level function names."""
    code = compile_function("import json\ndef transformEvent(e, m):\n    return e\ndef helper():\n    pass\n",
                            "acme/fn", entry_points=["transformEvent"])
    assert code.functions == {"transformEvent", "helper"}
    assert code.defines("transformEvent") and not code.defines("transformBatch")
    assert code.filename == "acme/fn"


def test_syntax_error_has_line_and_column() -> None:
    """A syntax error reports its 1-based line and column."""
    with pytest.raises(CompileError) as caught:
        compile_function("x = 1\ndef f(:\n    pass\n", "fn")
    assert (caught.value.line, caught.value.column) == (2, 7)
    assert "SyntaxError" in caught.value.message


def test_restricted_python_violation_has_line_and_column() -> None:
    """Access to a dunder attribute is refused at compile time with its position."""
    with pytest.raises(CompileError) as caught:
        compile_function("def f(e, m):\n    return e.__class__\n", "fn")
    assert (caught.value.line, caught.value.column) == (2, 12)
    assert "__class__" in str(caught.value)


def test_every_violation_is_reported() -> None:
    """All violations are listed in order, the first one being the error's own position."""
    source = "def f(e, m):\n    a = e._private\n    b = exec('1')\n    return e.__dict__\n"
    with pytest.raises(CompileError) as caught:
        compile_function(source, "fn")
    assert [issue.line for issue in caught.value.issues] == [2, 3, 4]
    assert caught.value.line == 2


def test_column_counts_characters_not_bytes() -> None:
    """The column is in characters even when the line holds multi-byte characters."""
    with pytest.raises(CompileError) as caught:
        compile_function('é = "ü"; y = é._x\n', "fn")
    assert caught.value.column == 14


def test_return_outside_a_function_is_a_compile_error() -> None:
    """Errors raised by the final compile step are positioned too."""
    with pytest.raises(CompileError) as caught:
        compile_function("x = 1\nreturn x\n", "fn")
    assert caught.value.line == 2


def test_missing_entry_point_is_reported_by_name() -> None:
    """A required top-level function that is absent raises MissingEntryPoint."""
    with pytest.raises(MissingEntryPoint) as caught:
        compile_function("def transformBatch(events, m):\n    return events\n", "fn", ["transformEvent"])
    assert caught.value.name == "transformEvent"
    assert isinstance(caught.value, CompileError) and isinstance(caught.value, SandboxError)


def test_a_single_entry_point_name_is_not_split_into_letters() -> None:
    """Passing one name as a string requires that name."""
    assert compile_function("def go(e, m):\n    return e\n", "fn", "go").defines("go")


def test_null_bytes_are_a_compile_error() -> None:
    """Source the parser refuses outright is still a CompileError."""
    with pytest.raises(CompileError):
        compile_function("x = 1\0\n", "fn")
