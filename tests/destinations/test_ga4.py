"""GA4: reference cases missing from the conformance sample, and edge cases checked against the
reference transformer."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from transformer._catalog import load_catalog
from transformer._clock import FixedClock
from transformer._pipeline import Pipeline
from transformer.v1 import transformer_pb2 as pb

PIPELINE = Pipeline(load_catalog())
#: The reference tests' clock (2022-04-29T05:17:09Z) and event time (72 hours earlier).
NOW = 1651209429000
TIMESTAMP = "2022-04-26T05:17:09Z"
MICROS = 1650950229000000
CONFIG = {"apiSecret": "dummyApiSecret", "measurementId": "dummyMeasurementId",
          "firebaseAppId": "", "typesOfClient": "gtag"}
FIREBASE = {**CONFIG, "typesOfClient": "firebase", "firebaseAppId": "dummyFirebaseAppId"}
DEVICE = {"adTrackingEnabled": "false", "id": "device@1", "type": "ios"}
EXTERNAL_IDS = [{"type": "ga4AppInstanceId", "id": "dummyAppInstanceId"},
                {"type": "ga4ClientId", "id": "dummyClientId"}]
PRODUCT = {"product_id": "507f1f77bcf86cd799439011", "name": "Monopoly: 3rd Edition",
           "coupon": "SUMMER_FUN", "category": "Apparel", "brand": "Google", "variant": "green",
           "price": "19", "quantity": "2", "position": "1", "affiliation": "Google Merchandise Store",
           "currency": "USD", "discount": 2.22, "location_id": "L_12345"}
ITEM = {"item_id": "507f1f77bcf86cd799439011", "item_name": "Monopoly: 3rd Edition",
        "coupon": "SUMMER_FUN", "item_category": "Apparel", "item_brand": "Google",
        "item_variant": "green", "price": 19, "quantity": 2, "index": 1,
        "affiliation": "Google Merchandise Store", "currency": "USD", "discount": 2.22,
        "location_id": "L_12345"}
_ABSENT = object()


def message(kind: Any = "track", **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"type": kind, "userId": "default-user-id", "anonymousId": "dummyAnonId",
                            "context": {"device": DEVICE, "externalId": EXTERNAL_IDS},
                            "originalTimestamp": TIMESTAMP}
    if kind == "track":
        base["event"] = "custom_event"
    base.update(fields)
    return {k: v for k, v in base.items() if v is not _ABSENT}


def destination(config: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"ID": "123", "Config": CONFIG if config is None else config,
            "DestinationDefinition": {"Name": "GA4"}}


def run(msg: dict[str, Any], config: dict[str, Any] | None = None, now: int = NOW) -> dict[str, Any]:
    """The one result of transforming ``msg`` at ``now``."""
    job = pb.Job(message=orjson.dumps(msg), destination=orjson.dumps(destination(config)),
                 metadata=orjson.dumps({"destinationId": "d1", "workspaceId": "w1"}))
    response, _ = PIPELINE.transform(pb.TransformRequest(destination_type="ga4", jobs=[job]),
                                     FixedClock(now))
    (result,) = response.results
    item: dict[str, Any] = {"statusCode": result.status_code}
    if result.output:
        item["output"] = orjson.loads(result.output)
    else:
        item["error"] = result.error
        item["statTags"] = dict(result.stat_tags)
    return item


def body(msg: dict[str, Any], config: dict[str, Any] | None = None) -> Any:
    result = run(msg, config)
    assert result["statusCode"] == 200, result
    return result["output"]["body"]["JSON"]


def event(msg: dict[str, Any], config: dict[str, Any] | None = None) -> Any:
    (only,) = body(msg, config)["events"]
    return only


def error(msg: dict[str, Any], config: dict[str, Any] | None = None) -> tuple[int, str, str]:
    result = run(msg, config)
    assert "error" in result, result
    tags = result["statTags"]
    return result["statusCode"], result["error"], tags.get("errorType", tags["errorCategory"])


# --- reference cases missing from the sample ------------------------------------------------------


def test_page_call_sends_page_view_with_custom_and_page_properties() -> None:
    """A page call is a page_view event with its properties and context.page fields."""
    msg = message("page", properties={"id": "dummyId"},
                  context={"device": DEVICE, "page": {"url": "http://morkey.in", "path": "/cart",
                                                      "title": "miphone", "referrer": "morkey"}})
    result = run(msg)
    output = result["output"]
    assert output["endpoint"] == "https://www.google-analytics.com/mp/collect"
    assert output["endpointPath"] == "mp/collect"
    assert output["headers"] == {"HOST": "www.google-analytics.com",
                                 "Content-Type": "application/json"}
    assert output["params"] == {"api_secret": "dummyApiSecret",
                                "measurement_id": "dummyMeasurementId"}
    assert output["body"]["JSON"] == {
        "client_id": "dummyAnonId", "timestamp_micros": MICROS, "user_id": "default-user-id",
        "non_personalized_ads": True,
        "events": [{"name": "page_view", "params": {
            "id": "dummyId", "page_title": "miphone", "page_referrer": "morkey",
            "page_location": "http://morkey.in", "engagement_time_msec": 1}}]}


def test_track_named_group_maps_session_and_engagement_from_properties() -> None:
    """A track event named "group" is GA4's "group" event; sessionId/engagementTimeMsec map."""
    msg = message(event="group", properties={"group_id": "dummyGroupId",
                                             "engagementTimeMsec": 100, "sessionId": 655})
    assert event(msg) == {"name": "group", "params": {
        "group_id": "dummyGroupId", "session_id": 655, "engagement_time_msec": 100}}


def test_integer_user_id_is_sent_as_a_string_and_context_session_id_maps() -> None:
    """A numeric userId becomes a string user_id; context.sessionId is the session_id."""
    msg = message(event="tutorial complete", userId=1234,
                  context={"device": DEVICE, "externalId": EXTERNAL_IDS[:1],
                           "sessionId": 16678456735})
    sent = body(msg)
    assert sent["user_id"] == "1234"
    assert sent["client_id"] == "dummyAnonId"
    assert sent["events"] == [{"name": "tutorial_complete", "params": {
        "session_id": 16678456735, "engagement_time_msec": 1}}]


def test_only_granted_or_denied_consents_are_sent() -> None:
    """Consents other than GRANTED/DENIED are left out."""
    msg = message(event="login", integrations={"GA4": {"consents": {
        "ad_personalization": "NOT_SPECIFIED", "ad_user_data": "DENIED"}}})
    assert body(msg)["consent"] == {"ad_user_data": "DENIED"}


def test_promotion_clicked_items_keep_their_extra_properties() -> None:
    """Product properties beyond the item mapping are sent in the item."""
    product = {**PRODUCT, "position": "0", "promotion_id": "P_12345", "creative_slot": "slot"}
    msg = message(event="promotion clicked", properties={
        "creative_name": "Summer Banner", "promotion_id": "P_12345", "products": [product]})
    assert event(msg) == {"name": "select_promotion", "params": {
        "creative_name": "Summer Banner", "promotion_id": "P_12345", "engagement_time_msec": 1,
        "items": [{**ITEM, "index": 0, "promotion_id": "P_12345", "creative_slot": "slot"}]}}


def test_product_removed_maps_total_session_and_engagement() -> None:
    """Product Removed is remove_from_cart with value, items, session and engagement time."""
    msg = message(event="product removed", properties={
        "currency": "USD", "total": "7.77", "products": [PRODUCT], "sessionId": 655,
        "engagementTimeMsec": 100})
    assert event(msg) == {"name": "remove_from_cart", "params": {
        "currency": "USD", "value": 7.77, "items": [ITEM], "engagement_time_msec": 100,
        "session_id": 655}}


def test_product_added_takes_its_item_from_root_properties() -> None:
    """With no products, the root-level properties are the item (and not also parameters)."""
    msg = message(event="product added", properties={**PRODUCT, "total": "7.77", "products": []})
    assert event(msg) == {"name": "add_to_cart", "params": {
        "currency": "USD", "value": 7.77, "items": [ITEM], "engagement_time_msec": 1}}


def test_product_added_without_total_multiplies_price_and_quantity() -> None:
    """value is price x quantity; nested and array properties are flattened with "_"."""
    msg = message(event="product added", properties={
        "product_id": "p1", "price": "19", "quantity": "2", "address": {"city": "kolkata"},
        "categoryLevels": ["Furniture", "Bedroom"],
        "products": [{"product_id": "1234", "productLevels": ["a", "b"],
                      "details": {"colour": "red"}}]})
    assert event(msg) == {"name": "add_to_cart", "params": {
        "value": 38, "currency": "USD", "product_id": "p1", "price": "19", "quantity": "2",
        "address_city": "kolkata", "categoryLevels_0": "Furniture",
        "categoryLevels_1": "Bedroom", "engagement_time_msec": 1,
        "items": [{"item_id": "1234", "productLevels_0": "a", "productLevels_1": "b",
                   "details_colour": "red"}]}}


def test_product_removed_without_total_names_the_operation_when_missing() -> None:
    """Without a quantity, Product Removed has no value (its default is misspelt)."""
    status, text, kind = error(message(event="Product Removed",
                                       properties={"price": 3, "name": "n"}))
    assert (status, kind) == (400, "instrumentation")
    assert text == (
        'Missing required value from ["properties.total","properties.value","properties.revenue",'
        '{"operation":"multiplication","args":[{"sourceKeys":"properties.price"},'
        '{"sourceKeys":"properties.quantity","default":1}]}]')


def test_group_call_is_join_group_with_flattened_traits() -> None:
    """A group call is join_group; traits are parameters, session and engagement mapped."""
    msg = message("group", groupId="g1", traits={
        "org": "rudderlabs", "timezone": {"name": "Europe/Tallinn"}, "engagementTimeMsec": 100,
        "sessionId": 655})
    assert event(msg) == {"name": "join_group", "params": {
        "group_id": "g1", "org": "rudderlabs", "timezone_name": "Europe/Tallinn",
        "session_id": 655, "engagement_time_msec": 100}}
    assert event(message("group")) == {"name": "join_group", "params": {
        "engagement_time_msec": 1}}


@pytest.mark.parametrize(("msg", "config", "expected"), [
    (message(event="firebase_event1"), None,
     (400, "Reserved custom prefix names are not allowed", "instrumentation")),
    (message(event="Product Viewed", properties={"total": 7.77}), None,
     (400, "One of product_id or name is required", "instrumentation")),
    (message(), {**CONFIG, "apiSecret": ""},
     (400, "API Secret not found. Aborting ", "configuration")),
    (message(), {**CONFIG, "typesOfClient": None},
     (400, "Client type not found. Aborting ", "configuration")),
    (message(), {**FIREBASE, "firebaseAppId": ""},
     (400, "firebaseAppId must be provided. Aborting", "configuration")),
    (message(context={}), FIREBASE,
     (400, "ga4AppInstanceId must be provided under externalId", "instrumentation")),
    (message(anonymousId=_ABSENT, context={}), None,
     (400, "ga4ClientId or anonymousId must be provided", "configuration")),
    (message(event="1234_sign_up"), None,
     (400, "Event name must start with a letter and can only contain letters, numbers, and "
           "underscores", "instrumentation")),
    (message(event="Product List Viewed", properties={}), None,
     (400, "Products is an required field for 'Product List Viewed' event", "instrumentation")),
    (message(event="Product List Viewed", properties={"products": {"a": 1}}), None,
     (400, "Invalid type. Expected Array of products", "instrumentation")),
    (message(event="Product Clicked", properties=_ABSENT), None,
     (400, "Item/product parameters not found for 'Product Clicked' event", "instrumentation")),
    (message(event="Product Viewed", properties=_ABSENT), None,
     (400, 'Missing required value from ["properties.total","properties.price",'
           '"properties.value","properties.revenue"]', "instrumentation")),
    (message("identify"), None, (400, "Message type identify not supported", "instrumentation")),
    (message(), {**CONFIG, "typesOfClient": "other"},
     (400, "Invalid type of client", "configuration")),
])
def test_rejections(msg: dict[str, Any], config: dict[str, Any] | None,
                    expected: tuple[int, str, str]) -> None:
    """Bad events and configs are rejected with the reference's words and error types."""
    assert error(msg, config) == expected


def test_missing_type_is_an_instrumentation_error() -> None:
    """A message without a type is a 400 (worded by the service, not as the reference)."""
    status, _, kind = error(message(type=_ABSENT))
    assert (status, kind) == (400, "instrumentation")


# --- the clock --------------------------------------------------------------------------------


def test_timestamp_window_uses_the_service_clock() -> None:
    """72 hours (rounded up) into the past and 15 minutes into the future are the limits."""
    hour, minute = 3_600_000, 60_000
    assert body(message())["timestamp_micros"] == MICROS
    past = run(message(), now=NOW + hour)
    assert past["error"] == "Allowed timestamp is [72 hours] into the past"
    assert run(message(), now=NOW + 1000)["error"] == "Allowed timestamp is [72 hours] into the past"
    at = MICROS // 1000
    assert run(message(), now=at - 15 * minute)["statusCode"] == 200
    future = run(message(), now=at - 15 * minute - 1000)
    assert future["error"] == "Allowed timestamp is [15 minutes] into the future"
    assert future["statTags"]["errorType"] == "instrumentation"


def test_unparseable_timestamp_is_left_out() -> None:
    """A timestamp that is not a date sends no timestamp_micros and is not checked."""
    assert "timestamp_micros" not in body(message(originalTimestamp="not a date"))


# --- behaviour checked against the reference ---------------------------------------------------


def test_dotted_property_names_nest_before_flattening() -> None:
    """Property "a.b" is set as a path (a_b); names with "/" or unsafe parts stay whole."""
    msg = message(properties={"a.b": 1, "c.0": 2, "e/f.g": 3, "j.constructor": 5, ".l": 7,
                              "m..n": 8, "p.01": 10})
    assert event(msg)["params"] == {"a_b": 1, "c_0": 2, "e/f.g": 3, "j.constructor": 5, "l": 7,
                                    "m__n": 8, "p_1": 10, "engagement_time_msec": 1}


def test_invalid_parameters_are_dropped() -> None:
    """Empty objects/arrays, nulls, blank strings and reserved prefixes are not sent."""
    msg = message(properties={"a": {}, "b": [], "c": None, "d": "  ", "google_x": 1, "GA_y": 2,
                              "Firebase_z": 3, "ok": False, "n": 0})
    assert event(msg)["params"] == {"ok": False, "n": 0, "engagement_time_msec": 1}


def test_capitalised_track_type_makes_a_custom_event() -> None:
    """Only type "track" exactly maps standard events; "Track" sends a custom one."""
    msg = message(type="Track", event="Product Added", properties={"product_id": "p"})
    assert event(msg) == {"name": "Product_Added", "params": {
        "product_id": "p", "engagement_time_msec": 1}}


def test_hybrid_mode_client_id_session_and_page_rejection() -> None:
    """Hybrid mode takes clientId/sessionId from integrations and refuses page calls."""
    hybrid = {**CONFIG, "connectionMode": "hybrid"}
    msg = message(integrations={"GA4": {"clientId": "cid", "sessionId": 12, "sessionNumber": 3}})
    sent = body(msg, hybrid)
    assert sent["client_id"] == "cid"
    assert sent["events"][0]["params"] == {"engagement_time_msec": 1, "session_id": 12,
                                           "session_number": 3}
    assert body(msg)["client_id"] == "dummyClientId"
    assert body(msg)["events"][0]["params"] == {"engagement_time_msec": 1, "session_number": 3}
    result = run(message("page"), hybrid)
    assert result["statusCode"] == 400
    assert result["error"] == \
        "GA4 Hybrid mode is enabled, page calls will be sent through device mode"
    assert result["statTags"]["errorCategory"] == "platform"
    assert result["statTags"]["errorType"] == "unsupported"


def test_debug_mode_and_firebase_client() -> None:
    """debugMode sends to the validation server; firebase sends app_instance_id."""
    result = run(message(), {**FIREBASE, "debugMode": True})
    output = result["output"]
    assert output["endpoint"] == "https://www.google-analytics.com/debug/mp/collect"
    assert output["endpointPath"] == "debug/mp/collect"
    assert output["params"] == {"api_secret": "dummyApiSecret",
                                "firebase_app_id": "dummyFirebaseAppId"}
    sent = output["body"]["JSON"]
    assert sent["app_instance_id"] == "dummyAppInstanceId"
    assert "client_id" not in sent


def test_empty_client_id_is_sent() -> None:
    """An empty rudderId after empty ids is a valid (empty) client_id."""
    sent = body(message(anonymousId="", rudderId="", context={}))
    assert sent["client_id"] == ""


def test_user_properties_are_validated_and_pii_ignored() -> None:
    """Only GA4-valid names with short scalar values are user properties; PII is skipped."""
    msg = message(properties={"user_properties": {
        "ok": "v", "long": "x" * 37, "blank": " ", "num": 12, "flag": False, "obj": {"a": 1},
        "1bad": 1, "google_x": 1, "user_id": "u", "a" * 25: 1}},
        context={"device": DEVICE, "externalId": EXTERNAL_IDS,
                 "traits": {"email": "e@x", "name": "nm"}})
    config = {**CONFIG, "piiPropertiesToIgnore": [{"piiProperty": " email "}, {"x": 1}]}
    assert body(msg, config)["user_properties"] == {
        "ok": {"value": "v"}, "num": {"value": 12}, "flag": {"value": False},
        "name": {"value": "nm"}}


@pytest.mark.parametrize(("ignored", "text"), [
    (None, "Cannot read properties of null (reading 'length')"),
    ("abc", "piiPropertiesToIgnore.forEach is not a function"),
    ([None], "Cannot read properties of null (reading 'piiProperty')"),
])
def test_malformed_pii_list_fails_as_the_reference_script(ignored: Any, text: str) -> None:
    """A piiPropertiesToIgnore the reference cannot read is a 500 with its runtime error."""
    result = run(message(), {**CONFIG, "piiPropertiesToIgnore": ignored})
    assert result["statusCode"] == 500
    assert result["error"] == text
    assert result["statTags"] == {"errorCategory": "transformation"}


def test_router_sends_each_job_on_its_own() -> None:
    """The router transforms every job alone, in order, failures in place."""
    jobs = [pb.Job(message=orjson.dumps(msg), destination=orjson.dumps(destination()),
                   metadata=orjson.dumps({"jobId": n}))
            for n, msg in enumerate([message(), message(event=""), message(event="other")])]
    response, _ = PIPELINE.router_transform(
        pb.TransformRequest(destination_type="ga4", jobs=jobs), FixedClock(NOW))
    assert [(r.status_code, r.batched, [orjson.loads(m)["jobId"] for m in r.metadata])
            for r in response.results] == [(200, False, [0]), (400, False, [1]), (200, False, [2])]
    assert response.results[1].error == "Event name is required"
    names = [orjson.loads(r.batched_request)["body"]["JSON"]["events"][0]["name"]
             for r in response.results if r.status_code == 200]
    assert names == ["custom_event", "other"]
