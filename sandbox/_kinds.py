"""Small enumerations shared by the parent, the worker and the errors they exchange."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class LimitName(StrEnum):
    """A limit a call can exceed; each value is the name of the matching ``Limits`` field."""

    WALL_MS = "wall_ms"
    CPU_SECONDS = "cpu_seconds"
    MEMORY_BYTES = "memory_bytes"
    MAX_OUTPUT_BYTES = "max_output_bytes"
    MAX_LOG_BYTES = "max_log_bytes"


class OutputProblem(StrEnum):
    """Why a returned value is not a JSON document."""

    NOT_JSON_TYPE = "not_json_type"
    NOT_FINITE = "not_finite"
    NON_STRING_KEY = "non_string_key"
    CYCLE = "cycle"
    TOO_DEEP = "too_deep"
    INTEGER_RANGE = "integer_range"
    INVALID_STRING = "invalid_string"
    OTHER = "other"


class UserExceptionKind(IntEnum):
    """The four exceptions user code may raise on purpose (values are wire codes)."""

    VALIDATION_ERROR = 0
    RETRY_ERROR = 1
    DROP_EVENT = 2
    EVENT_NOT_SUPPORTED = 3
