"""Klaviyo: the reference's transform.ts (apiVersion v1, the default), transformV2.ts (v2 and v3),
util.ts and batchUtil.ts, as code.

* ``process``: in processor mode the requests of one event (a list); in router mode what the
  router batches: the request(s) for v1, the parts (profile, subscription, event) for v2/v3, or an
  already transformed request as it came.
* ``batch``: the reference's router: events split by message type (``groupEventsByType``), then
  per split the v1 or v2 batching.

The profile field tables (the reference's KlaviyoProfileV2, KlaviyoIdentify and KlaviyoProfile
mapping configs), the v2 event fields and the v1 e-commerce tables (read in the properties or a
product) are destination.yaml's ``tables``, built with ``ctx.build``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from transformer.hooks import (
    UNDEFINED,
    Batch,
    ConfigurationError,
    Context,
    InstrumentationError,
    Job,
    UnexpectedError,
    external_id,
    extract_custom_fields,
    first_present,
    flatten_json,
    generic_value,
    integrations_object,
    is_present,
    is_truthy,
    js_keys,
    js_or,
    js_trim,
    parse_float,
    path_get,
    rest_request,
    set_dotted,
    stringify,
    to_string,
    without_nulls,
)

BASE_ENDPOINT = "https://a.klaviyo.com"
MAX_BATCH_SIZE = 100
_REVISIONS = {"v1": "2023-02-22", "v2": "2024-10-15", "v3": "2026-04-15"}
_SUBSCRIBE_PATH = "/api/profile-subscription-bulk-create-jobs"
_UNSUBSCRIBE_PATH = "/api/profile-subscription-bulk-delete-jobs"



#: v1 e-commerce events by lower-case name: the Klaviyo metric and the field table of
#: destination.yaml.
_ECOM = {
    "product viewed": ("Viewed Product", "ecom_product_viewed"),
    "product clicked": ("Viewed Product", "ecom_product_viewed"),
    "product added": ("Added to Cart", "ecom_product_added"),
    "checkout started": ("Started Checkout", "ecom_checkout_started"),
}

# The traits that are mapped to profile fields, not sent as custom properties.
_WHITELISTED_V1 = frozenset({
    "email", "firstName", "firstname", "first_name", "lastName", "lastname", "last_name", "phone",
    "title", "organization", "city", "region", "country", "zip", "image", "timezone", "id",
    "anonymousId", "userId", "properties"})
_WHITELISTED_V2 = frozenset({
    "email", "firstName", "firstname", "first_name", "lastName", "lastname", "last_name", "phone",
    "title", "organization", "city", "region", "country", "zip", "image", "timezone", "anonymousId",
    "userId", "properties", "location", "_kx", "street", "address"})
_TRACK_EXCLUDES = ("event", "email", "phone", "revenue", "total", "value", "value_currency",
                   "currency")
_TRACK_V1_EXCLUDES = ("email", "phone", "revenue", "total", "value")


# --- lookups (constructPayload and friends) -------------------------------------------------------


_get = path_get


def float_or_reject(value: Any, ctx: Context) -> Any:
    """The mapping type "isFloat" (an ``apply`` modifier): ``parseFloat``, a 400 when NaN."""
    return _is_float(value)


def _is_float(value: Any) -> Any:
    """The mapping type "isFloat": ``parseFloat``, a 400 when that is NaN."""
    if value is None:
        return None
    number = parse_float(value)
    if isinstance(number, float) and math.isnan(number):
        raise InstrumentationError("Invalid float value")
    return number


def _custom_fields(message: dict[str, Any], excluded: frozenset[str] | set[str]) -> dict[str, Any]:
    """``extractCustomFields(message, {}, ['traits', 'context.traits'], excluded)``."""
    return extract_custom_fields((_get(message, path) for path in ("traits", "context.traits")),
                                 excluded, set_dotted)



def _flatten(data: Any) -> dict[str, Any]:
    """``flattenJson(data, '.', 'normal', false)`` (None is the reference's undefined here)."""
    return flatten_json(UNDEFINED if data is None else data, flatten_arrays=False)

def _integrations(message: dict[str, Any]) -> Any:
    return integrations_object(message, ("KLAVIYO", "Klaviyo", "klaviyo"))


def _prepare_retl(message: dict[str, Any], traits: Any) -> Any:
    """rETL identify: the external id into the traits and userId; a subscribe flag defaults
    to true (``addSubscribeFlagToTraits``). Returns the traits to read subscription info from."""
    key = _get(message, "context.externalId.0.identifierType")
    ext_id = _get(message, "context.externalId.0.id")
    if isinstance(traits, dict) and isinstance(key, str) and key:
        set_dotted(traits, key, ext_id)
    if is_truthy(ext_id):
        message["userId"] = ext_id
    if traits is None:
        return traits
    properties = traits.get("properties") if isinstance(traits, dict) else None
    if is_truthy(properties):
        if isinstance(properties, dict) and "subscribe" not in properties:
            properties["subscribe"] = True
        return traits
    return {"properties": {"subscribe": True}}


# --- phone numbers --------------------------------------------------------------------------------

# Country calling code: national prefix (may be empty): possible national number lengths, from
# libphonenumber's metadata (the country the code belongs to first).
_CALLING_CODES = (
    "1:1:10 7:8:10.14 20:0:8.9.10 27:0:5.6.7.8.9.10 30::10.11.12 31:0:5.6.7.8.9.10.11 32:0:8.9 "
    "33:0:9 34::9 36:06:8.9 39::6.7.8.9.10.11.12 40:0:6.9 41:0:9.12 43:0:4.5.6.7.8.9.10.11.12.13 "
    "44:0:7.9.10 45::8 46:0:6.7.8.9.10.12 47::5.8 48::6.7.8.9.10 49:0:4.5.6.7.8.9.10.11.12.13.14.15 "
    "51:0:8.9 52::10 53:0:6.7.8.10 54:0:10.11 55:0:8.9.10.11 56::9.10.11 57:0:8.10.11 58:0:10 "
    "60:0:8.9.10 61:0:5.6.7.8.9.10.12 62:0:7.8.9.10.11.12.13.14.15.16.17 63:0:6.8.9.10.11.12.13 "
    "64:0:5.6.7.8.9.10 65::8.10.11 66:0:8.9.10.13 81:0:8.9.10.11.12.13.14.15.16.17 "
    "82:0:5.6.8.9.10.11.12.13.14 84:0:7.8.9.10 86:0:7.8.9.10.11.12 90:0:7.10.12.13 "
    "91:0:8.9.10.11.12.13 92:0:8.9.10.11.12 93:0:9 94:0:9 95:0:6.7.8.9.10 98:0:4.5.6.7.10 211:0:9 "
    "212:0:9 213:0:8.9 216::8 218:0:9 220::7 221::9 222::8 223::8 224::8.9 225::10 226::8 227::8 "
    "228::8 229::8.10 230::7.8.10 231:0:7.8.9 232:0:8 233:0:8.9 234:0:10.11.12.13.14 235::8 236::8 "
    "237::8.9 238::7 239::7 240::9 241::7.8 242::9 243:0:7.8.9.10 244::9 245::7.9 246::7 247::5.6 "
    "248::7 249:0:9 250:0:8.9 251:0:9 252:0:6.7.8.9 253::8 254:0:7.8.9.10 255:0:9 256:0:9 257::8 "
    "258::8.9 260:0:9 261:0:9 262:0:9 263:0:5.6.7.8.9.10 264:0:8.9 265:0:7.9 266::8 267::7.8.10 "
    "268::8.9 269::7 290::4.5 291:0:7 297::7 298::6 299::6 350::8 351::9 352::4.5.6.7.8.9.10.11 "
    "353:0:7.8.9.10 354::7.9 355:0:6.7.8.9 356::8 357::8 358:0:5.6.7.8.9.10.11.12 "
    "359:0:6.7.8.9.12 370:0:8 371::8 372::7.8.10 373:0:8 374:0:8 375:8:6.7.8.9.10.11 376::6.8.9 "
    "377:0:8.9 378::8.10 380:0:9.10 381:0:6.7.8.9.10.11.12 382:0:8.9 383:0:8.9.10.11.12 "
    "385:0:7.8.9 386:0:5.6.7.8 387:0:8.9 389:0:8 420::9.10.11.12 421:0:6.7.9 423:0:7.9 500::5 "
    "501::7.11 502::8.11 503::7.8.11 504::8.11 505::8 506::8.10 507::7.8.10.11 508:0:6.9 509::8 "
    "590:0:9 591:0:8.9 592::7 593:0:8.9.10.11 594:0:9 595:0:6.7.8.9.10.11 596:0:9 597::6.7 "
    "598:0:4.5.6.7.8.9.10.11.12.13 599::7.8 670::7.8 672::6 673::7 674::7 675::7.8 676::5.7 "
    "677::5.7 678::5.7 679::7.11 680::7 681::6.9 682::5 683::4.7 685::5.6.7.10 686:0:5.8 687::6 "
    "688::5.6.7 689::6.8.9 690::4.5.6.7 691::7 692:1:7 800::8 808::8 850:0:8.10 "
    "852::5.6.7.8.9.11 853::7.8 855:0:8.9.10 856:0:8.9.10 870::9.12 878::12 880:0:6.7.8.9.10 "
    "881::9.10 882::7.8.9.10.11.12 883::8.9.10.11.12 886:0:7.8.9.10.11 888::11 960::7.10 "
    "961:0:7.8 962:0:8.9 963:0:8.9 964:0:8.9.10 965::7.8 966:0:9.10 967:0:7.8.9 968::7.8.9 "
    "970:0:8.9.10 971:0:5.6.7.8.9.10.11.12 972:0:7.8.9.10.11.12 973::8 974::7.8.9.11 975::7.8 "
    "976:0:8.9.10 977:0:8.10.11 979::9 992::9 993:8:8 994:0:9 995:0:9 996:0:9.10 998::9"
)
_COUNTRIES: dict[str, tuple[str, frozenset[int]]] = {
    code: (prefix, frozenset(int(n) for n in lengths.split(".")))
    for code, prefix, lengths in (entry.split(":") for entry in _CALLING_CODES.split())
}
_NOT_DIGITS_OR_PLUS = re.compile(r"[^\d+]")
_E164 = re.compile(r"\+\d+")


def _is_e164(phone: Any) -> bool:
    """libphonenumber-js's ``parsePhoneNumberFromString(p).format('E.164') === p`` of the number
    without its spaces, dashes and brackets: a "+", a known country calling code and 2 to 17 more
    digits, without a national (trunk) prefix libphonenumber would drop."""
    if not isinstance(phone, str):
        return False
    number = _NOT_DIGITS_OR_PLUS.sub("", phone)
    if not _E164.fullmatch(number):
        return False
    digits = number[1:]
    for size in (1, 2, 3):
        country = _COUNTRIES.get(digits[:size])
        if country is not None:
            break
    else:
        return False
    national = digits[size:]
    if not 2 <= len(national) <= 17:
        return False
    prefix, lengths = country
    return not (prefix and national.startswith(prefix) and len(national) - len(prefix) in lengths)


# --- requests -------------------------------------------------------------------------------------


def _headers(config: dict[str, Any], revision: str) -> dict[str, str]:
    return {
        "Authorization": f"Klaviyo-API-Key {_js_string(config.get('privateApiKey'))}",
        "Content-Type": "application/json",
        "Accept": "application/json",
        "revision": revision,
    }


def _js_string(value: Any) -> str:
    return "undefined" if value is None else to_string(value)


def _request(config: dict[str, Any], path: str, revision: str, body: Any,
             method: str = "POST") -> dict[str, Any]:
    return rest_request(BASE_ENDPOINT + path, body, method=method, endpoint_path=path,
                        headers=_headers(config, revision))


def _revision(config: dict[str, Any]) -> str:
    version = config.get("apiVersion")
    return _REVISIONS["v1" if version is None else version]


def _subscription_body(list_id: Any, profiles: list[Any], operation: str) -> dict[str, Any]:
    """``getSubscriptionPayload``."""
    relationship: dict[str, Any] = {"type": "list"}
    if list_id is not None:
        relationship["id"] = list_id
    kind = "create" if operation == "subscribe" else "delete"
    return {"data": {"type": f"profile-subscription-bulk-{kind}-job",
                     "attributes": {"profiles": {"data": profiles}},
                     "relationships": {"list": {"data": relationship}}}}


def _subscription_request(config: dict[str, Any], list_id: Any, profiles: list[Any],
                          operation: str) -> dict[str, Any]:
    path = _SUBSCRIBE_PATH if operation == "subscribe" else _UNSUBSCRIBE_PATH
    return _request(config, path, _revision(config),
                    _subscription_body(list_id, profiles, operation))


# --- v2 / v3: the profile-import API --------------------------------------------------------------


@dataclass(slots=True)
class _Parts:
    """What one v2/v3 event produces before the router batches it."""

    profile: dict[str, Any] | None = None
    #: {"listId", "profile": [profile], "operation"}
    subscription: dict[str, Any] | None = None
    event: dict[str, Any] | None = None


def _patch_properties(message: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``getProfileMetadataAndMetadataFields``: meta.patch_properties from
    integrations.Klaviyo.fieldsToUnset/fieldsToAppend/fieldsToUnappend, and those field names."""
    options = _integrations(message)
    options = options if isinstance(options, dict) else {}
    patch: dict[str, Any] = {}
    fields: list[str] = []
    traits = generic_value(message, "traits")
    unset = options.get("fieldsToUnset")
    if isinstance(unset, list):
        patch["unset"] = unset
        fields = list(unset)
    for option, name in (("fieldsToAppend", "append"), ("fieldsToUnappend", "unappend")):
        keys = options.get(option)
        if not isinstance(keys, list):
            continue
        values: dict[str, Any] = {}
        for key in keys:
            if traits is None:
                raise UnexpectedError(f"Cannot read properties of null (reading '{to_string(key)}')")
            value = traits.get(to_string(key)) if isinstance(traits, dict) else None
            if value is not None:
                values[to_string(key)] = value
        patch[name] = values
        fields.extend(keys)
    return {"patch_properties": patch}, fields


def _profile(ctx: Context, identify: bool) -> dict[str, Any]:
    """``constructProfile``: {data: {type, id, attributes, meta}} for profile-import."""
    message, config = ctx.message, ctx.config
    attributes = ctx.build("profile_v2")
    phone = attributes.get("phone_number")
    if phone is not None and not _is_e164(phone):
        raise InstrumentationError("Phone number is not in E.164 format.")
    meta, meta_fields = _patch_properties(message)
    custom = _custom_fields(message, _WHITELISTED_V2 | {f for f in meta_fields if isinstance(f, str)})
    profile_id = external_id(message, "klaviyo-profileId")
    if is_truthy(config.get("flattenProperties")):
        custom = _flatten(custom)
    if is_truthy(config.get("enforceEmailAsPrimary")):
        attributes.pop("external_id", None)
        custom["_id"] = generic_value(message, "userIdOnly")
    attributes["properties"] = without_nulls(custom)
    data: dict[str, Any] = {"type": "profile"}
    if profile_id is not None:
        data["id"] = profile_id
    data["attributes"] = attributes
    if identify:
        data["meta"] = meta
    else:
        attributes["meta"] = meta
    return {"data": data}


def _subscription_v2(message: dict[str, Any], traits: Any, config: dict[str, Any],
                     operation: str) -> dict[str, Any]:
    """``subscribeOrUnsubscribeUserToListV2``."""
    traits_properties = traits.get("properties") if isinstance(traits, dict) else None
    consent = js_or(_get(traits, "consent"), _get(traits_properties, "consent"), config.get("consent"))
    email, phone = generic_value(message, "email"), generic_value(message, "phone")
    attributes: dict[str, Any] = {"email": email, "phone_number": phone}
    status = "SUBSCRIBED" if operation == "subscribe" else "UNSUBSCRIBED"
    if config.get("apiVersion") == "v3" or (operation == "subscribe" and is_truthy(consent)):
        channels = consent if isinstance(consent, list) else [consent]
        subscriptions: dict[str, Any] = {}
        if "email" in channels and is_truthy(email):
            subscriptions["email"] = {"marketing": {"consent": status}}
        if "sms" in channels and is_truthy(phone):
            subscriptions["sms"] = {"marketing": {"consent": status}}
        if subscriptions:
            attributes["subscriptions"] = subscriptions
    if config.get("apiVersion") == "v3" and "subscriptions" not in attributes:
        raise InstrumentationError(
            "No subscriptions could be resolved for v3 API version. Ensure consent channels "
            "(email/sms) match the identifiers present in the event")
    profile: dict[str, Any] = {"type": "profile"}
    profile_id = external_id(message, "klaviyo-profileId") if operation == "subscribe" else None
    if profile_id is not None:
        profile["id"] = profile_id
    profile["attributes"] = without_nulls(attributes)
    if not is_truthy(email) and not is_truthy(phone) and is_truthy(profile.get("id")):
        raise InstrumentationError(
            "Profile Id, Email or/and Phone are required to subscribe to a list"
            if operation == "subscribe"
            else "Email or/and Phone are required to unsubscribe from a list")
    list_id = js_or(_get(traits_properties, "listId"), config.get("listId"))
    if message.get("type") == "group":
        list_id = message.get("groupId")
    return {"listId": list_id, "profile": [profile], "operation": operation}


def _identify_v2(ctx: Context) -> _Parts:
    message, config = ctx.message, ctx.config
    traits = generic_value(message, "traits")
    if is_truthy(_get(message, "context.mappedToDestination")):
        traits = _prepare_retl(message, traits)
    parts = _Parts(profile=_profile(ctx, identify=True))
    properties = traits.get("properties") if isinstance(traits, dict) else None
    subscribe = _get(properties, "subscribe")
    if subscribe is not None and (is_truthy(_get(properties, "listId"))
                                  or is_truthy(config.get("listId"))):
        operation = "subscribe" if is_truthy(subscribe) else "unsubscribe"
        parts.subscription = _subscription_v2(message, traits, config, operation)
    return parts


def _track_v2(ctx: Context) -> _Parts:
    message, config = ctx.message, ctx.config
    event = js_or(message.get("event"), message.get("name"))
    if is_truthy(event) and not isinstance(event, str):
        raise InstrumentationError("Event type should be a string")
    attributes = ctx.build("event_v2")
    properties = message.get("properties")
    if isinstance(properties, dict):
        # The reference deletes these from the event itself: later lookups (the profile's
        # email and phone) no longer see them.
        for key in _TRACK_EXCLUDES:
            properties.pop(key, None)
    if is_present(properties):
        attributes["properties"] = properties
    if is_truthy(config.get("flattenProperties")):
        attributes["properties"] = _flatten(attributes.get("properties"))
    attributes["profile"] = _profile(ctx, identify=False)
    metric: dict[str, Any] = {} if event is None else {"name": event}
    attributes["metric"] = {"data": {"type": "metric", "attributes": metric}}
    if message.get("messageId") is not None:
        attributes["unique_id"] = message["messageId"]
    return _Parts(event={"data": {"type": "event", "attributes": attributes}})


def _group_v2(message: dict[str, Any], config: dict[str, Any]) -> _Parts:
    if not is_truthy(message.get("groupId")):
        raise InstrumentationError("groupId is a required field for group events")
    traits = generic_value(message, "traits")
    subscribe = traits.get("subscribe") if isinstance(traits, dict) else None
    if subscribe is None:
        raise InstrumentationError("Subscribe flag should be included in group call")
    operation = "subscribe" if is_truthy(subscribe) else "unsubscribe"
    return _Parts(subscription=_subscription_v2(message, traits, config, operation))


def _parts_v2(ctx: Context, kind: str) -> _Parts:
    message, config = ctx.message, ctx.config
    if kind == "identify":
        return _identify_v2(ctx)
    if kind in ("track", "screen"):
        return _track_v2(ctx)
    return _group_v2(message, config)


def _requests_v2(parts: _Parts, config: dict[str, Any]) -> list[dict[str, Any]]:
    """``processImportApi``: profile, (un)subscription and event requests, in that order."""
    requests = []
    revision = _revision(config)
    if parts.profile is not None:
        requests.append(_request(config, "/api/profile-import", revision, parts.profile))
    if parts.subscription is not None:
        sub = parts.subscription
        requests.append(_subscription_request(config, sub["listId"], sub["profile"],
                                              sub["operation"]))
    if parts.event is not None:
        requests.append(_request(config, "/api/events", revision, parts.event))
    return requests


# --- v1: the legacy API ---------------------------------------------------------------------------


def _subscribe_v1(message: dict[str, Any], traits: Any, config: dict[str, Any]) -> dict[str, Any]:
    """``subscribeUserToList``: a profile-subscription-bulk-create-job with list_id."""
    traits_properties = traits.get("properties") if isinstance(traits, dict) else None
    subscription: dict[str, Any] = {"email": generic_value(message, "email"),
                                    "phone_number": generic_value(message, "phone")}
    consent = js_or(_get(traits_properties, "consent"), config.get("consent"))
    if is_truthy(consent):
        consents = consent if isinstance(consent, list) else [consent]
        channels: dict[str, Any] = {}
        if "email" in consents:
            channels["email"] = ["MARKETING"]
        if "sms" in consents:
            channels["sms"] = ["MARKETING"]
        subscription["channels"] = channels
    list_id = js_or(_get(traits_properties, "listId"), config.get("listId"))
    if message.get("type") == "group":
        list_id = message.get("groupId")
    attributes: dict[str, Any] = {"subscriptions": [without_nulls(subscription)]}
    if list_id is not None:
        attributes["list_id"] = list_id
    body = {"data": {"type": "profile-subscription-bulk-create-job", "attributes": attributes}}
    return _request(config, _SUBSCRIBE_PATH, _REVISIONS["v1"], body)


def _identify_v1(ctx: Context) -> Any:
    message, config = ctx.message, ctx.config
    traits = generic_value(message, "traits")
    if is_truthy(_get(message, "context.mappedToDestination")):
        traits = _prepare_retl(message, traits)
    attributes = ctx.build("identify_v1")
    custom = _custom_fields(message, _WHITELISTED_V1)
    if is_truthy(config.get("enforceEmailAsPrimary")):
        if not is_truthy(attributes.get("email")) and not is_truthy(attributes.get("phone_number")):
            raise InstrumentationError("None of email and phone are present in the payload")
        attributes.pop("external_id", None)
        custom["_id"] = generic_value(message, "userId")
    properties = without_nulls(custom)
    if is_truthy(config.get("flattenProperties")):
        properties = _flatten(properties)
    if properties:
        attributes["properties"] = properties
    # The reference creates the profile with this request while transforming (POST
    # /api/profiles) and sends PATCH /api/profiles/<id> with the id Klaviyo answers; without
    # network calls the create request itself is the output.
    profile = _request(config, "/api/profiles", _REVISIONS["v1"],
                       {"data": {"type": "profile", "attributes": attributes}})
    properties_of_traits = traits.get("properties") if isinstance(traits, dict) else None
    if (is_truthy(_get(properties_of_traits, "subscribe"))
            and (is_truthy(_get(properties_of_traits, "listId")) or is_truthy(config.get("listId")))):
        return [profile, _subscribe_v1(message, traits, config)]
    return profile


def _customer_properties(ctx: Context) -> dict[str, Any]:
    """``createCustomerProperties``: the $-prefixed profile of a v1 event."""
    message, config = ctx.message, ctx.config
    customer = ctx.build("profile_v1")
    if not is_truthy(config.get("enforceEmailAsPrimary")):
        customer["$id"] = generic_value(message, "userId")
    else:
        if not is_truthy(customer.get("$email")) and not is_truthy(customer.get("$phone_number")):
            raise InstrumentationError("None of email and phone are present in the payload")
        customer["_id"] = generic_value(message, "userId")
    return without_nulls(customer)


def _track_v1(ctx: Context) -> dict[str, Any]:
    message, config = ctx.message, ctx.config
    event = message.get("event")
    if is_truthy(event) and not isinstance(event, str):
        raise InstrumentationError("Event type should be a string")
    name = js_trim(event).lower() if isinstance(event, str) else event
    properties = message.get("properties")
    attributes: dict[str, Any] = {}
    ecom = _ECOM.get(name) if isinstance(name, str) else None
    if ecom is not None and is_truthy(properties):
        metric, table = ecom
        attributes["metric"] = {"name": metric}
        ecom_properties = ctx.build(table, properties)
        items = js_or(_get(properties, "items"), _get(properties, "products"))
        if is_truthy(items):
            built = (ctx.build("ecom_item", product) for product in
                     (items if isinstance(items, list) else []))
            item_list = [item for item in built if item]
            if item_list:
                ecom_properties["items"] = item_list
        # The reference's custom-property extraction here writes into an undefined object, so
        # the event's other properties are never added.
        attributes["properties"] = ecom_properties
    else:
        value = js_or(_get(properties, "revenue"), _get(properties, "total"), _get(properties, "value"))
        metric_name = first_present(message, ("event", "properties.event", "properties.name"))
        if not is_present(metric_name):
            raise InstrumentationError(
                'Missing required value from ["event","properties.event","properties.name"]')
        attributes["metric"] = {"name": metric_name}
        if isinstance(properties, dict):
            for key in _TRACK_V1_EXCLUDES:  # deleted from the event itself, as the reference does
                properties.pop(key, None)
        if is_present(properties):
            attributes["properties"] = properties
        if is_truthy(value):
            attributes["value"] = value
    flatten = is_truthy(config.get("flattenProperties"))
    if flatten:
        attributes["properties"] = _flatten(attributes.get("properties"))
    profile = {**_customer_properties(ctx),
               **_custom_fields(message, _WHITELISTED_V1)}
    attributes["profile"] = _flatten(profile) if flatten else profile
    if is_truthy(message.get("timestamp")):
        attributes["time"] = message["timestamp"]
    return _request(config, "/api/events", _REVISIONS["v1"],
                    {"data": {"type": "event", "attributes": attributes}})


def _group_v1(message: dict[str, Any], config: dict[str, Any]) -> list[dict[str, Any]]:
    if not is_truthy(message.get("groupId")):
        raise InstrumentationError("groupId is a required field for group events")
    traits = message.get("traits")
    if not isinstance(traits, dict):
        if traits is None:
            raise UnexpectedError("Cannot read properties of undefined (reading 'subscribe')")
        raise InstrumentationError("Subscribe flag should be true for group call")
    if not is_truthy(traits.get("subscribe")):
        raise InstrumentationError("Subscribe flag should be true for group call")
    return [_subscribe_v1(message, generic_value(message, "traits"), config)]


def _output_v1(ctx: Context, kind: str) -> Any:
    message, config = ctx.message, ctx.config
    if kind == "identify":
        return _identify_v1(ctx)
    if kind in ("track", "screen"):
        return _track_v1(ctx)
    return _group_v1(message, config)


# --- processor ------------------------------------------------------------------------------------


def _profile_import(config: dict[str, Any]) -> bool:
    """Whether the destination uses the profile-import API (apiVersion v2 or v3)."""
    version = config.get("apiVersion")
    if version is None:
        return False
    if not isinstance(version, str) or version not in _REVISIONS:
        raise InstrumentationError(f"Unsupported Klaviyo apiVersion: {_js_string(version)}")
    return version != "v1"


def process(ctx: Context) -> Any:
    message, config = ctx.message, ctx.config
    import_api = _profile_import(config)
    if ctx.mode == "router" and is_truthy(message.get("statusCode")):
        return _Passthrough(message)
    kind = message.get("type")
    if not is_truthy(kind):
        raise InstrumentationError("Event type is required")
    if not is_truthy(config.get("privateApiKey")):
        raise ConfigurationError(
            f"Private API Key is a required field for {_js_string(kind)} events")
    if not isinstance(kind, str):
        raise UnexpectedError("message.type.toLowerCase is not a function")
    kind = kind.lower()
    if kind not in ("identify", "track", "screen", "group"):
        raise InstrumentationError(f"Event type {kind} is not supported")
    if import_api:
        parts = _parts_v2(ctx, kind)
        return parts if ctx.mode == "router" else _requests_v2(parts, config)
    return _output_v1(ctx, kind)


# --- router ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Passthrough:
    """An already transformed request (message.statusCode), sent on as it came."""

    message: dict[str, Any]


def _meta_key(job: Job, key: str) -> Any:
    meta = job.metadata_doc
    value = meta.get(key) if isinstance(meta, dict) else None
    return stringify(value) if isinstance(value, dict | list) else value


def _split_by_type(done: list[tuple[Job, Any]]) -> list[list[tuple[Job, Any]]]:
    """``groupEventsByType``: consecutive runs by message type, where an event may join an
    earlier run of its type as long as it does not move before its user's (metadata.userId)
    previous event."""
    runs: list[tuple[Any, list[tuple[Job, Any]]]] = []
    last_run: dict[Any, int] = {}
    for item in done:
        job = item[0]
        kind = job.message.get("type") if isinstance(job.message, dict) else None
        user = _meta_key(job, "userId")
        target = next((i for i in range(last_run.get(user, 0), len(runs)) if runs[i][0] == kind),
                      -1)
        if target < 0:
            runs.append((kind, [item]))
            target = len(runs) - 1
        else:
            runs[target][1].append(item)
        last_run[user] = target
    return [items for _, items in runs]


def _group_by(items: list[tuple[Job, Any]], key: Any) -> list[list[tuple[Job, Any]]]:
    """lodash ``groupBy`` keyed by ``String(key(item))``, in JavaScript key order."""
    groups: dict[str, list[tuple[Job, Any]]] = {}
    for item in items:
        groups.setdefault(_js_string(key(item)), []).append(item)
    return [groups[k] for k in js_keys(groups)]


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _router_v2(run: list[tuple[Job, Any]]) -> list[Batch]:
    config = run[0][0].destination.get("Config")
    config = config if isinstance(config, dict) else {}
    revision = _revision(config)
    passthrough: list[Batch] = []
    events: list[Batch] = []
    subscriptions: dict[str, list[tuple[Job, Any]]] = {"subscribe": [], "unsubscribe": []}
    profiles: list[tuple[Job, Any]] = []
    for job, parts in run:
        if isinstance(parts, _Passthrough):
            output = parts.message.get("output")
            passthrough.append(Batch(request=output if is_truthy(output) else parts.message,
                                     jobs=[job], batched=False))
            continue
        if parts.subscription is not None:
            subscriptions[parts.subscription["operation"]].append((job, parts.subscription))
        if parts.profile is not None:
            profiles.append((job, parts.profile))
        if parts.event is not None:
            events.append(Batch(request=_request(config, "/api/events", revision, parts.event),
                                jobs=[job], batched=False))
    # Each entry: [list id, operation, subscription profiles, jobs, profile payloads]
    entries: list[tuple[Any, str, list[Any], list[Job], list[Any]]] = []
    entry_of: dict[Any, int] = {}
    for operation, items in subscriptions.items():
        for group in _group_by(items, lambda item: item[1]["listId"]):
            list_id = _js_string(group[0][1]["listId"])
            for chunk in _chunks(group, MAX_BATCH_SIZE):
                for job, _ in chunk:
                    entry_of[_meta_key(job, "jobId")] = len(entries)
                entries.append((list_id, operation,
                                [p for _, sub in chunk for p in sub["profile"]],
                                [job for job, _ in chunk], []))
    for job, profile in profiles:
        index = entry_of.get(_meta_key(job, "jobId"))
        if index is None:
            entries.append((None, "", [], [job], [profile]))
        else:
            entries[index][4].append(profile)
    batches = []
    for list_id, operation, sub_profiles, jobs, payloads in entries:
        requests = [_request(config, "/api/profile-import", revision, p) for p in payloads]
        if sub_profiles:
            requests.append(_subscription_request(config, list_id, sub_profiles, operation))
        batches.append(Batch(request=requests, jobs=jobs))
    return passthrough + events + batches


def _router_v1(run: list[tuple[Job, Any]]) -> list[Batch]:
    subscribes: list[tuple[Job, Any]] = []
    singles: list[Batch] = []
    profiles: list[Any] = []
    for job, output in run:
        message = output.message if isinstance(output, _Passthrough) else output
        if isinstance(message, list):
            if len(message) == 2:
                profiles.append(message[0])
                subscribes.append((job, message[1]))
            else:
                subscribes.append((job, message[0] if message else None))
        else:
            singles.append(Batch(request=message, jobs=[job], batched=False))
    batches: list[Batch] = []
    for group in _group_by(subscribes, lambda item: _get(item[1], "body.JSON.data.attributes.list_id")):
        for chunk in _chunks(group, MAX_BATCH_SIZE):
            data = dict(_get(chunk[0][1], "body.JSON.data") or {})
            attributes = dict(data.get("attributes") or {})
            attributes["subscriptions"] = [
                sub for _, request in chunk
                for sub in (_get(request, "body.JSON.data.attributes.subscriptions") or [])]
            data["attributes"] = attributes
            config = chunk[0][0].destination.get("Config")
            config = config if isinstance(config, dict) else {}
            request = _request(config, _SUBSCRIBE_PATH, _REVISIONS["v1"], {"data": data})
            batches.append(Batch(request=[request], jobs=[job for job, _ in chunk]))
    if profiles and batches:
        batches[0].request.extend(profiles)
    return batches + singles


def _v1_finish_order(run: list[tuple[Job, Any]]) -> int:
    """When the reference's v1 router finishes a run, which decides where its requests go: runs
    of already transformed requests only come first, runs with an identify (which waits for
    Klaviyo's answer to its profile creation) last."""
    if all(isinstance(output, _Passthrough) for _, output in run):
        return 0
    identify = any(isinstance(job.message, dict) and isinstance(job.message.get("type"), str)
                   and job.message["type"].lower() == "identify"
                   and not isinstance(output, _Passthrough) for job, output in run)
    return 2 if identify else 1


def batch(done: list[tuple[Job, Any]]) -> list[Batch]:
    """Per run of one message type: the v2/v3 (profile-import) or the v1 batching."""
    if not done:
        return []
    config = done[0][0].destination.get("Config")
    config = config if isinstance(config, dict) else {}
    runs = _split_by_type(done)
    if config.get("apiVersion") in ("v2", "v3"):
        return [b for run in runs for b in _router_v2(run)]
    runs.sort(key=_v1_finish_order)  # stable: otherwise in order
    return [b for run in runs for b in _router_v1(run)]
