"""Kafka: reference cases missing from the conformance sample, and edge cases of the spec."""

from __future__ import annotations

from typing import Any

from ._support import ABSENT as _ABSENT
from ._support import present
from ._support import run as run_job

METADATA = {"jobId": 1, "rudderId": "randomRudderId"}
MULTI_TOPIC = {
    "topic": "default-topic",
    "enableMultiTopic": True,
    "eventTypeToTopicMap": [{"from": "Identify", "to": "identify-topic"},
                            {"from": "page", "to": ""}],
    "eventToTopicMap": [{"from": "Product Added", "to": "product-added"}],
}


def message(**fields: Any) -> dict[str, Any]:
    base = {"anonymousId": "anonymousId", "event": "event", "type": "track", "userId": "userId",
            "properties": {"key": "value"}, "messageId": "messageId",
            "timestamp": "2019-07-18T15:00:00Z", "originalTimestamp": "2019-07-18T15:00:00Z"}
    base.update(fields)
    return present(base)


def run(msg: dict[str, Any], config: Any = None, metadata: Any = METADATA) -> dict[str, Any]:
    """The one result of transforming ``msg``, in the reference's JSON shape."""
    destination = {"ID": "kafkadestinationid", "Config": {} if config is None else config}
    return run_job("kafka", msg, destination, metadata)


def test_no_topic_anywhere_echoes_the_message_without_topic() -> None:  # reference case 0
    msg = message(integrations={"Kafka": True})
    assert run(msg) == {"statusCode": 200, "output": {"message": msg, "userId": "userId"},
                        "metadata": METADATA}


def test_user_id_falls_back_to_anonymous_id() -> None:  # reference case 1
    msg = message(userId=_ABSENT, integrations={"Kafka": True})
    assert run(msg)["output"] == {"message": msg, "userId": "anonymousId"}


def test_config_topic_is_the_default_and_tags_rudder_id() -> None:  # reference case 4
    msg = message()
    assert run(msg, {"topic": "default-topic"}) == {
        "statusCode": 200,
        "output": {"message": msg, "userId": "userId", "topic": "default-topic"},
        "metadata": {"jobId": 1, "rudderId": "randomRudderId<<>>default-topic"},
    }


def test_falsy_user_id_falls_through_like_javascript_or() -> None:
    assert run(message(userId=0))["output"]["userId"] == "anonymousId"
    assert run(message(userId="", anonymousId=_ABSENT))["output"]["userId"] == ""
    assert run(message(userId=42))["output"]["userId"] == "42"


def test_falsy_schema_id_is_left_out() -> None:
    for schema_id in (0, "", None):
        output = run(message(integrations={"Kafka": {"schemaId": schema_id}}))["output"]
        assert "schemaId" not in output


def test_first_truthy_integrations_entry_wins() -> None:
    msg = message(integrations={"KAFKA": False, "kafka": None, "Kafka": {"topic": "kt"}})
    result = run(msg, {"topic": "default-topic"})
    assert result["output"]["topic"] == "kt"
    assert result["metadata"]["rudderId"] == "randomRudderId<<>>kt"
    # A truthy non-object entry wins but carries no topic.
    msg = message(integrations={"KAFKA": "yes", "Kafka": {"topic": "kt"}})
    assert run(msg, {"topic": "default-topic"})["output"]["topic"] == "default-topic"


def test_event_type_map_keys_are_lower_cased_but_the_type_is_not() -> None:
    assert run(message(type="identify"), MULTI_TOPIC)["output"]["topic"] == "identify-topic"
    assert run(message(type="IDENTIFY"), MULTI_TOPIC)["output"]["topic"] == "default-topic"


def test_event_name_map_is_case_sensitive_and_empty_targets_fall_through() -> None:
    assert run(message(event="Product Added"), MULTI_TOPIC)["output"]["topic"] == "product-added"
    assert run(message(event="product added"), MULTI_TOPIC)["output"]["topic"] == "default-topic"
    assert run(message(type="page"), MULTI_TOPIC)["output"]["topic"] == "default-topic"


def test_maps_are_ignored_without_enable_multi_topic() -> None:
    config = {**MULTI_TOPIC, "enableMultiTopic": False}
    assert run(message(type="identify"), config)["output"]["topic"] == "default-topic"


def test_any_message_type_is_accepted() -> None:
    msg = message(type=_ABSENT)
    assert run(msg, {"topic": "t"})["output"] == {"message": msg, "userId": "userId", "topic": "t"}


def test_empty_config_topic_is_kept_and_rudder_id_untouched() -> None:
    result = run(message(), {"topic": ""})
    assert result["output"]["topic"] == ""
    assert result["metadata"] == METADATA


def test_missing_rudder_id_prints_undefined() -> None:
    assert run(message(), {"topic": "t"}, {"jobId": 1})["metadata"] == {
        "jobId": 1, "rudderId": "undefined<<>>t"}


def test_topic_without_metadata_is_rejected() -> None:
    """The reference crashes tagging metadata.rudderId (a 500 retried forever): a 400 here."""
    result = run(message(), {"topic": "t"}, metadata=None)
    assert (result["statusCode"], result["error"], result["statTags"]["errorType"]) == (
        400, "the job needs metadata: its rudderId is tagged with the topic", "instrumentation")


def test_malformed_topic_map_rows_are_configuration_errors() -> None:
    """Rows the reference crashes on (a 500 the router retries forever) name the config key."""
    config = {**MULTI_TOPIC, "eventTypeToTopicMap": [{"from": 5, "to": "x"}]}
    result = run(message(event="Product Added"), config)
    assert (result["statusCode"], result["error"], result["statTags"]["errorType"]) == (
        400, "eventTypeToTopicMap[0].from must be a string", "configuration")
    # Both maps are built for every type: a null entry in the event-name map fails an identify.
    config = {**MULTI_TOPIC, "eventToTopicMap": [None]}
    assert run(message(type="identify"), config)["error"] == "eventToTopicMap[0] is null"


def test_blank_map_entries_are_skipped_and_later_entries_win() -> None:
    config = {**MULTI_TOPIC, "eventToTopicMap": [
        {"from": " ", "to": "blank"}, {"from": "E", "to": "first"}, {"from": "E", "to": "second"},
        "not-an-entry"]}
    assert run(message(event="E"), config)["output"]["topic"] == "second"
    assert run(message(event=" "), config)["output"]["topic"] == "default-topic"


def test_retl_timestamp_fix_up_is_echoed() -> None:
    msg = message(channel="sources", properties={"timestamp": "2020-01-01T00:00:00Z"})
    echoed = run(msg)["output"]["message"]
    assert echoed["timestamp"] == "2020-01-01T00:00:00Z"


def test_job_without_metadata_and_topic_has_no_metadata() -> None:
    """A job without metadata and without a topic gets no metadata back, as in the reference."""
    assert "metadata" not in run(message(), {}, metadata=None)
