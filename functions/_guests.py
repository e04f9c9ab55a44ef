"""Building WebAssembly guests from C or Zig source with the ``ziglang`` package (a pip-installable
Zig toolchain bundling clang and wasi-libc), cached by the hash of what went into them.

    wasm = build_guest(Path("functions/examples/c/transformation/enrich.c"), Path(".cache/guests"))

Nothing built is ever checked in: tests and the local harness build guests from the sources in
``functions/examples/`` (each with its build command in its header comment) into a cache directory.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from ._errors import GuestBuildError

STACK_BYTES = 262_144
#: The command that builds a C guest (a WASI reactor); the source and output paths follow.
C_COMMAND = ("cc", "--target=wasm32-wasi", "-mexec-model=reactor", "-O2", "-s",
             f"-Wl,-z,stack-size={STACK_BYTES}")
#: The command that builds a Zig guest (no entry point, exports kept); a ``guest.zig`` beside the
#: source or one directory up is its module ``guest`` (``@import("guest")``), else the packaged
#: ``functions/examples/zig/guest.zig`` when the source imports it.
ZIG_COMMAND = ("build-exe", "-target", "wasm32-wasi", "-fno-entry", "-rdynamic", "-O", "ReleaseFast",
               "-fstrip", "--stack", str(STACK_BYTES))
ZIG_SDK = "guest.zig"
_PACKAGED_ZIG_SDK = Path(__file__).resolve().parent / "examples" / "zig" / ZIG_SDK
_IMPORTS_SDK = re.compile(rb'@import\(\s*"guest"\s*\)')
_LANGUAGES = {".c": C_COMMAND, ".zig": ZIG_COMMAND}
_INCLUDE = re.compile(rb'^[ \t]*#[ \t]*include[ \t]*"([^"]+)"', re.MULTILINE)
_TIMEOUT_S = 600  # the first build also builds wasi-libc into zig's own cache


def build_guest(source: Path, cache_dir: Path) -> bytes:
    """The module built from ``source`` (``.c`` or ``.zig``), from ``cache_dir`` when the same
    inputs were built before; raises ``GuestBuildError`` with the compiler's output.

    The cache key covers the command, the toolchain's version, the source, what a C source
    ``#include "..."``s (transitively) and a Zig source's ``guest.zig``.
    """
    source = Path(source)
    command = _LANGUAGES.get(source.suffix)
    if command is None:
        raise GuestBuildError(f"{source}: cannot build a {source.suffix or 'suffix-less'} file; "
                              f"give a {' or '.join(_LANGUAGES)} source")
    if importlib.util.find_spec("ziglang") is None:
        raise GuestBuildError("building WebAssembly guests needs the ziglang package: pip install ziglang")
    try:
        digest = _digest(source, command)
    except OSError as exc:
        raise GuestBuildError(f"{source}: {exc.strerror or exc}") from None
    target = Path(cache_dir) / f"{source.stem}-{digest[:20]}.wasm"
    if target.is_file():
        return target.read_bytes()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        output = Path(scratch) / "guest.wasm"
        arguments = _arguments(source.resolve(), command, output)
        try:
            done = subprocess.run([sys.executable, "-m", "ziglang", *arguments], cwd=scratch,
                                  capture_output=True, text=True, timeout=_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise GuestBuildError(f"{source}: the build took longer than {_TIMEOUT_S} s") from None
        if done.returncode != 0 or not output.is_file():
            raise GuestBuildError(f"{source}: the build failed:\n{(done.stderr or done.stdout).strip()}")
        os.replace(output, target)
    return target.read_bytes()


def _arguments(source: Path, command: tuple[str, ...], output: Path) -> list[str]:
    if source.suffix == ".c":
        return [*command, "-o", str(output), str(source)]
    sdk = _zig_sdk(source)
    if sdk is None:
        return [*command, f"-femit-bin={output}", f"-Mroot={source}"]
    return [*command, f"-femit-bin={output}", "--dep", "guest", f"-Mroot={source}", f"-Mguest={sdk}"]


def _zig_sdk(source: Path) -> Path | None:
    for folder in (source.parent, source.parent.parent):
        sdk = (folder / ZIG_SDK).resolve()
        if sdk.is_file() and sdk != source.resolve():
            return sdk
    if _PACKAGED_ZIG_SDK.is_file() and _IMPORTS_SDK.search(source.read_bytes()):
        return _PACKAGED_ZIG_SDK
    return None


def _digest(source: Path, command: tuple[str, ...]) -> str:
    digest = hashlib.sha256("\0".join((*command, _toolchain())).encode())
    files: dict[Path, bytes] = {}
    pending = [source.resolve()]
    if source.suffix == ".zig":
        pending += [sdk for sdk in (_zig_sdk(source),) if sdk is not None]
    while pending:
        path = pending.pop()
        if path in files:
            continue
        files[path] = data = path.read_bytes()
        if path.suffix in (".c", ".h"):
            pending += [(path.parent / name.decode()).resolve() for name in _INCLUDE.findall(data)
                        if (path.parent / name.decode()).is_file()]
    for path in sorted(files):  # by name and content: the same sources anywhere share a build
        digest.update(path.name.encode() + b"\0" + files[path] + b"\0")
    return digest.hexdigest()


def _toolchain() -> str:
    return f"ziglang {importlib.metadata.version('ziglang')}"
