"""Snapchat Conversions: reference cases missing from the conformance sample, router batching and
the reference's edge cases (expected values recorded from the reference transformer)."""

from __future__ import annotations

import copy
from typing import Any

import orjson

from transformer._catalog import load_catalog
from transformer._clock import FixedClock
from transformer._pipeline import Pipeline
from transformer.v1 import transformer_pb2 as pb

PIPELINE = Pipeline(load_catalog())
NOW = 1650711478000  # 2022-04-23T10:57:58Z, the reference tests' mocked Date.now
V2 = "https://tr.snapchat.com/v2/conversion"
UA = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_2) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/79.0.3945.88 Safari/537.36")
EMAIL_SHA = "73062d872926c2a556f17b36f50e328ddf9bff9d403939bd14b6c3b7f5a33fc2"
PHONE_SHA = "bc77d64d7045fe44795ed926df37231a0cfb6ec6b74588c512790e9f143cc492"
AD_ID_SHA = "f9779d734aaee50f16ee0011260bae7048f1d9a128c62b6a661077875701edd2"
IDFV_SHA = "54bd0b26a3d39dad90f5149db49b9fd9ba885f8e35d1d94cae69273f5e657b9f"
DEVICE_ID = "3f034872-5e28-45a1-9eda-ce22a3e36d1a"
AD_ID = "T0T0T072-5e28-45a1-9eda-ce22a3e36d1a"
CONFIG = {"apiKey": "snapchat_conversion1", "pixelId": "dummyPixelId"}
APP_CONFIG = {**CONFIG, "appId": "dhfeih44f", "snapAppId": "hfhdhfd"}
V3 = {"apiVersion": "newApi"}
MESSAGE: dict[str, Any] = {
    "messageId": "ec5481b6-a926-4d2e-b293-0b3a77c4d3be",
    "originalTimestamp": "2022-04-22T10:57:58Z",
    "anonymousId": "ea5cfab2-3961-4d8a-8187-3d1858c99090",
    "context": {
        "traits": {"email": "test@email.com", "phone": "+91 2111111 ", "firstName": "john",
                   "middleName": "victor", "lastName": "doe", "city": "some_city",
                   "state": "some_state"},
        "app": {"build": "1.0.0", "name": "RudderLabs JavaScript SDK",
                "namespace": "com.rudderlabs.javascript", "version": "1.0.0"},
        "device": {"advertisingId": AD_ID, "id": DEVICE_ID, "manufacturer": "Google",
                   "name": "generic_x86_arm", "type": "ios", "attTrackingStatus": 3},
        "locale": "en-US", "os": {"name": "iOS", "version": "14.4.1"}, "screen": {"density": 2},
        "userAgent": UA,
    },
    "type": "track",
    "event": "Products Searched",
    "properties": {"brands": "abc", "query": "t-shirts", "number_items": 4,
                   "click_id": "some_click_id", "description": "a description"},
}
PRODUCTS = [{"product_id": "123", "price": "14"}, {"product_id": "123", "price": 14, "quantity": 3}]
HASHED_TRAITS = {
    "hashed_first_name_sha": "96d9632f363564cc3032521409cf22a852f2032eec099ed5967c0d000cec607a",
    "hashed_middle_name_sha": "99bde068af2d49ed7fc8b8fa79abe13a6059e0db320bb73459fd96624bb4b33f",
    "hashed_last_name_sha": "799ef92a11af918e3fb741df42934f3b568ed2d93ac1df74f1b8d41a27932a6f",
    "hashed_state_sha": "6db488fc98e30afdf67a05a6da916805b02891ce58f03970c6deff79129c5f1c",
}


def message(**fields: Any) -> dict[str, Any]:
    msg = copy.deepcopy(MESSAGE)
    msg.update(fields)
    return msg


def destination(config: dict[str, Any]) -> dict[str, Any]:
    return {"ID": "snap1", "Config": config,
            "DestinationDefinition": {"Name": "SNAPCHAT_CONVERSION"}}


def job(msg: dict[str, Any], config: dict[str, Any], job_id: int = 1) -> pb.Job:
    return pb.Job(message=orjson.dumps(msg), destination=orjson.dumps(destination(config)),
                  metadata=orjson.dumps({"jobId": job_id}))


def run(msg: dict[str, Any], config: dict[str, Any] = CONFIG, now: int = NOW) -> list[Any]:
    """Every result of transforming ``msg`` in processor mode."""
    request = pb.TransformRequest(destination_type="snapchat_conversion", jobs=[job(msg, config)])
    response, _ = PIPELINE.transform(request, FixedClock(now))
    return [{"statusCode": r.status_code, "error": r.error, "tags": dict(r.stat_tags),
             "output": orjson.loads(r.output) if r.output else None} for r in response.results]


def body(msg: dict[str, Any], config: dict[str, Any] = CONFIG, now: int = NOW) -> Any:
    (result,) = run(msg, config, now)
    assert result["statusCode"] == 200, result
    return result["output"]["body"]["JSON"]


def error(msg: dict[str, Any], config: dict[str, Any] = CONFIG, now: int = NOW) -> Any:
    (result,) = run(msg, config, now)
    assert result["statusCode"] != 200, result
    return result


def router(jobs: list[pb.Job]) -> list[pb.RouterResult]:
    request = pb.TransformRequest(destination_type="snapchat_conversion", jobs=jobs)
    response, _ = PIPELINE.router_transform(request, FixedClock(NOW))
    return list(response.results)


def job_ids(result: pb.RouterResult) -> list[int]:
    return [orjson.loads(m)["jobId"] for m in result.metadata]


# --- v2 processor -----------------------------------------------------------------------------


def test_products_searched_offline() -> None:
    """A Products Searched event without channel is an OFFLINE SEARCH with every identifier hashed."""
    assert body(message()) == {
        "search_string": "t-shirts", "event_type": "SEARCH", "hashed_email": EMAIL_SHA,
        "hashed_phone_number": PHONE_SHA, "hashed_mobile_ad_id": AD_ID_SHA,
        "hashed_idfv": IDFV_SHA, "user_agent": UA.lower(), "timestamp": "1650625078",
        "event_conversion_type": "OFFLINE", "pixel_id": "dummyPixelId", "number_items": 4,
        "click_id": "some_click_id", "description": "a description", **HASHED_TRAITS,
    }


def test_request_parts_v2() -> None:
    """v2 requests carry the key as a Bearer token; the output userId is empty."""
    (result,) = run(message())
    output = result["output"]
    assert output["endpoint"] == V2
    assert output["headers"] == {"Authorization": "Bearer snapchat_conversion1",
                                 "Content-Type": "application/json"}
    assert output["params"] == {} and output["userId"] == ""


def test_event_mapping_gives_one_request_per_snapchat_event() -> None:
    """rudderEventsToSnapEvents rows matching the event (whitespace and case aside) each give a
    request, a repeated target only once."""
    config = {**CONFIG, "rudderEventsToSnapEvents": [
        {"from": "Product_Added_To_Cart", "to": "products_searched"},
        {"from": " product  added to cart", "to": "sign_up"},
        {"from": "Product Added To Cart", "to": "products_searched"},
        {"from": "other", "to": "save"}]}
    results = run(message(event="Product Added to Cart"), config)
    assert [r["output"]["body"]["JSON"]["event_type"] for r in results] == ["SEARCH", "SIGN_UP"]


def test_mapped_event_must_be_a_snapchat_event() -> None:
    """A mapping to an unknown Snapchat event is rejected."""
    config = {**CONFIG, "rudderEventsToSnapEvents": [{"from": "x", "to": "save"},
                                                     {"from": "x", "to": "nope"}]}
    assert error(message(event="x"), config)["error"] == "Event nope doesn't match with Snapchat Events!"


def test_product_list_viewed_price() -> None:
    """The price is properties.price/value/revenue, else the sum of price x quantity of the
    products, "null" without products; item ids are the products' ids."""
    msg = message(event="Product List Viewed", channel="mobile",
                  properties={"products": PRODUCTS, "revenue": "100"})
    assert body(msg, APP_CONFIG)["price"] == "100"
    msg["properties"].pop("revenue")
    result = body(msg, APP_CONFIG)
    assert (result["item_ids"], result["price"]) == (["123", "123"], "56")
    msg["properties"] = {}
    result = body(msg, APP_CONFIG)
    assert "item_ids" not in result and result["price"] == "null"


def test_order_completed_prefers_item_category() -> None:
    """Order Completed takes properties.item_category before properties.category."""
    msg = message(event="Order Completed", channel="mobile",
                  properties={"products": PRODUCTS, "category": "shoes", "item_category": "glass"})
    assert body(msg, APP_CONFIG)["item_category"] == "glass"


def test_unsupported_types_are_named_in_lower_case() -> None:
    """Types other than track and page are rejected, named in lower case."""
    result = error(message(type="Identify"))
    assert result["error"] == "Event type identify is not supported"
    assert result["tags"]["errorType"] == "instrumentation"


def test_an_identifier_is_required() -> None:
    """Without email, phone, advertising id, or ip with user agent, the event is rejected."""
    msg = message()
    msg["context"] = {"traits": {}, "ip": "1.2.3.4"}
    assert error(msg)["error"] == ("At least one of email or phone or advertisingId or ip and "
                                   "userAgent is required")
    msg["context"]["userAgent"] = UA
    assert body(msg)["hashed_ip_address"]


def test_event_age_limit_v2() -> None:
    """v2 takes events up to 37 days old."""
    day = 86_400_000
    assert body(message(), now=NOW + 36 * day)["timestamp"] == "1650625078"
    result = error(message(), now=NOW + 37 * day)
    assert result["error"] == "Events must be sent within 37 days of their occurrence"


def test_hashes_take_the_low_byte_of_each_character() -> None:
    """Non-Latin-1 text is hashed as the npm sha256 package hashes it (low byte of each UTF-16
    unit), not as UTF-8."""
    msg = message(event="Product List Viewed", channel="mobile", properties={"products": PRODUCTS})
    msg["context"]["traits"] = {"email": "a@b.co", "firstName": "منيرة ام عمر", "lastName": "😀x",
                                "address": {"city": " Ünïcode "}}
    result = body(msg, APP_CONFIG)
    assert result["hashed_first_name_sha"] == \
        "e8a4c3d17f17e7ad77e3d311c20baf4c372d05206b771cd690ca4d6f61e41ee3"
    assert result["hashed_last_name_sha"] == \
        "35b7ff682458e4e0e25cad2c05cf0c6947fa6f4259a22f90053ac8c99846cb77"
    assert result["hashed_city_sha"] == \
        "bceabb68deee4e7be3145a89459a8c8c84ae503365e9ff4135a131b2ea64e2b2"


def test_numeric_advertising_id_fails_as_the_reference_does() -> None:
    """The reference cannot hash a number: a 500 tagged as its runtime errors are."""
    msg = message()
    msg["context"]["device"]["advertisingId"] = 12345
    result = error(msg)
    assert result["statusCode"] == 500
    assert result["tags"] == {"errorCategory": "transformation"}


def test_page_is_page_view_with_the_page_url() -> None:
    """A web page event is a PAGE_VIEW with the pixel and the page URL."""
    msg = message(type="page", channel="web")
    msg["context"]["page"] = {"url": "https://example.com/a"}
    result = body(msg)
    assert (result["event_type"], result["page_url"], result["pixel_id"]) == \
        ("PAGE_VIEW", "https://example.com/a", "dummyPixelId")


def test_deduplication_key() -> None:
    """With deduplication on, client_dedup_id is the value at deduplicationKey (messageId by
    default), left out when missing."""
    config = {**CONFIG, "enableDeduplication": True}
    assert body(message(), config)["client_dedup_id"] == MESSAGE["messageId"]
    config["deduplicationKey"] = "context.traits.email"
    assert body(message(), config)["client_dedup_id"] == "test@email.com"
    config["deduplicationKey"] = "properties.nope"
    msg = message(properties={"client_dedup_id": "c1"})
    assert "client_dedup_id" not in body(msg, config)


# --- configuration ------------------------------------------------------------------------------


def test_pixel_id_required_for_web_and_offline() -> None:
    """Web and offline events need Config.pixelId."""
    for config in ({"apiKey": "k"}, {"apiKey": "k", **V3}):
        result = error(message(), config)
        assert result["error"] == "Pixel Id is required for web and offline events"
        assert result["tags"]["errorType"] == "configuration"


def test_app_ids_required_for_app_events() -> None:
    """App events need Config.snapAppId, then Config.appId."""
    msg = message(channel="mobile")
    assert error(msg, CONFIG)["error"] == "Snap App Id is required for app events"
    config = {**CONFIG, "snapAppId": "s"}
    assert error(msg, config)["error"] == "App Id is required for app events"


def test_conversion_type_from_properties_then_channel() -> None:
    """properties.eventConversionType wins over the channel; an unknown one with a known channel
    leaves the conversion type out."""
    msg = message(channel="offline", properties={"eventConversionType": "WEB", "query": "q"})
    assert body(msg)["event_conversion_type"] == "WEB"
    msg["properties"]["eventConversionType"] = "tv"
    result = body(msg)
    assert "event_conversion_type" not in result and "pixel_id" not in result


# --- v3 processor -----------------------------------------------------------------------------


def test_v3_products_searched_offline() -> None:
    """CAPI v3: one data item with user_data, custom_data and the pixel in the endpoint."""
    (result,) = run(message(), {**CONFIG, **V3})
    output = result["output"]
    assert output["endpoint"] == "https://tr.snapchat.com/v3/dummyPixelId/events"
    assert output["params"] == {"access_token": "snapchat_conversion1"}
    assert output["headers"] == {"Content-Type": "application/json"}
    (data,) = output["body"]["JSON"]["data"]
    assert data == {
        "action_source": "OFFLINE", "event_name": "SEARCH", "event_time": "1650625078",
        "custom_data": {"num_items": 4, "search_string": "t-shirts"},
        "user_data": {
            "client_user_agent": UA, "em": EMAIL_SHA, "ph": PHONE_SHA, "idfv": DEVICE_ID,
            "madid": AD_ID, "sc_click_id": "some_click_id",
            "fn": HASHED_TRAITS["hashed_first_name_sha"],
            "ln": HASHED_TRAITS["hashed_last_name_sha"],
            "st": HASHED_TRAITS["hashed_state_sha"],
        },
    }


def test_v3_promotion_sends_price_and_contents() -> None:
    """Promotion events send the price as custom_data.price; properties make the one content."""
    msg = message(event="Promotion Viewed", channel="",
                  properties={"checkout_id": "123", "price": "14", "category": "shoes",
                              "currency": "USD"})
    (data,) = body(msg, {**CONFIG, **V3})["data"]
    assert data["custom_data"] == {"content_category": "shoes", "currency": "USD", "price": "14",
                                   "contents": [{"item_price": "14"}]}


def test_v3_web_event_source_url() -> None:
    """A web event sends the page URL as event_source_url."""
    msg = message(event="Product Viewed", properties={"eventConversionType": "web", "url": "u.com"})
    (data,) = body(msg, {**CONFIG, **V3})["data"]
    assert (data["action_source"], data["event_source_url"]) == ("WEB", "u.com")


def test_v3_product_event_without_products() -> None:
    """Without products, content_ids is null and the value "null", as the reference sends them."""
    msg = message(event="Product List Viewed", properties={})
    (data,) = body(msg, {**CONFIG, **V3})["data"]
    assert data["custom_data"] == {"content_ids": None, "value": "null"}


def test_v3_hashes_zero_and_false() -> None:
    """v3 hashes 0 and false as "0" and "false" (v2 leaves them out)."""
    msg = message()
    msg["context"]["traits"] = {"email": "a@b.co", "firstName": 0, "lastName": False}
    (data,) = body(msg, {**CONFIG, **V3})["data"]
    assert data["user_data"]["fn"] == \
        "5feceb66ffc86f38d952786c6d696c79c2dbc239dd4e91b46729d73a27fb57e9"
    assert data["user_data"]["ln"] == \
        "fcbcf165908dd18a9e49f7ff27810176db8e9f63b4352213741664245224f8aa"
    assert "hashed_first_name_sha" not in body(msg)


def test_v3_email_must_be_valid() -> None:
    """v3 sends em only for an address validator.js's isEmail accepts."""
    for email, valid in (("not-an-email", False), ("a@b", False), ("a@b.c", False),
                         ('"quoted user"@x.com', True), ("ü@ü.de", True), ("a@c_d.de", False),
                         (" Test@Email.COM ", True)):
        msg = message()
        msg["context"]["traits"] = {"email": email, "phone": "1"}
        (data,) = body(msg, {**CONFIG, **V3})["data"]
        assert ("em" in data["user_data"]) is valid, email
        assert data["user_data"]["ph"]


def test_v3_mapped_events_share_one_request() -> None:
    """Several mapped events are items of one request's data."""
    config = {**CONFIG, **V3, "rudderEventsToSnapEvents": [{"from": "My Event", "to": "sign_up"},
                                                            {"from": "my_event", "to": "save"}]}
    results = run(message(event="My Event"), config)
    assert len(results) == 1
    data = results[0]["output"]["body"]["JSON"]["data"]
    assert [d["event_name"] for d in data] == ["SIGN_UP", "SAVE"]


def test_v3_app_extinfo_time_zone_follows_the_clock() -> None:
    """App events carry extinfo; the time zone abbreviation is the zone's at the service clock."""
    config = {**APP_CONFIG, **V3}
    msg = message(channel="mobile")
    msg["context"]["timezone"] = "europe/berlin"
    (data,) = body(msg, config)["data"]
    assert data["app_data"]["app_id"] == "dhfeih44f"
    assert data["app_data"]["extinfo"] == [
        "i2", "com.rudderlabs.javascript", "1.0.0", "1.0.0", "14.4.1", "", "en-US", "CEST", "",
        "", "", "2", "", "", "", "europe/berlin"]
    winter = 1642244400000  # 2022-01-15
    msg["originalTimestamp"] = "2022-01-14T10:00:00Z"
    (data,) = body(msg, config, now=winter)["data"]
    assert data["app_data"]["extinfo"][7] == "CET"


def test_v3_errors() -> None:
    """v3 rejects a missing event name, an unknown type, a missing type and old events."""
    config = {**CONFIG, **V3}
    msg = message()
    del msg["event"]
    assert error(msg, config)["error"] == "Event name is required"
    assert error(message(type="identify"), config)["error"] == "Event type identify is not supported"
    msg = message()
    del msg["type"]
    assert error(msg, config)["error"] == "Event type is required"
    result = error(message(), config, now=NOW + 7 * 86_400_000)
    assert result["error"] == "Events must be sent within 7 days of their occurrence"


# --- router -------------------------------------------------------------------------------------


def test_router_v2_batches_bodies_as_a_json_string() -> None:
    """v2 router requests carry the bodies as a JSON string, keys in the reference's order."""
    msg = message(properties={"query": "t-shirts"})
    msg["context"]["traits"] = {"email": "test@email.com", "phone": "+91 2111111 "}
    (result,) = router([job(msg, CONFIG, i) for i in (1, 2)])
    request = orjson.loads(result.batched_request)
    item = ('{"search_string":"t-shirts","event_type":"SEARCH","user_agent":"' + UA.lower() +
            f'","hashed_email":"{EMAIL_SHA}","hashed_phone_number":"{PHONE_SHA}",'
            f'"hashed_idfv":"{IDFV_SHA}","hashed_mobile_ad_id":"{AD_ID_SHA}",'
            '"timestamp":"1650625078","event_conversion_type":"OFFLINE","pixel_id":"dummyPixelId"}')
    assert request["body"]["JSON_ARRAY"] == {"batch": f"[{item},{item}]"}
    assert request["endpoint"] == V2
    assert request["headers"] == {"Content-Type": "application/json",
                                  "Authorization": "Bearer snapchat_conversion1"}
    assert result.batched and job_ids(result) == [1, 2]


def test_router_v2_counts_snapchat_events() -> None:
    """A v2 batch holds at most 2000 Snapchat events; a job's events stay together."""
    mapped = {**CONFIG, "rudderEventsToSnapEvents": [{"from": "x", "to": "save"},
                                                     {"from": "x", "to": "sign_up"}]}
    jobs = [job(message(), mapped, i) for i in range(1, 1999)]
    jobs.append(job(message(event="x"), mapped, 1999))  # two Snapchat events: 2000 in all
    jobs.append(job(message(), mapped, 2000))
    results = router(jobs)
    assert [len(r.metadata) for r in results] == [1999, 1]
    assert job_ids(results[1]) == [2000]
    first = orjson.loads(results[0].batched_request)["body"]["JSON_ARRAY"]["batch"]
    assert len(orjson.loads(first)) == 2000
    jobs = [job(message(), mapped, i) for i in range(1, 2000)]
    jobs.append(job(message(event="x"), mapped, 2000))  # would make 2001: a batch of its own
    results = router(jobs)
    assert [len(r.metadata) for r in results] == [1999, 1]
    last = orjson.loads(results[1].batched_request)["body"]["JSON_ARRAY"]["batch"]
    assert [item["event_type"] for item in orjson.loads(last)] == ["SAVE", "SIGN_UP"]


def test_router_v3_groups_web_before_app_events() -> None:
    """v3 batches web/offline events apart from app events (web first), data concatenated."""
    config = {**APP_CONFIG, **V3}
    jobs = [job(message(channel="mobile"), config, 1), job(message(channel="web"), config, 2),
            job(message(channel="mobile"), config, 3), job(message(), config, 4),
            job(message(type="identify"), config, 5)]
    results = router(jobs)
    assert [job_ids(r) for r in results] == [[2, 4], [1, 3], [5]]
    web, app = (orjson.loads(r.batched_request) for r in results[:2])
    assert web["endpoint"] == "https://tr.snapchat.com/v3/dummyPixelId/events"
    assert app["endpoint"] == "https://tr.snapchat.com/v3/hfhdhfd/events"
    assert [d["action_source"] for d in web["body"]["JSON"]["data"]] == ["WEB", "OFFLINE"]
    assert results[2].status_code == 400 and not results[2].batched


def test_router_v3_at_most_2000_jobs() -> None:
    """v3 batches hold at most 2000 jobs."""
    config = {**CONFIG, **V3}
    results = router([job(message(), config, i) for i in range(2001)])
    assert [len(r.metadata) for r in results] == [2000, 1]


def test_router_failures_follow_batches() -> None:
    """Failed jobs come after the batched requests, each on its own."""
    jobs = [job(message(type="identify"), CONFIG, 1), job(message(), CONFIG, 2),
            job(message(channel="mobile"), CONFIG, 3), job(message(), CONFIG, 4)]
    results = router(jobs)
    assert [job_ids(r) for r in results] == [[2, 4], [1], [3]]
    assert [r.status_code for r in results] == [200, 400, 400]
    assert results[2].error == "Snap App Id is required for app events"
