"""group_and_chunk: the shared router batching mechanics."""

from __future__ import annotations

from typing import Any

from transformer._batching import group_and_chunk, sort_by_min_job_id
from transformer._destination import Batch, Job


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


def job_with(job_id: Any) -> Job:
    return Job(message={}, destination={}, metadata=b"", metadata_doc={"jobId": job_id})


def test_job_id_is_the_numeric_job_id() -> None:
    """Job.job_id: the metadata's numeric jobId; a string, boolean or missing one is None."""
    assert [job_with(v).job_id for v in (3, 2.5, "3", True, None)] == [3, 2.5, None, None, None]
    assert Job(message={}, destination={}, metadata=b"").job_id is None


def test_sort_by_min_job_id_is_stable_and_needs_numeric_ids() -> None:
    """Batches sort by their smallest jobId (ties keep their order); one non-numeric id keeps
    the order as it is, as the reference's NaN comparisons do."""
    batches = [Batch(request=name, jobs=[job_with(i) for i in ids])
               for name, ids in (("a", [5, 9]), ("b", [7, 2]), ("c", [2]), ("d", [8]))]
    assert [b.request for b in sort_by_min_job_id(batches)] == ["b", "c", "a", "d"]
    batches.append(Batch(request="e", jobs=[job_with("x")]))
    assert [b.request for b in sort_by_min_job_id(batches)] == ["a", "b", "c", "d", "e"]
