"""The ``custom_fields`` source: the reference's extractCustomFields, "every other key".

``custom_fields: {from: [traits, context.traits], exclude: [email, phone]}`` is the object of
every own key of the objects at those paths (read as npm get-value reads them; later ones win)
that is not excluded, each written as integrations-lib's setValue writes it (see
``extract_custom_fields``); ``{}`` when there is none, as the reference's payload is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._collections import extract_custom_fields
from ._context import Context
from ._get_value import compile_get_value

if TYPE_CHECKING:
    from ._directives import CompileEnv

_KEYS = frozenset({"from", "exclude"})


def check_custom_fields(arg: Any, env: CompileEnv) -> list[str]:
    if not isinstance(arg, dict):
        return ["expected a mapping with from (a path or a list of paths) and exclude (keys)"]
    problems = [f"unknown key {k!r} (known: exclude, from)" for k in arg if k not in _KEYS]
    paths = arg.get("from")
    if not (isinstance(paths, str) or (isinstance(paths, list) and paths
                                       and all(isinstance(p, str) for p in paths))):
        problems.append("from: expected a dotted path or a non-empty list of paths")
    exclude = arg.get("exclude", [])
    if not isinstance(exclude, list) or not all(isinstance(k, str) for k in exclude):
        problems.append("exclude: expected a list of keys")
    return problems


def build_custom_fields(arg: Any, env: CompileEnv) -> Callable[[Context], Any]:
    paths = arg["from"]
    getters = [compile_get_value(path, None) for path in ([paths] if isinstance(paths, str)
                                                           else paths)]
    exclusion = frozenset(arg.get("exclude", ()))

    def custom_fields(ctx: Context) -> Any:
        message = ctx.message
        return extract_custom_fields([get(message) for get in getters], exclusion)

    return custom_fields


__all__ = ["build_custom_fields", "check_custom_fields"]
