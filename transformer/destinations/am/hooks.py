"""Amplitude: every message becomes HTTP V2 API events, the reference's way (``process``).

Amplitude is code rather than a field mapping because the reference's mapping is not a mapping:
each field of its data/*.json tables is first looked up under the same *output* name in
``message.traits`` (reverse-ETL overrides, which for the computed fields are then deleted from the
traits the user properties are built from), nested output keys are written with set-value (a
dotted key makes nested objects, an undefined value deletes), and the request's shape depends on
the event *name* (a track named "identify", "group" or "alias" is built as one). The tables are
kept below as data, one row per reference row: ``(source path, output key, computed field)``.

* ``process``: one message -> its requests: track revenue events split into the order and its
  "Product Purchased" events; a group call adds its groupidentify request.
* ``batch``: router requests per user (``userId || anonymousId``): two or more batchable jobs of
  a user (every request a JSON body, no ``dontBatch``) are merged into /batch requests of at most
  1000 events; the others go alone; results in order of their smallest jobId.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import ua_parser
from ua_parser import Domain

from transformer.hooks import (
    UNDEFINED,
    UNSAFE_KEYS,
    Batch,
    ConfigurationError,
    Context,
    InstrumentationError,
    Job,
    SourceKeyError,
    compile_get_value,
    get_value,
    group_and_chunk,
    is_apple_family,
    is_defined,
    is_plain_key,
    is_present,
    is_truthy,
    js_date_ms,
    js_keys,
    js_or,
    js_set,
    js_trim,
    lodash_is_empty,
    object_keys,
    rest_request,
    sort_by_min_job_id,
    spread,
    stringify,
    to_number,
    to_string,
)
from transformer.useragent import parse as parse_user_agent

BASE_URL = "https://api2.amplitude.com"
BASE_URL_EU = "https://api.eu.amplitude.com"
IDENTIFY_EVENT = "$identify"
#: The reference's MAX_USERS_DEVICES_PER_BATCH: events (requests) in one /batch request.
MAX_BATCH_EVENTS = 1000
#: userPropertiesPostProcess: keys of user_properties that are Amplitude operations.
OPERATIONS = ("$setOnce", "$add", "$unset", "$append", "$prepend", "$preInsert", "$postInsert",
              "$remove")
#: handleTraits: destination settings listing traits to move under an operation, in order.
TRAIT_OPERATIONS = (("traitsToIncrement", "$add"), ("traitsToSetOnce", "$setOnce"),
                    ("traitsToAppend", "$append"), ("traitsToPrepend", "$prepend"))
#: The address traits copied to user_properties (constants.js TraitsMapping.address).
ADDRESS_TRAITS = ("city", "country", "postalCode", "state", "street")
_ADDRESS_GETTERS = tuple((key, compile_get_value(f"address.{key}")) for key in ADDRESS_TRAITS)
_MISSING = object()


# --- set-value --------------------------------------------------------------------------------


def _is_plain_key(key: str) -> bool:
    """Whether set-value and get-value take ``key`` as one key, as a dict does."""
    return "." not in key and "/" not in key and "\\" not in key and key not in UNSAFE_KEYS


def _delete_path(obj: Any, path: str) -> None:
    """The reference's deleteObjectProperty."""
    keys = path.split(".")
    for key in keys[:-1]:
        if obj is None:
            raise InstrumentationError(f"traits.{path} cannot be moved: {key} is null")
        obj = obj.get(key, UNDEFINED) if type(obj) is dict else UNDEFINED
        if obj is UNDEFINED:
            return
    if obj is None:
        raise InstrumentationError(f"traits.{path} cannot be moved: its parent is null")
    if type(obj) is dict:
        obj.pop(keys[-1], None)


def _clone(value: Any) -> Any:
    """lodash ``cloneDeep`` of a JSON document."""
    if type(value) is dict:
        return {k: _clone(v) for k, v in value.items()}
    if type(value) is list:
        return [_clone(v) for v in value]
    return value


def _clone_message(message: dict[str, Any]) -> dict[str, Any]:
    """``cloneDeep(message)`` as far as processing changes it: the top level, the traits, the
    properties and the context's campaign and traits (the rest is only read)."""
    clone = dict(message)
    for key in ("traits", "properties"):
        if key in clone:
            clone[key] = _clone(clone[key])
    context = clone.get("context")
    if type(context) is dict:
        context = clone["context"] = dict(context)
        for key in ("campaign", "traits"):
            if key in context:
                context[key] = _clone(context[key])
    return clone


def _first_present(message: dict[str, Any], *getters: Callable[[Any], Any]) -> Any:
    """getFieldValueFromMessage over a list of keys: the first truthy, 0 or false value, else
    null."""
    for get in getters:
        value = get(message)
        if is_present(value):
            return value
    return None


# --- user agent (the reference's @amplitude/ua-parser-js 0.7) ---------------------------------


#: Names the Amplitude fork of ua-parser-js 0.7 gives where ua-parser-js 1.x's differ: "Mac",
#: "iPhone"/"iPad" (below) for iOS, "Linux" for every distribution and BSD.
_AM_OS_NAMES = {"Mac OS": "Mac", **{name: "Linux" for name in (
    "Ubuntu", "Kubuntu", "Xubuntu", "Lubuntu", "Debian", "Fedora", "Red Hat", "SUSE", "openSUSE",
    "Gentoo", "Slackware", "Mandriva", "CentOS", "Mint", "Arch", "Mageia", "PCLinuxOS",
    "Zenwalk", "Linpus", "Joli", "FreeBSD", "NetBSD", "OpenBSD", "DragonFly", "GNU", "Hurd")}}
_IOS_DEVICE = re.compile(r"(iphone|ipad)(?:.*os\s*\w*\slike\smac|;\sopera)", re.IGNORECASE)
_AM_BROWSER_NAMES = {"Samsung Internet": "Samsung Browser"}
_MOBILE_CHROME = re.compile(r"(?:android.+crmo|crios)/|android.+chrome/[\w.]+\s+mobile\s?safari",
                            re.IGNORECASE)
#: uap-core device brands that ua-parser-js 0.7 reports as the vendor, in its spelling.
_VENDORS = {"Apple": "Apple", "Samsung": "Samsung", "Huawei": "Huawei", "XiaoMi": "Xiaomi",
            "Google": "Google", "LG": "LG", "Motorola": "Motorola", "Sony": "Sony",
            "OnePlus": "OnePlus", "Nokia": "Nokia", "HTC": "HTC", "Amazon": "Amazon",
            "BlackBerry": "BlackBerry", "Asus": "Asus", "Lenovo": "Lenovo", "ZTE": "ZTE",
            "Microsoft": "Microsoft", "Meizu": "Meizu", "Oppo": "OPPO", "Vivo": "Vivo",
            "Acer": "Acer", "Dell": "Dell", "Nexian": "Nexian", "Panasonic": "Panasonic"}


@lru_cache(maxsize=4096)
def _user_agent(ua: str) -> dict[str, str | None]:
    """browser.name/version, os.name and device.vendor as Amplitude's ua-parser-js names them."""
    parsed = parse_user_agent(ua)
    browser = parsed.browser
    if browser == "Chrome" and _MOBILE_CHROME.search(ua):
        browser = "Chrome Mobile"
    browser = _AM_BROWSER_NAMES.get(browser or "", browser)
    os_name = _AM_OS_NAMES.get(parsed.os or "", parsed.os)
    if os_name == "iOS":
        apple = _IOS_DEVICE.search(ua)
        if apple is not None:
            os_name = "iPhone" if apple.group(1).lower() == "iphone" else "iPad"
    device = ua_parser.parser(ua[:500], Domain.DEVICE).device
    vendor = None
    if device is not None and device.brand and device.family not in ("Mac", "Other"):
        vendor = _VENDORS.get(device.brand)
    return {"browser.name": browser, "browser.version": parsed.browser_version,
            "os.name": os_name, "device.vendor": vendor}


def _is_web(message: dict[str, Any], memo: dict[str, Any]) -> bool:
    """``payload.channel && payload.channel.toLowerCase() === 'web'`` (once per message)."""
    web = memo.get("web")
    if web is None:
        channel = message.get("channel")
        if not is_truthy(channel):
            web = False
        elif not isinstance(channel, str):
            raise InstrumentationError("channel must be a string")
        else:
            web = channel.lower() == "web"
        memo["web"] = web
    return bool(web)


_get_user_agent = compile_get_value("context.userAgent")


def _from_user_agent(message: dict[str, Any], field: str, memo: dict[str, Any]) -> Any:
    """getInfoFromUA: the user agent's answer, or None."""
    info = memo.get("ua", _MISSING)
    if info is _MISSING:
        ua = _get_user_agent(message)
        info = memo["ua"] = (_user_agent(ua if isinstance(ua, str) else to_string(ua))
                             if is_truthy(ua) else None)
    return info.get(field) if info is not None else None


#: The computed fields of the tables (utils.js): (message, source getter, config, per-message
#: memo) -> value.
Computed = Callable[[dict[str, Any], Callable[[Any], Any], dict[str, Any], dict[str, Any]], Any]


def _web_or_source(field: str) -> Computed:
    def compute(message: dict[str, Any], source: Callable[[Any], Any], config: dict[str, Any],
                memo: dict[str, Any]) -> Any:
        if _is_web(message, memo):  # the user agent's answer, else the event's own value
            return _from_user_agent(message, field, memo) or source(message)
        return source(message)

    return compute


def _platform(message: dict[str, Any], source: Callable[[Any], Any], config: dict[str, Any],
              memo: dict[str, Any]) -> Any:
    value = source(message)
    return "Web" if _is_web(message, memo) else value


def _brand(message: dict[str, Any], source: Callable[[Any], Any], config: dict[str, Any],
           memo: dict[str, Any]) -> Any:
    return source(message) if is_truthy(config.get("mapDeviceBrand")) else UNDEFINED


def _event_id(message: dict[str, Any], source: Callable[[Any], Any], config: dict[str, Any],
              memo: dict[str, Any]) -> Any:
    value = source(message)
    return value if is_defined(value) and not isinstance(value, str) else UNDEFINED


# --- the reference's data/*.json tables ---------------------------------------------------------

#: (source getter, output key, computed field or None, whether the key is a plain key)
Row = tuple[Callable[[Any], Any], str, Computed | None, bool]


def _table(*rows: tuple[str, str] | tuple[str, str, Computed]) -> tuple[Row, ...]:
    return tuple((compile_get_value(row[0]), row[1], row[2] if len(row) == 3 else None,
                  is_plain_key(row[1])) for row in rows)


_OS_NAME = ("context.os.name", "os_name", _web_or_source("browser.name"))
_OS_VERSION = ("context.os.version", "os_version", _web_or_source("browser.version"))
_DEVICE_MODEL = ("context.device.model", "device_model", _web_or_source("os.name"))
_MANUFACTURER = ("context.device.manufacturer", "device_manufacturer",
                 _web_or_source("device.vendor"))
_PLATFORM = ("context.device.type", "platform", _platform)
_BRAND = ("context.device.brand", "device_brand", _brand)
_EVENT_ID = ("integrations.Amplitude.event_id", "event_id", _event_id)
_DEVICE = (_OS_NAME, _OS_VERSION, _DEVICE_MODEL, _MANUFACTURER, _PLATFORM, _BRAND)
_APP = (("context.network.carrier", "carrier"), ("context.app.name", "app_name"),
        ("context.app.version", "app_version"), ("context.locale", "language"))

TABLES: dict[str, tuple[Row, ...]] = {
    "default": _table(*_DEVICE, _EVENT_ID, ("anonymousId", "device_id"), *_APP,
                      ("properties.category", "event_type"), ("request_ip", "ip"),
                      ("messageId", "insert_id")),
    "identify": _table(*_DEVICE, _EVENT_ID, ("anonymousId", "device_id"), *_APP,
                       ("messageId", "insert_id"), ("request_ip", "ip")),
    "group": _table(*_DEVICE, _EVENT_ID, ("anonymousId", "device_id"), *_APP,
                    ("request_ip", "ip")),
    "page": _table(*_DEVICE, ("anonymousId", "device_id"), *_APP,
                   ("properties.category", "event_type"),
                   ("properties.title", "event_properties.title"),
                   ("properties.path", "event_properties.path"),
                   ("properties.referrer", "event_properties.referrer"),
                   ("properties.search", "event_properties.search"),
                   ("properties.keywords", "event_properties.keywords"),
                   ("messageId", "insert_id"), ("request_ip", "ip"),
                   ("name", "event_properties.name"), _EVENT_ID),
    "screen": _table(("context.os.name", "os_name"), ("context.os.version", "os_version"),
                     ("context.device.model", "device_model"),
                     ("context.device.manufacturer", "device_manufacturer"), _BRAND, _EVENT_ID,
                     ("anonymousId", "device_id"), *_APP[:3], ("context.device.type", "platform"),
                     _APP[3], ("properties.name", "event_properties.screen_name"),
                     ("messageId", "insert_id"), ("request_ip", "ip")),
    "revenue": _table(*_DEVICE, ("anonymousId", "device_id"), *_APP,
                      ("properties.product_id", "productId"), ("properties.price", "price"),
                      ("properties.quantity", "quantity"), ("properties.revenue", "revenue"),
                      ("properties.revenue_type", "revenueType"),
                      ("properties.category", "event_type"), ("messageId", "insert_id"),
                      ("request_ip", "ip")),
    "alias": _table(("userId", "global_user_id"), ("previousId", "user_id"), _EVENT_ID),
}
#: AmplitudeCommonConfig, as (parent: context.location | traits.address |
#: context.traits.address, key in it, output key); in order.
COMMON = ((0, "region", "region"), (0, "latitude", "location_lat"),
          (0, "longitude", "location_lng"), (0, "dma", "dma"), (0, "country", "country"),
          (1, "country", "country"), (2, "country", "country"), (0, "city", "city"),
          (1, "city", "city"), (2, "city", "city"))
#: COMMON with each key's getter in its parent compiled once.
_COMMON_GETTERS = tuple((holder, compile_get_value(leaf), key) for holder, leaf, key in COMMON)


def _override(traits: Any, key: str) -> Any:
    """``get(message.traits, key)``: what the traits hold under an output key."""
    if traits is UNDEFINED or traits is None:
        return traits
    if type(traits) is dict and "." not in key:
        return traits.get(key, UNDEFINED)
    return get_value(traits, key)


def _apply_table(message: dict[str, Any], payload: dict[str, Any], table: tuple[Row, ...],
                 config: dict[str, Any]) -> None:
    """updateConfigProperty: a value under the output key in ``message.traits`` wins (and a
    computed field's is then deleted from the traits), else the row's source."""
    traits = message.get("traits", UNDEFINED)
    overrides = traits is not UNDEFINED and traits is not None
    memo: dict[str, Any] = {}
    for source, key, compute, plain in table:
        if overrides:
            data = _override(traits, key)
            if data is not None and data is not UNDEFINED:
                js_set(payload, key, data)
                if compute is not None and type(traits) is dict:
                    traits.pop(key, None)
                continue
        value = source(message) if compute is None else compute(message, source, config, memo)
        if not plain:
            js_set(payload, key, value)
        elif value is not UNDEFINED:  # each key once per table: nothing to delete
            payload[key] = value


_get_location = compile_get_value("context.location")
_get_address = compile_get_value("traits.address")
_get_context_address = compile_get_value("context.traits.address")


def _any_container(values: tuple[Any, ...]) -> bool:
    """Whether one of ``values`` is an object or an array (a loop: any() over a generator costs
    more than the three tests, for every event)."""
    for value in values:
        kind = type(value)
        if kind is dict or kind is list:
            return True
    return False


def _apply_common(message: dict[str, Any], payload: dict[str, Any]) -> None:
    """updateConfigProperty with validatePayload (AmplitudeCommonConfig): the traits win, else the
    first present source fills a key the payload lacks. The sources are read below their three
    parent objects, looked up once."""
    traits = message.get("traits", UNDEFINED)
    overrides = traits is not UNDEFINED and traits is not None
    holders = (_get_location(message), _get_address(message), _get_context_address(message))
    if not overrides and not _any_container(holders):
        return
    for holder, get_leaf, key in _COMMON_GETTERS:
        if overrides:
            data = _override(traits, key)
            if data is not None and data is not UNDEFINED:
                payload[key] = data
                continue
        if payload.get(key) is None:  # absent: undefined is never stored here
            parent = holders[holder]
            value = get_leaf(parent) if type(parent) is dict or type(parent) is list \
                else UNDEFINED
            if is_present(value):
                payload[key] = value


# --- message fields ---------------------------------------------------------------------------

_get_traits = compile_get_value("traits")
_get_context_traits = compile_get_value("context.traits")
_get_timestamp = compile_get_value("timestamp")
_get_original_timestamp = compile_get_value("originalTimestamp")
_get_groups = compile_get_value("integrations.Amplitude.groups")
_get_category = compile_get_value("properties.category")
_get_campaign = compile_get_value("context.campaign")
_get_initial_referrer = compile_get_value("context.page.initial_referrer")
_get_initial_domain = compile_get_value("context.page.initial_referring_domain")
_get_skip_sync = compile_get_value("integrations.Amplitude.skipUserPropertiesSync")
_get_fields_to_unset = compile_get_value("integrations.Amplitude.fieldsToUnset")
_get_unmap = compile_get_value("integrations.Amplitude.unmap")
_get_mapped = compile_get_value("context.mappedToDestination")
_get_external_type = compile_get_value("context.externalId.0.identifierType")
_get_external_id = compile_get_value("context.externalId.0.id")
_get_session_id = compile_get_value("session_id")
_get_context_session_id = compile_get_value("context.sessionId")
_get_manufacturer = compile_get_value("context.device.manufacturer")
_get_device_type = compile_get_value("context.device.type")
_get_device_id = compile_get_value("context.device.id")
_get_advertising_id = compile_get_value("context.device.advertisingId")
_get_context_ip = compile_get_value("context.ip")


def _traits(message: dict[str, Any]) -> Any:
    return _first_present(message, _get_traits, _get_context_traits)


_INTEGER = re.compile(r"-?\d+")


def _is_valid_integer(value: Any) -> bool:
    if isinstance(value, bool) or not is_defined(value):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return math.isfinite(value) and value.is_integer()
    return isinstance(value, str) and _INTEGER.fullmatch(value) is not None


def _session_id(message: dict[str, Any]) -> Any:
    """getSessionId: the root session_id (a string's last ":"-part), else context.sessionId, as
    integers; -1 when there is none."""
    session: Any = -1
    root = _get_session_id(message)
    if is_truthy(root):
        if isinstance(root, str):
            last = root.split(":")[-1]
            session = to_number(last) if _is_valid_integer(last) else -1
        else:
            session = to_number(root)
        if session != -1:
            return session
    in_context = _get_context_session_id(message)
    if is_truthy(in_context):
        session = to_number(in_context) if _is_valid_integer(in_context) else -1
    return session


def _time(message: dict[str, Any]) -> Any:
    """``new Date(getFieldValueFromMessage(message, 'timestamp')).getTime()``: 0 without one."""
    return js_date_ms(_first_present(message, _get_timestamp, _get_original_timestamp))


# --- user properties ----------------------------------------------------------------------------


def _handle_traits(traits: Any, config: dict[str, Any]) -> Any:
    """handleTraits: a copy of the traits with the configured ones moved under $add, $setOnce,
    $append and $prepend."""
    result = _clone(traits)
    for setting, action in TRAIT_OPERATIONS:
        rows = config.get(setting)
        if not is_truthy(rows):
            continue
        if not isinstance(result, dict):
            continue
        if not isinstance(rows, list):
            raise ConfigurationError(f"{setting} must be a list")
        result[action] = {}
        for row in rows:
            prop = row.get("traits", UNDEFINED) if type(row) is dict else UNDEFINED
            if prop is None or isinstance(prop, list | dict):
                continue  # a lookup the reference makes and then ignores
            if not isinstance(prop, str):
                raise SourceKeyError()
            value = get_value(result, prop)
            target = result.get(action)
            if is_truthy(target) and prop and type(target) is dict:
                target[prop] = value
                _delete_path(result, prop)
        if type(result.get(action)) is dict and not result[action]:
            del result[action]
    return result


def _user_properties_handler(message: dict[str, Any], config: dict[str, Any],
                             payload: dict[str, Any]) -> None:
    """userPropertiesHandler: the traits (address ones by name), userProperties and $unset."""
    traits = _traits(message)
    if is_truthy(traits):
        traits = _handle_traits(traits, config)
    properties = dict(payload["user_properties"])
    properties.update(spread(message.get("userProperties")))
    payload["user_properties"] = properties
    if is_truthy(traits):
        plain = type(traits) is dict
        for trait in object_keys(traits):
            if trait == "address":
                _address_traits(payload, traits)
            elif plain and _is_plain_key(trait):  # the same as set-value's, but quicker
                payload["user_properties"][trait] = traits[trait]
            else:
                js_set(payload, f"user_properties.{trait}", get_value(traits, trait))
    fields = _get_fields_to_unset(message)
    if isinstance(fields, list):
        js_set(payload, "user_properties.$unset", {to_string(f): "-" for f in fields})


def _address_traits(payload: dict[str, Any], traits: Any) -> None:
    """The address traits user_properties lacks, from ``traits.address``."""
    for key, get_address in _ADDRESS_GETTERS:
        properties = payload["user_properties"]
        if type(properties) is not dict:  # a trait path made it an array: the general way
            if not is_defined(get_value(properties, key)):
                js_set(payload, f"user_properties.{key}", get_address(traits))
            continue
        # A dict and a plain key: get-value and set-value are a dict's get, set and delete.
        if not is_defined(properties.get(key, UNDEFINED)):
            value = get_address(traits)
            if value is UNDEFINED:
                properties.pop(key, None)
            else:
                properties[key] = value


def _post_process(payload: dict[str, Any]) -> None:
    """userPropertiesPostProcess: keys an operation also names are dropped, the rest move under
    $set."""
    properties = payload["user_properties"]
    operations = [properties[op] for op in OPERATIONS if type(properties.get(op)) is dict]
    for key in [k for k in properties if k not in OPERATIONS]:
        if any(is_truthy(op.get(key)) for op in operations):
            del properties[key]
    plain = {k: v for k, v in properties.items() if k not in OPERATIONS}
    for key in plain:
        del properties[key]
    if plain:
        properties["$set"] = plain


def _clean_user_properties(payload: dict[str, Any]) -> None:
    """Undefined members dropped, as JSON.stringify drops them (the reference keeps them in the
    object: they still count as keys above)."""
    properties = payload.get("user_properties")
    if type(properties) is not dict:
        return
    for key in [k for k, v in properties.items() if v is UNDEFINED]:
        del properties[key]
    for value in properties.values():
        if type(value) is dict:
            for key in [k for k, v in value.items() if v is UNDEFINED]:
                del value[key]


# --- one message ------------------------------------------------------------------------------

_EVENT_TEMPLATE = re.compile(r"{{([^{}]+)}}")
_SUBSTITUTION = re.compile(r"\$([$&`']|\d\d?)")


def _substring(text: str, start: int, end: int) -> str:
    start = min(max(start, 0), len(text))
    end = min(max(end, 0), len(text))
    return text[min(start, end):max(start, end)]


def _replace_all(text: str, value: str) -> str:
    """``text.replaceAll(/{{([^{}]+)}}/g, value)``, with the replacement's $-patterns."""

    def substitute(match: re.Match[str]) -> str:
        def pattern(p: re.Match[str]) -> str:
            code = p.group(1)
            if code == "$":
                return "$"
            if code == "&":
                return match.group(0)
            if code == "`":
                return text[:match.start()]
            if code == "'":
                return text[match.end():]
            if code in ("1", "01"):
                return match.group(1)
            if code.startswith("1") and len(code) == 2:
                return match.group(1) + code[1]
            return p.group(0)

        return _SUBSTITUTION.sub(pattern, value)

    return _EVENT_TEMPLATE.sub(substitute, text)


def _user_event_name(message: dict[str, Any], template: Any, name: Any, what: str) -> Any:
    """The page/screen event name from the user's "{{ path }}" template."""
    if template is None or template is UNDEFINED:
        if what == "screen":  # the reference crashes; the page one has no name then
            raise ConfigurationError("userProvidedScreenEventString is required when "
                                     "useUserDefinedScreenEventName is set")
        return UNDEFINED
    if not isinstance(template, str):
        raise ConfigurationError(f"userProvided{what.title()}EventString must be a string")
    path = js_trim(_substring(template, template.find("{") + 2, template.find("}")))
    trimmed = js_trim(template)
    if trimmed == "":
        return name
    return _replace_all(trimmed, to_string(get_value(message, path)))


def _group_info(config: dict[str, Any], info: Any, traits: Any) -> Any:
    type_trait, value_trait = config.get("groupTypeTrait"), config.get("groupValueTrait")
    if not (is_truthy(type_trait) and is_truthy(value_trait)):
        return info
    group_type = get_value(traits, type_trait)
    group_value = get_value(traits, value_trait)
    if (isinstance(group_type, str) and group_type and is_truthy(group_value)
            and (isinstance(group_value, str) or (isinstance(group_value, int | float)
                                                  and not isinstance(group_value, bool)))):
        return {"group_type": group_type, "group_value": group_value, "group_properties": traits}
    raise InstrumentationError("Group call parameters are not valid")


def _request(endpoint: str, path: str, user_id: Any) -> dict[str, Any]:
    """A POST to ``endpoint``; ``user_id`` is the output's userId (UNDEFINED: no key)."""
    request = rest_request(endpoint, endpoint_path=path)
    if user_id is not UNDEFINED:
        request["userId"] = user_id
    return request


def _base_url(config: dict[str, Any]) -> str:
    return BASE_URL_EU if config.get("residencyServer") == "EU" else BASE_URL


def _process_single(message: dict[str, Any], config: dict[str, Any]) -> list[dict[str, Any]]:
    """processSingleMessage: the requests of one (possibly derived) message."""
    kind = message.get("type", UNDEFINED)
    if not isinstance(kind, str):  # the reference crashes on these
        if kind is None or kind is UNDEFINED:
            raise InstrumentationError("Event type is required")
        raise InstrumentationError("message type not supported")
    kind = kind.lower()
    root = "events"
    group_info = js_or(_get_groups(message), UNDEFINED)
    name = message.get("name", UNDEFINED)
    properties = message.get("properties", UNDEFINED)
    if kind == "identify":
        ev_type: Any = "identify"
        table = "identify"
    elif kind == "page":
        if is_truthy(config.get("useUserDefinedPageEventName")):
            template = config.get("userProvidedPageEventString", UNDEFINED)
            ev_type = _user_event_name(message, template, name, "page")
        else:
            ev_type = f"Viewed {to_string(js_or(name, _get_category(message), ''))} Page"
        page_properties = spread(properties)
        page_name = js_or(name, _get_category(message))
        if page_name is not UNDEFINED:
            page_properties["name"] = page_name
        message["properties"] = page_properties
        table = "page"
    elif kind == "screen":
        screen_name = js_or(name, message.get("event", UNDEFINED), _get_category(message))
        ev_type = f"Viewed {to_string(js_or(screen_name, ''))} Screen"
        if is_truthy(config.get("useUserDefinedScreenEventName")):
            template = config.get("userProvidedScreenEventString", UNDEFINED)
            ev_type = _user_event_name(message, template, name, "screen")
        screen_properties = spread(properties)
        if screen_name is not UNDEFINED:
            screen_properties["name"] = screen_name
        message["properties"] = screen_properties
        table = "screen"
    elif kind == "group":
        ev_type = "group"
        table = "group"
        group_info = _group_info(config, group_info, _traits(message))
    elif kind == "alias":
        ev_type = "alias"
        root = "mapping"
        table = "alias"
    elif kind == "track":
        ev_type = message.get("event", UNDEFINED)
        if lodash_is_empty(ev_type):
            raise InstrumentationError("Event not present. Please send event field")
        table = "default"
        if (type(properties) is dict and is_defined(properties.get("revenue"))
                and is_defined(properties.get("revenue_type"))):
            table = "revenue"
    else:
        raise InstrumentationError("message type not supported")
    if not is_defined(ev_type) or ev_type == "":
        raise InstrumentationError(
            "Event type is missing. Please send it under `event.type`. For page/screen events, "
            "send it under `event.name`")
    return _build(message, config, ev_type, TABLES[table], group_info, root)


def _build(message: dict[str, Any], config: dict[str, Any], ev_type: Any, table: tuple[Row, ...],
           group_info: Any, root: str) -> list[dict[str, Any]]:
    """responseBuilderSimple and nonAliasResponsebuilder."""
    if is_truthy(_get_mapped(message)):
        identifier = _get_external_type(message)
        if isinstance(identifier, str):
            js_set(_traits(message), identifier, _get_external_id(message))
        if identifier == "user_id":
            external = _get_external_id(message)
            if is_truthy(external):
                message["userId"] = external
    payload: dict[str, Any] = {}
    _apply_table(message, payload, table, config)

    campaign = js_or(_get_campaign(message), {})
    if type(campaign) is dict:
        for key in js_keys(campaign):
            campaign[f"utm_{key}"] = campaign.get(key, UNDEFINED)
            campaign.pop(key, None)
    payload["user_properties"] = {
        "initial_referrer": _get_initial_referrer(message),
        "initial_referring_domain": _get_initial_domain(message),
        **spread(campaign),
    }
    if is_truthy(_get_skip_sync(message)):
        payload["$skip_user_properties_sync"] = True

    groups: Any = UNDEFINED
    enhanced = is_truthy(config.get("enableEnhancedUserOperations"))
    if ev_type == "identify":
        payload["event_type"] = IDENTIFY_EVENT
        _user_properties_handler(message, config, payload)
    elif ev_type == "group":
        payload["event_type"] = IDENTIFY_EVENT
        if type(group_info) is dict and is_truthy(group_info.get("group_type")) \
                and is_truthy(group_info.get("group_value")):
            group_type = to_string(group_info["group_type"])
            groups = {group_type: group_info["group_value"]}
            js_set(payload, f"user_properties.{group_type}", group_info["group_value"])
    elif ev_type != "alias":
        if enhanced:
            _user_properties_handler(message, config, payload)
        js_set(payload, "event_properties", message.get("properties", UNDEFINED))
        traits = _traits(message)
        if is_truthy(traits):
            payload["user_properties"] = {**payload["user_properties"], **spread(traits)}
        payload["event_type"] = ev_type
        payload["user_id"] = message.get("userId", UNDEFINED)
        if is_truthy(message.get("isRevenue")):
            _revenue_fields(message, payload)
        groups = group_info
    if enhanced:
        _post_process(payload)
    if groups is not UNDEFINED:
        payload["groups"] = groups

    api_key = config.get("apiKey")
    base = _base_url(config)
    if ev_type == "alias":
        payload = {k: v for k, v in payload.items() if v is not UNDEFINED}
        unmap = _get_unmap(message)
        if is_truthy(unmap):
            payload["user_id"] = unmap
            payload.pop("global_user_id", None)
            payload["unmap"] = True
        alias = _request(f"{base}/usermap", "usermap", message.get("anonymousId", UNDEFINED))
        alias["body"]["FORM"] = {"api_key": api_key, root: [stringify(payload)]}
        return [alias]

    if message.get("channel") == "mobile":
        _mobile_fields(message, config, payload)
    payload["time"] = _time(message)
    user_id = message.get("userId")
    if is_truthy(user_id):
        payload["user_id"] = user_id
    payload["session_id"] = _session_id(message)
    _apply_common(message, payload)
    properties = payload.get("user_properties")
    if is_truthy(properties) and type(properties) is dict:
        properties.pop("city", None)
        properties.pop("country", None)
        address = properties.get("address")
        if type(address) is dict:
            address.pop("city", None)
            address.pop("country", None)
    if not is_truthy(payload.get("user_id")) and not is_truthy(payload.get("device_id")):
        raise InstrumentationError("Either of user ID or device ID fields must be specified")
    ip = _get_context_ip(message)
    payload["ip"] = ip if is_truthy(ip) else message.get("request_ip", UNDEFINED)
    payload["library"] = "rudderstack"
    payload = {k: v for k, v in payload.items() if v is not None and v is not UNDEFINED}
    _clean_user_properties(payload)

    request = _request(f"{base}/2/httpapi", "2/httpapi", message.get("anonymousId", UNDEFINED))
    request["headers"] = {"Content-Type": "application/json"}
    request["body"]["JSON"] = {"api_key": api_key, root: [payload],
                               "options": {"min_id_length": 1}}
    requests = [request]
    if ev_type == "group" and is_truthy(group_info):
        identification = group_info
        if type(identification) is dict:
            identification = {k: v for k, v in identification.items() if v is not UNDEFINED}
        group = _request(f"{base}/groupidentify", "groupidentify", message.get("anonymousId", UNDEFINED))
        group["body"]["FORM"] = {"api_key": api_key, "identification": [stringify(identification)]}
        requests.append(group)
    return requests


def _revenue_fields(message: dict[str, Any], payload: dict[str, Any]) -> None:
    """createRevenuePayload, and the revenue fields taken out of event_properties."""
    properties = message.get("properties")

    def prop(key: str) -> Any:
        return properties.get(key, UNDEFINED) if type(properties) is dict else UNDEFINED

    payload["productId"] = prop("product_id")
    payload["revenueType"] = js_or(prop("revenueType"), prop("revenue_type"), "Purchased")
    price = prop("price")
    if is_defined(price):
        quantity = js_or(prop("quantity"), 1)
    else:
        price, quantity = prop("revenue"), 1
    payload["price"] = price
    payload["quantity"] = quantity
    payload["revenue"] = prop("revenue")
    event_properties = payload.get("event_properties")
    if type(event_properties) is dict:
        for key in ("price", "product_id", "quantity", "revenue"):
            event_properties.pop(key, None)


def _mobile_fields(message: dict[str, Any], config: dict[str, Any],
                   payload: dict[str, Any]) -> None:
    """buildPayloadForMobileChannel: device brand and advertising ids."""
    if not is_truthy(config.get("mapDeviceBrand")):
        js_set(payload, "device_brand", _get_manufacturer(message))
    platform = _get_device_type(message)
    if not is_truthy(platform):
        return
    if is_apple_family(platform):
        js_set(payload, "idfa", _get_advertising_id(message))
        js_set(payload, "idfv", _get_device_id(message))
    elif not isinstance(platform, str):
        raise InstrumentationError("context.device.type must be a string")
    elif platform.lower() == "android":
        js_set(payload, "adid", _get_advertising_id(message))


def _revenue_events(message: dict[str, Any], config: dict[str, Any]) -> list[dict[str, Any]]:
    """trackRevenueEvent: the event itself (with its revenue, or without its products), then a
    "Product Purchased" event per product when products are tracked one by one."""
    products = message["properties"].get("products")
    has_products = isinstance(products, list) and len(products) > 0
    once, per_product = config.get("trackProductsOnce"), config.get("trackRevenuePerProduct")
    original = _clone_message(message)
    if once is False:
        if has_products:
            original["properties"].pop("products", None)
        else:
            original["isRevenue"] = True
    elif not has_products:
        original["isRevenue"] = True
    if per_product is False:
        original["isRevenue"] = True
    events = [original]
    if (per_product is True or once is False) and has_products:
        message_id = to_string(message.get("messageId", UNDEFINED))
        for counter, product in enumerate(products, 1):
            event = _clone_message(message)
            event["event"] = "Product Purchased"
            event["properties"] = product
            if per_product is True:
                event["isRevenue"] = True
            event["messageId"] = f"{message_id}-{counter}"
            events.append(event)
    return events


# --- hooks ----------------------------------------------------------------------------------------


def process(ctx: Context) -> list[dict[str, Any]]:
    """The requests for one message: revenue tracks split into their events first."""
    message = ctx.message
    config = ctx.config
    kind = message.get("type")
    if kind is not None and not isinstance(kind, str):  # the reference crashes on it
        raise InstrumentationError("message type not supported")
    # A top-level copy: the reference's own changes (userId, properties ...) stay off the job's
    # message, whose userId/anonymousId the router groups by.
    if kind is not None and kind.lower() == "track":
        properties = message.get("properties")
        if type(properties) is dict and is_defined(properties.get("revenue")):
            events = _revenue_events(message, config)
        else:
            events = [dict(message)]
    else:
        events = [dict(message)]
    if len(events) == 1:
        return _process_single(events[0], config)
    requests: list[dict[str, Any]] = []
    for event in events:
        requests.extend(_process_single(event, config))
    return requests


# --- router ---------------------------------------------------------------------------------------


def _user_key(job: Job) -> str:
    """``message.userId || message.anonymousId`` as an object key."""
    message = job.message
    user_id = message.get("userId", UNDEFINED)
    return to_string(user_id if is_truthy(user_id) else message.get("anonymousId", UNDEFINED))


def _batchable(job: Job, requests: Any) -> bool:
    meta = job.metadata_doc
    if isinstance(meta, dict) and is_truthy(meta.get("dontBatch")):
        return False
    return all(r["body"]["JSON"] for r in requests)  # a non-empty JSON body each


def _merged(chunk: list[tuple[Job, Any]]) -> Batch:
    """One /batch request for the chunk: the first request's body with every event."""
    requests = [request for _, outputs in chunk for request in outputs]
    first = requests[0]
    body = dict(first["body"]["JSON"])
    body["events"] = [event for r in requests for event in r["body"]["JSON"].get("events") or []]
    config = chunk[0][0].destination.get("Config")
    base = _base_url(config if isinstance(config, dict) else {})
    request = _request(f"{base}/batch", "batch", first.get("userId", UNDEFINED))
    request["headers"] = {"Content-Type": "application/json"}
    request["body"]["JSON"] = body
    return Batch(request=request, jobs=[j for j, _ in chunk], batched=True)


def batch(done: list[tuple[Job, Any]]) -> list[Batch]:
    """processRouterDest: per user, two or more batchable jobs share /batch requests of at most
    1000 events (a job's events stay together); other jobs (alias, group, ``dontBatch``, a lone
    batchable one) go as their own requests; sorted by smallest jobId."""
    users: dict[str, list[tuple[Job, Any]]] = {}
    for job, output in done:
        users.setdefault(_user_key(job), []).append((job, output))
    batches: list[Batch] = []
    for key in js_keys(users):  # lodash groupBy's object: integer-like keys first
        entries = users[key]
        batchable: list[tuple[Job, Any]] = []
        alone: list[tuple[Job, Any]] = []
        for entry in entries:
            (batchable if _batchable(*entry) else alone).append(entry)
        if len(batchable) > 1:
            for chunk in group_and_chunk(batchable, max_bytes=MAX_BATCH_EVENTS, size=len):
                batches.append(_merged(chunk))
        else:
            alone.extend(batchable)
        batches.extend(Batch(request=output, jobs=[job], batched=False) for job, output in alone)
    return sort_by_min_job_id(batches)
