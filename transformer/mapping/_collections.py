"""Small collection helpers shared by destination hooks."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

T = TypeVar("T")


def unique_by(items: Iterable[T], key: Callable[[T], Hashable]) -> list[T]:
    """``items`` without repeats, in first-seen order; two items repeat when ``key`` gives them
    the same value (JavaScript's ``[...new Set(values)]`` with ``key`` naming what Set compares)."""
    seen: set[Hashable] = set()
    out: list[T] = []
    for item in items:
        marker = key(item)
        if marker not in seen:
            seen.add(marker)
            out.append(item)
    return out


__all__ = ["unique_by"]
