"""Values of the registry: what a function version is."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field


class FunctionKind(enum.Enum):
    TRANSFORMATION = "transformation"
    DESTINATION = "destination"
    SOURCE = "source"


class Language(enum.Enum):
    PYTHON = "python"
    WASM = "wasm"


@dataclass(frozen=True, slots=True)
class LimitOverrides:
    """Per-function overrides of the server's sandbox limits; None keeps the server default."""

    wall_ms: int | None = None
    cpu_ms: int | None = None
    memory_bytes: int | None = None
    output_bytes: int | None = None
    log_bytes: int | None = None


@dataclass(frozen=True, slots=True)
class FunctionVersion:
    """One immutable version of a function; ``code`` is loaded only when asked for."""

    workspace: str
    name: str
    version_id: str
    kind: FunctionKind
    language: Language
    created_at_ms: int
    size_bytes: int
    limits: LimitOverrides = field(default_factory=LimitOverrides)
    aliases: tuple[str, ...] = ()


def version_id_for(workspace: str, name: str, kind: FunctionKind, language: Language,
                   code: bytes) -> str:
    """The content hash naming a version.

    The workspace and name are part of it so that two tenants uploading the same code never share
    a version, and so never share compiled state cached by version id in a sandbox worker.
    """
    digest = hashlib.sha256()
    for part in (workspace, name, kind.value, language.value):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(code)
    return digest.hexdigest()[:32]
