"""Shared fixtures: the real catalog and a real gRPC server on a loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from transformer._catalog import Catalog, load_catalog
from transformer._conformance import default_cases_dir, loopback_server
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
