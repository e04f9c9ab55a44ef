"""The gRPC server: Transformer and Functions services, health checking, reflection, graceful drain.

A server process owns its function registry (unless one is given), its pool of sandbox workers and
its WebAssembly runtime: all are opened in ``start()`` and closed in ``stop()`` after in-flight RPCs
have drained.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import structlog
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio  # type: ignore[attr-defined]
from grpc_reflection.v1alpha import reflection

from functions import PoolLimits, PostgresStore, Registry, Runner, SqliteStore, Store, validate
from sandbox import WasmRuntime, WorkerPool
from transformer._catalog import Catalog
from transformer._clock import SYSTEM_CLOCK, Clock, FixedClock
from transformer._functions_service import FunctionsService
from transformer._metrics import Metrics, MetricsEndpoint
from transformer._pipeline import Pipeline, Stats
from transformer._settings import Settings
from transformer._signals import early_stop
from transformer._tracing import tracing_interceptor
from transformer._user_functions import FUNCTION_DESTINATION, Resolver, UserFunctions
from transformer.v1 import functions_pb2 as fpb
from transformer.v1 import functions_pb2_grpc as fpb_grpc
from transformer.v1 import transformer_pb2 as pb
from transformer.v1 import transformer_pb2_grpc as pb_grpc

#: Request header that pins the clock, honoured only when the server runs with ``test_clock``.
CLOCK_HEADER = "x-transformer-now-ms"
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["Transformer"].full_name
FUNCTIONS_SERVICE_NAME = fpb.DESCRIPTOR.services_by_name["Functions"].full_name

log = structlog.get_logger("transformer")


class TransformerService(pb_grpc.TransformerServicer):  # type: ignore[misc]  # generated, untyped
    def __init__(self, pipeline: Pipeline, functions: UserFunctions, metrics: Metrics, *,
                 test_clock: bool = False) -> None:
        self._pipeline = pipeline
        self._functions = functions
        self._metrics = metrics
        self._test_clock = test_clock
        # destination label of the metrics: the types this server knows, else "unknown", so that
        # a client's made-up types cannot add series
        self._known = {*pipeline.catalog.destinations, FUNCTION_DESTINATION}

    def _clock(self, context: grpc.aio.ServicerContext[Any, Any]) -> Clock:
        if not self._test_clock:
            return SYSTEM_CLOCK
        for key, value in context.invocation_metadata() or ():
            if key == CLOCK_HEADER:
                try:
                    return FixedClock(int(value))
                except ValueError:
                    break
        return SYSTEM_CLOCK

    def _run(self, rpc: str, request: pb.TransformRequest, clock: Clock,
             call: Callable[[pb.TransformRequest, Clock], tuple[Any, Stats]]) -> Any:
        if not request.request_id:
            request.request_id = uuid.uuid4().hex
        started = time.perf_counter()
        response, stats = call(request, clock)
        destination = request.destination_type
        if destination in self._known:
            self._done(rpc, destination, request.request_id, stats, started)
        else:
            self._done(rpc, "unknown", request.request_id, stats, started, destination_type=destination)
        return response

    async def _run_functions(self, rpc: str, request: Any, destination: str,
                             call: Callable[[], Awaitable[tuple[Any, Any]]]) -> Any:
        if not request.request_id:
            request.request_id = uuid.uuid4().hex
        started = time.perf_counter()
        response, stats = await call()
        self._done(rpc, destination, request.request_id, stats, started)
        return response

    def _done(self, rpc: str, destination: str, request_id: str, stats: Stats, started: float,
              **extra: Any) -> None:
        seconds = time.perf_counter() - started
        self._metrics.batch(rpc, destination, stats, seconds)
        if stats.functions:
            extra["functions"] = list(stats.functions)
        # One line per batch, never per event: the router sends thousands of events a second. Its
        # rpc, destination, statuses and function versions are the labels of the batch's metrics.
        log.info("batch", rpc=rpc, destination=destination, request_id=request_id, jobs=stats.jobs,
                 results=stats.results, errors=stats.errors,
                 statuses={str(code): count for code, count in stats.failed.items()},
                 duration_ms=round(seconds * 1000, 3), **extra)

    async def _transform(self, rpc: str, request: pb.TransformRequest, clock: Clock, router: bool) -> Any:
        if request.destination_type == FUNCTION_DESTINATION:
            return await self._run_functions(rpc, request, request.destination_type,
                                             lambda: self._functions.destination_transform(request, router))
        call = self._pipeline.router_transform if router else self._pipeline.transform
        return self._run(rpc, request, clock, call)

    async def Transform(self, request: pb.TransformRequest,
                        context: grpc.aio.ServicerContext[Any, Any]) -> pb.TransformResponse:
        result: pb.TransformResponse = await self._transform(
            "Transform", request, self._clock(context), router=False)
        return result

    async def RouterTransform(
        self, request: pb.TransformRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.RouterTransformResponse:
        result: pb.RouterTransformResponse = await self._transform(
            "RouterTransform", request, self._clock(context), router=True)
        return result

    async def UserTransform(self, request: pb.TransformRequest,
                            context: grpc.aio.ServicerContext[Any, Any]) -> pb.TransformResponse:
        result: pb.TransformResponse = await self._run_functions(
            "UserTransform", request, request.destination_type,
            lambda: self._functions.user_transform(request))
        return result

    async def SourceTransform(self, request: pb.SourceTransformRequest,
                              context: grpc.aio.ServicerContext[Any, Any]) -> pb.SourceTransformResponse:
        if not request.function and not request.source_type:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                "name a source function (function) or a built-in source (source_type)")
        result: pb.SourceTransformResponse = await self._run_functions(
            "SourceTransform", request, request.source_type or FUNCTION_DESTINATION,
            lambda: self._functions.source_transform(request))
        return result

    async def TransformStream(
        self, request_iterator: AsyncIterator[pb.StreamRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> AsyncIterator[pb.StreamResponse]:
        clock = self._clock(context)
        async for item in request_iterator:
            kind = item.WhichOneof("kind")
            if kind == "transform":
                yield pb.StreamResponse(id=item.id, transform=await self._transform(
                    "TransformStream", item.transform, clock, router=False))
            elif kind == "router_transform":
                yield pb.StreamResponse(id=item.id, router_transform=await self._transform(
                    "TransformStream", item.router_transform, clock, router=True))
            else:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                    f"stream request {item.id!r} carries no transform")


def open_registry(settings: Settings) -> Registry:
    """The function registry the settings name; raises ``StoreUnavailable`` when it cannot be opened."""
    store: Store
    if settings.store == "postgres":
        assert settings.database_url is not None  # the settings insist
        store = PostgresStore(settings.database_url.get_secret_value(), schema=settings.database_schema,
                              limits=PoolLimits(max_size=settings.database_pool_size))
    else:
        store = SqliteStore(settings.registry_path)
    return Registry(store, validate)


class Server:
    """One server process: build with ``start()``, stop with ``stop()`` (drains in-flight RPCs).

    ``registry`` replaces the one the settings name (the caller then closes its store);
    ``tracer_provider`` the OpenTelemetry one spans go to when tracing is on.
    """

    def __init__(self, settings: Settings, catalog: Catalog, *, registry: Registry | None = None,
                 tracer_provider: Any = None) -> None:
        self.settings = settings
        self.catalog = catalog
        self.port = 0
        self.metrics = Metrics()
        self.metrics_endpoint: MetricsEndpoint | None = None
        self._tracer_provider = tracer_provider
        self._server: grpc.aio.Server | None = None
        self._health = health_aio.HealthServicer()
        self._given_registry = registry
        self.registry: Registry | None = None
        self.pool: WorkerPool | None = None
        self.wasm: WasmRuntime | None = None

    def _build(self) -> grpc.aio.Server:
        # grpc.aio binds a server to the running event loop, so it is built inside start().
        limit = self.settings.max_request_bytes
        interceptors = [tracing_interceptor(self._tracer_provider)] if self.settings.tracing else []
        server = grpc.aio.server(interceptors=interceptors, options=[
            ("grpc.max_receive_message_length", limit),
            ("grpc.max_send_message_length", max(limit, 256 * 1024 * 1024)),
            # Only worker processes share a port; a lone server must not silently share one
            # with another process that happens to listen there.
            ("grpc.so_reuseport", int(self.settings.workers > 1)),
        ])
        assert self.registry is not None and self.pool is not None
        policy = self.settings.limit_policy
        resolver = Resolver(self.registry, policy, self.settings.function_cache_seconds, metrics=self.metrics)
        runner = Runner(self.pool, self.wasm)
        functions = UserFunctions(resolver, runner, self.metrics)
        pb_grpc.add_TransformerServicer_to_server(
            TransformerService(Pipeline(self.catalog), functions, self.metrics,
                               test_clock=self.settings.test_clock),
            server)
        fpb_grpc.add_FunctionsServicer_to_server(
            FunctionsService(self.registry, runner, policy, on_change=resolver.forget), server)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        reflection.enable_server_reflection(
            (SERVICE_NAME, FUNCTIONS_SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
             reflection.SERVICE_NAME),
            server,
        )
        return server

    async def start(self) -> int:
        settings = self.settings
        self.registry = self._given_registry or await asyncio.to_thread(open_registry, settings)
        try:
            self.pool = await asyncio.to_thread(WorkerPool, settings.sandbox_workers,
                                                policy=settings.limit_policy)
        except BaseException:
            self._close_registry()
            raise
        self.metrics.watch_pool(self.pool)
        self.wasm = WasmRuntime(settings.limit_policy, threads=settings.wasm_threads,
                                cache_dir=settings.wasm_cache_dir or None)
        try:
            self._server = server = self._build()
            address = f"{self.settings.host}:{self.settings.port}"
            self.port = server.add_insecure_port(address)
            if self.port == 0:
                raise OSError(f"cannot listen on {address}")
            if settings.metrics_port is not None:
                self.metrics_endpoint = MetricsEndpoint(self.metrics, settings.host, settings.metrics_port)
            await server.start()
        except BaseException:
            self._close_metrics()
            await self.pool.aclose()
            self.wasm.close()
            self._close_registry()
            raise
        for service in ("", SERVICE_NAME, FUNCTIONS_SERVICE_NAME):
            await self._health.set(service, health_pb2.HealthCheckResponse.SERVING)
        isolation = self.pool.isolation
        log.info("serving", address=f"{self.settings.host}:{self.port}", pid=os.getpid(),
                 destinations=len(self.catalog), store=self.settings.store,
                 test_clock=self.settings.test_clock,
                 sandbox_workers=self.pool.size, seccomp=isolation.seccomp,
                 metrics_port=self.metrics_endpoint.port if self.metrics_endpoint else None,
                 tracing=self.settings.tracing)
        return self.port

    async def stop(self) -> None:
        # Tell load balancers first, then stop taking RPCs and let in-flight ones finish.
        await self._health.enter_graceful_shutdown()
        if self._server is not None:
            await self._server.stop(self.settings.grace_seconds)
        if self.pool is not None:
            await self.pool.aclose()
        if self.wasm is not None:
            await asyncio.to_thread(self.wasm.close)
        self._close_registry()
        # last: a final scrape during the drain still sees the drained batches
        self._close_metrics()
        log.info("stopped", pid=os.getpid())

    def _close_metrics(self) -> None:
        if self.metrics_endpoint is not None:
            self.metrics_endpoint.close()
            self.metrics_endpoint = None

    def _close_registry(self) -> None:
        if self.registry is not None and self._given_registry is None:
            self.registry.store.close()
        self.registry = None


async def serve_forever(settings: Settings, catalog: Catalog,
                        on_started: Callable[[int], None] | None = None) -> None:
    """Serve until SIGTERM or SIGINT, then drain (a signal during start-up counts too)."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    if early_stop.is_set():
        stopping.set()
    server = Server(settings, catalog)
    port = await server.start()
    # What start-up loaded (modules, catalog, registry, sandboxes) lives as long as the process:
    # frozen, it is no longer walked by each full collection, which took ~30 ms, every half second
    # under load, once WebAssembly answers (decoded here, not in a worker) made many containers.
    gc.freeze()
    if on_started is not None:
        on_started(port)
    await stopping.wait()
    log.info("draining", grace_seconds=settings.grace_seconds)
    await server.stop()
