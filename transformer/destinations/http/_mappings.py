"""``applyMappings``: a list of ``{from, to}`` mappings applied to an event, as the reference does.

The reference hands the list to ``@rudderstack/json-template-engine`` in "mappings" mode, which
compiles it into one object expression and evaluates that in a sandbox. The compilation has
observable rules, reproduced here on our own syntax tree (``_template``):

* ``to`` names an output path; plain keys nest objects (``a.b`` -> ``{"a": {"b": v}}``), ``$``
  alone spreads the value into the root, ``[*]`` builds a list by iterating the input list
  named by the *first* mapping into it (later mappings' ``from`` are read relative to its
  items), ``[n]`` builds a list by position (all positions from 0 must be mapped);
* a second mapping to the same key becomes ``first || second``;
* the engine's error wording (``Invalid mapping: ... Input: ..., Output: ...``).

Errors inside the engine become ``ConfigurationError("Error in custom mappings: ...")``; a row
the reference's pre-processing (quoting literal ``from`` values, outside the sandbox) crashes on
is a ConfigurationError naming the row, not the reference's 500 the router would retry forever.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from transformer.hooks import ConfigurationError, PlatformError

from ._js import UNDEFINED, JSError, truthy
from ._template import (
    CTX,
    ArrayLit,
    Binary,
    Block,
    Expr,
    Filter,
    Index,
    Key,
    Lit,
    ObjectLit,
    Part,
    Path,
    Prop,
    TemplateError,
    Unsupported,
    evaluate,
    parse,
)

WORKSPACE_REQUIRED = "workspaceId is required for sandboxed custom-mappings evaluation"
_QUOTED_SINGLE = re.compile(r"'.*'")
_QUOTED_DOUBLE = re.compile(r'".*"')
_WORD = re.compile(r"\w+", re.ASCII)
_CACHE_LIMIT = 512
_compiled: dict[bytes, Expr | JSError] = {}


def apply_mappings(message: dict[str, Any], mappings: Any, workspace_id: Any, field: str) -> Any:
    """The object the mappings build from ``message`` (UNDEFINED when there are none)."""
    enhanced = enhance(mappings, field)
    if not truthy(workspace_id):
        raise PlatformError(WORKSPACE_REQUIRED)
    try:
        return _evaluate(message, enhanced)
    except Unsupported as exc:
        raise ConfigurationError(f"Error in custom mappings: {field}: {exc}") from None
    except JSError as exc:
        raise ConfigurationError(f"Error in custom mappings: {exc}") from None


def enhance(mappings: Any, field: str) -> Any:
    """A ``from`` without ``$`` that is not already single-quoted becomes a string literal."""
    if not isinstance(mappings, list):
        return mappings
    return [_enhance_one(mapping, f"{field}[{index}]") for index, mapping in enumerate(mappings)]


def _enhance_one(mapping: Any, where: str) -> dict[str, Any]:
    if mapping is None:
        raise ConfigurationError(f"{where} is null")
    if isinstance(mapping, list | str):  # {...mapping}: index keys, no "from"
        return {str(i): item for i, item in enumerate(mapping)}
    if not isinstance(mapping, dict):
        return {}
    if "from" not in mapping:
        return dict(mapping)
    source = mapping["from"]
    if source is None:
        raise ConfigurationError(f"{where}.from is null")
    if isinstance(source, list):
        if "$" not in source:
            raise ConfigurationError(f"{where}.from must be a string")
        return dict(mapping)
    if not isinstance(source, str):
        raise ConfigurationError(f"{where}.from must be a string")
    if "$" not in source and not (source.startswith("'") and source.endswith("'")):
        source = f"'{source}'"
    return {**mapping, "from": source}


def _evaluate(message: dict[str, Any], mappings: Any) -> Any:
    if not truthy(mappings):
        return UNDEFINED
    if isinstance(mappings, str):
        return _evaluate_template(message, mappings)
    if not isinstance(mappings, list):
        raise JSError("mappings.map is not a function")
    return evaluate(_compile_cached(mappings), message, message)


def _evaluate_template(message: dict[str, Any], template: str) -> Any:
    """A mappings value that is a string is one template; its last statement is the value."""
    try:
        statements = parse(template)
    except Unsupported as exc:
        raise Unsupported(f"template {template!r} uses {exc}, which is not supported") from None
    value: Any = UNDEFINED
    for statement in statements:
        value = evaluate(statement, message, message)
    return value


def _compile_cached(mappings: list[Any]) -> Expr:
    try:
        key = orjson.dumps(mappings)
    except TypeError:
        return compile_mappings(mappings)
    found = _compiled.get(key)
    if found is None:
        try:
            found = compile_mappings(mappings)
        except JSError as exc:
            found = exc
        if len(_compiled) >= _CACHE_LIMIT:
            _compiled.clear()
        _compiled[key] = found
    if isinstance(found, JSError):
        raise found
    return found


# --- compiling a mappings list --------------------------------------------------------------------


@dataclass(eq=False)
class _Mapping:
    source: str  # the input as the engine names it in errors
    target: str  # the output path, normalised
    input: Expr
    output: Expr


def to_json_path(target: Any) -> Any:
    """How the engine reads ``to``: ``$...`` as is, a quoted, word or dotted name as ``$.x``,
    anything else as a quoted key (``user name`` -> ``$.'user name'``)."""
    if not truthy(target):
        return target
    if not isinstance(target, str):
        raise JSError("input.startsWith is not a function")
    if target.startswith("$"):
        return target
    if _QUOTED_SINGLE.fullmatch(target) or _QUOTED_DOUBLE.fullmatch(target) \
            or _WORD.fullmatch(target) or "." in target:
        return f"$.{target}"
    return f"$.'{target}'"


def compile_mappings(mappings: list[Any]) -> Expr:
    """One expression that builds the mappings' output object (or list)."""
    prepared = [_prepare(mapping) for mapping in mappings]
    parsed = [_parse(source, target) for source, target in prepared
              if truthy(source) and truthy(target)]
    return _Compiler().run(parsed)


def _prepare(mapping: dict[str, Any]) -> tuple[Any, Any]:
    source = mapping.get("input")
    if source is None:
        source = mapping.get("from", UNDEFINED)
    target = mapping.get("output")
    if target is None:
        target = mapping.get("to", UNDEFINED)
    return source, to_json_path(target)


def _parse(source: Any, target: str) -> _Mapping:
    if not isinstance(source, str):
        if isinstance(source, list):
            raise Unsupported(f"mapping to {target!r}: nested mapping lists are not supported")
        raise JSError("mappings.map is not a function")
    input_expr = _first_statement(source, source, target)
    output_expr = _first_statement(target, source, target)
    return _Mapping(source, target, input_expr, output_expr)


def _first_statement(text: str, source: str, target: str) -> Expr:
    try:
        statements = parse(text)
    except Unsupported as exc:
        raise Unsupported(f"mapping from {source!r} to {target!r} uses {exc}, "
                          "which is not supported") from None
    if not statements:
        raise JSError("Cannot read properties of undefined (reading 'type')")
    return statements[0]


def _fail(message: str, mapping: _Mapping) -> TemplateError:
    return TemplateError(f"{message}. Input: {mapping.source}, Output: {mapping.target}")


def _is_key(part: Part | None) -> bool:
    """A plain output key (``.a``, ``['a']``); not ``*``."""
    return isinstance(part, Key) and bool(part.name) and part.name != "*"


def _empty_path_over_object(value: Expr) -> bool:
    return isinstance(value, Path) and not value.parts and isinstance(value.root, ObjectLit)


def _refine_leaf(expr: Expr) -> Expr:
    if isinstance(expr, Path) and expr.root is CTX and len(expr.parts) == 1 \
            and isinstance(expr.parts[0], Block):
        return expr.parts[0].expr
    return expr


class _Compiler:
    """Folds flat mappings into one object expression, step by step as the engine does."""

    def run(self, mappings: list[_Mapping]) -> Expr:
        root = ObjectLit([])
        root_path: Expr | None = None
        for mapping in mappings:
            output = mapping.output
            if not isinstance(output, Path):
                raise _fail("Invalid mapping: output should be a path expression", mapping)
            target: Expr = root
            if not output.parts:
                root.props.append(Prop(None, mapping.input))
                continue
            if not _is_key(output.parts[0]):
                holder = Prop("", root_path if root_path is not None else root)
                target = self._next_parts(mapping, 0, holder)
                root_path = holder.value
            self._place(mapping, target)
        return root_path if root_path is not None else root

    @staticmethod
    def _parts(mapping: _Mapping) -> list[Part]:
        assert isinstance(mapping.output, Path)
        return mapping.output.parts

    def _place(self, mapping: _Mapping, target: Expr) -> None:
        props = target.props if isinstance(target, ObjectLit) else None
        for i in range(len(self._parts(mapping))):
            props = self._place_part(mapping, i, props)

    def _place_part(self, mapping: _Mapping, i: int, props: list[Prop] | None) -> list[Prop] | None:
        parts = self._parts(mapping)
        part = parts[i]
        if not _is_key(part):
            return props
        if props is None:
            raise JSError("Cannot read properties of undefined (reading 'find')")
        assert isinstance(part, Key) and part.name is not None
        if i == len(parts) - 1:
            self._leaf(mapping, props, part.name)
            return props
        holder = next((p for p in props if p.key == part.name), None)
        if holder is None:
            holder = Prop(part.name, ObjectLit([]))
            props.append(holder)
        found = self._next_parts(mapping, i + 1, holder)
        return found.props if isinstance(found, ObjectLit) else None

    @staticmethod
    def _leaf(mapping: _Mapping, props: list[Prop], key: str) -> None:
        value = _refine_leaf(mapping.input)
        for prop in props:
            if prop.key == key:
                prop.value = Binary("||", prop.value, value)
                return
        props.append(Prop(key, value))

    def _next_parts(self, mapping: _Mapping, n: int, holder: Prop) -> Expr:
        parts = self._parts(mapping)
        current = holder.value
        while n < len(parts):
            found = self._next_part(mapping, n, holder)
            if found is None:
                break
            if _is_key(parts[n]):
                return found
            n += 1
            current = found
        return current

    def _next_part(self, mapping: _Mapping, n: int, holder: Prop) -> Expr | None:
        parts = self._parts(mapping)
        part = parts[n]
        previous = parts[n - 1] if n > 0 else None
        last = n == len(parts) - 1
        if _is_key(previous) and _is_key(part) and not isinstance(holder.value, ObjectLit):
            holder.value = ObjectLit([Prop(None, holder.value)])
            return holder.value
        if isinstance(part, Filter) and part.cond is None:
            return self._all_items(mapping, holder, last)
        if isinstance(part, Index):
            return self._position(mapping, holder, part, last)
        if isinstance(part, Key) and part.name == "*":
            inp = mapping.input
            if not (isinstance(inp, Path) and any(isinstance(p, Key) and p.name == "*"
                                                   for p in inp.parts)):
                raise _fail("Invalid mapping: input should have wildcard selector", mapping)
            raise Unsupported(f"mapping from {mapping.source!r} to {mapping.target!r} uses a "
                              "wildcard (.*) output, which is not supported")
        return None

    # -- [*] outputs --

    def _all_items(self, mapping: _Mapping, holder: Prop, last: bool) -> Expr:
        inp = mapping.input
        index = next((i for i, p in enumerate(inp.parts) if isinstance(p, Filter)), -1) \
            if isinstance(inp, Path) else -1
        if index == -1:
            current = holder.value
            if isinstance(current, ObjectLit):
                holder.value = Path(inp if last else current, [], as_array=True)
                return current
            if _empty_path_over_object(current):
                assert isinstance(current, Path) and isinstance(current.root, ObjectLit)
                return current.root
        else:
            assert isinstance(inp, Path)
            self._iterate_input(holder, inp, index, last)
        return self._item_object(mapping, holder, last)

    @staticmethod
    def _iterate_input(holder: Prop, inp: Path, index: int, last: bool) -> None:
        """The output list iterates the input list up to its first ``[*]``/filter; the rest of
        the input is then read relative to each item."""
        matched, inp.parts = inp.parts[:index + 1], inp.parts[index + 1:]
        current = holder.value
        if _empty_path_over_object(current):
            assert isinstance(current, Path) and isinstance(current.root, Expr)
            holder.value = current = current.root
        if isinstance(current, Path):
            _merge_filters(current.parts, matched)
        else:
            matched.append(Block(inp if last else current))
            holder.value = Path(inp.root, matched, as_array=True)
        inp.root = CTX

    @staticmethod
    def _item_object(mapping: _Mapping, holder: Prop, last: bool) -> ObjectLit:
        current = holder.value
        if not isinstance(current, Path):
            raise JSError("Cannot read properties of undefined (reading 'length')")
        if last:
            return ObjectLit([])
        block = current.parts[-1] if current.parts else None
        found = block.expr if isinstance(block, Block) else None
        if not isinstance(found, ObjectLit):
            raise _fail("Invalid mapping: invalid array mapping", mapping)
        return found

    # -- [n] outputs --

    @staticmethod
    def _position(mapping: _Mapping, holder: Prop, part: Index, last: bool) -> Expr:
        first = part.indexes[0] if len(part.indexes) == 1 else None
        if not (isinstance(first, Lit) and isinstance(first.value, int)
                and not isinstance(first.value, bool) and first.value >= 0):
            raise Unsupported(f"mapping from {mapping.source!r} to {mapping.target!r} uses an "
                              "output index other than [n], which is not supported")
        position: int = first.value
        current = holder.value
        if not isinstance(current, ArrayLit):
            if position > 0:
                raise _missing_position(mapping, 0)
            holder.value = current = ArrayLit([mapping.input if last else current])
        elif position > len(current.elements):
            raise _missing_position(mapping, len(current.elements))
        elif position == len(current.elements):
            current.elements.append(mapping.input if last else ObjectLit([]))
        found = current.elements[position]
        assert found is not None
        if not last and not isinstance(found, ObjectLit):
            raise _fail("Invalid mapping: invalid array index mapping", mapping)
        return found


def _missing_position(mapping: _Mapping, position: int) -> TemplateError:
    return _fail(f"Invalid mapping: missing a mapping at index#{position}; make sure to define "
                 "all the mappings in order of indexes", mapping)


def _merge_filters(existing: list[Part], new: list[Part]) -> None:
    """A later mapping's filter on the same input step replaces the first mapping's ``[*]``."""
    for i, part in enumerate(new):
        if not isinstance(part, Filter):
            continue
        if i >= len(existing):
            raise JSError("Cannot read properties of undefined (reading 'type')")
        target = existing[i]
        if isinstance(target, Filter) and part.cond is not None:
            target.cond = part.cond
