"""docs/wasm-abi.md's complete guests, taken from the page itself, build, pass upload validation and
do what the page says they do (so the page cannot drift from the ABI)."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest

from functions import FunctionKind, Language, build_guest, validate
from sandbox import InvalidInput, LimitPolicy, Limits, UserValidationError, WasmRuntime

DOC = Path(__file__).resolve().parents[2] / "docs" / "wasm-abi.md"
_BLOCK = re.compile(r"^```(?:c|zig)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
# the first line of a complete guest names its file: /* minimal.c: ... or //! minimal.zig: ...
_NAME = re.compile(r"(?:/\*|//!) (\w+\.(?:c|zig)):")
POLICY = LimitPolicy(Limits(wall_ms=2_000, memory_bytes=64 << 20))


def doc_guests() -> dict[str, str]:
    """The page's complete guests by file name."""
    found: dict[str, str] = {}
    for code in _BLOCK.findall(DOC.read_text()):
        name = _NAME.match(code)
        if name:
            found[name.group(1)] = code
    return found


def test_the_page_has_a_complete_guest_in_c_and_in_zig() -> None:
    """The page shows one minimal guest per language (the test below runs each)."""
    assert sorted(doc_guests()) == ["minimal.c", "minimal.zig"]


@pytest.mark.parametrize("name", ["minimal.c", "minimal.zig"])
def test_a_guest_of_the_page_builds_validates_and_runs(name: str, tmp_path: Path, guest_cache: Path) -> None:
    """Built as the page says, the guest passes upload validation, passes objects through unchanged
    in one batch call (logging its count), refuses other values with a ValidationError, and the
    service refuses input that is not JSON without calling it."""
    source = tmp_path / name
    source.write_text(doc_guests()[name])
    wasm = build_guest(source, guest_cache)
    validate(FunctionKind.TRANSFORMATION, Language.WASM, wasm)
    event = {"type": "track", "event": "Order Completed", "properties": {"total": 10.5, "note": "a \"b\" ]}"}}
    events = [orjson.dumps(event), b"[1, 2]", b"", orjson.dumps({"type": "identify"})]
    with WasmRuntime(POLICY, threads=1) as runtime:
        batch = runtime.run(name, wasm, "transformation", events, [b'{"jobId": 1}', b"", b"", b""])
        alone = runtime.run(name, wasm, "transformation", [b"{not json"], [b""])
    first, array, null, identify = batch.results
    assert first.error is None and orjson.loads(first.output or b"") == event
    for refused in (array, null):
        assert isinstance(refused.error, UserValidationError)
        assert refused.error.message == "the event is not an object"
    assert orjson.loads(identify.output or b"") == {"type": "identify"}
    assert batch.logs == ("transformed 4 events",)
    assert isinstance(alone.results[0].error, InvalidInput)
