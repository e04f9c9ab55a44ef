"""group_and_chunk: the shared router batching mechanics."""

from __future__ import annotations

from typing import Any

from transformer._batching import group_and_chunk
from transformer._destination import Job


def done(*outputs: Any) -> list[tuple[Job, Any]]:
    return [(Job(message={}, destination={}, metadata=str(i).encode()), o) for i, o in enumerate(outputs)]


def test_groups_keep_first_seen_order_and_job_order() -> None:
    """Groups come out in first-seen order; jobs keep their order inside a group."""
    items = done({"k": "a"}, {"k": "b"}, {"k": "a"}, {"k": "c"}, {"k": "b"})
    chunks = group_and_chunk(items, key=lambda job, out: out["k"])
    assert [[job.metadata for job, _ in c] for c in chunks] == [[b"0", b"2"], [b"1", b"4"], [b"3"]]


def test_chunks_respect_event_and_byte_limits() -> None:
    """A chunk never exceeds max_events, nor max_bytes unless one item alone does."""
    items = done("x" * 10, "x" * 10, "x" * 10, "x" * 50, "x")
    by_events = group_and_chunk(items, max_events=2)
    assert [len(c) for c in by_events] == [2, 2, 1]
    by_bytes = group_and_chunk(items, max_bytes=30)
    assert [[len(o) for _, o in c] for c in by_bytes] == [[10, 10], [10], [50], [1]]


def test_no_limits_means_one_chunk_per_group() -> None:
    """Without limits every group is one chunk, and every job appears exactly once."""
    items = done(*range(7))
    chunks = group_and_chunk(items, key=lambda job, out: out % 2)
    assert sorted(o for c in chunks for _, o in c) == list(range(7))
    assert len(chunks) == 2
