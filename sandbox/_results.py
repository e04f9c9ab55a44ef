"""The result of one call: the JSON it returned, or why it failed, and what it logged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias, cast

import orjson

from sandbox._errors import CallError

JSONValue: TypeAlias = "bool | int | float | str | list[JSONValue] | dict[str, JSONValue] | None"


@dataclass(frozen=True, slots=True)
class CallResult:
    """One call's outcome: ``output`` (the returned value as JSON bytes) or ``error``, plus ``logs``.

    ``output`` is kept encoded so that a caller forwarding it as JSON never decodes and re-encodes
    it; ``value`` decodes it on demand.
    """

    output: bytes | None
    error: CallError | None
    logs: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def value(self) -> JSONValue:
        """The returned value, decoded (each access decodes again); raises ``error`` if the call failed."""
        if self.error is not None:
            raise self.error
        assert self.output is not None
        return cast(JSONValue, orjson.loads(self.output))
