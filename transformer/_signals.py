"""SIGTERM/SIGINT that arrive while a server process is still starting.

A worker process started by ``transformer serve --workers N`` may receive the parent's SIGTERM
while it is still importing, loading destinations or starting its sandbox pool. Instead of dying
there (no drain, no "stopped" line, a non-zero exit), it remembers the signal, finishes starting,
and drains at once.
"""

from __future__ import annotations

import signal
import threading

#: Set by a signal caught by ``catch_early_stop``'s handlers.
early_stop = threading.Event()


def catch_early_stop() -> None:
    """Remember SIGTERM/SIGINT until the server's event loop takes them over."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: early_stop.set())
