"""Batches with guilty calls: only the guilty call fails, the others succeed, the pool recovers."""

from __future__ import annotations

import os
import signal
import threading
import time

from sandbox import LimitExceeded, LimitName, WorkerCrashed, WorkerPool
from tests.sandbox.conftest import TEST_LIMITS, assert_healthy, version_of

GUILTY = """
def transformEvent(event, metadata):
    if event.get("loop"):
        while True:
            pass
    if event.get("memory"):
        return len("x" * (10 ** 10))
    if event.get("busy"):
        n = 0
        for i in range(event["busy"]):
            n = n + i
    event["done"] = True
    return event
"""


def run(pool: WorkerPool, events: list[dict[str, object]]) -> list[object]:
    results = pool.run(version_of(GUILTY), GUILTY, "transformEvent", [(e, {}) for e in events],
                       TEST_LIMITS.replace(wall_ms=1_000))
    return [r.value if r.ok else r.error for r in results]


def test_one_guilty_call_fails_alone(pool: WorkerPool) -> None:
    """An infinite loop in call 7 of 20 fails call 7 only, with one worker killed."""
    kills = pool.stats().watchdog_kills
    events: list[dict[str, object]] = [{"i": i} for i in range(20)]
    events[7] = {"loop": True}
    outcomes = run(pool, events)
    error = outcomes.pop(7)
    assert isinstance(error, LimitExceeded) and error.limit is LimitName.WALL_MS
    assert outcomes == [{"i": i, "done": True} for i in range(20) if i != 7]
    assert pool.stats().watchdog_kills == kills + 1
    assert_healthy(pool)


def test_several_guilty_calls_each_fail_alone(pool: WorkerPool) -> None:
    """Two infinite loops and a memory bomb in one batch fail exactly those three calls."""
    events: list[dict[str, object]] = [{"i": i} for i in range(12)]
    events[0] = {"loop": True}
    events[5] = {"memory": True}
    events[11] = {"loop": True}
    outcomes = run(pool, events)
    assert [type(o).__name__ for o in outcomes].count("LimitExceeded") == 3
    assert [o.limit for o in outcomes if isinstance(o, LimitExceeded)] == [
        LimitName.WALL_MS, LimitName.MEMORY_BYTES, LimitName.WALL_MS]
    assert [o for o in outcomes if isinstance(o, dict)] == [{"i": i, "done": True} for i in range(12)
                                                            if i not in (0, 5, 11)]
    assert_healthy(pool)


def test_worker_killed_from_outside_fails_only_the_running_call(solo_pool: WorkerPool) -> None:
    """A worker that dies mid-call (here: SIGKILL from outside) is reported as a crash of that call only."""
    [pid] = solo_pool.stats().worker_pids
    events: list[dict[str, object]] = [{"i": i} for i in range(6)]
    events[3] = {"busy": 10 ** 9}  # runs for seconds: the kill below lands while it runs

    def kill_when_busy() -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    if stat.read().rsplit(")", 1)[1].split()[0] == "R":
                        time.sleep(0.05)
                        os.kill(pid, signal.SIGKILL)
                        return
            except OSError:
                return
            time.sleep(0.005)

    killer = threading.Thread(target=kill_when_busy)
    killer.start()
    outcomes = run(solo_pool, events)
    killer.join()
    error = outcomes.pop(3)
    assert isinstance(error, WorkerCrashed) and "SIGKILL" in error.detail
    assert outcomes == [{"i": i, "done": True} for i in range(6) if i != 3]
    assert solo_pool.stats().worker_pids != (pid,)
    assert_healthy(solo_pool)


def test_a_worker_that_died_while_idle_is_invisible_to_callers(pool: WorkerPool) -> None:
    """Workers killed between requests are replaced, and the next request succeeds in full."""
    for pid in pool.stats().worker_pids:
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.05)
    assert_healthy(pool)
    assert_healthy(pool)
    assert len(pool.stats().worker_pids) == pool.size
