"""Optional OpenTelemetry tracing: off by default (not even imported), a clear error when on without
the packages, and a span per RPC into an in-memory exporter when the ``otel`` extra is installed."""

from __future__ import annotations

import subprocess
import sys

import grpc
import orjson
import pytest
from click.testing import CliRunner
from grpc_health.v1 import health_pb2, health_pb2_grpc

from transformer._catalog import Catalog
from transformer._conformance import loopback_settings, running_server
from transformer._tracing import INSTALL_HINT, TracingUnavailable, require_tracing
from transformer.cli import main
from transformer.v1 import transformer_pb2 as pb
from transformer.v1 import transformer_pb2_grpc as pb_grpc

from .helpers import WEBHOOK, job, request, track

OFF_PATH = """
import sys
import grpc
from transformer._catalog import load_catalog
from transformer._conformance import loopback_settings, running_server
from transformer.v1 import transformer_pb2 as pb, transformer_pb2_grpc as pb_grpc
with running_server(load_catalog(), loopback_settings()) as server:
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        pb_grpc.TransformerStub(channel).Transform(pb.TransformRequest(destination_type="webhook"))
print(sorted(name for name in sys.modules if name.startswith("opentelemetry")))
"""


def test_tracing_is_off_by_default_and_opentelemetry_is_never_imported() -> None:
    """A server with default settings serves RPCs without importing opentelemetry at all."""
    done = subprocess.run([sys.executable, "-c", OFF_PATH], capture_output=True, text=True, timeout=120,
                          check=True)
    assert done.stdout.splitlines()[-1] == "[]"


def test_tracing_without_opentelemetry_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the package missing, the check raises naming the extra, and `serve` exits before serving."""
    monkeypatch.setitem(sys.modules, "opentelemetry", None)  # makes `import opentelemetry` fail
    with pytest.raises(TracingUnavailable, match="opentelemetry packages are not installed"):
        require_tracing()
    result = CliRunner().invoke(main, ["serve", "--port", "0"],
                                env={"TRANSFORMER_TRACING": "true", "TRANSFORMER_REGISTRY_PATH": ":memory:"})
    assert result.exit_code == 1
    assert INSTALL_HINT in result.output


def test_each_rpc_gets_a_server_span(catalog: Catalog) -> None:
    """Transform, a stream, a rejected RPC and a health check each get a span named after the method;
    a batch's span carries the destination, job count and request id; errors mark the span."""
    pytest.importorskip("opentelemetry.sdk", reason="the 'otel' extra is not installed")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import SpanKind, StatusCode

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with running_server(catalog, loopback_settings(tracing=True), tracer_provider=provider) as server, \
            grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = pb_grpc.TransformerStub(channel)
        batch = request("webhook", [job(track(0)), job(track(1))], WEBHOOK)
        batch.request_id = "req-traced"
        stub.Transform(batch)
        replies = list(stub.TransformStream(iter([pb.StreamRequest(id="s1", transform=batch)])))
        assert replies[0].transform.results[0].status_code == 200
        with pytest.raises(grpc.RpcError):
            stub.SourceTransform(pb.SourceTransformRequest(requests=[orjson.dumps({})]))
        health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        assert health.status == health_pb2.HealthCheckResponse.SERVING
    spans = {span.name: span for span in exporter.get_finished_spans()}
    transform = spans["transformer.v1.Transformer/Transform"]
    assert transform.kind is SpanKind.SERVER
    assert dict(transform.attributes or {}) == {
        "rpc.system": "grpc", "rpc.service": "transformer.v1.Transformer", "rpc.method": "Transform",
        "transformer.destination": "webhook", "transformer.jobs": 2, "transformer.request_id": "req-traced"}
    assert "transformer.v1.Transformer/TransformStream" in spans
    assert spans["transformer.v1.Transformer/SourceTransform"].status.status_code is StatusCode.ERROR
    assert spans["grpc.health.v1.Health/Check"].status.status_code is StatusCode.UNSET
