"""HTTP: the reference's CDK v2 workflows (procWorkflow.yaml, rtWorkflow.yaml), step by step.

Every event becomes one request built from the destination config alone: ``apiUrl`` (+
``pathParams``), ``method``, an auth header, header / query-param / body mappings (``{from,
to}`` lists evaluated by ``_mappings``) and a body ``format`` (JSON, XML or FORM). The message
type does not matter. Errors carry the workflow wording, e.g. ``API URL is required. Aborting:
Workflow: procWorkflow, Step: validateInput, ChildStep: undefined, OriginalError: API URL is
required. Aborting``.

Router requests are batched (``batch``) when the first successful job's config has
``isBatchingEnabled`` and format JSON: jobs with the same endpoint, headers and params (compared
as ``JSON.stringify`` strings, key order included) go together, ``maxBatchSize`` at a time, the
bodies joined as a JSON string in ``body.JSON_ARRAY.batch``.
"""

from __future__ import annotations

import base64
import re
from typing import Any, TypeVar

from transformer.hooks import (
    Batch,
    ConfigurationError,
    Context,
    InstrumentationError,
    Job,
    TransformerError,
    empty_request,
)

from ._js import (
    UNDEFINED,
    compare,
    encode_uri_component,
    js_items,
    own_entries,
    stringify,
    to_json,
    to_str,
    truthy,
    typeof,
)
from ._jsonpath import JsonPathError, UnsupportedPath, first_value
from ._mappings import apply_mappings
from ._xml import build_xml

_T = TypeVar("_T")
_FORMATS = ("JSON", "XML", "FORM")
_CONTENT_TYPES = {"XML": "application/xml", "FORM": "application/x-www-form-urlencoded"}
_DEFAULT_MAPPING = [{"to": "$", "from": "$"}]
_REPEATED_SLASHES = re.compile(r"([^:]/)/+")


def process(ctx: Context) -> dict[str, Any]:
    config, message = ctx.config, ctx.message
    workspace_id = ctx.metadata.get("workspaceId", UNDEFINED) \
        if isinstance(ctx.metadata, dict) else UNDEFINED
    step = "validateInput"  # the workflow step running, which names the step of its errors
    try:
        _validate(config)
        method = config.get("method")
        body_format = _body_format(config)
        step = "buildHeaders"
        headers = _headers(message, config, body_format, workspace_id)
        step = "prepareParams"
        params = _params(message, config, workspace_id)
        step = "deduceEndPoint"
        endpoint = _endpoint(message, config)
        step = "prepareBody"
        body = _body(message, config, body_format, workspace_id)
    except TransformerError as exc:
        exc.step = exc.step or step
        raise
    output = empty_request()
    output["method"] = "POST" if method is None else method
    output["endpoint"] = endpoint
    output["headers"] = headers
    output["params"] = params
    output["body"][body_format or "undefined"] = body
    return output


def _validate(config: dict[str, Any]) -> None:
    auth = config.get("auth")
    checks = (
        (True, "apiUrl", "API URL is required. Aborting"),
        (auth == "basicAuth", "username", "Username is required for Basic Authentication. Aborting"),
        (auth == "bearerTokenAuth", "bearerToken",
         "Token is required for Bearer Token Authentication. Aborting"),
        (auth == "apiKeyAuth", "apiKeyName",
         "API Key Name is required for API Key Authentication. Aborting"),
        (auth == "apiKeyAuth", "apiKeyValue",
         "API Key Value is required for API Key Authentication. Aborting"),
    )
    for applies, key, message in checks:
        if applies and not truthy(config.get(key)):
            raise ConfigurationError(message)


def _body_format(config: dict[str, Any]) -> str | None:
    """``CONTENT_TYPES_MAP[format ?? "JSON"]``: JSON, XML, FORM or None for anything else."""
    value = config.get("format")
    name = "JSON" if value is None else to_str(value)
    return name if name in _FORMATS else None


def _config_value(config: dict[str, Any], key: str) -> Any:
    return config.get(key, UNDEFINED)


def _auth_headers(config: dict[str, Any]) -> dict[str, Any]:
    auth = config.get("auth")
    if auth == "basicAuth":
        credentials = f"{to_str(_config_value(config, 'username'))}:" \
                      f"{to_str(_config_value(config, 'password'))}"
        encoded = base64.b64encode(credentials.encode("utf-8", "surrogatepass")).decode("ascii")
        return {"Authorization": f"Basic {encoded}"}
    if auth == "bearerTokenAuth":
        return {"Authorization": f"Bearer {to_str(_config_value(config, 'bearerToken'))}"}
    if auth == "apiKeyAuth":
        return {to_str(_config_value(config, "apiKeyName")):
                to_str(_config_value(config, "apiKeyValue"))}
    return {}


def _headers(message: dict[str, Any], config: dict[str, Any], body_format: str | None,
             workspace_id: Any) -> dict[str, Any]:
    mapped = apply_mappings(message, _config_value(config, "headers"), workspace_id, "headers")
    if isinstance(mapped, dict):
        for key, value in js_items(mapped):
            if value is not UNDEFINED and not isinstance(value, str):
                raise InstrumentationError(
                    f'Header "{key}" has a non-string value of type "{typeof(value)}"')
    headers = _auth_headers(config)
    headers.update(own_entries(mapped))
    headers["Content-Type"] = _CONTENT_TYPES.get(body_format or "", "application/json")
    return to_json({k: v for k, v in headers.items() if v is not UNDEFINED})  # type: ignore[no-any-return]


def _params(message: dict[str, Any], config: dict[str, Any], workspace_id: Any) -> dict[str, Any]:
    mapped = apply_mappings(message, _config_value(config, "queryParams"), workspace_id,
                            "queryParams")
    if not isinstance(mapped, dict):
        return {}
    return to_json({k: v for k, v in js_items(mapped) if v is not UNDEFINED})  # type: ignore[no-any-return]


def _endpoint(message: dict[str, Any], config: dict[str, Any]) -> Any:
    api_url = config.get("apiUrl")
    path_params = config.get("pathParams")
    if not isinstance(path_params, list):
        return api_url
    segments = [encode_uri_component(to_str(_path_value(message, param, index)))
                for index, param in enumerate(path_params)]
    suffix = "/" + "/".join(segments) if segments else ""
    return _REPEATED_SLASHES.sub(r"\1", to_str(api_url) + suffix)


def _path_value(message: dict[str, Any], param: Any, index: int) -> Any:
    # Rows the reference crashes on (a 500 the router would retry forever) are config errors.
    if param is None:
        raise ConfigurationError(f"pathParams[{index}] is null")
    path = param.get("path", UNDEFINED) if isinstance(param, dict) else UNDEFINED
    if path is None or path is UNDEFINED:
        raise ConfigurationError(f"pathParams[{index}].path is required")
    if not isinstance(path, str | list):
        raise ConfigurationError(f"pathParams[{index}].path must be a string")
    if "/" in path:
        raise ConfigurationError('Path value cannot contain "/"')
    if "$" not in path:
        return path
    if isinstance(path, list):  # includes() matched an element; the query asserts a string
        raise ConfigurationError("An error occurred while querying the JSON path: we need a path")
    try:
        value = first_value(message, path)
    except UnsupportedPath as exc:
        raise ConfigurationError(f"pathParams: the JSON path {path!r} uses {exc}, "
                                 "which is not supported") from None
    except JsonPathError as exc:
        raise ConfigurationError(f"An error occurred while querying the JSON path: {exc}") from None
    if value is None or value is UNDEFINED:
        raise ConfigurationError("Path not found in the object.")
    return value


def _body(message: dict[str, Any], config: dict[str, Any], body_format: str | None,
          workspace_id: Any) -> Any:
    mappings = _DEFAULT_MAPPING if truthy(config.get("isDefaultMapping")) \
        else _config_value(config, "propertiesMapping")
    payload = _remove_null(apply_mappings(message, mappings, workspace_id, "propertiesMapping"))
    if body_format == "XML" and not _is_empty_object(payload):
        root = config.get("xmlRootKey", UNDEFINED)
        return {"payload": build_xml(payload, "root" if root is UNDEFINED else to_str(root))}
    if body_format == "FORM" and not _is_empty_object(payload):
        return {key: value if isinstance(value, str) else stringify(value)
                for key, value in own_entries(payload, holes=True)}
    return to_json(payload) if truthy(payload) else {}


def _remove_null(value: Any) -> Any:
    """``removeUndefinedAndNullRecurse``: null/undefined members go at every depth; in lists
    they leave holes (UNDEFINED here, null in JSON)."""
    if isinstance(value, dict):
        return {k: _remove_null(v) for k, v in value.items() if v is not None and v is not UNDEFINED}
    if isinstance(value, list):
        return [UNDEFINED if v is None or v is UNDEFINED else _remove_null(v) for v in value]
    return value


def _is_empty_object(value: Any) -> bool:
    """``isEmptyObject``: falsy, or without own keys."""
    return not truthy(value) or not own_entries(value, holes=True)


# --- router ---------------------------------------------------------------------------------------


def batch(done: list[tuple[Job, Any]]) -> list[Batch]:
    """Batches by (endpoint, headers, params) when the first job's config enables batching and
    its format is JSON; otherwise every job alone, unbatched."""
    config = done[0][0].destination.get("Config")
    config = config if isinstance(config, dict) else {}
    body_format = config.get("format")
    if not truthy(config.get("isBatchingEnabled")) or \
            ("JSON" if body_format is None else body_format) != "JSON":
        return [Batch(request=output, jobs=[job], batched=False) for job, output in done]
    groups: dict[str, list[tuple[Job, dict[str, Any]]]] = {}
    for job, output in done:
        key = to_str(output["endpoint"]) + stringify(output["headers"]) + stringify(output["params"])
        groups.setdefault(key, []).append((job, output))
    size = config.get("maxBatchSize")
    return [_batch(chunk) for entries in groups.values() for chunk in _chunks(entries, size)]


def _chunks(entries: list[_T], size: Any) -> list[list[_T]]:
    """In order; a new chunk when one more item would exceed ``maxBatchSize`` (compared as
    JavaScript does: ``"2"`` is 2, a non-numeric or falsy size means no limit)."""
    chunks: list[list[_T]] = [[entries[0]]]
    for entry in entries[1:]:
        if truthy(size) and compare(">", len(chunks[-1]) + 1, size):
            chunks.append([])
        chunks[-1].append(entry)
    return chunks


def _batch(chunk: list[tuple[Job, dict[str, Any]]]) -> Batch:
    first = chunk[0][1]
    bodies = [output["body"]["JSON"] for _, output in chunk
              if not _is_empty_object(output["body"]["JSON"])]
    request = {
        "body": {"JSON": {}, "JSON_ARRAY": {"batch": stringify(bodies)}, "XML": {}, "FORM": {}},
        "version": "1",
        "type": "REST",
        "method": first["method"],
        "endpoint": first["endpoint"],
        "headers": first["headers"],
        "params": first["params"],
        "files": {},
    }
    return Batch(request=request, jobs=[job for job, _ in chunk], batched=True)
