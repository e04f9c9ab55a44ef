"""The mapping language: a registry of directives, each a small function with its own validator.

A field of a mapping is a dict of directives. Exactly one *source* says where the value comes from
(``path: properties.email``, ``generic: userIdOnly``, ``config: apiKey``, ``value: 42`` ...); any
number of *modifiers* then shape it, applied in the order written (``type: string``,
``default: x``, ``exclude: [id]`` ...); ``required`` is checked last. A dict with no directive keys
is a nested object mapping. Everything is compiled once, when the destination loads.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from transformer._errors import InstrumentationError

from . import _js
from ._context import Context
from ._custom_fields import build_custom_fields, check_custom_fields
from ._devices import is_apple_family
from ._hashing import sha256_binary
from ._lookups import build_get_value, build_multiply, check_lookup, check_operands
from ._paths import (
    compile_first_matching,
    compile_first_present,
    compile_path,
    first_matching,
    is_defined,
)
from ._time import epoch_ms, epoch_seconds, js_date_ms, parse_date, to_iso, to_seconds

Source = Callable[[Context], Any]
Modifier = Callable[[Any, Context], Any]
Hook = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class CompileEnv:
    """What compiling a directive may consult: generic aliases and the destination's hooks."""

    aliases: Mapping[str, tuple[str, ...]]
    hooks: Mapping[str, Hook]


@dataclass(frozen=True, slots=True)
class Directive:
    name: str
    role: Literal["source", "modifier"]
    doc: str
    #: Problems with the directive's argument (empty when valid); ``env`` is available.
    check: Callable[[Any, CompileEnv], list[str]]
    #: Builds a Source (role "source") or a Modifier (role "modifier") from a valid argument.
    build: Callable[[Any, CompileEnv], Any]
    #: Modifiers only: also called when the value is absent (None); others are skipped then.
    sees_absent: bool = False
    #: Sources only: the argument holds fields. Called with the valid argument and a compiler
    #: of one nested spec (``compile(spec, suffix)`` -> Source; ``suffix`` extends the problems'
    #: place, e.g. "[0]" or ".cases.x"), it returns the argument ``build`` receives, its fields
    #: compiled.
    compile_nested: Callable[[Any, Callable[[Any, str], Source]], Any] | None = None
    #: Sources only: builds the source for a field with ``js_null: true``, which returns
    #: UNDEFINED for a key that is missing and None for a JSON null (None: not supported).
    build_js_null: Callable[[Any, CompileEnv], Any] | None = None


# --- argument validators --------------------------------------------------------------------


def _path_or_paths(arg: Any, env: CompileEnv) -> list[str]:
    if isinstance(arg, str):
        return []
    if isinstance(arg, list) and arg and all(isinstance(p, str) for p in arg):
        return []
    return ["expected a dotted path or a non-empty list of paths"]


def _paths_or_fields(arg: Any, env: CompileEnv) -> list[str]:
    if isinstance(arg, str):
        return []
    if isinstance(arg, list) and arg and all(isinstance(p, str | dict) for p in arg):
        return []
    return ["expected a dotted path or a non-empty list of paths and fields"]


def _one_path(arg: Any, env: CompileEnv) -> list[str]:
    return [] if isinstance(arg, str) else ["expected a dotted path"]


def _alias(arg: Any, env: CompileEnv) -> list[str]:
    if arg in env.aliases:
        return []
    return [f"unknown generic alias {arg!r} (known: {', '.join(sorted(env.aliases))})"]


def _anything(arg: Any, env: CompileEnv) -> list[str]:
    return []


def _hook_name(arg: Any, env: CompileEnv) -> list[str]:
    if isinstance(arg, str) and arg in env.hooks:
        return []
    return [f"no function {arg!r} in the destination's hooks.py"]


def _bool(arg: Any, env: CompileEnv) -> list[str]:
    return [] if isinstance(arg, bool) else ["expected true or false"]


def _string_list(arg: Any, env: CompileEnv) -> list[str]:
    if isinstance(arg, list) and all(isinstance(k, str) for k in arg):
        return []
    return ["expected a list of strings"]


def _conversion_names(arg: Any, env: CompileEnv) -> list[str]:
    names = arg if isinstance(arg, list) else [arg]
    unknown = [n for n in names if n not in CONVERSIONS]
    if not unknown:
        return []
    return [f"unknown type {n!r} (known: {', '.join(sorted(CONVERSIONS))})" for n in unknown]


def _value_map(arg: Any, env: CompileEnv) -> list[str]:
    if isinstance(arg, dict):
        return []
    return ["expected a mapping of input value to output value"]


def _template(arg: Any, env: CompileEnv) -> list[str]:
    if isinstance(arg, str) and "{{value}}" in arg.replace(" ", ""):
        return []
    return ["expected a string containing {{value}}"]


def _regex(arg: Any, env: CompileEnv) -> list[str]:
    try:
        re.compile(arg)
    except (re.error, TypeError) as exc:
        return [f"invalid regular expression: {exc}"]
    return []


_SWITCH_KEYS = frozenset({"by", "ignore_case", "cases", "default"})


def _switch(arg: Any, env: CompileEnv) -> list[str]:
    if not isinstance(arg, dict):
        return ["expected a mapping with by, cases and optionally ignore_case and default"]
    # YAML reads a bare ``on:`` key as true: say so rather than "unknown key True".
    problems = [f"unknown key {k!r} (known: {', '.join(sorted(_SWITCH_KEYS))})"
                + (" (YAML reads on/yes as true)" if isinstance(k, bool) else "")
                for k in arg if k not in _SWITCH_KEYS]
    if not isinstance(arg.get("by"), str | dict):
        problems.append("by: expected a dotted path or a field (the value switched on)")
    if not isinstance(arg.get("ignore_case", False), bool):
        problems.append("ignore_case: expected true or false")
    cases = arg.get("cases")
    if not isinstance(cases, dict) or not cases:
        problems.append("cases: expected a non-empty mapping of value to field")
    elif arg.get("ignore_case"):
        seen: dict[str, Any] = {}
        for key in cases:
            folded = _js.to_string(key).lower()
            if folded in seen:
                problems.append(f"cases: {seen[folded]!r} and {key!r} are the same case "
                                "ignoring case")
            seen[folded] = key
    return problems


def _now_format(arg: Any, env: CompileEnv) -> list[str]:
    return [] if arg in _NOW_FORMATS else [f"expected one of {', '.join(_NOW_FORMATS)}"]


# --- sources ----------------------------------------------------------------------------------


def _in_message(getter: Callable[[Any], Any]) -> Source:
    """A source reading ``getter`` in the job's document (the event, or the document a hook
    passes to ``ctx.build``). As the reference's get-value, a document that is a string, number
    or boolean answers every path with itself (a product given as a plain id)."""

    def source(ctx: Context) -> Any:
        doc = ctx.message
        if type(doc) is dict or not isinstance(doc, str | int | float):  # bool is an int
            return getter(doc)
        return doc

    return source


def _build_path(arg: Any, env: CompileEnv) -> Source:
    return _in_message(compile_path(arg) if isinstance(arg, str) else compile_first_present(arg))


def _first_matching(arg: Any, accept: Callable[[Any], bool], missing: Any = None) -> Source:
    """``a || b`` / ``a ?? b`` over paths into the event and (compiled) fields, in order."""
    items = [arg] if isinstance(arg, str) else list(arg)
    if all(isinstance(item, str) for item in items):
        return _in_message(compile_first_matching(items, accept, missing))
    return first_matching([_message_path(item, missing) if isinstance(item, str) else item
                           for item in items], accept)


def _message_path(path: str, missing: Any = None) -> Source:
    return _in_message(compile_path(path, missing))


def _compile_listed_fields(arg: Any, compile_: Callable[[Any, str], Source]) -> Any:
    """A list's dict items compiled as fields (its str items stay paths)."""
    if not isinstance(arg, list):
        return arg
    return [compile_(item, f"[{i}]") if isinstance(item, dict) else item
            for i, item in enumerate(arg)]


def _build_first_truthy(arg: Any, env: CompileEnv) -> Source:
    return _first_matching(arg, _js.is_truthy)


def _build_first_truthy_js(arg: Any, env: CompileEnv) -> Source:
    return _first_matching(arg, _js.is_truthy, _js.UNDEFINED)


def _build_first_defined(arg: Any, env: CompileEnv) -> Source:
    return _first_matching(arg, is_defined)


def _build_first_defined_js(arg: Any, env: CompileEnv) -> Source:
    return _first_matching(arg, is_defined, _js.UNDEFINED)


def _build_path_js(arg: Any, env: CompileEnv) -> Source:
    return _message_path(arg, _js.UNDEFINED)


def _build_generic(arg: Any, env: CompileEnv) -> Source:
    return _in_message(compile_first_present(env.aliases[arg]))


def _document_source(document: Callable[[Context], Any], missing: Any = None) -> Callable[..., Source]:
    """A builder of sources reading a dotted path in one document of the job (config, metadata)."""

    def build(arg: Any, env: CompileEnv) -> Source:
        getter = compile_path(arg, missing)
        return lambda ctx: getter(document(ctx))

    return build


def _config(ctx: Context) -> Any:
    return ctx.config


def _metadata(ctx: Context) -> Any:
    return ctx.metadata


_build_config = _document_source(_config)
_build_config_js = _document_source(_config, _js.UNDEFINED)
_build_metadata = _document_source(_metadata)
_build_metadata_js = _document_source(_metadata, _js.UNDEFINED)


def external_id(message: dict[str, Any], kind: str) -> Any:
    """The reference's getDestinationExternalID: the id of the first ``context.externalId`` entry
    whose type is exactly ``kind`` (None when there is none, or it has no id)."""
    context = message.get("context")
    entries = context.get("externalId") if isinstance(context, dict) else None
    if isinstance(entries, list):
        for entry in entries:
            if isinstance(entry, dict) and entry.get("type") == kind:
                return entry.get("id")
    return None


def _build_external_id(arg: Any, env: CompileEnv) -> Source:
    return lambda ctx: external_id(ctx.message, arg)


def _build_var(arg: Any, env: CompileEnv) -> Source:
    return lambda ctx: ctx.vars.get(arg)


def _build_value(arg: Any, env: CompileEnv) -> Source:
    return lambda ctx: arg


def _build_hook_source(arg: Any, env: CompileEnv) -> Source:
    hook = env.hooks[arg]
    return lambda ctx: hook(ctx)


@dataclass(frozen=True, slots=True)
class _Switch:
    """A ``switch`` argument, its fields compiled."""

    by: Source
    cases: Mapping[str, Source]
    default: Source | None
    ignore_case: bool


def _compile_switch(arg: dict[str, Any], compile_: Callable[[Any, str], Source]) -> _Switch:
    by = arg["by"]
    fold = bool(arg.get("ignore_case", False))
    # Case keys compare as JavaScript object keys do: String(key) (YAML may read 1 or true).
    cases = {(_js.to_string(key).lower() if fold else _js.to_string(key)):
             compile_(spec, f".cases.{key}") for key, spec in arg["cases"].items()}
    return _Switch(
        by=compile_({"path": by} if isinstance(by, str) else by, ".by"),
        cases=MappingProxyType(cases),
        default=compile_(arg["default"], ".default") if "default" in arg else None,
        ignore_case=fold,
    )


def _build_switch(arg: _Switch, env: CompileEnv) -> Source:
    by, cases, default, fold = arg.by, arg.cases, arg.default, arg.ignore_case

    def switch(ctx: Context) -> Any:
        value = by(ctx)
        if value is not None and value is not _js.UNDEFINED:
            key = _js.to_string(value)
            case = cases.get(key.lower() if fold else key)
            if case is not None:
                return case(ctx)
        return default(ctx) if default is not None else None

    return switch


_NOW_FORMATS: Mapping[str, Callable[[int], Any]] = MappingProxyType(
    {
        "iso": lambda ms: to_iso(parse_date(ms)),  # type: ignore[arg-type]
        "ms": lambda ms: ms,
        "s": lambda ms: ms // 1000,
    }
)


def _build_now(arg: Any, env: CompileEnv) -> Source:
    fmt = _NOW_FORMATS[arg]
    return lambda ctx: fmt(ctx.clock.now_ms())


# --- conversions (the ``type`` modifier) -----------------------------------------------------


def _timestamp_iso(value: Any) -> Any:
    moment = parse_date(value)
    return to_iso(moment) if moment else None


def _flatten(value: Any, prefix: str = "", out: dict[str, Any] | None = None) -> dict[str, Any]:
    out = {} if out is None else out
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            _flatten(item, f"{prefix}.{index}" if prefix else str(index), out)
    elif prefix:
        out[prefix] = value
    return out


def flatten(value: Any) -> dict[str, Any]:
    """``{"a": {"b": 1}, "c": [2]}`` -> ``{"a.b": 1, "c.0": 2}``."""
    return _flatten(value)


def _basic_auth(value: Any) -> str:
    """An HTTP Basic Authorization header value: "Basic " + base64 of the UTF-8 string form."""
    return "Basic " + base64.b64encode(_js.to_string(value).encode()).decode("ascii")


#: JavaScript's \D: not an ASCII digit (Python's \d also matches other scripts' digits).
_NON_DIGITS = re.compile(r"[^0-9]")


def phone_digits(value: Any) -> str | None:
    """A phone number as the reference normalises it before hashing: the digits of String(value)
    without leading zeros (``.replace(/\\D/g, '').replace(/^0+/, '')``); None when none is left."""
    return _NON_DIGITS.sub("", _js.to_string(value)).lstrip("0") or None


#: JavaScript's /^-?\d+$/ (ASCII digits).
_INTEGER = re.compile(r"-?[0-9]+")


def number_if_numeric(value: Any) -> Any:
    """A string that reads as a finite number (JavaScript's Number() of it trimmed) becomes that
    number; any other value stays as it is."""
    if isinstance(value, str) and (text := _js.js_trim(value)):
        number = _js.to_number(text)
        return number if math.isfinite(number) else value
    return value


def int_if_integer(value: Any) -> Any:
    """A string of an integer (once trimmed) becomes that integer; any other value stays."""
    if isinstance(value, str) and _INTEGER.fullmatch(_js.js_trim(value)):
        return _js.parse_int(value)
    return value


def string_if_number(value: Any) -> Any:
    """A finite number becomes String(number); any other value stays as it is."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return _js.to_string(value)
    return value


def _sha256(value: Any) -> str:
    return hashlib.sha256(_js.to_string(value).encode()).hexdigest()


CONVERSIONS: Mapping[str, Callable[[Any], Any]] = MappingProxyType(
    {
        "string": _js.to_string,
        "number": _js.to_number,
        "float": _js.parse_float,
        "int": _js.parse_int,
        "lower": lambda v: _js.to_string(v).lower(),
        "upper": lambda v: _js.to_string(v).upper(),
        "trim": lambda v: _js.js_trim(v) if isinstance(v, str) else v,
        "json": _js.stringify,
        "json_if_not_string": lambda v: v if isinstance(v, str) else _js.stringify(v),
        "flatten": flatten,
        "flatten_json": _js.flatten_json,
        "timestamp_ms": epoch_ms,
        "timestamp_s": epoch_seconds,
        # The CDK v2 workflows' toSeconds: absent for what is no date and for the epoch itself.
        "to_seconds": to_seconds,
        # new Date(value).getTime(): NaN (sent as null, absent to the mapping) when no date.
        "date_ms": js_date_ms,
        "timestamp_iso": _timestamp_iso,
        "boolean_flag": lambda v: isinstance(v, bool),
        "array_only": lambda v: v if isinstance(v, list) else None,
        "string_only": lambda v: v if isinstance(v, str) else None,
        "sha256": _sha256,
        # The npm sha256 package's binary-string hashing of String(value) (hashToSha256).
        "sha256_binary": lambda v: sha256_binary(_js.to_string(v)),
        "basic_auth": _basic_auth,
        "object_assign": _js.spread,
        "without_nulls": lambda v: _js.without_nulls(v) if isinstance(v, dict) else v,
        "truthy": lambda v: v if _js.is_truthy(v) else None,
        # JavaScript's !value (with js_null a null is false, so !null is true).
        "not": lambda v: not _js.is_truthy(v),
        "phone_digits": phone_digits,
        # Declared types, as the reference coerces ecommerce fields (a number stays a number).
        "number_if_numeric": number_if_numeric,
        "int_if_integer": int_if_integer,
        "string_if_number": string_if_number,
        "without_blanks": lambda v: _js.without_blanks(v) if isinstance(v, dict) else v,
        "apple_family": lambda v: True if is_apple_family(v) else None,
        "strip_trailing_slash": lambda v: v[:-1] if isinstance(v, str) and v.endswith("/") else v,
        "remove_spaces_and_dashes": lambda v: (
            v.replace(" ", "").replace("-", "") if isinstance(v, str) else v
        ),
    }
)


# --- modifiers --------------------------------------------------------------------------------


def _build_type(arg: Any, env: CompileEnv) -> Modifier:
    funcs = [CONVERSIONS[name] for name in (arg if isinstance(arg, list) else [arg])]

    def convert(value: Any, ctx: Context) -> Any:
        for func in funcs:
            value = func(value)
            if value is None:  # absent now: the later conversions do not apply
                return None
        return value

    return convert


def _build_default(arg: Any, env: CompileEnv) -> Modifier:
    return lambda value, ctx: value if _js.is_present(value) else arg


def _build_default_nullish(arg: Any, env: CompileEnv) -> Modifier:
    return lambda value, ctx: arg if value is None or value is _js.UNDEFINED else value


def _build_default_missing(arg: Any, env: CompileEnv) -> Modifier:
    return lambda value, ctx: arg if value is _js.UNDEFINED else value


def _build_exclude(arg: Any, env: CompileEnv) -> Modifier:
    keys = frozenset(arg)

    def exclude(value: Any, ctx: Context) -> Any:
        if isinstance(value, dict):
            return {k: v for k, v in value.items() if k not in keys}
        return value

    return exclude


def _build_rename_keys(arg: Any, env: CompileEnv) -> Modifier:
    table = dict(arg)

    def rename(value: Any, ctx: Context) -> Any:
        if isinstance(value, dict):  # a later key renamed onto an earlier one wins, in its place
            return {table.get(k, k): v for k, v in value.items()}
        return value

    return rename


def _build_key_prefix(arg: Any, env: CompileEnv) -> Modifier:
    def prefix(value: Any, ctx: Context) -> Any:
        if isinstance(value, dict):
            return {f"{arg}{k}": v for k, v in value.items()}
        return value

    return prefix


def _key_map(arg: Any, env: CompileEnv) -> list[str]:
    if isinstance(arg, dict) and all(isinstance(k, str) and isinstance(v, str)
                                     for k, v in arg.items()):
        return []
    return ["expected a mapping of key to new key (strings)"]


def _string(arg: Any, env: CompileEnv) -> list[str]:
    return [] if isinstance(arg, str) else ["expected a string"]


def _build_map_values(arg: Any, env: CompileEnv) -> Modifier:
    table = dict(arg)
    return lambda value, ctx: table.get(value, value) if isinstance(value, str | int) else value


def _build_allowed(arg: Any, env: CompileEnv) -> Modifier:
    allowed = list(arg)
    return lambda value, ctx: value if value in allowed else None


def _build_template(arg: Any, env: CompileEnv) -> Modifier:
    before, _, after = arg.replace("{{ value }}", "{{value}}").partition("{{value}}")

    def template(value: Any, ctx: Context) -> Any:
        # A JavaScript template literal: nothing trimmed; null (seen with js_null) prints "null".
        return f"{before}{_js.to_string(value)}{after}"

    return template


def _build_regex(arg: Any, env: CompileEnv) -> Modifier:
    pattern = re.compile(arg)

    def match(value: Any, ctx: Context) -> Any:
        if value is not None and not pattern.search(_js.to_string(value)):
            raise InstrumentationError(f"The value '{value}' does not match the regex pattern, {arg}")
        return value

    return match


def _build_apply(arg: Any, env: CompileEnv) -> Modifier:
    hook = env.hooks[arg]
    return lambda value, ctx: hook(value, ctx)


def _build_to_array(arg: Any, env: CompileEnv) -> Modifier:
    if not arg:
        return lambda value, ctx: value
    return lambda value, ctx: value if value is None or isinstance(value, list) else [value]


_ALL: tuple[Directive, ...] = (
    Directive("path", "source", "a dotted path into the event; a list is tried in order until "
              "one is present", _path_or_paths, _build_path, build_js_null=_build_path_js),
    Directive("first_truthy", "source", "paths (or fields) tried as JavaScript's a || b does: the "
              "first truthy value, else the last value", _paths_or_fields, _build_first_truthy,
              compile_nested=_compile_listed_fields, build_js_null=_build_first_truthy_js),
    Directive("first_defined", "source", "paths (or fields) tried as JavaScript's a ?? b does: "
              "the first non-null value, else the last value", _paths_or_fields,
              _build_first_defined, compile_nested=_compile_listed_fields,
              build_js_null=_build_first_defined_js),
    Directive("get_value", "source", "the reference's getValueFromMessage: a path read as npm "
              "get-value reads it, or a list of paths (and fields) tried until one is present",
              check_lookup, build_get_value, compile_nested=_compile_listed_fields),
    Directive("multiply", "source", "the product of paths and fields (the reference's "
              "multiplication operation); absent when one is absent or not numeric",
              check_operands, build_multiply, compile_nested=_compile_listed_fields),
    Directive("custom_fields", "source", "the reference's extractCustomFields: every own key "
              "of the objects at ``from`` (later ones win) not in ``exclude``", check_custom_fields,
              build_custom_fields),
    Directive("generic", "source", "a generic alias (userIdOnly, email, ...) of aliases.yaml",
              _alias, _build_generic),
    Directive("config", "source", "a dotted path into the destination's Config", _one_path,
              _build_config, build_js_null=_build_config_js),
    Directive("metadata", "source", "a dotted path into the job's metadata", _one_path,
              _build_metadata, build_js_null=_build_metadata_js),
    Directive("external_id", "source", "the id of the first context.externalId entry of this "
              "type (the reference's getDestinationExternalID)", _one_path, _build_external_id),
    Directive("var", "source", "a value a hook stored in ctx.vars", _one_path, _build_var),
    Directive("value", "source", "a constant", _anything, _build_value),
    Directive("now", "source", "the service clock: iso, ms or s", _now_format, _build_now),
    Directive("hook", "source", "a function of hooks.py called with the context", _hook_name,
              _build_hook_source),
    Directive("switch", "source", "the field of the case the value of ``by`` names (String(value), "
              "lower-cased with ignore_case), else ``default``'s (absent without one)", _switch,
              _build_switch, compile_nested=_compile_switch),
    Directive("type", "modifier", "one conversion or a list applied in order", _conversion_names,
              _build_type),
    Directive("default", "modifier", "used when the value is absent", _anything, _build_default,
              sees_absent=True),
    Directive("default_nullish", "modifier", "used when the value is null or missing, as "
              "JavaScript's ?? does (an empty string or NaN stays)", _anything,
              _build_default_nullish, sees_absent=True),
    Directive("default_missing", "modifier", "with js_null: used only when the key is missing "
              "(a JSON null stays), as a default parameter or config.get(key, x) does",
              _anything, _build_default_missing, sees_absent=True),
    Directive("exclude", "modifier", "keys removed from an object value", _string_list,
              _build_exclude),
    Directive("rename_keys", "modifier", "renames an object value's keys found in the table",
              _key_map, _build_rename_keys),
    Directive("key_prefix", "modifier", "a string put before each key of an object value",
              _string, _build_key_prefix),
    Directive("map_values", "modifier", "replaces a value found in the table", _value_map,
              _build_map_values),
    Directive("allowed", "modifier", "drops a value not in the list", _anything, _build_allowed),
    Directive("template", "modifier", "a string with {{value}} in it", _template,
              _build_template),
    Directive("regex", "modifier", "the value must match, or the event is rejected", _regex,
              _build_regex),
    Directive("apply", "modifier", "a function of hooks.py called with (value, context)",
              _hook_name, _build_apply),
    Directive("to_array", "modifier", "wraps a single value in a list", _bool, _build_to_array),
)

DIRECTIVES: Mapping[str, Directive] = MappingProxyType({d.name: d for d in _ALL})

#: Keys of a field spec that are not directives but options of the field itself.
#: ``required``: checked last; ``step``: the workflow step its error names (cdkV2 wording);
#: ``keep``: which absent-looking values still make the key appear (``empty``: "" too,
#: ``null``: "" and null too); ``when``/``unless``: a field whose truthiness decides whether this
#: field is built at all; ``js_null``: a JSON null the source finds is a value (JavaScript's
#: null: modifiers see it and the key is sent), only a missing key is absent (undefined).
FIELD_OPTIONS: frozenset[str] = frozenset({"required", "step", "keep", "when", "unless", "js_null"})
