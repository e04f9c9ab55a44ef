"""`transformer fn` as a function's author uses it: init, test (local sandbox and --server), events,
upload, list and versions, the generated pytest test, and every input error as one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result

import functions
from transformer.cli import main

EXAMPLES = Path(functions.__file__).resolve().parent / "examples"

FAILING = '''def transformEvent(event, metadata):
    log("checking", event.get("messageId"))
    if not event.get("userId"):
        raise ValueError("no userId")
    return event
'''


@pytest.fixture(autouse=True)
def _build_dir(guest_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """C and Zig sources build into the test session's cache, not the user's."""
    monkeypatch.setenv("TRANSFORMER_BUILD_DIR", str(guest_cache))


def fn(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["fn", *map(str, args)], env=env)


def init(tmp_path: Path, name: str = "enrich", kind: str = "transformation", lang: str = "python") -> Path:
    result = fn("init", name, "--kind", kind, "--lang", lang, "--dir", tmp_path)
    assert result.exit_code == 0, result.output
    return tmp_path / name


def one_line_error(result: Result) -> str:
    """The error a command printed, checked to be a usage-style failure without a traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # click's exit, not an escaped exception
    assert len(result.output.splitlines()) == 1 or "^" in result.output  # the caret excerpt
    return result.output


@pytest.mark.parametrize("kind", ["transformation", "destination", "source"])
def test_init_scaffolds_a_function_that_meets_its_expectations(tmp_path: Path, kind: str) -> None:
    """A new function, tested on its sample events with --expect, matches them all (exit 0)."""
    folder = init(tmp_path, "my_fn", kind)
    result = fn("test", folder / "my_fn.py", "--events", folder / "events.json", "--settings",
                folder / "settings.json", "--expect", folder / "expected.json")
    assert result.exit_code == 0, result.output
    assert "3 of 3 events match" in result.output
    assert "\x1b[" not in result.output  # no colours when not on a terminal


def test_the_generated_pytest_tests_pass(tmp_path: Path) -> None:
    """The tests `fn init` writes pass under pytest, through the installed plugin's fixture."""
    for kind in ("transformation", "destination", "source"):
        init(tmp_path, f"f_{kind}", kind)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "9 passed" in result.stdout


@pytest.mark.parametrize("lang", ["c", "zig"])
@pytest.mark.parametrize("kind", ["transformation", "destination", "source"])
def test_c_and_zig_functions_are_scaffolded_built_and_tested(tmp_path: Path, kind: str, lang: str) -> None:
    """`fn init --lang c|zig` writes a guest that `fn test` builds and runs, matching its expectations."""
    result = fn("init", "my_fn", "--kind", kind, "--lang", lang, "--dir", tmp_path)
    assert result.exit_code == 0, result.output
    folder = tmp_path / "my_fn"
    settings = ["--settings", folder / "settings.json"] if kind != "transformation" else []
    assert f"transformer fn test my_fn.{lang} --kind {kind} --events events.json" in result.output
    tested = fn("test", folder / f"my_fn.{lang}", "--kind", kind, "--events", folder / "events.json",
                *settings, "--expect", folder / "expected.json")
    assert tested.exit_code == 0, tested.output
    assert "3 of 3 events match" in tested.output


def test_the_generated_c_and_zig_pytest_tests_pass(tmp_path: Path) -> None:
    """The tests `fn init --lang c|zig` writes pass under pytest, building their guests themselves."""
    for lang in ("c", "zig"):
        init(tmp_path / lang, f"f_{lang}", "destination", lang)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--import-mode=importlib",
         str(tmp_path)], cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 passed" in result.stdout


def test_a_wasm_file_runs_as_it_is(tmp_path: Path, guest_cache: Path) -> None:
    """A module built elsewhere runs given its kind; without the kind it is one message naming --kind."""
    from functions import build_guest

    module = tmp_path / "crm.wasm"
    module.write_bytes(build_guest(EXAMPLES / "c/destination/crm.c", guest_cache))
    events = EXAMPLES / "c/destination"
    result = fn("test", module, "--kind", "destination", "--events", events / "events.json", "--settings",
                events / "settings.json", "--expect", events / "expected.json")
    assert result.exit_code == 0, result.output
    assert one_line_error(fn("test", module)) == (
        f"Error: {module}: a WebAssembly function does not say which kind it is: give the kind "
        "(--kind transformation, destination or source)\n")


def test_a_c_error_is_the_compilers_message_and_exit_2(tmp_path: Path) -> None:
    """A C source that does not build shows the compiler's file, line, caret; exit 2, no traceback."""
    source = tmp_path / "broken.c"
    source.write_text("#include <stdio.h>\nint tg_handle(void) {\n    return nope;\n}\n")
    result = fn("test", source, "--kind", "transformation")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert result.output.startswith(f"Error: {source}: the build failed:\n")
    assert "broken.c:3:12: error: use of undeclared identifier 'nope'" in result.output
    assert "^" in result.output


def test_the_plugin_is_lazy(tmp_path: Path) -> None:
    """The plugin is loaded in every session but starts no sandbox worker until a function runs."""
    (tmp_path / "test_lazy.py").write_text(
        "def test_lazy(request, transformer_harness):\n"
        "    assert request.config.pluginmanager.has_plugin('transformer')\n"
        "    assert not transformer_harness.started\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_report_shows_each_event_and_the_line_that_failed(tmp_path: Path) -> None:
    """Without --expect: status, output, error with the user's source line, logs; exit 1 on a failure."""
    path = tmp_path / "check.py"
    path.write_text(FAILING)
    events = tmp_path / "events.jsonl"
    events.write_text('{"type": "track", "event": "A", "messageId": "m1", "userId": "u1"}\n'
                      '{"type": "identify", "messageId": "m2"}\n')
    result = fn("test", path, "--events", events)
    assert result.exit_code == 1, result.output
    out = result.output
    assert '[1] 200 ok      track "A"' in out and '"userId": "u1"' in out
    assert "[2] 400 error   identify" in out
    assert "error: ValueError: no userId (line 4, in transformEvent)" in out
    assert '4 |         raise ValueError("no userId")' in out
    assert "log: checking m2" in out
    assert "2 events: 1 ok, 0 dropped, 1 failed" in out


def test_no_failed_event_exits_0(tmp_path: Path) -> None:
    """Without --expect the exit code is 0 when no event failed (a drop is not a failure)."""
    path = tmp_path / "keep.py"
    path.write_text("def transformEvent(event, metadata):\n    return None if event['type'] == 'page' "
                    "else event\n")
    result = fn("test", path)  # the built-in samples: six events, one a page
    assert result.exit_code == 0, result.output
    assert "6 events: 5 ok, 1 dropped, 0 failed" in result.output


def test_expect_prints_a_diff_for_each_differing_event(tmp_path: Path) -> None:
    """An edit that changes an output gives a unified diff of that event and exit 1."""
    folder = init(tmp_path)
    code = folder / "enrich.py"
    code.write_text(code.read_text().replace('["source_id"]', '["source"]'))
    result = fn("test", code, "--events", folder / "events.json", "--settings", folder / "settings.json",
                "--expect", folder / "expected.json")
    assert result.exit_code == 1, result.output
    assert "DIFFERS" in result.output and "2 of 3 events match" in result.output
    assert '-      "source_id": "src-web-1",' in result.output
    assert '+      "source": "src-web-1",' in result.output


def test_json_output(tmp_path: Path) -> None:
    """--json prints results (statusCode, output, error, logs, elapsed_ms) and a summary."""
    folder = init(tmp_path, kind="destination")
    result = fn("test", folder / "enrich.py", "--events", folder / "events.json", "--settings",
                folder / "settings.json", "--expect", folder / "expected.json", "--json")
    assert result.exit_code == 0, result.output
    document = orjson.loads(result.output)
    first = document["results"][0]
    assert set(first) == {"statusCode", "output", "error", "logs", "elapsed_ms", "memory_bytes"}
    assert 8 << 20 < first["memory_bytes"] < 512 << 20  # the worker's peak during the call
    assert first["output"]["method"] == "PUT"
    assert [r["statusCode"] for r in document["results"]] == [200, 200, 400]
    summary = document["summary"]
    assert (summary["events"], summary["ok"], summary["errors"], summary["kind"]) == (3, 2, 1, "destination")
    assert summary["peak_memory_bytes"] > 0
    assert summary["expect"] == {"file": str(folder / "expected.json"), "matched": 3, "differ": []}


def test_limits_follow_the_server_settings(tmp_path: Path) -> None:
    """TRANSFORMER_SANDBOX_WALL_MS bounds a local run exactly as it bounds the server."""
    path = tmp_path / "spin.py"
    path.write_text("def transformEvent(event, metadata):\n    while True:\n        pass\n")
    (tmp_path / "e.json").write_text("{}")
    result = fn("test", path, "--events", tmp_path / "e.json", "--json",
                env={"TRANSFORMER_SANDBOX_WALL_MS": "150"})
    assert result.exit_code == 1, result.output
    [event] = orjson.loads(result.output)["results"]
    assert event["statusCode"] == 400 and "150 ms (wall_ms)" in event["error"]


@pytest.mark.parametrize(("setup", "args", "message"), [
    (None, ["test", "{d}/nope.py"], "Error: {d}/nope.py: no such function file\n"),
    ("def transformEvent(event, metadata)\n    return event\n", ["test", "{d}/fn.py"],
     "Error: {d}/fn.py: line 1, column 36: SyntaxError: expected ':'\n"
     "     1 | def transformEvent(event, metadata)\n"
     "       |                                    ^\n"),
    ("def transform(event, metadata):\n    return event\n", ["test", "{d}/fn.py"],
     "Error: {d}/fn.py: no entry point found at the top level (a transformation defines "
     "transformEvent() or transformBatch(), a destination on_track() ... on_alias(), a source "
     "on_request())\n"),
    ("def transform(event, metadata):\n    return event\n", ["test", "{d}/fn.py", "--kind", "source"],
     "Error: {d}/fn.py: a source function must define on_request() at the top level "
     "(on_request(request, settings) returning a list of events)\n"),
    ("def transformEvent(e, m):\n    return e\n", ["test", "{d}/fn.py", "--events", "{d}/fn.py"],
     "Error: {d}/fn.py: not valid JSON: unexpected character"),
    ("def transformEvent(e, m):\n    return e\n", ["test", "{d}/fn.py", "--events", "{d}/nope.jsonl"],
     "Error: {d}/nope.jsonl: no such events file\n"),
    (None, ["test", "{d}/fn.wasm"], "Error: {d}/fn.wasm: no such function file\n"),
    (None, ["test", "{d}/fn.js"], "Error: {d}/fn.js: not a function file: expected Python (.py), C (.c), "
     "Zig (.zig) or WebAssembly (.wasm)\n"),
    ("def transformEvent(e, m):\n    return e\n", ["test", "{d}/fn.py", "--kind", "transformation",
                                                   "--events", "{d}/fn.py"],
     "Error: {d}/fn.py: not valid JSON: unexpected character"),
    (None, ["init", "my-fn", "--dir", "{d}"],
     "Error: function name 'my-fn' must start with a letter and have only letters, digits and '_' "
     "(at most 64)\n"),
    (None, ["list", "--server", "127.0.0.1:1"], "Error: cannot reach the server at 127.0.0.1:1 ("),
    (None, ["list"], "Error: give the server: --server HOST:PORT (or TRANSFORMER_SERVER)\n"),
])
def test_input_errors_are_one_message_and_exit_2(tmp_path: Path, setup: str | None, args: list[str],
                                                 message: str) -> None:
    """A missing file, a syntax error (line and caret), a wrong entry point, events that are not JSON,
    a file that is no function, a bad name, no server: one message, exit 2, no traceback."""
    if setup is not None:
        (tmp_path / "fn.py").write_text(setup)
    result = fn(*[arg.format(d=tmp_path) for arg in args], env={"TRANSFORMER_SERVER": ""})
    assert one_line_error(result).startswith(message.format(d=tmp_path))


def test_events_prints_samples() -> None:
    """`fn events --type T` prints one realistic sample; without --type, one of each event type."""
    result = fn("events", "--type", "identify")
    assert result.exit_code == 0
    event = orjson.loads(result.output)
    assert event["type"] == "identify" and event["context"]["traits"]["email"]
    every = orjson.loads(fn("events").output)
    assert [e["type"] for e in every] == ["track", "identify", "page", "screen", "group", "alias"]


def _local_results(args: list[Any]) -> list[dict[str, Any]]:
    result = fn(*args, "--json")
    assert result.exit_code in (0, 1), result.output
    measured = ("elapsed_ms", "memory_bytes")  # how long and how much differ from run to run
    return [{k: v for k, v in r.items() if k not in measured} for r in orjson.loads(result.output)["results"]]


def test_server_commands(tmp_path: Path, target: str) -> None:
    """upload, list, versions and test --server work against a running server's Functions service,
    and the server's test results are the local ones."""
    folder = init(tmp_path)
    code = folder / "enrich.py"
    server = ["--server", target, "--workspace", "cli-test"]
    uploaded = fn("upload", code, "--name", "enrich", "--alias", "live", *server)
    assert uploaded.exit_code == 0, uploaded.output
    assert uploaded.output.startswith("uploaded cli-test/enrich version ")
    assert "(aliases: live)" in uploaded.output
    version = uploaded.output.split()[3]
    listed = fn("list", *server)
    assert listed.exit_code == 0
    assert listed.output.splitlines()[0].split() == ["NAME", "VERSION", "KIND", "LANGUAGE", "BYTES",
                                                     "CREATED", "ALIASES"]
    assert listed.output.splitlines()[1].split()[:4] == ["enrich", version, "transformation", "python"]
    code.write_text(code.read_text() + "\n# v2\n")
    assert fn("upload", code, "--name", "enrich", *server).exit_code == 0
    versions = fn("versions", "enrich", *server)
    assert [line.split()[0] for line in versions.output.splitlines()[1:]][1] == version
    assert "live" in versions.output.splitlines()[2]

    args = ["test", code, "--events", folder / "events.json", "--settings", folder / "settings.json"]
    remote = fn(*args, "--expect", folder / "expected.json", *server)
    assert remote.exit_code == 0, remote.output
    assert f"server {target}" in remote.output and "3 of 3 events match" in remote.output
    assert _local_results([*args, *server]) == _local_results(args)


@pytest.mark.parametrize("lang", ["c", "zig"])
def test_guests_upload_and_test_on_a_server(tmp_path: Path, target: str, lang: str) -> None:
    """A C or Zig source is built here, uploaded as WebAssembly, and tested on the server with the
    results it has locally."""
    folder = init(tmp_path, "hook", "source", lang)
    code = folder / f"hook.{lang}"
    server = ["--server", target, "--workspace", f"cli-{lang}"]
    uploaded = fn("upload", code, "--name", "hook", "--kind", "source", "--alias", "live", *server)
    assert uploaded.exit_code == 0, uploaded.output
    listed = fn("list", *server).output.splitlines()
    assert listed[1].split()[2:4] == ["source", "wasm"]
    args = ["test", code, "--kind", "source", "--events", folder / "events.json", "--settings",
            folder / "settings.json"]
    remote = fn(*args, "--expect", folder / "expected.json", *server)
    assert remote.exit_code == 0, remote.output
    assert f"server {target}" in remote.output
    assert _local_results([*args, *server]) == _local_results(args)
    memory = [[r["memory_bytes"] for r in orjson.loads(fn(*call, "--json").output)["results"]]
              for call in ([*args, *server], args)]
    assert memory[0] == memory[1] and all(size and size % 65536 == 0 for size in memory[0])


def test_server_errors_are_one_message(tmp_path: Path, target: str) -> None:
    """Unknown functions and code that does not compile: one message, exit 2, nothing uploaded."""
    missing = fn("versions", "nope", "--server", target, "--workspace", "cli-test-2")
    assert one_line_error(missing) == ("Error: server " + target + ": no function 'nope' in workspace "
                                       "'cli-test-2' (NOT_FOUND)\n")
    bad = tmp_path / "bad.py"
    bad.write_text("def transformEvent(event, metadata):\n    return event.__class__\n")
    refused = fn("upload", bad, "--name", "bad", "--server", target, "--workspace", "cli-test-2")
    assert "line 2, column 12" in one_line_error(refused)
    assert fn("list", "--server", target, "--workspace", "cli-test-2").output == \
        "no functions in workspace 'cli-test-2'\n"
