"""The function registry: validate uploads, version them immutably, move aliases, resolve refs."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from ._errors import InvalidFunction, NotFound
from ._model import FunctionKind, FunctionVersion, Language, LimitOverrides, version_id_for
from ._store import Store

#: Checks code for a kind and language; raises InvalidFunction (with line/column when it can).
Validator = Callable[[FunctionKind, Language, bytes], None]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_VERSION_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True, slots=True)
class RegistryLimits:
    max_code_bytes: int = 256 * 1024
    max_wasm_bytes: int = 16 * 1024 * 1024


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class Registry:
    def __init__(self, store: Store, validate: Validator, *,
                 limits: RegistryLimits | None = None,
                 clock: Callable[[], int] = _now_ms) -> None:
        self._store = store
        self._validate = validate
        self._limits = limits or RegistryLimits()
        self._clock = clock

    @property
    def store(self) -> Store:
        return self._store

    @property
    def limits(self) -> RegistryLimits:
        return self._limits

    def upload(self, workspace: str, name: str, kind: FunctionKind, language: Language,
               code: bytes, *, alias: str = "",
               limits: LimitOverrides | None = None) -> FunctionVersion:
        """Validate and store ``code``; the same code uploaded again is the same version."""
        _check_name("workspace", workspace)
        _check_name("function name", name)
        if alias:
            _check_alias(alias)
        cap = self._limits.max_wasm_bytes if language is Language.WASM else self._limits.max_code_bytes
        if len(code) > cap:
            raise InvalidFunction(f"code is {len(code)} bytes; the limit is {cap}")
        if not code:
            raise InvalidFunction("code is empty")
        self._validate(kind, language, code)
        version = FunctionVersion(
            workspace=workspace, name=name,
            version_id=version_id_for(workspace, name, kind, language, code),
            kind=kind, language=language, created_at_ms=self._clock(), size_bytes=len(code),
            limits=limits or LimitOverrides(),
        )
        stored = self._store.put_version(version, code)
        if alias:
            self._store.set_alias(workspace, name, alias, stored.version_id)
            stored = self._store.get_version(workspace, name, stored.version_id)
        return stored

    def get(self, workspace: str, name: str, version: str = "") -> FunctionVersion:
        """A version by id or alias; the latest when ``version`` is empty."""
        if not version:
            return self._store.latest_version(workspace, name)
        if _VERSION_ID.match(version):
            return self._store.get_version(workspace, name, version)
        version_id = self._store.resolve_alias(workspace, name, version)
        if version_id is None:
            raise NotFound(f"function {name!r} has no alias {version!r} in workspace {workspace!r}")
        return self._store.get_version(workspace, name, version_id)

    def resolve(self, workspace: str, ref: str) -> FunctionVersion:
        """``name``, ``name@alias``, ``name@<version id>``, or a bare version id."""
        if _VERSION_ID.match(ref):
            return self._store.find_version(workspace, ref)
        name, _, version = ref.partition("@")
        return self.get(workspace, name, version)

    def code(self, version: FunctionVersion) -> bytes:
        return self._store.get_code(version.workspace, version.name, version.version_id)

    def latest(self, workspace: str) -> list[FunctionVersion]:
        """The latest version of every function in the workspace."""
        return self._store.list_latest(workspace)

    def versions(self, workspace: str, name: str) -> list[FunctionVersion]:
        """Every version of a function, newest first."""
        versions = self._store.list_versions(workspace, name)
        if not versions:
            raise NotFound(f"no function {name!r} in workspace {workspace!r}")
        return versions

    def delete(self, workspace: str, name: str) -> int:
        deleted = self._store.delete_function(workspace, name)
        if not deleted:
            raise NotFound(f"no function {name!r} in workspace {workspace!r}")
        return deleted

    def set_alias(self, workspace: str, name: str, alias: str, version: str) -> FunctionVersion:
        _check_alias(alias)
        target = self.get(workspace, name, version)
        self._store.set_alias(workspace, name, alias, target.version_id)
        return self._store.get_version(workspace, name, target.version_id)


def _check_name(what: str, value: str) -> None:
    if not _NAME.match(value):
        raise InvalidFunction(f"{what} {value!r} must be 1-128 letters, digits, '_', '.' or '-', "
                              "starting with a letter or digit")


def _check_alias(alias: str) -> None:
    _check_name("alias", alias)
    if _VERSION_ID.match(alias):
        raise InvalidFunction(f"alias {alias!r} looks like a version id; choose another name")
