"""What user code is given besides its arguments: four exceptions and a bounded ``log``.

Runs in the worker. A ``LogSink`` collects one call's log lines; it is reset before each call.
"""

from __future__ import annotations

from typing import Any

from sandbox._kinds import UserExceptionKind


class ValidationError(Exception):
    """Raise to reject the event as invalid (no retry)."""


class RetryError(Exception):
    """Raise for a transient failure: the event is worth retrying."""


class DropEvent(Exception):
    """Raise to drop the event on purpose."""


class EventNotSupported(Exception):
    """Raise when the function does not handle this kind of event."""


# Checked in this order, so a class inheriting from two of them gets a stable kind.
USER_EXCEPTIONS: tuple[tuple[type[Exception], UserExceptionKind], ...] = (
    (DropEvent, UserExceptionKind.DROP_EVENT),
    (RetryError, UserExceptionKind.RETRY_ERROR),
    (ValidationError, UserExceptionKind.VALIDATION_ERROR),
    (EventNotSupported, UserExceptionKind.EVENT_NOT_SUPPORTED),
)


class LogLimitReached(BaseException):
    """Raised into user code by ``log``/``print`` once the log limit is used up.

    A BaseException so that ``except Exception`` in user code does not swallow it; a bare
    ``except`` still can, which is why the sink also remembers the overflow.
    """


class LogSink:
    """One call's log lines, bounded in UTF-8 bytes; ``overflowed`` sticks once the bound is hit."""

    __slots__ = ("limit", "lines", "overflowed", "used")

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.used = 0
        self.limit = 0
        self.overflowed = False

    def reset(self, limit: int) -> None:
        self.lines = []
        self.used = 0
        self.limit = limit
        self.overflowed = False

    def write(self, line: str) -> None:
        if self.overflowed:
            raise LogLimitReached
        # lone surrogates cannot be encoded; replace them so the line can travel as JSON
        data = line.encode("utf-8", "replace")
        self.used += len(data) + 1
        if self.used > self.limit:
            self.overflowed = True
            raise LogLimitReached
        self.lines.append(line if len(data) == len(line) else data.decode("utf-8"))

    def log(self, *args: object) -> None:
        """``log(*args)`` as user code sees it: one line, the arguments joined by spaces."""
        self.write(" ".join([a if type(a) is str else str(a) for a in args]))

    def print_factory(self, _getattr: object = None) -> PrintTarget:
        """RestrictedPython's ``_print_``: called once per function that uses ``print``."""
        return PrintTarget(self)


class PrintTarget:
    """``print(...)`` in user code: lines go to the call's log (``file=`` is not supported)."""

    __slots__ = ("_printed", "_sink")

    def __init__(self, sink: LogSink) -> None:
        self._sink = sink
        self._printed: list[str] = []

    def _call_print(self, *objects: object, sep: str | None = " ", end: str | None = "\n",
                    file: Any = None, flush: bool = False) -> None:
        if file is not None:
            raise TypeError("print(file=...) is not supported; use log(...)")
        sep = " " if sep is None else sep
        end = "\n" if end is None else end
        text = sep.join(o if type(o) is str else str(o) for o in objects)
        self._printed.append(text + end)
        self._sink.write(text)

    def __call__(self) -> str:
        # RestrictedPython turns a read of the name ``printed`` into this call
        return "".join(self._printed)
