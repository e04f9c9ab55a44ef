"""Redis: only identify events, turned into one of three producer payloads.

The payload's strings follow JavaScript exactly (lodash ``toString``, template literals,
``JSON.stringify``, the npm ``flat`` package), because they become Redis keys and values. Where the
reference crashes, an UnexpectedError carries its JavaScript message (a 500 tagged as it tags them).
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from transformer.hooks import (
    Context,
    InstrumentationError,
    UnexpectedError,
    is_present,
    is_truthy,
    stringify,
)

#: What JavaScript's ``String.prototype.trim`` removes.
_JS_SPACE = " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008" \
            "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_PROFILE_KEYS = ("profiles_entity", "profiles_id_type", "profiles_model")


# --- JavaScript value formatting ------------------------------------------------------------


def _js_number(value: float) -> str:
    """``Number.prototype.toString()``: shortest digits, exponent only below 1e-6 or from 1e21."""
    if isinstance(value, int) and abs(value) <= 2**53:
        return str(value)
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    parts = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, parts.digits))
    k, n = len(digits), int(parts.exponent) + len(digits)
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = f"{digits[:n]}.{digits[n:]}"
    elif -6 < n <= 0:
        text = f"0.{'0' * -n}{digits}"
    else:
        mantissa = f"{digits[0]}.{digits[1:]}" if k > 1 else digits
        text = f"{mantissa}e{'+' if n > 0 else '-'}{abs(n - 1)}"
    return sign + text


def _js_string(value: Any) -> str:
    """``String(value)``, as a template literal prints it."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _js_number(value)
    if isinstance(value, list):
        return ",".join("" if item is None else _js_string(item) for item in value)
    return "[object Object]"


def _lodash_string(value: Any) -> str:
    """lodash ``toString``: null -> "", -0 -> "-0", a null inside an array -> "null"."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join("null" if item is None else _lodash_string(item) for item in value)
    if isinstance(value, float) and value == 0 and math.copysign(1, value) < 0:
        return "-0"
    return _js_string(value)


def _is_blank(value: Any) -> bool:
    """The reference's ``isEmpty``: nothing left of lodash ``toString`` once trimmed."""
    return _lodash_string(value).strip(_JS_SPACE) == ""


def _is_index(key: str) -> bool:
    return key.isascii() and key.isdigit() and (key == "0" or key[0] != "0") and int(key) < 2**32 - 1


def _js_keys(obj: dict[str, Any]) -> list[str]:
    """An object's keys in JavaScript order: array indexes ascending, then insertion order."""
    indexes = sorted((k for k in obj if _is_index(k)), key=int)
    return indexes + [k for k in obj if not _is_index(k)] if indexes else list(obj)


def _js_json(value: Any) -> str:
    """``JSON.stringify(value)`` (compact, numbers and key order as Node prints them)."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{stringify(k)}:{_js_json(value[k])}" for k in _js_keys(value)) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_js_json(item) for item in value) + "]"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _js_number(value) if math.isfinite(value) else "null"
    return stringify(value)


def _flat(obj: dict[str, Any], prefix: str = "", out: dict[str, Any] | None = None) -> dict[str, Any]:
    """npm ``flat`` with ``{delimiter: ".", safe: true}``: arrays and empty objects are leaves."""
    out = {} if out is None else out
    for key in _js_keys(obj):
        value = obj[key]
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and value:
            _flat(value, path, out)
        else:
            out[path] = value
    return out


# --- hooks ----------------------------------------------------------------------------------


def prepare(ctx: Context) -> None:
    kind = ctx.message.get("type")
    if is_truthy(kind) and not isinstance(kind, str):
        raise UnexpectedError("message.type.toLowerCase is not a function")
    if not isinstance(kind, str) or kind.lower() != "identify":
        raise InstrumentationError("Only Identify calls are supported")
    if _is_blank(ctx.message.get("userId")):
        raise InstrumentationError("Blank userId passed in identify event")


def redis_message(ctx: Context) -> dict[str, Any]:
    message = ctx.message
    config = ctx.destination.get("Config")
    if config is None:
        state = "null" if "Config" in ctx.destination else "undefined"
        raise UnexpectedError(
            f"Cannot destructure property 'prefix' of 'destination.Config' as it is {state}.")
    config = config if isinstance(config, dict) else {}
    prefix = config.get("prefix")
    key_prefix = ""
    if not _is_blank(prefix):
        if not isinstance(prefix, str):
            raise UnexpectedError("prefix.trim is not a function")
        key_prefix = prefix.strip(_JS_SPACE) + ":"
    use_json = is_truthy(config.get("useJSONModule"))
    context = message.get("context")
    traits = message.get("traits")
    context_traits = context.get("traits") if isinstance(context, dict) else None
    json_value = traits if is_present(traits) else context_traits if is_present(context_traits) else None

    sources = context.get("sources") if isinstance(context, dict) else None
    if isinstance(sources, dict) and all(is_truthy(sources.get(k)) for k in _PROFILE_KEYS):
        return _profiles_message(ctx, sources, use_json, json_value)

    user_key = f"{key_prefix}user:{_lodash_string(message.get('userId'))}"
    if use_json:
        return {"key": user_key, "value": json_value}
    fields = _flat(context_traits) if isinstance(context_traits, dict) else {}
    if isinstance(traits, dict):
        flat_traits = _flat(traits)
        for key in _js_keys(flat_traits):
            fields[key] = flat_traits[key]
    # Nulls and the empty objects flatten leaves behind are dropped; arrays go as JSON text.
    values = {
        key: _js_json(value) if isinstance(value, list) else _lodash_string(value)
        for key in _js_keys(fields)
        if (value := fields[key]) is not None and not isinstance(value, dict)
    }
    if not values:
        raise InstrumentationError("context or context.traits or traits is empty")
    return {"key": user_key, "fields": values}


def _profiles_message(ctx: Context, sources: dict[str, Any], use_json: bool,
                      json_value: Any) -> dict[str, Any]:
    """A profiles (RETL) model row: keyed by workspace, destination, entity, id type and user."""
    metadata = ctx.metadata
    if metadata is None:
        raise UnexpectedError("Cannot destructure property 'workspaceId' of 'metadata' as it is undefined.")

    def literal(doc: Any, key: str) -> str:  # `${doc.key}`: a missing key prints "undefined"
        return _js_string(doc[key]) if isinstance(doc, dict) and key in doc else "undefined"

    key = ":".join((literal(metadata, "workspaceId"), literal(ctx.destination, "ID"),
                    _js_string(sources["profiles_entity"]), _js_string(sources["profiles_id_type"]),
                    _js_string(ctx.message.get("userId"))))
    if use_json:
        return {"key": key, "path": sources["profiles_model"], "value": json_value}
    out = {"hash": key, "key": _js_string(sources["profiles_model"])}
    if "traits" in ctx.message:
        out["value"] = _js_json(ctx.message["traits"])
    return out
