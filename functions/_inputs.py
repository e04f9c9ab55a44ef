"""Reading a local run's inputs: the function file, its events, settings and expected results.

Every problem is an ``InputError`` (or ``InvalidFunction`` for the code itself) with a one-line
message naming the file, and the line where it helps.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import orjson

from ._errors import InputError
from ._kinds import KINDS
from ._model import FunctionKind, Language

_LANGUAGE_OF_SUFFIX = {".py": "python", ".wasm": "wasm", ".c": "c", ".zig": "zig"}
_LANGUAGE_NAMES = {"python": "Python", "wasm": "WebAssembly", "c": "C", "zig": "Zig"}


def check_language(language: str) -> Language:
    """The language a local run supports, by name (``python``, ``c``, ``zig``, ``wasm``): the one
    place deciding it, so C, Zig and WebAssembly are added here."""
    if language == "python":
        return Language.PYTHON
    name = _LANGUAGE_NAMES.get(language, language)
    raise InputError(f"{name} functions are not supported yet: only Python (.py) runs for now")


def read_function(path: Path) -> tuple[Language, bytes]:
    """The language and code of a function file, by its suffix."""
    language = _LANGUAGE_OF_SUFFIX.get(path.suffix.lower())
    if language is None:
        raise InputError(f"{path}: not a function file: expected a Python source file (.py)")
    try:
        checked = check_language(language)
    except InputError as exc:
        raise InputError(f"{path}: {exc.message}") from None
    return checked, read_bytes(path, "function file")


def guess_kind(language: Language, code: bytes, path: Path) -> FunctionKind:
    """The kind whose entry points the code defines at the top level."""
    if language is not Language.PYTHON:
        raise InputError(f"{path}: give the function's kind (transformation, destination or source)")
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
