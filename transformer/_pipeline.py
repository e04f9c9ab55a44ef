"""The hot path: a batch of jobs in, one result per job out, whatever the jobs contain.

This is the one place where foreign failures become per-job errors: undecodable JSON, a missing
message, an unknown destination, a bug in a destination's hooks. None of them fails the batch or
loses a job; every result carries its job's metadata bytes back untouched.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from transformer._catalog import Catalog
from transformer._clock import Clock
from transformer._destination import Batch, Destination, Job, error_tags
from transformer._errors import (
    ConfigurationError,
    InstrumentationError,
    TransformerError,
    UnexpectedError,
    UnsupportedDestination,
)
from transformer._preprocess import fix_source_timestamp, has_dynamic_config, resolve_dynamic_config
from transformer.mapping import Context, is_truthy, to_string
from transformer.v1 import transformer_pb2 as pb

_dumps = orjson.dumps
_loads = orjson.loads


@dataclass(frozen=True, slots=True)
class Stats:
    """What one batch did, for the per-batch log line and the metrics."""

    jobs: int
    results: int
    #: How many results had each status other than 200 (counted on the failure path only, so
    #: a batch of successes costs nothing to count).
    failed: dict[int, int] = field(default_factory=dict)
    #: The user function versions that ran (``name@<version prefix>``), as the metrics label them.
    functions: tuple[str, ...] = ()

    @property
    def errors(self) -> int:
        return sum(self.failed.values())

    @classmethod
    def of(cls, jobs: int, results: Iterable[Any], functions: tuple[str, ...] = ()) -> Stats:
        """Stats of finished results (anything with a ``status_code``), counted one by one."""
        failed: dict[int, int] = {}
        count = 0
        for result in results:
            count += 1
            status = result.status_code
            if status != 200:
                failed[status] = failed.get(status, 0) + 1
        return cls(jobs, count, failed, functions)


def _decode(data: bytes, what: str) -> Any:
    try:
        return _loads(data)
    except orjson.JSONDecodeError as exc:
        raise InstrumentationError(f"{what} is not valid JSON: {exc}") from None


def _unexpected(dest: Destination | None, exc: Exception) -> UnexpectedError:
    """A bug in a destination's hooks: name the function and line, keep it per job."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = ""
    if frames:
        last = frames[-1]
        where = f" in {last.name}() at {last.filename.rsplit('/', 2)[-2:][0]}/" \
                f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno}"
    name = dest.name if dest else "?"
    return UnexpectedError(
        f"destination {name} failed unexpectedly{where}: {type(exc).__name__}: {exc}"
    )


def _as_error(dest: Destination | None, exc: Exception) -> TransformerError:
    if isinstance(exc, TransformerError):
        return exc
    if isinstance(exc, RecursionError):
        return InstrumentationError("event is nested too deeply to transform")
    return _unexpected(dest, exc)


class _Destinations:
    """Decodes destination documents once per distinct byte string in a request."""

    __slots__ = ("_cache", "default")

    def __init__(self, default: bytes) -> None:
        self.default = default
        self._cache: dict[bytes, tuple[dict[str, Any], bool]] = {}

    def get(self, raw: bytes) -> tuple[bytes, dict[str, Any], bool]:
        """(bytes, document, whether its config has templates to fill per event)."""
        raw = raw or self.default
        entry = self._cache.get(raw)
        if entry is None:
            if not raw:
                raise ConfigurationError("destination is missing: set it on the job or the request")
            doc = _decode(raw, "destination")
            if not isinstance(doc, dict):
                raise ConfigurationError("destination must be a JSON object")
            entry = self._cache[raw] = (doc, has_dynamic_config(doc, raw))
        return raw, entry[0], entry[1]


class Pipeline:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def _prepare(self, job: pb.Job, dests: _Destinations) -> tuple[Context, bytes]:
        """Decode one job into a mapping context, or raise a per-job error."""
        meta_raw = job.metadata
        metadata = _decode(meta_raw, "metadata") if meta_raw else None
        if not job.message:
            raise InstrumentationError("message is missing")
        message = _decode(job.message, "message")
        if not isinstance(message, dict):
            raise InstrumentationError("message must be a JSON object")
        raw_dest, destination, dynamic = dests.get(job.destination)
        fix_source_timestamp(message)
        if dynamic:
            destination = resolve_dynamic_config(destination, message, metadata)
        return Context(message=message, destination=destination, metadata=metadata), raw_dest

    def _metadata_doc(self, raw: bytes) -> Any:
        try:
            return _loads(raw) if raw else None
        except orjson.JSONDecodeError:
            return None

    def _error_result(self, dest: Destination | None, dest_type: str, error: TransformerError,
                      metadata: bytes, feature: str) -> pb.JobResult:
        tags = error_tags(dest, error, feature, self._metadata_doc(metadata), dest_type)
        message = error.processor_message(dest.implementation if dest else "")
        return pb.JobResult(status_code=error.status_code, metadata=metadata, error=message,
                            stat_tags=tags)

    def _run(self, dest: Destination, ctx: Context, call: Any = None, *args: Any) -> Any:
        """Run destination code, turning its unintended failures into per-job errors."""
        try:
            return (call or dest.transform)(ctx, *args)
        except TransformerError:
            raise
        except Exception as exc:
            raise _as_error(dest, exc) from exc

    def transform(self, request: pb.TransformRequest, clock: Clock) -> tuple[pb.TransformResponse, Stats]:
        """Processor mode: each job becomes one result (or several, when one event needs
        several destination requests)."""
        dest_type = request.destination_type
        dest = self.catalog.get(dest_type)
        dests = _Destinations(request.destination)
        results: list[pb.JobResult] = []
        failed: dict[int, int] = {}
        for job in request.jobs:
            try:
                if dest is None:
                    raise UnsupportedDestination(f"destination type {dest_type!r} is not supported")
                ctx, _ = self._prepare(job, dests)
                ctx.clock = clock
                output = self._run(dest, ctx)
                metadata = job.metadata
                if dest.hooks.process_metadata is not None:
                    rewritten = self._run(dest, ctx, dest.hooks.process_metadata, output)
                    if rewritten is not None:  # None: the job's metadata as it came
                        metadata = _dumps(rewritten)
                for item in output if isinstance(output, list) else [output]:
                    results.append(pb.JobResult(status_code=200, output=_encode_output(item),
                                                metadata=metadata))
            except Exception as exc:  # every failure stays with its job
                error = _as_error(dest, exc)
                failed[error.status_code] = failed.get(error.status_code, 0) + 1
                results.append(self._error_result(dest, dest_type, error, job.metadata, "processor"))
        response = pb.TransformResponse(results=results, request_id=request.request_id)
        return response, Stats(len(request.jobs), len(results), failed)

    def router_transform(self, request: pb.TransformRequest,
                         clock: Clock) -> tuple[pb.RouterTransformResponse, Stats]:
        """Router mode: jobs grouped by destination (ID, then config) in first-seen order,
        transformed, then batched into requests by the destination's batching rules."""
        dest_type = request.destination_type
        dest = self.catalog.get(dest_type)
        dests = _Destinations(request.destination)
        groups: dict[Any, list[pb.Job]] = {}
        for job in request.jobs:
            groups.setdefault(self._group_key(job, dests), []).append(job)
        results: list[pb.RouterResult] = []
        failed: dict[int, int] = {}
        for jobs in groups.values():
            group_results, group_failures = self._router_group(dest, dest_type, jobs, dests, clock)
            results.extend(group_results)
            for failure in group_failures:
                failed[failure.status_code] = failed.get(failure.status_code, 0) + 1
        response = pb.RouterTransformResponse(results=results, request_id=request.request_id)
        return response, Stats(len(request.jobs), len(results), failed)

    @staticmethod
    def _group_key(job: pb.Job, dests: _Destinations) -> Any:
        try:
            _, doc, _ = dests.get(job.destination)
        except TransformerError:
            return None
        config_key = None
        # As the reference: configs split groups unless the destination says its config is static.
        if doc.get("hasDynamicConfig") is not False:
            try:
                config_key = _dumps(doc.get("Config"), option=orjson.OPT_SORT_KEYS)
            except TypeError:
                config_key = None
        return (orjson.dumps(doc.get("ID")), config_key)

    def _router_group(
        self, dest: Destination | None, dest_type: str, jobs: list[pb.Job], dests: _Destinations,
        clock: Clock,
    ) -> tuple[list[pb.RouterResult], list[pb.RouterResult]]:
        """(the group's results, those of them that failed)."""
        done: list[tuple[Job, Any]] = []
        raw_dest_of: dict[int, bytes] = {}
        shared: dict[str, Any] = {}
        # Without batching, results keep input order; with it, batches come first, then errors.
        ordered: list[pb.RouterResult | Job] = []
        failures: list[pb.RouterResult] = []
        for job in jobs:
            raw_dest = job.destination or dests.default
            try:
                if dest is None:
                    raise UnsupportedDestination(f"destination type {dest_type!r} is not supported")
                ctx, raw_dest = self._prepare(job, dests)
                ctx.clock = clock
                ctx.mode = "router"
                ctx.shared = shared
                output = self._run(dest, ctx)
                decoded = Job(message=ctx.message, destination=ctx.destination,
                              metadata=job.metadata, metadata_doc=ctx.metadata)
                raw_dest_of[id(decoded)] = raw_dest
                done.append((decoded, output))
                ordered.append(decoded)
            except Exception as exc:  # every failure stays with its job
                failure = self._router_error(dest, dest_type, _as_error(dest, exc), [job.metadata],
                                             raw_dest, jobs[0].metadata)
                failures.append(failure)
                ordered.append(failure)
        if dest is None or not done:
            return failures, failures
        try:
            batches = dest.router_batches(done)
        except Exception as exc:  # a failed batch fails its jobs, not the request
            reason = _as_error(dest, exc)
            failed = [self._router_error(dest, dest_type, reason, [job.metadata],
                                         raw_dest_of[id(job)], jobs[0].metadata) for job, _ in done]
            return failed + failures, failed + failures
        if dest.batches:
            return [_router_success(b, raw_dest_of[id(b.jobs[0])]) for b in batches] + failures, \
                failures
        by_job = {id(b.jobs[0]): b for b in batches}
        if dest.router_failures_first:
            ordered = [*failures, *(item for item in ordered if isinstance(item, Job))]
        results = [
            item if isinstance(item, pb.RouterResult)
            else _router_success(by_job[id(item)], raw_dest_of[id(item)])
            for item in ordered
        ]
        return results, failures

    def _router_error(self, dest: Destination | None, dest_type: str, error: TransformerError,
                      metadata: list[bytes], raw_dest: bytes, group_metadata: bytes) -> pb.RouterResult:
        # As the reference does, ids in statTags are those of the group's first job.
        tags = error_tags(dest, error, "router", self._metadata_doc(group_metadata), dest_type)
        return pb.RouterResult(metadata=metadata, batched=False, status_code=error.status_code,
                               destination=raw_dest, error=error.message, stat_tags=tags)


def _encode_output(output: Any) -> bytes:
    if isinstance(output, dict):
        user_id = output.get("userId")
        output["userId"] = to_string(user_id) if is_truthy(user_id) else ""
    return _dumps(output)


def _router_success(batch: Batch, raw_dest: bytes) -> pb.RouterResult:
    request = batch.request
    # As the reference does: a lone request's userId is stringified when truthy, each request
    # of a list when not null.
    if isinstance(request, list):
        for item in request:
            if isinstance(item, dict) and item.get("userId") is not None:
                item["userId"] = to_string(item["userId"])
    elif isinstance(request, dict) and is_truthy(request.get("userId")):
        request["userId"] = to_string(request["userId"])
    return pb.RouterResult(
        batched_request=_dumps(request),
        metadata=[job.metadata for job in batch.jobs],
        batched=batch.batched,
        status_code=200,
        destination=raw_dest,
    )
