"""Loops: the reference's CDK v2 workflow (procWorkflow.yaml), step by step.

The whole event is built here because the reference validates the message type (and then the
API key) in its own words before anything else, which the service's type dispatch would pre-empt,
and its lookups are JavaScript ``??`` chains (``""`` and ``0`` stop a chain) where the mapping's
generic aliases skip to the next candidate. Each error names its workflow step (the processor's
message then reads ``email is required for identify call.: Workflow: procWorkflow, Step:
validateIdentifyEvent, ChildStep: undefined, OriginalError: email is required for identify
call.``).
"""

from __future__ import annotations

from typing import Any

from transformer.hooks import (
    ConfigurationError,
    Context,
    InstrumentationError,
    empty_request,
    is_truthy,
    to_string,
)

_SUPPORTED = ("track", "identify")
_ENDPOINTS = {
    "identify": ("PUT", "https://app.loops.so/api/v1/contacts/update"),
    "track": ("POST", "https://app.loops.so/api/v1/events/send"),
}
#: The generic aliases the workflow reads, each joined with JavaScript ``??``.
_EMAIL = ("traits.email", "context.traits.email", "properties.email")
_USER_ID = ("userId", "traits.userId", "traits.id", "context.traits.userId", "context.traits.id")
_TRAITS = ("traits", "context.traits")


def _get(doc: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(doc, dict):
            return None
        doc = doc.get(key)
    return doc


def _nullish(message: dict[str, Any], paths: tuple[str, ...]) -> Any:
    """``a ?? b ?? ...``: the first value that is not null/undefined (``""`` and ``0`` count)."""
    for path in paths:
        value = _get(message, path)
        if value is not None:
            return value
    return None


def _assigned(value: Any) -> dict[str, Any]:
    """What ``Object.assign({}, value)`` copies: an object's keys, a string's or array's items."""
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, str | list):
        return {str(index): item for index, item in enumerate(value)}
    return {}


def process(ctx: Context) -> dict[str, Any]:
    message = ctx.message
    kind = message.get("type")
    if kind is not None and not isinstance(kind, str):
        # The reference crashes on it (a 500 the router would retry forever): the event's fault.
        raise InstrumentationError("type must be a string", step="messageType")
    if not is_truthy(kind):
        raise InstrumentationError("message Type is not present. Aborting message.", step="validateInput")
    if kind not in _SUPPORTED:
        raise InstrumentationError(f"message type {to_string(kind)} is not supported", step="validateInput")
    api_key = ctx.config.get("apiKey")
    if not is_truthy(api_key):
        raise ConfigurationError("apiKey must be supplied in destination config.", step="validateInput")
    email = _nullish(message, _EMAIL)
    user_id = _nullish(message, _USER_ID)
    if kind == "identify" and not is_truthy(email):
        raise InstrumentationError("email is required for identify call.",
                                   step="validateIdentifyEvent")
    if kind == "track":
        if not (is_truthy(email) or is_truthy(user_id)):
            raise InstrumentationError("Either email or userId is required for track call.",
                                       step="validateTrackEvent")
        if not is_truthy(message.get("event")):
            raise InstrumentationError("event is required for track call.", step="validateTrackEvent")

    payload = _assigned(_nullish(message, _TRAITS))
    payload["userId"] = user_id
    payload["email"] = email
    if kind == "track":
        payload["eventName"] = message.get("event")
        payload["eventProperties"] = message.get("properties")
    method, endpoint = _ENDPOINTS[kind]
    output = empty_request()
    output["method"] = method
    output["endpoint"] = endpoint
    output["headers"] = {"Authorization": f"Bearer {to_string(api_key)}",
                         "Content-Type": "application/json"}
    # cleanPayload: top-level null/undefined values go, nested ones stay.
    output["body"]["JSON"] = {k: v for k, v in payload.items() if v is not None}
    return output
