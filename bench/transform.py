"""Throughput of Transform / RouterTransform for one destination, measured on a real server.

Starts `transformer serve` in its own process, drives it over gRPC from this process with
100-event batches built from the destination's conformance cases (or synthetic track events when
the cases are absent), for a fixed time with a fixed number of concurrent calls, and reports:

* events/s               events answered per wall-clock second
* events per CPU-second  events per second of CPU the server used (user+system, all its processes)
* p50 / p99              latency of one batch call

Usage: python bench/transform.py [--destination webhook] [--seconds 10] [--concurrency 4]
                                 [--batch 100] [--workers 1] [--router] [--json]
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
import time
from pathlib import Path
from typing import Any

import grpc
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from transformer._conformance import default_cases_dir, load_cases  # noqa: E402
from transformer.v1 import transformer_pb2 as pb  # noqa: E402
from transformer.v1 import transformer_pb2_grpc as pb_grpc  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def sample_jobs(destination: str) -> list[pb.Job]:
    """Successful processor cases of the destination, as jobs (first item of each case)."""
    jobs = []
    cases_dir = default_cases_dir()
    if cases_dir.is_dir():
        for case in load_cases(cases_dir, [destination]):
            if case["feature"] != "processor":
                continue
            for item, result in zip(case["request"], case["response"]["body"], strict=False):
                if result.get("statusCode") == 200:
                    jobs.append(pb.Job(message=orjson.dumps(item["message"]),
                                       metadata=orjson.dumps(item.get("metadata") or {"jobId": 1}),
                                       destination=orjson.dumps(item["destination"])))
    if not jobs:
        if destination != "webhook":
            raise SystemExit(f"no successful conformance cases for {destination} in {cases_dir}")
        destination_doc = {"ID": "d", "Config": {"webhookUrl": "https://example.test/hook"},
                           "DestinationDefinition": {"Name": "WEBHOOK"}}
        for i in range(20):
            message = {"type": "track", "event": "Order Completed", "userId": f"u{i}",
                       "anonymousId": f"a{i}", "messageId": f"m{i}",
                       "properties": {"total": 10 * i, "currency": "USD", "products": [{"id": i}]},
                       "context": {"library": {"name": "bench"}, "ip": "127.0.0.1"},
                       "timestamp": "2024-01-01T00:00:00.000Z"}
            jobs.append(pb.Job(message=orjson.dumps(message), metadata=orjson.dumps({"jobId": i}),
                               destination=orjson.dumps(destination_doc)))
    return jobs


def batch_of(jobs: list[pb.Job], size: int) -> list[pb.Job]:
    return [jobs[i % len(jobs)] for i in range(size)]


def process_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and its children still alive (workers)."""
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TRANSFORMER_LOG_LEVEL": "warning"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "transformer", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--log-format", "json"],
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


async def drive(target: str, request: pb.TransformRequest, router: bool, seconds: float,
                concurrency: int) -> tuple[int, list[float]]:
    latencies: list[float] = []
    events = 0
    channels = [grpc.aio.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)])
                for _ in range(concurrency)]
    stop_at = time.perf_counter() + seconds

    async def loop(channel: grpc.aio.Channel) -> None:
        nonlocal events
        stub = pb_grpc.TransformerStub(channel)
        call = stub.RouterTransform if router else stub.Transform
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            reply = await call(request)
            latencies.append(time.perf_counter() - started)
            events += len(request.jobs)
            assert reply.results

    await asyncio.gather(*(loop(c) for c in channels))
    for channel in channels:
        await channel.close()
    return events, latencies


def run(args: argparse.Namespace) -> dict[str, Any]:
    jobs = sample_jobs(args.destination)
    request = pb.TransformRequest(destination_type=args.destination, jobs=batch_of(jobs, args.batch))
    port = free_port()
    server = start_server(port, args.workers)
    target = f"127.0.0.1:{port}"
    try:
        asyncio.run(drive(target, request, args.router, min(2.0, args.seconds), args.concurrency))
        cpu_before = process_cpu_seconds(server.pid)
        wall_started = time.perf_counter()
        events, latencies = asyncio.run(
            drive(target, request, args.router, args.seconds, args.concurrency))
        wall = time.perf_counter() - wall_started
        cpu = process_cpu_seconds(server.pid) - cpu_before
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    latencies.sort()
    return {
        "destination": args.destination,
        "mode": "router" if args.router else "processor",
        "batch": args.batch,
        "workers": args.workers,
        "concurrency": args.concurrency,
        "seconds": round(wall, 2),
        "events": events,
        "events_per_s": round(events / wall),
        "server_cpu_s": round(cpu, 2),
        "events_per_cpu_s": round(events / cpu) if cpu else None,
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--destination", default="webhook")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--router", action="store_true", help="RouterTransform instead of Transform")
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
