"""Snapchat Conversions: what destination.yaml cannot say.

* ``prepare``: which Snapchat events a message becomes (the event name, or the rows of
  ``Config.rudderEventsToSnapEvents``), the conversion type and its config checks, and the vars
  that select the field tables of destination.yaml.
* ``hash_text``, ``hash_value``, ``hash_phone``, ``hash_email``: ``apply``
  modifiers (the reference's getHashedValue and friends).
* ``contents``, ``extinfo``: the v3 product contents and app extended info.
* ``finish``: assembles each Snapchat event from the mapped pieces in the reference's key order,
  the product ids and price sum, the required-identifier and event-age checks, and the request
  (v2: one per Snapchat event; v3: one with every event in ``data``).
* ``batch``: router batching (v2: a JSON string of bodies, at most 2000 events per request; v3:
  ``data`` concatenated, web/offline and app events apart, at most 2000 jobs per request).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from transformer.hooks import (
    JS_WHITESPACE,
    UNDEFINED,
    Batch,
    ConfigurationError,
    Context,
    InstrumentationError,
    Job,
    UnexpectedError,
    epoch_ms,
    group_and_chunk,
    is_apple_family,
    is_email,
    is_present,
    is_truthy,
    js_get,
    js_trim,
    number_to_string,
    parse_float,
    parse_int,
    path_get,
    phone_digits,
    rest_request,
    same_value_key,
    sha256_binary,
    stringify,
    to_string,
    without_nulls,
)

V2_ENDPOINT = "https://tr.snapchat.com/v2/conversion"
V3_ENDPOINT = "https://tr.snapchat.com/v3/{ID}/events"
#: The reference's MAX_BATCH_SIZE: Snapchat events (v2) or jobs (v3) per router request.
MAX_BATCH_SIZE = 2000

#: Rudder event name (normalised) -> Snapchat event type.
EVENT_TYPES = {
    "products_searched": "SEARCH",
    "product_list_viewed": "VIEW_CONTENT",
    "promotion_viewed": "AD_VIEW",
    "promotion_clicked": "AD_CLICK",
    "product_viewed": "VIEW_CONTENT",
    "product_added": "ADD_CART",
    "checkout_started": "START_CHECKOUT",
    "payment_info_entered": "ADD_BILLING",
    "order_completed": "PURCHASE",
    "product_added_to_wishlist": "ADD_TO_WISHLIST",
    "sign_up": "SIGN_UP",
    "app_open": "APP_OPEN",
    "save": "SAVE",
    "subscribe": "SUBSCRIBE",
    "complete_tutorial": "COMPLETE_TUTORIAL",
    "level_complete": "LEVEL_COMPLETE",
    "invite": "INVITE",
    "login": "LOGIN",
    "share": "SHARE",
    "reserve": "RESERVE",
    "achievement_unlocked": "ACHIEVEMENT_UNLOCKED",
    "spent_credits": "SPENT_CREDITS",
    "rate": "RATE",
    "start_trial": "START_TRIAL",
    "list_view": "LIST_VIEW",
    "page_view": "PAGE_VIEW",
    "app_install": "APP_INSTALL",
    "custom_event_1": "CUSTOM_EVENT_1",
    "custom_event_2": "CUSTOM_EVENT_2",
    "custom_event_3": "CUSTOM_EVENT_3",
    "custom_event_4": "CUSTOM_EVENT_4",
    "custom_event_5": "CUSTOM_EVENT_5",
}
#: Rudder event name -> the field table of destination.yaml (others: the default table).
V2_TABLES = {
    "products_searched": "v2_products_searched",
    "product_list_viewed": "v2_product_list_viewed",
    "product_viewed": "v2_product_viewed",
    "product_added": "v2_product_viewed",
    "checkout_started": "v2_checkout_started",
    "payment_info_entered": "v2_payment_info_entered",
    "order_completed": "v2_order_completed",
    "product_added_to_wishlist": "v2_product_added_to_wishlist",
    "sign_up": "v2_sign_up",
}
V3_TABLES = {
    "products_searched": "v3_products_searched",
    "product_list_viewed": "v3_product_list_viewed",
    "promotion_viewed": "v3_promotion",
    "promotion_clicked": "v3_promotion",
    "product_viewed": "v3_product",
    "product_added": "v3_product",
    "product_added_to_wishlist": "v3_product",
    "checkout_started": "v3_checkout_started",
    "payment_info_entered": "v3_payment_info_entered",
    "order_completed": "v3_order_completed",
}
#: Events whose item ids and price the reference computes from properties.products.
PRODUCT_EVENTS = frozenset({"product_list_viewed", "checkout_started", "order_completed"})
CHANNELS = {"web": "WEB", "mobile": "MOBILE_APP", "mobile_app": "MOBILE_APP",
            "offline": "OFFLINE"}

_HASHED = re.compile(r"[0-9a-fA-F]{64}")
_JS_SPACES = re.compile(f"[{re.escape(JS_WHITESPACE)}]+")


# --- hashing (the reference's getHashedValue over the npm sha256 package) -------------------------


def _hashed(identifier: Any) -> Any:
    """getHashedValue: a 64-hex-digit value is already a hash and stays as it is."""
    if not is_truthy(identifier):
        return None
    if _HASHED.fullmatch(to_string(identifier)):
        return identifier
    return sha256_binary(identifier)


def hash_text(value: Any, ctx: Context) -> Any:
    """String(value) trimmed and lower-cased, then hashed (absent when nothing is left)."""
    return _hashed(js_trim(to_string(value)).lower())


def hash_value(value: Any, ctx: Context) -> Any:
    """A device id hashed as it is."""
    return _hashed(value)


def hash_phone(value: Any, ctx: Context) -> Any:
    """getNormalizedPhoneNumber then the hash: digits only, leading zeros removed (a value that
    already is a hash is kept, lower-cased)."""
    if not is_truthy(value):
        return None
    text = to_string(value)
    if not _HASHED.fullmatch(text):
        text = phone_digits(text) or ""
    return _hashed(text.lower())


def hash_email(value: Any, ctx: Context) -> Any:
    """v3: the lower-cased, trimmed email, hashed when it is a valid address."""
    text = js_trim(to_string(value).lower())
    return _hashed(text) if text and is_email(text) else None


# --- prepare --------------------------------------------------------------------------------------


def _normalised(name: Any) -> str:
    """An event name as the reference compares it: String(name), trimmed, whitespace runs as _."""
    return _JS_SPACES.sub("_", js_trim(to_string(name)))


def _mapped_events(message: dict[str, Any], config: dict[str, Any]) -> tuple[list[Any], bool]:
    """eventMappingHandler: the Snapchat events Config.rudderEventsToSnapEvents maps the event
    to (each once, in row order) and True, else the event name itself and False."""
    event = message.get("event")
    if not is_truthy(event):
        raise InstrumentationError("Event name is required")
    name = _normalised(event).lower()
    rows = config.get("rudderEventsToSnapEvents")
    mapped: dict[Any, Any] = {}
    if isinstance(rows, list):
        for row in rows:
            if row is None:
                raise UnexpectedError("Cannot read properties of null (reading 'from')")
            source, target = _field(row, "from"), _field(row, "to")
            if not ((is_truthy(source) or source == "") and (is_truthy(target) or target == "")):
                continue  # getValidDynamicFormConfig drops the row
            if not isinstance(source, str):
                raise UnexpectedError("mapping.from.trim is not a function")
            if _normalised(source).lower() == name:
                mapped.setdefault(same_value_key(target), target)
    return (list(mapped.values()), True) if mapped else ([event], False)


def _field(row: Any, key: str) -> Any:
    return row.get(key) if isinstance(row, dict) else None


def _lower(value: Any, what: str) -> str | None:
    """``value?.toLowerCase()``: None for null, the TypeError for a value that is no string."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise UnexpectedError(f"{what}?.toLowerCase is not a function")
    return value.lower()


def conversion_type(message: dict[str, Any]) -> Any:
    """getEventConversionType: properties.eventConversionType, else the channel, else OFFLINE.
    UNDEFINED (no type) when eventConversionType is set but unknown while the channel is known."""
    properties = message.get("properties")
    given = properties.get("eventConversionType") if isinstance(properties, dict) else None
    given_key = _lower(given, "eventConversionType")
    if given_key is not None and given_key in CHANNELS:
        return CHANNELS[given_key]
    channel_key = _lower(message.get("channel"), "channel")
    if channel_key is None or channel_key not in CHANNELS:
        return "OFFLINE"
    return UNDEFINED if is_truthy(given) else CHANNELS[channel_key]


def _check_config(conversion: Any, config: dict[str, Any]) -> None:
    """validateEventConfiguration."""
    if conversion in ("WEB", "OFFLINE") and not is_truthy(config.get("pixelId")):
        raise ConfigurationError("Pixel Id is required for web and offline events")
    if conversion == "MOBILE_APP" and not (is_truthy(config.get("appId"))
                                           and is_truthy(config.get("snapAppId"))):
        required = "Snap App Id" if not is_truthy(config.get("snapAppId")) else "App Id"
        raise ConfigurationError(f"{required} is required for app events")


def _check_name(name: str) -> None:
    if name.lower() not in EVENT_TYPES:
        raise InstrumentationError(f"Event {name} doesn't match with Snapchat Events!")


def prepare(ctx: Context) -> None:
    """Rejects what the reference rejects before building anything, and selects the tables."""
    kind = ctx.message_type
    if kind not in ("track", "page"):
        raise InstrumentationError(f"Event type {kind} is not supported")
    message, config, variables = ctx.message, ctx.config, ctx.vars
    if kind == "page":
        events, listed = ["page_view"], True
    else:
        events, listed = _mapped_events(message, config)
    names = [_normalised(event) for event in events]
    conversion = conversion_type(message)
    _check_config(conversion, config)
    _check_name(names[0])  # the others once the first event is built (finish), as the reference
    v3 = config.get("apiVersion") == "newApi"
    tables, default = (V3_TABLES, "v3_default") if v3 else (V2_TABLES, "v2_default")
    variables["v3" if v3 else "v2"] = True
    for name in names:
        if name.lower() in EVENT_TYPES:
            variables[tables.get(name.lower(), default)] = True
    if conversion == "WEB":
        variables["web"] = True
    elif conversion == "MOBILE_APP":
        variables["mobile_app"] = True
    variables["names"] = names
    variables["listed"] = listed
    variables["conversion"] = conversion


# --- values computed from the event -------------------------------------------------------------


def _products(message: dict[str, Any]) -> Any:
    properties = message.get("properties")
    return properties.get("products") if isinstance(properties, dict) else None


def _item_ids(message: dict[str, Any]) -> list[Any] | None:
    """getItemIds: the truthy product_id of each product, or None without a products list."""
    products = _products(message)
    if not isinstance(products, list):
        return None
    ids = []
    for product in products:
        if product is None:
            raise UnexpectedError("Cannot read properties of null (reading 'product_id')")
        product_id = product.get("product_id") if isinstance(product, dict) else None
        if is_truthy(product_id):
            ids.append(product_id)
    return ids


def _price_sum(message: dict[str, Any]) -> str:
    """getPriceSum: String(sum of price x quantity), "null" without a products list."""
    products = _products(message)
    if not isinstance(products, list):
        return "null"
    total = 0.0
    for product in products:
        if not isinstance(product, dict):
            continue
        price, quantity = product.get("price"), product.get("quantity", 1)
        price_number, quantity_number = parse_float(price), parse_int(quantity)
        if is_truthy(price) and not _nan(price_number) and not _nan(quantity_number):
            total += float(price_number) * quantity_number
    return number_to_string(total)


def _nan(number: Any) -> bool:
    return isinstance(number, float) and math.isnan(number)


def _event_time(ctx: Context, days: int) -> Any:
    """getEventTimestamp: the event time in epoch seconds as a string; an event older than
    ``days`` (whole days, rounded up) is rejected."""
    message = ctx.message
    value = next((v for v in (message.get("timestamp"), message.get("originalTimestamp"))
                  if is_present(v)), None)
    if not is_truthy(value):
        return value
    ms = epoch_ms(value)
    if ms is None:
        return "NaN"
    age = ctx.clock.now_ms() // 1000 - ms // 1000
    if math.ceil(age / 86400) > days:
        raise InstrumentationError(f"Events must be sent within {days} days of their occurrence")
    return str(ms * 1000 + ms % 1000)[:10]


def _data_use(message: dict[str, Any]) -> Any:
    """getDataUseValue: limited ad tracking when the ATT status is 2."""
    context = message.get("context")
    device = context.get("device") if isinstance(context, dict) else None
    status = device.get("attTrackingStatus") if isinstance(device, dict) else None
    return "['lmu']" if status == 2 and not isinstance(status, bool) else None


def _dedup_id(message: dict[str, Any], config: dict[str, Any]) -> Any:
    key = config.get("deduplicationKey")
    return js_get(message, to_string(key) if is_truthy(key) else "messageId")


def contents(ctx: Context) -> Any:
    """productsToContentsMapping: destination.yaml's content table of each product object, or of
    the properties themselves when there is no products list."""
    properties = ctx.message.get("properties")
    products = properties.get("products") if isinstance(properties, dict) else None
    if not isinstance(products, list) or not products:
        content = ctx.build("content", properties) if isinstance(properties, dict) else None
        return [content] if content else None
    found = [ctx.build("content", product) for product in products if isinstance(product, dict)]
    return [content for content in found if content] or None


_EXTINFO = (
    "context.app.namespace", "context.app.build", "context.app.version", "context.os.version",
    "context.device.model", "context.locale",
    None,  # the time zone's abbreviation
    "context.network.carrier", "context.screen.width", "context.screen.height",
    "context.screen.density", "properties.cpu_cores", "properties.storage",
    "properties.free_storage", "context.timezone",
)


def extinfo(ctx: Context) -> list[str]:
    """getExtInfo: the 16 values of Snapchat's extinfo, each as a string ("" when absent)."""
    message = ctx.message
    device_type = path_get(message, "context.device.type")
    apple = is_apple_family(device_type)
    out = ["i2" if apple else "a2"]
    for path in _EXTINFO:
        if path is None:
            out.append("")
            continue
        value = path_get(message, path)
        out.append("" if value is None else to_string(value))
    if out[15]:
        out[7] = zone_abbreviation(out[15], ctx.clock.now_ms())
    return out


@cache
def _zone_names() -> dict[str, str]:
    return {name.lower().replace("/", "_"): name for name in available_timezones()}


def zone_abbreviation(name: str, now_ms: int) -> str:
    """moment-timezone's ``moment().tz(name).format("z")``: the zone's abbreviation now (names
    match case-insensitively); "" for an unknown zone."""
    canonical = _zone_names().get(name.lower().replace("/", "_"))
    if canonical is None:
        return ""
    try:
        zone = ZoneInfo(canonical)
    except (ZoneInfoNotFoundError, ValueError):
        return ""
    return datetime.fromtimestamp(now_ms / 1000, UTC).astimezone(zone).tzname() or ""


# --- finish ---------------------------------------------------------------------------------------


def finish(ctx: Context, output: dict[str, Any]) -> Any:
    """The request(s) of the Snapchat events the message maps to."""
    pieces = output["body"]["JSON"]
    if ctx.vars.get("v3"):
        return _finish_v3(ctx, output, pieces.get("v3") or {}, pieces.get("page_url"))
    requests = _finish_v2(ctx, output, pieces.get("v2") or {}, pieces.get("page_url"))
    # A page, or a track event mapped by rudderEventsToSnapEvents, gives a list.
    return requests if ctx.vars["listed"] else requests[0]


def _has_identifier(hashed: dict[str, Any], user_agent: Any) -> bool:
    return (is_truthy(hashed.get("hashed_email")) or is_truthy(hashed.get("hashed_phone_number"))
            or is_truthy(hashed.get("hashed_mobile_ad_id"))
            or (is_truthy(hashed.get("hashed_ip_address")) and is_truthy(user_agent)))


def _finish_v2(ctx: Context, output: dict[str, Any], pieces: dict[str, Any],
               page_url: Any) -> list[dict[str, Any]]:
    message = ctx.message
    conversion = ctx.vars["conversion"]
    tables = pieces.get("tables") or {}
    common = pieces.get("common") or {}
    hashed = pieces.get("hashed") or {}
    tail: dict[str, Any] | None = None
    requests = []
    for index, name in enumerate(ctx.vars["names"]):
        if index:
            _check_name(name)
        key = name.lower()
        payload = dict(tables.get(V2_TABLES.get(key, "v2_default")) or {})
        payload["event_type"] = EVENT_TYPES[key]
        if key in PRODUCT_EVENTS:
            payload["item_ids"] = _item_ids(message)
            if not is_truthy(payload.get("price")):
                payload["price"] = _price_sum(message)
        payload.update(common)
        payload.update(hashed)
        if tail is None:
            if not _has_identifier(hashed, common.get("user_agent")):
                raise InstrumentationError("At least one of email or phone or advertisingId or "
                                           "ip and userAgent is required")
            tail = _v2_tail(ctx, conversion, page_url)
        payload.update(tail)
        request = dict(output)
        request["body"] = {"JSON": without_nulls(payload), "JSON_ARRAY": {}, "XML": {}, "FORM": {}}
        requests.append(request)
    return requests


def _v2_tail(ctx: Context, conversion: Any, page_url: Any) -> dict[str, Any]:
    """The keys every v2 event ends with."""
    message, config = ctx.message, ctx.config
    tail: dict[str, Any] = {"timestamp": _event_time(ctx, 37), "data_use": _data_use(message),
                            "event_conversion_type": conversion}
    if conversion == "WEB":
        tail.update(pixel_id=config.get("pixelId"), page_url=page_url)
    elif conversion == "MOBILE_APP":
        tail.update(snap_app_id=config.get("snapAppId"), app_id=config.get("appId"))
    elif conversion == "OFFLINE":
        tail["pixel_id"] = config.get("pixelId")
    if is_truthy(config.get("enableDeduplication")):
        tail["client_dedup_id"] = _dedup_id(message, config)
    return tail


def _finish_v3(ctx: Context, output: dict[str, Any], pieces: dict[str, Any],
               page_url: Any) -> dict[str, Any]:
    message, config = ctx.message, ctx.config
    conversion = ctx.vars["conversion"]
    tables = pieces.get("tables") or {}
    common = pieces.get("common") or {}
    hashed = pieces.get("user_data") or {}
    found_contents = pieces.get("contents")
    data = []
    for index, name in enumerate(ctx.vars["names"]):
        if index:
            _check_name(name)
        key = name.lower()
        table = tables.get(V3_TABLES.get(key, "v3_default")) or {}
        event = {k: dict(v) if isinstance(v, dict) else v for k, v in table.items()}
        event["event_name"] = EVENT_TYPES[key]
        if key in PRODUCT_EVENTS:
            custom = event.setdefault("custom_data", {})
            custom["content_ids"] = _item_ids(message)  # null stays: only top-level nulls go
            if not is_truthy(custom.get("value")):
                custom["value"] = _price_sum(message)
        if found_contents:
            event.setdefault("custom_data", {})["contents"] = found_contents
        for part in ("user_data", "custom_data", "app_data"):
            if part in common:
                event[part] = {**(event.get(part) or {}), **common[part]}
        user_data = event["user_data"] = {**(event.get("user_data") or {}), **hashed}
        if not (is_truthy(user_data.get("em")) or is_truthy(user_data.get("ph"))
                or is_truthy(user_data.get("madid"))
                or (is_truthy(user_data.get("client_ip_address"))
                    and is_truthy(user_data.get("client_user_agent")))):
            raise InstrumentationError("At least one of email or phone or advertisingId or ip "
                                       "and clientUserAgent is required")
        event["event_time"] = _event_time(ctx, 7)
        event["data_processing_options"] = _data_use(message)
        event["action_source"] = conversion
        if conversion == "WEB":
            event["event_source_url"] = page_url
        elif conversion == "MOBILE_APP":
            app_data = event["app_data"] = dict(event.get("app_data") or {})
            app_data["app_id"] = config.get("appId")
            app_data["extinfo"] = pieces.get("extinfo")
        if is_truthy(config.get("enableDeduplication")):
            event["event_id"] = _dedup_id(message, config)
        data.append(without_nulls(event))
    ident = config.get("snapAppId" if conversion == "MOBILE_APP" else "pixelId", UNDEFINED)
    api_key = config.get("apiKey", UNDEFINED)
    request = dict(output)
    request["endpoint"] = V3_ENDPOINT.replace("{ID}", to_string(ident))
    request["headers"] = {"Content-Type": "application/json"}
    request["params"] = {} if api_key is UNDEFINED else {"access_token": api_key}
    request["body"] = {"JSON": {"data": data}, "JSON_ARRAY": {}, "XML": {}, "FORM": {}}
    return request


# --- router ---------------------------------------------------------------------------------------


def _event_count(output: Any) -> int:
    return len(output) if isinstance(output, list) else 1


def _is_app_event(job: Job, output: Any) -> bool:
    data = output["body"]["JSON"].get("data") or [{}]
    return bool(data[0].get("action_source") == "MOBILE_APP")


def batch(done: list[tuple[Job, Any]]) -> list[Batch]:
    """Router requests, as the reference batches them (see the module docstring)."""
    if not done:
        return []
    config = done[0][0].destination.get("Config")
    if isinstance(config, dict) and config.get("apiVersion") == "newApi":
        chunks = group_and_chunk(done, key=_is_app_event, max_events=MAX_BATCH_SIZE)
        chunks.sort(key=lambda chunk: _is_app_event(*chunk[0]))  # web and offline first
        return [_v3_batch(chunk) for chunk in chunks]
    chunks = group_and_chunk(done, max_bytes=MAX_BATCH_SIZE, size=_event_count)
    return [_v2_batch(chunk) for chunk in chunks]


def _v2_batch(chunk: list[tuple[Job, Any]]) -> Batch:
    bodies = [request["body"]["JSON"] for _, output in chunk
              for request in (output if isinstance(output, list) else [output])]
    config = chunk[0][0].destination.get("Config")
    api_key = config.get("apiKey", UNDEFINED) if isinstance(config, dict) else UNDEFINED
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {to_string(api_key)}"}
    request = rest_request(V2_ENDPOINT, {"batch": stringify(bodies)}, headers=headers,
                           body_format="JSON_ARRAY")
    return Batch(request=request, jobs=[job for job, _ in chunk])


def _v3_batch(chunk: list[tuple[Job, Any]]) -> Batch:
    first = chunk[0][1]
    data = [item for _, output in chunk for item in output["body"]["JSON"]["data"]]
    request = rest_request(first["endpoint"], {"data": data}, method=first["method"],
                           headers=first["headers"], params=first["params"])
    return Batch(request=request, jobs=[job for job, _ in chunk])
