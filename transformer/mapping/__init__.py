"""The declarative mapping language: directives, their registry, and the compiler.

>>> env = CompileEnv(aliases=load_aliases(), hooks={})
>>> problems = Problems()
>>> build = compile_object({"id": {"generic": "userIdOnly", "type": "string"}}, env, "body", problems)
>>> build(Context(message={"userId": 42}))
{'id': '42'}
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from ._collections import extract_custom_fields, unique_by
from ._compile import Build, Problems, compile_object, compile_value, is_field
from ._context import Context
from ._devices import APPLE_FAMILY, is_apple_family
from ._directives import (
    CONVERSIONS,
    DIRECTIVES,
    CompileEnv,
    Directive,
    Source,
    external_id,
    flatten,
    phone_digits,
)
from ._email import is_email
from ._get_value import compile_get_value, get_value
from ._handlebars import HandlebarsError
from ._handlebars import render as render_handlebars
from ._hashing import sha256_binary, sha256_utf8
from ._js import (
    JS_WHITESPACE,
    UNDEFINED,
    first_present,
    flatten_json,
    hash_from_array,
    hash_from_array_with_duplicates,
    integrations_object,
    is_array_index,
    is_blank,
    is_present,
    is_truthy,
    js_add,
    js_get,
    js_keys,
    js_or,
    js_own,
    js_prop,
    js_trim,
    lodash_is_empty,
    lodash_to_string,
    normalize_number,
    number_to_string,
    object_keys,
    parse_float,
    parse_int,
    same_value_key,
    spread,
    stringify,
    to_fixed,
    to_number,
    to_string,
    without_blanks,
    without_nulls,
    without_undefined,
)
from ._lookups import source_paths
from ._paths import (
    is_defined,
    path_get,
    path_keys,
    split_set_value_path,
)
from ._set import (
    UNSAFE_KEYS,
    SetFlavour,
    add_external_id_to_traits,
    is_plain_key,
    js_set,
    set_dotted,
)
from ._tables import Table
from ._time import epoch_ms, epoch_seconds, js_date_ms, ms_to_iso, parse_date, to_epoch_ms, to_iso, to_seconds

__all__ = [
    "APPLE_FAMILY",
    "CONVERSIONS",
    "DIRECTIVES",
    "JS_WHITESPACE",
    "UNDEFINED",
    "UNSAFE_KEYS",
    "Build",
    "CompileEnv",
    "Context",
    "Directive",
    "HandlebarsError",
    "Problems",
    "SetFlavour",
    "Source",
    "Table",
    "add_external_id_to_traits",
    "compile_get_value",
    "compile_object",
    "compile_value",
    "epoch_ms",
    "epoch_seconds",
    "external_id",
    "extract_custom_fields",
    "first_present",
    "flatten",
    "flatten_json",
    "generic_value",
    "get_value",
    "hash_from_array",
    "hash_from_array_with_duplicates",
    "integrations_object",
    "is_apple_family",
    "is_array_index",
    "is_blank",
    "is_defined",
    "is_email",
    "is_field",
    "is_plain_key",
    "is_present",
    "is_truthy",
    "js_add",
    "js_date_ms",
    "js_get",
    "js_keys",
    "js_or",
    "js_own",
    "js_prop",
    "js_set",
    "js_trim",
    "load_aliases",
    "lodash_is_empty",
    "lodash_to_string",
    "ms_to_iso",
    "normalize_number",
    "number_to_string",
    "object_keys",
    "parse_date",
    "parse_float",
    "parse_int",
    "path_get",
    "path_keys",
    "phone_digits",
    "render_handlebars",
    "same_value_key",
    "set_dotted",
    "sha256_binary",
    "sha256_utf8",
    "source_paths",
    "split_set_value_path",
    "spread",
    "stringify",
    "to_epoch_ms",
    "to_fixed",
    "to_iso",
    "to_number",
    "to_seconds",
    "to_string",
    "unique_by",
    "without_blanks",
    "without_nulls",
    "without_undefined",
]


@cache
def load_aliases() -> Mapping[str, tuple[str, ...]]:
    """The generic field aliases shipped with the service (``aliases.yaml``)."""
    raw = yaml.safe_load((Path(__file__).with_name("aliases.yaml")).read_text())
    return MappingProxyType({name: tuple(paths) for name, paths in raw.items()})


def generic_value(message: Any, alias: str) -> Any:
    """The reference's ``getFieldValueFromMessage(message, alias)`` for hooks: the first present
    value of a generic alias of ``aliases.yaml`` (get-value lookups), else None. KeyError for an
    alias that does not exist (a programming error)."""
    return first_present(message, load_aliases()[alias])
