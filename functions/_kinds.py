"""The kinds of user function and the entry points each must define (DESIGN §5)."""

from __future__ import annotations

from dataclasses import dataclass

from ._model import FunctionKind

MESSAGE_TYPES = ("track", "identify", "page", "screen", "group", "alias")


@dataclass(frozen=True, slots=True)
class KindSpec:
    kind: FunctionKind
    #: At least one of these must be defined at module level.
    entry_points: tuple[str, ...]
    description: str


KINDS: dict[FunctionKind, KindSpec] = {
    FunctionKind.TRANSFORMATION: KindSpec(
        FunctionKind.TRANSFORMATION, ("transformEvent", "transformBatch"),
        "transformEvent(event, metadata) or transformBatch(events, metadata) returning an event, "
        "a list of events, or None to drop"),
    FunctionKind.DESTINATION: KindSpec(
        FunctionKind.DESTINATION, tuple(f"on_{t}" for t in MESSAGE_TYPES),
        "on_track(event, settings) ... returning a destination request or a list of them"),
    FunctionKind.SOURCE: KindSpec(
        FunctionKind.SOURCE, ("on_request",),
        "on_request(request, settings) returning a list of events"),
}
