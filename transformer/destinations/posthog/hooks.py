"""PostHog: what destination.yaml cannot say.

* ``validate``: in router mode, the reference's router input schema (``router_input_error``),
  checked before anything else; the processor checks none of it.
* ``web_properties``: the browser and host properties the reference computes (from the user agent
  on web events, and from the page URL), plus ``$screen_name`` for screen events; a dict merged
  into ``properties`` so that its values are kept even when empty, as the reference keeps them.
* ``finish``: ``properties`` always present, ids as strings, an empty or null key sent as it is,
  and a group's ``$groups`` (a key named by the group type); in router mode, the reference's
  limit on one event's size (``event_size_error``).
* ``batch``: router requests, as the reference's batching framework builds them: one
  ``{"api_key", "batch": [...]}`` body per 10 MB, jobs with ``metadata.dontBatch`` alone,
  metadata and requests in jobId order.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from transformer.hooks import (
    Batch,
    ConfigurationError,
    Context,
    InstrumentationError,
    Job,
    TransformerError,
    is_present,
    is_truthy,
    json_size,
    sort_by_min_job_id,
    to_string,
)
from transformer.useragent import parse as parse_user_agent

#: The reference's ChunkBatchStrategy limit ("10MB") for one request's JSON body.
MAX_BATCH_BYTES = 10 * 1024 * 1024
#: PostHog documents 1 MB per event; the reference keeps 100 KB of headroom.
MAX_EVENT_BYTES = 900_000


# --- mapping helpers ----------------------------------------------------------------------------


def validate(ctx: Context) -> None:
    """The reference's router validates its input before transforming; its processor does not."""
    if ctx.mode == "router":
        error = router_input_error(ctx.message, ctx.destination)
        if error is not None:
            raise error


def web_properties(ctx: Context) -> dict[str, Any]:
    """``$os``/``$browser``/``$browser_version`` from the user agent of a web event,
    ``$screen_name`` of a screen event, ``$host`` of ``context.page.url``."""
    message = ctx.message
    context = message.get("context")
    context = context if isinstance(context, dict) else {}
    extra: dict[str, Any] = {}
    user_agent = context.get("userAgent")
    if message.get("channel") == "web" and is_truthy(user_agent):
        # ua-parser-js takes an object argument for options and then parses "".
        ua = parse_user_agent("" if isinstance(user_agent, dict | list) else to_string(user_agent))
        # The reference asks get-value for a path it never passes, which returns the whole
        # message: an agent with no recognisable OS sends the event itself as $os.
        extra["$os"] = ua.os or message
        if ua.browser is not None:
            extra["$browser"] = ua.browser
        if ua.browser_version is not None:
            extra["$browser_version"] = ua.browser_version
    if message.get("type") == "screen" and message.get("event") is not None:
        extra["$screen_name"] = message["event"]
    page = context.get("page")
    url = page.get("url") if isinstance(page, dict) else None
    if is_present(url):
        host = url_host(url)
        if host is not None:
            extra["$host"] = host
    return extra


def finish(ctx: Context, output: dict[str, Any]) -> dict[str, Any]:
    """The last touches the reference gives the body after its mapping."""
    body = output["body"]["JSON"]
    properties = body.setdefault("properties", {})
    # Ids are strings for PostHog; converted only now, after the required checks saw the raw
    # value ([] is a valid id, and "" once converted).
    for holder in (body, properties):
        if holder.get("distinct_id") is not None:
            holder["distinct_id"] = to_string(holder["distinct_id"])
    if body.get("api_key") is None and "teamApiKey" in ctx.config:
        body["api_key"] = ctx.config["teamApiKey"]  # "" and null are sent as they are
    if ctx.message_type in ("group", "groupv2"):
        group_type, group_key = properties.get("$group_type"), properties.get("$group_key")
        if is_truthy(group_type) and is_truthy(group_key):
            properties["$groups"] = {to_string(group_type): group_key}
    if ctx.mode == "router":
        error = event_size_error(_item(output))
        if error is not None:
            raise error
    return output


# --- URL host -------------------------------------------------------------------------------------

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):(.*)", re.DOTALL)
_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443", "ftp": "21"}
_FORBIDDEN_HOST = re.compile(r"[\x00\t\n\r #/:<>?@\[\\\]^|]")
_FORBIDDEN_DOMAIN = re.compile(r"[\x00-\x20#%/:<>?@\[\\\]^|\x7f]")
_PERCENT = re.compile(rb"%([0-9A-Fa-f]{2})")


def url_host(value: Any) -> str | None:
    """``new URL(value).host`` in JavaScript ("" for URLs without a host, such as
    ``mailto:x``), or None when it does not parse. Follows the WHATWG URL rules the events' page
    URLs need; IPv4 numbers and IPv6 addresses are taken as written, not normalised."""
    text = re.sub(r"[\t\n\r]", "", to_string(value).strip("".join(map(chr, range(33)))))
    match = _SCHEME.fullmatch(text)
    if match is None:
        return None
    scheme, rest = match.group(1).lower(), match.group(2)
    if scheme == "file":  # file://host/path; no port, "localhost" means none
        if not re.match(r"[/\\]{2}", rest):
            return ""
        host = _domain(re.split(r"[/\\?#]", rest[2:], maxsplit=1)[0])
        return None if host is None else "" if host == "localhost" else host
    special = scheme in _DEFAULT_PORTS
    if special:
        authority = re.split(r"[/\\?#]", rest.lstrip("/\\"), maxsplit=1)[0]
    elif rest.startswith("//"):
        authority = re.split(r"[/?#]", rest[2:], maxsplit=1)[0]
    else:
        return ""  # an opaque path: no host
    host, port = _split_port(authority.rpartition("@")[2])
    if host is None or port is None:
        return None
    if special:
        host = _domain(host)
        if not host:
            return None
    elif host.startswith("[") or not _FORBIDDEN_HOST.search(host):
        host = "".join(c if c.isascii() and c.isprintable() else _percent_encode(c) for c in host)
    else:
        return None
    if port == _DEFAULT_PORTS.get(scheme):
        port = ""
    return f"{host}:{port}" if port else host


def _split_port(hostport: str) -> tuple[str | None, str | None]:
    """(host, port digits or ""), or Nones when the port is not a port."""
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            return None, None
        host, tail = hostport[: end + 1].lower(), hostport[end + 1 :]
        if tail and not tail.startswith(":"):
            return None, None
        port = tail[1:]
    else:
        host, _, port = hostport.partition(":")
    if port and not (port.isascii() and port.isdigit() and int(port) <= 65535):
        return None, None
    return host, str(int(port)) if port else ""


def _domain(host: str) -> str | None:
    """A special URL's host, percent-decoded and as ASCII (IDNA), or None when invalid."""
    if host.startswith("["):
        return host
    decoded = _PERCENT.sub(lambda m: bytes([int(m.group(1), 16)]), host.encode())
    try:
        name = decoded.decode().lower()
        if not name.isascii():
            name = name.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return None if _FORBIDDEN_DOMAIN.search(name) else name


def _percent_encode(char: str) -> str:
    return "".join(f"%{byte:02X}" for byte in char.encode())


# --- router ---------------------------------------------------------------------------------------


def batch(done: list[tuple[Job, Any]]) -> list[Batch]:
    """The reference's batching: per endpoint (and key), chunks of at most 10 MB in input order;
    a ``dontBatch`` job alone; metadata by jobId, and requests by their first jobId."""
    groups: dict[tuple[str, str], list[tuple[Job, dict[str, Any]]]] = {}
    alone: list[list[tuple[Job, dict[str, Any]]]] = []
    for job, output in done:
        key = (output["endpoint"], orjson.dumps(output["body"]["JSON"].get("api_key")).decode())
        entry = (job, output)
        meta = job.metadata_doc
        if isinstance(meta, dict) and meta.get("dontBatch") is True:
            alone.append([entry])
        else:
            groups.setdefault(key, []).append(entry)
    chunks = [chunk for entries in groups.values() for chunk in _chunks(entries)] + alone
    batches = [_batch(chunk) for chunk in chunks]
    if all(job.job_id is not None for b in batches for job in b.jobs):
        for b in batches:
            b.jobs.sort(key=lambda job: job.job_id or 0)
    return sort_by_min_job_id(batches)


def _item(output: dict[str, Any]) -> dict[str, Any]:
    """One event of the batch: the processor body without the key, which the wrapper carries."""
    return {k: v for k, v in output["body"]["JSON"].items() if k != "api_key"}


def _wrapper(output: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    api_key = output["body"]["JSON"].get("api_key")
    return {"batch": items} if api_key is None else {"api_key": api_key, "batch": items}


def _chunks(entries: list[tuple[Job, dict[str, Any]]]) -> list[list[tuple[Job, dict[str, Any]]]]:
    """Entries in order, a new chunk whenever the next item would take the body over 10 MB."""
    empty = json_size(_wrapper(entries[0][1], []))
    chunks: list[list[tuple[Job, dict[str, Any]]]] = []
    current: list[tuple[Job, dict[str, Any]]] = []
    size = empty
    for entry in entries:
        item_size = json_size(_item(entry[1]))
        grown = size + item_size + (1 if current else 0)
        if current and grown > MAX_BATCH_BYTES:
            chunks.append(current)
            current, grown = [], empty + item_size
        current.append(entry)
        size = grown
    chunks.append(current)
    return chunks


def _batch(chunk: list[tuple[Job, dict[str, Any]]]) -> Batch:
    first = chunk[0][1]
    request = {
        "version": first["version"],
        "type": first["type"],
        "method": first["method"],
        "endpoint": first["endpoint"],
        "endpointPath": "/batch",
        "headers": first["headers"],
        "params": first["params"],
        "body": {"JSON": _wrapper(first, [_item(output) for _, output in chunk]),
                 "JSON_ARRAY": {}, "XML": {}, "FORM": {}},
        "files": {},
    }
    return Batch(request=request, jobs=[job for job, _ in chunk])


# --- router-only checks ---------------------------------------------------------------------------

_ROUTER_TYPES = ("track", "page", "screen", "identify", "alias", "group")
_EXPECTED_TYPES = " | ".join(f"'{t}'" for t in _ROUTER_TYPES)


def _zod_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def router_input_error(message: dict[str, Any], destination: dict[str, Any]) -> TransformerError | None:
    """What the reference's router input schema says of a job before it is transformed, in its
    words ("message.type: Required; destination.Config.teamApiKey: Required"), or None when the
    job may go on. The processor checks none of this (it takes "Track", "groupv2", no key ...)."""
    issues: list[str] = []
    for key in ("userId", "anonymousId"):
        value = message.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, str | int | float)):
            issues.append(f"message.{key}: Invalid input")
    kind = message.get("type", ...)
    if kind is ...:
        issues.append("message.type: Required")
    elif not isinstance(kind, str):
        issues.append(f"message.type: Expected {_EXPECTED_TYPES}, received {_zod_type(kind)}")
    elif kind not in _ROUTER_TYPES:
        issues.append(f"message.type: Invalid enum value. Expected {_EXPECTED_TYPES}, "
                      f"received '{kind}'")
    if not issues and not (is_truthy(message.get("userId")) or is_truthy(message.get("anonymousId"))):
        issues.append("message: Either userId or anonymousId must be provided")
    message_issues = len(issues)
    config = destination.get("Config", ...)
    if config is ...:
        issues.append("destination.Config: Required")
    elif not isinstance(config, dict):
        issues.append(f"destination.Config: Expected object, received {_zod_type(config)}")
    else:
        key = config.get("teamApiKey", ...)
        if key is ...:
            issues.append("destination.Config.teamApiKey: Required")
        elif not isinstance(key, str):
            issues.append(f"destination.Config.teamApiKey: Expected string, received {_zod_type(key)}")
        elif not key:
            issues.append("destination.Config.teamApiKey: String must contain at least 1 character(s)")
        for name, wanted in (("useV2Group", bool), ("yourInstance", str)):
            value = config.get(name, ...)
            if value is not ... and not isinstance(value, wanted):
                expected = "boolean" if wanted is bool else "string"
                issues.append(f"destination.Config.{name}: Expected {expected}, "
                              f"received {_zod_type(value)}")
    if not issues:
        return None
    text = "; ".join(dict.fromkeys(issues))
    return ConfigurationError(text) if message_issues == 0 else InstrumentationError(text)


def event_size_error(item: dict[str, Any]) -> TransformerError | None:
    """The reference's router rejects an event whose batch item (the body without ``api_key``)
    is over 900 000 bytes of JSON; None when it is not."""
    size = json_size(item)
    if size <= MAX_EVENT_BYTES:
        return None
    return InstrumentationError(
        f"Event size ({size} bytes) exceeds PostHog's 1 MB limit. PostHog will reject this event "
        'with "maximum event size exceeded". Please reduce the size of the event properties to '
        "stay within the limit.")
