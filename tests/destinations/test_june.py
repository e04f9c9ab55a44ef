"""June: reference cases missing from the conformance sample, and edge cases of the spec."""

from __future__ import annotations

from typing import Any

from ._support import ABSENT as _ABSENT
from ._support import job, output, present, route
from ._support import run as run_job

DESTINATION = {"Config": {"apiKey": "june1"}, "ID": "june123"}
API = "https://api.june.so/api"
HEADERS = {"Content-Type": "application/json", "Authorization": "Basic june1"}
ANON = "bf412108-0357-4330-b119-7305e767823c"
TS = "2022-01-20T13:39:21.032Z"
REVIEW = {"review_id": "12345", "product_id": "123", "rating": 3,
          "review_body": "Average product, expected much more."}
FULL_CONTEXT = {"app": {"name": "app"}, "ip": "0.0.0.0", "locale": None, "os": {"name": ""},
                "page": {"path": "/"}, "traits": {"email": "e"}, "sessionId": 1, "sessionStart": True,
                "consentManagement": {"x": 1}}
SENT_CONTEXT = {"app": {"name": "app"}, "ip": "0.0.0.0", "locale": None, "os": {"name": ""}}


def message(kind: Any = "track", **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"type": kind, "userId": "5136633649", "context": {},
                            "rudderId": "553b5522-c575-40a7-8072-9741c5f9a647", "anonymousId": ANON,
                            "originalTimestamp": TS}
    if kind == "track":
        base.update(event="Product Reviewed", properties=dict(REVIEW))
    base.update(fields)
    return present(base)


def run(msg: dict[str, Any], destination: Any = None) -> dict[str, Any]:
    """The one result of transforming ``msg`` (no metadata, as in the reference tests)."""
    return run_job("june", msg, destination or DESTINATION)


def payload(msg: dict[str, Any]) -> Any:
    return output(run(msg))["body"]["JSON"]


def request(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"version": "1", "type": "REST", "method": "POST", "endpoint": f"{API}/{kind}",
            "headers": HEADERS, "params": {},
            "body": {"JSON": body, "JSON_ARRAY": {}, "XML": {}, "FORM": {}}, "files": {}}


def error(text: str, feature: str = "processor") -> dict[str, Any]:
    return {"statusCode": 400, "error": text, "statTags": {
        "destType": "JUNE", "errorCategory": "dataValidation", "errorType": "instrumentation",
        "feature": feature, "implementation": "native", "module": "destination"}}


def test_plain_track() -> None:  # reference case 3
    """A track event sends userId, anonymousId, event, properties and timestamp; output userId is ""."""
    assert run(message()) == {"statusCode": 200, "output": {**request("track", {
        "anonymousId": ANON, "userId": "5136633649", "event": "Product Reviewed",
        "properties": REVIEW, "timestamp": TS}), "userId": ""}}


def test_missing_type() -> None:  # reference case 8
    """An event without a type is rejected."""
    assert run(message(_ABSENT)) == error("Event type is required")


def test_page_drops_group_id_from_properties() -> None:  # reference case 10
    """A page without userId is fine; properties.groupId is removed and does not name a group."""
    msg = message("page", userId=_ABSENT, event="Product Reviewed",
                  properties={**REVIEW, "groupId": "91Yb32830"})
    assert run(msg) == {"statusCode": 200, "output": {**request("page", {
        "anonymousId": ANON, "properties": REVIEW, "timestamp": TS}), "userId": ""}}


def test_router_sends_each_job_alone_in_input_order() -> None:  # reference router case 0
    """Successes and errors interleave in input order; batchedRequest has no userId."""
    identify = message("identify", sentAt=TS, channel="web",
                       context={"traits": {"name": "John Doe", "email": "johndoe@gmail.com", "age": 25}})
    track = message(userId=_ABSENT, properties={**REVIEW, "groupId": "91Yb32830"})
    jobs = [job(m, {"jobId": i, "userId": "u1"}, DESTINATION) for i, m in ((1, identify), (2, track))]
    ok, failed = route("june", jobs)
    assert ok == {"metadata": [{"jobId": 1, "userId": "u1"}], "batched": False, "statusCode": 200,
                  "destination": DESTINATION, "batchedRequest": request("identify", {
                      "anonymousId": ANON, "timestamp": TS, "userId": "5136633649",
                      "traits": {"age": 25, "email": "johndoe@gmail.com", "name": "John Doe"}})}
    assert failed == {"metadata": [{"jobId": 2, "userId": "u1"}], "batched": False,
                      "statusCode": 400, "destination": DESTINATION,
                      **error('Missing required value from "userIdOnly"', "router")}


def test_unsupported_types_are_quoted_and_lower_cased() -> None:
    """alias, screen and ALIAS are rejected in the reference's words."""
    assert run(message("ALIAS")) == error('Event type "alias" is not supported')
    assert run(message("screen")) == error('Event type "screen" is not supported')


def test_type_is_case_insensitive() -> None:
    """TRACK is handled as track."""
    result = run(message("TRACK", event="Product Reviewed"))
    assert result["output"]["endpoint"] == f"{API}/track"


def test_identify_prefers_context_traits_and_keeps_other_context() -> None:
    """context.traits wins over traits; the context minus the excluded keys is sent."""
    msg = message("identify", traits={"a": 1}, context={**FULL_CONTEXT, "traits": {"b": 2}})
    assert payload(msg) == {"userId": "5136633649", "anonymousId": ANON, "timestamp": TS,
                            "traits": {"b": 2}, "context": SENT_CONTEXT}


def test_identify_required_fields_in_order() -> None:
    """userIdOnly is checked before timestamp; anonymousId alone is not a userId."""
    msg = message("identify", userId=_ABSENT, originalTimestamp=_ABSENT)
    assert run(msg) == error('Missing required value from "userIdOnly"')
    assert run(message("identify", originalTimestamp=_ABSENT)) == error(
        'Missing required value from "timestamp"')


def test_track_requires_event() -> None:
    """A track without an event is rejected."""
    assert run(message(event="")) == error('Missing required value from "event"')


def test_track_sends_full_context_without_group() -> None:
    """Without a group the context goes out minus page, traits and session/consent keys."""
    assert payload(message(context=FULL_CONTEXT))["context"] == SENT_CONTEXT


def test_track_empty_group_id_is_no_group() -> None:
    """An empty properties.groupId is removed but names no group; nested nulls stay."""
    body = payload(message(properties={"a": None, "groupId": ""}, context={"ip": "1"}))
    assert body["properties"] == {"a": None}
    assert body["context"] == {"ip": "1"}


def test_track_group_replaces_whole_context() -> None:
    """A juneGroupId externalId wins and replaces every other context key."""
    context = {**FULL_CONTEXT, "externalId": [{"type": "other", "id": "x"},
                                              {"type": "juneGroupId", "id": "G1"}]}
    body = payload(message(context=context, properties={"groupId": "P"}))
    assert body["context"] == {"groupId": "G1"}
    assert body["properties"] == {}


def test_track_user_id_from_traits_and_empty_anonymous_id() -> None:
    """userIdOnly reads traits.id; an empty anonymousId is left out."""
    body = payload(message(userId=_ABSENT, anonymousId="", traits={"id": "tid"}))
    assert body["userId"] == "tid"
    assert "anonymousId" not in body


def test_page_requires_properties() -> None:
    """A page without properties is rejected; empty properties are fine."""
    assert run(message("page")) == error('Missing required value from "properties"')
    assert payload(message("page", properties={}))["properties"] == {}


def test_page_group_id_goes_inside_the_context() -> None:
    """message.groupId (else traits.groupId) is added to the sent context, never properties.groupId."""
    msg = message("page", properties={"groupId": "P"}, groupId="G", context=FULL_CONTEXT)
    assert payload(msg)["context"] == {**SENT_CONTEXT, "groupId": "G"}
    msg = message("page", properties={"groupId": "P"}, traits={"groupId": "T"})
    assert payload(msg)["context"] == {"groupId": "T"}
    assert "context" not in payload(message("page", properties={"groupId": "P"}))


def test_group_reads_context_traits_minus_group_id() -> None:
    """Group traits fall back to context.traits, without groupId; the context drops traits."""
    msg = message("group", groupId="G", context={"traits": {"name": "Initech", "groupId": "X"},
                                                 "ip": "1"})
    assert payload(msg) == {"userId": "5136633649", "anonymousId": ANON, "groupId": "G",
                            "timestamp": TS, "traits": {"name": "Initech"}, "context": {"ip": "1"}}
    assert run(message("group")) == error('Missing required value from "groupId"')


def test_missing_api_key_is_sent_as_undefined() -> None:
    """Without an apiKey the header reads "Basic undefined", as the reference's template does."""
    result = run(message(), {"Config": {}, "ID": "june123"})
    assert result["output"]["headers"]["Authorization"] == "Basic undefined"
