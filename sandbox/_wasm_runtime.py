"""The WebAssembly runtime: compiled guests cached by version, batches run on a thread pool.

Guests run in this process, on the runtime's threads, not in the Python workers: wasmtime is
memory-safe (a guest sees only its own linear memory, bounds-checked) and every resource it can
use is bounded here (memory, fuel, an epoch deadline, answer and log size), so the process isolation
that restricted Python needs buys nothing, while a thread hand-off costs microseconds instead of a
pipe round trip. Guest code runs without the GIL (ctypes releases it), so the threads run in
parallel with each other and with the event loop.

A batch of events is one guest call. If that call fails as a whole (a trap, a limit, an answer
that cannot be split into one result per event), each event is run again on its own, with the
whole budget of a call, so that only the guilty event fails. A batch gets the time and fuel of one
call (a runaway event then costs at most two deadlines, not one per event in the batch) and the
answer and log size of one call per event.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import orjson
import wasmtime

from sandbox._errors import CallError, InvalidCall, InvalidInput, InvalidModule, PoolClosed
from sandbox._json_check import json_problem
from sandbox._limits import LimitPolicy, Limits
from sandbox._results import CallResult
from sandbox._ticker import EpochTicker
from sandbox._wasm_abi import BadAnswer, decode_answer, encode_input
from sandbox._wasm_host import Budget, GuestLog, Host, Linked
from sandbox._wasm_module import check_interface, compile_guest, new_engine

# room for the {"results": [...]} and {"event": ...} around each output in an answer
_ANSWER_OVERHEAD = 64


@dataclass(frozen=True, slots=True)
class WasmRun:
    """One ``CallResult`` per event, in order; ``logs``: what calls of several events logged (an
    event that ran alone has its logs in its result); ``memory_bytes``: the largest linear memory a
    call that answered ended with (memory only grows, so its peak), None when none answered."""

    results: list[CallResult]
    logs: tuple[str, ...] = ()
    memory_bytes: int | None = None


@dataclass(slots=True)
class _Collected:
    """What the calls of one ``run`` gathered so far."""

    results: list[CallResult] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    memory_bytes: int | None = None

    def answered(self, memory_bytes: int) -> None:
        self.memory_bytes = max(self.memory_bytes or 0, memory_bytes)


@dataclass(frozen=True, slots=True)
class _Cached:
    wasm: bytes
    guest: Linked | InvalidModule


class WasmRuntime:
    """Runs WebAssembly guests (ABI v1) on ``threads`` threads under a ``LimitPolicy``.

    ``cache_dir``, when given, keeps compiled modules on disk by content hash, so a restarted or
    another server process on the same machine loads them in microseconds instead of compiling.
    Only this service may write there: compiled code is loaded from it as is.
    """

    def __init__(self, policy: LimitPolicy | None = None, *, threads: int | None = None,
                 cache_dir: str | Path | None = None, cache_size: int = 256, tick_ms: int = 10) -> None:
        self._policy = policy or LimitPolicy()
        self._engine = new_engine()
        self._host = Host(self._engine)
        self._ticker = EpochTicker(self._engine, tick_ms)
        self._threads = threads or os.cpu_count() or 2
        self._executor = ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix="wasm")
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._cache_size = cache_size
        self._cache_dir = Path(cache_dir) if cache_dir else None
        self._lock = threading.Lock()
        self._closed = False

    @property
    def policy(self) -> LimitPolicy:
        return self._policy

    @property
    def threads(self) -> int:
        return self._threads

    def run(self, version_id: str, wasm: bytes, kind: str, events: Sequence[bytes],
            metadata: Sequence[bytes], settings: bytes = b"{}", limits: Limits | None = None) -> WasmRun:
        """Run the guest ``wasm`` (cached as ``version_id``) on ``events``, each with its ``metadata``
        (JSON documents; empty bytes stand for null) and the call's ``settings``. Raises
        ``InvalidModule`` if ``wasm`` is not a guest, ``InvalidCall`` if ``settings`` is not a JSON
        object, ``LimitsError`` for limits above the policy's maximum, ``PoolClosed`` after ``close``;
        everything the guest does is in the results."""
        if self._closed:
            raise PoolClosed("the WebAssembly runtime is closed")
        if len(metadata) != len(events):
            raise InvalidCall(f"{len(events)} events but {len(metadata)} metadata")
        limits = self._policy.defaults if limits is None else self._policy.check(limits)
        if settings and not _is_json_object(settings):
            raise InvalidCall("settings must be a JSON object")
        guest = self._guest(version_id, wasm)
        collected = _Collected()
        step = limits.max_events_per_batch
        for start in range(0, len(events), step):
            self._batch(guest, kind, events[start:start + step], metadata[start:start + step], settings,
                        limits, collected)
        return WasmRun(collected.results, tuple(collected.logs), collected.memory_bytes)

    async def run_async(self, version_id: str, wasm: bytes, kind: str, events: Sequence[bytes],
                        metadata: Sequence[bytes], settings: bytes = b"{}",
                        limits: Limits | None = None) -> WasmRun:
        """``run`` on one of the runtime's threads."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, partial(self.run, version_id, wasm, kind, events, metadata, settings, limits))

    def check(self, version_id: str, wasm: bytes) -> None:
        """Compile and cache ``wasm`` as ``version_id``; raises ``InvalidModule`` if it is not a guest."""
        self._guest(version_id, wasm)

    def close(self) -> None:
        """Wait for running calls, then stop the threads."""
        self._closed = True
        self._executor.shutdown(wait=True)
        self._ticker.close()

    def __enter__(self) -> WasmRuntime:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- calls ----------------------------------------------------------------------------------

    def _batch(self, guest: Linked, kind: str, events: Sequence[bytes], metadata: Sequence[bytes],
               settings: bytes, limits: Limits, collected: _Collected) -> None:
        count = len(events)
        if count == 1:
            collected.results.append(self._single(guest, kind, events[0], metadata[0], settings, limits,
                                                  collected))
            return
        log = GuestLog(limits.max_log_bytes * count)
        try:
            answer, memory_bytes = self._call(guest, encode_input(kind, events, metadata, settings), count,
                                              limits, log)
            decoded = decode_answer(answer, count, limits.max_output_bytes)
        except (CallError, BadAnswer):
            # one event's fault, or the batch outgrew one call's budget: each event on its own
            for event, meta in zip(events, metadata, strict=True):
                collected.results.append(self._single(guest, kind, event, meta, settings, limits, collected))
            return
        collected.results.extend(decoded)
        collected.logs.extend(log.lines())
        collected.answered(memory_bytes)

    def _single(self, guest: Linked, kind: str, event: bytes, meta: bytes, settings: bytes,
                limits: Limits, collected: _Collected) -> CallResult:
        problem = json_problem(("the event", event), ("its metadata", meta))
        if problem:
            return CallResult(None, InvalidInput(problem))
        log = GuestLog(limits.max_log_bytes)
        try:
            answer, memory_bytes = self._call(guest, encode_input(kind, (event,), (meta,), settings), 1,
                                              limits, log)
            [result] = decode_answer(answer, 1, limits.max_output_bytes)
        except CallError as error:
            return CallResult(None, error, log.lines())
        except BadAnswer as bad:
            return CallResult(None, bad.error(), log.lines())
        collected.answered(memory_bytes)
        return CallResult(result.output, result.error, log.lines())

    def _call(self, guest: Linked, data: bytes, count: int, limits: Limits,
              log: GuestLog) -> tuple[bytes, int]:
        budget = Budget(
            memory_bytes=limits.memory_bytes, fuel=limits.fuel, ticks=self._ticker.ticks(limits.wall_ms),
            wall_ms=limits.wall_ms, max_answer_bytes=count * (limits.max_output_bytes + _ANSWER_OVERHEAD),
            max_output_bytes=limits.max_output_bytes, max_log_bytes=limits.max_log_bytes)
        with self._ticker.running():
            return self._host.call(guest, data, budget, log)

    # --- compiled guests ------------------------------------------------------------------------

    def _guest(self, version_id: str, wasm: bytes) -> Linked:
        with self._lock:
            cached = self._cache.get(version_id)
            if cached is not None and (cached.wasm is wasm or cached.wasm == wasm):
                self._cache.move_to_end(version_id)
                found = cached.guest
            else:
                found = None
        if found is None:
            # compiled outside the lock (it takes milliseconds); two threads may both compile a
            # new version, which wastes a little work once and is otherwise harmless
            try:
                found = self._host.link(self._load(wasm), wasm)
            except InvalidModule as exc:
                found = exc  # remembered: a stored version that does not compile is not retried
            with self._lock:
                self._cache[version_id] = _Cached(wasm, found)
                self._cache.move_to_end(version_id)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        if isinstance(found, InvalidModule):
            raise InvalidModule(found.message)
        return found

    def _load(self, wasm: bytes) -> wasmtime.Module:
        if self._cache_dir is None:
            return compile_guest(self._engine, wasm)
        path = self._cache_dir / f"{hashlib.sha256(wasm).hexdigest()}.cwasm"
        try:
            # read, not mapped (deserialize_file): a file truncated under a mapping kills the process
            module = wasmtime.Module.deserialize(self._engine, path.read_bytes())
            check_interface(module)
            return module
        except FileNotFoundError:
            pass
        except (OSError, wasmtime.WasmtimeError, InvalidModule):
            pass  # unreadable, or written by another wasmtime version or configuration: compile again
        module = compile_guest(self._engine, wasm)
        try:
            self._cache_dir.mkdir(parents=True, exist_ok=True)
            partial_path = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            partial_path.write_bytes(module.serialize())
            os.replace(partial_path, path)
        except OSError:
            pass  # the disk cache only saves time
        return module


def _is_json_object(data: bytes) -> bool:
    try:
        return type(orjson.loads(data)) is dict
    except orjson.JSONDecodeError:
        return False
