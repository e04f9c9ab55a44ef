"""The globals user code runs with: RestrictedPython's guards, safe builtins and the user API.

Runs in the worker. Each function version gets its own globals, builtins, module views and class
registry, so nothing one version binds or defines is visible to another.
"""

from __future__ import annotations

import builtins
import operator
import weakref
from collections.abc import Callable
from typing import Any

from RestrictedPython import Guards

from sandbox._modules import ModuleCatalog
from sandbox._userapi import DropEvent, EventNotSupported, LogSink, RetryError, ValidationError

# RestrictedPython's guards are untyped; these are their signatures as used here
safer_getattr: Callable[[object, str, object], Any] = Guards.safer_getattr
safer_getattr_raise: Callable[[object, str], Any] = Guards.safer_getattr_raise
guarded_unpack_sequence: Callable[..., Any] = Guards.guarded_unpack_sequence
guarded_iter_unpack_sequence: Callable[..., Any] = Guards.guarded_iter_unpack_sequence


# Builtins taken as they are. RestrictedPython leaves out the ones that iterate in C (sorted, zip,
# tuple, ...) because Zope guards each item access; here ``_getiter_`` is plain ``iter`` and the
# only objects around are plain data, so those are as safe as a for loop. Left out on purpose:
# open, eval, exec, compile, globals, locals, vars, dir, type (three-argument form builds classes
# with any dunder), id (leaks addresses), input, breakpoint, memoryview, super, help.
_BUILTIN_NAMES = (
    "abs", "all", "any", "ascii", "bin", "bool", "bytes", "callable", "chr", "complex", "dict", "divmod",
    "enumerate", "filter", "float", "frozenset", "hash", "hex", "int", "isinstance", "issubclass", "iter",
    "len", "list", "map", "max", "min", "next", "object", "oct", "ord", "pow", "range", "repr", "reversed",
    "round", "set", "slice", "sorted", "str", "sum", "tuple", "zip", "Ellipsis", "NotImplemented",
    "ArithmeticError", "AssertionError", "AttributeError", "BaseException", "Exception", "ImportError",
    "IndexError", "KeyError", "LookupError", "MemoryError", "NameError", "NotImplementedError",
    "OverflowError", "RecursionError", "RuntimeError", "StopIteration", "TypeError", "UnboundLocalError",
    "UnicodeDecodeError", "UnicodeEncodeError", "UnicodeError", "ValueError", "ZeroDivisionError",
)
_BASE_BUILTINS: dict[str, Any] = {name: getattr(builtins, name) for name in _BUILTIN_NAMES}

_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow, "<<=": operator.ilshift,
    ">>=": operator.irshift, "&=": operator.iand, "|=": operator.ior, "^=": operator.ixor,
    "@=": operator.imatmul,
}


def _inplacevar(op: str, x: Any, y: Any) -> Any:
    return _INPLACE[op](x, y)


def _apply(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return function(*args, **kwargs)


def _getattr(obj: object, name: str, *default: object) -> Any:
    """``getattr`` for user code: RestrictedPython's safer_getattr, raising when there is no default."""
    if not default:
        return safer_getattr_raise(obj, name)
    if len(default) > 1:
        raise TypeError("getattr expected at most 3 arguments")
    return safer_getattr(obj, name, default[0])


def _hasattr(obj: object, name: str) -> bool:
    try:
        safer_getattr_raise(obj, name)
    except AttributeError:
        return False
    return True


class _NotWritable:
    """What ``_write_`` returns for objects user code may not change: every write raises."""

    __slots__ = ("_kind",)
    _kind: str

    def __init__(self, obj: object) -> None:
        object.__setattr__(self, "_kind", type(obj).__name__)

    def __setattr__(self, name: str, value: object) -> None:
        raise TypeError(f"cannot set attributes of {self._kind!r} objects")

    def __delattr__(self, name: str) -> None:
        raise TypeError(f"cannot delete attributes of {self._kind!r} objects")

    def __setitem__(self, key: object, value: object) -> None:
        raise TypeError(f"{self._kind!r} object does not support item assignment")

    def __delitem__(self, key: object) -> None:
        raise TypeError(f"{self._kind!r} object does not support item deletion")


class NamespaceFactory:
    """Builds the globals of each function version loaded in this worker."""

    def __init__(self, sink: LogSink, catalog: ModuleCatalog) -> None:
        self._sink = sink
        self._catalog = catalog

    def new_globals(self, name: str) -> dict[str, Any]:
        # Classes defined by this version's code; their instances (and only those, besides dicts
        # and lists) may be written to, so user classes work without opening up shared objects.
        user_classes: weakref.WeakSet[type] = weakref.WeakSet()

        def metaclass(cls_name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> type:
            # RestrictedPython compiles every class statement with metaclass=__metaclass__;
            # type() still picks the bases' own metaclass where they have one
            cls = type(cls_name, bases, namespace)
            user_classes.add(cls)
            return cls

        def write_guard(obj: Any) -> Any:
            kind = type(obj)
            if kind is dict or kind is list or kind in user_classes:
                return obj
            return _NotWritable(obj)

        def setattr_(obj: object, attr: str, value: object) -> None:
            _check_attribute_name(attr)
            setattr(write_guard(obj), attr, value)

        def delattr_(obj: object, attr: str) -> None:
            _check_attribute_name(attr)
            delattr(write_guard(obj), attr)

        views = self._catalog.views_for_version()
        user_builtins = dict(_BASE_BUILTINS)
        user_builtins.update({
            "__build_class__": builtins.__build_class__,
            "__import__": self._catalog.importer(views),
            "getattr": _getattr,
            "hasattr": _hasattr,
            "setattr": setattr_,
            "delattr": delattr_,
            "log": self._sink.log,
            "ValidationError": ValidationError,
            "RetryError": RetryError,
            "DropEvent": DropEvent,
            "EventNotSupported": EventNotSupported,
        })
        return {
            "__builtins__": user_builtins,
            "__name__": name,
            "__metaclass__": metaclass,
            # RestrictedPython rewrites attribute reads, subscripts, iteration, writes, augmented
            # assignment, star-calls, unpacking and print into calls of these names
            "_getattr_": safer_getattr_raise,
            "_getitem_": operator.getitem,
            "_getiter_": iter,
            "_write_": write_guard,
            "_inplacevar_": _inplacevar,
            "_apply_": _apply,
            "_unpack_sequence_": guarded_unpack_sequence,
            "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
            "_print_": self._sink.print_factory,
        }


def _check_attribute_name(name: object) -> None:
    if type(name) is not str:
        raise TypeError("attribute name must be a string")
    if name.startswith("_"):
        raise AttributeError(f'"{name}" is an invalid attribute name because it starts with "_"')
