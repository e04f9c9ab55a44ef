"""What a local (or server-side) test run of a function produced, per event, in plain values."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._model import FunctionKind, Language

#: A status at or above this is an error (the router would abort or retry, not deliver or filter).
ERROR_STATUS = 400


@dataclass(frozen=True, slots=True)
class EventResult:
    """What one event became: status code, output documents (decoded), error, logs and time."""

    status_code: int
    outputs: tuple[Any, ...]
    error: str | None
    logs: tuple[str, ...]
    elapsed_ms: float
    #: The function's source line that raised, when known.
    line: int | None = None
    #: The most memory the call had, when measured: a Python function's sandbox worker's peak
    #: resident memory during the call (the interpreter's own included), a WebAssembly guest's
    #: linear memory.
    memory_bytes: int | None = None

    @property
    def failed(self) -> bool:
        return self.status_code >= ERROR_STATUS

    @property
    def output(self) -> Any:
        """The one output document; None when there is none; the list when there are several."""
        if not self.outputs:
            return None
        return self.outputs[0] if len(self.outputs) == 1 else list(self.outputs)

    def to_json(self) -> dict[str, Any]:
        return {"statusCode": self.status_code, "output": self.output, "error": self.error,
                "logs": list(self.logs), "elapsed_ms": self.elapsed_ms, "memory_bytes": self.memory_bytes}


@dataclass(frozen=True, slots=True)
class FunctionRun:
    """A function run on some events: one ``EventResult`` per event, in order.

    ``unmatched`` and ``call_logs`` are for ``transformBatch`` (one call for all events): returned
    events carrying no input's ``messageId``, and what that call logged.
    """

    path: Path
    #: ``name@<version prefix>``, as the server names this code in its errors.
    label: str
    kind: FunctionKind
    language: Language
    results: tuple[EventResult, ...]
    unmatched: tuple[Any, ...] = ()
    call_logs: tuple[str, ...] = ()
    elapsed_ms: float = 0.0
    #: Where it ran: ``local sandbox`` or ``server HOST:PORT``.
    where: str = "local sandbox"

    @property
    def peak_memory_bytes(self) -> int | None:
        """The most memory any call had (see ``EventResult.memory_bytes``), None when not measured."""
        measured = [result.memory_bytes for result in self.results if result.memory_bytes is not None]
        return max(measured) if measured else None

    @property
    def outputs(self) -> list[Any]:
        """Every output document, in event order (then ``unmatched``)."""
        return [output for result in self.results for output in result.outputs] + list(self.unmatched)

    @property
    def errors(self) -> list[str]:
        """The errors of the events that failed (status 400 or more), in order."""
        return [result.error or f"status {result.status_code}" for result in self.results if result.failed]

    @property
    def logs(self) -> list[str]:
        """Every line logged, in event order (then the ``transformBatch`` call's)."""
        return [line for result in self.results for line in result.logs] + list(self.call_logs)

    @property
    def status_codes(self) -> list[int]:
        return [result.status_code for result in self.results]

    @property
    def ok(self) -> bool:
        """No event failed."""
        return not any(result.failed for result in self.results)

    def summary(self) -> dict[str, Any]:
        codes = self.status_codes
        summary: dict[str, Any] = {
            "function": str(self.path), "kind": self.kind.value, "language": self.language.value,
            "where": self.where, "events": len(codes), "ok": codes.count(200),
            "dropped": sum(1 for code in codes if 200 < code < ERROR_STATUS),
            "errors": sum(1 for code in codes if code >= ERROR_STATUS),
            "elapsed_ms": self.elapsed_ms, "peak_memory_bytes": self.peak_memory_bytes,
        }
        if self.unmatched or self.call_logs:
            summary["unmatched_outputs"] = list(self.unmatched)
            summary["logs"] = list(self.call_logs)
        return summary

    def to_json(self) -> dict[str, Any]:
        return {"results": [result.to_json() for result in self.results], "summary": self.summary()}
