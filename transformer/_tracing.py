"""Optional OpenTelemetry tracing: one server span per RPC, when ``TRANSFORMER_TRACING`` is on.

OpenTelemetry is an optional dependency (the ``otel`` extra): it is imported only when tracing is
on, so a server without it neither needs nor loads it. Spans go to the tracer provider given (tests
pass one with an in-memory exporter), else to OpenTelemetry's configured one, which the operator
sets up the usual way (``opentelemetry-instrument transformer serve`` with ``OTEL_*`` variables).
A batch RPC's span carries the destination type, the job count and the request id, the same
values as the batch's log line and metric labels.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import grpc

INSTALL_HINT = "pip install 'transformer[otel]'"

if TYPE_CHECKING:  # generic only in the type stubs
    _Interceptor = grpc.aio.ServerInterceptor[Any, Any]
else:
    _Interceptor = grpc.aio.ServerInterceptor


class TracingUnavailable(RuntimeError):
    """Tracing is on but OpenTelemetry is not installed."""


def _trace_api() -> Any:
    try:
        from opentelemetry import trace
    except ImportError:
        raise TracingUnavailable(
            f"TRANSFORMER_TRACING is on but the opentelemetry packages are not installed: {INSTALL_HINT}"
        ) from None
    return trace


def require_tracing() -> None:
    """Raise ``TracingUnavailable`` unless OpenTelemetry can be imported (checked at start)."""
    _trace_api()


def tracing_interceptor(tracer_provider: Any = None) -> grpc.aio.ServerInterceptor[Any, Any]:
    """A server interceptor that opens a span around each RPC (raises ``TracingUnavailable``)."""
    trace = _trace_api()
    provider = tracer_provider if tracer_provider is not None else trace.get_tracer_provider()
    return _TracingInterceptor(provider.get_tracer("transformer"), trace.SpanKind.SERVER)


def _request_attributes(request: Any) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    for field, name in (("destination_type", "transformer.destination"),
                        ("source_type", "transformer.source"), ("function", "transformer.function")):
        value = getattr(request, field, None)
        if isinstance(value, str) and value:
            attributes[name] = value
    for field in ("jobs", "requests"):
        items = getattr(request, field, None)
        if items is not None and not isinstance(items, (str, bytes)):
            attributes["transformer.jobs"] = len(items)
    return attributes


class _TracingInterceptor(_Interceptor):
    def __init__(self, tracer: Any, kind: Any) -> None:
        self._tracer = tracer
        self._kind = kind

    async def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method: str = handler_call_details.method
        service, _, name = method.lstrip("/").rpartition("/")
        base = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": name}
        for kind in ("unary_unary", "unary_stream", "stream_unary", "stream_stream"):
            behavior = getattr(handler, kind)
            if behavior is not None:
                wrapped = self._wrap(behavior, method.lstrip("/"), base, kind.startswith("unary"))
                return handler._replace(**{kind: wrapped})  # type: ignore[attr-defined, no-any-return]
        return handler

    def _wrap(self, behavior: Any, span_name: str, base: dict[str, Any], unary_request: bool) -> Any:
        tracer, kind = self._tracer, self._kind

        def start(request: Any) -> Any:
            attributes = {**base, **(_request_attributes(request) if unary_request else {})}
            return tracer.start_as_current_span(span_name, kind=kind, attributes=attributes)

        if inspect.isasyncgenfunction(behavior):
            async def streaming(request: Any, context: Any) -> AsyncIterator[Any]:
                with start(request):
                    async for item in behavior(request, context):
                        yield item
            return streaming
        if inspect.iscoroutinefunction(behavior):
            async def unary(request: Any, context: Any) -> Any:
                with start(request) as span:
                    response = await behavior(request, context)
                    request_id = getattr(response, "request_id", None)
                    if request_id:
                        span.set_attribute("transformer.request_id", request_id)
                    return response
            return unary
        return behavior  # a synchronous handler (none of ours): left untraced
