"""Running a batch of calls inside a worker: load (or reuse) the version, call, encode, report.

Runs in the worker. Loaded versions are kept in a bounded LRU keyed by version id (and checked
against the source, so a reused id with other code is never served stale code).
"""

from __future__ import annotations

import resource
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import orjson

from sandbox._compile import compile_module
from sandbox._errors import CompileError
from sandbox._guards import NamespaceFactory
from sandbox._kinds import LimitName
from sandbox._modules import ModuleCatalog
from sandbox._output import OutputRejected, encode_output
from sandbox._progress import PHASE_FIRST_CALL, PHASE_LOADING, ProgressWord
from sandbox._protocol import Outcome, Status, encode_reply
from sandbox._userapi import USER_EXCEPTIONS, LogLimitReached, LogSink

MAX_MESSAGE = 2_000
# RLIMIT_CPU counts whole seconds of the process's life, so it is re-armed to "now + limit + 1"
# at each batch and, within a batch, whenever this much wall time has passed since (a call cannot
# use more CPU than wall time), which keeps the hot path free of system calls. A call so gets
# between cpu_seconds and cpu_seconds + 1.5 of CPU before SIGXCPU.
_REARM_NS = 500_000_000


@dataclass(slots=True)
class _Version:
    source: str
    namespace: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _LoadFailure:
    entry: list[Any]
    retire: bool


class WorkerRuntime:
    def __init__(self, cache_size: int, memory_hard: int) -> None:
        self._cache: OrderedDict[str, _Version] = OrderedDict()
        self._cache_size = cache_size
        self._sink = LogSink()
        self._factory = NamespaceFactory(self._sink, ModuleCatalog())
        self._memory_hard = memory_hard
        self._memory_soft = -1
        self._cpu_seconds = 1
        self._cpu_armed_ns = 0

    def handle(self, frame: bytearray, progress: ProgressWord) -> tuple[list[bytes], bool]:
        """Run one request; returns the reply's parts and whether this worker should retire."""
        now = progress.enter(PHASE_LOADING)
        try:
            version_id, source, filename, entry_name, limits, calls = orjson.loads(frame)
        except orjson.JSONDecodeError as exc:
            # only arguments passed as orjson.Fragment can make the request invalid JSON
            return encode_reply(Status.BAD_REQUEST, False, str(exc)[:MAX_MESSAGE], []), False
        _, cpu_seconds, memory_bytes, max_output, max_log = limits
        self._apply_limits(cpu_seconds, memory_bytes, now)
        try:
            loaded = self._load(version_id, source, filename, max_log)
        except CompileError as exc:
            issues = [[i.line, i.column, i.message] for i in exc.issues]
            return encode_reply(Status.COMPILE_ERROR, False, issues, []), False
        if isinstance(loaded, _LoadFailure):
            return encode_reply(Status.OK, loaded.retire, [loaded.entry] * len(calls), []), loaded.retire
        function = loaded.namespace.get(entry_name)
        if not callable(function):
            return encode_reply(Status.MISSING_ENTRY, False, entry_name, []), False

        sink = self._sink
        sink.reset(max_log)
        entries: list[list[Any]] = []
        outputs: list[bytes] = []
        retire = False
        phase = PHASE_FIRST_CALL
        ok = Outcome.OK.value  # plain int: cheaper to build and to encode than the enum member
        enter = progress.enter
        for args in calls:
            now = enter(phase)
            phase += 1
            if now - self._cpu_armed_ns > _REARM_NS:
                self._arm_cpu(now)
            if sink.used:  # most calls log nothing: skip the reset
                sink.reset(max_log)
            try:
                value = function(*args)
            except BaseException as exc:
                entry, out_of_memory = self._failure(exc, filename)
                retire = retire or out_of_memory
                entries.append(entry)
                continue
            logs = sink.lines or None
            if sink.overflowed:  # user code swallowed LogLimitReached
                entries.append([Outcome.LIMIT, logs, LimitName.MAX_LOG_BYTES])
                continue
            try:
                out = encode_output(value)
            except OutputRejected as rejected:
                entries.append([Outcome.OUTPUT, logs, rejected.problem, rejected.path, rejected.detail])
                continue
            except MemoryError:
                entries.append([Outcome.LIMIT, logs, LimitName.MEMORY_BYTES])
                retire = True
                continue
            finally:
                value = None  # let a large result go before the next call
            if len(out) > max_output:
                entries.append([Outcome.LIMIT, logs, LimitName.MAX_OUTPUT_BYTES])
            else:
                entries.append([ok, logs, len(out)])
                outputs.append(out)
        progress.enter(phase)
        return encode_reply(Status.OK, retire, entries, outputs), retire

    def _apply_limits(self, cpu_seconds: int, memory_bytes: int, now: int) -> None:
        if memory_bytes != self._memory_soft:
            resource.setrlimit(resource.RLIMIT_AS, (min(memory_bytes, self._memory_hard), self._memory_hard))
            self._memory_soft = memory_bytes
        self._cpu_seconds = cpu_seconds
        self._arm_cpu(now)

    def _arm_cpu(self, now: int) -> None:
        soft = int(time.process_time()) + self._cpu_seconds + 1
        resource.setrlimit(resource.RLIMIT_CPU, (soft, resource.RLIM_INFINITY))
        self._cpu_armed_ns = now

    def _load(self, version_id: str, source: str, filename: str, max_log: int) -> _Version | _LoadFailure:
        cached = self._cache.get(version_id)
        if cached is not None and cached.source == source:
            self._cache.move_to_end(version_id)
            return cached
        code, _ = compile_module(source, filename)
        namespace = self._factory.new_globals(filename)
        self._sink.reset(max_log)  # module-level log lines are not reported
        try:
            exec(code, namespace)
        except BaseException as exc:
            entry, out_of_memory = self._failure(exc, filename)
            entry[1] = None
            return _LoadFailure(entry, out_of_memory)
        version = _Version(source, namespace)
        self._cache[version_id] = version
        self._cache.move_to_end(version_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return version

    def _failure(self, exc: BaseException, filename: str) -> tuple[list[Any], bool]:
        """The reply entry for an exception that left user code, and whether memory ran out."""
        sink = self._sink
        logs = sink.lines or None
        if sink.overflowed or isinstance(exc, LogLimitReached):
            return [Outcome.LIMIT, logs, LimitName.MAX_LOG_BYTES], False
        if isinstance(exc, MemoryError):
            return [Outcome.LIMIT, logs, LimitName.MEMORY_BYTES], True
        line, function = _user_position(exc, filename)
        message = _message(exc)
        for cls, kind in USER_EXCEPTIONS:
            if isinstance(exc, cls):
                return [Outcome.USER, logs, kind, message, line, function], False
        return [Outcome.UNCAUGHT, logs, type(exc).__name__, message, line, function], False


def _user_position(exc: BaseException, filename: str) -> tuple[int | None, str | None]:
    """Line and function of the innermost frame of user code in the traceback."""
    line: int | None = None
    function: str | None = None
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename == filename:
            line, function = tb.tb_lineno, code.co_name
        tb = tb.tb_next
    return line, function


def _message(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception:
        text = ""
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + "..."
