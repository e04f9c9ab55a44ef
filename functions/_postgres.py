"""The PostgreSQL store: one database shared by every replica.

The service creates and migrates its own tables: each migration runs once, in order, inside a
transaction holding an advisory lock, so replicas starting at the same moment wait for each other
instead of racing (the second one finds the work done). A connection pool serves the queries;
every psycopg error becomes ``StoreUnavailable`` here and nowhere else, so a database that goes
away fails the calls that need it (the service turns that into a 500 per event) and the pool
reconnects when it comes back.

The connection string may hold a password: messages name only user, host, port and database.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from ._errors import StoreUnavailable
from ._store import SqlStore, Statement, no_version

_MIGRATIONS: tuple[str, ...] = (
    # 1: versions and aliases; ``seq`` orders versions uploaded in the same millisecond
    """
    CREATE TABLE versions (
        workspace TEXT NOT NULL,
        name TEXT NOT NULL,
        version_id TEXT NOT NULL,
        seq BIGSERIAL NOT NULL,
        kind TEXT NOT NULL,
        language TEXT NOT NULL,
        created_at_ms BIGINT NOT NULL,
        size_bytes BIGINT NOT NULL,
        wall_ms BIGINT, cpu_ms BIGINT, memory_bytes BIGINT, output_bytes BIGINT, log_bytes BIGINT,
        code BYTEA NOT NULL,
        PRIMARY KEY (workspace, name, version_id)
    );
    CREATE INDEX versions_by_time ON versions (workspace, name, created_at_ms DESC, seq DESC);
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

#: First key of the advisory lock taken while migrating (the second is the schema's hash).
_LOCK_CLASS = 0x7472616E  # "tran"
_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True, slots=True)
class PoolLimits:
    """Connections per replica; how long a call waits for a connection before it fails, and for
    how long after such a failure calls fail at once instead of waiting again."""

    min_size: int = 1
    max_size: int = 4
    connect_timeout_s: float = 5.0
    wait_s: float = 2.0
    retry_s: float = 1.0


def describe(dsn: str) -> str:
    """``user@host:port/dbname`` of a connection string: never its password."""
    try:
        parts = conninfo_to_dict(dsn)
    except psycopg.Error:
        return "(unparsable connection string)"
    return (f"{parts.get('user', '')}@{parts.get('host', 'localhost')}:{parts.get('port', 5432)}"
            f"/{parts.get('dbname', '')}")


class PostgresStore(SqlStore):
    """Versions and aliases in PostgreSQL, in ``schema`` (created if missing)."""

    _TIEBREAK = "seq"
    _JOIN = "string_agg"

    def __init__(self, dsn: str, *, schema: str = "public", limits: PoolLimits | None = None) -> None:
        if not _SCHEMA.match(schema):
            raise StoreUnavailable(f"schema {schema!r} must be a lower-case SQL identifier")
        self._limits = limits = limits or PoolLimits()
        try:
            conninfo_to_dict(dsn)
        except psycopg.Error:
            # psycopg's message quotes the string, password and all
            raise StoreUnavailable("the database URL is not a valid PostgreSQL connection string"
                                   ) from None
        self._where = describe(dsn)
        self._schema = schema
        # While the database is unreachable, calls fail at once until this monotonic time: a
        # replica without its database answers each batch now (a 500, or the cached version)
        # instead of holding it, and a thread, for ``wait_s``.
        self._down_until = 0.0
        self._down_reason = ""
        connect_timeout = max(1, round(limits.connect_timeout_s))
        with self._translate("cannot open the function registry"), \
                psycopg.connect(dsn, connect_timeout=connect_timeout) as conn:
            _migrate(conn, schema)
        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            dsn, min_size=limits.min_size, max_size=limits.max_size, open=False,
            kwargs={"autocommit": True, "connect_timeout": connect_timeout,
                    "options": f"-c search_path={schema}", "application_name": f"transformer ({schema})"},
            # A connection the server dropped while idle is found here, not by a caller's query.
            check=ConnectionPool.check_connection,
            timeout=limits.wait_s, name=f"transformer-registry-{schema}",
        )
        with self._translate("cannot open the function registry"):
            self._pool.open(wait=True, timeout=limits.connect_timeout_s)

    @property
    def schema(self) -> str:
        return self._schema

    @contextmanager
    def _translate(self, doing: str) -> Iterator[None]:
        """The one place psycopg errors become registry errors."""
        try:
            yield
        except psycopg.Error as exc:
            detail = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
            raise StoreUnavailable(f"{doing} at {self._where}: {detail or type(exc).__name__}") from exc

    @contextmanager
    def _conn(self) -> Iterator[psycopg.Connection[Any]]:
        if time.monotonic() < self._down_until:
            raise StoreUnavailable(f"function registry at {self._where} unreachable: {self._down_reason}")
        try:
            with self._translate("function registry error"), self._pool.connection() as conn:
                yield conn
        except StoreUnavailable as exc:
            # No connection at all within ``wait_s`` (not one connection that broke): the database
            # is down or unreachable.
            if isinstance(exc.__cause__, PoolTimeout):
                self._down_reason = str(exc.__cause__).splitlines()[0] if str(exc.__cause__) else "down"
                self._down_until = time.monotonic() + self._limits.retry_s
            raise

    def _rows(self, query: str, args: tuple[object, ...]) -> list[tuple[Any, ...]]:
        with self._conn() as conn:
            return conn.execute(query, args).fetchall()

    def _change(self, *statements: Statement) -> int:
        count = 0
        with self._conn() as conn, conn.transaction():
            for query, args in statements:
                count = conn.execute(query, args).rowcount
        return count

    def set_alias(self, workspace: str, name: str, alias: str, version_id: str) -> None:
        try:
            super().set_alias(workspace, name, alias, version_id)
        except StoreUnavailable as exc:
            if isinstance(exc.__cause__, psycopg.errors.ForeignKeyViolation):  # deleted meanwhile
                raise no_version(workspace, name, version_id) from None
            raise

    def close(self) -> None:
        self._pool.close()


def _migrate(conn: psycopg.Connection[Any], schema: str) -> None:
    """Bring ``schema`` up to the newest migration; replicas starting together take turns."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_LOCK_CLASS, schema))
        # CREATE SCHEMA IF NOT EXISTS would need CREATE on the database even when the schema exists
        if conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                     "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
        row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
        current = int(row[0]) if row else 0
        for number, script in enumerate(_MIGRATIONS[current:], start=current + 1):
            conn.execute(script.encode())
            conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (number,))
