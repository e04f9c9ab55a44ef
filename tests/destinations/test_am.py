"""Amplitude: reference cases our conformance sample lacks, the reference's quirks, router batching.

Every expectation was checked against the reference transformer.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from transformer._catalog import Catalog
from transformer._clock import FixedClock
from transformer._conformance import processor_body, router_body
from transformer._pipeline import Pipeline
from transformer.v1 import transformer_pb2 as pb

CONFIG = {"apiKey": "am2"}
META = {"jobId": 1, "destinationId": "d1", "workspaceId": "w1"}
CHROME_MAC = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/537.36 (KHTML, like "
              "Gecko) Chrome/85.0.4183.121 Safari/537.36")
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1")
PAGE_CONTEXT = {"initial_referrer": "https://docs.rudderstack.com",
                "initial_referring_domain": "docs.rudderstack.com"}
CAMPAIGN = {"source": "google", "medium": "medium", "name": "some campaign"}
WEB = {"channel": "web", "anonymousId": "anon-1", "userId": "user-1", "messageId": "m-1",
       "originalTimestamp": "2020-10-20T07:54:58.983Z",
       "context": {"userAgent": CHROME_MAC, "locale": "en-US", "os": {"name": "", "version": ""},
                   "page": PAGE_CONTEXT, "campaign": CAMPAIGN}}
ORDER = {"type": "track", "event": "Order Completed", "anonymousId": "anon-1",
         "messageId": "m-1", "timestamp": "2020-08-14T05:30:30.118Z",
         "properties": {"revenue": 48, "price": 25, "quantity": 2, "tax": 2,
                        "products": [{"product_id": "p1", "price": 19, "quantity": 1, "sku": "a"},
                                     {"product_id": "p2", "price": 3, "quantity": 2, "sku": "b"}]}}


def _destination(config: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"ID": "d1", "Config": CONFIG if config is None else config,
            "DestinationDefinition": {"Name": "AM"}}


def _job(message: dict[str, Any], config: dict[str, Any] | None = None,
         metadata: dict[str, Any] | None = None) -> pb.Job:
    return pb.Job(message=orjson.dumps(message), metadata=orjson.dumps(metadata or META),
                  destination=orjson.dumps(_destination(config)))


def _process(catalog: Catalog, message: dict[str, Any],
             config: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    request = pb.TransformRequest(destination_type="am", jobs=[_job(message, config)])
    response, _ = Pipeline(catalog).transform(request, FixedClock(0))
    return processor_body(response)


def _outputs(catalog: Catalog, message: dict[str, Any],
             config: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    results = _process(catalog, message, config)
    assert all(r["statusCode"] == 200 for r in results), results
    return [r["output"] for r in results]


def _event(catalog: Catalog, message: dict[str, Any],
           config: dict[str, Any] | None = None) -> dict[str, Any]:
    event: dict[str, Any] = _outputs(catalog, message, config)[0]["body"]["JSON"]["events"][0]
    return event


def _error(catalog: Catalog, message: dict[str, Any],
           config: dict[str, Any] | None = None) -> dict[str, Any]:
    (result,) = _process(catalog, message, config)
    assert result["statusCode"] != 200, result
    return result


def _router(catalog: Catalog, jobs: list[pb.Job]) -> list[dict[str, Any]]:
    request = pb.TransformRequest(destination_type="am", jobs=jobs)
    response, _ = Pipeline(catalog).router_transform(request, FixedClock(0))
    output: list[dict[str, Any]] = router_body(response)["output"]
    return output


def _web(**fields: Any) -> dict[str, Any]:
    message = copy.deepcopy(WEB)
    message.update(fields)
    return message


# --- configuration and errors ---------------------------------------------------------------


def test_missing_api_key_is_a_configuration_error(catalog: Catalog) -> None:
    """Without an API key the reference's (misspelt) configuration error is returned."""
    result = _error(catalog, ORDER, {"trackProductsOnce": True})
    assert result["statusCode"] == 400
    assert result["error"] == "No API Key is Found. Please Configure API key from dashbaord"
    assert result["statTags"]["errorType"] == "configuration"


def test_unknown_type_missing_event_and_missing_ids(catalog: Catalog) -> None:
    """Unknown types, tracks without an event name and events without any id are 400s."""
    assert _error(catalog, _web(type="audiencelist"))["error"] == "message type not supported"
    for event in ("", 5, None, [], {}):
        assert _error(catalog, _web(type="track", event=event))["error"] == \
            "Event not present. Please send event field"
    anonymous = {"type": "track", "event": "E", "timestamp": "2020-01-01T00:00:00Z"}
    assert _error(catalog, anonymous)["error"] == \
        "Either of user ID or device ID fields must be specified"


def test_inputs_the_reference_crashes_on_are_400s(catalog: Catalog) -> None:
    """Where the reference crashes (a retried 500), the event or the config is named in a 400."""
    no_type = _error(catalog, {"event": "E", "userId": "u"})
    assert (no_type["statusCode"], no_type["error"]) == (400, "Event type is required")
    assert no_type["statTags"]["errorType"] == "instrumentation"
    assert _error(catalog, {"type": 5, "userId": "u"})["error"] == "message type not supported"
    screen = _error(catalog, _web(type="screen", name="S"),
                    {**CONFIG, "useUserDefinedScreenEventName": True})
    assert (screen["statusCode"], screen["statTags"]["errorType"]) == (400, "configuration")
    mobile = _web(type="track", event="E", channel="mobile", context={"device": {"type": 5}})
    assert _error(catalog, mobile)["error"] == "context.device.type must be a string"
    assert _error(catalog, _web(type="track", event="E", channel=1))["error"] == \
        "channel must be a string"
    unsafe = _error(catalog, {"type": "identify", "userId": "u", "traits": {"__proto__": 1}})
    assert unsafe["statusCode"] == 400


def test_trait_setting_row_without_traits_is_a_platform_400(catalog: Catalog) -> None:
    """A traitsToIncrement row without "traits" is the reference's 400 PlatformError."""
    result = _error(catalog, _web(type="identify", traits={"a": 1}),
                    {**CONFIG, "traitsToIncrement": [{}]})
    assert result["statusCode"] == 400
    assert result["error"] == "Wrong sourceKey type or blank sourceKey array"
    assert result["statTags"]["errorCategory"] == "platform"
    assert "errorType" not in result["statTags"]


def test_invalid_group_traits(catalog: Catalog) -> None:
    """With group trait settings, a group whose type is not a string is rejected."""
    config = {**CONFIG, "groupTypeTrait": "kind", "groupValueTrait": "value"}
    result = _error(catalog, _web(type="group", traits={"kind": 1, "value": "v"}), config)
    assert result["error"] == "Group call parameters are not valid"


# --- fields ---------------------------------------------------------------------------------


def test_web_event_device_fields_come_from_the_user_agent(catalog: Catalog) -> None:
    """Web events report the browser as os_name/os_version and the OS as device_model."""
    event = _event(catalog, _web(type="track", event="E"))
    assert (event["os_name"], event["os_version"], event["device_model"], event["platform"]) == \
        ("Chrome", "85.0.4183.121", "Mac", "Web")
    iphone = _web(type="track", event="E")
    iphone["context"]["userAgent"] = SAFARI_IPHONE
    event = _event(catalog, iphone)
    assert (event["os_name"], event["device_model"], event["device_manufacturer"]) == \
        ("Mobile Safari", "iPhone", "Apple")


def test_campaign_and_initial_referrer_become_user_properties(catalog: Catalog) -> None:
    """context.campaign keys get a utm_ prefix; the page's initial referrer is kept."""
    event = _event(catalog, _web(type="track", event="E"))
    assert event["user_properties"] == {
        **PAGE_CONTEXT, "utm_source": "google", "utm_medium": "medium",
        "utm_name": "some campaign"}


def test_identify_with_external_id_and_fields_to_unset(catalog: Catalog) -> None:
    """rETL identifies take the external id as device_id, and fieldsToUnset makes $unset."""
    message = _web(type="identify", traits={"email": "a@b.c", "city": "kolkata", "age": 26,
                                            "os_version": "test os",
                                            "address": {"country": "India", "state": "WB"}},
                   integrations={"Amplitude": {"fieldsToUnset": ["testObj.unsetField1"]}})
    message["context"].update(mappedToDestination="true", externalId=[
        {"id": "lynn@smith.net", "identifierType": "device_id", "type": "AM-users"}])
    event = _event(catalog, message)
    assert event["device_id"] == "lynn@smith.net"
    assert event["os_version"] == "test os"  # a traits value under the output key wins
    assert (event["city"], event["country"]) == ("kolkata", "India")
    assert event["user_properties"]["$unset"] == {"testObj.unsetField1": "-"}
    assert event["user_properties"]["state"] == "WB"
    assert "os_version" not in event["user_properties"]
    assert "city" not in event["user_properties"]


def test_trait_operations_move_traits(catalog: Catalog) -> None:
    """traitsToIncrement/SetOnce/Append/Prepend move traits under $add/$setOnce/$append/$prepend."""
    message = _web(type="identify")
    message["context"]["traits"] = {"city": "Durgapur", "name": "Manashi", "phone": "990",
                                    "friends": 3, "age": 12, "subjects": 5, "experience": 2}
    message["context"]["campaign"] = {}
    del message["context"]["page"]
    config = {**CONFIG, "traitsToIncrement": [{"traits": "age"}, {"traits": "friends"}],
              "traitsToSetOnce": [{"traits": "subjects"}, {"traits": ""}],
              "traitsToAppend": [{"traits": "name"}], "traitsToPrepend": [{"traits": "experience"}]}
    assert _event(catalog, message, config)["user_properties"] == {
        "phone": "990", "$add": {"age": 12, "friends": 3}, "$setOnce": {"subjects": 5},
        "$append": {"name": "Manashi"}, "$prepend": {"experience": 2}}


def test_enhanced_user_operations_put_properties_under_set(catalog: Catalog) -> None:
    """With enableEnhancedUserOperations the plain user properties move under $set, even none."""
    config = {**CONFIG, "enableEnhancedUserOperations": True,
              "traitsToIncrement": [{"traits": "missing"}]}
    message = {"type": "identify", "userId": "u1", "anonymousId": "a1", "traits": {"a": 1}}
    assert _event(catalog, message, config)["user_properties"] == {"$add": {}, "$set": {"a": 1}}
    (alias,) = _outputs(catalog, {**message, "type": "alias", "previousId": "p"}, config)
    assert alias["body"]["FORM"]["mapping"] == [
        '{"global_user_id":"u1","user_id":"p","user_properties":{"$set":{}}}']


def test_dotted_trait_names_nest_as_set_value_does(catalog: Catalog) -> None:
    """A dotted trait name makes nested user properties; one with "/" lands on the event itself."""
    message = {"type": "identify", "userId": "u1", "traits": {"a.b": 1, "c.0": 2, "d/e.f": 3}}
    event = _event(catalog, message)
    assert event["user_properties"] == {"a": {"b": 1}, "c": [2]}
    assert event["user_properties.d/e.f"] == 3


def test_event_id_only_when_not_a_string(catalog: Catalog) -> None:
    """integrations.Amplitude.event_id is sent unless it is a string."""
    assert _event(catalog, _web(type="track", event="E",
                                integrations={"Amplitude": {"event_id": 7}}))["event_id"] == 7
    assert "event_id" not in _event(catalog, _web(type="track", event="E",
                                                  integrations={"Amplitude": {"event_id": "0"}}))


def test_skip_user_properties_sync(catalog: Catalog) -> None:
    """skipUserPropertiesSync adds $skip_user_properties_sync."""
    message = _web(type="track", event="E",
                   integrations={"Amplitude": {"skipUserPropertiesSync": True}})
    assert _event(catalog, message)["$skip_user_properties_sync"] is True


def test_mobile_advertising_ids_and_device_brand(catalog: Catalog) -> None:
    """Mobile events send idfa/idfv (Apple) or adid (Android); the brand is the manufacturer."""
    device = {"type": "ios", "id": "dev", "advertisingId": "ad", "manufacturer": "Apple",
              "brand": "apple-brand"}
    message = {"type": "track", "event": "E", "userId": "u", "channel": "mobile",
               "context": {"device": device}}
    event = _event(catalog, message)
    assert (event["idfa"], event["idfv"], event["device_brand"]) == ("ad", "dev", "Apple")
    assert _event(catalog, message, {**CONFIG, "mapDeviceBrand": True})["device_brand"] == \
        "apple-brand"
    android = copy.deepcopy(message)
    android["context"]["device"]["type"] = "Android"
    event = _event(catalog, android)
    assert event["adid"] == "ad" and "idfa" not in event


def test_session_id_from_the_root_or_the_context(catalog: Catalog) -> None:
    """session_id: the number after the last ":" of the root one, else context.sessionId, else -1."""
    base = {"type": "track", "event": "E", "userId": "u"}
    assert _event(catalog, {**base, "session_id": "abc:1234"})["session_id"] == 1234
    assert _event(catalog, {**base, "session_id": 1700000000123})["session_id"] == 1700000000123
    assert _event(catalog, {**base, "context": {"sessionId": "99"}})["session_id"] == 99
    assert _event(catalog, {**base, "session_id": "x:y", "context": {"sessionId": "z"}}) \
        ["session_id"] == -1


def test_time_without_or_with_a_bad_timestamp(catalog: Catalog) -> None:
    """time is 0 without a timestamp and null when it does not parse."""
    assert _event(catalog, {"type": "track", "event": "E", "userId": "u"})["time"] == 0
    assert _event(catalog, {"type": "track", "event": "E", "userId": "u",
                            "timestamp": "not a date"})["time"] is None


# --- page, screen, group, alias -----------------------------------------------------------------


def test_page_names(catalog: Catalog) -> None:
    """Pages are "Viewed <name> Page" unless a user template names them."""
    page = _web(type="page", name="Home", properties={"category": "docs", "title": "T"})
    event = _event(catalog, page)
    assert event["event_type"] == "Viewed Home Page"
    assert event["event_properties"] == {"category": "docs", "title": "T", "name": "Home"}
    custom = {**CONFIG, "useUserDefinedPageEventName": True,
              "userProvidedPageEventString": "My custom Page Name is {{ name }} . Custom Name."}
    assert _event(catalog, page, custom)["event_type"] == \
        "My custom Page Name is Home . Custom Name."
    blank = {**custom, "userProvidedPageEventString": ""}
    assert _event(catalog, page, blank)["event_type"] == "Home"
    off = {**custom, "useUserDefinedPageEventName": False}
    assert _event(catalog, page, off)["event_type"] == "Viewed Home Page"
    dollar = {**custom, "userProvidedPageEventString": "A {{ x }} B"}
    assert _event(catalog, {**page, "x": "$&"}, dollar)["event_type"] == "A {{ x }} B"
    missing = _error(catalog, page, {**CONFIG, "useUserDefinedPageEventName": True})
    assert missing["error"].startswith("Event type is missing")


def test_screen_names(catalog: Catalog) -> None:
    """Screens are "Viewed <name> Screen"; a blank user template keeps the message's name."""
    screen = {"type": "screen", "userId": "u", "event": "Home", "properties": {"prop1": "5"}}
    event = _event(catalog, screen)
    assert (event["event_type"], event["event_properties"]) == \
        ("Viewed Home Screen", {"prop1": "5", "name": "Home"})
    custom = {**CONFIG, "useUserDefinedScreenEventName": True,
              "userProvidedScreenEventString": "Screen {{ event }}!"}
    assert _event(catalog, screen, custom)["event_type"] == "Screen Home!"
    blank = {**custom, "userProvidedScreenEventString": ""}
    assert _error(catalog, screen, blank)["error"].startswith("Event type is missing")
    assert _event(catalog, {**screen, "name": "Named"}, blank)["event_type"] == "Named"


def test_group_with_integration_groups_sends_groupidentify(catalog: Catalog) -> None:
    """A group call with integrations.Amplitude.groups identifies the group too."""
    message = _web(type="group", groupId="g",
                   integrations={"Amplitude": {"groups": {"group_type": "Company",
                                                          "group_value": "ABC"}}})
    event_request, group_request = _outputs(catalog, message)
    event = event_request["body"]["JSON"]["events"][0]
    assert event["groups"] == {"Company": "ABC"}
    assert event["user_properties"]["Company"] == "ABC"
    assert group_request["endpoint"] == "https://api2.amplitude.com/groupidentify"
    assert group_request["body"]["FORM"] == {
        "api_key": "am2", "identification": ['{"group_type":"Company","group_value":"ABC"}']}


def test_group_traits_settings_and_eu_residency(catalog: Catalog) -> None:
    """Group trait settings name the group; EU destinations use the EU endpoints."""
    config = {**CONFIG, "groupTypeTrait": "name_trait", "groupValueTrait": "value_trait",
              "residencyServer": "EU"}
    traits = {"name_trait": "Company", "value_trait": "ABC", "x": 1}
    event_request, group_request = _outputs(catalog, _web(type="group", traits=traits), config)
    assert event_request["endpoint"] == "https://api.eu.amplitude.com/2/httpapi"
    assert group_request["endpoint"] == "https://api.eu.amplitude.com/groupidentify"
    assert group_request["body"]["FORM"]["identification"] == [
        '{"group_type":"Company","group_value":"ABC","group_properties":'
        '{"name_trait":"Company","value_trait":"ABC","x":1}}']


def test_alias_and_unmap(catalog: Catalog) -> None:
    """Aliases post a usermap FORM; integrations.Amplitude.unmap unmaps the previous id."""
    message = _web(type="alias", previousId="old", userId="new")
    (alias,) = _outputs(catalog, message)
    assert (alias["endpoint"], alias["endpointPath"], alias["headers"]) == \
        ("https://api2.amplitude.com/usermap", "usermap", {})
    assert alias["body"]["FORM"]["mapping"] == [
        '{"global_user_id":"new","user_id":"old","user_properties":{"initial_referrer":'
        '"https://docs.rudderstack.com","initial_referring_domain":"docs.rudderstack.com",'
        '"utm_source":"google","utm_medium":"medium","utm_name":"some campaign"}}']
    unmap = _web(type="alias", previousId="old", integrations={"Amplitude": {"unmap": "old"}})
    unmap["context"] = {}
    (alias,) = _outputs(catalog, unmap)
    assert alias["body"]["FORM"]["mapping"] == ['{"user_id":"old","user_properties":{},"unmap":true}']
    eu = _outputs(catalog, message, {**CONFIG, "residencyServer": "EU"})[0]
    assert eu["endpoint"] == "https://api.eu.amplitude.com/usermap"


def test_tracks_named_like_calls_are_built_as_those_calls(catalog: Catalog) -> None:
    """As in the reference, a track named "identify" or "alias" is built as that call."""
    identify = _event(catalog, {"type": "track", "event": "identify", "userId": "u",
                                "traits": {"a": 1}})
    assert identify["event_type"] == "$identify"
    (alias,) = _outputs(catalog, {"type": "track", "event": "alias", "userId": "u",
                                  "previousId": "p"})
    assert set(alias["body"]["FORM"]) == {"api_key", "events"}


# --- revenue --------------------------------------------------------------------------------


@pytest.mark.parametrize(("once", "per_product", "types", "revenue_on"), [
    (True, False, ["Order Completed"], [0]),
    (False, True, ["Order Completed", "Product Purchased", "Product Purchased"], [1, 2]),
    (True, True, ["Order Completed", "Product Purchased", "Product Purchased"], [1, 2]),
    (None, None, ["Order Completed"], []),
    (False, False, ["Order Completed", "Product Purchased", "Product Purchased"], [0]),
])
def test_revenue_events_by_settings(catalog: Catalog, once: bool | None,
                                    per_product: bool | None, types: list[str],
                                    revenue_on: list[int]) -> None:
    """trackProductsOnce/trackRevenuePerProduct decide the product events and which carry revenue."""
    config: dict[str, Any] = dict(CONFIG)
    if once is not None:
        config["trackProductsOnce"] = once
    if per_product is not None:
        config["trackRevenuePerProduct"] = per_product
    events = [o["body"]["JSON"]["events"][0] for o in _outputs(catalog, ORDER, config)]
    assert [e["event_type"] for e in events] == types
    assert [i for i, e in enumerate(events) if "revenueType" in e] == revenue_on
    assert [e["insert_id"] for e in events] == ["m-1", "m-1-1", "m-1-2"][:len(events)]
    if 1 in revenue_on:  # the revenue fields leave the product's event properties
        assert events[1]["event_properties"] == {"sku": "a"}
    assert ("products" in events[0]["event_properties"]) is (once is not False)


def test_revenue_without_products_takes_price_or_revenue(catalog: Catalog) -> None:
    """A revenue event's price falls back to its revenue, with quantity 1."""
    message = {**ORDER, "properties": {"revenue": 10, "revenue_type": "x"}}
    event = _event(catalog, message, {**CONFIG, "trackProductsOnce": False})
    assert (event["price"], event["quantity"], event["revenue"], event["revenueType"]) == \
        (10, 1, 10, "x")
    assert event["event_properties"] == {"revenue_type": "x"}


# --- router ---------------------------------------------------------------------------------------


def _identify(job_id: int, user: str, **extra: Any) -> pb.Job:
    message = {"type": "identify", "userId": user, "anonymousId": user,
               "traits": {"n": job_id}, **extra}
    return _job(message, metadata={**META, "jobId": job_id})


def test_router_batches_a_users_events(catalog: Catalog) -> None:
    """Two or more batchable jobs of one user share a /batch request; a lone one goes alone."""
    output = _router(catalog, [_identify(1, "u1"), _identify(2, "u2"), _identify(3, "u1")])
    assert [[m["jobId"] for m in o["metadata"]] for o in output] == [[1, 3], [2]]
    merged, alone = output
    assert merged["batched"] is True and alone["batched"] is False
    request = merged["batchedRequest"]
    assert (request["endpoint"], request["endpointPath"], request["userId"]) == \
        ("https://api2.amplitude.com/batch", "batch", "u1")
    assert request["body"]["JSON"]["api_key"] == "am2"
    assert request["body"]["JSON"]["options"] == {"min_id_length": 1}
    assert [e["user_properties"]["n"] for e in request["body"]["JSON"]["events"]] == [1, 3]
    assert isinstance(alone["batchedRequest"], list)
    assert alone["batchedRequest"][0]["endpoint"] == "https://api2.amplitude.com/2/httpapi"


def test_router_keeps_alias_group_and_dont_batch_alone(catalog: Catalog) -> None:
    """Alias and group jobs (FORM requests) and dontBatch jobs are never merged."""
    alias = _job({"type": "alias", "userId": "u1", "previousId": "p"},
                 metadata={**META, "jobId": 2})
    group = _job({"type": "group", "userId": "u1", "integrations": {"Amplitude": {"groups": {
        "group_type": "T", "group_value": "V"}}}}, metadata={**META, "jobId": 3})
    dont = _job({"type": "identify", "userId": "u1"}, metadata={**META, "jobId": 4,
                                                                "dontBatch": True})
    output = _router(catalog, [_identify(1, "u1"), alias, group, dont, _identify(5, "u1")])
    assert [([m["jobId"] for m in o["metadata"]], o["batched"]) for o in output] == [
        ([1, 5], True), ([2], False), ([3], False), ([4], False)]
    assert len(output[2]["batchedRequest"]) == 2  # the event and its groupidentify request


def test_router_splits_batches_at_1000_events(catalog: Catalog) -> None:
    """A batch carries at most 1000 events; a job's events are never split."""
    jobs = [_identify(i, "u1") for i in range(1, 1003)]
    output = _router(catalog, jobs)
    assert [len(o["batchedRequest"]["body"]["JSON"]["events"]) for o in output] == [1000, 2]
    revenue = [_job({**ORDER, "userId": "u2"}, {**CONFIG, "trackRevenuePerProduct": True},
                    {**META, "jobId": 2000 + i}) for i in range(334)]  # 3 events each
    output = _router(catalog, revenue)
    assert [len(o["batchedRequest"]["body"]["JSON"]["events"]) for o in output] == [999, 3]


def test_router_orders_by_smallest_job_id_and_reports_failures(catalog: Catalog) -> None:
    """Requests come in order of their smallest jobId; a failed job is reported on its own."""
    bad = _job({"type": "foo", "userId": "u3"}, metadata={**META, "jobId": 3})
    output = _router(catalog, [_identify(4, "u2"), _identify(2, "u1"), bad,
                               _identify(1, "u2"), _identify(5, "u1")])
    assert [[m["jobId"] for m in o["metadata"]] for o in output] == [[4, 1], [2, 5], [3]]
    assert output[-1]["statusCode"] == 400
    assert output[-1]["error"] == "message type not supported"


def test_router_eu_batch_endpoint(catalog: Catalog) -> None:
    """Batches of an EU destination go to the EU /batch endpoint."""
    config = {**CONFIG, "residencyServer": "EU"}
    jobs = [_job({"type": "identify", "userId": "u1"}, config, {**META, "jobId": i})
            for i in (1, 2)]
    (batch,) = _router(catalog, jobs)
    assert batch["batchedRequest"]["endpoint"] == "https://api.eu.amplitude.com/batch"
