"""Encoding a call's returned value as JSON, rejecting anything that is not a JSON document.

Runs in the worker. orjson does the encoding and already refuses sets, cycles, non-string keys,
unsupported types and out-of-range integers; it writes NaN and infinities as ``null``, so a second
look for non-finite floats is needed, and only when the output contains ``null`` at all. When
orjson refuses, ``diagnose`` walks the value to say what is wrong and where (error path only).
"""

from __future__ import annotations

import math
import uuid
from typing import Any

import orjson

from sandbox._kinds import OutputProblem

# datetimes and dataclasses would otherwise be turned into strings/objects silently
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_MAX_DEPTH = 254  # orjson's own nesting limit
_INT_MIN = -(2**63)
_INT_MAX = 2**64 - 1
MAX_PATH = 1_000


class OutputRejected(Exception):
    """The value is not a JSON document (worker-internal; becomes ``InvalidOutput`` in the parent)."""

    def __init__(self, problem: OutputProblem, path: str, detail: str) -> None:
        super().__init__(detail)
        self.problem = problem
        self.path = path
        self.detail = detail


def encode_output(value: object) -> bytes:
    """JSON bytes of ``value``; raises ``OutputRejected`` if it is not a JSON document."""
    try:
        out = orjson.dumps(value, option=_OPTIONS)
    except orjson.JSONEncodeError as exc:
        raise diagnose(value, str(exc)) from None
    if b"null" in out:
        path = _non_finite_path(value, "$")
        if path is not None:
            raise OutputRejected(OutputProblem.NOT_FINITE, path, "NaN and infinities are not JSON")
    return out


def _non_finite_path(value: Any, path: str) -> str | None:
    # orjson accepted the value, so it is acyclic and at most 254 levels deep
    if isinstance(value, float):
        return None if math.isfinite(value) else path
    if isinstance(value, dict):
        for key, item in dict.items(value):
            if isinstance(item, (float, dict, list, tuple)):
                found = _non_finite_path(item, _child(path, key))
                if found is not None:
                    return found
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            if isinstance(item, (float, dict, list, tuple)):
                found = _non_finite_path(item, f"{path}[{index}]")
                if found is not None:
                    return found
    return None


def diagnose(value: object, fallback: str) -> OutputRejected:
    """What makes ``value`` unencodable, with its path; ``fallback`` (orjson's message) if unknown."""
    found = _diagnose(value, "$", 0, set())
    return found or OutputRejected(OutputProblem.OTHER, "$", fallback)


def _diagnose(value: Any, path: str, depth: int, ancestors: set[int]) -> OutputRejected | None:
    if value is None or isinstance(value, (bool, uuid.UUID)):
        return None
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return OutputRejected(OutputProblem.INVALID_STRING, path, "string has unpaired surrogates")
        return None
    if isinstance(value, int):
        if _INT_MIN <= value <= _INT_MAX:
            return None
        return OutputRejected(OutputProblem.INTEGER_RANGE, path, "integer does not fit in 64 bits")
    if isinstance(value, float):
        return None if math.isfinite(value) else OutputRejected(
            OutputProblem.NOT_FINITE, path, "NaN and infinities are not JSON")
    if isinstance(value, (dict, list, tuple)):
        if id(value) in ancestors:
            return OutputRejected(OutputProblem.CYCLE, path, "the value contains itself")
        if depth >= _MAX_DEPTH:
            return OutputRejected(OutputProblem.TOO_DEEP, path, f"nested deeper than {_MAX_DEPTH} levels")
        ancestors.add(id(value))
        try:
            if isinstance(value, dict):
                for key, item in dict.items(value):
                    if not isinstance(key, str):
                        detail = f"object key {_short(key)} is a {type(key).__name__}, not a string"
                        return OutputRejected(OutputProblem.NON_STRING_KEY, path, detail)
                    found = _diagnose(item, _child(path, key), depth + 1, ancestors)
                    if found:
                        return found
            else:
                for index, item in enumerate(value):
                    found = _diagnose(item, f"{path}[{index}]", depth + 1, ancestors)
                    if found:
                        return found
        finally:
            ancestors.discard(id(value))
        return None
    return OutputRejected(OutputProblem.NOT_JSON_TYPE, path, f"a {type(value).__name__} is not a JSON value")


def _child(path: str, key: str) -> str:
    # paths travel in replies: keep them bounded whatever the keys are
    if len(path) > MAX_PATH:
        return path
    return f"{path}.{key if len(key) <= 40 else key[:37] + '...'}"


def _short(value: object) -> str:
    try:
        text = repr(value)
    except Exception:
        text = "?"
    return text if len(text) <= 40 else text[:37] + "..."
