"""The pool of pre-started worker processes that runs user functions, blocking or from asyncio.

A request takes one idle worker (or queues until one is free), sends its calls in batches of at
most ``max_events_per_batch`` (one round trip each), and gets one ``CallResult`` per call.

When a worker dies during a batch (killed by the watchdog, SIGXCPU, out of memory, crashed), the
progress word says which call was running: that call alone gets the error, and the calls not yet
answered are sent again to a fresh worker. This isolates the guilty call with one extra round
trip per guilty call, instead of re-running the whole batch call by call.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import orjson

from sandbox._compile import CompiledCode
from sandbox._confine import CONDITIONAL_RULES, DENIED_SYSCALLS
from sandbox._errors import CallError, InvalidCall, PoolClosed, WorkerCrashed
from sandbox._limits import LimitPolicy, Limits
from sandbox._process import WorkerSettings
from sandbox._progress import PHASE_FIRST_CALL, PHASE_IDLE, PHASE_LOADING
from sandbox._protocol import death_error, decode_reply, encode_request, max_reply_size
from sandbox._results import CallResult
from sandbox._slot import Death, Slot
from sandbox._watchdog import Watchdog

log = logging.getLogger("sandbox")


@dataclass(frozen=True, slots=True)
class IsolationReport:
    """How workers are confined, as the workers report it (all are started alike)."""

    seccomp: bool
    seccomp_detail: str
    privileges_dropped: bool
    denied_syscalls: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PoolStats:
    workers: int
    worker_pids: tuple[int, ...]
    spawns: int
    spawn_seconds: float
    watchdog_kills: int
    worker_deaths: int
    retirements: int


class WorkerPool:
    """Pre-started, confined worker processes running restricted user functions."""

    def __init__(self, size: int = 2, *, policy: LimitPolicy | None = None, cache_size: int = 64,
                 start_timeout_s: float = 10.0, watchdog_tick_s: float = 0.01) -> None:
        if size < 1 or cache_size < 1:
            raise ValueError("size and cache_size must be at least 1")
        self._policy = policy or LimitPolicy()
        settings = WorkerSettings(cache_size=cache_size, memory_soft=self._policy.defaults.memory_bytes,
                                  memory_hard=self._policy.maximum.memory_bytes,
                                  start_timeout_s=start_timeout_s)
        self._slots = [Slot(settings) for _ in range(size)]
        self._closed = False
        self._condition = threading.Condition()
        self._idle: deque[Slot] = deque(self._slots)
        started = time.monotonic_ns()
        try:
            launched = [slot.launch() for slot in self._slots]
            for slot, worker in zip(self._slots, launched, strict=True):
                slot.install(worker, started)
        except BaseException:
            _shutdown(self._slots, None, None, 0.0)
            raise
        self._watchdog = Watchdog(self._slots, watchdog_tick_s)
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="sandbox-pool")
        self._finalizer = weakref.finalize(self, _shutdown, self._slots, self._watchdog, self._executor, 1.0)
        isolation = self.isolation
        if not isolation.seccomp:
            log.warning("sandbox workers run without a seccomp filter: %s", isolation.seccomp_detail)

    # --- public API -------------------------------------------------------------------------

    @property
    def size(self) -> int:
        return len(self._slots)

    @property
    def policy(self) -> LimitPolicy:
        return self._policy

    @property
    def isolation(self) -> IsolationReport:
        reports = [slot.report for slot in self._slots if slot.report is not None]
        report = reports[-1]
        denied = tuple(name for names in DENIED_SYSCALLS.values() for name in names) + CONDITIONAL_RULES
        return IsolationReport(report.seccomp, report.seccomp_detail, report.privileges_dropped,
                               denied if report.seccomp else ())

    def stats(self) -> PoolStats:
        counters = [slot.counters for slot in self._slots]
        return PoolStats(
            workers=len(self._slots),
            worker_pids=tuple(pid for slot in self._slots if (pid := slot.pid) is not None),
            spawns=sum(c.spawns for c in counters),
            spawn_seconds=sum(c.spawn_seconds for c in counters),
            watchdog_kills=sum(c.watchdog_kills for c in counters),
            worker_deaths=sum(c.deaths for c in counters),
            retirements=sum(c.retirements for c in counters),
        )

    def run(self, version_id: str, code: CompiledCode | str, entry: str, calls: Sequence[Sequence[object]],
            limits: Limits | None = None) -> list[CallResult]:
        """Call ``entry(*args)`` of version ``version_id`` for each ``args`` in ``calls``.

        ``code`` is the version's source (a ``CompiledCode`` from ``compile_function``, or the
        source text, compiled in the worker). Arguments must be JSON values (``orjson.Fragment``
        passes JSON that is already encoded, unchecked). Returns one result per call, in order.
        Raises ``CompileError``/``MissingEntryPoint`` when the code cannot run at all,
        ``InvalidCall`` for arguments that are not JSON (also when a fragment holds invalid JSON,
        which the worker finds before running any call of that round trip), ``LimitsError`` for
        limits above the policy's maximum, ``PoolError`` when no worker can serve.
        """
        limits = self._policy.defaults if limits is None else self._policy.check(limits)
        if isinstance(code, CompiledCode):
            source, filename = code.source, code.filename
        else:
            source, filename = code, f"<{version_id}>"
        call_list = calls if isinstance(calls, list) else list(calls)
        for args in call_list:
            if not isinstance(args, (list, tuple)):
                kind = type(args).__name__
                raise InvalidCall(f"each call must be a list or tuple of arguments, not {kind}")
        if not call_list:
            return []
        batch = _Batch(version_id, source, filename, entry, limits, call_list)
        slot = self._acquire()
        try:
            step = limits.max_events_per_batch
            for start in range(0, len(call_list), step):
                self._run_chunk(slot, batch, list(range(start, min(start + step, len(call_list)))))
        finally:
            self._release(slot)
        return batch.finished()

    async def run_async(self, version_id: str, code: CompiledCode | str, entry: str,
                        calls: Sequence[Sequence[object]], limits: Limits | None = None) -> list[CallResult]:
        """``run`` for asyncio callers: waits for a worker without blocking the event loop."""
        if self._closed:
            raise PoolClosed("the sandbox pool is closed")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor,
                                              partial(self.run, version_id, code, entry, calls, limits))
        except RuntimeError as exc:
            if self._closed:  # the executor was shut down under us
                raise PoolClosed("the sandbox pool is closed") from exc
            raise

    def close(self, timeout_s: float = 2.0) -> None:
        """Stop the workers once the batches in flight are done (killing any still busy after timeout)."""
        with self._condition:
            if self._closed:
                return
            self._closed = True
            deadline = time.monotonic() + timeout_s
            while len(self._idle) < len(self._slots) and (left := deadline - time.monotonic()) > 0:
                self._condition.wait(left)
            self._condition.notify_all()
        self._finalizer.detach()
        _shutdown(self._slots, self._watchdog, self._executor, timeout_s)

    async def aclose(self, timeout_s: float = 2.0) -> None:
        await asyncio.to_thread(self.close, timeout_s)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- internals --------------------------------------------------------------------------

    def _acquire(self) -> Slot:
        with self._condition:
            while not self._idle:
                if self._closed:
                    raise PoolClosed("the sandbox pool is closed")
                self._condition.wait()
            if self._closed:
                raise PoolClosed("the sandbox pool is closed")
            return self._idle.popleft()

    def _release(self, slot: Slot) -> None:
        with self._condition:
            self._idle.append(slot)
            self._condition.notify()

    def _run_chunk(self, slot: Slot, batch: _Batch, indices: list[int]) -> None:
        groups: deque[list[int]] = deque([indices])
        pickup_failures = 0
        while groups:
            group = groups.popleft()
            outcome = slot.exchange(batch.encode(group), batch.limits.wall_ms,
                                    max_reply_size(batch.limits, len(group)))
            if not isinstance(outcome, Death):
                try:
                    reply = decode_reply(outcome, batch.limits, len(group))
                except WorkerCrashed as crashed:
                    slot.replace()
                    batch.fail(group, crashed)
                    continue
                batch.store(group, reply.results)
                if reply.retire:
                    slot.replace()
                continue
            error = death_error(outcome.returncode, outcome.killed_by_watchdog, batch.limits)
            slot.ensure_started()
            if outcome.phase == PHASE_IDLE:
                # died before reading the batch (it was already dead, or killed from outside):
                # not this batch's doing, so send it again, once
                pickup_failures += 1
                if pickup_failures == 1:
                    groups.appendleft(group)
                else:
                    batch.fail(group, WorkerCrashed(f"worker died before running the batch ({error})"))
            elif outcome.phase == PHASE_LOADING:
                # loading the version (module-level code) is what every call needs: all fail alike
                batch.fail(group, error)
            elif 0 <= (position := outcome.phase - PHASE_FIRST_CALL) < len(group):
                batch.fail([group[position]], error)
                rest = group[:position] + group[position + 1:]
                if rest:
                    groups.appendleft(rest)
            elif len(group) == 1:
                batch.fail(group, error)
            else:
                # died after the last call, while replying: find the culprit one call at a time
                groups.extendleft([index] for index in reversed(group))


class _Batch:
    """One request's calls, their encoding, and the results found so far."""

    def __init__(self, version_id: str, source: str, filename: str, entry: str, limits: Limits,
                 calls: Sequence[Sequence[object]]) -> None:
        self.version_id = version_id
        self.source = source
        self.filename = filename
        self.entry = entry
        self.limits = limits
        self.calls = calls
        self.results: list[CallResult | None] = [None] * len(calls)

    def encode(self, indices: list[int]) -> bytes:
        calls = self.calls if len(indices) == len(self.calls) else [self.calls[i] for i in indices]
        try:
            return encode_request(self.version_id, self.source, self.filename, self.entry, self.limits, calls)
        except orjson.JSONEncodeError as exc:
            raise InvalidCall(f"call arguments are not JSON: {exc}") from None

    def store(self, indices: list[int], results: list[CallResult]) -> None:
        if len(results) == len(self.results):  # the whole request in one round trip
            self.results[:] = results
            return
        for index, result in zip(indices, results, strict=True):
            self.results[index] = result

    def fail(self, indices: list[int], error: CallError) -> None:
        for index in indices:
            self.results[index] = CallResult(None, error)

    def finished(self) -> list[CallResult]:
        results = [r for r in self.results if r is not None]
        if len(results) != len(self.results):
            raise AssertionError("a call was left without a result")
        return results


def _shutdown(slots: Sequence[Slot], watchdog: Watchdog | None, executor: ThreadPoolExecutor | None,
              timeout_s: float) -> None:
    if watchdog is not None:
        watchdog.stop()
    if executor is not None:
        executor.shutdown(wait=False, cancel_futures=True)
    for slot in slots:
        slot.close(timeout_s)
