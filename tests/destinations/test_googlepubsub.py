"""Google Pub/Sub: reference cases missing from the conformance sample, and edge cases of the spec."""

from __future__ import annotations

from typing import Any

import pytest

from transformer.v1 import transformer_pb2 as pb

from ._support import job, output, route
from ._support import run as run_job

META = {"jobId": 1, "destinationId": "d1", "workspaceId": "w1"}
NO_TOPIC = "No topic set for this event"
ALL = [{"from": "*", "to": "T"}]


def track(**fields: Any) -> dict[str, Any]:
    msg = {"type": "track", "event": "product added", "userId": "123456", "anonymousId": "anon",
           "name": "Pizza", "properties": {"url": "https://dominos.com", "title": "Pizza",
                                           "referrer": "https://google.com"},
           "originalTimestamp": "2019-10-14T09:03:17.562Z"}
    msg.update(fields)
    return {k: v for k, v in msg.items() if v is not None}


def _destination(topics: Any, attributes: Any = None) -> dict[str, Any]:
    config: dict[str, Any] = {"credentials": "abc"}
    if topics is not None:
        config["eventToTopicMap"] = topics
    if attributes is not None:
        config["eventToAttributesMap"] = attributes
    return {"ID": "d1", "Config": config}


def _job(msg: Any, topics: Any, attributes: Any = None, metadata: Any = META) -> pb.Job:
    return job(msg, metadata, _destination(topics, attributes))


def run(msg: Any, topics: Any, attributes: Any = None) -> dict[str, Any]:
    return run_job("googlepubsub", msg, _destination(topics, attributes), META)


def attrs(msg: Any, rows: list[dict[str, Any]]) -> Any:
    return output(run(msg, ALL, rows))["attributes"]


def test_type_mapping_without_attributes_ref_0() -> None:
    msg = track()
    assert run(msg, [{"from": "track", "to": "test"}]) == {"statusCode": 200, "metadata": META, "output": {
        "userId": "123456", "message": msg, "topicId": "test", "attributes": {}}}


def test_no_topic_is_a_configuration_error_ref_3() -> None:
    for topics in ([{"from": "test event", "to": "test"}], None, [], [{"from": "track", "to": ""}]):
        result = run(track(), topics)
        assert result["statusCode"] == 400 and result["error"] == NO_TOPIC
        assert result["statTags"] == {
            "destType": "GOOGLEPUBSUB", "errorCategory": "dataValidation",
            "errorType": "configuration", "feature": "processor", "implementation": "native",
            "module": "destination", "destinationId": "d1", "workspaceId": "w1"}


def test_event_attribute_list_replaces_the_type_list_ref_10() -> None:
    rows = [{"from": "track", "to": "url"}, {"from": "track", "to": "title"},
            {"from": "product added", "to": "referrer"}]
    assert attrs(track(), rows) == {"referrer": "https://google.com"}
    assert attrs(track(event="other"), rows) == {"url": "https://dominos.com", "title": "Pizza"}


def test_wildcard_attributes_and_case_insensitive_keys() -> None:
    assert attrs(track(type="IDENTIFY"), [{"from": "*", "to": "url"}]) == {"url": "https://dominos.com"}
    assert attrs(track(event="ORDER DONE"), [{"from": "Order Done", "to": "title"}]) == {"title": "Pizza"}
    assert attrs(track(), [{"from": "", "to": "url"}, {"from": "page", "to": "url"}]) == {}


def test_missing_type_is_an_auth_configuration_error() -> None:
    for msg in (track(type=None), track(type=""), {"event": "product added"}):
        result = run(msg, ALL)
        assert result["statusCode"] == 400 and result["error"] == "type is required for event"
        assert result["statTags"]["errorType"] == "configuration"
        assert result["statTags"]["meta"] == "accessTokenExpired"


def test_user_id_falls_back_to_the_anonymous_id_when_falsy() -> None:
    assert run(track(userId=None), ALL)["output"]["userId"] == "anon"
    assert run(track(userId=0), ALL)["output"]["userId"] == "anon"
    assert run(track(userId=12), ALL)["output"]["userId"] == "12"
    assert run(track(userId=None, anonymousId=None), ALL)["output"]["userId"] == ""


def test_attribute_values_are_strings_found_at_root_then_properties_then_traits() -> None:
    msg = track(userId=5, context={"ip": "1.2.3.4", "traits": {"plan": "gold", "title": "ctx"}},
                traits={"nul": "from traits", "title": "traits"},
                properties={"flag": False, "zero": 0, "empty": "", "nul": None, "obj": {"a": 2.0, "b": [1]},
                            "price": 10.0, "title": "props"})
    rows = [{"from": "*", "to": p} for p in
            ("userId", "flag", "zero", "empty", "nul", "obj", "price", "plan", "context.ip", "title",
             "missing")]
    assert attrs(msg, rows) == {
        "userId": "5", "flag": "false", "zero": "0", "empty": "", "nul": "from traits",
        "obj": '{"a":2,"b":[1]}', "price": "10", "plan": "gold", "ip": "1.2.3.4", "title": "props"}


def test_attribute_paths_follow_get_value() -> None:
    msg = track(properties={"a.b": {"c": "joined"}, "x": {"y.z": "inner"}, "list": [{"k": "v"}, 2],
                            "nestedObject": {"this": "will be picked"}})
    rows = [{"from": "*", "to": p} for p in
            ("a.b.c", "x.y.z", "list.0.k", "list.length", "nestedObject.this", "properties.list.1")]
    assert attrs(msg, rows) == {"c": "joined", "z": "inner", "k": "v", "length": "2",
                                "this": "will be picked", "1": "2"}


def test_a_later_path_with_the_same_last_segment_overwrites() -> None:
    msg = track(properties={"a": {"id": "first"}, "b": {"id": "second"}})
    assert attrs(msg, [{"from": "*", "to": "a.id"}, {"from": "*", "to": "b.id"}]) == {"id": "second"}


def test_non_string_attribute_path_is_a_platform_error() -> None:
    result = run(track(), ALL, [{"from": "track", "to": 5}])
    assert result["statusCode"] == 400
    assert result["error"] == "Wrong sourceKey type or blank sourceKey array"
    assert result["statTags"]["errorCategory"] == "platform"
    assert "errorType" not in result["statTags"]


@pytest.mark.parametrize(("msg", "rows", "error"), [
    (track(), {"not": "a list"}, "eventToAttributesMap must be a list of {from, to} rows"),
    (track(), [{"from": "*", "to": "url"}, {"to": "url"}], "eventToAttributesMap[1].from must be a string"),
    (track(), [None], "eventToAttributesMap[0].from must be a string"),
    (track(), [{"from": 5, "to": "url"}], "eventToAttributesMap[0].from must be a string"),
])
def test_malformed_attribute_rows_are_configuration_errors(msg: Any, rows: Any, error: str) -> None:
    """Rows the reference crashes on (a 500 the router retries forever) name the config key."""
    result = run(msg, ALL, rows)
    assert (result["statusCode"], result["error"], result["statTags"]["errorType"]) == \
        (400, error, "configuration")


@pytest.mark.parametrize(("msg", "error"), [
    (track(event=5), "event must be a string"), (track(type=7), "type must be a string"),
    (track(type=["track"]), "type must be a string"),
])
def test_non_string_event_or_type_is_an_instrumentation_error(msg: Any, error: str) -> None:
    """A truthy event or type that is not a string cannot be looked up: the event is at fault."""
    result = run(msg, [{"from": "x", "to": "T"}])
    assert (result["statusCode"], result["error"], result["statTags"]["errorType"]) == \
        (400, error, "instrumentation")


def test_malformed_topic_rows_are_configuration_errors() -> None:
    result = run(track(), [{"from": "track", "to": "T"}, None])
    assert (result["statusCode"], result["error"]) == (400, "eventToTopicMap[1] is null")


def test_router_sends_each_event_on_its_own_in_order() -> None:
    topics = [{"from": "track", "to": "T"}]
    jobs = [_job(track(type=None), topics, metadata={"jobId": 1, "destinationId": "d1"}),
            _job(track(userId=None, anonymousId=9), topics, [{"from": "*", "to": "url"}],
                 metadata={"jobId": 2})]
    first, second = route("googlepubsub", jobs)
    assert (first["statusCode"], first["error"]) == (400, "type is required for event")
    assert first["statTags"] == {
        "destType": "GOOGLEPUBSUB", "errorCategory": "dataValidation", "errorType": "configuration",
        "meta": "accessTokenExpired", "feature": "router", "implementation": "native",
        "module": "destination", "destinationId": "d1"}
    assert (second["statusCode"], second["batched"], second["metadata"]) == (200, False, [{"jobId": 2}])
    assert second["batchedRequest"] == {
        "userId": "9", "message": track(userId=None, anonymousId=9), "topicId": "T",
        "attributes": {"url": "https://dominos.com"}}


def test_attribute_objects_are_stringified_with_javascript_key_order() -> None:
    msg = track(properties={"obj": {"b": 1, "10": "ten", "2": "two", "a": {"1": 1.0, "z": 0}}})
    assert attrs(msg, [{"from": "*", "to": "obj"}]) == {
        "obj": '{"2":"two","10":"ten","b":1,"a":{"1":1,"z":0}}'}


def test_an_attribute_map_without_usable_rows_is_not_looked_up() -> None:
    """Only blank `from` rows: attributes are {} before the (here non-string) type is read."""
    result = run({"type": 7, "event": "product added"}, [{"from": "product added", "to": "T"}],
                 [{"from": "", "to": "url"}])
    assert result["statusCode"] == 200
    assert result["output"]["attributes"] == {} and result["output"]["topicId"] == "T"
