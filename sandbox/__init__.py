"""Isolation runtime for user functions: restricted compilation and a pool of confined workers.

    code = compile_function(source, "acme/enrich@v3", entry_points=["transformEvent"])
    with WorkerPool(size=2) as pool:
        results = pool.run("v3", code, "transformEvent", [(event, metadata), ...])

User code is compiled with RestrictedPython and runs only in pre-started worker processes that
are resource-limited (RLIMIT_AS/CPU/NOFILE), stripped of root, seccomp-filtered where possible and
watched by a wall-clock watchdog. Each call yields a ``CallResult``: its JSON output or a typed
``CallError`` (user exception, uncaught exception, limit exceeded, invalid output, worker crash),
plus its captured logs. This package imports neither ``transformer`` nor ``functions``.
"""

from sandbox._compile import CompiledCode, compile_function
from sandbox._errors import (
    CallError,
    CompileError,
    InvalidCall,
    InvalidOutput,
    LimitExceeded,
    LimitsError,
    MissingEntryPoint,
    PoolClosed,
    PoolError,
    SandboxError,
    SourceIssue,
    UncaughtError,
    UserDropEvent,
    UserError,
    UserEventNotSupported,
    UserRetryError,
    UserValidationError,
    WorkerCrashed,
    WorkerStartError,
)
from sandbox._kinds import LimitName, OutputProblem, UserExceptionKind
from sandbox._limits import LimitPolicy, Limits
from sandbox._modules import ALLOWED_MODULES
from sandbox._pool import IsolationReport, PoolStats, WorkerPool
from sandbox._results import CallResult, JSONValue

__all__ = [
    "ALLOWED_MODULES",
    "CallError",
    "CallResult",
    "CompileError",
    "CompiledCode",
    "InvalidCall",
    "InvalidOutput",
    "IsolationReport",
    "JSONValue",
    "LimitExceeded",
    "LimitName",
    "LimitPolicy",
    "Limits",
    "LimitsError",
    "MissingEntryPoint",
    "OutputProblem",
    "PoolClosed",
    "PoolError",
    "PoolStats",
    "SandboxError",
    "SourceIssue",
    "UncaughtError",
    "UserDropEvent",
    "UserError",
    "UserEventNotSupported",
    "UserExceptionKind",
    "UserRetryError",
    "UserValidationError",
    "WorkerCrashed",
    "WorkerPool",
    "WorkerStartError",
    "compile_function",
]
