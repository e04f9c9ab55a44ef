"""Heap: the reference's CDK v2 workflow (procWorkflow.yaml), step by step.

The whole event is built here because the reference validates the message type in its own words
before anything else (the service's type dispatch would answer first), and its steps use
JavaScript ``||`` / ``??`` chains and an assert on truthiness that the mapping's "first present"
lookups do not express. Each error names its workflow step (the processor's message then reads
``userId is required: Workflow: procWorkflow, Step: validateuserId, ChildStep: undefined,
OriginalError: userId is required``).
"""

from __future__ import annotations

from typing import Any

from transformer.hooks import (
    UNDEFINED,
    Context,
    InstrumentationError,
    empty_request,
    flatten_json,
    is_truthy,
    to_string,
)

_SUPPORTED = ("identify", "track")
_US_HOST = "https://heapanalytics.com"
_EU_HOST = "https://c.eu.heap-api.com"
#: The generic "userId" paths, joined with JavaScript ``||`` by the workflow.
_IDENTITY_PATHS = ("userId", "traits.userId", "traits.id", "context.traits.userId",
                   "context.traits.id", "anonymousId")


def _get(doc: Any, path: str) -> Any:
    """The value at a dotted path, or UNDEFINED (JavaScript's undefined)."""
    for key in path.split("."):
        if not isinstance(doc, dict) or key not in doc:
            return UNDEFINED
        doc = doc[key]
    return doc


def _nullish(first: Any, second: Any) -> Any:
    """JavaScript ``a ?? b``: ``a`` unless it is null or undefined, else ``b`` (even a null)."""
    return second if first is None or first is UNDEFINED else first


def _identity(message: dict[str, Any]) -> Any:
    """JavaScript ``a || b || ...``: the first truthy candidate (else a falsy one)."""
    for path in _IDENTITY_PATHS:
        value = _get(message, path)
        if value is not UNDEFINED and is_truthy(value):
            return value
    return None


def _properties(data: Any) -> dict[str, Any]:
    """``flattenJson(data)`` without its top-level ``idempotencyKey``."""
    out = flatten_json(data)
    out.pop("idempotencyKey", None)
    return out


def process(ctx: Context) -> dict[str, Any]:
    message, config = ctx.message, ctx.config
    kind = message.get("type")
    if not is_truthy(kind):
        raise InstrumentationError("message Type is not present. Aborting message.", step="validateInput")
    if kind not in _SUPPORTED:
        raise InstrumentationError(f"message type {to_string(kind)} is not supported", step="validateInput")
    host = _EU_HOST if config.get("dataResidency") == "eu" else _US_HOST

    payload: dict[str, Any] = {}
    if kind == "identify":
        traits = _nullish(message.get("traits", UNDEFINED), _get(message, "context.traits"))
        if traits is UNDEFINED or not is_truthy(traits):
            raise InstrumentationError("traits are required", step="identifyPayload")
        endpoint = f"{host}/api/add_user_properties"
        payload["identity"] = _identity(message)
        payload["properties"] = _properties(traits)
    else:
        if not is_truthy(message.get("event")):
            raise InstrumentationError("event is required", step="trackPayload")
        endpoint = f"{host}/api/track"
        payload["identity"] = _identity(message)
        payload["properties"] = _properties(message.get("properties", UNDEFINED))
    if "appId" in config:
        payload["app_id"] = config["appId"]
    if kind == "track":
        payload["event"] = message["event"]
        timestamp = _nullish(message.get("timestamp"), message.get("originalTimestamp", UNDEFINED))
        if timestamp is not UNDEFINED:
            payload["timestamp"] = timestamp
        key = _get(message, "properties.idempotencyKey")
        if key is not UNDEFINED and is_truthy(key):
            payload["idempotency_key"] = key
    if not is_truthy(payload["identity"]):
        raise InstrumentationError("userId is required", step="validateuserId")

    output = empty_request()
    output["endpoint"] = endpoint
    output["headers"] = {"Accept": "application/json", "Content-Type": "application/json"}
    output["body"]["JSON"] = payload
    output["userId"] = message.get("anonymousId")
    return output
