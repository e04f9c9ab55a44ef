"""Shared fixtures: the real catalog and a real gRPC server on a loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from transformer._catalog import Catalog, load_catalog
from transformer._conformance import default_cases_dir, loopback_server, loopback_settings, running_server
from transformer._server import Server
from transformer.v1 import functions_pb2_grpc as fpb_grpc
from transformer.v1 import transformer_pb2_grpc as pb_grpc

CASES_DIR: Path = default_cases_dir()


@pytest.fixture(scope="session")
def guest_cache(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where WebAssembly guests built from C and Zig sources are kept: pytest's cache, so that a
    guest is built once per source content across runs (a temporary folder without the cache)."""
    cache = getattr(request.config, "cache", None)  # None with -p no:cacheprovider
    return Path(cache.mkdir("wasm-guests")) if cache is not None else tmp_path_factory.mktemp("wasm-guests")


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="session")
def target(catalog: Catalog) -> Iterator[str]:
    with loopback_server(catalog) as address:
        yield address


@pytest.fixture(scope="session")
def channel(target: str) -> Iterator[grpc.Channel]:
    options = [("grpc.max_receive_message_length", 512 * 1024 * 1024),
               ("grpc.max_send_message_length", 512 * 1024 * 1024)]
    with grpc.insecure_channel(target, options=options) as chan:
        yield chan


@pytest.fixture(scope="session")
def stub(channel: grpc.Channel) -> pb_grpc.TransformerStub:
    return pb_grpc.TransformerStub(channel)


def requires_cases() -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        not CASES_DIR.is_dir(),
        reason=f"conformance cases not found at {CASES_DIR} (they live in ../shared, beside the "
               "checkout, and are never committed); CI always has them",
    )


@dataclass(frozen=True, slots=True)
class ServerStubs:
    """A running server and stubs of its two services, over one channel."""

    server: Server
    functions: fpb_grpc.FunctionsStub
    transformer: pb_grpc.TransformerStub


@pytest.fixture(scope="module")
def server_stubs(request: pytest.FixtureRequest, catalog: Catalog) -> Iterator[ServerStubs]:
    """A real server on a loopback port for the module, configured by the module's
    ``SERVER_SETTINGS`` (``Settings`` fields, e.g. sandbox limits), with stubs of its services."""
    settings = loopback_settings(**getattr(request.module, "SERVER_SETTINGS", {}))
    with running_server(catalog, settings) as server, \
            grpc.insecure_channel(f"127.0.0.1:{server.port}") as chan:
        yield ServerStubs(server, fpb_grpc.FunctionsStub(chan), pb_grpc.TransformerStub(chan))


@pytest.fixture(scope="module")
def server(server_stubs: ServerStubs) -> Server:
    return server_stubs.server


@pytest.fixture(scope="module")
def functions(server_stubs: ServerStubs) -> fpb_grpc.FunctionsStub:
    return server_stubs.functions


@pytest.fixture(scope="module")
def transformer(server_stubs: ServerStubs) -> pb_grpc.TransformerStub:
    return server_stubs.transformer
