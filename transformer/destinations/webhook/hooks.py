"""Webhook: the reference's CDK v2 workflow (procWorkflow.yaml), step by step.

The event is the body, so the job's own decoded message is reused as it: the keys the reference
leaves out of the body are popped and ``context.ip`` is set in place, no copy is made. Errors carry
the workflow wording, e.g. ``Invalid URL in destination config: Workflow: procWorkflow, Step:
validateInput, ChildStep: undefined, OriginalError: Invalid URL in destination config``;
JavaScript runtime errors of the workflow (a null ``header``, a non-string header name) are 500s.
"""

from __future__ import annotations

from typing import Any

from transformer.hooks import (
    ConfigurationError,
    Context,
    TransformationError,
    TransformerError,
    is_present,
    is_truthy,
    stringify,
    to_string,
)

_BODY_METHODS = ("POST", "PUT", "PATCH")
_PARAM_METHODS = ("GET", "DELETE")
#: The names getIntegrationsObj tries under ``message.integrations``, in order.
_INTEGRATION_NAMES = ("webhook", "Webhook", "WebHook", "WEBHOOK")
#: What JavaScript's ``String.prototype.trim`` removes.
_JS_SPACE = " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008" \
            "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_MISSING: Any = object()


class _ScriptError(TransformationError):
    """A JavaScript runtime error inside a workflow step: the reference answers 500."""

    status_code = 500


def _fail(error: type[TransformerError], step: str, message: str) -> TransformerError:
    return error(f"{message}: Workflow: procWorkflow, Step: {step}, ChildStep: undefined, "
                 f"OriginalError: {message}")


def _lodash_string(value: Any) -> str:
    """lodash ``toString`` of a non-null value (a null inside an array prints "null")."""
    if isinstance(value, list):
        return ",".join("null" if item is None else _lodash_string(item) for item in value)
    return to_string(value)


def _add_config_headers(rows: list[Any], headers: dict[str, Any]) -> None:
    """``getHashFromArray(Config.headers)`` spread over ``headers``: rows with a blank ``from``
    are skipped, names lower-cased, values kept as they are (a missing ``to`` unsets the name)."""
    for row in rows:
        if row is None:
            raise _fail(_ScriptError, "buildHeaderBlock",
                        "Cannot read properties of null (reading 'from')")
        name = row.get("from") if isinstance(row, dict) else None
        if name is None:
            continue
        if not isinstance(name, str):
            if not _lodash_string(name).strip(_JS_SPACE):
                continue
            raise _fail(_ScriptError, "buildHeaderBlock",
                        "array[fromKey].toLowerCase is not a function")
        if not name.strip(_JS_SPACE):
            continue
        name = name.lower()
        if name == "__proto__":  # assigning it sets the object's prototype: no header
            continue
        if "to" in row:
            headers[name] = row["to"]
        else:
            headers.pop(name, None)  # undefined: the key disappears from the JSON


def _is_array_index(key: str) -> bool:
    return key.isascii() and key.isdigit() and str(int(key)) == key and int(key) < 2**32 - 1


def _js_key_order(value: Any) -> Any:
    """Objects in the order JavaScript enumerates their keys (array-index keys first, ascending,
    then the others as inserted), deep, so that JSON.stringify's text is reproduced."""
    if isinstance(value, dict):
        keys = sorted((k for k in value if _is_array_index(k)), key=int)
        keys += [k for k in value if not _is_array_index(k)]
        return {k: _js_key_order(value[k]) for k in keys}
    if isinstance(value, list):
        return [_js_key_order(v) for v in value]
    return value


def _add_message_headers(header: Any, headers: dict[str, Any]) -> None:
    """The event's ``header`` (an object or an array) over ``headers``, names kept as written,
    non-string values JSON-encoded; other types are ignored and null fails as in JavaScript."""
    if isinstance(header, dict):
        items: Any = header.items()
    elif isinstance(header, list):
        items = ((str(index), value) for index, value in enumerate(header))
    elif header is None:
        raise _fail(_ScriptError, "buildHeaderBlock", "Cannot convert undefined or null to object")
    else:
        return
    for name, value in items:
        headers[name] = value if isinstance(value, str) else stringify(_js_key_order(value))


def _js_plus(left: Any, right: Any) -> Any:
    """JavaScript ``left + right`` of two JSON values that are not null."""
    if isinstance(left, dict | list):
        left = to_string(left)
    if isinstance(right, dict | list):
        right = to_string(right)
    if isinstance(left, str) or isinstance(right, str):
        return to_string(left) + to_string(right)
    return left + right  # numbers and booleans add up, as they do in JavaScript


def _flatten_json(data: Any) -> dict[str, Any]:
    """The reference's ``flattenJson``: ``a.b`` for objects, ``a[0]`` for arrays, empty
    containers and scalars (null too) kept; a scalar at the top is keyed by ""."""
    out: dict[str, Any] = {}

    def walk(value: Any, prefix: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{prefix}.{key}" if prefix else key)
            if not value and prefix:
                out[prefix] = {}
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{prefix}[{index}]")
            if not value:
                out[prefix] = []
        else:
            out[prefix] = value

    walk(data, "")
    return out


def _params(message: dict[str, Any]) -> dict[str, Any]:
    """``getPropertyParams``: flattened traits (identify) or properties."""
    if message.get("type") == "identify":
        traits = message.get("traits")
        if not is_present(traits):  # getFieldValueFromMessage: truthy, false or 0
            context = message.get("context")
            traits = context.get("traits") if isinstance(context, dict) else None
            if not is_present(traits):
                traits = None
        return _flatten_json(traits)
    if "properties" not in message:
        return {}  # flattenJson(undefined) is {"": undefined}: {} in JSON
    return _flatten_json(message["properties"])


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
        raise _fail(ConfigurationError, "validateInput", "Invalid URL in destination config")
    method = config.get("webhookMethod")
    if method is None:
        method = "POST"
    with_body = isinstance(method, str) and method in _BODY_METHODS

    headers: dict[str, Any] = {"content-type": "application/json"} if with_body else {}
    rows = config.get("headers")
    if isinstance(rows, list):
        _add_config_headers(rows, headers)
    header = message.pop("header", _MISSING)
    if header is not _MISSING:
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
        _js_plus(base, "" if suffix is None else suffix)

    user_id = message.get("anonymousId", _MISSING)
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
    if user_id is not _MISSING:  # the router keeps null, and leaves out a missing one
        output["userId"] = user_id
    return output
