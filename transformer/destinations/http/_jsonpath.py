"""The JSONPath queries of ``pathParams``, as the reference's ``rs-jsonpath`` answers them.

Only the first result matters (the reference takes ``query(message, path)[0]``), and that library
has quirks this reproduces because they decide the endpoint: a member missing from an object
yields an undefined result; ``[n]`` and ``.n`` on a list yield one (undefined) result per
non-matching position *before* the match too (so ``$.tags[1]`` starts with undefined); applied
to an object, ``[n]``, ``..x`` and filters fail with ``index is not defined``.

Supported: ``$``, ``.name``, ``.n``, ``.*``, ``['name']``, ``["name"]``, ``[n]``, ``[*]``,
``[a,b]`` unions, ``[start:end:step]`` slices and ``..`` descendants. Script and filter
expressions (``[(...)]``, ``[?(...)]``) run JavaScript in the reference and are refused here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ._js import UNDEFINED, js_items

_TOKENS = [
    ("DOLLAR", r"\$"),
    ("DOT_DOT", r"\.\."),
    ("DOT", r"\."),
    ("STAR", r"\*"),
    ("IDENTIFIER", r"[a-zA-Z_]+[a-zA-Z0-9_]*"),
    ("[", r"\["),
    ("]", r"\]"),
    (",", r","),
    ("ARRAY_SLICE", r"(?:-?(?:0|[1-9][0-9]*))?:(?:-?(?:0|[1-9][0-9]*))?(?::(?:-?(?:0|[1-9][0-9]*))?)?"),
    ("INTEGER", r"-?(?:0|[1-9][0-9]*)"),
    ("QQ_STRING", r'"(?:\\["bfnrt/\\]|\\u[a-fA-F0-9]{4}|[^"\\])*"'),
    ("Q_STRING", r"'(?:\\['bfnrt/\\]|\\u[a-fA-F0-9]{4}|[^'\\])*'"),
    ("SCRIPT_EXPRESSION", r"\(.+?\)(?=\])"),
    ("FILTER_EXPRESSION", r"\?\(.+?\)(?=\])"),
]
_COMPILED = [(name, re.compile(pattern)) for name, pattern in _TOKENS]
_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "/": "/", "\\": "\\"}


class JsonPathError(Exception):
    """The query failed (as rs-jsonpath throws); ``str()`` is its message."""


class UnsupportedPath(JsonPathError):
    """A script or filter expression: JavaScript the reference would run."""


@dataclass(frozen=True, slots=True)
class _Component:
    scope: str  # "child" | "descendant"
    operation: str  # "member" | "subscript"
    kind: str  # "identifier" | "numeric_literal" | "string_literal" | "wildcard" | "slice" | "union"
    value: Any


def _lex(path: str) -> list[tuple[str, str, int]]:
    tokens: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(path):
        for name, pattern in _COMPILED:
            match = pattern.match(path, pos)
            if match and match.end() > pos:
                tokens.append((name, match.group(0), pos))
                pos = match.end()
                break
        else:
            raise JsonPathError("Lexical error on line 1. Unrecognized text.\n"
                                + _show_position(path, pos, pos))
    return tokens


def _show_position(path: str, start: int, end: int) -> str:
    """The parser generator's error excerpt: up to 20 characters either side, and a caret."""
    past = path[:start]
    past = ("..." if len(past) > 20 else "") + past[-20:]
    upcoming = path[start:end]
    if len(upcoming) < 20:
        upcoming += path[end:end + 20 - len(upcoming)]
    upcoming = upcoming[:20] + ("..." if len(path) - start > 20 else "")
    return f"{past}{upcoming}\n{'-' * len(past)}^".replace("\r", "")


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(u[0-9a-fA-F]{4}|.)",
                  lambda m: chr(int(m.group(1)[1:], 16)) if len(m.group(1)) == 5
                  else _ESCAPES.get(m.group(1), m.group(1)), body)


class _Parser:
    def __init__(self, path: str) -> None:
        self.path = path
        self.tokens = _lex(path)
        self.pos = 0

    def _peek(self) -> str | None:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def _take(self, *kinds: str) -> str:
        kind = self._peek()
        if kind not in kinds:
            if kind is None:
                start = end = len(self.path)
            else:
                start = self.tokens[self.pos][2]
                end = start + len(self.tokens[self.pos][1])
            raise JsonPathError(f"Parse error on line 1:\n{_show_position(self.path, start, end)}\n"
                                f"Expecting {', '.join(repr(k) for k in kinds)}, "
                                f"got '{kind or 1}'")
        value = self.tokens[self.pos][1]
        self.pos += 1
        return value

    def parse(self) -> list[_Component]:
        components: list[_Component] = []
        if self._peek() == "DOLLAR":
            self.pos += 1
        else:
            components.append(self._member("child"))
        while self._peek() is not None:
            components.append(self._component())
        return components

    def _component(self) -> _Component:
        scope = "descendant" if self._take("DOT", "DOT_DOT", "[") == ".." else "child"
        if self.tokens[self.pos - 1][0] == "[":
            return self._subscript("child")
        if scope == "descendant" and self._peek() == "[":
            self.pos += 1
            return self._subscript("descendant")
        return self._member(scope)

    def _member(self, scope: str) -> _Component:
        kind = self._peek()
        value = self._take("STAR", "IDENTIFIER", "SCRIPT_EXPRESSION", "INTEGER", "END")
        if kind == "SCRIPT_EXPRESSION":
            raise UnsupportedPath("script expressions")
        if kind == "STAR":
            return _Component(scope, "member", "wildcard", value)
        if kind == "INTEGER":
            return _Component(scope, "member", "numeric_literal", int(value))
        return _Component(scope, "member", "identifier", value)

    def _subscript(self, scope: str) -> _Component:
        kind = self._peek()
        if kind in ("SCRIPT_EXPRESSION", "FILTER_EXPRESSION"):
            raise UnsupportedPath("script and filter expressions")
        if kind == "STAR":
            self.pos += 1
            self._take("]")
            return _Component(scope, "subscript", "wildcard", "*")
        items = [self._listable(first=True)]
        while self._peek() == ",":
            self.pos += 1
            items.append(self._listable())
        self._take("]")
        if len(items) == 1:
            return _Component(scope, "subscript", items[0][0], items[0][1])
        return _Component(scope, "subscript", "union", items)

    def _listable(self, *, first: bool = False) -> tuple[str, Any]:
        kind = self._peek()
        if first and kind not in ("INTEGER", "QQ_STRING", "Q_STRING", "ARRAY_SLICE"):
            self._take("STAR", "SCRIPT_EXPRESSION", "INTEGER", "ARRAY_SLICE", "FILTER_EXPRESSION",
                       "QQ_STRING", "Q_STRING")
        value = self._take("INTEGER", "QQ_STRING", "Q_STRING", "ARRAY_SLICE")
        if kind == "INTEGER":
            return "numeric_literal", int(value)
        if kind == "ARRAY_SLICE":
            return "slice", value
        return "string_literal", _unquote(value)


# --- evaluation: lists of (path, value) nodes ------------------------------------------------------

_Node = tuple[tuple[Any, ...], Any]


def first_value(message: Any, path: str) -> Any:
    """The first value ``path`` selects in ``message`` (UNDEFINED when none)."""
    components = _Parser(path).parse()
    nodes: list[_Node] = [(("$",), message)]
    for component in components:
        nodes = [found for node in nodes for found in _apply(component, node)]
    return nodes[0][1] if nodes else UNDEFINED


def _apply(component: _Component, node: _Node) -> list[_Node]:
    kind = component.kind
    if kind == "union":
        if component.scope == "descendant":
            raise UnsupportedPath("descendant unions")
        return _union(component, node)
    if component.operation == "member" and kind == "identifier" and component.scope == "child":
        return [_member(node, component.value)]
    if component.operation == "subscript" and kind == "string_literal" and component.scope == "child":
        return [_member(node, component.value)]
    if kind == "slice":
        if component.scope == "descendant":
            raise JsonPathError("couldn't resolve key: subscript-descendant-slice")
        return _slice(node, component.value)
    matcher = _matcher(component)
    return _traverse(node, matcher, recurse=component.scope == "descendant")


def _matcher(component: _Component) -> Any:
    kind, ref = component.kind, component.value
    if kind == "wildcard":
        return lambda key: True
    if kind == "numeric_literal" and component.operation == "member":
        return lambda key: str(key) == str(ref)
    if kind == "numeric_literal":
        return lambda key: isinstance(key, int) and key == ref
    return lambda key: key == ref  # identifier / string literal below a descendant


def _member(node: _Node, key: str) -> _Node:
    path, value = node
    found: Any = UNDEFINED
    if isinstance(value, dict) and key in value:
        found = value[key]
    elif isinstance(value, list):
        if key == "length":
            found = len(value)
        elif key.isdigit() and key.isascii() and (key == "0" or key[0] != "0") \
                and int(key) < len(value):
            found = value[int(key)]
    return (*path, key), found


def _traverse(node: _Node, passes: Any, *, recurse: bool) -> list[_Node]:
    """rs-jsonpath's traverser: lists yield every position (undefined where the key does not
    match); objects fail on the first key that does not match (its ``index`` bug)."""
    results: list[_Node] = []

    def descend(value: Any, path: tuple[Any, ...]) -> None:
        if isinstance(value, list):
            for index, element in enumerate(value):
                results.append(((*path, index), element if passes(index) else UNDEFINED))
            if recurse:
                for index, element in enumerate(value):
                    descend(element, (*path, index))
        elif isinstance(value, dict) and value:
            for key, element in js_items(value):
                if not passes(key):
                    raise JsonPathError("index is not defined")
                results.append(((*path, key), element))
            if recurse:
                for key, element in js_items(value):
                    descend(element, (*path, key))

    descend(node[1], node[0])
    return results


def _union(component: _Component, node: _Node) -> list[_Node]:
    results: list[_Node] = []
    seen: set[str] = set()
    for kind, value in component.value:
        part = _Component("child", "subscript", kind, value)
        for found in _apply(part, node):
            key = "-".join(str(c).replace("-", "--", 1) for c in found[0])
            if key not in seen:
                seen.add(key)
                results.append(found)
    return results


def _slice(node: _Node, text: str) -> list[_Node]:
    path, value = node
    if not isinstance(value, list):
        return []
    start, end, step = ([_nullable_int(p) for p in text.split(":")] + [None, None])[:3]
    if step == 0:
        raise JsonPathError("step cannot be zero")
    step = step or 1
    length = len(value)
    if start is not None and start < 0:
        start += length
    if end is not None and end < 0:
        end += length
    start = start if start is not None else (0 if step > 0 else length - 1)
    end = end if end is not None else (length if step > 0 else -1)
    start = max(0, start) if step > 0 else min(length, start)
    end = min(end, length) if step > 0 else max(-1, end)
    return [((*path, i), value[i]) for i in range(start, end, step)]


def _nullable_int(text: str) -> int | None:
    return int(text) if re.fullmatch(r"-?[0-9]+", text) else None
