"""Device platforms as the reference names them (its isAppleFamily and appleOsNames)."""

from __future__ import annotations

from typing import Any

#: The reference's appleOsNames: platforms that take Apple's push and advertising ids.
APPLE_FAMILY = frozenset({"ios", "watchos", "ipados", "tvos"})


def is_apple_family(platform: Any) -> bool:
    """isAppleFamily: a string naming an Apple platform, in any case."""
    return isinstance(platform, str) and platform.lower() in APPLE_FAMILY
