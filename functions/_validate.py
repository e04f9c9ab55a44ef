"""Upload validation, by language: what the registry runs before it stores a version."""

from __future__ import annotations

from ._model import FunctionKind, Language
from ._python import prepare
from ._wasm import validate_wasm


def validate(kind: FunctionKind, language: Language, code: bytes) -> None:
    """The registry's validator: raises ``InvalidFunction`` (Python: with line and column where known;
    WebAssembly: saying which export or import is wrong)."""
    if language is Language.WASM:
        validate_wasm(code)
    else:
        prepare(kind, language, code, "<upload>")
