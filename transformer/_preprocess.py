"""What the reference does to every event before any destination sees it.

Two rules, both observable in outputs that echo the event:

* Events from warehouse sources (``channel: "sources"``, not already mapped to the destination)
  carry their real time elsewhere; ``timestamp`` is recomputed from it, possibly to null.
* Destination config strings of the form ``{{ event.path || "default" }}`` are filled from the
  event, and the path used is removed from the event.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from transformer.mapping import is_present

_TIMESTAMP_SOURCES = {
    "identify": ("context.timestamp", "context.traits.timestamp", "traits.timestamp",
                 "timestamp", "originalTimestamp"),
    "track": ("properties.timestamp", "timestamp", "originalTimestamp"),
}
_DYNAMIC_PATH = re.compile(r"^[A-Z_a-z]\w*(\.[A-Z_a-z]\w*)*$")


def _get(doc: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(doc, dict):
            return None
        doc = doc.get(key)
    return doc


def _unset(doc: Any, path: str) -> None:
    *parents, last = path.split(".")
    for key in parents:
        if not isinstance(doc, dict):
            return
        doc = doc.get(key)
    if isinstance(doc, dict):
        doc.pop(last, None)


def fix_source_timestamp(message: dict[str, Any]) -> None:
    if message.get("channel") != "sources" or _get(message, "context.mappedToDestination"):
        return
    kind = message.get("type")
    paths = _TIMESTAMP_SOURCES.get(kind) if isinstance(kind, str) else None
    if paths is None:
        return
    message["timestamp"] = next(
        (v for v in (_get(message, p) for p in paths) if is_present(v)), None)


def has_dynamic_config(destination: dict[str, Any], raw: bytes) -> bool:
    return b"{{" in raw and destination.get("hasDynamicConfig") is not False


def resolve_dynamic_config(destination: dict[str, Any], message: dict[str, Any],
                           metadata: Any = None) -> dict[str, Any]:
    """A copy of ``destination`` with templated config strings filled from the job.

    A template is ``{{ path || default }}``: ``path`` is read from the whole job
    (``message.*``, ``metadata.*``; ``event.*`` means ``message.*``) and removed from it when
    found; otherwise the default, without its quotes, is used.
    """
    job = {"message": message, "metadata": metadata, "destination": destination}
    resolved = copy.deepcopy(destination)
    resolved["Config"] = _resolve(resolved.get("Config"), job)
    return resolved


def _resolve(value: Any, job: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        return {k: _resolve(v, job) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, job) for v in value]
    if not isinstance(value, str) or "{{" not in value:
        return value
    text = value.strip()
    if not (text.startswith("{{") and text.endswith("}}")):
        return value
    path, separator, default = text[2:-2].strip().partition("||")
    path = path.strip()
    if not separator or not _DYNAMIC_PATH.match(path):
        return value
    if path.startswith("event."):
        path = "message." + path[len("event."):]
    found = _get(job, path)
    if found is not None:
        _unset(job, path)
        return found
    return default.replace('"', "").strip()
