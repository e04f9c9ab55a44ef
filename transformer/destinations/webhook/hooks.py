"""Webhook: the reference's CDK v2 workflow (procWorkflow.yaml), step by step.

The event is the body, so the job's own decoded message is reused as it: the keys the reference
leaves out of the body are popped and ``context.ip`` is set in place, no copy is made. Errors name
their workflow step, which the processor's message carries (``Invalid URL in destination config:
Workflow: procWorkflow, Step: validateInput, ChildStep: undefined, OriginalError: ...``). Where
the reference crashes (a null ``header``, a non-string header name), the event or config is at
fault: a 400 saying so, not a 500 the router would retry forever.
"""

from __future__ import annotations

from typing import Any

from transformer.hooks import (
    UNDEFINED,
    ConfigurationError,
    Context,
    InstrumentationError,
    flatten_json,
    hash_from_array,
    is_present,
    is_truthy,
    js_add,
    stringify,
)

_BODY_METHODS = ("POST", "PUT", "PATCH")
_PARAM_METHODS = ("GET", "DELETE")
#: The names getIntegrationsObj tries under ``message.integrations``, in order.
_INTEGRATION_NAMES = ("webhook", "Webhook", "WebHook", "WEBHOOK")


def _add_config_headers(rows: list[Any], headers: dict[str, Any]) -> None:
    """``getHashFromArray(Config.headers)`` spread over ``headers``: names lower-cased, values
    kept as they are (a row without ``to`` unsets the name, as undefined does in JSON)."""
    table = hash_from_array(rows, lower_keys=True, name="headers", step="buildHeaderBlock")
    for name, value in table.items():
        if value is UNDEFINED:
            headers.pop(name, None)
        else:
            headers[name] = value


def _add_message_headers(header: Any, headers: dict[str, Any]) -> None:
    """The event's ``header`` (an object or an array) over ``headers``, names kept as written,
    non-string values JSON-encoded; other types are ignored, null is rejected."""
    if isinstance(header, dict):
        items: Any = header.items()
    elif isinstance(header, list):
        items = ((str(index), value) for index, value in enumerate(header))
    elif header is None:
        raise InstrumentationError("header must be an object of header names, not null",
                                   step="buildHeaderBlock")
    else:
        return
    for name, value in items:
        headers[name] = value if isinstance(value, str) else stringify(value)


def _params(message: dict[str, Any]) -> dict[str, Any]:
    """``getPropertyParams``: flattened traits (identify) or properties."""
    if message.get("type") == "identify":
        traits = message.get("traits")
        if not is_present(traits):  # getFieldValueFromMessage: truthy, false or 0
            context = message.get("context")
            traits = context.get("traits") if isinstance(context, dict) else None
            if not is_present(traits):
                traits = None
        return flatten_json(traits)
    return flatten_json(message.get("properties", UNDEFINED))


def _integration_options(message: dict[str, Any]) -> dict[str, Any] | None:
    integrations = message.get("integrations")
    if not isinstance(integrations, dict):
        return None
    for name in _INTEGRATION_NAMES:
        options = integrations.get(name)
        if options is not None and is_truthy(options):
            return options if isinstance(options, dict) else None
    return None


def process(ctx: Context) -> dict[str, Any]:
    message = ctx.message
    status = message.get("statusCode")
    if status is not None and is_truthy(status):
        return message  # already a request (checkIfProcessed): passed through unchanged
    config = ctx.config
    url = config.get("webhookUrl")
    if not is_truthy(url):
        raise ConfigurationError("Invalid URL in destination config", step="validateInput")
    method = config.get("webhookMethod")
    if method is None:
        method = "POST"
    with_body = isinstance(method, str) and method in _BODY_METHODS

    headers: dict[str, Any] = {"content-type": "application/json"} if with_body else {}
    rows = config.get("headers")
    if isinstance(rows, list):
        _add_config_headers(rows, headers)
    header = message.pop("header", UNDEFINED)
    if header is not UNDEFINED:
        _add_message_headers(header, headers)

    # fullPath, appendPath and header never reach the body, whatever the method.
    options = _integration_options(message)
    base = message.pop("fullPath", None)
    if base is None and options is not None:
        base = options.get("fullPath")
    suffix = message.pop("appendPath", None)
    if suffix is None and options is not None:
        suffix = options.get("appendPath")
    if base is None:
        base = url
    endpoint = base if suffix is None and isinstance(base, str) else \
        js_add(base, "" if suffix is None else suffix)

    user_id = message.get("anonymousId", UNDEFINED)
    params: dict[str, Any] = {}
    body: dict[str, Any] = {}
    if with_body:
        context = message.get("context")
        ip = context.get("ip") if isinstance(context, dict) else None
        if ip is None:
            ip = message.get("request_ip")
        if is_truthy(ip):
            if isinstance(context, dict):
                context["ip"] = ip
            elif not is_truthy(context):
                message["context"] = {"ip": ip}
            # any other context (a string, an array) silently keeps no ip, as in JavaScript
        for key in [key for key, value in message.items() if value is None]:
            del message[key]
        body = message
    elif isinstance(method, str) and method in _PARAM_METHODS:
        params = _params(message)

    output: dict[str, Any] = {
        "version": "1",
        "type": "REST",
        "method": method,
        "endpoint": endpoint,
        "headers": headers,
        "params": params,
        "body": {"JSON": body, "JSON_ARRAY": {}, "XML": {}, "FORM": {}},
        "files": {},
    }
    if user_id is not UNDEFINED:  # the router keeps null, and leaves out a missing one
        output["userId"] = user_id
    return output
