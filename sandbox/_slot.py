"""One place in the pool: the worker currently in it, the batch it runs, and its deadline.

The thread holding the slot does all I/O with the worker; the watchdog thread only reads the
progress word and kills. Both meet under the slot's lock, which also makes sure a kill is aimed at
the batch that overran and never at the next one.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

from sandbox._errors import PoolClosed
from sandbox._process import ReadyReport, WorkerProcess, WorkerSettings
from sandbox._progress import PHASE_IDLE, ProgressWord

# Time a worker gets to pick up a request before the per-call clock starts (decoding a large batch)
_PICKUP_GRACE_US = 1_000_000


@dataclass(frozen=True, slots=True)
class Death:
    """A worker died during a batch: in which phase, how it ended, and whether we killed it."""

    phase: int
    returncode: int
    killed_by_watchdog: bool


@dataclass(slots=True)
class SlotCounters:
    spawns: int = 0
    spawn_seconds: float = 0.0
    watchdog_kills: int = 0
    deaths: int = 0
    retirements: int = 0


class Slot:
    def __init__(self, settings: WorkerSettings) -> None:
        self._settings = settings
        self._progress, self._progress_fd = ProgressWord.create()
        self._lock = threading.Lock()
        self._worker: WorkerProcess | None = None
        self._closed = False
        self._batch = 0
        self._busy = False
        self._limit_us = 0
        self._sent_ns = 0
        self._killed_batch = -1
        self.counters = SlotCounters()
        self.report: ReadyReport | None = None

    @property
    def pid(self) -> int | None:
        worker = self._worker
        return worker.pid if worker is not None else None

    def launch(self) -> WorkerProcess:
        """Start a worker process without waiting for it (several can then start in parallel)."""
        if self._closed:
            raise PoolClosed("the sandbox pool is closed")
        self.counters.spawns += 1
        return WorkerProcess(self._settings, self._progress_fd)

    def install(self, worker: WorkerProcess, started_ns: int) -> None:
        """Wait for a launched worker to be ready and make it this slot's worker."""
        try:
            self.report = worker.await_ready()
        except BaseException:
            worker.wait()  # reap it and close its pipes
            raise
        finally:
            self.counters.spawn_seconds += (time.monotonic_ns() - started_ns) / 1e9
        with self._lock:
            if not self._closed:
                self._worker = worker
                return
        worker.stop(0.5)  # the pool closed while this worker was starting
        raise PoolClosed("the sandbox pool is closed")

    def ensure_started(self) -> WorkerProcess:
        worker = self._worker
        if worker is None:
            started = time.monotonic_ns()
            self.install(self.launch(), started)
            worker = self._worker
            assert worker is not None
        return worker

    def exchange(self, payload: bytes, wall_ms: int, max_reply: int) -> bytearray | Death:
        """Send a batch and wait for its reply, under the watchdog; a ``Death`` if the worker died."""
        worker = self.ensure_started()
        self._progress.clear()
        with self._lock:
            self._batch += 1
            self._limit_us = wall_ms * 1000
            self._sent_ns = time.monotonic_ns()
            self._busy = True
        try:
            reply = worker.exchange(payload, max_reply)
        except BaseException:
            # interrupted between request and reply: the worker's reply would be read by the next
            # batch, so this worker cannot be used again
            with self._lock:
                self._busy = False
            self._discard()
            raise
        with self._lock:
            self._busy = False
            killed = self._killed_batch == self._batch
        if reply is not None:
            if killed:  # the reply got out just before the kill landed: use it, replace the worker
                self.replace()
            return reply
        phase, _ = self._progress.read()
        returncode = self._discard()
        self.counters.deaths += 1
        return Death(phase, returncode, killed)

    def check_deadline(self, now_ns: int) -> None:
        """Called by the watchdog: kill the worker if its current step is past the wall-clock limit."""
        if not self._busy:
            return
        with self._lock:
            worker = self._worker
            if not self._busy or worker is None or self._killed_batch == self._batch:
                return
            phase, elapsed_us = self._progress.read()
            if phase == PHASE_IDLE:
                elapsed_us = (now_ns - self._sent_ns) // 1000 - _PICKUP_GRACE_US
            if elapsed_us >= self._limit_us:
                self._killed_batch = self._batch
                self.counters.watchdog_kills += 1
                worker.kill()

    def replace(self) -> None:
        """Retire the current worker and start a fresh one."""
        self.counters.retirements += 1
        self._discard()
        self.ensure_started()

    def _discard(self) -> int:
        with self._lock:
            worker, self._worker = self._worker, None
        return worker.wait() if worker is not None else 0

    def close(self, timeout_s: float) -> None:
        with self._lock:
            self._closed = True
            if self._busy:
                # the thread running the batch owns the pipes: only kill, and let it clean up
                if self._worker is not None:
                    self._worker.kill()
                return
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop(timeout_s)
        self._progress.close()
        os.close(self._progress_fd)
