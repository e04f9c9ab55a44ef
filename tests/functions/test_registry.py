"""The function registry over its store: versions, aliases, refs, isolation, validation."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from functions import (
    FunctionKind,
    InvalidFunction,
    Language,
    LimitOverrides,
    NotFound,
    PostgresStore,
    Registry,
    RegistryLimits,
    SqliteStore,
    Store,
)

from ..postgres import database_url, fresh_schema

T = FunctionKind.TRANSFORMATION
PY = Language.PYTHON


def reject_bad(kind: FunctionKind, language: Language, code: bytes) -> None:
    if b"syntax error" in code:
        raise InvalidFunction("invalid syntax", line=3, column=7)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each store the registry runs on: every test here runs against both."""
    if request.param == "sqlite":
        sqlite = SqliteStore(tmp_path / ".transformer" / "registry.sqlite3")
        yield sqlite
        sqlite.close()
        return
    with fresh_schema() as schema:
        postgres = PostgresStore(database_url(), schema=schema)
        yield postgres
        postgres.close()


@pytest.fixture
def registry(store: Store) -> Registry:
    ticks = itertools.count(1_000)
    return Registry(store, reject_bad, limits=RegistryLimits(max_code_bytes=1024),
                    clock=lambda: next(ticks))


def test_upload_is_idempotent_per_content(registry: Registry) -> None:
    """The same code is the same version; other code is a new one, listed newest first."""
    first = registry.upload("ws", "fn", T, PY, b"v1")
    again = registry.upload("ws", "fn", T, PY, b"v1")
    second = registry.upload("ws", "fn", T, PY, b"v2")
    assert first.version_id == again.version_id != second.version_id
    assert [v.version_id for v in registry.versions("ws", "fn")] == [second.version_id,
                                                                      first.version_id]
    assert registry.get("ws", "fn").version_id == second.version_id
    assert registry.code(first) == b"v1"


def test_aliases_move_and_resolve(registry: Registry) -> None:
    """An alias points at one version at a time and refs resolve through it."""
    v1 = registry.upload("ws", "fn", T, PY, b"v1", alias="live")
    v2 = registry.upload("ws", "fn", T, PY, b"v2")
    assert registry.resolve("ws", "fn@live").version_id == v1.version_id
    moved = registry.set_alias("ws", "fn", "live", v2.version_id)
    assert moved.aliases == ("live",)
    assert registry.resolve("ws", "fn@live").version_id == v2.version_id
    assert registry.get("ws", "fn", v1.version_id).aliases == ()
    assert registry.resolve("ws", v1.version_id).version_id == v1.version_id
    assert registry.resolve("ws", f"fn@{v1.version_id}").version_id == v1.version_id
    assert registry.resolve("ws", "fn").version_id == v2.version_id


def test_workspaces_are_isolated(registry: Registry) -> None:
    """One workspace cannot load another's function, even by its version id."""
    theirs = registry.upload("other", "fn", T, PY, b"secret")
    with pytest.raises(NotFound):
        registry.resolve("ws", theirs.version_id)
    with pytest.raises(NotFound):
        registry.get("ws", "fn")
    mine = registry.upload("ws", "fn", T, PY, b"secret")
    assert mine.version_id != theirs.version_id  # same code, different tenant: never shared


def test_limits_and_metadata_are_stored(registry: Registry) -> None:
    """Per-function limit overrides, size and creation time come back as stored."""
    v = registry.upload("ws", "fn", FunctionKind.SOURCE, PY, b"code",
                        limits=LimitOverrides(wall_ms=50, memory_bytes=1 << 20))
    got = registry.get("ws", "fn")
    assert got == v
    assert got.limits == LimitOverrides(wall_ms=50, memory_bytes=1 << 20)
    assert (got.kind, got.size_bytes, got.created_at_ms) == (FunctionKind.SOURCE, 4, 1000)


def test_list_shows_latest_of_each_function(registry: Registry) -> None:
    """list gives one row per function: its latest version."""
    registry.upload("ws", "a", T, PY, b"1")
    latest_a = registry.upload("ws", "a", T, PY, b"2", alias="live")
    b = registry.upload("ws", "b", T, PY, b"1")
    rows = registry.latest("ws")
    assert [(r.name, r.version_id, r.aliases) for r in rows] == [
        ("a", latest_a.version_id, ("live",)), ("b", b.version_id, ())]


def test_delete_removes_every_version(registry: Registry) -> None:
    """Delete removes a function's versions and aliases; deleting again is NotFound."""
    registry.upload("ws", "fn", T, PY, b"1", alias="live")
    registry.upload("ws", "fn", T, PY, b"2")
    assert registry.delete("ws", "fn") == 2
    with pytest.raises(NotFound):
        registry.resolve("ws", "fn@live")
    with pytest.raises(NotFound):
        registry.delete("ws", "fn")


@pytest.mark.parametrize(("workspace", "name", "alias", "code", "message"), [
    ("ws", "bad name", "", b"x", "function name 'bad name'"),
    ("", "fn", "", b"x", "workspace ''"),
    ("ws", "fn", "a" * 32, b"x", "looks like a version id"),
    ("ws", "fn", "", b"", "code is empty"),
    ("ws", "fn", "", b"x" * 1025, "code is 1025 bytes; the limit is 1024"),
    ("ws", "fn", "", b"syntax error", "invalid syntax"),
])
def test_invalid_uploads_are_rejected(registry: Registry, workspace: str, name: str, alias: str,
                                      code: bytes, message: str) -> None:
    """Bad names, aliases, sizes and code are rejected with a message saying why."""
    with pytest.raises(InvalidFunction, match=message):
        registry.upload(workspace, name, T, PY, code, alias=alias)
    with pytest.raises(NotFound):
        registry.get("ws", "fn")


def test_validator_errors_carry_line_and_column(registry: Registry) -> None:
    """The validator's line and column reach the caller."""
    with pytest.raises(InvalidFunction) as info:
        registry.upload("ws", "fn", T, PY, b"syntax error")
    assert (info.value.line, info.value.column) == (3, 7)


def test_store_survives_reopening(tmp_path: Path) -> None:
    """Reopening the file keeps the data and does not re-run migrations."""
    path = tmp_path / "r.sqlite3"
    first = Registry(SqliteStore(path), reject_bad)
    version = first.upload("ws", "fn", T, PY, b"1", alias="live")
    first.store.close()
    second = Registry(SqliteStore(path), reject_bad)
    assert second.resolve("ws", "fn@live") == version
    second.store.close()
