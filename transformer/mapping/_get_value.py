"""npm get-value 3 lookups compiled once per path, for hooks that read the event as the
reference's ``get(message, path)`` does (``js_get``) many times per event.

``compile_get_value("context.device.type")`` answers plain dict walks itself and leaves every
other case (a list on the way, a key holding dots, a target that is no object) to ``js_get``, so
its answers are ``get_value``'s, only quicker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._js import UNDEFINED, js_get, to_string

Getter = Callable[[Any], Any]
_MISSING = object()


def get_value(target: Any, path: Any, missing: Any = UNDEFINED) -> Any:
    """get-value 3's ``get(target, path)``: ``missing`` when not found; a number path is its
    string form, any other path that is no string gives the target itself."""
    if not isinstance(path, str):
        if not isinstance(path, int | float) or isinstance(path, bool):
            return target
        path = to_string(path)
    return js_get(target, path, missing)


def compile_get_value(path: str, missing: Any = UNDEFINED) -> Getter:
    """``lambda doc: get_value(doc, path, missing)``, with the common shapes (one to three plain
    keys through dicts) answered without the general walk."""
    segs = tuple(path.split("."))
    count = len(segs)

    def walk(doc: Any) -> Any:
        if type(doc) is not dict or path in doc:
            return js_get(doc, path, missing)
        node: Any = doc
        i = 0
        while i < count:
            if type(node) is not dict:
                return js_get(doc, path, missing) if type(node) is list else missing
            key = segs[i]
            if key in node:
                node = node[key]
                i += 1
                continue
            for j in range(i + 1, count):  # get-value's retry: "a.b" as one key
                key = f"{key}.{segs[j]}"
                if key in node:
                    return js_get(doc, path, missing)
            return missing
        return node

    if count == 1:
        def get1(doc: Any) -> Any:
            if type(doc) is dict:
                return doc.get(path, missing)
            return js_get(doc, path, missing)

        return get1
    first, second = segs[0], segs[1]
    if count == 2:
        def get2(doc: Any) -> Any:
            if type(doc) is dict:
                node = doc.get(first, _MISSING)
                if type(node) is dict:
                    if path in doc:
                        return doc[path]
                    return node.get(second, missing)
                if type(node) is not list:  # missing (the joined key is the path) or a leaf
                    return doc.get(path, missing)
            return walk(doc)

        return get2
    if count == 3:
        third = segs[2]
        first_two, last_two = f"{first}.{second}", f"{second}.{third}"

        def get3(doc: Any) -> Any:
            if type(doc) is dict:
                node = doc.get(first, _MISSING)
                if type(node) is dict:
                    parent = node.get(second, _MISSING)
                    if type(parent) is dict:
                        if path in doc:
                            return doc[path]
                        return parent.get(third, missing)
                    if parent is _MISSING:
                        if last_two not in node and path not in doc:
                            return missing
                    elif type(parent) is not list:
                        return doc.get(path, missing)
                elif node is _MISSING:
                    if first_two not in doc and path not in doc:
                        return missing
                elif type(node) is not list:
                    return doc.get(path, missing)
            return walk(doc)

        return get3
    return walk


__all__ = ["compile_get_value", "get_value"]
