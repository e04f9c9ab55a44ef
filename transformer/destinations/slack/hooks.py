"""Slack: what destination.yaml cannot say.

* ``prepare``: the message text, rendered from the user's Handlebars template (identify: the
  configured one, else "Identified {{name}}" and the traits; track: the first template whose event
  name matches, else "{{name}} did {{event}}"), the channel (legacy webhooks) or the channel's own
  webhook (modern ones), and the reference's event checks. The FORM ``payload`` is that JSON.
* ``finish``: the reference returns a list of one request (router jobs carry a list).
* Templates render with the engine's Handlebars (``render_handlebars``).
"""

from __future__ import annotations

import re
from typing import Any

from transformer.hooks import (
    UNDEFINED,
    ConfigurationError,
    Context,
    HandlebarsError,
    InstrumentationError,
    generic_value,
    is_truthy,
    js_or,
    js_prop,
    js_trim,
    object_keys,
    render_handlebars,
    stringify,
    to_string,
)

USER_NAME = "RudderStack"
ICON_URL = "https://cdn.rudderlabs.com/rudderstack.png"
IDENTIFY_TEMPLATE = "Identified {{name}}"
TRACK_TEMPLATE = "{{name}} did {{event}}"


# --- Slack ----------------------------------------------------------------------------------------


def user_name(message: dict[str, Any]) -> Any:
    """getName: the traits' name, first+last name, username, the email, else the user id."""
    traits = generic_value(message, "traits")
    first, last = js_prop(traits, "firstName"), js_prop(traits, "lastName")
    full: Any = UNDEFINED
    if is_truthy(first):
        full = f"{to_string(first)}{to_string(last)}" if is_truthy(last) else first
    user_id = message.get("userId")
    return js_or(js_prop(traits, "name"), full, js_prop(traits, "username"),
               js_prop(message.get("properties"), "email"), js_prop(traits, "email"),
               f"User {to_string(user_id)}" if is_truthy(user_id) else UNDEFINED,
               f"Anonymous user {to_string(message.get('anonymousId', UNDEFINED))}")


def _item(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        return value[key]
    return value[int(key)]


def _whitelisted_traits(config: dict[str, Any]) -> list[str]:
    """getWhiteListedTraits: the non-blank ``trait`` of each whitelistedTraitsSettings row."""
    rows = config.get("whitelistedTraitsSettings")
    if not is_truthy(rows):
        return []
    if not isinstance(rows, list):
        raise ConfigurationError("whitelistedTraitsSettings must be a list")
    traits = []
    for row in rows:
        trait = js_prop(row, "trait")
        if is_truthy(trait):
            if not isinstance(trait, str):
                raise ConfigurationError("whitelistedTraitsSettings: trait must be a string")
            if js_trim(trait):
                traits.append(js_trim(trait))
    return traits


def _describe(values: Any, only: list[str] | None = None) -> str:
    """stringifyJSON: "key: value " for each (whitelisted) key."""
    return "".join(f"{key}: {to_string(_item(values, key))} " for key in object_keys(values)
                   if not only or key in only)


def _trimmed_string(value: Any, what: str) -> bool:
    """``value?.trim()?.length > 0`` of a config string (``what`` names it)."""
    if value is None or value is UNDEFINED:
        return False
    if not isinstance(value, str):
        raise ConfigurationError(f"{what} must be a string")
    return js_trim(value) != ""


def _matches(setting: dict[str, Any], name: Any, event: Any) -> bool:
    """An event name setting matches the event: as a regular expression, or exactly."""
    if is_truthy(setting.get("eventRegex")):
        if not isinstance(event, str):
            raise InstrumentationError("event must be a string")
        try:
            return re.search(to_string(name), event) is not None
        except re.error as exc:
            raise ConfigurationError(f"Invalid regular expression: /{name}/: {exc}") from None
    return bool(setting.get("eventName") == event)


def _settings(config: dict[str, Any], key: str) -> list[Any]:
    rows = config.get(key)
    if isinstance(rows, list):
        return rows
    if isinstance(rows, str):
        return list(rows)
    raise ConfigurationError(f"{key} must be a list")


def _channel(config: dict[str, Any], event: Any, field_name: str) -> Any:
    """The first matching eventChannelSettings row's channel (or its webhook)."""
    for row in _settings(config, "eventChannelSettings"):
        if not isinstance(row, dict):
            continue
        name = row.get("eventName")
        value = row.get(field_name)
        if field_name == "eventChannel":
            usable = _trimmed_string(value, "eventChannelSettings: eventChannel")
        else:
            usable = isinstance(value, str | list) and len(value) > 0
        if _trimmed_string(name, "eventChannelSettings: eventName") and usable \
                and _matches(row, name, event):
            return value
    return None


def _event_template(config: dict[str, Any], event: Any) -> str:
    """The first matching eventTemplateSettings row's template, else the default."""
    rows = config.get("eventTemplateSettings")
    if not isinstance(rows, list):
        raise ConfigurationError("eventTemplateSettings must be a list")
    for row in rows:
        if not isinstance(row, dict):
            raise ConfigurationError("eventTemplateSettings rows must be objects")
        name, template = row.get("eventName"), row.get("eventTemplate")
        if not _trimmed_string(name, "eventTemplateSettings: eventName") \
                or not is_truthy(template):
            continue
        if not isinstance(template, str):
            raise ConfigurationError("eventTemplateSettings: eventTemplate must be a string")
        if js_trim(template) and _matches(row, name, event):
            return template
    return TRACK_TEMPLATE


def _identify(ctx: Context) -> None:
    message, config = ctx.message, ctx.config
    whitelist = _whitelisted_traits(config)
    traits = generic_value(message, "traits")
    template = config.get("identifyTemplate")
    if is_truthy(template) and not isinstance(template, str):
        raise ConfigurationError("identifyTemplate must be a string")
    if not isinstance(template, str) or not js_trim(template):
        template = IDENTIFY_TEMPLATE + "".join(f'{trait}: {{{{"{trait}"}}}} ' for trait in (
            whitelist or (object_keys(traits) if is_truthy(traits) else [])))
    values = traits if is_truthy(traits) else {}
    context = {"name": user_name(message), **_spread(values),
               "traits": _describe(values, whitelist), "traitsList": values}
    try:
        text = render_handlebars(template, context)
    except HandlebarsError as exc:  # the reference does not catch it (a 500 there)
        raise ConfigurationError(f"Something is wrong with the identify template: "
                                 f"'{template}': {exc}") from None
    _respond(ctx, {"text": text})


def _spread(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    return {key: _item(value, key) for key in object_keys(value)}


def _track(ctx: Context) -> None:
    message, config = ctx.message, ctx.config
    event = message.get("event")
    if not is_truthy(event):
        raise InstrumentationError("Event name is required")
    denied = config.get("denyListOfEvents")
    if isinstance(denied, list) and denied:
        if any(row is None for row in denied):
            raise ConfigurationError("denyListOfEvents rows must be objects")
        if event in [js_prop(row, "eventName") for row in denied]:
            raise ConfigurationError("Event is denied. Please check configuration.")
    whitelist = _whitelisted_traits(config)
    modern = config.get("incomingWebhooksType") == "modern"
    webhook = _channel(config, event, "eventChannelWebhook") if modern else None
    channel = None if modern else _channel(config, event, "eventChannel")
    template = _event_template(config, event)
    traits = generic_value(message, "traits")
    values = traits if is_truthy(traits) else {}
    properties = message.get("properties", UNDEFINED)
    context = {"name": user_name(message), "event": event, **_spread(properties),
               "properties": properties,
               "propertiesList": _describe(properties if is_truthy(properties) else {}),
               "traits": _describe(values, whitelist), "traitsList": values}
    try:
        text = render_handlebars(template, context)
    except HandlebarsError:
        raise ConfigurationError(
            f"Something is wrong with the event template: '{template}'") from None
    if modern and is_truthy(webhook):
        _respond(ctx, {"text": text}, webhook=webhook, sign=False)
    elif is_truthy(channel):
        _respond(ctx, {"channel": channel, "text": text})
    else:
        _respond(ctx, {"text": text})


def _respond(ctx: Context, payload: dict[str, Any], webhook: Any = None, sign: bool = True) -> None:
    """buildResponse: the FORM payload (signed as RudderStack by default) and its webhook."""
    if sign:
        payload = {**payload, "username": USER_NAME, "icon_url": ICON_URL}
    ctx.vars["payload"] = stringify(payload)
    ctx.vars["endpoint"] = webhook if is_truthy(webhook) else ctx.config.get("webhookUrl")


def prepare(ctx: Context) -> None:
    """The message text, channel and webhook of an identify or track call."""
    if ctx.message_type == "identify":
        _identify(ctx)
    else:
        _track(ctx)


def finish(ctx: Context, output: dict[str, Any]) -> list[dict[str, Any]]:
    """The reference answers a list of one request; no userId when the event has neither id."""
    if output.get("userId") is None:
        output.pop("userId", None)
    return [output]
