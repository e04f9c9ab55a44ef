"""What travels between the parent and a worker, and its translation into public types.

Request (one frame): orjson ``[version_id, source, filename, entry, limits, calls]`` with
``limits = [wall_ms, cpu_seconds, memory_bytes, max_output_bytes, max_log_bytes]``.

Reply (one frame): a 4-byte header length, an orjson header ``[status, retire, payload]``, then
the successful outputs' JSON back to back (the parent slices them out without decoding them).
With status OK the payload holds one entry per call: ``[outcome, logs, ...details]``.

``decode_reply`` is the one place where what a worker reports becomes ``CallResult``s and
``SandboxError``s; ``death_error`` does the same for a worker that died.
"""

from __future__ import annotations

import signal
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import orjson

from sandbox._errors import (
    USER_ERROR_TYPES,
    CallError,
    CompileError,
    InvalidCall,
    InvalidOutput,
    LimitExceeded,
    MissingEntryPoint,
    SourceIssue,
    UncaughtError,
    WorkerCrashed,
)
from sandbox._kinds import LimitName, OutputProblem, UserExceptionKind
from sandbox._limits import Limits
from sandbox._results import CallResult

HEADER_LENGTH = struct.Struct("<I")


class Status(IntEnum):
    OK = 0
    COMPILE_ERROR = 1
    MISSING_ENTRY = 2
    # the request is not JSON: an ``orjson.Fragment`` argument held invalid JSON
    BAD_REQUEST = 3


class Outcome(IntEnum):
    OK = 0  # [0, logs, output_length]
    USER = 1  # [1, logs, kind, message, line, function]
    UNCAUGHT = 2  # [2, logs, exception_type, message, line, function]
    LIMIT = 3  # [3, logs, limit_name]
    OUTPUT = 4  # [4, logs, problem, path, detail]


class ExitCode(IntEnum):
    """How a worker process ends on its own."""

    DONE = 0  # the parent closed the request pipe, or the worker retired after a reply
    OUT_OF_MEMORY = 3  # MemoryError outside a user call's own handling
    BROKEN = 4  # a bug or an unreadable request


def encode_request(version_id: str, source: str, filename: str, entry: str, limits: Limits,
                   calls: Sequence[object]) -> bytes:
    """The request frame's payload; raises orjson.JSONEncodeError for arguments that are not JSON."""
    return orjson.dumps([version_id, source, filename, entry,
                         [limits.wall_ms, limits.cpu_seconds, limits.memory_bytes, limits.max_output_bytes,
                          limits.max_log_bytes], calls])


def encode_reply(status: Status, retire: bool, payload: object, outputs: list[bytes]) -> list[bytes]:
    """The reply frame's parts (header length, header, outputs)."""
    header = orjson.dumps([status, retire, payload])
    return [HEADER_LENGTH.pack(len(header)), header, *outputs]


@dataclass(frozen=True, slots=True)
class Reply:
    results: list[CallResult]
    retire: bool  # the worker asks to be replaced (it hit its memory limit)


def max_reply_size(limits: Limits, calls: int) -> int:
    """The largest reply a worker can legitimately send for ``calls`` calls under ``limits``."""
    # JSON escapes can grow text up to 6x (\u0001); messages and paths are capped by the worker
    return 1_048_576 + calls * (limits.max_output_bytes + 6 * limits.max_log_bytes + 65_536)


def decode_reply(frame: bytearray, limits: Limits, calls: int) -> Reply:
    """Results of a batch of ``calls`` calls.

    Raises ``CompileError``/``MissingEntryPoint`` if nothing could run, ``InvalidCall`` if the
    worker could not decode the request, ``WorkerCrashed`` if the reply cannot be read (a worker
    bug: it is never parsed past what the header announces).
    """
    try:
        reply = _decode_reply(frame, limits)
    except InvalidCall:
        raise
    except (ValueError, TypeError, IndexError, KeyError) as exc:  # orjson.JSONDecodeError is a ValueError
        raise WorkerCrashed(f"unreadable reply from the worker: {type(exc).__name__}: {exc}") from None
    if len(reply.results) != calls:
        raise WorkerCrashed(f"the worker answered {len(reply.results)} of {calls} calls")
    return reply


def _decode_reply(frame: bytearray, limits: Limits) -> Reply:
    view = memoryview(frame)
    (header_length,) = HEADER_LENGTH.unpack_from(view)
    position = HEADER_LENGTH.size + header_length
    status, retire, payload = orjson.loads(view[HEADER_LENGTH.size:position])
    if status == Status.COMPILE_ERROR:
        issues = tuple(SourceIssue(line, column, message) for line, column, message in payload)
        first = issues[0]
        raise CompileError(first.message, first.line, first.column, issues)
    if status == Status.MISSING_ENTRY:
        raise MissingEntryPoint(payload)
    if status == Status.BAD_REQUEST:
        raise InvalidCall(f"call arguments are not valid JSON: {payload}")
    # hot path: one copy of the frame, then plain bytes slices; enum members bound to locals
    data = bytes(frame)
    ok = Outcome.OK.value
    results: list[CallResult] = []
    append = results.append
    for entry in payload:
        if entry[0] == ok:
            end = position + entry[2]
            append(CallResult(data[position:end], None, tuple(entry[1]) if entry[1] else ()))
            position = end
        else:
            append(CallResult(None, _call_error(entry, limits), tuple(entry[1]) if entry[1] else ()))
    return Reply(results, bool(retire))


def _call_error(entry: list[Any], limits: Limits) -> CallError:
    outcome = entry[0]
    if outcome == Outcome.USER:
        _, _, kind, message, line, function = entry
        return USER_ERROR_TYPES[UserExceptionKind(kind)](message, line, function)
    if outcome == Outcome.UNCAUGHT:
        _, _, exception_type, message, line, function = entry
        return UncaughtError(exception_type, message, line, function)
    if outcome == Outcome.LIMIT:
        return limit_exceeded(LimitName(entry[2]), limits)
    if outcome == Outcome.OUTPUT:
        _, _, problem, path, detail = entry
        return InvalidOutput(OutputProblem(problem), path, detail)
    return WorkerCrashed(f"unknown outcome {outcome!r}")


def limit_exceeded(limit: LimitName, limits: Limits) -> LimitExceeded:
    return LimitExceeded(limit, getattr(limits, limit.value))


def death_error(returncode: int | None, killed_by_watchdog: bool, limits: Limits) -> CallError:
    """Why a worker died, as the error of the call it was running."""
    if killed_by_watchdog:
        return limit_exceeded(LimitName.WALL_MS, limits)
    if returncode == -signal.SIGXCPU:
        return limit_exceeded(LimitName.CPU_SECONDS, limits)
    if returncode == ExitCode.OUT_OF_MEMORY:
        return limit_exceeded(LimitName.MEMORY_BYTES, limits)
    if returncode is not None and returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return WorkerCrashed(f"killed by {name}")
    return WorkerCrashed(f"exited with status {returncode}")
