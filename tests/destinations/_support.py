"""What every destination test needs: jobs through the real pipeline (pinned clock), results read
back in the reference's JSON shape, and the reference's workflow error wording."""

from __future__ import annotations

from typing import Any

from transformer._catalog import load_catalog
from transformer._clock import FixedClock
from transformer._conformance import processor_body, router_body
from transformer._pipeline import Pipeline
from transformer.v1 import transformer_pb2 as pb

from ..helpers import job

__all__ = ["ABSENT", "PIPELINE", "job", "output", "present", "route", "run", "transform",
           "workflow_error"]

PIPELINE = Pipeline(load_catalog())
#: Marks a field a test wants left out of a message or config (see ``present``).
ABSENT: Any = object()


def present(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` without the ones set to ABSENT."""
    return {key: value for key, value in fields.items() if value is not ABSENT}


def transform(dest_type: str, jobs: list[pb.Job], now_ms: int = 0) -> list[dict[str, Any]]:
    """Processor results, in the reference's JSON shape (the clock pinned at ``now_ms``)."""
    request = pb.TransformRequest(destination_type=dest_type, jobs=jobs)
    return processor_body(PIPELINE.transform(request, FixedClock(now_ms))[0])


def run(dest_type: str, message: Any, destination: Any, metadata: Any = None,
        now_ms: int = 0) -> dict[str, Any]:
    """The one processor result of one event (no metadata unless given)."""
    [result] = transform(dest_type, [job(message, metadata, destination)], now_ms)
    return result


def output(result: dict[str, Any]) -> Any:
    """A successful result's output."""
    assert result["statusCode"] == 200, result
    return result["output"]


def route(dest_type: str, jobs: list[pb.Job], now_ms: int = 0) -> list[dict[str, Any]]:
    """Router results, in the reference's JSON shape (the clock pinned at ``now_ms``)."""
    request = pb.TransformRequest(destination_type=dest_type, jobs=jobs)
    reply = PIPELINE.router_transform(request, FixedClock(now_ms))[0]
    results: list[dict[str, Any]] = router_body(reply)["output"]
    return results


def workflow_error(step: str, message: str) -> str:
    """A cdkV2 destination's processor error, as the reference's workflow engine words it."""
    return (f"{message}: Workflow: procWorkflow, Step: {step}, ChildStep: undefined, "
            f"OriginalError: {message}")
