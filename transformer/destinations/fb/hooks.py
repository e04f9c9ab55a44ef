"""Facebook App Events: what destination.yaml cannot say.

* ``prepare``: the device check, the event name and the custom event (``custom_events[0]``: log
  time, event name, the properties with Facebook's names and types), rejecting what the reference
  rejects, in its order.
* ``extinfo``: the extended device info array.
* ``hash_text``, ``hash_digits``, ``hash_gender``, ``hash_birth_date``, ``hash_city``: the user
  data normalisation and hashing of the reference's sanity check (``apply`` modifiers).
* ``finish``: anon_id only when nothing else identifies the user, and the reference's error when
  nothing does.
"""

from __future__ import annotations

import math
import re
from typing import Any

from transformer.hooks import (
    APPLE_FAMILY,
    UNDEFINED,
    Context,
    InstrumentationError,
    UnexpectedError,
    is_truthy,
    js_date_ms,
    js_set,
    js_trim,
    object_keys,
    parse_date,
    parse_float,
    parse_int,
    path_get,
    sha256_binary,
    to_fixed,
    to_string,
)

#: Property key -> (the reference's path name, Facebook's key, the JavaScript type required).
PROPERTIES = {
    "revenue": ("properties.revenue", "_valueToSum", "number"),
    "currency": ("properties.currency", "fb_currency", "string"),
    "name": ("properties.name", "fb_description", "string"),
    "products": ("properties.products.sub.product_id", "fb_content_id", "string"),
    "category": ("properties.category", "fb_content_type", "string"),
    "query": ("properties.query", "fb_search_string", "string"),
    "quantity": ("properties.quantity", "fb_num_items", "number"),
}
#: Keys every JavaScript object answers to (the reference's lookups find these too).
_OBJECT_MEMBERS = frozenset({
    "constructor", "__defineGetter__", "__defineSetter__", "hasOwnProperty", "__lookupGetter__",
    "__lookupSetter__", "isPrototypeOf", "propertyIsEnumerable", "toString", "valueOf",
    "__proto__", "toLocaleString"})
NAME_PATTERN = "^[0-9a-zA-Z_][0-9a-zA-Z _-]{0,39}$"
_NAME = re.compile(NAME_PATTERN[1:-1])
_NOT_NAME_CHAR = re.compile(r"[^0-9A-Za-z_ -]")
_NON_DIGITS = re.compile(r"[^0-9]")


def _valid_name(value: Any) -> bool:
    """``new RegExp(NAME_PATTERN).test(value)`` (the value as a string)."""
    return _NAME.fullmatch(to_string(value)) is not None


# --- prepare: device, event name, custom event ----------------------------------------------------


def _sdk(message: dict[str, Any]) -> str:
    """extinfo's version: a2 for Android, i2 for Apple devices; others are rejected."""
    device_type = path_get(message, "context.device.type")
    if is_truthy(device_type) and not isinstance(device_type, str):
        raise UnexpectedError("sourceSDK.toLowerCase is not a function")
    name = device_type.lower() if is_truthy(device_type) else ""
    if name == "android":
        return "a2"
    if name in APPLE_FAMILY:
        return "i2"
    raise InstrumentationError('Extended device information i.e, "context.device.type" is required')


def _invalid_name(name: Any) -> InstrumentationError:
    return InstrumentationError(
        f"Event name {to_string(name)} is not a valid FB APP event name.It must match the regex "
        f"{NAME_PATTERN}.")


def _event_name(ctx: Context) -> Any:
    """The Facebook event name of a track, screen or page event (UNDEFINED: none)."""
    message = ctx.message
    kind = message.get("type")
    if kind == "track":
        # The event's name in the table, else the event as it is (even null or missing).
        event = message.get("event", UNDEFINED)
        name = ctx.build("event").get("name", event)
        if not _valid_name(name):
            raise _invalid_name(name)
        return name
    if kind == "screen":
        properties = message.get("properties", UNDEFINED)
        if properties is None or properties is UNDEFINED:
            raise UnexpectedError("Cannot destructure property 'name' of 'message.properties' as "
                                  f"it is {to_string(properties)}.")
        screen = properties.get("name") if isinstance(properties, dict) else None
        if not is_truthy(screen) or not _valid_name(screen):
            return "Viewed Screen"
        name = f"Viewed {to_string(screen)} Screen"
        if not _valid_name(name):
            raise _invalid_name(name)
        return name
    if kind == "page":
        return "Viewed Page"
    raise InstrumentationError(f"Message type {to_string(kind)} not supported")


def prepare(ctx: Context) -> None:
    """Checks the device and the event, and builds ``custom_events`` (var ``custom_events``)."""
    message = ctx.message
    ctx.vars["sdk"] = _sdk(message)
    custom: dict[str, Any] = {}
    if is_truthy(message.get("timestamp")):
        custom["_logTime"] = message["timestamp"]
    if is_truthy(message.get("event")):
        custom["_eventName"] = message["event"]
    js_set(custom, "_eventName", _event_name(ctx))
    properties = message.get("properties")
    if is_truthy(properties):
        _add_properties(message, properties, custom)
    custom["_logTime"] = js_date_ms(custom.get("_logTime", UNDEFINED))
    ctx.vars["custom_events"] = [custom]


def _item(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        return value[key]
    return value[int(key)]


def _add_properties(message: dict[str, Any], properties: Any, custom: dict[str, Any]) -> None:
    """processEventTypeGeneric: the properties under Facebook's keys (type-checked) or their
    own keys cleaned of what Facebook rejects."""
    if isinstance(properties, dict) and is_truthy(properties.get("revenue")) \
            and not is_truthy(properties.get("currency")):
        raise InstrumentationError("If properties.revenue is present, properties.currency is "
                                   "required.")
    for key in object_keys(properties):
        cleaned = key
        if not _valid_name(key):
            cleaned = _NOT_NAME_CHAR.sub("", key)
            if len(key) > 40:
                cleaned = key[:40]
            if not cleaned:
                raise InstrumentationError(
                    f"The property key {key} has only non-alphanumeric characters.A property key "
                    "must be an alphanumeric string and have atmost 40 characters.")
        if key in PROPERTIES and isinstance(properties, dict):
            path, fb_key, wanted = PROPERTIES[key]
            if key == "products":
                custom[fb_key] = [_typed(item, path, wanted)
                                  for item in _product_ids(properties[key])]
            else:
                js_set(custom, fb_key, _typed(properties[key], path, wanted))
        elif key in _OBJECT_MEMBERS:
            raise UnexpectedError("rudderEventPath.includes is not a function")
        else:
            js_set(custom, cleaned, _item(properties, key))


def _product_ids(products: Any) -> list[Any]:
    """``get(products[i], "product_id")`` for i below products.length (get-value returns a
    value that is not an object itself)."""
    if products is None:
        raise UnexpectedError("Cannot read properties of null (reading 'length')")
    if isinstance(products, list | str):
        items = list(products)
    elif isinstance(products, dict) and isinstance(products.get("length"), int | float) \
            and not isinstance(products.get("length"), bool):
        count = math.ceil(products["length"]) if math.isfinite(products["length"]) else 0
        items = [products.get(str(i), UNDEFINED) for i in range(max(count, 0))]
    else:
        items = []
    return [item.get("product_id", UNDEFINED) if isinstance(item, dict)
            else UNDEFINED if isinstance(item, list) else item for item in items]


def _typed(value: Any, path: str, wanted: str) -> Any:
    """The value when ``typeof value`` is the type Facebook wants, else the reference's error."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if (is_number if wanted == "number" else isinstance(value, str)):
        return value
    raise InstrumentationError(
        f"Value of {path} is not of valid type. It should be of type {wanted}")


# --- dates ----------------------------------------------------------------------------------------


def _date_in_format(value: Any) -> str:
    """The reference's getDateInFormat (with its bug: a two-digit month or day gets a leading
    0, a one-digit one does not)."""
    ms = js_date_ms(value)
    moment = None if isinstance(ms, float) else parse_date(ms)
    if moment is None:
        return "NaN0NaN0NaN"
    month, day = str(moment.month), str(moment.day)
    return str(moment.year) + (month if len(month) == 1 else f"0{month}") + \
        (day if len(day) == 1 else f"0{day}")


# --- extinfo --------------------------------------------------------------------------------------

_EXTINFO_PATHS = (
    "context.app.namespace", "context.app.build", "context.app.version", "context.os.version",
    "context.device.model", "context.locale", "context.abv_timezone", "context.network.carrier",
    "context.screen.width", "context.screen.height", "context.screen.density",
    "context.cpu_cores", "context.ext_storage_size", "context.avl_storage_size",
    "context.timezone",
)
_EXTINFO_DEFAULTS = ("", "", "", "", "", "", "", "", "", 0, 0, "", 0, 0, 0, "")
_NUMBERS = frozenset({9, 10, 12, 13, 14})
_DENSITY = 11


def extinfo(ctx: Context) -> list[Any]:
    """The 16 values of Facebook's extinfo: version, package, build, version name, OS version,
    model, locale, time zone abbreviation, carrier, screen width, height, density (2 decimals),
    CPU cores, storage, free storage (integers), time zone."""
    out = list(_EXTINFO_DEFAULTS)
    out[0] = ctx.vars["sdk"]
    message = ctx.message
    for index, path in enumerate(_EXTINFO_PATHS, start=1):
        value = path_get(message, path)
        if not is_truthy(value):
            continue
        if index == _DENSITY:
            number = parse_float(value)
            value = None if _nan(number) else to_fixed(number, 2)
        elif index in _NUMBERS:
            number = parse_int(value)
            value = None if _nan(number) else number
        if is_truthy(value):
            out[index] = value
    return out


def _nan(number: Any) -> bool:
    return isinstance(number, float) and math.isnan(number)


# --- user data ------------------------------------------------------------------------------------


def hash_text(value: Any, ctx: Context) -> Any:
    """A string trimmed, lower-cased and hashed; another value is sent as it is."""
    return sha256_binary(js_trim(value).lower()) if isinstance(value, str) else value


def hash_digits(value: Any, ctx: Context) -> Any:
    """Phone and zip: the digits without leading zeros, hashed (the value as it is when no digit
    is left)."""
    if not isinstance(value, str):
        raise UnexpectedError("clonedUpdatedEvent[prop].replace is not a function")
    digits = _NON_DIGITS.sub("", value).lstrip("0")
    return sha256_binary(digits) if digits else value


def hash_gender(value: Any, ctx: Context) -> Any:
    """"f" for female, else "m", hashed; a value that is no string is dropped."""
    if not isinstance(value, str):
        return None
    return sha256_binary("f" if js_trim(value).lower() == "female" else "m")


def hash_birth_date(value: Any, ctx: Context) -> Any:
    return sha256_binary(_date_in_format(value))


def hash_city(value: Any, ctx: Context) -> Any:
    """Trimmed, lower-cased, without spaces, hashed."""
    if not isinstance(value, str):
        raise UnexpectedError("clonedUpdatedEvent[prop].trim is not a function")
    return sha256_binary(js_trim(value).lower().replace(" ", ""))


_TEXT_USER_DATA = ("ud[em]", "ud[fn]", "ud[ln]", "ud[st]")
_OTHER_USER_DATA = ("ud[ph]", "ud[zp]", "ud[ge]", "ud[db]", "ud[ct]")


def finish(ctx: Context, output: dict[str, Any]) -> dict[str, Any]:
    """anon_id only when neither user data nor an advertising id identify the user; an event
    with none of the three is rejected."""
    form = output["body"]["FORM"]
    known = any(isinstance(form.get(key), str) for key in _TEXT_USER_DATA) or \
        any(key in form for key in _OTHER_USER_DATA)
    if known or is_truthy(form.get("advertiser_id")):
        form.pop("anon_id", None)
    elif not is_truthy(form.get("anon_id")):
        raise InstrumentationError("Either context.device.advertisingId or traits or anonymousId "
                                   "must be present for all events")
    output["statusCode"] = 200
    return output
