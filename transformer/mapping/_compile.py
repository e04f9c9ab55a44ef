"""Compiling mapping trees into plain Python callables, collecting every problem on the way.

A *field* is a dict of directives (see ``_directives``); an *object mapping* is a dict whose keys
are output keys. Two structural sources live here rather than in the registry because they
recurse into this compiler: ``object: {...}`` (an explicit nested mapping, for output keys that
collide with directive names) and ``merge: [field, ...]`` (objects merged left to right).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from transformer._errors import InstrumentationError

from ._context import Context
from ._directives import DIRECTIVES, FIELD_OPTIONS, CompileEnv, Modifier, Source
from ._js import UNDEFINED, is_present, is_truthy

Build = Callable[[Context], dict[str, Any]]
STRUCTURAL = frozenset({"object", "merge"})


class Problems(list[str]):
    """Validation problems, each prefixed with where it was found."""

    def add(self, where: str, problem: str) -> None:
        self.append(f"{where}: {problem}")


def is_field(spec: Any) -> bool:
    """A dict every key of which is a directive, an option or structural is a field spec."""
    if not isinstance(spec, dict) or not spec:
        return False
    return all(k in DIRECTIVES or k in FIELD_OPTIONS or k in STRUCTURAL for k in spec)


def compile_value(spec: Any, env: CompileEnv, where: str, problems: Problems) -> Source:
    """A Source for a literal, a field spec, or a nested object mapping."""
    if isinstance(spec, dict):
        if is_field(spec):
            return _compile_field(spec, env, where, problems)
        nested = compile_object(spec, env, where, problems)
        return lambda ctx: nested(ctx) or None
    if isinstance(spec, list):
        items = [compile_value(s, env, f"{where}[{i}]", problems) for i, s in enumerate(spec)]
        return lambda ctx: [v for v in (item(ctx) for item in items) if is_present(v)]
    return lambda ctx: spec


_KEEP: dict[str, Callable[[Any], bool]] = {
    "present": is_present,
    "empty": lambda value: value is not None,
    "null": lambda value: True,
}


def compile_object(spec: dict[str, Any], env: CompileEnv, where: str, problems: Problems) -> Build:
    """A function building a dict from ``spec``; absent values leave their key out (a field's
    ``keep`` option may keep "" or null; with ``js_null`` only undefined is left out)."""
    fields: list[tuple[str, Source, Callable[[Any], bool]]] = []
    for key, value in spec.items():
        field_spec = is_field(value)
        if field_spec and value.get("js_null"):
            if "keep" in value:
                problems.add(f"{where}.{key}.keep", "js_null already keeps every value but a "
                                                    "missing one; leave keep out")
            fields.append((str(key), _compile_field(value, env, f"{where}.{key}", problems,
                                                    raw=True), _defined))
            continue
        keep = value.get("keep", "present") if field_spec else "present"
        if keep not in _KEEP:
            problems.add(f"{where}.{key}.keep", f"must be one of {', '.join(_KEEP)}")
            keep = "present"
        fields.append((str(key), compile_value(value, env, f"{where}.{key}", problems),
                       _KEEP[keep]))

    # ``None`` for the default keep ("present"), tested inline: this loop runs for every field.
    plan = [(key, source, None if kept is is_present else kept) for key, source, kept in fields]

    def build(ctx: Context) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, source, kept in plan:
            value = source(ctx)
            if kept is None:  # is_present, its call saved for the common kinds of value
                kind = type(value)
                if kind is str:
                    if not value:
                        continue
                elif value is None:
                    continue
                elif kind is not dict and kind is not list and kind is not int \
                        and kind is not bool and not is_present(value):
                    continue  # undefined, NaN (or an unusual type, tested in full)
            elif not kept(value):
                continue
            out[key] = value
        return out

    return build


def _defined(value: Any) -> bool:
    return value is not UNDEFINED


def _compile_field(spec: dict[str, Any], env: CompileEnv, where: str, problems: Problems,
                   raw: bool = False) -> Source:
    """A field's Source. With ``js_null`` a missing value is UNDEFINED inside the field (and,
    when ``raw``, to the caller too: compile_object drops it but keeps a null); otherwise None."""
    sources = [k for k in spec if k in STRUCTURAL or (DIRECTIVES.get(k, None) is not None
               and DIRECTIVES[k].role == "source")]
    if len(sources) != 1:
        found = ", ".join(sources) or "none"
        problems.add(where, f"a field needs exactly one source directive (found: {found})")
        return lambda ctx: None
    js_null = spec.get("js_null", False)
    if not isinstance(js_null, bool):
        problems.add(f"{where}.js_null", "expected true or false")
        js_null = False
    if "default_missing" in spec and not js_null:
        problems.add(f"{where}.default_missing", "needs js_null: true (without it a missing key "
                                                 "and a null are both absent; use default_nullish)")
    source = _compile_source(sources[0], spec[sources[0]], env, where, problems, js_null)
    modifiers: list[tuple[Modifier, bool]] = []
    for key, arg in spec.items():
        directive = DIRECTIVES.get(key)
        if directive is None or directive.role != "modifier":
            continue
        errors = directive.check(arg, env)
        for error in errors:
            problems.add(f"{where}.{key}", error)
        if not errors:
            modifiers.append((directive.build(arg, env), directive.sees_absent))
    required = spec.get("required", False)
    if not isinstance(required, bool | str):
        problems.add(f"{where}.required", "expected true, false or an error message")
    step = spec.get("step", "")
    if not isinstance(step, str) or (step and not required):
        problems.add(f"{where}.step", "expected the name of the workflow step that reports the "
                                      "required error (with required)")
        step = ""
    missing = _missing_message(required, sources[0], spec[sources[0]])
    if js_null:
        field = _chain_js_null(source, tuple(modifiers), missing, step)
        if not raw:
            inner = field
            field = lambda ctx: None if (value := inner(ctx)) is UNDEFINED else value  # noqa: E731
    else:
        field = _chain(source, tuple(modifiers), missing, step)
    for option, wanted in (("when", True), ("unless", False)):
        if option in spec:
            condition = compile_value(spec[option], env, f"{where}.{option}", problems)
            field = _conditional(condition, wanted, field, UNDEFINED if raw and js_null else None)
    return field


def _conditional(condition: Source, wanted: bool, field: Source, otherwise: Any = None) -> Source:
    def conditional(ctx: Context) -> Any:
        return field(ctx) if is_truthy(condition(ctx)) == wanted else otherwise

    return conditional


def _compile_source(name: str, arg: Any, env: CompileEnv, where: str, problems: Problems,
                    js_null: bool = False) -> Source:
    if name == "object":
        if not isinstance(arg, dict):
            problems.add(f"{where}.object", "expected a mapping")
            return lambda ctx: None
        nested = compile_object(arg, env, f"{where}.object", problems)
        return lambda ctx: nested(ctx) or None
    if name == "merge":
        if not isinstance(arg, list) or not arg:
            problems.add(f"{where}.merge", "expected a non-empty list of fields")
            return lambda ctx: None
        parts = [compile_value(s, env, f"{where}.merge[{i}]", problems) for i, s in enumerate(arg)]

        def merge(ctx: Context) -> Any:
            out: dict[str, Any] = {}
            for part in parts:
                value = part(ctx)
                if isinstance(value, dict):
                    out.update(value)
            return out or None

        return merge
    directive = DIRECTIVES[name]
    errors = directive.check(arg, env)
    for error in errors:
        problems.add(f"{where}.{name}", error)
    if errors:
        return lambda ctx: None
    if directive.compile_nested is not None:
        arg = directive.compile_nested(
            arg, lambda spec, suffix: compile_value(spec, env, f"{where}.{name}{suffix}", problems))
    build = directive.build
    if js_null:
        if directive.build_js_null is None or (name == "path" and not isinstance(arg, str)):
            problems.add(f"{where}.js_null", "needs a path (a single one), first_truthy, "
                                             "first_defined, config or metadata source")
        else:
            build = directive.build_js_null
    built: Source = build(arg, env)
    return built


def _missing_message(required: bool | str, source: str, arg: Any) -> str | None:
    if isinstance(required, str):
        return required
    if not required:
        return None
    shown = arg if source in ("path", "generic", "get_value") else f"{source}:{arg}"
    # The reference words it this way; routers and their users grep for it.
    return f"Missing required value from {orjson.dumps(shown).decode()}"


def _chain(source: Source, modifiers: tuple[tuple[Modifier, bool], ...],
           missing: str | None, step: str = "") -> Source:
    if not modifiers and missing is None:
        return source

    def field(ctx: Context) -> Any:
        value = source(ctx)
        for modifier, sees_absent in modifiers:
            if value is not None or sees_absent:
                value = modifier(value, ctx)
        if missing is not None and not is_present(value):
            raise InstrumentationError(missing, step=step)
        return value

    return field


def _chain_js_null(source: Source, modifiers: tuple[tuple[Modifier, bool], ...],
                   missing: str | None, step: str) -> Source:
    """The chain of a ``js_null`` field: a null is a value modifiers see; only UNDEFINED (a
    missing key) skips them, and ``default`` replaces it."""

    def field(ctx: Context) -> Any:
        value = source(ctx)
        for modifier, sees_absent in modifiers:
            if value is not UNDEFINED:
                value = modifier(value, ctx)
            elif sees_absent:  # sees UNDEFINED: default_missing tells it from a JSON null
                value = modifier(UNDEFINED, ctx)
                if value is None:
                    value = UNDEFINED
        if missing is not None and not is_present(value):
            raise InstrumentationError(missing, step=step)
        return value

    return field
