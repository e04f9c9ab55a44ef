"""Segment: what destination.yaml cannot say."""

from __future__ import annotations

from typing import Any

from transformer.hooks import ConfigurationError, Context, is_truthy


def prepare(ctx: Context) -> None:
    if ctx.destination.get("Config") is None:  # the reference crashes in Object.keys (a 500)
        raise ConfigurationError("destination.Config is missing or null")


def without_truthy_anonymous_id(traits: Any, ctx: Context) -> Any:
    """The traits without their anonymousId, which the reference deletes only when truthy."""
    if isinstance(traits, dict) and is_truthy(traits.get("anonymousId")):
        return {key: value for key, value in traits.items() if key != "anonymousId"}
    return traits


def finish(ctx: Context, output: dict[str, Any]) -> dict[str, Any]:
    output["statusCode"] = 200  # the reference's output carries it too
    return output
