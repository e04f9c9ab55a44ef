"""A trial run: a program on sample inputs, each timed, as ``Functions.Test`` and the local harness
both run it (one place, so a laptop sees exactly what the server would return)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from ._python import Mode
from ._runner import Outcome, Program, Runner


@dataclass(frozen=True, slots=True)
class Trial:
    """One ``Outcome`` per input with the time its call took (``transformBatch``: the one call's)."""

    outcomes: list[Outcome]
    elapsed_ms: list[float]
    #: ``transformBatch`` only: returned events carrying no input's ``messageId``, and the call's logs.
    unmatched: list[bytes]
    logs: tuple[str, ...]
    total_ms: float


async def run_trial(runner: Runner, program: Program, inputs: Sequence[bytes], settings: bytes) -> Trial:
    """Run ``program`` on each input with ``settings`` (the metadata of a transformation, the settings
    of a destination or source function), one call per input so that each gets its own time."""
    if program.mode is Mode.DESTINATION:
        # the destination function's shim takes the whole destination document
        settings = b'{"Config":' + settings + b"}"
    pairs = [(event, settings) for event in inputs]
    started = time.perf_counter()
    if program.mode is Mode.BATCH:
        run = await runner.run(program, pairs)
        elapsed = _ms(started)
        return Trial(run.outcomes, [elapsed] * len(run.outcomes), run.unmatched, run.logs, elapsed)
    outcomes: list[Outcome] = []
    times: list[float] = []
    for pair in pairs:
        call_started = time.perf_counter()
        outcomes.extend((await runner.run(program, [pair])).outcomes)
        times.append(_ms(call_started))
    return Trial(outcomes, times, [], (), _ms(started))


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
