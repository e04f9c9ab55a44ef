"""The sandbox's one exception hierarchy.

Everything the sandbox raises, and every per-call failure it reports inside a ``CallResult``, is a
``SandboxError``. Foreign errors (RestrictedPython's compile errors, pipe and encoding errors,
worker deaths) are translated into these types where they occur, so callers branch on the type and
its fields, never on message text.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox._kinds import LimitName, OutputProblem, TrapKind, UserExceptionKind


class SandboxError(Exception):
    """Base of every error raised or reported by the sandbox."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class LimitsError(SandboxError, ValueError):
    """Limits or per-function overrides are invalid (not positive, unknown, above the server maximum)."""


class CompileError(SandboxError):
    """Source is not valid restricted Python; ``line``/``column`` are 1-based where known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None,
                 issues: tuple[SourceIssue, ...] = ()) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.issues = issues or (SourceIssue(line, column, message),)

    def __str__(self) -> str:
        return f"{_where(self.line, self.column)}{self.message}"


@dataclass(frozen=True, slots=True)
class SourceIssue:
    """One problem found in a source (a compile may find several); line and column are 1-based."""

    line: int | None
    column: int | None
    message: str


class MissingEntryPoint(CompileError):
    """The source compiles but does not define a required top-level function."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no top-level function {name!r} is defined", line=None, column=None)
        self.name = name


class InvalidModule(SandboxError):
    """Bytes that are not a WebAssembly guest of ABI v1 (not WebAssembly, a missing or mistyped export,
    an import that is not WASI preview1)."""


class InvalidCall(SandboxError, TypeError):
    """The caller passed arguments the sandbox cannot carry (not JSON, not a sequence of arguments)."""


class PoolError(SandboxError):
    """The worker pool cannot serve the request."""


class PoolClosed(PoolError):
    """The pool was closed."""


class WorkerStartError(PoolError):
    """A worker process could not be started or did not become ready in time."""


class CallError(SandboxError):
    """Why one call failed; carried by ``CallResult.error`` (and raised by ``CallResult.value``)."""


class UserError(CallError):
    """User code raised one of the four exceptions it is given on purpose."""

    kind: UserExceptionKind = UserExceptionKind.VALIDATION_ERROR
    exception_name = "ValidationError"

    def __init__(self, message: str, line: int | None = None, function: str | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.function = function

    def __str__(self) -> str:
        return f"{self.exception_name}: {self.message}{_in(self.line, self.function)}"


class UserValidationError(UserError):
    """User code raised ``ValidationError``: the event is invalid."""

    kind = UserExceptionKind.VALIDATION_ERROR
    exception_name = "ValidationError"


class UserRetryError(UserError):
    """User code raised ``RetryError``: a transient failure, worth retrying."""

    kind = UserExceptionKind.RETRY_ERROR
    exception_name = "RetryError"


class UserDropEvent(UserError):
    """User code raised ``DropEvent``: the event is dropped on purpose."""

    kind = UserExceptionKind.DROP_EVENT
    exception_name = "DropEvent"


class UserEventNotSupported(UserError):
    """User code raised ``EventNotSupported``: the function does not handle this event."""

    kind = UserExceptionKind.EVENT_NOT_SUPPORTED
    exception_name = "EventNotSupported"


USER_ERROR_TYPES: dict[UserExceptionKind, type[UserError]] = {
    cls.kind: cls
    for cls in (UserValidationError, UserRetryError, UserDropEvent, UserEventNotSupported)
}


class UncaughtError(CallError):
    """User code raised any other exception (or module-level code failed while loading)."""

    def __init__(self, exception_type: str, message: str, line: int | None = None,
                 function: str | None = None) -> None:
        super().__init__(message)
        self.exception_type = exception_type
        self.line = line
        self.function = function

    def __str__(self) -> str:
        text = f"{self.exception_type}: {self.message}" if self.message else self.exception_type
        return f"{text}{_in(self.line, self.function)}"


_LIMIT_TEXT = {
    LimitName.WALL_MS: "the wall-clock limit of {} ms",
    LimitName.CPU_SECONDS: "the CPU limit of {} s",
    LimitName.MEMORY_BYTES: "the memory limit of {} bytes",
    LimitName.MAX_OUTPUT_BYTES: "the output size limit of {} bytes",
    LimitName.MAX_LOG_BYTES: "the log size limit of {} bytes",
    LimitName.FUEL: "the fuel limit of {} units",
}


class LimitExceeded(CallError):
    """The call exceeded a limit; ``limit`` names the ``Limits`` field, ``value`` its setting."""

    def __init__(self, limit: LimitName, value: int) -> None:
        super().__init__(f"exceeded {_LIMIT_TEXT[limit].format(value)} ({limit.value})")
        self.limit = limit
        self.value = value


class InvalidOutput(CallError):
    """The returned value is not a JSON document; ``path`` locates the offending part (``$`` = root)."""

    def __init__(self, problem: OutputProblem, path: str, detail: str) -> None:
        super().__init__(f"returned value is not JSON at {path}: {detail}")
        self.problem = problem
        self.path = path
        self.detail = detail


class InvalidInput(CallError):
    """An input of a WebAssembly call is not a JSON document; the guest was not given it."""


class InvalidAnswer(CallError):
    """A WebAssembly guest's answer breaks ABI v1 (not JSON, not one result per event, a result of
    the wrong shape, bytes outside its memory)."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"the guest's answer is unusable: {detail}")
        self.detail = detail


class GuestError(CallError):
    """A WebAssembly guest answered an input with ``{"error": "..."}``: it failed on purpose."""


class GuestTrapped(CallError):
    """A WebAssembly guest stopped abnormally; ``trap`` says how (never one of its limits)."""

    def __init__(self, trap: TrapKind, detail: str = "") -> None:
        text = _TRAP_TEXT[trap]
        super().__init__(f"wasm trap: {text}{f' ({detail})' if detail else ''}")
        self.trap = trap
        self.detail = detail


_TRAP_TEXT = {
    TrapKind.UNREACHABLE: "unreachable code reached (the guest aborted or panicked)",
    TrapKind.MEMORY_OUT_OF_BOUNDS: "out-of-bounds memory access",
    TrapKind.STACK_OVERFLOW: "call stack exhausted",
    TrapKind.INTEGER_DIVISION_BY_ZERO: "integer division by zero",
    TrapKind.INTEGER_OVERFLOW: "integer overflow",
    TrapKind.BAD_CONVERSION_TO_INTEGER: "invalid conversion to integer",
    TrapKind.INDIRECT_CALL: "bad indirect call",
    TrapKind.TABLE_OUT_OF_BOUNDS: "out-of-bounds table access",
    TrapKind.EXIT: "the guest exited",
    TrapKind.OTHER: "the guest failed",
}


class WorkerCrashed(CallError):
    """The worker process died during the call for a reason that is not a limit."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"sandbox worker crashed: {detail}")
        self.detail = detail


def _where(line: int | None, column: int | None) -> str:
    if line is None:
        return ""
    return f"line {line}, column {column}: " if column is not None else f"line {line}: "


def _in(line: int | None, function: str | None) -> str:
    if line is None:
        return ""
    return f" (line {line}, in {function})" if function else f" (line {line})"
