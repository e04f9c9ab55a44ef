"""A trial run: a program on sample inputs, each timed (and, where it can be told, its memory), as
``Functions.Test`` and the local harness both run it (one place, so a laptop sees exactly what the
server would return)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ._python import Mode
from ._runner import Outcome, Program, Runner, RunResult


class MemoryProbe(Protocol):
    """Reads the peak memory of whatever runs a call (e.g. the one sandbox worker of a local run)."""

    def reset(self) -> None:
        """Start measuring a new call."""

    def peak(self) -> int | None:
        """The peak since ``reset``, in bytes; None when it cannot be read."""


@dataclass(frozen=True, slots=True)
class Trial:
    """One ``Outcome`` per input with the time its call took (``transformBatch``: the one call's) and
    the most memory it had (None when not measured)."""

    outcomes: list[Outcome]
    elapsed_ms: list[float]
    #: ``transformBatch`` only: returned events carrying no input's ``messageId``, and the call's logs.
    unmatched: list[bytes]
    logs: tuple[str, ...]
    total_ms: float
    memory_bytes: list[int | None]


async def run_trial(runner: Runner, program: Program, inputs: Sequence[bytes], settings: bytes, *,
                    probe: MemoryProbe | None = None) -> Trial:
    """Run ``program`` on each input with ``settings`` (the metadata of a transformation, the settings
    of a destination or source function), one call per input so that each gets its own time and
    memory: what the runtime reports (a WebAssembly guest's), else what ``probe`` reads."""
    if program.mode is Mode.DESTINATION:
        # the destination function's shim takes the whole destination document
        settings = b'{"Config":' + settings + b"}"
    pairs = [(event, settings) for event in inputs]
    started = time.perf_counter()
    if program.mode is Mode.BATCH:
        if probe is not None:
            probe.reset()
        run = await runner.run(program, pairs)
        elapsed, memory = _ms(started), _memory(run, probe)
        count = len(run.outcomes)
        return Trial(run.outcomes, [elapsed] * count, run.unmatched, run.logs, elapsed, [memory] * count)
    outcomes: list[Outcome] = []
    times: list[float] = []
    memories: list[int | None] = []
    for pair in pairs:
        if probe is not None:
            probe.reset()
        call_started = time.perf_counter()
        run = await runner.run(program, [pair])
        times.append(_ms(call_started))
        outcomes.extend(run.outcomes)
        memories.append(_memory(run, probe))
    return Trial(outcomes, times, [], (), _ms(started), memories)


def _memory(run: RunResult, probe: MemoryProbe | None) -> int | None:
    if run.memory_bytes is not None:
        return run.memory_bytes
    return probe.peak() if probe is not None else None


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
