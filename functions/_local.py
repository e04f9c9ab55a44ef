"""Running a function file on a laptop in the server's own sandbox, with the server's limits.

``LocalHarness`` goes through exactly what ``Functions.Test`` does: the file becomes an inline
version and a ``Program`` (validation, calling shim, limits from the same ``LimitPolicy``), and
``run_trial`` runs it where the server would: Python in a ``WorkerPool`` of confined workers (never
in-process), WebAssembly in a ``WasmRuntime`` with its fuel, epoch and memory limits. A C or Zig
source is built into WebAssembly first, as its author would before uploading it. Each starts on the
first run that needs it and stops on ``close``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from sandbox import LimitPolicy, WasmRuntime, WorkerPool

from ._errors import InputError
from ._inputs import guess_kind, read_events, read_function, read_settings
from ._model import FunctionKind, Language, LimitOverrides
from ._results import EventResult, FunctionRun
from ._runner import Outcome, Program, Runner, inline_version, make_program
from ._samples import sample_event, sample_events
from ._trial import Trial, run_trial

#: The workspace local runs pretend to be in (part of the version id, hence of error labels).
LOCAL_WORKSPACE = "local"

#: What ``events`` may be: JSON values, already-encoded documents, or a .json/.jsonl file.
Events = Sequence[Any] | str | Path | None
#: What ``settings`` may be: a JSON object, an encoded one, or a .json file.
Settings = dict[str, Any] | bytes | str | Path | None


@dataclass(frozen=True, slots=True)
class LoadedFunction:
    """A function file ready to run."""

    path: Path
    kind: FunctionKind
    language: Language
    #: What is uploaded: the Python source, or the WebAssembly module (built from a C or Zig source).
    code: bytes
    program: Program
    #: The source's lines (none for a ``.wasm`` file), to show the line an error names.
    lines: tuple[str, ...] = ()


def load_function(path: str | Path, policy: LimitPolicy, kind: FunctionKind | None = None, *,
                  workspace: str = LOCAL_WORKSPACE, build_dir: Path | None = None) -> LoadedFunction:
    """Read and validate a function file as an upload to ``workspace`` would be, named after the
    file (a C or Zig source built first, into ``build_dir``); raises ``InputError`` or
    ``InvalidFunction`` (with line and column; ``GuestBuildError`` with the compiler's output)."""
    path = Path(path)
    file = read_function(path, build_dir)
    kind = kind or guess_kind(file.language, file.code, path)
    version = inline_version(workspace, function_name(path), kind, file.language, file.code, LimitOverrides())
    program = make_program(version, file.code, policy, test=True)
    return LoadedFunction(path, kind, file.language, file.code, program, file.lines)


def default_events(kind: FunctionKind) -> list[bytes]:
    """The built-in samples a kind is tried on when no events are given."""
    if kind is FunctionKind.SOURCE:
        return [orjson.dumps(sample_event("request"))]
    return [orjson.dumps(event) for event in sample_events()]


class LocalHarness:
    """Runs function files in a private sandbox: Python in a pool of ``workers`` sandbox workers,
    WebAssembly in a runtime of its own; C and Zig sources are built into ``build_dir`` (default:
    ``default_build_dir()``)."""

    def __init__(self, policy: LimitPolicy | None = None, *, workers: int = 1,
                 build_dir: Path | None = None) -> None:
        self.policy = policy or LimitPolicy()
        self._workers = workers
        self._build_dir = build_dir
        self._pool: WorkerPool | None = None
        self._wasm: WasmRuntime | None = None

    @property
    def started(self) -> bool:
        """Whether a sandbox is running (each starts on the first run that needs it)."""
        return self._pool is not None or self._wasm is not None

    def run(self, path: str | Path, events: Events = None, *, kind: FunctionKind | str | None = None,
            settings: Settings = None) -> FunctionRun:
        """Run the function in ``path`` on ``events`` (default: the built-in samples for its kind)
        with ``settings`` (a transformation's metadata, a destination or source function's
        settings). Not from a running event loop: use ``arun`` there."""
        return asyncio.run(self.arun(path, events, kind=kind, settings=settings))

    async def arun(self, path: str | Path, events: Events = None, *,
                   kind: FunctionKind | str | None = None, settings: Settings = None) -> FunctionRun:
        function = load_function(path, self.policy, kind_named(kind) if isinstance(kind, str) else kind,
                                 build_dir=self._build_dir)
        inputs = default_events(function.kind) if events is None else _encode_events(events)
        return await self.arun_loaded(function, inputs, _encode_settings(settings))

    async def arun_loaded(self, function: LoadedFunction, inputs: Sequence[bytes],
                          settings: bytes = b"{}") -> FunctionRun:
        """Run a loaded function on encoded inputs with encoded settings."""
        if function.language is Language.WASM:  # the runtime reports each guest's memory itself
            trial = await run_trial(Runner(None, self._wasm_runtime()), function.program, inputs, settings)
        else:
            pool = self._started()
            trial = await run_trial(Runner(pool), function.program, inputs, settings,
                                    probe=_WorkerPeaks(pool))
        return _function_run(function, trial)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if self._wasm is not None:
            self._wasm.close()
            self._wasm = None

    def __enter__(self) -> LocalHarness:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _started(self) -> WorkerPool:
        if self._pool is None:
            self._pool = WorkerPool(self._workers, policy=self.policy)
        return self._pool

    def _wasm_runtime(self) -> WasmRuntime:
        if self._wasm is None:
            self._wasm = WasmRuntime(self.policy, threads=1)
        return self._wasm


def kind_named(name: str) -> FunctionKind:
    try:
        return FunctionKind(name)
    except ValueError:
        known = ", ".join(kind.value for kind in FunctionKind)
        raise InputError(f"unknown function kind {name!r}; known: {known}") from None


@dataclass(frozen=True, slots=True)
class _WorkerPeaks:
    """The peak resident memory of a pool's workers during a call: Linux keeps it per process
    (VmHWM) and resets it on a write of ``5`` to ``/proc/PID/clear_refs``. A local pool runs one call
    at a time, so the peak is that call's (None where /proc cannot tell)."""

    pool: WorkerPool

    def reset(self) -> None:
        for pid in self.pool.stats().worker_pids:
            # not Linux, or not allowed: the peak then covers the worker's whole life
            with contextlib.suppress(OSError):
                Path(f"/proc/{pid}/clear_refs").write_text("5")

    def peak(self) -> int | None:
        peaks = [peak for pid in self.pool.stats().worker_pids if (peak := _vm_hwm(pid)) is not None]
        return max(peaks) if peaks else None


def _vm_hwm(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return None


def function_name(path: Path) -> str:
    """The name a function file runs (and is tested on a server) under: its file name's stem."""
    return path.stem or "function"


def _encode_events(events: Sequence[Any] | str | Path) -> list[bytes]:
    if isinstance(events, (str, Path)):
        return read_events(Path(events))
    return [event if isinstance(event, bytes) else orjson.dumps(event) for event in events]


def _encode_settings(settings: Settings) -> bytes:
    if settings is None:
        return b"{}"
    if isinstance(settings, bytes):
        return settings
    if isinstance(settings, (str, Path)):
        return read_settings(Path(settings))
    return orjson.dumps(settings)


def _function_run(function: LoadedFunction, trial: Trial) -> FunctionRun:
    results = tuple(_event_result(outcome, elapsed, memory) for outcome, elapsed, memory
                    in zip(trial.outcomes, trial.elapsed_ms, trial.memory_bytes, strict=True))
    return FunctionRun(function.path, function.program.label, function.kind, function.language, results,
                       unmatched=tuple(orjson.loads(output) for output in trial.unmatched),
                       call_logs=trial.logs, elapsed_ms=trial.total_ms)


def _event_result(outcome: Outcome, elapsed_ms: float, memory_bytes: int | None) -> EventResult:
    failure = outcome.failure
    return EventResult(outcome.status, tuple(orjson.loads(output) for output in outcome.outputs),
                       failure.message if failure else None, outcome.logs, elapsed_ms,
                       failure.line if failure else None, memory_bytes)
