"""A destination's named ``tables:``: an object mapping that also tells which event paths its
fields read, for hooks whose reference leaves the mapped keys out of custom properties (an
exclusion list built from a mapping table's sourceKeys)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._context import Context


@dataclass(frozen=True, slots=True)
class Table:
    """A compiled table: called like the object mapping it wraps."""

    build: Callable[[Context], dict[str, Any]]
    #: The paths of its fields' ``path``/``get_value`` sources, in order (``source_paths``).
    paths: tuple[str, ...] = ()

    def __call__(self, ctx: Context) -> dict[str, Any]:
        return self.build(ctx)


__all__ = ["Table"]
