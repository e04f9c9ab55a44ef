"""What only the PostgreSQL store has to get right: migrations under concurrency, a database
that is wrong, down, or goes away and comes back."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from functions import FunctionKind, Language, PoolLimits, PostgresStore, Registry, StoreUnavailable

from ..helpers import eventually, free_port
from ..postgres import TcpProxy, database_url, fresh_schema

T = FunctionKind.TRANSFORMATION
PY = Language.PYTHON


def accept_all(kind: FunctionKind, language: Language, code: bytes) -> None:
    return None


@pytest.fixture
def schema() -> Iterator[str]:
    with fresh_schema() as name:
        yield name


def test_replicas_starting_together_migrate_once(schema: str) -> None:
    """Stores opened at the same moment on an empty schema all start; each migration runs once."""
    url = database_url()
    stores: list[PostgresStore] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        barrier.wait()
        try:
            stores.append(PostgresStore(url, schema=schema))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(stores) == 4
    version = Registry(stores[0], accept_all).upload("ws", "fn", T, PY, b"code", alias="live")
    assert Registry(stores[3], accept_all).resolve("ws", "fn@live") == version
    for store in stores:
        store.close()
    with psycopg.connect(url) as conn:
        rows = conn.execute(sql.SQL("SELECT version FROM {}.schema_migrations ORDER BY version")
                            .format(sql.Identifier(schema))).fetchall()
    assert rows == [(1,)]


@pytest.mark.parametrize(("url", "message"), [
    ("postgresql://postgres:s3cret-pw@127.0.0.1:{port}/test", "Connection refused"),
    ("postgresql//postgres:s3cret-pw@127.0.0.1/test", "not a valid PostgreSQL connection string"),
    ("postgresql://postgres:s3cret-pw@127.0.0.1:5432/no_such_db_here", 'database "no_such_db_here"'),
])
def test_a_wrong_or_unreachable_database_is_one_clear_error(url: str, message: str) -> None:
    """A server that is down, a malformed URL, a missing database: one line naming it, no password."""
    database_url()
    with pytest.raises(StoreUnavailable) as caught:
        PostgresStore(url.format(port=free_port()), limits=PoolLimits(connect_timeout_s=2))
    text = caught.value.message
    assert message in text and "s3cret-pw" not in text and "\n" not in text


def test_database_going_away_fails_calls_and_recovers(schema: str) -> None:
    """Connections cut mid-flight make calls fail with StoreUnavailable; they work again after."""
    proxy = TcpProxy()
    store = PostgresStore(proxy.url(database_url()), schema=schema,
                          limits=PoolLimits(max_size=2, wait_s=1, connect_timeout_s=2))
    registry = Registry(store, accept_all)
    try:
        before = registry.upload("ws", "fn", T, PY, b"one", alias="live")
        proxy.cut()
        with pytest.raises(StoreUnavailable, match="function registry error"):
            registry.resolve("ws", "fn@live")
        with pytest.raises(StoreUnavailable):
            registry.upload("ws", "fn", T, PY, b"two")
        proxy.restore()
        assert eventually(StoreUnavailable, lambda: registry.resolve("ws", "fn@live")) == before
        after = registry.upload("ws", "fn", T, PY, b"two")
        assert registry.set_alias("ws", "fn", "live", after.version_id).aliases == ("live",)
    finally:
        store.close()
        proxy.close()


def test_connections_the_server_killed_are_replaced_unnoticed(schema: str) -> None:
    """Pooled connections terminated by the server (a failover, an admin) cost no failed call."""
    url = database_url()
    store = PostgresStore(url, schema=schema, limits=PoolLimits(min_size=2, max_size=2))
    registry = Registry(store, accept_all)
    try:
        version = registry.upload("ws", "fn", T, PY, b"code", alias="live")
        with psycopg.connect(url, autocommit=True) as admin:
            row = admin.execute(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = %s", (f"transformer ({schema})",)).fetchone()
        assert row is not None and row[0] >= 1
        for _ in range(4):
            assert registry.resolve("ws", "fn@live") == version
    finally:
        store.close()
