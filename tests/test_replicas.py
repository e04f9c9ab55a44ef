"""Many replicas on one PostgreSQL registry: real `transformer serve` processes behind a
round_robin client, alias moves reaching every replica, draining on SIGTERM, and a replica that
loses its database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import grpc
import orjson
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from transformer._catalog import Catalog
from transformer._conformance import loopback_settings, running_server
from transformer.v1 import functions_pb2 as fpb
from transformer.v1 import functions_pb2_grpc as fpb_grpc
from transformer.v1 import transformer_pb2 as pb
from transformer.v1 import transformer_pb2_grpc as pb_grpc

from .helpers import KINESIS, eventually, free_port, job, request, track, wait_serving
from .postgres import TcpProxy, database_url, fresh_schema

#: Alias moves must reach every replica within this many seconds (the default ref TTL is 1 s).
ALIAS_BOUND_S = 2.0


def version_code(n: int) -> bytes:
    return f"def transformEvent(event, metadata):\n    event['v'] = {n}\n    return event\n".encode()


def upload(functions: fpb_grpc.FunctionsStub, name: str, code: bytes, alias: str = "") -> fpb.FunctionVersion:
    reply: fpb.FunctionVersion = functions.Upload(fpb.UploadRequest(
        kind=fpb.FUNCTION_KIND_TRANSFORMATION, workspace="acme", name=name, code=code, alias=alias))
    return reply


@pytest.fixture
def schema() -> Iterator[str]:
    with fresh_schema() as name:
        yield name


@contextmanager
def replica(schema: str, log: Path, **env: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A `transformer serve` process on the shared database; its JSON log goes to ``log``."""
    port = free_port()
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "transformer", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--log-format", "json", "--sandbox-workers", "1"],
            stdout=subprocess.DEVNULL, stderr=sink,
            env={**os.environ, "TRANSFORMER_STORE": "postgres", "TRANSFORMER_DATABASE_URL": database_url(),
                 "TRANSFORMER_DATABASE_SCHEMA": schema, **env})
    try:
        wait_serving(f"127.0.0.1:{port}")
        yield proc, f"127.0.0.1:{port}"
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def log_lines(log: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in log.read_bytes().splitlines() if line.startswith(b"{")]


def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=30)


def user_job(n: int, workspace: str = "acme") -> pb.Job:
    return job(track(n), {"jobId": n, "messageId": f"m{n}", "sourceId": "s1", "destinationId": "d1",
                          "workspaceId": workspace})


def user_request(ref: str, jobs: list[pb.Job]) -> pb.TransformRequest:
    return request("webhook", jobs, {"ID": "d1", "Config": {}, "DestinationDefinition": {"Name": "WEBHOOK"},
                                     "Transformations": [{"VersionID": ref}]})


def version_used(stub: pb_grpc.TransformerStub, ref: str) -> int:
    [result] = stub.UserTransform(user_request(ref, [user_job(0)]), timeout=30).results
    assert result.status_code == 200, result.error
    return int(orjson.loads(result.output)["v"])


def test_two_replicas_share_the_registry_behind_round_robin(schema: str, tmp_path: Path) -> None:
    """Upload on one replica, run on the other; an alias moved on one is used by the other within
    2 s; a round_robin client over both gets every job back exactly once, from both replicas."""
    with ExitStack() as stack:
        (proc_a, a), (proc_b, b) = (stack.enter_context(replica(schema, tmp_path / f"{n}.log"))
                                    for n in "ab")
        functions_a = fpb_grpc.FunctionsStub(stack.enter_context(grpc.insecure_channel(a)))
        transformer_b = pb_grpc.TransformerStub(stack.enter_context(grpc.insecure_channel(b)))

        upload(functions_a, "f", version_code(1), alias="live")
        assert version_used(transformer_b, "f@live") == 1

        two = upload(functions_a, "f", version_code(2))
        functions_a.SetAlias(fpb.SetAliasRequest(workspace="acme", name="f", alias="live",
                                                 version=two.version_id))
        moved = time.monotonic()
        while True:
            sent = time.monotonic()
            if version_used(transformer_b, "f@live") == 2:
                break
            assert sent - moved < ALIAS_BOUND_S, "replica b still runs the old version 2 s after the move"
            time.sleep(0.05)

        balanced = stack.enter_context(grpc.insecure_channel(
            f"ipv4:{a},{b}", options=[("grpc.lb_policy_name", "round_robin")]))
        stub = pb_grpc.TransformerStub(balanced)
        seen: list[int] = []
        for batch in range(40):
            reply = stub.UserTransform(user_request("f@live", [user_job(batch * 5 + i) for i in range(5)]),
                                       timeout=30)
            for result in reply.results:
                assert result.status_code == 200, result.error
                assert orjson.loads(result.output)["v"] == 2
                seen.append(orjson.loads(result.metadata)["jobId"])
        assert sorted(seen) == list(range(200))
        assert (stop(proc_a), stop(proc_b)) == (0, 0)
    served = [sum(1 for line in log_lines(tmp_path / f"{n}.log")
                  if line["event"] == "batch" and line["rpc"] == "UserTransform") for n in "ab"]
    assert all(count > 0 for count in served), served


def wait_until_a_child_runs(pid: int, timeout: float = 30) -> None:
    """Until one of ``pid``'s child processes (its sandbox workers) has been running for 50 ms."""
    deadline = time.monotonic() + timeout
    running: dict[int, int] = {}
    while time.monotonic() < deadline:
        children = [int(c) for task in Path(f"/proc/{pid}/task").iterdir()
                    for c in (task / "children").read_text().split()]
        for child in children:
            try:
                state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            running[child] = running.get(child, 0) + 1 if state == "R" else 0
            if running[child] >= 5:
                return
        time.sleep(0.01)
    raise AssertionError("no sandbox worker started running the batch")


def test_sigterm_drains_an_in_flight_batch_and_flips_health_first(schema: str, tmp_path: Path) -> None:
    """With the PostgreSQL registry, SIGTERM turns health NOT_SERVING, lets the running batch finish
    with its results, and the process exits 0."""
    slow = (b"import time\ndef transformEvent(event, metadata):\n    t = time.monotonic()\n"
            b"    while time.monotonic() - t < 2:\n        pass\n    event['v'] = 'slow'\n    return event\n")
    log = tmp_path / "replica.log"
    with replica(schema, log, TRANSFORMER_SANDBOX_WALL_MS="10000", TRANSFORMER_SANDBOX_CPU_SECONDS="10",
                 TRANSFORMER_GRACE_SECONDS="20") as (proc, target), \
            grpc.insecure_channel(target) as channel:
        upload(fpb_grpc.FunctionsStub(channel), "slow", slow)
        watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(), timeout=60)
        assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
        in_flight = pb_grpc.TransformerStub(channel).UserTransform.future(
            user_request("slow", [user_job(0)]), timeout=60)
        wait_until_a_child_runs(proc.pid)  # the batch is now in its 2-second function call
        proc.send_signal(signal.SIGTERM)
        assert next(watch).status == health_pb2.HealthCheckResponse.NOT_SERVING
        watch.cancel()  # an open stream would hold the drain until the grace deadline
        [result] = in_flight.result().results
        assert result.status_code == 200 and orjson.loads(result.output)["v"] == "slow"
        assert proc.wait(timeout=30) == 0
    events = [line["event"] for line in log_lines(log)]
    assert events.index("draining") < events.index("batch") < events.index("stopped")


def test_a_replica_that_loses_postgres_keeps_serving_what_it_can(catalog: Catalog, schema: str) -> None:
    """Database gone: built-in destinations and function versions already resolved keep working,
    unknown functions get a retryable 500, registry calls UNAVAILABLE; it all recovers afterwards."""
    proxy = TcpProxy()
    settings = loopback_settings(store="postgres", database_url=proxy.url(database_url()),
                                 database_schema=schema, function_cache_seconds=0.2, sandbox_workers=1)
    try:
        with running_server(catalog, settings) as server, \
                grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            functions = fpb_grpc.FunctionsStub(channel)
            stub = pb_grpc.TransformerStub(channel)
            one = upload(functions, "f", version_code(1), alias="live")
            assert version_used(stub, "f@live") == version_used(stub, one.version_id) == 1

            proxy.cut()
            time.sleep(0.3)  # past the ref TTL: the next batches must ask the (absent) registry
            builtin = stub.Transform(request("kinesis", [job(track(i)) for i in range(3)], KINESIS))
            assert [r.status_code for r in builtin.results] == [200, 200, 200]
            assert version_used(stub, "f@live") == version_used(stub, one.version_id) == 1
            [unknown] = stub.UserTransform(user_request("g@live", [user_job(0)])).results
            assert unknown.status_code == 500 and "function registry unavailable" in unknown.error
            assert unknown.stat_tags["errorType"] == "retryable"
            with pytest.raises(grpc.RpcError) as caught:
                functions.List(fpb.ListRequest(workspace="acme"))
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
            health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
            assert health.status == health_pb2.HealthCheckResponse.SERVING

            proxy.restore()
            eventually(grpc.RpcError, lambda: upload(functions, "g", version_code(7), alias="live"))
            assert eventually(AssertionError, lambda: version_used(stub, "g@live")) == 7
    finally:
        proxy.close()


def test_wrong_database_stops_start_up_with_one_line(schema: str) -> None:
    """A database that cannot be reached is exit code 2 and one line naming it, without the password."""
    done = subprocess.run(
        [sys.executable, "-m", "transformer", "serve", "--port", "0"], capture_output=True, text=True,
        timeout=60, env={**os.environ, "TRANSFORMER_STORE": "postgres", "TRANSFORMER_DATABASE_SCHEMA": schema,
                         "TRANSFORMER_DATABASE_URL": f"postgresql://postgres:s3cret-pw@127.0.0.1:{free_port()}/test"})
    assert done.returncode == 2
    assert done.stderr.startswith("Error: cannot open the function registry at postgres@127.0.0.1:")
    assert "Connection refused" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "s3cret-pw" not in done.stderr + done.stdout and "Traceback" not in done.stderr


def test_postgres_store_needs_a_database_url() -> None:
    """TRANSFORMER_STORE=postgres without TRANSFORMER_DATABASE_URL is a configuration error."""
    done = subprocess.run([sys.executable, "-m", "transformer", "serve"], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "TRANSFORMER_STORE": "postgres"})
    assert done.returncode == 2 and "TRANSFORMER_DATABASE_URL" in done.stderr


