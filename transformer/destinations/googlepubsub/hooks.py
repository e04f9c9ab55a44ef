"""Google Pub/Sub: the topic from ``eventToTopicMap`` and the message attributes from
``eventToAttributesMap``, both keyed by event name, then message type, then "*"."""

from __future__ import annotations

from typing import Any

from transformer.hooks import (
    ConfigurationAuthError,
    ConfigurationError,
    Context,
    InstrumentationError,
    SourceKeyError,
    hash_from_array,
    is_truthy,
    js_get,
    js_own,
    stringify,
)

#: Where an attribute path is looked up when the event's root does not have it, in this order.
_SOURCES = ("properties", "traits", "context.traits")


def topic(ctx: Context) -> Any:
    kind = ctx.message.get("type")
    if not is_truthy(kind):
        raise ConfigurationAuthError("type is required for event")  # so the reference tags it
    table = hash_from_array(ctx.config.get("eventToTopicMap"), lower_keys=True,
                            name="eventToTopicMap")
    found = _pick(table, ctx.message)
    if not is_truthy(found):
        raise ConfigurationError("No topic set for this event")
    return found


def attributes(ctx: Context) -> dict[str, str]:
    table = _attribute_table(ctx.config.get("eventToAttributesMap"))
    if not table:
        return {}
    out: dict[str, str] = {}
    for path in _pick(table, ctx.message) or ():
        value = _attribute(ctx.message, path)
        if value is not None:
            out[path.split(".")[-1]] = value
    return out


def _attribute_table(rows: Any) -> dict[str, list[Any]]:
    """``{from.lower(): [to, ...]}`` in config order (not getHashFromArray: no trimming, no blank
    check before lower-casing, duplicates kept). The reference crashes on a map that is not a list
    and on a row without a string ``from``; both are configuration errors here."""
    if not is_truthy(rows) or rows == []:
        return {}
    if not isinstance(rows, list):
        raise ConfigurationError("eventToAttributesMap must be a list of {from, to} rows")
    table: dict[str, list[Any]] = {}
    for index, row in enumerate(rows):
        source = row.get("from") if isinstance(row, dict) else None
        if not isinstance(source, str):
            raise ConfigurationError(f"eventToAttributesMap[{index}].from must be a string")
        if source:
            table.setdefault(source.lower(), []).append(row.get("to"))
    return table


def _pick(table: dict[str, Any], message: dict[str, Any]) -> Any:
    """The entry for the event name, else the type, else "*" (each only if truthy). The type is
    known to be truthy; the reference crashes on a truthy event or type that is not a string,
    which is the event's fault: an InstrumentationError naming the field."""
    event: Any = message.get("event")
    found = table.get(_lower(event, "event")) if is_truthy(event) else None
    if not is_truthy(found):
        found = table.get(_lower(message["type"], "type"))
    if not is_truthy(found):
        found = table.get("*")
    return found


def _lower(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise InstrumentationError(f"{field} must be a string")
    return value.lower()


def _attribute(message: dict[str, Any], path: Any) -> str | None:
    """The value at ``path`` in the event, else in its properties, traits, context.traits; as a
    string (JSON for non-strings), None when nowhere (or null)."""
    if not isinstance(path, str):
        raise SourceKeyError()
    value = js_get(message, path)
    if value is None:
        for source in _SOURCES:
            holder = js_get(message, source)
            if is_truthy(holder):
                direct = _index(holder, path)
                value = direct if is_truthy(direct) else js_get(holder, path)
                if value is not None:
                    break
    if value is None:
        return None
    return value if isinstance(value, str) else stringify(value)


def _index(holder: Any, key: str) -> Any:
    """JavaScript ``holder[key]`` (own keys; strings and arrays index and have a length)."""
    if isinstance(holder, dict | list):
        return js_own(holder, key)[1]
    if isinstance(holder, str):
        return js_own(list(holder), key)[1]
    return None
