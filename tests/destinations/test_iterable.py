"""Iterable: reference cases our conformance sample lacks, edge rules, and router batching."""

from __future__ import annotations

from typing import Any

import orjson

from transformer._catalog import load_catalog
from transformer._clock import FixedClock
from transformer._conformance import processor_body, router_body
from transformer._pipeline import Pipeline
from transformer.v1 import transformer_pb2 as pb

PIPELINE = Pipeline(load_catalog())
CONFIG = {"apiKey": "testApiKey", "dataCenter": "USDC", "preferUserId": False, "trackAllPages": True,
          "trackNamedPages": False, "mapToSingleEvent": False, "trackCategorisedPages": False}
API = "https://api.iterable.com/api/"
HEADERS = {"Content-Type": "application/json", "api_key": "testApiKey"}
TS = "2020-08-28T16:26:06.468Z"
TS_MS = 1598631966468


def destination(**config: Any) -> dict[str, Any]:
    return {"ID": "123", "Config": {**CONFIG, **config},
            "DestinationDefinition": {"Name": "ITERABLE", "Config": {}}}


def process(message: dict[str, Any], **config: Any) -> list[dict[str, Any]]:
    """The processor results of one event."""
    job = pb.Job(message=orjson.dumps(message), destination=orjson.dumps(destination(**config)),
                 metadata=orjson.dumps({"jobId": 1, "destinationId": "d", "workspaceId": "w"}))
    response, _ = PIPELINE.transform(pb.TransformRequest(destination_type="iterable", jobs=[job]),
                                     FixedClock(0))
    return processor_body(response)


def body(message: dict[str, Any], **config: Any) -> Any:
    (result,) = process(message, **config)
    assert result["statusCode"] == 200, result
    return result["output"]["body"]["JSON"]


def error(message: dict[str, Any], **config: Any) -> tuple[int, str, str]:
    (result,) = process(message, **config)
    return result["statusCode"], result["error"], result["statTags"].get("errorType", "")


def route(messages: list[dict[str, Any]], **config: Any) -> list[dict[str, Any]]:
    """The router results for ``messages`` (jobIds 1, 2, ...)."""
    jobs = [pb.Job(message=orjson.dumps(m), destination=orjson.dumps(destination(**config)),
                   metadata=orjson.dumps({"jobId": i, "userId": "u"}))
            for i, m in enumerate(messages, 1)]
    response, _ = PIPELINE.router_transform(
        pb.TransformRequest(destination_type="iterable", jobs=jobs), FixedClock(0))
    return router_body(response)["output"]


def job_ids(result: dict[str, Any]) -> list[int]:
    return [m["jobId"] for m in result["metadata"]]


# --- processor ------------------------------------------------------------------------------------


def test_identify_with_device_token_also_registers_it() -> None:
    """An identify with a device token and a register key adds a registerDeviceToken request."""
    message = {"type": "identify", "userId": "u1", "context": {
        "device": {"token": "tok", "type": "ios", "name": "phone"}, "traits": {"email": "a@b.c"}},
        "properties": {"p": 1}, "originalTimestamp": TS}
    first, second = process(message, registerDeviceOrBrowserApiKey="regKey")
    assert first["output"]["endpoint"] == API + "users/update"
    assert first["output"]["body"]["JSON"] == {
        "email": "a@b.c", "dataFields": {"email": "a@b.c"}, "userId": "u1", "preferUserId": False,
        "mergeNestedObjects": True}
    assert second["output"]["endpoint"] == API + "users/registerDeviceToken"
    assert second["output"]["endpointPath"] == "users/registerDeviceToken"
    assert second["output"]["headers"] == {"Content-Type": "application/json", "api_key": "regKey"}
    assert second["output"]["body"]["JSON"] == {
        "email": "a@b.c", "userId": "u1", "preferUserId": False,
        "device": {"token": "tok", "applicationName": "phone", "dataFields": {"p": 1},
                   "platform": "APNS"}}


def test_identify_with_browser_token_registers_the_browser() -> None:
    """Without a device token, the OS token is registered as a browser token."""
    message = {"type": "identify", "userId": "u1", "context": {"os": {"token": "btok"}}}
    _, second = process(message, registerDeviceOrBrowserApiKey="regKey")
    assert second["output"]["endpoint"] == API + "users/registerBrowserToken"
    assert second["output"]["body"]["JSON"] == {"browserToken": "btok", "userId": "u1"}


def test_identify_token_request_needs_lower_case_identify_and_a_key() -> None:
    """"Identify" (not "identify") or no register key: only the user update is sent."""
    message = {"type": "Identify", "userId": "u1", "context": {"os": {"token": "btok"}}}
    assert len(process(message, registerDeviceOrBrowserApiKey="regKey")) == 1
    assert len(process({**message, "type": "identify"})) == 1


def test_identify_config_flags_default_to_true_and_null_drops_them() -> None:
    """preferUserId and mergeNestedObjects are true when absent and left out when null."""
    config = {k: v for k, v in CONFIG.items() if k != "preferUserId"}
    job = pb.Job(message=orjson.dumps({"type": "identify", "userId": "u"}),
                 destination=orjson.dumps({"Config": config}))
    response, _ = PIPELINE.transform(pb.TransformRequest(destination_type="iterable", jobs=[job]),
                                     FixedClock(0))
    assert orjson.loads(response.results[0].output)["body"]["JSON"] == {
        "userId": "u", "preferUserId": True, "mergeNestedObjects": True}
    assert body({"type": "identify", "userId": "u"}, preferUserId=None) == {
        "userId": "u", "mergeNestedObjects": True}


def test_identify_eu_data_center() -> None:
    """Config.dataCenter EUDC sends to api.eu.iterable.com."""
    (result,) = process({"type": "identify", "userId": "u"}, dataCenter="EUDC")
    assert result["output"]["endpoint"] == "https://api.eu.iterable.com/api/users/update"


def test_identify_without_user_id_or_email() -> None:
    """An identify needs a userId (anonymousId counts) or an email."""
    assert error({"type": "identify", "traits": {"a": 1}}) == (
        400, "userId or email is mandatory for this request", "instrumentation")


def test_retl_identify_updates_catalog_items() -> None:
    """An rETL identify with an ITERABLE-<catalog> external id updates that catalog's item."""
    message = {"type": "identify", "traits": {"name": "x"}, "context": {
        "mappedToDestination": "true",
        "externalId": [{"type": "ITERABLE-products", "id": "sku1", "identifierType": "id"}]}}
    (result,) = process(message, dataCenter="EUDC")
    assert result["output"]["endpoint"] == "https://api.eu.iterable.com/api/catalogs/products/items"
    assert result["output"]["endpointPath"] == "catalogs"
    assert result["output"]["body"]["JSON"] == {"update": {"name": "x"}, "catalogId": "sku1"}


def test_retl_identify_of_users_writes_the_external_id_into_the_traits() -> None:
    """With ITERABLE-users the external id becomes a trait and the user is updated."""
    message = {"type": "identify", "anonymousId": "a", "traits": {"k": 1}, "context": {
        "mappedToDestination": True,
        "externalId": [{"type": "ITERABLE-users", "id": "x@y.z", "identifierType": "email"}]}}
    assert body(message) == {"email": "x@y.z", "dataFields": {"k": 1, "email": "x@y.z"},
                             "userId": "a", "preferUserId": False, "mergeNestedObjects": True}


def test_track_product_added_updates_the_cart() -> None:
    """"product added" -> commerce/updateCart with the products as items."""
    message = {"type": "track", "event": "Product Added", "userId": "u", "properties": {
        "products": [{"product_id": "p1", "name": "n", "price": "19.5x", "quantity": "2.7",
                      "category": "a,b", "sku": "s"}]}}
    (result,) = process(message)
    assert result["output"]["endpoint"] == API + "commerce/updateCart"
    assert result["output"]["body"]["JSON"] == {
        "user": {"userId": "u", "preferUserId": False, "mergeNestedObjects": True},
        "items": [{"id": "p1", "sku": "s", "name": "n", "categories": ["a", "b"], "price": 19.5,
                   "quantity": 2}]}


def test_track_product_removed_uses_the_properties_as_the_item() -> None:
    """Without properties.products the properties are the one item."""
    message = {"type": "track", "event": "product removed", "userId": "u",
               "properties": {"product_id": "p", "name": "n", "price": 3, "quantity": 1}}
    assert body(message)["items"] == [{"id": "p", "name": "n", "price": 3, "quantity": 1}]


def test_track_product_item_fields_are_required() -> None:
    """A product without a quantity is rejected in the reference's words."""
    message = {"type": "track", "event": "product added", "userId": "u",
               "properties": {"products": [{"product_id": "p", "name": "n", "price": 3}]}}
    assert error(message) == (400, 'Missing required value from "quantity"', "instrumentation")


def test_track_order_completed_tracks_a_purchase() -> None:
    """"order completed" -> commerce/trackPurchase with total, id, createdAt and items."""
    message = {"type": "track", "event": "order completed", "userId": "u", "originalTimestamp": TS,
               "properties": {"order_id": 10000, "total": "1000.5", "campaignId": "123",
                              "templateId": "0", "product_id": "p", "name": "n", "price": 1,
                              "quantity": 1}}
    payload = body(message)
    assert payload["total"] == 1000.5
    assert payload["id"] == "10000"
    assert payload["createdAt"] == TS_MS
    assert (payload["campaignId"], payload["templateId"]) == (123, 0)
    assert payload["user"] == {"userId": "u", "preferUserId": False, "mergeNestedObjects": True}


def test_track_order_completed_without_total() -> None:
    """A purchase needs properties.total."""
    assert error({"type": "track", "event": "order completed", "userId": "u"}) == (
        400, 'Missing required value from "properties.total"', "instrumentation")


def test_track_sends_null_for_what_is_not_a_number_or_date() -> None:
    """createdAt of a missing date and a campaignId that does not parse are sent as null."""
    message = {"type": "track", "event": "e", "userId": "u",
               "properties": {"campaignId": "abc", "event_id": 12}}
    payload = body(message)
    assert payload["createdAt"] is None and "createdAt" in payload
    assert payload["campaignId"] is None and "campaignId" in payload
    assert payload["id"] == "12"


def test_track_without_event_name_or_user() -> None:
    """A track needs a userId (anonymousId counts) or an email (properties or traits)."""
    assert error({"type": "track"}) == (400, "userId or email is mandatory for this request",
                                        "instrumentation")
    assert body({"type": "track", "properties": {"email": "e@x"}})["email"] == "e@x"


def test_page_with_named_pages_only() -> None:
    """trackNamedPages sends named pages as "<name> page"; others are a config error."""
    message = {"type": "page", "userId": "u", "name": "Home", "originalTimestamp": TS}
    payload = body(message, trackAllPages=False, trackNamedPages=True)
    assert payload == {"userId": "u", "eventName": "Home page", "createdAt": TS_MS}
    assert error({"type": "page", "userId": "u"}, trackAllPages=False, trackNamedPages=True) == (
        400, "Invalid page call", "configuration")


def test_screen_maps_to_a_single_event() -> None:
    """mapToSingleEvent names every screen "Loaded a Screen"."""
    message = {"type": "screen", "userId": "u", "name": "S", "properties": {"campaignId": 0}}
    payload = body(message, mapToSingleEvent=True)
    assert payload["eventName"] == "Loaded a Screen"
    assert "campaignId" not in payload  # 0 is falsy: no parseInt


def test_alias_needs_previous_id_and_user_id() -> None:
    """Alias -> users/updateEmail; both ids are required."""
    assert body({"type": "alias", "userId": "new@x", "previousId": "old@x"}) == {
        "currentEmail": "old@x", "newEmail": "new@x"}
    assert error({"type": "alias", "previousId": "old@x"}) == (
        400, 'Missing required value from "userId"', "instrumentation")


def test_unsupported_and_malformed_types() -> None:
    """Types other than identify/page/screen/track/alias are rejected in the reference's words."""
    assert error({"type": "group", "userId": "u"}) == (
        400, "Message type group not supported", "instrumentation")
    assert error({"userId": "u"})[:2] == (400, "Event type is required")
    (result,) = process({"type": 5, "userId": "u"})
    assert result["statusCode"] == 500
    assert result["error"] == "message.type.toLowerCase is not a function"


# --- router ---------------------------------------------------------------------------------------


def test_router_batches_by_endpoint() -> None:
    """User updates, catalog items and track events batch; other requests go one by one."""
    results = route([
        {"type": "identify", "userId": "u1", "context": {"device": {"token": "t"}}},
        {"type": "track", "event": "e", "userId": "u2", "originalTimestamp": TS},
        {"type": "alias", "userId": "n@x", "previousId": "o@x"},
        {"type": "page", "userId": "u3", "name": "P", "originalTimestamp": TS},
        {"type": "group", "userId": "u"},
        {"type": "identify", "userId": "u4"},
        {"type": "identify", "traits": {"a": 1}, "context": {
            "mappedToDestination": True, "externalId": [{"type": "ITERABLE-cat", "id": "c1"}]}},
    ], registerDeviceOrBrowserApiKey="regKey")
    assert [job_ids(r) for r in results] == [[1, 6], [7], [2, 4], [3], [5]]
    users = results[0]["batchedRequest"]
    assert [r["endpoint"] for r in users] == [API + "users/bulkUpdate",
                                             API + "users/registerDeviceToken"]
    assert [u["userId"] for u in users[0]["body"]["JSON"]["users"]] == ["u1", "u4"]
    assert results[1]["batchedRequest"]["body"]["JSON"] == {
        "documents": {"c1": {"a": 1}}, "replaceUploadedFieldsOnly": True}
    assert results[2]["batchedRequest"]["endpoint"] == API + "events/trackBulk"
    assert [e["eventName"] for e in results[2]["batchedRequest"]["body"]["JSON"]["events"]] == [
        "e", "P page"]
    assert [r["batched"] for r in results[:4]] == [True, True, True, False]
    assert results[4]["statusCode"] == 400


def test_router_batches_at_most_1000_events() -> None:
    """1001 track events make two trackBulk requests."""
    results = route([{"type": "track", "event": "e", "userId": f"u{i}"} for i in range(1001)])
    assert [len(r["metadata"]) for r in results] == [1000, 1]


def test_router_cuts_bulk_bodies_at_4_mb() -> None:
    """Bulk bodies stay within Iterable's 4 MB limit; a larger event opens a new request."""
    big = "x" * 1_500_000
    results = route([{"type": "track", "event": "e", "userId": f"u{i}", "properties": {"b": big}}
                     for i in range(4)])
    assert [job_ids(r) for r in results] == [[1, 2], [3, 4]]


def test_router_passes_an_already_transformed_request_through() -> None:
    """A message with statusCode is a request already built; it is batched by its endpoint."""
    request = {"statusCode": 200, "version": "1", "type": "REST", "method": "POST",
               "endpoint": API + "users/updateEmail", "headers": {}, "params": {},
               "body": {"JSON": {"currentEmail": "a", "newEmail": "b"}}, "files": {}}
    (result,) = route([request])
    assert result["batchedRequest"] == request
    assert result["batched"] is False


def test_a_product_that_is_a_plain_value_is_every_item_field() -> None:
    """get-value answers every path of a string product with the string: it is each field."""
    message = {"type": "track", "event": "Product Added", "userId": "u1",
               "properties": {"products": ["7"]}}
    items = body(message)["items"]
    assert items == [{"id": "7", "sku": "7", "name": "7", "description": "7", "categories": ["7"],
                      "price": 7, "quantity": 7, "imageUrl": "7", "url": "7", "dataFields": "7"}]
    assert error({**message, "properties": {"products": [None]}})[1] == \
        'Missing required value from "product_id"'
