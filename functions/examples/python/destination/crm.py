"""A destination function: send identifies and tracks to a CRM's REST API."""


def on_identify(event, settings):
    traits = event.get("context", {}).get("traits", {})
    if not traits.get("email"):
        raise ValidationError("identify needs context.traits.email")
    return request(settings, "PUT", "/contacts/" + event["userId"],
                   {"email": traits["email"], "name": traits.get("name")})


def on_track(event, settings):
    log("track", event.get("event"))
    return request(settings, "POST", "/events", {
        "user_id": event.get("userId") or event.get("anonymousId"),
        "name": event.get("event"),
        "properties": event.get("properties", {}),
    })


def request(settings, method, path, body):
    return {
        "version": "1",
        "type": "REST",
        "method": method,
        "endpoint": settings["baseUrl"] + path,
        "headers": {"Authorization": "Bearer " + settings["apiKey"], "Content-Type": "application/json"},
        "params": {},
        "body": {"JSON": body, "JSON_ARRAY": {}, "XML": {}, "FORM": {}},
        "files": {},
    }
