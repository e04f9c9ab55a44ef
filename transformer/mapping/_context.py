"""What a compiled mapping reads from while it builds one request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from transformer._clock import SYSTEM_CLOCK, Clock


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

    @property
    def config(self) -> dict[str, Any]:
        config = self.destination.get("Config")
        return config if isinstance(config, dict) else {}

    @property
    def message_type(self) -> str:
        kind = self.message.get("type")
        return kind.lower() if isinstance(kind, str) else ""
