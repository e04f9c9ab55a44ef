"""Klaviyo: reference cases our conformance sample lacks, the API versions' edge rules, and the
router's batching of profiles, subscriptions and events."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from transformer._catalog import load_catalog
from transformer._clock import FixedClock
from transformer._conformance import processor_body, router_body
from transformer._pipeline import Pipeline
from transformer.destinations.klaviyo.hooks import _is_e164
from transformer.v1 import transformer_pb2 as pb

PIPELINE = Pipeline(load_catalog())
V1 = {"privateApiKey": "key1"}
V2 = {"privateApiKey": "key1", "apiVersion": "v2"}
V3 = {"privateApiKey": "key1", "apiVersion": "v3"}
BASE = "https://a.klaviyo.com"
TRAITS = {"firstName": "Test", "lastName": "Rudderlabs", "email": "test@rudderstack.com",
          "phone": "+12 345 578 900", "userId": "user@1", "title": "Developer",
          "organization": "Rudder", "city": "Tokyo", "region": "Kanto", "country": "JP",
          "zip": "100-0001", "Flagged": False, "Residence": "Shibuya", "street": "63, Shibuya"}
LOCATION = {"city": "Tokyo", "region": "Kanto", "country": "JP", "zip": "100-0001",
            "address1": "63, Shibuya"}
ANON = "97c46c81-3140-456d-b2a9-690d70aaca35"


def process(message: dict[str, Any], config: dict[str, Any]) -> list[dict[str, Any]]:
    """The processor results of one event."""
    job = pb.Job(message=orjson.dumps(message),
                 destination=orjson.dumps({"ID": "d", "Config": config}),
                 metadata=orjson.dumps({"jobId": 1, "destinationId": "d", "workspaceId": "w"}))
    response, _ = PIPELINE.transform(pb.TransformRequest(destination_type="klaviyo", jobs=[job]),
                                     FixedClock(0))
    return processor_body(response)


def outputs(message: dict[str, Any], config: dict[str, Any]) -> list[dict[str, Any]]:
    results = process(message, config)
    assert all(r["statusCode"] == 200 for r in results), results
    return [r["output"] for r in results]


def error(message: dict[str, Any], config: dict[str, Any]) -> tuple[int, str]:
    (result,) = process(message, config)
    return result["statusCode"], result["error"]


def route(items: list[tuple[dict[str, Any], str]], config: dict[str, Any]) -> list[dict[str, Any]]:
    """Router results for (message, metadata.userId) pairs, jobIds 1, 2, ..."""
    jobs = [pb.Job(message=orjson.dumps(m), destination=orjson.dumps({"ID": "d", "Config": config}),
                   metadata=orjson.dumps({"jobId": i, "userId": user}))
            for i, (m, user) in enumerate(items, 1)]
    response, _ = PIPELINE.router_transform(
        pb.TransformRequest(destination_type="klaviyo", jobs=jobs), FixedClock(0))
    return router_body(response)["output"]


def job_ids(result: dict[str, Any]) -> list[int]:
    return [m["jobId"] for m in result["metadata"]]


def identify(i: int, subscribe: bool | None = None, list_id: str | None = None) -> dict[str, Any]:
    traits: dict[str, Any] = {"email": f"e{i}@x.com", "firstName": f"n{i}"}
    if subscribe is not None:
        traits["properties"] = {"subscribe": subscribe, "consent": ["email"]}
        if list_id:
            traits["properties"]["listId"] = list_id
    return {"type": "identify", "userId": f"u{i}", "traits": traits}


def track(i: int) -> dict[str, Any]:
    return {"type": "track", "userId": f"u{i}", "event": "E", "messageId": f"m{i}"}


def group(i: int, group_id: str, subscribe: bool = True) -> dict[str, Any]:
    return {"type": "group", "userId": f"u{i}", "groupId": group_id,
            "traits": {"subscribe": subscribe, "email": f"g{i}@x.com"}}


# --- v2 / v3 ----------------------------------------------------------------------------------------


def test_v2_identify_with_profile_id_and_patch_properties() -> None:
    """integrations.Klaviyo fields to unset/append/unappend become meta.patch_properties and the
    klaviyo-profileId external id the profile id."""
    message = {"type": "identify", "userId": "user@1", "anonymousId": ANON,
               "integrations": {"Klaviyo": {"fieldsToUnset": ["Unset1"],
                                            "fieldsToAppend": ["appendList1"],
                                            "fieldsToUnappend": ["unappendList1"]}},
               "context": {"externalId": [{"type": "klaviyo-profileId", "id": "12345678"}],
                           "traits": {**TRAITS, "appendList1": "New", "unappendList1": "Old",
                                      "properties": {"listId": "XUepkK"}}}}
    (profile,) = outputs(message, V2)
    assert profile["endpoint"] == BASE + "/api/profile-import"
    assert profile["headers"]["revision"] == "2024-10-15"
    assert profile["body"]["JSON"] == {"data": {
        "type": "profile", "id": "12345678",
        "attributes": {"external_id": "user@1", "anonymous_id": ANON,
                       "email": "test@rudderstack.com", "first_name": "Test",
                       "last_name": "Rudderlabs", "phone_number": "+12 345 578 900",
                       "title": "Developer", "organization": "Rudder", "location": LOCATION,
                       "properties": {"Flagged": False, "Residence": "Shibuya"}},
        "meta": {"patch_properties": {"append": {"appendList1": "New"},
                                      "unappend": {"unappendList1": "Old"},
                                      "unset": ["Unset1"]}}}}


def test_v2_track_value_and_properties() -> None:
    """revenue/total/value becomes value, currency value_currency; they, email and phone leave the
    properties (and so do not reach the profile)."""
    message = {"type": "track", "userId": "u", "event": "Order", "messageId": "m1",
               "originalTimestamp": "2021-01-25T15:32:56.409Z",
               "properties": {"revenue": "12.5", "currency": "USD", "email": "p@x.com", "k": 1}}
    (event,) = outputs(message, V2)
    attributes = event["body"]["JSON"]["data"]["attributes"]
    assert attributes["value"] == 12.5
    assert attributes["value_currency"] == "USD"
    assert attributes["time"] == "2021-01-25T15:32:56.409Z"
    assert attributes["properties"] == {"k": 1}
    assert attributes["unique_id"] == "m1"
    assert attributes["metric"] == {"data": {"type": "metric", "attributes": {"name": "Order"}}}
    assert attributes["profile"] == {"data": {"type": "profile", "attributes": {
        "external_id": "u", "properties": {}, "meta": {"patch_properties": {}}}}}


def test_v2_track_value_must_be_a_number() -> None:
    """A value that does not parse as a float is rejected."""
    message = {"type": "track", "userId": "u", "event": "E", "properties": {"value": "abc"}}
    assert error(message, V2) == (400, "Invalid float value")


@pytest.mark.parametrize("phone, valid", [
    ("+12 345 578 900", True), ("+9112340375", True), ("+1 (800) 555-0199", True),
    ("9112340375", False), ("+44 07911 123456", False), ("+447911123456", True),
    ("+12", False), ("++12345678900", False), ("+999123456", False), ("+7 8123456789", True),
])
def test_e164_phone_numbers(phone: str, valid: bool) -> None:
    """Phone numbers are checked as libphonenumber-js formats them in E.164."""
    assert _is_e164(phone) is valid


def test_v2_rejects_a_phone_not_in_e164() -> None:
    """A profile's phone must be in E.164."""
    message = {"type": "identify", "userId": "u", "traits": {"phone": "9112340375"}}
    assert error(message, V2) == (400, "Phone number is not in E.164 format.")


def test_v3_group_states_the_consent_of_both_operations() -> None:
    """v3 (un)subscriptions always carry the consent of the configured channels."""
    message = {"type": "group", "userId": "u", "groupId": "g1", "traits": {"subscribe": False},
               "context": {"traits": {"email": "e@x.com", "phone": "+12345678900"}}}
    (request,) = outputs(message, {**V3, "consent": ["email", "sms"]})
    assert request["endpoint"] == BASE + "/api/profile-subscription-bulk-delete-jobs"
    assert request["headers"]["revision"] == "2026-04-15"
    assert request["body"]["JSON"]["data"]["attributes"]["profiles"]["data"] == [{
        "type": "profile", "attributes": {
            "email": "e@x.com", "phone_number": "+12345678900",
            "subscriptions": {"email": {"marketing": {"consent": "UNSUBSCRIBED"}},
                              "sms": {"marketing": {"consent": "UNSUBSCRIBED"}}}}}]


def test_v3_needs_a_consented_channel() -> None:
    """v3 rejects a subscription whose consent matches no identifier of the event."""
    message = {"type": "group", "userId": "u", "groupId": "g1", "traits": {"subscribe": True},
               "context": {"traits": {"phone": "+12345678900"}}}
    assert error(message, {**V3, "consent": ["email"]}) == (
        400, "No subscriptions could be resolved for v3 API version. Ensure consent channels "
             "(email/sms) match the identifiers present in the event")


def test_v2_identify_unsubscribes() -> None:
    """subscribe false (with a list) unsubscribes, without consent in v2."""
    results = outputs(identify(1, subscribe=False, list_id="L1"), V2)
    assert [r["endpoint"] for r in results] == [
        BASE + "/api/profile-import", BASE + "/api/profile-subscription-bulk-delete-jobs"]
    assert results[1]["body"]["JSON"]["data"]["relationships"] == {
        "list": {"data": {"type": "list", "id": "L1"}}}


def test_version_and_config_checks() -> None:
    """An unknown apiVersion, a missing type or key, and unsupported types are rejected."""
    assert error(track(1), {**V1, "apiVersion": "v9"}) == (400, "Unsupported Klaviyo apiVersion: v9")
    assert error({"userId": "u"}, V2) == (400, "Event type is required")
    assert error(track(1), {"apiVersion": "v2"}) == (
        400, "Private API Key is a required field for track events")
    assert error({**track(1), "type": "alias"}, V1) == (400, "Event type alias is not supported")
    (result,) = process({**track(1), "type": 5}, V2)
    assert result["statusCode"] == 500


# --- v1 -------------------------------------------------------------------------------------------


def test_v1_identify_sends_the_profile_creation_and_subscription() -> None:
    """Without network calls a v1 identify sends the profile creation request, then the
    subscription (the reference looks the profile id up and sends a PATCH instead)."""
    message = {"type": "identify", "userId": "user@1", "context": {"traits": {
        **TRAITS, "properties": {"listId": "XUepkK", "subscribe": True, "consent": ["email"]}}}}
    profile, subscription = outputs(message, V1)
    assert (profile["method"], profile["endpoint"]) == ("POST", BASE + "/api/profiles")
    assert profile["headers"]["revision"] == "2023-02-22"
    assert profile["body"]["JSON"]["data"]["attributes"]["properties"] == {
        "Flagged": False, "Residence": "Shibuya", "street": "63, Shibuya"}
    assert subscription["body"]["JSON"] == {"data": {
        "type": "profile-subscription-bulk-create-job",
        "attributes": {"list_id": "XUepkK", "subscriptions": [{
            "email": "test@rudderstack.com", "phone_number": "+12 345 578 900",
            "channels": {"email": ["MARKETING"]}}]}}}


def test_v1_identify_enforcing_email_needs_one() -> None:
    """enforceEmailAsPrimary rejects a profile with neither email nor phone."""
    message = {"type": "identify", "userId": "u", "traits": {"x": 1}}
    assert error(message, {**V1, "enforceEmailAsPrimary": True}) == (
        400, "None of email and phone are present in the payload")


def test_v1_ecommerce_event_items() -> None:
    """"product added" is Added to Cart with its fields and items; other properties are not
    added, as in the reference."""
    message = {"type": "track", "userId": "u", "event": " Product Added ", "properties": {
        "value": "12.12", "name": "book", "coupon": "x",
        "products": [{"product_id": "b1", "name": "book1", "price": 12}, {}]}}
    (event,) = outputs(message, V1)
    attributes = event["body"]["JSON"]["data"]["attributes"]
    assert attributes["metric"] == {"name": "Added to Cart"}
    assert attributes["properties"] == {
        "$value": 12.12, "AddedItemProductName": "book",
        "items": [{"ProductID": "b1", "ProductName": "book1", "ItemPrice": 12}]}
    assert attributes["profile"] == {"$id": "u"}


def test_v1_track_metric_name_fallbacks() -> None:
    """The v1 metric name falls back to properties.event and properties.name."""
    message = {"type": "track", "userId": "u", "properties": {"name": "N", "revenue": 5}}
    (event,) = outputs(message, {**V1, "flattenProperties": True})
    attributes = event["body"]["JSON"]["data"]["attributes"]
    assert (attributes["metric"], attributes["value"]) == ({"name": "N"}, 5)
    assert attributes["properties"] == {"name": "N"}
    assert error({"type": "track", "userId": "u"}, V1) == (
        400, 'Missing required value from ["event","properties.event","properties.name"]')


def test_v1_group_needs_a_subscribe_flag() -> None:
    """A v1 group must subscribe (and its traits must exist at all)."""
    assert error(group(1, "g", subscribe=False), V1) == (
        400, "Subscribe flag should be true for group call")
    (result,) = process({"type": "group", "groupId": "g"}, V1)
    assert result["statusCode"] == 500


# --- router ---------------------------------------------------------------------------------------


def test_router_v2_batches_profiles_with_their_subscriptions() -> None:
    """Per run of one type (a user's events keep their order): events alone, subscriptions per
    list with their jobs' profiles, then profiles without a subscription alone; failures last."""
    results = route([
        (identify(1, True, "L1"), "a"), (track(2), "a"), (identify(3, True, "L2"), "b"),
        (identify(4, False, "L1"), "a"), (group(5, "L1"), "c"), (identify(6), "c"),
        ({"type": "random"}, "a"), (track(8), "b"),
    ], V2)
    # Runs: identify [1, 3], track [2, 8] (8's user last sent 3), identify [4] (after 4's
    # user's track 2), group [5], identify [6] (after 6's user's group 5).
    assert [job_ids(r) for r in results] == [[1], [3], [2], [8], [4], [5], [6], [7]]
    first = results[0]["batchedRequest"]
    assert [r["endpoint"] for r in first] == [BASE + "/api/profile-import",
                                              BASE + "/api/profile-subscription-bulk-create-jobs"]
    assert [r["endpoint"] for r in results[4]["batchedRequest"]] == [
        BASE + "/api/profile-import", BASE + "/api/profile-subscription-bulk-delete-jobs"]
    assert results[2]["batched"] is False
    assert results[-1]["statusCode"] == 400


def test_router_v2_subscriptions_of_one_list_share_a_request() -> None:
    """Subscriptions to one list are batched 100 profiles a request."""
    results = route([(identify(i, True, "L1"), f"u{i}") for i in range(105)], V2)
    assert [len(r["metadata"]) for r in results] == [100, 5]
    assert len(results[0]["batchedRequest"]) == 101
    subscription = results[0]["batchedRequest"][-1]["body"]["JSON"]["data"]
    assert len(subscription["attributes"]["profiles"]["data"]) == 100


def test_router_passes_transformed_requests_through() -> None:
    """A message with statusCode is sent as it came (its output, for v2)."""
    (result,) = route([({"statusCode": 200, "output": {"endpoint": "x"}}, "u")], V2)
    assert (result["batchedRequest"], result["batched"]) == ({"endpoint": "x"}, False)


def test_router_v1_subscriptions_per_list() -> None:
    """v1 subscriptions are merged per list_id; transformed requests come first."""
    results = route([(group(1, "L1"), "a"), (track(2), "a"), (group(3, "L2"), "b"),
                     (group(4, "L1"), "c"), ({"statusCode": 200, "x": 1}, "d")], V1)
    assert [job_ids(r) for r in results] == [[5], [1, 4], [3], [2]]
    (request,) = results[1]["batchedRequest"]
    assert request["body"]["JSON"]["data"]["attributes"] == {
        "list_id": "L1", "subscriptions": [{"email": "g1@x.com"}, {"email": "g4@x.com"}]}
