"""TikTok Ads: reference cases missing from the conformance sample, edge rules checked against the
reference (Events 1.0 and 2.0), config errors and router batching."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import pytest

from transformer.destinations.tiktok_ads import hooks

from ._support import job, transform
from ._support import route as route_jobs

TRACK_V1 = "https://business-api.tiktok.com/open_api/v1.3/pixel/track/"
BATCH_V1 = "https://business-api.tiktok.com/open_api/v1.3/pixel/batch/"
TRACK_V2 = "https://business-api.tiktok.com/open_api/v1.3/event/track/"
HEADERS = {"Access-Token": "tok", "Content-Type": "application/json"}
V1: dict[str, Any] = {"accessToken": "tok", "pixelCode": "PIX", "hashUserProperties": False}
V2: dict[str, Any] = {**V1, "version": "v2"}
MULTI = [{"from": "multi", "to": "Download"}, {"from": " MULTI", "to": "Search"},
         {"from": "multi", "to": "Download"}, {"from": "multi", "to": "AddToCart"}]
EVENT: dict[str, Any] = {
    "type": "track", "event": "checkout step completed", "messageId": "m1", "anonymousId": "a1",
    "timestamp": "2020-09-17T19:49:27Z",
    "context": {"ip": "1.2.3.4", "userAgent": "ua", "locale": "en-US",
                "traits": {"email": "Abc@x.com ", "phone": "+123"}},
    "properties": {"currency": "USD", "value": 46},
}


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
    return {"ID": "d1", "Config": config, "DestinationDefinition": {"Name": "TIKTOK_ADS"},
            "hasDynamicConfig": False}


def run(message: dict[str, Any], config: dict[str, Any]) -> list[dict[str, Any]]:
    return transform("tiktok_ads", [job(message, {"jobId": 1}, destination(config))])


def bodies(message: dict[str, Any], config: dict[str, Any]) -> list[dict[str, Any]]:
    results = run(message, config)
    assert all(r["statusCode"] == 200 for r in results), results
    return [r["output"]["body"]["JSON"] for r in results]


def error(message: dict[str, Any], config: dict[str, Any]) -> tuple[int, str, str]:
    (result,) = run(message, config)
    return result["statusCode"], result["error"], result["statTags"].get("errorType", "")


def route(inputs: list[tuple[dict[str, Any], dict[str, Any]]]) -> list[dict[str, Any]]:
    return route_jobs("tiktok_ads", [job(m, {"jobId": i + 1}, destination(c))
                                     for i, (m, c) in enumerate(inputs)])


# --- config, type and event name ------------------------------------------------------------------


def test_config_errors_word_each_version() -> None:
    """Events 1.0 words the token error with a trailing space, Events 2.0 without."""
    assert error(event(), {**V1, "accessToken": ""}) == (
        400, "Access Token not found. Aborting ", "configuration")
    assert error(event(), {**V2, "accessToken": None})[1] == "Access Token not found. Aborting"
    assert error(event(), {k: v for k, v in V2.items() if k != "pixelCode"})[1] == \
        "Pixel Code not found. Aborting"


def test_type_errors() -> None:
    """Only track: other types, and a missing one, are instrumentation errors."""
    assert error(event(type="Identify"), V2) == (
        400, "Event type identify is not supported", "instrumentation")
    message = event()
    del message["type"]
    assert error(message, V1)[1] == "Event type is required"


def test_event_name_checks() -> None:
    """The event must be a string, non-blank for Events 2.0, and standard unless custom events
    are allowed."""
    assert error(event(event=123), V1)[1] == "Event is a required field and should be a string"
    assert error(event(event="   "), {**V2, "sendCustomEvents": True})[1] == \
        "Event name is required"
    assert error(event(event="Custom_Event "), V1)[1] == (
        "Event name (custom_event) is not valid, must be mapped to one of standard events")
    (sent,) = bodies(event(event=" My Event "), {**V1, "sendCustomEvents": True})
    assert sent["event"] == " My Event "
    (sent,) = bodies(event(event="  Purchase  "), V1)
    assert sent["event"] == "Purchase"


# --- Events 1.0 -----------------------------------------------------------------------------------


def test_v1_one_request_per_standard_event() -> None:
    """eventsToStandard maps a name to every distinct "to" (lower-cased, trimmed "from")."""
    sent = bodies(event(event="Multi"), {**V1, "eventsToStandard": MULTI})
    assert [b["event"] for b in sent] == ["Download", "Search", "AddToCart"]
    assert sent[0] == {
        "pixel_code": "PIX", "event": "Download", "event_id": "m1",
        "timestamp": "2020-09-17T19:49:27Z", "properties": {"currency": "USD", "value": 46},
        "context": {"ip": "1.2.3.4", "user_agent": "ua",
                    "user": {"email": "Abc@x.com ", "phone_number": "+123"}},
        "partner_name": "RudderStack"}


def test_v1_hashes_user_fields() -> None:
    """hashUserProperties: external id, trimmed lower-cased email and phone, SHA-256 (UTF-8)."""
    (sent,) = bodies(event(context__externalId=[{"type": "tiktokExternalId", "id": " ext1"}]),
                     {**V1, "hashUserProperties": True})
    assert sent["context"]["user"] == {"external_id": sha("ext1"), "email": sha("abc@x.com"),
                                       "phone_number": sha("+123")}


def test_v1_event_user_object_is_hashed_once_per_event_name() -> None:
    """The reference changes properties.context.user in place for each standard event, so its
    email and phone end up hashed once per name, in every request."""
    message = event(event="multi", properties={"context": {"user": {"email": "E@x.com",
                                                                    "phone_number": "123"}}},
                    context__externalId=[{"type": "tiktokExternalId", "id": "ext1"}])
    sent = bodies(message, {**V1, "hashUserProperties": True, "eventsToStandard": MULTI})
    thrice = sha(sha(sha("e@x.com")))
    assert [b["context"]["user"] for b in sent] == [
        {"email": thrice, "phone_number": sha(sha(sha("123"))), "external_id": sha("ext1")}] * 3


def test_v1_contents() -> None:
    """Contents: an object becomes a list; a missing content_type is properties.contentType,
    else product_group; products stand in only when other properties are mapped."""
    (sent,) = bodies(event(properties={"contents": {"content_id": "1"}, "contentType": "ct"}), V1)
    assert sent["properties"]["contents"] == [{"content_id": "1", "content_type": "ct"}]
    (sent,) = bodies(event(properties={"contents": ["s", {"content_id": "1"}]}), V1)
    assert sent["properties"]["contents"] == ["s", {"content_id": "1",
                                                    "content_type": "product_group"}]
    products = [{"product_id": 1, "name": "n"}, {"sku": "s", "price": None}]
    (sent,) = bodies(event(properties__products=products), V1)
    assert sent["properties"]["contents"] == [
        {"content_type": "product", "content_id": "1", "content_name": "n"},
        {"content_type": "product", "content_id": "undefined"}]
    (sent,) = bodies(event(properties={"products": products}), V1)
    assert "properties" not in sent


def test_v1_click_id_sets_the_ad_callback() -> None:
    """properties.clickId becomes context.ad.callback as lodash set does (a string ad is
    replaced, an empty object kept)."""
    (sent,) = bodies(event(context__ad="str", properties__clickId="cid"), V1)
    assert sent["context"]["ad"] == {"callback": "cid"}
    (sent,) = bodies(event(context__ad="str"), V1)
    assert sent["context"]["ad"] == "str"
    (sent,) = bodies(event(context__ad={}), V1)
    assert sent["context"]["ad"] == {}


def test_prototype_names_map_to_no_event() -> None:
    """"constructor" passes the reference's lookups and maps to no event: no request (v1), no
    data item (v2)."""
    assert run(event(event="constructor"), V1) == []
    (sent,) = bodies(event(event="constructor", timestamp="bad"), V2)
    assert sent == {"event_source": "web", "event_source_id": "PIX",
                    "partner_name": "RudderStack", "data": []}


# --- Events 2.0 -----------------------------------------------------------------------------------


def test_v2_one_item_per_standard_event() -> None:
    """Events 2.0 puts every mapped name in data; content_type defaults for the recommended
    standard events only."""
    (sent,) = bodies(event(event="multi"), {**V2, "eventsToStandard": MULTI})
    assert [(d["event"], d["properties"].get("content_type")) for d in sent["data"]] == [
        ("Download", None), ("Search", None), ("AddToCart", "product")]
    assert sent["data"][0] == {
        "event_id": "m1", "event_time": 1600372167, "event": "Download",
        "properties": {"currency": "USD", "value": 46},
        "user": {"locale": "en-US", "email": "abc@x.com", "phone": "+123", "ip": "1.2.3.4",
                 "user_agent": "ua"}}


def test_v2_user_fields_and_hashing() -> None:
    """Names and zip codes are always hashed (as binary strings), the rest with
    hashUserProperties; att_status is upper-cased and checked."""
    message = event(context__traits={"email": " MiXed@X.com ", "phone": ["+1", "+2"],
                                     "firstName": " José ", "zip": "12 34-5"},
                    context__device={"advertisingId": " ADID ", "id": "dev"},
                    properties__att_status="authorized",
                    context__externalId=[{"type": "tiktokExternalId", "id": ["e1", "e2"]}])
    (sent,) = bodies(message, {**V2, "hashUserProperties": True})
    user = sent["data"][0]["user"]
    assert user["first_name"] == "858ec063bef4edbd26e8fbd55a1d18e52fc50178afc9f4c065b4f2716a09de3d"
    assert user["zip_code"] == sha("12345")
    assert user["email"] == sha("mixed@x.com")
    assert user["phone"] == [sha("+1"), sha("+2")]
    assert user["external_id"] == [sha("e1"), sha("e2")]
    assert (user["idfa"], user["gaid"], user["idfv"]) == (sha("ADID"), sha("adid"), "dev")
    assert user["att_status"] == "AUTHORIZED"


@pytest.mark.parametrize(("os", "kept"), [("iPadOS", {"idfa", "idfv"}), ("android", {"gaid"}),
                                          ("Windows", {"idfa", "idfv", "gaid"})])
def test_v2_device_ids_follow_the_os(os: str, kept: set[str]) -> None:
    """Apple systems drop gaid, Android drops idfa and idfv."""
    (sent,) = bodies(event(context__device={"advertisingId": "AD", "id": "dev"},
                           context__os={"name": os}), V2)
    assert {"idfa", "idfv", "gaid"} & set(sent["data"][0]["user"]) == kept


def test_v2_event_time() -> None:
    """secondTimestamp: epoch milliseconds are kept as they are, dates become seconds."""
    (sent,) = bodies(event(timestamp=1600372167000), V2)
    assert sent["data"][0]["event_time"] == 1600372167000
    (sent,) = bodies(event(timestamp="1600372167000"), V2)
    assert sent["data"][0]["event_time"] == "1600372167000"
    assert error(event(timestamp="bad"), V2)[1] == 'Missing required value from "timestamp"'


def test_v2_contents_ids_and_products() -> None:
    """contents_ids and num_items count the truthy content ids; products feed contents."""
    (sent,) = bodies(event(properties__contents=[{"content_id": 0}, {"content_id": "a"}]), V2)
    properties = sent["data"][0]["properties"]
    assert (properties["contents_ids"], properties["num_items"]) == (["a"], 1)
    (sent,) = bodies(event(properties={"products": [{"product_id": 1, "contentType": "X"}]}), V2)
    assert sent["data"][0]["properties"] == {
        "contents": [{"content_id": "1"}], "contents_ids": ["1"], "num_items": 1,
        "content_type": "product"}


def test_v2_event_source_and_test_code() -> None:
    """event_source is a supported properties value, else web; a null test code is sent."""
    (sent,) = bodies(event(properties={"eventSource": "bad", "event_source": "crm",
                                       "testEventCode": None}), V2)
    assert (sent["event_source"], sent["test_event_code"]) == ("crm", None)


def test_reference_crashes_are_400s() -> None:
    """Where the reference crashes (a 500) the event or config is rejected naming the field."""
    hashed = {**V1, "hashUserProperties": True}
    assert error(event(context__externalId=[{"type": "tiktokExternalId", "id": {"a": 1}}]),
                 hashed)[::2] == (400, "instrumentation")
    assert error(event(context__os={"name": 5}), V2)[::2] == (400, "instrumentation")
    assert error(event(properties__products=[None]), V2)[::2] == (400, "instrumentation")
    assert error(event(event="x"), {**V1, "eventsToStandard": [None]})[::2] == (
        400, "configuration")
    assert error(event(event="x"), {**V1, "eventsToStandard": [{"from": 5, "to": "Search"}]})[
        ::2] == (400, "configuration")


# --- router ---------------------------------------------------------------------------------------


def test_router_v1_batches_50_events() -> None:
    """Events 1.0: up to 50 events per pixel/batch request with type "track"; a test event goes
    alone; requests in jobId order, failures last (the reference sorts them in by jobId too)."""
    inputs = [(event(), V1)] * 51
    inputs.insert(1, (event(properties__testEventCode="T"), V1))
    inputs.insert(2, (event(event="nope"), V1))
    output = route(inputs)
    assert [[m["jobId"] for m in o["metadata"]][:2] for o in output] == [[1, 4], [2], [53], [3]]
    first = output[0]["batchedRequest"]
    assert (first["endpoint"], first["endpointPath"], first["headers"]) == (
        BATCH_V1, "pixel/batch", HEADERS)
    assert first["body"]["JSON"]["pixel_code"] == "PIX"
    assert len(first["body"]["JSON"]["batch"]) == 50
    assert first["body"]["JSON"]["batch"][0]["type"] == "track"
    assert "pixel_code" not in first["body"]["JSON"]["batch"][0]
    alone = output[1]
    assert alone["batched"] is False and alone["batchedRequest"][0]["endpoint"] == TRACK_V1
    assert output[3]["statusCode"] == 400


def test_router_v2_batches_by_event_source(monkeypatch: pytest.MonkeyPatch) -> None:
    """Events 2.0: per event_source, data items up to the limit (3 here, as the reference's tests
    mock it), a job's items kept together."""
    monkeypatch.setattr(hooks, "MAX_BATCH_SIZE_V2", 3)
    two = {**V2, "eventsToStandard": [{"from": "x", "to": "Search"}, {"from": "x", "to": "Lead"}]}
    inputs = [(event(event="x"), two), (event(properties__eventSource="app"), two),
              (event(), two), (event(), two), (event(properties__testEventCode="T"), two)]
    output = route(inputs)
    shape = [([m["jobId"] for m in o["metadata"]], o["batched"]) for o in output]
    assert shape == [([1, 3], True), ([2], True), ([4], True), ([5], False)]
    request = output[0]["batchedRequest"]
    assert (request["endpoint"], request["endpointPath"]) == (TRACK_V2, "event/track")
    assert request["body"]["JSON"]["event_source"] == "web"
    assert [d["event"] for d in request["body"]["JSON"]["data"]] == [
        "Search", "Lead", "CompletePayment"]
    assert output[1]["batchedRequest"]["body"]["JSON"]["event_source"] == "app"
