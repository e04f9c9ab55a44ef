"""What a compiled mapping reads from while it builds one request."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from transformer._clock import SYSTEM_CLOCK, Clock

from ._tables import Table

_NO_TABLES: Mapping[str, Callable[[Context], dict[str, Any]]] = MappingProxyType({})


@dataclass(slots=True)
class Context:
    """One job as the mapping sees it: the event, its destination, and the service's clock."""

    message: dict[str, Any]
    destination: dict[str, Any] = field(default_factory=dict)
    metadata: Any = None
    clock: Clock = SYSTEM_CLOCK
    #: Values computed by hooks or earlier steps, readable with the ``var`` directive.
    vars: dict[str, Any] = field(default_factory=dict)
    #: "processor" (Transform) or "router" (RouterTransform): some destinations check more in
    #: router mode, as the reference does.
    mode: str = "processor"
    #: State shared by the jobs of one router group (a fresh dict per job in processor mode),
    #: for destinations whose reference keeps per-request state, e.g. de-duplication.
    shared: dict[str, Any] = field(default_factory=dict)
    #: The destination's compiled ``tables:`` (named object mappings), for hooks: ``build``.
    #: (None until a destination sets them: one less default factory per job on the hot path.)
    tables: Mapping[str, Callable[[Context], dict[str, Any]]] | None = None

    def build(self, table: str, doc: Any = None) -> dict[str, Any]:
        """The object the destination's ``tables.<table>`` mapping builds from this job, its
        paths read in ``doc`` instead of the event when one is given (a product, say)."""
        build = (self.tables or _NO_TABLES)[table]
        return build(self if doc is None else replace(self, message=doc))

    def table_paths(self, table: str) -> tuple[str, ...]:
        """The event paths the fields of ``tables.<table>`` read in their ``path`` or
        ``get_value`` sources (a list's paths, in order)."""
        build = (self.tables or _NO_TABLES)[table]
        return build.paths if isinstance(build, Table) else ()

    @property
    def config(self) -> dict[str, Any]:
        config = self.destination.get("Config")
        return config if isinstance(config, dict) else {}

    @property
    def message_type(self) -> str:
        kind = self.message.get("type")
        return kind.lower() if isinstance(kind, str) else ""
