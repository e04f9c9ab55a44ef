"""Small collection helpers shared by destination hooks."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

from ._js import is_array_index, is_truthy, js_own, object_keys
from ._set import UNSAFE_KEYS, SetFlavour, js_set

T = TypeVar("T")


def unique_by(items: Iterable[T], key: Callable[[T], Hashable]) -> list[T]:
    """``items`` without repeats, in first-seen order; two items repeat when ``key`` gives them
    the same value (JavaScript's ``[...new Set(values)]`` with ``key`` naming what Set compares)."""
    seen: set[Hashable] = set()
    out: list[T] = []
    for item in items:
        marker = key(item)
        if marker not in seen:
            seen.add(marker)
            out.append(item)
    return out


Setter = Callable[[dict[str, Any], str, Any], None]


def extract_custom_fields(contexts: Iterable[Any], exclusion: frozenset[str] | set[str],
                          setter: Setter | None = None,
                          out: dict[str, Any] | None = None) -> dict[str, Any]:
    """The reference's ``extractCustomFields(message, out, [paths], exclusion)`` over the values
    of those paths (``contexts``): every own key (Object.keys) of each truthy context that is not
    excluded (nor unsafe) is written into ``out`` with ``setter``, by default the reference's
    own (integrations-lib's setValue: ``js_set``); later contexts win.

    As the reference does, the keys accumulate: a key of an earlier context is read again from a
    later one (``get(context, key)``: an object's own key, an array's index, a string whole).
    """
    out = {} if out is None else out
    setter = _set_integrations_lib if setter is None else setter
    keys: list[str] = []
    for context in contexts:
        if not is_truthy(context):
            continue
        keys.extend(k for k in object_keys(context) if k not in exclusion and k not in UNSAFE_KEYS)
        for key in keys:
            if isinstance(context, dict):
                if key in context:
                    setter(out, key, context[key])
            elif isinstance(context, list):
                found, value = js_own(context, key)
                if found:
                    setter(out, key, value)
            elif isinstance(context, str) and is_array_index(key) and int(key) < len(context):
                setter(out, key, context)  # get-value returns a string target whole
    return out


def _set_integrations_lib(target: dict[str, Any], path: str, value: Any) -> None:
    js_set(target, path, value, SetFlavour.INTEGRATIONS_LIB)


__all__ = ["extract_custom_fields", "unique_by"]
