"""Kafka: choose the envelope's schemaId and topic, and tag metadata.rudderId with the topic.

The reference chains its choices with JavaScript ``||`` (any falsy value falls through, the last
operand is kept as it is), which the mapping's "first present" lookups cannot express. Where the
reference crashes (a 500 the router would retry forever), the job or config is at fault: a 400.
"""

from __future__ import annotations

from typing import Any

from transformer.hooks import (
    Context,
    InstrumentationError,
    hash_from_array,
    integrations_object,
    is_truthy,
    to_string,
)

#: The names the reference looks up under ``message.integrations``, in order.
_INTEGRATION_NAMES = ("KAFKA", "kafka", "Kafka")
#: Message types routed by ``Config.eventTypeToTopicMap``.
_TYPE_ROUTED = frozenset({"identify", "screen", "page", "group", "alias"})


def _multi_topic(message: dict[str, Any], config: dict[str, Any]) -> Any:
    """The topic of ``Config``'s per-type / per-event maps, when multi-topic is on."""
    if not is_truthy(config.get("enableMultiTopic")):
        return None
    # Both maps are built first, so a bad entry in either fails every message type.
    type_map = hash_from_array(config.get("eventTypeToTopicMap"), lower_keys=True,
                               name="eventTypeToTopicMap")
    name_map = hash_from_array(config.get("eventToTopicMap"), name="eventToTopicMap")
    kind = message.get("type")
    if isinstance(kind, str) and kind in _TYPE_ROUTED:
        return type_map.get(kind)
    event = message.get("event")
    if kind == "track" and is_truthy(event):
        return name_map.get(to_string(event))
    return None


def prepare(ctx: Context) -> None:
    message = ctx.message
    options = integrations_object(message, _INTEGRATION_NAMES)
    options = options if isinstance(options, dict) else {}
    if is_truthy(options.get("schemaId")):
        ctx.vars["schema_id"] = options["schemaId"]
    topic = options.get("topic")
    if not is_truthy(topic):
        topic = _multi_topic(message, ctx.config)
    if not is_truthy(topic):
        topic = ctx.config.get("topic")
    ctx.vars["topic"] = topic


def process_metadata(ctx: Context, output: Any) -> Any:
    """A copy of the job's metadata with ``rudderId`` suffixed by ``<<>>topic`` when there is one."""
    metadata = ctx.metadata
    topic = output.get("topic") if isinstance(output, dict) else None
    if not is_truthy(topic):
        return metadata
    if metadata is None:
        # The reference crashes here (a 500 the router would retry forever).
        raise InstrumentationError("the job needs metadata: its rudderId is tagged with the topic")
    if not isinstance(metadata, dict):
        return metadata
    rudder_id = to_string(metadata["rudderId"]) if "rudderId" in metadata else "undefined"
    return {**metadata, "rudderId": f"{rudder_id}<<>>{to_string(topic)}"}
