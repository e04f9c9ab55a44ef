"""Google Pub/Sub: the topic from ``eventToTopicMap`` and the message attributes from
``eventToAttributesMap``, both keyed by event name, then message type, then "*"."""

from __future__ import annotations

from typing import Any

from transformer.hooks import (
    ConfigurationAuthError,
    ConfigurationError,
    Context,
    InstrumentationError,
    TransformerError,
    hash_from_array,
    is_array_index,
    is_truthy,
    stringify,
)

#: Where an attribute path is looked up when the event's root does not have it, in this order.
_SOURCES = ("properties", "traits", "context.traits")


class _SourceKeyError(TransformerError):
    """The reference's PlatformError for a non-string attribute path: a 400 tagged "platform"."""

    error_category = "platform"


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
        raise _SourceKeyError("Wrong sourceKey type or blank sourceKey array")
    value = _get(message, path)
    if value is None:
        for source in _SOURCES:
            holder = _get(message, source)
            if is_truthy(holder):
                direct = _index(holder, path)
                value = direct if is_truthy(direct) else _get(holder, path)
                if value is not None:
                    break
    if value is None:
        return None
    return value if isinstance(value, str) else stringify(value)


def _own(target: dict[str, Any] | list[Any], key: str) -> tuple[bool, Any]:
    """JavaScript ``key in target`` and ``target[key]`` for a JSON object or array."""
    if isinstance(target, dict):
        return (key in target), target.get(key)
    if key == "length":
        return True, len(target)
    if is_array_index(key) and int(key) < len(target):
        return True, target[int(key)]
    return False, None


def _index(holder: Any, key: str) -> Any:
    """JavaScript ``holder[key]`` (own keys; strings and arrays index and have a length)."""
    if isinstance(holder, dict | list):
        return _own(holder, key)[1]
    if isinstance(holder, str):
        return _own(list(holder), key)[1]
    return None


def _get(target: Any, path: str) -> Any:
    """npm get-value 3, as the reference's lookups use it (undefined and null are both None): a
    non-container is returned itself; a key equal to the whole path wins; otherwise the dotted
    path is walked, joining segments into a dotted key where one exists ("a.b" in {"a.b": ...})."""
    if not isinstance(target, dict | list):
        return target
    found, value = _own(target, path)
    if found:
        return value
    segments = path.split(".")
    count, i = len(segments), 0
    while True:
        key = segments[i]
        while key.endswith("\\"):  # an escaped dot
            i += 1
            key = f"{key[:-1]}.{segments[i] if i < count else ''}"
        found, value = _own(target, key)
        j = i + 1
        while not found and j < count:
            key = f"{key}.{segments[j]}"
            j += 1
            found, value = _own(target, key)
            if found:
                i = j - 1
        if not found:
            return None
        target = value
        i += 1
        if i >= count or not isinstance(target, dict | list):
            break
    return target if i == count else None
