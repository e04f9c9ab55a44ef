"""``transformer fn``: write, test and upload user functions from a laptop.

``fn test`` runs a function file in the server's own sandbox (a local worker pool with the limits
of the ``TRANSFORMER_SANDBOX_*`` settings), or with ``--server`` in a running server's sandbox.
Every problem with the inputs (missing file, syntax error, no entry point, events that are not
JSON, an unreachable server) is one message and exit code 2; events that fail or differ from
``--expect`` give exit code 1.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import orjson

from functions import FunctionKind, GuestBuildError, InvalidFunction, RegistryError
from functions.testing import (
    SAMPLE_TYPES,
    FunctionRun,
    LoadedFunction,
    LocalHarness,
    compare,
    default_events,
    kind_named,
    load_function,
    read_events,
    read_expected,
    read_settings,
    sample_event,
    sample_events,
    scaffold,
)
from sandbox import LimitPolicy
from transformer._functions_client import FunctionsClient, ServerError

KINDS = [kind.value for kind in FunctionKind]
_PRETTY = orjson.OPT_INDENT_2


class InputProblem(click.ClickException):
    """A problem with what the command was given: exit code 2, like a usage error."""

    exit_code = 2


@contextmanager
def _clean_errors() -> Iterator[None]:
    """Our errors as one message, never a traceback."""
    try:
        yield
    except (RegistryError, ServerError) as exc:
        raise InputProblem(exc.message) from None


def _policy() -> LimitPolicy:
    from transformer.cli import _settings  # the server's own settings, so the same limits

    return _settings().limit_policy


def _load(path: Path, kind: str | None, workspace: str) -> LoadedFunction:
    """The function in ``path``, validated as an upload is; a compile error shows its line and a caret."""
    try:
        return load_function(path, _policy(), kind_named(kind) if kind else None, workspace=workspace)
    except GuestBuildError as exc:  # names the file itself, and the compiler shows its own excerpts
        raise InputProblem(exc.message) from None
    except InvalidFunction as exc:
        raise InputProblem(f"{path}: {exc.message}{_excerpt(path, exc)}") from None


def _excerpt(path: Path, exc: InvalidFunction) -> str:
    if path.suffix.lower() != ".py":  # a module's problems have no line
        return ""
    source = path.read_text(errors="replace").splitlines()
    if exc.line is None or not 0 < exc.line <= len(source):
        return ""
    caret = " " * (max(exc.column or 1, 1) - 1) + "^"
    return f"\n  {exc.line:>4} | {source[exc.line - 1].rstrip()}\n       | {caret}"


server_option = click.option("--server", metavar="HOST:PORT", envvar="TRANSFORMER_SERVER",
                             help="A running server's Functions service [env TRANSFORMER_SERVER].")
workspace_option = click.option("--workspace", default="default", show_default=True,
                                envvar="TRANSFORMER_WORKSPACE",
                                help="Workspace on the server [env TRANSFORMER_WORKSPACE].")
kind_option = click.option("--kind", type=click.Choice(KINDS),
                           help="The function's kind (default: from the entry points it defines).")


@click.group()
def fn() -> None:
    """Write, test and upload user functions (see README: Testing functions locally)."""


@fn.command()
@click.argument("name")
@click.option("--kind", type=click.Choice(KINDS), default="transformation", show_default=True)
@click.option("--lang", "language", type=click.Choice(["python", "c", "zig"]), default="python",
              show_default=True)
@click.option("--dir", "parent", type=click.Path(path_type=Path, file_okay=False), default=Path("."),
              help="Where to create the NAME folder (default: here).")
def init(name: str, kind: str, language: str, parent: Path) -> None:
    """Create NAME/: a function, sample events, expected results and a pytest test that passes."""
    with _clean_errors():
        made = scaffold(name, FunctionKind(kind), language, parent / name)
    folder = parent / name
    click.echo(f"created {folder}/: {', '.join(p.name for p in made.files)}")
    settings = " --settings settings.json" if (folder / "settings.json").exists() else ""
    # a Python function's entry points say its kind; a WebAssembly guest's exports do not
    kind_flag = "" if language == "python" else f" --kind {kind}"
    click.echo(f"try it:\n  cd {folder}\n"
               f"  transformer fn test {made.function.name}{kind_flag} --events events.json{settings} "
               "--expect expected.json\n"
               f"  python -m pytest")


@fn.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@kind_option
@click.option("--events", "events_file", type=click.Path(path_type=Path),
              help="Events: .json (one event or a list) or .jsonl (default: built-in samples).")
@click.option("--settings", "settings_file", type=click.Path(path_type=Path),
              help="JSON object: a transformation's metadata, a destination or source function's settings.")
@click.option("--expect", "expect_file", type=click.Path(path_type=Path),
              help="Expected results, one per event ({statusCode, output, error, logs}); diffs shown.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of the report.")
@server_option
@workspace_option
def test(file: Path, kind: str | None, events_file: Path | None, settings_file: Path | None,
         expect_file: Path | None, as_json: bool, server: str | None, workspace: str) -> None:
    """Run FILE on sample events in the sandbox and report each event's result.

    Exit code 0 when every event matches --expect (without it: when no event failed), 1 otherwise,
    2 when the inputs cannot be used.
    """
    from transformer._fn_report import console, print_run

    with _clean_errors():
        function = _load(file, kind, workspace)
        inputs = read_events(events_file) if events_file else default_events(function.kind)
        settings = read_settings(settings_file) if settings_file else b"{}"
        expected = read_expected(expect_file) if expect_file else None
        run = _run(function, inputs, settings, server, workspace)
        mismatches = None if expected is None else compare(run, expected, str(expect_file))
    if as_json:
        document: dict[str, Any] = run.to_json()
        if mismatches is not None:
            document["summary"]["expect"] = {
                "file": str(expect_file), "matched": len(run.results) - len(mismatches),
                "differ": [m.index + 1 for m in mismatches]}
        click.echo(orjson.dumps(document, option=_PRETTY).decode())
    else:
        print_run(console(), run, inputs, function.lines, mismatches, str(expect_file or ""))
    failed = bool(mismatches) if mismatches is not None else not run.ok
    raise SystemExit(1 if failed else 0)


def _run(function: LoadedFunction, inputs: list[bytes], settings: bytes, server: str | None,
         workspace: str) -> FunctionRun:
    if server:
        with FunctionsClient(server) as client:
            return client.test(workspace, function, inputs, settings)
    with LocalHarness(_policy()) as harness:
        return asyncio.run(harness.arun_loaded(function, inputs, settings))


@fn.command()
@click.option("--type", "kind", type=click.Choice(SAMPLE_TYPES),
              help="One sample of this type (request: a webhook delivery for a source function).")
def events(kind: str | None) -> None:
    """Print realistic sample events (RudderStack-shaped): one type, or one of each event type."""
    value: Any = sample_event(kind) if kind else sample_events()
    click.echo(orjson.dumps(value, option=_PRETTY).decode())


@fn.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--name", required=True, help="The function's name in the registry.")
@click.option("--alias", default="", help="Point this alias (e.g. live) at the new version.")
@kind_option
@server_option
@workspace_option
def upload(file: Path, name: str, alias: str, kind: str | None, server: str | None, workspace: str) -> None:
    """Validate FILE here, then upload it as a new version of NAME to a running server."""
    with _clean_errors():
        function = _load(file, kind, workspace)
        with FunctionsClient(_required(server)) as client:
            version = client.upload(workspace, function, name, alias)
    aliases = f" (aliases: {', '.join(version.aliases)})" if version.aliases else ""
    click.echo(f"uploaded {workspace}/{version.name} version {version.version_id}{aliases} to {server}")


@fn.command(name="list")
@server_option
@workspace_option
def list_functions(server: str | None, workspace: str) -> None:
    """List the functions of a workspace on a running server (latest version of each)."""
    with _clean_errors(), FunctionsClient(_required(server)) as client:
        versions = client.list_latest(workspace)
    _print_versions(versions, f"no functions in workspace {workspace!r}", with_name=True)


@fn.command()
@click.argument("name")
@server_option
@workspace_option
def versions(name: str, server: str | None, workspace: str) -> None:
    """List every version of function NAME on a running server, newest first."""
    with _clean_errors(), FunctionsClient(_required(server)) as client:
        found = client.versions(workspace, name)
    _print_versions(found, f"no versions of {name!r}", with_name=False)


def _required(server: str | None) -> str:
    if not server:
        raise InputProblem("give the server: --server HOST:PORT (or TRANSFORMER_SERVER)")
    return server


def _print_versions(versions: list[Any], empty: str, *, with_name: bool) -> None:
    """Plain aligned columns: readable on a terminal, and greppable when piped."""
    from transformer._functions_service import kind_of, language_of

    if not versions:
        click.echo(empty)
        return
    header = (["NAME"] if with_name else []) + ["VERSION", "KIND", "LANGUAGE", "BYTES", "CREATED", "ALIASES"]
    rows = [header]
    for v in versions:
        rows.append(([v.name] if with_name else []) + [
            v.version_id, kind_of(v.kind).value, language_of(v.language).value, str(v.size_bytes),
            _iso(v.created_at_ms), ",".join(v.aliases) or "-"])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _iso(ms: int) -> str:
    import datetime

    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
