"""Iterable: the reference's transform.js / util.js, as code.

* ``process``: one event -> one request (or two: an identify with a push token also registers the
  token). The category (endpoint and body shape) depends on the message type, the track event's
  name and rETL external ids; in router mode an already transformed request passes through.
* ``batch``: the reference's router batching (users/bulkUpdate, events/trackBulk, catalog items),
  every other request on its own.

The field tables (the reference's data/*.json mapping configs, constructPayload's "first present
value" lookups) are destination.yaml's ``tables``, built here with ``ctx.build``; what stays here
is the choice of table and endpoint, the page filter and name, item conversions and batching.
"""

from __future__ import annotations

from typing import Any

from transformer.hooks import (
    Batch,
    ConfigurationError,
    Context,
    InstrumentationError,
    Job,
    UnexpectedError,
    add_external_id_to_traits,
    first_present,
    group_and_chunk,
    is_present,
    is_truthy,
    json_size,
    parse_float,
    parse_int,
    path_get,
    rest_request,
    to_string,
    without_nulls,
)

USDC = "https://api.iterable.com/api/"
EUDC = "https://api.eu.iterable.com/api/"
#: Iterable's request size limit, which the reference applies to bulk bodies.
MAX_BODY_BYTES = 4_000_000
MAX_BATCH_EVENTS = 1000

_MISSING = object()
# --- lookups ------------------------------------------------------------------------------------


_get = path_get


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


# --- payloads (the field tables are destination.yaml's ``tables``) ----------------------------------


def _user(ctx: Context) -> dict[str, Any]:
    """The users/update body, also a commerce request's ``user``."""
    user = ctx.build("user")
    _validate(user)
    return user


def _items(ctx: Context) -> list[dict[str, Any]]:
    properties = ctx.message.get("properties")
    products = properties.get("products") if isinstance(properties, dict) else None
    items = []
    for product in products if isinstance(products, list) else [properties]:
        item = ctx.build("product", product)
        if isinstance(item.get("categories"), str):
            item["categories"] = item["categories"].split(",")
        item["price"] = parse_float(item["price"])
        item["quantity"] = parse_int(item["quantity"])
        items.append(item)
    return items


def _event(ctx: Context, table: str) -> dict[str, Any]:
    """A track or page body: userId or email required, then the event fields."""
    payload = ctx.build(table)
    _validate(payload)
    payload.update(ctx.build("event_fields"))
    return without_nulls(payload)


def _purchase(ctx: Context) -> dict[str, Any]:
    payload = ctx.build("purchase")
    total = payload.pop("total")
    payload["user"] = _user(ctx)
    payload["total"] = parse_float(total)
    payload["items"] = _items(ctx)
    payload.update(ctx.build("event_fields"))
    return without_nulls(payload)


def _page(ctx: Context, kind: str) -> dict[str, Any]:
    message, config = ctx.message, ctx.config
    properties = message.get("properties")
    props = properties if isinstance(properties, dict) else {}
    if not (is_truthy(config.get("trackAllPages"))
            or (is_truthy(config.get("trackCategorisedPages"))
                and (is_truthy(props.get("category")) or is_truthy(message.get("category"))))
            or (is_truthy(config.get("trackNamedPages"))
                and (is_truthy(props.get("name")) or is_truthy(message.get("name"))))):
        raise ConfigurationError(f"Invalid {kind} call")
    if config.get("mapToSingleEvent") is True:
        ctx.vars["event_name"] = f"Loaded a {kind.capitalize()}"
    else:
        name = first_present(message, ("name", "properties.name"))
        ctx.vars["event_name"] = f"{'undefined' if name is None else to_string(name)} {kind}"
    return _event(ctx, "page")


def _token_request(ctx: Context, base: str) -> dict[str, Any]:
    """users/registerDeviceToken (a device token) or users/registerBrowserToken (an OS one)."""
    if is_truthy(path_get(ctx.message, "context.device.token")):
        path = "users/registerDeviceToken"
        payload = ctx.build("device_user")
        payload["device"] = ctx.build("device")
    else:
        path = "users/registerBrowserToken"
        payload = ctx.build("browser_token")
        _validate(payload)
    return _request(base + path, path, ctx.config.get("registerDeviceOrBrowserApiKey", _MISSING),
                    without_nulls(payload))


def _request(endpoint: str, path: str, api_key: Any, body: dict[str, Any]) -> dict[str, Any]:
    headers: dict[str, Any] = {"Content-Type": "application/json"}
    if api_key is not _MISSING:
        headers["api_key"] = api_key
    return rest_request(endpoint, body, endpoint_path=path, headers=headers)


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
        if is_truthy(path_get(message, "context.mappedToDestination")):
            catalog_id, object_type = _retl_external_id(message)
            if object_type != "users":
                traits = message.get("traits")
                if not is_present(traits):
                    raise InstrumentationError('Missing required value from "traits"')
                body = without_nulls({"update": traits, "catalogId": catalog_id})
                endpoint = f"{base}catalogs/{to_string(object_type)}/items"
                return _request(endpoint, "catalogs", api_key, body)
            add_external_id_to_traits(message)
        output = _request(base + "users/update", "users/update", api_key, without_nulls(_user(ctx)))
        context = message.get("context")
        if (message.get("type") == "identify" and isinstance(context, dict)
                and (is_truthy(path_get(context, "device.token"))
                     or is_truthy(path_get(context, "os.token")))
                and is_truthy(config.get("registerDeviceOrBrowserApiKey"))):
            return [output, _token_request(ctx, base)]
        return output
    if kind in ("page", "screen"):
        return _request(base + "events/track", "events/track", api_key,
                        _page(ctx, kind))
    if kind == "track":
        event = message.get("event")
        name = event.lower() if isinstance(event, str) else event
        if name == "order completed":
            path, body = "commerce/trackPurchase", _purchase(ctx)
        elif name in ("product added", "product removed"):
            path, body = "commerce/updateCart", {"user": _user(ctx), "items": _items(ctx)}
        else:
            path, body = "events/track", _event(ctx, "track")
        return _request(base + path, path, api_key, body)
    if kind == "alias":
        body = ctx.build("alias")
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
