"""The local harness: function files run in real sandbox workers, inputs read with clear errors,
expectations compared, sample events and scaffolds."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

import functions
from functions import FunctionKind, GuestBuildError, InputError, InvalidFunction, Language
from functions.testing import (
    SAMPLE_TYPES,
    FunctionFile,
    FunctionRun,
    LocalHarness,
    assert_matches,
    check_language,
    compare,
    load_function,
    read_events,
    read_expected,
    read_function,
    read_settings,
    sample_event,
    sample_events,
    scaffold,
)
from sandbox import LimitPolicy, Limits

EXAMPLES = Path(functions.__file__).resolve().parent / "examples"
GUESTS = Path(__file__).resolve().parent.parent / "wasm" / "guests"
POLICY = LimitPolicy(Limits(wall_ms=400, memory_bytes=192 << 20))

ENRICH = '''import json


def transformEvent(event, metadata):
    log("saw", event.get("messageId"))
    if event.get("event") == "Spam":
        return None
    if not event.get("userId"):
        raise ValidationError("no userId")
    event["properties"]["source"] = metadata(event).get("sourceId")
    return event
'''


@pytest.fixture(scope="module")
def harness() -> Iterator[LocalHarness]:
    with LocalHarness(POLICY) as started:
        yield started


def write(tmp_path: Path, code: str, name: str = "fn.py") -> Path:
    path = tmp_path / name
    path.write_text(code)
    return path


def track(n: int, **extra: object) -> dict[str, object]:
    return {"type": "track", "event": f"E{n}", "messageId": f"m{n}", "userId": f"u{n}", "properties": {},
            **extra}


def test_runs_a_file_in_the_sandbox(harness: LocalHarness, tmp_path: Path) -> None:
    """Outputs, per-event errors with the user's line, status codes and logs come back per event."""
    run = harness.run(write(tmp_path, ENRICH), [track(1), track(2, event="Spam"), track(3, userId=None)],
                      settings={"sourceId": "s1"})
    assert run.status_codes == [200, 298, 400]
    assert run.outputs == [{**track(1), "properties": {"source": "s1"}}]
    assert run.errors == ["ValidationError: no userId (line 9, in transformEvent)"]
    assert run.results[2].line == 9
    assert run.logs == ["saw m1", "saw m2", "saw m3"]
    assert run.kind is FunctionKind.TRANSFORMATION and run.label.startswith("fn@")
    assert all(result.elapsed_ms > 0 for result in run.results)
    assert run.peak_memory_bytes is not None and run.peak_memory_bytes > 1 << 20


def test_the_pool_starts_on_first_run_and_stops_on_close(tmp_path: Path) -> None:
    """A harness costs nothing until it runs something, and close stops its workers."""
    harness = LocalHarness(POLICY)
    assert not harness.started
    harness.run(write(tmp_path, ENRICH), [track(1)])
    assert harness.started
    harness.close()
    assert not harness.started


def test_limits_are_the_policys(harness: LocalHarness, tmp_path: Path) -> None:
    """A function running past the policy's wall-clock limit fails alone, with the limit named."""
    code = "def transformEvent(event, metadata):\n    while event['loop']:\n        pass\n    return event\n"
    run = harness.run(write(tmp_path, code), [{"loop": True}, {"loop": False}])
    assert run.status_codes == [400, 200]
    assert "wall_ms" in run.errors[0] and "400 ms" in run.errors[0]


def test_each_event_reports_the_memory_its_call_used(harness: LocalHarness, tmp_path: Path) -> None:
    """The worker's peak is measured per call: an event that builds 64 MiB reports it, the next not."""
    code = ("def transformEvent(event, metadata):\n    if event['big']:\n"
            "        log(len(b'x' * (64 << 20)))\n    return event\n")
    run = harness.run(write(tmp_path, code), [{"big": False}, {"big": True}, {"big": False}])
    small, big, after = (result.memory_bytes for result in run.results)
    assert small is not None and big is not None and after is not None
    assert big - small > 60 << 20 and big - after > 60 << 20
    assert run.peak_memory_bytes == big


def test_what_the_sandbox_refuses_is_refused_here(harness: LocalHarness, tmp_path: Path) -> None:
    """No plain exec: code the restricted compiler refuses never runs (a positioned error), and
    what it does not grant (files) is not there."""
    code = "def transformEvent(event, metadata):\n    return event.__class__\n"
    with pytest.raises(InvalidFunction) as caught:
        harness.run(write(tmp_path, code), [track(1)])
    assert (caught.value.line, caught.value.column) == (2, 12)
    code = "def transformEvent(event, metadata):\n    return {'data': open('/etc/passwd').read()}\n"
    run = harness.run(write(tmp_path, code), [track(1)])
    assert run.status_codes == [400] and run.outputs == []
    assert run.errors[0].startswith("NameError: name 'open' is not defined")


def test_transform_batch_reports_unmatched_outputs_and_call_logs(harness: LocalHarness,
                                                                 tmp_path: Path) -> None:
    """transformBatch outputs go to the event with their messageId; the rest and the call's logs
    are reported apart."""
    code = ("def transformBatch(events, metadata):\n    log('batch of', len(events))\n"
            "    return events[:1] + [{'messageId': 'new'}]\n")
    run = harness.run(write(tmp_path, code), [track(1), track(2)])
    assert run.status_codes == [200, 298]
    assert run.unmatched == ({"messageId": "new"},)
    assert run.call_logs == ("batch of 2",) and run.logs == ["batch of 2"]
    assert run.summary()["unmatched_outputs"] == [{"messageId": "new"}]


def test_without_events_the_samples_for_the_kind_run(harness: LocalHarness, tmp_path: Path) -> None:
    """A destination function gets one sample of each event type; a source function a delivery."""
    handlers = "".join(f"def on_{t}(event, settings):\n"
                       f"    return {{'endpoint': settings['url'], 't': '{t}'}}\n"
                       for t in ("track", "identify", "page", "screen", "group", "alias"))
    run = harness.run(write(tmp_path, handlers), settings={"url": "https://x.test"})
    assert run.kind is FunctionKind.DESTINATION
    assert [o["t"] for o in run.outputs] == ["track", "identify", "page", "screen", "group", "alias"]
    source = "def on_request(request, settings):\n    return [{'type': 'track', 'm': request['method']}]\n"
    assert harness.run(write(tmp_path, source, "src.py")).outputs == [{"type": "track", "m": "POST"}]


@pytest.mark.parametrize(("code", "kind"), [
    ("def transformBatch(events, metadata):\n    return events\n", FunctionKind.TRANSFORMATION),
    ("def on_identify(event, settings):\n    return None\n", FunctionKind.DESTINATION),
    ("def on_request(request, settings):\n    return []\n", FunctionKind.SOURCE),
])
def test_the_kind_is_guessed_from_the_entry_points(harness: LocalHarness, tmp_path: Path, code: str,
                                                   kind: FunctionKind) -> None:
    """The entry points a file defines say what kind of function it is."""
    assert harness.run(write(tmp_path, code), [track(1)]).kind is kind


def test_unclear_entry_points_are_one_clear_error(harness: LocalHarness, tmp_path: Path) -> None:
    """No entry point, or entry points of two kinds, is an error saying what to define or pass."""
    with pytest.raises(InputError, match=r"no entry point found .*transformEvent\(\)"):
        harness.run(write(tmp_path, "def transform(e, m):\n    return e\n"), [track(1)])
    both = "def transformEvent(e, m):\n    return e\ndef on_track(e, s):\n    return e\n"
    with pytest.raises(InputError, match="--kind"):
        harness.run(write(tmp_path, both), [track(1)])
    assert harness.run(write(tmp_path, both), [track(1)], kind="destination").kind is FunctionKind.DESTINATION
    with pytest.raises(InputError, match="unknown function kind 'sink'"):
        harness.run(write(tmp_path, both), [track(1)], kind="sink")


def test_events_files(tmp_path: Path) -> None:
    """A .json file holds one event or a list; a .jsonl file one event per line."""
    (tmp_path / "one.json").write_text('{"type": "track"}')
    (tmp_path / "list.json").write_text('[{"a": 1}, {"a": 2}]')
    (tmp_path / "lines.jsonl").write_text('{"a": 1}\n\n{"a": 2}\n')
    assert read_events(tmp_path / "one.json") == [b'{"type":"track"}']
    both = [b'{"a":1}', b'{"a":2}']
    assert read_events(tmp_path / "list.json") == read_events(tmp_path / "lines.jsonl") == both


@pytest.mark.parametrize(("name", "content", "message"), [
    ("bad.json", '[{"a": 1},]', r"bad.json: not valid JSON: .*line 1 column"),
    ("bad.jsonl", '{"a": 1}\n{"a": \n', r"bad.jsonl, line 2: not valid JSON"),
    ("empty.json", "[]", r"empty.json: no events in the file"),
    ("missing.json", None, r"missing.json: no such events file"),
])
def test_events_that_cannot_be_read_are_one_clear_error(tmp_path: Path, name: str, content: str | None,
                                                        message: str) -> None:
    """Events that are not JSON, no events, or no file: an InputError naming the file and line."""
    if content is not None:
        (tmp_path / name).write_text(content)
    with pytest.raises(InputError, match=message):
        read_events(tmp_path / name)


def test_settings_and_expected_files_are_checked(tmp_path: Path) -> None:
    """Settings must be an object; expected results a list of objects (or --json output)."""
    (tmp_path / "s.json").write_text("[1]")
    with pytest.raises(InputError, match="settings must be a JSON object"):
        read_settings(tmp_path / "s.json")
    (tmp_path / "e.json").write_text('{"results": [{"statusCode": 200}]}')
    assert read_expected(tmp_path / "e.json") == [{"statusCode": 200}]
    (tmp_path / "e.json").write_text('{"statusCode": 200}')
    with pytest.raises(InputError, match="one object per event"):
        read_expected(tmp_path / "e.json")
    with pytest.raises(InputError, match="is a directory"):
        read_settings(tmp_path)


def test_expectations_compare_the_fields_they_name(harness: LocalHarness, tmp_path: Path) -> None:
    """Only the fields an expected entry names are compared; a difference is a unified diff."""
    run = harness.run(write(tmp_path, ENRICH), [track(1), track(2, event="Spam")], settings={"sourceId": "s"})
    good = [{"statusCode": 200, "output": {**track(1), "properties": {"source": "s"}}, "elapsed_ms": 99},
            {"statusCode": 298, "logs": ["saw m2"]}]
    assert compare(run, good) == []
    assert_matches(run, good)
    bad = [good[0], {"statusCode": 200}]
    [mismatch] = compare(run, bad)
    assert mismatch.index == 1
    assert mismatch.diff.splitlines()[:2] == ["--- expected (event 2)", "+++ actual (event 2)"]
    assert '-  "statusCode": 200' in mismatch.diff and '+  "statusCode": 298' in mismatch.diff
    with pytest.raises(AssertionError, match="1 of 2 events differ"):
        assert_matches(run, bad)
    with pytest.raises(InputError, match="has 1 expected results for 2 events"):
        compare(run, bad[:1])
    with pytest.raises(InputError, match="unknown field"):
        compare(run, [{"status": 200}, {}])


def test_expected_files_are_found_beside_the_function(harness: LocalHarness, tmp_path: Path) -> None:
    """assert_matches looks for a relative expected file beside the function file."""
    run = harness.run(write(tmp_path, ENRICH), [track(1)])
    (tmp_path / "expected.json").write_text(orjson.dumps([{"statusCode": 200}]).decode())
    assert_matches(run, "expected.json")
    assert isinstance(run, FunctionRun)


def test_sample_events_are_realistic_and_fresh() -> None:
    """Each event type has a RudderStack-shaped sample; every call gives a fresh copy."""
    for kind in SAMPLE_TYPES[:-1]:
        event = sample_event(kind)
        assert event["type"] == kind and event["messageId"] and event["anonymousId"] and event["context"]
    assert orjson.loads(sample_event("request")["body"])["type"] == "invoice.paid"
    assert [e["type"] for e in sample_events()] == list(SAMPLE_TYPES[:-1])
    sample_event("track")["event"] = "changed"
    assert sample_event("track")["event"] == "Order Completed"
    with pytest.raises(InputError, match="no sample event of type 'click'"):
        sample_event("click")


#: What each scaffold writes besides the function file, by language.
SCAFFOLD_FILES = {"python": {"events.json", "expected.json", "settings.json", "test_my_fn.py"},
                  "c": {"events.json", "expected.json", "test_my_fn.py", "transformer_guest.h"},
                  "zig": {"events.json", "expected.json", "test_my_fn.py", "guest.zig"}}


@pytest.mark.parametrize("language", ["python", "c", "zig"])
@pytest.mark.parametrize("kind", list(FunctionKind))
def test_scaffolds_pass_their_own_expectations(harness: LocalHarness, tmp_path: Path, language: str,
                                               kind: FunctionKind) -> None:
    """A scaffolded function, run on its events and settings, gives its expected results."""
    made = scaffold("my_fn", kind, language, tmp_path / "my_fn")
    names = {p.name for p in made.files}
    assert made.function.name in names and made.function.stem == "my_fn"
    assert names - {made.function.name, "settings.json"} == SCAFFOLD_FILES[language] - {"settings.json"}
    folder = tmp_path / "my_fn"
    assert f'"{made.function.name}"' in (folder / "test_my_fn.py").read_text()
    settings = folder / "settings.json"
    run = harness.run(made.function, folder / "events.json", kind=kind,
                      settings=settings if settings.exists() else None)
    assert run.kind is kind
    assert_matches(run, folder / "expected.json")


def test_scaffolded_guests_build_on_their_own(tmp_path: Path) -> None:
    """A C or Zig scaffold holds its helper beside it, so it builds where it was written."""
    c = scaffold("c_fn", FunctionKind.TRANSFORMATION, "c", tmp_path / "c_fn")
    assert '#include "transformer_guest.h"' in c.function.read_text()
    z = scaffold("z_fn", FunctionKind.SOURCE, "zig", tmp_path / "z_fn")
    assert (z.function.parent / "guest.zig").is_file()


def test_scaffold_refuses_bad_names_existing_folders_and_other_languages(tmp_path: Path) -> None:
    """Each refusal is an InputError saying why."""
    with pytest.raises(InputError, match="must start with a letter"):
        scaffold("9lives", FunctionKind.SOURCE, "python", tmp_path / "x")
    (tmp_path / "taken").mkdir()
    with pytest.raises(InputError, match="already exists"):
        scaffold("taken", FunctionKind.SOURCE, "python", tmp_path / "taken")
    with pytest.raises(InputError, match="no wasm template: write the function in one of python, c, zig"):
        scaffold("w", FunctionKind.SOURCE, "wasm", tmp_path / "w")
    with pytest.raises(InputError, match="unknown language 'rust'"):
        scaffold("r", FunctionKind.SOURCE, "rust", tmp_path / "r")
    assert not (tmp_path / "w").exists() and not (tmp_path / "r").exists()


def test_languages_are_decided_in_one_place(tmp_path: Path) -> None:
    """Python and WebAssembly run as they are; C and Zig run as WebAssembly; nothing else runs."""
    assert check_language("python") is Language.PYTHON
    assert {check_language(name) for name in ("c", "zig", "wasm")} == {Language.WASM}
    with pytest.raises(InputError, match=re.escape("not a function file: expected Python (.py), C (.c), "
                                                   "Zig (.zig) or WebAssembly (.wasm)")):
        read_function(tmp_path / "fn.js")
    for suffix in (".py", ".c", ".zig", ".wasm"):
        with pytest.raises(InputError, match=f"fn{suffix}: no such function file"):
            read_function(tmp_path / f"fn{suffix}")


def test_c_and_zig_sources_are_built_and_cached(tmp_path: Path, guest_cache: Path) -> None:
    """A C source becomes its module (validated as an upload would be), built once per content."""
    source = write(tmp_path, (EXAMPLES / "c/transformation/enrich.c").read_text(), "enrich.c")
    (tmp_path.parent / "transformer_guest.h").write_text((EXAMPLES / "c/transformer_guest.h").read_text())
    file = read_function(source, guest_cache)
    assert file.language is Language.WASM and file.code.startswith(b"\0asm")
    assert file.lines[0] == "/*"
    assert read_function(source, guest_cache).code == file.code
    wasm = write(tmp_path, "", "copy.wasm")
    wasm.write_bytes(file.code)
    assert read_function(wasm) == FunctionFile(Language.WASM, file.code, ())


def test_a_source_that_does_not_build_is_the_compilers_message(tmp_path: Path, guest_cache: Path) -> None:
    """A C error is a GuestBuildError (an InvalidFunction) with the compiler's file, line and message."""
    source = write(tmp_path, "int tg_handle(void) { return nope; }\n", "broken.c")
    with pytest.raises(GuestBuildError, match=r"broken\.c:1:.*use of undeclared identifier 'nope'") as caught:
        read_function(source, guest_cache)
    assert isinstance(caught.value, InvalidFunction)


def test_webassembly_runs_without_a_python_worker(tmp_path: Path, guest_cache: Path) -> None:
    """A guest runs with the policy's limits in the harness's own runtime; no Python worker starts."""
    source = EXAMPLES / "c/transformation/enrich.c"
    with LocalHarness(POLICY, build_dir=guest_cache) as harness:
        run = harness.run(source, [track(1), {"event": "x"}], kind="transformation")
        assert harness.started and harness._pool is None
    assert run.language is Language.WASM and run.kind is FunctionKind.TRANSFORMATION
    assert run.status_codes == [200, 400]
    assert run.outputs[0]["properties"] == {"transformed": True}
    assert run.errors == ["ValidationError: the event has no type"]
    memory = [result.memory_bytes for result in run.results]  # the guest's linear memory (pages)
    assert all(size is not None and size % 65536 == 0 for size in memory)
    assert run.peak_memory_bytes == max(memory)


def test_webassembly_limits_are_the_policys(tmp_path: Path, guest_cache: Path) -> None:
    """A guest that loops forever is stopped by the policy's fuel, as on the server."""
    policy = LimitPolicy(Limits(fuel=2_000_000))
    with LocalHarness(policy, build_dir=guest_cache) as harness:
        run = harness.run(GUESTS / "hostile.c", [{"mode": "loop"}, {"type": "track"}], kind="transformation")
    assert run.status_codes == [400, 200]
    assert run.errors == ["exceeded the fuel limit of 2000000 units (fuel)"]


def test_a_guest_needs_its_kind_and_a_module_must_be_one(tmp_path: Path, guest_cache: Path) -> None:
    """The kind of a guest cannot be guessed; a .wasm that is not a module is refused as an upload is."""
    unsaid = "enrich.c: a WebAssembly function does not say which kind it is: give the kind (--kind "
    with pytest.raises(InputError, match=re.escape(unsaid + "transformation, destination or source)")):
        load_function(EXAMPLES / "c/transformation/enrich.c", POLICY, build_dir=guest_cache)
    with pytest.raises(InvalidFunction, match="not a WebAssembly module"):
        load_function(write(tmp_path, "hello", "fake.wasm"), POLICY, FunctionKind.TRANSFORMATION)
