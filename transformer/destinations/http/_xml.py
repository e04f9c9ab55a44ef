"""The XML body, as the reference builds it with fast-xml-parser's ``XMLBuilder``
(``ignoreAttributes: false, suppressEmptyNode: true``, no indentation).

Keys are sanitised first (characters outside ``[A-Za-z0-9_.-]`` become ``_``, and a first
character that is not a letter or ``_`` is replaced by ``_``), so no key is ever an attribute
(``@_...``) or a text node (``#text``). A list repeats its element once per item; a list inside a
list renders as an element with index-named children; empty strings and objects self-close;
empty lists vanish.
"""

from __future__ import annotations

import re
from typing import Any

from transformer.hooks import InstrumentationError

from ._js import UNDEFINED, js_items, own_entries, to_str

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
MAX_NESTED_TAGS = 100
_INVALID = re.compile(r"[^A-Za-z0-9_.-]")
_BAD_START = re.compile(r"^[^A-Z_a-z]")
_ENTITIES = (("&", "&amp;"), (">", "&gt;"), ("<", "&lt;"), ("'", "&apos;"), ('"', "&quot;"))


def sanitize_key(key: str) -> str:
    return _BAD_START.sub("_", _INVALID.sub("_", key), count=1)


def _sanitize(value: Any) -> Any:
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        for key, item in js_items(value):
            result[sanitize_key(key)] = _sanitize(item)
        return result
    if isinstance(value, list):
        return [item if item is UNDEFINED else _sanitize(item) for item in value]
    return value


def build_xml(payload: Any, root_key: str) -> str:
    """The document for ``{root_key: {...payload}}``; UNDEFINED list items are holes."""
    content = dict(own_entries(_sanitize(payload), holes=True))
    return DECLARATION + _object_node(content, root_key, 1)


def _children(value: dict[str, Any] | list[Any], depth: int) -> str:
    if depth >= MAX_NESTED_TAGS:
        # The reference's builder fails with a 500 the router would retry forever; the event
        # is what nests too deeply.
        raise InstrumentationError(f"Maximum nested tags exceeded: the XML body nests more than "
                                   f"{MAX_NESTED_TAGS} tags")
    out: list[str] = []
    for key, item in own_entries(value, holes=True):
        if item is None:
            out.append(f"<{key}/>")
        elif isinstance(item, list):
            out.extend(_list_items(key, item, depth))
        elif isinstance(item, dict):
            out.append(_object_node(item, key, depth + 1))
        else:
            out.append(_text_node(item, key))
    return "".join(out)


def _list_items(key: str, items: list[Any], depth: int) -> list[str]:
    out: list[str] = []
    for item in items:
        if item is UNDEFINED:
            continue
        if item is None:
            out.append(f"<{key}/>")
        elif isinstance(item, dict | list):
            out.append(_object_node(item, key, depth + 1))
        else:
            out.append(_text_node(item, key))
    return out


def _object_node(value: dict[str, Any] | list[Any], key: str, depth: int) -> str:
    inner = _children(value, depth)
    if key[:1] == "?":
        return f"<{key}?>{inner}"
    return f"<{key}>{inner}</{key}>" if inner else f"<{key}/>"


def _text_node(value: Any, key: str) -> str:
    text = to_str(value)
    if isinstance(value, str):
        for char, entity in _ENTITIES:
            text = text.replace(char, entity)
    return f"<{key}>{text}</{key}>" if text else f"<{key}/>"
