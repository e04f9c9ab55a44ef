"""PostHog: the reference cases our conformance sample lacks, the spec's edge rules, router batching."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from transformer.destinations.posthog import hooks
from transformer.v1 import transformer_pb2 as pb

from . import _support

KEY = "dummyApiKey"
TS = "2020-11-04T13:21:09.712Z"
META = {"jobId": 1, "destinationId": "dest-1", "workspaceId": "ws-1"}
CHROME_86 = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/86.0.4240.111 Safari/537.36")
CHROME_85 = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/85.0.4183.121 Safari/537.36")
DALVIK = "Dalvik/2.1.0 (Linux; U; Android 10; Redmi K20 Pro MIUI/V12.0.3.0.QFKINXM)"

# The mobile context of the reference's alias and track cases.
MOBILE_CONTEXT = {
    "ip": "0.0.0.0",
    "device": {"id": "df16bffa-5c3d-4fbb-9bce-3bab098129a7R", "manufacturer": "Xiaomi",
               "model": "Redmi 6", "name": "xiaomi"},
    "network": {"carrier": "Banglalink"},
    "os": {"name": "android", "version": "8.1.0"},
    "traits": {"address": {"city": "Dhaka", "country": "Bangladesh"},
               "anonymousId": "c82cbdff-e5be-4009-ac78-cdeea09ab4b1"},
}
MOBILE_APP = {"build": "1.0.0", "name": "RudderLabs JavaScript SDK",
              "namespace": "com.rudderlabs.javascript", "version": "1.1.7"}
# What MOBILE_CONTEXT generates, in the reference's order.
MOBILE_PROPERTIES = {
    "$set": MOBILE_CONTEXT["traits"], "$os": "android", "$time": TS,
    "$device_id": "df16bffa-5c3d-4fbb-9bce-3bab098129a7R", "$ip": "0.0.0.0", "$timestamp": TS,
}
MOBILE_DEVICE_PROPERTIES = {"$device_manufacturer": "Xiaomi", "$os_version": "8.1.0"}

ALIAS = {
    "event": "event-alias", "context": {**MOBILE_CONTEXT, "app": MOBILE_APP}, "type": "alias",
    "timestamp": TS, "userId": "uid-1", "previousId": "prevId_1",
    "anonymousId": "f3cf54d8-f237-45d2-89f7-ccd70d42cf31",
}
ALIAS_BODY = {
    "properties": {
        **MOBILE_PROPERTIES, "$anon_distinct_id": "f3cf54d8-f237-45d2-89f7-ccd70d42cf31",
        "distinct_id": "uid-1", **MOBILE_DEVICE_PROPERTIES, "$app_version": "1.1.7",
        "$device_name": "xiaomi", "$network_carrier": "Banglalink",
        "$app_name": "RudderLabs JavaScript SDK", "$device_model": "Redmi 6",
        "$app_namespace": "com.rudderlabs.javascript", "$app_build": "1.0.0", "alias": "prevId_1",
    },
    "timestamp": TS,
    "event": "$create_alias",
    "type": "alias",
}

IDENTIFY_TRAITS = {
    "id": "sajal", "age": "30", "name": "User_id_identify", "email": "identify@test.com",
    "phone": "9876543210", "price": "56.0", "userId": "sajal",
    "address": {"city": "KOlkata", "state": "West bengal", "street": "Park Street", "country": "India",
                "postalcode": "700096"},
    "birthday": "2020-11-13", "lastname": "Mohanta", "quantity": "5", "username": "Samle_putUserName",
    "createdat": "18th March 2020", "firstname": "Sajal", "anonymousId": "9c6bd77ea9da3e68",
    "description": "Sample description",
}
IDENTIFY = {
    "type": "identify", "event": "identify", "sentAt": "2020-11-12T21:12:54.117Z", "userId": "sajal",
    "channel": "mobile",
    "context": {
        "os": {"name": "Android", "version": "10"},
        "app": {"name": "AMTestProject", "build": "1", "version": "1.0",
                "namespace": "com.rudderstack.android.rudderstack.sampleAndroidApp"},
        "device": {"id": "9c6bd77ea9da3e68", "name": "raphaelin", "type": "Android",
                   "model": "Redmi K20 Pro", "manufacturer": "Xiaomi"},
        "locale": "en-IN",
        "screen": {"width": 1080, "height": 2210, "density": 440},
        "traits": IDENTIFY_TRAITS,
        "library": {"name": "com.rudderstack.android.sdk.core", "version": "1.0.8"},
        "network": {"wifi": True, "carrier": "airtel", "cellular": True, "bluetooth": False},
        "timezone": "Asia/Kolkata",
        "userAgent": DALVIK,
    },
    "messageId": "1605215561266-084c95fb-aaf6-4abf-9b3b-7ac449a2d4fb",
    "anonymousId": "9c6bd77ea9da3e68",
    "integrations": {"All": True},
    "originalTimestamp": "2020-11-12T21:12:41.266Z",
}
IDENTIFY_BODY = {
    "distinct_id": "sajal",
    "timestamp": "2020-11-12T21:12:41.266Z",
    "messageId": "1605215561266-084c95fb-aaf6-4abf-9b3b-7ac449a2d4fb",
    "$set": IDENTIFY_TRAITS,
    "properties": {
        "$os": "Android", "$screen_height": 2210, "$screen_width": 1080,
        "$lib": "com.rudderstack.android.sdk.core", "$lib_version": "1.0.8",
        "$time": "2020-11-12T21:12:41.266Z", "$device_id": "9c6bd77ea9da3e68",
        "$timestamp": "2020-11-12T21:12:41.266Z", "$anon_distinct_id": "9c6bd77ea9da3e68",
        "distinct_id": "sajal", "$screen_density": 440, "$device_manufacturer": "Xiaomi",
        "$os_version": "10", "$timezone": "Asia/Kolkata", "$locale": "en-IN", "$useragent": DALVIK,
        "$app_version": "1.0", "$device_name": "raphaelin", "$network_carrier": "airtel",
        "$app_name": "AMTestProject", "$device_model": "Redmi K20 Pro",
        "$app_namespace": "com.rudderstack.android.rudderstack.sampleAndroidApp", "$app_build": "1",
    },
    "event": "$identify",
    "type": "identify",
}

WEB_TRAITS = {"name": "Shehan Study", "category": "SampleIdentify", "email": "test@rudderstack.com",
              "plan": "Open source", "logins": 5, "createdAt": 1599264000}
GROUP_TRAITS = {
    "groupType": "company",
    "KEY_3": {"CHILD_KEY_92": "value_95", "CHILD_KEY_102": "value_103"},
    "KEY_2": {"CHILD_KEY_92": "value_95", "CHILD_KEY_102": "value_103"},
    "name_trait": "Company",
    "value_trait": "Comapny-ABC",
}
GROUP = {
    "channel": "web",
    "context": {
        "app": {"build": "1.0.0", "name": "RudderLabs JavaScript SDK",
                "namespace": "com.rudderlabs.javascript", "version": "1.1.5"},
        "traits": WEB_TRAITS,
        "library": {"name": "RudderLabs JavaScript SDK", "version": "1.1.5"},
        "userAgent": CHROME_85,
        "locale": "en-US",
        "os": {"name": "", "version": ""},
        "screen": {"density": 0.8999999761581421},
        "page": {"path": "/destinations/amplitude", "referrer": "", "search": "", "title": "",
                 "url": "https://docs.rudderstack.com/destinations/amplitude", "category": "destination",
                 "initial_referrer": "https://docs.rudderstack.com",
                 "initial_referring_domain": "docs.rudderstack.com"},
    },
    "type": "group",
    "messageId": "e5034df0-a404-47b4-a463-76df99934fea",
    "anonymousId": "my-anonymous-id-new",
    "userId": "sampleusrRudder7",
    "integrations": {"All": True},
    "groupId": "Sample_groupId27",
    "traits": GROUP_TRAITS,
    "sentAt": "2020-10-20T07:54:58.983Z",
}
GROUP_PROPERTIES = {
    "$set": WEB_TRAITS,
    "$current_url": "https://docs.rudderstack.com/destinations/amplitude",
    "$pathname": "/destinations/amplitude",
    "$lib": "RudderLabs JavaScript SDK",
    "$lib_version": "1.1.5",
    "$anon_distinct_id": "my-anonymous-id-new",
    "distinct_id": "sampleusrRudder7",
    "$screen_density": 0.8999999761581421,
    "$locale": "en-US",
    "$useragent": CHROME_85,
    "$app_version": "1.1.5",
    "$app_name": "RudderLabs JavaScript SDK",
    "$app_namespace": "com.rudderlabs.javascript",
    "$app_build": "1.0.0",
    "$os": "Mac OS",
    "$browser": "Chrome",
    "$browser_version": "85.0.4183.121",
    "$host": "docs.rudderstack.com",
}
GROUP_OLD_BODY = {
    "groupId": "Sample_groupId27",
    "distinct_id": "sampleusrRudder7",
    "traits": GROUP_TRAITS,
    "messageId": "e5034df0-a404-47b4-a463-76df99934fea",
    "properties": GROUP_PROPERTIES,
    "event": "$groupidentify",
    "type": "group",
}

VIEWPORT_TRACK = {
    "channel": "web",
    "context": {
        "traits": {"name": "Rudder Usr", "category": "SampleIdentify", "email": "test@rudderstack.com",
                   "plan": "Paid", "logins": 5},
        "userAgent": CHROME_86,
        "locale": "en-GB",
        "page": {"path": "/Rectified.html", "referrer": "http://localhost:1112/",
                 "url": "http://localhost:1112/Rectified.html", "loaded": "40"},
        "userID": "user@2345",
    },
    "type": "track",
    "messageId": "07cde5-9ad9-4a79-af51-f71bc9ed71",
    "originalTimestamp": "2022-08-12T13:21:09.712Z",
    "anonymousId": "a4753d-c7d3-40ca-88dc-a1bbe997e8",
    "userId": "uid-1234",
    "event": "card checkout",
    "properties": {"path": "path", "referrer": "referrer", "search": "search", "title": "title",
                   "url": "url", "total": 1009, "viewport_height": "173", "viewport_width": "969"},
    "integrations": {"All": True},
    "sentAt": "2022-08-12T13:21:09.712Z",
}
VIEWPORT_TRACK_BODY = {
    "messageId": "07cde5-9ad9-4a79-af51-f71bc9ed71",
    "distinct_id": "uid-1234",
    "properties": {
        "$set": VIEWPORT_TRACK["context"]["traits"],  # type: ignore[index]
        "$os": "Mac OS", "url": "url", "path": "path", "$host": "localhost:1112",
        "$time": "2022-08-12T13:21:09.712Z", "$timestamp": "2022-08-12T13:21:09.712Z", "title": "title",
        "total": 1009, "search": "search", "$locale": "en-GB", "$browser": "Chrome",
        "referrer": "referrer", "$pathname": "/Rectified.html", "$useragent": CHROME_86,
        "distinct_id": "uid-1234", "$current_url": "http://localhost:1112/Rectified.html",
        "$viewport_width": "969", "$browser_version": "86.0.4240.111", "$viewport_height": "173",
        "$anon_distinct_id": "a4753d-c7d3-40ca-88dc-a1bbe997e8", "$performance_page_loaded": "40",
        "viewport_height": "173", "viewport_width": "969",
    },
    "event": "card checkout",
    "timestamp": "2022-08-12T13:21:09.712Z",
    "type": "capture",
}


# --- helpers ------------------------------------------------------------------------------------


def _job(message: Any, config: dict[str, Any] | None = None, metadata: Any = META,
         dest_id: str | None = None) -> pb.Job:
    destination: dict[str, Any] = {"Config": {"teamApiKey": KEY} if config is None else config}
    if dest_id is not None:
        destination["ID"] = dest_id
    return _support.job(message, metadata, destination)


def process(message: Any, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """The one processor result for one event, in the reference's JSON shape."""
    [result] = _support.transform("posthog", [_job(message, config)])
    return result


def body(message: Any, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON body PostHog receives for one event."""
    result = process(message, config)
    assert result["statusCode"] == 200, result.get("error")
    payload: dict[str, Any] = result["output"]["body"]["JSON"]
    return payload


def error(message: Any, config: dict[str, Any] | None = None) -> str:
    """The error message of one rejected event (asserting it is an instrumentation error)."""
    result = process(message, config)
    assert result["statusCode"] == 400
    assert result["statTags"]["errorType"] == "instrumentation"
    message_text: str = result["error"]
    return message_text


def route(jobs: list[pb.Job]) -> list[dict[str, Any]]:
    return _support.route("posthog", jobs)


def track(n: int, **extra: Any) -> dict[str, Any]:
    return {"type": "track", "event": f"Event {n}", "userId": f"uid-{n}", "messageId": f"m-{n}",
            "timestamp": TS, **extra}


# --- the reference's processor cases missing from the conformance sample -------------------------


def test_reference_alias_call() -> None:
    """Alias: no top-level distinct_id; properties get distinct_id and alias after the generated ones."""
    result = process(ALIAS, {"teamApiKey": KEY, "yourInstance": "https://app.posthog.com/"})
    assert result == {
        "statusCode": 200,
        "output": {
            "version": "1", "type": "REST", "method": "POST", "endpoint": "https://app.posthog.com/batch",
            "headers": {"Content-Type": "application/json"}, "params": {},
            "body": {"JSON": {**ALIAS_BODY, "api_key": KEY}, "JSON_ARRAY": {}, "XML": {}, "FORM": {}},
            "files": {}, "userId": "",
        },
        "metadata": META,
    }


def test_reference_mobile_track_call() -> None:
    """Track without yourInstance: the default host, device properties, then the event's properties."""
    properties = {"additional_bet_index": 0, "battle_id": "N/A", "coin_balance": 9466052,
                  "fb_profile": "0", "isLowEndDevice": "False", "start_date": "2019-08-01"}
    message = {"anonymousId": "c82cbdff-e5be-4009-ac78-cdeea09ab4b1", "event": "Product Brought",
               "context": MOBILE_CONTEXT, "type": "track", "properties": properties, "timestamp": TS,
               "userId": "uid-2", "messageId": "e4408cb8-16dd-41e9-a313-a7a9cdc4bac5"}
    result = process(message)
    assert result["output"]["endpoint"] == "https://app.posthog.com/batch"
    assert result["output"]["body"]["JSON"] == {
        "distinct_id": "uid-2",
        "event": "Product Brought",
        "messageId": "e4408cb8-16dd-41e9-a313-a7a9cdc4bac5",
        "properties": {
            **MOBILE_PROPERTIES, "$anon_distinct_id": "c82cbdff-e5be-4009-ac78-cdeea09ab4b1",
            "distinct_id": "uid-2", **MOBILE_DEVICE_PROPERTIES, "$device_name": "xiaomi",
            "$network_carrier": "Banglalink", "$device_model": "Redmi 6", **properties,
        },
        "timestamp": TS,
        "api_key": KEY,
        "type": "capture",
    }


def test_reference_identify_call() -> None:
    """Identify: traits go to a top-level $set, properties have no $set, mobile agents are not parsed."""
    assert body(IDENTIFY) == {**IDENTIFY_BODY, "api_key": KEY}


def test_reference_track_with_numeric_user_id() -> None:
    """A numeric userId is sent as a string, at the top level and in properties."""
    message = {**VIEWPORT_TRACK, "userId": 123}
    payload = body(message)
    assert payload["distinct_id"] == "123"
    assert payload["properties"]["distinct_id"] == "123"


def test_reference_group_call_without_v2_groups() -> None:
    """useV2Group false: groupId and traits (with groupType) at the top level, no $group_ properties."""
    config = {"teamApiKey": KEY, "yourInstance": "https://app.posthog.com/", "useV2Group": False}
    assert body(GROUP, config) == {**GROUP_OLD_BODY, "api_key": KEY}


def test_reference_track_with_viewport_and_page_load() -> None:
    """properties.viewport_* and context.page.loaded become $viewport_* and $performance_page_loaded."""
    assert body(VIEWPORT_TRACK) == {**VIEWPORT_TRACK_BODY, "api_key": KEY}


# --- processor rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(("instance", "endpoint"), [
    ("https://eu.posthog.com", "https://eu.posthog.com/batch"),
    ("https://eu.posthog.com/", "https://eu.posthog.com/batch"),
    ("https://x.com//", "https://x.com//batch"),
    ("", "https://app.posthog.com/batch"),
    ("/", "https://app.posthog.com/batch"),
    (None, "https://app.posthog.com/batch"),
])
def test_endpoint_strips_one_trailing_slash(instance: str | None,
                                            endpoint: str) -> None:
    """yourInstance loses one trailing slash; empty (or "/") means app.posthog.com."""
    config: dict[str, Any] = {"teamApiKey": KEY}
    if instance is not None:
        config["yourInstance"] = instance
    assert process(ALIAS, config)["output"]["endpoint"] == endpoint


@pytest.mark.parametrize(("message", "text"), [
    ({"userId": "u"}, "Event type is required"),
    ({"type": "", "userId": "u"}, "Event type is required"),
    ({"type": "Reset", "userId": "u"}, "Event type Reset is not supported"),
    ({"type": "track", "event": "e", "messageId": "m"}, 'Missing required value from "userId"'),
    ({"type": "track"}, 'Missing required value from "userId"'),  # userId is checked first
    ({"type": "track", "anonymousId": "a", "messageId": "m"}, 'Missing required value from "event"'),
    ({"type": "track", "anonymousId": "a", "event": "e"}, 'Missing required value from "messageId"'),
    ({"type": "identify", "userId": "u", "messageId": "m"}, 'Missing required value from "traits"'),
    ({"type": "identify", "userId": "u", "traits": {}}, 'Missing required value from "messageId"'),
    ({"type": "alias", "userId": "u"}, 'Missing required value from "previousId"'),
    ({"type": "alias", "previousId": "p"}, 'Missing required value from "userId"'),
    ({"type": "page", "context": {"traits": {"name": "n"}}}, 'Missing required value from "userId"'),
    ({"type": "group", "groupId": "g"}, 'Missing required value from "userId"'),
])
def test_processor_errors(message: dict[str, Any], text: str) -> None:
    """Bad events are 400 instrumentation errors worded as the reference words them."""
    assert error(message) == text


def test_error_stat_tags() -> None:
    """An error carries the reference's statTags, with the job's destination and workspace ids."""
    result = process({"type": "track"})
    assert result["statTags"] == {
        "errorCategory": "dataValidation", "errorType": "instrumentation", "destType": "POSTHOG",
        "module": "destination", "implementation": "native", "feature": "processor",
        "destinationId": "dest-1", "workspaceId": "ws-1",
    }


def test_type_case_is_ignored_but_screen_name_needs_lower_case() -> None:
    """"SCREEN" maps as a screen, but only type "screen" adds $screen_name."""
    message = {"type": "screen", "userId": "u", "event": "Home", "properties": {"name": "Home"}}
    assert body(message)["properties"] == {
        "distinct_id": "u", "$screen_name": "Home", "name": "Home"}
    upper = body({**message, "type": "SCREEN"})
    assert upper["event"] == "$screen"
    assert upper["type"] == "screen"
    assert "$screen_name" not in upper["properties"]


def test_page_call() -> None:
    """Page: name and category at the top level, $pageview, properties.timestamp as the fallback."""
    message = {"type": "page", "anonymousId": "a", "name": "Home", "category": "Docs",
               "messageId": "m", "properties": {"timestamp": "2021-01-01", "path": "/x"},
               "context": {"page": {"url": "https://Example.COM:443/x?y=1"}}}
    assert body(message) == {
        "properties": {"$current_url": "https://Example.COM:443/x?y=1", "$anon_distinct_id": "a",
                       "distinct_id": "a", "$host": "example.com", "timestamp": "2021-01-01",
                       "path": "/x"},
        "timestamp": "2021-01-01", "category": "Docs", "distinct_id": "a", "name": "Home",
        "messageId": "m", "event": "$pageview", "api_key": KEY, "type": "page",
    }


def test_timestamp_prefers_the_event_then_falls_back_to_properties() -> None:
    """timestamp, else originalTimestamp, else properties.timestamp (even 0); null is no value."""
    base = {"type": "track", "userId": "u", "event": "e", "messageId": "m"}
    assert body({**base, "originalTimestamp": "OT", "properties": {"timestamp": "P"}})[
        "timestamp"] == "OT"
    assert body({**base, "properties": {"timestamp": 0}})["timestamp"] == 0
    assert "timestamp" not in body({**base, "properties": {"timestamp": None}})


def test_web_events_take_browser_and_os_from_the_user_agent() -> None:
    """On channel "web" the user agent's OS replaces context.os.name; "Web" is not web."""
    context = {"userAgent": CHROME_86, "os": {"name": "Linux"}}
    web = body({**track(1), "channel": "web", "context": context})["properties"]
    assert (web["$os"], web["$browser"], web["$browser_version"]) == ("Mac OS", "Chrome", "86.0.4240.111")
    other = body({**track(1), "channel": "Web", "context": context})["properties"]
    assert other["$os"] == "Linux"
    assert "$browser" not in other


def test_web_user_agent_without_os_sends_the_event_as_os() -> None:
    """The reference's quirk: an agent with no recognisable OS puts the whole event in $os."""
    message = {**track(1), "channel": "web", "context": {"userAgent": "PostmanRuntime/7.26.8"}}
    properties = body(message)["properties"]
    assert properties["$os"] == message
    assert "$browser" not in properties


@pytest.mark.parametrize(("url", "host"), [
    ("http://localhost:1112/Rectified.html", "localhost:1112"),
    ("https://bücher.de/x", "xn--bcher-kva.de"),
    ("http://[::1]:8080/x", "[::1]:8080"),
    ("http://x.com:80/", "x.com"),
    ("mailto:a@b.com", ""),
    ("localhost:1112", ""),
    ("file:///tmp/x", ""),
    ("url", None),
    ("http://a b.com/", None),
])
def test_host_is_the_page_urls_host(url: str, host: str | None) -> None:
    """$host is JavaScript's URL host: "" kept for URLs without one, absent for unparseable ones."""
    properties = body({**track(1), "context": {"page": {"url": url}}})["properties"]
    assert properties.get("$host", None) == host


def test_message_properties_override_generated_ones() -> None:
    """The event's own properties win, and a numeric properties.distinct_id becomes a string."""
    message = {**track(1), "context": {"ip": "1.1.1.1", "traits": {"a": 1}},
               "properties": {"distinct_id": 5, "$set": {"b": 2}, "$ip": "2.2.2.2"}}
    assert body(message)["properties"] == {"$set": {"b": 2}, "$ip": "2.2.2.2",
                                                     "$time": TS, "$timestamp": TS, "distinct_id": "5"}


def test_present_values_include_zero_and_false() -> None:
    """0 and false are sent, "" and null are not; request_ip stands in for context.ip."""
    message = {**track(1), "userId": False, "anonymousId": "a", "request_ip": "9.9.9.9",
               "context": {"ip": "", "screen": {"width": 0, "height": ""}, "device": {"id": False},
                           "os": {"name": None}}}
    payload = body(message)
    assert payload["distinct_id"] == "false"
    assert payload["properties"] == {"$screen_width": 0, "$time": TS, "$device_id": False,
                                     "$ip": "9.9.9.9", "$timestamp": TS, "$anon_distinct_id": "a",
                                     "distinct_id": "false"}


def test_identify_with_nothing_to_generate_still_has_properties() -> None:
    """properties is always sent, empty when nothing generates one."""
    message = {"type": "identify", "traits": {"id": 7}, "messageId": "m"}
    assert body(message) == {"distinct_id": "7", "messageId": "m", "$set": {"id": 7},
                                       "event": "$identify", "api_key": KEY, "type": "identify",
                                       "properties": {}}


def test_v2_group_maps_group_analytics_properties() -> None:
    """useV2Group: $group_key, $group_set without groupType, $group_type, and $groups."""
    config = {"teamApiKey": KEY, "useV2Group": True}
    payload = body(GROUP, config)
    assert set(payload) == {"distinct_id", "messageId", "properties", "event", "api_key", "type"}
    without_type = {k: v for k, v in GROUP_TRAITS.items() if k != "groupType"}
    assert payload["properties"] == {**GROUP_PROPERTIES, "$group_key": "Sample_groupId27",
                                     "$group_set": without_type, "$group_type": "company",
                                     "$groups": {"company": "Sample_groupId27"}}


def test_v2_group_is_on_for_any_truthy_setting() -> None:
    """useV2Group "false" (a non-empty string) switches V2 groups on, as in JavaScript."""
    message = {"type": "group", "userId": "u", "traits": {"groupType": 5, "groupId": "g"}}
    payload = body(message, {"teamApiKey": KEY, "useV2Group": "false"})
    assert payload["properties"]["$groups"] == {"5": "g"}  # traits.groupId is a groupId too
    assert payload["properties"]["$group_set"] == {"groupId": "g"}


def test_v2_group_without_message_traits() -> None:
    """context.traits are not group traits: no $group_set, $group_type or $groups."""
    message = {"type": "group", "userId": "u", "groupId": "g", "context": {"traits": {"groupType": "c"}}}
    properties = body(message, {"teamApiKey": KEY, "useV2Group": True})["properties"]
    assert properties == {"$set": {"groupType": "c"}, "distinct_id": "u", "$group_key": "g"}


def test_api_key_is_sent_as_configured() -> None:
    """No teamApiKey sends no api_key; an empty one is sent empty, as the reference does."""
    assert "api_key" not in body(ALIAS, {})
    assert body(ALIAS, {"teamApiKey": ""})["api_key"] == ""


def test_groupv2_type_maps_as_a_v2_group() -> None:
    """Type "groupv2" (any case) maps as a V2 group whatever useV2Group says; groupType leaves
    $group_set only when useV2Group is on. The router's schema rejects it."""
    message = {"type": "groupv2", "userId": "u", "groupId": "g", "traits": {"groupType": "org"}}
    properties = body(message)["properties"]
    assert properties["$groups"] == {"org": "g"}
    assert properties["$group_set"] == {"groupType": "org"}
    assert body(message, {"teamApiKey": KEY, "useV2Group": True})["properties"][
        "$group_set"] == {}
    assert body({**message, "type": "GroupV2"})["type"] == "group"
    [routed] = route([_job(message)])
    assert routed["error"].startswith("message.type: Invalid enum value.")


def test_the_message_is_not_changed() -> None:
    """Mapping a V2 group leaves the event's own traits alone."""
    message = copy.deepcopy(GROUP)
    body(message, {"teamApiKey": KEY, "useV2Group": True})
    assert message == GROUP


# --- router ---------------------------------------------------------------------------------------


def test_reference_router_alias_call() -> None:
    """A single alias becomes a batched request with endpointPath and the key in the wrapper."""
    metadata = {"jobId": 2, "userId": "u1"}
    config = {"teamApiKey": KEY, "yourInstance": "https://app.posthog.com/"}
    assert route([_job(ALIAS, config, metadata)]) == [{
        "batchedRequest": {
            "version": "1", "type": "REST", "method": "POST", "endpoint": "https://app.posthog.com/batch",
            "endpointPath": "/batch", "headers": {"Content-Type": "application/json"}, "params": {},
            "body": {"JSON": {"api_key": KEY, "batch": [ALIAS_BODY]}, "JSON_ARRAY": {}, "XML": {},
                     "FORM": {}},
            "files": {},
        },
        "metadata": [metadata],
        "batched": True,
        "statusCode": 200,
        "destination": {"Config": config},
    }]


def test_reference_router_batches_tracks_together() -> None:
    """Events of one destination share one request, in order, without api_key in the items."""
    results = route([_job(track(1), metadata={"jobId": 1}),
                               _job(track(2), metadata={"jobId": 2})])
    assert len(results) == 1
    request = results[0]["batchedRequest"]
    assert [item["event"] for item in request["body"]["JSON"]["batch"]] == ["Event 1", "Event 2"]
    assert all("api_key" not in item for item in request["body"]["JSON"]["batch"])
    assert request["body"]["JSON"]["api_key"] == KEY
    assert results[0]["metadata"] == [{"jobId": 1}, {"jobId": 2}]


NO_IDS = {"event": "Test Event", "context": {"ip": "1.2.3.4"}, "type": "track", "properties": {},
          "timestamp": "2024-01-01T00:00:00.000Z", "messageId": "msg-1"}
NO_IDS_META = {"jobId": 1, "destinationId": "dest-1", "workspaceId": "ws-bf-test"}


def test_reference_router_rejects_an_event_without_ids() -> None:
    """An event with neither userId nor anonymousId is a 400 instrumentation error for the router."""
    [result] = route([_job(NO_IDS, metadata=NO_IDS_META)])
    assert result["statusCode"] == 400
    assert result["batched"] is False
    assert result["statTags"] == {
        "errorCategory": "dataValidation", "errorType": "instrumentation", "destType": "POSTHOG",
        "module": "destination", "implementation": "native", "feature": "router",
        "destinationId": "dest-1", "workspaceId": "ws-bf-test"}


def test_reference_router_error_is_worded_by_its_input_schema() -> None:
    """The reference's router words that error as its input schema does."""
    [result] = route([_job(NO_IDS, metadata=NO_IDS_META)])
    assert result["error"] == "message: Either userId or anonymousId must be provided"


def test_router_rejects_what_only_the_processor_takes() -> None:
    """The reference's router rejects a missing key, a type the processor would lower-case, and
    events over 900 000 bytes (the batch item, without api_key)."""
    [no_key] = route([_job(track(1), {})])
    assert (no_key["statusCode"], no_key["error"], no_key["statTags"]["errorType"]) == (
        400, "destination.Config.teamApiKey: Required", "configuration")
    [upper] = route([_job({**track(1), "type": "Track"})])
    assert upper["error"].startswith("message.type: Invalid enum value.")
    assert body({**track(1), "type": "Track"})["event"] == "Event 1"  # the processor's
    item = body(track(1))
    del item["api_key"]
    fits = {**track(1), "properties": {"pad": "x" * (hooks.MAX_EVENT_BYTES - len(orjson.dumps(item))
                                                    - len(',"pad":""'))}}
    [ok] = route([_job(fits)])
    assert ok["statusCode"] == 200
    fits["properties"]["pad"] += "x"
    [big] = route([_job(fits)])
    assert (big["statusCode"], big["statTags"]["errorType"]) == (400, "instrumentation")
    assert big["error"].startswith(f"Event size ({hooks.MAX_EVENT_BYTES + 1} bytes) exceeds")


def test_router_orders_metadata_and_requests_by_job_id() -> None:
    """Items keep input order, metadata is sorted by jobId, requests by their smallest jobId."""
    results = route([
        _job(track(5), metadata={"jobId": 5}),
        _job(track(4), metadata={"jobId": 4, "dontBatch": True}),
        _job(track(3), metadata={"jobId": 3}),
        _job(track(1), metadata={"jobId": 1, "dontBatch": True}),
    ])
    assert [r["metadata"] for r in results] == [
        [{"jobId": 1, "dontBatch": True}], [{"jobId": 3}, {"jobId": 5}], [{"jobId": 4, "dontBatch": True}]]
    batches = [[item["event"] for item in r["batchedRequest"]["body"]["JSON"]["batch"]] for r in results]
    assert batches == [["Event 1"], ["Event 5", "Event 3"], ["Event 4"]]


def test_router_puts_errors_after_the_batches() -> None:
    """Failed events come after every request, each with its own metadata."""
    results = route([
        _job({"type": "track", "userId": "u"}, metadata={"jobId": 1}),
        _job(track(2), metadata={"jobId": 2}),
    ])
    assert [(r["statusCode"], r["metadata"]) for r in results] == [(200, [{"jobId": 2}]),
                                                                   (400, [{"jobId": 1}])]
    assert results[1]["error"] == 'Missing required value from "event"'


def test_router_keeps_destinations_apart() -> None:
    """Each destination gets its own request with its own key and endpoint."""
    other = {"teamApiKey": "other", "yourInstance": "https://eu.posthog.com"}
    results = route([_job(track(1), metadata={"jobId": 1}, dest_id="a"),
                               _job(track(2), other, metadata={"jobId": 2}, dest_id="b"),
                               _job(track(3), metadata={"jobId": 3}, dest_id="a")])
    assert [(r["batchedRequest"]["endpoint"], r["batchedRequest"]["body"]["JSON"]["api_key"],
             [m["jobId"] for m in r["metadata"]]) for r in results] == [
        ("https://app.posthog.com/batch", KEY, [1, 3]), ("https://eu.posthog.com/batch", "other", [2])]
    assert results[1]["destination"] == {"Config": other, "ID": "b"}


def _padded_tracks(paddings: list[int]) -> list[dict[str, Any]]:
    return [{**track(i), "properties": {"pad": "x" * padding}} for i, padding in enumerate(paddings)]


def _body_size(result: dict[str, Any]) -> int:
    return len(orjson.dumps(result["batchedRequest"]["body"]["JSON"]))


def _route_padded(paddings: list[int]) -> list[dict[str, Any]]:
    return route([_job(m, metadata={"jobId": i})
                            for i, m in enumerate(_padded_tracks(paddings))])


def test_router_splits_at_ten_megabytes() -> None:
    """A request body may be exactly 10 MB; one more byte starts a new request. (Every event is
    under the router's 900 000-byte limit, so it takes a dozen of them.)"""
    paddings = [880_000] * 11 + [0]
    [small] = _route_padded(paddings)
    paddings[-1] = hooks.MAX_BATCH_BYTES - _body_size(small)
    [full] = _route_padded(paddings)
    assert _body_size(full) == hooks.MAX_BATCH_BYTES
    paddings[-1] += 1
    over = _route_padded(paddings)
    assert [[m["jobId"] for m in r["metadata"]] for r in over] == [list(range(11)), [11]]
    assert all(_body_size(r) <= hooks.MAX_BATCH_BYTES for r in over)


# --- router-only checks ---------------------------------------------------------------------------


@pytest.mark.parametrize(("message", "config", "text", "kind"), [
    ({"type": "track"}, {"teamApiKey": KEY},
     "message: Either userId or anonymousId must be provided", "instrumentation"),
    ({"type": "track", "userId": "", "anonymousId": 0}, {"teamApiKey": KEY},
     "message: Either userId or anonymousId must be provided", "instrumentation"),
    ({"userId": "u"}, {}, "message.type: Required; destination.Config.teamApiKey: Required",
     "instrumentation"),
    ({"type": "Track", "userId": "u"}, {"teamApiKey": KEY},
     "message.type: Invalid enum value. Expected 'track' | 'page' | 'screen' | 'identify' | 'alias' | "
     "'group', received 'Track'", "instrumentation"),
    ({"type": None, "userId": "u"}, {"teamApiKey": KEY},
     "message.type: Expected 'track' | 'page' | 'screen' | 'identify' | 'alias' | 'group', received null",
     "instrumentation"),
    ({"type": "track", "userId": True, "anonymousId": {}}, {"teamApiKey": KEY},
     "message.userId: Invalid input; message.anonymousId: Invalid input", "instrumentation"),
    ({"type": "track", "userId": "u"}, {"teamApiKey": ""},
     "destination.Config.teamApiKey: String must contain at least 1 character(s)", "configuration"),
    ({"type": "track", "userId": "u"}, {"teamApiKey": 5, "useV2Group": "yes", "yourInstance": None},
     "destination.Config.teamApiKey: Expected string, received number; destination.Config.useV2Group: "
     "Expected boolean, received string; destination.Config.yourInstance: Expected string, received null",
     "configuration"),
])
def test_router_input_error(message: dict[str, Any], config: dict[str, Any], text: str, kind: str) -> None:
    """The router input check words its problems as the reference's schema does."""
    problem = hooks.router_input_error(message, {"Config": config})
    assert problem is not None
    assert (problem.message, problem.error_type) == (text, kind)


def test_router_input_error_accepts_valid_jobs() -> None:
    """A valid router job has no input problem."""
    assert hooks.router_input_error({"type": "group", "anonymousId": 0, "userId": 7},
                                    {"Config": {"teamApiKey": KEY, "useV2Group": True}}) is None
    assert hooks.router_input_error({"type": "track", "userId": "u"}, {}) is not None


def test_event_size_error() -> None:
    """Items up to 900 000 bytes of JSON pass; bigger ones get the reference's message."""
    item = {"pad": ""}
    item["pad"] = "x" * (hooks.MAX_EVENT_BYTES - len(orjson.dumps(item)))
    assert hooks.event_size_error(item) is None
    item["pad"] += "x"
    problem = hooks.event_size_error(item)
    assert problem is not None
    assert problem.message.startswith("Event size (900001 bytes) exceeds PostHog's 1 MB limit.")
