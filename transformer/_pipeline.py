"""The hot path: a batch of jobs in, one result per job out, whatever the jobs contain.

This is the one place where foreign failures become per-job errors: undecodable JSON, a missing
message, an unknown destination, a bug in a destination's hooks. None of them fails the batch or
loses a job; every result carries its job's metadata bytes back untouched.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from transformer._catalog import Catalog
from transformer._clock import Clock
from transformer._destination import Batch, Destination, Job, error_tags
from transformer._errors import (
    ConfigurationError,
    InstrumentationError,
    TransformationError,
    TransformerError,
    UnsupportedDestination,
)
from transformer.mapping import Context, is_truthy, to_string
from transformer.v1 import transformer_pb2 as pb

_dumps = orjson.dumps
_loads = orjson.loads


@dataclass(frozen=True, slots=True)
class Stats:
    """What one batch did, for the per-batch log line."""

    jobs: int
    results: int
    errors: int


def _decode(data: bytes, what: str) -> Any:
    try:
        return _loads(data)
    except orjson.JSONDecodeError as exc:
        raise InstrumentationError(f"{what} is not valid JSON: {exc}") from None


def _unexpected(dest: Destination | None, exc: Exception) -> TransformationError:
    """A bug in a destination's hooks: name the function and line, keep it per job."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = ""
    if frames:
        last = frames[-1]
        where = f" in {last.name}() at {last.filename.rsplit('/', 2)[-2:][0]}/" \
                f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno}"
    name = dest.name if dest else "?"
    return TransformationError(
        f"destination {name} failed unexpectedly{where}: {type(exc).__name__}: {exc}"
    )


class _Destinations:
    """Decodes destination documents once per distinct byte string in a request."""

    __slots__ = ("_cache", "_default")

    def __init__(self, default: bytes) -> None:
        self._default = default
        self._cache: dict[bytes, Any] = {}

    def get(self, raw: bytes) -> tuple[bytes, dict[str, Any]]:
        raw = raw or self._default
        doc = self._cache.get(raw)
        if doc is None:
            if not raw:
                raise ConfigurationError("destination is missing: set it on the job or the request")
            doc = _decode(raw, "destination")
            if not isinstance(doc, dict):
                raise ConfigurationError("destination must be a JSON object")
            self._cache[raw] = doc
        return raw, doc


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
        raw_dest, destination = dests.get(job.destination)
        return Context(message=message, destination=destination, metadata=metadata), raw_dest

    def _metadata_doc(self, raw: bytes) -> Any:
        try:
            return _loads(raw) if raw else None
        except orjson.JSONDecodeError:
            return None

    def _error_result(self, dest: Destination | None, dest_type: str, error: TransformerError,
                      metadata: bytes, feature: str) -> pb.JobResult:
        tags = error_tags(dest, error, feature, self._metadata_doc(metadata), dest_type)
        return pb.JobResult(status_code=error.status_code, metadata=metadata, error=error.message,
                            stat_tags=tags)

    def _run(self, dest: Destination, ctx: Context) -> Any:
        try:
            return dest.transform(ctx)
        except TransformerError:
            raise
        except RecursionError:
            raise InstrumentationError("event is nested too deeply to transform") from None
        except Exception as exc:
            raise _unexpected(dest, exc) from exc

    def transform(self, request: pb.TransformRequest, clock: Clock) -> tuple[pb.TransformResponse, Stats]:
        """Processor mode: each job becomes one result (or several, when one event needs
        several destination requests)."""
        dest_type = request.destination_type
        dest = self.catalog.get(dest_type)
        dests = _Destinations(request.destination)
        results: list[pb.JobResult] = []
        errors = 0
        for job in request.jobs:
            try:
                if dest is None:
                    raise UnsupportedDestination(f"destination type {dest_type!r} is not supported")
                ctx, _ = self._prepare(job, dests)
                ctx.clock = clock
                output = self._run(dest, ctx)
                for item in output if isinstance(output, list) else [output]:
                    results.append(pb.JobResult(status_code=200, output=_encode_output(item),
                                                metadata=job.metadata))
            except TransformerError as error:
                errors += 1
                results.append(self._error_result(dest, dest_type, error, job.metadata, "processor"))
        response = pb.TransformResponse(results=results, request_id=request.request_id)
        return response, Stats(len(request.jobs), len(results), errors)

    def router_transform(self, request: pb.TransformRequest,
                         clock: Clock) -> tuple[pb.RouterTransformResponse, Stats]:
        """Router mode: jobs transformed, then grouped into batched requests by the destination."""
        dest_type = request.destination_type
        dest = self.catalog.get(dest_type)
        dests = _Destinations(request.destination)
        done: list[tuple[Job, Any]] = []
        raw_dest_of: dict[int, bytes] = {}
        failures: list[pb.RouterResult] = []
        for job in request.jobs:
            raw_dest = job.destination or request.destination
            try:
                if dest is None:
                    raise UnsupportedDestination(f"destination type {dest_type!r} is not supported")
                ctx, raw_dest = self._prepare(job, dests)
                ctx.clock = clock
                output = self._run(dest, ctx)
                decoded = Job(message=ctx.message, destination=ctx.destination,
                              metadata=job.metadata, metadata_doc=ctx.metadata)
                raw_dest_of[id(decoded)] = raw_dest
                done.append((decoded, output))
            except TransformerError as error:
                failures.append(self._router_error(dest, dest_type, error, [job.metadata], raw_dest))
        results: list[pb.RouterResult] = []
        if dest is not None and done:
            try:
                batches: Iterable[Batch] = dest.router_batches(done)
                for batch in batches:
                    results.append(_router_success(batch, raw_dest_of[id(batch.jobs[0])]))
            except Exception as exc:
                error = exc if isinstance(exc, TransformerError) else _unexpected(dest, exc)
                results = [self._router_error(dest, dest_type, error, [job.metadata],
                                              raw_dest_of[id(job)]) for job, _ in done]
        results.extend(failures)
        response = pb.RouterTransformResponse(results=results, request_id=request.request_id)
        return response, Stats(len(request.jobs), len(results), len(failures))

    def _router_error(self, dest: Destination | None, dest_type: str, error: TransformerError,
                      metadata: list[bytes], raw_dest: bytes) -> pb.RouterResult:
        tags = error_tags(dest, error, "router", self._metadata_doc(metadata[0]), dest_type)
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
