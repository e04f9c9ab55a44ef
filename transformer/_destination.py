"""A loaded destination: how one event becomes a request, and how a router batch is grouped.

Built by ``_catalog`` from a destination folder; immutable afterwards and shared by every request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from transformer._errors import ConfigurationError, InstrumentationError, TransformerError
from transformer.mapping import Build, Context, Source, is_truthy, to_string

#: The reference's empty request; every HTTP destination output starts from a copy of it.
BODY_FORMATS = ("JSON", "JSON_ARRAY", "XML", "FORM")
Kind = Literal["http", "stream"]


def empty_request() -> dict[str, Any]:
    return {
        "version": "1",
        "type": "REST",
        "method": "POST",
        "endpoint": "",
        "headers": {},
        "params": {},
        "body": {"JSON": {}, "JSON_ARRAY": {}, "XML": {}, "FORM": {}},
        "files": {},
    }


_NO_PATH: Any = object()
_NO_BODY: Any = object()


def rest_request(endpoint: Any, body: Any = _NO_BODY, *, method: str = "POST",
                 headers: Any = None, params: Any = None, body_format: str = "JSON",
                 endpoint_path: Any = _NO_PATH) -> dict[str, Any]:
    """A request of the reference's shape (defaultRequestConfig) with ``body`` under
    ``body_format``; ``endpointPath`` only when given (even as None). ``headers`` and ``params``
    are used as they are (not copied)."""
    request = empty_request()
    request["method"] = method
    request["endpoint"] = endpoint
    if endpoint_path is not _NO_PATH:
        request["endpointPath"] = endpoint_path
    request["headers"] = {} if headers is None else headers
    request["params"] = {} if params is None else params
    if body is not _NO_BODY:
        request["body"][body_format] = body
    return request


@dataclass(frozen=True, slots=True)
class RequestTemplate:
    """The non-body parts of a request, each compiled from a value spec."""

    endpoint: Source | None = None
    endpoint_path: Source | None = None
    method: Source | None = None
    headers: Build | None = None
    params: Build | None = None
    user_id: Source | None = None
    body_format: str = "JSON"

    def merged(self, override: RequestTemplate) -> RequestTemplate:
        return RequestTemplate(
            endpoint=override.endpoint or self.endpoint,
            endpoint_path=override.endpoint_path or self.endpoint_path,
            method=override.method or self.method,
            headers=override.headers or self.headers,
            params=override.params or self.params,
            user_id=override.user_id or self.user_id,
            body_format=override.body_format
            if override.body_format != "JSON" else self.body_format,
        )


@dataclass(frozen=True, slots=True)
class EventMapping:
    body: Build | None
    request: RequestTemplate
    #: Fields evaluated before the request is built, for their ``required`` errors only.
    checks: tuple[Source, ...] = ()


@dataclass(frozen=True, slots=True)
class MessageTypes:
    """How a destination with ``events`` reads ``message.type`` (destination.yaml
    ``message_type``); the defaults are the service's own wording."""

    #: The error for a type that is missing or falsy.
    missing: str = "Event type is required"
    #: The error for a type no event mapping takes; ``{type}`` is the type as String() prints
    #: it, ``{type_lower}`` the same lower-cased.
    unsupported: str = "Event type {type} is not supported"
    #: Whether "Track" is a different type from "track" (by default types are lower-cased).
    case_sensitive: bool = False
    #: The workflow step both errors name (cdkV2 destinations).
    step: str = ""
    #: Whether the type is checked before the config (by default the config comes first).
    before_config: bool = False
    #: Message types beyond the standard ones that the destination maps (e.g. "groupv2").
    extra: tuple[str, ...] = ()

    def unsupported_error(self, kind: Any) -> InstrumentationError:
        text = to_string(kind)
        message = self.unsupported.replace("{type}", text).replace("{type_lower}", text.lower())
        return InstrumentationError(message, step=self.step)


@dataclass(frozen=True, slots=True)
class RequiredConfig:
    """A config key that must be set (destination.yaml ``config.required``)."""

    key: str
    #: The ConfigurationError's message; None: "<key> is a required field in the destination
    #: config".
    message: str | None = None
    #: Whether the value must be truthy (the reference's assertConfig), not just present.
    truthy: bool = False

    def missing(self, config: dict[str, Any]) -> bool:
        value = config.get(self.key)
        return not is_truthy(value) if self.truthy else value is None or value == ""

    @property
    def error_message(self) -> str:
        return self.message or f"{self.key} is a required field in the destination config"


@dataclass(frozen=True, slots=True)
class Job:
    """One decoded router job; ``metadata`` stays as the bytes the router sent."""

    message: Any
    destination: dict[str, Any]
    metadata: bytes
    metadata_doc: Any = None

    @property
    def job_id(self) -> int | float | None:
        """The metadata's jobId when it is a number (what the reference's sorts compare)."""
        meta = self.metadata_doc
        job_id = meta.get("jobId") if isinstance(meta, dict) else None
        if isinstance(job_id, bool) or not isinstance(job_id, int | float) or job_id != job_id:
            return None  # (job_id != job_id: NaN)
        return job_id


@dataclass(slots=True)
class Batch:
    """One destination request carrying several jobs, as a router result."""

    request: Any
    jobs: list[Job]
    batched: bool = True


class Hooks:
    """The functions a destination's ``hooks.py`` may define; absent ones are None."""

    NAMES = ("validate", "check_config", "prepare", "finish", "process", "process_metadata",
             "batch")

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.functions = {k: v for k, v in namespace.items() if callable(v) and not k.startswith("_")}
        self.validate: Callable[[Context], None] | None = namespace.get("validate")
        self.check_config: Callable[[dict[str, Any]], None] | None = namespace.get("check_config")
        self.prepare: Callable[[Context], None] | None = namespace.get("prepare")
        self.finish: Callable[[Context, dict[str, Any]], Any] | None = namespace.get("finish")
        self.process: Callable[[Context], Any] | None = namespace.get("process")
        self.process_metadata: Callable[[Context, Any], Any] | None = namespace.get(
            "process_metadata")
        self.batch: Callable[[list[tuple[Job, Any]]], list[Batch]] | None = namespace.get("batch")


@dataclass(frozen=True)
class Destination:
    name: str
    definition_name: str
    implementation: str
    kind: Kind
    description: str
    required_config: tuple[RequiredConfig, ...]
    request: RequestTemplate
    events: dict[str, EventMapping]
    hooks: Hooks
    batch_size: int = 0
    #: Router mode without batching: a group's failed jobs come before its successes.
    router_failures_first: bool = False
    notes: str = ""
    folder: str = ""
    message_types: tuple[str, ...] = field(default=())
    #: For stream destinations: the whole output, one mapping for every message type.
    output: Build | None = None
    types: MessageTypes = field(default_factory=MessageTypes)
    #: The workflow step config errors name (cdkV2 destinations).
    config_step: str = ""
    #: Named object mappings (``tables:``) the hooks build with ``ctx.build(name)``.
    tables: Mapping[str, Build] = field(default_factory=dict)

    def transform(self, ctx: Context) -> Any:
        """The output for one event: a request dict (or a list of them), or raises."""
        hooks = self.hooks
        ctx.tables = self.tables
        if hooks.validate is not None:
            hooks.validate(ctx)
        if hooks.process is not None or self.output is not None:
            self._check_config(ctx.config)
            if hooks.process is not None:
                return hooks.process(ctx)
            if hooks.prepare is not None:
                hooks.prepare(ctx)
            output = self.output(ctx)  # type: ignore[misc]
            return hooks.finish(ctx, output) if hooks.finish is not None else output
        if self.types.before_config:
            mapping = self._mapping(ctx.message.get("type"))
            self._check_config(ctx.config)
        else:
            self._check_config(ctx.config)
            mapping = self._mapping(ctx.message.get("type"))
        if hooks.prepare is not None:
            hooks.prepare(ctx)
        for check in mapping.checks:
            check(ctx)
        output = self._build(ctx, mapping)
        if hooks.finish is not None:
            output = hooks.finish(ctx, output)
        return output

    def _mapping(self, kind: Any) -> EventMapping:
        """The event mapping for a message type, or the type's InstrumentationError."""
        every = self.events.get("*")
        if every is not None:
            return every
        types = self.types
        if not is_truthy(kind):
            raise InstrumentationError(types.missing, step=types.step)
        mapping = None
        if isinstance(kind, str):
            mapping = self.events.get(kind if types.case_sensitive else kind.lower())
        if mapping is None:
            raise types.unsupported_error(kind)
        return mapping

    def _check_config(self, config: dict[str, Any]) -> None:
        for required in self.required_config:
            if required.missing(config):
                raise ConfigurationError(required.error_message, step=self.config_step)
        if self.hooks.check_config is not None:
            self.hooks.check_config(config)

    def _build(self, ctx: Context, mapping: EventMapping) -> dict[str, Any]:
        template = mapping.request
        output = empty_request()
        if template.endpoint is not None:
            output["endpoint"] = template.endpoint(ctx) or ""
        if template.endpoint_path is not None:
            output["endpointPath"] = template.endpoint_path(ctx)
        if template.method is not None:
            output["method"] = template.method(ctx) or "POST"
        if template.headers is not None:
            output["headers"] = template.headers(ctx)
        if template.params is not None:
            output["params"] = template.params(ctx)
        if mapping.body is not None:
            output["body"][template.body_format] = mapping.body(ctx)
        if template.user_id is not None:
            output["userId"] = template.user_id(ctx)
        return output

    @property
    def batches(self) -> bool:
        """Whether router mode groups several jobs into one request."""
        return self.hooks.batch is not None

    def router_batches(self, done: list[tuple[Job, Any]]) -> list[Batch]:
        """Groups successfully transformed jobs into destination requests."""
        if self.hooks.batch is not None:
            return self.hooks.batch(done)
        return [Batch(request=output, jobs=[job], batched=False) for job, output in done]


def error_tags(dest: Destination | None, error: TransformerError, feature: str,
               metadata: Any, dest_type: str) -> dict[str, str]:
    """The statTags the reference attaches to a failed job."""
    if error.bare_tags:
        return {"errorCategory": error.error_category}
    tags = {
        "destType": dest.definition_name if dest else dest_type.upper(),
        "feature": feature,
        "implementation": dest.implementation if dest else "native",
        "module": "destination",
    }
    if error.error_category:
        tags["errorCategory"] = error.error_category
    if error.error_type:
        tags["errorType"] = error.error_type
    tags.update(error.extra_tags)
    if isinstance(metadata, dict):
        for key in ("destinationId", "workspaceId"):
            value = metadata.get(key)
            if value is not None:
                tags[key] = to_string(value)
    return tags


def chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)] if size > 0 else [items]
