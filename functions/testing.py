"""Running function files locally in the server's sandbox, for their authors' tests and the CLI.

    with LocalHarness() as harness:
        result = harness.run("enrich.py", [{"type": "track", ...}], settings={"sourceId": "s1"})
    assert result.errors == [] and result.outputs[0]["properties"]["source_id"] == "s1"
    assert_matches(result, "expected.json")

With pytest, the ``run_function`` fixture of the ``transformer`` plugin does the same with the
server's configured limits, one worker pool per session.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._errors import InputError
from ._expect import COMPARED, Mismatch, compare
from ._inputs import (
    FunctionFile,
    check_language,
    default_build_dir,
    read_events,
    read_expected,
    read_function,
    read_settings,
)
from ._local import (
    LOCAL_WORKSPACE,
    LoadedFunction,
    LocalHarness,
    default_events,
    function_name,
    kind_named,
    load_function,
)
from ._results import ERROR_STATUS, EventResult, FunctionRun
from ._samples import SAMPLE_TYPES, sample_event, sample_events
from ._scaffold import SOURCE_SUFFIX, Scaffold, scaffold


def assert_matches(run: FunctionRun, expected: str | Path | Sequence[dict[str, Any]]) -> None:
    """Raise ``AssertionError`` with a unified diff per event unless each event's result matches
    ``expected``: a list with one entry per event (see ``compare``), or a file of them (a relative
    name is looked for beside the function file first)."""
    wanted: Sequence[dict[str, Any]]
    if isinstance(expected, (str, Path)):
        path = Path(expected)
        beside = run.path.parent / path
        if not path.is_absolute() and beside.exists():
            path = beside
        source, wanted = str(path), read_expected(path)
    else:
        source, wanted = "expected", expected
    mismatches = compare(run, wanted, source)
    if mismatches:
        diffs = "\n".join(m.diff for m in mismatches)
        raise AssertionError(f"{len(mismatches)} of {len(run.results)} events differ from {source}:\n{diffs}")


__all__ = [
    "COMPARED",
    "ERROR_STATUS",
    "LOCAL_WORKSPACE",
    "SAMPLE_TYPES",
    "SOURCE_SUFFIX",
    "EventResult",
    "FunctionFile",
    "FunctionRun",
    "InputError",
    "LoadedFunction",
    "LocalHarness",
    "Mismatch",
    "Scaffold",
    "assert_matches",
    "check_language",
    "compare",
    "default_build_dir",
    "default_events",
    "function_name",
    "kind_named",
    "load_function",
    "read_events",
    "read_expected",
    "read_function",
    "read_settings",
    "sample_event",
    "sample_events",
    "scaffold",
]
