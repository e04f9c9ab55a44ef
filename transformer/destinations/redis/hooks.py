"""Redis: only identify events, turned into one of three producer payloads.

The payload's strings follow JavaScript exactly (lodash ``toString``, template literals,
``JSON.stringify``, the npm ``flat`` package), because they become Redis keys and values. Where the
reference crashes (a 500 the router would retry forever), the event or config is at fault: a 400
saying which field.
"""

from __future__ import annotations

from typing import Any

from transformer.hooks import (
    ConfigurationError,
    Context,
    InstrumentationError,
    is_blank,
    is_present,
    is_truthy,
    js_keys,
    js_trim,
    lodash_to_string,
    stringify,
    to_string,
)

_PROFILE_KEYS = ("profiles_entity", "profiles_id_type", "profiles_model")


# --- npm flat ---------------------------------------------------------------------------------------


def _flat(obj: dict[str, Any], prefix: str = "", out: dict[str, Any] | None = None) -> dict[str, Any]:
    """npm ``flat`` with ``{delimiter: ".", safe: true}``: arrays and empty objects are leaves."""
    out = {} if out is None else out
    for key in js_keys(obj):
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
        raise InstrumentationError("type must be a string")
    if not isinstance(kind, str) or kind.lower() != "identify":
        raise InstrumentationError("Only Identify calls are supported")
    if is_blank(ctx.message.get("userId")):
        raise InstrumentationError("Blank userId passed in identify event")


def redis_message(ctx: Context) -> dict[str, Any]:
    message = ctx.message
    config = ctx.destination.get("Config")
    if config is None:
        raise ConfigurationError("destination.Config is missing or null")
    config = config if isinstance(config, dict) else {}
    prefix = config.get("prefix")
    key_prefix = ""
    if not is_blank(prefix):
        if not isinstance(prefix, str):
            raise ConfigurationError("prefix must be a string")
        key_prefix = js_trim(prefix) + ":"
    use_json = is_truthy(config.get("useJSONModule"))
    context = message.get("context")
    traits = message.get("traits")
    context_traits = context.get("traits") if isinstance(context, dict) else None
    json_value = traits if is_present(traits) else context_traits if is_present(context_traits) else None

    sources = context.get("sources") if isinstance(context, dict) else None
    if isinstance(sources, dict) and all(is_truthy(sources.get(k)) for k in _PROFILE_KEYS):
        return _profiles_message(ctx, sources, use_json, json_value)

    user_key = f"{key_prefix}user:{lodash_to_string(message.get('userId'))}"
    if use_json:
        return {"key": user_key, "value": json_value}
    fields = _flat(context_traits) if isinstance(context_traits, dict) else {}
    if isinstance(traits, dict):
        flat_traits = _flat(traits)
        for key in js_keys(flat_traits):
            fields[key] = flat_traits[key]
    # Nulls and the empty objects flatten leaves behind are dropped; arrays go as JSON text.
    values = {
        key: stringify(value) if isinstance(value, list) else lodash_to_string(value)
        for key in js_keys(fields)
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
        raise InstrumentationError("a profiles event needs the job's metadata (its workspaceId)")

    def literal(doc: Any, key: str) -> str:  # `${doc.key}`: a missing key prints "undefined"
        return to_string(doc[key]) if isinstance(doc, dict) and key in doc else "undefined"

    key = ":".join((literal(metadata, "workspaceId"), literal(ctx.destination, "ID"),
                    to_string(sources["profiles_entity"]), to_string(sources["profiles_id_type"]),
                    to_string(ctx.message.get("userId"))))
    if use_json:
        return {"key": key, "path": sources["profiles_model"], "value": json_value}
    out = {"hash": key, "key": to_string(sources["profiles_model"])}
    if "traits" in ctx.message:
        out["value"] = stringify(ctx.message["traits"])
    return out
