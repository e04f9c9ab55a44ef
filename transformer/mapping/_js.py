"""JavaScript value semantics the reference transformer's outputs depend on.

Destinations are specified by what rudder-transformer (Node.js) sends, so a few conversions must
follow JavaScript rather than Python: what counts as "present", how a value prints as a string,
how a string parses as a number.
"""

from __future__ import annotations

import math
import re
from typing import Any

import orjson

_NUMBER = re.compile(r"^\s*[+-]?(\d+\.?\d*(e[+-]?\d+)?|\.\d+(e[+-]?\d+)?|infinity)\s*$", re.I)
_HEX = re.compile(r"^\s*0[xX][0-9a-fA-F]+\s*$")
_FLOAT_PREFIX = re.compile(r"^\s*[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|Infinity)")
_INT_PREFIX = re.compile(r"^\s*([+-]?\d+)")


def is_present(value: Any) -> bool:
    """The reference's test for "a mapped value worth sending": truthy, or exactly 0 or false.

    So None, "" and NaN are absent, while {} and [] (truthy in JavaScript) are present.
    """
    if value is None or value == "":
        return False
    return not (isinstance(value, float) and math.isnan(value))


def is_truthy(value: Any) -> bool:
    """JavaScript truthiness: {} and [] are true, 0, "", None and NaN are false."""
    if isinstance(value, dict | list):
        return True
    if isinstance(value, float) and math.isnan(value):
        return False
    return bool(value)


def number_to_string(value: float) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        sign = "-" if exponent.startswith("-") else "+"
        text = f"{mantissa}e{sign}{exponent.lstrip('+-').lstrip('0') or '0'}"
    return text


def to_string(value: Any) -> str:
    """``String(value)`` in JavaScript."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool | int | float):
        return number_to_string(value)
    if isinstance(value, list):
        return ",".join("" if item is None else to_string(item) for item in value)
    if isinstance(value, dict):
        return "[object Object]"
    return str(value)


def to_number(value: Any) -> float | int:
    """``Number(value)`` in JavaScript (NaN for what does not parse)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if value is None:
        return 0
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return 0
        if _HEX.match(text):
            return int(text, 16)
        if _NUMBER.match(text):
            number = float(text)
            integral = number.is_integer() and "." not in text and "e" not in text.lower()
            return int(number) if integral else number
    if isinstance(value, list) and len(value) <= 1:
        return to_number(value[0]) if value else 0
    return math.nan


def parse_float(value: Any) -> float | int:
    """``Number.parseFloat(value)``: the longest numeric prefix of the string form, else NaN."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    match = _FLOAT_PREFIX.match(to_string(value))
    if not match:
        return math.nan
    number = float(match.group(0))
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def parse_int(value: Any) -> int | float:
    """``Number.parseInt(value, 10)``."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return math.nan
    match = _INT_PREFIX.match(to_string(value))
    return int(match.group(1)) if match else math.nan


def _integral_floats_as_ints(value: Any) -> Any:
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 1e21 else value
    if isinstance(value, dict):
        return {k: _integral_floats_as_ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral_floats_as_ints(v) for v in value]
    return value


def stringify(value: Any) -> str:
    """``JSON.stringify(value)``: compact, and ``2.0`` prints as ``2`` as it does in Node."""
    return orjson.dumps(_integral_floats_as_ints(value)).decode()
