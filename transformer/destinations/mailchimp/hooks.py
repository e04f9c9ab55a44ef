"""Mailchimp: what destination.yaml cannot say.

* ``prepare``: the audience (integrations listId, context.MailChimp.listId, Config.audienceId)
  and the list member's URL (``member_url``: md5 of the email).
* ``check_address``: an address needs addr1, city, state and zip, all non-empty strings.
* ``retl_member``: an rETL identify's member: its traits with the first external id set in them.
* ``month_day``, ``other_traits``, ``merge_fields_enabled``: merge fields (BIRTHDAY as MM/DD, the
  other traits under Mailchimp tags), sent only when Config.enableMergeFields is true.
* ``subscription_status``: the member's status, without the reference's network lookups (see
  destination.yaml notes).
* ``event_name``, ``string_values``, ``occurred_at``: a track event's name rules, properties as
  strings, and its time as moment formats it.
* ``finish``: method, the reference's status check and the output's audienceId.
* ``batch``: router requests: members per audience, 500 a request; track requests one by one.
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

from transformer.hooks import (
    JS_WHITESPACE,
    UNDEFINED,
    Batch,
    Context,
    InstrumentationError,
    Job,
    add_external_id_to_traits,
    first_present,
    group_and_chunk,
    integrations_object,
    is_truthy,
    js_get,
    js_keys,
    object_keys,
    parse_date,
    rest_request,
    stringify,
    to_number,
    to_string,
)

#: Members per batch request (Mailchimp's batch subscribe limit, as the reference's MAX_BATCH_SIZE).
MAX_BATCH_SIZE = 500
VALID_STATUSES = ("subscribed", "unsubscribed", "cleaned", "pending", "transactional")
STATUS_ERROR = ("The status must be one of [subscribed, unsubscribed, cleaned, pending, "
                "transactional]")
ADDRESS_FIELDS = ("addr1", "city", "state", "zip")
#: Traits the merge field mapping already sends (MAILCHIMP_IDENTIFY_EXCLUSION).
TRAITS_EXCLUSION = frozenset({
    "email", "firstName", "lastName", "FirstName", "LastName", "firstname", "lastname", "addr1",
    "city", "state", "zip", "phone", "address", "addressLine1", "addressLine2", "birthday",
})
#: The canonical names of the destination in an event's integrations object.
INTEGRATION_NAMES = ("mailchimp", "MailChimp", "MAILCHIMP")
_EMAIL = ("traits.email", "context.traits.email", "properties.email", "context.externalId.0.id")
_TRAITS = ("traits", "context.traits")
#: Characters a merge field tag keeps (the reference's /[^\s\w]/gi removes the others).
_NOT_TAG = re.compile(f"[^{re.escape(JS_WHITESPACE)}A-Za-z0-9_]")
_JS_SPACES = re.compile(f"[{re.escape(JS_WHITESPACE)}]+")



def _integration(message: dict[str, Any]) -> Any:
    return integrations_object(message, INTEGRATION_NAMES)


def _md5(value: Any) -> str:
    """npm md5 (the reference's member hash): a string's UTF-8 bytes; any other value's string
    form read as if it were bytes, each character its digit value (0 for a non-digit); an array
    as its items' low bytes."""
    if isinstance(value, str):
        data = value.encode()
    elif isinstance(value, list):
        data = bytes(map(_low_byte, value))
    else:
        data = bytes(int(c) if "0" <= c <= "9" else 0 for c in to_string(value))
    return hashlib.md5(data).hexdigest()


def _low_byte(item: Any) -> int:
    number = to_number(item)
    return int(number) & 0xFF if math.isfinite(number) else 0


def base_url(config: dict[str, Any], audience_id: Any) -> str:
    return (f"https://{to_string(config.get('datacenterId'))}.api.mailchimp.com/3.0/lists/"
            f"{to_string(audience_id)}")


# --- per event ------------------------------------------------------------------------------------


def prepare(ctx: Context) -> None:
    """The audience and, when there is an email, the member's URL."""
    message = ctx.message
    integration = _integration(message)
    list_id = integration.get("listId") if isinstance(integration, dict) else None
    if list_id is None:
        list_id = js_get(message, "context.MailChimp.listId")
        if not is_truthy(list_id):
            list_id = ctx.config.get("audienceId")
    ctx.vars["audience_id"] = list_id
    email = first_present(message, _EMAIL)
    if is_truthy(email):
        ctx.vars["member_url"] = f"{base_url(ctx.config, list_id)}/members/{_md5(email)}"


def check_address(value: Any, ctx: Context) -> None:
    """The traits' address, when they have one, must be valid; nothing is sent."""
    valid_address(value)


def valid_address(value: Any) -> None:
    """The reference's validateAddressObject: addr1, city, state and zip all there, each a
    non-empty string."""
    keys = object_keys(value)
    if not keys:
        return
    if any(field not in keys for field in ADDRESS_FIELDS):
        raise InstrumentationError(
            'For sending address information ["addr1", "city", "state", "zip"] fields are '
            "mandatory")
    for field in ADDRESS_FIELDS:
        item = value.get(field) if isinstance(value, dict) else None
        if not isinstance(item, str) or not item:
            raise InstrumentationError(
                f"To send as address information, {field} field should be valid string")


def retl_member(ctx: Context) -> Any:
    """An rETL identify's member: the traits (or context.traits) as they are, with the first
    external id written in under its identifierType; a merge_fields.ADDRESS must be valid."""
    message = ctx.message
    if not is_truthy(js_get(message, "context.mappedToDestination")):
        return None
    add_external_id_to_traits(message)
    member = first_present(message, _TRAITS)
    if not isinstance(member, dict):
        return None
    address = js_get(member, "merge_fields.ADDRESS")
    if is_truthy(address):
        valid_address(address)
    return member


def merge_fields_enabled(ctx: Context) -> bool:
    return ctx.config.get("enableMergeFields") is True


def month_day(value: Any, ctx: Context) -> str:
    """dobInMMDD: the string form from its sixth character, the first "-" as "/"."""
    return to_string(value)[5:].replace("-", "/", 1)


def other_traits(ctx: Context) -> dict[str, Any]:
    """The reference's mergeAdditionalTraitsFields: every other trait under its tag (letters,
    digits, _ and whitespace kept, cut to 10 characters, upper-cased)."""
    traits = first_present(ctx.message, _TRAITS)
    out: dict[str, Any] = {}
    for key in object_keys(traits):
        if key not in TRAITS_EXCLUSION:
            value = traits[key] if isinstance(traits, dict) else traits[int(key)]
            out[_NOT_TAG.sub("", key)[:10].upper()] = value
    return out


def subscription_status(ctx: Context) -> str:
    """integrations.mailchimp.subscriptionStatus (one of the valid statuses), else "subscribed".

    The reference asks Mailchimp first (see destination.yaml notes); without network this is
    what it answers for a member it knows without a status, or a new one without double opt-in.
    """
    integration = _integration(ctx.message)
    status = integration.get("subscriptionStatus") if isinstance(integration, dict) else None
    if status is None:
        return "subscribed"
    if status not in VALID_STATUSES:
        raise InstrumentationError(STATUS_ERROR)
    return str(status)


def event_name(value: Any, ctx: Context) -> Any:
    """2 to 30 characters (UTF-16 units, as JavaScript counts); trimmed, whitespace runs as "_"."""
    if not value:
        return value
    if not 2 <= len(value.encode("utf-16-le")) // 2 <= 30:
        raise InstrumentationError("Event name should be between 2 and 30 characters")
    return _JS_SPACES.sub("_", value.strip(JS_WHITESPACE))


def string_values(value: Any, ctx: Context) -> Any:
    """Properties' values as strings (JSON for the others), isSyncing left out."""
    if isinstance(value, dict):
        return {k: v if isinstance(v, str) else stringify(v) for k, v in value.items()
                if k != "isSyncing"}
    if isinstance(value, list):
        return [v if isinstance(v, str) else stringify(v) for v in value]
    return value


def occurred_at(value: Any, ctx: Context) -> str:
    """``moment.utc(new Date(value)).format("YYYY-MM-DDTHH:mm:ssZ")``."""
    moment = parse_date(int(value) if isinstance(value, bool) else value)
    if moment is None:
        return "Invalid date"
    return f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}+00:00"


def finish(ctx: Context, output: dict[str, Any]) -> dict[str, Any]:
    """POST for member events, PUT for members; a status must be a valid one."""
    output["method"] = "POST" if "events" in output["endpoint"] else "PUT"
    status = output["body"]["JSON"].get("status")
    if is_truthy(status) and status not in VALID_STATUSES:
        raise InstrumentationError(STATUS_ERROR)
    output["audienceId"] = ctx.vars["audience_id"]
    return output


# --- router ---------------------------------------------------------------------------------------


def batch(done: list[tuple[Job, Any]]) -> list[Batch]:
    """Members grouped by audience (audiences in JavaScript key order), 500 a request; then each
    member event alone, in input order."""
    members = [(job, output) for job, output in done if "events" not in output["endpoint"]]
    groups: dict[str, list[tuple[Job, Any]]] = {}
    for job, output in members:
        groups.setdefault(to_string(output.get("audienceId", UNDEFINED)), []).append((job, output))
    batches: list[Batch] = []
    config = done[0][0].destination.get("Config") if done else None
    config = config if isinstance(config, dict) else {}
    for audience_id in js_keys(groups):
        for chunk in group_and_chunk(groups[audience_id], max_events=MAX_BATCH_SIZE):
            batches.append(Batch(request=_batch_request(config, audience_id, chunk),
                                 jobs=[job for job, _ in chunk]))
    batches.extend(Batch(request=output, jobs=[job], batched=False)
                   for job, output in done if "events" in output["endpoint"])
    return batches


def _batch_request(config: dict[str, Any], audience_id: str,
                   chunk: list[tuple[Job, Any]]) -> dict[str, Any]:
    """One batch subscribe request; its headers are the members' own (Content-Type and the
    apiKey's Basic authorization)."""
    merge = config.get("enableMergeFields")
    endpoint = (f"{base_url(config, audience_id)}?skip_merge_validation="
                f"{to_string(False if merge is None else merge)}&skip_duplicate_check=false")
    return rest_request(endpoint, {"members": [output["body"]["JSON"] for _, output in chunk],
                                   "update_existing": True},
                        headers=dict(chunk[0][1]["headers"]))
