"""Resource bombs: each call is stopped by the limit it attacks, and the pool recovers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox import LimitExceeded, LimitName, LimitPolicy, Limits, UncaughtError, WorkerPool
from tests.sandbox.conftest import TEST_LIMITS, assert_healthy, function, run_one, version_of


def limit_of(pool: WorkerPool, source: str, limits: Limits | None = None) -> LimitName:
    result = run_one(pool, source, limits=limits)
    assert isinstance(result.error, LimitExceeded), result
    assert result.error.value == getattr(limits or TEST_LIMITS, result.error.limit.value)
    return result.error.limit


def test_infinite_loop_hits_the_wall_clock_limit(pool: WorkerPool) -> None:
    """A plain infinite loop is killed by the watchdog."""
    assert limit_of(pool, function("    while True:\n        pass\n")) is LimitName.WALL_MS
    assert_healthy(pool)


def test_loop_that_swallows_every_exception_is_still_stopped(pool: WorkerPool) -> None:
    """`while True` around a bare `except` cannot catch a SIGKILL."""
    body = "    while True:\n        try:\n            x = 1 // 0\n        except:\n            pass\n"
    assert limit_of(pool, function(body)) is LimitName.WALL_MS
    assert_healthy(pool)


def test_catastrophic_regex_is_stopped_inside_c_code(pool: WorkerPool) -> None:
    """A backtracking regex that never returns to the interpreter is killed all the same."""
    body = "    return re.match(r'(a+)+$', 'a' * 64 + 'b')\n"
    assert limit_of(pool, "import re\n" + function(body)) is LimitName.WALL_MS
    assert_healthy(pool)


def test_huge_computation_in_c_code_is_bounded_by_the_wall_clock(pool: WorkerPool) -> None:
    """A huge power computed in C is bounded by the wall clock too."""
    assert limit_of(pool, function("    return len(str(pow(7, 10 ** 9)))\n")) is LimitName.WALL_MS
    assert_healthy(pool)


@pytest.mark.parametrize("body", [
    "    return len('x' * (10 ** 10))\n",
    "    keep = []\n    while True:\n        keep.append('x' * 10 ** 6)\n",
    "    return len(bytes(10 ** 10))\n",
    "    return len(list(range(10 ** 9)))\n",
])
def test_memory_bomb_hits_the_memory_limit(pool: WorkerPool, body: str) -> None:
    """Allocating past RLIMIT_AS fails the call with the memory limit; the worker is replaced."""
    retirements = pool.stats().retirements
    # a generous wall clock: touching the whole address space takes a while on a busy machine
    assert limit_of(pool, function(body), TEST_LIMITS.replace(wall_ms=5_000)) is LimitName.MEMORY_BYTES
    assert pool.stats().retirements == retirements + 1
    assert_healthy(pool)


def test_deep_recursion_is_a_recursion_error(pool: WorkerPool) -> None:
    """Unbounded recursion ends as an uncaught RecursionError at the user's line."""
    source = "def down(n):\n    return down(n + 1)\n\n" + function("    return down(0)\n")
    error = run_one(pool, source).error
    assert isinstance(error, UncaughtError) and error.exception_type == "RecursionError"
    assert (error.line, error.function) == (2, "down")
    assert_healthy(pool)


def test_huge_output_hits_the_output_limit(pool: WorkerPool) -> None:
    """A result larger than max_output_bytes is refused."""
    assert limit_of(pool, function("    return {'blob': 'x' * 100000}\n")) is LimitName.MAX_OUTPUT_BYTES
    assert_healthy(pool)


def test_huge_log_hits_the_log_limit(pool: WorkerPool) -> None:
    """Logging past max_log_bytes stops the call with the log limit, keeping the lines that fit."""
    result = run_one(pool, function("    while True:\n        log('x' * 100)\n"))
    assert isinstance(result.error, LimitExceeded) and result.error.limit is LimitName.MAX_LOG_BYTES
    assert 0 < sum(len(line) + 1 for line in result.logs) <= TEST_LIMITS.max_log_bytes
    assert_healthy(pool)


def test_one_enormous_log_line_hits_the_log_limit(pool: WorkerPool) -> None:
    """A single line bigger than the limit is refused as a whole."""
    result = run_one(pool, function("    log('x' * 1000000)\n    return 1\n"))
    assert isinstance(result.error, LimitExceeded) and result.error.limit is LimitName.MAX_LOG_BYTES
    assert result.logs == ()


def test_swallowing_the_log_limit_does_not_help(pool: WorkerPool) -> None:
    """Once over the log limit the call fails even if user code catches the signal and returns."""
    body = ("    for i in range(10000):\n        try:\n            print('line', i)\n"
            "        except:\n            pass\n    return 'done'\n")
    assert limit_of(pool, function(body)) is LimitName.MAX_LOG_BYTES
    assert_healthy(pool)


def test_module_level_bomb_fails_every_call_with_a_single_kill(pool: WorkerPool) -> None:
    """An infinite loop in module code fails all calls of the batch while killing one worker only."""
    source = "while True:\n    pass\n" + function("    return 1\n")
    kills = pool.stats().watchdog_kills
    results = pool.run(version_of(source), source, "transformEvent", [({}, {})] * 10)
    assert all(isinstance(r.error, LimitExceeded) and r.error.limit is LimitName.WALL_MS for r in results)
    assert pool.stats().watchdog_kills == kills + 1
    assert_healthy(pool)


@pytest.fixture(scope="module")
def cpu_pool() -> Iterator[WorkerPool]:
    """A pool whose wall-clock limit is far above its CPU limit, so that the CPU limit acts first."""
    limits = TEST_LIMITS.replace(wall_ms=20_000, cpu_seconds=1)
    with WorkerPool(1, policy=LimitPolicy(defaults=limits)) as single:
        yield single


def test_cpu_limit_stops_a_busy_call(cpu_pool: WorkerPool) -> None:
    """RLIMIT_CPU ends a CPU-bound call with the CPU limit before the wall clock would."""
    limits = cpu_pool.policy.defaults
    assert limit_of(cpu_pool, function("    while True:\n        pass\n"), limits) is LimitName.CPU_SECONDS
    assert cpu_pool.stats().watchdog_kills == 0
    assert_healthy(cpu_pool)
