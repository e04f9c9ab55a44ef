"""The worker pool running ordinary functions: results, logs, errors, caching, concurrency."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import threading
import time

import orjson
import pytest

from sandbox import (
    CompileError,
    InvalidCall,
    LimitsError,
    MissingEntryPoint,
    PoolClosed,
    UncaughtError,
    UserDropEvent,
    UserError,
    UserEventNotSupported,
    UserRetryError,
    UserValidationError,
    WorkerPool,
    compile_function,
)
from tests.sandbox.conftest import TEST_LIMITS, TEST_POLICY, function, run_one, version_of

TRANSFORM = """
import json

def transformEvent(event, metadata):
    event["properties"]["seen"] = True
    log("user", event["userId"], metadata["jobId"])
    return event
"""


def test_transform_event_returns_json_and_logs(pool: WorkerPool) -> None:
    """Each call returns its event as JSON bytes, with its own log lines."""
    code = compile_function(TRANSFORM, "acme/seen", ["transformEvent"])
    calls = [({"userId": f"u{i}", "properties": {}}, {"jobId": i}) for i in range(5)]
    results = pool.run("seen-v1", code, "transformEvent", calls)
    assert [orjson.loads(r.output or b"") for r in results] == [
        {"userId": f"u{i}", "properties": {"seen": True}} for i in range(5)]
    assert [r.logs for r in results] == [(f"user u{i} {i}",) for i in range(5)]
    assert all(r.ok and r.error is None for r in results)


def test_print_goes_to_the_log(pool: WorkerPool) -> None:
    """print() inside user code is captured like log()."""
    result = run_one(pool, function('    print("a", 1, sep="-")\n    log({"k": 1})\n    return None\n'))
    assert result.logs == ("a-1", "{'k': 1}")
    assert result.value is None


@pytest.mark.parametrize(("name", "error_type"), [("ValidationError", UserValidationError),
                                                  ("RetryError", UserRetryError),
                                                  ("DropEvent", UserDropEvent),
                                                  ("EventNotSupported", UserEventNotSupported)])
def test_the_four_user_exceptions_are_typed(pool: WorkerPool, name: str, error_type: type[UserError]) -> None:
    """Raising one of the four named exceptions yields its own error type, message, line and function."""
    result = run_one(pool, function(f'    x = 1\n    raise {name}("because " + str(x))\n'))
    error = result.error
    assert isinstance(error, error_type)
    assert (error.message, error.line, error.function) == ("because 1", 3, "transformEvent")
    assert str(error) == f"{name}: because 1 (line 3, in transformEvent)"
    with pytest.raises(error_type):
        _ = result.value


def test_subclass_of_a_user_exception_keeps_its_kind(pool: WorkerPool) -> None:
    """A user-defined subclass of DropEvent still counts as a drop."""
    source = "class Skip(DropEvent):\n    pass\n" + function('    raise Skip("bot")\n')
    assert isinstance(run_one(pool, source).error, UserDropEvent)


def test_uncaught_exception_reports_type_line_and_function(pool: WorkerPool) -> None:
    """Any other exception names its type and the user's innermost line and function."""
    source = "def helper(d):\n    return d['missing']\n\n" + function("    return helper(event)\n")
    error = run_one(pool, source).error
    assert isinstance(error, UncaughtError)
    assert (error.exception_type, error.message, error.line, error.function) == ("KeyError", "'missing'", 2,
                                                                                  "helper")


def test_module_level_exception_fails_every_call(pool: WorkerPool) -> None:
    """A version whose module code raises gives every call that error."""
    source = "x = 1 // 0\n" + function("    return event\n")
    results = pool.run(version_of(source), source, "transformEvent", [({}, {})] * 3)
    assert all(isinstance(r.error, UncaughtError) and r.error.exception_type == "ZeroDivisionError"
               and r.error.line == 1 for r in results)


def test_run_raises_compile_errors_with_position(pool: WorkerPool) -> None:
    """Source that does not compile is refused for the whole request, positioned."""
    with pytest.raises(CompileError) as caught:
        pool.run("bad-v1", "def transformEvent(e, m):\n    return e._x\n", "transformEvent", [({}, {})])
    assert (caught.value.line, caught.value.column) == (2, 12)


def test_run_raises_missing_entry_point(pool: WorkerPool) -> None:
    """Asking for a function the version does not define is refused."""
    with pytest.raises(MissingEntryPoint):
        pool.run("entry-v1", "def other(e, m):\n    return e\n", "transformEvent", [({}, {})])


def test_arguments_that_are_not_json_are_refused(pool: WorkerPool) -> None:
    """Arguments are checked before anything runs."""
    with pytest.raises(InvalidCall):
        pool.run("args-v1", TRANSFORM, "transformEvent", [({"x": {1, 2}}, {})])
    with pytest.raises(InvalidCall):
        pool.run("args-v1", TRANSFORM, "transformEvent", [{"not": "a tuple"}])  # type: ignore[list-item]


def test_fragments_holding_invalid_json_are_refused_without_harm(pool: WorkerPool) -> None:
    """Pre-encoded arguments are not checked by the parent; the worker refuses the request whole."""
    event = orjson.Fragment(b'{"userId": "u", "properties": {}}')
    calls = [(event, {"jobId": 1}), (orjson.Fragment(b'{"broken'), {"jobId": 2})]
    stats = pool.stats()
    with pytest.raises(InvalidCall, match="not valid JSON"):
        pool.run("args-v2", TRANSFORM, "transformEvent", calls)
    assert pool.stats().spawns == stats.spawns  # the worker answered; nothing was replaced
    [result] = pool.run("args-v2", TRANSFORM, "transformEvent", [(event, {"jobId": 1})])
    assert result.ok


def test_limits_above_the_policy_maximum_are_refused(pool: WorkerPool) -> None:
    """Per-call limits are checked against the pool's policy."""
    with pytest.raises(LimitsError):
        pool.run("lim-v1", TRANSFORM, "transformEvent", [({}, {})],
                 TEST_LIMITS.replace(wall_ms=TEST_POLICY.maximum.wall_ms + 1))


def test_empty_request_returns_no_results(pool: WorkerPool) -> None:
    """No calls, no round trip."""
    assert pool.run("empty-v1", TRANSFORM, "transformEvent", []) == []


def test_large_requests_are_split_into_batches(pool: WorkerPool) -> None:
    """More calls than max_events_per_batch travel in several round trips, results in order."""
    source = function("    return event['i'] * 2\n")
    results = pool.run(version_of(source), source, "transformEvent", [({"i": i}, {}) for i in range(25)],
                       TEST_LIMITS.replace(max_events_per_batch=4))
    assert [r.value for r in results] == [i * 2 for i in range(25)]


def test_loaded_versions_are_cached_in_the_worker(solo_pool: WorkerPool) -> None:
    """Module-level state of a version survives between requests to the same worker (it is not reloaded)."""
    source = "COUNT = [0]\n" + function("    COUNT[0] = COUNT[0] + 1\n    return COUNT[0]\n")
    first = solo_pool.run("count-v1", source, "transformEvent", [({}, {})] * 2)
    second = solo_pool.run("count-v1", source, "transformEvent", [({}, {})])
    assert [r.value for r in first + second] == [1, 2, 3]


def test_a_reused_version_id_with_new_source_is_reloaded(solo_pool: WorkerPool) -> None:
    """The cache is checked against the source, so new code under an old id is never served stale."""
    assert run_one(solo_pool, function("    return 1\n")).value == 1
    results = solo_pool.run("reused-id", function("    return 1\n"), "transformEvent", [({}, {})])
    results += solo_pool.run("reused-id", function("    return 2\n"), "transformEvent", [({}, {})])
    assert [r.value for r in results] == [1, 2]


def test_already_encoded_arguments_pass_through(pool: WorkerPool) -> None:
    """orjson.Fragment arguments reach user code as decoded JSON without being re-encoded."""
    source = function("    return event['a'] + metadata['b']\n")
    [result] = pool.run(version_of(source), source, "transformEvent",
                        [(orjson.Fragment(b'{"a": 40}'), orjson.Fragment(b'{"b": 2}'))])
    assert result.value == 42


def test_allowed_modules_are_usable(pool: WorkerPool) -> None:
    """Every allow-listed module works for ordinary use."""
    source = """
import json, math, re, datetime, time, hashlib, hmac, base64, uuid, random
import urllib.parse
from urllib.parse import urlencode

def transformEvent(event, metadata):
    return {
        "json": json.loads(json.dumps({"a": [1]})),
        "math": math.floor(math.sqrt(17)),
        "re": re.sub(r"\\d+", "#", "a1b22"),
        "date": datetime.datetime(2024, 1, 2, tzinfo=datetime.timezone.utc).isoformat(),
        "parsed": datetime.datetime.strptime("2024-03-04", "%Y-%m-%d").day,
        "time": time.time() > 0,
        "sha": hashlib.sha256(b"x").hexdigest()[:8],
        "hmac": hmac.new(b"k", b"m", "sha256").hexdigest()[:8],
        "b64": base64.b64encode(b"hi").decode(),
        "uuid": len(str(uuid.uuid4())),
        "uuid5": str(uuid.uuid5(uuid.NAMESPACE_DNS, "example.com")),
        "random": 1 <= random.randint(1, 6) <= 6,
        "url": urllib.parse.urlparse("https://x.test/p?q=1").netloc + "?" + urlencode({"a": "b c"}),
    }
"""
    assert run_one(pool, source).value == {
        "json": {"a": [1]}, "math": 4, "re": "a#b#", "date": "2024-01-02T00:00:00+00:00", "parsed": 4,
        "time": True, "sha": hashlib.sha256(b"x").hexdigest()[:8],
        "hmac": hmac.new(b"k", b"m", "sha256").hexdigest()[:8], "b64": "aGk=", "uuid": 36,
        "uuid5": "cfbff0d1-9375-5685-968c-48ce8b15ae17", "random": True, "url": "x.test?a=b+c"}


def test_user_classes_can_hold_attributes(pool: WorkerPool) -> None:
    """Instances of classes defined by the user may be written to (other objects may not)."""
    source = """
class Box:
    def __init__(self, value):
        self.value = value

def transformEvent(event, metadata):
    box = Box(3)
    box.value = box.value + 1
    setattr(box, "extra", 5)
    return box.value + box.extra
"""
    assert run_one(pool, source).value == 9


def test_many_threads_share_the_pool(pool: WorkerPool) -> None:
    """Concurrent blocking callers each get their own, correct results."""
    source = function("    return event['n'] + 1\n")
    failures: list[str] = []

    def client(k: int) -> None:
        for _ in range(5):
            results = pool.run(version_of(source), source, "transformEvent", [({"n": k * 100 + i}, {})
                                                                              for i in range(30)])
            if [r.value for r in results] != [k * 100 + i + 1 for i in range(30)]:
                failures.append(f"client {k}")

    threads = [threading.Thread(target=client, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_run_async_serves_many_tasks(pool: WorkerPool) -> None:
    """The asyncio API queues more concurrent requests than there are workers and answers them all."""
    source = function("    return event['n'] * 3\n")

    async def main() -> list[list[object]]:
        batches = await asyncio.gather(*(
            pool.run_async(version_of(source), source, "transformEvent", [({"n": k}, {})] * 10)
            for k in range(20)))
        return [[r.value for r in batch] for batch in batches]

    assert asyncio.run(main()) == [[k * 3] * 10 for k in range(20)]


def test_a_closed_pool_refuses_work() -> None:
    """After close, run and run_async raise PoolClosed and the workers are gone."""
    pool = WorkerPool(1, policy=TEST_POLICY)
    [pid] = pool.stats().worker_pids
    pool.close()
    with pytest.raises(PoolClosed):
        pool.run("v", TRANSFORM, "transformEvent", [({}, {})])
    with pytest.raises(PoolClosed):
        asyncio.run(pool.run_async("v", TRANSFORM, "transformEvent", [({}, {})]))
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_isolation_report_says_how_workers_are_confined(pool: WorkerPool) -> None:
    """On Linux with libseccomp the workers run under the seccomp filter."""
    report = pool.isolation
    if report.seccomp:
        assert "execve" in report.denied_syscalls and "socket" in report.denied_syscalls
    else:
        assert report.seccomp_detail


def test_closing_with_a_batch_in_flight_stops_its_worker() -> None:
    """close() waits up to its timeout, then kills a busy worker; the caller gets PoolClosed."""
    pool = WorkerPool(1, policy=TEST_POLICY)
    [pid] = pool.stats().worker_pids
    source = function("    while True:\n        pass\n")
    outcome: list[object] = []

    def caller() -> None:
        try:
            outcome.append(pool.run(version_of(source), source, "transformEvent", [({}, {})],
                                    TEST_LIMITS.replace(wall_ms=10_000)))
        except PoolClosed as exc:
            outcome.append(exc)

    thread = threading.Thread(target=caller)
    thread.start()
    time.sleep(0.3)  # the call is running by now
    pool.close(timeout_s=0.1)
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], PoolClosed)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
