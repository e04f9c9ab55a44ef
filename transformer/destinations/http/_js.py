"""JavaScript value semantics the HTTP destination's outputs depend on.

The reference evaluates user mappings as JavaScript, so values here follow JavaScript: an
``UNDEFINED`` distinct from ``None`` (null), JavaScript truthiness, ``String()``, ``Number()``,
``JSON.stringify`` (with JavaScript's key order: integer-like keys first, ascending), and the
operators the mapping language offers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Final
from urllib.parse import quote

import orjson

from transformer.hooks import TransformationError


class _Undefined:
    """JavaScript ``undefined``: absent, and distinct from null (``None``)."""

    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "undefined"

    def __bool__(self) -> bool:
        return False


UNDEFINED: Final = _Undefined()


class JSError(Exception):
    """A JavaScript runtime error inside the mapping engine; ``str()`` is its message."""


class ScriptError(TransformationError):
    """A JavaScript runtime error outside the mapping sandbox: the reference answers 500."""

    status_code = 500


_MAX_INDEX = 2**32 - 2
_WHITESPACE = " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008" \
              "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_DECIMAL = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|Infinity)", re.ASCII)
_RADIX = re.compile(r"0([xXoObB])([0-9a-fA-F]+)", re.ASCII)
_RADIX_BASE = {"x": 16, "o": 8, "b": 2}


def is_nullish(value: Any) -> bool:
    return value is None or value is UNDEFINED


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def truthy(value: Any) -> bool:
    """JavaScript truthiness: {} and [] are true; 0, NaN, "", null and undefined are false."""
    if value is None or value is UNDEFINED:
        return False
    if isinstance(value, dict | list):
        return True
    if isinstance(value, float) and math.isnan(value):
        return False
    return bool(value)


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


def number_to_str(value: float) -> str:
    """``Number.prototype.toString()``: shortest round-trip digits, JavaScript's notation."""
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    _, digit_tuple, exponent = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    # ECMAScript's n: where the decimal point sits relative to the digits
    return sign + _place_point(digits, len(digits) + int(exponent))


def _place_point(digits: str, point: int) -> str:
    count = len(digits)
    if count <= point <= 21:
        return digits + "0" * (point - count)
    if 0 < point <= 21:
        return f"{digits[:point]}.{digits[point:]}"
    if -6 < point <= 0:
        return f"0.{'0' * -point}{digits}"
    exponent = point - 1
    sign = "+" if exponent >= 0 else "-"
    rest = f".{digits[1:]}" if count > 1 else ""
    return f"{digits[0]}{rest}e{sign}{abs(exponent)}"


def to_str(value: Any) -> str:
    """``String(value)``."""
    if isinstance(value, str):
        return value
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if is_number(value):
        return number_to_str(value)
    if isinstance(value, list):
        return ",".join("" if is_nullish(item) else to_str(item) for item in value)
    return "[object Object]"


def to_num(value: Any) -> int | float:
    """``Number(value)``."""
    if isinstance(value, bool):
        return int(value)
    if is_number(value):
        return value  # type: ignore[no-any-return]
    if value is None:
        return 0
    if isinstance(value, str):
        return _string_to_num(value)
    if isinstance(value, list):
        return _string_to_num(to_str(value))
    return math.nan


def _string_to_num(text: str) -> int | float:
    text = text.strip(_WHITESPACE)
    if not text:
        return 0
    radix = _RADIX.fullmatch(text)
    if radix:
        try:
            return int(radix.group(2), _RADIX_BASE[radix.group(1).lower()])
        except ValueError:
            return math.nan
    if not _DECIMAL.fullmatch(text):
        return math.nan
    number = float(text)
    return normalize_number(number)


def normalize_number(number: float) -> int | float:
    """An integral result as an int (how the reference prints it), else the float."""
    if isinstance(number, int):
        return number
    if math.isfinite(number) and number.is_integer() and abs(number) < 2**53:
        return int(number)
    return number


def array_index(key: str) -> int | None:
    """The array index a property key names (``"3"``), or None (``"03"``, ``"-1"``, ``"a"``)."""
    if not key.isdigit() or not key.isascii() or (len(key) > 1 and key[0] == "0"):
        return None
    index = int(key)
    return index if index <= _MAX_INDEX else None


def js_keys(obj: dict[str, Any]) -> list[str]:
    """An object's own keys in JavaScript order: array indexes ascending, then insertion order."""
    indexed = [(index, key) for key in obj if (index := array_index(key)) is not None]
    if not indexed:
        return list(obj)
    indexed.sort()
    return [key for _, key in indexed] + [key for key in obj if array_index(key) is None]


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


# --- JSON.stringify -------------------------------------------------------------------------------


def stringify(value: Any) -> str:
    """``JSON.stringify(value)``: compact, keys in JavaScript order, undefined members skipped,
    undefined list items and non-finite numbers as null."""
    parts: list[str] = []
    _stringify_into(value, parts)
    return "".join(parts)


def _stringify_into(value: Any, out: list[str]) -> None:
    if value is None or value is UNDEFINED:
        out.append("null")
    elif isinstance(value, bool):
        out.append("true" if value else "false")
    elif is_number(value):
        out.append(number_to_str(value) if math.isfinite(value) else "null")
    elif isinstance(value, str):
        out.append(orjson.dumps(value).decode())
    elif isinstance(value, list):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _stringify_into(item, out)
        out.append("]")
    elif isinstance(value, dict):
        out.append("{")
        first = True
        for key, item in js_items(value):
            if item is UNDEFINED:
                continue
            if not first:
                out.append(",")
            first = False
            out.append(orjson.dumps(key).decode())
            out.append(":")
            _stringify_into(item, out)
        out.append("}")
    else:
        out.append("null")


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
    except UnicodeEncodeError:
        raise ScriptError("URI malformed") from None


# --- operators ------------------------------------------------------------------------------------


def _primitive(value: Any) -> Any:
    """``ToPrimitive``: objects and arrays become their string form."""
    return to_str(value) if isinstance(value, dict | list) else value


def add(left: Any, right: Any) -> Any:
    left, right = _primitive(left), _primitive(right)
    if isinstance(left, str) or isinstance(right, str):
        return to_str(left) + to_str(right)
    return _arith(to_num(left), to_num(right), "+")


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
