"""Firehose: which delivery stream an event goes to, from the ``mapEvents`` table."""

from __future__ import annotations

from typing import Any

from transformer.hooks import (
    ConfigurationError,
    Context,
    InstrumentationError,
    hash_from_array,
    is_truthy,
    to_string,
)


def delivery_stream(ctx: Context) -> Any:
    """The stream mapped to the event name, else to the type, else to "*" (each only if truthy)."""
    # Malformed rows, which the reference crashes on (a 500 the router would retry forever), are
    # configuration errors here: retrying cannot fix them.
    table = hash_from_array(ctx.config.get("mapEvents"), lower_keys=True, name="mapEvents")
    event: Any = ctx.message.get("event")
    kind: Any = ctx.message.get("type")
    stream = table.get(event.lower()) if isinstance(event, str) and event else None
    if not is_truthy(stream) and is_truthy(kind):
        if not isinstance(kind, str):
            # The reference crashes here (a 500 the router would retry forever); it is the event's
            # fault, so say so.
            raise InstrumentationError(f"type must be a string, not {to_string(kind)!r}")
        stream = table.get(kind.lower())
    if not is_truthy(stream):
        stream = table.get("*")
    if not is_truthy(stream):
        raise ConfigurationError("No delivery stream set for this event")
    return stream
