"""Where versions and aliases live: the interface, and its SQLite implementation.

``PostgresStore`` (``_postgres``: many replicas sharing one database) implements the same
``Store`` protocol; the registry knows nothing else about storage. Versions are immutable, so a
version id can be cached forever anywhere; only aliases move.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from ._errors import NotFound, StoreUnavailable
from ._model import FunctionKind, FunctionVersion, Language, LimitOverrides


class Store(Protocol):
    def put_version(self, version: FunctionVersion, code: bytes) -> FunctionVersion:
        """Store a version (storing the same version id again is a no-op); returns it as stored."""
        ...

    def get_version(self, workspace: str, name: str, version_id: str) -> FunctionVersion: ...

    def get_code(self, workspace: str, name: str, version_id: str) -> bytes: ...

    def find_version(self, workspace: str, version_id: str) -> FunctionVersion:
        """A version by id alone, as a router's ``Transformations[].VersionID`` names it."""
        ...

    def latest_version(self, workspace: str, name: str) -> FunctionVersion: ...

    def list_latest(self, workspace: str) -> list[FunctionVersion]: ...

    def list_versions(self, workspace: str, name: str) -> list[FunctionVersion]:
        """Newest first."""
        ...

    def delete_function(self, workspace: str, name: str) -> int:
        """Delete every version and alias of a function; the number of versions deleted."""
        ...

    def set_alias(self, workspace: str, name: str, alias: str, version_id: str) -> None: ...

    def resolve_alias(self, workspace: str, name: str, alias: str) -> str | None: ...

    def close(self) -> None: ...


_MIGRATIONS: tuple[str, ...] = (
    # 1: versions and aliases
    """
    CREATE TABLE versions (
        workspace TEXT NOT NULL,
        name TEXT NOT NULL,
        version_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        language TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        size_bytes INTEGER NOT NULL,
        wall_ms INTEGER, cpu_ms INTEGER, memory_bytes INTEGER, output_bytes INTEGER,
        log_bytes INTEGER,
        code BLOB NOT NULL,
        PRIMARY KEY (workspace, name, version_id)
    );
    CREATE INDEX versions_by_time ON versions (workspace, name, created_at_ms);
    CREATE INDEX versions_by_id ON versions (workspace, version_id);
    CREATE TABLE aliases (
        workspace TEXT NOT NULL,
        name TEXT NOT NULL,
        alias TEXT NOT NULL,
        version_id TEXT NOT NULL,
        PRIMARY KEY (workspace, name, alias),
        FOREIGN KEY (workspace, name, version_id)
            REFERENCES versions (workspace, name, version_id) ON DELETE CASCADE
    );
    """,
)

_COLUMNS = ("workspace, name, version_id, kind, language, created_at_ms, size_bytes, wall_ms, "
            "cpu_ms, memory_bytes, output_bytes, log_bytes")


class SqliteStore:
    """The default store: one SQLite file (``./.transformer/registry.sqlite3`` by default)."""

    def __init__(self, path: Path | str) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._migrate()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open the function registry at {path}: {exc}") from exc
        # One connection shared by the server's threads; SQLite calls are short.
        self._lock = threading.Lock()

    def _migrate(self) -> None:
        (current,) = self._db.execute("PRAGMA user_version").fetchone()
        for number, script in enumerate(_MIGRATIONS[current:], start=current + 1):
            self._db.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")

    @contextmanager
    def _cursor(self) -> Iterator[sqlite3.Cursor]:
        with self._lock:
            try:
                yield self._db.cursor()
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"function registry error: {exc}") from exc

    def put_version(self, version: FunctionVersion, code: bytes) -> FunctionVersion:
        limits = version.limits
        with self._cursor() as cur:
            cur.execute(
                f"INSERT OR IGNORE INTO versions ({_COLUMNS}, code) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (version.workspace, version.name, version.version_id, version.kind.value,
                 version.language.value, version.created_at_ms, version.size_bytes,
                 limits.wall_ms, limits.cpu_ms, limits.memory_bytes, limits.output_bytes,
                 limits.log_bytes, code),
            )
        return self.get_version(version.workspace, version.name, version.version_id)

    def get_version(self, workspace: str, name: str, version_id: str) -> FunctionVersion:
        rows = self._select("WHERE workspace = ? AND name = ? AND version_id = ?",
                            (workspace, name, version_id))
        if not rows:
            raise NotFound(f"function {name!r} has no version {version_id!r} in workspace "
                           f"{workspace!r}")
        return rows[0]

    def get_code(self, workspace: str, name: str, version_id: str) -> bytes:
        with self._cursor() as cur:
            row = cur.execute(
                "SELECT code FROM versions WHERE workspace = ? AND name = ? AND version_id = ?",
                (workspace, name, version_id)).fetchone()
        if row is None:
            raise NotFound(f"function {name!r} has no version {version_id!r} in workspace "
                           f"{workspace!r}")
        return bytes(row[0])

    def find_version(self, workspace: str, version_id: str) -> FunctionVersion:
        rows = self._select("WHERE workspace = ? AND version_id = ?", (workspace, version_id))
        if not rows:
            raise NotFound(f"no function version {version_id!r} in workspace {workspace!r}")
        return rows[0]

    def latest_version(self, workspace: str, name: str) -> FunctionVersion:
        rows = self._select("WHERE workspace = ? AND name = ? ORDER BY created_at_ms DESC, "
                            "rowid DESC LIMIT 1", (workspace, name))
        if not rows:
            raise NotFound(f"no function {name!r} in workspace {workspace!r}")
        return rows[0]

    def list_latest(self, workspace: str) -> list[FunctionVersion]:
        return self._select(
            "WHERE workspace = ? AND rowid IN (SELECT rowid FROM versions v WHERE v.workspace = "
            "versions.workspace AND v.name = versions.name ORDER BY created_at_ms DESC, rowid DESC "
            "LIMIT 1) ORDER BY name", (workspace,))

    def list_versions(self, workspace: str, name: str) -> list[FunctionVersion]:
        return self._select("WHERE workspace = ? AND name = ? ORDER BY created_at_ms DESC, "
                            "rowid DESC", (workspace, name))

    def delete_function(self, workspace: str, name: str) -> int:
        with self._cursor() as cur:
            cur.execute("DELETE FROM aliases WHERE workspace = ? AND name = ?", (workspace, name))
            cur.execute("DELETE FROM versions WHERE workspace = ? AND name = ?", (workspace, name))
            return cur.rowcount

    def set_alias(self, workspace: str, name: str, alias: str, version_id: str) -> None:
        self.get_version(workspace, name, version_id)
        with self._cursor() as cur:
            cur.execute(
                "INSERT INTO aliases (workspace, name, alias, version_id) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (workspace, name, alias) DO UPDATE SET version_id = excluded.version_id",
                (workspace, name, alias, version_id))

    def resolve_alias(self, workspace: str, name: str, alias: str) -> str | None:
        with self._cursor() as cur:
            row = cur.execute(
                "SELECT version_id FROM aliases WHERE workspace = ? AND name = ? AND alias = ?",
                (workspace, name, alias)).fetchone()
        return None if row is None else str(row[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _select(self, where: str, args: tuple[object, ...]) -> list[FunctionVersion]:
        with self._cursor() as cur:
            rows = cur.execute(f"SELECT {_COLUMNS} FROM versions {where}", args).fetchall()
            aliases: dict[tuple[str, str, str], list[str]] = {}
            if rows:
                workspace, name = rows[0][0], rows[0][1]
                query = ("SELECT name, version_id, alias FROM aliases WHERE workspace = ?"
                         + ("" if len({r[1] for r in rows}) > 1 else " AND name = ?")
                         + " ORDER BY alias")
                params = (workspace,) if len({r[1] for r in rows}) > 1 else (workspace, name)
                for alias_name, version_id, alias in cur.execute(query, params):
                    aliases.setdefault((workspace, alias_name, version_id), []).append(alias)
        return [_version(row, tuple(aliases.get((row[0], row[1], row[2]), ()))) for row in rows]


def _version(row: tuple[object, ...], aliases: tuple[str, ...]) -> FunctionVersion:
    (workspace, name, version_id, kind, language, created, size, wall, cpu, memory, output,
     log) = row
    return FunctionVersion(
        workspace=str(workspace), name=str(name), version_id=str(version_id),
        kind=FunctionKind(kind), language=Language(language), created_at_ms=int(created),  # type: ignore[call-overload]
        size_bytes=int(size),  # type: ignore[call-overload]
        limits=LimitOverrides(wall, cpu, memory, output, log),  # type: ignore[arg-type]
        aliases=aliases,
    )
