"""Firehose: reference cases missing from the conformance sample, and edge cases of the spec."""

from __future__ import annotations

from typing import Any

from transformer.v1 import transformer_pb2 as pb

from ._support import job, output, route
from ._support import run as run_job

META = {"jobId": 1, "destinationId": "d1", "workspaceId": "w1"}
NO_STREAM = "No delivery stream set for this event"


def track(**fields: Any) -> dict[str, Any]:
    msg = {"type": "track", "event": "product added", "userId": "123456",
           "anonymousId": "00000000000000000000000000", "channel": "web",
           "properties": {"price": 1}, "originalTimestamp": "2019-10-14T09:03:17.562Z"}
    msg.update(fields)
    return {k: v for k, v in msg.items() if v is not None}


def _job(msg: Any, map_events: Any, metadata: Any = META) -> pb.Job:
    return job(msg, metadata, _destination(map_events))


def _destination(map_events: Any) -> dict[str, Any]:
    config = {"region": "us-east-1"} if map_events is None else {"mapEvents": map_events}
    return {"ID": "d1", "Config": config}


def run(msg: Any, map_events: Any, metadata: Any = META) -> dict[str, Any]:
    return run_job("firehose", msg, _destination(map_events), metadata)


def stream(msg: Any, map_events: Any) -> Any:
    return output(run(msg, map_events))["deliveryStreamMapTo"]


def test_event_name_mapping_ref_1() -> None:
    msg = track()
    result = run(msg, [{"from": "product added", "to": "ruchira-test-firehose"}])
    assert result == {"statusCode": 200, "metadata": META, "output": {
        "message": msg, "userId": "00000000000000000000000000",
        "deliveryStreamMapTo": "ruchira-test-firehose"}}


def test_wildcard_mapping_ref_2() -> None:
    assert stream(track(), [{"from": "*", "to": "ruchira-test-firehose"}]) == "ruchira-test-firehose"


def test_event_beats_type_beats_wildcard_ref_4() -> None:
    rows = [{"from": "*", "to": "A"}, {"from": "track", "to": "B"}, {"from": "product added", "to": "C"}]
    assert stream(track(), rows) == "C"
    assert stream(track(event="other"), rows) == "B"
    assert stream(track(type="identify", event="other"), rows) == "A"


def test_empty_event_falls_to_wildcard_and_metadata_is_echoed_ref_6() -> None:
    metadata = {"sourceType": "JAVASCRIPT", "destinationType": "FIREHOSE", "k8_namespace": "x"}
    result = run(track(event=""), [{"from": "*", "to": "A"}, {"from": "product added", "to": "B"}],
                 metadata)
    assert result["statusCode"] == 200
    assert result["output"]["deliveryStreamMapTo"] == "A"
    assert result["metadata"] == metadata


def test_lookups_are_case_insensitive_but_not_trimmed() -> None:
    assert stream(track(type="TRACK", event="x"), [{"from": "Track", "to": "T"}]) == "T"
    assert stream(track(event="Product ADDED"), [{"from": "PRODUCT added", "to": "E"}]) == "E"
    assert run(track(event="x"), [{"from": "track ", "to": "T"}])["error"] == NO_STREAM


def test_a_falsy_target_falls_through_to_the_next_candidate() -> None:
    rows = [{"from": "product added", "to": ""}, {"from": "track", "to": None}, {"from": "*", "to": "S"}]
    assert stream(track(), rows) == "S"


def test_blank_and_missing_from_rows_are_skipped_and_the_last_row_wins() -> None:
    rows = [{"from": " ", "to": "X"}, {"to": "Y"}, {"from": None, "to": "Z"},
            {"from": "*", "to": "first"}, {"from": "*", "to": "last"}]
    assert stream(track(event="x"), rows) == "last"


def test_non_string_event_is_ignored() -> None:
    assert stream(track(event=42), [{"from": "42", "to": "E"}, {"from": "track", "to": "T"}]) == "T"


def test_any_message_type_is_accepted() -> None:
    assert stream({"type": "group", "anonymousId": "a"}, [{"from": "group", "to": "G"}]) == "G"
    assert stream({"anonymousId": "a"}, [{"from": "*", "to": "S"}]) == "S"


def test_user_id_is_the_anonymous_id_only_stringified() -> None:
    rows = [{"from": "*", "to": "S"}]
    assert run(track(anonymousId=12), rows)["output"]["userId"] == "12"
    assert run(track(anonymousId=None), rows)["output"]["userId"] == ""
    assert run({"type": "track", "userId": "u"}, rows)["output"]["userId"] == ""


def test_no_mapping_is_a_configuration_error() -> None:
    for rows in (None, [], "not a list", [{"from": "identify", "to": "I"}]):
        result = run(track(), rows)
        assert result["statusCode"] == 400
        assert result["error"] == NO_STREAM
        assert result["statTags"] == {
            "destType": "FIREHOSE", "errorCategory": "dataValidation", "errorType": "configuration",
            "feature": "processor", "implementation": "native", "module": "destination",
            "destinationId": "d1", "workspaceId": "w1"}


def test_malformed_rows_or_type_are_clear_400s() -> None:
    """Rows and types the reference crashes on (500, retried) are configuration/event errors."""
    for msg, rows, kind in ((track(), [None], "configuration"),
                            (track(), [{"from": 5, "to": "X"}], "configuration"),
                            (track(type=7, event="x"), [{"from": "*", "to": "S"}], "instrumentation")):
        result = run(msg, rows)
        assert result["statusCode"] == 400, result
        assert result["statTags"]["errorType"] == kind


def test_retl_source_timestamp_is_fixed_up_in_the_echoed_message() -> None:
    msg = track(channel="sources", properties={"timestamp": "2021-01-01T00:00:00Z"})
    out = run(msg, [{"from": "*", "to": "S"}])["output"]
    assert out["message"]["timestamp"] == "2021-01-01T00:00:00Z"


def test_router_sends_each_event_on_its_own_in_order() -> None:
    rows = [{"from": "track", "to": "T"}]
    jobs = [_job(track(), rows, {"jobId": 1, "destinationId": "d1", "workspaceId": "w1"}),
            _job(track(type="identify"), rows, {"jobId": 2, "destinationId": "d1", "workspaceId": "w1"}),
            _job(track(anonymousId=7), rows, {"jobId": 3})]
    first, second, third = route("firehose", jobs)
    assert first == {
        "metadata": [{"jobId": 1, "destinationId": "d1", "workspaceId": "w1"}], "batched": False,
        "statusCode": 200, "destination": {"ID": "d1", "Config": {"mapEvents": rows}},
        "batchedRequest": {"message": track(), "userId": "00000000000000000000000000",
                           "deliveryStreamMapTo": "T"}}
    assert (second["statusCode"], second["error"], second["batched"]) == (400, NO_STREAM, False)
    assert second["statTags"] == {
        "destType": "FIREHOSE", "errorCategory": "dataValidation", "errorType": "configuration",
        "feature": "router", "implementation": "native", "module": "destination",
        "destinationId": "d1", "workspaceId": "w1"}
    assert third["batchedRequest"]["userId"] == "7"
