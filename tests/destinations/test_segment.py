"""Segment: reference cases missing from the conformance sample, and edge cases of the spec."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from ._support import ABSENT as _ABSENT
from ._support import job, present, route
from ._support import output as output_of
from ._support import run as run_job

AUTH = "Basic c2VnbWVudDE6"  # base64("segment1:")
TRAITS = {"age": 23, "email": "testmp@email.com", "firstname": "Test Transformer"}
_DEFAULT: Any = object()


def message(**fields: Any) -> dict[str, Any]:
    """A reference-style web track event; a field set to _ABSENT is removed."""
    base: dict[str, Any] = {
        "anonymousId": "ac7722c2-ccb6-4ae2-baf6-1effe861f4cd",
        "channel": "web",
        "context": {"library": {"name": "RudderLabs JavaScript SDK"}, "traits": dict(TRAITS)},
        "event": "test track with property",
        "integrations": {"All": True},
        "messageId": "584fde02-901a-4964-a4a0-4078b999d5b2",
        "originalTimestamp": "2020-04-17T14:55:31.372Z",
        "properties": {"test_prop_1": "test prop", "test_prop_2": 1232},
        "receivedAt": "2020-04-17T20:25:31.401+05:30",
        "request_ip": "[::1]:57365",
        "sentAt": "2020-04-17T14:55:31.372Z",
        "timestamp": "2020-04-17T20:25:31.401+05:30",
        "type": "track",
        "userId": "user12345",
    }
    base.update(fields)
    return present(base)


def destination(config: Any = _DEFAULT) -> dict[str, Any]:
    dest: dict[str, Any] = {"ID": "1afmecIpsJm7D72aRTksxyODrwR", "Name": "Segment",
                            "DestinationDefinition": {"Name": "SEGMENT"}}
    if config is not _ABSENT:
        dest["Config"] = {"writeKey": "segment1"} if config is _DEFAULT else config
    return dest


def run(msg: Any, config: Any = _DEFAULT, metadata: Any = None) -> dict[str, Any]:
    """The single processor result, in the reference's JSON shape."""
    return run_job("segment", msg, destination(config), metadata)


def output(msg: Any, config: Any = _DEFAULT) -> dict[str, Any]:
    out: dict[str, Any] = output_of(run(msg, config))
    return out


def item(msg: Any) -> Any:
    (only,) = output(msg)["body"]["JSON"]["batch"]
    return only


def request(batch_item: Any, user_id: str = "user12345", auth: str = AUTH) -> dict[str, Any]:
    """The request the reference sends."""
    return {"version": "1", "type": "REST", "method": "POST",
            "endpoint": "https://api.segment.io/v1/batch",
            "headers": {"Content-Type": "application/json", "Authorization": auth},
            "params": {}, "body": {"JSON": {"batch": [batch_item]}, "JSON_ARRAY": {}, "XML": {},
                                   "FORM": {}},
            "files": {}, "userId": user_id, "statusCode": 200}


# --- reference cases missing from the conformance sample --------------------------------------


def test_track_sends_event_properties_and_traits_ref_2() -> None:
    """A track event's item has event, properties, context traits and timeStamp; no metadata key."""
    assert run(message()) == {"statusCode": 200, "output": request({
        "anonymousId": "ac7722c2-ccb6-4ae2-baf6-1effe861f4cd", "type": "track",
        "userId": "user12345", "event": "test track with property", "traits": TRAITS,
        "properties": {"test_prop_1": "test prop", "test_prop_2": 1232},
        "timeStamp": "2020-04-17T20:25:31.401+05:30"})}


def test_page_without_anonymous_id_ref_3() -> None:
    """No anonymousId: the key is left out; name is not forwarded; properties kept as they are."""
    props = {"path": "/tests/html/index4.html", "referrer": "", "title": ""}
    msg = message(anonymousId=_ABSENT, type="page", event=_ABSENT, name="home", properties=props,
                  timestamp="2020-04-17T20:25:31.381+05:30")
    assert output(msg) == request({"type": "page", "userId": "user12345", "traits": TRAITS,
                                   "properties": props,
                                   "timeStamp": "2020-04-17T20:25:31.381+05:30"})


def test_track_without_traits_ref_4() -> None:
    """Without traits anywhere the item has no traits key."""
    msg = message(context={"library": {"name": "x"}})
    assert "traits" not in item(msg)
    assert item(msg)["event"] == "test track with property"


# --- the batch item ---------------------------------------------------------------------------


def test_an_empty_event_still_sends_one_empty_item() -> None:
    """{} gives batch [{}] and userId ""."""
    assert output({}) == request({}, user_id="")


def test_values_are_kept_unless_null_event_and_properties_only_when_truthy() -> None:
    """"" anonymousId and type, false traits, 0 timestamp stay; 0 event and null properties go."""
    msg = {"anonymousId": "", "type": "", "event": 0, "properties": None, "traits": False,
           "timestamp": 0, "userId": 0}
    assert output(msg) == request(
        {"anonymousId": "", "type": "", "userId": 0, "traits": False, "timeStamp": 0}, user_id="")


def test_empty_properties_and_event_containers_are_kept() -> None:
    """{} and [] are truthy in JavaScript."""
    got = item(message(properties={}, event=[]))
    assert got["properties"] == {} and got["event"] == []


def test_traits_come_from_traits_before_context_traits() -> None:
    """traits wins even when {}; context.traits is the fallback; a string is copied."""
    assert item(message(traits={}))["traits"] == {}
    assert item(message(traits={"a": 1}))["traits"] == {"a": 1}
    assert item(message(traits="str"))["traits"] == "str"


def test_a_truthy_traits_anonymous_id_is_removed() -> None:
    """Only a truthy traits.anonymousId goes; other keys (id, userId, nulls) stay."""
    msg = message(userId=_ABSENT, context={"traits": {"anonymousId": "x", "id": 5, "a": None}})
    assert output(msg) == request({
        "anonymousId": "ac7722c2-ccb6-4ae2-baf6-1effe861f4cd", "type": "track", "userId": 5,
        "event": "test track with property", "traits": {"id": 5, "a": None},
        "properties": {"test_prop_1": "test prop", "test_prop_2": 1232},
        "timeStamp": "2020-04-17T20:25:31.401+05:30"}, user_id="5")
    assert item(message(traits={"anonymousId": False, "b": 1}))["traits"] == {
        "anonymousId": False, "b": 1}


@pytest.mark.parametrize(("fields", "raw", "text"), [
    ({"userId": "u"}, "u", "u"),
    ({"userId": "", "traits": {"userId": "t"}}, "t", "t"),
    ({"userId": None, "traits": {"id": 3}}, 3, "3"),
    ({"userId": _ABSENT, "context": {"traits": {"userId": "cu", "id": "ci"}}}, "cu", "cu"),
    ({"userId": _ABSENT, "context": {"traits": {"id": "ci"}}}, "ci", "ci"),
    ({"userId": _ABSENT, "context": {}}, "ac7722c2-ccb6-4ae2-baf6-1effe861f4cd",
     "ac7722c2-ccb6-4ae2-baf6-1effe861f4cd"),
    ({"userId": {"a": 1}}, {"a": 1}, "[object Object]"),
    ({"userId": False}, False, ""),
])
def test_user_id_fallbacks(fields: dict[str, Any], raw: Any, text: str) -> None:
    """userId, traits.userId/id, context.traits.userId/id, then anonymousId; raw in the item."""
    got = output(message(**fields))
    assert got["body"]["JSON"]["batch"][0]["userId"] == raw
    assert got["userId"] == text


def test_time_stamp_falls_back_to_original_timestamp_unformatted() -> None:
    """timeStamp is timestamp, else originalTimestamp, verbatim (false counts)."""
    assert item(message(timestamp=_ABSENT))["timeStamp"] == "2020-04-17T14:55:31.372Z"
    assert item(message(timestamp=""))["timeStamp"] == "2020-04-17T14:55:31.372Z"
    assert item(message(timestamp=False))["timeStamp"] is False
    assert "timeStamp" not in item(message(timestamp=_ABSENT, originalTimestamp=_ABSENT))


def test_nothing_else_of_the_event_is_forwarded() -> None:
    """context, integrations, messageId, request_ip ... never reach the item."""
    assert set(item(message())) == {"anonymousId", "type", "userId", "event", "traits",
                                    "properties", "timeStamp"}


@pytest.mark.parametrize("kind", ["alias", "record", "whatever", 7, _ABSENT])
def test_every_message_type_is_accepted(kind: Any) -> None:
    """No type validation: the type is copied when not null."""
    got = item(message(type=kind))
    assert got.get("type", _ABSENT) == kind


# --- config -----------------------------------------------------------------------------------


def _basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(("config", "key"), [
    ({}, "undefined"), ({"writeKey": None}, "null"), ({"writeKey": 12}, "12"),
    ({"writeKey": 1.5}, "1.5"), ({"writeKey": [1, None, "a"]}, "1,,a"),
    ({"writeKey": {"a": 1}}, "[object Object]"), ({"writeKey": "é"}, "é"),
    ({"writeKey": ""}, ""), ("abc", "undefined"), (["x"], "undefined"),
])
def test_write_key_is_printed_as_javascript_does(config: Any, key: str) -> None:
    """The Basic auth user is `${Config.writeKey}`, "undefined" when Config has no such key."""
    assert output(message(), config)["headers"]["Authorization"] == _basic(f"{key}:")


def test_known_authorization_values() -> None:
    """The reference's own header values."""
    assert output(message(), {})["headers"]["Authorization"] == "Basic dW5kZWZpbmVkOg=="
    assert output(message(), {"writeKey": None})["headers"]["Authorization"] == "Basic bnVsbDo="
    assert output(message(), {"writeKey": 12})["headers"]["Authorization"] == "Basic MTI6"


@pytest.mark.parametrize("config", [None, _ABSENT])
def test_a_missing_config_is_a_configuration_error(config: Any) -> None:
    """The reference crashes in Object.keys(undefined | null), a 500 the router would retry
    forever; here it is a 400 configuration error."""
    result = run(message(), config, metadata={"jobId": 1})
    assert result["statusCode"] == 400
    assert result["error"] == "destination.Config is missing or null"
    assert result["statTags"]["errorType"] == "configuration"
    assert result["metadata"] == {"jobId": 1}


def test_metadata_is_echoed() -> None:
    """The job's metadata comes back with the output."""
    assert run(message(), metadata={"jobId": 3, "destinationId": "d"})["metadata"] == {
        "jobId": 3, "destinationId": "d"}


def test_router_transforms_each_job_on_its_own() -> None:
    """The reference has no router transform; here each job is one unbatched request."""
    results = route("segment", [job(message(userId=f"u{n}"), {"jobId": n}, destination())
                                for n in (1, 2)])
    assert [(r["statusCode"], r["batched"], r["metadata"]) for r in results] == [
        (200, False, [{"jobId": 1}]), (200, False, [{"jobId": 2}])]
    assert results[1]["batchedRequest"]["userId"] == "u2"
