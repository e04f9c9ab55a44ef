"""Prometheus metrics of one server process: a ``Metrics`` object built at start and passed in.

Nothing here uses prometheus-client's global default registry: each ``Metrics`` owns its own
``CollectorRegistry``, so two servers in one process (tests) never share counters.

The hot path pays once per batch (or per function run of a group), never per event: labelled
children are looked up once per (rpc, destination) and cached, and results are counted per status
by the caller (``Stats.failed``) on the failure path only. Sandbox worker restarts are read from the
pool when Prometheus scrapes, not counted as they happen.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from threading import Thread
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from sandbox import WorkerPool
from transformer._pipeline import Stats

#: Seconds; a 100-event batch takes ~2-30 ms on one core, a 10,000-event one up to seconds.
BATCH_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: Label value for destinations beyond ``max_destinations``: a client naming a new destination
#: type in every request must not grow the series without bound.
OTHER = "other"


@dataclass(frozen=True, slots=True)
class _Series:
    """The children of one (rpc, destination), looked up once."""

    events_in: Counter
    duration: Histogram
    ok: Counter
    rpc: str
    destination: str


class Metrics:
    """The counters and histograms of one server process."""

    def __init__(self, *, max_destinations: int = 512, max_functions: int = 4096) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        # CPU, memory and file descriptors of this process, read from /proc at each scrape
        ProcessCollector(registry=registry)
        self._events_in = Counter(
            "transformer_events_in", "Jobs received, per RPC and destination type",
            ["rpc", "destination"], registry=registry)
        self._events_out = Counter(
            "transformer_events_out", "Results returned, per RPC, destination type and status code",
            ["rpc", "destination", "status"], registry=registry)
        self._duration = Histogram(
            "transformer_batch_duration_seconds", "Time to answer one batch (one RPC or stream item)",
            ["rpc", "destination"], buckets=BATCH_BUCKETS, registry=registry)
        self._function_events = Counter(
            "transformer_function_events", "Inputs a user function version ran on, per status code",
            ["function_version", "status"], registry=registry)
        self._limit_violations = Counter(
            "transformer_function_limit_violations",
            "Inputs failed because a user function exceeded a limit, per limit",
            ["limit", "function_version"], registry=registry)
        self._cache = Counter(
            "transformer_function_cache_lookups",
            "Function refs resolved from this process's cache (hit) or from the registry store (miss)",
            ["result"], registry=registry)
        self.cache_hit = self._cache.labels(result="hit")
        self.cache_miss = self._cache.labels(result="miss")
        self._series: dict[tuple[str, str], _Series] = {}
        self._outcomes: dict[tuple[str, str, int], Counter] = {}
        self._functions: dict[tuple[str, int], Counter] = {}
        self._max_destinations = max_destinations
        self._max_functions = max_functions

    def _series_of(self, rpc: str, destination: str) -> _Series:
        key = (rpc, destination)
        series = self._series.get(key)
        if series is None:
            if len(self._series) >= self._max_destinations:
                key = (rpc, OTHER)
                destination = OTHER
                series = self._series.get(key)
            if series is None:
                series = self._series[key] = _Series(
                    self._events_in.labels(rpc, destination), self._duration.labels(rpc, destination),
                    self._events_out.labels(rpc, destination, "200"), rpc, destination)
        return series

    def batch(self, rpc: str, destination: str, stats: Stats, seconds: float) -> None:
        """Count one answered batch: its jobs, its results per status, how long it took."""
        series = self._series_of(rpc, destination)
        series.events_in.inc(stats.jobs)
        series.duration.observe(seconds)
        failed = stats.failed
        ok = stats.results - sum(failed.values()) if failed else stats.results
        if ok:
            series.ok.inc(ok)
        for status, count in failed.items():
            key = (series.rpc, series.destination, status)
            child = self._outcomes.get(key)
            if child is None:
                child = self._outcomes[key] = self._events_out.labels(*key)
            child.inc(count)

    def function_run(self, function_version: str, inputs: int, failed: Mapping[int, int]) -> None:
        """Count one run of a function version on ``inputs`` inputs (``failed``: the non-200 ones
        per status; 298, nothing came out, counts as a status like the others)."""
        ok = inputs - sum(failed.values()) if failed else inputs
        if ok:
            self._function_child(function_version, 200).inc(ok)
        for status, count in failed.items():
            self._function_child(function_version, status).inc(count)

    def _function_child(self, function_version: str, status: int) -> Counter:
        key = (function_version, status)
        child = self._functions.get(key)
        if child is None:
            if len(self._functions) >= self._max_functions:
                key = (OTHER, status)
                function_version = OTHER
                child = self._functions.get(key)
            if child is None:
                child = self._functions[key] = self._function_events.labels(function_version, str(status))
        return child

    def limit_violation(self, limit: str, function_version: str) -> None:
        self._limit_violations.labels(limit, function_version).inc()

    def watch_pool(self, pool: WorkerPool) -> None:
        """Report the pool's worker restarts at each scrape (the pool keeps the counts)."""
        self.registry.register(_PoolCollector(pool))


class _PoolCollector(Collector):
    def __init__(self, pool: WorkerPool) -> None:
        self._pool = pool

    def collect(self) -> Iterator[Any]:
        stats = self._pool.stats()
        restarts = CounterMetricFamily(
            "transformer_sandbox_worker_restarts",
            "Sandbox workers replaced, by reason: killed past the wall-clock limit (wall_clock), died "
            "otherwise (crashed: memory, CPU, a signal), retired on purpose (retired)",
            labels=["reason"])
        restarts.add_metric(["wall_clock"], stats.watchdog_kills)
        restarts.add_metric(["crashed"], max(0, stats.worker_deaths - stats.watchdog_kills))
        restarts.add_metric(["retired"], stats.retirements)
        yield restarts
        yield CounterMetricFamily("transformer_sandbox_worker_spawns",
                                  "Sandbox worker processes started (the first ones included)",
                                  value=stats.spawns)
        yield GaugeMetricFamily("transformer_sandbox_workers", "Sandbox worker processes of this server",
                                value=stats.workers)


class MetricsEndpoint:
    """``/metrics`` over HTTP on its own port, served by a background thread."""

    def __init__(self, metrics: Metrics, host: str, port: int) -> None:
        try:
            self._httpd: WSGIServer
            self._thread: Thread
            self._httpd, self._thread = start_http_server(port, addr=host, registry=metrics.registry)
        except OSError as exc:
            raise OSError(f"cannot serve metrics on {host}:{port}: {exc.strerror or exc}") from None
        self.port: int = self._httpd.server_address[1]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
