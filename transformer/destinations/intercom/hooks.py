"""Intercom: the reference's CDK v2 workflow (procWorkflow.yaml and utils.js), step by step.

The requests are assembled here because the workflow answers an already transformed request
with the message itself and validates the message type, then the API key, in its own words before
anything else, which the service's type dispatch and config.required would pre-empt. The field
tables (generic lookups as JavaScript ``??`` chains, other fallbacks as ``||`` chains) are
destination.yaml's ``tables``, built here with ``ctx.build``. Errors carry the workflow wording in
processor mode
(``...: Workflow: procWorkflow, Step: trackPayload, ChildStep: undefined, OriginalError: ...``).

Network: the reference searches the contact (v2 identify and group), creates the company, tags it
and attaches the user while transforming. The service makes no calls, so the contact is taken as
not found and those side requests are left out (see destination.yaml notes).
"""

from __future__ import annotations

import hashlib
from typing import Any

from transformer.hooks import (
    Batch,
    ConfigurationError,
    Context,
    InstrumentationError,
    Job,
    TransformationError,
    add_external_id_to_traits,
    first_present,
    flatten_json,
    generic_value,
    integrations_object,
    is_truthy,
    js_or,
    path_get,
    rest_request,
    spread,
    stringify,
    to_string,
    without_nulls,
)

BASE_ENDPOINT = "https://api.intercom.io"
BASE_EU_ENDPOINT = "https://api.eu.intercom.io"
BASE_AU_ENDPOINT = "https://api.au.intercom.io"
_SUPPORTED = ("identify", "track", "group")

_V1_USER = ("userId", "email", "phone", "name", "createdAt", "firstName", "lastName", "firstname",
            "lastname", "company")
_V2_USER = ("userId", "role", "email", "phone", "name", "avatar", "company", "ownerId", "lastName",
            "lastname", "firstName", "firstname", "createdAt", "timestamp", "lastSeenAt",
            "originalTimestamp", "unsubscribedFromEmails")
_V1_COMPANY = ("remoteCreatedAt", "monthlySpend", "industry", "website", "size", "plan", "name",
               "userId")
_V2_COMPANY = ("tags", "size", "plan", "name", "email", "userId", "website", "industry", "segments",
               "userCount", "createdAt", "sessionCount", "monthlySpend", "remoteCreatedAt")
_RESERVED_COMPANY_PROPERTIES = ("id", "name", "industry", "remove")


class _ScriptError(TransformationError):
    """A JavaScript runtime error inside a workflow step: the reference answers 500."""

    status_code = 500


class _ChildStepError(InstrumentationError):
    """An assertion in a nested workflow step, whose wording names the child step too."""

    def __init__(self, message: str, *, step: str, child_step: str) -> None:
        super().__init__(message, step=step)
        self.child_step = child_step

    def processor_message(self, implementation: str) -> str:
        return (f"{self.message}: Workflow: procWorkflow, Step: {self.step}, "
                f"ChildStep: {self.child_step}, OriginalError: {self.message}")


# --- JavaScript-flavoured lookups -----------------------------------------------------------------


_get = path_get


# --- the reference's utils ------------------------------------------------------------------------


def _headers(config: dict[str, Any], version: Any) -> dict[str, Any]:
    return {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {to_string(config.get('apiKey'))}",
        "Accept": "application/json",
        "Intercom-Version": "1.4" if version == "v1" else "2.10",
        "User-Agent": "RudderStack",
    }


def _base_endpoint(config: dict[str, Any], version: Any) -> str:
    if version == "v1":
        return BASE_ENDPOINT
    server = config.get("apiServer")
    return BASE_EU_ENDPOINT if server == "eu" else BASE_AU_ENDPOINT if server == "au" else BASE_ENDPOINT


def _lookup_field(message: dict[str, Any]) -> Any:
    """``getLookUpField``: integrations.(INTERCOM|intercom|Intercom).lookup, else "email"."""
    options = integrations_object(message, ("INTERCOM", "intercom", "Intercom"))
    lookup = options.get("lookup") if isinstance(options, dict) else None
    return "email" if lookup is None else lookup


def _name(message: dict[str, Any]) -> Any:
    """``getName``: traits.name, else "<firstName> <lastName>", else either of them."""
    name = js_or(_get(message, "traits.name"), _get(message, "context.traits.name"))
    if is_truthy(name):
        return name
    first, last = generic_value(message, "firstName"), generic_value(message, "lastName")
    if is_truthy(first) and is_truthy(last):
        return f"{to_string(first)} {to_string(last)}"
    return js_or(first, last) if is_truthy(first) or is_truthy(last) else None


def _filter_custom_attributes(payload: dict[str, Any], kind: str, version: Any,
                              message: dict[str, Any]) -> dict[str, Any] | None:
    """``filterCustomAttributes``: the custom attributes less the reserved ones (and the lookup
    field), flattened ("." for v1, "_" for v2); undefined when nothing is left."""
    lookup = _lookup_field(message)
    if kind == "user":
        reserved = [*(_V1_USER if version == "v1" else _V2_USER), to_string(lookup)]
    else:
        # `lookupField !== 'email' && lookupField`: false (the key "false") for email.
        reserved = [*(_V1_COMPANY if version == "v1" else _V2_COMPANY),
                    "false" if lookup == "email" else to_string(lookup)]
    custom = spread(payload.get("custom_attributes"))
    for key in reserved:
        custom.pop(key, None)
    if custom:
        custom = flatten_json(custom, "." if version == "v1" else "_")
    return custom or None


def _companies(payload: dict[str, Any]) -> list[dict[str, Any]] | None:
    """``getCompaniesList``: the v1 user's companies from custom_attributes.company."""
    company = _get(payload, "custom_attributes.company")
    if not is_truthy(company):
        return None
    companies: list[dict[str, Any]] = []
    if isinstance(company, dict) and (is_truthy(company.get("name")) or is_truthy(company.get("id"))):
        custom: dict[str, Any] = {}
        for key, value in company.items():
            if key not in _RESERVED_COMPANY_PROPERTIES and value is not None:
                custom[key] = stringify(value) if isinstance(value, dict | list) else value
        company_id = company.get("id")
        if not is_truthy(company_id):
            company_id = hashlib.md5(to_string(company.get("name")).encode()).hexdigest()
        item = {"company_id": company_id, "custom_attributes": custom, "name": company.get("name"),
                "industry": company.get("industry"), "remove": company.get("remove")}
        companies.append({k: v for k, v in item.items() if k in company or k in (
            "company_id", "custom_attributes")})
    return companies


def _metadata(payload: dict[str, Any]) -> dict[str, Any]:
    """``addMetadataToPayload``: money and rich-link objects kept whole, the rest flattened."""
    metadata = payload.get("metadata")
    if not is_truthy(metadata):
        return payload
    reserved: dict[str, Any] = {}
    rest: dict[str, Any] = {}
    for key, value in spread(metadata).items():
        if isinstance(value, dict) and (("amount" in value and "currency" in value)
                                        or ("url" in value and "value" in value)):
            reserved[key] = value
        else:
            rest[key] = value
    return {**payload, "metadata": {**reserved, **flatten_json(rest, ".")}}



def _response(config: dict[str, Any], version: Any, method: str, endpoint: str,
              body: dict[str, Any]) -> dict[str, Any]:
    return rest_request(endpoint, body, method=method, headers=_headers(config, version))


# --- the workflow ---------------------------------------------------------------------------------


def _retl_payload(message: dict[str, Any], version: Any) -> dict[str, Any]:
    """Step rEtlPayload: the traits, with the external id written in (and external_id)."""
    add_external_id_to_traits(message)
    payload = first_present(message, ("traits", "context.traits"))
    if not isinstance(payload, dict):
        raise _ScriptError("Cannot set properties of null (setting 'external_id')",
                           step="rEtlPayload")
    payload["external_id"] = (payload.get("user_id")
                              if version == "v2" and not is_truthy(payload.get("email")) else None)
    return payload


def _identify_v2(ctx: Context, version: Any, retl: dict[str, Any] | None) -> dict[str, Any]:
    message, config = ctx.message, ctx.config
    traits = message.get("traits")
    context_traits = _get(message, "context.traits")
    if retl is None:
        payload = ctx.build("user_v2")
        if not is_truthy(payload.get("external_id")) and is_truthy(config.get("sendAnonymousId")):
            payload["external_id"] = message.get("anonymousId")
    else:
        payload = retl
    payload["name"] = _name(message)
    custom = _get(traits, "custom_attributes") if retl is not None else context_traits
    payload["custom_attributes"] = custom if is_truthy(custom) else {}
    payload["custom_attributes"] = _filter_custom_attributes(payload, "user", version, message)
    anonymous_id = message.get("anonymousId")
    if (not is_truthy(payload.get("external_id")) and is_truthy(config.get("sendAnonymousId"))
            and is_truthy(anonymous_id)):
        payload["external_id"] = anonymous_id
    if not is_truthy(payload.get("external_id")) and not is_truthy(payload.get("email")):
        raise InstrumentationError("Either email or userId is required for Identify call",
                                   step="identifyPayloadForLatestVersion")
    # No contact search without network calls: the contact is created (POST, not PUT /<id>).
    return _response(config, version, "POST", f"{_base_endpoint(config, version)}/contacts",
                     without_nulls(payload))


def _identify_v1(ctx: Context, version: Any, retl: dict[str, Any] | None) -> dict[str, Any]:
    message, config = ctx.message, ctx.config
    traits = message.get("traits")
    context_traits = _get(message, "context.traits")
    if retl is None:
        base = ctx.build("user_v1")
        if not is_truthy(base.get("user_id")) and is_truthy(config.get("sendAnonymousId")):
            base["user_id"] = message.get("anonymousId")
    else:
        base = retl
    flag = config.get("updateLastRequestAt")
    payload = {**base, "name": _name(message),
               "custom_attributes": js_or(traits, context_traits, {}),
               "update_last_request_at": flag if isinstance(flag, bool) else True}
    payload["companies"] = _companies(payload)
    payload["custom_attributes"] = (
        None if retl is not None else _filter_custom_attributes(payload, "user", version, message))
    anonymous_id = message.get("anonymousId")
    if (not is_truthy(payload.get("user_id")) and is_truthy(config.get("sendAnonymousId"))
            and is_truthy(anonymous_id)):
        payload["user_id"] = anonymous_id
    if not is_truthy(payload.get("user_id")) and not is_truthy(payload.get("email")):
        raise InstrumentationError("Either of `email` or `userId` is required for Identify call",
                                   step="identifyPayloadForOlderVersion")
    output = _response(config, version, "POST", f"{_base_endpoint(config, version)}/users",
                       without_nulls(payload))
    if "anonymousId" in message:
        output["userId"] = anonymous_id
    return output


def _track(ctx: Context, version: Any, retl: dict[str, Any] | None) -> dict[str, Any]:
    message, config = ctx.message, ctx.config
    if retl is None:
        payload = ctx.build("track_v1" if version == "v1" else "track_v2")
        if not is_truthy(payload.get("user_id")) and is_truthy(config.get("sendAnonymousId")):
            payload["user_id"] = message.get("anonymousId")
    else:
        payload = retl
    payload = _metadata(payload)
    if not is_truthy(payload.get("event_name")):
        raise InstrumentationError("Event name is required for track call", step="trackPayload")
    if not is_truthy(payload.get("user_id")) and not is_truthy(payload.get("email")):
        raise InstrumentationError("Either email or userId is required for Track call",
                                   step="trackPayload")
    output = _response(config, version, "POST", f"{_base_endpoint(config, version)}/events",
                       without_nulls(payload))
    if version == "v1" and "anonymousId" in message:
        output["userId"] = message["anonymousId"]
    return output


def _group_v2(ctx: Context, version: Any, retl: dict[str, Any] | None) -> dict[str, Any]:
    message, config = ctx.message, ctx.config
    if not is_truthy(message.get("groupId")):
        raise _ChildStepError("groupId is required for group call",
                              step="groupPayloadForLatestVersion",
                              child_step="validateMessageAndPreparePayload")
    # The reference sends this payload uncleaned: undefined values are left out, but a null
    # (an rETL trait, external_id) or a NaN size is sent as null.
    payload = retl if retl is not None else ctx.build("company")
    traits = message.get("traits")
    payload["custom_attributes"] = traits if is_truthy(traits) else {}
    custom = _filter_custom_attributes(payload, "company", version, message)
    if custom is None:
        del payload["custom_attributes"]
    else:
        payload["custom_attributes"] = custom
    # Without a contact search the company request is the output (the reference also creates the
    # company and tags it while transforming).
    return _response(config, version, "POST", f"{_base_endpoint(config, version)}/companies",
                     payload)


def _group_v1(ctx: Context, version: Any, retl: dict[str, Any] | None) -> list[dict[str, Any]]:
    message, config = ctx.message, ctx.config
    base = retl if retl is not None else ctx.build("company")
    traits = first_present(message, ("traits", "context.traits"))
    payload = {**base, "custom_attributes": traits if is_truthy(traits) else {}}
    payload["custom_attributes"] = _filter_custom_attributes(payload, "company", version, message)
    company = _response(config, version, "POST", f"{_base_endpoint(config, version)}/companies",
                        without_nulls(payload))
    responses = [company]
    attach = _attach_user(message, config)
    if attach is not None:
        responses.append(attach)
    if "anonymousId" in message:
        for response in responses:
            response["userId"] = message["anonymousId"]
    return responses


def _attach_user(message: dict[str, Any], config: dict[str, Any]) -> dict[str, Any] | None:
    """``attachUserAndCompany``: POST /users with the group as the user's company (v1)."""
    user_id, anonymous_id = message.get("userId"), message.get("anonymousId")
    send_anonymous = is_truthy(config.get("sendAnonymousId"))
    email = _get(message, "context.traits.email")
    if not (is_truthy(anonymous_id if send_anonymous and not is_truthy(user_id) else user_id)
            or is_truthy(email)):
        return None
    body: dict[str, Any] = {}
    if is_truthy(user_id):
        body["user_id"] = user_id
    if send_anonymous and not is_truthy(user_id):
        body["user_id"] = anonymous_id
    if is_truthy(email):
        body["email"] = email
    company: dict[str, Any] = {"company_id": message.get("groupId")}
    name = _get(message, "traits.name")
    if is_truthy(name):
        company["name"] = name
    body["companies"] = [company]
    return _response(config, "v1", "POST", f"{BASE_ENDPOINT}/users", body)


def process(ctx: Context) -> dict[str, Any] | list[dict[str, Any]]:
    message, config = ctx.message, ctx.config
    if is_truthy(message.get("statusCode")):
        return message  # step checkIfProcessed: an already transformed request
    kind = message.get("type")
    if kind is not None and not isinstance(kind, str):
        raise _ScriptError("___1.toLowerCase is not a function", step="messageType")
    kind = kind.lower() if kind is not None else None
    if not is_truthy(kind):
        raise InstrumentationError("message Type is not present. Aborting", step="validateInput")
    if kind not in _SUPPORTED:
        raise InstrumentationError(f"message type {kind} is not supported", step="validateInput")
    if not is_truthy(config.get("apiKey")):
        raise ConfigurationError("Access Token is not present. Aborting", step="validateInput")
    version = config.get("apiVersion")
    version = "v2" if version is None else version
    retl = (_retl_payload(message, version)
            if is_truthy(_get(message, "context.mappedToDestination")) else None)
    if kind == "identify":
        build = _identify_v1 if version == "v1" else _identify_v2
        return build(ctx, version, retl)
    if kind == "track":
        return _track(ctx, version, retl)
    if version == "v1":
        return _group_v1(ctx, version, retl)
    return _group_v2(ctx, version, retl)


def batch(done: list[tuple[Job, Any]]) -> list[Batch]:
    """One request per job, in order; the service puts the failures after them, as the
    reference's router workflow does."""
    return [Batch(request=output, jobs=[job], batched=False) for job, output in done]
