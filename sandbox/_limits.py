"""Resource limits of a call, with server-wide defaults and validated per-function overrides."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, fields

from sandbox._errors import LimitsError

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

# Below this a worker's interpreter (with its imports) cannot even run; see _confine.
MIN_MEMORY_BYTES = 64 * MIB
# The worker reports which call it is running in 16 bits of a shared word (see _progress).
MAX_EVENTS_PER_BATCH = 60_000


@dataclass(frozen=True, slots=True)
class Limits:
    """Limits applied to every call of a function.

    ``wall_ms`` and ``cpu_seconds`` bound one call; ``memory_bytes`` is the worker's address space
    (RLIMIT_AS) while it runs the function; ``max_output_bytes`` and ``max_log_bytes`` bound the JSON
    a call returns and the text it logs; ``max_events_per_batch`` is how many calls travel to a
    worker in one round trip. WebAssembly guests run in this process, not in a worker: for them
    ``memory_bytes`` bounds the guest's linear memory, ``fuel`` the WebAssembly instructions one call
    may execute (about one unit each), and ``cpu_seconds`` is not used (a guest runs on one thread,
    so ``wall_ms`` bounds its CPU too). Python ignores ``fuel``.
    """

    wall_ms: int = 1_000
    cpu_seconds: int = 1
    memory_bytes: int = 256 * MIB
    max_output_bytes: int = 1 * MIB
    max_log_bytes: int = 64 * KIB
    max_events_per_batch: int = 1_000
    fuel: int = 1_000_000_000

    def __post_init__(self) -> None:
        problems = []
        for f in fields(self):
            value = getattr(self, f.name)
            # bool is an int subclass; True as a limit is always a mistake
            if type(value) is not int or value <= 0:
                problems.append(f"{f.name} must be a positive integer, got {value!r}")
        if not problems:
            if self.memory_bytes < MIN_MEMORY_BYTES:
                problems.append(f"memory_bytes must be at least {MIN_MEMORY_BYTES}, got {self.memory_bytes}")
            if self.max_events_per_batch > MAX_EVENTS_PER_BATCH:
                problems.append(f"max_events_per_batch must be at most {MAX_EVENTS_PER_BATCH}, "
                                f"got {self.max_events_per_batch}")
        if problems:
            raise LimitsError("; ".join(problems))

    def replace(self, **changes: int) -> Limits:
        """A copy with some limits changed (validated like the constructor)."""
        unknown = sorted(set(changes) - LIMIT_FIELDS)
        if unknown:
            known = ", ".join(sorted(LIMIT_FIELDS))
            raise LimitsError(f"unknown limit(s): {', '.join(unknown)}; known: {known}")
        return dataclasses.replace(self, **changes)

    def above(self, ceiling: Limits) -> list[str]:
        """Names of the limits that are higher than ``ceiling``'s."""
        return [f.name for f in fields(self) if getattr(self, f.name) > getattr(ceiling, f.name)]


LIMIT_FIELDS = frozenset(f.name for f in fields(Limits))

DEFAULT_MAXIMUM = Limits(wall_ms=30_000, cpu_seconds=30, memory_bytes=2 * GIB,
                         max_output_bytes=32 * MIB, max_log_bytes=1 * MIB, max_events_per_batch=10_000,
                         fuel=100_000_000_000)


@dataclass(frozen=True, slots=True)
class LimitPolicy:
    """Server-wide limits: what a function gets by default and the most it may ask for."""

    defaults: Limits = Limits()
    maximum: Limits = DEFAULT_MAXIMUM

    def __post_init__(self) -> None:
        above = self.defaults.above(self.maximum)
        if above:
            raise LimitsError(f"default limits above the maximum: {', '.join(above)}")

    def derive(self, overrides: Mapping[str, int] | None = None, /, **changes: int) -> Limits:
        """The defaults with a function's overrides applied, checked against the maximum."""
        merged = {**(overrides or {}), **changes}
        return self.check(self.defaults.replace(**merged) if merged else self.defaults)

    def check(self, limits: Limits) -> Limits:
        """``limits`` itself, if none of them is above the maximum."""
        above = limits.above(self.maximum)
        if above:
            detail = ", ".join(f"{n}={getattr(limits, n)} > {getattr(self.maximum, n)}" for n in above)
            raise LimitsError(f"limits above the server maximum: {detail}")
        return limits
