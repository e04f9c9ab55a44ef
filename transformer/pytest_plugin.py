"""pytest plugin (entry point ``pytest11``): run function files in the server's sandbox from tests.

    def test_enrich(run_function):
        result = run_function("enrich.py", [{"type": "track", "event": "Signed Up"}])
        assert result.errors == [] and result.outputs[0]["event"] == "Signed Up"

A C or Zig source (built with the ``ziglang`` package, cached) or a ``.wasm`` module runs in the
WebAssembly sandbox: ``run_function("hook.zig", events, kind="source")``.

Limits are the server's (``TRANSFORMER_SANDBOX_*`` settings). One sandbox worker (and, for
WebAssembly, one runtime) serves the whole session; each starts when a test first needs it and
stops at the end of the session, so a session that never asks for ``run_function`` pays nothing
(this module imports only pytest).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from functions.testing import FunctionRun, LocalHarness

RunFunction = Callable[..., "FunctionRun"]


@pytest.fixture(scope="session")
def transformer_harness() -> Iterator[LocalHarness]:
    """The session's harness; its worker pool starts on first use."""
    from functions.testing import LocalHarness
    from transformer._settings import Settings

    harness = LocalHarness(Settings().limit_policy)
    try:
        yield harness
    finally:
        harness.close()


@pytest.fixture
def run_function(transformer_harness: LocalHarness, request: pytest.FixtureRequest) -> RunFunction:
    """``run_function(path, events=None, *, kind=None, settings=None) -> FunctionRun``.

    ``path`` and file arguments (``events``, ``settings`` as .json/.jsonl files) are resolved
    against the test file's folder when they exist there. ``events`` may also be a list of event
    dicts; ``settings`` a dict (a transformation's metadata, a destination or source function's
    settings); ``kind`` is guessed from the entry points a Python file defines when not given (a
    WebAssembly guest must be given it).
    """
    folder = request.path.parent

    def run(path: str | Path, events: Any = None, *, kind: str | None = None,
            settings: Any = None) -> FunctionRun:
        return transformer_harness.run(_near(folder, path), _near(folder, events), kind=kind,
                                       settings=_near(folder, settings))

    return run


def _near(folder: Path, value: Any) -> Any:
    """A relative file name as a path in ``folder`` if it exists there; anything else unchanged."""
    if isinstance(value, (str, Path)) and not Path(value).is_absolute() and (folder / value).exists():
        return folder / value
    return value
