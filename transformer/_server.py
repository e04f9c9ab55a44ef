"""The gRPC server: Transformer service, health checking, reflection, graceful drain."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import structlog
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio  # type: ignore[attr-defined]
from grpc_reflection.v1alpha import reflection

from transformer._catalog import Catalog
from transformer._clock import SYSTEM_CLOCK, Clock, FixedClock
from transformer._pipeline import Pipeline, Stats
from transformer._settings import Settings
from transformer.v1 import transformer_pb2 as pb
from transformer.v1 import transformer_pb2_grpc as pb_grpc

#: Request header that pins the clock, honoured only when the server runs with ``test_clock``.
CLOCK_HEADER = "x-transformer-now-ms"
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["Transformer"].full_name

log = structlog.get_logger("transformer")


class TransformerService(pb_grpc.TransformerServicer):  # type: ignore[misc]  # generated, untyped
    def __init__(self, pipeline: Pipeline, *, test_clock: bool = False) -> None:
        self._pipeline = pipeline
        self._test_clock = test_clock

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
        # One line per batch, never per event: the router sends thousands of events a second.
        log.info(
            "batch", rpc=rpc, destination=request.destination_type, request_id=request.request_id,
            jobs=stats.jobs, results=stats.results, errors=stats.errors,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
        )
        return response

    async def Transform(self, request: pb.TransformRequest,
                        context: grpc.aio.ServicerContext[Any, Any]) -> pb.TransformResponse:
        result: pb.TransformResponse = self._run(
            "Transform", request, self._clock(context), self._pipeline.transform)
        return result

    async def RouterTransform(
        self, request: pb.TransformRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.RouterTransformResponse:
        result: pb.RouterTransformResponse = self._run(
            "RouterTransform", request, self._clock(context), self._pipeline.router_transform)
        return result

    async def TransformStream(
        self, request_iterator: AsyncIterator[pb.StreamRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> AsyncIterator[pb.StreamResponse]:
        clock = self._clock(context)
        async for item in request_iterator:
            kind = item.WhichOneof("kind")
            if kind == "transform":
                yield pb.StreamResponse(id=item.id, transform=self._run(
                    "TransformStream", item.transform, clock, self._pipeline.transform))
            elif kind == "router_transform":
                yield pb.StreamResponse(id=item.id, router_transform=self._run(
                    "TransformStream", item.router_transform, clock,
                    self._pipeline.router_transform))
            else:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                    f"stream request {item.id!r} carries no transform")


class Server:
    """One server process: build with ``start()``, stop with ``stop()`` (drains in-flight RPCs)."""

    def __init__(self, settings: Settings, catalog: Catalog) -> None:
        self.settings = settings
        self.catalog = catalog
        self.port = 0
        self._server: grpc.aio.Server | None = None
        self._health = health_aio.HealthServicer()

    def _build(self) -> grpc.aio.Server:
        # grpc.aio binds a server to the running event loop, so it is built inside start().
        limit = self.settings.max_request_bytes
        server = grpc.aio.server(options=[
            ("grpc.max_receive_message_length", limit),
            ("grpc.max_send_message_length", max(limit, 256 * 1024 * 1024)),
            # Only worker processes share a port; a lone server must not silently share one
            # with another process that happens to listen there.
            ("grpc.so_reuseport", int(self.settings.workers > 1)),
        ])
        pb_grpc.add_TransformerServicer_to_server(
            TransformerService(Pipeline(self.catalog), test_clock=self.settings.test_clock), server)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        reflection.enable_server_reflection(
            (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
             reflection.SERVICE_NAME),
            server,
        )
        return server

    async def start(self) -> int:
        self._server = server = self._build()
        address = f"{self.settings.host}:{self.settings.port}"
        self.port = server.add_insecure_port(address)
        if self.port == 0:
            raise OSError(f"cannot listen on {address}")
        await server.start()
        for service in ("", SERVICE_NAME):
            await self._health.set(service, health_pb2.HealthCheckResponse.SERVING)
        log.info("serving", address=f"{self.settings.host}:{self.port}", pid=os.getpid(),
                 destinations=len(self.catalog), test_clock=self.settings.test_clock)
        return self.port

    async def stop(self) -> None:
        # Tell load balancers first, then stop taking RPCs and let in-flight ones finish.
        await self._health.enter_graceful_shutdown()
        if self._server is not None:
            await self._server.stop(self.settings.grace_seconds)
        log.info("stopped", pid=os.getpid())


async def serve_forever(settings: Settings, catalog: Catalog,
                        on_started: Callable[[int], None] | None = None) -> None:
    """Serve until SIGTERM or SIGINT, then drain."""
    server = Server(settings, catalog)
    port = await server.start()
    if on_started is not None:
        on_started(port)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await stopping.wait()
    log.info("draining", grace_seconds=settings.grace_seconds)
    await server.stop()
