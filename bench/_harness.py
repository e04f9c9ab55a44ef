"""What the benchmark scripts share: a server process on loopback, its CPU, and a load driver."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

import grpc
import orjson

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
GUESTS = Path(__file__).resolve().parent / "guests"
GUEST_CACHE = Path(tempfile.gettempdir()) / "transformer-bench-guests"


def build_bench_guest(name: str, cache_dir: Path = GUEST_CACHE) -> bytes:
    """The module built from ``bench/guests/<name>`` (the first build of all takes minutes: zig
    builds wasi-libc into its own cache)."""
    from functions import build_guest  # only WebAssembly benchmarks need it

    return build_guest(GUESTS / name, cache_dir)


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def children(pid: int) -> list[int]:
    """Children of every thread of ``pid`` (sandbox workers are started from a pool's threads)."""
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


def split_cpu_seconds(pid: int) -> tuple[float, float]:
    """(CPU of ``pid`` itself, CPU of its descendants: alive now, or reaped by it)."""
    own = descendants = 0
    fields = _stat(pid)
    if fields is not None:
        own = int(fields[11]) + int(fields[12])  # utime, stime
        descendants = int(fields[13]) + int(fields[14])  # cutime, cstime
    pending = children(pid)
    while pending:
        child = pending.pop()
        fields = _stat(child)
        if fields is not None:
            descendants += int(fields[11]) + int(fields[12])
            pending += children(child)
    return own / CLK_TCK, descendants / CLK_TCK


def tree_cpu_seconds(pid: int) -> float:
    """CPU of ``pid``, of its descendants alive now (workers), and of the children it reaped."""
    own, descendants = split_cpu_seconds(pid)
    return own + descendants


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, *flags: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """`transformer serve` on a loopback port, quiet, once it accepts connections."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "transformer", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--log-format", "json", *flags],
        env={**os.environ, "TRANSFORMER_LOG_LEVEL": "warning", **(env or {})}, cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
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


async def drive(target: str, call: Callable[[grpc.aio.Channel], Awaitable[int]], seconds: float,
                concurrency: int) -> tuple[int, list[float]]:
    """``concurrency`` connections calling ``call`` back to back for ``seconds``; ``call`` returns
    how many events its request carried. (events answered, latency of each call)."""
    latencies: list[float] = []
    events = 0
    # One channel per loop, each its own connection, as separate router threads would be.
    channels = [grpc.aio.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)])
                for _ in range(concurrency)]
    stop_at = time.perf_counter() + seconds

    async def loop(channel: grpc.aio.Channel) -> None:
        nonlocal events
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            answered = await call(channel)  # not `events += await ...`: that reads events first
            latencies.append(time.perf_counter() - started)
            events += answered

    await asyncio.gather(*(loop(c) for c in channels))
    for channel in channels:
        await channel.close()
    return events, latencies


def percentile_ms(sorted_latencies: list[float], fraction: float) -> float:
    index = max(0, int(len(sorted_latencies) * fraction) - 1)
    return round(sorted_latencies[index] * 1000, 2)


def print_result(result: Mapping[str, object], as_json: bool) -> None:
    """One JSON object, or one aligned line per figure."""
    if as_json:
        print(orjson.dumps(result).decode())
        return
    for key, value in result.items():
        print(f"{key:>18}: {value}")
