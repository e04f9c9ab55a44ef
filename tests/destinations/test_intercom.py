"""Intercom: reference cases our conformance sample lacks, the workflow's edge rules, and the
network-free behaviour where the reference looks contacts up."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from transformer._catalog import load_catalog
from transformer._clock import FixedClock
from transformer._conformance import processor_body, router_body
from transformer._pipeline import Pipeline
from transformer.v1 import transformer_pb2 as pb

PIPELINE = Pipeline(load_catalog())
V1 = {"apiKey": "key1", "apiVersion": "v1"}
V2 = {"apiKey": "key2", "apiVersion": "v2", "apiServer": "standard"}
V1_HEADERS = {"Content-Type": "application/json", "Authorization": "Bearer key1",
              "Accept": "application/json", "Intercom-Version": "1.4", "User-Agent": "RudderStack"}
TS = "2023-11-10T14:42:44.724Z"
TS_S = 1699627364


def process(message: dict[str, Any], config: dict[str, Any]) -> list[dict[str, Any]]:
    """The processor results of one event."""
    job = pb.Job(message=orjson.dumps(message),
                 destination=orjson.dumps({"ID": "d", "Config": config}),
                 metadata=orjson.dumps({"jobId": 1, "destinationId": "d", "workspaceId": "w"}))
    response, _ = PIPELINE.transform(pb.TransformRequest(destination_type="intercom", jobs=[job]),
                                     FixedClock(0))
    return processor_body(response)


def output(message: dict[str, Any], config: dict[str, Any]) -> Any:
    (result,) = process(message, config)
    assert result["statusCode"] == 200, result
    return result["output"]


def error(message: dict[str, Any], config: dict[str, Any]) -> tuple[int, str, str]:
    (result,) = process(message, config)
    return result["statusCode"], result["error"], result["statTags"].get("errorType", "")


def workflow(message: str, step: str, child: str = "undefined") -> str:
    return (f"{message}: Workflow: procWorkflow, Step: {step}, ChildStep: {child}, "
            f"OriginalError: {message}")


# --- v1 -------------------------------------------------------------------------------------------


def test_v1_identify_with_company() -> None:
    """A v1 identify sends traits.company as a company (id: md5 of its name) and the other traits
    as flattened custom attributes."""
    message = {"type": "identify", "userId": "u", "anonymousId": "anon", "context": {
        "userAgent": "ua", "traits": {
            "firstName": "F", "email": "e@x", "createdAt": "2020-09-30T19:11:00.337Z",
            "nested": {"a": [1, 2]},
            "company": {"name": "Acme", "plan": "p", "tags": ["a"], "industry": "i",
                        "remove": True}}}}
    result = output(message, {**V1, "updateLastRequestAt": "no"})
    assert result["endpoint"] == "https://api.intercom.io/users"
    assert result["headers"] == V1_HEADERS
    assert result["userId"] == "anon"
    assert result["body"]["JSON"] == {
        "user_id": "u", "email": "e@x", "signed_up_at": 1601493060, "last_seen_user_agent": "ua",
        "name": "F", "custom_attributes": {"nested.a[0]": 1, "nested.a[1]": 2},
        "update_last_request_at": True,
        "companies": [{"company_id": hashlib.md5(b"Acme").hexdigest(),
                       "custom_attributes": {"plan": "p", "tags": '["a"]'}, "name": "Acme",
                       "industry": "i", "remove": True}]}


def test_v1_identify_needs_email_or_user_id() -> None:
    """sendAnonymousId makes the anonymousId the user_id; without it the event is rejected."""
    message = {"type": "identify", "anonymousId": "anon", "context": {"traits": {"x": 1}}}
    assert output(message, {**V1, "sendAnonymousId": True})["body"]["JSON"]["user_id"] == "anon"
    assert error(message, V1) == (
        400, workflow("Either of `email` or `userId` is required for Identify call",
                      "identifyPayloadForOlderVersion"), "instrumentation")


def test_v1_track_with_anonymous_id() -> None:
    """A v1 track: created in seconds, the anonymousId as user_id and as the output userId."""
    message = {"type": "track", "anonymousId": "anon", "event": "E", "originalTimestamp": TS}
    result = output(message, {**V1, "sendAnonymousId": True})
    assert result["endpoint"] == "https://api.intercom.io/events"
    assert result["userId"] == "anon"
    assert result["body"]["JSON"] == {"event_name": "E", "user_id": "anon", "created": TS_S}


def test_v1_group_creates_the_company_and_attaches_the_user() -> None:
    """A v1 group sends the company and then the user with the company attached."""
    message = {"type": "group", "userId": "u", "anonymousId": "anon", "groupId": "g1",
               "traits": {"name": "Acme", "plan": "basic", "employees": 450, "monthlySpend": "10"},
               "context": {"traits": {"email": "e@x"}}}
    company, user = process(message, V1)
    assert company["output"]["endpoint"] == "https://api.intercom.io/companies"
    assert company["output"]["body"]["JSON"] == {
        "company_id": "g1", "name": "Acme", "plan": "basic", "size": None, "monthly_spend": 10,
        "custom_attributes": {"employees": 450}}
    assert user["output"]["endpoint"] == "https://api.intercom.io/users"
    assert user["output"]["body"]["JSON"] == {
        "user_id": "u", "email": "e@x", "companies": [{"company_id": "g1", "name": "Acme"}]}
    assert user["output"]["userId"] == "anon"


# --- v2 -------------------------------------------------------------------------------------------


def test_v2_identify_creates_the_contact() -> None:
    """Without a contact search (a network call) a v2 identify creates the contact."""
    message = {"type": "identify", "userId": "u", "context": {"traits": {
        "email": "e@x", "ownerId": "13", "lastSeenAt": TS, "firstName": "A", "lastName": "B",
        "age": 23, "address": {"city": "c"}}}}
    result = output(message, {**V2, "apiServer": "eu"})
    assert result["method"] == "POST"
    assert result["endpoint"] == "https://api.eu.intercom.io/contacts"
    assert result["headers"]["Intercom-Version"] == "2.10"
    assert result["body"]["JSON"] == {
        "external_id": "u", "email": "e@x", "owner_id": 13, "last_seen_at": TS_S, "name": "A B",
        "custom_attributes": {"age": 23, "address_city": "c"}}


def test_v2_identify_lookup_field_is_not_a_custom_attribute() -> None:
    """integrations.Intercom.lookup names a field kept out of the custom attributes."""
    message = {"type": "identify", "userId": "u", "integrations": {"Intercom": {"lookup": "code"}},
               "context": {"traits": {"code": "c1", "email": "e@x", "k": 1}}}
    assert output(message, V2)["body"]["JSON"]["custom_attributes"] == {"k": 1}


def test_v2_identify_without_email_or_user_id() -> None:
    """A v2 identify needs an external id or an email."""
    message = {"type": "identify", "anonymousId": "anon", "context": {"traits": {"phone": "1"}}}
    assert error(message, V2) == (
        400, workflow("Either email or userId is required for Identify call",
                      "identifyPayloadForLatestVersion"), "instrumentation")


def test_v2_track_metadata() -> None:
    """Money and rich-link objects stay whole; other properties are flattened."""
    message = {"type": "track", "userId": "u", "event": "E", "timestamp": TS,
               "properties": {"id": "p1", "price": {"amount": 1, "currency": "USD"},
                              "link": {"url": "u", "value": "v"}, "a": {"b": [1, {"c": 2}]},
                              "n": None}}
    assert output(message, {"apiKey": "k"})["body"]["JSON"] == {
        "event_name": "E", "user_id": "u", "id": "p1", "created_at": TS_S,
        "metadata": {"price": {"amount": 1, "currency": "USD"}, "link": {"url": "u", "value": "v"},
                     "id": "p1", "a.b[0]": 1, "a.b[1].c": 2, "n": None}}


def test_v2_group_sends_the_company() -> None:
    """Without a contact search a v2 group sends the company (size null when it is missing)."""
    message = {"type": "group", "userId": "u", "groupId": "g1",
               "traits": {"name": "Acme", "industry": "CDP", "isOpenSource": True}}
    result = output(message, {**V2, "apiServer": "au"})
    assert result["endpoint"] == "https://api.au.intercom.io/companies"
    assert result["body"]["JSON"] == {"company_id": "g1", "name": "Acme", "industry": "CDP",
                                      "size": None, "custom_attributes": {"isOpenSource": True}}


def test_v2_group_without_group_id_names_the_child_step() -> None:
    """The group assertion sits in a nested workflow step, which its message names."""
    assert error({"type": "group", "userId": "u"}, V2) == (
        400, workflow("groupId is required for group call", "groupPayloadForLatestVersion",
                      "validateMessageAndPreparePayload"), "instrumentation")


def test_retl_track_sends_the_traits() -> None:
    """An rETL track sends its traits, with user_id as external_id when there is no email."""
    message = {"type": "track", "context": {"mappedToDestination": "true"},
               "traits": {"event_name": "E", "user_id": "u1", "x": {"y": 1}}}
    assert output(message, V2)["body"]["JSON"] == {"event_name": "E", "user_id": "u1",
                                                   "external_id": "u1", "x": {"y": 1}}


# --- validation -----------------------------------------------------------------------------------


def test_type_and_key_checks_come_first_in_the_workflow_wording() -> None:
    """Type, then API key, each named after the validateInput step."""
    assert error({"userId": "u"}, V2) == (
        400, workflow("message Type is not present. Aborting", "validateInput"), "instrumentation")
    assert error({"type": "page", "userId": "u"}, {"apiVersion": "v2"}) == (
        400, workflow("message type page is not supported", "validateInput"), "instrumentation")
    assert error({"type": "track", "userId": "u"}, {"apiKey": ""}) == (
        400, workflow("Access Token is not present. Aborting", "validateInput"), "configuration")
    (result,) = process({"type": 5}, V2)
    assert result["statusCode"] == 500
    assert result["statTags"]["errorCategory"] == "transformation"


def test_track_needs_an_event_name() -> None:
    """A track without event is rejected."""
    assert error({"type": "track", "userId": "u"}, V2) == (
        400, workflow("Event name is required for track call", "trackPayload"), "instrumentation")


def test_already_transformed_request_is_sent_as_it_is() -> None:
    """A message with statusCode is a request already built."""
    assert output({"statusCode": 200, "endpoint": "x"}, V2)["endpoint"] == "x"


# --- router ---------------------------------------------------------------------------------------


def test_router_sends_each_job_alone_failures_last() -> None:
    """Router requests are not batched; failures come after the successes."""
    messages = [{"type": "page", "userId": "u"}, {"type": "track", "userId": "u", "event": "E"},
                {"type": "identify", "userId": "u", "context": {"traits": {"email": "e@x"}}}]
    jobs = [pb.Job(message=orjson.dumps(m), destination=orjson.dumps({"ID": "d", "Config": V1}),
                   metadata=orjson.dumps({"jobId": i})) for i, m in enumerate(messages, 1)]
    response, _ = PIPELINE.router_transform(
        pb.TransformRequest(destination_type="intercom", jobs=jobs), FixedClock(0))
    results = router_body(response)["output"]
    assert [(r["metadata"][0]["jobId"], r["statusCode"], r["batched"]) for r in results] == [
        (2, 200, False), (3, 200, False), (1, 400, False)]
    assert results[2]["error"] == "message type page is not supported"
