"""WebAssembly functions in the ``functions`` layer: upload validation, building guests from source,
and ``Runner`` giving the same typed outcomes for guests of each kind as for Python functions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import wasmtime

from functions import (
    FunctionKind,
    GuestBuildError,
    InvalidFunction,
    Language,
    LimitOverrides,
    Program,
    Reason,
    Registry,
    RegistryLimits,
    Runner,
    SqliteStore,
    build_guest,
    inline_version,
    make_program,
    validate,
)
from sandbox import LimitPolicy, Limits, WasmRuntime, WorkerPool
from tests.helpers import outputs, run_program
from tests.wasm.wat import answering, guest

T, D, S = FunctionKind.TRANSFORMATION, FunctionKind.DESTINATION, FunctionKind.SOURCE
WASM = Language.WASM
POLICY = LimitPolicy(Limits(wall_ms=400, memory_bytes=64 << 20, max_output_bytes=64 << 10,
                            max_log_bytes=4 << 10, fuel=100_000_000_000))
LANGUAGES = ("c", "zig")


@pytest.fixture(scope="module")
def runner() -> Iterator[Runner]:
    with WorkerPool(1, policy=POLICY) as pool, WasmRuntime(POLICY, threads=2) as wasm:
        yield Runner(pool, wasm)


def program(code: bytes, kind: FunctionKind = T, name: str = "fn", *, test: bool = False) -> Program:
    version = inline_version("ws", name, kind, WASM, code, LimitOverrides())
    return make_program(version, code, POLICY, test=test)


def track(n: int, **extra: Any) -> dict[str, Any]:
    return {"type": "track", "event": f"Event {n}", "messageId": f"m{n}", "userId": f"u{n}", **extra}


# --- validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "problem"), [
    (b"def transformEvent(e, m):\n    return e\n",
     "not a WebAssembly module (it does not start with \\0asm)"),
    (b"\0asm\1\0\0\0\xff", "not a valid WebAssembly module"),
    (b"\0asm\1\0\0\0", "the module does not export its linear memory as `memory`; does not export "
                       "`alloc(i32) -> i32`; does not export `dealloc(i32, i32)`; does not export "
                       "`transform(i32, i32) -> i64`"),
    (guest("(i64.const 0)", imports='(import "env" "now" (func))'),
     "imports env.now: only WASI preview1 (wasi_snapshot_preview1) may be imported"),
    (guest("(i64.const 0)", imports='(import "wasi_snapshot_preview1" "sock_open" (func))'),
     "imports wasi_snapshot_preview1.sock_open, which is not a WASI preview1 function"),
    (guest("(i64.const 0)", imports='(import "wasi_snapshot_preview1" "fd_write" (func (param i32)))'),
     "the module's WASI imports do not link"),
    (guest("(i64.const 0)", extra='(func (export "_start"))'), "is a WASI command (it exports _start)"),
    (bytes(guest("(i64.const 0)")).replace(b"transform", b"transfarm"),
     "does not export `transform(i32, i32) -> i64`"),
])
def test_upload_validation_says_what_is_wrong(code: bytes, problem: str) -> None:
    with pytest.raises(InvalidFunction) as caught:
        validate(T, WASM, code)
    assert problem in caught.value.message, caught.value.message


def test_a_transform_of_the_wrong_type_is_refused() -> None:
    wrong = wasmtime.wat2wasm("""(module (memory (export "memory") 1)
        (func (export "alloc") (param i32) (result i32) (i32.const 0))
        (func (export "dealloc") (param i32 i32))
        (func (export "transform") (param i32 i32) (result i32) (i32.const 0)))""")
    with pytest.raises(InvalidFunction, match=r"exports `transform\(i32, i32\) -> \(i32\)`, expected"):
        validate(T, WASM, bytes(wrong))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("example", ["transformation/enrich", "destination/crm", "source/hook"])
def test_every_example_builds_and_validates(build: Callable[[str], bytes], language: str,
                                            example: str) -> None:
    validate(T, WASM, build(f"{language}/{example}.{language}"))


def test_the_registry_caps_the_size_of_modules(build: Callable[[str], bytes]) -> None:
    wasm = build("c/transformation/enrich.c")
    registry = Registry(SqliteStore(":memory:"), validate, limits=RegistryLimits(max_wasm_bytes=1000))
    with pytest.raises(InvalidFunction, match=f"code is {len(wasm)} bytes; the limit is 1000"):
        registry.upload("ws", "big", T, WASM, wasm)


def test_build_failures_carry_the_compiler_output(tmp_path: Path) -> None:
    broken = tmp_path / "broken.c"
    broken.write_text("int transform(void) { return missing; }\n")
    with pytest.raises(GuestBuildError, match="use of undeclared identifier 'missing'"):
        build_guest(broken, tmp_path / "cache")
    with pytest.raises(GuestBuildError, match=r"give a \.c or \.zig source"):
        build_guest(tmp_path / "guest.rs", tmp_path / "cache")


def test_builds_are_cached_by_content(tmp_path: Path) -> None:
    """The same source and header build once; a changed header makes a new build."""
    source, header, cache = tmp_path / "guest.c", tmp_path / "value.h", tmp_path / "cache"
    source.write_text('#include "value.h"\n'
                      '__attribute__((export_name("value"))) int value(void) { return VALUE; }\n')
    header.write_text("#define VALUE 1\n")
    first = build_guest(source, cache)
    assert build_guest(source, cache) == first and len(list(cache.glob("*.wasm"))) == 1
    header.write_text("#define VALUE 2\n")
    assert build_guest(source, cache) != first and len(list(cache.glob("*.wasm"))) == 2


def test_a_zig_source_alone_imports_the_packaged_guest_module(runner: Runner, tmp_path: Path,
                                                              guest_cache: Path) -> None:
    """A Zig source with no guest.zig beside it that imports "guest" builds against the packaged
    functions/examples/zig/guest.zig, and runs."""
    source = tmp_path / "alone" / "flag.zig"
    source.parent.mkdir()
    source.write_text('const guest = @import("guest");\ncomptime {\n    _ = guest;\n}\n'
                      "pub fn handle(call: *const guest.Call, event: guest.Value, metadata: guest.Value) "
                      "!guest.Result {\n    _ = metadata;\n    var fields = event.object;\n"
                      '    try fields.put(call.arena, "flag", .{ .bool = true });\n'
                      "    return .{ .event = .{ .object = fields } };\n}\n")
    result = run_program(runner, program(build_guest(source, guest_cache)), [(track(1), {})])
    assert outputs(result) == [[{**track(1), "flag": True}]]


# --- running each kind ----------------------------------------------------------------------------


def test_a_zig_guest_reading_events_in_place(runner: Runner, build: Callable[[str], bytes]) -> None:
    """guest.zig's handleRaw gets each event, its metadata, the kind and the settings as written,
    and its drops, failures, errors and missing results become the usual outcomes."""
    tricky = {"mode": "pass", "text": "a \\\"quoted\\\" ]} [{", "n": [1.5, -2e3, True, None, {}]}
    result = run_program(runner, program(build("raw.zig")), [
        (tricky, {"jobId": 7}), ({"mode": "drop"}, {}), ({"mode": "invalid"}, {}),
        ({"mode": "error"}, {}), ({"mode": "nothing"}, {}), ({"mode": "pass"}, b""),
    ])
    assert outputs(result)[0] == [{"given": tricky, "job": 7, "kind": "transformation", "settings": {}}]
    assert outputs(result)[5] == [{"given": {"mode": "pass"}, "job": None, "kind": "transformation",
                                   "settings": {}}]
    assert [o.status for o in result.outcomes] == [200, 298, 400, 400, 400, 200]
    assert [o.failure.message for o in result.outcomes[2:5] if o.failure] == [
        'ValidationError: mode "invalid"',
        "Refused",
        "handleRaw wrote no result for this event"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_transformation_outcomes(runner: Runner, build: Callable[[str], bytes], language: str) -> None:
    """Outputs, drops (298, with the guest's log line) and errors become the same outcomes as a
    Python function's."""
    prog = program(build(f"{language}/transformation/enrich.{language}"))
    result = run_program(runner, prog, [
        (track(0, properties={"n": 0}), {"jobId": 0}),
        (track(1), {}),
        (track(2, event="Spam Event"), {}),
        ({"properties": {}}, {}),
        (track(4, properties=[1]), {}),
    ])
    assert outputs(result)[0] == [{**track(0), "properties": {"n": 0, "transformed": True}}]
    assert outputs(result)[1] == [{**track(1), "properties": {"transformed": True}}]
    assert [o.status for o in result.outcomes] == [200, 200, 298, 400, 400]
    assert result.logs == ("dropped spam event m2",)
    invalid = result.outcomes[3].failure
    assert invalid is not None and invalid.reason is Reason.INVALID_EVENT
    assert invalid.message == "ValidationError: the event has no type"


@pytest.mark.parametrize("language", LANGUAGES)
def test_destination_function_outcomes(runner: Runner, build: Callable[[str], bytes], language: str) -> None:
    """The destination's Config is the guest's settings; DropEvent is 298, EventNotSupported 400."""
    prog = program(build(f"{language}/destination/crm.{language}"), D)
    destination = {"ID": "d1", "Config": {"url": "https://crm.test/events"}}
    result = run_program(runner, prog, [(track(0), destination), ({"type": "identify"}, destination),
                                ({"type": "page"}, destination), (track(3), b"{not json")])
    [request] = outputs(result)[0]
    assert request["endpoint"] == "https://crm.test/events" and request["method"] == "POST"
    assert request["body"]["JSON"] == {"name": "Event 0", "userId": "u0"}
    assert [o.status for o in result.outcomes] == [200, 298, 400, 400]
    failures = [o.failure for o in result.outcomes[1:]]
    assert [f.reason for f in failures if f] == [Reason.DROPPED, Reason.NOT_SUPPORTED, Reason.INVALID_EVENT]
    assert failures[0] is not None and failures[0].message == "DropEvent: identifies are not sent"
    assert failures[1] is not None
    assert failures[1].message == 'EventNotSupported: event type "page" is not supported'


@pytest.mark.parametrize("language", LANGUAGES)
def test_source_function_outcomes(runner: Runner, build: Callable[[str], bytes], language: str) -> None:
    prog = program(build(f"{language}/source/hook.{language}"), S)
    delivery = {"body": '{"events": ["a", "b"]}', "headers": {}, "query": {}, "method": "POST", "path": "/"}
    result = run_program(runner, prog, [(delivery, {"name": "hooks"}), ({"body": "nope"}, {"name": "hooks"})])
    assert outputs(result)[0] == [{"type": "track", "event": name, "context": {"source": "hooks"}}
                                  for name in ("a", "b")]
    failure = result.outcomes[1].failure
    assert failure is not None and failure.reason is Reason.INVALID_EVENT


def test_limits_and_traps_are_failures_naming_them(runner: Runner, build: Callable[[str], bytes]) -> None:
    prog = program(build("hostile.c"))
    modes = ("fine", "loop", "abort", "output", "notjson")
    result = run_program(runner, prog, [({"mode": m}, {}) for m in modes])
    failures = [o.failure for o in result.outcomes]
    assert failures[0] is None
    assert [f.reason for f in failures[1:] if f] == [Reason.LIMIT, Reason.FUNCTION_ERROR, Reason.LIMIT,
                                                       Reason.FUNCTION_ERROR]
    assert failures[1] is not None and failures[1].limit == "wall_ms"
    assert failures[3] is not None and failures[3].limit == "max_output_bytes"
    assert failures[2] is not None and failures[2].message.startswith("wasm trap: unreachable")


def test_a_stored_module_that_does_not_compile_fails_each_event(runner: Runner) -> None:
    """make_program trusts stored versions (validated at upload); a test program is validated."""
    result = run_program(runner, program(b"\0asm\1\0\0\0"), [({}, {}), ({}, {})])
    assert [o.status for o in result.outcomes] == [400, 400]
    failure = result.outcomes[0].failure
    assert failure is not None and failure.message.startswith("the function cannot run: the module does not")
    with pytest.raises(InvalidFunction):
        program(b"\0asm\1\0\0\0", test=True)


def test_python_and_webassembly_share_a_runner(runner: Runner) -> None:
    python = make_program(inline_version("ws", "py", T, Language.PYTHON, b"x", LimitOverrides()),
                          b"def transformEvent(e, m):\n    e['py'] = True\n    return e\n", POLICY)
    wasm = program(answering('{"results":[{"event":{"wasm":true}}]}'))
    assert outputs(run_program(runner, python, [({}, {})])) == [[{"py": True}]]
    assert outputs(run_program(runner, wasm, [({}, {})])) == [[{"wasm": True}]]


def test_a_runner_without_a_runtime_starts_its_own() -> None:
    with WorkerPool(1, policy=POLICY) as pool:
        own = Runner(pool)
        result = run_program(own, program(answering('{"results":[{"event":{"own":1}}]}')), [({}, {})])
        assert outputs(result) == [[{"own": 1}]]
        assert own.wasm.policy is POLICY
        own.wasm.close()
