"""SendGrid: reference behaviour our conformance sample lacks, config errors and router batching.

Expected bodies were produced by the reference transformer for the same events.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from transformer._catalog import Catalog
from transformer._clock import FixedClock
from transformer._conformance import processor_body, router_body
from transformer._pipeline import Pipeline
from transformer.v1 import transformer_pb2 as pb

CONTACTS = "https://api.sendgrid.com/v3/marketing/contacts"
MAIL = "https://api.sendgrid.com/v3/mail/send"
HEADERS = {"Content-Type": "application/json", "Authorization": "Bearer key1"}
CONFIG = {"apiKey": "key1", "eventNamesSettings": [{"event": "Welcome"}],
          "fromEmail": "from@x.test", "subject": "Hi",
          "contents": [{"type": "text/plain", "value": "Hello"}], "replyToEmail": "r@x.test"}


@pytest.fixture(scope="module")
def pipeline(catalog: Catalog) -> Pipeline:
    return Pipeline(catalog)


def _job(message: Any, config: dict[str, Any], metadata: Any = None) -> pb.Job:
    destination = {"ID": "d1", "Config": config, "DestinationDefinition": {"Name": "SENDGRID"}}
    return pb.Job(message=orjson.dumps(message),
                  metadata=orjson.dumps(metadata or {"jobId": 1}),
                  destination=orjson.dumps(destination))


def result(pipeline: Pipeline, message: Any, config: dict[str, Any]) -> dict[str, Any]:
    request = pb.TransformRequest(destination_type="sendgrid", jobs=[_job(message, config)])
    (found,) = processor_body(pipeline.transform(request, FixedClock(0))[0])
    return found


def output(pipeline: Pipeline, message: Any, config: dict[str, Any]) -> dict[str, Any]:
    found = result(pipeline, message, config)
    assert found["statusCode"] == 200, found
    out: dict[str, Any] = found["output"]
    return out


def error(pipeline: Pipeline, message: Any, config: dict[str, Any]) -> tuple[str, str]:
    found = result(pipeline, message, config)
    assert found["statusCode"] == 400, found
    return found["statTags"]["errorType"], found["error"]


def identify(email: str = "e@x.test", **context: Any) -> dict[str, Any]:
    return {"type": "identify", "userId": "u1",
            "context": {"traits": {"email": email, "firstName": "Ann"}, **context}}


def track(**properties: Any) -> dict[str, Any]:
    return {"type": "track", "event": "welcome ",
            "properties": {"personalizations": [{"to": [{"email": "a@x.test"}]}], **properties}}


# --- identify -----------------------------------------------------------------------------------


def test_identify_contact(pipeline: Pipeline) -> None:
    """Contact fields from the traits, an address flattened, list ids sorted and joined."""
    message = {"type": "identify", "userId": "u1", "context": {
        "traits": {"email": "e@x.test", "firstName": "Ann", "lastName": "Lee", "phone": "1",
                   "name": "Ann Lee", "address": {"street": "1 Main", "city": "Paris", "zip": "75"},
                   "zip": "75001", "whatsappNumber": "w"},
        "externalId": [{"type": "listIds", "id": ["b", "a", 3]}]}}
    found = output(pipeline, message, {"apiKey": "key1", "listId": "B"})
    assert found["method"] == "PUT"
    assert found["endpoint"] == CONTACTS
    assert found["headers"] == HEADERS
    assert found["userId"] == ""
    assert found["body"]["JSON"] == {
        "contactDetails": {"email": "e@x.test", "phone_number": "1", "first_name": "Ann",
                           "last_name": "Lee", "city": "Paris", "postal_code": "75001",
                           "address_line_1": "1 Main Paris 75", "whatsapp": "w",
                           "unique_name": "Ann Lee", "custom_fields": {}},
        "contactListIds": "3,B,a,b"}


def test_identify_list_id_from_config_only(pipeline: Pipeline) -> None:
    """The reference's case "Identify call with list_id configured from web-app"."""
    message = {"type": "identify", "userId": "user@1", "context": {"traits": {
        "age": "25", "city": "Surat", "email": "test@rudderstack.com", "phone": "+91 9876543210",
        "lastName": "test", "firstName": "rudder", "state": "Gujarat"}}}
    found = output(pipeline, message, {"apiKey": "key1", "listId": "list111"})
    assert found["body"]["JSON"] == {
        "contactDetails": {"email": "test@rudderstack.com", "phone_number": "+91 9876543210",
                           "first_name": "rudder", "last_name": "test", "custom_fields": {}},
        "contactListIds": "list111"}


@pytest.mark.parametrize(("message", "config", "expected"), [
    ({"type": "identify", "context": {"traits": {"firstName": "A"}}}, {"apiKey": "key1"},
     ("instrumentation", "Parameter mail is required")),
    # The generic email reads the first external id; the contact's email does not.
    ({"type": "identify", "context": {"externalId": [{"type": "x", "id": "e@x.test"}]}},
     {"apiKey": "key1"}, ("instrumentation", 'Missing required value from "emailOnly"')),
    (identify(), {"apiKey": "key1", "customFieldsMapping": [{"from": "name", "to": "n"}]},
     ("configuration", "customFieldsMapping is not supported: mapping traits to SendGrid custom "
                       "fields needs the account's field definitions from SendGrid, which this "
                       "service does not fetch")),
    (identify(), {"apiKey": ""}, ("configuration", "Invalid Api Key")),
    ({**identify(), "type": "Page"}, {"apiKey": "key1"},
     ("instrumentation", "Event type page is not supported")),
])
def test_identify_and_type_errors(pipeline: Pipeline, message: dict[str, Any],
                                  config: dict[str, Any], expected: tuple[str, str]) -> None:
    """The reference's 400s, in its words (custom field mapping is not supported here)."""
    assert error(pipeline, message, config) == expected


# --- track --------------------------------------------------------------------------------------


def test_track_mail_completed_from_config(pipeline: Pipeline) -> None:
    """A mail from the event's properties, completed and cleaned as the reference does."""
    message = track(
        personalizations=[{"to": [{"email": "a@x.test"}, {"name": "no email"}]},
                          {"to": [{"email": "b@x.test"}], "subject": "own"}],
        plan="pro", **{"user.tier": 2}, categories=["c1", {"n": 1}], headers="bad",
        attachments=[{"content": "Yw==", "filename": "f.txt"}, {"content": "x"}],
        mailSettings={"bypassSpamManagement": True, "footer": True, "footerText": "ft"})
    config = {**CONFIG, "group": "7", "groupsToDisplay": [{"groupId": "7"}, {"groupId": "x"},
                                                          {"groupId": " 8 "}],
              "IPPoolName": "pool", "clickTracking": None, "clickTrackingEnableText": True,
              "openTracking": True, "ganalytics": True, "utmSource": "src", "sandboxMode": True}
    found = output(pipeline, message, config)
    assert (found["method"], found["endpoint"], found["headers"]) == ("POST", MAIL, HEADERS)
    assert found["body"]["JSON"] == {
        "attachments": [{"content": "Yw==", "filename": "f.txt"}, None],
        "categories": ["c1", '{"n":1}'],
        "personalizations": [{"to": [{"email": "a@x.test"}]},
                             {"to": [{"email": "b@x.test"}], "subject": "own"}],
        "from": {"email": "from@x.test"},
        "content": [{"type": "text/plain", "value": "Hello"}],
        "subject": "Hi",
        "reply_to": {"email": "r@x.test"},
        "asm": {"group_id": 7, "groups_to_display": [7, 8]},
        "ip_pool_name": "pool",
        "mail_settings": {"bypass_spam_management": {"enable": True},
                          "footer": {"enable": True, "text": "ft"},
                          "sandbox_mode": {"enable": True}},
        "tracking_settings": {"click_tracking": {"enable": None, "enable_text": True},
                              "open_tracking": {"enable": True},
                              "ganalytics": {"enable": True, "utm_source": "src"}},
        "custom_args": {"plan": "pro", "user": {"tier": 2}},
    }


def test_track_mail_to_the_traits_email(pipeline: Pipeline) -> None:
    """With mailFromTraits, an event without personalizations mails the traits' email."""
    message = {"type": "track", "event": "Welcome", "properties": {},
               "context": {"traits": {"email": "t@x.test"}}}
    found = output(pipeline, message, {**CONFIG, "mailFromTraits": True})
    assert found["body"]["JSON"]["personalizations"] == [{"to": [{"email": "t@x.test"}]}]


@pytest.mark.parametrize(("message", "config", "expected"), [
    ({"type": "track", "properties": {}}, CONFIG,
     ("instrumentation", "Event is required for track call")),
    ({"type": "track", "event": "Other", "properties": {}}, CONFIG,
     ("configuration", "Event not configured on dashboard")),
    ({"type": "track", "event": "Welcome", "properties": {}}, {**CONFIG, "mailFromTraits": True},
     ("instrumentation",
      "Either email not found in traits or personalizations field is missing/empty")),
    (track(), {**CONFIG, "contents": []},
     ("instrumentation", "Either template id or content is required")),
    (track(personalizations=[]), CONFIG,
     ("instrumentation", "Personalizations field cannot be missing or empty")),
    (track(), {**CONFIG, "fromEmail": None},
     ("instrumentation", "Email inside from object is required")),
])
def test_track_errors(pipeline: Pipeline, message: dict[str, Any], config: dict[str, Any],
                      expected: tuple[str, str]) -> None:
    """The reference's checks of a track event and of the mail it builds."""
    assert error(pipeline, message, config) == expected


# --- router -------------------------------------------------------------------------------------


def route(pipeline: Pipeline, jobs: list[pb.Job]) -> list[dict[str, Any]]:
    request = pb.TransformRequest(destination_type="sendgrid", jobs=jobs)
    found: list[dict[str, Any]] = router_body(
        pipeline.router_transform(request, FixedClock(0))[0])["output"]
    return found


def test_router_tracks_alone_then_contacts_per_list(pipeline: Pipeline) -> None:
    """Tracks each on their own in order, then one request per list-id combination (an
    integer-like combination first, as JavaScript orders object keys), then the failures."""
    lists = [{"type": "listIds", "id": ids} for ids in (["b", "a"], "9", ["a", "b"])]
    jobs = [_job(identify("1@x.test", externalId=[lists[0]]), CONFIG, {"jobId": 1}),
            _job(track(), CONFIG, {"jobId": 2}),
            _job(identify("3@x.test", externalId=[lists[1]]), CONFIG, {"jobId": 3}),
            _job({"type": "track", "event": "nope", "properties": {}}, CONFIG, {"jobId": 4}),
            _job(identify("5@x.test", externalId=[lists[2]]), CONFIG, {"jobId": 5}),
            _job(identify("6@x.test"), CONFIG, {"jobId": 6}),
            _job(track(), CONFIG, {"jobId": 7})]
    found = route(pipeline, jobs)
    assert [([m["jobId"] for m in r["metadata"]], r["batched"], r["statusCode"]) for r in found] \
        == [([2], False, 200), ([7], False, 200), ([3], True, 200), ([1, 5], True, 200),
            ([6], True, 200), ([4], False, 400)]
    assert found[0]["batchedRequest"]["endpoint"] == MAIL
    contacts = [r["batchedRequest"] for r in found[2:5]]
    assert all(r["method"] == "PUT" and r["endpoint"] == CONTACTS and r["headers"] == HEADERS
               for r in contacts)
    assert [r["body"]["JSON"] for r in contacts] == [
        {"list_ids": ["9"], "contacts": [{"email": "3@x.test", "first_name": "Ann",
                                          "custom_fields": {}}]},
        {"list_ids": ["a", "b"], "contacts": [
            {"email": "1@x.test", "first_name": "Ann", "custom_fields": {}},
            {"email": "5@x.test", "first_name": "Ann", "custom_fields": {}}]},
        {"contacts": [{"email": "6@x.test", "first_name": "Ann", "custom_fields": {}}]}]


def test_router_contacts_per_request(pipeline: Pipeline) -> None:
    """At most 30000 contacts per request."""
    jobs = [_job(identify(f"{n}@x.test"), CONFIG, {"jobId": n}) for n in range(30001)]
    found = route(pipeline, jobs)
    assert [len(r["batchedRequest"]["body"]["JSON"]["contacts"]) for r in found] == [30000, 1]
