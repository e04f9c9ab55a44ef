"""Kafka: choose the envelope's userId, schemaId and topic, and tag metadata.rudderId with the topic.

The reference chains its choices with JavaScript ``||`` (any falsy value falls through, the last
operand is kept as it is), which the mapping's "first present" lookups cannot express. Where the
reference crashes, an UnexpectedError carries its JavaScript message (a 500 tagged as it tags them).
"""

from __future__ import annotations

from typing import Any

from transformer.hooks import Context, UnexpectedError, is_truthy, to_string

#: The names the reference looks up under ``message.integrations``, in order.
_INTEGRATION_NAMES = ("KAFKA", "kafka", "Kafka")
#: Message types routed by ``Config.eventTypeToTopicMap``.
_TYPE_ROUTED = frozenset({"identify", "screen", "page", "group", "alias"})
#: What JavaScript's ``String.prototype.trim`` removes.
_JS_SPACE = " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008" \
            "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"


def _lodash_string(value: Any) -> str:
    """lodash ``toString``: null -> "", but a null inside an array prints "null"."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join("null" if item is None else _lodash_string(item) for item in value)
    return to_string(value)


def _topic_map(entries: Any, lower_keys: bool) -> dict[str, Any]:
    """The reference's ``getHashFromArray``: ``[{from, to}, ...]`` -> ``{from: to}``."""
    table: dict[str, Any] = {}
    if not isinstance(entries, list):
        return table
    for entry in entries:
        if entry is None:
            raise UnexpectedError("Cannot read properties of null (reading 'from')")
        source = entry.get("from") if isinstance(entry, dict) else None
        if _lodash_string(source).strip(_JS_SPACE) == "":
            continue
        if lower_keys:
            if not isinstance(source, str):
                raise UnexpectedError("array[fromKey].toLowerCase is not a function")
            table[source.lower()] = entry.get("to")
        else:
            table[to_string(source)] = entry.get("to")
    return table


def _multi_topic(message: dict[str, Any], config: dict[str, Any]) -> Any:
    """The topic of ``Config``'s per-type / per-event maps, when multi-topic is on."""
    if not is_truthy(config.get("enableMultiTopic")):
        return None
    # Both maps are built first, so a bad entry in either fails every message type.
    type_map = _topic_map(config.get("eventTypeToTopicMap"), True)
    name_map = _topic_map(config.get("eventToTopicMap"), False)
    kind = message.get("type")
    if isinstance(kind, str) and kind in _TYPE_ROUTED:
        return type_map.get(kind)
    event = message.get("event")
    if kind == "track" and is_truthy(event):
        return name_map.get(to_string(event))
    return None


def prepare(ctx: Context) -> None:
    message = ctx.message
    integrations = message.get("integrations")
    options: Any = None
    if isinstance(integrations, dict):
        options = next((integrations[name] for name in _INTEGRATION_NAMES
                        if is_truthy(integrations.get(name))), None)
    options = options if isinstance(options, dict) else {}
    if is_truthy(options.get("schemaId")):
        ctx.vars["schema_id"] = options["schemaId"]
    user_id = message.get("userId")
    ctx.vars["user_id"] = user_id if is_truthy(user_id) else message.get("anonymousId")
    topic = options.get("topic")
    if not is_truthy(topic):
        topic = _multi_topic(message, ctx.config)
    if not is_truthy(topic):
        topic = ctx.config.get("topic")
    ctx.vars["topic"] = topic


def finish(ctx: Context, output: dict[str, Any]) -> dict[str, Any]:
    # The mapping leaves out "" values; the reference only drops undefined/null, so
    # Config.topic "" is sent as "topic": "".
    if ctx.vars.get("topic") == "":
        output["topic"] = ""
    return output


def process_metadata(ctx: Context, output: Any) -> Any:
    """A copy of the job's metadata with ``rudderId`` suffixed by ``<<>>topic`` when there is one."""
    metadata = ctx.metadata
    topic = output.get("topic") if isinstance(output, dict) else None
    if not is_truthy(topic):
        return metadata
    if metadata is None:
        raise UnexpectedError("Cannot read properties of undefined (reading 'rudderId')")
    if not isinstance(metadata, dict):
        return metadata
    rudder_id = to_string(metadata["rudderId"]) if "rudderId" in metadata else "undefined"
    return {**metadata, "rudderId": f"{rudder_id}<<>>{to_string(topic)}"}
