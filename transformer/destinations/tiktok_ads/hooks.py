"""TikTok Ads: what destination.yaml cannot say.

* ``check_config``: the reference's config errors (Events 1.0 words the token one with a trailing
  space, Events 2.0 without).
* ``prepare``: the event name, checked and looked up before anything is mapped; the standard
  names it maps to go to ``ctx.vars["events"]`` (``has_events``: whether there is any).
* ``second_timestamp``: a mapping helper.
* ``finish``: the mapped fields (the reference's constructPayload) become the requests, as
  transform.js (Events 1.0) and transformV2.js (Events 2.0) post-process them: contents,
  external id, user fields, hashing, one payload per standard event name.
* ``batch``: router requests (Events 1.0: 50 events per pixel/batch request; Events 2.0: 1000 data
  items per event/track request and event_source), test events alone, ordered by jobId.

``second_timestamp`` (secondTimestamp) is used by this destination only.
"""

from __future__ import annotations

import re
from typing import Any

from transformer.hooks import (
    UNDEFINED,
    Batch,
    ConfigurationError,
    Context,
    InstrumentationError,
    Job,
    epoch_seconds,
    group_and_chunk,
    hash_from_array_with_duplicates,
    is_apple_family,
    is_truthy,
    js_trim,
    lodash_is_empty,
    number_to_string,
    rest_request,
    sha256_binary,
    sha256_utf8,
    sort_by_min_job_id,
    to_string,
    without_nulls,
)

PARTNER_NAME = "RudderStack"
BATCH_ENDPOINT = "https://business-api.tiktok.com/open_api/v1.3/pixel/batch/"
BATCH_ENDPOINT_PATH = "pixel/batch"
TRACK_ENDPOINT_V2 = "https://business-api.tiktok.com/open_api/v1.3/event/track/"
TRACK_ENDPOINT_V2_PATH = "event/track"
MAX_BATCH_SIZE = 50
MAX_BATCH_SIZE_V2 = 1000

#: config.js eventNameMapping: lower-cased event name -> TikTok standard event.
EVENT_NAME_MAPPING = {
    "product added to wishlist": "AddToWishlist",
    "product added": "AddToCart",
    "checkout started": "InitiateCheckout",
    "payment info entered": "AddPaymentInfo",
    "checkout step completed": "CompletePayment",
    "order completed": "PlaceAnOrder",
    "viewcontent": "ViewContent",
    "clickbutton": "ClickButton",
    "search": "Search",
    "contact": "Contact",
    "download": "Download",
    "submitform": "SubmitForm",
    "completeregistration": "CompleteRegistration",
    "subscribe": "Subscribe",
    "purchase": "Purchase",
    "lead": "Lead",
    "customizeproduct": "CustomizeProduct",
    "findlocation": "FindLocation",
    "schedule": "Schedule",
    "application approval": "ApplicationApproval",
    "submit application": "SubmitApplication",
    "start trial": "StartTrial",
}
#: Events 2.0 standard events whose properties.content_type defaults to "product".
EVENTS_WITH_RECOMMENDED_PARAMS = ("AddToCart", "CompletePayment", "PlaceAnOrder", "ViewContent")
#: Event names that are Object.prototype members in the reference's lookup tables: they pass
#: every check and map to no event at all.
_PROTOTYPE_NAMES = frozenset({"constructor", "__proto__"})
_MS_TIMESTAMP = re.compile(r"[+-]?\d+")


# --- config and event name --------------------------------------------------------------------


def _v2(config: dict[str, Any]) -> bool:
    return config.get("version") == "v2"


def check_config(config: dict[str, Any]) -> None:
    if not is_truthy(config.get("accessToken")):
        raise ConfigurationError("Access Token not found. Aborting" + ("" if _v2(config) else " "))
    if not is_truthy(config.get("pixelCode")):
        raise ConfigurationError("Pixel Code not found. Aborting")


def prepare(ctx: Context) -> None:
    """trackResponseBuilder's checks, and the TikTok event names with whether each defaults
    content_type (Events 2.0)."""
    config, event = ctx.config, ctx.message.get("event")
    if not is_truthy(event) or not isinstance(event, str):
        raise InstrumentationError("Event is a required field and should be a string")
    v2 = _v2(config)
    name = js_trim(event.lower())
    if v2 and not name:
        raise InstrumentationError("Event name is required")
    standard = hash_from_array_with_duplicates(config.get("eventsToStandard"),
                                               name="eventsToStandard")
    if (not is_truthy(config.get("sendCustomEvents")) and name not in EVENT_NAME_MAPPING
            and name not in standard and name not in _PROTOTYPE_NAMES):
        raise InstrumentationError(
            f"Event name ({name}) is not valid, must be mapped to one of standard events")
    if name in standard:
        names = standard[name]
    elif name in _PROTOTYPE_NAMES:
        names = []
    elif v2:
        names = [EVENT_NAME_MAPPING.get(name, event)]
    else:
        names = [EVENT_NAME_MAPPING.get(name) or event]
    ctx.vars["events"] = names
    ctx.vars["has_events"] = bool(names)


# --- mapping helpers --------------------------------------------------------------------------


def second_timestamp(value: Any, ctx: Context) -> Any:
    """The reference's ``secondTimestamp``: a value that reads as epoch milliseconds (digits) is
    kept as it is; anything else is the date's epoch seconds (absent when it is not a date)."""
    text = value if isinstance(value, str) else (
        number_to_string(value) if isinstance(value, int | float) and not isinstance(value, bool)
        else None)
    if text is not None and _MS_TIMESTAMP.fullmatch(text):
        return value
    return epoch_seconds(value)


def _contents(ctx: Context, with_type: bool) -> list[dict[str, Any]]:
    """util.js getContents: properties.products as TikTok contents (destination.yaml's table)."""
    properties = ctx.message["properties"]
    products = properties.get("products")
    if not isinstance(products, list):
        return []
    contents = []
    for index, product in enumerate(products):
        if product is None:
            raise InstrumentationError(f"properties.products[{index}] is null")
        item = product if isinstance(product, dict) else {}
        content: dict[str, Any] = {}
        if with_type:
            content["content_type"] = next(
                (v for v in (item.get("contentType"), properties.get("contentType"),
                             properties.get("content_type")) if is_truthy(v)), "product")
        content.update(ctx.build("content", item))
        contents.append(content)
    return contents


def _products(message: dict[str, Any]) -> bool:
    properties = message.get("properties")
    return isinstance(properties, dict) and is_truthy(properties.get("products"))


# --- finish -------------------------------------------------------------------------------------


def finish(ctx: Context, output: dict[str, Any]) -> Any:
    fields = output["body"]["JSON"]
    if _v2(ctx.config):
        output["body"]["JSON"] = _body_v2(ctx, fields)
        return output
    return _requests_v1(ctx, output, fields)


def _requests_v1(ctx: Context, output: dict[str, Any], fields: dict[str, Any]) -> list[Any]:
    """transform.js getTrackResponse, once per standard event name."""
    message, config = ctx.message, ctx.config
    events = ctx.vars["events"]
    if not events:  # "constructor": no request (the reference's router then crashes: a 500)
        if ctx.mode == "router":
            raise InstrumentationError(
                f"Event name ({js_trim(message['event'].lower())}) maps to no standard event")
        return []
    payload = fields["v1"]
    properties = payload.get("properties")
    if properties:
        contents = properties.get("contents")
        if is_truthy(contents) and not isinstance(contents, list):
            properties["contents"] = contents = [contents]
        if not is_truthy(contents) and _products(message):
            properties["contents"] = contents = _contents(ctx, True)
        if isinstance(contents, list):  # checkContentType
            default = message["properties"].get("contentType")
            properties["contents"] = [_with_content_type(item, default) for item in contents]
    click_id = fields.get("click_id")
    if click_id is not None:  # lodash set of context.ad.callback
        context = payload.setdefault("context", {})
        ad = context.get("ad")
        if isinstance(ad, dict):
            context["ad"] = {**ad, "callback": click_id}
        elif not isinstance(ad, list):
            context["ad"] = {"callback": click_id}
    _user_v1(payload, fields, config, len(events))
    body = {k: v for k, v in payload.items() if v is not None}
    requests = []
    for event in events:
        request = {**output, "body": {**output["body"], "JSON": dict(body)}}
        if event is not None and event is not UNDEFINED:
            request["body"]["JSON"]["event"] = event
        requests.append(request)
    return requests


def _with_content_type(item: Any, default: Any) -> Any:
    if item is None:
        raise InstrumentationError("properties.contents must not contain null")
    if isinstance(item, dict) and not is_truthy(item.get("content_type")):
        return {**item, "content_type": default if is_truthy(default) else "product_group"}
    return item


def _user_v1(payload: dict[str, Any], fields: dict[str, Any], config: dict[str, Any],
             rounds: int) -> None:
    """context.user: the external id, email and phone from the traits when missing, and hashed
    with Config.hashUserProperties. The reference builds each event's payload anew, but one taken
    from properties.context.user is the event's own object, changed in place every time: its
    email and phone (and an external id the event brought) end up hashed once per event name,
    and every request shows that last state."""
    context = payload.get("context")
    user = context.get("user") if isinstance(context, dict) else None
    shared = isinstance(user, dict)
    if not shared:
        rounds = 1
    external_id = fields.get("external_id")
    traits = fields.get("traits")
    traits = traits if isinstance(traits, dict) else {}
    updates: dict[str, Any] = {}
    if not lodash_is_empty(external_id):
        updates["external_id"] = external_id
    for key, trait in (("email", "email"), ("phone_number", "phone")):
        current = user.get(key) if isinstance(user, dict) else None
        if lodash_is_empty(current) and is_truthy(traits.get(trait)):
            updates[key] = traits[trait]
    if updates:
        context = payload.setdefault("context", {})
        user = context["user"] = {**(user if isinstance(user, dict) else {}), **updates}
    if not is_truthy(config.get("hashUserProperties")) or not isinstance(user, dict):
        return
    user = payload["context"]["user"] = dict(user)
    for key, lower in (("external_id", False), ("email", True), ("phone_number", False)):
        times = 1 if key == "external_id" and "external_id" in updates else rounds
        for _ in range(times):
            value = user.get(key)
            if lodash_is_empty(value):
                break
            if not isinstance(value, str):
                raise InstrumentationError(f"context.user.{key} must be a string to be hashed")
            text = js_trim(value)
            user[key] = sha256_utf8(text.lower() if lower else text)


def _body_v2(ctx: Context, fields: dict[str, Any]) -> dict[str, Any]:
    """transformV2.js getTrackResponsePayload, once per standard event name, in one body."""
    message, config = ctx.message, ctx.config
    body: dict[str, Any] = fields["v2"]
    payload = body.pop("data", None)
    if payload is None:  # no standard event name: nothing is mapped
        body["data"] = []
        return body
    properties = payload.get("properties")
    contents = properties.get("contents") if properties is not None else None
    if is_truthy(contents) and not isinstance(contents, list):
        properties["contents"] = contents = [contents]
    if not is_truthy(contents) and _products(message):
        properties = payload.setdefault("properties", {})
        properties["contents"] = contents = _contents(ctx, False)
    if isinstance(contents, list) and contents:
        ids = [_content_id(item) for item in contents]
        ids = [content_id for content_id in ids if is_truthy(content_id)]
        if ids:
            properties["contents_ids"] = ids
            properties["num_items"] = len(ids)
    external_id = fields.get("external_id")
    if not lodash_is_empty(external_id):
        payload["user"] = {**payload.get("user", {}), "external_id": external_id}
    user = payload.get("user")
    if is_truthy(config.get("hashUserProperties")) and not lodash_is_empty(user):
        payload["user"] = user = _hash_user_v2(user)
    os_name = _os_name(message)
    if os_name is not None and user:
        if not isinstance(os_name, str):
            raise InstrumentationError("context.os.name must be a string")
        os_name = os_name.lower()
        if is_apple_family(os_name):
            user.pop("gaid", None)
        elif os_name == "android":
            user.pop("idfa", None)
            user.pop("idfv", None)
    data = []
    for event in ctx.vars["events"]:
        item = dict(payload)
        properties = item.get("properties")
        if event in EVENTS_WITH_RECOMMENDED_PARAMS and not is_truthy(
                properties.get("content_type") if properties else None):
            item["properties"] = {**(properties or {}), "content_type": "product"}
        item["event"] = event
        data.append(without_nulls(item))
    body["data"] = data
    return body


def _content_id(item: Any) -> Any:
    if item is None:
        raise InstrumentationError("properties.contents must not contain null")
    return item.get("content_id") if isinstance(item, dict) else None


def _os_name(message: dict[str, Any]) -> Any:
    context = message.get("context")
    os = context.get("os") if isinstance(context, dict) else None
    return os.get("name") if isinstance(os, dict) else None


def _hash_string(value: Any, key: str) -> str:
    """util.js hashString: ``hashToSha256(value.toString().trim())``."""
    if value is None:
        raise InstrumentationError(f"user.{key} must not contain null")
    return sha256_binary(js_trim(to_string(value)))


def _hash_user_v2(user: dict[str, Any]) -> dict[str, Any]:
    """util.js hashUserField."""
    hashed = dict(user)
    for key in ("external_id", "phone"):
        value = user.get(key)
        if key == "phone" and not (isinstance(value, str | list) and value):
            continue
        if is_truthy(value):
            hashed[key] = ([_hash_string(item, key) for item in value] if isinstance(value, list)
                           else _hash_string(value, key))
    email = user.get("email")
    if isinstance(email, str | list) and email:
        hashed["email"] = _hash_string(email, "email")
    if is_truthy(user.get("idfa")):
        hashed["idfa"] = _hash_string(user["idfa"], "idfa").lower()
    if is_truthy(user.get("gaid")):
        hashed["gaid"] = _hash_string(user["gaid"], "gaid")
    return hashed


# --- router -------------------------------------------------------------------------------------


def batch(done: list[tuple[Job, Any]]) -> list[Batch]:
    """Test events alone (not batched), the others batched, and every request ordered by the
    smallest jobId it carries (sortBatchesByMinJobId)."""
    config = done[0][0].destination.get("Config")
    v2 = isinstance(config, dict) and _v2(config)
    alone: list[Batch] = []
    rest: list[tuple[Job, list[Any]]] = []
    for job, output in done:
        responses = output if isinstance(output, list) else [output]
        first = responses[0]["body"]["JSON"] if responses else {}
        if is_truthy(first.get("test_event_code")):
            alone.append(Batch(request=responses, jobs=[job], batched=False))
        else:
            rest.append((job, responses))
    batches = _batches_v2(rest) if v2 else _batches_v1(rest)
    return sort_by_min_job_id(batches + alone)


def _batches_v1(rest: list[tuple[Job, list[Any]]]) -> list[Batch]:
    """transform.js batchEvents: up to 50 events per request, a job's events kept together."""
    batches = []
    for chunk in group_and_chunk(rest, max_bytes=MAX_BATCH_SIZE, size=len):
        config = chunk[0][0].destination.get("Config") or {}
        items = []
        for _, responses in chunk:
            for response in responses:
                item = {k: v for k, v in response["body"]["JSON"].items()
                        if k not in ("pixel_code", "partner_name")}
                item["type"] = "track"
                items.append(item)
        body = {"pixel_code": config.get("pixelCode"), "partner_name": PARTNER_NAME,
                "batch": items}
        batches.append(Batch(request=_batch_request(BATCH_ENDPOINT, BATCH_ENDPOINT_PATH, config,
                                                    body), jobs=[job for job, _ in chunk]))
    return batches


def _batches_v2(rest: list[tuple[Job, list[Any]]]) -> list[Batch]:
    """transformV2.js batchEvents: per event_source, up to 1000 data items per request, with the
    pixel code and token of the event_source group's first job."""
    firsts: dict[Any, dict[str, Any]] = {}
    for job, out in rest:
        config = job.destination.get("Config")
        firsts.setdefault(_event_source(out), config if isinstance(config, dict) else {})
    batches = []
    for chunk in group_and_chunk(rest, key=lambda job, out: _event_source(out),
                                 max_bytes=MAX_BATCH_SIZE_V2, size=lambda out: len(_data(out))):
        source = _event_source(chunk[0][1])
        config = firsts[source]
        body = {"event_source_id": config.get("pixelCode"), "event_source": source,
                "partner_name": PARTNER_NAME,
                "data": [item for _, out in chunk for item in _data(out)]}
        batches.append(Batch(request=_batch_request(TRACK_ENDPOINT_V2, TRACK_ENDPOINT_V2_PATH,
                                                    config, body),
                             jobs=[job for job, _ in chunk]))
    return batches


def _event_source(out: list[Any]) -> Any:
    return out[0]["body"]["JSON"].get("event_source")


def _data(out: list[Any]) -> list[Any]:
    data = out[0]["body"]["JSON"].get("data")
    return data if isinstance(data, list) else []


def _batch_request(endpoint: str, path: str, config: dict[str, Any],
                   body: dict[str, Any]) -> dict[str, Any]:
    headers = {"Access-Token": config.get("accessToken"), "Content-Type": "application/json"}
    return rest_request(endpoint, body, endpoint_path=path, headers=headers)

