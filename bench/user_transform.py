"""Throughput of UserTransform (a user's Python transformation) on a real server, and its overheads.

Starts `transformer serve` in its own process with a fresh registry, uploads a trivial
`transformEvent` that sets one property over gRPC, drives UserTransform from this process with
100-event batches for a fixed time with a fixed number of concurrent calls, and reports:

* events/s                  events answered per wall-clock second
* events per CPU-second     events per second of CPU used by the server process AND its sandbox
                            workers (child processes: their /proc stat is summed, and the CPU of
                            workers that ended is counted through the server's cutime/cstime)
* p50 / p99                 latency of one batch call
* worker respawn            extra wall time and CPU of a call whose worker must be replaced (it hit
                            its memory limit) over a call that fails without harm
* first call of a version   latency of the first one-event UserTransform after uploading a new
                            version (registry lookup, shim, compile in the worker), against a warm one

Usage: python bench/user_transform.py [--seconds 10] [--concurrency 4] [--batch 100]
                                      [--sandbox-workers N] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import grpc
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from transformer.v1 import functions_pb2 as fpb  # noqa: E402
from transformer.v1 import functions_pb2_grpc as fpb_grpc  # noqa: E402
from transformer.v1 import transformer_pb2 as pb  # noqa: E402
from transformer.v1 import transformer_pb2_grpc as pb_grpc  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
WORKSPACE = "bench"
TRIVIAL = b'''
def transformEvent(event, metadata):
    event["properties"]["transformed"] = True
    return event
'''
BOMB = b'''
def transformEvent(event, metadata):
    return "x" * (1 << 40)
'''
RAISES = b'''
def transformEvent(event, metadata):
    raise ValueError("no")
'''


def sample_event(i: int) -> dict[str, Any]:
    return {"type": "track", "event": "Order Completed", "userId": f"user-{i}", "anonymousId": f"anon-{i}",
            "messageId": f"msg-{i}", "timestamp": "2024-01-01T00:00:00.000Z", "channel": "web",
            "properties": {"order_id": f"order-{i}", "total": 10.5 * i, "currency": "USD",
                           "products": [{"product_id": "p1", "price": 4.5, "quantity": 1},
                                        {"product_id": "p2", "price": 6.0, "quantity": 1}]},
            "context": {"library": {"name": "bench", "version": "1.0"}, "ip": "127.0.0.1",
                        "userAgent": "Mozilla/5.0 (X11; Linux x86_64)", "locale": "en-US"}}


def sample_metadata(i: int) -> dict[str, Any]:
    return {"jobId": i, "messageId": f"msg-{i}", "sourceId": "src-1", "destinationId": "dst-1",
            "workspaceId": WORKSPACE, "sourceType": "HTTP", "destinationType": "WEBHOOK",
            "receivedAt": "2024-01-01T00:00:00.100Z", "rudderId": f"r-{i}"}


def user_request(version_id: str, size: int, offset: int = 0) -> pb.TransformRequest:
    destination = {"ID": "dst-1", "Config": {"webhookUrl": "https://example.test"},
                   "DestinationDefinition": {"Name": "WEBHOOK"},
                   "Transformations": [{"VersionID": version_id}]}
    jobs = [pb.Job(message=orjson.dumps(sample_event(offset + i)),
                   metadata=orjson.dumps(sample_metadata(i))) for i in range(size)]
    return pb.TransformRequest(destination_type="webhook", jobs=jobs, destination=orjson.dumps(destination))


# --- CPU of the server and its workers ------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _children(pid: int) -> list[int]:
    """Children of every thread of ``pid`` (workers are started from the pool's threads)."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            found += [int(p) for p in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
        except OSError:
            continue
    return found


def tree_cpu_seconds(pid: int) -> float:
    """CPU of ``pid``, of its descendants alive now, and of the children it has reaped."""
    own, descendants = split_cpu_seconds(pid)
    return own + descendants


def split_cpu_seconds(pid: int) -> tuple[float, float]:
    """(CPU of ``pid`` itself, CPU of its descendants: alive now, or reaped by it)."""
    own = descendants = 0
    fields = _stat(pid)
    if fields is not None:
        own = int(fields[11]) + int(fields[12])  # utime, stime
        descendants = int(fields[13]) + int(fields[14])  # cutime, cstime
    pending = _children(pid)
    while pending:
        child = pending.pop()
        fields = _stat(child)
        if fields is not None:
            descendants += int(fields[11]) + int(fields[12])
            pending += _children(child)
    return own / CLK_TCK, descendants / CLK_TCK


# --- server ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, registry: Path, sandbox_workers: int | None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TRANSFORMER_LOG_LEVEL": "warning", "TRANSFORMER_REGISTRY_PATH": str(registry)}
    if sandbox_workers:
        env["TRANSFORMER_SANDBOX_WORKERS"] = str(sandbox_workers)
    proc = subprocess.Popen(
        [sys.executable, "-m", "transformer", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--log-format", "json"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise SystemExit("server did not start") from None
            time.sleep(0.1)


def upload(channel: grpc.Channel, name: str, code: bytes) -> str:
    version: fpb.FunctionVersion = fpb_grpc.FunctionsStub(channel).Upload(fpb.UploadRequest(
        workspace=WORKSPACE, name=name, kind=fpb.FUNCTION_KIND_TRANSFORMATION, code=code))
    return version.version_id


async def drive(target: str, request: pb.TransformRequest, seconds: float,
                concurrency: int) -> tuple[int, list[float]]:
    latencies: list[float] = []
    events = 0
    channels = [grpc.aio.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)])
                for _ in range(concurrency)]
    stop_at = time.perf_counter() + seconds

    async def loop(channel: grpc.aio.Channel) -> None:
        nonlocal events
        stub = pb_grpc.TransformerStub(channel)
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            reply = await stub.UserTransform(request)
            latencies.append(time.perf_counter() - started)
            events += len(request.jobs)
            assert reply.results[0].status_code == 200, reply.results[0].error

    await asyncio.gather(*(loop(c) for c in channels))
    for channel in channels:
        await channel.close()
    return events, latencies


def timed_call(stub: pb_grpc.TransformerStub, request: pb.TransformRequest, status: int) -> float:
    started = time.perf_counter()
    reply = stub.UserTransform(request)
    elapsed = time.perf_counter() - started
    assert reply.results[0].status_code == status, reply.results[0].error
    return elapsed


def respawn_cost(channel: grpc.Channel, pid: int, rounds: int) -> dict[str, float]:
    """A call whose worker hits its memory limit (the worker retires and the pool starts a new one
    before answering), against a call that raises (the worker stays)."""
    stub = pb_grpc.TransformerStub(channel)
    bomb = user_request(upload(channel, "bench-bomb", BOMB), 1)
    raises = user_request(upload(channel, "bench-raises", RAISES), 1)
    for request in (bomb, raises):
        timed_call(stub, request, 400)
    costs: dict[str, list[float]] = {"bomb": [], "raises": [], "bomb_cpu": [], "raises_cpu": []}
    for _ in range(rounds):
        for name, request in (("bomb", bomb), ("raises", raises)):
            cpu = tree_cpu_seconds(pid)
            costs[name].append(timed_call(stub, request, 400))
            time.sleep(0.05)  # let the new worker finish warming up before reading its CPU
            costs[f"{name}_cpu"].append(tree_cpu_seconds(pid) - cpu)
    return {
        "respawn_wall_ms": 1000 * (statistics.median(costs["bomb"]) - statistics.median(costs["raises"])),
        "respawn_cpu_ms": 1000 * (statistics.mean(costs["bomb_cpu"]) - statistics.mean(costs["raises_cpu"])),
    }


def first_call_cost(channel: grpc.Channel, rounds: int) -> dict[str, float]:
    stub = pb_grpc.TransformerStub(channel)
    cold, warm = [], []
    for i in range(rounds):
        version_id = upload(channel, f"bench-new-{i}", TRIVIAL + f"\nVERSION = {i}\n".encode())
        request = user_request(version_id, 1)
        cold.append(timed_call(stub, request, 200))
        for _ in range(4):  # both workers have it
            timed_call(stub, request, 200)
        warm.append(timed_call(stub, request, 200))
    return {"first_call_ms": 1000 * statistics.median(cold), "warm_call_ms": 1000 * statistics.median(warm)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    target = f"127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(port, Path(tmp) / "registry.sqlite3", args.sandbox_workers)
        try:
            with grpc.insecure_channel(target) as channel:
                request = user_request(upload(channel, "bench-trivial", TRIVIAL), args.batch)
                asyncio.run(drive(target, request, min(2.0, args.seconds), args.concurrency))
                workers = len(_children(server.pid))
                own_before, workers_before = split_cpu_seconds(server.pid)
                wall_started = time.perf_counter()
                events, latencies = asyncio.run(drive(target, request, args.seconds, args.concurrency))
                wall = time.perf_counter() - wall_started
                own, workers_cpu = split_cpu_seconds(server.pid)
                own, workers_cpu = own - own_before, workers_cpu - workers_before
                cpu = own + workers_cpu
                extra = respawn_cost(channel, server.pid, 5) | first_call_cost(channel, 10)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    latencies.sort()
    return {
        "batch": args.batch,
        "sandbox_workers": workers,
        "concurrency": args.concurrency,
        "seconds": round(wall, 2),
        "events": events,
        "events_per_s": round(events / wall),
        "server_cpu_s": round(cpu, 2),
        "events_per_cpu_s": round(events / cpu) if cpu else None,
        "server_process_cpu_s": round(own, 2),
        "sandbox_workers_cpu_s": round(workers_cpu, 2),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        **{key: round(value, 2) for key, value in extra.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--sandbox-workers", type=int, default=None,
                        help="TRANSFORMER_SANDBOX_WORKERS (default: the server's, one per CPU)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args)
    if args.json:
        print(orjson.dumps(result).decode())
        return
    for key, value in result.items():
        print(f"{key:>18}: {value}")


if __name__ == "__main__":
    main()
