"""User functions in the service: refs resolved to runnable programs, and the RPCs that run them.

* ``UserTransform`` (rudder-transformer ``/customTransform``): jobs grouped by
  (metadata.destinationId, metadata.sourceId); the group's destination ``Transformations[].VersionID``
  name transformations in ``metadata.workspaceId``'s workspace, applied in order, each in one
  sandbox request for the whole group.
* Destination functions: ``Transform``/``RouterTransform`` with destination type ``function`` run
  the destination function that the destination's ``Config.functionRef`` names.
* ``SourceTransform`` with a ``function``: a source function turns each delivery into events;
  with only a ``source_type``: a built-in source (``transformer.sources``) does, in this process.

Events travel to the sandbox as the bytes the router sent and come back as the bytes the function
produced: nothing is decoded on the hot path but each job's metadata (for grouping) and each
distinct destination document.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson
import structlog

from functions import (
    Failure,
    FunctionKind,
    InvalidFunction,
    NotFound,
    Outcome,
    Program,
    Reason,
    Registry,
    Runner,
    StoreUnavailable,
    make_program,
)
from sandbox import LimitPolicy
from transformer._metrics import Metrics
from transformer._pipeline import Stats
from transformer.sources import SOURCES, BadDelivery
from transformer.v1 import transformer_pb2 as pb

#: ``destination_type`` of a Transform/RouterTransform whose destination is a user function.
FUNCTION_DESTINATION = "function"

log = structlog.get_logger("transformer.functions")

_loads = orjson.loads
_dumps = orjson.dumps

# (errorCategory, errorType) of each kind of failure, as statTags
_TAGS: dict[Reason, tuple[str, str]] = {
    Reason.DROPPED: ("transformation", "filtered"),
    Reason.INVALID_EVENT: ("dataValidation", "instrumentation"),
    Reason.NOT_SUPPORTED: ("dataValidation", "instrumentation"),
    Reason.FUNCTION_ERROR: ("transformation", "aborted"),
    Reason.LIMIT: ("transformation", "aborted"),
    Reason.RETRY: ("network", "retryable"),
    Reason.SANDBOX: ("platform", "retryable"),
}
_MAX_LOGGED_LINES = 20


class JobError(Exception):
    """A job (or a whole group) cannot run: the status, message and statTags it gets."""

    def __init__(self, status: int, message: str, category: str, error_type: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.category = category
        self.error_type = error_type


def _bad_job(message: str) -> JobError:
    return JobError(400, message, "dataValidation", "instrumentation")


def _bad_config(message: str) -> JobError:
    return JobError(400, message, "dataValidation", "configuration")


def failure_error(program: Program, failure: Failure) -> JobError:
    category, error_type = _TAGS[failure.reason]
    return JobError(failure.status, f"{program.label}: {failure.message}", category, error_type)


# --- resolving refs -----------------------------------------------------------------------------


class Resolver:
    """Function refs to programs, cached.

    A ref (``name``, ``name@alias``, ``name@<id>`` or a bare version id) is looked up at most once
    per ``ttl_s`` per workspace, so alias moves reach every replica within that time; refs that do
    not exist are remembered as long. Programs are cached by version id for good (versions never
    change). ``forget`` drops a workspace's refs at once (called when this replica's registry
    changes them).

    Replicas sharing PostgreSQL learn of alias moves by this short TTL (1 s by default, so a move
    is used everywhere within 2 s), not by LISTEN/NOTIFY: the bound then holds by construction,
    with no dedicated listening connection whose drop or reconnect could miss a move, at the cost
    of one indexed lookup per ref per replica per TTL. When the registry cannot be reached, a ref
    that resolved before keeps its last program (checked again after each TTL), so a replica that
    loses its database keeps running the functions it already runs.
    """

    def __init__(self, registry: Registry, policy: LimitPolicy, ttl_s: float = 1.0, *,
                 max_refs: int = 4096, max_programs: int = 1024,
                 clock: Callable[[], float] = time.monotonic, metrics: Metrics | None = None) -> None:
        self.registry = registry
        self.metrics = metrics or Metrics()
        self.policy = policy
        self._ttl_s = ttl_s
        self._clock = clock
        self._refs: dict[tuple[str, str], tuple[float, Program | JobError]] = {}
        self._max_refs = max_refs
        self._programs: OrderedDict[str, Program] = OrderedDict()
        self._max_programs = max_programs

    def forget(self, workspace: str) -> None:
        for key in [k for k in self._refs if k[0] == workspace]:
            self._refs.pop(key, None)

    async def program(self, workspace: str, ref: str, kind: FunctionKind) -> Program:
        """The program ``ref`` names in ``workspace``; raises ``JobError`` (410 when there is none,
        500 when the registry cannot be reached, 400 when it is not a ``kind`` function)."""
        key = (workspace, ref)
        now = self._clock()
        entry = self._refs.get(key)
        if entry is not None and entry[0] > now:
            self.metrics.cache_hit.inc()
            found = entry[1]
        else:
            self.metrics.cache_miss.inc()
            try:
                found = await asyncio.to_thread(self._lookup, workspace, ref)
            except JobError as exc:  # the registry is unreachable
                if entry is None or isinstance(entry[1], JobError):
                    raise
                found = entry[1]
                log.warning("function registry unavailable; running the version resolved before",
                            workspace=workspace, ref=ref, function=found.label,
                            error=exc.message)
            if len(self._refs) >= self._max_refs:
                self._prune(now)
            self._refs[key] = (now + self._ttl_s, found)
        if isinstance(found, JobError):
            raise found
        if found.kind is not kind:
            raise _bad_config(f"{ref!r} is a {found.kind.value} function, not a {kind.value} function")
        return found

    def _lookup(self, workspace: str, ref: str) -> Program | JobError:
        try:
            version = self.registry.resolve(workspace, ref)
            program = self._programs.get(version.version_id)
            if program is None:
                program = make_program(version, self.registry.code(version), self.policy)
                self._programs[version.version_id] = program
                while len(self._programs) > self._max_programs:
                    self._programs.popitem(last=False)
            return program
        except NotFound as exc:
            return JobError(410, f"unknown function version: {exc.message}", "dataValidation",
                            "configuration")
        except InvalidFunction as exc:
            return _bad_config(f"function {ref!r} cannot run: {exc.message}")
        except StoreUnavailable as exc:
            # not remembered: the next batch tries again
            raise JobError(500, f"function registry unavailable: {exc.message}", "platform",
                           "retryable") from exc

    def _prune(self, now: float) -> None:
        for key in [k for k, (expires, _) in self._refs.items() if expires <= now]:
            del self._refs[key]
        if len(self._refs) >= self._max_refs:
            self._refs.clear()


# --- helpers ------------------------------------------------------------------------------------


def _is_object(raw: bytes) -> bool:
    return raw[:1] == b"{" or raw.lstrip()[:1] == b"{"


def _decode_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = _loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _bad_job(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise _bad_job(f"{what} must be a JSON object")
    return value


class _Documents:
    """Destination documents, decoded once per distinct byte string in a request."""

    def __init__(self, default: bytes) -> None:
        self.default = default
        self._cache: dict[bytes, dict[str, Any] | JobError] = {}
        self._default_doc: dict[str, Any] | None = None

    def document(self, raw: bytes) -> dict[str, Any]:
        if not raw:  # most jobs leave theirs to the request's
            default = self._default_doc
            if default is None:
                default = self._default_doc = self.get(b"")[1]
            return default
        return self.get(raw)[1]

    def get(self, raw: bytes) -> tuple[bytes, dict[str, Any]]:
        raw = raw or self.default
        doc = self._cache.get(raw)
        if doc is None:
            try:
                if not raw:
                    raise _bad_config("destination is missing: set it on the job or the request")
                doc = _decode_object(raw, "destination")
            except JobError as exc:
                doc = exc
            self._cache[raw] = doc
        if isinstance(doc, JobError):
            raise doc
        return raw, doc


def _hashable(value: Any) -> Any:
    return value if value is None or isinstance(value, (str, int, float)) else _dumps(value)


def _tags(error: JobError, meta: dict[str, Any] | None, feature: str, dest_type: str) -> dict[str, str]:
    tags = {"errorCategory": error.category, "feature": feature, "module": "transformation",
            "implementation": "python", "destType": dest_type}
    if error.error_type:
        tags["errorType"] = error.error_type
    if meta:
        for key in ("destinationId", "sourceId", "workspaceId", "transformationId"):
            value = meta.get(key)
            if value is not None:
                tags[key] = value if isinstance(value, str) else _dumps(value).decode()
    return tags


def _log_function_output(program: Program, outcomes: Iterable[Outcome], extra: Sequence[str] = ()) -> None:
    lines = [*extra]
    for outcome in outcomes:
        if outcome.logs:
            lines.extend(outcome.logs)
    if lines:
        log.info("function_logs", function=program.label, lines=lines[:_MAX_LOGGED_LINES], total=len(lines))


def _new_metadata(first: dict[str, Any], output: bytes) -> bytes:
    """Metadata for an event ``transformBatch`` made up (it carries no input's messageId): the
    group's first job's, with a fresh messageId and the event's name and type (as the reference)."""
    event = _loads(output)
    return _dumps({**first, "messageId": str(uuid.uuid4()), "eventName": event.get("event"),
                   "eventType": event.get("type")})


# --- UserTransform ------------------------------------------------------------------------------


class UserFunctions:
    """The RPCs that run user functions."""

    def __init__(self, resolver: Resolver, runner: Runner, metrics: Metrics | None = None) -> None:
        self.resolver = resolver
        self.runner = runner
        self.metrics = metrics or resolver.metrics

    # UserTransform ------------------------------------------------------------------------------

    async def user_transform(self, request: pb.TransformRequest) -> tuple[pb.TransformResponse, Stats]:
        # The hot path: each job's fields are read once (upb copies bytes on every access), only
        # metadata is decoded, results are built in place in the response.
        jobs = request.jobs
        count = len(jobs)
        docs = _Documents(request.destination)
        # per job: its results, each a (output, metadata) pair for a success or a finished JobResult
        results: list[list[Any]] = [[] for _ in range(count)]
        messages: list[bytes] = [b""] * count
        raw_metas: list[bytes] = [b""] * count
        metas: list[dict[str, Any] | None] = [None] * count
        dests: list[dict[str, Any] | None] = [None] * count
        groups: dict[tuple[Any, Any], list[int]] = {}
        dest_type = request.destination_type
        loads = _loads
        for index, job in enumerate(jobs):
            raw_meta = raw_metas[index] = job.metadata
            message = messages[index] = job.message
            try:
                if raw_meta:
                    try:
                        meta = loads(raw_meta)
                    except orjson.JSONDecodeError as exc:
                        raise _bad_job(f"metadata is not valid JSON: {exc}") from None
                    if type(meta) is not dict:
                        raise _bad_job("metadata must be a JSON object")
                else:
                    meta = {}
                metas[index] = meta
                if message[:1] != b"{" and not _is_object(message):
                    raise _bad_job("message must be a JSON object" if message else "message is missing")
                dests[index] = docs.document(job.destination)
            except JobError as exc:
                results[index].append(self._error(exc, raw_meta, metas[index], dest_type))
                continue
            key = (meta.get("destinationId"), meta.get("sourceId"))
            try:
                members = groups.get(key)
            except TypeError:  # an id that is a list or an object
                key = (_hashable(key[0]), _hashable(key[1]))
                members = groups.get(key)
            if members is None:
                groups[key] = [index]
            else:
                members.append(index)
        ran = await asyncio.gather(*(self._user_group(request, indices, messages, raw_metas, metas, dests,
                                                      results) for indices in groups.values()))
        response = pb.TransformResponse(request_id=request.request_id)
        add, append = response.results.add, response.results.append
        failed: dict[int, int] = {}
        for entries in results:
            for entry in entries:
                if type(entry) is tuple:
                    add(status_code=200, output=entry[0], metadata=entry[1])
                else:
                    append(entry)
                    failed[entry.status_code] = failed.get(entry.status_code, 0) + 1
        return response, Stats(count, len(response.results), failed, _labels(ran))

    async def _user_group(self, request: pb.TransformRequest, indices: list[int], messages: list[bytes],
                          raw_metas: list[bytes], metas: list[dict[str, Any] | None],
                          dests: list[dict[str, Any] | None], results: list[list[Any]]) -> list[str]:
        """Run a group's transformations; returns the labels of the function versions that ran."""
        dest_type = request.destination_type
        first = indices[0]
        first_meta = metas[first] or {}
        try:
            programs = await self._transformations(first_meta, dests[first] or {})
        except JobError as exc:
            for index in indices:
                results[index].append(self._error(exc, raw_metas[index], metas[index], dest_type))
            return []
        ran: list[str] = []
        # events in flight: (job index, metadata to return with it, event JSON)
        items = [(index, raw_metas[index], messages[index]) for index in indices]
        dropped: dict[int, str] = {}
        for program in programs:
            if not items:
                break
            run = await self.runner.run(program, [(event, meta) for _, meta, event in items])
            ran.append(program.label)
            _log_function_output(program, run.outcomes, run.logs)
            following: list[tuple[int, bytes, bytes]] = []
            keep = following.append
            failed: dict[int, int] = {}  # per status, for the metrics
            for item, outcome in zip(items, run.outcomes, strict=True):
                failure = outcome.failure
                outputs = outcome.outputs
                if failure is None and len(outputs) == 1:
                    keep((item[0], item[1], outputs[0]))
                    continue
                index, meta, _ = item
                if failure is None:
                    if outputs:
                        following.extend((index, meta, output) for output in outputs)
                        continue
                    dropped[index] = f"{program.label} returned no event"
                    failed[298] = failed.get(298, 0) + 1
                    continue
                self._count_failure(program, failure, failed)
                if failure.reason is Reason.DROPPED:
                    dropped[index] = f"{program.label}: {failure.message}"
                else:
                    results[index].append(self._error(failure_error(program, failure), meta,
                                                      metas[index], dest_type))
            self.metrics.function_run(program.label, len(items), failed)
            for output in run.unmatched:
                keep((first, _new_metadata(first_meta, output), output))
            items = following
        for index, meta, event in items:
            results[index].append((event, meta))
        for index in indices:
            if not results[index]:
                drop = JobError(298, dropped.get(index, "dropped"), "transformation", "filtered")
                results[index].append(self._error(drop, raw_metas[index], metas[index], dest_type))
        return ran

    async def _transformations(self, meta: dict[str, Any], destination: dict[str, Any]) -> list[Program]:
        refs = []
        transformations = destination.get("Transformations")
        for item in transformations if isinstance(transformations, list) else []:
            ref = item.get("VersionID") if isinstance(item, dict) else None
            if isinstance(ref, str) and ref:
                refs.append(ref)
        if not refs:
            raise _bad_config("Transformation VersionID not found")
        workspace = meta.get("workspaceId")
        if not isinstance(workspace, str) or not workspace:
            raise _bad_job("metadata.workspaceId is required to find the transformation")
        return [await self.resolver.program(workspace, ref, FunctionKind.TRANSFORMATION) for ref in refs]

    def _count_failure(self, program: Program, failure: Failure, failed: dict[int, int]) -> None:
        status = failure.status
        failed[status] = failed.get(status, 0) + 1
        if failure.reason is Reason.LIMIT:
            self.metrics.limit_violation(failure.limit, program.label)

    def _count_run(self, program: Program, outcomes: Iterable[Outcome]) -> None:
        """Metrics of one run of ``program`` (destination and source functions)."""
        failed: dict[int, int] = {}
        inputs = 0
        for outcome in outcomes:
            inputs += 1
            if outcome.failure is not None:
                self._count_failure(program, outcome.failure, failed)
            elif not outcome.outputs:
                failed[298] = failed.get(298, 0) + 1
        self.metrics.function_run(program.label, inputs, failed)

    @staticmethod
    def _error(error: JobError, metadata: bytes, meta: dict[str, Any] | None, dest_type: str,
               feature: str = "user_transformation") -> pb.JobResult:
        return pb.JobResult(status_code=error.status, metadata=metadata, error=error.message,
                            stat_tags=_tags(error, meta, feature, dest_type))

    # destination functions -----------------------------------------------------------------------

    async def destination_transform(self, request: pb.TransformRequest,
                                    router: bool) -> tuple[Any, Stats]:
        """Transform/RouterTransform for destination type ``function``: one result per job."""
        jobs = request.jobs
        docs = _Documents(request.destination)
        feature = "router" if router else "processor"
        outcomes: list[tuple[Program, Outcome] | JobError | None] = [None] * len(jobs)
        metas: list[dict[str, Any] | None] = [None] * len(jobs)
        raw_dests: list[bytes] = [job.destination or request.destination for job in jobs]
        groups: dict[tuple[str, str], list[int]] = {}
        for index, job in enumerate(jobs):
            try:
                meta = metas[index] = _decode_object(job.metadata, "metadata") if job.metadata else {}
                if not job.message or not _is_object(job.message):
                    raise _bad_job("message must be a JSON object")
                raw_dests[index], destination = docs.get(job.destination)
                config = destination.get("Config")
                ref = config.get("functionRef") if isinstance(config, dict) else None
                if not isinstance(ref, str) or not ref:
                    raise _bad_config("destination Config.functionRef must name the destination function")
                workspace = meta.get("workspaceId") or destination.get("WorkspaceID")
                if not isinstance(workspace, str) or not workspace:
                    raise _bad_job("metadata.workspaceId (or destination WorkspaceID) is required to "
                                   "find the destination function")
            except JobError as exc:
                outcomes[index] = exc
                continue
            groups.setdefault((workspace, ref), []).append(index)

        async def run_group(workspace: str, ref: str, indices: list[int]) -> list[str]:
            try:
                program = await self.resolver.program(workspace, ref, FunctionKind.DESTINATION)
            except JobError as exc:
                for index in indices:
                    outcomes[index] = exc
                return []
            run = await self.runner.run(program, [(jobs[i].message, raw_dests[i]) for i in indices])
            _log_function_output(program, run.outcomes, run.logs)
            self._count_run(program, run.outcomes)
            for index, outcome in zip(indices, run.outcomes, strict=True):
                outcomes[index] = (program, outcome)
            return [program.label]

        ran = _labels(await asyncio.gather(*(run_group(w, r, indices) for (w, r), indices in groups.items())))
        dest_type = request.destination_type
        if router:
            router_results = [self._router_result(job, raw_dests[i], metas[i], outcomes[i], dest_type)
                              for i, job in enumerate(jobs)]
            return pb.RouterTransformResponse(results=router_results, request_id=request.request_id), \
                Stats.of(len(jobs), router_results, ran)
        results: list[pb.JobResult] = []
        for index, job in enumerate(jobs):
            found = outcomes[index]
            assert found is not None
            if isinstance(found, JobError):
                results.append(self._error(found, job.metadata, metas[index], dest_type, feature))
                continue
            program, outcome = found
            if outcome.status == 200:
                results.extend(pb.JobResult(status_code=200, output=output, metadata=job.metadata)
                               for output in outcome.outputs)
            else:
                results.append(self._error(_outcome_error(program, outcome), job.metadata, metas[index],
                                           dest_type, feature))
        return pb.TransformResponse(results=results, request_id=request.request_id), \
            Stats.of(len(jobs), results, ran)

    def _router_result(self, job: pb.Job, raw_dest: bytes, meta: dict[str, Any] | None,
                       found: tuple[Program, Outcome] | JobError | None, dest_type: str) -> pb.RouterResult:
        assert found is not None
        if not isinstance(found, JobError):
            program, outcome = found
            if outcome.status == 200:
                outputs = outcome.outputs
                request = outputs[0] if len(outputs) == 1 else b"[" + b",".join(outputs) + b"]"
                return pb.RouterResult(batched_request=request, metadata=[job.metadata], batched=False,
                                       status_code=200, destination=raw_dest)
            found = _outcome_error(program, outcome)
        return pb.RouterResult(metadata=[job.metadata], batched=False, status_code=found.status,
                               destination=raw_dest, error=found.message,
                               stat_tags=_tags(found, meta, "router", dest_type))

    # SourceTransform -----------------------------------------------------------------------------

    async def source_transform(self, request: pb.SourceTransformRequest) -> tuple[pb.SourceTransformResponse,
                                                                                   Stats]:
        deliveries = request.requests
        try:
            if not request.function:
                return self._builtin_source(request)
            if not request.workspace:
                raise _bad_config("workspace is required to find the source function")
            settings = request.settings or b"{}"
            if not _is_object(settings):
                raise _bad_config("settings must be a JSON object")
            program = await self.resolver.program(request.workspace, request.function, FunctionKind.SOURCE)
        except JobError as exc:
            failed = [self._source_error(exc) for _ in deliveries]
            return pb.SourceTransformResponse(results=failed, request_id=request.request_id), \
                Stats.of(len(deliveries), failed)
        run = await self.runner.run(program, [(delivery, settings) for delivery in deliveries])
        _log_function_output(program, run.outcomes, run.logs)
        self._count_run(program, run.outcomes)
        results = []
        for outcome in run.outcomes:
            if outcome.failure is None:
                results.append(pb.SourceResult(status_code=200, events=outcome.outputs))
            else:
                results.append(self._source_error(failure_error(program, outcome.failure)))
        return pb.SourceTransformResponse(results=results, request_id=request.request_id), \
            Stats.of(len(deliveries), results, (program.label,))

    def _builtin_source(self, request: pb.SourceTransformRequest) -> tuple[pb.SourceTransformResponse, Stats]:
        """A built-in source (``transformer/sources/<type>/``), trusted code run in this process."""
        deliveries = request.requests
        on_request = SOURCES.get(request.source_type)
        results: list[pb.SourceResult] = []
        try:
            if on_request is None:
                raise _bad_config(f"source type {request.source_type!r} is not supported: the built-in "
                                  f"sources are {', '.join(sorted(SOURCES))}; or name a source function")
            settings = _decode_object(request.settings or b"{}", "settings")
        except JobError as exc:
            results = [self._source_error(exc) for _ in deliveries]
        else:
            for delivery in deliveries:
                try:
                    events = on_request(_decode_object(delivery, "the delivery"), settings)
                    results.append(pb.SourceResult(status_code=200, events=[orjson.dumps(e) for e in events]))
                except JobError as exc:
                    results.append(self._source_error(exc))
                except BadDelivery as exc:
                    results.append(self._source_error(_bad_job(str(exc))))
                except Exception as exc:  # a bug in a built-in source fails its delivery, not the call
                    log.exception("built-in source failed", source_type=request.source_type)
                    results.append(self._source_error(JobError(
                        500, f"{request.source_type}: {type(exc).__name__}: {exc}", "transformation",
                        "exception")))
        return pb.SourceTransformResponse(results=results, request_id=request.request_id), \
            Stats.of(len(deliveries), results)

    @staticmethod
    def _source_error(error: JobError) -> pb.SourceResult:
        tags = {"errorCategory": error.category, "feature": "source", "module": "source",
                "implementation": "python"}
        if error.error_type:
            tags["errorType"] = error.error_type
        return pb.SourceResult(status_code=error.status, error=error.message, stat_tags=tags)


def _labels(ran: Iterable[list[str]]) -> tuple[str, ...]:
    """The distinct function versions that ran, in first-run order."""
    return tuple(dict.fromkeys(label for labels in ran for label in labels))


def _outcome_error(program: Program, outcome: Outcome) -> JobError:
    if outcome.failure is not None:
        return failure_error(program, outcome.failure)
    return JobError(298, f"{program.label} returned nothing", "transformation", "filtered")
