"""Generic webhook: the delivery's JSON body becomes one ``track`` event (rudder-transformer
``src/sources/webhook``): ``event`` ``webhook_source_event``, ``properties`` the body, a fresh
random ``anonymousId`` (uuid4) per event. With ``putRequestDetailsInContext`` in the settings the
request's method, path (as ``url``), headers and query (single-element lists flattened to their
value) go in ``context``; absent values are left out. Otherwise ``context`` is ``{}`` (the reference's
post-processing gives every source event a ``context``).
"""
from __future__ import annotations

import uuid
from typing import Any

import orjson

from transformer.sources import BadDelivery


def on_request(request: dict[str, Any], settings: dict[str, Any]) -> list[dict[str, Any]]:
    body = request.get("body")
    if not body:
        raise BadDelivery("webhook: the delivery has no body")
    if isinstance(body, str | bytes):
        try:
            body = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise BadDelivery(f"webhook: malformed JSON in the request body: {exc}") from None
    event: dict[str, Any] = {"type": "track", "event": "webhook_source_event", "properties": body,
                             "anonymousId": str(uuid.uuid4()), "context": {}}
    if settings.get("putRequestDetailsInContext"):
        context = {"method": request.get("method"), "url": request.get("path"),
                   "proto": request.get("proto"), "headers": _flatten(request.get("headers")),
                   "query_parameters": _flatten(request.get("query"))}
        event["context"] = {k: v for k, v in context.items() if v is not None}
    return [event]


def _flatten(values: Any) -> Any:
    if not isinstance(values, dict):
        return values
    return {k: v[0] if isinstance(v, list) and len(v) == 1 else v for k, v in values.items()}
