"""New function projects, copied from the worked examples in ``functions/examples/<language>/<kind>/``.

The examples are the templates, so what ``fn init`` writes is what the project's own tests run.
An example's function file is ``<stem><suffix>`` beside ``test_<stem>.py``; both are renamed after
the new function, and references to ``<stem><suffix>`` in the copied text follow. A language's
support files (``examples/c/transformer_guest.h``, ``examples/zig/guest.zig``) are copied beside
them, so a new C or Zig project builds on its own: its ``../`` references to them drop the ``../``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from ._errors import InputError
from ._inputs import check_language
from ._model import FunctionKind

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
#: Each scaffolded language's function file suffix (``wasm`` has no source to start from).
SOURCE_SUFFIX = {"python": ".py", "c": ".c", "zig": ".zig"}
_NOT_COPIED = ("README.md",)


@dataclass(frozen=True, slots=True)
class Scaffold:
    """What ``scaffold`` wrote: the function file and every file, in the order written."""

    function: Path
    files: tuple[Path, ...]


def scaffold(name: str, kind: FunctionKind, language: str, directory: Path) -> Scaffold:
    """Write a function called ``name`` with sample events, expected results and a passing test into
    ``directory`` (created; it must not exist yet)."""
    if not _NAME.match(name):
        raise InputError(f"function name {name!r} must start with a letter and have only letters, "
                         "digits and '_' (at most 64)")
    check_language(language)
    suffix = SOURCE_SUFFIX.get(language)
    if suffix is None:
        raise InputError(f"no {language} template: write the function in one of "
                         f"{', '.join(SOURCE_SUFFIX)} (a .wasm file runs as it is)")
    if directory.exists():
        raise InputError(f"{directory}: already exists; choose another name or remove it")
    examples = resources.files(__package__).joinpath("examples", language)
    example = examples.joinpath(kind.value)
    stem = next(item.name[:-len(suffix)] for item in example.iterdir()
                if item.name.endswith(suffix) and not item.name.startswith("test_"))
    support = [item for item in _files(examples) if item.name not in _NOT_COPIED]
    renames = [(stem + suffix, name + suffix)] + [(f"../{item.name}", item.name) for item in support]
    file_names = {stem + suffix: name + suffix, f"test_{stem}.py": f"test_{name}.py"}
    directory.mkdir(parents=True)
    written = []
    for item in [*_files(example), *support]:
        target = directory / file_names.get(item.name, item.name)
        text = item.read_text(encoding="utf-8")
        for old, new in renames:
            text = text.replace(old, new)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return Scaffold(directory / (name + suffix), tuple(written))


def _files(folder: Traversable) -> list[Traversable]:
    return sorted((item for item in folder.iterdir()
                   if item.is_file() and not item.name.startswith((".", "__"))), key=lambda i: i.name)
