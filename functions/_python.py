"""Python functions: checking the source, and the calling convention of each kind.

Only JSON crosses into the sandbox, so what a function is given besides JSON (the ``metadata``
callable of a transformation, the dispatch of a destination function to ``on_<type>``) is built
inside the sandbox by a small restricted-Python *shim* appended to the user's source. Appending
keeps the user's line numbers; the shim's names all start with ``transformer_shim_``, which user
code may not use. The shim is compiled and guarded like the user's code: it grants nothing.

Entry points the pool calls, per kind:

* transformation, ``transformEvent``: ``transformer_shim_event(event, metadata)`` per event
* transformation, ``transformBatch``: ``transformer_shim_batch(events, metadatas)`` once per batch,
  returning ``[returned, input_message_ids]`` so the caller can match outputs to inputs
* destination: ``transformer_shim_destination(event, destination)`` per event, calling
  ``on_<event type>(event, destination["Config"])``
* source: the user's ``on_request(request, settings)`` itself, per delivery
"""

from __future__ import annotations

import ast
import enum
from dataclasses import dataclass

from sandbox import CompileError, compile_function

from ._errors import InvalidFunction
from ._kinds import KINDS, MESSAGE_TYPES
from ._model import FunctionKind, Language

SHIM_PREFIX = "transformer_shim_"

# What ``metadata(event)`` shows user code: the fields RudderStack's transformations see.
METADATA_FIELDS = (
    "sourceId", "sourceName", "workspaceId", "sourceType", "sourceCategory", "destinationId",
    "destinationType", "destinationName", "namespace", "originalSourceId", "trackingPlanId",
    "trackingPlanVersion", "sourceTpConfig", "mergedTpConfig", "jobId", "sourceJobId", "sourceJobRunId",
    "sourceTaskRunId", "recordId", "messageId", "messageIds", "rudderId", "receivedAt", "eventName",
    "eventType", "sourceDefinitionId", "destinationDefinitionId", "transformationId",
    "transformationVersionId",
)

_METADATA_SHIM = f'''

{SHIM_PREFIX}metadata_fields = {METADATA_FIELDS!r}


def {SHIM_PREFIX}metadata(meta):
    if not isinstance(meta, dict):
        return {{}}
    return {{k: meta[k] for k in {SHIM_PREFIX}metadata_fields if k in meta}}


def {SHIM_PREFIX}message_id(event):
    if isinstance(event, dict):
        value = event.get("messageId")
        if isinstance(value, str):
            return value
    return None
'''

_EVENT_SHIM = f'''

def {SHIM_PREFIX}event(event, meta):
    def metadata(e=None):
        return {SHIM_PREFIX}metadata(meta)
    return transformEvent(event, metadata)
'''

_BATCH_SHIM = f'''

def {SHIM_PREFIX}batch(events, metas):
    by_id = {{}}
    ids = []
    for i in range(len(events)):
        message_id = {SHIM_PREFIX}message_id(events[i])
        ids.append(message_id)
        if message_id is not None and message_id not in by_id:
            by_id[message_id] = metas[i]

    def metadata(e=None):
        return {SHIM_PREFIX}metadata(by_id.get({SHIM_PREFIX}message_id(e)))
    return [transformBatch(events, metadata), ids]
'''

_DESTINATION_SHIM = f'''

def {SHIM_PREFIX}destination(event, destination):
    settings = destination.get("Config") if isinstance(destination, dict) else None
    if not isinstance(settings, dict):
        settings = {{}}
    kind = event.get("type") if isinstance(event, dict) else None
    kind = kind.lower() if isinstance(kind, str) else kind
    handler = {SHIM_PREFIX}handlers.get(kind) if isinstance(kind, str) else None
    if handler is None:
        raise EventNotSupported("event type " + repr(kind) + " is not supported: the function defines no "
                                + ("on_" + kind if isinstance(kind, str) else "handler for it"))
    return handler(event, settings)
'''


class Mode(enum.Enum):
    """How the pool calls a function."""

    EVENT = "event"  # transformEvent: once per event
    BATCH = "batch"  # transformBatch: once for all events
    DESTINATION = "destination"  # on_<type>: once per event
    SOURCE = "source"  # on_request: once per delivery


@dataclass(frozen=True, slots=True)
class Prepared:
    """A function's source with its shim, ready for the pool."""

    source: str
    entry: str
    mode: Mode


def prepare(kind: FunctionKind, language: Language, code: bytes, filename: str) -> Prepared:
    """Check Python ``code`` for ``kind`` and append its calling shim; raises ``InvalidFunction``."""
    if language is not Language.PYTHON:
        raise InvalidFunction(f"{language.value} code is not Python source")
    source = _decode(code)
    spec = KINDS[kind]
    try:
        compiled = compile_function(source, filename)
    except CompileError as exc:
        raise InvalidFunction(str(exc), line=exc.line, column=exc.column) from None
    _check_reserved_names(source)
    defined = [name for name in spec.entry_points if compiled.defines(name)]
    if not defined:
        names = " or ".join(f"{name}()" for name in spec.entry_points)
        raise InvalidFunction(f"a {kind.value} function must define {names} at the top level "
                              f"({spec.description})")
    if kind is FunctionKind.SOURCE:
        return Prepared(source, "on_request", Mode.SOURCE)
    shim = _METADATA_SHIM
    if kind is FunctionKind.DESTINATION:
        handlers = ", ".join(f'"{t}": on_{t}' for t in MESSAGE_TYPES if compiled.defines(f"on_{t}"))
        shim += f"\n\n{SHIM_PREFIX}handlers = {{{handlers}}}\n" + _DESTINATION_SHIM
        return Prepared(source + shim, f"{SHIM_PREFIX}destination", Mode.DESTINATION)
    if compiled.defines("transformEvent"):
        # both defined: transformEvent, as RudderStack picks it first
        return Prepared(source + shim + _EVENT_SHIM, f"{SHIM_PREFIX}event", Mode.EVENT)
    return Prepared(source + shim + _BATCH_SHIM, f"{SHIM_PREFIX}batch", Mode.BATCH)


def _decode(code: bytes) -> str:
    try:
        return code.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = code[:exc.start]
        line = before.count(b"\n") + 1
        column = len(before.rsplit(b"\n", 1)[-1].decode("utf-8", "replace")) + 1
        raise InvalidFunction(f"line {line}, column {column}: source is not UTF-8 ({exc.reason})",
                              line=line, column=column) from None


def _check_reserved_names(source: str) -> None:
    # the source compiled, so it parses
    for node in ast.walk(ast.parse(source)):
        name = _bound_or_used_name(node)
        if name is not None and name.startswith(SHIM_PREFIX):
            line, column = getattr(node, "lineno", None), getattr(node, "col_offset", None)
            column = None if column is None else column + 1
            where = f"line {line}, column {column}: " if line is not None else ""
            raise InvalidFunction(f"{where}names starting with {SHIM_PREFIX!r} are reserved",
                                  line=line, column=column)


def _bound_or_used_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name
    if isinstance(node, ast.arg):
        return node.arg
    if isinstance(node, ast.alias):
        return node.asname or node.name
    if isinstance(node, ast.Attribute):
        return node.attr
    return None
