"""Firehose: which delivery stream an event goes to, from the ``mapEvents`` table."""

from __future__ import annotations

from typing import Any

from transformer.hooks import ConfigurationError, Context, InstrumentationError, is_truthy, to_string


def _table(rows: Any) -> dict[str, Any]:
    """``{from.lower(): to}`` as the reference's getHashFromArray builds it: rows with a blank
    ``from`` are skipped, ``from`` is not trimmed, a later row wins."""
    table: dict[str, Any] = {}
    if not isinstance(rows, list):
        return table
    # Rows the reference crashes on (a 500 the router would retry forever) are configuration
    # errors here: retrying cannot fix them.
    for index, row in enumerate(rows):
        if row is None:
            raise ConfigurationError(f"mapEvents[{index}] is null")
        source = row.get("from") if isinstance(row, dict) else None
        if source is None or not to_string(source).strip():
            continue
        if not isinstance(source, str):
            raise ConfigurationError(f"mapEvents[{index}].from must be a string")
        table[source.lower()] = row.get("to")
    return table


def delivery_stream(ctx: Context) -> Any:
    """The stream mapped to the event name, else to the type, else to "*" (each only if truthy)."""
    table = _table(ctx.config.get("mapEvents"))
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
