"""Prometheus metrics of a real `transformer serve` process, scraped over HTTP after real traffic."""

from __future__ import annotations

import signal
import urllib.request
from typing import Any

import grpc
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError

from sandbox import LimitExceeded, Limits, WorkerPool
from transformer._metrics import OTHER, Metrics, MetricsEndpoint
from transformer._pipeline import Stats
from transformer._settings import Settings
from transformer.v1 import functions_pb2 as fpb
from transformer.v1 import functions_pb2_grpc as fpb_grpc
from transformer.v1 import transformer_pb2 as pb
from transformer.v1 import transformer_pb2_grpc as pb_grpc

from .helpers import WEBHOOK, eventually, job, request, track
from .test_cli import free_port, serve, wait_serving

FUNCTION = b'''
def transformEvent(event, metadata):
    if event.get("event") == "loop":
        while True:
            pass
    if event.get("event") == "fail":
        raise ValueError("cannot enrich " + event["messageId"])
    event["properties"]["enriched"] = True
    return event
'''

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(port: int) -> Samples:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
        text = reply.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def user_job(n: int, name: str, version_id: str) -> pb.Job:
    meta = {"jobId": n, "messageId": f"m{n}", "sourceId": "s1", "destinationId": "d1", "workspaceId": "ws"}
    dest = {**WEBHOOK, "Transformations": [{"VersionID": version_id}]}
    return job(track(n, event=name), meta, dest)


def test_metrics_count_traffic_of_every_kind() -> None:
    """After Transform, RouterTransform and UserTransform traffic (with a bad job, a raising function
    and one past its wall-clock limit), /metrics shows events per rpc/destination/status, batch
    latencies, function versions, the limit violation, cache lookups and the replaced worker; the
    batch log lines carry the same labels and the request id."""
    port, metrics_port = free_port(), free_port()
    env = {"TRANSFORMER_SANDBOX_WALL_MS": "300", "TRANSFORMER_SANDBOX_WORKERS": "1",
           "TRANSFORMER_LOG_LEVEL": "info"}
    with serve("--port", str(port), "--metrics-port", str(metrics_port), env=env) as proc:
        target = f"127.0.0.1:{port}"
        wait_serving(target)
        with grpc.insecure_channel(target) as channel:
            stub = pb_grpc.TransformerStub(channel)
            batch = request("webhook", [job(track(0)), job(track(1)), pb.Job(message=b"{bad")], WEBHOOK)
            batch.request_id = "req-transform"
            assert [r.status_code for r in stub.Transform(batch).results] == [200, 200, 400]
            routed = stub.RouterTransform(request("webhook", [job(track(i)) for i in range(4)], WEBHOOK))
            assert {r.status_code for r in routed.results} == {200}
            unknown = request("nosuch", [job(track(0))], WEBHOOK)
            unknown.request_id = "req-unknown"
            stub.Transform(unknown)
            version = fpb_grpc.FunctionsStub(channel).Upload(fpb.UploadRequest(
                workspace="ws", name="enrich", kind=fpb.FUNCTION_KIND_TRANSFORMATION, code=FUNCTION))
            label = f"enrich@{version.version_id[:8]}"
            jobs = [user_job(0, "ok", version.version_id), user_job(1, "fail", version.version_id),
                    user_job(2, "loop", version.version_id), user_job(3, "ok", version.version_id)]
            results = stub.UserTransform(pb.TransformRequest(destination_type="webhook", jobs=jobs,
                                                             request_id="req-user")).results
            assert [r.status_code for r in results] == [200, 400, 400, 200]
            assert "wall_ms" in results[2].error
            stub.UserTransform(pb.TransformRequest(destination_type="webhook", jobs=jobs[:1]))
        samples = scrape(metrics_port)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)

    def events(name: str, **labels: str) -> float:
        return value(samples, f"transformer_events_{name}_total", **labels)

    assert events("in", rpc="Transform", destination="webhook") == 3
    assert events("out", rpc="Transform", destination="webhook", status="200") == 2
    assert events("out", rpc="Transform", destination="webhook", status="400") == 1
    assert events("in", rpc="RouterTransform", destination="webhook") == 4
    assert events("out", rpc="RouterTransform", destination="webhook", status="200") >= 1
    assert events("out", rpc="Transform", destination="unknown", status="400") == 1
    assert events("in", rpc="UserTransform", destination="webhook") == 5
    assert events("out", rpc="UserTransform", destination="webhook", status="200") == 3
    assert events("out", rpc="UserTransform", destination="webhook", status="400") == 2
    assert value(samples, "transformer_batch_duration_seconds_count", rpc="Transform",
                 destination="webhook") == 1
    assert value(samples, "transformer_batch_duration_seconds_count", rpc="UserTransform",
                 destination="webhook") == 2
    functions = "transformer_function_events_total"
    assert value(samples, functions, function_version=label, status="200") == 3
    assert value(samples, functions, function_version=label, status="400") == 2
    assert value(samples, "transformer_function_limit_violations_total", limit="wall_ms",
                 function_version=label) == 1
    assert value(samples, "transformer_function_cache_lookups_total", result="miss") == 1
    assert value(samples, "transformer_function_cache_lookups_total", result="hit") == 1
    assert value(samples, "transformer_sandbox_worker_restarts_total", reason="wall_clock") == 1
    assert value(samples, "transformer_sandbox_workers") == 1
    assert value(samples, "process_cpu_seconds_total") > 0
    lines = [orjson.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    logged = {line["request_id"]: line for line in lines if line.get("event") == "batch"}
    assert {key: logged["req-transform"][key] for key in ("rpc", "destination", "statuses")} == {
        "rpc": "Transform", "destination": "webhook", "statuses": {"400": 1}}
    assert (logged["req-unknown"]["destination"], logged["req-unknown"]["destination_type"]) == \
        ("unknown", "nosuch")
    assert logged["req-user"]["functions"] == [label]
    assert logged["req-user"]["statuses"] == {"400": 2}


def test_each_worker_process_serves_its_own_metrics_port() -> None:
    """With --workers 2, worker i answers /metrics on metrics port + i, each with its own counters."""
    port, metrics_port = free_port(), free_port()
    with serve("--port", str(port), "--workers", "2", "--metrics-port", str(metrics_port),
               "--sandbox-workers", "1") as proc:
        wait_serving(f"127.0.0.1:{port}")  # one worker serving: the other may still be starting

        def sandbox_workers(worker_port: int) -> float:
            workers = value(scrape(worker_port), "transformer_sandbox_workers")
            if workers != 1:  # the endpoint is up before the worker's sandbox pool
                raise LookupError(f"port {worker_port}: {workers} sandbox workers so far")
            return workers

        counts = [eventually((OSError, LookupError), lambda p=p: sandbox_workers(p))
                  for p in (metrics_port, metrics_port + 1)]
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert counts == [1, 1]


def test_metrics_port_in_use_fails_the_start_naming_it() -> None:
    """A metrics port another process holds is a start-up error that names the port."""
    holder = MetricsEndpoint(Metrics(), "127.0.0.1", 0)
    try:
        with serve("--port", str(free_port()), "--metrics-port", str(holder.port)) as proc:
            _, stderr = proc.communicate(timeout=60)
        assert proc.returncode != 0
        assert f"cannot serve metrics on 127.0.0.1:{holder.port}" in stderr
    finally:
        holder.close()


@pytest.mark.parametrize(("values", "message"), [
    ({"port": 9000, "metrics_port": 8999, "workers": 2}, "includes the gRPC port 9000"),
    ({"metrics_port": 65535, "workers": 2}, "past 65535"),
    ({"metrics_port": 0, "workers": 2}, "needs a fixed port"),
])
def test_metrics_port_settings_are_checked(values: dict[str, Any], message: str) -> None:
    """Metrics ports that overlap the gRPC port, run past 65535 or cannot be split among workers fail."""
    with pytest.raises(ValidationError, match=message):
        Settings(**values)


def test_metrics_can_be_turned_off_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty or 'off' TRANSFORMER_METRICS_PORT (over an image's default) means no metrics port."""
    for off in ("", "off"):
        monkeypatch.setenv("TRANSFORMER_METRICS_PORT", off)
        assert Settings().metrics_port is None
    monkeypatch.setenv("TRANSFORMER_METRICS_PORT", "9464")
    assert Settings().metrics_port == 9464


def test_worker_settings_get_consecutive_metrics_ports() -> None:
    """Worker i's settings carry metrics port + i; without metrics they are unchanged."""
    settings = Settings(metrics_port=9464, workers=3)
    assert [settings.for_worker(i).metrics_port for i in range(3)] == [9464, 9465, 9466]
    assert Settings(workers=3).for_worker(2).metrics_port is None


def test_destination_labels_are_bounded() -> None:
    """Past the series budget, new destination labels count under 'other' instead of adding series."""
    metrics = Metrics(max_destinations=2)
    for destination in ("a", "b", "c", "d"):
        metrics.batch("Transform", destination, Stats(1, 1, {500: 1}), 0.01)
    endpoint = MetricsEndpoint(metrics, "127.0.0.1", 0)
    try:
        samples = scrape(endpoint.port)
    finally:
        endpoint.close()
    assert value(samples, "transformer_events_in_total", rpc="Transform", destination=OTHER) == 2
    assert value(samples, "transformer_events_out_total", rpc="Transform", destination="b", status="500") == 1
    assert value(samples, "transformer_events_out_total", rpc="Transform", destination="a", status="200") == 0


def test_pool_restarts_are_read_at_scrape_time() -> None:
    """The restart counters come from the live pool: a worker killed past its wall-clock limit shows
    up at the next scrape, with the respawn."""
    metrics = Metrics()

    def sampled() -> dict[tuple[str, str], float]:
        return {(s.name, s.labels.get("reason", "")): s.value
                for f in metrics.registry.collect() for s in f.samples}

    with WorkerPool(1) as pool:
        metrics.watch_pool(pool)
        before = sampled()
        [result] = pool.run("v1", "def f(x):\n    while True:\n        pass\n", "f", [[1]],
                            Limits(wall_ms=100))
        after = sampled()
    assert isinstance(result.error, LimitExceeded)
    assert before[("transformer_sandbox_worker_restarts_total", "wall_clock")] == 0
    assert after[("transformer_sandbox_worker_restarts_total", "wall_clock")] == 1
    spawns = ("transformer_sandbox_worker_spawns_total", "")
    assert after[spawns] == before[spawns] + 1
