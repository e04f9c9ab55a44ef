"""The WebAssembly runtime (sandbox.WasmRuntime) with real wasmtime: guest ABI v1, limits, traps,
denied WASI calls, batches that fail event by event, and the compiled-module caches."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest

from sandbox import (
    CallResult,
    GuestError,
    GuestTrapped,
    InvalidAnswer,
    InvalidCall,
    InvalidInput,
    InvalidModule,
    LimitExceeded,
    LimitName,
    LimitPolicy,
    Limits,
    LimitsError,
    PoolClosed,
    TrapKind,
    UserDropEvent,
    UserValidationError,
    WasmRun,
    WasmRuntime,
)
from sandbox._wasm_module import has_start_function
from tests.wasm.wat import ANSWER_AT, answering, guest

LIMITS = Limits(wall_ms=300, memory_bytes=64 << 20, max_output_bytes=64 << 10, max_log_bytes=4 << 10,
                fuel=10_000_000_000)
FD_WRITE = ('(import "wasi_snapshot_preview1" "fd_write" '
            '(func $fd_write (param i32 i32 i32 i32) (result i32)))')


@pytest.fixture(scope="module")
def runtime() -> Iterator[WasmRuntime]:
    with WasmRuntime(LimitPolicy(LIMITS), threads=2) as started:
        yield started


@pytest.fixture(scope="module")
def hostile(build: Callable[[str], bytes]) -> bytes:
    return build("hostile.c")


def one(runtime: WasmRuntime, wasm: bytes, event: bytes = b"{}", limits: Limits | None = None) -> CallResult:
    [result] = runtime.run(wasm.hex()[-32:], wasm, "transformation", [event], [b""], b"{}", limits).results
    return result


def limit_of(result: CallResult) -> LimitName:
    assert isinstance(result.error, LimitExceeded), result
    return result.error.limit


# --- the ABI ------------------------------------------------------------------------------------


def test_results_of_each_shape(runtime: WasmRuntime) -> None:
    """event, events, request and error results become outputs and the sandbox's typed errors."""
    wasm = answering('{"results":[{"event":{"a":1}},{"event":null},{"events":[{"b":2}]},{"request":{"c":3}},'
                     '{"error":"plain"},{"error":{"type":"DropEvent","message":"bye"}},'
                     '{"error":{"type":"ValidationError"}},{"error":{"type":"Teapot","message":"short"}},'
                     '{"what":1}]}')
    results = runtime.run("shapes", wasm, "transformation", [b"{}"] * 9, [b""] * 9).results
    assert [r.output for r in results[:4]] == [b'{"a":1}', b"null", b'[{"b":2}]', b'{"c":3}']
    errors = [r.error for r in results[4:]]
    assert isinstance(errors[0], GuestError) and errors[0].message == "plain"
    assert isinstance(errors[1], UserDropEvent) and errors[1].message == "bye"
    assert isinstance(errors[2], UserValidationError)
    assert isinstance(errors[3], GuestError) and errors[3].message == "Teapot: short"
    assert isinstance(errors[4], InvalidAnswer) and 'one key: "event"' in errors[4].message


def test_a_run_reports_the_most_memory_a_call_ended_with(runtime: WasmRuntime) -> None:
    """memory_bytes is the largest linear memory of the calls that answered; None when none did."""
    plain = answering('{"results":[{"event":{}}]}')
    assert runtime.run("two-pages", plain, "transformation", [b"{}"], [b""]).memory_bytes == 2 * 65536
    grows = answering('{"results":[{"event":{}}]}', before="(drop (memory.grow (i32.const 10)))")
    assert runtime.run("grows", grows, "transformation", [b"{}"], [b""]).memory_bytes == 12 * 65536
    traps = guest("unreachable")
    run = runtime.run("traps", traps, "transformation", [b"{}", b"{}"], [b"", b""])
    assert isinstance(run.results[0].error, GuestTrapped) and run.memory_bytes is None


def test_the_guest_is_given_the_abi_document(runtime: WasmRuntime) -> None:
    """The input is {"kind", "events", "metadata", "settings"}, passed through byte for byte (a guest
    that answers with its own input shows it)."""
    wasm = guest("""(i64.or (i64.shl (i64.extend_i32_u (local.get $in)) (i64.const 32))
                            (i64.extend_i32_u (local.get $len)))""")
    result = one(runtime, wasm, b'{"type": "track"}')
    # the input is not an answer: that is the (single) event's error, with the input in view
    assert isinstance(result.error, InvalidAnswer)
    assert "results" in result.error.message


def test_logs_are_captured_per_event_and_per_batch(runtime: WasmRuntime, hostile: bytes) -> None:
    """stdout and stderr become log lines: an event run alone has them in its result; a batch's
    successful call has them in the run."""
    single = runtime.run("h", hostile, "transformation", [b'{"mode":"fine"}'], [b""])
    assert single.results[0].logs == ("fine",) and single.logs == ()
    batch = runtime.run("h", hostile, "transformation", [b'{"mode":"fine"}'] * 3, [b""] * 3)
    assert batch.logs == ("fine", "fine", "fine")
    assert all(r.ok and r.logs == () for r in batch.results)


def test_each_call_gets_a_fresh_instance(runtime: WasmRuntime) -> None:
    """A global a guest bumps on every call is back to its initial value on the next call (and
    _initialize runs once per instance): nothing leaks from one batch to the next."""
    text = '{"results":[{"event":[C,"i",I]}]}'
    calls, inits = ANSWER_AT + text.index("C"), ANSWER_AT + text.index("I")
    wasm = answering(text, before=f"""
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.store8 (i32.const {calls}) (i32.add (i32.const 48) (global.get $calls)))
        (i32.store8 (i32.const {inits}) (i32.add (i32.const 48) (global.get $inits)))""",
                     extra="""(global $calls (mut i32) (i32.const 0)) (global $inits (mut i32) (i32.const 0))
        (func (export "_initialize") (global.set $inits (i32.add (global.get $inits) (i32.const 1))))""")
    outputs = [one(runtime, wasm).output for _ in range(3)]
    assert outputs == [b'[1,"i",1]'] * 3


# --- limits ---------------------------------------------------------------------------------------


def test_an_endless_loop_is_stopped_by_the_wall_clock(runtime: WasmRuntime) -> None:
    result = one(runtime, guest("(loop $forever (br $forever)) (unreachable)"))
    assert limit_of(result) is LimitName.WALL_MS
    assert str(result.error) == "exceeded the wall-clock limit of 300 ms (wall_ms)"


def test_a_start_function_runs_as_guest_code_without_the_gil(runtime: WasmRuntime) -> None:
    """A start function that never returns is stopped at the deadline, and while it spins the
    interpreter keeps running other threads (instantiation then releases the GIL)."""
    spinning = answering('{"results":[{"event":{}}]}',
                         extra="(func $spin (loop $forever (br $forever))) (start $spin)")
    assert has_start_function(spinning)
    counted = [0]
    done = threading.Event()

    def count() -> None:
        while not done.is_set():
            counted[0] += 1

    counter = threading.Thread(target=count)
    counter.start()
    try:
        result = one(runtime, spinning)
    finally:
        done.set()
        counter.join()
    assert limit_of(result) is LimitName.WALL_MS
    assert counted[0] > 100_000  # ~300 ms of another thread's Python while the guest spun


def test_the_start_section_is_read_from_the_binary(build: Callable[[str], bytes]) -> None:
    """Modules without a start function (C, Zig, most guests) are told apart from those with one."""
    assert not has_start_function(answering('{"results":[]}'))
    assert not has_start_function(build("c/transformation/enrich.c"))
    assert not has_start_function(build("zig/transformation/enrich.zig"))
    assert has_start_function(guest("(i64.const 0)", extra="(func $s) (start $s)"))


def test_fuel_bounds_instructions(runtime: WasmRuntime) -> None:
    endless = guest("(loop $forever (br $forever)) (unreachable)")
    result = one(runtime, endless, limits=LIMITS.replace(fuel=1_000_000))
    assert limit_of(result) is LimitName.FUEL
    assert str(result.error) == "exceeded the fuel limit of 1000000 units (fuel)"


def test_memory_growth_stops_at_the_limit(runtime: WasmRuntime, hostile: bytes) -> None:
    """memory.grow fails past memory_bytes; a guest that then traps (WAT) or aborts on the failed
    malloc (C) exceeded the memory limit."""
    grow = guest("""(block $full (loop $grow
                      (br_if $full (i32.eq (memory.grow (i32.const 16)) (i32.const -1))) (br $grow)))
                    (unreachable)""")
    assert limit_of(one(runtime, grow)) is LimitName.MEMORY_BYTES
    assert limit_of(one(runtime, hostile, b'{"mode":"memory"}')) is LimitName.MEMORY_BYTES


def test_a_module_that_needs_more_memory_than_allowed_is_refused_per_call(runtime: WasmRuntime) -> None:
    big = guest("(unreachable)", pages=2048)  # 128 MiB at instantiation
    assert limit_of(one(runtime, big)) is LimitName.MEMORY_BYTES


def test_an_answer_longer_than_the_output_limit(runtime: WasmRuntime, hostile: bytes) -> None:
    """A huge answer is refused before it is read (WAT claims 4 GiB; C returns a 200 KB event)."""
    huge = guest("(i64.const 0xffffffff)")
    assert limit_of(one(runtime, huge)) is LimitName.MAX_OUTPUT_BYTES
    assert limit_of(one(runtime, hostile, b'{"mode":"output"}')) is LimitName.MAX_OUTPUT_BYTES


def test_writing_to_stdout_in_a_loop_is_stopped_at_the_log_limit(runtime: WasmRuntime,
                                                                  hostile: bytes) -> None:
    """The guest is stopped as soon as its log is full (the WAT loop never ends on its own); what it
    logged until then is kept."""
    # one iovec at 512 pointing at "spam\n" at 520
    spam = guest("""(i32.store (i32.const 512) (i32.const 520)) (i32.store (i32.const 516) (i32.const 5))
                    (i32.store (i32.const 520) (i32.const 0x6d617073))
                    (i32.store8 (i32.const 524) (i32.const 10))
                    (loop $again
                      (drop (call $fd_write (i32.const 1) (i32.const 512) (i32.const 1) (i32.const 508)))
                      (br $again))
                    (unreachable)""", imports=FD_WRITE)
    result = one(runtime, spam)
    assert limit_of(result) is LimitName.MAX_LOG_BYTES
    assert result.logs[:2] == ("spam", "spam") and sum(len(line) + 1 for line in result.logs) <= 4096
    c_result = one(runtime, hostile, b'{"mode":"log"}')
    assert limit_of(c_result) is LimitName.MAX_LOG_BYTES and c_result.logs[0] == "line 0"


# --- traps and bad answers ------------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "trap"), [
    ("abort", TrapKind.UNREACHABLE),
    ("divide", TrapKind.INTEGER_DIVISION_BY_ZERO),
    ("exit", TrapKind.EXIT),
    # C keeps its stack in linear memory: running past its bottom is an out-of-bounds access
    ("stack", TrapKind.MEMORY_OUT_OF_BOUNDS),
])
def test_traps_are_typed_by_trap_code(runtime: WasmRuntime, hostile: bytes, mode: str,
                                      trap: TrapKind) -> None:
    result = one(runtime, hostile, orjson.dumps({"mode": mode}))
    assert isinstance(result.error, GuestTrapped) and result.error.trap is trap, result


def test_native_stack_overflow(runtime: WasmRuntime) -> None:
    down = "(func $down (param i32) (result i32) (call $down (i32.add (local.get 0) (i32.const 1))))"
    wasm = guest("(drop (call $down (i32.const 0))) (unreachable)", extra=down)
    result = one(runtime, wasm)
    assert isinstance(result.error, GuestTrapped) and result.error.trap is TrapKind.STACK_OVERFLOW
    assert str(result.error) == "wasm trap: call stack exhausted"


@pytest.mark.parametrize(("answer", "problem"), [
    ("nope", "the guest's answer is unusable: it is not JSON"),
    ('{"results":{}}', 'it must be a JSON object {"results": [...]}'),
    ('{"results":[]}', "it has 0 results for 1 event"),
    ('{"results":[{"event":1},{"event":2}]}', "it has 2 results for 1 event"),
    ('{"results":[{"event":NaN}]}', "it is not JSON"),
])
def test_unusable_answers(runtime: WasmRuntime, answer: str, problem: str) -> None:
    result = one(runtime, answering(answer))
    assert isinstance(result.error, InvalidAnswer) and problem in str(result.error), result


def test_an_answer_outside_the_guests_memory(runtime: WasmRuntime) -> None:
    result = one(runtime, guest("(i64.const 0x7fff000000000010)"))
    assert isinstance(result.error, InvalidAnswer)
    assert "outside the guest's 131072-byte memory" in str(result.error)


def test_wasi_denies_files_and_allows_the_clock(runtime: WasmRuntime, hostile: bytes) -> None:
    """No directory is preopened, so opening a file fails inside the guest (its error is the event's);
    the clock can be read; there is no environment."""
    opened = one(runtime, hostile, b'{"mode":"open"}')
    assert isinstance(opened.error, GuestError) and opened.error.message == "fopen: No such file or directory"
    clock = orjson.loads(one(runtime, hostile, b'{"mode":"clock"}').output or b"")
    assert clock["failed"] == 0 and clock["seconds"] > 1_700_000_000
    assert one(runtime, hostile, b'{"mode":"env"}').output == b'{"home":false}'


def test_raw_wasi_calls_on_files_and_sockets_fail(runtime: WasmRuntime) -> None:
    """path_open on any descriptor, sock_accept and fd_write to a file descriptor fail with EBADF (8)
    without trapping; the guest answers with the three errnos."""
    imports = """
      (import "wasi_snapshot_preview1" "path_open" (func $path_open
         (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "sock_accept" (func $sock_accept (param i32 i32 i32) (result i32)))
      """ + FD_WRITE
    text = '{"results":[{"event":[A,B,C]}]}'
    a, b, c = (ANSWER_AT + text.index(letter) for letter in "ABC")
    wasm = answering(text, imports=imports, before=f"""
        (i32.store8 (i32.const {a}) (i32.add (i32.const 48) (call $path_open (i32.const 3) (i32.const 0)
            (i32.const 1024) (i32.const 4) (i32.const 0) (i64.const 0) (i64.const 0) (i32.const 0)
            (i32.const 600))))
        (i32.store8 (i32.const {b}) (i32.add (i32.const 48) (call $sock_accept (i32.const 3) (i32.const 0)
            (i32.const 600))))
        (i32.store8 (i32.const {c}) (i32.add (i32.const 48) (call $fd_write (i32.const 5) (i32.const 0)
            (i32.const 0) (i32.const 600))))""")
    assert one(runtime, wasm).output == b"[8,8,8]"


# --- batches --------------------------------------------------------------------------------------


def test_a_trap_in_the_middle_of_a_batch_fails_only_that_event(runtime: WasmRuntime, hostile: bytes) -> None:
    """The batch is one call; when it fails, every event runs again alone, so each hostile event
    gets its own error and the others their outputs."""
    modes = ["abort", "memory", "loop", "output", "log", "notjson", "twice", "exit", "divide"]
    events = [orjson.dumps({"mode": mode, "n": i}) for i, mode in
              enumerate(m for pair in zip(["fine"] * len(modes), modes, strict=True) for m in pair)]
    events.append(b'{"mode":"fine","n":99}')
    results = runtime.run("batch", hostile, "transformation", events, [b""] * len(events)).results
    assert len(results) == len(events)
    for event, result in zip(events, results, strict=True):
        if b'"fine"' in event:
            assert result.ok and orjson.loads(result.output or b"")["ok"] is True, (event, result)
        else:
            assert result.error is not None, (event, result)
    errors = {orjson.loads(e)["mode"]: r.error for e, r in zip(events, results, strict=True) if r.error}
    assert isinstance(errors["loop"], LimitExceeded) and errors["loop"].limit is LimitName.WALL_MS
    assert isinstance(errors["notjson"], InvalidAnswer) and isinstance(errors["twice"], InvalidAnswer)


def test_an_event_that_is_not_json_fails_alone(runtime: WasmRuntime, hostile: bytes) -> None:
    events = [b'{"mode":"fine"}', b'{"mode": "fi', b'{"mode":"fine"}']
    results = runtime.run("bad-input", hostile, "transformation", events, [b""] * 3).results
    assert [r.ok for r in results] == [True, False, True]
    assert isinstance(results[1].error, InvalidInput)
    assert "the event is not valid JSON" in str(results[1].error)


def test_batches_are_split_at_max_events_per_batch(runtime: WasmRuntime, hostile: bytes) -> None:
    events = [orjson.dumps({"mode": "fine", "n": i}) for i in range(25)]
    run = runtime.run("split", hostile, "transformation", events, [b""] * 25, b"{}",
                      LIMITS.replace(max_events_per_batch=10))
    assert [orjson.loads(r.output or b"")["n"] for r in run.results] == list(range(25))
    assert len(run.logs) == 25


def test_run_async_runs_on_the_runtimes_threads(runtime: WasmRuntime, hostile: bytes) -> None:
    """Concurrent batches from an event loop run on the runtime's threads, each with its own result."""
    async def both() -> list[WasmRun]:
        return await asyncio.gather(*(runtime.run_async("async", hostile, "transformation",
                                                          [orjson.dumps({"mode": "fine", "n": n})], [b""])
                                      for n in range(4)))

    runs = asyncio.run(both())
    assert [orjson.loads(run.results[0].output or b"")["n"] for run in runs] == [0, 1, 2, 3]


# --- what the caller gets wrong -------------------------------------------------------------------


def test_calls_the_runtime_refuses(runtime: WasmRuntime, hostile: bytes) -> None:
    with pytest.raises(InvalidCall, match="settings must be a JSON object"):
        runtime.run("h", hostile, "transformation", [b"{}"], [b""], b"[]")
    with pytest.raises(InvalidCall, match="1 events but 2 metadata"):
        runtime.run("h", hostile, "transformation", [b"{}"], [b"", b""])
    with pytest.raises(LimitsError):
        runtime.run("h", hostile, "transformation", [b"{}"], [b""], b"{}", LIMITS.replace(fuel=10**12))
    with pytest.raises(InvalidModule, match="not a WebAssembly module"):
        runtime.run("not-wasm", b"print('hi')", "transformation", [b"{}"], [b""])


def test_a_closed_runtime_refuses_to_run(hostile: bytes) -> None:
    closed = WasmRuntime(LimitPolicy(LIMITS), threads=1)
    closed.close()
    with pytest.raises(PoolClosed):
        closed.run("h", hostile, "transformation", [b"{}"], [b""])


def test_compiled_modules_are_kept_on_disk(tmp_path: Path, hostile: bytes) -> None:
    """With a cache directory, a module is compiled once; another runtime (a restarted or sibling
    server process) loads it from there and runs it the same."""
    with WasmRuntime(LimitPolicy(LIMITS), threads=1, cache_dir=tmp_path) as first:
        before = first.run("v1", hostile, "transformation", [b'{"mode":"fine"}'], [b""]).results
    [cached] = tmp_path.glob("*.cwasm")
    stamp = cached.stat().st_mtime_ns
    with WasmRuntime(LimitPolicy(LIMITS), threads=1, cache_dir=tmp_path) as second:
        after = second.run("v1", hostile, "transformation", [b'{"mode":"fine"}'], [b""]).results
    assert before == after and cached.stat().st_mtime_ns == stamp
    cached.write_bytes(b"garbage")  # a damaged cache entry is compiled again
    with WasmRuntime(LimitPolicy(LIMITS), threads=1, cache_dir=tmp_path) as third:
        assert third.run("v1", hostile, "transformation", [b'{"mode":"fine"}'], [b""]).results == before


def test_a_version_id_reused_with_other_code_is_not_served_stale(runtime: WasmRuntime) -> None:
    first = one_for(runtime, "same-id", answering('{"results":[{"event":{"v":1}}]}'))
    second = one_for(runtime, "same-id", answering('{"results":[{"event":{"v":2}}]}'))
    assert (first.output, second.output) == (b'{"v":1}', b'{"v":2}')


def one_for(runtime: WasmRuntime, version_id: str, wasm: bytes) -> CallResult:
    return runtime.run(version_id, wasm, "transformation", [b"{}"], [b""]).results[0]
