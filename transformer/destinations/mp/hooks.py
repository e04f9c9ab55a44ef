"""Mixpanel: what destination.yaml cannot say.

* ``prepare``: the reference's checks in its order and words (exact message types, alias ids,
  group key settings, messageId, the revenue time), ids as strings (the reference works on a
  copy of the event whose truthy userId and anonymousId are strings), and for identify the
  $set_once / $union / $append properties, taken out of the traits before $set is mapped.
* Field hooks: distinct ids, the "simplified" identity fields, page/screen event
  names, the import endpoint's credentials; ``checked_properties`` sets the browser and enforces
  Mixpanel's property limits.
* ``finish``: each payload becomes ``{"batch": "[<payload>]"}``, the 5-year age limit, and the
  extra requests (profile updates before a track event, profile operations and $merge around an
  identify, group profiles).
* ``batch``: the reference's router batching (per message type, then per endpoint).
"""

from __future__ import annotations

import base64
import re
from typing import Any

import orjson

from transformer.hooks import (
    UNDEFINED,
    Batch,
    ConfigurationError,
    Context,
    InstrumentationError,
    Job,
    UnexpectedError,
    is_apple_family,
    is_present,
    is_truthy,
    js_date_ms,
    js_trim,
    ms_to_iso,
    rest_request,
    set_dotted,
    stringify,
    to_string,
    unique_by,
)
from transformer.useragent import parse as parse_user_agent

_TYPES = frozenset({"track", "page", "screen", "identify", "alias", "group"})
#: moment's "more than 5 years": 5 * 12 months of 146097 / 4800 days.
_FIVE_YEARS_MS = 5 * 12 * 146097 / 4800 * 86_400_000
_MAX_KEYS = 255
_MAX_ITEMS = 255
_MAX_BYTES = 1024 * 1024
_GROUP_KEY_MISSING = (
    "Group Key is not present. Please ensure that the group key is included in the payload as "
    "configured in the `Group Key Settings` in destination")
_NO_TEMPLATE = (
    "Event name template is not configured. Please provide a valid value for the `Page/Screen "
    "Event Name Template` in the destination dashboard.")
#: MP_IDENTIFY_EXCLUSION_LIST: traits that are mapped, never sent as custom properties.
_EXCLUDED = frozenset({
    "createdAt", "email", "firstName", "firstname", "first_name", "lastName", "lastname",
    "last_name", "name", "username", "userName", "phone", "avatar", "address", "country", "city",
    "state", "unsubscribed", "__proto__", "constructor", "prototype",
})
_OPERATIONS = (("setOnceProperties", "$set_once"), ("unionProperties", "$union"),
               ("appendProperties", "$append"))


# --- small JavaScript semantics -------------------------------------------------------------------


def _get(doc: Any, path: str) -> Any:
    """get-value: the key as written if the object has it, else the dotted path."""
    if not isinstance(doc, dict):
        return None
    if path in doc:
        return doc[path]
    for key in path.split("."):
        if isinstance(doc, dict):
            doc = doc.get(key)
        elif isinstance(doc, list) and key.isdigit() and int(key) < len(doc):
            doc = doc[int(key)]
        else:
            return None
    return doc



def _unset(doc: dict[str, Any], path: str) -> None:
    """lodash.unset: removes the key as written, else the dotted path's last key."""
    if path in doc:
        del doc[path]
        return
    *parents, last = path.split(".")
    node: Any = doc
    for key in parents:
        node = node.get(key) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(last, None)


def _date_ms(message: dict[str, Any], key: str) -> int | None:
    """``new Date(message[key]).getTime()``, None for an invalid date (null is the epoch)."""
    ms = js_date_ms(message.get(key, UNDEFINED))
    return None if isinstance(ms, float) else ms


def _filled(value: Any) -> bool:
    """integrations-lib's isDefinedNotNullNotEmpty."""
    if value is None or (isinstance(value, float) and value != value):
        return False
    if isinstance(value, dict | list):
        return bool(value)
    return not (isinstance(value, str) and not js_trim(value))


def _strictly_equal(a: Any, b: Any) -> bool:
    """JavaScript's ``a === b`` for JSON values (objects are never equal: they are copies)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return isinstance(a, str) and isinstance(b, str) and a == b


def _js_replace(text: str, pattern: re.Pattern[str], replacement: Any) -> str:
    """``text.replace(/pattern/g, replacement)`` with JavaScript's $-patterns."""
    value = to_string(replacement)
    if "$" not in value:
        return pattern.sub(lambda _: value, text)

    def expand(match: re.Match[str]) -> str:
        return re.sub(r"\$([$&`'])", lambda m: {"$": "$", "&": match.group(0),
                                                   "`": text[:match.start()],
                                                   "'": text[match.end():]}[m.group(1)], value)

    return pattern.sub(expand, text)


# --- prepare ----------------------------------------------------------------------------------------


def prepare(ctx: Context) -> None:
    message = ctx.message
    kind = message["type"]
    if kind not in _TYPES:
        raise InstrumentationError(f"Event type '{kind}' is not supported")
    if kind != "alias":  # alias reads the event as it came
        for key in ("userId", "anonymousId"):
            value = message.get(key)
            if is_truthy(value) and not isinstance(value, str):
                message[key] = to_string(value)
    if kind == "identify":
        _prepare_identify(ctx)
    elif kind != "group":
        if kind == "track":
            _prepare_track(ctx)
        elif kind == "alias":
            _prepare_alias(ctx)
        else:
            ctx.vars["event"] = page_event_name(ctx)
        # The reference checks the age once the payload is built; its only earlier failures are
        # the checks above and the property limits (which an event both too old and too big
        # reports instead).
        _check_age(ctx)
    else:
        keys = [setting["groupKey"] for setting in ctx.config.get("groupKeySettings") or ()
                if isinstance(setting, dict) and is_truthy(setting.get("groupKey"))]
        if not keys:
            raise ConfigurationError("`Group Key Settings` is not configured in destination")
        ctx.vars["group_keys"] = keys


def _prepare_track(ctx: Context) -> None:
    message = ctx.message
    properties = message.get("properties")
    if isinstance(properties, dict) and is_truthy(properties.get("revenue")):
        moment = _date_ms(message, "timestamp")
        if moment is None:
            moment = _date_ms(message, "originalTimestamp")
        if moment is None:
            raise InstrumentationError("Neither timestamp nor originalTimestamp is a valid date.")
        ctx.vars["revenue_time"] = ms_to_iso(moment)
    message_id = message.get("messageId")
    if is_truthy(message_id) and not isinstance(message_id, str):
        raise InstrumentationError("messageId should be of type string")


def _prepare_alias(ctx: Context) -> None:
    if ctx.config.get("identityMergeApi") == "simplified":
        raise InstrumentationError(
            "The use of the alias call in the context of the `Simplified ID merge` feature is not "
            "supported anymore.")
    message = ctx.message
    alias_id = message.get("previousId")
    if not is_truthy(alias_id):
        alias_id = message.get("anonymousId")
    if not is_truthy(alias_id):
        raise InstrumentationError(
            "Either `previousId` or `anonymousId` should be present in alias payload")
    if _strictly_equal(alias_id, message.get("userId")):
        raise InstrumentationError(
            "One of `previousId` or `anonymousId` is same as `userId`. Aborting")


def _prepare_identify(ctx: Context) -> None:
    config = ctx.config
    operations = []
    for setting, operation in _OPERATIONS:
        rows = config.get(setting)
        if not rows or not isinstance(rows, list):
            continue
        properties = _take_traits(ctx, [
            row.get("property", UNDEFINED) if isinstance(row, dict) else UNDEFINED
            for row in rows])
        if operation == "$union":
            properties = {k: v if isinstance(v, list) else [v] for k, v in properties.items()}
        if properties:
            operations.append((operation, properties))
    ctx.vars["operations"] = operations
    context = ctx.message.get("context")
    device = context.get("device") if isinstance(context, dict) else None
    if is_truthy(device) and isinstance(device, dict):
        device_type = device.get("type")
        if isinstance(device_type, str):
            ctx.vars["ios"] = is_apple_family(device_type)
            ctx.vars["android"] = device_type.lower() == "android"
            if ctx.vars["ios"] or ctx.vars["android"]:
                ctx.vars["device_token"] = device.get("token")
        elif device_type is not None:
            raise UnexpectedError("device.type?.toLowerCase is not a function")


def _take_traits(ctx: Context, paths: list[Any]) -> dict[str, Any]:
    """trimTraits: the named traits (traits first, then context.traits) mapped as profile
    properties (destination.yaml's profile_operation); they are removed from the event's traits."""
    message = ctx.message
    traits = message.get("traits")
    traits = dict(traits) if isinstance(traits, dict) else {}
    context = message.get("context")
    context_traits = context.get("traits") if isinstance(context, dict) else None
    context_traits = dict(context_traits) if isinstance(context_traits, dict) else {}
    found: dict[str, Any] = {}
    for path in paths:
        if path is None or path is UNDEFINED:
            raise UnexpectedError(f"Cannot read properties of {to_string(path)} (reading 'split')")
        if not isinstance(path, str):
            raise UnexpectedError("propertyPath.split is not a function")
        name = path.rsplit(".", 1)[-1]
        value = _get(traits, path)
        if _filled(value):
            found[name] = value
            _unset(traits, path)
        value = _get(context_traits, path)
        if _filled(value):
            found.setdefault(name, value)
            _unset(context_traits, path)
    message["traits"] = traits
    if is_truthy(context) and isinstance(context, dict):
        context["traits"] = context_traits
    if not found:
        return {}
    out = ctx.build("profile_operation", found)
    for key, value in found.items():
        if key not in _EXCLUDED:
            set_dotted(out, key, value)
    return out


# --- field hooks ------------------------------------------------------------------------------------


def _simplified(ctx: Context) -> bool:
    return ctx.config.get("identityMergeApi") == "simplified"


def distinct_id(ctx: Context) -> Any:
    """userId, else anonymousId; with simplified identity merge, else "$device:<anonymousId>"."""
    message = ctx.message
    user_id = message.get("userId")
    if is_truthy(user_id):
        return user_id
    anonymous_id = message.get("anonymousId", UNDEFINED)
    if _simplified(ctx):
        return "$device:" + to_string(anonymous_id)
    return anonymous_id


def token(ctx: Context) -> Any:
    """Config.token; undefined (left out, and hiding a property of that name) when unset."""
    return ctx.config.get("token", UNDEFINED)


def simplified_ids(ctx: Context) -> dict[str, Any] | None:
    """$device_id and $user_id of an event, with simplified identity merge."""
    if not _simplified(ctx):
        return None
    message = ctx.message
    return {"$device_id": message.get("anonymousId", UNDEFINED),
            "$user_id": message.get("userId", UNDEFINED)}


def insert_id(value: Any, ctx: Context) -> Any:
    """A track event's messageId, its last 36 characters (SDKs prefix the UUID with a
    timestamp); other events send it as it is."""
    if isinstance(value, str | list) and ctx.message["type"] == "track":
        return value[-36:]
    return value


def event_time(ctx: Context) -> Any:
    """``new Date(timestamp || originalTimestamp).getTime()``: epoch milliseconds, 0 for null,
    null (NaN) for what is not a date."""
    message = ctx.message
    if is_truthy(message.get("timestamp")):
        if "timestamp_ms" in ctx.vars:  # _check_age read it
            return ctx.vars["timestamp_ms"]
        return _date_ms(message, "timestamp")
    return _date_ms(message, "originalTimestamp")


def ignore_time(ctx: Context) -> bool | None:
    context = ctx.message.get("context")
    return True if isinstance(context, dict) and context.get("active") is False else None


_CATEGORY = re.compile(r"{{\s*category\s*}}")
_CATEGORY_SPACED = re.compile(r"\s{{\s*category\s*}}\s")
_NAME = re.compile(r"{{\s*name\s*}}")
_NAME_SPACED = re.compile(r"\s{{\s*name\s*}}\s")


def page_event_name(ctx: Context) -> str:
    config = ctx.config
    message = ctx.message
    if message["type"] == "page":
        custom, template, default = ("useUserDefinedPageEventName",
                                     "userDefinedPageEventTemplate", "Loaded a Page")
    else:
        custom, template, default = ("useUserDefinedScreenEventName",
                                     "userDefinedScreenEventTemplate", "Loaded a Screen")
    if not is_truthy(config.get(custom)):
        return default
    name = config.get(template)
    if not is_truthy(name):
        raise ConfigurationError(_NO_TEMPLATE)
    name = to_string(name)
    properties = message.get("properties")
    category = properties.get("category") if isinstance(properties, dict) else None
    for value, placeholder, spaced in ((category, _CATEGORY, _CATEGORY_SPACED),
                                       (message.get("name"), _NAME, _NAME_SPACED)):
        # A placeholder without a value goes, with the spaces around it, as one space.
        name = spaced.sub(" ", name) if value is None else _js_replace(name, placeholder, value)
    return name


def _import_credentials(config: dict[str, Any]) -> tuple[str | None, Any]:
    """(user:password for Basic auth, projectId param) of the /import endpoint."""
    project_token = config.get("token")
    if is_truthy(project_token):
        return f"{to_string(project_token)}:", None
    user, secret, project = (config.get("serviceAccountUserName"),
                             config.get("serviceAccountSecret"), config.get("projectId"))
    if is_truthy(user) and is_truthy(secret) and is_truthy(project):
        return f"{to_string(user)}:{to_string(secret)}", project
    return None, None


def import_authorization(ctx: Context) -> str:
    credentials, _ = _import_credentials(ctx.config)
    if credentials is None:
        raise UnexpectedError(
            'The first argument must be of type string or an instance of Buffer, ArrayBuffer, or '
            "Array or an Array-like Object. Received undefined")
    return "Basic " + base64.b64encode(credentials.encode()).decode()


def import_project_id(ctx: Context) -> Any:
    return _import_credentials(ctx.config)[1]


def checked_properties(value: Any, ctx: Context) -> Any:
    """The browser of a web event, and Mixpanel's limits on keys (fewer than 255 per object)
    and array items (at most 255); finish() checks the size."""
    _set_browser(ctx.message, value)
    _check_object(value, "")
    return value


def _set_browser(message: dict[str, Any], properties: dict[str, Any]) -> None:
    if message.get("channel") != "web":
        return
    context = message.get("context")
    user_agent = context.get("userAgent") if isinstance(context, dict) else None
    if not is_truthy(user_agent):
        return
    # ua-parser-js takes an object argument for options and then parses "".
    ua = parse_user_agent("" if isinstance(user_agent, dict | list) else to_string(user_agent))
    properties["$browser"] = UNDEFINED if ua.browser is None else ua.browser
    properties["$browser_version"] = (UNDEFINED if ua.browser_version is None
                                      else ua.browser_version)


def _check_object(obj: dict[str, Any], path: str) -> None:
    if len(obj) >= _MAX_KEYS:
        where = f" at {path}" if path else ""
        raise InstrumentationError(f"Mixpanel properties{where} exceed the limit of {_MAX_KEYS} "
                                   f"keys (found {len(obj)})")
    for key, value in obj.items():
        if isinstance(value, list):
            here = f"{path}.{key}" if path else key
            if len(value) > _MAX_ITEMS:
                raise InstrumentationError(f"Mixpanel array property '{here}' exceeds the limit "
                                           f"of {_MAX_ITEMS} elements (found {len(value)})")
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    _check_object(item, f"{here}[{index}]")
        elif isinstance(value, dict):
            _check_object(value, f"{path}.{key}" if path else key)


# --- finish -----------------------------------------------------------------------------------------


def _batch_body(payload: dict[str, Any]) -> dict[str, Any]:
    return {"JSON": {}, "JSON_ARRAY": {"batch": stringify([payload])}, "XML": {}, "FORM": {}}


def _event_body(payload: dict[str, Any]) -> dict[str, Any]:
    """The body of an event, whose properties must be at most 1 MB of JSON."""
    body = _batch_body(payload)
    text: str = body["JSON_ARRAY"]["batch"]
    size = len(text) if text.isascii() else len(text.encode())
    if size > _MAX_BYTES:  # only then is it worth measuring the properties alone
        size = len(stringify(payload.get("properties")).encode())
        if size > _MAX_BYTES:
            raise InstrumentationError("Mixpanel payload exceeds the maximum size limit of 1MB "
                                       f"(found {int(size / 1024 + 0.5)} KB)")
    return body


def _like(output: dict[str, Any], payload: dict[str, Any], **parts: Any) -> dict[str, Any]:
    """Another request like ``output`` (endpoint and the like replaced by ``parts``)."""
    request = {**output, "body": _batch_body(payload)}
    request.update(parts)
    return request


def _check_age(ctx: Context) -> None:
    moment = ctx.vars["timestamp_ms"] = _date_ms(ctx.message, "timestamp")
    if moment is not None and ctx.clock.now_ms() - moment > _FIVE_YEARS_MS:
        raise InstrumentationError("Event timestamp should be within last 5 years")


def _base_url(output: dict[str, Any]) -> str:
    """https://api[-eu|-in].mixpanel.com of a request's endpoint."""
    endpoint: str = output["endpoint"]
    return endpoint[: endpoint.index("/", 8)]


def _profile(ctx: Context, operation: str, properties: Any) -> dict[str, Any]:
    return {operation: properties, "$token": token(ctx), "$distinct_id": distinct_id(ctx)}


def finish(ctx: Context, output: dict[str, Any]) -> Any:
    kind = ctx.message["type"]
    payload = output["body"]["JSON_ARRAY"]
    if kind == "identify":
        return _finish_identify(ctx, output, payload)
    if kind == "group":
        return _finish_group(ctx, output, payload)
    output["body"] = _event_body(payload) if kind != "alias" else _batch_body(payload)
    if kind != "track":
        return output
    requests = []
    engage = {"endpoint": _base_url(output) + "/engage/", "endpointPath": "engage",
              "headers": {"Content-Type": "application/json"}, "params": {"verbose": 2}}
    if "revenue_time" in ctx.vars:
        transaction = {"$time": ctx.vars["revenue_time"],
                       "$amount": ctx.message["properties"]["revenue"]}
        requests.append(_like(output, _profile(ctx, "$append", {"$transactions": transaction}),
                              **engage))
    increments = ctx.config.get("propIncrements")
    if isinstance(increments, list):
        names = [row.get("property") if isinstance(row, dict) else None for row in increments]
        properties = ctx.message.get("properties")
        added = {key: value for key, value in properties.items()
                 if is_truthy(value) and key in names} if isinstance(properties, dict) else {}
        if added:
            requests.append(_like(output, _profile(ctx, "$add", added), **engage))
    if not requests:
        return output
    requests.append(output)
    return requests


def _finish_identify(ctx: Context, output: dict[str, Any], body: dict[str, Any]) -> Any:
    message = ctx.message
    properties: dict[str, Any] = body.pop("$set", None) or {}
    ios_fields, android_fields = body.pop("ios", None), body.pop("android", None)
    device_fields = ios_fields or android_fields or {}
    geo_source = properties.get("$geo_source")
    if "$geo_source" in properties and geo_source not in (None, "reverse_geocoding"):
        raise InstrumentationError("$geo_source value must be either null or 'reverse_geocoding' ")
    if not is_truthy(properties.get("$name")):
        full_name = _full_name(properties)
        if full_name is not None:
            properties["$name"] = full_name
    traits = message.get("traits")
    context = message.get("context")
    context_traits = context.get("traits") if isinstance(context, dict) else None
    for source in (traits, context_traits):
        if isinstance(source, dict):
            for key, value in source.items():
                if key not in _EXCLUDED:
                    set_dotted(properties, key, value)
    if not is_truthy(ctx.config.get("useNewMapping")):
        for old, new in (("$first_name", "$firstName"), ("$last_name", "$lastName")):
            if is_truthy(properties.get(old)):
                properties[new] = properties.pop(old)
    if "device_token" in ctx.vars:
        device_token = ctx.vars["device_token"]
        key = "$ios_devices" if ctx.vars["ios"] else "$android_devices"
        properties[key] = UNDEFINED if device_token is None else [device_token]
        properties.update(device_fields)
    _set_browser(message, properties)
    main = {"$set": properties, **body}
    output["body"] = _batch_body(main)
    requests = [_like(output, _profile(ctx, operation, values))
                for operation, values in ctx.vars["operations"]]
    requests.append(output)
    user_id, anonymous_id = message.get("userId"), message.get("anonymousId")
    if (not _simplified(ctx) and is_truthy(user_id) and is_truthy(anonymous_id)
            and _import_credentials(ctx.config)[0] is not None):
        merge = {"$distinct_ids": [user_id, anonymous_id], "token": token(ctx)}
        project_id = import_project_id(ctx)
        params = {"strict": 1 if is_truthy(ctx.config.get("strictMode")) else 0}
        if project_id is not None:
            params = {"project_id": project_id, **params}
        requests.append(_like(
            output, {"event": "$merge", "properties": merge},
            endpoint=_base_url(output) + "/import/", endpointPath="import",
            headers={"Content-Type": "application/json",
                     "Authorization": import_authorization(ctx)},
            params=params))
    return requests if len(requests) > 1 else output


def _full_name(properties: dict[str, Any]) -> str | None:
    """getFullName: "<first> <last>" when both are set (and no name: $name is absent here)."""
    first = properties.get("$first_name")
    last = properties.get("$last_name")
    if is_truthy(first) and is_truthy(last):
        return f"{to_string(first)} {to_string(last)}"
    return None


def _finish_group(ctx: Context, output: dict[str, Any], body: dict[str, Any]) -> Any:
    message = ctx.message
    traits = message.get("traits")
    requests = []
    groups = {"endpoint": _base_url(output) + "/groups/", "endpointPath": "groups"}
    for key in ctx.vars["group_keys"]:
        if key == "groupId":
            values = message.get("groupId")
            if not is_present(values):
                values = _get(traits, "groupId")
                values = values if is_present(values) else None
        else:
            values = _get(traits, to_string(key))
        if not is_truthy(values):
            continue
        if not isinstance(values, list):
            values = [values]
        user = {"$token": body["$token"], "$distinct_id": body["$distinct_id"],
                "$set": {key: values}, "$ip": body.get("$ip", UNDEFINED)}
        requests.append(_like(output, user))
        for value in values:
            group = {"$token": body["$token"], "$group_key": key, "$group_id": value,
                     "$set": dict(traits) if isinstance(traits, dict) else {}}
            requests.append(_like(output, group, **groups))
    if not requests:
        raise InstrumentationError(_GROUP_KEY_MISSING)
    return requests


# --- router -----------------------------------------------------------------------------------------

_ENDPOINT_KINDS = ("engage", "groups", "import")
_MAX_BATCH = {"engage": 2000, "groups": 200, "import": 2000}


def batch(done: list[tuple[Job, Any]]) -> list[Batch]:
    """The reference's router: jobs in chunks of one message type (a user's jobs stay in order),
    each chunk's requests batched per endpoint (engage, groups, import; at most 2000, 200 and
    2000 payloads), then batches that carry the same job merged into one result, in jobId order."""
    batches: list[tuple[list[dict[str, Any]], list[Job]]] = []
    for chunk in _chunks_by_type(done):
        per_endpoint: dict[str, list[tuple[dict[str, Any], Job]]] = {k: [] for k in _ENDPOINT_KINDS}
        for job, output in chunk:
            for request in output if isinstance(output, list) else (output,):
                endpoint = request.get("endpoint", "")
                kind = next((k for k in _ENDPOINT_KINDS if k in endpoint), None)
                if kind is not None:
                    per_endpoint[kind].append((request, job))
        for kind, items in per_endpoint.items():
            size = _MAX_BATCH[kind]
            for start in range(0, len(items), size):
                part = items[start:start + size]
                batches.append(([_batched_request([r for r, _ in part])],
                                [job for _, job in part]))
    merged = _merge_by_job(_merge_by_job(batches))
    merged.sort(key=lambda item: min((_job_id(job) for job in item[1]), default=0))
    return [Batch(request=requests[0] if len(requests) == 1 else requests, jobs=jobs)
            for requests, jobs in merged]


def _job_id(job: Job) -> int | float:
    return job.job_id or 0


def _job_key(job: Job) -> Any:
    meta = job.metadata_doc
    job_id = meta.get("jobId") if isinstance(meta, dict) else None
    return ("jobId", job_id) if job_id is not None else ("job", id(job))


def _chunks_by_type(done: list[tuple[Job, Any]]) -> list[list[tuple[Job, Any]]]:
    """groupEventsByType: each job joins the oldest chunk of its type that is not before the
    chunk of its user's previous job."""
    chunks: list[tuple[Any, list[tuple[Job, Any]]]] = []
    last_of_user: dict[Any, int] = {}
    for item in done:
        job = item[0]
        kind = job.message.get("type")
        meta = job.metadata_doc
        user = orjson.dumps(meta["userId"]) if isinstance(meta, dict) and "userId" in meta \
            else b"undefined"
        start = last_of_user.get(user, 0)
        target = next((i for i in range(start, len(chunks)) if chunks[i][0] == kind), None)
        if target is None:
            target = len(chunks)
            chunks.append((kind, []))
        chunks[target][1].append(item)
        last_of_user[user] = target
    return [items for _, items in chunks]


def _batched_request(requests: list[dict[str, Any]]) -> dict[str, Any]:
    first = requests[0]
    payloads = ",".join(r["body"]["JSON_ARRAY"]["batch"][1:-1] for r in requests)
    return rest_request(first["endpoint"], {"batch": f"[{payloads}]"}, body_format="JSON_ARRAY",
                        endpoint_path=first.get("endpointPath"), headers=first["headers"],
                        params=first["params"])


def _merge_by_job(batches: list[tuple[list[dict[str, Any]], list[Job]]]
                  ) -> list[tuple[list[dict[str, Any]], list[Job]]]:
    """combineBatchRequestsWithSameJobIds (one pass): a batch carrying a job already seen joins
    that job's batch; jobs then appear once per batch, by jobId."""
    merged: list[tuple[list[dict[str, Any]], list[Job]]] = []
    owner: dict[Any, int] = {}
    for requests, jobs in batches:
        existing = next((owner[_job_key(job)] for job in jobs if _job_key(job) in owner), None)
        if existing is None:
            index = len(merged)
            merged.append((list(requests), list(jobs)))
            for job in jobs:
                owner[_job_key(job)] = index
        else:
            merged[existing][0].extend(requests)
            for job in jobs:
                owner.setdefault(_job_key(job), existing)
                merged[existing][1].append(job)
    result = []
    for requests, jobs in merged:
        unique = unique_by(jobs, _job_key)
        unique.sort(key=_job_id)
        result.append((requests, unique))
    return result
