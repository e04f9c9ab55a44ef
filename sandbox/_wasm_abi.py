"""Guest ABI v1: the JSON document a WebAssembly guest is given, and how its answer is read.

Given (UTF-8 JSON)::

    {"kind": "transformation", "events": [...], "metadata": [...], "settings": {...}}

Answered (UTF-8 JSON), one result per event, in order::

    {"results": [{"event": {...}} | {"events": [...]} | {"request": {...}} | {"error": ...}, ...]}

Events, metadata and settings are passed on as the caller's bytes (never decoded and re-encoded).
The answer is decoded once and each result's value is encoded on its own, so the caller gets one
JSON document per event exactly as from a Python function. The exports and the memory protocol
around these documents are in ``_wasm_host``; docs/wasm-abi.md is the guest author's view.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from sandbox._errors import USER_ERROR_TYPES, CallError, GuestError, InvalidAnswer, LimitExceeded
from sandbox._kinds import LimitName
from sandbox._results import CallResult

ABI_VERSION = 1
MAX_MESSAGE = 2_000
_OUTPUT_KEYS = frozenset(("event", "events", "request"))
_ERROR_TYPES = {cls.exception_name: cls for cls in USER_ERROR_TYPES.values()}
_RESULT_SHAPE = 'a result must be an object with one key: "event", "events", "request" or "error"'
_dumps = orjson.dumps


class BadAnswer(Exception):
    """The answer as a whole is unusable (not JSON, not ``{"results": [...]}``, a result per event
    missing or too many); nothing in it can be attributed to one event."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def error(self) -> InvalidAnswer:
        """The error of the one event a single-event call carried."""
        return InvalidAnswer(self.detail)


def encode_input(kind: str, events: Sequence[bytes], metadata: Sequence[bytes], settings: bytes) -> bytes:
    """The input document; empty bytes stand for null."""
    return b"".join((
        b'{"kind":', _dumps(kind),
        b',"events":[', b",".join(event or b"null" for event in events),
        b'],"metadata":[', b",".join(meta or b"null" for meta in metadata),
        b'],"settings":', settings or b"{}", b"}",
    ))


def decode_answer(data: bytes, count: int, max_output: int) -> list[CallResult]:
    """One ``CallResult`` per event; raises ``BadAnswer`` when the answer as a whole is unusable."""
    try:
        answer = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadAnswer(f"it is not JSON: {exc}") from None
    results = answer.get("results") if type(answer) is dict else None
    if type(results) is not list:
        raise BadAnswer('it must be a JSON object {"results": [...]}')
    if len(results) != count:
        raise BadAnswer(f"it has {len(results)} results for {count} event{'s' if count != 1 else ''}")
    decoded: list[CallResult] = []
    append = decoded.append
    for entry in results:
        if type(entry) is dict and len(entry) == 1:
            key, value = next(iter(entry.items()))
            if key in _OUTPUT_KEYS:
                out = _dumps(value)
                if len(out) <= max_output:
                    append(CallResult(out, None))
                else:
                    append(CallResult(None, LimitExceeded(LimitName.MAX_OUTPUT_BYTES, max_output)))
                continue
            if key == "error":
                append(CallResult(None, _guest_error(value)))
                continue
        append(CallResult(None, InvalidAnswer(_RESULT_SHAPE)))
    return decoded


def _guest_error(value: Any) -> CallError:
    """``{"error": "text"}`` fails the event; ``{"error": {"type": "DropEvent", "message": ...}}``
    raises one of the four exceptions a Python function may raise."""
    if isinstance(value, str):
        return GuestError(_short(value))
    if isinstance(value, dict):
        message = value.get("message")
        text = _short(message) if isinstance(message, str) else ""
        kind = value.get("type")
        cls = _ERROR_TYPES.get(kind) if isinstance(kind, str) else None
        if cls is not None:
            return cls(text)
        if isinstance(kind, str) and kind:
            return GuestError(f"{_short(kind)}: {text}" if text else _short(kind))
        if text:
            return GuestError(text)
    return GuestError(_short(_dumps(value).decode()))


def _short(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + "..."
