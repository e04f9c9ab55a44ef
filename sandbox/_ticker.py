"""The epoch ticker: advances an engine's epoch at a fixed period while guests are running.

A store's epoch deadline is "N ticks from now", so a guest is interrupted between (N - 1) and N
periods after its call started. The thread sleeps while no call is running (an idle server costs
nothing) and ends when the ticker is closed or its engine is garbage-collected (a runtime that was
never closed leaves no thread behind).
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import wasmtime


class EpochTicker:
    def __init__(self, engine: wasmtime.Engine, period_ms: int) -> None:
        self.period_ms = period_ms
        self._lock = threading.Lock()
        self._running = 0
        self._busy = threading.Event()
        self._closed = threading.Event()
        self._thread = threading.Thread(
            target=_tick, args=(weakref.ref(engine), period_ms / 1000, self._busy, self._closed),
            name="wasm-epoch-ticker", daemon=True)
        self._thread.start()

    def ticks(self, wall_ms: int) -> int:
        """The epoch deadline that interrupts a call no sooner than ``wall_ms`` after it starts."""
        return math.ceil(wall_ms / self.period_ms) + 1

    @contextmanager
    def running(self) -> Iterator[None]:
        """Keep the epoch advancing while the block runs a guest."""
        with self._lock:
            self._running += 1
            self._busy.set()
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                if not self._running:
                    self._busy.clear()

    def close(self) -> None:
        self._closed.set()
        self._busy.set()
        self._thread.join(timeout=1)


def _tick(engine_ref: weakref.ref[wasmtime.Engine], period_s: float, busy: threading.Event,
          closed: threading.Event) -> None:
    while not closed.is_set():
        if not busy.wait(timeout=1.0):
            if engine_ref() is None:
                return
            continue
        if closed.wait(period_s):
            return
        engine = engine_ref()
        if engine is None:
            return
        engine.increment_epoch()
        del engine
