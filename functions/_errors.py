"""The package's exception tree.

    RegistryError
    ├── InvalidFunction     the upload is rejected (compile error with line/column, missing entry
    │   │                   point, too large, unknown kind, not a WebAssembly guest)
    │   └── GuestBuildError a C or Zig source did not build into a WebAssembly guest
    ├── NotFound            no such function, version or alias
    ├── StoreUnavailable    the store cannot be reached (retry)
    └── InputError          a local run's input (function file, events, settings, expected results)
                            cannot be read, or is not a function file
"""

from __future__ import annotations


class RegistryError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidFunction(RegistryError):
    def __init__(self, message: str, *, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


class GuestBuildError(InvalidFunction):
    """``build_guest`` failed; the message carries the compiler's output."""


class NotFound(RegistryError):
    pass


class StoreUnavailable(RegistryError):
    pass


class InputError(RegistryError):
    pass
