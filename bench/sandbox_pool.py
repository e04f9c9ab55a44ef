"""Throughput and overheads of the sandbox worker pool alone (no gRPC).

Drives ``sandbox.WorkerPool`` with a trivial ``transformEvent`` that sets one property, in batches
of ``--batch`` calls from ``--concurrency`` threads (or asyncio tasks with ``--asyncio``) for a
fixed time, and reports:

* calls/s                  calls answered per wall-clock second
* calls per CPU-second     calls per second of CPU used by this process and its workers
* parent calls per CPU-s   the same, counting only this process (the gRPC server's share)
* respawn                  wall time from a worker's death to its replacement being ready, and the
                           CPU a new worker spends starting
* first call of a version  latency of a one-call batch for a version the worker has not loaded,
                           against one it has

Usage: python bench/sandbox_pool.py [--seconds 5] [--workers 2] [--concurrency 2] [--batch 100]
                                    [--asyncio] [--profile] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox import LimitPolicy, Limits, WorkerPool  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
SOURCE = '''
def transformEvent(event, metadata):
    event["properties"]["sandboxed"] = True
    return event
'''
BOMB = '''
def transformEvent(event, metadata):
    return "x" * (1 << 40)
'''


def sample_event(i: int) -> dict[str, object]:
    return {"type": "track", "event": "Order Completed", "userId": f"user-{i}", "anonymousId": f"anon-{i}",
            "messageId": f"msg-{i}", "timestamp": "2024-01-01T00:00:00.000Z",
            "properties": {"order_id": f"order-{i}", "total": 10.5 * i, "currency": "USD",
                           "products": [{"product_id": "p1", "price": 4.5, "quantity": 1},
                                        {"product_id": "p2", "price": 6.0, "quantity": 1}]},
            "context": {"library": {"name": "bench", "version": "1.0"}, "ip": "127.0.0.1",
                        "userAgent": "Mozilla/5.0 (X11; Linux x86_64)", "locale": "en-US"}}


def worker_cpu(pids: tuple[int, ...]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def throughput(pool: WorkerPool, seconds: float, concurrency: int, batch: int,
               use_asyncio: bool) -> dict[str, float]:
    calls = [(sample_event(i), {"jobId": i}) for i in range(batch)]
    pool.run("bench-v1", SOURCE, "transformEvent", calls)  # load the version in every worker
    pool.run("bench-v1", SOURCE, "transformEvent", calls)
    pids = pool.stats().worker_pids
    spawns = pool.stats().spawns
    done = [0]
    stop_at = time.monotonic() + seconds
    parent0, workers0, wall0 = self_cpu(), worker_cpu(pids), time.monotonic()

    if use_asyncio:
        async def client() -> None:
            while time.monotonic() < stop_at:
                results = await pool.run_async("bench-v1", SOURCE, "transformEvent", calls)
                done[0] += len(results)

        async def main() -> None:
            await asyncio.gather(*(client() for _ in range(concurrency)))

        asyncio.run(main())
    else:
        lock = threading.Lock()

        def client() -> None:
            while time.monotonic() < stop_at:
                results = pool.run("bench-v1", SOURCE, "transformEvent", calls)
                with lock:
                    done[0] += len(results)

        threads = [threading.Thread(target=client) for _ in range(concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    wall = time.monotonic() - wall0
    parent = self_cpu() - parent0
    workers = worker_cpu(pids) - workers0
    if pool.stats().spawns != spawns:
        print("warning: a worker was respawned during the measurement", file=sys.stderr)
    return {"calls": done[0], "seconds": wall, "calls_per_s": done[0] / wall,
            "calls_per_cpu_s": done[0] / (parent + workers), "parent_calls_per_cpu_s": done[0] / parent,
            "parent_cpu_s": parent, "workers_cpu_s": workers}


def respawn_cost(pool: WorkerPool, rounds: int) -> dict[str, float]:
    """Each round runs a call that exhausts memory, so its worker retires and is replaced."""
    before = pool.stats()
    new_worker_cpu = []
    for _ in range(rounds):
        old = set(pool.stats().worker_pids)
        pool.run("bench-bomb", BOMB, "transformEvent", [({}, {})])
        new = set(pool.stats().worker_pids) - old
        new_worker_cpu.append(worker_cpu(tuple(new)))
    after = pool.stats()
    spawns = after.spawns - before.spawns
    spawn_seconds = after.spawn_seconds - before.spawn_seconds
    return {"respawns": spawns, "respawn_wall_ms": 1000 * spawn_seconds / spawns,
            "new_worker_cpu_ms": 1000 * statistics.mean(new_worker_cpu)}


def first_call_cost(pool: WorkerPool, rounds: int) -> dict[str, float]:
    event = [(sample_event(0), {})]
    cold, warm = [], []
    for i in range(rounds):
        source = SOURCE + f"\nVERSION = {i}\n"  # distinct source: compiled from scratch
        t0 = time.perf_counter()
        pool.run(f"bench-new-{i}", source, "transformEvent", event)
        cold.append(time.perf_counter() - t0)
        for _ in range(pool.size * 2):  # make sure every worker has it
            pool.run(f"bench-new-{i}", source, "transformEvent", event)
        t0 = time.perf_counter()
        pool.run(f"bench-new-{i}", source, "transformEvent", event)
        warm.append(time.perf_counter() - t0)
    return {"first_call_ms": 1000 * statistics.median(cold), "warm_call_ms": 1000 * statistics.median(warm)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=0, help="clients (default: one per worker)")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--asyncio", action="store_true", help="drive the pool with run_async")
    parser.add_argument("--profile", action="store_true", help="profile the parent with pyinstrument")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    concurrency = args.concurrency or args.workers

    policy = LimitPolicy(Limits(memory_bytes=256 << 20))
    t0 = time.perf_counter()
    with WorkerPool(args.workers, policy=policy) as pool:
        start_ms = 1000 * (time.perf_counter() - t0)
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler()
            profiler.start()
        result = throughput(pool, args.seconds, concurrency, args.batch, args.asyncio)
        if args.profile:
            profiler.stop()
            print(profiler.output_text(unicode=True, color=False, show_all=False))
        result |= respawn_cost(pool, 5)
        result |= first_call_cost(pool, 10)
        result["pool_start_ms"] = start_ms
        result["seccomp"] = pool.isolation.seccomp

    if args.json:
        print(json.dumps(result))
        return
    mode = "asyncio" if args.asyncio else "threads"
    print(f"sandbox pool: {args.workers} workers, {concurrency} {mode} clients, {args.batch}-call batches, "
          f"{args.seconds:g} s (seccomp: {result['seccomp']})")
    print(f"  calls/s                    {result['calls_per_s']:>12,.0f}")
    print(f"  calls per CPU-second       {result['calls_per_cpu_s']:>12,.0f}   (parent + workers)")
    print(f"  parent calls per CPU-s     {result['parent_calls_per_cpu_s']:>12,.0f}   "
          f"(parent {result['parent_cpu_s']:.2f} s, workers {result['workers_cpu_s']:.2f} s)")
    print(f"  worker respawn             {result['respawn_wall_ms']:>12.1f} ms wall, "
          f"{result['new_worker_cpu_ms']:.0f} ms CPU of the new worker")
    print(f"  first call of a version    {result['first_call_ms']:>12.2f} ms   "
          f"(already loaded: {result['warm_call_ms']:.2f} ms)")
    print(f"  pool start                 {result['pool_start_ms']:>12.0f} ms")


if __name__ == "__main__":
    main()
