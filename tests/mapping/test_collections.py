"""Collection helpers shared by destination hooks (mapping._collections)."""

from __future__ import annotations

from transformer import hooks
from transformer.mapping import unique_by


def test_unique_by_keeps_first_seen_order() -> None:
    assert unique_by([3, 1, 3, 2, 1], lambda v: v) == [3, 1, 2]
    assert unique_by(["a", "B", "A", "b"], str.lower) == ["a", "B"]
    assert unique_by([], lambda v: v) == []


def test_unique_by_identity_keys() -> None:
    first, second = {"x": 1}, {"x": 1}
    out = unique_by([first, second, first], id)
    assert out == [first, second]
    assert out[0] is first and out[1] is second
    assert hooks.unique_by is unique_by
