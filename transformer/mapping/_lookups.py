"""Sources that read the event as the reference's ``constructPayload`` tables do.

``get_value``: the reference's getValueFromMessage. One path is npm get-value's answer as it is
(a key holding dots is found, a document that is no object answers itself); a list is tried in
order until a value is present (truthy, 0 or false), else null. A list may hold fields, for the
reference's computed source keys (an ``operation`` object), e.g. ``multiply``.

``multiply``: the reference's "multiplication" operation (handleSourceKeysOperation): the product
of its arguments, each a get-value path or a field (a field's ``default`` is the operation's
``defaultVal``); absent when an argument is absent or is neither a number nor a decimal string.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._context import Context
from ._get_value import compile_get_value
from ._js import UNDEFINED, is_present, normalize_number

if TYPE_CHECKING:
    from ._directives import CompileEnv

Source = Callable[[Context], Any]
#: lodash-free JavaScript test of the reference: a decimal number written as a string.
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([Ee][+-]?\d+)?", re.ASCII)


def check_lookup(arg: Any, env: CompileEnv) -> list[str]:
    if isinstance(arg, str):
        return []
    if isinstance(arg, list) and arg and all(isinstance(p, str | dict) for p in arg):
        return []
    return ["expected a dotted path or a non-empty list of paths and fields"]


def check_operands(arg: Any, env: CompileEnv) -> list[str]:
    if isinstance(arg, list) and arg and all(isinstance(p, str | dict) for p in arg):
        return []
    return ["expected a non-empty list of paths and fields (the factors)"]


def _reader(item: Any) -> Source:
    """A get-value path (None when it leads nowhere) or an already compiled field."""
    if isinstance(item, str):
        getter = compile_get_value(item, None)
        return lambda ctx: getter(ctx.message)
    source: Source = item
    return source


def build_get_value(arg: Any, env: CompileEnv) -> Source:
    if isinstance(arg, str):
        return _reader(arg)
    readers = [_reader(item) for item in arg]

    def first_present(ctx: Context) -> Any:
        for read in readers:
            value = read(ctx)
            if is_present(value):
                return value
        return None

    return first_present


def build_multiply(arg: Any, env: CompileEnv) -> Source:
    readers = [_reader(item) for item in arg]

    def product(ctx: Context) -> Any:
        values = [read(ctx) for read in readers]
        if any(value is None or value is UNDEFINED for value in values):
            return None
        result: float = 1
        for value in values:
            if isinstance(value, int | float) and not isinstance(value, bool):
                result *= value
            elif isinstance(value, str) and _DECIMAL.fullmatch(value):
                result *= float(value)
            else:
                return None
        return normalize_number(result)

    return product


def source_paths(table: dict[str, Any]) -> tuple[str, ...]:
    """The event paths an object mapping's fields name in their ``path`` or ``get_value``
    source (a list's paths, not its fields'), in order: what the reference's exclusion lists
    built from a mapping table's sourceKeys hold."""
    paths: list[str] = []
    for spec in table.values():
        if not isinstance(spec, dict):
            continue
        for source in ("path", "get_value"):
            arg = spec.get(source)
            items = [arg] if isinstance(arg, str) else arg if isinstance(arg, list) else []
            paths.extend(item for item in items if isinstance(item, str))
    return tuple(paths)


__all__ = ["build_get_value", "build_multiply", "check_lookup", "check_operands",
           "source_paths"]
