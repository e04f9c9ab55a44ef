"""Where the service gets "now" from.

Some destinations stamp requests with the current time. Production reads the system clock; tests
and the conformance runner pin it so that time-dependent outputs can be reproduced exactly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int:
        """Milliseconds since the Unix epoch."""
        ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class FixedClock:
    ms: int

    def now_ms(self) -> int:
        return self.ms


SYSTEM_CLOCK = SystemClock()
