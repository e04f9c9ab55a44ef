"""CleverTap: what destination.yaml cannot say.

* ``prepare``: for track, page and screen, the reference's trackAnonymous rule.
* ``full_name``: the profile's "<firstName> <lastName>" fallback.
* ``stringify_objects``, ``event_data``, ``charged_event_data``: the reference's
  convertObjectAndArrayToString (object and array values as JSON strings; a Charged event's
  Items must be an array of objects).
* ``unix_ts``, ``event_ts``, ``charged_ts``: a ts that is not a number becomes epoch seconds
  (null when it is not a date), as the reference's toUnixTimestamp.
* ``page_event_name``, ``screen_event_name``: the reference's Handlebars templates
  ("Web Page Viewed: {{value}}": HTML-escaped, trimmed).
* ``profile_ids``, ``event_ids``: identity or objectId, as
  Config.enableObjectIdMapping says.
* ``finish``: an identify's second request registering the device token.
* ``batch``: router requests of at most 1000 records, in input order.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from transformer.hooks import (
    JS_WHITESPACE,
    UNDEFINED,
    Batch,
    Context,
    InstrumentationError,
    Job,
    epoch_seconds,
    first_present,
    group_and_chunk,
    integrations_object,
    is_apple_family,
    is_present,
    is_truthy,
    js_get,
    object_keys,
    stringify,
    to_number,
    to_string,
)

#: The reference's batchMultiplexedEvents limit: records per router request.
MAX_BATCH_SIZE = 1000
#: Keys convertObjectAndArrayToString sends as they are.
NOT_STRINGIFIED = frozenset({"category-unsubscribe", "category-resubscribe"})
DEVICE_TOKEN_TYPES = ("chrome", "fcm", "gcm", "apns", "wns", "mpns")
#: The canonical names of the destination in an event's integrations object.
INTEGRATION_NAMES = ("clevertap", "Clevertap", "CleverTap", "CLEVERTAP")

_USER_ID_ONLY = ("userId", "traits.userId", "traits.id", "context.traits.userId",
                 "context.traits.id")
_FIRST_NAME = ("traits.firstName", "traits.firstname", "traits.first_name",
               "context.traits.firstName", "context.traits.firstname", "context.traits.first_name")
_LAST_NAME = ("traits.lastName", "traits.lastname", "traits.last_name",
              "context.traits.lastName", "context.traits.lastname", "context.traits.last_name")



def _user_id_only(message: dict[str, Any]) -> Any:
    return first_present(message, _USER_ID_ONLY)


def _user_id(message: dict[str, Any]) -> Any:
    value = _user_id_only(message)
    return value if value is not None else first_present(message, ("anonymousId",))


# --- event kind -----------------------------------------------------------------------------------


def prepare(ctx: Context) -> None:
    """Events (track, page, screen) need a userId unless Config.trackAnonymous."""
    if ctx.message_type not in ("track", "page", "screen"):
        return
    message = ctx.message
    if not is_truthy(ctx.config.get("trackAnonymous")) and not is_truthy(_user_id_only(message)):
        raise InstrumentationError("userId, not present cannot track anonymous user")


# --- profile --------------------------------------------------------------------------------------


def full_name(ctx: Context) -> dict[str, Any] | None:
    """``Name`` as "<firstName> <lastName>" when the traits name nobody but have both."""
    message = ctx.message
    if is_truthy(first_present(message, ("traits.name", "context.traits.name"))):
        return None
    first, last = first_present(message, _FIRST_NAME), first_present(message, _LAST_NAME)
    if is_truthy(first) and is_truthy(last):
        return {"Name": f"{to_string(first)} {to_string(last)}"}
    return None


def stringify_objects(value: Any, ctx: Context) -> Any:
    """convertObjectAndArrayToString: truthy object and array values as JSON strings."""
    return _stringify_values(value)


def _stringify_values(value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in object_keys(value):
        item = value[key] if isinstance(value, dict) else value[int(key)]
        if isinstance(item, dict | list) and key not in NOT_STRINGIFIED:
            item = stringify(item)
        out[key] = item
    return out


def event_data(value: Any, ctx: Context) -> Any:
    """evtData: the reference's required check ("" is missing, null the default {}), then
    objects and arrays as JSON strings. The reference checks the Items of every event whose
    evtName is "Charged": a track event so named too."""
    charged = ctx.message_type == "track" and ctx.message.get("event") == "Charged"
    return _event_data(value, charged)


def charged_event_data(value: Any, ctx: Context) -> Any:
    """The Charged event's evtData: its Items must be an array of objects."""
    return _event_data(value, True)


def _event_data(value: Any, charged: bool) -> Any:
    if value is None:
        return UNDEFINED
    if value == "":
        raise InstrumentationError('Missing required value from "properties"')
    if not is_truthy(value):
        return value
    data = _stringify_values(value)
    items = data.get("Items")
    if charged and is_truthy(items):
        # The reference parses the stringified value back: a string must hold JSON.
        if isinstance(items, str):
            try:
                items = orjson.loads(items)
            except orjson.JSONDecodeError:
                items = None
            data["Items"] = items
        if not (isinstance(items, list) and items and isinstance(items[0], dict | list | None)):
            raise InstrumentationError("Products property value must be an array of objects")
    return data


def profile_ids(ctx: Context) -> dict[str, Any]:
    """identity (the userId, anonymousId last, null when none) or, with objectId mapping,
    objectId (the anonymousId) else identity (the userId)."""
    message = ctx.message
    if not is_truthy(ctx.config.get("enableObjectIdMapping")):
        return {"identity": _user_id(message)}
    anonymous_id = message.get("anonymousId")
    if is_truthy(anonymous_id):
        return {"objectId": anonymous_id}
    user_id = _user_id_only(message)
    return {"identity": user_id} if is_truthy(user_id) else {}


def event_ids(ctx: Context) -> dict[str, Any]:
    """An event's identity (the userId, anonymousId last) or, with objectId mapping, objectId
    (the anonymousId) else identity (the userId)."""
    message = ctx.message
    if not is_truthy(ctx.config.get("enableObjectIdMapping")):
        user_id = _user_id(message)
        return {} if user_id is None else {"identity": user_id}
    anonymous_id = message.get("anonymousId")
    if is_truthy(anonymous_id):
        return {"objectId": anonymous_id}
    user_id = _user_id_only(message)
    if is_truthy(user_id):
        return {"identity": user_id}
    raise InstrumentationError("Unable to process without anonymousId or userId")


# --- ts -------------------------------------------------------------------------------------------


def unix_ts(value: Any, ctx: Context) -> Any:
    """A truthy ts that is not a number (Number(ts) falsy) as epoch seconds, None (JSON null)
    when it is not a date; anything else as it is."""
    if not is_truthy(value) or is_truthy(to_number(value)):
        return value
    return epoch_seconds(to_string(value) if isinstance(value, list) else value)


def event_ts(value: Any, ctx: Context) -> Any:
    """An event's properties.ts: sent only when present, then as unix_ts."""
    return unix_ts(value, ctx) if is_present(value) else UNDEFINED


def charged_ts(value: Any, ctx: Context) -> Any:
    """The Charged event's properties.ts: a null is left out, "" sent as it is."""
    return UNDEFINED if value is None else unix_ts(value, ctx)


# --- event names ----------------------------------------------------------------------------------

_HTML_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;",
                 "`": "&#x60;", "=": "&#x3D;"}
_HTML_UNSAFE = re.compile(r"[&<>\"'`=]")


def _handlebars(prefix: str, value: Any) -> str:
    """``Handlebars.compile("<prefix>{{value}}")({value}).trim()``, as the reference's mapping
    templates render: the value HTML-escaped, the result trimmed."""
    text = _HTML_UNSAFE.sub(lambda m: _HTML_ESCAPES[m.group(0)], to_string(value))
    return (prefix + text).strip(JS_WHITESPACE)


def page_event_name(value: Any, ctx: Context) -> str:
    return _handlebars("Web Page Viewed: ", value)


def screen_event_name(value: Any, ctx: Context) -> str:
    return _handlebars("Screen Viewed: ", value)


# --- device token ---------------------------------------------------------------------------------


def finish(ctx: Context, output: dict[str, Any]) -> dict[str, Any] | list[dict[str, Any]]:
    """With objectId mapping, a mobile identify with an anonymousId and a device token also
    registers the token, in a second request."""
    message = ctx.message
    if ctx.message_type != "identify" or not is_truthy(ctx.config.get("enableObjectIdMapping")):
        return output
    os_name = js_get(message, "context.os.name")
    if is_truthy(os_name):
        if not isinstance(os_name, str):  # the reference crashes lower-casing it
            raise InstrumentationError("context.os.name must be a string")
        os_name = os_name.lower()
    anonymous_id = message.get("anonymousId")
    token = js_get(message, "context.device.token")
    if not is_truthy(anonymous_id) or not is_truthy(token) or (
            os_name != "android" and not is_apple_family(os_name)):
        return output
    integration = _integration(message)
    token_type = integration.get("deviceTokenType") if isinstance(integration, dict) else None
    if not (is_truthy(token_type) and token_type in DEVICE_TOKEN_TYPES):
        token_type = "fcm" if os_name == "android" else "apns"
    keys = integration.get("chromeKeys") if isinstance(integration, dict) else None
    record = {"type": "token", "tokenData": {"id": token, "type": token_type, "keys": keys},
              "objectId": anonymous_id}
    body = {"JSON": without_empty({"d": [record]}), "JSON_ARRAY": {}, "XML": {}, "FORM": {}}
    return [output, {**output, "body": body}]


def _integration(message: dict[str, Any]) -> Any:
    return integrations_object(message, INTEGRATION_NAMES)


def without_empty(value: Any) -> Any:
    """The reference's removeUndefinedNullValuesAndEmptyObjectArray: nulls, and objects and
    arrays left empty, removed at every depth ({} for the whole when nothing is left)."""
    cleaned = _clean(value)
    return {} if cleaned is None else cleaned


def _clean(value: Any) -> Any:
    if isinstance(value, list):
        items = [item for item in map(_clean, value) if item is not None]
        return items or None
    if isinstance(value, dict):
        members = {k: item for k, item in ((k, _clean(v)) for k, v in value.items())
                   if item is not None}
        return members or None
    return value


# --- router ---------------------------------------------------------------------------------------


def _records(output: Any) -> int:
    return len(output) if isinstance(output, list) else 1


def batch(done: list[tuple[Job, Any]]) -> list[Batch]:
    """The reference's batchMultiplexedEvents: jobs in input order, a new request when the next
    job's records would take it over 1000; each request is {d: [records]} sent to the endpoint
    and with the headers of its first job's destination."""
    batches = []
    for chunk in group_and_chunk(done, max_bytes=MAX_BATCH_SIZE, size=_records):
        records = [request["body"]["JSON"]["d"][0] for _, output in chunk
                   for request in (output if isinstance(output, list) else [output])]
        first = chunk[0][1][0] if isinstance(chunk[0][1], list) else chunk[0][1]
        request = {
            "version": "1", "type": "REST", "method": "POST", "endpoint": first["endpoint"],
            "headers": first["headers"], "params": {},
            "body": {"JSON": {"d": records}, "JSON_ARRAY": {}, "XML": {}, "FORM": {}},
            "files": {}, "batched": True,
        }
        batches.append(Batch(request=request, jobs=[job for job, _ in chunk], batched=False))
    return batches
