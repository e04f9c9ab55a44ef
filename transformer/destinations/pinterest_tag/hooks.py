"""Pinterest Conversions API: the reference's CDK v2 workflow (procWorkflow.yaml, rtWorkflow.yaml and
utils.js), step by step.

The whole event is built here because the workflow answers an already transformed request
(``message.statusCode``) with the request itself, checks the config (which keys depends on
``apiVersion``) before the message type, names the failing step in its processor errors, and turns
one event into one request per mapped event name. Its lookups are JavaScript ``??`` chains (a null
goes on to the next path, an empty string stops there; a null at the end is sent as null): the
common, custom data and user field tables are destination.yaml's ``tables``, built here with
``ctx.build``; the product lookups, which read items of the event, stay here (``_coalesce``).

``batch``: router requests, as rtWorkflow.yaml builds them: the events of up to 1000 per request
(``{"data": [...]}``), jobs kept whole and in order (the reference's batchMultiplexedEvents).
"""

from __future__ import annotations

import math
import re
from typing import Any

from transformer.hooks import (
    UNDEFINED,
    Batch,
    ConfigurationError,
    Context,
    InstrumentationError,
    Job,
    group_and_chunk,
    is_truthy,
    js_trim,
    lodash_is_empty,
    phone_digits,
    rest_request,
    sha256_binary,
    stringify,
    to_number,
    to_string,
    without_undefined,
)

V3_ENDPOINT = "https://ct.pinterest.com/events/v3"
V5_ENDPOINT = "https://api.pinterest.com/v5/ad_accounts/{}/events"
LEGACY_API = "legacyApi"
NEW_API = "newApi"
MAX_BATCH_SIZE = 1000
VALID_ACTION_SOURCES = ("app_android", "app_ios", "web", "offline")
_ACTION_SOURCE_ERROR = "Action source must be one of " + ", ".join(VALID_ACTION_SOURCES)
_SUPPORTED_TYPES = ("track", "page", "screen")
_ECOM_EVENTS = {"order completed": "checkout", "product added": "add_to_cart",
                "products searched": "search", "product list filtered": "search"}
#: user_data keys sent as a string, not as a list of (hashed) values.
_USER_SCALARS = frozenset({"client_user_agent", "client_ip_address", "click_id", "partner_id"})
_LOWERED = frozenset({"em", "ct", "st", "country", "ln", "fn", "ge"})
_NON_DIGITS = re.compile(r"[^0-9]")
_CAMEL = re.compile(r"([a-z])([A-Z])")
_SPACES = re.compile(r"\s+")
_LODASH_PATH = re.compile(r"[^.[\]]+")

# --- paths of ``??`` chains (the field tables are destination.yaml's ``tables``) ------------------

_P = tuple[tuple[str, ...], ...]


def _paths(*paths: str) -> _P:
    return tuple(tuple(p.split(".")) for p in paths)



# --- JavaScript helpers -------------------------------------------------------------------------


def _get(doc: Any, keys: tuple[str, ...]) -> Any:
    """The value at ``keys``; UNDEFINED when a key is missing (a JSON null stays None)."""
    for key in keys:
        if type(doc) is dict:
            doc = doc.get(key, UNDEFINED)
        elif type(doc) is list and key.isdigit() and int(key) < len(doc):
            doc = doc[int(key)]
        else:
            return UNDEFINED
    return doc


def _coalesce(doc: Any, paths: _P) -> Any:
    """JavaScript ``a ?? b ?? c`` over paths: the first neither null nor undefined, else the
    last value as it is."""
    value: Any = UNDEFINED
    for keys in paths:
        value = _get(doc, keys)
        if value is not None and value is not UNDEFINED:
            return value
    return value


def _defined(value: Any) -> bool:
    return value is not None and value is not UNDEFINED


def _convert_to_string(value: Any) -> Any:
    """integrations-lib ``convertToString``: a string as it is, anything else JSON.stringify'd
    (undefined stays undefined)."""
    if isinstance(value, str) or value is UNDEFINED:
        return value
    return stringify(value)


def _string_if_truthy(value: Any) -> Any:
    return _convert_to_string(value) if is_truthy(value) else UNDEFINED


def _item_string(key: str, value: Any) -> str:
    """``value.toString()`` of a user_data item; the reference crashes on null (a 500), here the
    event is rejected naming the field."""
    if value is None:
        raise InstrumentationError(f"user_data.{key} must not contain null", step="userFields")
    return to_string(value)


def _number(value: Any) -> Any:
    number = to_number(value)
    return None if isinstance(number, float) and math.isnan(number) else number


# --- the workflow ---------------------------------------------------------------------------------


def process(ctx: Context) -> Any:
    message, config = ctx.message, ctx.config
    api_version = config.get("apiVersion")
    if api_version is None:
        api_version = LEGACY_API
    if ctx.mode == "router" and api_version not in (LEGACY_API, NEW_API):
        # rtWorkflow.yaml batches only these two; with any other value the reference's router
        # fails the whole group (a 500: "___1 is not iterable").
        raise ConfigurationError("apiVersion must be legacyApi or newApi")
    if is_truthy(message.get("statusCode")):  # checkIfProcessed
        if ctx.mode != "router":
            return message
        body = message.get("body")
        payload = body.get("JSON", UNDEFINED) if isinstance(body, dict) else UNDEFINED
        return payload if isinstance(payload, list) else [] if payload is UNDEFINED else [payload]
    kind: Any = message.get("type")
    if kind is not None:
        if not isinstance(kind, str):
            # The reference crashes (a 500: "toLowerCase is not a function").
            raise InstrumentationError("message type must be a string", step="messageType")
        kind = kind.lower()
    _validate_input(config, api_version, kind)
    if kind == "track" and not (is_truthy(message.get("event")) or is_truthy(message.get("name"))):
        raise InstrumentationError("event_name could not be mapped. Aborting.",
                                   step="validateInputForTrack")
    base = _common_fields(ctx, api_version)
    base["user_data"] = _user_fields(ctx)
    if kind == "track":
        base["custom_data"] = _ecom_fields(ctx)
    payloads = [{**base, "event_name": name} for name in _event_names(message, config, kind)]
    if ctx.mode == "router":
        return payloads
    params = {"test": True} if is_truthy(config.get("sendAsTestEvent")) else {}
    endpoint, headers = _endpoint_and_headers(config, api_version)
    return [_request(endpoint, headers, params, payload) for payload in payloads]


def _validate_input(config: dict[str, Any], api_version: Any, kind: Any) -> None:
    if api_version == LEGACY_API:
        if not is_truthy(config.get("advertiserId")):
            raise ConfigurationError("Advertiser Id not found. Aborting", step="validateInput")
    else:
        if not is_truthy(config.get("adAccountId")):
            raise ConfigurationError("Ad Account ID not found. Aborting", step="validateInput")
        if not is_truthy(config.get("conversionToken")):
            raise ConfigurationError("Conversion Token not found. Aborting", step="validateInput")
    if not kind:
        raise InstrumentationError("Message type is not present. Aborting message.",
                                   step="validateInput")
    if kind not in _SUPPORTED_TYPES:
        raise InstrumentationError(f"message type {kind} is not supported", step="validateInput")


def _event_id(message: dict[str, Any], config: dict[str, Any]) -> Any:
    """``getOneByPaths(message, deduplicationKey) ?? messageId`` (a lodash path: ``a[0].b``)."""
    keys = config.get("deduplicationKey")
    for key in keys if isinstance(keys, list) else [keys]:
        if isinstance(key, str) and key:
            value = _get(message, tuple(_LODASH_PATH.findall(key)))
            if _defined(value):
                return value
    return _get(message, ("messageId",))


def _common_fields(ctx: Context, api_version: Any) -> dict[str, Any]:
    message, config = ctx.message, ctx.config
    fields = ctx.build("common")
    tracking = _get(message, ("context", "device", "adTrackingEnabled"))
    if api_version == NEW_API and isinstance(tracking, bool):
        fields["advertiser_tracking_enabled"] = tracking
    event_id = _event_id(message, config)
    if event_id is not UNDEFINED:
        fields["event_id"] = event_id
    # validateCommonFields
    action_source = fields.get("action_source")
    if not is_truthy(fields.get("event_time")):
        raise InstrumentationError("event_time is required", step="validateCommonFields")
    if not is_truthy(action_source):
        raise InstrumentationError("action_source is required", step="validateCommonFields")
    if action_source not in VALID_ACTION_SOURCES:
        raise InstrumentationError(_ACTION_SOURCE_ERROR, step="validateCommonFields")
    return fields


def _user_fields(ctx: Context) -> dict[str, Any]:
    message, config = ctx.message, ctx.config
    raw = ctx.build("user")
    fields = {k: v for k, v in raw.items() if not lodash_is_empty(v)}
    user: dict[str, Any] = {}
    if is_truthy(config.get("sendingUnHashedData")):
        for key, value in fields.items():
            if key in _USER_SCALARS:
                user[key] = to_string(value)
            else:
                items = value if isinstance(value, list) else [value]
                user[key] = [sha256_binary(to_string(_normalized(key, item))) for item in items]
    else:
        for key, value in fields.items():
            user[key] = value if key in _USER_SCALARS or isinstance(value, list) else [value]
        # Values sent hashed by the customer: the gender as it came, not mapped.
        traits, context = message.get("traits"), message.get("context")
        hashed_gender = traits.get("gender") if isinstance(traits, dict) else None
        if not is_truthy(hashed_gender):
            context_traits = context.get("traits") if isinstance(context, dict) else None
            hashed_gender = (context_traits.get("gender") if isinstance(context_traits, dict)
                             else None)
        if is_truthy(hashed_gender):
            user["ge"] = hashed_gender if isinstance(hashed_gender, list) else [hashed_gender]
    if not (is_truthy(user.get("em")) or is_truthy(user.get("hashed_maids")) or (
            is_truthy(user.get("client_ip_address")) and is_truthy(user.get("client_user_agent")))):
        raise InstrumentationError("It is required at least one of em, hashed_maids or pair of "
                                   "client_ip_address and client_user_agent",
                                   step="validateUserFields")
    return user


def _normalized(key: str, value: Any) -> Any:
    """utils.js transformValue: what Pinterest wants hashed for each user_data key."""
    if key in _LOWERED:
        return js_trim(_item_string(key, value)).lower()
    if key == "ph":
        return phone_digits(_item_string(key, value)) or ""
    if key == "zp":
        return _NON_DIGITS.sub("", js_trim(_item_string(key, value)))
    if not isinstance(value, str):
        # The sha256 package takes a string (or bytes); the reference crashes on anything else.
        raise InstrumentationError(f"user_data.{key} must be a string or a list of strings",
                                   step="userFields")
    return value


def _ecom_fields(ctx: Context) -> dict[str, Any]:
    properties = ctx.message.get("properties", UNDEFINED)
    products = _get(properties, ("products",))
    ecom = _product_fields(properties, products) if is_truthy(products) else \
        _single_product_fields(properties)
    # customFields, laid over the product fields
    ecom.update(ctx.build("custom"))
    for name in ("value", "total", "revenue"):
        value = _get(properties, (name,))
        if value is not UNDEFINED:
            ecom["value"] = _convert_to_string(value)
            break
    count = _get(properties, ("numOfItems",))
    if count is not UNDEFINED:
        ecom["num_items"] = _number(count) if is_truthy(count) else count
    return ecom


def _product_fields(properties: Any, products: Any) -> dict[str, Any]:
    items = products if isinstance(products, list) else [products]
    total: Any = 0
    content_ids = []
    contents = []
    for item in items:
        quantity = _get(item, ("quantity",))
        if quantity is not UNDEFINED:
            total = total + to_number(quantity)
        content_id = _coalesce(item, _paths("product_id", "sku", "id"))
        if content_id is not UNDEFINED:
            content_ids.append(_convert_to_string(content_id))
        count = _get(item, ("quantity",))
        if not _defined(count):
            count = _get(properties, ("quantity",))
        content = {"quantity": _number(1 if not _defined(count) else count)}
        price = _get(item, ("price",))
        if not _defined(price):
            price = _get(properties, ("price",))
        content.update(_content_details(item, price, _get(item, ("name",))))
        contents.append(content)
    if isinstance(total, float) and math.isnan(total):
        total = 0
    return {"num_items": total, "content_ids": content_ids, "contents": contents}


def _content_details(item: Any, price: Any, name: Any) -> dict[str, Any]:
    details = {"item_price": _convert_to_string(price), "item_name": _convert_to_string(name)}
    content_id = _coalesce(item, _paths("product_id", "sku"))
    details["id"] = _string_if_truthy(content_id)
    details["item_category"] = _string_if_truthy(_get(item, ("category",)))
    details["item_brand"] = _string_if_truthy(_get(item, ("brand",)))
    return without_undefined(details)


def _single_product_fields(properties: Any) -> dict[str, Any]:
    quantity = to_number(_get(properties, ("quantity",)))
    valid = not (isinstance(quantity, float) and math.isnan(quantity)) and quantity != 0
    fields: dict[str, Any] = {"num_items": quantity if valid else 0}
    content_id = _coalesce(properties, _paths("product_id", "sku", "id"))
    if content_id is not UNDEFINED:
        fields["content_ids"] = [_convert_to_string(content_id)]
    content = {"quantity": quantity if valid else 1}
    content.update(_content_details(properties, _string_if_truthy(_get(properties, ("price",))),
                                    _string_if_truthy(_get(properties, ("name",)))))
    fields["contents"] = [content]
    return fields


def _event_names(message: dict[str, Any], config: dict[str, Any], kind: str) -> list[Any]:
    if kind == "page":
        return ["view_category" if is_truthy(message.get("category")) else "page_visit"]
    event = message.get("event")
    if event is None:
        event = message.get("name")
    if not is_truthy(event) or not isinstance(event, str):
        raise InstrumentationError("Event is a required field and should be a string",
                                   step="eventNames")
    mapping = config.get("eventsMapping")
    if mapping is None:
        # The reference crashes (a 500: "Cannot read properties of undefined (reading 'length')").
        raise ConfigurationError("eventsMapping is a required field in the destination config",
                                 step="eventNames")
    rows = mapping if isinstance(mapping, list) else [mapping] if isinstance(mapping, dict) else []
    names = [(index, row.get("to")) for index, row in enumerate(rows)
             if isinstance(row, dict) and row.get("from") == event and row.get("to") is not None]
    if names:
        return [_snake_case(name, index) for index, name in names]
    ecom = _ECOM_EVENTS.get(event.lower())
    if ecom is not None:
        return [ecom]
    if is_truthy(config.get("sendAsCustomEvent")):
        return ["custom"]
    return [event]


def _snake_case(name: Any, index: int) -> str:
    """utils.js convertToSnakeCase: "WatchVideo" -> "watch_video"."""
    if not isinstance(name, str):
        # The reference crashes (a 500: "str.replace is not a function").
        raise ConfigurationError(f"eventsMapping[{index}].to must be a string", step="eventNames")
    return _SPACES.sub("_", _CAMEL.sub(r"\1_\2", name)).lower()


def _endpoint_and_headers(config: dict[str, Any], api_version: Any) -> tuple[str, dict[str, Any]]:
    if api_version == LEGACY_API:
        return V3_ENDPOINT, {"Content-Type": "application/json"}
    return (V5_ENDPOINT.format(to_string(config.get("adAccountId"))),
            {"Content-Type": "application/json",
             "Authorization": f"Bearer {to_string(config.get('conversionToken'))}"})


def _request(endpoint: str, headers: dict[str, Any], params: dict[str, Any],
             body: Any) -> dict[str, Any]:
    return rest_request(endpoint, body, headers=headers, params=params)


# --- router ---------------------------------------------------------------------------------------


def batch(done: list[tuple[Job, Any]]) -> list[Batch]:
    """rtWorkflow.yaml: the group's events in requests of at most 1000 (a job's events stay
    together: batchMultiplexedEvents), the API version and test flag of the group's first job,
    the v5 account and token of each request's first job."""
    config = done[0][0].destination.get("Config")
    config = config if isinstance(config, dict) else {}
    api_version = config.get("apiVersion")
    if api_version is None:
        api_version = LEGACY_API
    params = {"test": True} if is_truthy(config.get("sendAsTestEvent")) else {}
    batches = []
    for chunk in group_and_chunk(done, max_bytes=MAX_BATCH_SIZE, size=len):
        events = [event for _, payloads in chunk for event in payloads]
        if len(events) > MAX_BATCH_SIZE:  # one job alone: the reference nests its chunks
            events = [events[i:i + MAX_BATCH_SIZE] for i in range(0, len(events), MAX_BATCH_SIZE)]
        first = chunk[0][0].destination.get("Config")
        endpoint, headers = _endpoint_and_headers(first if isinstance(first, dict) else {},
                                                  api_version)
        batches.append(Batch(request=_request(endpoint, headers, params, {"data": events}),
                             jobs=[job for job, _ in chunk]))
    return batches
