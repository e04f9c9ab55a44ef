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
    FUEL = "fuel"


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


class TrapKind(StrEnum):
    """Why a WebAssembly guest stopped abnormally (that was not one of its limits)."""

    UNREACHABLE = "unreachable"  # abort(), panics, __builtin_trap()
    MEMORY_OUT_OF_BOUNDS = "memory_out_of_bounds"
    STACK_OVERFLOW = "stack_overflow"
    INTEGER_DIVISION_BY_ZERO = "integer_division_by_zero"
    INTEGER_OVERFLOW = "integer_overflow"
    BAD_CONVERSION_TO_INTEGER = "bad_conversion_to_integer"
    INDIRECT_CALL = "indirect_call"  # to a null table entry, or with the wrong signature
    TABLE_OUT_OF_BOUNDS = "table_out_of_bounds"
    EXIT = "exit"  # called WASI proc_exit (exit())
    OTHER = "other"


class UserExceptionKind(IntEnum):
    """The four exceptions user code may raise on purpose (values are wire codes)."""

    VALIDATION_ERROR = 0
    RETRY_ERROR = 1
    DROP_EVENT = 2
    EVENT_NOT_SUPPORTED = 3
