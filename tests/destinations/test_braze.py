"""Braze: reference cases missing from the conformance sample, router batching, config errors,
and what the service does where the reference needs the network (each checked against the
reference transformer, offline)."""

from __future__ import annotations

from typing import Any

import orjson

from transformer._catalog import load_catalog
from transformer._clock import FixedClock
from transformer._conformance import processor_body, router_body
from transformer._pipeline import Pipeline
from transformer.v1 import transformer_pb2 as pb

PIPELINE = Pipeline(load_catalog())
CONFIG = {"restApiKey": "braze1", "dataCenter": "us-01"}
HOST = "https://rest.iad-01.braze.com"
HEADERS = {"Content-Type": "application/json", "Accept": "application/json",
           "Authorization": "Bearer braze1"}
ANON = "e6ab2c5e-2cda-44a9-a962-e2f67df78bca"
TS = "2020-01-24T06:29:02.362Z"
ALIAS = {"_update_existing_only": False, "user_alias": {"alias_name": ANON, "alias_label": "rudder_id"}}


def destination(config: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"ID": "d1", "Config": CONFIG if config is None else config,
            "DestinationDefinition": {"Name": "BRAZE"}}


def run(msg: dict[str, Any], config: dict[str, Any] | None = None) -> dict[str, Any]:
    """The one processor result for ``msg``."""
    job = pb.Job(message=orjson.dumps(msg), destination=orjson.dumps(destination(config)))
    response, _ = PIPELINE.transform(pb.TransformRequest(destination_type="braze", jobs=[job]),
                                     FixedClock(0))
    (result,) = processor_body(response)
    return result


def body(msg: dict[str, Any], config: dict[str, Any] | None = None) -> Any:
    result = run(msg, config)
    assert result["statusCode"] == 200, result
    return result["output"]["body"]["JSON"]


def error(msg: dict[str, Any], config: dict[str, Any] | None = None) -> tuple[int, str]:
    result = run(msg, config)
    return result["statusCode"], result["error"]


def route(messages: list[dict[str, Any]], config: dict[str, Any] | None = None,
          workspace: str = "w1") -> list[dict[str, Any]]:
    """Router results for ``messages`` (job ids 1, 2, ...) of one destination."""
    dest = orjson.dumps(destination(config))
    request = pb.TransformRequest(destination_type="braze", jobs=[
        pb.Job(message=orjson.dumps(msg), destination=dest,
               metadata=orjson.dumps({"jobId": i, "workspaceId": workspace}))
        for i, msg in enumerate(messages, 1)])
    output: list[dict[str, Any]] = router_body(
        PIPELINE.router_transform(request, FixedClock(0))[0])["output"]
    return output


def job_ids(result: dict[str, Any]) -> list[int]:
    return [m["jobId"] for m in result["metadata"]]


# --- identify -----------------------------------------------------------------------------------


def test_identify_maps_standard_attributes() -> None:
    """Standard traits become Braze attributes (email lower case, gender letter, null kept for
    email/gender/phone only), the others go as they are."""
    out = run({"type": "identify", "userId": "ank101", "context": {"traits": {
        "email": "A@HOTMAIL.COM", "phone": None, "firstName": "anil", "gender": "Female",
        "birthday": "01/01/1971", "avatar": "a.jpg", "address": {"city": "X", "country": None},
        "lastName": None, "job": "Director", "company": None}}})
    assert out["output"]["endpoint"] == f"{HOST}/users/track"
    assert out["output"]["headers"] == HEADERS
    assert out["output"]["body"]["JSON"] == {"attributes": [{
        "dob": "01/01/1971", "email": "a@hotmail.com", "first_name": "anil", "gender": "F",
        "home_city": "X", "image_url": "a.jpg", "phone": None, "job": "Director",
        "company": None, "external_id": "ank101"}]}


def test_identify_with_an_alias_goes_on_without_the_identify_call() -> None:
    """The reference first calls /users/identify (network); here the event goes on."""
    assert body({"type": "identify", "userId": "mickey@disney.com", "anonymousId": ANON,
                 "traits": {"firstName": "Mickey"}}) == {
        "attributes": [{"first_name": "Mickey", "external_id": "mickey@disney.com"}]}


def test_identify_without_attributes_is_rejected() -> None:
    """identify needs at least one attribute."""
    assert error({"type": "identify", "userId": "u", "anonymousId": ANON}) == (
        400, "No attributes found to update the user profile")


def test_identify_with_a_non_string_email_is_rejected() -> None:
    """An email that is not a string is an error."""
    assert error({"type": "identify", "anonymousId": ANON, "traits": {"email": 5}}) == (
        400, "Invalid email, email must be a valid string")


def test_identify_alias_from_the_integrations_object() -> None:
    """An anonymous user is named by integrations.Braze.alias when it has name and label."""
    assert body({"type": "identify", "anonymousId": ANON, "traits": {"a": 1},
                 "integrations": {"braze": {"alias": {"alias_name": "n", "alias_label": "l"}}}}) == {
        "attributes": [{"a": 1, "_update_existing_only": False,
                        "user_alias": {"alias_name": "n", "alias_label": "l"}}]}


def test_identify_external_id_from_context() -> None:
    """A brazeExternalId in context.externalId is the external_id."""
    assert body({"type": "identify", "userId": "u", "traits": {"a": 1}, "context": {
        "externalId": [{"type": "brazeExternalId", "id": "ext"}]}})["attributes"] == [
        {"a": 1, "external_id": "ext"}]


def test_nested_array_operations() -> None:
    """With enableNestedArrayOperations object traits become $update/$remove/$add."""
    traits = {"pets": {"update": [{"identifier": "id", "id": 1, "name": "x"}],
                       "remove": [{"identifier": "id", "id": 2}], "add": [{"id": 3}]},
              "cars": {"add": [1]}}
    assert body({"type": "identify", "userId": "u", "traits": traits,
                 "properties": {"mergeObjectsUpdateOperation": True}},
                {**CONFIG, "enableNestedArrayOperations": True}) == {"attributes": [{
        "pets": {"$update": [{"$identifier_key": "id", "$identifier_value": 1,
                              "$new_object": {"name": "x"}}],
                 "$remove": [{"$identifier_key": "id", "$identifier_value": 2}],
                 "$add": [{"id": 3}]},
        "cars": {"add": [1], "$add": [1]}, "_merge_objects": True, "external_id": "u"}]}


# --- track, page, screen ------------------------------------------------------------------------


def test_track_event_with_reserved_properties_removed() -> None:
    """A track event sends its properties without time and event_name, and the attributes."""
    assert body({"type": "track", "userId": "u", "event": "e", "timestamp": TS,
                 "traits": {"x": 1}, "properties": {"time": 1, "event_name": 2, "k": 3},
                 "integrations": {"Braze": {"appId": 12}}}) == {
        "partner": "RudderStack", "attributes": [{"x": 1, "external_id": "u"}],
        "events": [{"name": "e", "time": TS, "properties": {"k": 3}, "external_id": "u",
                    "app_id": "12"}]}


def test_anonymous_page_is_named_page_viewed() -> None:
    """An anonymous page event is "Page Viewed" by user_alias."""
    assert body({"type": "page", "anonymousId": ANON, "timestamp": TS}) == {
        "partner": "RudderStack",
        "events": [{"name": "Page Viewed", "time": TS, "properties": {}, **ALIAS}]}


def test_track_with_string_properties_is_rejected() -> None:
    """Properties must be an object."""
    assert error({"type": "track", "userId": "u", "event": "e", "properties": "abc"}) == (
        400, "Invalid event properties")


def test_order_completed_sends_purchases() -> None:
    """Order Completed: one purchase per product, numbers parsed, extra properties when
    enabled."""
    msg = {"type": "track", "event": "Order Completed", "userId": "u", "timestamp": TS,
           "properties": {"currency": "USD", "products": [
               {"product_id": 1, "price": "12.5x", "quantity": "3.7", "color": "red"},
               {"sku": "s", "price": 0, "quantity": 0}]}}
    assert body(msg, {**CONFIG, "sendPurchaseEventWithExtraProperties": True})["purchases"] == [
        {"product_id": "1", "price": 12.5, "currency": "USD", "quantity": 3, "time": TS,
         "properties": {"color": "red"}, "external_id": "u"},
        {"product_id": "s", "price": 0, "currency": "USD", "quantity": 0, "time": TS,
         "external_id": "u"}]


def test_order_completed_with_a_null_product_is_rejected() -> None:
    """The reference validates without null products but builds with them and crashes (500);
    here a 400."""
    assert error({"type": "track", "event": "Order Completed", "userId": "u", "timestamp": TS,
                  "properties": {"currency": "X", "products": [
                      {"sku": "s", "price": 1, "quantity": 1}, None]}}) == (
        400, "Invalid Order Completed event: Product at index: 1 is null")


def test_order_completed_validation() -> None:
    """Purchases need products with ids, prices, quantities and a currency."""
    msg: dict[str, Any] = {"type": "track", "event": "order completed", "userId": "u",
                           "originalTimestamp": TS}
    prefix = "Invalid Order Completed event:"
    assert error({**msg, "properties": {}})[1] == f"{prefix} Products array is missing in the message"
    assert error({**msg, "properties": {"products": {}}})[1] == f"{prefix} Products is not an array"
    assert error({**msg, "properties": {"products": [{"price": 1}]}})[1] == \
        f"{prefix} Product Id is missing for product at index: 0"
    assert error({**msg, "properties": {"products": [{"sku": "a", "price": 1, "quantity": 1}]}})[1] \
        == f"{prefix} Message properties and product at index: 0 is missing currency"


# --- recommended ecommerce events ---------------------------------------------------------------

ECOMMERCE = {**CONFIG, "useEcommerceRecommendedEvents": True}


def test_product_viewed() -> None:
    """Product Viewed -> ecommerce.product_viewed, types coerced, the rest under metadata."""
    event = body({"type": "track", "event": " Product Viewed ", "userId": "u", "timestamp": TS,
                  "channel": "mobile", "context": {"os": {"name": "iOS"}},
                  "properties": {"product_id": 12, "name": "n", "price": " 3.5 ",
                                 "currency": "USD", "extra": "x", "time": 1, "blank": " "}},
                 ECOMMERCE)["events"][0]
    assert event == {"name": "ecommerce.product_viewed", "time": TS, "external_id": "u",
                     "properties": {"product_id": "12", "product_name": "n", "variant_id": "12",
                                    "price": 3.5, "currency": "USD", "source": "ios",
                                    "metadata": {"extra": "x"}}}


def test_product_added_wraps_a_single_product() -> None:
    """Product Added -> cart_updated (add) with the top-level product fields as products[0]."""
    event = body({"type": "track", "event": "product added", "anonymousId": ANON,
                  "properties": {"product_id": "p", "name": "n", "quantity": "2", "price": "1.5",
                                 "cart_id": 5, "currency": "EUR", "action": "zz",
                                 "other": {"a": 1}}}, ECOMMERCE)["events"][0]
    assert event == {"name": "ecommerce.cart_updated", **ALIAS, "properties": {
        "cart_id": "5", "currency": "EUR", "source": "web", "action": "add",
        "products": [{"product_id": "p", "product_name": "n", "variant_id": "p", "quantity": 2,
                      "price": 1.5}],
        "metadata": {"other": {"a": 1}}}}


def test_order_cancelled() -> None:
    """Order Cancelled -> ecommerce.order_cancelled (its reason as cancel_reason)."""
    event = body({"type": "track", "event": "Order Cancelled", "userId": "u",
                  "properties": {"order_id": "o", "reason": "r", "total": 0}},
                 ECOMMERCE)["events"][0]
    assert event["properties"] == {"order_id": "o", "total_value": 0, "cancel_reason": "r",
                                   "source": "web"}


# --- group and alias ----------------------------------------------------------------------------


def test_group_sets_a_group_attribute() -> None:
    """group adds ab_rudder_group_<groupId>: true to the user (traits.groupId too)."""
    assert body({"type": "group", "userId": "u", "traits": {"groupId": 1234}}) == {
        "attributes": [{"ab_rudder_group_1234": True, "external_id": "u"}],
        "partner": "RudderStack"}


def test_subscription_group_prefers_the_phone() -> None:
    """With enableSubscriptionGroupInGroupCall a group sets a subscription state."""
    out = run({"type": "group", "userId": "u", "groupId": "g",
               "traits": {"email": "e@x.com", "phone": "p", "subscriptionState": "subscribed"}},
              {**CONFIG, "enableSubscriptionGroupInGroupCall": True})["output"]
    assert out["endpoint"] == f"{HOST}/v2/subscription/status/set"
    assert out["userId"] == ""
    assert out["body"]["JSON"] == {"subscription_groups": [{
        "subscription_group_id": "g", "subscription_state": "subscribed", "external_ids": ["u"],
        "phones": ["p"]}]}


def test_subscription_group_needs_a_state() -> None:
    """The subscription state must be subscribed or unsubscribed."""
    assert error({"type": "group", "userId": "u", "groupId": "g", "traits": {"email": "e"}},
                 {**CONFIG, "enableSubscriptionGroupInGroupCall": True})[1] == (
        "you must provide a subscription state in traits and possible values are subscribed "
        "and unsubscribed.")


def test_alias_merges_users() -> None:
    """alias merges previousId into userId."""
    out = run({"type": "alias", "userId": "userMergeTest2", "previousId": "userId"})["output"]
    assert out["endpoint"] == f"{HOST}/users/merge"
    assert out["body"]["JSON"] == {"merge_updates": [{
        "identifier_to_merge": {"external_id": "userId"},
        "identifier_to_keep": {"external_id": "userMergeTest2"}}]}


def test_alias_needs_a_previous_id() -> None:
    """alias without previousId is rejected."""
    assert error({"type": "alias", "userId": "u"}) == (
        400, "[BRAZE]: previousId is required for alias call")


# --- config and types ---------------------------------------------------------------------------


def test_data_center_errors() -> None:
    """An invalid dataCenter fails when the request is built."""
    msg = {"type": "track", "userId": "u", "event": "e"}
    assert error(msg, {"restApiKey": "k"}) == (400, "Invalid Data Center: valid values are EU, US, AU")
    assert error(msg, {"restApiKey": "k", "dataCenter": "xx-1"}) == (
        400, "Invalid Data Center: xx-1, valid values are EU, US, AU")


def test_data_center_hosts() -> None:
    """EU, US and AU data centers have their own hosts."""
    msg = {"type": "track", "userId": "u", "event": "e"}
    assert run(msg, {"restApiKey": "k", "dataCenter": " EU-02"})["output"]["endpoint"] == \
        "https://rest.fra-02.braze.eu/users/track"
    assert run(msg, {"restApiKey": "k", "dataCenter": "au-01"})["output"]["endpoint"] == \
        "https://rest.au-01.braze.com/users/track"


def test_message_types() -> None:
    """An unknown type is a 400, and so is a missing or non-string one (a 500 there)."""
    assert error({"type": "record", "userId": "u"}) == (400, "Message type is not supported")
    assert error({"type": 5, "userId": "u"}) == (400, "Message type is not supported")
    assert error({"userId": "u"}) == (400, "Event type is required")


def test_processor_dedup_is_a_configuration_error() -> None:
    """supportDedup in processor mode: the reference has no user store there and crashes."""
    result = run({"type": "identify", "userId": "u", "traits": {"a": 1}},
                 {**CONFIG, "supportDedup": True})
    assert (result["statusCode"], result["error"], result["statTags"]["errorType"]) == (
        400, "supportDedup is supported by the router transformation only", "configuration")


def test_warehouse_traits_must_be_an_object() -> None:
    """A warehouse identify sends its traits as they are, which must be an object."""
    assert error({"type": "identify", "traits": "abc", "context": {
        "mappedToDestination": True, "externalId": [{"id": "e1"}]}}) == (
        400, "traits must be an object")


# --- router -------------------------------------------------------------------------------------


def test_router_sends_one_result_with_a_list_of_requests() -> None:
    """All jobs become one batched result: track, subscription and merge requests, errors after."""
    config = {**CONFIG, "enableSubscriptionGroupInGroupCall": True}
    sub = {"type": "group", "groupId": "g", "traits": {"phone": "5", "subscriptionState": "subscribed"}}
    output = route([{"type": "track", "userId": "u1", "event": "e"},
                    {**sub, "userId": "u1"}, {"type": "alias", "userId": "a"},
                    {**sub, "userId": "u2"}, {"type": "alias", "userId": "n", "previousId": "p"}],
                   config)
    assert [o["statusCode"] for o in output] == [200, 400]
    assert output[0]["batched"] is True
    assert job_ids(output[0]) == [1, 2, 4, 5]
    assert job_ids(output[1]) == [3]
    requests = output[0]["batchedRequest"]
    assert [r["endpointPath"] for r in requests] == [
        "users/track", "v2/subscription/status/set", "users/merge"]
    assert requests[0]["body"]["JSON"] == {"partner": "RudderStack", "events": [
        {"name": "e", "properties": {}, "external_id": "u1"}]}
    assert requests[1]["body"]["JSON"] == {"subscription_groups": [
        {"subscription_group_id": "g", "subscription_state": "subscribed", "phones": ["5"],
         "external_ids": ["u1", "u2"]}]}
    assert all(r["headers"] == HEADERS and "userId" not in r for r in requests)


def test_router_orders_jobs_by_user_as_javascript_orders_keys() -> None:
    """Jobs are grouped by userId (else anonymousId), numeric ids first in ascending order."""
    output = route([{"type": "track", "userId": "b", "event": "1"},
                    {"type": "track", "userId": "10", "event": "2"},
                    {"type": "track", "anonymousId": "z", "event": "3"},
                    {"type": "track", "userId": "2", "event": "4"},
                    {"type": "track", "userId": "b", "event": "5"}])
    assert job_ids(output[0]) == [4, 2, 1, 5, 3]


def test_router_track_requests_hold_at_most_75_users() -> None:
    """A /users/track request names at most 75 users and holds 75 items of a kind."""
    output = route([{"type": "track", "userId": f"u{i:03d}", "event": "e", "traits": {"k": i}}
                    for i in range(160)])
    sizes = [(len(r["body"]["JSON"]["attributes"]), len(r["body"]["JSON"]["events"]))
             for r in output[0]["batchedRequest"]]
    assert sizes == [(75, 75), (75, 75), (10, 10)]


def test_router_cuts_subscriptions_at_25_and_merges_at_50() -> None:
    """Subscription groups go 25 per request (merged per group and state), merges 50."""
    config = {**CONFIG, "enableSubscriptionGroupInGroupCall": True}
    messages = [{"type": "group", "userId": f"u{i}", "groupId": f"g{i}",
                 "traits": {"email": "e@x.com", "subscriptionState": "subscribed"}}
                for i in range(30)]
    messages += [{"type": "alias", "userId": f"n{i}", "previousId": f"p{i}"} for i in range(60)]
    requests = route(messages, config)[0]["batchedRequest"]
    assert [(r["endpointPath"], len(next(iter(r["body"]["JSON"].values())))) for r in requests] == [
        ("v2/subscription/status/set", 25), ("v2/subscription/status/set", 5),
        ("users/merge", 50), ("users/merge", 10)]


def test_router_dedup_within_a_request() -> None:
    """supportDedup drops attributes a user already sent in the same request: a repeated
    identify is rejected, a track event keeps its event without them."""
    config = {**CONFIG, "supportDedup": True}
    output = route([{"type": "identify", "userId": "u1", "traits": {"a": 1, "b": 2}},
                    {"type": "identify", "userId": "u1", "traits": {"a": 1, "b": 2}},
                    {"type": "identify", "userId": "u1", "traits": {"a": 1, "b": 3, "country": "US"}},
                    {"type": "track", "userId": "u1", "event": "e", "traits": {"a": 1}}], config)
    assert [o["statusCode"] for o in output] == [200, 400]
    assert output[1]["error"] == "[Braze Deduplication]: Duplicate user detected, the user is dropped"
    assert job_ids(output[1]) == [2]
    track = output[0]["batchedRequest"][0]["body"]["JSON"]
    assert track["attributes"] == [{"a": 1, "b": 2, "external_id": "u1"},
                                   {"b": 3, "country": "US", "external_id": "u1"}]
    assert track["events"] == [{"name": "e", "properties": {}, "external_id": "u1"}]


def test_router_dedup_keeps_requests_apart() -> None:
    """What one router request sent does not drop attributes of the next one."""
    config = {**CONFIG, "supportDedup": True}
    msg = {"type": "identify", "userId": "u1", "traits": {"a": 1}}
    assert [o["statusCode"] for o in route([msg], config)] == [200]
    assert [o["statusCode"] for o in route([msg], config)] == [200]
