"""Reading a local run's inputs: the function file, its events, settings and expected results.

Every problem is an ``InputError`` (or ``InvalidFunction`` for the code itself) with a one-line
message naming the file, and the line where it helps.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ._errors import InputError
from ._guests import build_guest
from ._kinds import KINDS
from ._model import FunctionKind, Language

#: Source languages by file suffix; C and Zig are built into WebAssembly before they run.
_LANGUAGE_OF_SUFFIX = {".py": "python", ".wasm": "wasm", ".c": "c", ".zig": "zig"}
_RUNS_AS = {"python": Language.PYTHON, "wasm": Language.WASM, "c": Language.WASM, "zig": Language.WASM}
_FILE_KINDS = "Python (.py), C (.c), Zig (.zig) or WebAssembly (.wasm)"


@dataclass(frozen=True, slots=True)
class FunctionFile:
    """A function file as it runs: its language on the server, the code uploaded (Python source or
    a WebAssembly module) and the source's lines, for showing the line an error names."""

    language: Language
    code: bytes
    lines: tuple[str, ...]


def check_language(language: str) -> Language:
    """The language on the server of a source language (``python``, ``c``, ``zig``, ``wasm``)."""
    try:
        return _RUNS_AS[language]
    except KeyError:
        raise InputError(f"unknown language {language!r}; known: {', '.join(_RUNS_AS)}") from None


def read_function(path: Path, build_dir: Path | None = None) -> FunctionFile:
    """The function in ``path``, by its suffix; a C or Zig source is built with the ``ziglang``
    toolchain into ``build_dir`` (default: ``default_build_dir()``), where unchanged sources are
    not built again. Raises ``InputError``, or ``GuestBuildError`` with the compiler's output."""
    language = _LANGUAGE_OF_SUFFIX.get(path.suffix.lower())
    if language is None:
        raise InputError(f"{path}: not a function file: expected {_FILE_KINDS}")
    data = read_bytes(path, "function file")
    lines = () if language == "wasm" else tuple(data.decode(errors="replace").splitlines())
    code = build_guest(path, build_dir or default_build_dir()) if language in ("c", "zig") else data
    return FunctionFile(_RUNS_AS[language], code, lines)


def default_build_dir() -> Path:
    """Where local runs keep guests built from C and Zig: ``$TRANSFORMER_BUILD_DIR``, else the
    user's cache directory (``$XDG_CACHE_HOME`` or ``~/.cache``) under ``transformer/guests``."""
    configured = os.environ.get("TRANSFORMER_BUILD_DIR")
    if configured:
        return Path(configured)
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "transformer" / "guests"


def guess_kind(language: Language, code: bytes, path: Path) -> FunctionKind:
    """The kind whose entry points the code defines at the top level."""
    if language is not Language.PYTHON:
        raise InputError(f"{path}: a WebAssembly function does not say which kind it is: give the kind "
                         "(--kind transformation, destination or source)")
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        # compiling it for real reports the error with its position; any kind will do for that
        return FunctionKind.TRANSFORMATION
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    kinds = [spec.kind for spec in KINDS.values() if defined.intersection(spec.entry_points)]
    if len(kinds) == 1:
        return kinds[0]
    if kinds:
        names = " and ".join(kind.value for kind in kinds)
        raise InputError(f"{path}: defines entry points of a {names} function: give the kind "
                         "(--kind) to say which to run")
    raise InputError(f"{path}: no entry point found at the top level (a transformation defines "
                     "transformEvent() or transformBatch(), a destination on_track() ... on_alias(), "
                     "a source on_request())")


def read_events(path: Path) -> list[bytes]:
    """The events of a ``.json`` file (one event, or a list of them) or a ``.jsonl`` file (one per
    line), each encoded again."""
    data = read_bytes(path, "events file")
    if path.suffix.lower() == ".jsonl":
        events = []
        for number, line in enumerate(data.splitlines(), 1):
            if line.strip():
                events.append(orjson.dumps(_loads(line, f"{path}, line {number}")))
    else:
        value = _loads(data, str(path))
        events = [orjson.dumps(item) for item in (value if isinstance(value, list) else [value])]
    if not events:
        raise InputError(f"{path}: no events in the file")
    return events


def read_settings(path: Path) -> bytes:
    """A settings (or metadata) file: one JSON object."""
    value = _loads(read_bytes(path, "settings file"), str(path))
    if not isinstance(value, dict):
        raise InputError(f"{path}: settings must be a JSON object, not {type(value).__name__}")
    return orjson.dumps(value)


def read_expected(path: Path) -> list[dict[str, Any]]:
    """Expected results: a list with one object per event (or ``--json`` output, ``{"results": [...]}``)."""
    value = _loads(read_bytes(path, "expected results file"), str(path))
    if isinstance(value, dict) and isinstance(value.get("results"), list):
        value = value["results"]
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise InputError(f"{path}: expected results must be a list with one object per event "
                         '(e.g. [{"statusCode": 200, "output": {...}}])')
    return value


def read_bytes(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such {what}") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a {what}") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the {what}: {exc.strerror}") from None


def _loads(data: bytes, where: str) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{where}: not valid JSON: {exc}") from None
