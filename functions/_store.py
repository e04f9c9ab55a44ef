"""Where versions and aliases live: the interface, the queries both SQL stores share, and the
SQLite store.

``PostgresStore`` (``_postgres``: many replicas sharing one database) implements the same
``Store`` protocol on the same ``SqlStore`` queries; the registry knows nothing else about storage.
Versions are immutable, so a version id can be cached forever anywhere; only aliases move.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

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

_COLUMNS = ("v.workspace, v.name, v.version_id, v.kind, v.language, v.created_at_ms, v.size_bytes, "
            "v.wall_ms, v.cpu_ms, v.memory_bytes, v.output_bytes, v.log_bytes")
Statement = tuple[str, tuple[object, ...]]


class SqlStore:
    """The ``Store`` methods, written once in the SQL that SQLite and PostgreSQL both speak.

    A subclass runs statements (``%s`` placeholders), translating its driver's errors into
    ``StoreUnavailable``, and names the two things the dialects spell differently.
    """

    #: The column that orders versions created in the same millisecond.
    _TIEBREAK = "rowid"
    #: The aggregate that joins strings with a separator.
    _JOIN = "group_concat"

    def _rows(self, query: str, args: tuple[object, ...]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _change(self, *statements: Statement) -> int:
        """Run ``statements`` in one transaction; the last one's row count."""
        raise NotImplementedError

    def put_version(self, version: FunctionVersion, code: bytes) -> FunctionVersion:
        limits = version.limits
        self._change((
            "INSERT INTO versions (workspace, name, version_id, kind, language, created_at_ms, "
            "size_bytes, wall_ms, cpu_ms, memory_bytes, output_bytes, log_bytes, code) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (version.workspace, version.name, version.version_id, version.kind.value,
             version.language.value, version.created_at_ms, version.size_bytes,
             limits.wall_ms, limits.cpu_ms, limits.memory_bytes, limits.output_bytes,
             limits.log_bytes, code)))
        return self.get_version(version.workspace, version.name, version.version_id)

    def get_version(self, workspace: str, name: str, version_id: str) -> FunctionVersion:
        rows = self._select("WHERE v.workspace = %s AND v.name = %s AND v.version_id = %s",
                            (workspace, name, version_id))
        if not rows:
            raise no_version(workspace, name, version_id)
        return rows[0]

    def get_code(self, workspace: str, name: str, version_id: str) -> bytes:
        rows = self._rows(
            "SELECT code FROM versions WHERE workspace = %s AND name = %s AND version_id = %s",
            (workspace, name, version_id))
        if not rows:
            raise no_version(workspace, name, version_id)
        return bytes(rows[0][0])

    def find_version(self, workspace: str, version_id: str) -> FunctionVersion:
        rows = self._select("WHERE v.workspace = %s AND v.version_id = %s", (workspace, version_id))
        if not rows:
            raise NotFound(f"no function version {version_id!r} in workspace {workspace!r}")
        return rows[0]

    def latest_version(self, workspace: str, name: str) -> FunctionVersion:
        rows = self._select(f"WHERE v.workspace = %s AND v.name = %s ORDER BY {self._newest('v')} LIMIT 1",
                            (workspace, name))
        if not rows:
            raise NotFound(f"no function {name!r} in workspace {workspace!r}")
        return rows[0]

    def list_latest(self, workspace: str) -> list[FunctionVersion]:
        tiebreak = self._TIEBREAK
        return self._select(
            f"WHERE v.workspace = %s AND v.{tiebreak} = (SELECT l.{tiebreak} FROM versions l "
            f"WHERE l.workspace = v.workspace AND l.name = v.name ORDER BY {self._newest('l')} LIMIT 1) "
            "ORDER BY v.name", (workspace,))

    def list_versions(self, workspace: str, name: str) -> list[FunctionVersion]:
        return self._select(f"WHERE v.workspace = %s AND v.name = %s ORDER BY {self._newest('v')}",
                            (workspace, name))

    def delete_function(self, workspace: str, name: str) -> int:
        return self._change(("DELETE FROM aliases WHERE workspace = %s AND name = %s", (workspace, name)),
                            ("DELETE FROM versions WHERE workspace = %s AND name = %s", (workspace, name)))

    def set_alias(self, workspace: str, name: str, alias: str, version_id: str) -> None:
        self.get_version(workspace, name, version_id)
        self._change((
            "INSERT INTO aliases (workspace, name, alias, version_id) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (workspace, name, alias) DO UPDATE SET version_id = excluded.version_id",
            (workspace, name, alias, version_id)))

    def resolve_alias(self, workspace: str, name: str, alias: str) -> str | None:
        rows = self._rows("SELECT version_id FROM aliases WHERE workspace = %s AND name = %s AND alias = %s",
                          (workspace, name, alias))
        return str(rows[0][0]) if rows else None

    def _newest(self, table: str) -> str:
        return f"{table}.created_at_ms DESC, {table}.{self._TIEBREAK} DESC"

    def _select(self, where: str, args: tuple[object, ...]) -> list[FunctionVersion]:
        aliases = (f"(SELECT {self._JOIN}(a.alias, ',') FROM aliases a WHERE a.workspace = v.workspace "
                   "AND a.name = v.name AND a.version_id = v.version_id)")
        return [_version(row) for row in self._rows(f"SELECT {_COLUMNS}, {aliases} FROM versions v {where}",
                                                    args)]


class SqliteStore(SqlStore):
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

    def _rows(self, query: str, args: tuple[object, ...]) -> list[tuple[Any, ...]]:
        with self._cursor() as cur:
            return cur.execute(query.replace("%s", "?"), args).fetchall()

    def _change(self, *statements: Statement) -> int:
        with self._cursor() as cur:
            cur.execute("BEGIN")
            try:
                for query, args in statements:
                    count = cur.execute(query.replace("%s", "?"), args).rowcount
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")
            return count

    def close(self) -> None:
        with self._lock:
            self._db.close()


def no_version(workspace: str, name: str, version_id: str) -> NotFound:
    return NotFound(f"function {name!r} has no version {version_id!r} in workspace {workspace!r}")


def _version(row: tuple[Any, ...]) -> FunctionVersion:
    (workspace, name, version_id, kind, language, created, size, wall, cpu, memory, output, log,
     aliases) = row
    return FunctionVersion(
        workspace=str(workspace), name=str(name), version_id=str(version_id),
        kind=FunctionKind(kind), language=Language(language), created_at_ms=int(created),
        size_bytes=int(size), limits=LimitOverrides(wall, cpu, memory, output, log),
        # alias names never hold a comma (see the registry's name check)
        aliases=tuple(sorted(aliases.split(","))) if aliases else (),
    )
