"""Throughput of Transform / RouterTransform for one destination, measured on a real server.

Starts `transformer serve` in its own process, drives it over gRPC from this process with
100-event batches built from the destination's conformance cases (or synthetic track events when
the cases are absent), for a fixed time with a fixed number of concurrent calls, and reports:

* events/s               events answered per wall-clock second
* events per CPU-second  events per second of CPU the server used (user+system, all its processes)
* p50 / p99              latency of one batch call

Usage: python bench/transform.py [--destination webhook] [--seconds 10] [--concurrency 4]
                                 [--batch 100] [--workers 1] [--router] [--metrics-port P] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import grpc
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._harness import (
    drive,
    free_port,
    percentile_ms,
    print_result,
    start_server,
    tree_cpu_seconds,
)
from transformer._conformance import default_cases_dir, load_cases
from transformer.v1 import transformer_pb2 as pb
from transformer.v1 import transformer_pb2_grpc as pb_grpc


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


def caller(request: pb.TransformRequest, router: bool) -> Any:
    async def call(channel: grpc.aio.Channel) -> int:
        stub = pb_grpc.TransformerStub(channel)
        reply = await (stub.RouterTransform if router else stub.Transform)(request)
        assert reply.results
        return len(request.jobs)

    return call


def run(args: argparse.Namespace) -> dict[str, Any]:
    jobs = sample_jobs(args.destination)
    request = pb.TransformRequest(destination_type=args.destination, jobs=batch_of(jobs, args.batch))
    port = free_port()
    metrics_flags = ["--metrics-port", str(args.metrics_port)] if args.metrics_port else []
    server = start_server(port, "--workers", str(args.workers), *metrics_flags)
    target = f"127.0.0.1:{port}"
    call = caller(request, args.router)
    try:
        asyncio.run(drive(target, call, min(2.0, args.seconds), args.concurrency))  # warm-up
        cpu_before = tree_cpu_seconds(server.pid)
        wall_started = time.perf_counter()
        events, latencies = asyncio.run(drive(target, call, args.seconds, args.concurrency))
        wall = time.perf_counter() - wall_started
        cpu = tree_cpu_seconds(server.pid) - cpu_before
        scraped = scrape_events(args.metrics_port) if args.metrics_port else None
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
        "p99_ms": percentile_ms(latencies, 0.99),
        **({"metrics_events_in_total": scraped} if scraped is not None else {}),
    }


def scrape_events(port: int) -> float:
    """transformer_events_in_total from the server's /metrics (warm-up included)."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
        text = reply.read().decode()
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == "transformer_events_in_total")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--destination", default="webhook")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--router", action="store_true", help="RouterTransform instead of Transform")
    parser.add_argument("--metrics-port", type=int, default=0,
                        help="serve /metrics there and report the events it counted")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    print_result(run(args), args.json)


if __name__ == "__main__":
    main()
