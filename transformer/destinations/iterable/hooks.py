"""Iterable: the reference's transform.js / util.js, as code.

* ``process``: one event -> one request (or two: an identify with a push token also registers the
  token). The category (endpoint and body shape) depends on the message type, the track event's
  name and rETL external ids; in router mode an already transformed request passes through.
* ``batch``: the reference's router batching (users/bulkUpdate, events/trackBulk, catalog items),
  every other request on its own.

The field tables below are the reference's data/*.json mapping configs: each output key takes the
first *present* value of its source paths (``constructPayload``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from transformer.hooks import (
    Batch,
    ConfigurationError,
    Context,
    InstrumentationError,
    Job,
    UnexpectedError,
    add_external_id_to_traits,
    empty_request,
    group_and_chunk,
    is_apple_family,
    is_present,
    is_truthy,
    json_size,
    parse_date,
    parse_float,
    parse_int,
    path_get,
    stringify,
    to_epoch_ms,
    to_string,
)

USDC = "https://api.iterable.com/api/"
EUDC = "https://api.eu.iterable.com/api/"
#: Iterable's request size limit, which the reference applies to bulk bodies.
MAX_BODY_BYTES = 4_000_000
MAX_BATCH_EVENTS = 1000

_USER_ID = ("userId", "traits.userId", "traits.id", "context.traits.userId", "context.traits.id",
            "anonymousId")
_TRAIT_EMAIL = ("traits.email", "context.traits.email")
_PROPERTY_EMAIL = ("properties.email", "context.traits.email")
_CREATED_AT = ("traits.createdAt", "context.traits.createdAt", "timestamp", "originalTimestamp")
_MISSING = object()

# (output key, source paths, required) as in data/Iterable*Config.json
_IDENTIFY = (("email", _TRAIT_EMAIL, False), ("dataFields", ("traits", "context.traits"), False),
             ("userId", _USER_ID, False))
_PRODUCT = (("id", ("product_id",), True), ("sku", ("sku",), False), ("name", ("name",), True),
            ("description", ("description",), False), ("categories", ("category",), False),
            ("price", ("price",), True), ("quantity", ("quantity",), True),
            ("imageUrl", ("image_url",), False), ("url", ("url",), False),
            ("dataFields", ("properties",), False))


# --- lookups ------------------------------------------------------------------------------------


_get = path_get


def _first(doc: Any, paths: tuple[str, ...]) -> Any:
    """The first present value of ``paths`` (the reference's sourceKeys fallbacks). As get-value
    does, a target that is not an object or an array is itself the value of any path."""
    if not isinstance(doc, dict | list):
        return doc if is_present(doc) else None
    for path in paths:
        value = _get(doc, path)
        if is_present(value):
            return value
    return None


def _construct(doc: Any, table: Iterable[tuple[str, tuple[str, ...], bool]]) -> dict[str, Any]:
    """``constructPayload``: present values only; a missing required one is a 400."""
    payload: dict[str, Any] = {}
    for key, paths, required in table:
        value = _first(doc, paths)
        if is_present(value):
            payload[key] = value
        elif required:
            shown = paths[0] if len(paths) == 1 else list(paths)
            raise InstrumentationError(f"Missing required value from {stringify(shown)}")
    return payload


def _put(payload: dict[str, Any], key: str, value: Any) -> None:
    if is_present(value):
        payload[key] = value


def _config_flag(config: dict[str, Any], key: str) -> Any:
    """``getPreferUserId`` / ``getMergeNestedObjects``: the Config value, true when absent."""
    return config.get(key, True)


def _date_ms(value: Any) -> float | int:
    """``new Date(value).getTime()``: NaN (sent as null) when it is not a date."""
    if isinstance(value, bool):
        return int(value)
    moment = parse_date(value)
    return to_epoch_ms(moment) if moment else math.nan


def _int_if_truthy(value: Any) -> Any:
    """``value ? parseInt(value, 10) : undefined`` (NaN is kept and sent as null)."""
    return parse_int(value) if is_truthy(value) else None


def _retl_external_id(message: dict[str, Any]) -> tuple[Any, Any]:
    """(id, object type) of the last ``ITERABLE-<object>`` entry of context.externalId."""
    context = message.get("context")
    external = context.get("externalId") if isinstance(context, dict) else None
    if isinstance(external, dict):
        external = [external] if external else []
    ext_id = object_type = None
    for entry in external if isinstance(external, list) else []:
        kind = entry.get("type") if isinstance(entry, dict) else None
        if isinstance(kind, str) and "ITERABLE-" in kind:
            ext_id, object_type = entry.get("id"), kind.replace("ITERABLE-", "", 1)
    return ext_id, object_type


def _validate(payload: dict[str, Any]) -> None:
    if not is_truthy(payload.get("email")) and not is_truthy(payload.get("userId")):
        raise InstrumentationError("userId or email is mandatory for this request")


def _clean(payload: dict[str, Any]) -> dict[str, Any]:
    """``removeUndefinedAndNullValues`` of the top level (NaN stays, and is sent as null)."""
    return {k: v for k, v in payload.items() if v is not None}


# --- payloads -------------------------------------------------------------------------------------



def _user(message: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """The users/update body (also a commerce request's ``user``, where a null flag stays)."""
    payload = _construct(message, _IDENTIFY)
    payload["preferUserId"] = _config_flag(config, "preferUserId")
    payload["mergeNestedObjects"] = _config_flag(config, "mergeNestedObjects")
    return payload


def _items(message: dict[str, Any]) -> list[dict[str, Any]]:
    properties = message.get("properties")
    products = properties.get("products") if isinstance(properties, dict) else None
    items = []
    for product in products if isinstance(products, list) else [properties]:
        item = _construct(product, _PRODUCT)
        if isinstance(item.get("categories"), str):
            item["categories"] = item["categories"].split(",")
        item["price"] = parse_float(item["price"])
        item["quantity"] = parse_int(item["quantity"])
        items.append(item)
    return items


def _event_fields(message: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """createdAt, campaignId and templateId as the track and page builders convert them."""
    payload["createdAt"] = _date_ms(_first(message, _CREATED_AT))
    payload["campaignId"] = _int_if_truthy(_get(message, "properties.campaignId"))
    payload["templateId"] = _int_if_truthy(_get(message, "properties.templateId"))
    return _clean(payload)


def _track(message: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    _put(payload, "email", _first(message, _PROPERTY_EMAIL))
    _put(payload, "dataFields", _get(message, "properties"))
    _put(payload, "userId", _first(message, _USER_ID))
    event_id = _get(message, "properties.event_id")
    _put(payload, "id", None if event_id is None else to_string(event_id))
    _put(payload, "eventName", _get(message, "event"))
    _validate(payload)
    return _event_fields(message, payload)


def _purchase(message: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    _put(payload, "dataFields", _get(message, "properties"))
    order_id = _first(message, ("properties.order_id", "properties.orderId",
                                "properties.event_id"))
    _put(payload, "id", None if order_id is None else to_string(order_id))
    total = _get(message, "properties.total")
    if not is_present(total):
        raise InstrumentationError('Missing required value from "properties.total"')
    payload["user"] = user = _user(message, config)
    _validate(user)
    payload["total"] = parse_float(total)
    payload["items"] = _items(message)
    return _event_fields(message, payload)


def _update_cart(message: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    user = _user(message, config)
    _validate(user)
    return {"user": user, "items": _items(message)}


def _page(message: dict[str, Any], config: dict[str, Any], kind: str) -> dict[str, Any]:
    properties = message.get("properties")
    props = properties if isinstance(properties, dict) else {}
    if not (is_truthy(config.get("trackAllPages"))
            or (is_truthy(config.get("trackCategorisedPages"))
                and (is_truthy(props.get("category")) or is_truthy(message.get("category"))))
            or (is_truthy(config.get("trackNamedPages"))
                and (is_truthy(props.get("name")) or is_truthy(message.get("name"))))):
        raise ConfigurationError(f"Invalid {kind} call")
    payload: dict[str, Any] = {}
    _put(payload, "email", _first(message, _PROPERTY_EMAIL))
    _put(payload, "dataFields", properties)
    _put(payload, "userId", _first(message, _USER_ID))
    name = _first(message, ("name", "properties.name"))
    _validate(payload)
    if config.get("mapToSingleEvent") is True:
        payload["eventName"] = f"Loaded a {kind.capitalize()}"
    else:
        payload["eventName"] = f"{'undefined' if name is None else to_string(name)} {kind}"
    return _event_fields(message, payload)


def _token_request(message: dict[str, Any], config: dict[str, Any], base: str) -> dict[str, Any]:
    """users/registerDeviceToken (a device token) or users/registerBrowserToken (an OS one)."""
    device = _get(message, "context.device")
    device = device if isinstance(device, dict) else {}
    if is_truthy(device.get("token")):
        path = "users/registerDeviceToken"
        payload = _construct(message, (("email", _TRAIT_EMAIL, False), ("userId", _USER_ID, False)))
        payload["preferUserId"] = _config_flag(config, "preferUserId")
        payload["device"] = _construct(message, (
            ("token", ("context.device.token",), True),
            ("applicationName", ("context.device.name",), False),
            ("dataFields", ("properties",), False)))
        device_type = device.get("type")
        apple = is_apple_family(device_type)
        payload["device"]["platform"] = "APNS" if apple else "GCM"
    else:
        path = "users/registerBrowserToken"
        payload = _construct(message, (("browserToken", ("context.os.token",), True),
                                       ("email", _TRAIT_EMAIL, False),
                                       ("userId", _USER_ID, False)))
        _validate(payload)
    return _request(base + path, path, config.get("registerDeviceOrBrowserApiKey", _MISSING),
                    _clean(payload))


def _request(endpoint: str, path: str, api_key: Any, body: dict[str, Any]) -> dict[str, Any]:
    output = empty_request()
    output["endpoint"] = endpoint
    output["endpointPath"] = path
    headers: dict[str, Any] = {"Content-Type": "application/json"}
    if api_key is not _MISSING:
        headers["api_key"] = api_key
    output["headers"] = headers
    output["body"]["JSON"] = body
    return output


# --- processor ------------------------------------------------------------------------------------


def process(ctx: Context) -> dict[str, Any] | list[dict[str, Any]]:
    message, config = ctx.message, ctx.config
    if ctx.mode == "router" and is_truthy(message.get("statusCode")):
        return message  # already transformed: batched (or sent) as it is
    kind = message.get("type")
    if not is_truthy(kind):
        raise InstrumentationError("Event type is required")
    if not isinstance(kind, str):
        raise UnexpectedError("message.type.toLowerCase is not a function")
    kind = kind.lower()
    base = EUDC if config.get("dataCenter") == "EUDC" else USDC
    api_key = config.get("apiKey", _MISSING)
    if kind == "identify":
        if is_truthy(_get(message, "context.mappedToDestination")):
            catalog_id, object_type = _retl_external_id(message)
            if object_type != "users":
                traits = message.get("traits")
                if not is_present(traits):
                    raise InstrumentationError('Missing required value from "traits"')
                body = _clean({"update": traits, "catalogId": catalog_id})
                endpoint = f"{base}catalogs/{to_string(object_type)}/items"
                return _request(endpoint, "catalogs", api_key, body)
            add_external_id_to_traits(message)
        user = _user(message, config)
        _validate(user)
        output = _request(base + "users/update", "users/update", api_key, _clean(user))
        context = message.get("context")
        if (message.get("type") == "identify" and isinstance(context, dict)
                and (is_truthy(_get(context, "device.token")) or is_truthy(_get(context, "os.token")))
                and is_truthy(config.get("registerDeviceOrBrowserApiKey"))):
            return [output, _token_request(message, config, base)]
        return output
    if kind in ("page", "screen"):
        return _request(base + "events/track", "events/track", api_key,
                        _page(message, config, kind))
    if kind == "track":
        event = message.get("event")
        name = event.lower() if isinstance(event, str) else event
        if name == "order completed":
            path, body = "commerce/trackPurchase", _purchase(message, config)
        elif name in ("product added", "product removed"):
            path, body = "commerce/updateCart", _update_cart(message, config)
        else:
            path, body = "events/track", _track(message)
        return _request(base + path, path, api_key, body)
    if kind == "alias":
        body = _construct(message, (("currentEmail", ("previousId",), True),
                                    ("newEmail", ("userId",), True)))
        return _request(base + "users/updateEmail", "users/updateEmail", api_key, body)
    raise InstrumentationError(f"Message type {kind} not supported")


# --- router ---------------------------------------------------------------------------------------


def _js_key(value: Any) -> str:
    """How a value reads as an object key (``String(value)``)."""
    return "undefined" if value is None else to_string(value)


def _job_id(job: Job) -> Any:
    meta = job.metadata_doc
    return meta.get("jobId") if isinstance(meta, dict) else None


def _bulk(first: Job, path: str, body: dict[str, Any], extra: list[dict[str, Any]]) -> Any:
    config = first.destination.get("Config")
    config = config if isinstance(config, dict) else {}
    base = EUDC if config.get("dataCenter") == "EUDC" else USDC
    request = _request(base + path, path, config.get("apiKey", _MISSING), body)
    return [request, *extra] if extra else request


def _size_chunks(items: list[tuple[Job, Any]]) -> list[list[tuple[Job, Any]]]:
    """The reference's split: 1000 per chunk, then each chunk cut at 4 MB of bodies."""
    out: list[list[tuple[Job, Any]]] = []
    for chunk in group_and_chunk(items, max_events=MAX_BATCH_EVENTS):
        out.extend(group_and_chunk(chunk, max_bytes=MAX_BODY_BYTES,
                                   size=lambda request: json_size(request["body"]["JSON"])))
    return out


def batch(done: list[tuple[Job, Any]]) -> list[Batch]:
    """Bulk user updates, catalog updates and track events, then the rest one by one."""
    users: list[tuple[Job, Any]] = []
    catalogs: list[tuple[Job, Any]] = []
    tracks: list[tuple[Job, Any]] = []
    singles: list[Batch] = []
    tokens: dict[str, dict[str, Any]] = {}
    for job, output in done:
        config = job.destination.get("Config")
        base = EUDC if isinstance(config, dict) and config.get("dataCenter") == "EUDC" else USDC
        for request in output if isinstance(output, list) else [output]:
            endpoint = request.get("endpoint")
            endpoint = endpoint if isinstance(endpoint, str) else ""
            if endpoint == base + "users/update":
                users.append((job, request))
            elif "api/catalogs" in endpoint:
                catalogs.append((job, request))
            elif endpoint in (base + "users/registerBrowserToken",
                              base + "users/registerDeviceToken"):
                tokens[_js_key(_job_id(job))] = request
            elif "api/events/track" in endpoint:
                tracks.append((job, request))
            else:
                singles.append(Batch(request=request, jobs=[job], batched=False))
    batches: list[Batch] = []
    for chunk in _size_chunks(users):
        extra = [tokens[key] for key in (_js_key(_job_id(job)) for job, _ in chunk) if key in tokens]
        body = {"users": [request["body"]["JSON"] for _, request in chunk]}
        batches.append(Batch(request=_bulk(chunk[0][0], "users/bulkUpdate", body, extra),
                             jobs=[job for job, _ in chunk]))
    for chunk in group_and_chunk(catalogs, max_events=MAX_BATCH_EVENTS):
        documents: dict[str, Any] = {}
        for _, request in chunk:
            body = _get(request, "body.JSON")
            body = body if isinstance(body, dict) else {}
            documents[_js_key(body.get("catalogId"))] = body.get("update", _MISSING)
        first_job, first = chunk[0]
        config = first_job.destination.get("Config")
        api_key = config.get("apiKey", _MISSING) if isinstance(config, dict) else _MISSING
        request = _request(first.get("endpoint"), first.get("endpointPath"), api_key,
                           {"documents": {k: v for k, v in documents.items() if v is not _MISSING},
                            "replaceUploadedFieldsOnly": True})
        if "endpointPath" not in first:
            del request["endpointPath"]
        batches.append(Batch(request=request, jobs=[job for job, _ in chunk]))
    for chunk in _size_chunks(tracks):
        body = {"events": [request["body"]["JSON"] for _, request in chunk]}
        batches.append(Batch(request=_bulk(chunk[0][0], "events/trackBulk", body, []),
                             jobs=[job for job, _ in chunk]))
    return batches + singles
