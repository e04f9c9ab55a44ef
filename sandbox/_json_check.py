"""Saying which input of a call is not JSON, for both runtimes: inputs are passed on unchecked on
the hot path, so only a refused call looks at them one by one to fail just the bad ones."""

from __future__ import annotations

import orjson


def json_problem(*documents: tuple[str, bytes]) -> str:
    """The first of ``documents`` (each a label, e.g. ``"the event"``, and JSON bytes; empty bytes
    stand for null) that is not valid JSON, as one sentence; ``""`` when every one is."""
    for what, data in documents:
        if data:
            try:
                orjson.loads(data)
            except orjson.JSONDecodeError as exc:
                return f"{what} is not valid JSON: {exc}"
    return ""
