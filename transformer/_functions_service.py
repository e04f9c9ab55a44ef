"""The ``Functions`` gRPC service: the registry over the wire, and ``Test`` runs in the sandbox.

Registry errors become gRPC statuses here, by type: InvalidFunction -> INVALID_ARGUMENT (the
message carries line and column), NotFound -> NOT_FOUND, StoreUnavailable -> UNAVAILABLE.
What a tested function does to an input is never an RPC error: it is that input's result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import grpc

from functions import (
    FunctionKind,
    FunctionVersion,
    InvalidFunction,
    Language,
    LimitOverrides,
    NotFound,
    Outcome,
    Program,
    Registry,
    RegistryError,
    Runner,
    StoreUnavailable,
    check_limits,
    inline_version,
    make_program,
    run_trial,
)
from sandbox import LimitPolicy
from transformer.v1 import functions_pb2 as fpb
from transformer.v1 import functions_pb2_grpc as fpb_grpc

#: Most inputs one Test call may carry.
MAX_TEST_INPUTS = 1_000

T = TypeVar("T")

_KINDS: dict[int, FunctionKind] = {
    fpb.FUNCTION_KIND_TRANSFORMATION: FunctionKind.TRANSFORMATION,
    fpb.FUNCTION_KIND_DESTINATION: FunctionKind.DESTINATION,
    fpb.FUNCTION_KIND_SOURCE: FunctionKind.SOURCE,
}
_KINDS_OUT: dict[FunctionKind, Any] = {v: k for k, v in _KINDS.items()}
_LANGUAGES: dict[int, Language] = {fpb.FUNCTION_LANGUAGE_PYTHON: Language.PYTHON,
              fpb.FUNCTION_LANGUAGE_WASM: Language.WASM}
_LANGUAGES_OUT: dict[Language, Any] = {v: k for k, v in _LANGUAGES.items()}
_STATUS: tuple[tuple[type[RegistryError], grpc.StatusCode], ...] = (
    (InvalidFunction, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (StoreUnavailable, grpc.StatusCode.UNAVAILABLE),
)


def version_message(version: FunctionVersion, code: bytes = b"") -> fpb.FunctionVersion:
    limits = version.limits
    return fpb.FunctionVersion(
        workspace=version.workspace, name=version.name, version_id=version.version_id,
        kind=_KINDS_OUT[version.kind], language=_LANGUAGES_OUT[version.language],
        created_at_ms=version.created_at_ms, size_bytes=version.size_bytes,
        aliases=list(version.aliases), code=code,
        limits=fpb.Limits(wall_ms=limits.wall_ms or 0, cpu_ms=limits.cpu_ms or 0,
                          memory_bytes=limits.memory_bytes or 0,
                          output_bytes=limits.output_bytes or 0, log_bytes=limits.log_bytes or 0),
    )


def kind_of(value: int) -> FunctionKind:
    try:
        return _KINDS[value]
    except KeyError:
        raise InvalidFunction("kind must be TRANSFORMATION, DESTINATION or SOURCE") from None


def language_of(value: int) -> Language:
    # Python is the default: most uploads are Python and proto3 cannot tell unset from 0.
    if value == fpb.FUNCTION_LANGUAGE_UNSPECIFIED:
        return Language.PYTHON
    try:
        return _LANGUAGES[value]
    except KeyError:
        raise InvalidFunction("language must be PYTHON or WASM") from None


def limits_of(message: fpb.Limits) -> LimitOverrides:
    return LimitOverrides(
        wall_ms=message.wall_ms or None, cpu_ms=message.cpu_ms or None,
        memory_bytes=message.memory_bytes or None, output_bytes=message.output_bytes or None,
        log_bytes=message.log_bytes or None,
    )


class FunctionsService(fpb_grpc.FunctionsServicer):  # type: ignore[misc]  # generated, untyped
    """``on_change(workspace)`` is called after an upload, alias move or delete in a workspace."""

    def __init__(self, registry: Registry, runner: Runner, policy: LimitPolicy, *,
                 on_change: Callable[[str], None] = lambda workspace: None) -> None:
        self._registry = registry
        self._runner = runner
        self._policy = policy
        self._on_change = on_change

    async def _call(self, context: grpc.aio.ServicerContext[Any, Any], func: Callable[[], T]) -> T:
        # Store calls may block on disk or network: keep them off the event loop.
        try:
            return await asyncio.to_thread(func)
        except RegistryError as exc:
            code = next(code for kind, code in _STATUS if isinstance(exc, kind))
            await context.abort(code, exc.message)
            raise  # abort raises; this line only satisfies the type checker

    async def Upload(self, request: fpb.UploadRequest,
                     context: grpc.aio.ServicerContext[Any, Any]) -> fpb.FunctionVersion:
        def upload() -> FunctionVersion:
            limits = limits_of(request.limits)
            check_limits(self._policy, limits)
            return self._registry.upload(
                request.workspace, request.name, kind_of(request.kind),
                language_of(request.language), request.code, alias=request.alias, limits=limits)

        version = await self._call(context, upload)
        self._on_change(request.workspace)
        return version_message(version)

    async def Get(self, request: fpb.GetRequest,
                  context: grpc.aio.ServicerContext[Any, Any]) -> fpb.FunctionVersion:
        def get() -> tuple[FunctionVersion, bytes]:
            version = self._registry.get(request.workspace, request.name, request.version)
            return version, self._registry.code(version) if request.include_code else b""

        version, code = await self._call(context, get)
        return version_message(version, code)

    async def List(self, request: fpb.ListRequest,
                   context: grpc.aio.ServicerContext[Any, Any]) -> fpb.ListResponse:
        versions = await self._call(context, lambda: self._registry.latest(request.workspace))
        return fpb.ListResponse(functions=[version_message(v) for v in versions])

    async def ListVersions(self, request: fpb.ListVersionsRequest,
                           context: grpc.aio.ServicerContext[Any, Any]) -> fpb.ListVersionsResponse:
        versions = await self._call(
            context, lambda: self._registry.versions(request.workspace, request.name))
        return fpb.ListVersionsResponse(versions=[version_message(v) for v in versions])

    async def Delete(self, request: fpb.DeleteRequest,
                     context: grpc.aio.ServicerContext[Any, Any]) -> fpb.DeleteResponse:
        deleted = await self._call(
            context, lambda: self._registry.delete(request.workspace, request.name))
        self._on_change(request.workspace)
        return fpb.DeleteResponse(versions_deleted=deleted)

    async def SetAlias(self, request: fpb.SetAliasRequest,
                       context: grpc.aio.ServicerContext[Any, Any]) -> fpb.FunctionVersion:
        version = await self._call(context, lambda: self._registry.set_alias(
            request.workspace, request.name, request.alias, request.version))
        self._on_change(request.workspace)
        return version_message(version)

    async def Test(self, request: fpb.TestRequest,
                   context: grpc.aio.ServicerContext[Any, Any]) -> fpb.TestResponse:
        """Run inline code or a saved version on the inputs, in the sandbox; nothing is saved."""
        if len(request.events) > MAX_TEST_INPUTS:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                f"at most {MAX_TEST_INPUTS} inputs per test, got {len(request.events)}")
        if not request.events:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "give at least one input in events")
        program = await self._call(context, lambda: self._test_program(request))
        settings = request.settings or b"{}"
        if settings.lstrip()[:1] != b"{":
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "settings must be a JSON object")
        trial = await run_trial(self._runner, program, request.events, settings)
        return fpb.TestResponse(
            results=[_test_result(program, outcome, elapsed, memory) for outcome, elapsed, memory
                     in zip(trial.outcomes, trial.elapsed_ms, trial.memory_bytes, strict=True)],
            unmatched_outputs=trial.unmatched, logs=list(trial.logs), elapsed_ms=trial.total_ms)

    def _test_program(self, request: fpb.TestRequest) -> Program:
        which = request.WhichOneof("function")
        if which == "inline":
            code = request.inline
            limits = limits_of(code.limits)
            check_limits(self._policy, limits)
            language = language_of(code.language)
            cap = self._registry.limits.max_code_bytes
            if language is Language.WASM:
                cap = self._registry.limits.max_wasm_bytes
            if len(code.code) > cap:
                raise InvalidFunction(f"code is {len(code.code)} bytes; the limit is {cap}")
            if not code.code:
                raise InvalidFunction("code is empty")
            version = inline_version(request.workspace, code.name, kind_of(code.kind), language,
                                     code.code, limits)
            return make_program(version, code.code, self._policy, test=True)
        if which == "ref":
            version = self._registry.resolve(request.workspace, request.ref)
            return make_program(version, self._registry.code(version), self._policy, test=True)
        raise InvalidFunction("name the function to test: inline code or a ref")


def _test_result(program: Program, outcome: Outcome, elapsed_ms: float,
                 memory_bytes: int | None) -> fpb.TestResult:
    failure = outcome.failure
    return fpb.TestResult(status_code=outcome.status, outputs=outcome.outputs,
                          error=f"{program.label}: {failure.message}" if failure else "",
                          logs=list(outcome.logs), elapsed_ms=elapsed_ms, memory_bytes=memory_bytes)
