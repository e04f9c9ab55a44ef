"""A small library of realistic sample inputs (RudderStack-shaped events, one webhook delivery), so
that a function's author does not start from nothing."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import orjson

from ._errors import InputError
from ._kinds import MESSAGE_TYPES

#: The event types, then ``request``: a webhook delivery, what a source function is given.
SAMPLE_TYPES: tuple[str, ...] = (*MESSAGE_TYPES, "request")


@functools.cache
def _library() -> bytes:
    # kept encoded: every caller gets its own fresh copy to mutate
    return resources.files(__package__).joinpath("sample_events.json").read_bytes()


def sample_event(kind: str) -> dict[str, Any]:
    """A fresh copy of the sample of ``kind`` (one of ``SAMPLE_TYPES``)."""
    samples: dict[str, dict[str, Any]] = orjson.loads(_library())
    try:
        return samples[kind]
    except KeyError:
        raise InputError(f"no sample event of type {kind!r}; known: {', '.join(SAMPLE_TYPES)}") from None


def sample_events() -> list[dict[str, Any]]:
    """One sample of each event type (``track`` ... ``alias``), fresh copies."""
    samples: dict[str, dict[str, Any]] = orjson.loads(_library())
    return [samples[kind] for kind in MESSAGE_TYPES]
