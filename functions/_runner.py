"""Running function versions in the sandbox, and what each input became.

``Program`` is a version ready to run (its source with the calling shim, or its WebAssembly module;
its limits); ``Runner`` runs one program on a batch of inputs, Python in one pool request and
WebAssembly in guest calls of the ``WasmRuntime`` (``_wasm``), and reads each call's raw JSON output
into an ``Outcome``: the output documents, or a ``Failure`` saying why, with the call's logs.

Outputs stay encoded wherever they can: a transformation or destination function returning one
object passes its bytes on untouched; only lists (several events or requests) are decoded to be
split.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from sandbox import (
    CallError,
    CallResult,
    CompileError,
    GuestError,
    GuestTrapped,
    InvalidAnswer,
    InvalidCall,
    InvalidInput,
    InvalidModule,
    InvalidOutput,
    LimitExceeded,
    LimitPolicy,
    Limits,
    LimitsError,
    PoolClosed,
    PoolError,
    UncaughtError,
    UserDropEvent,
    UserError,
    UserEventNotSupported,
    UserRetryError,
    UserValidationError,
    WasmRuntime,
    WorkerCrashed,
    WorkerPool,
    json_problem,
)

from ._errors import InvalidFunction
from ._model import FunctionKind, FunctionVersion, Language, LimitOverrides, version_id_for
from ._python import SHIM_PREFIX, Mode, prepare
from ._wasm import MODES, run_guest, validate_wasm

_Fragment = orjson.Fragment
_NULL = b"null"


class Reason(enum.Enum):
    """Why an input produced no output; ``status`` is the per-event status code (DESIGN §3)."""

    DROPPED = "dropped"  # returned None/nothing, or raised DropEvent
    INVALID_EVENT = "invalid_event"  # raised ValidationError, or the input is not JSON
    NOT_SUPPORTED = "not_supported"  # raised EventNotSupported
    FUNCTION_ERROR = "function_error"  # raised, failed to load, or returned something unusable
    LIMIT = "limit"  # exceeded one of its limits
    RETRY = "retry"  # raised RetryError
    SANDBOX = "sandbox"  # the sandbox failed for a reason that is not the input's

    @property
    def status(self) -> int:
        return _STATUS[self]


_STATUS = {
    Reason.DROPPED: 298, Reason.INVALID_EVENT: 400, Reason.NOT_SUPPORTED: 400,
    Reason.FUNCTION_ERROR: 400, Reason.LIMIT: 400, Reason.RETRY: 500, Reason.SANDBOX: 500,
}


@dataclass(frozen=True, slots=True)
class Failure:
    reason: Reason
    #: Human-readable, naming the function's line or the limit (without the function's name).
    message: str
    #: The ``Limits`` field exceeded, for ``Reason.LIMIT``.
    limit: str = ""
    #: The line of the function's source that raised, when known (for showing it to its author).
    line: int | None = None

    @property
    def status(self) -> int:
        return self.reason.status


@dataclass(slots=True)
class Outcome:
    """What one input became: output documents (JSON objects), or a failure; and its logs."""

    outputs: list[bytes] = field(default_factory=list)
    failure: Failure | None = None
    logs: tuple[str, ...] = ()

    @property
    def status(self) -> int:
        """200 with outputs; 298 when nothing came out on purpose; else the failure's status."""
        if self.failure is not None:
            return self.failure.status
        return 200 if self.outputs else 298


@dataclass(slots=True)
class RunResult:
    """One ``Outcome`` per input, in order.

    For ``transformBatch`` (one call for all inputs) each output goes to the input whose
    ``messageId`` it carries; ``unmatched`` holds those carrying no input's id, and ``logs`` the
    call's logs (the per-input outcomes then have none).
    """

    outcomes: list[Outcome]
    unmatched: list[bytes] = field(default_factory=list)
    logs: tuple[str, ...] = ()
    #: The most memory the call's guest had (WebAssembly: its linear memory); None when unknown.
    memory_bytes: int | None = None


@dataclass(frozen=True, slots=True)
class Program:
    """A function version ready to run."""

    #: Key of the compiled code in the workers' caches (a test run gets its own).
    cache_key: str
    #: ``name@<version prefix>``, for messages and logs.
    label: str
    kind: FunctionKind
    mode: Mode
    source: str
    entry: str
    limits: Limits
    language: Language = Language.PYTHON
    #: The module of a WebAssembly function.
    code: bytes = b""


def limits_for(policy: LimitPolicy, overrides: LimitOverrides) -> Limits:
    """The server defaults with a version's overrides, each capped at the server maximum."""
    changes: dict[str, int] = {}
    if overrides.wall_ms:
        changes["wall_ms"] = overrides.wall_ms
    if overrides.cpu_ms:
        changes["cpu_seconds"] = max(1, math.ceil(overrides.cpu_ms / 1000))
    if overrides.memory_bytes:
        changes["memory_bytes"] = overrides.memory_bytes
    if overrides.output_bytes:
        changes["max_output_bytes"] = overrides.output_bytes
    if overrides.log_bytes:
        changes["max_log_bytes"] = overrides.log_bytes
    maximum = policy.maximum
    capped = {name: min(value, getattr(maximum, name)) for name, value in changes.items()}
    try:
        return policy.defaults.replace(**capped) if capped else policy.defaults
    except LimitsError:  # e.g. a memory override below the minimum a worker needs
        return policy.defaults


def check_limits(policy: LimitPolicy, overrides: LimitOverrides) -> None:
    """Raise ``InvalidFunction`` if an upload asks for limits the server does not allow."""
    requested = {
        "wall_ms": overrides.wall_ms, "memory_bytes": overrides.memory_bytes,
        "max_output_bytes": overrides.output_bytes, "max_log_bytes": overrides.log_bytes,
        "cpu_seconds": math.ceil(overrides.cpu_ms / 1000) if overrides.cpu_ms else None,
    }
    try:
        policy.derive({name: value for name, value in requested.items() if value})
    except LimitsError as exc:
        raise InvalidFunction(f"limits: {exc}") from None


def make_program(version: FunctionVersion, code: bytes, policy: LimitPolicy, *,
                 test: bool = False) -> Program:
    """The program of a stored version (``test``: with its own cache key, so that test runs never
    share module state with the version's live runs; a WebAssembly module is then validated too,
    as it may never have been uploaded)."""
    label = f"{version.name}@{version.version_id[:8]}"
    cache_key = ("test-" if test else "") + version.version_id
    limits = limits_for(policy, version.limits)
    if version.language is Language.WASM:
        if test:
            validate_wasm(code)
        return Program(cache_key, label, version.kind, MODES[version.kind], "", "", limits,
                       Language.WASM, code)
    prepared = prepare(version.kind, version.language, code, f"<{label}>")
    return Program(cache_key, label, version.kind, prepared.mode, prepared.source, prepared.entry, limits)


class Runner:
    """Runs programs: Python in a worker pool, WebAssembly in ``wasm`` (when none is given, a runtime
    with the pool's limit policy starts on the first WebAssembly run). A runner for WebAssembly
    only (the local harness running a guest) needs no pool."""

    def __init__(self, pool: WorkerPool | None, wasm: WasmRuntime | None = None) -> None:
        self._pool = pool
        self._wasm = wasm

    @property
    def pool(self) -> WorkerPool:
        if self._pool is None:
            raise PoolClosed("this runner runs WebAssembly only: it has no Python worker pool")
        return self._pool

    @property
    def wasm(self) -> WasmRuntime:
        if self._wasm is None:
            self._wasm = WasmRuntime(self.pool.policy)
        return self._wasm

    async def run(self, program: Program, inputs: Sequence[tuple[bytes, bytes]]) -> RunResult:
        """Run ``program`` on ``inputs``: each a pair of JSON documents, the function's two arguments
        (event and metadata, event and destination, request and settings). Empty bytes stand for
        null. Never raises for what the function or an input does."""
        if not inputs:
            return RunResult([])
        if program.language is Language.WASM:
            return await self._run_wasm(program, inputs)
        if program.mode is Mode.BATCH:
            return await self._run_batch(program, inputs)
        calls = [(_Fragment(a or _NULL), _Fragment(b or _NULL)) for a, b in inputs]
        results, failures = await self._call(program, calls, inputs)
        if failures is not None:
            return RunResult(failures)
        return RunResult(_outcomes(results, _READERS[program.mode]))

    async def _run_batch(self, program: Program, inputs: Sequence[tuple[bytes, bytes]]) -> RunResult:
        events = _Fragment(b"[" + b",".join(a or _NULL for a, _ in inputs) + b"]")
        metas = _Fragment(b"[" + b",".join(b or _NULL for _, b in inputs) + b"]")
        results, failures = await self._call(program, [(events, metas)], inputs)
        if failures is not None:
            return RunResult(failures)
        [result] = results
        logs = result.logs
        if result.error is not None:
            failure = failure_of(result.error)
            return RunResult([Outcome(failure=failure) for _ in inputs], logs=logs)
        assert result.output is not None
        returned, ids = orjson.loads(result.output)
        problem = _batch_problem(returned)
        if problem:
            failure = Failure(Reason.FUNCTION_ERROR, problem)
            return RunResult([Outcome(failure=failure) for _ in inputs], logs=logs)
        position: dict[str, int] = {}
        for index, message_id in enumerate(ids):
            if message_id is not None:
                position.setdefault(message_id, index)
        outcomes = [Outcome() for _ in inputs]
        unmatched: list[bytes] = []
        for event in returned:
            message_id = event.get("messageId")
            match = position.get(message_id) if isinstance(message_id, str) else None
            encoded = orjson.dumps(event)
            if match is None:
                unmatched.append(encoded)
            else:
                outcomes[match].outputs.append(encoded)
        return RunResult(outcomes, unmatched, logs)

    async def _run_wasm(self, program: Program, inputs: Sequence[tuple[bytes, bytes]]) -> RunResult:
        try:
            run = await run_guest(self.wasm, program, inputs)
        except InvalidModule as exc:  # validated at upload: only a stored version that no longer compiles
            failure = Failure(Reason.FUNCTION_ERROR, f"the function cannot run: {exc}")
        except (LimitsError, PoolError) as exc:
            failure = _sandbox_failure(exc)
        else:
            return RunResult(_outcomes(run.results, _READERS[program.mode]), logs=run.logs,
                             memory_bytes=run.memory_bytes)
        return RunResult([Outcome(failure=failure) for _ in inputs])

    async def _call(self, program: Program, calls: list[tuple[Any, Any]],
                    inputs: Sequence[tuple[bytes, bytes]]) -> tuple[list[CallResult], list[Outcome] | None]:
        """The pool's results, or (when nothing could run) an outcome per input saying why."""
        try:
            return await self.pool.run_async(program.cache_key, program.source, program.entry, calls,
                                              program.limits), None
        except InvalidCall:
            return [], await self._without_invalid(program, inputs)
        except CompileError as exc:  # validated at upload: only a stored version that no longer compiles
            failure = Failure(Reason.FUNCTION_ERROR, f"the function does not compile: {exc}")
        except (LimitsError, PoolError) as exc:
            failure = _sandbox_failure(exc)
        return [], [Outcome(failure=failure) for _ in inputs]

    async def _without_invalid(self, program: Program,
                               inputs: Sequence[tuple[bytes, bytes]]) -> list[Outcome]:
        """Some input is not JSON (rare: inputs are passed on unchecked): fail those, run the rest."""
        outcomes: list[Outcome | None] = []
        valid: list[tuple[bytes, bytes]] = []
        for pair in inputs:
            problem = json_problem(("the event", pair[0]), ("its metadata or settings", pair[1]))
            if problem:
                outcomes.append(Outcome(failure=Failure(Reason.INVALID_EVENT, problem)))
            else:
                outcomes.append(None)
                valid.append(pair)
        if len(valid) == len(inputs):  # cannot happen unless the pool misreports; never loop
            failure = Failure(Reason.SANDBOX, "the sandbox refused the batch as not JSON")
            return [Outcome(failure=failure) for _ in inputs]
        rest = iter((await self.run(program, valid)).outcomes if valid else [])
        return [outcome if outcome is not None else next(rest) for outcome in outcomes]


def _sandbox_failure(exc: LimitsError | PoolError) -> Failure:
    """What either runtime's refusal to run a version means for each of its events."""
    if isinstance(exc, LimitsError):
        return Failure(Reason.SANDBOX, f"the function's limits are not allowed: {exc}")
    return Failure(Reason.SANDBOX, f"the sandbox is unavailable: {exc}")


def _batch_problem(returned: Any) -> str:
    if not isinstance(returned, list):
        return f"transformBatch(events, metadata) must return a list of events, not {_type(returned)}"
    for index, event in enumerate(returned):
        if not isinstance(event, dict):
            return (f"transformBatch(events, metadata) returned a list whose item {index} is "
                    f"{_type(event)}, not an event object")
    return ""


def _outcomes(results: Sequence[CallResult], read: Any) -> list[Outcome]:
    """An ``Outcome`` per call result; the common case (one object, nothing logged) without
    ``read``, as this runs once per event on the hot path."""
    outcomes: list[Outcome] = []
    append = outcomes.append
    for result in results:
        output = result.output
        if output is not None and output[:1] == b"{" and not result.logs:
            append(Outcome([output]))
        else:
            append(_outcome(result, read))
    return outcomes


def _outcome(result: CallResult, read: Any) -> Outcome:
    if result.error is not None:
        return Outcome(failure=failure_of(result.error), logs=result.logs)
    assert result.output is not None
    outcome: Outcome = read(result.output)
    outcome.logs = result.logs
    return outcome


def _read_objects(what: str, returns: str) -> Any:
    """A reader of one call's output: an object, a list of objects, or null (nothing)."""

    def read(output: bytes) -> Outcome:
        first = output[:1]
        if first == b"{":
            return Outcome([output])
        if first == b"n":
            return Outcome()
        if first == b"[":
            items = orjson.loads(output)
            for index, item in enumerate(items):
                if not isinstance(item, dict):
                    message = f"{what} returned a list whose item {index} is {_type(item)}, not {returns}"
                    return Outcome(failure=Failure(Reason.FUNCTION_ERROR, message))
            return Outcome([orjson.dumps(item) for item in items])
        value = orjson.loads(output)
        message = f"{what} must return {returns}, a list of them or None, not {_type(value)}"
        return Outcome(failure=Failure(Reason.FUNCTION_ERROR, message))

    return read


_READERS = {
    Mode.EVENT: _read_objects("transformEvent(event, metadata)", "an event object"),
    Mode.DESTINATION: _read_objects("the destination function", "a request object"),
    Mode.SOURCE: _read_objects("on_request(request, settings)", "an event object"),
}


def failure_of(error: CallError) -> Failure:
    """The failure an error of the sandbox means for the input it happened to."""
    if isinstance(error, UserError):
        where = _position(error.line, error.function)
        line = error.line if where else None
        text = f"{error.exception_name}: {error.message}{where}" if error.message else \
            f"{error.exception_name}{where}"
        if isinstance(error, UserDropEvent):
            return Failure(Reason.DROPPED, text, line=line)
        if isinstance(error, UserRetryError):
            return Failure(Reason.RETRY, text, line=line)
        if isinstance(error, UserEventNotSupported):
            return Failure(Reason.NOT_SUPPORTED, text, line=line)
        assert isinstance(error, UserValidationError)
        return Failure(Reason.INVALID_EVENT, text, line=line)
    if isinstance(error, UncaughtError):
        where = _position(error.line, error.function)
        text = f"{error.exception_type}: {error.message}" if error.message else error.exception_type
        return Failure(Reason.FUNCTION_ERROR, text + where, line=error.line if where else None)
    if isinstance(error, LimitExceeded):
        return Failure(Reason.LIMIT, str(error), error.limit.value)
    if isinstance(error, (InvalidOutput, InvalidAnswer, GuestError, GuestTrapped)):
        return Failure(Reason.FUNCTION_ERROR, str(error))
    if isinstance(error, InvalidInput):
        return Failure(Reason.INVALID_EVENT, str(error))
    if isinstance(error, WorkerCrashed):
        return Failure(Reason.SANDBOX, str(error))
    return Failure(Reason.SANDBOX, f"{type(error).__name__}: {error}")


def _position(line: int | None, function: str | None) -> str:
    """`` (line N, in f)`` for user code; nothing for the shim's own frames."""
    if line is None or (function or "").startswith(SHIM_PREFIX):
        return ""
    return f" (line {line}, in {function})" if function else f" (line {line})"


def _type(value: Any) -> str:
    if value is None:
        return "None"
    return {bool: "a bool", int: "an int", float: "a float", str: "a string", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)


def inline_version(workspace: str, name: str, kind: FunctionKind, language: Language, code: bytes,
                   limits: LimitOverrides) -> FunctionVersion:
    """A version that is never stored, for running code given inline (``Functions.Test``)."""
    return FunctionVersion(workspace=workspace, name=name or "inline",
                           version_id=version_id_for(workspace, name or "inline", kind, language, code),
                           kind=kind, language=language, created_at_ms=0, size_bytes=len(code),
                           limits=limits)
