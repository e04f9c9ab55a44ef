"""Handlebars, as the reference's destinations use it (slack's templates; discord, trengo and
clevertap's page names render with it there too).

The subset templates use: ``{{path}}`` (HTML-escaped), ``{{{path}}}``/``{{&path}}``,
``{{"literal key"}}``/``[literal key]``, ``this``, ``../``, ``@index/@key/@first/@last/@root``,
``{{! }}`` comments, ``~`` and standalone-line whitespace, the built-in helpers
if/unless/each/with/lookup/log, sub-expressions, and the ``newline`` helper the reference
registers globally. Partials and decorators are not supported (a HandlebarsError).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from ._js import UNDEFINED, is_truthy, js_keys, to_string


class HandlebarsError(Exception):
    """Handlebars refused the template (parse) or failed running it (missing helper ...)."""


# --- Handlebars ---------------------------------------------------------------------------------

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;", "`": "&#x60;",
            "=": "&#x3D;"}
_BAD_CHARS = re.compile(r"[&<>\"'`=]")
_ID = r"[^\s!\"#%-,\./;->@\[-\^`\{-~]+"
_TOKEN = re.compile(
    r"\s*(?:(?P<str>\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*')"
    r"|(?P<num>-?\d+(?:\.\d+)?(?=[\s)}~=]|$))"
    rf"|(?P<hash>{_ID})=(?=\S)"
    r"|(?P<open>\()|(?P<close>\))"
    rf"|(?P<path>(?:@)?(?:\.\.?|\[[^\]]*\]|{_ID})(?:[./](?:\.\.|\[[^\]]*\]|{_ID}))*))")
_PATH_WORD = re.compile(rf"\.\.(?=[./]|$)|\.(?=/|$)|{_ID}")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


@dataclass(slots=True)
class _Path:
    parts: list[str]
    depth: int = 0
    data: bool = False
    this: bool = False
    original: str = ""


@dataclass(slots=True)
class _Literal:
    value: Any


@dataclass(slots=True)
class _Call:
    """A sub-expression ``(helper params)``, or the expression of a mustache or block."""

    head: Any
    params: list[Any] = field(default_factory=list)
    hash: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _Mustache:
    call: _Call
    escaped: bool


@dataclass(slots=True)
class _Block:
    call: _Call
    program: list[Any]
    inverse: list[Any] | None
    inverted: bool = False


def _escape(text: str) -> str:
    return _BAD_CHARS.sub(lambda m: _ESCAPES[m.group(0)], text) if _BAD_CHARS.search(text) \
        else text


def _text_of(value: Any) -> str:
    """``'' + value`` as Handlebars prints a mustache (null and undefined print nothing)."""
    if value is None or value is UNDEFINED:
        return ""
    return to_string(value)


def _parse_path(text: str) -> _Path:
    """``a.b``, ``a/b``, ``../a``, ``this.a``, ``./a``, ``[literal].b``, ``@index``."""
    data = text.startswith("@")
    if data:
        text = text[1:]
    path = _Path(parts=[], data=data, original=text)
    pos = 0
    while pos < len(text):
        if text.startswith("[", pos):
            end = text.index("]", pos)
            path.parts.append(text[pos + 1:end])
            pos = end + 1
        else:
            match = _PATH_WORD.match(text, pos)
            word = match.group(0) if match else ""
            if not word:
                raise HandlebarsError(f"Invalid path: {text}")
            pos += len(word)
            if word == "..":
                if path.parts or path.this:
                    raise HandlebarsError(f"Invalid path: {text}")
                path.depth += 1
            elif word in (".", "this"):
                if path.parts or path.this:
                    raise HandlebarsError(f"Invalid path: {text}")
                path.this = True
            elif path.parts and _NUMBER.fullmatch(word) and pos >= len(text):
                raise HandlebarsError(f"Parse error: Expecting 'ID', got 'NUMBER' in {text}")
            else:
                path.parts.append(word)
        if pos < len(text):
            if text[pos] not in "./":
                raise HandlebarsError(f"Invalid path: {text}")
            pos += 1
    return path


def _parse_expression(text: str) -> _Call:
    """``head param param key=value`` (with ``(sub expressions)``) of a mustache."""
    stack: list[_Call] = [_Call(head=None)]
    pending_hash: list[str | None] = [None]
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise HandlebarsError(f"Parse error in {{{{{text}}}}}")
        pos = match.end()
        kind = match.lastgroup
        if kind == "hash":
            pending_hash[-1] = match.group("hash")
            continue
        if kind == "open":
            stack.append(_Call(head=None))
            pending_hash.append(None)
            continue
        if kind == "close":
            if len(stack) == 1:
                raise HandlebarsError(f"Parse error in {{{{{text}}}}}")
            value: Any = stack.pop()
            pending_hash.pop()
            if value.head is None:
                raise HandlebarsError(f"Parse error in {{{{{text}}}}}")
        elif kind == "str":
            raw = match.group("str")
            value = _Literal(re.sub(r"\\(.)", r"\1", raw[1:-1]))
        elif kind == "num":
            number = float(match.group("num"))
            value = _Literal(int(number) if number.is_integer() else number)
        else:
            word = match.group("path")
            literals = {"true": True, "false": False, "null": None, "undefined": UNDEFINED}
            value = _Literal(literals[word]) if word in literals else _parse_path(word)
        call = stack[-1]
        key = pending_hash[-1]
        if key is not None:
            call.hash[key] = value
            pending_hash[-1] = None
        elif call.head is None:
            call.head = value
        elif call.hash:
            raise HandlebarsError(f"Parse error in {{{{{text}}}}}")
        else:
            call.params.append(value)
    if len(stack) != 1 or stack[0].head is None:
        raise HandlebarsError(f"Parse error in {{{{{text}}}}}")
    return stack[0]


_TAG = re.compile(r"(\\\\)?(\\)?\{\{(~?)(\{|&|!--|!|#|/|\^|>)?(.*?)(--)?(~?)(\}?)\}\}", re.DOTALL)


def _tokens(template: str) -> list[tuple[str, Any]]:
    """Text and tags, with ``~`` and standalone-line whitespace already removed."""
    out: list[list[Any]] = []
    pos = 0
    while True:
        match = _TAG.search(template, pos)
        if match is None:
            out.append(["text", template[pos:]])
            break
        text = template[pos:match.start()]
        if match.group(2) and not match.group(1):  # \{{ : the mustache is text
            close = template.find("{{", match.end())
            end = close if close >= 0 else len(template)
            out.append(["text", text + template[match.start() + 1:end]])
            pos = end
            continue
        if match.group(1):
            text += "\\"
        out.append(["text", text])
        strip_left, kind, body, dashes, strip_right, triple = match.group(3, 4, 5, 6, 7, 8)
        kind = kind or ""
        if kind == "!--" and not dashes:  # {{!-- ... --}} may contain }}
            end = template.find("--", match.start() + 5)
            close = template.find("}}", end) if end >= 0 else -1
            if close < 0:
                raise HandlebarsError("Parse error: unterminated comment")
            strip_right = "~" if template[close - 1] == "~" else ""
            pos = close + 2
        else:
            pos = match.end()
        if (kind == "{") != (triple == "}"):
            raise HandlebarsError("Parse error: unbalanced triple-stash")
        out.append(["tag", (kind, body.strip(), bool(strip_left), bool(strip_right))])
    for i, (what, value) in enumerate(out):
        if what != "tag":
            continue
        _, _, left, right = value
        if left and i > 0:
            out[i - 1][1] = out[i - 1][1].rstrip()
        if right and i + 1 < len(out):
            out[i + 1][1] = out[i + 1][1].lstrip()
    _strip_standalone(out)
    return [(what, value) for what, value in out if what == "tag" or value]


_STANDALONE_KINDS = frozenset({"#", "/", "^", "!", "!--", "else"})


def _strip_standalone(out: list[list[Any]]) -> None:
    for i, (what, value) in enumerate(out):
        if what != "tag":
            continue
        kind, body = value[0], value[1]
        if kind not in _STANDALONE_KINDS and not (kind == "" and body.split(" ")[0] == "else"):
            continue
        before = out[i - 1][1] if i > 0 else ""
        after = out[i + 1][1] if i + 1 < len(out) else ""
        at_start = i <= 1 and "\n" not in before
        if not (re.search(r"(\r?\n)[ \t]*$", before) or (at_start and not before.strip())):
            continue
        follow = re.match(r"[ \t]*(\r?\n|$)", after)
        if not follow:
            continue
        if i > 0:
            out[i - 1][1] = re.sub(r"[ \t]*$", "", before)
        if i + 1 < len(out):
            out[i + 1][1] = after[follow.end():]


def compile_template(template: str) -> list[Any]:
    """The template's statements, or HandlebarsError."""
    tokens = _tokens(template)
    root: list[Any] = []
    # Each open block: (its call, its program, its inverse, inverted, name, the list being filled)
    stack: list[tuple[_Call, list[Any], list[Any] | None, bool, str]] = []
    current = root
    for what, value in tokens:
        if what == "text":
            current.append(value)
            continue
        kind, body, _, _ = value
        if kind in ("!", "!--"):
            continue
        if kind == ">":
            raise HandlebarsError("partials are not supported")
        is_else = (kind == "^" and not body) or (kind == "" and (body == "else"
                                                                  or body.startswith("else ")))
        if is_else:
            if not stack:
                raise HandlebarsError("Parse error: else outside a block")
            call, program, inverse, inverted, name = stack[-1]
            if inverse is not None:
                raise HandlebarsError("Parse error: two else in a block")
            inverse = []
            stack[-1] = (call, program, inverse, inverted, name)
            rest = body[4:].strip() if kind == "" else ""
            if rest:  # {{else if x}}: a block inside the inverse, closed with the outer one
                chained = _parse_expression(rest)
                stack.append((chained, [], None, False, "\x00chain"))
                current = stack[-1][1]
            else:
                current = inverse
            continue
        if kind in ("#", "^"):
            call = _parse_expression(body)
            if kind == "#" and body.startswith(("*", ">")):
                raise HandlebarsError("decorators and partial blocks are not supported")
            name = call.head.original if isinstance(call.head, _Path) else ""
            opened: list[Any] = []
            stack.append((call, opened, None, kind == "^", name))
            current = opened
            continue
        if kind == "/":
            while stack and stack[-1][4] == "\x00chain":
                call, program, inverse, inverted, _ = stack.pop()
                block = _Block(call, program, inverse, inverted)
                stack[-1][2].append(block)  # type: ignore[union-attr]
            if not stack:
                raise HandlebarsError(f"Parse error: {{{{/{body}}}}} closes nothing")
            call, program, inverse, inverted, name = stack.pop()
            if body != name:
                raise HandlebarsError(f"{name} doesn't match {body}")
            block = _Block(call, program, inverse, inverted)
            parent = stack[-1] if stack else None
            current = root if parent is None else (parent[2] if parent[2] is not None
                                                    else parent[1])
            current.append(block)
            continue
        current.append(_Mustache(_parse_expression(body), escaped=kind not in ("{", "&")))
    if stack:
        raise HandlebarsError("Parse error: a block is not closed")
    return root


@dataclass(slots=True)
class _Frame:
    """Where a statement runs: the context stack (innermost last) and the @data variables."""

    contexts: list[Any]
    data: dict[str, Any]


def _lookup(value: Any, key: str) -> Any:
    """Handlebars' lookupProperty: own properties only."""
    if isinstance(value, dict):
        return value.get(key, UNDEFINED)
    if isinstance(value, list | str):
        if key == "length":
            return len(value)
        if key.isdigit() and (key == "0" or key[0] != "0") and int(key) < len(value):
            return value[int(key)]
    return UNDEFINED


def _is_empty(value: Any) -> bool:
    """Handlebars' isEmpty: falsy but 0, or an empty array."""
    if isinstance(value, list):
        return not value
    return not is_truthy(value) and not (isinstance(value, int | float) and value == 0
                                         and not isinstance(value, bool))


class _Renderer:
    def __init__(self, helpers: Mapping[str, Callable[..., Any]]) -> None:
        self.helpers = helpers

    def value(self, expr: Any, frame: _Frame) -> Any:
        if isinstance(expr, _Literal):
            return expr.value
        if isinstance(expr, _Call):
            return self.call(expr, frame, None)
        return self.path(expr, frame)

    def path(self, path: _Path, frame: _Frame) -> Any:
        if path.data:
            data: Any = frame.data
            for _ in range(path.depth):  # @../index: the enclosing block's data
                data = data.get("_parent") or {}
            if not path.parts:
                return UNDEFINED
            value: Any = data.get(path.parts[0], UNDEFINED)
            rest = path.parts[1:]
        else:
            index = len(frame.contexts) - 1 - path.depth
            value = frame.contexts[index] if index >= 0 else UNDEFINED
            rest = path.parts
        for key in rest:
            if value is None or value is UNDEFINED:
                return value
            value = _lookup(value, key)
        return value

    def call(self, call: _Call, frame: _Frame, block: _Block | None) -> Any:
        head = call.head
        name = head.original if isinstance(head, _Path) and not head.data and not head.depth \
            and not head.this and len(head.parts) == 1 else None
        if isinstance(head, _Literal):  # {{"key"}}: a lookup of that key
            name = to_string(head.value)
            head = _Path(parts=[name], original=name)
        helper = self.helpers.get(name) if name is not None else None
        params = [self.value(p, frame) for p in call.params]
        options = {k: self.value(v, frame) for k, v in call.hash.items()}
        if helper is not None:
            return helper(self, frame, block, params, options)
        if call.params or call.hash:
            raise HandlebarsError(f'Missing helper: "{head.original}"')
        value = self.path(head, frame)
        if block is not None:
            return self.block_missing(value, frame, block)
        return value

    def block_missing(self, value: Any, frame: _Frame, block: _Block) -> str:
        if value is True:
            return self.run(block.program, frame)
        if value is False or value is None or value is UNDEFINED:
            return self.inverse(block, frame)
        if isinstance(value, list):
            return _each(self, frame, block, [value], {}) if value else self.inverse(block, frame)
        return self.run(block.program, _Frame([*frame.contexts, value], frame.data))

    def inverse(self, block: _Block, frame: _Frame) -> str:
        return self.run(block.inverse, frame) if block.inverse else ""

    def run(self, statements: list[Any], frame: _Frame) -> str:
        out: list[str] = []
        for statement in statements:
            if isinstance(statement, str):
                out.append(statement)
            elif isinstance(statement, _Mustache):
                value = self.call(statement.call, frame, None)
                text = _text_of(value)
                if statement.escaped and is_truthy(value):
                    text = _escape(text)
                out.append(text)
            elif statement.inverted:
                value = self.value(statement.call.head, frame) if not statement.call.params \
                    else self.call(statement.call, frame, None)
                out.append(self.run(statement.program, frame) if _is_empty(value)
                           else self.inverse(statement, frame))
            else:
                result = self.call(statement.call, frame, statement)
                out.append(_text_of(result))
        return "".join(out)


def _if(r: _Renderer, frame: _Frame, block: _Block | None, params: list[Any],
        options: dict[str, Any]) -> Any:
    if len(params) != 1:
        raise HandlebarsError("#if requires exactly one argument")
    if block is None:
        return UNDEFINED
    condition = params[0]
    zero_ok = is_truthy(options.get("includeZero"))
    if (not zero_ok and not is_truthy(condition)) or _is_empty(condition):
        return r.inverse(block, frame)
    return r.run(block.program, frame)


def _unless(r: _Renderer, frame: _Frame, block: _Block | None, params: list[Any],
            options: dict[str, Any]) -> Any:
    if len(params) != 1:
        raise HandlebarsError("#unless requires exactly one argument")
    if block is None:
        return UNDEFINED
    return _if(r, frame, _Block(block.call, block.inverse or [], block.program), params, options)


def _each(r: _Renderer, frame: _Frame, block: _Block | None, params: list[Any],
         options: dict[str, Any]) -> Any:
    if not params:
        raise HandlebarsError("Must pass iterator to #each")
    if block is None:
        return ""
    items = params[0]
    pairs: list[tuple[Any, Any]] = []
    if isinstance(items, list):
        pairs = list(enumerate(items))
    elif isinstance(items, dict):
        pairs = [(key, items[key]) for key in js_keys(items)]
    if not pairs:
        return r.inverse(block, frame)
    out = []
    for i, (key, item) in enumerate(pairs):
        data = {**frame.data, "_parent": frame.data, "index": i, "first": i == 0,
                "last": i == len(pairs) - 1}
        if isinstance(items, dict):
            data["key"] = key
        out.append(r.run(block.program, _Frame([*frame.contexts, item], data)))
    return "".join(out)


def _with(r: _Renderer, frame: _Frame, block: _Block | None, params: list[Any],
          options: dict[str, Any]) -> Any:
    if len(params) != 1:
        raise HandlebarsError("#with requires exactly one argument")
    if block is None:
        return UNDEFINED
    if _is_empty(params[0]):
        return r.inverse(block, frame)
    return r.run(block.program, _Frame([*frame.contexts, params[0]], frame.data))


def _lookup_helper(r: _Renderer, frame: _Frame, block: _Block | None, params: list[Any],
                   options: dict[str, Any]) -> Any:
    if len(params) < 2 or params[0] is None or params[0] is UNDEFINED:
        return params[0] if params else UNDEFINED
    return _lookup(params[0], to_string(params[1]))


_HELPERS: Mapping[str, Callable[..., Any]] = MappingProxyType({
    "if": _if,
    "unless": _unless,
    "each": _each,
    "with": _with,
    "lookup": _lookup_helper,
    "log": lambda r, frame, block, params, options: UNDEFINED,
    # The reference registers {{newline}}.
    "newline": lambda r, frame, block, params, options: "\n",
})
_RENDERER = _Renderer(_HELPERS)


@lru_cache(maxsize=1024)
def _compiled(template: str) -> list[Any]:
    # Templates come from destination configs: a few per destination, rendered for every event.
    return compile_template(template)


def render(template: str, context: dict[str, Any]) -> str:
    """``Handlebars.compile(template)(context)``; HandlebarsError when it cannot."""
    return _RENDERER.run(_compiled(template), _Frame([context], {"root": context}))
