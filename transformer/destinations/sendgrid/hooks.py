"""SendGrid: what destination.yaml cannot say.

* ``check_config``: the API key, in the reference's words.
* ``prepare``: the reference's checks (message type, track's configured event name) before
  anything is mapped.
* ``address_line``, ``contact_list_ids``, ``custom_fields``: identify's computed fields.
* ``finish``: a track event's mail completed from the config and checked as the reference does
  (generatePayloadFromConfig, requiredFieldValidator, asm, mail and tracking settings,
  custom_args, payloadValidator); the tracking settings are destination.yaml's table.
* ``batch``: tracks alone, identifies batched per list ids.
"""

from __future__ import annotations

from typing import Any

from transformer.hooks import (
    Batch,
    ConfigurationError,
    Context,
    InstrumentationError,
    Job,
    UnexpectedError,
    external_id,
    first_present,
    group_and_chunk,
    hash_from_array,
    is_blank,
    is_truthy,
    js_keys,
    js_trim,
    rest_request,
    set_dotted,
    stringify,
    to_number,
    to_string,
    without_nulls,
)

CONTACTS_ENDPOINT = "https://api.sendgrid.com/v3/marketing/contacts"
MAX_CONTACTS = 30000
MIN_POOL_LENGTH = 2
MAX_POOL_LENGTH = 64
_TRACK_EXCLUSIONS = frozenset({
    "personalizations", "from", "replyTo", "replyToList", "subject", "content", "attachments",
    "templateId", "headers", "categories", "sendAt", "batchId", "asm", "IPPoolName",
    "mailSettings", "trackingSettings", "__proto__", "constructor", "prototype",
})


def check_config(config: dict[str, Any]) -> None:
    if not is_truthy(config.get("apiKey")):
        raise ConfigurationError("Invalid Api Key")


def prepare(ctx: Context) -> None:
    kind = ctx.message_type
    if kind == "track":
        _check_event(ctx.message, ctx.config)
    elif kind != "identify":  # identify's email: the checks of destination.yaml
        raise InstrumentationError(f"Event type {kind} is not supported")


def _check_event(message: dict[str, Any], config: dict[str, Any]) -> None:
    event = message.get("event")
    if not is_truthy(event):
        raise InstrumentationError("Event is required for track call")
    if not isinstance(event, str):
        raise UnexpectedError("event.trim is not a function")
    wanted = js_trim(event).lower()
    settings = config.get("eventNamesSettings")
    if not isinstance(settings, list):
        raise UnexpectedError("Cannot read properties of undefined (reading 'some')")
    for setting in settings:
        name = setting.get("event") if isinstance(setting, dict) else None
        if isinstance(name, str) and js_trim(name) and js_trim(name).lower() == wanted:
            return
    raise ConfigurationError("Event not configured on dashboard")


# --- identify -----------------------------------------------------------------------------------


def address_line(value: Any, ctx: Context) -> Any:
    """An address object as its values joined by spaces (flattenAddress)."""
    if isinstance(value, dict):
        return js_trim(" ".join(to_string(value[key]) for key in js_keys(value)))
    if isinstance(value, list):
        return js_trim(" ".join(to_string(item) for item in value))
    return value


def contact_list_ids(ctx: Context) -> str:
    """Config.listId and the ids of the first context.externalId entry of type "listIds",
    sorted as strings and joined with commas."""
    ids: list[Any] = []
    if is_truthy(ctx.config.get("listId")):
        ids.append(ctx.config["listId"])
    found = external_id(ctx.message, "listIds")
    if isinstance(found, str) and found:
        ids.append(found)
    elif isinstance(found, list):
        ids.extend(found)
    ids.sort(key=to_string)
    return to_string(ids)


def custom_fields(ctx: Context) -> dict[str, Any]:
    """Traits mapped to SendGrid custom fields: the reference looks the fields' ids up from
    SendGrid during the transformation, which this service does not do."""
    mapping = hash_from_array(ctx.config.get("customFieldsMapping"), name="customFieldsMapping")
    if mapping:
        raise ConfigurationError(
            "customFieldsMapping is not supported: mapping traits to SendGrid custom fields needs "
            "the account's field definitions from SendGrid, which this service does not fetch")
    return {}


# --- track ----------------------------------------------------------------------------------------


def finish(ctx: Context, output: dict[str, Any]) -> dict[str, Any]:
    if ctx.message_type != "track":
        return output
    config = ctx.config
    message = ctx.message
    mail: dict[str, Any] = output["body"]["JSON"]
    if not is_truthy(mail.get("personalizations")) and is_truthy(config.get("mailFromTraits")):
        email = first_present(message, ("traits.email", "context.traits.email"))
        if not is_truthy(email):
            raise InstrumentationError(
                "Either email not found in traits or personalizations field is missing/empty")
        mail["personalizations"] = [{"to": [{"email": email}]}]
    _complete_from_config(mail, config)
    _check_required(mail)
    mail["asm"] = _asm(config)
    pool = config.get("IPPoolName")
    if is_truthy(pool) and isinstance(pool, str | list) \
            and MIN_POOL_LENGTH <= len(pool) <= MAX_POOL_LENGTH:
        mail["ip_pool_name"] = pool
    if isinstance(mail.get("reply_to"), dict):
        mail["reply_to"] = without_nulls(mail["reply_to"])
    properties = message.get("properties")
    if not isinstance(properties, dict):
        if properties is None:
            raise UnexpectedError("Cannot read properties of undefined (reading 'mailSettings')")
        properties = {}
    _set_or_drop(mail, "mail_settings", _mail_settings(config, properties.get("mailSettings")))
    _set_or_drop(mail, "tracking_settings", ctx.build("tracking_settings"))
    if not is_truthy(mail.get("custom_args")):
        custom: dict[str, Any] = {}
        for key, value in properties.items():
            if key not in _TRACK_EXCLUSIONS:
                set_dotted(custom, key, value)
        if custom:
            mail["custom_args"] = custom
    _validate(mail)
    output["body"]["JSON"] = without_nulls(mail)
    return output



def _set_or_drop(obj: dict[str, Any], key: str, value: Any) -> None:
    if value:
        obj[key] = value
    else:
        obj.pop(key, None)


def _missing(value: Any) -> bool:
    """``!value || isEmpty(value)``."""
    return not is_truthy(value) or is_blank(value)


def _complete_from_config(mail: dict[str, Any], config: dict[str, Any]) -> None:
    """generatePayloadFromConfig: what the event lacks, from the config."""
    if not is_truthy(mail.get("from")):
        sender = {"email": config.get("fromEmail"),
                  "name": config["fromName"] if is_truthy(config.get("fromName")) else None}
        mail["from"] = without_nulls(sender)
    if is_truthy(config.get("templateId")) and not is_truthy(mail.get("template_id")):
        mail["template_id"] = config["templateId"]
    if _missing(mail.get("attachments")):
        _set_or_drop(mail, "attachments", _attachments(config))
    if _missing(mail.get("content")):
        contents = config.get("contents")
        listed = [c for c in contents if isinstance(c, dict) and is_truthy(c.get("type"))
                  and is_truthy(c.get("value"))] if isinstance(contents, list) else []
        _set_or_drop(mail, "content", listed)
    if _missing(mail.get("subject")):
        mail["subject"] = config.get("subject")
    if not is_truthy(mail.get("reply_to")):
        mail["reply_to"] = {"email": _or_null(config.get("replyToEmail")),
                            "name": _or_null(config.get("replyToName"))}


def _or_null(value: Any) -> Any:
    return value if is_truthy(value) else None


def _attachments(config: dict[str, Any]) -> list[dict[str, Any]]:
    """Config.attachments with content and filename, without empty values (lodash isEmpty:
    numbers and booleans count as empty)."""
    rows = config.get("attachments")
    if not isinstance(rows, list):
        return []
    return [{k: v for k, v in row.items() if isinstance(v, str | list | dict) and v}
            for row in rows
            if isinstance(row, dict) and is_truthy(row.get("content"))
            and is_truthy(row.get("filename"))]


def _check_required(mail: dict[str, Any]) -> None:
    if not is_truthy(mail.get("template_id")) and _missing(mail.get("content")):
        raise InstrumentationError("Either template id or content is required")
    if _missing(mail.get("personalizations")):
        raise InstrumentationError("Personalizations field cannot be missing or empty")
    sender = mail.get("from")
    if not is_truthy(sender):
        raise InstrumentationError("From is required field")
    if not (isinstance(sender, dict) and is_truthy(sender.get("email"))):
        raise InstrumentationError("Email inside from object is required")


def _integer(value: Any) -> int | None:
    """``Number(value)`` when it is an integer, else None."""
    number = to_number(value)
    if isinstance(number, float) and not number.is_integer():
        return None
    return int(number)


def _asm(config: dict[str, Any]) -> dict[str, Any]:
    """The unsubscribe group and the groups to display (integer ids only)."""
    asm: dict[str, Any] = {}
    group = config.get("group")
    if is_truthy(group):
        group_id = _integer(group)
        if group_id is not None:
            asm["group_id"] = group_id
    shown = []
    rows = config.get("groupsToDisplay")
    for row in rows if isinstance(rows, list) else ():
        group_id = row.get("groupId") if isinstance(row, dict) else None
        if not is_truthy(group_id):
            continue
        if not isinstance(group_id, str):
            raise UnexpectedError("groups.groupId.trim is not a function")
        number = _integer(group_id) if js_trim(group_id) else None
        if number is not None:
            shown.append(number)
    if shown:
        asm["groups_to_display"] = shown
    return asm


def _mail_settings(config: dict[str, Any], asked: Any) -> dict[str, Any]:
    bypass: dict[str, dict[str, Any]] = {"bypass_list_management": {},
                                         "bypass_spam_management": {},
                                         "bypass_bounce_management": {},
                                         "bypass_unsubscribe_management": {}}
    footer = {"enable": config.get("footer"), "text": config.get("footerText"),
              "html": config.get("footerHtml")}
    sandbox = {"enable": config.get("sandboxMode")}
    if is_truthy(asked) and isinstance(asked, dict):
        if is_truthy(asked.get("bypassListManagement")):
            bypass["bypass_list_management"]["enable"] = asked["bypassListManagement"]
        else:
            for key, name in (("bypassSpamManagement", "bypass_spam_management"),
                              ("bypassBounceManagement", "bypass_bounce_management"),
                              ("bypassUnsubscribeManagement", "bypass_unsubscribe_management")):
                if is_truthy(asked.get(key)):
                    bypass[name]["enable"] = asked[key]
        for key, target, name in (("footer", footer, "enable"), ("footerText", footer, "text"),
                                  ("footerHtml", footer, "html"),
                                  ("sandboxMode", sandbox, "enable")):
            if is_truthy(asked.get(key)):
                target[name] = asked[key]
    settings: dict[str, Any] = {k: v for k, v in bypass.items() if v}
    for key in ("text", "html"):
        if is_blank(footer[key]):
            footer[key] = None
    if is_truthy(footer["enable"]):
        settings["footer"] = without_nulls(footer)
    if is_truthy(sandbox["enable"]):
        settings["sandbox_mode"] = sandbox
    return settings


def _validate(mail: dict[str, Any]) -> None:
    """payloadValidator: recipients without an email (or without any subject) dropped, invalid
    attachments nulled, categories as strings (at most 10), bad headers, reply-to and asm
    dropped."""
    personalizations = mail.get("personalizations")
    if isinstance(personalizations, list):
        subject = is_truthy(mail.get("subject"))
        for item in personalizations:
            if not isinstance(item, dict):
                continue
            to = item.get("to")
            if is_truthy(to) and (subject or is_truthy(item.get("subject"))):
                item["to"] = [r for r in to if isinstance(r, dict) and is_truthy(r.get("email"))] \
                    if isinstance(to, list) else []
            else:
                item["to"] = []
    attachments = mail.get("attachments")
    if isinstance(attachments, list):
        mail["attachments"] = [
            a if isinstance(a, dict) and is_truthy(a.get("content")) and is_truthy(a.get("filename"))
            else None for a in attachments]
    categories = mail.get("categories")
    if isinstance(categories, list):
        mail["categories"] = [c if isinstance(c, str) else stringify(c) for c in categories][:10]
    headers = mail.get("headers")
    if is_truthy(headers) and not isinstance(headers, dict):
        mail["headers"] = None
    reply_to = mail.get("reply_to")
    if not is_truthy(reply_to) or (isinstance(reply_to, dict | list) and not reply_to) \
            or not (isinstance(reply_to, dict) and is_truthy(reply_to.get("email"))):
        mail.pop("reply_to", None)
    asm = mail.get("asm")
    if asm and asm.get("groups_to_display") and not is_truthy(asm.get("group_id")):
        mail.pop("asm")
    if not mail.get("asm"):
        mail.pop("asm", None)


# --- router ---------------------------------------------------------------------------------------


def batch(done: list[tuple[Job, Any]]) -> list[Batch]:
    """Each track alone (in order), then identifies with the same list ids in requests of at
    most 30000 contacts, groups in JavaScript object-key order."""
    batches = [Batch(request=output, jobs=[job], batched=False) for job, output in done
               if output["endpoint"] != CONTACTS_ENDPOINT]
    contacts = [(job, output) for job, output in done if output["endpoint"] == CONTACTS_ENDPOINT]
    if not contacts:
        return batches
    chunks = group_and_chunk(contacts, key=_list_ids, max_events=MAX_CONTACTS)
    order = {key: index for index, key in enumerate(js_keys({_list_ids(*c[0]): 0 for c in chunks}))}
    chunks.sort(key=lambda chunk: order[_list_ids(*chunk[0])])
    for chunk in chunks:
        first = chunk[0][1]
        list_ids = _list_ids(*chunk[0])
        body: dict[str, Any] = {"contacts": [out["body"]["JSON"]["contactDetails"]
                                             for _, out in chunk]}
        if list_ids:
            body = {"list_ids": list_ids.split(","), **body}
        request = rest_request(CONTACTS_ENDPOINT, body, method="PUT", headers=first["headers"])
        batches.append(Batch(request=request, jobs=[job for job, _ in chunk]))
    return batches


def _list_ids(job: Job, output: dict[str, Any]) -> str:
    list_ids: str = output["body"]["JSON"]["contactListIds"]
    return list_ids
