"""Customer.io: reference cases missing from the conformance sample, router batching, config
errors and the reference's JavaScript edge rules (each checked against the reference
transformer)."""

from __future__ import annotations

from typing import Any

import orjson

from transformer._catalog import load_catalog
from transformer._clock import FixedClock
from transformer._conformance import processor_body, router_body
from transformer._destination import Job
from transformer._pipeline import Pipeline
from transformer.destinations.customerio import hooks
from transformer.v1 import transformer_pb2 as pb

PIPELINE = Pipeline(load_catalog())
CONFIG = {"datacenter": "US", "siteID": "customerio1", "apiKey": "customerio2"}
AUTH = {"Authorization": "Basic Y3VzdG9tZXJpbzE6Y3VzdG9tZXJpbzI="}
API = "https://track.customer.io/api"
EU_API = "https://track-eu.customer.io/api"
ANON = "c82cbdff-e5be-4009-ac78-cdeea09ab4b1"
TS = "2019-10-14T11:15:18.300Z"
TS_S = 1571051718
PROPS = {"user_actual_role": "system_admin", "user_actual_id": 12345}
LONG = ("https://www.stoodi.com.br/exercicios/upe/2016/questao/"
        "gregorio-de-matos-poeta-baiano-que-viveu-no-seculo-xvi/")


def destination(config: dict[str, Any] | None = None, dest_id: str = "d1") -> dict[str, Any]:
    return {"ID": dest_id, "Config": CONFIG if config is None else config,
            "DestinationDefinition": {"Name": "CUSTOMERIO"}}


def run(msg: dict[str, Any], config: dict[str, Any] | None = None) -> dict[str, Any]:
    """The one processor result for ``msg``."""
    job = pb.Job(message=orjson.dumps(msg), destination=orjson.dumps(destination(config)))
    response, _ = PIPELINE.transform(
        pb.TransformRequest(destination_type="customerio", jobs=[job]), FixedClock(0))
    (result,) = processor_body(response)
    return result


def ok(msg: dict[str, Any], config: dict[str, Any] | None = None) -> dict[str, Any]:
    result = run(msg, config)
    assert result["statusCode"] == 200, result
    output: dict[str, Any] = result["output"]
    assert output["statusCode"] == 200
    return output


def error(msg: dict[str, Any], config: dict[str, Any] | None = None) -> tuple[int, str, str]:
    result = run(msg, config)
    return result["statusCode"], result["error"], result["statTags"].get("errorType", "")


def route(jobs: list[tuple[dict[str, Any], dict[str, Any]]]) -> list[dict[str, Any]]:
    """Router results for (message, destination) pairs, job ids 1, 2, ..."""
    request = pb.TransformRequest(destination_type="customerio", jobs=[
        pb.Job(message=orjson.dumps(msg), destination=orjson.dumps(dest),
               metadata=orjson.dumps({"jobId": i, "destinationId": dest["ID"]}))
        for i, (msg, dest) in enumerate(jobs, 1)])
    output: list[dict[str, Any]] = router_body(
        PIPELINE.router_transform(request, FixedClock(0))[0])["output"]
    return output


def group(n: int, **traits: Any) -> dict[str, Any]:
    return {"type": "group", "groupId": f"group@{n}", "userId": f"user@{n}",
            "traits": {"name": "rudderstack", **traits}}


# --- identify -----------------------------------------------------------------------------------


def test_identify_sends_traits_as_set_value_paths() -> None:
    """identify flattens the address, escapes a trait's first ".", nests user_properties paths."""
    out = ok({"type": "identify", "userId": "123456", "anonymousId": "123456",
              "originalTimestamp": "2019-10-14T09:03:17.562Z",
              "user_properties": {"prop1": "val1", "a.b": 2},
              "traits": {"anonymousId": "anon-id", "email": "test@gmail.com", "dot.name": "Arnab",
                         "x.y.z": 1, "createdAt": "2020-01-01T00:00:00Z", "userId": "skip",
                         "address": {"city": "NY", "country": "USA", "postalCode": 712136,
                                     "state": "CA", "street": ""}}})
    assert out["method"] == "PUT"
    assert out["endpoint"] == f"{API}/v1/customers/123456"
    assert out["endpointPath"] == "v1/customers"
    assert out["headers"] == AUTH
    assert out["body"]["JSON"] == {
        "city": "NY", "country": "USA", "postalCode": 712136, "state": "CA", "street": "",
        "email": "test@gmail.com", "dot.name": "Arnab", "x.y": {"z": 1}, "prop1": "val1",
        "a": {"b": 2}, "created_at": 1577836800, "_timestamp": 1571043797,
        "anonymous_id": "123456"}


def test_identify_without_user_id_or_email_is_rejected() -> None:
    """identify needs a userId or an email."""
    assert error({"type": "identify", "anonymousId": "123456", "traits": {"name": "x"}}) == (
        400, "userId or email is not present", "instrumentation")


def test_identify_by_email_encodes_it_in_the_path() -> None:
    """An email names the person when there is no userId, URI-encoded."""
    out = ok({"type": "identify", "context": {"traits": {"email": "test@gmail.com"}}})
    assert out["endpoint"] == f"{API}/v1/customers/test%40gmail.com"
    assert out["userId"] == ""


def test_identify_on_the_eu_data_center() -> None:
    """datacenter EU uses the track-eu host."""
    out = ok({"type": "identify", "userId": "123456", "traits": {"k": 1}},
             {**CONFIG, "datacenter": "EU"})
    assert out["endpoint"] == f"{EU_API}/v1/customers/123456"


def test_warehouse_identify_takes_the_external_id() -> None:
    """A mappedToDestination event is named by context.externalId, added to its traits."""
    out = ok({"type": "identify", "context": {
        "mappedToDestination": True, "traits": {"a": 1},
        "externalId": [{"id": "ext1", "identifierType": "email", "type": "CUSTOMERIO-x"}]}})
    assert out["endpoint"] == f"{API}/v1/customers/ext1"
    assert out["body"]["JSON"] == {"a": 1, "email": "ext1"}
    assert out["userId"] == "ext1"


def test_unsafe_trait_name_is_rejected() -> None:
    """set-value refuses a "constructor" key (the reference crashes with a 500; here a 400)."""
    assert error({"type": "identify", "userId": "u", "traits": {"constructor": 1}}) == (
        400, 'Cannot set unsafe key: "constructor"', "instrumentation")


# --- track, page, screen --------------------------------------------------------------------------


def test_track_of_a_person() -> None:
    """A track event of a known user goes to the person's events with the historical time."""
    out = ok({"type": "track", "userId": "12345", "anonymousId": ANON, "event": "test track event",
              "properties": PROPS, "originalTimestamp": TS})
    assert (out["method"], out["endpoint"]) == ("POST", f"{API}/v1/customers/12345/events")
    assert out["body"]["JSON"] == {"data": PROPS, "name": "test track event", "type": "event",
                                   "timestamp": TS_S}


def test_anonymous_track_cuts_the_name_to_100_bytes() -> None:
    """Without userId or email the event is anonymous and its name at most 100 bytes."""
    out = ok({"type": "track", "anonymousId": ANON, "event": LONG, "properties": PROPS,
              "originalTimestamp": TS})
    assert out["endpoint"] == f"{API}/v1/events"
    assert out["body"]["JSON"] == {"data": PROPS, "name": LONG[:100], "type": "event",
                                   "timestamp": TS_S, "anonymous_id": ANON}


def test_anonymous_screen_cuts_the_screen_name_to_86_bytes() -> None:
    """An anonymous screen is named "Viewed <86 bytes> Screen"."""
    out = ok({"type": "screen", "anonymousId": ANON, "event": LONG, "originalTimestamp": TS})
    assert out["body"]["JSON"]["name"] == f"Viewed {LONG[:86]} Screen"


def test_screen_of_a_person_names_undefined_as_javascript_prints_it() -> None:
    """A screen without event or properties.name is "Viewed undefined Screen"."""
    out = ok({"type": "screen", "userId": "u"})
    assert out["body"]["JSON"] == {"name": "Viewed undefined Screen", "type": "event"}


def test_anonymous_event_needs_an_anonymous_id() -> None:
    """An event without any id is rejected."""
    assert error({"type": "track", "event": "e"}) == (
        400, "Anonymous id/ user id is required", "instrumentation")


def test_track_needs_a_string_event() -> None:
    """track's event is required and a string."""
    assert error({"type": "track", "userId": "u", "event": 5}) == (
        400, "Event is a required field and should be a string", "instrumentation")


def test_anonymous_page_without_name_is_rejected() -> None:
    """An anonymous page needs a name (or properties.url) that is a string."""
    assert error({"type": "page", "anonymousId": "a", "name": ""})[1] == \
        "Event Name type should be a string"


def test_device_registration() -> None:
    """Application Installed with a device token registers the device (PUT, platform)."""
    out = ok({"type": "track", "userId": "12345", "event": "Application Installed",
              "properties": {"rating": 2}, "originalTimestamp": "2020-01-09T10:01:53.558Z",
              "context": {"device": {"token": "abcxyz", "type": "IPadOS"}}})
    assert (out["method"], out["endpoint"]) == ("PUT", f"{API}/v1/customers/12345/devices")
    assert out["body"]["JSON"] == {"device": {"rating": 2, "id": "abcxyz",
                                              "last_used": 1578564113, "platform": "ios"}}


def test_device_event_without_a_token_is_an_event() -> None:
    """Application Opened without a token is an ordinary event."""
    out = ok({"type": "track", "userId": "12345", "event": "Application Opened"})
    assert (out["method"], out["endpoint"]) == ("POST", f"{API}/v1/customers/12345/events")


def test_configured_device_token_event() -> None:
    """Config.deviceTokenEventName registers a device too."""
    out = ok({"type": "track", "userId": "u", "event": "device_token_registered",
              "context": {"device": {"token": "t", "type": "android"}}},
             {**CONFIG, "deviceTokenEventName": "device_token_registered"})
    assert out["endpoint"] == f"{API}/v1/customers/u/devices"
    assert out["body"]["JSON"]["device"]["platform"] == "android"


def test_device_deletion_encodes_both_path_parameters() -> None:
    """Application Uninstalled deletes the device, with an empty body."""
    out = ok({"type": "track", "userId": "u/1", "event": "Application Uninstalled",
              "context": {"device": {"token": "a/b"}}}, {**CONFIG, "datacenter": "EU"})
    assert (out["method"], out["endpoint"]) == (
        "DELETE", f"{EU_API}/v1/customers/u%2F1/devices/a%2Fb")
    assert out["endpointPath"] == "v1/customers/devices/delete"
    assert out["body"]["JSON"] == {}


def test_device_deletion_needs_a_token() -> None:
    """Application Uninstalled without a token is rejected."""
    assert error({"type": "track", "userId": "u", "event": "Application Uninstalled"})[1] == \
        "userId/email or device_token not present"


# --- alias and group ----------------------------------------------------------------------------


def test_alias_names_emails_as_emails() -> None:
    """alias merges previousId into userId, each as email or id."""
    out = ok({"type": "alias", "userId": "a@b.com", "previousId": "prev"})
    assert out["endpoint"] == f"{API}/v1/merge_customers"
    assert out["body"]["JSON"] == {"primary": {"email": "a@b.com"}, "secondary": {"id": "prev"}}


def test_alias_needs_both_ids() -> None:
    """alias without previousId is rejected."""
    assert error({"type": "alias", "userId": "u"})[1] == \
        "Both userId and previousId are mandatory for merge operation"


def test_alias_with_a_numeric_user_id_is_rejected() -> None:
    """validator's isEmail throws on a number (the reference crashes with a 500; here a 400)."""
    assert error({"type": "alias", "userId": 123, "previousId": "p"}) == (
        400, "userId must be a string: Expected a string but received a Number", "instrumentation")


def test_message_types_in_the_reference_words() -> None:
    """A missing or unknown type is worded as the reference words it; a non-string one too."""
    assert error({"userId": "u"})[1] == "could not determine type undefined"
    assert error({"type": "Record", "userId": "u"})[1] == "could not determine type record"
    assert error({"type": 5, "userId": "u"})[:2] == (400, "could not determine type 5")


def test_group_with_delete_action() -> None:
    """A group's action comes from traits.action when it is a known one."""
    out = ok(group(1, action="delete"))
    assert out["endpoint"] == f"{API}/v2/batch"
    assert out["body"]["JSON"] == {
        "identifiers": {"object_id": "group@1", "object_type_id": "1"}, "type": "object",
        "action": "delete", "attributes": {"name": "rudderstack"},
        "cio_relationships": [{"identifiers": {"id": "user@1"}}]}


def test_group_of_an_email_user_and_unknown_action() -> None:
    """An email userId relates by email; an unknown action is identify."""
    out = ok({"type": "group", "groupId": 7, "userId": "abc@xyz.com",
              "traits": {"action": "bogus", "objectTypeId": 2}})
    body = out["body"]["JSON"]
    assert body["identifiers"] == {"object_id": "7", "object_type_id": "2"}
    assert body["action"] == "identify"
    assert body["cio_relationships"] == [{"identifiers": {"email": "abc@xyz.com"}}]


def test_group_needs_a_group_id() -> None:
    """group without groupId is rejected in the reference's words."""
    assert error({"type": "group", "userId": "u"})[1] == 'Missing required value from "groupId"'


# --- config -------------------------------------------------------------------------------------


def test_missing_or_falsy_keys_are_configuration_errors() -> None:
    """siteID and apiKey must be truthy, checked in that order."""
    msg = {"type": "track", "userId": "u", "event": "e"}
    assert error(msg, {"apiKey": "k"}) == (400, "siteID not found in Configs", "configuration")
    assert error(msg, {"siteID": 0, "apiKey": "k"})[1] == "siteID not found in Configs"
    assert error(msg, {"siteID": "s"})[1] == "apiKey not found in Configs"


def test_authorization_is_btoa_of_latin1_bytes() -> None:
    """btoa keeps the low byte of each UTF-16 unit of "siteID:apiKey"."""
    out = ok({"type": "track", "userId": "u", "event": "e"}, {"siteID": "ś€😀", "apiKey": "k"})
    assert out["headers"] == {"Authorization": "Basic W6w9ADpr"}


# --- router -------------------------------------------------------------------------------------


def test_router_batches_objects_and_sends_the_rest_alone() -> None:
    """Non-object requests come first, one each; objects share a v2 batch request."""
    dest = destination()
    output = route([(group(1), dest), ({"type": "track", "userId": "u", "event": "e"}, dest),
                    ({"type": "track", "userId": "u"}, dest), (group(2, action="delete"), dest)])
    assert [o["metadata"] for o in output] == [[{"jobId": 2, "destinationId": "d1"}],
                                               [{"jobId": 1, "destinationId": "d1"},
                                                {"jobId": 4, "destinationId": "d1"}],
                                               [{"jobId": 3, "destinationId": "d1"}]]
    assert [o["statusCode"] for o in output] == [200, 200, 400]
    assert all(o["batched"] is False for o in output)
    batch = output[1]["batchedRequest"]
    assert batch["endpoint"] == f"{API}/v2/batch"
    assert batch["endpointPath"] == "v2/batch"
    assert batch["headers"] == {**AUTH, "Content-Type": "application/json"}
    assert [item["action"] for item in batch["body"]["JSON"]["batch"]] == ["identify", "delete"]
    assert output[0]["batchedRequest"]["statusCode"] == 200


def test_router_batches_eu_objects_to_the_us_endpoint() -> None:
    """The reference's batch request always targets the US v2 endpoint."""
    dest = destination({**CONFIG, "datacenter": "EU"})
    output = route([(group(1), dest), (group(2), dest)])
    assert output[0]["batchedRequest"]["endpoint"] == f"{API}/v2/batch"


def test_router_cuts_object_batches_at_1000_items() -> None:
    """At most 1000 objects per batch request (requests small enough for the size limit, which
    real ones are not: 1000 of them would pass 500 000 bytes)."""
    jobs = [Job(message={}, destination={}, metadata=b"") for _ in range(1002)]
    outputs = [{"endpoint": f"{API}/v2/batch", "headers": {}, "body": {"JSON": {}}} for _ in jobs]
    batches = hooks.batch(list(zip(jobs, outputs, strict=True)))
    assert [len(b.jobs) for b in batches] == [1000, 2]
    assert [len(b.request["body"]["JSON"]["batch"]) for b in batches] == [1000, 2]


def test_router_cuts_object_batches_by_size_as_the_reference_counts() -> None:
    """A chunk ends before the job that takes the running size over 500 000 bytes, and the
    next chunk's count restarts at 0 without that job: 7 jobs of ~150 kB make chunks 3 + 4."""
    dest = destination()
    output = route([(group(i, blob="x" * 150_000), dest) for i in range(1, 8)])
    assert [len(o["metadata"]) for o in output] == [3, 4]
