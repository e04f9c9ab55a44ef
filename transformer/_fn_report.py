"""The terminal report of a function test run: one block per event, then a summary line.

Colours come from rich, which uses them only on a terminal (and honours ``NO_COLOR``). Everything
the user's function or events produced is printed as plain ``Text``, never as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from rich.console import Console
from rich.text import Text

from functions import Language
from functions.testing import EventResult, FunctionRun, Mismatch

_INDENT = "      "


def console(stderr: bool = False) -> Console:
    # soft_wrap: long JSON lines are left to the terminal (and stay intact when piped)
    return Console(stderr=stderr, soft_wrap=True, highlight=False)


def print_run(out: Console, run: FunctionRun, inputs: Sequence[bytes], source: Sequence[str],
              mismatches: Sequence[Mismatch] | None, expected_file: str = "") -> None:
    """Print ``run``: each event with what it became; ``source`` (the function's lines) to show the
    line an error names; ``mismatches`` (with ``--expect``) to print each differing event's diff."""
    out.print(Text.assemble((run.path.name, "bold"), f" · {run.kind.value} · {run.language.value} · "
                            f"{run.where} ({run.label})"))
    differing = {m.index: m for m in mismatches or ()}
    for index, result in enumerate(run.results):
        verdict = None if mismatches is None else index not in differing
        _print_event(out, index, result, inputs[index] if index < len(inputs) else b"", source, verdict)
        if index in differing:
            _print_diff(out, differing[index].diff)
    if run.unmatched:
        out.print(Text("outputs matching no input's messageId:", style="bold"))
        for output in run.unmatched:
            out.print(_json_block(output))
    for line in run.call_logs:
        out.print(Text.assemble(("  log ", "dim"), line))
    out.print(_summary(run, mismatches, expected_file))


def _print_event(out: Console, index: int, result: EventResult, event: bytes, source: Sequence[str],
                 matches: bool | None) -> None:
    code = result.status_code
    style = "green" if code == 200 else "yellow" if code < 400 else "red"
    word = "ok" if code == 200 else "dropped" if code < 400 else "error"
    header = Text.assemble((f"[{index + 1}] ", "bold"), (f"{code} {word:<7}", style), " ",
                           _describe(event), (f"  {result.elapsed_ms:.1f} ms", "dim"))
    if result.memory_bytes is not None:
        header.append(f"  {_mib(result.memory_bytes)}", "dim")
    if matches is not None:
        header.append("  matches" if matches else "  DIFFERS", "green" if matches else "bold red")
    out.print(header)
    for output in result.outputs:
        out.print(_json_block(output))
    if result.error:
        out.print(Text.assemble(f"{_INDENT}error: ", (result.error, style)))
        if result.line is not None and 0 < result.line <= len(source):
            out.print(Text(f"{_INDENT}  {result.line:>4} | {source[result.line - 1].rstrip()}", style="dim"))
    for line in result.logs:
        out.print(Text.assemble((f"{_INDENT}log: ", "dim"), line))


def _mib(size: int) -> str:
    return f"{size / (1 << 20):.1f} MiB"


def _describe(event: bytes) -> str:
    """``track "Order Completed"``, ``page "Pricing"``, ``POST /hook`` (a delivery)..."""
    try:
        value: Any = orjson.loads(event)
    except orjson.JSONDecodeError:
        return "(not JSON)"
    if not isinstance(value, dict):
        return f"({type(value).__name__})"
    kind = value.get("type")
    if isinstance(kind, str):
        name = value.get("event") or value.get("name")
        return f'{kind} "{name}"' if isinstance(name, str) else kind
    if "method" in value or "body" in value:
        return f"{value.get('method') or 'request'} {value.get('path') or ''}".rstrip()
    return "(event without a type)"


def _json_block(value: Any) -> Text:
    text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    return Text("\n".join(_INDENT + line for line in text.splitlines()))


def _print_diff(out: Console, diff: str) -> None:
    for line in diff.splitlines():
        style = "green" if line.startswith("+") else "red" if line.startswith("-") else \
            "cyan" if line.startswith("@@") else ""
        out.print(Text(_INDENT + line, style=style))


def _summary(run: FunctionRun, mismatches: Sequence[Mismatch] | None, expected_file: str) -> Text:
    summary = run.summary()
    text = Text.assemble(
        (f"{summary['events']} events: ", "bold"), (f"{summary['ok']} ok", "green"), ", ",
        (f"{summary['dropped']} dropped", "yellow"), ", ",
        (f"{summary['errors']} failed", "red" if summary["errors"] else ""),
        f" · {run.elapsed_ms:.1f} ms")
    if run.peak_memory_bytes is not None:
        where = "guest memory" if run.language is Language.WASM else "sandbox worker peak memory"
        text.append(f" · {where} {_mib(run.peak_memory_bytes)}")
    if mismatches is not None:
        matched = len(run.results) - len(mismatches)
        text.append(f"\n{expected_file}: {matched} of {len(run.results)} events match",
                    "bold green" if not mismatches else "bold red")
    return text
