"""A word of memory shared by the parent and one worker: which call the worker is running, since when.

The worker stores ``(start_us << 16) | phase`` before each step (one 8-byte store, no syscall);
the parent's watchdog reads it to enforce the per-call wall-clock limit, and after a worker dies
the parent reads it to know which call was running, so only that call is blamed.
"""

from __future__ import annotations

import mmap
import os
import tempfile
import time

PHASE_IDLE = 0  # no request read yet (reset by the parent before each request)
PHASE_LOADING = 1  # compiling or running module-level code
PHASE_FIRST_CALL = 2  # call i of the batch runs in phase PHASE_FIRST_CALL + i; then the reply
MAX_PHASE = 0xFFFF
_US_MASK = (1 << 48) - 1


class ProgressWord:
    """The shared word; one per worker slot, reused by each worker spawned into it."""

    def __init__(self, memory: mmap.mmap) -> None:
        self._memory = memory
        self._view = memoryview(memory).cast("Q")

    @classmethod
    def create(cls) -> tuple[ProgressWord, int]:
        """A new word and the file descriptor a worker maps it from."""
        if hasattr(os, "memfd_create"):
            fd = os.memfd_create("sandbox-progress", os.MFD_CLOEXEC)
        else:
            with tempfile.TemporaryFile() as f:
                fd = os.dup(f.fileno())
        os.ftruncate(fd, mmap.PAGESIZE)
        return cls(mmap.mmap(fd, 8)), fd

    @classmethod
    def attach(cls, fd: int) -> ProgressWord:
        return cls(mmap.mmap(fd, 8))

    def enter(self, phase: int) -> int:
        """Record that ``phase`` starts now; returns the monotonic time in ns."""
        now = time.monotonic_ns()
        self._view[0] = (((now // 1000) & _US_MASK) << 16) | phase
        return now

    def clear(self) -> None:
        self._view[0] = 0

    def read(self) -> tuple[int, int]:
        """``(phase, microseconds since the phase started)``, read consistently."""
        word = self._view[0]
        while True:
            again = self._view[0]
            if again == word:
                break
            word = again
        now_us = (time.monotonic_ns() // 1000) & _US_MASK
        return word & MAX_PHASE, (now_us - (word >> 16)) & _US_MASK

    def close(self) -> None:
        self._view.release()
        self._memory.close()
