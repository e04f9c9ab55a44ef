"""A transformation: tag each event with its source, hash the email, drop internal traffic."""

import hashlib


def transformEvent(event, metadata):
    traits = event.get("context", {}).get("traits", {})
    email = traits.get("email")
    if isinstance(email, str) and email.endswith("@acme.example"):
        log("dropped internal user", event.get("messageId"))
        return None
    if event.get("type") == "track" and not event.get("event"):
        raise ValidationError("a track event needs an event name")
    if isinstance(email, str):
        traits["email_sha256"] = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    event.setdefault("properties", {})["source_id"] = metadata(event).get("sourceId")
    return event
