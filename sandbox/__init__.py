"""Isolation runtimes for user functions: restricted Python in a pool of confined workers, and
WebAssembly guests in wasmtime.

    code = compile_function(source, "acme/enrich@v3", entry_points=["transformEvent"])
    with WorkerPool(size=2) as pool:
        results = pool.run("v3", code, "transformEvent", [(event, metadata), ...])

User code is compiled with RestrictedPython and runs only in pre-started worker processes that
are resource-limited (RLIMIT_AS/CPU/NOFILE), stripped of root, seccomp-filtered where possible and
watched by a wall-clock watchdog. Each call yields a ``CallResult``: its JSON output or a typed
``CallError`` (user exception, uncaught exception, limit exceeded, invalid output, worker crash),
plus its captured logs.

    check_wasm(wasm)  # raises InvalidModule unless it is a guest of ABI v1 (docs/wasm-abi.md)
    with WasmRuntime(policy) as runtime:
        run = runtime.run("v4", wasm, "transformation", [event, ...], [metadata, ...], b"{}")

WebAssembly guests run in this process on the runtime's threads, one fresh instance per batch, with
their memory, fuel, time, answer and log bounded; each event gets a ``CallResult`` of the same kinds
as a Python call's. This package imports neither ``transformer`` nor ``functions``.
"""

from sandbox._compile import CompiledCode, compile_function
from sandbox._errors import (
    CallError,
    CompileError,
    GuestError,
    GuestTrapped,
    InvalidAnswer,
    InvalidCall,
    InvalidInput,
    InvalidModule,
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
from sandbox._json_check import json_problem
from sandbox._kinds import LimitName, OutputProblem, TrapKind, UserExceptionKind
from sandbox._limits import LimitPolicy, Limits
from sandbox._modules import ALLOWED_MODULES
from sandbox._pool import IsolationReport, PoolStats, WorkerPool
from sandbox._results import CallResult, JSONValue
from sandbox._wasm_module import check_wasm
from sandbox._wasm_runtime import WasmRun, WasmRuntime

__all__ = [
    "ALLOWED_MODULES",
    "CallError",
    "CallResult",
    "CompileError",
    "CompiledCode",
    "GuestError",
    "GuestTrapped",
    "InvalidAnswer",
    "InvalidCall",
    "InvalidInput",
    "InvalidModule",
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
    "TrapKind",
    "UncaughtError",
    "UserDropEvent",
    "UserError",
    "UserEventNotSupported",
    "UserExceptionKind",
    "UserRetryError",
    "UserValidationError",
    "WasmRun",
    "WasmRuntime",
    "WorkerCrashed",
    "WorkerPool",
    "WorkerStartError",
    "check_wasm",
    "compile_function",
    "json_problem",
]
