"""Each directive of the mapping language, compiled and applied."""

from __future__ import annotations

import math
from typing import Any

import pytest

from transformer._clock import FixedClock
from transformer._errors import InstrumentationError
from transformer.mapping import (
    DIRECTIVES,
    CompileEnv,
    Context,
    Problems,
    compile_object,
    compile_value,
    load_aliases,
)

ENV = CompileEnv(aliases=load_aliases(), hooks={"shout": lambda v, ctx: f"{v}!",
                                               "answer": lambda ctx: 42})
EVENT = {
    "type": "track", "event": "Order Done", "userId": "", "anonymousId": "anon",
    "properties": {"price": "12.50", "qty": 0, "flag": False, "empty": "", "tags": ["a"],
                   "nested": {"a": {"b": 1}}, "ts": "2024-01-02T03:04:05.678+01:00"},
    "context": {"traits": {"email": "x@y.z", "id": 7}, "externalId": [{"id": "ext"}]},
}


def value(spec: Any, message: dict[str, Any] = EVENT, **ctx: Any) -> Any:
    problems = Problems()
    source = compile_value(spec, ENV, "f", problems)
    assert not problems, problems
    return source(Context(message=message, **ctx))


def problems_of(spec: Any) -> list[str]:
    problems = Problems()
    compile_value(spec, ENV, "f", problems)
    return list(problems)


def test_path_reads_nested_values_and_list_indexes() -> None:
    """path walks dicts and, with numeric segments, lists."""
    assert value({"path": "properties.nested.a.b"}) == 1
    assert value({"path": "context.externalId.0.id"}) == "ext"
    assert value({"path": "properties.missing.deeper"}) is None


def test_path_list_takes_first_present_value() -> None:
    """A list of paths skips null and "" but keeps 0 and false, as the reference does."""
    assert value({"path": ["userId", "anonymousId"]}) == "anon"
    assert value({"path": ["properties.empty", "properties.qty", "event"]}) == 0
    assert value({"path": ["properties.flag", "event"]}) is False


def test_generic_alias_resolves_to_its_paths() -> None:
    """generic: userIdOnly looks in traits after userId; email reaches context.traits."""
    assert value({"generic": "userIdOnly"}) == 7
    assert value({"generic": "email"}) == "x@y.z"


def test_config_metadata_var_value_now_hook_sources() -> None:
    """The non-event sources read config, metadata, hook vars, constants, the clock and hooks."""
    dest = {"Config": {"api": {"key": "k"}}}
    assert value({"config": "api.key"}, destination=dest) == "k"
    assert value({"metadata": "jobId"}, metadata={"jobId": 3}) == 3
    assert value({"var": "x"}, vars={"x": [1]}) == [1]
    assert value({"value": {"a": 1}}) == {"a": 1}
    assert value({"now": "iso"}, clock=FixedClock(0)) == "1970-01-01T00:00:00.000Z"
    assert value({"now": "s"}, clock=FixedClock(1_500)) == 1
    assert value({"hook": "answer"}) == 42


@pytest.mark.parametrize(("conversion", "given", "expected"), [
    ("string", 1.0, "1"), ("string", True, "true"), ("string", [1, None, "a"], "1,,a"),
    ("number", "12.50", 12.5), ("number", "abc", None), ("int", "42px", 42), ("float", "1.5e3x", 1500),
    ("lower", "AbC", "abc"), ("upper", "abc", "ABC"), ("trim", "  a ", "a"),
    ("json", {"a": [1, 2.0]}, '{"a":[1,2]}'), ("json_if_not_string", "s", "s"),
    ("flatten", {"a": {"b": 1}, "c": [2]}, {"a.b": 1, "c.0": 2}),
    ("timestamp_ms", "2024-01-02T03:04:05.678+01:00", 1704161045678),
    ("timestamp_s", "2024-01-02T03:04:05.678Z", 1704164645),
    ("timestamp_iso", "2024-01-02T03:04:05.678912+01:00", "2024-01-02T02:04:05.678Z"),
    ("boolean_flag", "yes", False), ("array_only", "x", None), ("string_only", ["x"], None),
    ("string_only", "x", "x"),
    ("sha256", "a", "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"),
    ("remove_spaces_and_dashes", "a b-c", "abc"),
])
def test_type_conversions(conversion: str, given: Any, expected: Any) -> None:
    """type: conversions follow JavaScript semantics (NaN shows up as an absent value)."""
    result = value({"path": "v", "type": conversion}, message={"v": given})
    if expected is None:
        assert result is None or result != result  # NaN
    else:
        assert result == expected


def test_modifiers_apply_in_written_order() -> None:
    """default, template, map_values, allowed, exclude, apply, to_array shape the value."""
    assert value({"path": "missing", "default": "d", "template": "<{{value}}>"}) == "<d>"
    assert value({"path": "event", "map_values": {"Order Done": "purchase"}}) == "purchase"
    assert value({"path": "event", "allowed": ["x"]}) is None
    assert value({"path": "context.traits", "exclude": ["id"]}) == {"email": "x@y.z"}
    assert value({"path": "event", "apply": "shout"}) == "Order Done!"
    assert value({"path": "event", "to_array": True}) == ["Order Done"]


def test_required_raises_instrumentation_error_naming_the_source() -> None:
    """A required field that is absent fails the event with the reference's message."""
    with pytest.raises(InstrumentationError, match=r'Missing required value from \["userId"\]'):
        value({"path": ["userId"], "required": True})
    with pytest.raises(InstrumentationError, match="need an email"):
        value({"path": "nope", "required": "need an email"})


def test_regex_rejects_non_matching_values() -> None:
    """regex fails the event when the value does not match."""
    assert value({"path": "event", "regex": "^Order"}) == "Order Done"
    with pytest.raises(InstrumentationError):
        value({"path": "event", "regex": "^x"})


def test_object_mapping_drops_absent_values_and_empty_objects() -> None:
    """Absent values leave their key out; a nested mapping with nothing in it disappears."""
    problems = Problems()
    build = compile_object({"a": {"path": "properties.empty"}, "b": {"c": {"path": "nope"}},
                            "zero": {"path": "properties.qty"}, "type": {"value": "t"},
                            "lit": 5, "list": [{"path": "event"}, {"path": "nope"}]},
                           ENV, "body", problems)
    assert not problems
    assert build(Context(message=EVENT)) == {"zero": 0, "type": "t", "lit": 5, "list": ["Order Done"]}


def test_merge_and_object_sources() -> None:
    """merge combines objects left to right; object nests a mapping explicitly."""
    merged = value({"merge": [{"path": "context.traits"}, {"value": {"id": 8, "z": 1}}]})
    assert merged == {"email": "x@y.z", "id": 8, "z": 1}
    assert value({"object": {"type": {"path": "type"}}}) == {"type": "track"}


def test_validation_reports_every_problem_with_its_path() -> None:
    """Unknown aliases, conversions, hooks, and bad arguments are all reported, each located."""
    problems = Problems()
    compile_object({
        "a": {"generic": "nope"},
        "b": {"path": "x", "type": ["string", "bogus"]},
        "c": {"hook": "missing"},
        "d": {"path": 3},
        "e": {"path": "x", "value": 1},
        "f": {"path": "x", "template": "no placeholder"},
        "g": {"path": "x", "regex": "("},
    }, ENV, "events.track.body", problems)
    joined = "\n".join(problems)
    for where in ("body.a.generic", "body.b.type", "body.c.hook", "body.d.path", "body.e:",
                  "body.f.template", "body.g.regex"):
        assert f"events.track.{where}" in joined, joined
    assert len(problems) == 7


def test_every_directive_is_documented() -> None:
    """Each registered directive carries a description for the docs."""
    assert all(d.doc for d in DIRECTIVES.values())
    assert problems_of({"path": "a"}) == []


def test_first_truthy_and_first_defined_follow_javascript_operators() -> None:
    """first_truthy is a || b (skips 0 and false), first_defined is a ?? b (keeps "" and 0)."""
    message = {"a": 0, "b": "", "c": "x"}
    assert value({"first_truthy": ["a", "b", "c"]}, message=message) == "x"
    assert value({"first_truthy": ["a", "b"]}, message=message) == ""  # the last, as it is
    assert value({"first_defined": ["missing", "b", "c"]}, message=message) == ""
    assert value({"first_defined": ["a", "c"]}, message=message) == 0


def test_keep_option_keeps_empty_or_null_values() -> None:
    """keep: empty keeps "", keep: null keeps null too; by default both are left out."""
    problems = Problems()
    build = compile_object({"a": {"path": "e"}, "b": {"path": "e", "keep": "empty"},
                            "c": {"path": "n", "keep": "null"}, "d": {"path": "n", "keep": "empty"}},
                           ENV, "body", problems)
    assert not problems
    assert build(Context(message={"e": "", "n": None})) == {"b": "", "c": None}


def test_when_and_unless_build_a_field_conditionally() -> None:
    """when/unless take a field; its JavaScript truthiness decides whether the field is built."""
    dest = {"Config": {"v2": True}}
    assert value({"path": "event", "when": {"config": "v2"}}, destination=dest) == "Order Done"
    assert value({"path": "event", "unless": {"config": "v2"}}, destination=dest) is None
    assert value({"path": "event", "when": {"config": "v2"}}) is None


def test_truthy_and_strip_trailing_slash_conversions() -> None:
    """truthy drops 0/false/""; strip_trailing_slash removes exactly one slash."""
    assert value({"path": "v", "type": "truthy"}, message={"v": 0}) is None
    assert value({"path": "v", "type": "truthy"}, message={"v": {}}) == {}
    assert value({"path": "v", "type": "strip_trailing_slash"}, message={"v": "a//"}) == "a/"


def test_context_mode_is_visible_to_hooks() -> None:
    """A hook can tell router mode from processor mode."""
    assert Context(message={}).mode == "processor"
    assert Context(message={}, mode="router").mode == "router"


def test_flatten_json_object_assign_without_nulls_and_basic_auth_conversions() -> None:
    """The reference's flattenJson, what Object.assign copies, top-level nulls dropped, Basic auth."""
    assert value({"path": "v", "type": "flatten_json"}, message={"v": {"a": [1, {"b": {}}]}}) == \
        {"a[0]": 1, "a[1].b": {}}
    assert value({"path": "v", "type": "object_assign"}, message={"v": "ab"}) == {"0": "a", "1": "b"}
    assert value({"path": "v", "type": "object_assign"}, message={"v": 5}) == {}
    assert value({"path": "v", "type": ["object_assign", "without_nulls"]},
                 message={"v": {"a": None, "b": {"c": None}}}) == {"b": {"c": None}}
    assert value({"path": "v", "type": "basic_auth"}, message={"v": "key:"}) == "Basic a2V5Og=="


def test_a_conversion_that_makes_the_value_absent_ends_the_list() -> None:
    """[truthy, flatten_json] of 0 is absent, not flattenJson(null)."""
    assert value({"path": "v", "type": ["truthy", "flatten_json"]}, message={"v": 0}) is None
    assert value({"path": "v", "type": ["truthy", "flatten_json"]}, message={"v": {"a": 1}}) == \
        {"a": 1}


def test_template_is_a_javascript_template_literal() -> None:
    """Nothing is trimmed: "Bearer {{value}}" of " k " keeps both spaces."""
    assert value({"path": "v", "template": "Bearer {{value}}"}, message={"v": " k "}) == "Bearer  k "


def test_external_id_is_the_first_entry_of_its_type() -> None:
    """getDestinationExternalID: exact type, first match wins (even without an id)."""
    ids = [None, "x", {"type": "other", "id": 1}, {"type": "crm", "id": "a"}, {"type": "crm", "id": "b"}]
    assert value({"external_id": "crm"}, message={"context": {"externalId": ids}}) == "a"
    assert value({"external_id": "CRM"}, message={"context": {"externalId": ids}}) is None
    assert value({"external_id": "crm"}, message={"context": {"externalId": [{"type": "crm"}]}}) is None
    assert value({"external_id": "crm"}, message={"context": "s"}) is None


def test_first_truthy_and_first_defined_take_fields_too() -> None:
    """Items may be fields, tried in order with the paths: a || b over any sources."""
    message = {"context": {"externalId": [{"type": "g", "id": ""}]}, "properties": {"g": "p"}}
    assert value({"first_truthy": [{"external_id": "g"}, "properties.g"]}, message=message) == "p"
    assert value({"first_defined": [{"external_id": "g"}, "properties.g"]}, message=message) == ""
    assert value({"first_truthy": [{"value": 0}, {"config": "k"}]},
                 destination={"Config": {"k": "c"}}) == "c"
    assert problems_of({"first_truthy": [{"generic": "nope"}, "a"]}) == [
        "f.first_truthy[0].generic: unknown generic alias 'nope' (known: "
        + ", ".join(sorted(load_aliases())) + ")"]
    assert problems_of({"first_truthy": [3]}) != []


def test_js_null_tells_a_null_from_a_missing_key() -> None:
    """With js_null a JSON null is a value (sent, and seen by modifiers); only a missing key is
    left out, and default replaces it."""
    problems = Problems()
    build = compile_object({
        "a": {"config": "a", "js_null": True},
        "b": {"path": "b", "js_null": True, "type": "flatten_json", "default": {}},
        "c": {"first_defined": ["c", "d"], "js_null": True},
        "d": {"path": "w", "js_null": True, "template": "{{value}}:", "default": "undefined:"},
        "e": {"path": "e", "js_null": True, "when": {"value": False}},
    }, ENV, "body", problems)
    assert not problems, problems
    assert build(Context(message={"b": None, "d": None, "w": None, "e": 1},
                         destination={"Config": {"a": None}})) == \
        {"a": None, "b": {"": None}, "c": None, "d": "null:"}
    assert build(Context(message={})) == {"b": {}, "d": "undefined:"}
    assert value({"path": "n", "js_null": True}, message={"n": None}) is None
    assert value({"path": "x.y", "js_null": True}, message={"x": None}) is None


def test_js_null_validation() -> None:
    """js_null needs a source that can tell a missing key, and replaces keep."""
    assert problems_of({"path": ["a", "b"], "js_null": True}) == [
        "f.js_null: needs a path (a single one), first_truthy, first_defined, config or metadata "
        "source"]
    assert problems_of({"generic": "email", "js_null": True}) != []
    assert problems_of({"path": "a", "js_null": "yes"}) == ["f.js_null: expected true or false"]
    problems = Problems()
    compile_object({"a": {"path": "a", "js_null": True, "keep": "empty"}}, ENV, "body", problems)
    assert problems == ["body.a.keep: js_null already keeps every value but a missing one; leave "
                        "keep out"]


def test_step_names_the_workflow_step_of_a_required_error() -> None:
    """A required field's error carries its step (the pipeline words cdkV2 messages with it)."""
    with pytest.raises(InstrumentationError) as info:
        value({"path": "nope", "required": "traits are required", "step": "identifyPayload"})
    assert (info.value.message, info.value.step) == ("traits are required", "identifyPayload")
    assert problems_of({"path": "a", "step": "s"}) != []  # a step without required


def test_default_nullish_replaces_only_null_and_missing() -> None:
    """default_nullish is JavaScript's ??: "" and 0 stay, null and a missing value are replaced."""
    assert value({"path": "properties.empty", "default_nullish": "d", "keep": "empty"}) == ""
    assert value({"path": "properties.qty", "default_nullish": "d"}) == 0
    assert value({"path": "properties.none", "default_nullish": "d"}) == "d"
    assert value({"path": "nothing", "js_null": True, "default_nullish": "d"},
                 {"nothing": None}) == "d"


def test_default_missing_replaces_only_a_missing_key() -> None:
    """With js_null, default_missing leaves a JSON null as it is (config.get(key, default))."""
    spec = {"path": "flag", "js_null": True, "default_missing": True}
    assert value(spec, {}) is True
    assert value(spec, {"flag": None}) is None
    assert value(spec, {"flag": False}) is False
    assert problems_of({"path": "flag", "default_missing": True}) == [
        "f.default_missing: needs js_null: true (without it a missing key and a null are both "
        "absent; use default_nullish)"]


def test_date_ms_is_javascript_get_time() -> None:
    """date_ms: epoch ms of a date, NaN (absent to the mapping) for what is no date."""
    assert value({"path": "properties.ts", "type": "date_ms"}) == 1704161045678
    assert math.isnan(value({"path": "event", "type": "date_ms"}))
    problems = Problems()
    build = compile_object({"dropped": {"path": "event", "type": "date_ms"},
                            "kept": {"path": "event", "type": "date_ms", "keep": "empty"}},
                           ENV, "body", problems)
    assert not problems
    assert list(build(Context(message=EVENT))) == ["kept"]  # NaN: sent as null when kept


def test_switch_picks_the_case_the_value_names() -> None:
    """switch builds the field of the matching case, else the default, else nothing."""
    spec = {"switch": {"by": "event", "cases": {"Order Done": {"value": "purchase"},
                                                "Other": {"path": "properties.price"}},
                       "default": {"path": "event", "type": "upper"}}}
    assert value(spec) == "purchase"
    assert value(spec, message={**EVENT, "event": "Other"}) == "12.50"
    assert value(spec, message={**EVENT, "event": "order done"}) == "ORDER DONE"
    without_default = {"switch": {"by": "event", "cases": {"x": 1}}}
    assert value(without_default) is None


def test_switch_ignore_case_and_javascript_keys() -> None:
    """ignore_case lower-cases both sides; values compare as String(value), absent ones never."""
    spec = {"switch": {"by": {"path": "event"}, "ignore_case": True,
                       "cases": {"ORDER done": "hit", 2: "two", True: "yes"}, "default": "miss"}}
    assert value(spec) == "hit"
    assert value(spec, message={"event": 2.0}) == "two"
    assert value(spec, message={"event": True}) == "yes"
    assert value(spec, message={"event": None}) == "miss"
    assert value(spec, message={}) == "miss"
    exact = {"switch": {"by": "event", "cases": {"order done": "hit"}, "default": "miss"}}
    assert value(exact) == "miss"


def test_switch_cases_may_be_object_mappings() -> None:
    """A case is any field, literal or nested object mapping; only the chosen one is built."""
    spec = {"switch": {"by": "event", "cases": {
        "Order Done": {"name": {"value": "purchase"}, "price": {"path": "properties.price"}},
        "Fails": {"path": "missing", "required": True}}}}
    assert value(spec) == {"name": "purchase", "price": "12.50"}
    with pytest.raises(InstrumentationError):
        value(spec, message={"event": "Fails"})


@pytest.mark.parametrize(("spec", "problem"), [
    ({"switch": "event"}, "expected a mapping"),
    ({"switch": {"cases": {"a": 1}}}, "by: expected"),
    ({"switch": {"by": "event", "cases": {}}}, "cases: expected a non-empty mapping"),
    ({"switch": {"by": "event", "cases": {"a": 1}, "ignore_case": "yes"}}, "ignore_case"),
    ({"switch": {"by": "event", "cases": {"a": 1}, "otherwise": 2}}, "unknown key 'otherwise'"),
    ({"switch": {"by": "event", "ignore_case": True, "cases": {"A": 1, "a": 2}}},
     "the same case ignoring case"),
    ({"switch": {"by": "event", "cases": {"a": {"generic": "nope"}}}},
     "f.switch.cases.a.generic: unknown generic alias"),
    ({"switch": {"by": {"path": 5}, "cases": {"a": 1}}}, "f.switch.by.path"),
])
def test_switch_validation(spec: Any, problem: str) -> None:
    """switch reports a malformed argument, and problems inside its fields with their place."""
    assert any(problem in p for p in problems_of(spec)), problems_of(spec)


def test_not_is_javascript_negation_and_sees_a_js_null() -> None:
    """not is JavaScript's !value; with js_null a null is falsy (true), a missing key absent."""
    problems = Problems()
    build = compile_object({"off": {"path": "v", "js_null": True, "type": "not"}}, ENV, "body",
                           problems)
    assert not problems, problems
    assert build(Context(message={"v": None})) == {"off": True}
    assert build(Context(message={"v": 0})) == {"off": True}
    assert build(Context(message={"v": "yes"})) == {"off": False}
    assert build(Context(message={})) == {}


def test_phone_digits_keeps_ascii_digits_without_leading_zeros() -> None:
    """phone_digits is String(v) less non-digits and leading zeros; nothing left is absent."""
    assert value({"path": "v", "type": "phone_digits"}, message={"v": "+00 (91) 98-7"}) == "91987"
    assert value({"path": "v", "type": "phone_digits"}, message={"v": 4915.0}) == "4915"
    assert value({"path": "v", "type": "phone_digits"}, message={"v": "\u0661\u0662"}) is None
    assert value({"path": "v", "type": ["phone_digits", "sha256"]}, message={"v": "000"}) is None


def test_trim_removes_javascript_whitespace_only() -> None:
    """trim is String.prototype.trim: U+FEFF goes, U+001F (not JavaScript whitespace) stays."""
    assert value({"path": "v", "type": "trim"}, message={"v": "\ufeff a\u00a0"}) == "a"
    assert value({"path": "v", "type": "trim"}, message={"v": "\x1fa"}) == "\x1fa"


def test_a_document_that_is_a_plain_value_answers_every_path_with_itself() -> None:
    """As get-value does, ctx.build(table, doc) with a string, number or boolean doc reads that
    value at every path; null and lists read as before (nothing, or their items)."""
    problems = Problems()
    table = compile_object({"id": {"path": "product_id"}, "name": {"path": ["name", "title"]},
                            "sku": {"first_defined": ["sku"], "js_null": True},
                            "any": {"generic": "userId"}}, ENV, "product", problems)
    assert not problems, problems
    ctx = Context(message={}, tables={"product": table})
    assert ctx.build("product", "p-1") == {"id": "p-1", "name": "p-1", "sku": "p-1", "any": "p-1"}
    assert ctx.build("product", False) == {"id": False, "name": False, "sku": False, "any": False}
    assert ctx.build("product", None) == {}
    assert ctx.build("product", ["x"]) == {}


@pytest.mark.parametrize(("conversion", "given", "expected"), [
    ("number_if_numeric", " 12.5 ", 12.5), ("number_if_numeric", "0x1A", 26),
    ("number_if_numeric", "abc", "abc"), ("number_if_numeric", "Infinity", "Infinity"),
    ("number_if_numeric", "  ", "  "), ("number_if_numeric", 3, 3),
    ("int_if_integer", " -7 ", -7), ("int_if_integer", "7.5", "7.5"), ("int_if_integer", 2.5, 2.5),
    ("int_if_integer", "\u0661", "\u0661"),
    ("string_if_number", 7.0, "7"), ("string_if_number", -2.5, "-2.5"),
    ("string_if_number", True, True), ("string_if_number", "x", "x"),
])
def test_declared_type_coercions_change_only_what_they_convert(conversion: str, given: Any,
                                                                 expected: Any) -> None:
    """number_if_numeric, int_if_integer and string_if_number convert or leave values alone."""
    result = value({"path": "v", "type": conversion}, message={"v": given})
    assert result == expected and type(result) is type(expected)


def test_without_blanks_drops_empty_members_but_not_false_or_zero() -> None:
    """without_blanks removes null, blank strings, {} and [] members, keeping 0 and false."""
    given = {"a": None, "b": " ", "c": {}, "d": [], "e": 0, "f": False, "g": "x", "h": [None]}
    assert value({"path": "v", "type": "without_blanks"}, message={"v": given}) == \
        {"e": 0, "f": False, "g": "x", "h": [None]}


def test_an_empty_path_is_the_document_itself() -> None:
    """path: "" reads the whole document (a product, with exclude for its other keys)."""
    assert value({"path": "", "exclude": ["a"]}, message={"a": 1, "b": 2}) == {"b": 2}


def test_rename_keys_and_key_prefix_reshape_an_object() -> None:
    """rename_keys renames keys (a later key renamed onto an earlier one wins), key_prefix
    prefixes every key; values that are not objects pass unchanged."""
    spec = {"path": "c", "rename_keys": {"name": "campaign"}, "key_prefix": "utm_"}
    assert value(spec, message={"c": {"name": "n", "source": "s", "campaign": "c"}}) == \
        {"utm_campaign": "c", "utm_source": "s"}
    assert value(spec, message={"c": ["x"]}) == ["x"]
    assert problems_of({"path": "c", "rename_keys": {"a": 1}}) == \
        ["f.rename_keys: expected a mapping of key to new key (strings)"]
    assert problems_of({"path": "c", "key_prefix": 5}) == ["f.key_prefix: expected a string"]
