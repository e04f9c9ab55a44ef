"""User functions: their kinds and calling conventions, the registry that versions them, the
stores it uses (SQLite; PostgreSQL for many replicas), and running versions in the sandbox (Python
in the worker pool, WebAssembly in the wasmtime runtime: ``Runner`` picks by the version's language,
so callers never need to).

>>> registry = Registry(SqliteStore(":memory:"), validate=lambda kind, language, code: None)
>>> v = registry.upload("ws", "enrich", FunctionKind.TRANSFORMATION, Language.PYTHON, b"...",
...                     alias="live")
>>> registry.resolve("ws", "enrich@live").version_id == v.version_id
True
"""

from ._errors import GuestBuildError, InputError, InvalidFunction, NotFound, RegistryError, StoreUnavailable
from ._guests import build_guest
from ._kinds import KINDS, KindSpec
from ._model import FunctionKind, FunctionVersion, Language, LimitOverrides, version_id_for
from ._postgres import PoolLimits, PostgresStore
from ._python import METADATA_FIELDS, Mode
from ._registry import Registry, RegistryLimits, Validator
from ._runner import (
    Failure,
    Outcome,
    Program,
    Reason,
    Runner,
    RunResult,
    check_limits,
    failure_of,
    inline_version,
    limits_for,
    make_program,
)
from ._store import SqliteStore, Store
from ._trial import Trial, run_trial
from ._validate import validate

__all__ = [
    "KINDS",
    "METADATA_FIELDS",
    "Failure",
    "FunctionKind",
    "FunctionVersion",
    "GuestBuildError",
    "InputError",
    "InvalidFunction",
    "KindSpec",
    "Language",
    "LimitOverrides",
    "Mode",
    "NotFound",
    "Outcome",
    "PoolLimits",
    "PostgresStore",
    "Program",
    "Reason",
    "Registry",
    "RegistryError",
    "RegistryLimits",
    "RunResult",
    "Runner",
    "SqliteStore",
    "Store",
    "StoreUnavailable",
    "Trial",
    "Validator",
    "build_guest",
    "check_limits",
    "failure_of",
    "inline_version",
    "limits_for",
    "make_program",
    "run_trial",
    "validate",
    "version_id_for",
]
