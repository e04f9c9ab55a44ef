"""Customer.io: what destination.yaml cannot say.

* ``prepare``: the reference's per-type decisions, stored in ``ctx.vars`` for the mapping: the
  person id (a warehouse event's ``context.externalId`` first), the endpoint (person, event,
  anonymous event, device register / delete, merge, v2 batch; the EU host on
  ``datacenter: EU``), the method, and for identify, track, page and screen the whole body,
  which follows set-value's key paths (``traits["a.b"]`` is sent as ``{"a.b": ...}``, a
  ``user_properties`` key ``"a.b"`` nests) and so is built here rather than by a field table.
* ``authorization``: ``Basic btoa(siteID:apiKey)`` as the reference's ``btoa`` encodes it.
* ``merge_primary`` / ``merge_secondary`` / ``relationships``: the email-or-id keys of alias and
  group bodies (validator's ``isEmail``).
* ``finish``: the ``statusCode: 200`` the reference's output carries.
* ``batch``: router requests. Group (object) requests are batched as ``{"batch": [...]}`` to
  the US v2 endpoint, every other request goes alone, as the reference does.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from transformer.hooks import (
    UNDEFINED,
    Batch,
    Context,
    InstrumentationError,
    Job,
    empty_request,
    epoch_seconds,
    first_present,
    is_apple_family,
    is_present,
    is_truthy,
    js_get,
    js_set,
    object_keys,
    spread,
    stringify,
    to_string,
)
from transformer.hooks import is_email as is_email_address

_HOST = "https://track.customer.io"
_EU_HOST = "https://track-eu.customer.io"
_DEVICE_EVENTS = ("Application Installed", "Application Opened", "Application Uninstalled")
_DEVICE_DELETE = "Application Uninstalled"
#: The reference's generic aliases (first truthy, 0 or false value).
_USER_ID_ONLY = ("userId", "traits.userId", "traits.id", "context.traits.userId", "context.traits.id")
_EMAIL = ("traits.email", "context.traits.email", "properties.email", "context.externalId.0.id")
_CREATED_AT = ("traits.createdAt", "context.traits.createdAt")
_TIMESTAMP = ("timestamp", "originalTimestamp")
#: constants' Address: the speced traits sent flat (city, ...) from traits.address.
_ADDRESS = ("city", "country", "postalCode", "state", "street")
#: Traits identify never sends as attributes.
_SKIPPED_TRAITS = frozenset({"address", "createdAt", "userId", "anonymousId"})

#: Router: objects go to one v2 batch request per 1000 items / 500 000 bytes (see batch()).
MAX_BATCH_ITEMS = 1000
MAX_BATCH_BYTES = 500_000
_BATCH_ENDPOINT = f"{_HOST}/api/v2/batch"
_BATCH_PATH = "v2/batch"


# --- config and envelope --------------------------------------------------------------------


def authorization(ctx: Context) -> str:
    """``Basic btoa(`${siteID}:${apiKey}`)``: btoa keeps the low byte of each UTF-16 unit."""
    config = ctx.config
    text = f"{to_string(config.get('siteID'))}:{to_string(config.get('apiKey'))}"
    units = text.encode("utf-16-le")
    latin1 = bytes(units[i] for i in range(0, len(units), 2))
    return "Basic " + base64.b64encode(latin1).decode()


def finish(ctx: Context, output: dict[str, Any]) -> dict[str, Any]:
    """The reference's output carries ``statusCode: 200``; an undefined userId has no key."""
    if output.get("userId") is UNDEFINED:
        del output["userId"]  # JavaScript's undefined: no key (the processor sends "")
    output["statusCode"] = 200
    return output


# --- per-type decisions -----------------------------------------------------------------------


def prepare(ctx: Context) -> None:
    message = ctx.message
    kind = ctx.message_type
    event_name: Any = UNDEFINED
    if kind == "track":
        event = message.get("event")
        if not is_truthy(event) or not isinstance(event, str):
            raise InstrumentationError("Event is a required field and should be a string")
        event_name = event
    elif kind == "page":
        properties = message.get("properties")
        url = properties.get("url", UNDEFINED) if isinstance(properties, dict) else UNDEFINED
        name = message.get("name")
        event_name = name if is_truthy(name) else url
    elif kind == "screen":
        event_name = f"Viewed {to_string(_screen_name(message))} Screen"
    if is_truthy(event_name):
        event_name = to_string(event_name)

    if is_truthy(js_get(message, "context.mappedToDestination")):
        # A warehouse event names the person in context.externalId: added to the traits under
        # its identifierType, and used as the userId.
        external_id = js_get(message, "context.externalId.0.id", UNDEFINED)
        traits = first_present(message, ("traits", "context.traits"))
        identifier_type = js_get(message, "context.externalId.0.identifierType")
        if isinstance(traits, dict | list) and isinstance(identifier_type, str):
            js_set(traits, identifier_type, external_id)
        if is_truthy(external_id):
            message["userId"] = external_id

    user_id = first_present(message, _USER_ID_ONLY)
    ctx.vars["user_id"] = user_id if is_truthy(user_id) else message.get("anonymousId", UNDEFINED)
    if kind == "identify":
        _identify(ctx, message, user_id)
    elif kind == "alias":
        if not is_truthy(user_id) or not is_truthy(message.get("previousId")):
            raise InstrumentationError("Both userId and previousId are mandatory for merge operation")
        ctx.vars["user_id_only"] = user_id
        _route(ctx, f"{_HOST}/api/v1/merge_customers", "v1/merge_customers", "POST")
    elif kind == "group":
        _route(ctx, _BATCH_ENDPOINT, _BATCH_PATH, "POST")
    else:
        _event(ctx, message, user_id, event_name, "page" if kind == "page" else "event")


def _route(ctx: Context, endpoint: str, path: str, method: str) -> None:
    if ctx.config.get("datacenter") == "EU":
        endpoint = endpoint.replace(_HOST, _EU_HOST, 1)
    ctx.vars.update(endpoint=endpoint, endpoint_path=path, method=method)


def _screen_name(message: dict[str, Any]) -> Any:
    """``message.event || message.properties?.name`` (``UNDEFINED`` for JavaScript undefined)."""
    event = message.get("event", UNDEFINED)
    if is_truthy(event):
        return event
    properties = message.get("properties")
    if isinstance(properties, dict):
        return properties.get("name", UNDEFINED)
    return UNDEFINED


def _identify(ctx: Context, message: dict[str, Any], user_id: Any) -> None:
    person = user_id if is_truthy(user_id) else first_present(message, _EMAIL)
    if not is_truthy(person):
        raise InstrumentationError("userId or email is not present")
    payload: dict[str, Any] = {}
    traits_key = "traits" if is_truthy(message.get("traits")) else None
    traits = message.get("traits") if traits_key else js_get(message, "context.traits")
    address = traits.get("address") if isinstance(traits, dict) else None
    for key in _ADDRESS:
        value = address.get(key, UNDEFINED) if isinstance(address, dict) else UNDEFINED
        if value is not UNDEFINED:
            payload[key] = value
    identity_traits = first_present(message, ("traits", "context.traits"))
    for key, value in _own_entries(identity_traits):
        if key not in _SKIPPED_TRAITS:
            # The reference escapes only the first "." of a trait name.
            js_set(payload, key.replace(".", "\\.", 1), value)
    user_properties = message.get("user_properties")
    for key, value in _own_entries(user_properties):
        js_set(payload, key, value)
    created_at = first_present(message, _CREATED_AT)
    if is_truthy(created_at):
        payload["created_at"] = epoch_seconds(created_at)
    historical = first_present(message, _TIMESTAMP)
    if is_truthy(historical):
        payload["_timestamp"] = epoch_seconds(historical)
    if is_truthy(message.get("anonymousId")):
        payload["anonymous_id"] = message["anonymousId"]
    ctx.vars["payload"] = payload
    _route(ctx, f"{_HOST}/api/v1/customers/{_path_part(person)}", "v1/customers", "PUT")


def _event(ctx: Context, message: dict[str, Any], user_id: Any, name: Any, event_type: str) -> None:
    """track, page and screen: a device registration or deletion, a person's event, or an
    anonymous event."""
    payload: dict[str, Any] = {}
    ctx.vars["payload"] = payload
    token = js_get(message, "context.device.token")
    person = user_id if is_truthy(user_id) else first_present(message, _EMAIL)
    person_part = _path_part(person) if is_truthy(person) else None
    if name == _DEVICE_DELETE:
        if person_part is None or not is_truthy(token):
            raise InstrumentationError("userId/email or device_token not present")
        _route(ctx, f"{_HOST}/api/v1/customers/{person_part}/devices/{_path_part(token)}",
               "v1/customers/devices/delete", "DELETE")
        return
    device_event = name in _DEVICE_EVENTS or ctx.config.get("deviceTokenEventName", UNDEFINED) == name
    method = "POST"
    if device_event and person_part is not None and is_truthy(token):
        timestamp = message.get("timestamp")
        if not is_truthy(timestamp):
            timestamp = message.get("originalTimestamp")
        device = spread(message.get("properties"))
        device["id"] = token
        device["last_used"] = epoch_seconds(timestamp)
        device_type = js_get(message, "context.device.type")
        if isinstance(device_type, str) and device_type:
            device["platform"] = "ios" if is_apple_family(device_type) else device_type.lower()
        payload["device"] = device
        method = "PUT"
    else:
        properties = message.get("properties", UNDEFINED)
        if properties is not UNDEFINED:
            payload["data"] = properties
        if name is not UNDEFINED:
            payload["name"] = name
        payload["type"] = event_type
        historical = first_present(message, _TIMESTAMP)
        if is_truthy(historical):
            payload["timestamp"] = epoch_seconds(historical)
    if person_part is not None:
        if device_event and is_truthy(token):
            _route(ctx, f"{_HOST}/api/v1/customers/{person_part}/devices", "v1/customers/devices",
                   method)
        else:
            _route(ctx, f"{_HOST}/api/v1/customers/{person_part}/events", "v1/customers/events",
                   method)
        return
    # Anonymous: Customer.io takes 100 bytes of event name.
    if ctx.message_type == "screen":
        screen = _screen_name(message)
        if not is_truthy(screen):
            screen = ""
        payload["name"] = f"Viewed {_truncate(screen, 86)} Screen"
    else:
        if not isinstance(name, str):
            raise InstrumentationError("Event Name type should be a string")
        payload["name"] = _truncate(name, 100)
    if not is_truthy(message.get("anonymousId")):
        raise InstrumentationError("Anonymous id/ user id is required")
    payload["anonymous_id"] = message["anonymousId"]
    _route(ctx, f"{_HOST}/api/v1/events", "v1/events", method)


# --- alias and group bodies ------------------------------------------------------------------


def merge_primary(ctx: Context) -> dict[str, Any]:
    user_id = ctx.vars["user_id_only"]
    return {"email" if is_email(user_id, "userId") else "id": user_id}


def merge_secondary(ctx: Context) -> dict[str, Any]:
    previous = ctx.message.get("previousId")
    return {"email" if is_email(previous, "previousId") else "id": previous}


def relationships(ctx: Context) -> list[dict[str, Any]]:
    """The person the object relates to: userId (as a string), else an email."""
    user_id = first_present(ctx.message, _USER_ID_ONLY)
    person = to_string(user_id) if is_present(user_id) else ""
    if not person:
        person = first_present(ctx.message, ("context.traits.email", "properties.email",
                                      "context.externalId.0.id"))
    if not is_truthy(person):
        return []
    return [{"identifiers": {"email" if is_email(person, "email") else "id": person}}]


# --- router -----------------------------------------------------------------------------------


def batch(done: list[tuple[Job, Any]]) -> list[Batch]:
    """Every request alone (in order), then the object requests (those for a ``v2/batch``
    endpoint) in ``{"batch": [...]}`` bodies sent to the US v2 endpoint with the first object
    request's headers plus Content-Type. A chunk ends at 1000 items, or before an item that takes
    the running size over 500 000 bytes, sizes being the reference's JSON length of
    ``{message, metadata, destination}`` per job and the running size restarting at 0 (without
    the item that ended the chunk) as the reference counts it."""
    batches: list[Batch] = []
    objects: list[tuple[Job, Any]] = []
    for job, output in done:
        endpoint = output.get("endpoint") if isinstance(output, dict) else None
        if isinstance(endpoint, str) and _BATCH_PATH in endpoint:
            objects.append((job, output))
        else:
            batches.append(Batch(request=output, jobs=[job], batched=False))
    if not objects:
        return batches
    destination = done[0][0].destination
    destination_size = len(stringify(destination).encode())
    chunks: list[list[tuple[Job, Any]]] = []
    chunk: list[tuple[Job, Any]] = []
    size = 0
    for job, output in objects:
        size += _event_size(job, output, destination_size)
        if len(chunk) == MAX_BATCH_ITEMS or size > MAX_BATCH_BYTES:
            if chunk:  # the reference would send an empty batch here; nothing is sent instead
                chunks.append(chunk)
            chunk, size = [], 0
        chunk.append((job, output))
    chunks.append(chunk)
    headers = {**objects[0][1]["headers"], "Content-Type": "application/json"}
    for items in chunks:
        request = empty_request()
        request.update(endpoint=_BATCH_ENDPOINT, endpointPath=_BATCH_PATH, headers=dict(headers))
        request["body"]["JSON"] = {"batch": [output["body"]["JSON"] for _, output in items]}
        batches.append(Batch(request=request, jobs=[job for job, _ in items], batched=False))
    return batches


def _event_size(job: Job, output: Any, destination_size: int) -> int:
    """Bytes of ``JSON.stringify({message, metadata, destination})`` for one job."""
    size = len('{"message":,"destination":}') + len(stringify(output).encode()) + destination_size
    if job.metadata_doc is not None:
        size += len(',"metadata":') + len(stringify(job.metadata_doc).encode())
    return size


# --- JavaScript helpers -------------------------------------------------------------------------


def _own_entries(value: Any) -> list[tuple[str, Any]]:
    """``Object.keys(value)`` of an object or array, with each key's value."""
    if isinstance(value, dict):
        return [(key, value[key]) for key in object_keys(value)]
    if isinstance(value, list):
        return [(str(i), item) for i, item in enumerate(value)]
    return []


def _path_part(value: Any) -> str:
    """A path parameter as the reference builds it: encodeURIComponent on strings, String()
    on anything else."""
    if isinstance(value, str):
        return quote(value, safe="-_.!~*'()")
    return to_string(value)


def _truncate(value: Any, limit: int) -> str:
    """truncate-utf8-bytes: the longest prefix of at most ``limit`` UTF-8 bytes."""
    if not isinstance(value, str):
        raise InstrumentationError("event (or properties.name) must be a string to name an "
                                   "anonymous screen event")
    encoded = value.encode("utf-8", "surrogatepass")
    if len(encoded) <= limit:
        return value
    return encoded[:limit].decode("utf-8", "ignore")


# --- validator's isEmail ----------------------------------------------------------------------

_JS_TYPES = {bool: "Boolean", int: "Number", float: "Number", dict: "Object", list: "Array"}


def is_email(value: Any, field: str) -> bool:
    """validator.js ``isEmail(value)`` (the engine's). validator fails on a value that is not a
    string (the reference answers 500); here that is a 400 naming ``field``."""
    if not isinstance(value, str):
        name = "null" if value is None else _JS_TYPES.get(type(value), "Object")
        raise InstrumentationError(f"{field} must be a string: Expected a string but received "
                                   f"a {name}")
    return is_email_address(value)
