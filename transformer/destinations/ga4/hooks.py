"""Google Analytics 4: what destination.yaml cannot say.

* ``check_config``: the reference's config checks, in its words.
* ``prepare``: the message-type rules (page is ``page_view``, group ``join_group``, page refused
  in hybrid mode), the event-name checks made before anything is mapped, and the endpoint path.
* ``timestamp_micros`` / ``non_personalized_ads``: ``apply`` modifiers for the common fields.
* ``client_id`` / ``app_instance_id``: the client identifier the client type asks for.
* ``events``: the one GA4 event: standard events (a table per RudderStack e-commerce or GA4
  event name, ``_PARAMS`` below) or custom ones, with every other property as a parameter.
* ``user_properties`` / ``consent``: the validated user properties and consents.

The parameter tables of the standard events are destination.yaml's ``tables`` (read with
``get_value``, as the reference's constructPayload reads the event); what a table's paths name is
left out of the custom parameters, which are flattened with "_" (flattenJson's "strict" mode).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from transformer.hooks import (
    JS_WHITESPACE,
    ConfigurationError,
    Context,
    InstrumentationError,
    TransformerError,
    UnexpectedError,
    epoch_ms,
    external_id,
    extract_custom_fields,
    flatten_json,
    integrations_object,
    is_blank,
    is_truthy,
    js_get,
    js_trim,
    to_number,
    to_string,
)


class UnsupportedEventError(TransformerError):
    """integrations-lib's UnsupportedEventError: a 400 tagged platform/unsupported."""

    error_category = "platform"
    error_type = "unsupported"


#: The reference's canonical names for the destination in ``message.integrations``.
_INTEGRATION_NAMES = ("GA4", "ga4", "Ga4", "Google Analytics 4", "googleAnalytics4",
                      "Google Analytics 4 (GA4)")
_SUPPORTED_TYPES = frozenset({"track", "page", "group"})

_RESERVED_EVENT_NAMES = frozenset({
    "ad_activeview", "ad_click", "ad_exposure", "ad_impression", "ad_query", "adunit_exposure",
    "app_clear_data", "app_install", "app_update", "app_remove", "error", "first_open",
    "first_visit", "in_app_purchase", "notification_dismiss", "notification_foreground",
    "notification_open", "notification_receive", "os_update", "screen_view", "session_start",
    "user_engagement",
})
_RESERVED_CUSTOM_EVENT_NAMES = frozenset({
    "app_remove", "app_store_refund", "app_store_subscription_cancel",
    "app_store_subscription_convert", "app_store_subscription_renew", "first_open",
    "first_visit", "in_app_purchase", "session_start", "user_engagement",
})
_RESERVED_CUSTOM_PREFIXES = ("_", "firebase_", "ga_", "google_", "gtag.")
_RESERVED_PARAM_PREFIXES = ("google_", "ga_", "firebase_")
_EVENT_NAME = re.compile(r"[A-Za-z]\w*", re.ASCII)
_USER_PROPERTY_NAME = re.compile(r"[A-Za-z]\w{0,23}", re.ASCII)

#: Parameters never sent as custom parameters (GA4 reserved names, and the two names the
#: reference maps itself).
_RESERVED_PARAMETERS = ("firebase_conversion", "user_properties")
_MAPPED_PARAMETERS = ("engagementTimeMsec", "sessionId")
_DEFAULT_EXCLUSION = frozenset(_RESERVED_PARAMETERS + _MAPPED_PARAMETERS)
_RESERVED_USER_PROPERTIES = ("first_open_time", "first_visit_time", "last_deep_link_referrer",
                             "user_id", "first_open_after_install")
#: Product properties already mapped into an item.
_ITEM_EXCLUSION = frozenset({
    "item_id", "itemId", "product_id", "item_name", "itemName", "name", "coupon", "item_category",
    "itemCategory", "category", "item_brand", "itemBrand", "brand", "item_variant", "itemVariant",
    "variant", "price", "quantity", "index", "position",
})
#: Standard events whose item may come from the root-level properties.
_ITEM_EVENTS = frozenset({"select_item", "view_item", "add_to_cart", "remove_from_cart",
                          "add_to_wishlist"})
_CONSENTS = ("ad_user_data", "ad_personalization")
_CONSENT_VALUES = ("GRANTED", "DENIED")


# --- JavaScript helpers (get-value, flattenJson) --------------------------------------------

_JS_SPACES = re.compile(f"[{re.escape(JS_WHITESPACE)}]+")  # JavaScript's \s+


def _js_length(text: str) -> int:
    """``string.length``: UTF-16 code units."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _js_equal_zero(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == 0


# --- config and message checks ------------------------------------------------------------------


def check_config(config: dict[str, Any]) -> None:
    """The reference's ``basicConfigvalidaiton``, word for word."""
    client = config.get("typesOfClient")
    if not is_truthy(client):
        raise ConfigurationError("Client type not found. Aborting ")
    if not is_truthy(config.get("apiSecret")):
        raise ConfigurationError("API Secret not found. Aborting ")
    if client == "gtag" and not is_truthy(config.get("measurementId")):
        raise ConfigurationError("measurementId must be provided. Aborting")
    if client == "firebase" and not is_truthy(config.get("firebaseAppId")):
        raise ConfigurationError("firebaseAppId must be provided. Aborting")


def _hybrid(config: dict[str, Any]) -> bool:
    return config.get("connectionMode") == "hybrid"


def prepare(ctx: Context) -> None:
    """The checks the reference makes before it maps anything, and the event name to send."""
    kind = ctx.message_type
    if kind not in _SUPPORTED_TYPES:
        raise InstrumentationError(f"Message type {kind} not supported")
    message = ctx.message
    if kind == "page":
        if _hybrid(ctx.config):
            raise UnsupportedEventError(
                "GA4 Hybrid mode is enabled, page calls will be sent through device mode")
        event: Any = "page_view"
    elif kind == "group":
        event = "join_group"
    else:
        event = js_get(message, "event")
    if not is_truthy(event):
        raise InstrumentationError("Event name is required")
    if not isinstance(event, str):
        raise InstrumentationError("track:: event name should be string")
    event = _JS_SPACES.sub("_", js_trim(event))
    if event.lower() in _RESERVED_EVENT_NAMES:
        raise InstrumentationError("track:: Reserved event names are not allowed")
    ctx.vars["event"] = event


def _validate_custom_event_name(event: str) -> None:
    lowered = event.lower()
    if lowered in _RESERVED_CUSTOM_EVENT_NAMES:
        raise InstrumentationError("Reserved custom event names are not allowed")
    if lowered.startswith(_RESERVED_CUSTOM_PREFIXES):
        raise InstrumentationError("Reserved custom prefix names are not allowed")
    if not _EVENT_NAME.fullmatch(event):
        raise InstrumentationError("Event name must start with a letter and can only contain "
                                   "letters, numbers, and underscores")


# --- common fields --------------------------------------------------------------------------------


def timestamp_micros(value: Any, ctx: Context) -> Any:
    """Whole epoch seconds x 10^6, after the reference's window check: at most 72 hours (rounded
    up) into the past, at most 15 minutes (rounded up) into the future. Unparseable: absent."""
    millis = epoch_ms(value)
    if millis is None:
        return None
    seconds = millis // 1000
    now = ctx.clock.now_ms() // 1000
    past_hours = -((seconds - now) // 3600)  # ceil((now - seconds) / 3600)
    if past_hours > 72:
        raise InstrumentationError("Allowed timestamp is [72 hours] into the past")
    if past_hours <= 0 and -((now - seconds) // 60) > 15:
        raise InstrumentationError("Allowed timestamp is [15 minutes] into the future")
    return seconds * 1_000_000


def non_personalized_ads(value: Any, ctx: Context) -> Any:
    """Ad tracking on (true, "true", 1, "1") is false, off is true, anything else absent."""
    if isinstance(value, str):
        return {"true": False, "1": False, "false": True, "0": True}.get(value)
    if isinstance(value, bool | int | float):
        if value == 1:
            return False
        if value == 0:
            return True
    return None


def _integrations(message: dict[str, Any]) -> Any:
    return integrations_object(message, _INTEGRATION_NAMES)


def client_id(ctx: Context) -> Any:
    """gtag's client_id; None for firebase; other client types are a configuration error."""
    client = ctx.config.get("typesOfClient")
    if client == "firebase":
        return None
    if client != "gtag":
        raise ConfigurationError("Invalid type of client")
    message = ctx.message
    value: Any = None
    if _hybrid(ctx.config):
        integrations = _integrations(message)
        if isinstance(integrations, dict) and is_truthy(integrations.get("clientId")):
            value = integrations["clientId"]
    if not is_truthy(value):
        value = external_id(message, "ga4ClientId")
        for key in ("anonymousId", "rudderId"):  # JavaScript a || b || c
            if is_truthy(value):
                break
            value = message.get(key)
    if value is None:
        raise ConfigurationError("ga4ClientId or anonymousId must be provided")
    return value


def app_instance_id(ctx: Context) -> Any:
    """firebase's app_instance_id, from the ga4AppInstanceId external id."""
    if ctx.config.get("typesOfClient") != "firebase":
        return None
    value = external_id(ctx.message, "ga4AppInstanceId")
    if value is None:
        raise InstrumentationError("ga4AppInstanceId must be provided under externalId")
    return value


# --- standard events ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Category:
    """A standard event: its GA4 name, its parameter table (destination.yaml's ``tables``) and
    where its items come from (``item_list``: properties.products, ``item``: the root-level
    properties; True when required, False when optional, None when not used). ``names``: what
    the custom parameters leave out when it is not what the table's paths name."""

    name: str | None
    table: str
    item_list: bool | None = None
    item: bool | None = None
    names: frozenset[str] | None = None


#: ConfigCategory of the reference, by upper-cased event name. COMMON, ITEM_LIST, ITEM, PAGE
#: and GROUP are reachable too (track events so named), as they are in the reference.
_PARAMS: dict[str, _Category] = {
    # The reference's COMMON table reads generic aliases: its exclusion names are theirs.
    "COMMON": _Category(None, "common",
                        names=frozenset({"userIdOnly", "timestamp", "adTrackingEnabled"})),
    "ITEM_LIST": _Category(None, "item_list"),
    "ITEM": _Category(None, "item"),
    "LOGIN": _Category("login", "login"),
    "SIGN_UP": _Category("sign_up", "login"),
    "GENERATE_LEAD": _Category("generate_lead", "generate_lead"),
    "CAMPAIGN_DETAILS": _Category("campaign_details", "campaign_details"),
    "PRODUCTS_SEARCHED": _Category("search", "products_searched"),
    "PRODUCT_LIST_VIEWED": _Category("view_item_list", "item_list_view", item_list=True),
    "PROMOTION_VIEWED": _Category("view_promotion", "promotion", item_list=True),
    "PROMOTION_CLICKED": _Category("select_promotion", "promotion", item_list=False),
    "PRODUCT_CLICKED": _Category("select_item", "item_list_view", item=True),
    "PRODUCT_VIEWED": _Category("view_item", "product_value", item=True),
    "PRODUCT_ADDED": _Category("add_to_cart", "product_added", item_list=False, item=True),
    "PRODUCT_REMOVED": _Category("remove_from_cart", "product_removed", item_list=False,
                                 item=True),
    "CART_VIEWED": _Category("view_cart", "cart_viewed", item_list=True),
    "CHECKOUT_STARTED": _Category("begin_checkout", "checkout", item_list=True),
    "PAYMENT_INFO_ENTERED": _Category("add_payment_info", "payment_info_entered", item_list=True),
    "CHECKOUT_STEP_COMPLETED": _Category("add_shipping_info", "checkout_step_completed",
                                         item_list=True),
    "ORDER_COMPLETED": _Category("purchase", "order", item_list=True),
    "ORDER_REFUNDED": _Category("refund", "order", item_list=False),
    "PRODUCT_ADDED_TO_WISHLIST": _Category("add_to_wishlist", "product_value", item_list=False,
                                           item=True),
    "PRODUCT_SHARED": _Category("share", "product_shared"),
    "CART_SHARED": _Category("share", "cart_shared"),
    "PAGE": _Category("page", "page"),
    "GROUP": _Category("group", "group"),
    "VIEW_SEARCH_RESULTS": _Category("view_search_results", "view_search_results",
                                     item_list=True),
}


def _exclusion(ctx: Context, *tables: str) -> frozenset[str]:
    """getGA4ExclusionList: the last part of every path the tables map, products, and the
    reserved parameters."""
    names = {path.rsplit(".", 1)[-1] for table in tables for path in ctx.table_paths(table)}
    return frozenset(names) | {"products"} | _DEFAULT_EXCLUSION


# --- items ------------------------------------------------------------------------------------


def _item_list(ctx: Context, required: bool) -> list[Any]:
    """Items from properties.products (getItemList)."""
    message = ctx.message
    products = js_get(message, "properties.products")
    if required:
        empty = (isinstance(products, list) and not products) or (
            isinstance(products, dict) and _js_equal_zero(products.get("length")))
        if not is_truthy(products) or empty:
            raise InstrumentationError(
                f"Products is an required field for '{to_string(message.get('event'))}' event")
        if not isinstance(products, list):
            raise InstrumentationError("Invalid type. Expected Array of products")
    if not isinstance(products, list):
        return []
    items = []
    for product in products:
        # (a null product reads as nothing, not as the event ``ctx.build`` reads without one)
        element = ctx.build("item_list", product) if product is not None else {}
        if element.get("item_id") is None and element.get("item_name") is None:
            raise InstrumentationError("One of product_id or name is required")
        extra = extract_custom_fields((product,), _ITEM_EXCLUSION)
        if extra:
            element.update(_valid_params(flatten_json(extra, "_", strict=True)))
        items.append(element)
    return items


def _item(ctx: Context, required: bool) -> list[Any]:
    """The root-level properties as the one item (getItem)."""
    message = ctx.message
    properties = js_get(message, "properties")
    if not is_truthy(properties):
        if required:
            raise InstrumentationError(
                f"Item/product parameters not found for '{to_string(message.get('event'))}' event")
        return []
    product = _valid_params(ctx.build("item", properties))
    if product.get("item_id") is None and product.get("item_name") is None:
        raise InstrumentationError("One of product_id or name is required")
    return [product]


def _items(ctx: Context, category: _Category) -> tuple[list[Any], bool]:
    """(items, whether they came from the root-level properties): getItemsArray."""
    if category.item_list is not None and category.item is not None:
        items = _item_list(ctx, category.item_list)
        if items:
            return items, False
        return _item(ctx, category.item), True
    if category.item is not None:
        return _item(ctx, category.item), True
    if category.item_list is not None:
        return _item_list(ctx, category.item_list), False
    return [], False


# --- the event ------------------------------------------------------------------------------


def events(ctx: Context) -> list[dict[str, Any]]:
    """``[{name, params}]``: the standard or custom event with its parameters."""
    message = ctx.message
    event: str = ctx.vars["event"]
    kind = message.get("type")  # the exact type: "Track" is a custom event
    category = _PARAMS.get(event.upper()) if kind == "track" else None
    name: Any = event
    if category is not None:
        name = category.name
        params = ctx.build(category.table)
        exclusion = _exclusion(ctx, category.table) if category.names is None \
            else category.names | _exclusion(ctx)
        items, from_root = _items(ctx, category)
        if items:
            params["items"] = items
        if from_root and name in _ITEM_EVENTS:
            exclusion |= _exclusion(ctx, "item")
        params.update(_custom(message, ("properties",), exclusion))
        params.update(ctx.build("track_page_common"))
    elif kind == "page":
        params = ctx.build("page")
        params.update(_custom(message, ("properties",), _DEFAULT_EXCLUSION))
        params.update(ctx.build("track_page_common"))
    elif kind == "group":
        params = ctx.build("group")
        params.update(_custom(message, ("traits", "context.traits"), _exclusion(ctx, "group")))
        params.update(ctx.build("identify_group_common"))
    else:
        _validate_custom_event_name(event)
        params = _custom(message, ("properties",), _DEFAULT_EXCLUSION)
        params.update(ctx.build("track_page_common"))

    for key in [k for k in params if k.lower().startswith(_RESERVED_PARAM_PREFIXES)]:
        del params[key]
    integrations = _integrations(message)
    if isinstance(integrations, dict):
        if _hybrid(ctx.config) and is_truthy(integrations.get("sessionId")):
            params["session_id"] = integrations["sessionId"]
        if is_truthy(integrations.get("sessionNumber")):
            params["session_number"] = integrations["sessionNumber"]
    params = _valid_params({k: v for k, v in params.items() if v is not None})  # items: null too
    payload: dict[str, Any] = {}
    if name is not None:
        payload["name"] = name
    if params:
        payload["params"] = params
    return [payload]


def _custom(message: dict[str, Any], paths: tuple[str, ...], exclusion: frozenset[str]) -> \
        dict[str, Any]:
    """Every property (of the objects at ``paths``) not excluded, flattened with "_"."""
    extracted = extract_custom_fields(tuple(js_get(message, path) for path in paths), exclusion)
    return flatten_json(extracted, "_", strict=True) if extracted else {}


def _valid_params(params: dict[str, Any]) -> dict[str, Any]:
    """removeInvalidParams: no objects, arrays, nulls or blank strings, except ``items``."""
    return {k: v for k, v in params.items() if k == "items" or _scalar_param(v)}


def _scalar_param(value: Any) -> bool:
    return not isinstance(value, dict | list) and not is_blank(value)


# --- user properties and consents -------------------------------------------------------------


def user_properties(ctx: Context) -> dict[str, Any] | None:
    """``{name: {value}}`` from properties.user_properties and context.traits, GA4-valid only."""
    message = ctx.message
    excluded = set(_RESERVED_USER_PROPERTIES)
    excluded.update(_pii_properties(ctx.config))
    found = extract_custom_fields((js_get(message, "properties.user_properties"),
                      js_get(message, "context.traits")), frozenset(excluded))
    out = {key: {"value": value} for key, value in found.items()
           if _USER_PROPERTY_NAME.fullmatch(key)
           and not key.lower().startswith(_RESERVED_PARAM_PREFIXES)
           and _user_property_value(value)}
    return out or None


def _pii_properties(config: dict[str, Any]) -> list[str]:
    """The trimmed names of Config.piiPropertiesToIgnore; what is not a list fails as the
    reference's script does (a null, or a non-empty string)."""
    if "piiPropertiesToIgnore" not in config:
        return []
    ignored = config["piiPropertiesToIgnore"]
    if ignored is None:
        raise UnexpectedError("Cannot read properties of null (reading 'length')")
    if not isinstance(ignored, list):
        length = ignored.get("length") if isinstance(ignored, dict) else \
            len(ignored) if isinstance(ignored, str) else None
        if length is not None and to_number(length) > 0:
            raise UnexpectedError("piiPropertiesToIgnore.forEach is not a function")
        return []
    names = []
    for entry in ignored:
        if entry is None:
            raise UnexpectedError("Cannot read properties of null (reading 'piiProperty')")
        pii = entry.get("piiProperty") if isinstance(entry, dict) else None
        if isinstance(pii, str) and js_trim(pii):
            names.append(js_trim(pii))
    return names


def _user_property_value(value: Any) -> bool:
    if isinstance(value, str):
        trimmed = js_trim(value)
        return bool(trimmed) and _js_length(trimmed) <= 36
    if isinstance(value, bool):
        return True
    if isinstance(value, int | float):
        return len(to_string(value)) <= 36
    return False


def consent(ctx: Context) -> dict[str, Any] | None:
    """ad_user_data / ad_personalization from the event's integrations consents, when valid."""
    integrations = _integrations(ctx.message)
    consents = integrations.get("consents") if isinstance(integrations, dict) else None
    if not isinstance(consents, dict):
        return None
    out = {key: consents[key] for key in _CONSENTS if consents.get(key) in _CONSENT_VALUES}
    return out or None
