"""Restricted compilation of user source, with positioned errors.

RestrictedPython reports its violations as "Line N: ..." strings; a subclass of its policy records
each one with the node's line and column as it is found, so errors are positioned without parsing
messages. The same function compiles in the parent (validation at upload) and in the worker (which
compiles again from source: the parent never executes, or hands over, code objects).
"""

from __future__ import annotations

import ast
from collections.abc import Collection
from dataclasses import dataclass
from types import CodeType

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
    try:
        result = compile_restricted_exec(tree, filename, policy=_recording_policy(issues, source))
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


def _recording_policy(issues: list[SourceIssue], source: str) -> type[RestrictingNodeTransformer]:
    """RestrictedPython's policy, also recording each violation with its position into ``issues``."""
    lines = source.splitlines()

    class RecordingPolicy(RestrictingNodeTransformer):
        def error(self, node: ast.AST, info: str) -> None:
            super().error(node, info)
            line = getattr(node, "lineno", None)
            issues.append(SourceIssue(line, _column(lines, line, getattr(node, "col_offset", None)), info))

    return RecordingPolicy


def _column(lines: list[str], line: int | None, col_offset: int | None) -> int | None:
    """1-based character column of an AST offset (AST offsets count UTF-8 bytes)."""
    if line is None or col_offset is None or not 0 < line <= len(lines):
        return None
    prefix = lines[line - 1].encode("utf-8")[:col_offset]
    return len(prefix.decode("utf-8", "ignore")) + 1
