"""JavaScript value semantics the reference transformer's outputs depend on.

Destinations are specified by what rudder-transformer (Node.js) sends, so conversions must follow
JavaScript rather than Python: what counts as "present" or truthy, how a value prints as a string
(``String()``, lodash ``toString``, ``JSON.stringify``), how a string parses as a number, and the
reference's own helpers built on them (``flattenJson``, ``getHashFromArray``). This is the one
implementation of each; destinations import them from ``transformer.hooks``.

``UNDEFINED`` stands for JavaScript's ``undefined`` where a destination must tell it from ``null``
(``None``): ``String(undefined)`` is ``"undefined"``, ``JSON.stringify`` leaves undefined members
out, and a ``{from, to}`` row without ``to`` maps to undefined.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

import orjson

from transformer._errors import ConfigurationError


class _Undefined:
    """JavaScript ``undefined``: absent, falsy, and distinct from null (``None``)."""

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

#: What JavaScript's ``String.prototype.trim`` removes (WhiteSpace and LineTerminator).
JS_WHITESPACE: Final = (
    " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
#: The largest integer a double holds exactly; beyond it an integer prints as JavaScript's
#: rounded double does.
_SAFE_INTEGER = 2**53
#: An array index is below 2**32 - 1 (ECMAScript's OrdinaryOwnPropertyKeys order).
_MAX_INDEX = 2**32 - 2
_DECIMAL = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|Infinity)", re.ASCII)
_RADIX = re.compile(r"0([xXoObB])([0-9a-fA-F]+)", re.ASCII)
_RADIX_BASE = {"x": 16, "o": 8, "b": 2}
_FLOAT_PREFIX = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|Infinity)", re.ASCII)
_INT_PREFIX = re.compile(r"[+-]?\d+", re.ASCII)


# --- truthiness ---------------------------------------------------------------------------------


def js_or(*values: Any) -> Any:
    """JavaScript's ``a || b || c``: the first truthy value, else the last one as it is."""
    for value in values[:-1]:
        if is_truthy(value):
            return value
    return values[-1]


def is_present(value: Any) -> bool:
    """The reference's test for "a mapped value worth sending": truthy, or exactly 0 or false.

    So None, undefined, "" and NaN are absent, while {} and [] (truthy in JavaScript) are present.
    """
    kind = type(value)  # exact types first, as in is_truthy: a test of nearly every value
    if kind is str:
        return bool(value)
    if value is None or value is UNDEFINED:
        return False
    if kind is float:
        return bool(value == value)  # NaN is the one float unequal to itself
    if kind is dict or kind is list or kind is int or kind is bool:
        return True
    if value == "":
        return False
    return not (isinstance(value, float) and math.isnan(value))


def is_truthy(value: Any) -> bool:
    """JavaScript truthiness: {} and [] are true, 0, "", None, undefined and NaN are false."""
    kind = type(value)  # exact types first: this runs for nearly every field of every event
    if kind is str:
        return bool(value)
    if kind is dict or kind is list:
        return True
    if value is None or value is UNDEFINED:  # undefined's __bool__ would cost a Python call
        return False
    if kind is bool:
        return value  # type: ignore[no-any-return]
    if kind is int:
        return value != 0  # type: ignore[no-any-return]
    if kind is float:
        return bool(value == value and value != 0.0)  # NaN is the one float unequal to itself
    if isinstance(value, dict | list):
        return True
    if isinstance(value, float) and math.isnan(value):
        return False
    return bool(value)


def integrations_object(message: Any, names: tuple[str, ...]) -> Any:
    """The reference's getIntegrationsObj: the first truthy ``integrations.<name>`` of a
    destination's canonical ``names``, else None."""
    integrations = message.get("integrations") if isinstance(message, dict) else None
    if isinstance(integrations, dict):
        for name in names:
            value = integrations.get(name)
            if is_truthy(value):
                return value
    return None


# --- strings --------------------------------------------------------------------------------------


def number_to_string(value: float) -> str:
    """``Number.prototype.toString()`` (ECMAScript Number::toString): the shortest digits that
    round-trip, plain from 1e-6 up to 1e21, exponent form (``1e+21``, ``1.5e-7``) outside;
    ``-0`` prints ``"0"``. An integer beyond 2**53 prints as the double JavaScript would hold."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if -_SAFE_INTEGER <= value <= _SAFE_INTEGER:
            return str(value)
        try:
            value = float(value)
        except OverflowError:
            return "Infinity" if value > 0 else "-Infinity"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    if value.is_integer() and abs(value) < _SAFE_INTEGER:
        return str(int(value))
    sign = "-" if value < 0 else ""
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + (int(exponent) if exponent else 0)
    significant = digits.lstrip("0")
    point -= len(digits) - len(significant)
    digits = significant.rstrip("0")
    return sign + _place_point(digits, point)


def _place_point(digits: str, point: int) -> str:
    """ECMAScript's layout of digits d1..dk with the value 0.d1..dk x 10**point."""
    count = len(digits)
    if count <= point <= 21:
        return digits + "0" * (point - count)
    if 0 < point <= 21:
        return f"{digits[:point]}.{digits[point:]}"
    if -6 < point <= 0:
        return f"0.{'0' * -point}{digits}"
    exponent = point - 1
    rest = f".{digits[1:]}" if count > 1 else ""
    return f"{digits[0]}{rest}e{'+' if exponent >= 0 else '-'}{abs(exponent)}"


def to_string(value: Any) -> str:
    """``String(value)``: null prints "null", an array joins its items with "," (null and
    undefined items as ""), an object is "[object Object]"."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool | int | float):
        return number_to_string(value)
    if isinstance(value, list):
        return ",".join("" if item is None or item is UNDEFINED else to_string(item)
                        for item in value)
    if value is UNDEFINED:
        return "undefined"
    return "[object Object]"


def lodash_to_string(value: Any) -> str:
    """lodash ``toString``: null and undefined print "", ``-0`` prints "-0", and items of an
    array print as ``String()`` would print them alone (a null item is "null")."""
    if value is None or value is UNDEFINED:
        return ""
    if isinstance(value, list):
        return ",".join(_lodash_item(item) for item in value)
    if isinstance(value, float) and value == 0 and math.copysign(1, value) < 0:
        return "-0"
    return to_string(value)


def _lodash_item(value: Any) -> str:
    if value is None:
        return "null"
    if value is UNDEFINED:
        return "undefined"
    return lodash_to_string(value)


def js_trim(text: str) -> str:
    """``String.prototype.trim``: JavaScript's whitespace, not Python's, is removed."""
    return text.strip(JS_WHITESPACE)


def is_blank(value: Any) -> bool:
    """The reference's ``isEmpty(value)``: nothing left of lodash ``toString`` once trimmed
    (null, undefined, "", "  ", [] and [null]... are blank; 0 and false are not)."""
    return js_trim(lodash_to_string(value)) == ""


def lodash_is_empty(value: Any) -> bool:
    """lodash ``isEmpty``: an empty string, array or object, and every number, boolean, null or
    undefined (the reference's isDefinedAndNotNullAndNotEmpty is its negation)."""
    if isinstance(value, str | list | dict):
        return not value
    return True


# --- numbers --------------------------------------------------------------------------------------


def to_fixed(number: float, digits: int) -> str:
    """``Number.prototype.toFixed(digits)``: ties away from zero on the exact binary value (as
    the spec's "let n be an integer for which n / 10^f - x is as close to zero as possible; if
    there are two such n, pick the larger n" does), exponent form from 1e21 as toString."""
    if not math.isfinite(number) or abs(number) >= 1e21:
        return number_to_string(number)
    if number == 0:
        number = 0
    quantum = Decimal(1).scaleb(-digits)
    return format(Decimal(number).quantize(quantum, rounding=ROUND_HALF_UP), "f")


def normalize_number(number: float) -> int | float:
    """An integral double as a Python int (how JavaScript prints it), else the float."""
    if isinstance(number, int):
        return number
    if math.isfinite(number) and number.is_integer() and abs(number) < _SAFE_INTEGER:
        return int(number)
    return number


def to_number(value: Any) -> int | float:
    """``Number(value)``: NaN for what does not parse; "0x1F", "0b11" and "0o7" are numbers,
    blank strings and null are 0, an array is the number of its string form."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if value is None:
        return 0
    if isinstance(value, str):
        return _string_to_number(value)
    if isinstance(value, list):
        return _string_to_number(to_string(value))
    return math.nan


def _string_to_number(text: str) -> int | float:
    text = js_trim(text)
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
    return normalize_number(float(text))


def parse_float(value: Any) -> float | int:
    """``Number.parseFloat(value)``: the longest numeric prefix of the string form, else NaN."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    match = _FLOAT_PREFIX.match(js_trim(to_string(value)))
    if not match:
        return math.nan
    return normalize_number(float(match.group(0)))


def parse_int(value: Any) -> int | float:
    """``Number.parseInt(value, 10)``."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return math.nan
    match = _INT_PREFIX.match(js_trim(to_string(value)))
    return int(match.group(0)) if match else math.nan


def js_add(left: Any, right: Any) -> Any:
    """JavaScript's ``left + right``: concatenation when either side is a string (an object or
    array counts as its string form), else the sum of both as numbers (null is 0, undefined NaN)."""
    if isinstance(left, dict | list):
        left = to_string(left)
    if isinstance(right, dict | list):
        right = to_string(right)
    if isinstance(left, str) or isinstance(right, str):
        return to_string(left) + to_string(right)
    a, b = to_number(left), to_number(right)
    try:
        total = a + b
    except OverflowError:  # an integer too large for a double
        total = math.copysign(math.inf, a if abs(a) > abs(b) else b)
    return normalize_number(total)


# --- objects --------------------------------------------------------------------------------------


def is_array_index(key: str) -> bool:
    """Whether an object key is an array index ("3"; not "03", "-1" or "4294967295"), which
    JavaScript enumerates before the other keys, in ascending order."""
    return (key.isascii() and key.isdigit() and (key == "0" or key[0] != "0")
            and int(key) <= _MAX_INDEX)


def js_keys(obj: dict[str, Any]) -> list[str]:
    """An object's own keys in JavaScript order: array indexes ascending, then insertion order."""
    indexes = [key for key in obj if key.isdigit() and is_array_index(key)]
    if not indexes:
        return list(obj)
    indexes.sort(key=int)
    return indexes + [key for key in obj if not is_array_index(key)]


def object_keys(value: Any) -> list[str]:
    """``Object.keys(value)``: an object's keys in JavaScript order, an array's or a string's
    indexes (a string's characters), nothing for other values."""
    if isinstance(value, dict):
        return js_keys(value)
    if isinstance(value, list | str):
        return [str(index) for index in range(len(value))]
    return []


def spread(value: Any) -> dict[str, Any]:
    """``{...value}`` (and ``Object.assign({}, value)``): an object's own keys, an array's items
    or a string's characters under their index; nothing of a number, boolean or null."""
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list | str):
        return {str(index): item for index, item in enumerate(value)}
    return {}


def without_undefined(obj: dict[str, Any]) -> dict[str, Any]:
    """The reference's ``removeUndefinedValues`` of an object's top level (a null stays)."""
    return {k: item for k, item in obj.items() if item is not UNDEFINED}


def without_nulls(obj: dict[str, Any]) -> dict[str, Any]:
    """The reference's ``removeUndefinedAndNullValues`` of an object's top level (NaN stays)."""
    return {k: item for k, item in obj.items() if item is not None and item is not UNDEFINED}


def is_blank_member(value: Any) -> bool:
    """What removeUndefinedNullEmptyExclBoolInt removes: null, undefined, NaN, a blank string, an
    empty object or array (numbers and booleans stay)."""
    if value is None or value is UNDEFINED:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, dict | list):
        return not value
    return isinstance(value, str) and not js_trim(value)


def without_blanks(obj: dict[str, Any]) -> dict[str, Any]:
    """The reference's ``removeUndefinedNullEmptyExclBoolInt`` of an object's top level."""
    return {k: item for k, item in obj.items() if not is_blank_member(item)}


def js_own(target: dict[str, Any] | list[Any], key: str) -> tuple[bool, Any]:
    """JavaScript's ``key in target`` and ``target[key]`` for a JSON object or array (an array
    has its indexes and ``length``; the prototype chain is not modelled)."""
    if isinstance(target, dict):
        return (key in target), target.get(key)
    if key == "length":
        return True, len(target)
    if is_array_index(key) and int(key) < len(target):
        return True, target[int(key)]
    return False, None


def js_prop(target: Any, key: str) -> Any:
    """``target?.[key]``: an own property of an object or array, else UNDEFINED (also when the
    target is no object)."""
    if not isinstance(target, dict | list):
        return UNDEFINED
    found, value = js_own(target, key)
    return value if found else UNDEFINED


def js_get(target: Any, path: str, missing: Any = None) -> Any:
    """npm get-value 3, which the reference's lookups use (getValueFromMessage, ``get``): a
    target that is not an object or array is returned itself; a key equal to the whole path wins;
    otherwise the dotted path is walked, joining segments into one dotted key where the object has
    one (``{"a.b": {"c": 1}}`` has ``a.b.c``) and ``\\.`` escaping a dot. ``missing`` (None by
    default) when the path leads nowhere."""
    if not isinstance(target, dict | list):
        return target
    found, value = js_own(target, path)
    if found:
        return value
    segments = path.split(".")
    if isinstance(target, dict) and "\\" not in path:  # the common case: plain keys all the way
        node: Any = target
        for key in segments:
            if not isinstance(node, dict) or key not in node:
                break
            node = node[key]
        else:
            return node
    count, index = len(segments), 0
    while True:
        key = segments[index]
        while key.endswith("\\"):  # an escaped dot
            index += 1
            key = f"{key[:-1]}.{segments[index] if index < count else ''}"
        found, value = js_own(target, key)
        joined = index + 1
        while not found and joined < count:
            key = f"{key}.{segments[joined]}"
            joined += 1
            found, value = js_own(target, key)
            if found:
                index = joined - 1
        if not found:
            return missing
        target = value
        index += 1
        if index >= count or not isinstance(target, dict | list):
            break
    return target if index == count else missing


def first_present(target: Any, paths: tuple[str, ...]) -> Any:
    """The reference's getFieldValueFromMessage over a list of paths: the first ``js_get`` value
    that is present (truthy, 0 or false), else None."""
    for path in paths:
        value = js_get(target, path)
        if is_present(value):
            return value
    return None


# --- JSON.stringify -------------------------------------------------------------------------------


def stringify(value: Any) -> str:
    """``JSON.stringify(value)``: compact, non-ASCII as it is, numbers as JavaScript prints them
    at any depth (``2.0`` -> ``2``, ``1e21`` -> ``1e+21``, ``1e-5`` -> ``0.00001``), object keys in
    JavaScript order, undefined members left out, undefined items and non-finite numbers as null."""
    return orjson.dumps(_json_ready(value)).decode()


def _json_ready(value: Any) -> Any:
    """``value`` with what orjson would print unlike JavaScript replaced; the same object when
    nothing needs replacing (the common case costs one walk and no copies)."""
    kind = type(value)
    # Exact types first: this walk runs over every outgoing payload (JSON from orjson has no
    # subclasses), and strings, booleans and null are by far the most common leaves.
    if kind is str or kind is bool or value is None:
        return value
    if kind is dict:
        return _json_ready_dict(value)
    if kind is list:
        return _json_ready_list(value)
    if kind is int:
        return value if -_SAFE_INTEGER <= value <= _SAFE_INTEGER \
            else orjson.Fragment(number_to_string(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if value.is_integer() and -_SAFE_INTEGER <= value <= _SAFE_INTEGER:
            return int(value)  # 2.0 prints "2" in JavaScript (and -0.0 prints "0")
        return orjson.Fragment(number_to_string(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return _json_ready(int(value))
    if isinstance(value, dict):
        return _json_ready_dict(value)
    if isinstance(value, list):
        return _json_ready_list(value)
    if value is UNDEFINED:
        return None
    return value


def _json_ready_dict(value: dict[str, Any]) -> Any:
    # The copy is started only at the first member that changes (most payloads need none): the
    # members before it are taken as they are.
    out: dict[str, Any] | None = None
    indexed = False
    for key, item in value.items():
        indexed = indexed or key.isdigit()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            if out is not None:
                out[key] = item
            continue
        if item is UNDEFINED:
            if out is None:
                out = _members_before(value, key)
            continue
        ready = _json_ready(item)
        if out is None and ready is not item:
            out = _members_before(value, key)
        if out is not None:
            out[key] = ready
    result = value if out is None else out
    if indexed:  # JavaScript enumerates array-index keys first, in ascending order
        keys = [key for key in js_keys(value) if key in result]
        if keys != list(result):
            return {key: result[key] for key in keys}
    return result


def _members_before(value: dict[str, Any], stop: str) -> dict[str, Any]:
    """The members of ``value`` before the key ``stop``, in order."""
    before: dict[str, Any] = {}
    for key, item in value.items():
        if key == stop:
            break
        before[key] = item
    return before


def _json_ready_list(value: list[Any]) -> Any:
    for index, item in enumerate(value):
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        ready = _json_ready(item)
        if ready is not item:  # a copy from the first item that changes on
            return [*value[:index], ready, *(_json_ready(rest) for rest in value[index + 1:])]
    return value


# --- the reference's helpers ----------------------------------------------------------------------


def flatten_json(data: Any, separator: str = ".", *, strict: bool = False,
                 flatten_arrays: bool = True) -> dict[str, Any]:
    """The reference's ``flattenJson``: nested object keys joined with ``separator`` and array items as
    ``key[i]`` (``{"a": {"b": [1]}}`` -> ``{"a.b[0]": 1}``), or in its "strict" mode as
    ``key<separator>i``; an empty array or (below the top) an empty object is kept as a leaf;
    null is a leaf; a scalar (or null) at the top lands under the key ""; undefined flattens to
    ``{}`` (``{"": undefined}`` in JavaScript). Without ``flatten_arrays`` an array is flattened
    only when its first item is an object, an array or null (``typeof cur[0] === 'object'``),
    else kept whole."""
    out: dict[str, Any] = {}
    if data is not UNDEFINED:
        _flatten_into(data, "", out, separator, strict, flatten_arrays)
    return out


def _flatten_into(value: Any, prefix: str, out: dict[str, Any], separator: str, strict: bool,
                  arrays: bool) -> None:
    if isinstance(value, dict):
        for key in js_keys(value):
            _flatten_into(value[key], f"{prefix}{separator}{key}" if prefix else key, out,
                          separator, strict, arrays)
        if not value and prefix:
            out[prefix] = {}
    elif isinstance(value, list) and (arrays or (value and (value[0] is None or isinstance(
            value[0], dict | list)))):
        for index, item in enumerate(value):
            _flatten_into(item, f"{prefix}{separator}{index}" if strict else f"{prefix}[{index}]",
                          out, separator, strict, arrays)
        if not value:
            out[prefix] = []
    else:
        out[prefix] = value


def same_value_key(value: Any) -> Any:
    """A hashable key that tells values apart as a JavaScript Map or Set does (SameValueZero):
    primitives by value (1 and 1.0 alike, true and 1 not), objects and arrays by identity."""
    if isinstance(value, dict | list):
        return ("object", id(value))
    if isinstance(value, bool) or value is None or value is UNDEFINED:
        return ("literal", repr(value))
    return value


def hash_from_array_with_duplicates(rows: Any, *, lower_keys: bool = True,
                                    name: str = "rows") -> dict[str, list[Any]]:
    """The reference's ``getHashFromArrayWithDuplicate``: ``[{from, to}, ...]`` -> ``{from
    (trimmed, lower-cased by default): [each distinct to, in row order]}`` (a Set of the ``to``
    values); rows with a blank ``from`` are skipped. The reference crashes on a null row or a
    ``from`` that is no string; here both are a ConfigurationError naming the config key."""
    table: dict[str, list[Any]] = {}
    seen: dict[str, set[Any]] = {}
    if not isinstance(rows, list):
        return table
    for index, row in enumerate(rows):
        if row is None:
            raise ConfigurationError(f"{name}[{index}] is null")
        source = row.get("from", UNDEFINED) if isinstance(row, dict) else UNDEFINED
        if is_blank(source):
            continue
        if not isinstance(source, str):
            raise ConfigurationError(f"{name}[{index}].from must be a string")
        key = js_trim(source.lower() if lower_keys else source)
        target = row.get("to", UNDEFINED)
        if same_value_key(target) not in seen.setdefault(key, set()):
            seen[key].add(same_value_key(target))
            table.setdefault(key, []).append(target)
    return table


def hash_from_array(rows: Any, *, lower_keys: bool = False, name: str = "rows",
                    step: str = "") -> dict[str, Any]:
    """The reference's ``getHashFromArray``: ``[{from, to}, ...]`` -> ``{from: to}``.

    A non-list is ``{}``; a row whose ``from`` is blank (``is_blank``) is skipped; ``from`` is not
    trimmed; a later row wins; a missing ``to`` maps to UNDEFINED. With ``lower_keys`` the keys
    are lower-cased (``from`` must then be a string), otherwise they are ``String(from)``.
    The reference crashes on a null row or a non-string ``from`` to lower-case; here both are a
    ConfigurationError naming the config key (``name``) and the row's index (and, for a workflow
    destination, the ``step`` that reads the rows).
    """
    table: dict[str, Any] = {}
    if not isinstance(rows, list):
        return table
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            if row is None:
                raise ConfigurationError(f"{name}[{index}] is null", step=step)
            continue  # row["from"] of a string or number is undefined: blank
        source = row.get("from", UNDEFINED)
        if isinstance(source, str):  # the common case, without lodash's detour
            if not source.strip(JS_WHITESPACE):
                continue
            key = source.lower() if lower_keys else source
        elif is_blank(source):
            continue
        elif lower_keys:
            raise ConfigurationError(f"{name}[{index}].from must be a string", step=step)
        else:
            key = to_string(source)
        if key == "__proto__":  # assigning it sets the object's prototype: no entry
            continue
        table[key] = row.get("to", UNDEFINED)
    return table
