"""Returned values: anything that is not a JSON document is refused with its path."""

from __future__ import annotations

import pytest

from sandbox import InvalidOutput, OutputProblem, WorkerPool
from tests.sandbox.conftest import assert_healthy, function, run_one


@pytest.mark.parametrize(("body", "problem", "path"), [
    ("    return {'a': float('nan')}\n", OutputProblem.NOT_FINITE, "$.a"),
    ("    return [1, [2, float('inf')]]\n", OutputProblem.NOT_FINITE, "$[1][1]"),
    ("    return {'a': None, 'b': -float('inf')}\n", OutputProblem.NOT_FINITE, "$.b"),
    ("    return {'tags': {1, 2}}\n", OutputProblem.NOT_JSON_TYPE, "$.tags"),
    ("    return frozenset([1])\n", OutputProblem.NOT_JSON_TYPE, "$"),
    ("    return {'raw': b'bytes'}\n", OutputProblem.NOT_JSON_TYPE, "$.raw"),
    ("    return {'when': datetime.datetime(2024, 1, 1)}\n", OutputProblem.NOT_JSON_TYPE, "$.when"),
    ("    return {'gen': (x for x in [1])}\n", OutputProblem.NOT_JSON_TYPE, "$.gen"),
    ("    return {'f': transformEvent}\n", OutputProblem.NOT_JSON_TYPE, "$.f"),
    ("    return {'o': object()}\n", OutputProblem.NOT_JSON_TYPE, "$.o"),
    ("    a = []\n    a.append(a)\n    return a\n", OutputProblem.CYCLE, "$[0]"),
    ("    d = {'x': {}}\n    d['x']['back'] = d\n    return d\n", OutputProblem.CYCLE, "$.x.back"),
    ("    return {1: 'one'}\n", OutputProblem.NON_STRING_KEY, "$"),
    ("    return {'k': {(1, 2): 'pair'}}\n", OutputProblem.NON_STRING_KEY, "$.k"),
    ("    return {'big': 2 ** 70}\n", OutputProblem.INTEGER_RANGE, "$.big"),
    ("    v = []\n    for i in range(300):\n        v = [v]\n    return v\n", OutputProblem.TOO_DEEP,
     "$" + "[0]" * 254),
    ("    return {'s': chr(0xD800)}\n", OutputProblem.INVALID_STRING, "$.s"),
])
def test_values_that_are_not_json_are_refused(pool: WorkerPool, body: str, problem: OutputProblem,
                                              path: str) -> None:
    """NaN, infinities, sets, bytes, datetimes, functions, cycles and non-string keys are refused."""
    result = run_one(pool, "import datetime\n" + function(body))
    assert isinstance(result.error, InvalidOutput), result
    assert (result.error.problem, result.error.path) == (problem, path)
    assert_healthy(pool)


def test_json_values_come_back_unchanged(pool: WorkerPool) -> None:
    """Ordinary values, including nulls that are not NaN, tuples and unicode, round-trip."""
    body = ("    return {'n': None, 't': True, 'i': -2 ** 63, 'u': 2 ** 64 - 1, 'f': 1.5, 's': 'ü\\u2603',\n"
            "            'l': [None, (1, 2)], 'nested': {'null': None}}\n")
    assert run_one(pool, function(body)).value == {
        "n": None, "t": True, "i": -2 ** 63, "u": 2 ** 64 - 1, "f": 1.5, "s": "ü\u2603", "l": [None, [1, 2]],
        "nested": {"null": None}}


def test_returning_none_is_a_valid_null(pool: WorkerPool) -> None:
    """None (a dropped event, for transformations) comes back as JSON null."""
    result = run_one(pool, function("    return None\n"))
    assert result.ok and result.output == b"null"
