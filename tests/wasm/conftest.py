"""Fixtures of the WebAssembly tests: guests built from their C and Zig sources (``functions/examples``
and ``tests/wasm/guests``) with the ziglang toolchain into pytest's cache, never checked in."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import functions
from functions import build_guest

EXAMPLES = Path(functions.__file__).resolve().parent / "examples"
GUESTS = Path(__file__).resolve().parent / "guests"


@pytest.fixture(scope="session")
def guest_cache(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where guests are built: pytest's cache, so builds outlive the session (the first build of all
    takes a while: zig builds wasi-libc into its own cache)."""
    cache = getattr(request.config, "cache", None)  # None with -p no:cacheprovider
    return Path(cache.mkdir("wasm-guests")) if cache is not None else tmp_path_factory.mktemp("wasm-guests")


@pytest.fixture(scope="session")
def build(guest_cache: Path) -> Callable[[str], bytes]:
    """``build("c/transformation/enrich.c")`` (an example) or ``build("hostile.c")`` (a test guest):
    the module, built once per source content."""

    def build(name: str) -> bytes:
        path = EXAMPLES / name if (EXAMPLES / name).is_file() else GUESTS / name
        return build_guest(path, guest_cache)

    return build
