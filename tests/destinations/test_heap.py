"""Heap: reference cases missing from the conformance sample, and edge cases of the spec."""

from __future__ import annotations

from typing import Any

from ._support import ABSENT as _ABSENT
from ._support import output, present, workflow_error
from ._support import run as run_job

METADATA = {"destinationId": "destId", "workspaceId": "wspId"}
CONFIG = {"appId": "<app id>"}
US = "https://heapanalytics.com"
EU = "https://c.eu.heap-api.com"


def message(kind: Any = "track", **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "anonymousId": "sampath", "type": kind, "userId": "sampath",
        "context": {"traits": {"anonymousId": "sampath", "email": "sampath@gmail.com"}},
        "event": "Send Transactional Email",
        "properties": {"subject": "Welcome to My App!", "variation": "A"},
        "timestamp": "2020-01-16T18:53:20.866+05:30", "originalTimestamp": "2020-01-16T13:23:20.844Z",
    }
    if kind == "identify":
        base.pop("event")
        base.pop("properties")
        base["traits"] = {"anonymousId": "sampath", "email": "sampath@gmail.com"}
    base.update(fields)
    return present(base)


def run(msg: dict[str, Any], config: Any = None) -> dict[str, Any]:
    """The one result of transforming ``msg``, in the reference's JSON shape."""
    destination = {"ID": "1WTcDSEOE437e4ePH10BJNELXmE", "Config": CONFIG if config is None else config,
                   "DestinationDefinition": {"Name": "HEAP"}}
    return run_job("heap", msg, destination, METADATA)


def payload(msg: dict[str, Any], config: Any = None) -> Any:
    return output(run(msg, config))["body"]["JSON"]


def assert_error(result: dict[str, Any], step: str, text: str) -> None:
    assert result == {
        "statusCode": 400, "metadata": METADATA, "error": workflow_error(step, text),
        "statTags": {"destType": "HEAP", "errorCategory": "dataValidation",
                     "errorType": "instrumentation", "feature": "processor",
                     "implementation": "cdkV2", "module": "destination",
                     "destinationId": "destId", "workspaceId": "wspId"},
    }


def test_plain_track_builds_the_reference_request() -> None:  # reference case 2 ("Test 1")
    """A track event becomes a POST to /api/track with identity, event, properties and timestamp."""
    assert run(message()) == {"statusCode": 200, "metadata": METADATA, "output": {
        "version": "1", "type": "REST", "method": "POST", "endpoint": f"{US}/api/track",
        "headers": {"Content-Type": "application/json", "Accept": "application/json"},
        "params": {},
        "body": {"JSON": {"identity": "sampath", "event": "Send Transactional Email",
                          "properties": {"subject": "Welcome to My App!", "variation": "A"},
                          "app_id": "<app id>", "timestamp": "2020-01-16T18:53:20.866+05:30"},
                 "XML": {}, "JSON_ARRAY": {}, "FORM": {}},
        "files": {}, "userId": "sampath"}}


def test_missing_type_is_rejected_in_the_workflow_wording() -> None:  # reference case 3
    """An event without a type fails at step validateInput with the reference's message."""
    assert_error(run(message(_ABSENT)), "validateInput",
                 "message Type is not present. Aborting message.")
    assert_error(run(message("")), "validateInput", "message Type is not present. Aborting message.")


def test_page_is_not_supported() -> None:  # reference case 4
    """Only identify and track are mapped; a page fails at validateInput."""
    assert_error(run(message("page")), "validateInput", "message type page is not supported")


def test_type_check_is_case_sensitive_and_stringifies() -> None:
    """``Identify`` is not ``identify``, and a numeric type prints as in JavaScript."""
    assert_error(run(message("Identify")), "validateInput", "message type Identify is not supported")
    assert_error(run(message(5)), "validateInput", "message type 5 is not supported")


def test_track_timestamp_prefers_timestamp_and_keeps_idempotency_key() -> None:  # reference case 6
    """timestamp wins over originalTimestamp; properties.idempotencyKey moves to idempotency_key."""
    msg = message(properties={"subject": "s", "idempotencyKey": "1234"},
                  timestamp="2021-02-16T18:53:20.866+05:30", originalTimestamp="2020-01-01T00:00:00Z")
    assert payload(msg) == {"identity": "sampath", "event": "Send Transactional Email",
                            "properties": {"subject": "s"}, "app_id": "<app id>",
                            "timestamp": "2021-02-16T18:53:20.866+05:30", "idempotency_key": "1234"}


def test_timestamp_is_nullish_coalesced() -> None:
    """A null timestamp falls back to originalTimestamp, an empty one is sent as it is."""
    assert payload(message(timestamp=None))["timestamp"] == "2020-01-16T13:23:20.844Z"
    assert payload(message(timestamp=""))["timestamp"] == ""
    assert "timestamp" not in payload(message(timestamp=_ABSENT, originalTimestamp=_ABSENT))


def test_falsy_idempotency_key_is_dropped_but_removed_from_properties() -> None:
    """An idempotencyKey of 0 or "" is not sent, and never stays among the properties."""
    for key in (0, ""):
        body = payload(message(properties={"a": 1, "idempotencyKey": key}))
        assert body["properties"] == {"a": 1}
        assert "idempotency_key" not in body
    assert payload(message(properties={"idempotencyKey": 1234}))["idempotency_key"] == 1234


def test_properties_flatten_like_flatten_json() -> None:
    """Nested objects join with dots, arrays index with brackets, empty containers stay."""
    props: dict[str, Any] = {"nested": {"arr": [{"a": 1}, 2], "e": [], "o": {}, "n": None,
                        "idempotencyKey": "kept"}}
    assert payload(message(properties=props))["properties"] == {
        "nested.arr[0].a": 1, "nested.arr[1]": 2, "nested.e": [], "nested.o": {}, "nested.n": None,
        "nested.idempotencyKey": "kept"}


def test_missing_or_odd_properties() -> None:
    """No properties send {}; null and a bare string land under the empty key."""
    assert payload(message(properties=_ABSENT))["properties"] == {}
    assert payload(message(properties=None))["properties"] == {"": None}
    assert payload(message(properties="abc"))["properties"] == {"": "abc"}
    assert payload(message(properties=[1, 2]))["properties"] == {"[0]": 1, "[1]": 2}


def test_track_needs_a_truthy_event() -> None:
    """An empty or zero event fails at trackPayload; a numeric event is sent as a number."""
    assert_error(run(message(event="")), "trackPayload", "event is required")
    assert_error(run(message(event=0)), "trackPayload", "event is required")
    assert payload(message(event=12))["event"] == 12


def test_identify_traits_are_nullish_coalesced() -> None:
    """Root traits win even when empty; null root traits fall back to context.traits."""
    assert payload(message("identify", traits={}))["properties"] == {}
    msg = message("identify", traits=None, context={"traits": {"x": 1}})
    assert payload(msg)["properties"] == {"x": 1}


def test_identify_without_traits_fails() -> None:
    """No traits anywhere (or falsy ones) fails at identifyPayload."""
    assert_error(run(message("identify", traits=_ABSENT, context={})), "identifyPayload",
                 "traits are required")
    assert_error(run(message("identify", traits="", context={"traits": {"x": 1}})),
                 "identifyPayload", "traits are required")


def test_identify_drops_idempotency_key_and_never_sends_track_fields() -> None:
    """An identify never has event, timestamp or idempotency_key."""
    body = payload(message("identify", traits={"email": "e", "idempotencyKey": "k"},
                           event="x", properties={"idempotencyKey": "k"}))
    assert body == {"identity": "sampath", "properties": {"email": "e"}, "app_id": "<app id>"}


def test_identity_is_a_javascript_or_chain() -> None:
    """Falsy candidates are skipped; the value keeps its type; the output userId is anonymousId."""
    msg = message("identify", userId=0, traits={"userId": "", "id": "tid"})
    assert payload(msg)["identity"] == "tid"
    msg = message("identify", userId=_ABSENT, anonymousId=77, traits={"a": 1},
                  context={"traits": {"id": "cid"}})
    result = run(msg)
    assert result["output"]["body"]["JSON"]["identity"] == "cid"
    assert result["output"]["userId"] == "77"
    assert payload(message(userId=123))["identity"] == 123


def test_track_without_any_identity_fails_last() -> None:
    """Without userId or anonymousId the event fails at validateuserId."""
    msg = message(userId=_ABSENT, anonymousId=_ABSENT, context={})
    assert_error(run(msg), "validateuserId", "userId is required")


def test_data_residency_is_exactly_eu() -> None:
    """Only "eu" selects the EU host; "EU" or anything else stays on the US host."""
    assert run(message(), {**CONFIG, "dataResidency": "EU"})["output"]["endpoint"] == f"{US}/api/track"
    assert run(message(), {**CONFIG, "dataResidency": "eu"})["output"]["endpoint"] == f"{EU}/api/track"


def test_app_id_is_sent_raw_or_left_out() -> None:
    """appId keeps its type, and the key is absent when the config has none."""
    assert "app_id" not in payload(message(), {})
    assert payload(message(), {"appId": 42})["app_id"] == 42
