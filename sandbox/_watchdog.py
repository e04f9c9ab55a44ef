"""The parent's watchdog: a thread that kills workers whose current call is past its wall-clock limit.

It polls every slot on a fixed tick rather than being woken per batch, which keeps the hot path
free of cross-thread signalling; a call is killed between its limit and its limit plus one tick.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from sandbox._slot import Slot

log = logging.getLogger("sandbox")


class Watchdog:
    def __init__(self, slots: Sequence[Slot], tick_s: float) -> None:
        self._slots = tuple(slots)
        self._tick_s = tick_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-watchdog", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._tick_s):
            now = time.monotonic_ns()
            for slot in self._slots:
                try:
                    slot.check_deadline(now)
                except Exception:
                    # never let one failure end the thread that bounds every call
                    log.exception("sandbox watchdog check failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join()
