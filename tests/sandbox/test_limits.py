"""Limits: defaults, validation and per-function overrides within the server maximum."""

from __future__ import annotations

import dataclasses

import pytest

from sandbox import LimitPolicy, Limits, LimitsError


def test_default_limits_are_valid_and_within_the_default_maximum() -> None:
    """The server defaults construct and fit under the default maximum."""
    policy = LimitPolicy()
    assert policy.check(policy.defaults) == Limits()
    assert Limits().above(policy.maximum) == []


def test_limits_are_frozen() -> None:
    """A Limits value cannot be changed in place."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        Limits().wall_ms = 5  # type: ignore[misc]


@pytest.mark.parametrize("changes", [{"wall_ms": 0}, {"cpu_seconds": -1}, {"max_log_bytes": 1.5},
                                     {"max_output_bytes": True}, {"memory_bytes": 1024},
                                     {"max_events_per_batch": 100_000}])
def test_replace_rejects_values_that_are_not_usable_limits(changes: dict[str, object]) -> None:
    """Non-positive, non-integer, boolean, too-small memory and too-large batch values are refused."""
    with pytest.raises(LimitsError):
        Limits().replace(**changes)  # type: ignore[arg-type]


def test_replace_rejects_unknown_limit_names() -> None:
    """A misspelt limit name is an error that lists the known names."""
    with pytest.raises(LimitsError, match="wall_ms"):
        Limits().replace(wall_time=5)


def test_policy_derives_per_function_overrides() -> None:
    """Overrides from a mapping and keywords are applied on top of the defaults."""
    policy = LimitPolicy()
    limits = policy.derive({"wall_ms": 2_000}, max_log_bytes=1_000)
    assert (limits.wall_ms, limits.max_log_bytes, limits.cpu_seconds) == (2_000, 1_000, Limits().cpu_seconds)
    assert policy.derive() is policy.defaults


def test_policy_refuses_overrides_above_the_maximum() -> None:
    """A function may not ask for more than the server maximum, and the error names the limit."""
    policy = LimitPolicy(maximum=Limits(wall_ms=5_000, cpu_seconds=5, memory_bytes=1 << 30))
    with pytest.raises(LimitsError, match="wall_ms=6000 > 5000"):
        policy.derive(wall_ms=6_000)


def test_policy_refuses_defaults_above_its_maximum() -> None:
    """A policy whose defaults exceed its maximum cannot be built."""
    with pytest.raises(LimitsError, match="cpu_seconds"):
        LimitPolicy(defaults=Limits(cpu_seconds=10), maximum=Limits(cpu_seconds=5))
