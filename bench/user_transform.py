"""Throughput of UserTransform (a user's Python or WebAssembly transformation) on a real server.

Starts `transformer serve` in its own process with a fresh registry, uploads a trivial
transformation that sets one property over gRPC (`--lang python`: a `transformEvent`; `--lang c` or
`zig`: the same transformation as a WebAssembly guest, bench/guests/trivial.{c,zig}, built with
ziglang into `--guest-cache`), drives UserTransform from this process with 100-event batches for a
fixed time with a fixed number of concurrent calls, and reports:

* events/s                  events answered per wall-clock second
* events per CPU-second     events per second of CPU used by the server process AND its sandbox
                            workers (child processes: their /proc stat is summed, and the CPU of
                            workers that ended is counted through the server's cutime/cstime)
* p50 / p99                 latency of one batch call
* worker respawn            (Python) extra wall time and CPU of a call whose worker must be replaced
                            (it hit its memory limit) over a call that fails without harm
* first call of a version   latency of the first one-event UserTransform after uploading a new
                            version (registry lookup, shim, compile in the worker; for WebAssembly,
                            compiling the module), against a warm one

Usage: python bench/user_transform.py [--lang python|c|zig] [--seconds 10] [--concurrency 4]
                                      [--batch 100] [--sandbox-workers N] [--guest-cache DIR] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import grpc
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._harness import (
    GUEST_CACHE,
    build_bench_guest,
    children,
    drive,
    free_port,
    percentile_ms,
    print_result,
    split_cpu_seconds,
    start_server,
    tree_cpu_seconds,
)
from transformer.v1 import functions_pb2 as fpb
from transformer.v1 import functions_pb2_grpc as fpb_grpc
from transformer.v1 import transformer_pb2 as pb
from transformer.v1 import transformer_pb2_grpc as pb_grpc

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


def start_user_server(port: int, registry: Path, sandbox_workers: int | None) -> subprocess.Popen[bytes]:
    env = {"TRANSFORMER_REGISTRY_PATH": str(registry)}
    if sandbox_workers:
        env["TRANSFORMER_SANDBOX_WORKERS"] = str(sandbox_workers)
    return start_server(port, env=env)


def upload(channel: grpc.Channel, name: str, code: bytes) -> str:
    language = fpb.FUNCTION_LANGUAGE_WASM if code[:4] == b"\0asm" else fpb.FUNCTION_LANGUAGE_PYTHON
    version: fpb.FunctionVersion = fpb_grpc.FunctionsStub(channel).Upload(fpb.UploadRequest(
        workspace=WORKSPACE, name=name, kind=fpb.FUNCTION_KIND_TRANSFORMATION, language=language, code=code))
    return version.version_id


def variant(code: bytes, i: int) -> bytes:
    """``code`` made a different version that runs the same way (a new module must be compiled)."""
    if code[:4] != b"\0asm":
        return code + f"\nVERSION = {i}\n".encode()
    name, payload = b"bench", str(i).encode()
    return code + b"\0" + bytes((len(name) + 1 + len(payload),)) + bytes((len(name),)) + name + payload


def caller(request: pb.TransformRequest) -> Any:
    async def call(channel: grpc.aio.Channel) -> int:
        reply = await pb_grpc.TransformerStub(channel).UserTransform(request)
        assert reply.results[0].status_code == 200, reply.results[0].error
        return len(request.jobs)

    return call


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


def first_call_cost(channel: grpc.Channel, code: bytes, rounds: int) -> dict[str, float]:
    stub = pb_grpc.TransformerStub(channel)
    cold, warm = [], []
    for i in range(rounds):
        version_id = upload(channel, f"bench-new-{i}", variant(code, i))
        request = user_request(version_id, 1)
        cold.append(timed_call(stub, request, 200))
        for _ in range(4):  # both workers have it
            timed_call(stub, request, 200)
        warm.append(timed_call(stub, request, 200))
    return {"first_call_ms": 1000 * statistics.median(cold), "warm_call_ms": 1000 * statistics.median(warm)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    code = TRIVIAL if args.lang == "python" else build_bench_guest(f"trivial.{args.lang}", args.guest_cache)
    port = free_port()
    target = f"127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        server = start_user_server(port, Path(tmp) / "registry.sqlite3", args.sandbox_workers)
        try:
            with grpc.insecure_channel(target) as channel:
                request = user_request(upload(channel, "bench-trivial", code), args.batch)
                call = caller(request)
                asyncio.run(drive(target, call, min(2.0, args.seconds), args.concurrency))
                workers = len(children(server.pid))
                own_before, workers_before = split_cpu_seconds(server.pid)
                wall_started = time.perf_counter()
                events, latencies = asyncio.run(drive(target, call, args.seconds, args.concurrency))
                wall = time.perf_counter() - wall_started
                own, workers_cpu = split_cpu_seconds(server.pid)
                own, workers_cpu = own - own_before, workers_cpu - workers_before
                cpu = own + workers_cpu
                extra = first_call_cost(channel, code, 10)
                if args.lang == "python":  # WebAssembly guests run on the server's threads
                    extra |= respawn_cost(channel, server.pid, 5)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    latencies.sort()
    return {
        "lang": args.lang,
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
        "p99_ms": percentile_ms(latencies, 0.99),
        **{key: round(value, 2) for key, value in extra.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lang", choices=("python", "c", "zig"), default="python",
                        help="the trivial transformation in Python, or a WASM guest built from C or Zig")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--sandbox-workers", type=int, default=None,
                        help="TRANSFORMER_SANDBOX_WORKERS (default: the server's, one per CPU)")
    parser.add_argument("--guest-cache", type=Path, default=GUEST_CACHE,
                        help="where WebAssembly guests are built (default: %(default)s)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    print_result(run(args), args.json)


if __name__ == "__main__":
    main()
