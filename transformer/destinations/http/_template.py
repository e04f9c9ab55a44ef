"""A safe evaluator for the JSON-template expressions users write in HTTP mappings.

The reference evaluates each mapping's ``from`` with ``@rudderstack/json-template-engine``
(JSON path mode) inside a sandbox. This module parses the subset of that language mappings use
and interprets it directly (nothing is ever handed to ``eval``):

* paths: ``$`` (the event), ``@`` / a leading ``.`` (the current item), steps ``.key``,
  ``.'quoted key'``, ``["key"]``, ``[n]`` (negative from the end), ``[a, b]``, ``[a:b]``,
  ``[*]``, ``.*``, ``..key``, filters ``[?(@.p > 1)]`` / ``{.p > 1}`` and blocks ``.(expr)``;
  a key step on a list maps over its items; several results drop null/undefined items and a
  single one is unwrapped, as the engine does;
* literals (strings, numbers, ``true``, ``false``, ``null``, ``undefined``), array and object
  literals, ``?:``, ``??``, ``||``, ``&&``, comparisons (including the engine's ``==``, which
  ignores case between strings, and its ``^==``/``$==``/``==*`` family), ``+ - * / % **``,
  unary ``! - + typeof``;
* a few methods: ``toUpperCase() toLowerCase() trim() trimStart() trimEnd() toString()`` and the
  engine's ``length() first() last()``.

A bare identifier is a JavaScript variable the sandbox does not have: evaluating it fails with
``<name> is not defined``, as in the reference. Anything else the engine would run as JavaScript
(functions, ``new``, assignments, loops, regular expressions, template strings, JavaScript
globals such as ``Math``) is rejected with :class:`Unsupported`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from ._js import (
    UNDEFINED,
    JSError,
    add,
    arithmetic,
    compare,
    includes,
    is_nullish,
    is_number,
    loose_equal,
    own_entries,
    own_property,
    property_key,
    strict_equal,
    to_num,
    to_str,
    truthy,
    typeof,
    utf16_units,
)


class TemplateError(JSError):
    """The engine refused a template (lexer, parser or mapping error); ``str()`` is its message."""


class Unsupported(TemplateError):
    """Valid in the reference's engine, but something this evaluator deliberately does not run."""


# --- tokens ---------------------------------------------------------------------------------------

ID, KEYWORD, INT, STR, TEMPLATE, BOOL, NULL, UNDEF, REGEXP, PUNCT, LAMBDA_ARG, EOT = (
    "id", "keyword", "int", "str", "template", "bool", "null", "undefined", "regexp", "punct",
    "lambda_arg", "eot")
_LITERALS = frozenset({BOOL, INT, STR, NULL, UNDEF, REGEXP})
KEYWORDS: Final = frozenset({
    "function", "new", "typeof", "let", "const", "lambda", "await", "async", "in", "nin", "not",
    "contains", "subsetof", "anyof", "noneof", "empty", "size", "return", "throw", "continue",
    "break", "for"})
#: JavaScript globals the sandbox has: they would evaluate there, so they are refused here.
JS_GLOBALS: Final = frozenset({
    "Math", "JSON", "Object", "Array", "String", "Number", "Boolean", "Date", "RegExp", "Error",
    "TypeError", "RangeError", "SyntaxError", "ReferenceError", "EvalError", "URIError",
    "AggregateError", "Symbol", "Map", "Set", "WeakMap", "WeakSet", "WeakRef",
    "FinalizationRegistry", "Promise", "Proxy", "Reflect", "BigInt", "ArrayBuffer",
    "SharedArrayBuffer", "DataView", "Atomics", "Int8Array", "Uint8Array", "Uint8ClampedArray",
    "Int16Array", "Uint16Array", "Int32Array", "Uint32Array", "Float32Array", "Float64Array",
    "BigInt64Array", "BigUint64Array", "Intl", "WebAssembly", "globalThis", "NaN", "Infinity",
    "isNaN", "isFinite", "parseInt", "parseFloat", "encodeURI", "encodeURIComponent", "decodeURI",
    "decodeURIComponent", "escape", "unescape", "eval", "Function", "Iterator", "arguments", "this",
    "console", "evaluateCustomMappingsInSandbox"})
_SINGLE = set(",;:{}()[]^+-*/%!><|=@~#?\n")
_REPEATED = set("|&*.=>?<+-")


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    value: Any
    start: int
    end: int


class Lexer:
    """The engine's tokenizer, with its look-ahead buffer."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.buffer: list[Token] = []

    # -- scanning --

    def _skip(self) -> None:
        text, n = self.text, len(self.text)
        while self.pos < n:
            char = text[self.pos]
            if char in " \r\n\t":
                self.pos += 1
            elif text.startswith("//", self.pos):
                end = text.find("\n", self.pos)
                self.pos = n + 1 if end < 0 else end + 1
            elif text.startswith("/*", self.pos):
                end = text.find("*/", self.pos + 2)
                self.pos = n + 2 if end < 0 else end + 2
            else:
                break

    def _advance(self) -> Token:
        self._skip()
        if self.pos >= len(self.text):
            return Token(EOT, None, self.pos, self.pos)
        token = (self._regexp() or self._punctuator() or self._identifier() or self._string()
                 or self._integer())
        if token is None:
            raise TemplateError("Unknown token")
        return token

    def _token(self, kind: str, value: Any, start: int) -> Token:
        return Token(kind, value, start, self.pos)

    def _regexp(self) -> Token | None:
        start = self.pos
        if self.text[start] != "/":
            return None
        end = start + 1
        while end < len(self.text) and self.text[end] not in "/\n":
            end += 1
        if end >= len(self.text) or self.text[end] == "\n":
            return None
        self.pos = end + 1
        while self.pos < len(self.text) and self.text[self.pos] in "gimsuyv":
            self.pos += 1
        return self._token(REGEXP, self.text[start:self.pos], start)

    def _char(self, offset: int) -> str:
        index = self.pos + offset
        return self.text[index] if index < len(self.text) else ""

    def _punct(self, length: int) -> Token:
        start = self.pos
        self.pos += length
        return self._token(PUNCT, self.text[start:self.pos], start)

    def _punctuator(self) -> Token | None:
        c1, c2, c3 = self._char(0), self._char(1), self._char(2)
        if c1 == ".":
            if c2 == "(" and c3 == ")":
                return self._punct(3)
            if c2 == "." and c3 == ".":
                return self._punct(3)
            return self._punct(2 if c2 == "." else 1)
        if c1 == "?" and c2.isdigit() and c2.isascii():
            start = self.pos
            self.pos += 2
            return self._token(LAMBDA_ARG, int(c2), start)
        if c1 in "+-/*" and c2 == "=":
            return self._punct(2)
        equality = self._equality(c1, c2, c3)
        if equality is not None:
            return equality
        if c1 == "~" and c2 and c2 in "rsjm":
            return self._punct(2)
        if c1 == "?" and c2 == "?" and c3 == "?":
            return self._punct(3)
        if c1 in _REPEATED and c2 == c1:
            return self._punct(2)
        if c1 in _SINGLE:
            return self._punct(1)
        return None

    def _equality(self, c1: str, c2: str, c3: str) -> Token | None:
        if c2 == "=":
            if c3 == "=":
                return self._punct(3) if c1 in "=!^$*" else None
            if c3 and c3 in "^$*":
                return self._punct(3) if c1 == "=" else None
            return self._punct(2) if c1 in "=!^$><" else None
        if c1 == "=":
            return self._punct(2) if c2 and c2 in "^$*~" else self._punct(1)
        return None

    def _identifier(self) -> Token | None:
        start = self.pos
        if not _is_id_start(self._char(0)):
            return None
        self.pos += 1
        while self.pos < len(self.text) and (_is_id_start(self.text[self.pos])
                                             or self.text[self.pos] in "0123456789"):
            self.pos += 1
        word = self.text[start:self.pos]
        if word in KEYWORDS:
            return self._token(KEYWORD, word, start)
        if word in ("true", "false"):
            return self._token(BOOL, word == "true", start)
        if word == "null":
            return self._token(NULL, None, start)
        if word == "undefined":
            return self._token(UNDEF, UNDEFINED, start)
        if word.startswith("___"):
            raise TemplateError(f'Reserved ID pattern "{word}"')
        return self._token(ID, word, start)

    def _string(self) -> Token | None:
        quote = self._char(0)
        if quote not in ("'", '"', "`"):
            return None
        start = self.pos
        self.pos += 1
        chars: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char == "\\":
                char = self.text[self.pos] if self.pos < len(self.text) else ""
                self.pos += 1
            elif char == quote:
                return self._token(TEMPLATE if quote == "`" else STR, "".join(chars), start)
            chars.append(char)
        raise TemplateError("Unexpected end of template")

    def _integer(self) -> Token | None:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in "0123456789":
            self.pos += 1
        return self._token(INT, self.text[start:self.pos], start) if self.pos > start else None

    # -- the parser's view --

    def peek(self, steps: int = 0) -> Token:
        if len(self.buffer) > steps:
            return self.buffer[steps]
        saved = self.pos
        if self.buffer:
            self.pos = self.buffer[-1].end
        while len(self.buffer) <= steps:
            self.buffer.append(self._advance())
        self.pos = saved
        return self.buffer[steps]

    def next(self) -> Token:
        if self.buffer:
            token = self.buffer.pop(0)
            self.pos = token.end
            return token
        return self._advance()

    def match(self, value: str, steps: int = 0) -> bool:
        token = self.peek(steps)
        return token.kind == PUNCT and token.value == value

    def is_kind(self, kind: str, steps: int = 0) -> bool:
        return self.peek(steps).kind == kind

    def expect(self, value: str) -> None:
        token = self.next()
        if token.kind != PUNCT or token.value != value:
            raise unexpected(token)

    def gap_has_newline(self) -> bool:
        """Whether the text between the current position and the next token has a newline."""
        return "\n" in self.text[self.pos:self.peek().start]


def _is_id_start(char: str) -> bool:
    return char == "_" or char == "$" or ("a" <= char <= "z") or ("A" <= char <= "Z")


def unexpected(token: Token) -> TemplateError:
    if token.kind == EOT:
        return TemplateError("Unexpected end of template")
    return TemplateError(f'Unexpected token "{to_str(token.value)}"')


# --- syntax tree ----------------------------------------------------------------------------------


class Expr:
    """A node of the syntax tree."""


@dataclass(eq=False)
class Lit(Expr):
    value: Any


@dataclass(eq=False)
class Ident(Expr):
    """A bare identifier: a JavaScript variable the sandbox does not define."""

    name: str


class Root:
    """Where a path starts: the event (``$``, ``^``) or the current item (``@``, implicit)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


DATA: Final = Root("$")
CTX: Final = Root("@")


class Part:
    """One step of a path."""


@dataclass(eq=False)
class Key(Part):
    """``.key`` / ``..key``; name ``*`` is the wildcard, None only for a bare ``..``."""

    name: str | None
    descend: bool = False


@dataclass(eq=False)
class Index(Part):
    """``[a, b, ...]``: array positions (numbers) or, for string keys, each item's property."""

    indexes: list[Expr]


@dataclass(eq=False)
class Slice(Part):
    start: Expr | None
    end: Expr | None


@dataclass(eq=False)
class Filter(Part):
    """``[*]`` (``cond`` None: the list itself) or ``[?(cond)]`` / ``{cond}`` (matching items)."""

    cond: Expr | None


@dataclass(eq=False)
class Block(Part):
    """``.(expr)``: the expression evaluated with each item as ``@``."""

    expr: Expr


@dataclass(eq=False)
class Path(Expr):
    root: Root | Expr
    parts: list[Part]
    as_array: bool = False


@dataclass(eq=False)
class Binary(Expr):
    op: str
    left: Expr
    right: Expr


@dataclass(eq=False)
class Unary(Expr):
    op: str
    arg: Expr


@dataclass(eq=False)
class Conditional(Expr):
    test: Expr
    then: Expr
    other: Expr | None


@dataclass(eq=False)
class Spread(Expr):
    value: Expr


@dataclass(eq=False)
class ArrayLit(Expr):
    """Elements may be None: a hole (only the mapping compiler makes them, never evaluated)."""

    elements: list[Expr | None]


@dataclass(eq=False)
class Prop:
    """``key: value``, ``[key]: value`` or (key None) ``...value``."""

    key: str | Expr | None
    value: Expr


@dataclass(eq=False)
class ObjectLit(Expr):
    props: list[Prop] = field(default_factory=list)


@dataclass(eq=False)
class Call(Expr):
    """``obj.name()``: a whitelisted method on the value of ``obj``."""

    obj: Expr
    name: str


STRING_METHODS: Final = frozenset({"toUpperCase", "toLowerCase", "trim", "trimStart", "trimEnd"})
METHODS: Final = STRING_METHODS | {"toString", "length", "first", "last"}
_EQUALITY = ("==", "!=", "===", "!==", "^==", "==^", "^=", "=^", "$==", "==$", "$=", "=$", "==*",
             "=~", "=*")
_RELATIONAL = ("<", ">", "<=", ">=")


# --- parser ---------------------------------------------------------------------------------------


def parse(text: str) -> list[Expr]:
    """The statements of a template (``;`` or newline separated)."""
    return Parser(Lexer(text)).statements()


class Parser:
    """Recursive descent with the engine's precedence (its binary operators group to the
    right: ``a - b - c`` is ``a - (b - c)``)."""

    def __init__(self, lexer: Lexer) -> None:
        self.lex = lexer

    def statements(self, end: str | None = None) -> list[Expr]:
        found: list[Expr] = []
        while not self.lex.is_kind(EOT) and not (end and self.lex.match(end)):
            found.append(self.base())
            self._end_of_statement(end)
        return found

    def _end_of_statement(self, end: str | None) -> None:
        if self.lex.is_kind(EOT) or (end and self.lex.match(end)):
            return
        if self.lex.match(";"):
            self.lex.next()
            return
        if not self.lex.gap_has_newline():
            raise unexpected(self.lex.peek())

    def base(self) -> Expr:
        """One expression; a syntax error is located as the engine does (`` at <code>``)."""
        start = self.lex.pos
        try:
            return self._conditional()
        except Unsupported:
            raise
        except TemplateError as exc:
            message = str(exc)
            if "at" in message:
                raise
            raise TemplateError(f"{message} at {self.lex.text[start:self.lex.pos]}") from None

    def _conditional(self) -> Expr:
        test = self._coalesce()
        if self.lex.match("=") or self.lex.match("+=") or self.lex.match("-=") \
                or self.lex.match("*=") or self.lex.match("/="):
            raise Unsupported("assignments")
        if not self.lex.match("?"):
            return test
        self.lex.next()
        then = self._branch()
        other = None
        if self.lex.match(":"):
            self.lex.next()
            other = self._branch()
        return Conditional(test, then, other)

    def _branch(self) -> Expr:
        if self.lex.match("{"):
            return self._object()
        return self.base()

    def _right_assoc(self, ops: tuple[str, ...], operand: Any, build: Any) -> Expr:
        left: Expr = operand()
        token = self.lex.peek()
        if token.kind == PUNCT and token.value in ops:
            self.lex.next()
            return build(token.value, left, self._right_assoc(ops, operand, build))  # type: ignore[no-any-return]
        return left

    def _coalesce(self) -> Expr:
        return self._right_assoc(("??",), self._or, Binary)

    def _or(self) -> Expr:
        return self._right_assoc(("||",), self._and, Binary)

    def _and(self) -> Expr:
        return self._right_assoc(("&&",), self._equality, Binary)

    def _equality(self) -> Expr:
        expr = self._right_assoc(_EQUALITY, self._relational, Binary)
        if isinstance(expr, Binary) and expr.op == "=~":
            raise Unsupported("regular expression matching (=~)")
        return expr

    def _relational(self) -> Expr:
        expr = self._right_assoc(_RELATIONAL, self._shift, Binary)
        token = self.lex.peek()
        if token.kind == KEYWORD and token.value in ("contains", "size", "empty", "anyof",
                                                     "subsetof", "in", "nin", "noneof"):
            raise Unsupported(f"the {token.value} operator")
        return expr

    def _shift(self) -> Expr:
        expr = self._additive()
        if self.lex.match(">>") or self.lex.match("<<"):
            raise Unsupported("bit shifts")
        return expr

    def _additive(self) -> Expr:
        return self._right_assoc(("+", "-"), self._multiplicative, Binary)

    def _multiplicative(self) -> Expr:
        return self._right_assoc(("*", "/", "%"), self._power, Binary)

    def _power(self) -> Expr:
        return self._right_assoc(("**",), self._unary, Binary)

    def _unary(self) -> Expr:
        token = self.lex.peek()
        if (token.kind == PUNCT and token.value in ("!", "+", "-")) or \
                (token.kind == KEYWORD and token.value == "typeof"):
            self.lex.next()
            return Unary(token.value, self._unary())
        if token.kind == KEYWORD and token.value == "await":
            raise Unsupported("await")
        if self.lex.match("++") or self.lex.match("--"):
            raise Unsupported("increments")
        expr = self._path_after()
        if self.lex.match("++") or self.lex.match("--"):
            raise Unsupported("increments")
        return expr

    def _path_after(self) -> Expr:
        expr = self._primary()
        if isinstance(expr, Lit | ArrayLit | ObjectLit) and self.lex.match("("):
            return expr
        while self.lex.match(".") or self.lex.match("..") or self.lex.match("{") \
                or self.lex.match("[") or self.lex.match("(") or self._path_type():
            expr = self._path(expr)
        return expr

    def _path_type(self) -> bool:
        return self.lex.match("~r") or self.lex.match("~s") or self.lex.match("~j")

    # -- primaries --

    def _primary(self) -> Expr:
        lex = self.lex
        token = lex.peek()
        if token.kind == PUNCT and token.value == ";":
            return Lit(UNDEFINED)
        if token.kind == LAMBDA_ARG:
            raise Unsupported("lambda arguments")
        if token.kind == KEYWORD:
            raise Unsupported(f"the {token.value} keyword")
        if token.kind == INT:
            return self._number()
        if lex.match("???"):
            raise Unsupported("???")
        if lex.match(".") and lex.is_kind(INT, 1) and not lex.match(".", 2):
            lex.next()
            return Lit(float("0." + lex.next().value))
        if token.kind in _LITERALS:
            if token.kind == REGEXP:
                raise Unsupported("regular expressions")
            lex.next()
            return Lit(token.value)
        if token.kind == TEMPLATE:
            raise Unsupported("template strings")
        if lex.match("{") and lex.match("{", 1):
            raise Unsupported("compile-time expressions")
        if lex.match("{"):
            return self._object()
        if lex.match("["):
            return self._array()
        if self._path_type() or lex.match("~m"):
            raise Unsupported(f"{token.value} expressions")
        if token.kind == ID or (token.kind == PUNCT and token.value in (".", "..", "^", "@")):
            return self._path(None)
        if lex.match("("):
            return self._group()
        raise unexpected(token)

    def _number(self) -> Expr:
        text = self.lex.next().value
        if self.lex.match("."):
            self.lex.next()
            fraction = self.lex.next().value if self.lex.is_kind(INT) else ""
            return Lit(float(f"{text}.{fraction}"))
        return Lit(int(text))

    def _group(self) -> Expr:
        self.lex.expect("(")
        found = self.statements(")")
        self.lex.expect(")")
        if not found:
            raise TemplateError("empty block is not allowed")
        if len(found) > 1:
            raise Unsupported("blocks of several statements")
        return found[0]

    def _object(self) -> ObjectLit:
        self.lex.expect("{")
        props: list[Prop] = []
        while not self.lex.match("}"):
            props.append(self._prop())
            if not self.lex.match("}"):
                self.lex.expect(",")
        self.lex.expect("}")
        return ObjectLit(props)

    def _prop(self) -> Prop:
        lex = self.lex
        if lex.match("..."):
            lex.next()
            return Prop(None, self.base())
        token = lex.peek()
        if token.kind in (ID, KEYWORD) and (lex.match(",", 1) or lex.match("}", 1)):
            return Prop(token.value, self.base())
        if lex.match("@") and lex.is_kind(ID, 1):
            raise Unsupported("object context props")
        key: str | Expr
        if lex.match("["):
            lex.next()
            key = self.base()
            lex.expect("]")
        elif token.kind in (ID, KEYWORD):
            key = lex.next().value
        elif token.kind in _LITERALS and token.kind != REGEXP:
            key = to_str(lex.next().value)
        else:
            raise unexpected(token)
        lex.expect(":")
        return Prop(key, self.base())

    def _array(self) -> ArrayLit:
        self.lex.expect("[")
        elements: list[Expr | None] = []
        while not self.lex.match("]"):
            elements.append(self._spreadable())
            if not self.lex.match("]"):
                self.lex.expect(",")
        self.lex.expect("]")
        return ArrayLit(elements)

    def _spreadable(self) -> Expr:
        if self.lex.match("..."):
            self.lex.next()
            return Spread(self.base())
        return self.base()

    # -- paths --

    def _path(self, root: Expr | None) -> Expr:
        if self._path_type():
            raise Unsupported(f"{self.lex.peek().value} paths")
        start: Root | Expr = root if root is not None else self._root()
        parts: list[Part] = []
        call = False
        while True:
            if self.lex.match("("):
                call = True
                break
            part = self._part()
            if part is None:
                break
            parts.append(part)
        parts = [p for p in parts if not (isinstance(p, Key) and p.name is None and not p.descend)]
        path = Path(start, parts)
        return self._call(path) if call else path

    def _root(self) -> Root | Expr:
        token = self.lex.peek()
        if token.kind == ID and token.value != "$":
            self.lex.next()
            if token.value in JS_GLOBALS:
                raise Unsupported(f"the JavaScript global {token.value}")
            return Ident(token.value)
        if token.kind in (ID, PUNCT) and token.value in ("$", "^"):
            self.lex.next()
            return DATA
        if token.kind == PUNCT and token.value == "@":
            self.lex.next()
        return CTX

    def _part(self) -> Part | None:
        lex = self.lex
        if lex.match(".()"):
            raise Unsupported(".()")
        if lex.match(".") and lex.match("(", 1):
            lex.next()
            return Block(self._group())
        if lex.match(".") or lex.match(".."):
            return self._selector()
        if lex.match("[") and lex.match("]", 1):
            raise Unsupported("the [] path option")
        if lex.match("{"):
            return self._object_filters()
        if lex.match("["):
            return self._array_filter()
        if lex.match("@") or lex.match("#"):
            raise Unsupported("path context variables")
        return None

    def _selector(self) -> Part:
        descend = self.lex.next().value == ".."
        token = self.lex.peek()
        if token.kind == INT:
            self.lex.next()
            return Index([Lit(int(token.value))])
        if (token.kind == PUNCT and token.value == "*") or token.kind in (ID, KEYWORD, STR):
            self.lex.next()
            return Key(to_str(token.value), descend)
        return Key(None, descend)

    def _object_filters(self) -> Part:
        conds: list[Expr] = []
        while self.lex.match("{"):
            self.lex.next()
            if self.lex.match("[") or ((self.lex.match("~") or self.lex.match("!"))
                                       and self.lex.match("[", 1)):
                raise Unsupported("object index filters")
            conds.append(self.base())
            self.lex.expect("}")
            if self.lex.match(".") and self.lex.match("{", 1):
                self.lex.next()
        cond = conds[-1]
        for previous in reversed(conds[:-1]):
            cond = Binary("&&", previous, cond)
        return Filter(cond)

    def _array_filter(self) -> Part:
        lex = self.lex
        lex.expect("[")
        part: Part
        if lex.match("?"):
            lex.next()
            lex.expect("(")
            part = Filter(self.base())
            lex.expect(")")
        elif lex.match("*"):
            lex.next()
            part = Filter(None)
        else:
            part = self._index_or_slice()
        lex.expect("]")
        return part

    def _index_or_slice(self) -> Part:
        lex = self.lex
        if lex.match("..."):
            raise Unsupported("spread indexes")
        if lex.match(":"):
            lex.next()
            return Slice(None, self.base())
        first = self.base()
        if lex.match(":"):
            lex.next()
            return Slice(first, None if lex.match("]") else self.base())
        indexes = [first]
        if not lex.match("]"):
            lex.expect(",")
        while not lex.match("]"):
            if lex.match("..."):
                raise Unsupported("spread indexes")
            indexes.append(self.base())
            if not lex.match("]"):
                lex.expect(",")
        if len(indexes) == 1 and isinstance(first, Lit) and isinstance(first.value, str):
            return Key(first.value)
        return Index(indexes)

    def _call(self, path: Path) -> Expr:
        self.lex.expect("(")
        if not self.lex.match(")"):
            raise Unsupported("method arguments")
        self.lex.expect(")")
        last = path.parts[-1] if path.parts else None
        if not isinstance(last, Key) or last.descend or last.name is None or last.name == "*":
            raise Unsupported("calling a value")
        path.parts.pop()
        if last.name not in METHODS:
            raise Unsupported(f"the method {last.name}()")
        return Call(path, last.name)


# --- evaluation -----------------------------------------------------------------------------------


def evaluate(expr: Expr, ctx: Any, data: Any) -> Any:
    """The value of ``expr`` with ``@`` = ``ctx`` and ``$`` = ``data``."""
    handler = _HANDLERS.get(type(expr))
    if handler is None:
        raise TemplateError(f"cannot evaluate {type(expr).__name__}")
    return handler(expr, ctx, data)


def _lit(expr: Lit, ctx: Any, data: Any) -> Any:
    return expr.value


def _ident(expr: Ident, ctx: Any, data: Any) -> Any:
    raise JSError(f"{expr.name} is not defined")


def _root_value(root: Root | Expr, ctx: Any, data: Any) -> Any:
    if root is DATA:
        return data
    if root is CTX:
        return ctx
    assert isinstance(root, Expr)
    return evaluate(root, ctx, data)


def _path(expr: Path, ctx: Any, data: Any) -> Any:
    value = _root_value(expr.root, ctx, data)
    if not expr.parts:
        if expr.as_array and not is_nullish(value):
            return value if isinstance(value, list) else [value]
        return value
    results: list[Any] = []
    _walk(expr.parts, 0, value, results, data)
    if expr.as_array:
        return results
    if not results:
        return UNDEFINED
    return results[0] if len(results) == 1 else results


def _wraps(part: Part) -> bool:
    """Steps that see a list as one item (index, slice, ``[*]``) rather than each element."""
    return isinstance(part, Index | Slice) or (isinstance(part, Filter) and part.cond is None)


def _walk(parts: list[Part], i: int, value: Any, results: list[Any], data: Any) -> None:
    part = parts[i]
    if is_nullish(value):
        if not _wraps(part):
            kind = "null" if value is None else "undefined"
            raise JSError(f"Cannot read properties of {kind} (reading 'length')")
        items: list[Any] = [value]
    else:
        items = value if isinstance(value, list) else [value]
        if _wraps(part):
            items = [items]
    last = i == len(parts) - 1
    for item in items:
        found = _step(part, item, data)
        if is_nullish(found):
            continue
        if last:
            results.append(found)
        else:
            _walk(parts, i + 1, found, results, data)


def _step(part: Part, item: Any, data: Any) -> Any:
    if isinstance(part, Key):
        if part.descend:
            return _descend(item, part.name)
        if part.name == "*":
            if is_nullish(item):
                raise JSError("Cannot convert undefined or null to object")
            return _flat([v for _, v in own_entries(item) if not is_nullish(v)])
        return own_property(item, part.name or "") if truthy(item) else UNDEFINED
    if isinstance(part, Index):
        return _index(part, item, data)
    if isinstance(part, Slice):
        return _slice(part, item, data)
    if isinstance(part, Filter):
        if part.cond is None:
            return item
        return item if truthy(evaluate(part.cond, item, data)) else UNDEFINED
    assert isinstance(part, Block)
    return evaluate(part.expr, item, data)


def _flat(values: list[Any]) -> list[Any]:
    """``Array.prototype.flat()``: one level."""
    flat: list[Any] = []
    for value in values:
        if isinstance(value, list):
            flat.extend(value)
        else:
            flat.append(value)
    return flat


def _descend(item: Any, name: str | None) -> list[Any]:
    """``..name``: every ``name`` property found breadth-first below (and at) ``item``."""
    pending: list[Any] = [item]
    found: list[Any] = []
    while pending:
        current = pending.pop(0)
        if is_nullish(current):
            continue
        if isinstance(current, list):
            pending.extend(current)
            continue
        if isinstance(current, dict):
            values = [v for _, v in own_entries(current) if not is_nullish(v)]
            pending.extend(values)
            if name == "*":
                found.extend(values)
            elif name is not None and name in current:
                value = current[name]
                found.extend(value if isinstance(value, list) else [value])
        if name is None:
            found.append(current)
    return _flat(found)


def _index(part: Index, item: Any, data: Any) -> Any:
    if is_nullish(item):
        raise JSError("Cannot convert undefined or null to object")
    keys = _flat([evaluate(e, item, data) for e in part.indexes])
    sequence: list[Any] = item if isinstance(item, list) else []
    found: list[Any] = []
    for key in keys:
        if isinstance(key, str):
            for child in sequence:
                if is_nullish(child):
                    raise JSError("Cannot convert undefined or null to object")
                value = own_property(child, key)
                if value is not UNDEFINED or (isinstance(child, dict) and key in child):
                    found.append(value)
        elif is_number(key) and float(key).is_integer():
            position = int(key)
            if position < 0:
                position += len(sequence)
            if 0 <= position < len(sequence):
                found.append(sequence[position])
    if len(keys) == 1:
        return found[0] if found else UNDEFINED
    return found


def _slice_bound(value: Any, length: int, default: int) -> int:
    if value is UNDEFINED:
        return default
    number = to_num(value)
    if number != number:  # NaN
        return 0
    if number in (float("inf"), float("-inf")):
        return length if number > 0 else 0
    position = int(number)
    if position < 0:
        return max(length + position, 0)
    return min(position, length)


def _slice(part: Slice, item: Any, data: Any) -> Any:
    if not isinstance(item, list):
        raise JSError("Cannot read properties of undefined (reading 'slice')")
    start = evaluate(part.start, item, data) if part.start is not None else UNDEFINED
    end = evaluate(part.end, item, data) if part.end is not None else UNDEFINED
    length = len(item)
    return item[_slice_bound(start, length, 0):_slice_bound(end, length, length)]


def _binary(expr: Binary, ctx: Any, data: Any) -> Any:
    op = expr.op
    left = evaluate(expr.left, ctx, data)
    if op == "||":
        return left if truthy(left) else evaluate(expr.right, ctx, data)
    if op == "&&":
        return evaluate(expr.right, ctx, data) if truthy(left) else left
    if op == "??":
        return evaluate(expr.right, ctx, data) if is_nullish(left) else left
    right = evaluate(expr.right, ctx, data)
    if op == "+":
        return add(left, right)
    if op in ("-", "*", "/", "%", "**"):
        return arithmetic(op, left, right)
    if op in _RELATIONAL:
        return compare(op, left, right)
    return _equality(op, left, right)


def _equality(op: str, left: Any, right: Any) -> bool:
    both_strings = isinstance(left, str) and isinstance(right, str)
    if op == "==":
        return (both_strings and left.lower() == right.lower()) or loose_equal(left, right)
    if op == "!=":
        return left.lower() != right.lower() if both_strings else not loose_equal(left, right)
    if op == "===":
        return strict_equal(left, right)
    if op == "!==":
        return not strict_equal(left, right)
    if op in ("==^", "=^", "==$", "=$"):
        left, right = right, left
    if op in ("^==", "==^", "$==", "==$"):
        if not isinstance(left, str):
            return False
        return left.startswith(to_str(right)) if "^" in op else left.endswith(to_str(right))
    if op in ("^=", "=^", "$=", "=$"):
        if not both_strings:
            return False
        return bool(left.lower().startswith(right.lower()) if "^" in op
                    else left.lower().endswith(right.lower()))
    if op == "==*":
        return includes(left, right)
    # =*: case-insensitive contains
    if both_strings:
        return right.lower() in left.lower()
    return isinstance(left, list) and (includes(left, right) or (
        isinstance(right, str) and includes(left, right.lower())))


def _unary(expr: Unary, ctx: Any, data: Any) -> Any:
    value = evaluate(expr.arg, ctx, data)
    if expr.op == "!":
        return not truthy(value)
    if expr.op == "typeof":
        return typeof(value)
    number = to_num(value)
    return -number if expr.op == "-" else number


def _conditional(expr: Conditional, ctx: Any, data: Any) -> Any:
    if truthy(evaluate(expr.test, ctx, data)):
        return evaluate(expr.then, ctx, data)
    return evaluate(expr.other, ctx, data) if expr.other is not None else UNDEFINED


def _spread_into(target: dict[str, Any], value: Any) -> None:
    for key, item in own_entries(value):
        target[key] = item


def _object(expr: ObjectLit, ctx: Any, data: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for prop in expr.props:
        if prop.key is None:
            _spread_into(result, evaluate(prop.value, ctx, data))
            continue
        key = prop.key if isinstance(prop.key, str) else property_key(evaluate(prop.key, ctx, data))
        result[key] = evaluate(prop.value, ctx, data)
    return result


def _array(expr: ArrayLit, ctx: Any, data: Any) -> list[Any]:
    result: list[Any] = []
    for element in expr.elements:
        if element is None:
            result.append(UNDEFINED)
        elif isinstance(element, Spread):
            value = evaluate(element.value, ctx, data)
            if not isinstance(value, list | str):
                raise JSError(f"{typeof(value)} is not iterable")
            result.extend(value if isinstance(value, list) else utf16_units(value))
        else:
            result.append(evaluate(element, ctx, data))
    return result


def _spread(expr: Spread, ctx: Any, data: Any) -> Any:
    return evaluate(expr.value, ctx, data)


def _call(expr: Call, ctx: Any, data: Any) -> Any:
    value = evaluate(expr.obj, ctx, data)
    if is_nullish(value):
        return value
    name = expr.name
    if name in STRING_METHODS:
        if not isinstance(value, str):
            raise JSError(f"{_describe(value)}.{name} is not a function")
        return _string_method(name, value)
    if name == "toString":
        return to_str(value)
    if name == "length":
        if not isinstance(value, list | str):
            raise JSError("Expected an array or string")
        return len(value if isinstance(value, list) else utf16_units(value))
    if not isinstance(value, list):
        raise JSError("Expected an array")
    if not value:
        return UNDEFINED
    return value[0] if name == "first" else value[-1]


_JS_SPACE = " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008" \
            "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"


def _string_method(name: str, value: str) -> str:
    if name == "toUpperCase":
        return value.upper()
    if name == "toLowerCase":
        return value.lower()
    if name == "trim":
        return value.strip(_JS_SPACE)
    return value.lstrip(_JS_SPACE) if name == "trimStart" else value.rstrip(_JS_SPACE)


def _describe(value: Any) -> str:
    return f"({to_str(value)})" if not isinstance(value, dict | list) else typeof(value)


_HANDLERS: dict[type, Any] = {
    Lit: _lit, Ident: _ident, Path: _path, Binary: _binary, Unary: _unary,
    Conditional: _conditional, ObjectLit: _object, ArrayLit: _array, Spread: _spread, Call: _call,
}
