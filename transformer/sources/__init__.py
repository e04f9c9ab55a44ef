"""Built-in sources: webhook deliveries to events, in trusted Python (no sandbox).

One folder per source (``transformer/sources/<name>/``) whose ``source`` module defines
``on_request(request, settings) -> list[event]``; ``request`` is the delivery
(``{body, headers, query, method, path}``) and ``settings`` the source's settings object. A delivery
the source cannot read raises ``BadDelivery`` (a 400 for that delivery only).
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

OnRequest = Callable[[dict[str, Any], dict[str, Any]], list[dict[str, Any]]]


class BadDelivery(ValueError):
    """The delivery cannot be turned into events (400 for that delivery)."""


def _load() -> dict[str, OnRequest]:
    found: dict[str, OnRequest] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.ispkg:
            module = importlib.import_module(f"{__name__}.{info.name}.source")
            found[info.name] = module.on_request
    return found


SOURCES: dict[str, OnRequest] = _load()
"""Built-in sources by type, loaded once at import."""
