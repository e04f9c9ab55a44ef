"""Mailchimp: the reference cases our sample lacks (network-free), JavaScript edge rules, router batching."""

from __future__ import annotations

from typing import Any

import pytest

from . import _support

CONFIG = {"apiKey": "i42", "audienceId": "aud111", "datacenterId": "usXX"}
MERGE = {**CONFIG, "enableMergeFields": True}
AUTH = {"Content-Type": "application/json", "Authorization": "Basic YXBpS2V5Omk0Mg=="}
MEMBER = "https://usXX.api.mailchimp.com/3.0/lists/aud111/members/48cd6232dc124497369f59c33d3eb4ab"
EMAIL = "bob.dole@initech.com"
META = {"jobId": 1, "destinationId": "d1", "workspaceId": "w1"}
RETL = {"mappedToDestination": "true",
        "externalId": [{"id": "emrichardson820+22822@gmail.com", "type": "MAILCHIMP-92e1f1ad2c",
                        "identifierType": "email_address"}]}


def destination(config: dict[str, Any] | None = None, dest_id: str = "d1") -> dict[str, Any]:
    return {"ID": dest_id, "Config": CONFIG if config is None else config,
            "DestinationDefinition": {"Name": "MC"}}


def process(message: dict[str, Any], config: dict[str, Any] | None = None) -> dict[str, Any]:
    [result] = _support.transform("mailchimp", [_support.job(message, META, destination(config))])
    return result


def output(message: dict[str, Any], config: dict[str, Any] | None = None) -> Any:
    return _support.output(process(message, config))


def error(message: dict[str, Any], config: dict[str, Any] | None = None,
          kind: str = "instrumentation") -> str:
    result = process(message, config)
    assert result["statusCode"] == 400, result
    assert result["statTags"]["errorType"] == kind
    text: str = result["error"]
    return text


def track(**extra: Any) -> dict[str, Any]:
    return {"type": "track", "userId": "userId12345", "anonymousId": "userId12345",
            "context": {"traits": {"anonymousId": "userId12345", "email": EMAIL}},
            "timestamp": "2019-11-15T15:56:53+05:30", "event": "local testing", **extra}


def identify(traits: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "identify", "userId": "userId12345", "anonymousId": "userId12345",
            "context": {"traits": traits}, "timestamp": "2019-11-15T15:52:32+05:30", **extra}


# --- the reference's cases ----------------------------------------------------------------------


def test_reference_track_without_event() -> None:
    """Test 17: a track needs an event."""
    message = track(properties={"brand": "Aster", "isSyncing": False})
    del message["event"]
    assert error(message) == 'Missing required value from "event"'


def test_reference_track_without_properties() -> None:
    """Test 18: a track without properties sends its name and time only."""
    assert output(track()) == {
        "version": "1", "type": "REST", "method": "POST", "endpoint": MEMBER + "/events",
        "headers": AUTH, "params": {},
        "body": {"JSON": {"name": "local_testing", "occurred_at": "2019-11-15T10:26:53+00:00"},
                 "XML": {}, "JSON_ARRAY": {}, "FORM": {}},
        "files": {}, "audienceId": "aud111", "userId": "",
    }


def test_reference_track_properties_are_strings() -> None:
    """Test 19: property values go as strings (JSON for the others), isSyncing as is_syncing."""
    properties = {"brand": "Aster", "isSyncing": False, "purchased": False,
                  "products": [{"product_id": "123", "price": "14"}, {"price": 14}]}
    assert output(track(properties=properties))["body"]["JSON"] == {
        "name": "local_testing", "occurred_at": "2019-11-15T10:26:53+00:00", "is_syncing": False,
        "properties": {"brand": "Aster", "purchased": "false",
                       "products": '[{"product_id":"123","price":"14"},{"price":14}]'},
    }


@pytest.mark.parametrize("event", ["E", "Event Name more than 30 characters abcdefghijklmno",
                                   "\U0001F600" * 16])
def test_reference_event_name_length(event: str) -> None:
    """Tests 21, 22: the name has 2 to 30 characters (counted in UTF-16 units)."""
    assert error(track(event=event)) == "Event name should be between 2 and 30 characters"


def test_reference_identify_with_merge_fields() -> None:
    """Test 0 (network-free): merge fields with an address, a MM/DD birthday and the other traits."""
    traits = {"anonymousId": "userId12345", "email": EMAIL, "firstName": "Bob",
              "lastName": "Dole", "zip": "123", "state": "test", "city": "test",
              "addressLine1": "test", "birthday": "2000-05-06"}
    assert output(identify(traits), MERGE) == {
        "version": "1", "type": "REST", "method": "PUT", "endpoint": MEMBER, "headers": AUTH,
        "params": {},
        "body": {"JSON": {"merge_fields": {"ADDRESS": {"addr1": "test", "city": "test",
                                                       "state": "test", "zip": "123"},
                                           "FNAME": "Bob", "LNAME": "Dole",
                                           "ANONYMOUSI": "userId12345", "BIRTHDAY": "05/06"},
                          "email_address": EMAIL, "status": "subscribed"},
                 "XML": {}, "JSON_ARRAY": {}, "FORM": {}},
        "files": {}, "audienceId": "aud111", "userId": "",
    }


def test_reference_identify_status_from_integrations() -> None:
    """Tests 1, 9 (network-free): integrations.MailChimp.subscriptionStatus is the status."""
    message = identify({"anonymousId": "userId12345", "email": EMAIL},
                       integrations={"MailChimp": {"subscriptionStatus": "unsubscribed"}})
    assert output(message)["body"]["JSON"] == {"email_address": EMAIL, "status": "unsubscribed"}
    assert output(message, MERGE)["body"]["JSON"]["merge_fields"] == {"ANONYMOUSI": "userId12345"}


def test_reference_identify_without_merge_fields() -> None:
    """Tests 7, 8 (network-free): without enableMergeFields only the email and the status."""
    assert output(identify({"email": "jhon@gmail.com"}), {**CONFIG, "audienceId": "aud112"}) == {
        "version": "1", "type": "REST", "method": "PUT",
        "endpoint": "https://usXX.api.mailchimp.com/3.0/lists/aud112/members/"
                    "7f3863b197eeff650876bb89eca08e57",
        "headers": AUTH, "params": {},
        "body": {"JSON": {"email_address": "jhon@gmail.com", "status": "subscribed"},
                 "XML": {}, "JSON_ARRAY": {}, "FORM": {}},
        "files": {}, "audienceId": "aud112", "userId": "",
    }


def test_reference_router_batches_members_and_sends_events_alone() -> None:
    """Router Test 0 (network-free): members batched, events one by one, failures last."""
    config = {"apiKey": "i43", "audienceId": "aud111", "datacenterId": "usXX",
              "enableMergeFields": True}
    dest = destination(config)
    full = {"anonymousId": "userId12345", "email": EMAIL, "firstName": "Bob", "lastName": "Dole"}
    short = {"anonymousId": "userId12345", "email": EMAIL}
    jobs = [
        _support.job(identify(full), {"jobId": 2}, dest),
        _support.job(identify(short, integrations={"MailChimp": {"subscriptionStatus": "subscribed"}}),
                     {"jobId": 3}, dest),
        _support.job(identify(short, integrations={"MailChimp": {"subscriptionStatus": "subscrib"}}),
                     {"jobId": 4}, dest),
        _support.job(track(properties={"brand": "Aster"}), {"jobId": 5}, dest),
        _support.job({**track(), "event": None}, {"jobId": 6}, dest),
    ]
    results = _support.route("mailchimp", jobs)
    assert [(r["metadata"], r["batched"], r["statusCode"]) for r in results] == [
        ([{"jobId": 2}, {"jobId": 3}], True, 200), ([{"jobId": 5}], False, 200),
        ([{"jobId": 4}], False, 400), ([{"jobId": 6}], False, 400)]
    assert results[0]["batchedRequest"] == {
        "version": "1", "type": "REST", "method": "POST",
        "endpoint": "https://usXX.api.mailchimp.com/3.0/lists/aud111?skip_merge_validation=true"
                    "&skip_duplicate_check=false",
        "headers": {"Content-Type": "application/json", "Authorization": "Basic YXBpS2V5Omk0Mw=="},
        "params": {},
        "body": {"JSON": {"members": [
            {"email_address": EMAIL, "status": "subscribed",
             "merge_fields": {"FNAME": "Bob", "LNAME": "Dole", "ANONYMOUSI": "userId12345"}},
            {"email_address": EMAIL, "status": "subscribed",
             "merge_fields": {"ANONYMOUSI": "userId12345"}},
        ], "update_existing": True}, "JSON_ARRAY": {}, "XML": {}, "FORM": {}},
        "files": {},
    }
    # An event request is the processor's, without a userId.
    event = results[1]["batchedRequest"]
    assert event["endpoint"] == MEMBER + "/events" and "userId" not in event
    assert event["audienceId"] == "aud111"
    assert results[2]["error"] == ("The status must be one of [subscribed, unsubscribed, "
                                   "cleaned, pending, transactional]")
    assert results[3]["error"] == 'Missing required value from "event"'


# --- config and type checks -----------------------------------------------------------------------


@pytest.mark.parametrize(("config", "text"), [
    ({**CONFIG, "apiKey": 0}, "API Key not found. Aborting"),
    ({"apiKey": "k", "datacenterId": "us1"}, "Audience Id not found. Aborting"),
    ({**CONFIG, "datacenterId": False}, "DataCenter Id not found. Aborting"),
])
def test_config_errors(config: dict[str, Any], text: str) -> None:
    """apiKey, audienceId and datacenterId must be truthy, checked in that order."""
    assert error(track(), config, "configuration") == text


def test_type_errors() -> None:
    """An unsupported type is named lower-cased; a missing one is a 400 (the reference crashes)."""
    assert error({**track(), "type": "Page"}) == "message type page is not supported"
    assert error({**track(), "type": None}) == "Event type is required"
    assert output({**track(), "type": "TRACK"})["method"] == "POST"


# --- the reference's JavaScript rules (checked against it) -----------------------------------------


def test_email_is_required() -> None:
    """The email may come from the first external id; without one the event is rejected."""
    assert error(identify({"firstName": "a"})) == "Email is required for identify"
    assert error({**track(), "context": {}}) == "Email is required for track"
    message = {**track(), "context": {"externalId": [{"id": EMAIL, "type": "t"}]}}
    assert output(message)["endpoint"] == MEMBER + "/events"


def test_member_hash_of_a_non_string_email() -> None:
    """npm md5 reads a number's string form as bytes of digit values, as the reference does."""
    message = {**track(), "context": {"traits": {"email": 5}}}
    assert output(message)["endpoint"].endswith("/members/8bb6c17838643f9691cc6a4de6c51709/events")


def test_occurred_at_formats() -> None:
    """occurred_at is UTC without milliseconds; "Invalid date" when there is no usable time."""
    def occurred(**extra: Any) -> Any:
        message = track()
        message.pop("timestamp")
        message.update(extra)
        return output(message)["body"]["JSON"]["occurred_at"]
    assert occurred(timestamp=1600000000000) == "2020-09-13T12:26:40+00:00"
    assert occurred(originalTimestamp="2020-01-01T10:00:00.999+02:00") == "2020-01-01T08:00:00+00:00"
    assert occurred() == "Invalid date"
    assert occurred(timestamp="garbage") == "Invalid date"


def test_event_name_whitespace() -> None:
    """The name is trimmed and its whitespace runs become "_"; a number is its string."""
    assert output(track(event=" a  b "))["body"]["JSON"]["name"] == "a_b"
    assert output(track(event=10))["body"]["JSON"]["name"] == "10"


def test_property_values() -> None:
    """Nulls and numbers become JSON text; a non-object properties value is sent as it is."""
    body = output(track(properties={"a": None, "n": 1.5, "isSyncing": None}))["body"]["JSON"]
    assert body["properties"] == {"a": "null", "n": "1.5"}
    assert "is_syncing" not in body
    assert output(track(properties="abc"))["body"]["JSON"]["properties"] == "abc"
    assert output(track(properties=[1, "a"]))["body"]["JSON"]["properties"] == ["1", "a"]


def test_audience_from_the_event() -> None:
    """integrations.MailChimp.listId, else context.MailChimp.listId, picks the audience."""
    message = track(integrations={"MailChimp": {"listId": "L1"}})
    result = output(message)
    assert result["audienceId"] == "L1"
    assert "/lists/L1/members/" in result["endpoint"]
    message = track()
    message["context"]["MailChimp"] = {"listId": 123}
    assert output(message)["audienceId"] == 123


def test_events_in_the_endpoint_make_a_post() -> None:
    """As the reference, a request whose endpoint contains "events" is a POST (an identify too)."""
    message = identify({"email": EMAIL}, integrations={"mailchimp": {"listId": "myevents"}})
    assert output(message)["method"] == "POST"


@pytest.mark.parametrize(("traits", "text"), [
    ({"email": EMAIL, "city": "x"},
     'For sending address information ["addr1", "city", "state", "zip"] fields are mandatory'),
    ({"email": EMAIL, "city": "x", "state": "s", "zip": 123, "addressLine1": "l"},
     "To send as address information, zip field should be valid string"),
    ({"email": EMAIL, "address": {"city": "x", "state": "s", "zip": "1"}, "addressLine1": ""},
     'For sending address information ["addr1", "city", "state", "zip"] fields are mandatory'),
])
def test_address_must_be_complete(traits: dict[str, Any], text: str) -> None:
    """An address needs addr1, city, state and zip as strings, even without merge fields."""
    assert error(identify(traits)) == text


def test_merge_field_tags() -> None:
    """Other traits go under tags: letters, digits, _ and spaces, 10 characters, upper-cased."""
    traits = {"email": EMAIL, "first name!": "x", "plan": "IN", "a-very-long-key": 1,
              "phone": "123", "birthday": "1990-12-31"}
    assert output(identify(traits), MERGE)["body"]["JSON"]["merge_fields"] == {
        "FIRST NAME": "x", "PLAN": "IN", "AVERYLONGK": 1, "PHONE": "123", "BIRTHDAY": "12/31"}


def test_merge_fields_need_a_true_setting() -> None:
    """enableMergeFields must be exactly true; merge fields may be empty."""
    assert "merge_fields" not in output(identify({"email": EMAIL}),
                                        {**CONFIG, "enableMergeFields": "true"})["body"]["JSON"]
    assert output(identify({"email": EMAIL}), MERGE)["body"]["JSON"]["merge_fields"] == {}


def test_invalid_integration_status() -> None:
    """An integrations status Mailchimp does not know is rejected."""
    message = identify({"email": EMAIL}, integrations={"mailchimp": {"subscriptionStatus": "x"}})
    assert error(message) == ("The status must be one of [subscribed, unsubscribed, cleaned, "
                              "pending, transactional]")


def test_retl_identify_sends_the_traits() -> None:
    """An rETL identify sends its traits (nulls left out) with the external id written in."""
    message = {"type": "identify", "traits": {"merge_fields": {"A": 1}, "status": "pending",
                                              "n": None}, "context": RETL}
    assert output(message)["body"]["JSON"] == {"merge_fields": {"A": 1}, "status": "pending",
                                               "email_address": "emrichardson820+22822@gmail.com"}
    assert output({"type": "identify", "context": RETL})["body"]["JSON"] == {}


def test_retl_identify_checks_status_and_address() -> None:
    """An rETL identify's status must be valid, and its merge_fields.ADDRESS complete."""
    message = {"type": "identify", "traits": {"status": "subscri"}, "context": RETL}
    assert error(message).startswith("The status must be one of")
    message = {"type": "identify", "context": RETL,
               "traits": {"merge_fields": {"ADDRESS": {"addr1": "a"}}}}
    assert error(message).startswith("For sending address information")


def test_retl_external_id_type_is_a_path() -> None:
    """The identifierType is a set-value path; the event itself is not changed."""
    context = {**RETL, "externalId": [{"identifierType": "a.c", "id": "x@y.z"}]}
    traits = {"a": {"b": 1}}
    message = {"type": "identify", "traits": traits, "context": context}
    assert output(message)["body"]["JSON"] == {"a": {"b": 1, "c": "x@y.z"}}


# --- router ---------------------------------------------------------------------------------------


def _member(n: int, list_id: Any = None) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "identify", "traits": {"status": "subscribed", "n": n},
                               "context": RETL}
    if list_id is not None:
        message["integrations"] = {"MailChimp": {"listId": list_id}}
    return message


def test_router_cuts_members_at_500_per_audience() -> None:
    """Members are grouped by audience (in JavaScript key order) and cut at 500 a request."""
    jobs = [_support.job(_member(n), {"jobId": n}, destination()) for n in range(501)]
    jobs.append(_support.job(_member(1, "abc"), {"jobId": 600}, destination()))
    jobs.append(_support.job(_member(2, 7), {"jobId": 601}, destination()))
    results = _support.route("mailchimp", jobs)
    assert [len(r["metadata"]) for r in results] == [1, 500, 1, 1]
    endpoints = [r["batchedRequest"]["endpoint"].split("?")[0].rsplit("/", 1)[1] for r in results]
    assert endpoints == ["7", "aud111", "aud111", "abc"]
    assert results[1]["metadata"][0] == {"jobId": 0}


def test_router_keeps_destinations_apart() -> None:
    """Each destination's members go in their own request, with its own key."""
    other = destination({**CONFIG, "apiKey": "other"}, "d2")
    results = _support.route("mailchimp", [
        _support.job(_member(1), {"jobId": 1}, destination()),
        _support.job(_member(2), {"jobId": 2}, other),
    ])
    assert [r["metadata"] for r in results] == [[{"jobId": 1}], [{"jobId": 2}]]
    assert results[1]["batchedRequest"]["headers"]["Authorization"] == "Basic YXBpS2V5Om90aGVy"
