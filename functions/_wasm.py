"""WebAssembly functions: upload validation, and each kind's inputs as guest ABI v1 calls.

A guest is given a batch (DESIGN §5): ``events``, each event's ``metadata`` and the call's
``settings``. Per kind:

* transformation: the events and the jobs' metadata (as the router sent them); settings ``{}``
* destination: the events, metadata null; settings the destination's ``Config``
* source: the deliveries (``{body, headers, query, method, path}``), metadata null; the source's
  settings

Inputs that share settings share a call (a router batch has one destination, so normally one call).
A guest's results come back as the same ``CallResult``s a Python function's calls do, so ``Runner``
reads them with the same code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import orjson

from sandbox import CallResult, InvalidInput, InvalidModule, WasmRun, WasmRuntime, check_wasm

from ._errors import InvalidFunction
from ._model import FunctionKind
from ._python import Mode

if TYPE_CHECKING:
    from ._runner import Program

#: How ``Runner`` reads a guest's result for each kind (the Python conventions of the same kind).
MODES = {FunctionKind.TRANSFORMATION: Mode.EVENT, FunctionKind.DESTINATION: Mode.DESTINATION,
         FunctionKind.SOURCE: Mode.SOURCE}
_EMPTY = b"{}"


def validate_wasm(code: bytes) -> None:
    """Raise ``InvalidFunction`` unless ``code`` is a guest of ABI v1 (docs/wasm-abi.md)."""
    try:
        check_wasm(code)
    except InvalidModule as exc:
        raise InvalidFunction(exc.message) from None


async def run_guest(runtime: WasmRuntime, program: Program, inputs: Sequence[tuple[bytes, bytes]]) -> WasmRun:
    """One ``CallResult`` per input. Raises what ``WasmRuntime.run`` raises about the program itself
    (``InvalidModule``, ``LimitsError``, ``PoolClosed``)."""
    kind = program.kind.value
    if program.kind is FunctionKind.TRANSFORMATION:
        return await runtime.run_async(program.cache_key, program.code, kind, [event for event, _ in inputs],
                                       [meta for _, meta in inputs], _EMPTY, program.limits)
    settings_of = _destination_settings if program.kind is FunctionKind.DESTINATION else _source_settings
    groups: dict[bytes, list[int]] = {}
    for index, (_, raw) in enumerate(inputs):
        groups.setdefault(raw, []).append(index)
    results: list[CallResult] = [CallResult(None, None)] * len(inputs)
    logs: list[str] = []
    memory: list[int] = []
    for raw, indices in groups.items():
        settings = settings_of(raw)
        if isinstance(settings, InvalidInput):
            for index in indices:
                results[index] = CallResult(None, settings)
            continue
        run = await runtime.run_async(program.cache_key, program.code, kind, [inputs[i][0] for i in indices],
                                      [b""] * len(indices), settings, program.limits)
        for index, result in zip(indices, run.results, strict=True):
            results[index] = result
        logs.extend(run.logs)
        if run.memory_bytes is not None:
            memory.append(run.memory_bytes)
    return WasmRun(results, tuple(logs), max(memory) if memory else None)


def _destination_settings(raw: bytes) -> bytes | InvalidInput:
    """The destination's ``Config`` (``{}`` when it has none, as for Python destination functions)."""
    try:
        destination = orjson.loads(raw or _EMPTY)
    except orjson.JSONDecodeError as exc:
        return InvalidInput(f"the destination is not valid JSON: {exc}")
    config = destination.get("Config") if isinstance(destination, dict) else None
    return orjson.dumps(config) if isinstance(config, dict) else _EMPTY


def _source_settings(raw: bytes) -> bytes | InvalidInput:
    try:
        settings = orjson.loads(raw or _EMPTY)
    except orjson.JSONDecodeError as exc:
        return InvalidInput(f"the settings are not valid JSON: {exc}")
    return raw or _EMPTY if isinstance(settings, dict) else InvalidInput("the settings must be a JSON object")
