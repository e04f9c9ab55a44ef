"""The local PostgreSQL server in tests: a fresh schema per use, and a loopback proxy to cut.

Tests that need PostgreSQL skip, saying why, only when none answers at ``TEST_DATABASE_URL``
(default: 127.0.0.1:5432, user postgres, database ``test``); CI always has one.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import psycopg
import pytest
from psycopg import sql

DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def database_url() -> str:
    """The test database's URL; skips the test when no PostgreSQL server answers there."""
    try:
        psycopg.connect(DATABASE_URL, connect_timeout=3).close()
    except psycopg.Error as exc:
        pytest.skip(f"no PostgreSQL server at {DATABASE_URL} ({str(exc).splitlines()[0]}); "
                    "start one or set TEST_DATABASE_URL (CI always has one)")
    return DATABASE_URL


@contextmanager
def fresh_schema() -> Iterator[str]:
    """A schema name no other test run uses; dropped (with whatever was made in it) afterwards."""
    url = database_url()
    schema = f"t_{os.getpid()}_{uuid.uuid4().hex[:12]}"
    try:
        yield schema
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


class TcpProxy:
    """A loopback TCP proxy to the database: ``cut()`` drops every connection and refuses new ones
    (the database "goes away" for whoever uses this port), ``restore()`` lets them through again."""

    def __init__(self, upstream: tuple[str, int] = ("127.0.0.1", 5432)) -> None:
        self._upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._open = threading.Event()
        self._open.set()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._closed = False
        threading.Thread(target=self._accept, daemon=True, name="pg-proxy").start()

    def url(self, base: str) -> str:
        """``base`` (a postgresql:// URL) pointed at this proxy."""
        return base.replace("@127.0.0.1:5432/", f"@127.0.0.1:{self.port}/")

    def cut(self) -> None:
        self._open.clear()
        with self._lock:
            for sock in self._sockets:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._sockets.clear()

    def restore(self) -> None:
        self._open.set()

    def close(self) -> None:
        self._closed = True
        self.cut()
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._open.is_set():
                client.close()  # as a server that is down: the connection ends at once
                continue
            try:
                upstream = socket.create_connection(self._upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(a, b), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    with suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    for sock in (source, sink):
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
