"""JavaScript value semantics the HTTP destination's outputs depend on.

The reference evaluates user mappings as JavaScript, so values here follow JavaScript. The
semantics every destination shares (``UNDEFINED``, truthiness, ``String()``, ``Number()``,
``JSON.stringify``, ``+``) come from ``transformer.hooks``; this module adds what only the
mapping evaluator needs: ``typeof``, own properties of strings and arrays (UTF-16 units), the
comparison and arithmetic operators.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from transformer.hooks import (
    UNDEFINED,
    InstrumentationError,
    is_array_index,
    js_add,
    js_keys,
    normalize_number,
    stringify,
    to_number,
    to_string,
)
from transformer.hooks import is_truthy as truthy

__all__ = ["UNDEFINED", "add", "js_keys", "stringify", "to_num", "to_str", "truthy"]

#: ``String()``, ``Number()`` and ``+`` under the names the evaluator uses.
to_str = to_string
to_num = to_number
add = js_add


class JSError(Exception):
    """A JavaScript runtime error inside the mapping engine; ``str()`` is its message."""


def is_nullish(value: Any) -> bool:
    return value is None or value is UNDEFINED


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def typeof(value: Any) -> str:
    if value is UNDEFINED:
        return "undefined"
    if isinstance(value, bool):
        return "boolean"
    if is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object"


def array_index(key: str) -> int | None:
    """The array index a property key names (``"3"``), or None (``"03"``, ``"-1"``, ``"a"``)."""
    return int(key) if is_array_index(key) else None


def js_items(obj: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for key in js_keys(obj):
        yield key, obj[key]


def own_entries(value: Any, *, holes: bool = False) -> list[tuple[str, Any]]:
    """``Object.entries(value)`` (what a spread copies). With ``holes``, UNDEFINED list items are
    holes (what deleting an array element leaves) and are skipped."""
    if isinstance(value, dict):
        return list(js_items(value))
    if isinstance(value, list):
        return [(str(i), item) for i, item in enumerate(value)
                if not (holes and item is UNDEFINED)]
    if isinstance(value, str):
        return [(str(i), unit) for i, unit in enumerate(utf16_units(value))]
    return []


def utf16_units(text: str) -> list[str]:
    """A string's UTF-16 code units, as JavaScript indexes them."""
    if text.isascii() or all(ord(char) < 0x10000 for char in text):
        return list(text)
    units: list[str] = []
    for char in text:
        code = ord(char)
        if code < 0x10000:
            units.append(char)
        else:
            code -= 0x10000
            units.extend((chr(0xD800 + (code >> 10)), chr(0xDC00 + (code & 0x3FF))))
    return units


def own_property(value: Any, key: str) -> Any:
    """``value[key]`` when ``key`` is an own property of ``value``, else UNDEFINED."""
    if isinstance(value, dict):
        return value.get(key, UNDEFINED)
    if isinstance(value, list | str):
        items: list[Any] | list[str] = value if isinstance(value, list) else utf16_units(value)
        if key == "length":
            return len(items)
        index = array_index(key)
        return items[index] if index is not None and index < len(items) else UNDEFINED
    return UNDEFINED


def property_key(value: Any) -> str:
    """``ToPropertyKey``: how a value names an object property."""
    return to_str(value)


def to_json(value: Any) -> Any:
    """The value as JSON would carry it: undefined object members dropped, undefined list items
    (and holes) as null, non-finite numbers as null."""
    if value is UNDEFINED:
        return None
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items() if v is not UNDEFINED}
    if isinstance(value, list):
        return [to_json(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def encode_uri_component(text: str) -> str:
    """``encodeURIComponent``: everything but ``A-Z a-z 0-9 - _ . ! ~ * ' ( )`` percent-encoded."""
    try:
        return quote(text, safe="-_.!~*'()")
    except UnicodeEncodeError:  # a lone surrogate (JSON input cannot carry one): URIError
        raise InstrumentationError(f"URI malformed: {text!r} is not valid Unicode") from None


# --- operators ------------------------------------------------------------------------------------


def _primitive(value: Any) -> Any:
    """``ToPrimitive``: objects and arrays become their string form."""
    return to_str(value) if isinstance(value, dict | list) else value


def arithmetic(op: str, left: Any, right: Any) -> int | float:
    return _arith(to_num(left), to_num(right), op)


def _arith(a: float, b: float, op: str) -> int | float:
    try:
        if op == "+":
            result: float = a + b
        elif op == "-":
            result = a - b
        elif op == "*":
            result = a * b
        elif op == "/":
            result = _divide(a, b)
        elif op == "%":
            result = math.nan if b == 0 or math.isinf(a) or math.isnan(b) else math.fmod(a, b)
        else:
            result = _power(a, b)
    except OverflowError:
        result = math.inf
    return normalize_number(result)


def _divide(a: float, b: float) -> float:
    if b == 0:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1, b)
    return a / b


def _power(a: float, b: float) -> float:
    if math.isnan(b) or (abs(a) == 1 and math.isinf(b)):
        return math.nan
    try:
        result = float(a) ** b
    except ZeroDivisionError:
        return math.inf
    return math.nan if isinstance(result, complex) else result


def compare(op: str, left: Any, right: Any) -> bool:
    """``<``, ``>``, ``<=``, ``>=`` with JavaScript's abstract relational comparison."""
    left, right = _primitive(left), _primitive(right)
    if isinstance(left, str) and isinstance(right, str):
        a, b = utf16_key(left), utf16_key(right)
        return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
    x, y = to_num(left), to_num(right)
    if math.isnan(x) or math.isnan(y):
        return False
    return {"<": x < y, ">": x > y, "<=": x <= y, ">=": x >= y}[op]


def utf16_key(text: str) -> list[int]:
    return [ord(unit) for unit in utf16_units(text)]


def strict_equal(left: Any, right: Any) -> bool:
    if is_number(left) and is_number(right):
        return bool(left == right)
    if isinstance(left, dict | list) or isinstance(right, dict | list):
        return left is right
    return type(left) is type(right) and left == right


def loose_equal(left: Any, right: Any) -> bool:
    if is_nullish(left) or is_nullish(right):
        return is_nullish(left) and is_nullish(right)
    if isinstance(left, dict | list) and isinstance(right, dict | list):
        return left is right
    left, right = _primitive(left), _primitive(right)
    if isinstance(left, str) and isinstance(right, str):
        return left == right
    if isinstance(left, bool) and isinstance(right, bool):
        return left == right
    return strict_equal(to_num(left), to_num(right))


def includes(container: Any, item: Any) -> bool:
    """``container.includes(item)`` for a string or an array (SameValueZero)."""
    if isinstance(container, str):
        return to_str(item) in container
    if isinstance(container, list):
        if isinstance(item, float) and math.isnan(item):
            return any(isinstance(x, float) and math.isnan(x) for x in container)
        return any(strict_equal(x, item) for x in container)
    return False
