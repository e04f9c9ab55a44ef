"""Shared fixtures: real worker pools with short limits, and helpers to run one call."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from sandbox import CallResult, LimitPolicy, Limits, WorkerPool

TEST_LIMITS = Limits(wall_ms=400, cpu_seconds=5, memory_bytes=192 * 1024 * 1024, max_output_bytes=64 * 1024,
                     max_log_bytes=4 * 1024, max_events_per_batch=100)
TEST_POLICY = LimitPolicy(defaults=TEST_LIMITS)

HEALTHY = """
def transformEvent(event, metadata):
    event["healthy"] = True
    return event
"""


@pytest.fixture(scope="session")
def pool() -> Iterator[WorkerPool]:
    with WorkerPool(2, policy=TEST_POLICY) as shared:
        yield shared


@pytest.fixture(scope="module")
def solo_pool() -> Iterator[WorkerPool]:
    """One worker, so that successive runs are known to share a process."""
    with WorkerPool(1, policy=TEST_POLICY) as single:
        yield single


def version_of(source: str) -> str:
    return "v-" + hashlib.sha256(source.encode()).hexdigest()[:16]


def run_one(pool: WorkerPool, source: str, event: object = None, entry: str = "transformEvent",
            limits: Limits | None = None) -> CallResult:
    [result] = pool.run(version_of(source), source, entry, [({} if event is None else event, {})], limits)
    return result


def function(body: str) -> str:
    """A transformEvent whose body is ``body`` (indented by four spaces already)."""
    return "def transformEvent(event, metadata):\n" + body


def assert_healthy(pool: WorkerPool) -> None:
    """The pool still answers a normal call correctly."""
    results = pool.run(version_of(HEALTHY), HEALTHY, "transformEvent", [({"n": i}, {}) for i in range(4)])
    assert [r.value for r in results] == [{"n": i, "healthy": True} for i in range(4)]
