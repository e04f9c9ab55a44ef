"""Dotted-path lookups compiled once into small closures.

``"context.traits.email"`` walks dicts by key; a segment that is a non-negative integer also
indexes lists (``"context.externalId.0.id"``), as lodash's ``get`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ._js import UNDEFINED, is_present, is_truthy, js_trim, to_number

Getter = Callable[[Any], Any]


def split_path(path: str) -> list[str]:
    return path.split(".") if path else []


#: Dotted paths split once: (key, list index or None) per segment.
_KEYS: dict[str, tuple[tuple[str, int | None], ...]] = {}


def path_keys(path: str) -> tuple[tuple[str, int | None], ...]:
    """``path`` split at its dots, each segment with its list index (None when not a non-negative
    integer); cached per path, for hooks that walk paths themselves."""
    keys = _KEYS.get(path)
    if keys is None:
        keys = _KEYS[path] = tuple((k, int(k) if k.isdigit() else None) for k in path.split("."))
    return keys


def path_get(doc: Any, path: str) -> Any:
    """The value at a dotted path (numeric segments index lists), or None: ``compile_path``'s
    lookup for a path known only at the call."""
    for key, index in path_keys(path):
        if isinstance(doc, dict):
            doc = doc.get(key)
        elif index is not None and isinstance(doc, list) and index < len(doc):
            doc = doc[index]
        else:
            return None
        if doc is None:
            return None
    return doc


def compile_path(path: str, missing: Any = None) -> Getter:
    """A function returning the value at ``path`` inside a document, or ``missing`` when the path
    does not lead anywhere (None by default; UNDEFINED to tell a missing key from a JSON null)."""
    keys = split_path(path)
    if not keys:
        return lambda doc: doc
    steps = [(key, int(key) if key.isdigit() else None) for key in keys]
    if missing is not None:
        return _compile_strict(steps, missing)
    if len(steps) == 1 and steps[0][1] is None:
        (only, _), = steps

        def get1(doc: Any) -> Any:
            return doc.get(only) if isinstance(doc, dict) else None

        return get1
    if len(steps) == 2 and steps[0][1] is None and steps[1][1] is None:
        first, second = steps[0][0], steps[1][0]

        def get2(doc: Any) -> Any:
            node = doc.get(first) if isinstance(doc, dict) else None
            return node.get(second) if isinstance(node, dict) else None

        return get2
    if len(steps) == 3 and all(index is None for _, index in steps):
        (k1, _), (k2, _), (k3, _) = steps

        def get3(doc: Any) -> Any:  # context.traits.email and the like: most generic aliases
            node = doc.get(k1) if isinstance(doc, dict) else None
            node = node.get(k2) if isinstance(node, dict) else None
            return node.get(k3) if isinstance(node, dict) else None

        return get3

    def get(doc: Any) -> Any:
        node = doc
        for key, index in steps:  # this runs for most mapped fields
            if isinstance(node, dict):
                node = node.get(key)
                if node is None:
                    return None
            elif index is not None and isinstance(node, list) and index < len(node):
                node = node[index]
                if node is None:
                    return None
            else:
                return None
        return node

    return get


def _compile_strict(steps: list[tuple[str, int | None]], missing: Any) -> Getter:
    def get(doc: Any) -> Any:
        node = doc
        for key, index in steps:
            if isinstance(node, dict):
                if key not in node:
                    return missing
                node = node[key]
            elif index is not None and isinstance(node, list) and index < len(node):
                node = node[index]
            else:
                return missing
        return node

    return get


def compile_first_present(paths: Sequence[str]) -> Getter:
    """The first path whose value is present (truthy, 0 or false), as the reference's fallbacks do."""
    getters = [compile_path(p) for p in paths]
    if len(getters) == 1:
        return getters[0]

    def first(doc: Any) -> Any:
        for getter in getters:
            value = getter(doc)
            # is_present, with its common cases first (a missing value, a non-empty string)
            if value is None:
                continue
            if type(value) is str:
                if value:
                    return value
            elif is_present(value):
                return value
        return None

    return first


def split_set_value_path(path: str, trailing_escape: str = "undefined") -> list[str | int]:
    """set-value 4's path split: "." separates keys, "\\" escapes the next character (a "\\"
    at the end adds ``trailing_escape``: JavaScript's ``input[++i]`` past the end), a path holding
    "/" is one key, and a part that trims to an integral number becomes that int."""
    if "/" in path:
        return [path]
    parts: list[str | int] = []
    part = ""
    chars = iter(path)
    for char in chars:
        if char == "\\":
            part += next(chars, trailing_escape)
        elif char == ".":
            parts.append(_set_value_part(part))
            part = ""
        else:
            part += char
    if part:
        parts.append(_set_value_part(part))
    return parts


def _set_value_part(part: str) -> str | int:
    if js_trim(part):
        number = to_number(part)
        if isinstance(number, int) or (isinstance(number, float) and number.is_integer()):
            return int(number)
    return part


def compile_first_matching(paths: Sequence[str], accept: Callable[[Any], bool],
                           missing: Any = None) -> Getter:
    """JavaScript's ``a || b || c`` (accept = truthy) or ``a ?? b ?? c`` (accept = not null):
    the first accepted value, else the last value as it is."""
    return first_matching([compile_path(p, missing) for p in paths], accept)


def first_matching(getters: Sequence[Callable[[Any], Any]],
                   accept: Callable[[Any], bool]) -> Callable[[Any], Any]:
    """The getters tried in order on one argument: the first accepted value, else the last's."""
    *leading, last = getters

    def first(doc: Any) -> Any:
        for getter in leading:
            value = getter(doc)
            if accept(value):
                return value
        return last(doc)

    return first


def is_defined(value: Any) -> bool:
    """Neither null nor undefined: what JavaScript's ``??`` keeps."""
    return value is not None and value is not UNDEFINED


__all__ = ["compile_first_matching", "compile_first_present",
           "compile_path", "first_matching", "is_defined", "is_truthy", "path_get", "path_keys",
           "split_path", "split_set_value_path"]
