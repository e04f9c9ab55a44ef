"""New function projects, copied from the worked examples in ``functions/examples/<language>/<kind>/``.

The examples are the templates, so what ``fn init`` writes is what the project's own tests run.
An example's function file is ``<stem>.py`` beside ``test_<stem>.py``; both are renamed to the new
function's name, and references to ``<stem>.py`` in the copied text follow.
"""

from __future__ import annotations

import re
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from ._errors import InputError
from ._inputs import check_language
from ._model import FunctionKind

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_FUNCTION_SUFFIX = {"python": ".py"}


def scaffold(name: str, kind: FunctionKind, language: str, directory: Path) -> list[Path]:
    """Write a function called ``name`` with sample events, expected results and a passing test into
    ``directory`` (created; it must not exist yet). Returns the files written."""
    if not _NAME.match(name):
        raise InputError(f"function name {name!r} must start with a letter and have only letters, "
                         "digits and '_' (at most 64)")
    check_language(language)
    if directory.exists():
        raise InputError(f"{directory}: already exists; choose another name or remove it")
    example = resources.files(__package__).joinpath("examples", language, kind.value)
    suffix = _FUNCTION_SUFFIX[language]
    stem = next(item.name[:-len(suffix)] for item in example.iterdir()
                if item.name.endswith(suffix) and not item.name.startswith("test_"))
    directory.mkdir(parents=True)
    written = []
    for item in sorted(example.iterdir(), key=lambda i: i.name):
        if item.name.startswith((".", "__")) or not item.is_file():
            continue
        target = directory / item.name.replace(stem + suffix, name + suffix)
        target.write_text(_text(item).replace(stem + suffix, name + suffix))
        written.append(target)
    return written


def _text(item: Traversable) -> str:
    return item.read_text(encoding="utf-8")
