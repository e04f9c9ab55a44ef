"""Expected results: each event's actual result compared with what its author expects, as a diff.

An expected entry names the fields it checks (``statusCode``, ``output``, ``error``, ``logs``);
fields it leaves out are not compared, and ``elapsed_ms`` never is, so ``--json`` output can serve
as the expected file.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from ._errors import InputError
from ._results import FunctionRun

COMPARED = ("statusCode", "output", "error", "logs")
_IGNORED = frozenset({"elapsed_ms"})


@dataclass(frozen=True, slots=True)
class Mismatch:
    """Event ``index`` (0-based) differs from its expected result; ``diff`` is a unified diff."""

    index: int
    diff: str


def compare(run: FunctionRun, expected: Sequence[dict[str, Any]], source: str = "expected") -> list[Mismatch]:
    """The events whose result differs from ``expected`` (one entry per event, in order)."""
    if len(expected) != len(run.results):
        raise InputError(f"{source}: has {len(expected)} expected results for {len(run.results)} events")
    mismatches = []
    for index, (want, result) in enumerate(zip(expected, run.results, strict=True)):
        unknown = sorted(set(want) - set(COMPARED) - _IGNORED)
        if unknown:
            raise InputError(f"{source}: result {index + 1} has unknown field(s) {', '.join(unknown)}; "
                             f"known: {', '.join(COMPARED)}")
        actual = result.to_json()
        keys = [key for key in COMPARED if key in want]
        wanted = {key: want[key] for key in keys}
        got = {key: actual[key] for key in keys}
        if _canonical(wanted) != _canonical(got):
            mismatches.append(Mismatch(index, _diff(wanted, got, index)))
    return mismatches


def _canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2)


def _diff(wanted: dict[str, Any], got: dict[str, Any], index: int) -> str:
    lines = difflib.unified_diff(
        _canonical(wanted).decode().splitlines(), _canonical(got).decode().splitlines(),
        fromfile=f"expected (event {index + 1})", tofile=f"actual (event {index + 1})", lineterm="")
    return "\n".join(lines)
