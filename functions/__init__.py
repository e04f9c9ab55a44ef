"""User functions: their kinds, the registry that versions them, and the stores it uses.

>>> registry = Registry(SqliteStore(":memory:"), validate=lambda kind, language, code: None)
>>> v = registry.upload("ws", "enrich", FunctionKind.TRANSFORMATION, Language.PYTHON, b"...",
...                     alias="live")
>>> registry.resolve("ws", "enrich@live").version_id == v.version_id
True
"""

from ._errors import InvalidFunction, NotFound, RegistryError, StoreUnavailable
from ._kinds import KINDS, KindSpec
from ._model import FunctionKind, FunctionVersion, Language, LimitOverrides, version_id_for
from ._registry import Registry, RegistryLimits, Validator
from ._store import SqliteStore, Store

__all__ = [
    "KINDS",
    "FunctionKind",
    "FunctionVersion",
    "InvalidFunction",
    "KindSpec",
    "Language",
    "LimitOverrides",
    "NotFound",
    "Registry",
    "RegistryError",
    "RegistryLimits",
    "SqliteStore",
    "Store",
    "StoreUnavailable",
    "Validator",
    "version_id_for",
]
