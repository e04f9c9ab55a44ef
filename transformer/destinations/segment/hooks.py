"""Segment: the reference's v0 ``transform.js``, whose one request holds a one-item batch.

Its lookups are ``getFieldValueFromMessage`` chains (the first value that is truthy, false or 0)
and its item keeps every value but null, ``""`` and an empty item included, so the whole request is
built here rather than by a mapping that would leave those out.
"""

from __future__ import annotations

import base64
from typing import Any

from transformer.hooks import ConfigurationError, Context, empty_request, is_present, is_truthy, to_string

ENDPOINT = "https://api.segment.io/v1/batch"
_USER_ID = (("userId",), ("traits", "userId"), ("traits", "id"), ("context", "traits", "userId"),
            ("context", "traits", "id"), ("anonymousId",))
_TRAITS = (("traits",), ("context", "traits"))
_TIMESTAMP = (("timestamp",), ("originalTimestamp",))


def _first_present(message: dict[str, Any], paths: tuple[tuple[str, ...], ...]) -> Any:
    """``getFieldValueFromMessage``: the first value that is truthy, false or 0, else None."""
    for path in paths:
        value: Any = message
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if is_present(value):
            return value
    return None


def process(ctx: Context) -> dict[str, Any]:
    config = ctx.destination.get("Config")
    if config is None:  # the reference crashes in Object.keys (a 500 retried forever)
        raise ConfigurationError("destination.Config is missing or null")
    write_key = to_string(config["writeKey"]) \
        if isinstance(config, dict) and "writeKey" in config else "undefined"
    message = ctx.message
    user_id = _first_present(message, _USER_ID)
    traits = _first_present(message, _TRAITS)
    if isinstance(traits, dict) and is_truthy(traits.get("anonymousId")):
        del traits["anonymousId"]
    event = message.get("event")
    properties = message.get("properties")
    item = {
        "anonymousId": message.get("anonymousId"),
        "type": message.get("type"),
        "userId": user_id,
        "event": event if is_truthy(event) else None,
        "traits": traits,
        "properties": properties if is_truthy(properties) else None,
        "timeStamp": _first_present(message, _TIMESTAMP),
    }
    output = empty_request()
    output["endpoint"] = ENDPOINT
    token = base64.b64encode(f"{write_key}:".encode()).decode()
    output["headers"] = {"Content-Type": "application/json", "Authorization": f"Basic {token}"}
    output["body"]["JSON"] = {"batch": [{k: v for k, v in item.items() if v is not None}]}
    output["userId"] = user_id
    output["statusCode"] = 200
    return output
