"""Pinterest Tag: reference cases missing from the conformance sample, edge rules checked against
the reference, config errors and router batching."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from ._support import job, transform, workflow_error
from ._support import route as route_jobs

TS = "2020-08-14T05:30:30.118Z"
V3 = "https://ct.pinterest.com/events/v3"
V5 = "https://api.pinterest.com/v5/ad_accounts/acc/events"
CONFIG: dict[str, Any] = {"advertiserId": "429047995", "appId": "429047995",
                          "sendingUnHashedData": True, "deduplicationKey": "messageId",
                          "eventsMapping": [{"from": "ABC Searched", "to": "WatchVideo"}]}
V5_CONFIG = {**CONFIG, "apiVersion": "newApi", "adAccountId": "acc", "conversionToken": "tok"}
EVENT: dict[str, Any] = {
    "type": "track", "event": "ABC Searched", "channel": "web", "messageId": "m1",
    "timestamp": TS, "anonymousId": "anon",
    "context": {"userAgent": "chrome", "traits": {"email": "abc@gmail.com"}},
    "properties": {},
}
EM = "48ddb93f0b30c475423fe177832912c5bcdce3cc72872f8051627967ef278e08"  # abc@gmail.com


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def event(**changes: Any) -> dict[str, Any]:
    message = copy.deepcopy(EVENT)
    for path, value in changes.items():
        node = message
        *parents, last = path.split("__")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    return message


def destination(config: dict[str, Any]) -> dict[str, Any]:
    return {"ID": "d1", "Config": config, "DestinationDefinition": {"Name": "PINTEREST_TAG"},
            "hasDynamicConfig": False}


def run(message: dict[str, Any], config: dict[str, Any] = CONFIG) -> list[dict[str, Any]]:
    return transform("pinterest_tag", [job(message, {"jobId": 1}, destination(config))])


def body(message: dict[str, Any], config: dict[str, Any] = CONFIG) -> dict[str, Any]:
    (result,) = run(message, config)
    assert result["statusCode"] == 200, result
    json_body: dict[str, Any] = result["output"]["body"]["JSON"]
    return json_body


def error(message: dict[str, Any], config: dict[str, Any] = CONFIG) -> tuple[int, str, str]:
    (result,) = run(message, config)
    return result["statusCode"], result["error"], result["statTags"].get("errorType", "")


def route(messages: list[dict[str, Any]], config: dict[str, Any] = CONFIG) -> list[dict[str, Any]]:
    return route_jobs("pinterest_tag", [job(m, {"jobId": i + 1}, destination(config))
                                        for i, m in enumerate(messages)])


# --- processor ------------------------------------------------------------------------------------


def test_invalid_action_source_names_the_workflow_step() -> None:
    """An action source outside the four Pinterest takes is rejected at validateCommonFields."""
    message = "Action source must be one of app_android, app_ios, web, offline"
    assert error(event(channel="abc")) == (
        400, workflow_error("validateCommonFields", message), "instrumentation")


def test_page_with_category_is_view_category() -> None:
    """A page with a category is view_category, and adTrackingEnabled becomes opt_out."""
    sent = body(event(type="page", category="c", context__device={"adTrackingEnabled": True},
                      channel="app_ios"))
    assert sent["event_name"] == "view_category"
    assert sent["opt_out"] is False and "advertiser_tracking_enabled" not in sent
    assert sent["action_source"] == "app_ios" and "custom_data" not in sent


def test_customer_hashed_values_are_sent_as_lists() -> None:
    """With sendingUnHashedData off the values go as they came, in lists, the gender unmapped."""
    sent = body(event(context__traits={"phone": ["p1", "p2"], "gender": "Female",
                                       "address": {"zip": 700114, "city": "X"}},
                      context__device={"advertisingId": "m"}),
                {**CONFIG, "sendingUnHashedData": False})
    assert sent["user_data"] == {"ph": ["p1", "p2"], "ge": ["Female"], "ct": ["X"],
                                 "hashed_maids": ["m"], "client_user_agent": "chrome"}


def test_user_data_is_normalised_before_hashing() -> None:
    """Each key is normalised as utils.js transformValue says, then hashed item by item."""
    sent = body(event(context__traits={"email": [" A@B.com ", 5], "phone": "+0 (012) 345-67",
                                       "gender": "Male", "address": {"zip": " 12-345 "}}))
    user = sent["user_data"]
    assert user["em"] == [sha("a@b.com"), sha("5")]
    assert user["ph"] == [sha("1234567")]
    assert user["ge"] == [sha("m")]
    assert user["zp"] == [sha("12345")]


def test_non_ascii_is_hashed_as_a_binary_string() -> None:
    """The reference's sha256 package hashes the low byte of each UTF-16 unit, not UTF-8."""
    sent = body(event(context__traits={"email": "José@x.com"}))
    assert sent["user_data"]["em"] == [
        "972509b1d27eb224a55df01eb2bae317bfd81fb61785f455f01448fc38bb0bed"]


def test_numbers_are_empty_user_fields() -> None:
    """lodash isEmpty drops numeric user fields, so a numeric email cannot identify the user."""
    status, message, kind = error(event(context__traits={"email": 12345}, context__userAgent=5))
    assert (status, kind) == (400, "instrumentation")
    assert message.startswith("It is required at least one of em, hashed_maids or pair of "
                              "client_ip_address and client_user_agent")


def test_v5_sends_lists_hashed_each_without_advertiser_id() -> None:
    """newApi: the v5 endpoint with the bearer token, no advertiser_id, each list item hashed."""
    (result,) = run(event(event="random", context__traits={"email": ["abc@gmail.com", "x@y.z"]}),
                    {**V5_CONFIG, "sendAsCustomEvent": True})
    output = result["output"]
    assert output["endpoint"] == V5
    assert output["headers"] == {"Content-Type": "application/json", "Authorization": "Bearer tok"}
    sent = output["body"]["JSON"]
    assert sent["event_name"] == "custom" and "advertiser_id" not in sent
    assert sent["user_data"]["em"] == [EM, sha("x@y.z")]


def test_each_mapped_name_is_a_request() -> None:
    """Every eventsMapping "to" of the event is one request, in snake_case, with test=true."""
    config = {**CONFIG, "sendAsTestEvent": True, "eventsMapping": [
        {"from": "ABC Searched", "to": "WatchVideo"}, {"from": "ABC Searched", "to": "Add To Cart"},
        {"from": "abc searched", "to": "Lead"}]}
    results = run(event(), config)
    assert [r["output"]["body"]["JSON"]["event_name"] for r in results] == ["watch_video",
                                                                          "add_to_cart"]
    assert all(r["output"]["params"] == {"test": True} for r in results)


def test_ecommerce_events_and_custom_flag() -> None:
    """E-commerce names map to Pinterest's, others to "custom" with sendAsCustomEvent."""
    custom = {**CONFIG, "sendAsCustomEvent": True}
    assert body(event(event="Products Searched"), custom)["event_name"] == "search"
    assert body(event(event="Order Completed"), custom)["event_name"] == "checkout"
    assert body(event(event="custom event"), custom)["event_name"] == "custom"
    assert body(event(event="custom event"))["event_name"] == "custom event"


def test_products_feed_contents_and_counts() -> None:
    """Products give content_ids and contents; a quantity that is not a number zeroes num_items."""
    sent = body(event(properties={"quantity": 5, "price": 9, "products": [
        {"product_id": "a"}, {"sku": "b", "quantity": "x"}, {"id": 7, "price": None}]}))
    assert sent["custom_data"] == {
        "num_items": 0, "content_ids": ["a", "b", "7"],
        "contents": [{"quantity": 5, "item_price": "9", "id": "a"},
                     {"quantity": None, "item_price": "9", "id": "b"},
                     {"quantity": 5, "item_price": "9"}]}


def test_single_product_and_custom_fields() -> None:
    """Without products the properties are the one product; numOfItems and value override."""
    sent = body(event(properties={"sku": 12, "quantity": "abc", "numOfItems": "4", "value": None,
                                  "order_id": {"a": 1}, "currency": "USD"}))
    assert sent["custom_data"] == {"num_items": 4, "content_ids": ["12"],
                                   "contents": [{"quantity": 1, "id": "12"}], "value": "null",
                                   "order_id": '{"a":1}', "currency": "USD"}


def test_common_fields_keep_nulls_and_follow_nullish_chains() -> None:
    """``??`` chains: a null goes on, a final null is sent; partner fields come with a partner."""
    sent = body(event(context__app={"name": None}, context__locale="en",
                      context__traits={"email": "abc@gmail.com", "language": None},
                      properties={"partnerName": {"a": 1}}, context__network={"wifi": "yes"}),
                {**CONFIG, "appId": None})
    assert sent["app_name"] is None and sent["app_id"] is None
    assert sent["language"] == "en"
    assert sent["partner_name"] == '{"a":1}' and "device_carrier" not in sent
    assert sent["wifi"] is True


def test_deduplication_key_is_a_lodash_path() -> None:
    """deduplicationKey reads the event id with a lodash path, messageId otherwise."""
    config = {**CONFIG, "deduplicationKey": "properties.arr[0].k"}
    assert body(event(properties={"arr": [{"k": "V"}]}), config)["event_id"] == "V"
    assert body(event(properties={"arr": [{"k": None}]}), config)["event_id"] == "m1"


def test_event_time_needs_a_date_after_the_epoch() -> None:
    """toSeconds: the epoch itself and what is not a date leave event_time out (required)."""
    for timestamp in ("1970-01-01T00:00:00.000Z", "garbage"):
        assert error(event(timestamp=timestamp))[1].startswith("event_time is required")
    assert body(event(timestamp=None, originalTimestamp="2021-01-01T00:00:00Z"))[
        "event_time"] == 1609459200


def test_config_errors_follow_the_api_version() -> None:
    """v3 needs advertiserId; any other apiVersion the ad account and conversion token."""
    assert error(event(), {**CONFIG, "advertiserId": ""})[1].startswith(
        "Advertiser Id not found. Aborting: Workflow: procWorkflow, Step: validateInput")
    assert error(event(), {**V5_CONFIG, "adAccountId": ""})[1].startswith(
        "Ad Account ID not found. Aborting")
    assert error(event(), {**V5_CONFIG, "conversionToken": None})[:3:2] == (400, "configuration")
    assert error(event(type="identify"), {**CONFIG, "advertiserId": ""})[1].startswith(
        "Advertiser Id not found")


def test_type_errors() -> None:
    """A missing or unsupported type is an instrumentation error; a non-string one too (400)."""
    message = event()
    del message["type"]
    assert error(message)[1].startswith("Message type is not present. Aborting message.")
    assert error(event(type="Identify"))[1].startswith("message type identify is not supported")
    assert error(event(type=5))[0] == 400


def test_reference_crashes_are_400s() -> None:
    """Where the reference crashes (a 500) the event or config is rejected naming the field."""
    assert error(event(), {**CONFIG, "eventsMapping": None})[::2] == (400, "configuration")
    assert error(event(), {**CONFIG, "eventsMapping": [{"from": "ABC Searched", "to": 5}]})[
        ::2] == (400, "configuration")
    assert error(event(context__device={"advertisingId": [5]}))[::2] == (400, "instrumentation")
    assert error(event(context__traits={"email": [None]}))[::2] == (400, "instrumentation")


def test_eventsmapping_is_not_needed_for_pages() -> None:
    """Pages name themselves, so a destination without eventsMapping still sends them."""
    assert body(event(type="page"), {**CONFIG, "eventsMapping": None})["event_name"] == "page_visit"


def test_transformed_request_passes_through() -> None:
    """An already transformed request (statusCode) is answered with itself."""
    message = {"statusCode": 200, "type": "REST", "body": {"JSON": {"a": 1}}}
    (result,) = run(message)
    assert result["output"] == {**message, "userId": ""}


# --- router ---------------------------------------------------------------------------------------


def test_router_batches_1000_events_per_request() -> None:
    """Events go 1000 to a request as {"data": [...]}, jobs in order, failures last."""
    messages = [event(messageId=f"m{i}") for i in range(1001)]
    messages.insert(1, event(type="identify"))
    output = route(messages)
    assert [len(o["metadata"]) for o in output] == [1000, 1, 1]
    first, second, failed = output
    assert first["batchedRequest"]["endpoint"] == V3 and first["batched"] is True
    assert first["batchedRequest"]["params"] == {}
    data = first["batchedRequest"]["body"]["JSON"]["data"]
    assert [d["event_id"] for d in data[:2]] == ["m0", "m1"] and len(data) == 1000
    assert second["metadata"] == [{"jobId": 1002}]
    assert failed["statusCode"] == 400 and failed["metadata"] == [{"jobId": 2}]
    assert failed["error"] == "message type identify is not supported"


def test_router_keeps_a_jobs_events_together() -> None:
    """A job whose events do not fit the current request starts the next one."""
    config = {**V5_CONFIG, "sendAsTestEvent": True, "eventsMapping": [
        {"from": "two", "to": "A"}, {"from": "two", "to": "B"}]}
    messages = [event(messageId=f"m{i}") for i in range(999)] + [event(event="two")]
    output = route(messages, config)
    assert [len(o["batchedRequest"]["body"]["JSON"]["data"]) for o in output] == [999, 2]
    request = output[1]["batchedRequest"]
    assert request["endpoint"] == V5 and request["params"] == {"test": True}
    assert request["headers"]["Authorization"] == "Bearer tok"


def test_router_sends_transformed_requests_on() -> None:
    """An already transformed request joins the batch with its JSON body as the event."""
    passed = {"statusCode": 200, "type": "REST", "body": {"JSON": {"event_name": "x"}}}
    (output,) = route([event(), passed])
    data = output["batchedRequest"]["body"]["JSON"]["data"]
    assert [d["event_name"] for d in data] == ["watch_video", "x"]


def test_router_fails_an_unknown_api_version() -> None:
    """The reference's router batches only legacyApi and newApi; any other version fails."""
    output = route([event(), event()], {**V5_CONFIG, "apiVersion": ""})
    assert [(o["statusCode"], o["statTags"]["errorType"]) for o in output] == [
        (400, "configuration")] * 2
