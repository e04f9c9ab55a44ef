"""Augmented assignment to items and attributes (``event["n"] += 1``), which RestrictedPython alone
refuses, runs with Python's semantics and stays guarded."""

from __future__ import annotations

import pytest

from sandbox import CompileError, UncaughtError, WorkerPool, compile_function
from tests.sandbox.conftest import function, run_one


def value_of(pool: WorkerPool, body: str, event: object = None, prelude: str = "") -> object:
    result = run_one(pool, prelude + function(body), event)
    assert result.error is None, result.error
    return result.value


@pytest.mark.parametrize(("body", "event", "expected"), [
    ('    event["n"] += 1\n    return event\n', {"n": 1}, {"n": 2}),
    ('    event["a"]["b"] *= 3\n    return event\n', {"a": {"b": 2}}, {"a": {"b": 6}}),
    ('    event["s"] += "!"\n    return event\n', {"s": "hi"}, {"s": "hi!"}),
    ('    event["l"] += [3]\n    return event\n', {"l": [1, 2]}, {"l": [1, 2, 3]}),
    ('    event["l"][0] -= 5\n    return event\n', {"l": [1]}, {"l": [-4]}),
    ('    event["n"] //= 2\n    event["n"] **= 3\n    event["n"] %= 5\n    return event\n',
     {"n": 9}, {"n": 4}),
    ('    event["f"] |= 4\n    event["f"] &= 6\n    event["f"] ^= 1\n    event["f"] <<= 1\n'
     '    event["f"] >>= 2\n    return event\n', {"f": 1}, {"f": 2}),
    ('    l = event["l"]\n    l[1:3] += [9]\n    return l\n', {"l": [1, 2, 3, 4]}, [1, 2, 3, 9, 4]),
    ('    l = event["l"]\n    l[:] *= 2\n    return l\n', {"l": [1]}, [1, 1]),
    ('    l = event["l"]\n    l[0:3:2] *= 1\n    l[::-1] += []\n    return l\n', {"l": [1, 2, 3]}, [1, 2, 3]),
])
def test_item_augmented_assignment_works(pool: WorkerPool, body: str, event: object,
                                         expected: object) -> None:
    """Items of dicts and lists, nested items and slices take every augmented operator."""
    assert value_of(pool, body, event) == expected


def test_container_and_key_are_evaluated_once_in_order(pool: WorkerPool) -> None:
    """``c()[k()] += v()`` evaluates c, k, then v, each once (as Python does)."""
    prelude = (
        "order = []\n"
        "def c(d):\n    order.append('c')\n    return d\n"
        "def k():\n    order.append('k')\n    return 'n'\n"
        "def v():\n    order.append('v')\n    return 1\n"
    )
    body = "    del order[:]\n    c(event)[k()] += v()\n    return [event, order]\n"
    assert value_of(pool, body, {"n": 1}, prelude) == [{"n": 2}, ["c", "k", "v"]]


def test_attribute_augmented_assignment_on_user_objects(pool: WorkerPool) -> None:
    """Attributes of the function's own class instances take augmented assignment."""
    prelude = "class Counter:\n    def __init__(self):\n        self.n = 1\n    def bump(self):\n" \
              "        self.n += 2\n        return self.n\n"
    body = "    c = Counter()\n    c.bump()\n    c.n *= 10\n    return c.n\n"
    assert value_of(pool, body, {}, prelude) == 30


def test_missing_key_is_a_key_error_on_the_users_line(pool: WorkerPool) -> None:
    """A missing item raises KeyError, reported at the line of the augmented assignment."""
    result = run_one(pool, function('    x = 1\n    event["missing"] += x\n    return event\n'), {})
    assert isinstance(result.error, UncaughtError)
    assert (result.error.exception_type, result.error.line) == ("KeyError", 3)


def test_guards_still_apply(pool: WorkerPool) -> None:
    """Shared objects stay read-only and items are still read through the guards."""
    result = run_one(pool, "import json\n" + function("    json.dumps += 1\n"))
    assert isinstance(result.error, UncaughtError)
    assert result.error.exception_type == "TypeError"
    result = run_one(pool, "import math\n" + function("    math.pi += 1\n    return math.pi\n"))
    assert isinstance(result.error, UncaughtError) and "cannot set attributes" in result.error.message


@pytest.mark.parametrize("body", [
    "    event._private += 1\n",
    "    event.__class__ += 1\n",
    "    _aug_c1 = event\n",
    "    _aug_v3 += 1\n",
])
def test_underscore_names_are_still_refused(body: str) -> None:
    """Neither private attributes nor the rewrite's own temporary names can be written by users."""
    with pytest.raises(CompileError):
        compile_function(function(body), "fn")


def test_positions_of_other_errors_are_kept() -> None:
    """Code after a rewritten statement is still reported at its own line and column."""
    with pytest.raises(CompileError) as caught:
        compile_function(function('    event["n"] += 1\n    return event.__dict__\n'), "fn")
    assert (caught.value.line, caught.value.column) == (3, 12)
