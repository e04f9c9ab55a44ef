"""CleverTap: the reference cases our conformance sample lacks, its JavaScript edge rules, router batching."""

from __future__ import annotations

from typing import Any

import pytest

from . import _support

ENDPOINT = "https://api.clevertap.com/1/upload"
CONFIG = {"passcode": "sample_passcode", "accountId": "476550467", "trackAnonymous": True,
          "enableObjectIdMapping": False}
OBJECT_IDS = {**CONFIG, "enableObjectIdMapping": True}
HEADERS = {"X-CleverTap-Account-Id": "476550467", "X-CleverTap-Passcode": "sample_passcode",
           "Content-Type": "application/json"}
META = {"jobId": 1, "destinationId": "d1", "workspaceId": "w1"}

TRAITS = {
    "anonymousId": "anon_id", "email": "jamesDoe@gmail.com", "name": "James Doe",
    "phone": "92374162212", "gender": "M", "employed": True, "birthday": "1614775793",
    "education": "Science", "graduate": True, "married": True, "customerType": "Prime",
    "msg_push": True, "custom_tags": ["Test_User", "Interested_User"],
    "address": {"city": "kolkata", "postalCode": 789223, "street": ""},
}
PROFILE = {
    "Email": "jamesDoe@gmail.com", "Name": "James Doe", "Phone": "92374162212", "Gender": "M",
    "Employed": True, "DOB": "1614775793", "Education": "Science", "Married": True,
    "Customer Type": "Prime", "graduate": True, "msg_push": True,
    "custom_tags": '["Test_User","Interested_User"]',
    "address": '{"city":"kolkata","postalCode":789223,"street":""}',
}
MOBILE: dict[str, Any] = {
    "type": "identify", "userId": "useran4", "anonymousId": "f54bb572361c4fd1",
    "context": {"os": {"name": "Android", "version": "10"},
                "device": {"id": "f54bb572361c4fd1", "token": "frfsgvrwe:APfdsafsg"},
                "traits": {"id": "useran4", "email": "tony4an@testmail.com", "phone": "4444457700",
                           "userId": "useran4", "lastname": "Stark", "firstname": "Tony4AN",
                           "anonymousId": "f54bb572361c4fd1"}},
}
MOBILE_PROFILE = {"type": "profile",
                  "profileData": {"Email": "tony4an@testmail.com", "Phone": "4444457700",
                                  "Name": "Tony4AN Stark", "identity": "useran4"},
                  "objectId": "f54bb572361c4fd1"}


def destination(config: dict[str, Any] | None = None, dest_id: str = "d1") -> dict[str, Any]:
    return {"ID": dest_id, "Config": CONFIG if config is None else config,
            "DestinationDefinition": {"Name": "CLEVERTAP"}}


def process(message: dict[str, Any], config: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return _support.transform("clevertap", [_support.job(message, META, destination(config))])


def records(message: dict[str, Any], config: dict[str, Any] | None = None) -> list[Any]:
    """The upload records of each request one event sends."""
    results = process(message, config)
    for result in results:
        assert result["statusCode"] == 200, result
        assert result["output"]["endpoint"] == ENDPOINT
    return [result["output"]["body"]["JSON"]["d"][0] for result in results]


def record(message: dict[str, Any], config: dict[str, Any] | None = None) -> Any:
    [only] = records(message, config)
    return only


def error(message: dict[str, Any], config: dict[str, Any] | None = None) -> str:
    [result] = process(message, config)
    assert result["statusCode"] == 400, result
    assert result["statTags"]["errorType"] == "instrumentation"
    text: str = result["error"]
    return text


# --- the reference's cases ----------------------------------------------------------------------


def test_reference_identify_with_anonymous_id_only() -> None:
    """Test 1: the identity falls back to the anonymousId; objects and arrays are JSON strings."""
    message = {"type": "identify", "anonymousId": "anon_id", "traits": TRAITS}
    [result] = process(message)
    assert result["output"] == {
        "version": "1", "type": "REST", "method": "POST", "endpoint": ENDPOINT,
        "headers": HEADERS, "params": {},
        "body": {"JSON": {"d": [{"type": "profile", "profileData": PROFILE,
                                 "identity": "anon_id"}]},
                 "JSON_ARRAY": {}, "XML": {}, "FORM": {}},
        "files": {}, "userId": "",
    }


def test_reference_track_event() -> None:
    """Test 4: a track event's properties are its evtData."""
    message = {"type": "track", "userId": "user123", "event": "Product Purchased",
               "properties": {"name": "Rubik's Cube", "revenue": 4.99}}
    assert record(message) == {"evtName": "Product Purchased",
                               "evtData": {"name": "Rubik's Cube", "revenue": 4.99},
                               "type": "event", "identity": "user123"}


def test_reference_unsupported_type() -> None:
    """Test 6: an unknown type is rejected in the reference's words."""
    assert error({"type": "Rndm", "userId": "u"}) == "Message type not supported"


def test_reference_track_with_object_ids_and_a_user_id() -> None:
    """Test 14: with objectId mapping and no anonymousId, the userId is the identity."""
    message = {"type": "track", "event": "Random 2", "userId": "ankur4",
               "properties": {"country_region": "India", "test": "abc"}}
    assert record(message, OBJECT_IDS) == {
        "evtName": "Random 2", "evtData": {"country_region": "India", "test": "abc"},
        "type": "event", "identity": "ankur4"}


def test_reference_identify_ts_is_epoch_seconds() -> None:
    """Test 15: a date string in traits.ts becomes epoch seconds."""
    message = {"type": "identify", "anonymousId": "anon_id",
               "traits": {**TRAITS, "ts": "2021-03-10T11:59:22.080Z"}}
    assert record(message) == {"type": "profile", "profileData": PROFILE, "ts": 1615377562,
                               "identity": "anon_id"}


def test_reference_alias() -> None:
    """Test 17: an alias links previousId to the userId; a numeric ts is sent as it is."""
    message = {"type": "alias", "userId": "newaddedid001", "previousId": "1122121",
               "context": {"traits": {"ts": 1468308340}}}
    assert record(message, OBJECT_IDS) == {"type": "profile",
                                           "profileData": {"identity": "newaddedid001"},
                                           "ts": 1468308340, "identity": "1122121"}


def test_reference_override_fields_in_traits() -> None:
    """Test 18: traits.overrideFields are added as they are, and first_name/last_name name the user."""
    message = {"type": "identify", "anonymousId": "anon_id",
               "traits": {"email": "johnDoe@gmail.com", "first_name": "John", "last_name": "Doe",
                          "overrideFields": {"first_name": "John", "last_name": "Doe",
                                             "tags": ["a"]}}}
    assert record(message)["profileData"] == {"Email": "johnDoe@gmail.com", "Name": "John Doe",
                                              "first_name": "John", "last_name": "Doe",
                                              "tags": ["a"]}


def test_reference_charged_products_must_be_an_array() -> None:
    """Test 20: Order Completed's products must be an array of objects."""
    message = {"type": "track", "event": "Order Completed", "userId": "riverjohn",
               "properties": {"revenue": 15, "products": {"sku": "G-32"}, "checkout_id": "12345"}}
    assert error(message) == "Products property value must be an array of objects"


def test_reference_track_without_any_id() -> None:
    """Test 21: with objectId mapping an event needs an anonymousId or a userId."""
    message = {"type": "track", "event": "Random", "properties": {"test": "abc"}}
    assert error(message, OBJECT_IDS) == "Unable to process without anonymousId or userId"


def test_reference_unknown_device_token_type_falls_back_to_the_os() -> None:
    """Test 23: a deviceTokenType CleverTap does not know is ignored."""
    message = {**MOBILE, "integrations": {"All": True, "clevertap": {"deviceTokenType": "random"}}}
    profile, token = records(message, OBJECT_IDS)
    assert profile == MOBILE_PROFILE
    assert token == {"type": "token", "tokenData": {"id": "frfsgvrwe:APfdsafsg", "type": "fcm"},
                     "objectId": "f54bb572361c4fd1"}


def test_reference_chrome_keys() -> None:
    """Test 25: chrome keys from the integrations object are the token's keys."""
    keys = {"p256dh": "BLc4xRzKlKORKWlbdgFaBrrPK3ydWAHo4M0gs0i1oEKgPpWC5cW8OCzVrOQRv"}
    message = {**MOBILE, "integrations": {"clevertap": {"deviceTokenType": "chrome",
                                                        "chromeKeys": keys}}}
    _, token = records(message, OBJECT_IDS)
    assert token["tokenData"] == {"id": "frfsgvrwe:APfdsafsg", "type": "chrome", "keys": keys}


def test_reference_router_batches_records_and_fails_unsupported_types() -> None:
    """simple router tests: one request for every record of the group, the group failure after it."""
    identify = {**MOBILE, "anonymousId": "anon_id", "context": {**MOBILE["context"],
                                                                "os": {"name": "Android"}}}
    track = {"type": "track", "event": "Random", "anonymousId": "cd3a4439",
             "properties": {"test": "abc"}}
    config = {"passcode": "dummypasscode", "accountId": "dummyAccountId", "trackAnonymous": True,
              "enableObjectIdMapping": True}
    other = {"passcode": "dummypasscode", "accountId": "dummyAccountId", "trackAnonymous": True}
    results = _support.route("clevertap", [
        _support.job(identify, {"jobId": 1, "userId": "u1"}, {"Config": config}),
        _support.job(track, {"jobId": 2, "userId": "u1"}, {"Config": config}),
        _support.job({"type": "group", "anonymousId": "anon-id-new"}, {"jobId": 3, "userId": "u1"},
                     {"Config": other}),
    ])
    assert [r["statusCode"] for r in results] == [200, 400]
    batched = results[0]
    assert batched["batched"] is False
    assert batched["metadata"] == [{"jobId": 1, "userId": "u1"}, {"jobId": 2, "userId": "u1"}]
    assert batched["batchedRequest"] == {
        "version": "1", "type": "REST", "method": "POST", "batched": True, "endpoint": ENDPOINT,
        "headers": {"X-CleverTap-Account-Id": "dummyAccountId",
                    "X-CleverTap-Passcode": "dummypasscode", "Content-Type": "application/json"},
        "params": {},
        "body": {"JSON": {"d": [
            {**MOBILE_PROFILE, "objectId": "anon_id"},
            {"type": "token", "tokenData": {"id": "frfsgvrwe:APfdsafsg", "type": "fcm"},
             "objectId": "anon_id"},
            {"evtName": "Random", "evtData": {"test": "abc"}, "type": "event",
             "objectId": "cd3a4439"},
        ]}, "JSON_ARRAY": {}, "XML": {}, "FORM": {}},
        "files": {},
    }
    assert results[1]["error"] == "Message type not supported"
    assert results[1]["statTags"]["feature"] == "router"


# --- the reference's JavaScript rules (checked against it) -----------------------------------------


def test_region_picks_the_regional_server() -> None:
    """Config.region other than "none" is the API host's prefix."""
    for region, endpoint in (("in1", "https://in1.api.clevertap.com/1/upload"),
                             ("none", ENDPOINT), ("", ENDPOINT)):
        [result] = process({"type": "track", "event": "e", "userId": "u"},
                           {**CONFIG, "region": region})
        assert result["output"]["endpoint"] == endpoint


def test_missing_credentials_leave_their_headers_out() -> None:
    """No config key is required; an unset accountId or passcode is not sent, a null one is."""
    [result] = process({"type": "track", "event": "e", "userId": "u"}, {"accountId": None})
    assert result["output"]["headers"] == {"X-CleverTap-Account-Id": None,
                                           "Content-Type": "application/json"}


def test_missing_type() -> None:
    """A message without a type is rejected in the reference's words."""
    assert error({"userId": "u"}) == "Message Type is not present. Aborting message."


def test_anonymous_events_need_track_anonymous() -> None:
    """Without trackAnonymous an event needs a userId (traits.id counts)."""
    config = {**CONFIG, "trackAnonymous": False}
    message = {"type": "page", "anonymousId": "a"}
    assert error(message, config) == "userId, not present cannot track anonymous user"
    assert record({"type": "track", "event": "e", "traits": {"id": 7}}, config)["identity"] == 7


def test_event_ts_date_strings_become_epoch_seconds_or_null() -> None:
    """properties.ts: numbers and numeric strings as they are, dates as seconds, others null."""
    def ts(value: Any) -> Any:
        return record({"type": "track", "event": "e", "userId": "u",
                       "properties": {"ts": value}}).get("ts", "absent")
    assert ts("2021-03-10T11:59:22Z") == 1615377562
    assert ts("1615377562") == "1615377562"
    assert ts(0) == 0
    assert ts("garbage") is None
    assert ts(None) == "absent"


def test_evt_data_keeps_nulls_and_stringifies_objects() -> None:
    """evtData: objects and arrays as JSON strings, nulls kept."""
    data = record({"type": "track", "event": "e", "userId": "u",
                   "properties": {"a": [1], "b": None, "c": {"d": 1.0}}})["evtData"]
    assert data == {"a": "[1]", "b": None, "c": '{"d":1}'}


def test_evt_data_edge_values() -> None:
    """properties "" is missing, absent properties are {}, a string is its characters."""
    assert error({"type": "page", "userId": "u", "properties": ""}) == \
        'Missing required value from "properties"'
    assert record({"type": "track", "event": "e", "userId": "u"})["evtData"] == {}
    assert record({"type": "track", "event": "e", "userId": "u",
                   "properties": "ab"})["evtData"] == {"0": "a", "1": "b"}
    assert error({"type": "track", "userId": "u"}) == 'Missing required value from "event"'


def test_page_and_screen_names_are_handlebars_rendered() -> None:
    """The name is HTML-escaped into the template and the result trimmed; no name: the bare title."""
    page = record({"type": "page", "userId": "u", "name": "  A & <b> ", "properties": {}})
    assert page["evtName"] == "Web Page Viewed:   A &amp; &lt;b&gt;"
    assert record({"type": "page", "userId": "u"})["evtName"] == "Web Page Viewed"
    screen = record({"type": "screen", "userId": "u", "properties": {"name": "S1"}})
    assert screen["evtName"] == "Screen Viewed: S1"


def test_order_completed_is_charged_for_every_event_type() -> None:
    """Any case of "order completed", on a page too, is the Charged event with the other properties."""
    message = {"type": "page", "userId": "u", "event": "ORDER COMPLETED",
               "properties": {"products": [{"a": 1}], "checkout_id": "c", "revenue": 3,
                              "x": {"y": 2}, "ts": ""}}
    assert record(message) == {"evtName": "Charged",
                               "evtData": {"Charged ID": "c", "Amount": 3, "Items": [{"a": 1}],
                                           "x": '{"y":2}'},
                               "ts": "", "type": "event", "identity": "u"}


@pytest.mark.parametrize("products", [[], "abc", 5, [1]])
def test_charged_items_must_be_objects(products: Any) -> None:
    """Items that are not an array of objects are rejected (a non-JSON string too: a 400, not the
    reference's crash)."""
    message = {"type": "track", "event": "order completed", "userId": "u",
               "properties": {"products": products}}
    assert error(message) == "Products property value must be an array of objects"


def test_charged_items_may_be_a_json_string() -> None:
    """A string holding a JSON array of objects is sent parsed."""
    message = {"type": "track", "event": "order completed", "userId": "u",
               "properties": {"products": '[{"a":1}]'}}
    assert record(message)["evtData"] == {"Items": [{"a": 1}]}


def test_custom_traits_keys_are_set_value_paths() -> None:
    """A trait "a.b" sets a.b (context.traits last), then objects are JSON strings."""
    message = {"type": "identify", "userId": "u",
               "traits": {"a.b": 1, "ts": "", "x": None, "Email": {"q": 1}},
               "context": {"traits": {"ts": None, "a.b": 2}}}
    assert record(message) == {"type": "profile",
                               "profileData": {"a": '{"b":2}', "Email": '{"q":1}'},
                               "ts": None, "identity": "u"}


def test_identify_without_ids_sends_a_null_identity() -> None:
    """An identify with neither userId nor anonymousId still goes, identity null."""
    assert record({"type": "identify", "traits": {}}) == {"type": "profile", "profileData": {},
                                                         "identity": None}


def test_gender_maps_to_f_or_m_only() -> None:
    """Gender values are F or M; anything else is left out."""
    assert record({"type": "identify", "userId": "u",
                   "traits": {"gender": "FEMALE"}})["profileData"] == {"Gender": "F"}
    assert record({"type": "identify", "userId": "u",
                   "traits": {"gender": "other"}})["profileData"] == {}


def test_object_ids_on_identify() -> None:
    """With objectId mapping: anonymousId as objectId (userId in profileData), else the userId."""
    assert record({"type": "identify", "anonymousId": "a", "traits": {"email": "e"}},
                  OBJECT_IDS) == {"type": "profile", "profileData": {"Email": "e"},
                                  "objectId": "a"}
    assert record({"type": "identify", "userId": "u"}, OBJECT_IDS) == {
        "type": "profile", "profileData": {}, "identity": "u"}
    assert record({"type": "identify", "traits": {"email": "e"}}, OBJECT_IDS) == {
        "type": "profile", "profileData": {"Email": "e"}}


def test_device_token_only_for_mobile_os() -> None:
    """A web identify sends no token request; an Apple OS defaults to apns."""
    web = {**MOBILE, "context": {**MOBILE["context"], "os": {"name": "Mac"}}}
    assert len(records(web, OBJECT_IDS)) == 1
    watch = {**MOBILE, "context": {**MOBILE["context"], "os": {"name": "watchOS"}}}
    assert records(watch, OBJECT_IDS)[1]["tokenData"]["type"] == "apns"


def test_device_token_cleans_empty_values() -> None:
    """Empty chrome keys and empty objects are left out of the token record."""
    message = {**MOBILE, "integrations": {"CleverTap": {"deviceTokenType": "wns",
                                                        "chromeKeys": {"x": []}}}}
    assert records(message, OBJECT_IDS)[1]["tokenData"] == {"id": "frfsgvrwe:APfdsafsg",
                                                            "type": "wns"}


def test_non_string_os_name_is_a_bad_event() -> None:
    """The reference crashes lower-casing a non-string os name; here it is a 400."""
    message = {"type": "identify", "userId": "u", "context": {"os": {"name": 5}}}
    assert error(message, OBJECT_IDS) == "context.os.name must be a string"


def test_alias_sends_nulls_as_they_are() -> None:
    """An alias without ids: profileData {} and identity null, as the reference sends them."""
    assert record({"type": "alias", "previousId": None}) == {"type": "profile", "profileData": {},
                                                            "identity": None}


# --- router ---------------------------------------------------------------------------------------


def _track(n: int) -> dict[str, Any]:
    return {"type": "track", "event": f"e{n}", "anonymousId": f"a{n}", "properties": {"n": n}}


def test_router_cuts_requests_at_a_thousand_records() -> None:
    """A job whose records would take a request over 1000 starts the next one."""
    jobs = [_support.job(_track(n), {"jobId": n}, destination(OBJECT_IDS)) for n in range(998)]
    jobs.append(_support.job(MOBILE, {"jobId": 998}, destination(OBJECT_IDS)))  # 1000 records
    jobs.append(_support.job(MOBILE, {"jobId": 999}, destination(OBJECT_IDS)))
    results = _support.route("clevertap", jobs)
    assert [len(r["batchedRequest"]["body"]["JSON"]["d"]) for r in results] == [1000, 2]
    assert [len(r["metadata"]) for r in results] == [999, 1]
    assert results[1]["metadata"] == [{"jobId": 999}]


def test_router_keeps_destinations_apart() -> None:
    """Each destination gets its own requests, with its own endpoint."""
    eu = destination({**CONFIG, "region": "eu1"}, "d2")
    results = _support.route("clevertap", [
        _support.job(_track(1), {"jobId": 1}, destination()),
        _support.job(_track(2), {"jobId": 2}, eu),
        _support.job(_track(3), {"jobId": 3}, destination()),
    ])
    assert [r["metadata"] for r in results] == [[{"jobId": 1}, {"jobId": 3}], [{"jobId": 2}]]
    assert results[1]["batchedRequest"]["endpoint"] == "https://eu1.api.clevertap.com/1/upload"
