"""Braze: the reference's native destination (src/v0/destinations/braze), step by step.

Every request is assembled by ``process`` (whether it carries user attributes, events or
purchases depends on the event and the config) from destination.yaml's field tables (the standard
user attributes, the recommended ecommerce events), and ``batch`` groups router jobs as the
reference's ``processBatch`` does.

What the reference does over the network, and this service (no network at run time) does not:

* identify with an alias (anonymousId or ``integrations.Braze.alias``) and an external id first
  calls Braze's ``/users/identify`` to merge the alias into the user. In processor mode a
  failure of that call fails the event; here the call is not made and the event goes on as if it
  had succeeded (what the reference's recorded cases expect). In router mode the reference
  batches those calls after the transformation and ignores their outcome; here they are not
  made.
* with ``Config.supportDedup`` the reference's router first exports the batch's users from
  Braze (``/users/export/ids``) and drops attributes equal to the stored ones. Without that
  lookup (its failure is ignored there too) only attributes repeated inside one router request
  are dropped, against what earlier jobs of the same request sent: see ``_dedup_store``.
"""

from __future__ import annotations

import math
from functools import cmp_to_key
from typing import Any

from transformer.hooks import (
    UNDEFINED,
    Batch,
    ConfigurationError,
    Context,
    InstrumentationError,
    Job,
    chunks,
    external_id,
    generic_value,
    integrations_object,
    is_array_index,
    is_truthy,
    js_get,
    js_prop,
    js_trim,
    object_keys,
    parse_float,
    parse_int,
    rest_request,
    same_value_key,
    to_number,
    to_string,
    unique_by,
    without_blanks,
    without_nulls,
    without_undefined,
)

_PARTNER = "RudderStack"
_ALIAS_LABEL = "rudder_id"
_BRAZE_NAMES = ("BRAZE", "Braze", "braze")
#: Traits sent only as destination.yaml's user_attributes.
_RESERVED = frozenset({"address", "birthday", "email", "firstName", "gender", "avatar", "lastName",
                       "phone"})
_PURCHASE_KEYS = frozenset({"product_id", "sku", "price", "quantity", "currency"})
_RESERVED_PROPERTIES = frozenset({"time", "event_name"})

#: Router limits (Braze's API): track items and users per request, subscription groups, merges.
TRACK_MAX_ITEMS = 75
TRACK_MAX_USERS = 75
SUBSCRIPTION_MAX = 25
MERGE_MAX = 50


# --- processor ------------------------------------------------------------------------------


def process(ctx: Context) -> dict[str, Any]:
    message = ctx.message
    kind = message.get("type")
    # A type that is not a string crashes the reference (500); here it is a 400.
    if kind is None:
        raise InstrumentationError("Event type is required")
    if not isinstance(kind, str):
        raise InstrumentationError("Message type is not supported")
    kind = kind.lower()
    if kind == "track":
        return _track(ctx, kind)
    if kind in ("page", "screen"):
        name = message.get("name")
        if not is_truthy(name):
            name = _get(message, "properties.name")
        message["event"] = name if is_truthy(name) else f"{kind.capitalize()} Viewed"
        return _track(ctx, kind)
    if kind == "identify":
        return _identify(ctx)
    if kind == "group":
        return _group(ctx)
    if kind == "alias":
        return _alias(ctx)
    raise InstrumentationError("Message type is not supported")


def _identify(ctx: Context) -> dict[str, Any]:
    message = ctx.message
    if is_truthy(_get(message, "context.mappedToDestination")):
        external_id = _get(message, "context.externalId.0.id")
        if is_truthy(external_id):
            message["userId"] = external_id
    # The reference calls /users/identify here when the event has an alias and an external id
    # (see the module docstring); only the call's own check of the data center is kept.
    alias = js_prop(_integrations(message), "alias")
    external_id = _braze_external_id(message)
    if not is_truthy(external_id):
        external_id = message.get("userId")
    if ctx.mode == "processor" and is_truthy(external_id) and (
            is_truthy(message.get("anonymousId")) or not _nullish(alias)):
        base_endpoint(ctx.config)
    payload = _user_attributes(ctx)
    if not _has_keys(payload):
        raise InstrumentationError("No attributes found to update the user profile")
    payload = _with_identity(payload, message)
    if is_truthy(ctx.config.get("supportDedup")):
        deduped = _deduplicate(ctx, payload)
        if deduped is None:
            raise InstrumentationError(
                "[Braze Deduplication]: Duplicate user detected, the user is dropped")
        payload = deduped
    return _response(ctx, {"attributes": [payload]}, "users/track")


def _track(ctx: Context, kind: str) -> dict[str, Any]:
    message = ctx.message
    config = ctx.config
    event_name = message.get("event", UNDEFINED)
    if not is_truthy(message.get("properties")):
        message["properties"] = {}
    body: dict[str, Any] = {"partner": _PARTNER}
    attributes = _user_attributes(ctx)
    if _has_keys(attributes):
        attributes = _with_identity(attributes, message)
        body["attributes"] = [attributes]
        if is_truthy(config.get("supportDedup")):
            deduped = _deduplicate(ctx, attributes)
            if deduped is None:
                del body["attributes"]
            else:
                body["attributes"] = [deduped]
    if kind == "track" and is_truthy(config.get("useEcommerceRecommendedEvents")):
        ecommerce = _ECOMMERCE_EVENTS.get(js_trim(event_name).lower()) \
            if isinstance(event_name, str) else None
        if ecommerce is not None:
            event: dict[str, Any] = without_undefined({
                "name": ecommerce[0], "time": message.get("timestamp", UNDEFINED),
                "properties": _ecommerce_properties(ctx, *ecommerce)})
            body["events"] = [_with_app_id(_with_identity(event, message), message)]
            return _response(ctx, body, "users/track")
    if kind == "track" and isinstance(event_name, str) and event_name.lower() == "order completed":
        body["purchases"] = _purchases(message, config)
        return _response(ctx, body, "users/track")
    properties = message["properties"]
    if not isinstance(properties, dict | list):
        raise InstrumentationError("Invalid event properties")
    event = without_undefined({"name": event_name, "time": message.get("timestamp", UNDEFINED),
                      "properties": _omit(properties, _RESERVED_PROPERTIES)})
    body["events"] = [_with_app_id(_with_identity(event, message), message)]
    return _response(ctx, body, "users/track")


def _group(ctx: Context) -> dict[str, Any]:
    message = ctx.message
    group_id = generic_value(message, "groupId")
    if not is_truthy(group_id):
        raise InstrumentationError("Invalid groupId")
    if not is_truthy(ctx.config.get("enableSubscriptionGroupInGroupCall")):
        attribute = _with_external_id({f"ab_rudder_group_{to_string(group_id)}": True}, message)
        return _response(ctx, {"attributes": [attribute], "partner": _PARTNER}, "users/track")
    traits = message.get("traits")
    if not (is_truthy(traits) and (is_truthy(js_prop(traits, "phone"))
                                   or is_truthy(js_prop(traits, "email")))):
        raise InstrumentationError("Message should have traits with subscriptionState, email or phone")
    state = js_prop(traits, "subscriptionState")
    if state not in ("subscribed", "unsubscribed"):
        raise InstrumentationError("you must provide a subscription state in traits and possible "
                                   "values are subscribed and unsubscribed.")
    group: dict[str, Any] = {"subscription_group_id": group_id, "subscription_state": state}
    if is_truthy(message.get("userId")):
        group["external_ids"] = [message["userId"]]
    phone, email = generic_value(message, "phone"), generic_value(message, "email")
    if is_truthy(phone):
        group["phones"] = [phone]
    elif is_truthy(email):
        group["emails"] = [email]
    output = _response(ctx, {"subscription_groups": [group]}, "v2/subscription/status/set")
    del output["userId"]  # the reference's subscription request names no user
    return output


def _alias(ctx: Context) -> dict[str, Any]:
    message = ctx.message
    user_id, previous_id = message.get("userId"), message.get("previousId")
    if not is_truthy(user_id):
        raise InstrumentationError("[BRAZE]: userId is required for alias call")
    if not is_truthy(previous_id):
        raise InstrumentationError("[BRAZE]: previousId is required for alias call")
    merge = {"identifier_to_merge": {"external_id": previous_id},
             "identifier_to_keep": {"external_id": user_id}}
    return _response(ctx, {"merge_updates": [merge]}, "users/merge")


def _response(ctx: Context, body: dict[str, Any], path: str) -> dict[str, Any]:
    """buildResponse: the request for ``path`` on the data center's REST host."""
    message = ctx.message
    output = rest_request(f"{base_endpoint(ctx.config)}/{path}", without_undefined(body),
                          endpoint_path=path, headers=_headers(ctx.config))
    user_id = message.get("userId")
    output["userId"] = user_id if is_truthy(user_id) else message.get("anonymousId")
    return output


def _headers(config: dict[str, Any]) -> dict[str, str]:
    return {"Content-Type": "application/json", "Accept": "application/json",
            "Authorization": f"Bearer {to_string(config.get('restApiKey', UNDEFINED))}"}


def base_endpoint(config: dict[str, Any]) -> str:
    """The REST host of ``Config.dataCenter`` ("US-03" -> https://rest.iad-03.braze.com)."""
    center = config.get("dataCenter")
    if not is_truthy(center) or not isinstance(center, str):
        raise InstrumentationError("Invalid Data Center: valid values are EU, US, AU")
    region, *rest = js_trim(center).lower().split("-")
    number = rest[0] if rest else "undefined"
    hosts = {"eu": f"https://rest.fra-{number}.braze.eu", "us": f"https://rest.iad-{number}.braze.com",
             "au": f"https://rest.au-{number}.braze.com"}
    if region not in hosts:
        raise InstrumentationError(f"Invalid Data Center: {center}, valid values are EU, US, AU")
    return hosts[region]


# --- user attributes ------------------------------------------------------------------------


def _user_attributes(ctx: Context) -> Any:
    """getUserAttributesObject: the mapped Braze attributes, then the other traits as they are,
    then the nested array operations (``Config.enableNestedArrayOperations``)."""
    message = ctx.message
    traits = generic_value(message, "traits")
    if is_truthy(_get(message, "context.mappedToDestination")):
        return traits
    if not is_truthy(traits):
        return {}
    data = ctx.build("user_attributes", traits)
    for key in object_keys(traits):
        value = _get(traits, key)
        if key not in _RESERVED and value is not UNDEFINED:
            data[key] = value
    if is_truthy(ctx.config.get("enableNestedArrayOperations")) and isinstance(traits, dict):
        properties = message.get("properties")
        merge = properties.get("mergeObjectsUpdateOperation") if isinstance(properties, dict) \
            else None
        _nested_operations(traits, data, merge)
    return data


def lower_email(value: Any, ctx: Context) -> Any:
    """The email attribute lower-cased; one that is no string (nor null) is rejected."""
    if isinstance(value, str):
        return value.lower()
    if value is not None:
        raise InstrumentationError("Invalid email, email must be a valid string")
    return value


def _nested_operations(traits: dict[str, Any], data: dict[str, Any], merge: Any) -> None:
    """Braze's nested array operations ($update, $remove, $add) of object traits. As in the
    reference, the first malformed operation stops them all, keeping what was done."""
    try:
        for key, trait in traits.items():
            if not isinstance(trait, dict):
                continue
            if is_truthy(trait.get("update")):
                data[key] = {}
                updates = []
                for item in _iterate(trait["update"]):
                    identifier = _prop(item, "identifier")
                    entry = {"$identifier_key": identifier,
                             "$identifier_value": _prop(item, to_string(identifier))}
                    if isinstance(item, dict):
                        item.pop(to_string(identifier), None)
                        item.pop("identifier", None)
                    entry["$new_object"] = dict(_entries(item))
                    updates.append(without_undefined(entry))
                data["_merge_objects"] = merge if merge is not None else False
                data[key]["$update"] = updates
            if is_truthy(trait.get("remove")):
                removals = []
                for item in _iterate(trait["remove"]):
                    identifier = _prop(item, "identifier")
                    removals.append(without_undefined({"$identifier_key": identifier,
                                              "$identifier_value": _prop(item, to_string(identifier))}))
                _target(data, key)["$remove"] = removals
            if is_truthy(trait.get("add")):
                _target(data, key)["$add"] = trait["add"]
    except _Stop:
        pass


class _Stop(Exception):
    """A JavaScript TypeError inside the nested operations, which the reference swallows."""


def _iterate(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return list(value)
    raise _Stop


def _prop(item: Any, key: str) -> Any:
    """``item[key]`` (UNDEFINED when absent); reading from null fails."""
    if item is None:
        raise _Stop
    if isinstance(item, dict):
        return item.get(key, UNDEFINED)
    if isinstance(item, list | str) and key.isdigit() and int(key) < len(item):
        return item[int(key)]
    return UNDEFINED


def _target(data: dict[str, Any], key: str) -> dict[str, Any]:
    target = data.get(key)
    if not isinstance(target, dict):
        raise _Stop
    return target


def _with_identity(payload: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
    """setExternalIdOrAliasObject: the external id when the user is known, else
    ``_update_existing_only: false`` and the alias."""
    if isinstance(payload, list):  # a property of an array, which JSON leaves out
        return payload
    if not isinstance(payload, dict):  # warehouse traits that are not an object (a 500 there)
        raise InstrumentationError("traits must be an object")
    if is_truthy(generic_value(message, "userIdOnly")) or is_truthy(_braze_external_id(message)):
        return _with_external_id(payload, message)
    payload["_update_existing_only"] = False
    return _with_alias(payload, message)


def _with_external_id(payload: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
    external_id = _braze_external_id(message)
    if not is_truthy(external_id):
        external_id = message.get("userId")
    if is_truthy(external_id):
        payload["external_id"] = external_id
    return payload


def _with_alias(payload: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
    alias = js_prop(_integrations(message), "alias")
    name, label = js_prop(alias, "alias_name"), js_prop(alias, "alias_label")
    if not _nullish(name) and not _nullish(label):
        payload["user_alias"] = {"alias_name": name, "alias_label": label}
    elif is_truthy(message.get("anonymousId")):
        payload["user_alias"] = {"alias_name": message["anonymousId"], "alias_label": _ALIAS_LABEL}
    return payload


def _with_app_id(payload: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
    app_id = js_prop(_integrations(message), "appId")
    if is_truthy(app_id):
        payload["app_id"] = to_string(app_id)
    return payload


def _integrations(message: dict[str, Any]) -> Any:
    return integrations_object(message, _BRAZE_NAMES)


def _braze_external_id(message: dict[str, Any]) -> Any:
    return external_id(message, "brazeExternalId")


# --- purchases (Order Completed) ------------------------------------------------------------


def _purchases(message: dict[str, Any], config: dict[str, Any]) -> list[dict[str, Any]]:
    prefix = "Invalid Order Completed event:"
    properties = message.get("properties")
    timestamp = generic_value(message, "timestamp")
    currency = js_prop(properties, "currency")
    products = js_prop(properties, "products")
    if not is_truthy(products):
        raise InstrumentationError(f"{prefix} Products array is missing in the message")
    if not isinstance(products, list):
        raise InstrumentationError(f"{prefix} Products is not an array")
    products = [p for p in products if p is not None]
    if not products:
        raise InstrumentationError(f"{prefix} Products array is empty")
    if not is_truthy(timestamp):
        raise InstrumentationError(f"{prefix} Timestamp is missing in the message")
    for index, product in enumerate(products):
        product_id = js_prop(product, "product_id")
        if not is_truthy(product_id):
            product_id = js_prop(product, "sku")
        where = f"for product at index: {index}"
        if _nullish(product_id):
            raise InstrumentationError(f"{prefix} Product Id is missing {where}")
        if _nullish(js_prop(product, "price")):
            raise InstrumentationError(f"{prefix} Price is missing {where}")
        if _nullish(js_prop(product, "quantity")):
            raise InstrumentationError(f"{prefix} Quantity is missing {where}")
        if _nullish(currency) and _nullish(js_prop(product, "currency")):
            raise InstrumentationError(f"{prefix} Message properties and product at index: "
                                       f"{index} is missing currency")
    purchases = []
    # The reference validated the products without nulls but builds from the original list.
    for index, product in enumerate(js_prop(properties, "products")):
        if product is None:  # the reference crashes here (500)
            raise InstrumentationError(f"{prefix} Product at index: {index} is null")
        product_id = js_prop(product, "product_id")
        if not is_truthy(product_id):
            product_id = js_prop(product, "sku")
        code = currency if is_truthy(currency) else js_prop(product, "currency")
        purchase: dict[str, Any] = {
            "product_id": to_string(product_id),
            "price": parse_float(to_string(js_prop(product, "price"))),
            "currency": to_string(code),
            "quantity": parse_int(to_string(js_prop(product, "quantity"))),
            "time": timestamp,
        }
        extra = _omit(product, _PURCHASE_KEYS) if isinstance(product, dict | list) else {}
        if extra and is_truthy(config.get("sendPurchaseEventWithExtraProperties")):
            purchase["properties"] = extra
        purchases.append(_with_identity(purchase, message))
    return purchases


# --- recommended ecommerce events (Config.useEcommerceRecommendedEvents) ---------------------

#: data/ecommerce/*.json, by lower-case RudderStack event name: the Braze event (its field table
#: in destination.yaml is named after it) and the cart action.
_ECOMMERCE_EVENTS: dict[str, tuple[str, str | None]] = {
    "product viewed": ("ecommerce.product_viewed", None),
    "product added": ("ecommerce.cart_updated", "add"),
    "product removed": ("ecommerce.cart_updated", "remove"),
    "checkout started": ("ecommerce.checkout_started", None),
    "order completed": ("ecommerce.order_placed", None),
    "order refunded": ("ecommerce.order_refunded", None),
    "order cancelled": ("ecommerce.order_cancelled", None),
}
_SOURCES = ("web", "ios", "android")


def _ecommerce_properties(ctx: Context, braze_event: str, action: str | None) -> dict[str, Any]:
    """buildEcommerceEventProperties: the event's table (mapped fields and metadata), then
    products, source and action; empty values dropped."""
    properties = ctx.message.get("properties")
    products = js_prop(properties, "products")
    # A cart update without a products list: the properties are the product.
    single = action is not None and not isinstance(products, list)
    table = braze_event.replace(".", "_") + ("_single_product" if single else "")
    payload = ctx.build(table)
    metadata = payload.pop("metadata", None)
    if braze_event != "ecommerce.product_viewed":
        if single:
            product = without_blanks(ctx.build("ecommerce_product", properties))
            payload["products"] = [product] if product else []
        else:
            items = (without_blanks(ctx.build("ecommerce_product_item",
                                              raw if isinstance(raw, dict | list) else {}))
                     for raw in (products if isinstance(products, list) else []))
            payload["products"] = [item for item in items if item]
    payload["source"] = _source(ctx.message)
    if action:
        payload["action"] = action
    if metadata:
        payload["metadata"] = metadata
    return without_blanks(payload)


def _source(message: dict[str, Any]) -> str:
    """deriveSource: properties.source when web/ios/android, else from the channel and OS."""
    explicit = js_prop(message.get("properties"), "source")
    if _nullish(explicit):
        explicit = ""
    explicit = js_trim(to_string(explicit)).lower()
    if explicit in _SOURCES:
        return explicit
    context = message.get("context")
    channel = js_prop(context, "channel")
    if not is_truthy(channel):
        channel = message.get("channel")
    channel = to_string(channel).lower() if is_truthy(channel) else ""
    if channel == "mobile":
        os_name = js_prop(js_prop(context, "os"), "name")
        os_name = to_string(os_name).lower() if is_truthy(os_name) else ""
        if "ios" in os_name:
            return "ios"
        if "android" in os_name:
            return "android"
    return "web"


# --- deduplication (Config.supportDedup, router) ---------------------------------------------

#: Attributes Braze does not bill, always sent.
_NON_BILLABLE = ("country", "language", "email_subscribe", "push_subscribe", "subscription_groups")
_NOT_COMPARED = frozenset({"external_id", "user_alias", "appboy_id", "braze_id", "custom_events"})
def _dedup_store(ctx: Context) -> dict[Any, dict[str, Any]]:
    """The users a router group has sent so far (users by external id or alias name). In
    processor mode the reference has no store at all and crashes ("Cannot read properties of
    undefined (reading 'get')", a 500); here that is a configuration error."""
    if ctx.mode != "router":
        raise ConfigurationError("supportDedup is supported by the router transformation only")
    store: dict[Any, dict[str, Any]] = ctx.shared.setdefault("braze_users", {})
    return store


def _deduplicate(ctx: Context, payload: dict[str, Any]) -> dict[str, Any] | None:
    """processDeduplication: ``payload`` less what the user's stored attributes already say;
    None when nothing but identifiers would be left."""
    store = _dedup_store(ctx)
    deduped = _dedup(payload, store)
    if deduped and any(k not in ("external_id", "user_alias") for k in deduped):
        return deduped
    return None


def _dedup(payload: dict[str, Any], store: dict[Any, dict[str, Any]]) -> dict[str, Any] | None:
    external_id = payload.get("external_id", UNDEFINED)
    alias = payload.get("user_alias", UNDEFINED)
    alias_name = js_prop(alias, "alias_name")
    stored = _lookup(store, external_id) or _lookup(store, alias_name)
    if stored is None:
        identifier = external_id if is_truthy(external_id) else alias
        store[same_value_key(identifier)] = payload
        return payload
    stored = {**stored, **(stored.get("custom_attributes") or {})}
    stored.pop("custom_attributes", None)
    deduped: dict[str, Any] = {}
    for key, value in payload.items():
        if key in _NOT_COMPARED or key in _NON_BILLABLE:
            continue
        if isinstance(value, dict) and any(op in value for op in ("$add", "$update", "$remove")):
            continue
        if value is None:
            if stored.get(key) is not None:
                deduped[key] = value
        elif not _js_equal(value, stored.get(key, UNDEFINED)):
            deduped[key] = value
    for key in _NON_BILLABLE:
        if key in payload:
            deduped[key] = payload[key]
    if not deduped:
        return None
    deduped["external_id"] = external_id
    deduped["user_alias"] = alias
    identifier = external_id if is_truthy(external_id) else alias_name
    store[same_value_key(identifier)] = {**stored, **deduped}
    return without_undefined(deduped)


def _lookup(store: dict[Any, dict[str, Any]], identifier: Any) -> dict[str, Any] | None:
    return store.get(same_value_key(identifier))


def _js_equal(a: Any, b: Any) -> bool:
    """lodash isEqual for JSON values (1 and 1.0 equal, true and 1 not)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_js_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_js_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


# --- router -----------------------------------------------------------------------------------


def batch(done: list[tuple[Job, Any]]) -> list[Batch]:
    """processBatch: one result for all jobs of a destination group, whose request is a list of
    requests: /users/track requests (attributes, events and purchases of at most 75 users and 75
    items of each kind, ordered by external id), then subscription groups 25 at a time (those of
    a chunk with the same group and state merged), then merges 50 at a time. Jobs are ordered as
    the reference transforms them: grouped by userId (else anonymousId), groups in JavaScript
    object key order."""
    ordered = _user_order(done)
    attributes: list[Any] = []
    events: list[Any] = []
    purchases: list[Any] = []
    subscriptions: list[Any] = []
    merges: list[Any] = []
    for _, output in ordered:
        body = output["body"]["JSON"]
        for name, items in (("attributes", attributes), ("events", events),
                            ("purchases", purchases), ("subscription_groups", subscriptions),
                            ("merge_updates", merges)):
            value = body.get(name)
            if isinstance(value, list):
                items.extend(value)
    first = ordered[0][0]
    config = first.destination.get("Config")
    config = config if isinstance(config, dict) else {}
    base = base_endpoint(config)
    headers = _headers(config)
    # The reference's MAU-plan variant (batchForTrackAPIV2) is chosen per workspace by an
    # environment switch that defaults to off; this service always batches the original way.
    track_chunks = _track_chunks(attributes, events, purchases)
    requests = [_request(base, "users/track", headers, {"partner": _PARTNER, **chunk})
                for chunk in track_chunks]
    requests += [_request(base, "v2/subscription/status/set", headers,
                          {"subscription_groups": _combine_subscriptions(list(chunk))})
                 for chunk in chunks(subscriptions, SUBSCRIPTION_MAX) if chunk]
    requests += [_request(base, "users/merge", headers, {"merge_updates": list(chunk)})
                 for chunk in chunks(merges, MERGE_MAX) if chunk]
    return [Batch(request=requests, jobs=[job for job, _ in ordered], batched=True)]


def _user_order(done: list[tuple[Job, Any]]) -> list[tuple[Job, Any]]:
    """lodash groupBy on ``userId || anonymousId``, groups in JavaScript key order (array-index
    keys ascending first, then first-seen order)."""
    groups: dict[str, list[tuple[Job, Any]]] = {}
    for item in done:
        message = item[0].message
        user = message.get("userId", UNDEFINED)
        if not is_truthy(user):
            user = message.get("anonymousId", UNDEFINED)
        groups.setdefault(to_string(user), []).append(item)
    indexes = sorted((k for k in groups if is_array_index(k)), key=int)
    keys = indexes + [k for k in groups if not is_array_index(k)]
    return [item for key in keys for item in groups[key]]


def _request(base: str, path: str, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    return rest_request(f"{base}/{path}", without_nulls(body), endpoint_path=path,
                        headers=dict(headers))


def _track_chunks(attributes: list[Any], events: list[Any],
                  purchases: list[Any]) -> list[dict[str, list[Any]]]:
    """batchForTrackAPI: the items interleaved (attribute i, event i, purchase i, ...), stably
    sorted by external id (lodash sortBy), then cut when a kind reaches 75 items or a 76th
    user would join."""
    items: list[tuple[str, Any]] = []
    for index in range(max(len(attributes), len(events), len(purchases))):
        for kind, values in (("attributes", attributes), ("events", events),
                             ("purchases", purchases)):
            if index < len(values) and is_truthy(values[index]):
                items.append((kind, values[index]))
    items.sort(key=_BY_EXTERNAL_ID)
    result: list[dict[str, list[Any]]] = []
    chunk: dict[str, list[Any]] = {}
    users: set[Any] = set()
    for kind, item in items:
        user = same_value_key(_get(item, "external_id"))
        fits = ((is_truthy(_get(item, "external_id")) and user in users)
                or len(users) < TRACK_MAX_USERS) and len(chunk.get(kind, [])) < TRACK_MAX_ITEMS
        if not fits:
            result.append(chunk)
            chunk, users = {}, set()
        chunk.setdefault(kind, []).append(item)
        users.add(user)
    if users:
        result.append(chunk)
    return result


def _compare_external_ids(a: tuple[str, Any], b: tuple[str, Any]) -> int:
    return _compare(_get(a[1], "external_id"), _get(b[1], "external_id"))


_BY_EXTERNAL_ID = cmp_to_key(_compare_external_ids)


def _compare(value: Any, other: Any) -> int:
    """lodash's compareAscending: JavaScript's < and >, with null after every other value and
    undefined last."""
    if value is other or (type(value) is type(other) and value == other):
        return 0
    if _nullish(value) or _nullish(other):
        rank = {id(None): 1, id(UNDEFINED): 2}
        return rank.get(id(value), 0) - rank.get(id(other), 0)
    if _js_greater(value, other):
        return 1
    if _js_greater(other, value):
        return -1
    return 0


def _js_greater(a: Any, b: Any) -> bool:
    """JavaScript's ``a > b`` for JSON values (strings compared as strings, else as numbers)."""
    if isinstance(a, dict | list):
        a = to_string(a)
    if isinstance(b, dict | list):
        b = to_string(b)
    if isinstance(a, str) and isinstance(b, str):
        return a > b
    x, y = to_number(a), to_number(b)
    return not (math.isnan(x) or math.isnan(y)) and x > y


def _combine_subscriptions(groups: list[Any]) -> list[dict[str, Any]]:
    """combineSubscriptionGroups: one entry per (group id, state) with the ids, emails and
    phones of all, each list without duplicates."""
    combined: dict[str, tuple[Any, Any, dict[str, list[Any]]]] = {}
    for group in groups:
        group_id, state = _get(group, "subscription_group_id"), _get(group, "subscription_state")
        key = f"{to_string(group_id)}-{to_string(state)}"
        if key not in combined:
            combined[key] = (group_id, state, {"external_ids": [], "emails": [], "phones": []})
        lists = combined[key][2]
        for name, items in lists.items():
            values = _get(group, name)
            if isinstance(values, list):
                items.extend(values)
    result = []
    for group_id, state, lists in combined.values():
        out = {"subscription_group_id": group_id, "subscription_state": state}
        for name in ("emails", "phones", "external_ids"):
            if lists[name]:
                out[name] = unique_by(lists[name], same_value_key)
        result.append(without_undefined(out))
    return result


# --- JavaScript helpers -------------------------------------------------------------------------


def _get(target: Any, path: str) -> Any:
    """get-value's ``get(target, path)``, UNDEFINED when absent."""
    return js_get(target, path, UNDEFINED)


def _nullish(value: Any) -> bool:
    return value is None or value is UNDEFINED


def _has_keys(value: Any) -> bool:
    """``value && Object.keys(value).length > 0``."""
    return is_truthy(value) and bool(object_keys(value))


def _entries(value: Any) -> list[tuple[str, Any]]:
    """``Object.entries(value)`` (a string's characters by index)."""
    if isinstance(value, dict):
        return [(key, value[key]) for key in object_keys(value)]
    if isinstance(value, list | str):
        return [(str(i), item) for i, item in enumerate(value)]
    return []


def _omit(value: Any, keys: frozenset[str] | set[str]) -> dict[str, Any]:
    """lodash ``omit``: a plain object of the other own keys."""
    return {k: v for k, v in _entries(value) if k not in keys}
