"""Router batching shared by destinations: group transformed jobs, then cut groups into chunks.

A destination's ``batch`` hook calls ``group_and_chunk`` and turns each chunk into one request; the
rules that differ between destinations (what may share a request, how many events or bytes a
request may carry) are arguments, the mechanics are here once.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import orjson

from transformer._destination import Batch, Job

Done = tuple[Job, Any]


def json_size(value: Any) -> int:
    """Bytes of ``value`` as compact JSON, the measure destination APIs put limits on."""
    return len(orjson.dumps(value))


def group_and_chunk(
    done: list[Done],
    *,
    key: Callable[[Job, Any], Hashable] | None = None,
    max_events: int = 0,
    max_bytes: int = 0,
    size: Callable[[Any], int] = json_size,
) -> list[list[Done]]:
    """Groups in first-seen order (jobs keep their order inside a group), each cut into chunks of
    at most ``max_events`` items and ``max_bytes`` bytes (0: no limit). An item bigger than
    ``max_bytes`` on its own gets a chunk of its own rather than being dropped."""
    groups: dict[Hashable, list[Done]] = {}
    for item in done:
        groups.setdefault(key(*item) if key else None, []).append(item)
    chunks: list[list[Done]] = []
    for items in groups.values():
        chunk: list[Done] = []
        chunk_bytes = 0
        for item in items:
            item_bytes = size(item[1]) if max_bytes else 0
            full = (max_events and len(chunk) >= max_events) or (
                max_bytes and chunk and chunk_bytes + item_bytes > max_bytes)
            if full:
                chunks.append(chunk)
                chunk, chunk_bytes = [], 0
            chunk.append(item)
            chunk_bytes += item_bytes
        if chunk:
            chunks.append(chunk)
    return chunks


def sort_by_min_job_id(batches: list[Batch]) -> list[Batch]:
    """The reference's sortBatchesByMinJobId: batches in order of the smallest jobId each
    carries (a stable sort). When a job has no numeric jobId the reference compares NaN, which
    leaves the order as it is."""
    keys: dict[int, int | float] = {}
    for batch in batches:
        ids = [job_id for job in batch.jobs if (job_id := job.job_id) is not None]
        if not ids or len(ids) != len(batch.jobs):
            return batches
        keys[id(batch)] = min(ids)
    return sorted(batches, key=lambda batch: keys[id(batch)])
