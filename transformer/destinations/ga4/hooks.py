"""Google Analytics 4: what destination.yaml cannot say.

* ``check_config``: the reference's config checks, in its words.
* ``prepare``: the message-type rules (page is ``page_view``, group ``join_group``, page refused
  in hybrid mode), the event-name checks made before anything is mapped, and the endpoint path.
* ``timestamp_micros`` / ``non_personalized_ads``: ``apply`` modifiers for the common fields.
* ``client_id`` / ``app_instance_id``: the client identifier the client type asks for.
* ``events``: the one GA4 event: standard events (a table per RudderStack e-commerce or GA4
  event name, ``_PARAMS`` below) or custom ones, with every other property as a parameter.
* ``user_properties`` / ``consent``: the validated user properties and consents.

The reference reads the event with ``get-value`` and writes custom parameters with
``set-value`` (a key "a.b" nests), then flattens them with "_" (flattenJson's "strict" mode); the
small helpers first below follow those libraries. They are candidates for the shared
JavaScript helpers (see the report that came with this destination).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from transformer.hooks import (
    JS_WHITESPACE,
    ConfigurationError,
    Context,
    InstrumentationError,
    TransformerError,
    UnexpectedError,
    compile_get_value,
    epoch_ms,
    external_id,
    extract_custom_fields,
    flatten_json,
    integrations_object,
    is_blank,
    is_present,
    is_truthy,
    js_get,
    js_trim,
    normalize_number,
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


def _getter(path: str) -> Callable[[Any], Any]:
    return compile_get_value(path, None)


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


# --- event parameter tables ---------------------------------------------------------------------


class _Multiply:
    """A computed source: the product of the values at ``paths`` (numbers or numeric strings);
    a missing one takes its default, else the product is absent."""

    __slots__ = ("args", "shown")

    def __init__(self, shown: str, *args: tuple[str, Any]) -> None:
        self.args = tuple((_getter(path), default) for path, default in args)
        #: The operation as the reference's table spells it (JSON), for its error message.
        self.shown = shown

    def __call__(self, doc: Any) -> Any:
        result: float = 1
        for getter, default in self.args:
            value = getter(doc)
            if not is_present(value):
                value = default
            if value is None:
                return None
            if isinstance(value, int | float) and not isinstance(value, bool):
                result *= value
            elif isinstance(value, str) and _DECIMAL.fullmatch(value):
                result *= float(value)
            else:
                return None
        return normalize_number(result)


_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([Ee][+-]?\d+)?", re.ASCII)
_Lookup = tuple[Any, ...] | str  # one path, or paths (and computed sources) tried in order


class _Param:
    """One row of a reference mapping table (``constructPayload``): the first present value of
    ``lookup`` (one path: its value as it is), else ``default``; ``number`` converts it as
    JavaScript's Number(); ``required`` rejects the event when nothing is found. ``raw`` is the
    table's sourceKeys as the reference spells them (for its error message and for the
    parameters it then leaves out)."""

    __slots__ = ("default", "dest", "getters", "number", "raw", "required", "single")

    def __init__(self, dest: str, lookup: _Lookup, *, default: Any = None, number: bool = False,
                 required: bool = False, raw: Any = None) -> None:
        self.dest = dest
        self.single = isinstance(lookup, str)
        items = (lookup,) if isinstance(lookup, str) else lookup
        self.getters: tuple[Callable[[Any], Any], ...] = tuple(
            item if isinstance(item, _Multiply) else _getter(item) for item in items)
        self.default = default
        self.number = number
        self.required = required
        self.raw = lookup if raw is None else raw

    def value(self, doc: Any) -> Any:
        if self.single:
            value = self.getters[0](doc)
        else:
            value = None
            for getter in self.getters:
                candidate = getter(doc)
                if is_present(candidate):
                    value = candidate
                    break
        if value is None:
            return self.default
        return to_number(value) if self.number else value

    def names(self) -> list[str]:
        """The last path segment of every source key (what getGA4ExclusionList collects)."""
        raw = self.raw if isinstance(self.raw, tuple) else (self.raw,)
        return [key.rsplit(".", 1)[-1] for key in raw if isinstance(key, str)]


def _construct(doc: Any, table: tuple[_Param, ...]) -> dict[str, Any]:
    """The reference's ``constructPayload`` over one table."""
    out: dict[str, Any] = {}
    for param in table:
        value = param.value(doc)
        if is_present(value):
            out[param.dest] = value
        elif param.required:
            raise InstrumentationError(f"Missing required value from {_source_keys(param.raw)}")
    return out


def _source_keys(raw: Any) -> str:
    """``JSON.stringify(sourceKeys)`` of a table row."""
    if isinstance(raw, tuple):
        return "[" + ",".join(_source_keys(item) for item in raw) + "]"
    if isinstance(raw, _Multiply):
        return raw.shown
    return f'"{raw}"'


def _currency() -> _Param:
    return _Param("currency", "properties.currency", default="USD")


def _value(*paths: Any) -> _Param:
    return _Param("value", paths, number=True, required=True)


_ORDER = (
    _currency(),
    _Param("transaction_id", "properties.order_id", required=True),
    _value("properties.total", "properties.value", "properties.revenue"),
    _Param("coupon", "properties.coupon"),
    _Param("shipping", "properties.shipping", number=True),
    _Param("tax", "properties.tax", number=True),
)
_ENGAGEMENT = ("traits.engagementTimeMsec", "properties.engagementTimeMsec",
               "context.traits.engagementTimeMsec", "traits.engagement_time_msec",
               "properties.engagement_time_msec", "context.traits.engagement_time_msec")
_PROMOTION = (
    _Param("creative_name", ("properties.creative_name", "properties.creative")),
    _Param("creative_slot", ("properties.creative_slot", "properties.position")),
    _Param("promotion_id", "properties.promotion_id"),
    _Param("promotion_name", ("properties.promotion_name", "properties.name")),
)
_ITEM_LIST_VIEW = (
    _Param("item_list_id", "properties.list_id"),
    _Param("item_list_name", "properties.category"),
)
_CHECKOUT = (
    _currency(),
    _value("properties.total", "properties.value", "properties.revenue"),
    _Param("coupon", "properties.coupon"),
)
_LOGIN = (
    _Param("method", ("traits.method", "properties.method")),
    _Param("engagement_time_msec", _ENGAGEMENT, default=1),
)
_SHARE = (
    _Param("method", "properties.share_via"),
    _Param("content_type", "properties.content_type"),
)
_PAGE = (
    _Param("page_referrer", "context.page.referrer"),
    _Param("page_title", "context.page.title"),
    _Param("page_location", "context.page.url"),
)
#: GA4ItemListConfig: one product of properties.products.
_ITEM_LIST = (
    _Param("item_id", "product_id"),
    _Param("item_name", "name"),
    _Param("coupon", "coupon"),
    _Param("item_category", "category"),
    _Param("item_brand", "brand"),
    _Param("item_variant", "variant"),
    _Param("price", "price", number=True),
    _Param("quantity", "quantity", number=True),
    _Param("index", "position", number=True),
)
#: GA4ItemConfig: the root-level properties as an item.
_ITEM = _ITEM_LIST + tuple(_Param(key, key) for key in (
    "affiliation", "currency", "discount", "item_category2", "item_category3", "item_category4",
    "item_category5", "item_list_id", "item_list_name", "location_id"))
_GROUP = (_Param("group_id", ("groupId", "traits.groupId"), raw="groupId"),)
_TRACK_PAGE_COMMON = (
    _Param("engagement_time_msec", ("properties.engagementTimeMsec",
                                    "properties.engagement_time_msec"), default=1),
    _Param("session_id", ("properties.sessionId", "properties.session_id", "context.sessionId")),
    _Param("session_number", ("properties.sessionNumber", "properties.session_number")),
    *_PAGE,
)
_IDENTIFY_GROUP_COMMON = (
    _Param("engagement_time_msec", ("traits.engagementTimeMsec", "context.traits.engagementTimeMsec",
                                    "traits.engagement_time_msec",
                                    "context.traits.engagement_time_msec"), default=1),
    _Param("session_id", ("traits.sessionId", "context.traits.sessionId", "traits.session_id",
                          "context.traits.session_id", "context.sessionId")),
    _Param("session_number", ("traits.sessionNumber", "traits.session_number",
                              "context.traits.sessionNumber", "context.traits.session_number")),
)


class _Category:
    """A standard event: its GA4 name, parameter table and where its items come from
    (``item_list``: properties.products, ``item``: the root-level properties; True when
    required, False when optional, None when not used)."""

    __slots__ = ("exclusion", "exclusion_with_item", "item", "item_list", "name", "table")

    def __init__(self, name: str | None, table: tuple[_Param, ...], *,
                 item_list: bool | None = None, item: bool | None = None,
                 names: tuple[str, ...] = ()) -> None:
        self.name = name
        self.table = table
        self.item_list = item_list
        self.item = item
        self.exclusion = _exclusion(names or tuple(n for p in table for n in p.names()))
        self.exclusion_with_item = self.exclusion | _exclusion(
            tuple(n for p in _ITEM for n in p.names()))


def _exclusion(names: tuple[str, ...]) -> frozenset[str]:
    """getGA4ExclusionList: the mapped names, products, and the reserved parameters."""
    return frozenset(names) | {"products"} | _DEFAULT_EXCLUSION


#: ConfigCategory of the reference, by upper-cased event name. COMMON, ITEM_LIST, ITEM, PAGE
#: and GROUP are reachable too (track events so named), as they are in the reference.
_PARAMS: dict[str, _Category] = {
    "COMMON": _Category(None, (), names=("userIdOnly", "timestamp", "adTrackingEnabled")),
    "ITEM_LIST": _Category(None, _ITEM_LIST),
    "ITEM": _Category(None, _ITEM),
    "LOGIN": _Category("login", _LOGIN),
    "SIGN_UP": _Category("sign_up", _LOGIN),
    "GENERATE_LEAD": _Category("generate_lead", (
        _currency(),
        _value("properties.value", "properties.total", "properties.price", "properties.revenue"),
        _Param("engagement_time_msec", _ENGAGEMENT, default=1),
    )),
    "CAMPAIGN_DETAILS": _Category("campaign_details", tuple(
        _Param(dest, (f"context.campaign.{key}", f"properties.campaign.{key}"))
        for dest, key in (("campaign_id", "id"), ("campaign", "name"), ("source", "source"),
                          ("medium", "medium"), ("term", "term"), ("content", "content")))),
    "PRODUCTS_SEARCHED": _Category("search", (
        _Param("search_term", "properties.query", required=True),)),
    "PRODUCT_LIST_VIEWED": _Category("view_item_list", _ITEM_LIST_VIEW, item_list=True),
    "PROMOTION_VIEWED": _Category("view_promotion", _PROMOTION, item_list=True),
    "PROMOTION_CLICKED": _Category("select_promotion", _PROMOTION, item_list=False),
    "PRODUCT_CLICKED": _Category("select_item", _ITEM_LIST_VIEW, item=True),
    "PRODUCT_VIEWED": _Category("view_item", (
        _currency(),
        _value("properties.total", "properties.price", "properties.value", "properties.revenue"),
    ), item=True),
    "PRODUCT_ADDED": _Category("add_to_cart", (
        _currency(),
        _value("properties.total", "properties.value", "properties.revenue",
               _Multiply('{"operation":"multiplication","args":[{"sourceKeys":"properties.price"},'
                         '{"sourceKeys":"properties.quantity","defaultVal":1}]}',
                         ("properties.price", None), ("properties.quantity", 1))),
    ), item_list=False, item=True),
    "PRODUCT_REMOVED": _Category("remove_from_cart", (
        _currency(),
        # The reference's table names the quantity's default "default", which it ignores.
        _value("properties.total", "properties.value", "properties.revenue",
               _Multiply('{"operation":"multiplication","args":[{"sourceKeys":"properties.price"},'
                         '{"sourceKeys":"properties.quantity","default":1}]}',
                         ("properties.price", None), ("properties.quantity", None))),
    ), item_list=False, item=True),
    "CART_VIEWED": _Category("view_cart", (
        _currency(),
        _value("properties.total", "properties.value", "properties.revenue"),
    ), item_list=True),
    "CHECKOUT_STARTED": _Category("begin_checkout", _CHECKOUT, item_list=True),
    "PAYMENT_INFO_ENTERED": _Category("add_payment_info", (
        *_CHECKOUT, _Param("payment_type", "properties.payment_method")), item_list=True),
    "CHECKOUT_STEP_COMPLETED": _Category("add_shipping_info", (
        *_CHECKOUT, _Param("shipping_tier", "properties.shipping_method")), item_list=True),
    "ORDER_COMPLETED": _Category("purchase", _ORDER, item_list=True),
    "ORDER_REFUNDED": _Category("refund", _ORDER, item_list=False),
    "PRODUCT_ADDED_TO_WISHLIST": _Category("add_to_wishlist", (
        _currency(),
        _value("properties.total", "properties.price", "properties.value", "properties.revenue"),
    ), item_list=False, item=True),
    "PRODUCT_SHARED": _Category("share", (
        *_SHARE,
        _Param("item_id", ("properties.item_id", "properties.product_id", "properties.sku")))),
    "CART_SHARED": _Category("share", (
        *_SHARE, _Param("item_id", ("properties.item_id", "properties.cart_id")))),
    "PAGE": _Category("page", _PAGE),
    "GROUP": _Category("group", _GROUP),
    "VIEW_SEARCH_RESULTS": _Category("view_search_results", (
        _Param("search_term", "properties.search_term"),), item_list=True),
}
_COMMON = _PARAMS["COMMON"]
_PAGE_EXCLUSION = _DEFAULT_EXCLUSION
_GROUP_EXCLUSION = _exclusion(("groupId",))


# --- items ------------------------------------------------------------------------------------


def _item_list(message: dict[str, Any], required: bool) -> list[Any]:
    """Items from properties.products (getItemList)."""
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
        element = _construct(product, _ITEM_LIST)
        if element.get("item_id") is None and element.get("item_name") is None:
            raise InstrumentationError("One of product_id or name is required")
        extra = extract_custom_fields((product,), _ITEM_EXCLUSION)
        if extra:
            element.update(_valid_params(flatten_json(extra, "_", strict=True)))
        items.append(element)
    return items


def _item(message: dict[str, Any], required: bool) -> list[Any]:
    """The root-level properties as the one item (getItem)."""
    properties = js_get(message, "properties")
    if not is_truthy(properties):
        if required:
            raise InstrumentationError(
                f"Item/product parameters not found for '{to_string(message.get('event'))}' event")
        return []
    product = _valid_params(_construct(properties, _ITEM))
    if product.get("item_id") is None and product.get("item_name") is None:
        raise InstrumentationError("One of product_id or name is required")
    return [product]


def _items(message: dict[str, Any], category: _Category) -> tuple[list[Any], bool]:
    """(items, whether they came from the root-level properties): getItemsArray."""
    if category.item_list is not None and category.item is not None:
        items = _item_list(message, category.item_list)
        if items:
            return items, False
        return _item(message, category.item), True
    if category.item is not None:
        return _item(message, category.item), True
    if category.item_list is not None:
        return _item_list(message, category.item_list), False
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
        params = _common_params(ctx) if category is _COMMON else \
            _construct(message, category.table)
        items, from_root = _items(message, category)
        if items:
            params["items"] = items
        exclusion = category.exclusion_with_item if from_root and name in _ITEM_EVENTS \
            else category.exclusion
        params.update(_custom(message, ("properties",), exclusion))
        params.update(_construct(message, _TRACK_PAGE_COMMON))
    elif kind == "page":
        params = _construct(message, _PAGE)
        params.update(_custom(message, ("properties",), _PAGE_EXCLUSION))
        params.update(_construct(message, _TRACK_PAGE_COMMON))
    elif kind == "group":
        params = _construct(message, _GROUP)
        params.update(_custom(message, ("traits", "context.traits"), _GROUP_EXCLUSION))
        params.update(_construct(message, _IDENTIFY_GROUP_COMMON))
    else:
        _validate_custom_event_name(event)
        params = _custom(message, ("properties",), _PAGE_EXCLUSION)
        params.update(_construct(message, _TRACK_PAGE_COMMON))

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


def _common_params(ctx: Context) -> dict[str, Any]:
    """A track event named "common" maps the body's common fields as its parameters."""
    message = ctx.message
    out: dict[str, Any] = {}
    for key in ("userId", "traits.userId", "traits.id", "context.traits.userId",
                "context.traits.id"):
        user_id = js_get(message, key)
        if is_present(user_id):
            if to_string(user_id):
                out["user_id"] = to_string(user_id)
            break
    for key in ("timestamp", "originalTimestamp"):
        moment = js_get(message, key)
        if is_present(moment):
            micros = timestamp_micros(moment, ctx)
            if micros is not None:
                out["timestamp_micros"] = micros
            break
    ads = non_personalized_ads(js_get(message, "context.device.adTrackingEnabled"), ctx)
    if ads is not None:
        out["non_personalized_ads"] = ads
    return out


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
