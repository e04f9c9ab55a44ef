"""June: what destination.yaml cannot say."""

from __future__ import annotations

from typing import Any

from transformer.hooks import Context, InstrumentationError, is_truthy

_SUPPORTED = frozenset({"identify", "track", "page", "group"})


def prepare(ctx: Context) -> None:
    """Rejects the standard types June does not take, worded as the reference words it."""
    if ctx.message_type not in _SUPPORTED:
        raise InstrumentationError(f'Event type "{ctx.message_type}" is not supported')


def _group_id(message: dict[str, Any]) -> Any:
    """The id of the first context.externalId entry of type juneGroupId, else properties.groupId
    (JavaScript ``||``: the first truthy one)."""
    context = message.get("context")
    external = context.get("externalId") if isinstance(context, dict) else None
    if isinstance(external, list):
        entry = next((e for e in external if isinstance(e, dict) and e.get("type") == "juneGroupId"),
                     None)
        if entry is not None and is_truthy(entry.get("id")):
            return entry["id"]
    properties = message.get("properties")
    return properties.get("groupId") if isinstance(properties, dict) else None


def finish(ctx: Context, output: dict[str, Any]) -> dict[str, Any]:
    """A track event that names a group sends ``context: {groupId}`` instead of its context."""
    if ctx.message_type == "track":
        group_id = _group_id(ctx.message)
        if is_truthy(group_id):
            output["body"]["JSON"]["context"] = {"groupId": group_id}
    return output
