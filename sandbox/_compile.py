"""Restricted compilation of user source, with positioned errors.

RestrictedPython reports its violations as "Line N: ..." strings; a subclass of its policy records
each one with the node's line and column as it is found, so errors are positioned without parsing
messages. The same function compiles in the parent (validation at upload) and in the worker (which
compiles again from source: the parent never executes, or hands over, code objects).

RestrictedPython refuses augmented assignment to items and attributes (``event["n"] += 1``), which
is common in transformations written for RudderStack. A pass before its policy rewrites each one
into plain statements that the policy then guards like any other code::

    event[key()] += 1        ->   c = event; k = key(); v = c[k]; v += 1; c[k] = v

so the container and the key are evaluated once, in Python's order, and every read, write and
in-place operation still goes through ``_getitem_``, ``_write_`` and ``_inplacevar_``. The
temporaries get names user code cannot write (they start with ``_``); the policy lets exactly
those generated name nodes through.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Collection
from dataclasses import dataclass
from types import CodeType
from typing import Any

from RestrictedPython.compile import compile_restricted_exec
from RestrictedPython.transformer import RestrictingNodeTransformer

from sandbox._errors import CompileError, MissingEntryPoint, SourceIssue


@dataclass(frozen=True, slots=True)
class CompiledCode:
    """Source that passed restricted compilation; ``functions`` are its top-level ``def`` names."""

    source: str
    filename: str
    functions: frozenset[str]

    def defines(self, name: str) -> bool:
        """Whether the source defines a top-level function ``name``."""
        return name in self.functions


def compile_function(source: str, filename: str, entry_points: Collection[str] = ()) -> CompiledCode:
    """Compile ``source`` as restricted Python and check that each of ``entry_points`` is defined.

    Raises ``CompileError`` (with line and column) for syntax errors and restricted-Python
    violations, ``MissingEntryPoint`` when a required top-level function is absent.
    """
    if isinstance(entry_points, str):
        entry_points = (entry_points,)
    _, functions = compile_module(source, filename)
    for name in entry_points:
        if name not in functions:
            raise MissingEntryPoint(name)
    return CompiledCode(source, filename, functions)


def compile_module(source: str, filename: str) -> tuple[CodeType, frozenset[str]]:
    """The restricted code object of ``source`` and its top-level function names."""
    try:
        tree = ast.parse(source, filename, "exec")
    except SyntaxError as exc:
        raise _syntax_error(exc) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        # null bytes in the source, or nesting too deep for the parser
        raise CompileError(f"{type(exc).__name__}: {exc}") from None
    functions = frozenset(node.name for node in tree.body if isinstance(node, ast.FunctionDef))
    issues: list[SourceIssue] = []
    rewriter = _AugmentedTargets()
    try:
        tree = rewriter.visit(tree)
        policy = _recording_policy(issues, source, rewriter.generated)
        result = compile_restricted_exec(tree, filename, policy=policy)
    except SyntaxError as exc:
        # raised by compile() after the policy: 'return' outside function and the like
        raise _syntax_error(exc) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise CompileError(f"{type(exc).__name__}: {exc}") from None
    if issues or result.errors or result.code is None:
        if not issues:
            issues.append(SourceIssue(None, None, "; ".join(result.errors) or "compilation failed"))
        issues.sort(key=lambda i: (i.line or 0, i.column or 0))
        first = issues[0]
        raise CompileError(first.message, first.line, first.column, tuple(issues))
    return result.code, functions


def _syntax_error(exc: SyntaxError) -> CompileError:
    return CompileError(f"{type(exc).__name__}: {exc.msg}", exc.lineno, exc.offset)


def _recording_policy(issues: list[SourceIssue], source: str,
                      generated: set[int]) -> type[RestrictingNodeTransformer]:
    """RestrictedPython's policy, also recording each violation with its position into ``issues``.

    ``generated`` holds the ids of the name nodes made by ``_AugmentedTargets``: only those may
    start with an underscore.
    """
    lines = source.splitlines()

    class RecordingPolicy(RestrictingNodeTransformer):
        def error(self, node: ast.AST, info: str) -> None:
            super().error(node, info)
            line = getattr(node, "lineno", None)
            issues.append(SourceIssue(line, _column(lines, line, getattr(node, "col_offset", None)), info))

        def check_name(self, node: Any, name: str | None, allow_magic_methods: bool = False) -> None:
            if id(node) in generated and isinstance(node, ast.Name):
                return
            super().check_name(node, name, allow_magic_methods)

    return RecordingPolicy


class _AugmentedTargets(ast.NodeTransformer):
    """Rewrites ``x[k] op= v`` and ``x.a op= v`` into statements RestrictedPython accepts.

    Name targets (``n += 1``) are left alone: the policy turns them into ``_inplacevar_`` calls.
    A subscript whose key is a tuple holding slices (``a[1:2, 3] += ...``) is left alone too, and
    the policy reports it as before.
    """

    def __init__(self) -> None:
        self.generated: set[int] = set()
        self._nodes: list[ast.Name] = []  # keeps the generated nodes (and so their ids) alive
        self._count = 0

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST | list[ast.stmt]:
        target = node.target
        if isinstance(target, ast.Name):
            return node
        container = self._name("c")
        setup: list[ast.stmt] = [self._assign(container, target.value)]
        place: Callable[[], ast.expr]
        if isinstance(target, ast.Attribute):
            attr = target.attr

            def place() -> ast.expr:
                return ast.Attribute(self._load(container), attr)
        elif isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Slice):
            bounds: dict[str, str | None] = {}
            for field in ("lower", "upper", "step"):
                part = getattr(target.slice, field)
                bounds[field] = None
                if part is not None:
                    bounds[field] = name = self._name(field[0])
                    setup.append(self._assign(name, part))

            def place() -> ast.expr:
                lower, upper, step = (None if n is None else self._load(n) for n in bounds.values())
                return ast.Subscript(self._load(container), ast.Slice(lower, upper, step))
        elif isinstance(target, ast.Subscript) and not _has_slices(target.slice):
            key = self._name("k")
            setup.append(self._assign(key, target.slice))

            def place() -> ast.expr:
                return ast.Subscript(self._load(container), self._load(key))
        else:
            return node
        value = self._name("v")
        read, write = place(), place()
        read.ctx, write.ctx = ast.Load(), ast.Store()  # type: ignore[attr-defined]
        statements = [
            *setup,
            self._assign(value, read),
            ast.AugAssign(self._store(value), node.op, node.value),
            ast.Assign([write], self._load(value)),
        ]
        for statement in statements:
            # only the nodes made here: the user's own expressions keep their positions
            for child in ast.walk(statement):
                if "lineno" in child._attributes and not hasattr(child, "lineno"):
                    ast.copy_location(child, node)
        return statements

    def _name(self, role: str) -> str:
        self._count += 1
        return f"_aug_{role}{self._count}"

    def _assign(self, name: str, value: ast.expr) -> ast.stmt:
        return ast.Assign([self._store(name)], value)

    def _load(self, name: str) -> ast.Name:
        return self._mark(ast.Name(name, ast.Load()))

    def _store(self, name: str) -> ast.Name:
        return self._mark(ast.Name(name, ast.Store()))

    def _mark(self, node: ast.Name) -> ast.Name:
        self._nodes.append(node)
        self.generated.add(id(node))
        return node


def _has_slices(key: ast.expr) -> bool:
    return isinstance(key, ast.Tuple) and any(isinstance(e, ast.Slice) for e in key.elts)


def _column(lines: list[str], line: int | None, col_offset: int | None) -> int | None:
    """1-based character column of an AST offset (AST offsets count UTF-8 bytes)."""
    if line is None or col_offset is None or not 0 < line <= len(lines):
        return None
    prefix = lines[line - 1].encode("utf-8")[:col_offset]
    return len(prefix.decode("utf-8", "ignore")) + 1
