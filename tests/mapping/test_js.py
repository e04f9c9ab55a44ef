"""The shared JavaScript semantics (transformer.mapping._js), checked against values Node prints."""

from __future__ import annotations

import math
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from transformer._errors import ConfigurationError
from transformer.mapping import (
    UNDEFINED,
    flatten_json,
    hash_from_array,
    hash_from_array_with_duplicates,
    is_blank,
    is_present,
    is_truthy,
    js_get,
    js_keys,
    js_or,
    js_prop,
    js_trim,
    lodash_to_string,
    number_to_string,
    same_value_key,
    spread,
    stringify,
    to_fixed,
    to_number,
    to_string,
    without_nulls,
)

# (value, String(value)) as Node 20 prints them.
NUMBERS = [
    (0, "0"), (-0.0, "0"), (1, "1"), (-1, "-1"), (0.1, "0.1"), (1.5, "1.5"), (-2.5, "-2.5"),
    (123.456, "123.456"), (1e-5, "0.00001"), (1e-6, "0.000001"), (1e-7, "1e-7"),
    (1.5e-7, "1.5e-7"), (-1e-7, "-1e-7"), (123e-20, "1.23e-18"), (0.000001234, "0.000001234"),
    (2.0, "2"), (100.0, "100"), (1e15 + 0.5, "1000000000000000.5"),
    (1e16, "10000000000000000"), (1e17, "100000000000000000"),
    (1.2345e18, "1234500000000000000"), (1e20, "100000000000000000000"),
    (123456789012345680000.0, "123456789012345680000"), (98765432109876543210.0,
                                                         "98765432109876540000"),
    (1e21, "1e+21"), (1.5e21, "1.5e+21"), (1e22, "1e+22"),
    (float(2**53), "9007199254740992"), (float(2**53 + 2), "9007199254740994"),
    (float(2**60), "1152921504606847000"),
    (2**53 + 1, "9007199254740992"), (12345678901234567890, "12345678901234567000"),
    (0.1 + 0.2, "0.30000000000000004"), (1 / 3, "0.3333333333333333"), (4.35, "4.35"),
    (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
    (math.nan, "NaN"), (math.inf, "Infinity"), (-math.inf, "-Infinity"),
]


@pytest.mark.parametrize(("number", "text"), NUMBERS)
def test_number_to_string_is_ecmascript_number_tostring(number: float, text: str) -> None:
    """Shortest round-trip digits; plain notation from 1e-6 up to 1e21, exponent form outside."""
    assert number_to_string(number) == text


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_number_to_string_round_trips(number: float) -> None:
    """Whatever the notation, the text parses back to the same double."""
    assert float(number_to_string(number)) == number


def test_to_string_is_javascript_string() -> None:
    """String(): null prints, arrays join (null items empty), objects are [object Object]."""
    assert to_string(None) == "null"
    assert to_string(UNDEFINED) == "undefined"
    assert to_string(True) == "true"
    assert to_string(1e21) == "1e+21"
    assert to_string([1, None, [2, UNDEFINED], "a"]) == "1,,2,,a"
    assert to_string({"a": 1}) == "[object Object]"
    assert to_string([]) == ""


def test_lodash_to_string_differs_on_null_and_negative_zero() -> None:
    """lodash toString: null is "", -0 is "-0", a null item of an array is "null"."""
    assert lodash_to_string(None) == ""
    assert lodash_to_string(UNDEFINED) == ""
    assert lodash_to_string(-0.0) == "-0"
    assert lodash_to_string([None, 1, [-0.0]]) == "null,1,-0"
    assert lodash_to_string(2.0) == "2"
    assert lodash_to_string({}) == "[object Object]"


def test_js_trim_and_is_blank_use_javascript_whitespace() -> None:
    """trim removes U+FEFF and no-break spaces but not U+001C; isEmpty trims lodash's string."""
    assert js_trim("\ufeff\u00a0 a \u3000") == "a"
    assert js_trim("\x1ca\x1c") == "\x1ca\x1c"
    assert all(is_blank(v) for v in (None, UNDEFINED, "", " \t", [], "\u2028"))
    assert not any(is_blank(v) for v in (0, False, "a", [None], {}))


def test_truthiness_of_undefined() -> None:
    """undefined is falsy, as are 0, "" and NaN; {} and [] are truthy."""
    assert not any(is_truthy(v) for v in (UNDEFINED, None, 0, 0.0, "", math.nan, False))
    assert all(is_truthy(v) for v in ({}, [], "0", -1, "false"))


class _Text(str):
    pass


class _Number(float):
    pass


@pytest.mark.parametrize(("value", "truthy", "present"), [
    (UNDEFINED, False, False), (None, False, False), ("", False, False), ("x", True, True),
    (0, False, True), (7, True, True), (False, False, True), (True, True, True),
    (0.0, False, True), (math.nan, False, False), ({}, True, True), ([], True, True),
    (_Text(""), False, False), (_Text("x"), True, True), (_Number("nan"), False, False),
    (_Number(0), False, True),
])
def test_truthiness_and_presence_of_every_kind(value: Any, truthy: bool, present: bool) -> None:
    """Exact JSON types and their subclasses answer alike: presence keeps 0 and false."""
    assert is_truthy(value) is truthy
    assert is_present(value) is present


def test_to_number_is_javascript_number() -> None:
    """Number(): radix prefixes, JavaScript whitespace, Infinity only as spelled, arrays."""
    assert to_number(" 0x1F ") == 31
    assert to_number("0b11") == 3 and to_number("0o17") == 15
    assert to_number("\ufeff12.0\u00a0") == 12 and isinstance(to_number("12.0"), int)
    assert to_number("-Infinity") == -math.inf
    assert math.isnan(to_number("infinity")) and math.isnan(to_number("-0x1"))
    assert to_number("") == 0 and to_number(None) == 0 and to_number([]) == 0
    assert to_number(["7"]) == 7 and math.isnan(to_number([1, 2]))
    assert math.isnan(to_number(UNDEFINED)) and math.isnan(to_number({}))


def test_stringify_is_json_stringify() -> None:
    """Compact, non-ASCII raw, JavaScript numbers at any depth, index keys first."""
    value = {"b": 1, "2": 2.0, "1": [1e21, None, UNDEFINED], "x": UNDEFINED, "é": "ü",
             "n": {"big": 2**60, "small": 1e-5, "nan": math.nan}}
    assert stringify(value) == ('{"1":[1e+21,null,null],"2":2,"b":1,"é":"ü",'
                                '"n":{"big":1152921504606847000,"small":0.00001,"nan":null}}')
    assert stringify("a\"b\n") == '"a\\"b\\n"'
    assert stringify([True, False, None]) == "[true,false,null]"
    assert stringify({"10": 1, "9": 2, "09": 3, "4294967295": 4, "4294967294": 5}) == \
        '{"9":2,"10":1,"4294967294":5,"09":3,"4294967295":4}'


def test_stringify_copies_nothing_it_need_not() -> None:
    """Values orjson already prints as Node does are dumped as they are."""
    value = {"a": [1, "x", {"b": None}], "c": True}
    assert stringify(value) == orjson.dumps(value).decode()


def test_stringify_replaces_from_the_first_change_on() -> None:
    """Members before and after the first one JavaScript prints differently keep their order."""
    value = {"a": "x", "b": [1, 2.0, {"c": UNDEFINED, "d": 1e21}, 3], "e": UNDEFINED, "f": None}
    assert stringify(value) == '{"a":"x","b":[1,2,{"d":1e+21},3],"f":null}'
    assert value["b"][1] == 2.0 and "e" in value  # the input is left as it was


def test_js_keys_orders_array_indexes_first() -> None:
    assert js_keys({"b": 0, "10": 0, "a": 0, "2": 0, "-1": 0}) == ["2", "10", "b", "a", "-1"]


@pytest.mark.parametrize(("data", "flat"), [
    ({"Location": {"City": "LA"}, "hobbies": ["Music", "Running"]},
     {"Location.City": "LA", "hobbies[0]": "Music", "hobbies[1]": "Running"}),
    ({"nested": {"arr": [{"a": 1}, 2], "e": [], "o": {}, "n": None}},
     {"nested.arr[0].a": 1, "nested.arr[1]": 2, "nested.e": [], "nested.o": {}, "nested.n": None}),
    ({"b": 1, "2": {"x": [[3]]}}, {"2.x[0][0]": 3, "b": 1}),
    ([1, 2], {"[0]": 1, "[1]": 2}),
    ([], {"": []}),
    ({}, {}),
    ("abc", {"": "abc"}),
    (None, {"": None}),
    (UNDEFINED, {}),
])
def test_flatten_json_matches_the_reference(data: Any, flat: dict[str, Any]) -> None:
    """"a.b" for objects, "[i]" for arrays, empty containers kept below the top, scalars under ""."""
    assert flatten_json(data) == flat
    assert list(flatten_json(data)) == list(flat)


def test_hash_from_array_skips_blank_rows_and_keeps_the_last() -> None:
    """Blank or missing from is skipped, from is not trimmed, a later row wins, no to is undefined."""
    rows = [{"from": "A", "to": 1}, {"from": " ", "to": 2}, {"to": 3}, "x", [1],
            {"from": "a ", "to": 4}, {"from": "a", "to": 5}, {"from": "B"}, {"from": 7, "to": 8},
            {"from": "__proto__", "to": 9}]
    assert hash_from_array(rows) == {"A": 1, "a ": 4, "a": 5, "B": UNDEFINED, "7": 8}
    assert hash_from_array(rows[:7], lower_keys=True) == {"a": 5, "a ": 4}
    assert hash_from_array({"from": "a"}) == {}
    assert hash_from_array(None) == {}


def test_hash_from_array_reports_malformed_rows_as_configuration_errors() -> None:
    """Where the reference crashes, the config key and the row's index are named."""
    with pytest.raises(ConfigurationError, match=r"^headers\[1\] is null$"):
        hash_from_array([{"from": "a"}, None], name="headers")
    with pytest.raises(ConfigurationError, match=r"^mapEvents\[0\]\.from must be a string$"):
        hash_from_array([{"from": 5, "to": "x"}], lower_keys=True, name="mapEvents")


def test_js_get_follows_get_value() -> None:
    """npm get-value 3: whole-path keys, dotted keys joined from segments, escaped dots, array
    indexes and length; a target that is not an object is returned itself."""
    doc = {"a.b": {"c": 1}, "x": {"y": {"z": 2}}, "list": [{"k": "v"}, 5], "p.q": 3,
           "e.f": {"g": 4}, "s": "text", "n": None}
    assert js_get(doc, "a.b.c") == 1
    assert js_get(doc, "x.y.z") == 2
    assert js_get(doc, "p.q") == 3
    assert js_get(doc, "list.0.k") == "v" and js_get(doc, "list.length") == 2
    assert js_get(doc, "e\\.f.g") == 4
    assert js_get(doc, "s.length") is None and js_get(doc, "n.x") is None
    assert js_get(doc, "x.missing") is None
    assert js_get(doc, "x.missing", UNDEFINED) is UNDEFINED
    assert js_get("whole", "any.path") == "whole"
    assert js_get([1, 2], "1") == 2


@pytest.mark.parametrize(("message", "expected"), [
    ({"integrations": {"dest": {"a": 1}, "Dest": {"b": 2}}}, {"a": 1}),
    ({"integrations": {"dest": {}, "Dest": {"b": 2}}}, {}),  # {} is truthy in JavaScript
    ({"integrations": {"dest": None, "Dest": {"b": 2}}}, {"b": 2}),
    ({"integrations": {"dest": False, "Dest": 0}}, None),
    ({"integrations": {"dest": "on"}}, "on"),
    ({"integrations": ["dest"]}, None),
    ({}, None),
    ("not an object", None),
])
def test_integrations_object(message: Any, expected: Any) -> None:
    from transformer.hooks import integrations_object as exported
    from transformer.mapping import integrations_object
    assert exported is integrations_object
    assert integrations_object(message, ("dest", "Dest")) == expected


@pytest.mark.parametrize(("paths", "expected"), [
    (("traits.email", "context.traits.email"), "a@b.c"),
    (("traits.zero", "traits.email"), 0),
    (("traits.flag", "traits.email"), False),
    (("traits.blank", "traits.null", "traits.email"), "a@b.c"),
    (("traits.missing",), None),
])
def test_first_present(paths: tuple[str, ...], expected: Any) -> None:
    from transformer.hooks import first_present as exported
    from transformer.mapping import first_present
    message = {"traits": {"email": "a@b.c", "zero": 0, "flag": False, "blank": "", "null": None},
               "context": {"traits": {"email": "x@y.z"}}}
    assert exported is first_present
    assert first_present(message, paths) == expected


def test_flatten_json_with_another_separator() -> None:
    """flattenJson(data, "_"): objects joined with the separator, arrays still as key[i]."""
    assert flatten_json({"a": {"b": [1, {"c": 2}]}}, "_") == {"a_b[0]": 1, "a_b[1]_c": 2}


def test_flatten_json_strict_mode() -> None:
    """flattenJson(data, "_", "strict"): array indexes joined with the separator too; holes and
    empty containers below the top stay leaves."""
    data = {"a": {"b": [1, {"c": 2}], "e": {}, "l": []}, "h": [UNDEFINED, 3]}
    assert flatten_json(data, "_", strict=True) == {
        "a_b_0": 1, "a_b_1_c": 2, "a_e": {}, "a_l": [], "h_0": UNDEFINED, "h_1": 3}


@pytest.mark.parametrize(("values", "expected"), [
    ((0, "", "x"), "x"), ((None, 0), 0), ((False, ""), ""), (({},), {}), (("a", "b"), "a"),
])
def test_js_or(values: tuple[Any, ...], expected: Any) -> None:
    """a || b || c: the first truthy value, else the last one as it is."""
    assert js_or(*values) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ({"a": 1}, {"a": 1}), (["x", "y"], {"0": "x", "1": "y"}), ("hi", {"0": "h", "1": "i"}),
    (5, {}), (None, {}), (True, {}),
])
def test_spread(value: Any, expected: dict[str, Any]) -> None:
    """{...value}: own keys, array items and string characters by index; nothing else."""
    assert spread(value) == expected
    assert spread(value) is not value


def test_without_nulls_keeps_falsy_values_and_nan() -> None:
    """removeUndefinedAndNullValues drops null and undefined members only."""
    cleaned = without_nulls({"a": None, "b": UNDEFINED, "c": 0, "d": "", "e": math.nan})
    assert list(cleaned) == ["c", "d", "e"]


@pytest.mark.parametrize(("number", "digits", "text"), [
    (1.005, 2, "1.00"), (2.5, 0, "3"), (-1.5, 0, "-2"), (0.125, 2, "0.13"), (10, 2, "10.00"),
    (-0.0, 1, "0.0"), (1e21, 2, "1e+21"), (math.inf, 2, "Infinity"), (math.nan, 2, "NaN"),
])
def test_to_fixed(number: float, digits: int, text: str) -> None:
    """Number.prototype.toFixed: the exact binary value rounded, ties away from zero."""
    assert to_fixed(number, digits) == text


def test_flatten_json_without_flattening_arrays_of_plain_values() -> None:
    """flattenJson(data, '.', 'normal', false) keeps an array whole unless its first item is an
    object, an array or null."""
    from transformer.mapping import flatten_json

    data = {"a": [1, {"x": 2}], "b": [{"y": 3}], "c": [None, 4], "d": [], "e": {"f": ["s"]}}
    assert flatten_json(data, flatten_arrays=False) == {
        "a": [1, {"x": 2}], "b[0].y": 3, "c[0]": None, "c[1]": 4, "d": [], "e.f": ["s"]}


def test_hash_from_array_with_duplicates_keeps_each_distinct_target() -> None:
    """getHashFromArrayWithDuplicate: trimmed lower-case keys, a Set of targets in row order."""
    rows = [{"from": " Sign Up ", "to": "A"}, {"from": "sign up", "to": "B"},
            {"from": "SIGN UP", "to": "A"}, {"from": "x", "to": 1}, {"from": "x", "to": True},
            {"from": "x", "to": 1.0}, {"from": "  ", "to": "C"}, "row", {"to": "D"}]
    assert hash_from_array_with_duplicates(rows) == {"sign up": ["A", "B"], "x": [1, True]}
    assert hash_from_array_with_duplicates(None) == {}
    with pytest.raises(ConfigurationError, match=r"events\[0\] is null"):
        hash_from_array_with_duplicates([None], name="events")
    with pytest.raises(ConfigurationError, match=r"events\[0\].from must be a string"):
        hash_from_array_with_duplicates([{"from": 5}], name="events")


def test_same_value_key_and_js_prop_follow_javascript() -> None:
    """Map keys: 1 and 1.0 alike, true and 1 apart, objects by identity; ?.[key] reads own
    properties only."""
    one, other = {"a": 1}, {"a": 1}
    assert same_value_key(1) == same_value_key(1.0)
    assert same_value_key(True) != same_value_key(1)
    assert same_value_key(one) != same_value_key(other)
    assert same_value_key(None) != same_value_key(UNDEFINED)
    assert js_prop({"k": None}, "k") is None
    assert js_prop({"k": 1}, "x") is UNDEFINED
    assert js_prop(["a", "b"], "1") == "b"
    assert js_prop(["a"], "length") == 1
    assert js_prop("text", "0") is UNDEFINED
