"""Collection helpers shared by destination hooks (mapping._collections)."""

from __future__ import annotations

from transformer import hooks
from transformer.mapping import extract_custom_fields, set_dotted, unique_by


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


def test_extract_custom_fields_later_contexts_win_and_keys_accumulate() -> None:
    """Every own key not excluded is set; later contexts overwrite earlier ones, in key order."""
    traits = {"a": 1, "skip": 2, "b.c": 3, "__proto__": 4}
    context_traits = {"a": 5, "d": 6}
    out = extract_custom_fields((traits, None, context_traits), frozenset({"skip"}), set_dotted)
    assert out == {"a": 5, "b": {"c": 3}, "d": 6}
    assert list(out) == ["a", "b", "d"]


def test_extract_custom_fields_reads_arrays_and_strings_as_javascript_does() -> None:
    """An array gives its items by index; a string target is returned whole by get-value."""
    seen: list[tuple[str, object]] = []

    def record(out: dict[str, object], key: str, value: object) -> None:
        seen.append((key, value))
        out[key] = value

    extract_custom_fields((["x", "y"], "ab", 0, {}), frozenset({"1"}), record)
    assert seen == [("0", "x"), ("0", "ab"), ("0", "ab")]  # keys accumulate, repeats too


def test_extract_custom_fields_adds_to_a_given_object() -> None:
    """``out`` keeps what it had."""
    out = {"kept": True}
    assert extract_custom_fields(({"n": 1},), frozenset(), set_dotted, out) is out
    assert out == {"kept": True, "n": 1}
