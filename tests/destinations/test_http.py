"""HTTP: the reference cases our conformance sample lacks, XML/FORM bodies, router batching,
header validation, the mapping language and its errors."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transformer.destinations.http import _template
from transformer.v1 import transformer_pb2 as pb

from . import _support

SECRET1, SECRET2 = "http1", "http2"  # the reference's masked secrets
BASIC = "Basic " + base64.b64encode(b"http1:").decode()
BEARER = "Bearer http2"
TRAITS = {
    "email": "john.doe@example.com", "firstName": "John", "lastName": "Doe", "phone": "1234567890",
    "address": {"city": "New York", "country": "USA", "pinCode": "123456"},
}
PRODUCTS = [
    {"product_id": "622c6f5d5cf86a4c77358033", "sku": "8472-998-0112", "name": "Cones of Dunshire",
     "price": 40, "position": 1, "category": "Games", "url": "https://www.website.com/product/path",
     "image_url": "https://www.website.com/product/path.jpg"},
    {"product_id": "577c6f5d5cf86a4c7735ba03", "sku": "3309-483-2201", "name": "Five Crowns",
     "price": 5, "position": 2, "category": "Games"},
]
PROPERTIES = {
    "checkout_id": "70324a1f0eaf000000000000", "order_id": "40684e8f0eaf000000000000",
    "affiliation": "Vandelay Games", "total": 52.0, "subtotal": 45.0, "revenue": 50.0,
    "shipping": 4.0, "tax": 3.0, "discount": 5.0, "coupon": "NEWCUST5", "currency": "USD",
    "products": PRODUCTS,
}
IDENTIFY = {"type": "identify", "userId": "userId123", "anonymousId": "anonId123", "traits": TRAITS}
TRACK = {"type": "track", "userId": "userId123", "event": "Order Completed", "properties": PROPERTIES}
ITEMS_MAPPING = [
    {"from": "$.event", "to": "$.event"},
    {"from": "$.properties.currency", "to": "$.currency"},
    {"from": "$.userId", "to": "$.userId"},
    {"from": "$.properties.products[*].product_id", "to": "$.properties.items[*].item_id"},
    {"from": "$.properties.products[*].name", "to": "$.properties.items[*].name"},
    {"from": "$.properties.products[*].price", "to": "$.properties.items[*].price"},
]
CONTACTS_MAPPING = [
    {"from": "$.traits.firstName", "to": "$.contacts.first_name"},
    {"from": "$.traits.email", "to": "$.contacts.email"},
    {"from": "$.traits.address.pinCode", "to": "$.contacts.address.pin_code"},
]
BASIC_GET = {
    "apiUrl": "http://abc.com/contacts", "auth": "basicAuth", "username": SECRET1, "password": "",
    "method": "GET", "format": "JSON", "isBatchingEnabled": True, "maxBatchSize": 2,
    "headers": [{"to": "$.h1", "from": "'val1'"}, {"to": "$.h2", "from": "2"},
                {"to": "$.'content-type'", "from": "'application/json'"},
                {"to": "$.h3", "from": "$.traits.firstName"}],
    "queryParams": [{"to": "$['q1']", "from": "'val1'"}, {"to": "$.q2", "from": "$.traits.email"}],
}
FORM_BEARER = {
    "apiUrl": "http://abc.com/events", "auth": "bearerTokenAuth", "bearerToken": SECRET2,
    "method": "POST", "format": "FORM",
    "headers": [{"to": "$.h1", "from": "'val1'"}, {"to": "$.h2", "from": "$.key1"},
                {"to": "$.'content-type'", "from": "'application/json'"}],
    "propertiesMapping": [{"from": "$.event", "to": "$.event"},
                          {"from": "$.properties.currency", "to": "$.currency"},
                          {"from": "$.userId", "to": "$.userId"}],
}
MINIMAL = {"apiUrl": "http://abc.com/c"}


def metadata(job_id: int = 1, user_id: str = "default-userId") -> dict[str, Any]:
    """The reference tests' generateMetadata(jobId, userId)."""
    return {"jobId": job_id, "attemptNum": 1, "userId": user_id, "sourceId": "default-sourceId",
            "destinationId": "default-destinationId", "workspaceId": "default-workspaceId",
            "secret": {"accessToken": "default-accessToken"}, "dontBatch": False}


def destination(config: dict[str, Any]) -> dict[str, Any]:
    return {"ID": "123", "Name": "HTTP", "Enabled": True, "WorkspaceID": "test-workspace-id",
            "Config": config, "Transformations": [],
            "DestinationDefinition": {"ID": "123", "Name": "HTTP", "DisplayName": "HTTP", "Config": {}}}


def job(message: Any, config: dict[str, Any], meta: Any = None) -> pb.Job:
    return _support.job(message, None if meta is False else meta or metadata(), destination(config))


def run(message: Any, config: dict[str, Any], meta: Any = None) -> dict[str, Any]:
    """The one processor result for ``message``, in the reference's JSON shape."""
    [result] = _support.transform("http", [job(message, config, meta)])
    return result


def output(message: Any, config: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = _support.output(run(message, config))
    return out


def request(method: str, endpoint: str, headers: dict[str, str], params: Any = None,
            **body: Any) -> dict[str, Any]:
    """The reference's transformResultBuilder: a processor output."""
    return {"version": "1", "type": "REST", "userId": "", "method": method, "endpoint": endpoint,
            "headers": headers, "params": params or {}, "files": {},
            "body": {"JSON": {}, "JSON_ARRAY": {}, "XML": {}, "FORM": {}, **body}}


def error(message: Any, config: dict[str, Any], meta: Any = None) -> tuple[int, str, dict[str, str]]:
    result = run(message, config, meta)
    assert result["statusCode"] != 200, result
    return result["statusCode"], result["error"], result["statTags"]


wrapped = _support.workflow_error


def route(jobs: list[pb.Job]) -> list[dict[str, Any]]:
    return _support.route("http", jobs)


def body_of(config: dict[str, Any], message: Any = TRACK) -> Any:
    return output(message, config)["body"]


# --- the reference's processor cases missing from the conformance sample -------------------------


def test_reference_identify_with_properties_mapping() -> None:
    """Nested output paths build nested JSON objects (configuration test 1)."""
    config = {"apiUrl": "http://abc.com/contacts", "auth": "noAuth", "method": "POST",
              "format": "JSON", "isBatchingEnabled": True, "maxBatchSize": "2",
              "propertiesMapping": CONTACTS_MAPPING}
    assert output(IDENTIFY, config) == request(
        "POST", "http://abc.com/contacts", {"Content-Type": "application/json"},
        JSON={"contacts": {"first_name": "John", "email": "john.doe@example.com",
                           "address": {"pin_code": "123456"}}})


def test_reference_api_key_auth_delete_with_path_params() -> None:
    """A path param is URL-encoded and the doubled slash collapsed (configuration test 2)."""
    config = {"apiUrl": "http://abc.com/contacts/", "auth": "apiKeyAuth", "apiKeyName": "x-api-key",
              "apiKeyValue": "test-api-key", "method": "DELETE", "isBatchingEnabled": True,
              "maxBatchSize": 4, "pathParams": [{"path": "$.traits.email"}]}
    assert output(IDENTIFY, config) == request(
        "DELETE", "http://abc.com/contacts/john.doe%40example.com",
        {"Content-Type": "application/json", "x-api-key": "test-api-key"})


def test_reference_track_with_path_params() -> None:
    """JSON-path and literal path params are appended in order (configuration test 5)."""
    config = {**BASIC_GET, "pathParams": [{"path": "$.userId"}, {"path": "c1"}]}
    assert output(TRACK, config) == request(
        "GET", "http://abc.com/contacts/userId123/c1",
        {"Content-Type": "application/json", "Authorization": BASIC, "h1": "val1", "h2": "2",
         "content-type": "application/json"},
        {"q1": "val1"})


def test_reference_form_with_nested_objects() -> None:
    """FORM stringifies nested objects as compact JSON (configuration test 7)."""
    config = {"apiUrl": "http://abc.com/contacts", "auth": "noAuth", "method": "POST",
              "format": "FORM", "isBatchingEnabled": True, "maxBatchSize": "2",
              "propertiesMapping": CONTACTS_MAPPING}
    assert output(IDENTIFY, config) == request(
        "POST", "http://abc.com/contacts", {"Content-Type": "application/x-www-form-urlencoded"},
        FORM={"contacts": '{"first_name":"John","email":"john.doe@example.com",'
                          '"address":{"pin_code":"123456"}}'})


def test_reference_form_with_mapped_content_type_header() -> None:
    """A mapped lower-case content-type stays beside the format's Content-Type (test 8)."""
    assert output(TRACK, FORM_BEARER) == request(
        "POST", "http://abc.com/events",
        {"Content-Type": "application/x-www-form-urlencoded", "Authorization": BEARER, "h1": "val1",
         "content-type": "application/json"},
        FORM={"currency": "USD", "event": "Order Completed", "userId": "userId123"})


def test_reference_empty_message_gives_empty_form_body() -> None:
    """An empty message maps to nothing, so the FORM body stays {} (configuration test 10)."""
    config = {k: v for k, v in FORM_BEARER.items() if k != "headers"}
    config["headers"] = FORM_BEARER["headers"][:2]
    assert output({}, config) == request(
        "POST", "http://abc.com/events",
        {"Authorization": BEARER, "h1": "val1", "Content-Type": "application/x-www-form-urlencoded"},
        FORM={})


def test_reference_default_mapping_sends_the_whole_event() -> None:
    """isDefaultMapping maps $ to $ and ignores propertiesMapping (configuration test 11)."""
    config = {"apiUrl": "http://abc.com/contacts", "auth": "noAuth", "method": "POST",
              "format": "JSON", "isDefaultMapping": True, "propertiesMapping": []}
    message = {"type": "identify", "userId": "userId123", "anonymousId": "anonId123"}
    assert output(message, config) == request(
        "POST", "http://abc.com/contacts", {"Content-Type": "application/json"}, JSON=message)


# --- the reference's router cases missing from the conformance sample ----------------------------


def test_reference_router_batches_by_headers_and_params() -> None:
    """Same headers/params share batches of maxBatchSize; a different group comes after (test 2)."""
    alex = {**TRAITS, "firstName": "Alex", "lastName": "T", "email": "alex.t@example.com"}
    messages = [IDENTIFY, {**IDENTIFY, "userId": "userId2", "traits": alex},
                {**IDENTIFY, "traits": {**TRAITS, "phone": "2234567890"}},
                {**IDENTIFY, "traits": {**TRAITS, "phone": "3234567890"}}]
    users = ["userId1", "userId2", "userId1", "userId1"]
    jobs = [job(m, BASIC_GET, metadata(i + 1, u))
            for i, (m, u) in enumerate(zip(messages, users, strict=True))]
    results = route(jobs)
    assert [[m["jobId"] for m in r["metadata"]] for r in results] == [[1, 3], [4], [2]]
    assert all(r["batched"] and r["statusCode"] == 200 for r in results)
    assert results[0]["batchedRequest"] == {
        "version": "1", "type": "REST", "method": "GET", "endpoint": "http://abc.com/contacts",
        "headers": {"Authorization": BASIC, "h1": "val1", "h2": "2", "content-type": "application/json",
                    "h3": "John", "Content-Type": "application/json"},
        "params": {"q1": "val1", "q2": "john.doe@example.com"},
        "body": {"JSON": {}, "JSON_ARRAY": {"batch": "[]"}, "XML": {}, "FORM": {}}, "files": {},
    }
    assert results[2]["batchedRequest"]["headers"]["h3"] == "Alex"
    assert results[2]["destination"] == destination(BASIC_GET)


def test_reference_router_batches_post_bodies_as_a_json_string() -> None:
    """Bodies join in one JSON string, keys in mapping order, [*] giving [] without input (test 3)."""
    config = {"apiUrl": "http://abc.com/events", "auth": "noAuth", "method": "POST", "format": "JSON",
              "isBatchingEnabled": True, "maxBatchSize": "4",
              "headers": [{"to": "$.'content-type'", "from": "'application/json'"}],
              "propertiesMapping": ITEMS_MAPPING}
    messages = [
        {"type": "track", "userId": "userId1", "event": "Product Viewed", "context": {"traits": TRAITS}},
        {"type": "track", "userId": "userId2", "event": "Order Completed", "context": {"traits": TRAITS},
         "properties": PROPERTIES},
        {"type": "track", "userId": "userId3", "event": "Product Added", "context": {"traits": TRAITS},
         "properties": PROPERTIES},
    ]
    (result,) = route([job(m, config, metadata(i + 1)) for i, m in enumerate(messages)])
    items = ('[{"item_id":"622c6f5d5cf86a4c77358033","name":"Cones of Dunshire","price":40},'
             '{"item_id":"577c6f5d5cf86a4c7735ba03","name":"Five Crowns","price":5}]')
    assert result["batchedRequest"]["body"]["JSON_ARRAY"]["batch"] == (
        '[{"event":"Product Viewed","userId":"userId1","properties":{"items":[]}},'
        '{"event":"Order Completed","currency":"USD","userId":"userId2","properties":{"items":'
        + items + "}},"
        '{"event":"Product Added","currency":"USD","userId":"userId3","properties":{"items":'
        + items + "}}]")
    assert result["batchedRequest"]["headers"] == {"content-type": "application/json",
                                                   "Content-Type": "application/json"}
    assert [m["jobId"] for m in result["metadata"]] == [1, 2, 3]


# --- XML bodies -----------------------------------------------------------------------------------


def test_xml_repeats_list_items_and_self_closes_empty_values() -> None:
    """Lists repeat their element, "" and {} self-close, [] vanishes, nulls are dropped."""
    config = {**MINIMAL, "format": "XML", "xmlRootKey": "body", "propertiesMapping": [
        {"from": "$.properties.tags", "to": "tags"}, {"from": "$.properties.empty", "to": "e"},
        {"from": "$.properties.none", "to": "n"}, {"from": "$.properties.blank", "to": "b"},
        {"from": "$.properties.list", "to": "l"}, {"from": "$.properties.nested", "to": "x"},
        {"from": "$.properties.gone", "to": "g"}]}
    message: dict[str, Any] = {"properties": {"tags": ["a", None, "b"], "empty": {}, "none": [], "blank": "",
                              "list": [{"id": 1}, {"id": 2, "n": None}], "nested": [[1, 2]],
                              "gone": None}}
    assert body_of(config, message)["XML"] == {"payload": (
        '<?xml version="1.0" encoding="UTF-8"?><body><tags>a</tags><tags>b</tags><e/><b/>'
        "<l><id>1</id></l><l><id>2</id></l><x><0>1</0><1>2</1></x></body>")}


def test_xml_sanitizes_keys_and_escapes_text() -> None:
    """Keys lose characters outside [A-Za-z0-9_.-] and a bad first character; text is escaped."""
    config = {**MINIMAL, "format": "XML", "propertiesMapping": [{"from": "$.properties", "to": "$"}]}
    message = {"properties": {"1bad key": "a&b", "ünï": "<x>", "@_attr": "'q'", "#text": '"',
                              "ns:key": True, "ok-1.x": 1.5, "big": 1e21}}
    assert body_of(config, message)["XML"]["payload"] == (
        '<?xml version="1.0" encoding="UTF-8"?><root><_bad_key>a&amp;b</_bad_key>'
        "<_n_>&lt;x&gt;</_n_><__attr>&apos;q&apos;</__attr><_text>&quot;</_text>"
        "<ns_key>true</ns_key><ok-1.x>1.5</ok-1.x><big>1e+21</big></root>")


def test_xml_root_key_default_null_and_empty_payload() -> None:
    """The root is "root" when unset and String(xmlRootKey) otherwise; an empty payload gives {}."""
    mapping = [{"from": "$.userId", "to": "u"}]
    xml = '<?xml version="1.0" encoding="UTF-8"?>'
    assert body_of({**MINIMAL, "format": "XML", "propertiesMapping": mapping})["XML"] == {
        "payload": xml + "<root><u>userId123</u></root>"}
    assert body_of({**MINIMAL, "format": "XML", "xmlRootKey": None, "propertiesMapping": mapping})[
        "XML"] == {"payload": xml + "<null><u>userId123</u></null>"}
    assert output({}, {**MINIMAL, "format": "XML", "propertiesMapping": mapping}) == request(
        "POST", "http://abc.com/c", {"Content-Type": "application/xml"}, XML={})


def test_xml_too_deep_is_an_instrumentation_error() -> None:
    """The XML builder refuses more than 100 nested tags (the reference: a 500 retried forever)."""
    deep: dict[str, Any] = {}
    cursor = deep
    for _ in range(120):
        cursor["k"] = {}
        cursor = cursor["k"]
    status, message, tags = error({"p": deep}, {**MINIMAL, "format": "XML",
                                                "propertiesMapping": [{"from": "$.p", "to": "$"}]})
    assert (status, message) == (400, wrapped(
        "prepareBody", "Maximum nested tags exceeded: the XML body nests more than 100 tags"))
    assert tags["errorType"] == "instrumentation"


# --- FORM bodies ----------------------------------------------------------------------------------


def test_form_stringifies_first_level_values_as_javascript() -> None:
    """Non-string values become JSON.stringify text with JavaScript number formatting."""
    config = {**MINIMAL, "format": "FORM", "propertiesMapping": [{"from": "$.p", "to": "$"}]}
    message = {"p": {"s": "", "i": 10, "f": 1.5, "whole": 2.0, "big": 1e21, "tiny": 1e-7,
                     "small": 0.00001, "b": False, "o": {}, "a": [], "holes": [1, None, 2],
                     "d": {"k": "v", "n": None}, "u": "ü"}}
    assert body_of(config, message)["FORM"] == {
        "s": "", "i": "10", "f": "1.5", "whole": "2", "big": "1e+21", "tiny": "1e-7",
        "small": "0.00001", "b": "false", "o": "{}", "a": "[]", "holes": "[1,null,2]",
        "d": '{"k":"v"}', "u": "ü"}


def test_form_default_mapping_stringifies_the_event() -> None:
    """isDefaultMapping with FORM sends each top-level event field, objects as JSON."""
    config = {**MINIMAL, "format": "FORM", "isDefaultMapping": True}
    message = {"type": "track", "event": "E", "properties": {"a": 1, "n": None}, "x": None}
    assert body_of(config, message)["FORM"] == {"type": "track", "event": "E",
                                                "properties": '{"a":1}'}


def test_unknown_format_sends_json_under_an_undefined_body_key() -> None:
    """A format outside JSON/XML/FORM keeps the JSON Content-Type and the body key "undefined"."""
    result = output(TRACK, {**MINIMAL, "format": "json",
                            "propertiesMapping": [{"from": "$.event", "to": "e"}]})
    assert result["headers"] == {"Content-Type": "application/json"}
    assert result["body"] == {"JSON": {}, "JSON_ARRAY": {}, "XML": {}, "FORM": {},
                              "undefined": {"e": "Order Completed"}}


def test_json_body_drops_nulls_at_every_depth_but_keeps_list_positions() -> None:
    """removeUndefinedAndNullRecurse: null members vanish, null list items stay as null."""
    message = {"p": {"a": None, "b": {"c": None, "d": 1}, "l": [1, None, {"x": None}]}}
    assert body_of({**MINIMAL, "propertiesMapping": [{"from": "$.p", "to": "$"}]}, message)[
        "JSON"] == {"b": {"d": 1}, "l": [1, None, {}]}


# --- router batching ------------------------------------------------------------------------------

BATCHING = {**MINIMAL, "isBatchingEnabled": True,
            "propertiesMapping": [{"from": "$.event", "to": "event"}]}


def batches(config: dict[str, Any], count: int = 5) -> list[list[int]]:
    """The jobIds of each router result for ``count`` track events."""
    jobs = [job({"type": "track", "event": f"E{i}"}, config, metadata(i)) for i in range(1, count + 1)]
    return [[m["jobId"] for m in r["metadata"]] for r in route(jobs)]


@pytest.mark.parametrize(("size", "expected"), [
    (2, [[1, 2], [3, 4], [5]]),
    ("2", [[1, 2], [3, 4], [5]]),
    (None, [[1, 2, 3, 4, 5]]),
    (0, [[1, 2, 3, 4, 5]]),
    ("", [[1, 2, 3, 4, 5]]),
    ("abc", [[1, 2, 3, 4, 5]]),
    ("0", [[1], [2], [3], [4], [5]]),
    (-1, [[1], [2], [3], [4], [5]]),
    (1.5, [[1], [2], [3], [4], [5]]),
    (True, [[1], [2], [3], [4], [5]]),
])
def test_max_batch_size_is_compared_as_javascript_does(size: Any, expected: list[list[int]]) -> None:
    """maxBatchSize: numeric strings count, falsy or non-numeric means no limit."""
    assert batches({**BATCHING, "maxBatchSize": size}) == expected


def test_batch_body_joins_non_empty_bodies_in_order() -> None:
    """The batch string lists each non-empty body; a batch is batched even with one job."""
    jobs = [job({"type": "track", "event": "E1"}, BATCHING, metadata(1)),
            job({"type": "track"}, BATCHING, metadata(2)),
            job({"type": "track", "event": "E3"}, BATCHING, metadata(3))]
    (result,) = route(jobs)
    assert result["batchedRequest"]["body"]["JSON_ARRAY"] == {"batch": '[{"event":"E1"},{"event":"E3"}]'}
    assert result["batched"] is True and len(result["metadata"]) == 3


def test_batch_string_uses_javascript_key_order_and_numbers() -> None:
    """Integer-like keys come first, ascending; numbers print as JavaScript prints them."""
    config = {**BATCHING, "isDefaultMapping": True}
    message = {"type": "track", "b": 1.0, "10": 1e21, "2": 0.5, "a": "ü"}
    (result,) = route([job(message, config)])
    assert result["batchedRequest"]["body"]["JSON_ARRAY"]["batch"] == \
        '[{"2":0.5,"10":1e+21,"type":"track","b":1,"a":"ü"}]'


@pytest.mark.parametrize("change", [
    {"isBatchingEnabled": False}, {"isBatchingEnabled": 0}, {"format": "XML"}, {"format": "FORM"},
    {"format": "json"},
])
def test_without_batching_each_job_goes_alone_in_order(change: dict[str, Any]) -> None:
    """Batching needs isBatchingEnabled and format JSON; otherwise jobs stay unbatched, in order."""
    config = {**BATCHING, "maxBatchSize": 2, **change}
    jobs = [job({"type": "track", "event": f"E{i}"}, config, metadata(i)) for i in (1, 2, 3)]
    results = route(jobs)
    assert [r["metadata"][0]["jobId"] for r in results] == [1, 2, 3]
    assert all(r["batched"] is False for r in results)
    assert "userId" not in results[0]["batchedRequest"]
    assert results[0]["batchedRequest"] == {k: v for k, v in output(
        {"type": "track", "event": "E1"}, config).items() if k != "userId"}


def test_string_false_enables_batching() -> None:
    """isBatchingEnabled "false" is a truthy string, so events are batched."""
    assert batches({**BATCHING, "isBatchingEnabled": "false"}, 2) == [[1, 2]]


def test_batches_group_by_endpoint_headers_and_params() -> None:
    """Jobs differing in endpoint, a header or a param go to different batches, first seen first."""
    config = {**BATCHING, "headers": [{"from": "$.h", "to": "h"}],
              "queryParams": [{"from": "$.q", "to": "q"}], "pathParams": [{"path": "$.p"}]}
    messages = [{"h": "a", "q": "1", "p": "x"}, {"h": "b", "q": "1", "p": "x"},
                {"h": "a", "q": "2", "p": "x"}, {"h": "a", "q": "1", "p": "y"},
                {"h": "a", "q": "1", "p": "x"}]
    results = route([job(m, config, metadata(i + 1)) for i, m in enumerate(messages)])
    assert [[m["jobId"] for m in r["metadata"]] for r in results] == [[1, 5], [2], [3], [4]]


def test_header_key_order_separates_batches() -> None:
    """Headers are compared as JSON strings, so the same headers in another order do not batch."""
    config = {**BATCHING, "headers": [{"from": "$.h", "to": "$"}]}
    messages = [{"h": {"a": "x", "b": "y"}}, {"h": {"b": "y", "a": "x"}}, {"h": {"a": "x", "b": "y"}}]
    results = route([job(m, config, metadata(i + 1)) for i, m in enumerate(messages)])
    assert [[m["jobId"] for m in r["metadata"]] for r in results] == [[1, 3], [2]]


def test_router_failures_follow_the_batches() -> None:
    """Failed jobs come after every batch of their destination, each alone and unbatched."""
    config = {**BATCHING, "headers": [{"from": "$.h", "to": "h"}]}
    messages = [{"h": 1}, {"h": "ok"}, {"h": {"x": 1}}, {"h": "ok"}]
    results = route([job(m, config, metadata(i + 1)) for i, m in enumerate(messages)])
    assert [(r["statusCode"], [m["jobId"] for m in r["metadata"]]) for r in results] == [
        (200, [2, 4]), (400, [1]), (400, [3])]
    assert results[1]["statTags"]["feature"] == "router"
    assert results[1]["batched"] is False


# --- headers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("source", "kind"), [
    ("$.traits.age", "number"), ("$.traits.vip", "boolean"), ("$.traits.address", "object"),
    ("$.traits.tags", "object"), ("$.x ?? null", "object"),
])
def test_non_string_header_values_are_instrumentation_errors(source: str, kind: str) -> None:
    """A mapped header that is not a string fails the event (400, instrumentation)."""
    message = {"traits": {"age": 30, "vip": True, "address": {"city": "NY"}, "tags": ["a"]}}
    status, text, tags = error(message, {**MINIMAL, "headers": [{"from": source, "to": "h"}]})
    problem = f'Header "h" has a non-string value of type "{kind}"'
    assert (status, text) == (400, wrapped("buildHeaders", problem))
    assert (tags["errorCategory"], tags["errorType"]) == ("dataValidation", "instrumentation")


def test_literal_header_values_are_strings() -> None:
    """A from without $ is a string literal, numbers and keywords included; quotes are kept."""
    headers = [{"from": "true", "to": "a"}, {"from": "12", "to": "b"}, {"from": "abc def", "to": "h 2"},
               {"from": '"q"', "to": "c"}, {"from": "", "to": "d"}, {"from": "null", "to": "e"},
               {"from": "'single'", "to": "f"}]
    assert output({}, {**MINIMAL, "headers": headers})["headers"] == {
        "a": "true", "b": "12", "h 2": "abc def", "c": '"q"', "d": "", "e": "null", "f": "single",
        "Content-Type": "application/json"}


def test_missing_and_null_header_values_are_left_out() -> None:
    """A header mapped from a missing or null field is simply absent."""
    headers = [{"from": "$.missing", "to": "a"}, {"from": "$.nul", "to": "b"}]
    assert output({"nul": None}, {**MINIMAL, "headers": headers})["headers"] == {
        "Content-Type": "application/json"}


def test_mapped_headers_override_auth_but_not_content_type() -> None:
    """A mapped Authorization replaces the auth header; the format's Content-Type always wins."""
    config = {**MINIMAL, "auth": "bearerTokenAuth", "bearerToken": "t", "format": "XML",
              "headers": [{"from": "'mine'", "to": "Authorization"},
                          {"from": "'text/plain'", "to": "Content-Type"}]}
    assert output({}, config)["headers"] == {"Authorization": "mine", "Content-Type": "application/xml"}
    config["headers"] = [{"from": "$.missing", "to": "Authorization"}]
    assert output({}, config)["headers"] == {"Content-Type": "application/xml"}


@pytest.mark.parametrize(("config", "expected"), [
    ({"auth": "basicAuth", "username": "u"},
     {"Authorization": "Basic " + base64.b64encode(b"u:undefined").decode()}),
    ({"auth": "basicAuth", "username": "ü", "password": None},
     {"Authorization": "Basic " + base64.b64encode("ü:null".encode()).decode()}),
    ({"auth": "bearerTokenAuth", "bearerToken": 123}, {"Authorization": "Bearer 123"}),
    ({"auth": "apiKeyAuth", "apiKeyName": "X-Key", "apiKeyValue": 1.5}, {"X-Key": "1.5"}),
    ({"auth": "noAuth", "username": "u"}, {}),
    ({"auth": "weird"}, {}),
])
def test_auth_headers(config: dict[str, Any], expected: dict[str, str]) -> None:
    """Credentials are formatted with JavaScript String(); unknown auth types add nothing."""
    assert output({}, {**MINIMAL, **config})["headers"] == {**expected, "Content-Type": "application/json"}


# --- query params and endpoints -------------------------------------------------------------------


def test_query_params_keep_value_types_and_nulls() -> None:
    """Params are not stringified; a null value stays, an undefined one goes."""
    params = [{"from": "$.a", "to": "num"}, {"from": "$.o", "to": "obj"}, {"from": "$.l", "to": "list"},
              {"from": "$.missing", "to": "gone"}, {"from": "$.x ?? null", "to": "nul"},
              {"from": "'v'", "to": "user name"}]
    message = {"a": 30, "o": {"k": 1}, "l": ["a", "b"]}
    assert output(message, {**MINIMAL, "method": "GET", "queryParams": params})["params"] == {
        "num": 30, "obj": {"k": 1}, "list": ["a", "b"], "nul": None, "user name": "v"}


def test_minimal_config() -> None:
    """Only apiUrl: POST, JSON content type, empty params and bodies."""
    assert output({"type": "identify"}, MINIMAL) == request(
        "POST", "http://abc.com/c", {"Content-Type": "application/json"})


def test_method_is_sent_as_written() -> None:
    """The method is not upper-cased or validated, and a GET still gets a body."""
    config = {**MINIMAL, "method": "get", "propertiesMapping": [{"from": "$.event", "to": "e"}]}
    result = output(TRACK, config)
    assert result["method"] == "get"
    assert result["body"]["JSON"] == {"e": "Order Completed"}


@pytest.mark.parametrize(("api_url", "path_params", "endpoint"), [
    ("http://abc.com//c//", [], "http://abc.com/c/"),
    ("http://abc.com//c//", None, "http://abc.com//c//"),
    ("http://abc.com/c/", [{"path": "$.n"}, {"path": "a b"}, {"path": "$.o"}, {"path": "$.l"},
                           {"path": "$.t"}, {"path": "$.z"}], "http://abc.com/c/30/a%20b/%5Bobject%20Object%5D/a%2Cb/true/0"),
    ("http://abc.com/c", [{"path": ""}], "http://abc.com/c/"),
    ("http://abc.com/c", [{"path": "$.l[*]"}], "http://abc.com/c/a"),
    ("http://abc.com/c", [{"path": "$['o']['k']"}], "http://abc.com/c/%C3%BC!*'()~"),
])
def test_path_params(api_url: str, path_params: Any, endpoint: str) -> None:
    """Segments are String()-ed and URL-encoded; repeated slashes collapse only with pathParams."""
    message = {"n": 30, "o": {"k": "ü!*'()~"}, "l": ["a", "b"], "t": True, "z": 0}
    config: dict[str, Any] = {"apiUrl": api_url}
    if path_params is not None:
        config["pathParams"] = path_params
    assert output(message, config)["endpoint"] == endpoint


@pytest.mark.parametrize(("path", "problem"), [
    ("a/b", 'Path value cannot contain "/"'),
    ("$.missing", "Path not found in the object."),
    ("$.nul", "Path not found in the object."),
    ("$.l[1]", "Path not found in the object."),
    ("$.o[0]", "An error occurred while querying the JSON path: index is not defined"),
    ("$..k", "An error occurred while querying the JSON path: index is not defined"),
    ("$.tr aits", "An error occurred while querying the JSON path: Lexical error on line 1. "
                  "Unrecognized text.\n$.tr aits\n----^"),
])
def test_path_param_errors(path: str, problem: str) -> None:
    """Path params that cannot resolve are configuration errors, rs-jsonpath quirks included."""
    message = {"nul": None, "l": ["a", "b"], "o": {"k": "v", "j": "w"}}
    status, text, tags = error(message, {**MINIMAL, "pathParams": [{"path": path}]})
    assert (status, text) == (400, wrapped("deduceEndPoint", problem))
    assert tags["errorType"] == "configuration"


# --- config and platform errors -------------------------------------------------------------------


@pytest.mark.parametrize(("config", "problem"), [
    ({"apiUrl": ""}, "API URL is required. Aborting"),
    ({"auth": "basicAuth"}, "API URL is required. Aborting"),
    ({**MINIMAL, "auth": "basicAuth", "password": "p"},
     "Username is required for Basic Authentication. Aborting"),
    ({**MINIMAL, "auth": "bearerTokenAuth"}, "Token is required for Bearer Token Authentication. Aborting"),
    ({**MINIMAL, "auth": "apiKeyAuth"}, "API Key Name is required for API Key Authentication. Aborting"),
    ({**MINIMAL, "auth": "apiKeyAuth", "apiKeyName": "k"},
     "API Key Value is required for API Key Authentication. Aborting"),
])
def test_config_validation(config: dict[str, Any], problem: str) -> None:
    """The config is checked in the reference's order with its wording (400, configuration)."""
    status, text, tags = error({}, config)
    assert (status, text) == (400, wrapped("validateInput", problem))
    assert tags == {"errorCategory": "dataValidation", "errorType": "configuration", "destType": "HTTP",
                    "module": "destination", "implementation": "cdkV2", "feature": "processor",
                    "destinationId": "default-destinationId", "workspaceId": "default-workspaceId"}


@pytest.mark.parametrize("meta", [{"jobId": 1, "destinationId": "d"}, {"workspaceId": ""}, False])
def test_missing_workspace_id_is_a_platform_error(meta: Any) -> None:
    """Mappings are never evaluated without a workspaceId: 500, even with no mappings configured."""
    status, text, tags = error({}, MINIMAL, meta)
    assert (status, text) == (500, wrapped(
        "buildHeaders", "workspaceId is required for sandboxed custom-mappings evaluation"))
    assert tags["errorCategory"] == "platform" and "errorType" not in tags


@pytest.mark.parametrize(("key", "rows", "problem"), [
    ("headers", [{"from": "'a'", "to": "h"}, {"from": None, "to": "h"}], "headers[1].from is null"),
    ("queryParams", [None], "queryParams[0] is null"),
    ("propertiesMapping", [{"from": 5, "to": "h"}], "propertiesMapping[0].from must be a string"),
    ("propertiesMapping", [{"from": ["a"], "to": "h"}], "propertiesMapping[0].from must be a string"),
])
def test_malformed_mapping_rows_are_configuration_errors(key: str, rows: Any, problem: str) -> None:
    """Rows the reference's pre-processing crashes on (a 500 the router retries forever) are
    configuration errors naming the row; header rows are checked before the workspace check."""
    meta = {"jobId": 1} if key == "headers" else metadata()
    status, text, tags = error({}, {**MINIMAL, key: rows}, meta)
    step = {"headers": "buildHeaders", "queryParams": "prepareParams"}.get(key, "prepareBody")
    assert (status, text) == (400, wrapped(step, problem))
    assert tags["errorType"] == "configuration"


@pytest.mark.parametrize(("params", "problem"), [
    ([None], "pathParams[0] is null"),
    ([{"path": "a"}, {}], "pathParams[1].path is required"),
    ([{"path": None}], "pathParams[0].path is required"),
    ([{"path": 5}], "pathParams[0].path must be a string"),
])
def test_malformed_path_params_are_configuration_errors(params: Any, problem: str) -> None:
    status, text, tags = error({}, {**MINIMAL, "pathParams": params})
    assert (status, text) == (400, wrapped("deduceEndPoint", problem))
    assert tags["errorType"] == "configuration"


# --- the mapping language -------------------------------------------------------------------------


def body(mappings: Any, message: Any = TRACK) -> Any:
    return body_of({**MINIMAL, "propertiesMapping": mappings}, message)["JSON"]


def test_star_outputs_iterate_the_first_mappings_input_list() -> None:
    """Later [*] mappings read relative to the first one's items; a plain from is copied to each."""
    mappings = [{"from": "$.p[*].a", "to": "$.x[*].a"}, {"from": "$.q[*].b", "to": "$.x[*].b"},
                {"from": "$.s", "to": "$.x[*].s"}]
    message = {"p": [{"a": 1}, {"a": 2}], "q": [{"b": 9}], "s": "S"}
    assert body(mappings, message) == {"x": [{"a": 1, "s": "S"}, {"a": 2, "s": "S"}]}


def test_filters_on_star_inputs_select_the_items() -> None:
    """A filter in the input replaces the [*] of the output list it feeds."""
    mappings = [{"from": "$.p[*].b", "to": "$.x[*].b"}, {"from": "$.p[?(@.a > 1)].a", "to": "$.x[*].a"}]
    message = {"p": [{"a": 1, "b": "one"}, {"a": 2, "b": "two"}]}
    assert body(mappings, message) == {"x": [{"b": "two", "a": 2}]}


def test_repeated_targets_keep_the_first_truthy_value() -> None:
    """Two mappings to one key combine as first || second."""
    assert body([{"from": "$.z", "to": "x"}, {"from": "$.a", "to": "x"}], {"z": 0, "a": 2}) == {"x": 2}
    assert body([{"from": "$.a", "to": "x"}, {"from": "$.b", "to": "x"}], {"a": "A", "b": "B"}) == {"x": "A"}


def test_root_spread_and_its_position() -> None:
    """A to of $ spreads the value into the root; keys keep their first position, last write wins."""
    message = {"o": {"p": 1, "q": 2}}
    assert body([{"from": "'E'", "to": "p"}, {"from": "$.o", "to": "$"}], message) == {"p": 1, "q": 2}
    assert body([{"from": "$.o", "to": "$"}, {"from": "'E'", "to": "p"}], message) == {"p": "E", "q": 2}


def test_index_outputs_build_lists_in_order() -> None:
    """[n] outputs build a list; a gap in the indexes is a configuration error."""
    assert body([{"from": "$.a", "to": "$.x[0]"}, {"from": "$.b", "to": "$.x[1]"}], {"a": 1, "b": 2}) == {
        "x": [1, 2]}
    status, text, _ = error({}, {**MINIMAL, "propertiesMapping": [{"from": "$.a", "to": "$.x[1]"}]})
    assert (status, text) == (400, wrapped(
        "prepareBody", "Error in custom mappings: Invalid mapping: missing a mapping at index#0; make sure "
        "to define all the mappings in order of indexes. Input: $.a, Output: $.x[1]"))


def test_expressions_follow_javascript() -> None:
    """Operators, fallbacks, comparisons, methods and list mapping behave as in the reference's engine."""
    mappings = [
        {"from": "$.s + '-' + $.n", "to": "concat"}, {"from": "$.n * 1.5", "to": "mul"},
        {"from": "$.missing || 'dflt'", "to": "or"}, {"from": "$.z ?? 'n'", "to": "nullish"},
        {"from": "$.s == 'ABC' ? 'same' : 'other'", "to": "cond"}, {"from": "$.s.toUpperCase()", "to": "up"},
        {"from": "$.s.length", "to": "len"}, {"from": "$.l.length", "to": "lens"},
        {"from": "$.l[-1]", "to": "last"}, {"from": "$.l[1:]", "to": "tail"},
        {"from": "$.o.*", "to": "values"}, {"from": "$..deep", "to": "deep"}, {"from": "$.p.id", "to": "ids"},
    ]
    message = {"s": "abc", "n": 2, "z": 0, "l": ["a", "b", "c"], "o": {"k": 1, "j": 2},
               "x": {"deep": "d"}, "p": [{"id": 1}, {"id": None}, {"id": 3}]}
    assert body(mappings, message) == {
        "concat": "abc-2", "mul": 3, "or": "dflt", "nullish": 0, "cond": "same", "up": "ABC",
        "len": 3, "lens": [1, 1, 1], "last": "c", "tail": ["b", "c"], "values": [1, 2], "deep": ["d"],
        "ids": [1, 3]}


@pytest.mark.parametrize(("source", "target", "problem"), [
    ("process.env||$.userId", "X-Leak", "process is not defined"),
    ("$.userId", "$.a-b",
     "Invalid mapping: output should be a path expression. Input: $.userId, Output: $.a-b"),
    ("$.a[", "h", "Unexpected end of template"),
    ("$.a b", "h", 'Unexpected token "b"'),
    ("$.a + ()", "h", "empty block is not allowed at $.a + ()"),
    ("$.userId", "it's", 'Unexpected token "s"'),
    ("$.userId", 5, "input.startsWith is not a function"),
])
def test_mapping_errors_are_configuration_errors(source: str, target: Any, problem: str) -> None:
    """Engine errors carry the reference's wording under "Error in custom mappings"."""
    status, text, tags = error(IDENTIFY, {**MINIMAL, "headers": [{"from": source, "to": target}]})
    assert (status, text) == (400, wrapped("buildHeaders", f"Error in custom mappings: {problem}"))
    assert tags["errorType"] == "configuration"


def test_mappings_must_be_a_list() -> None:
    """A mappings object is refused as the engine refuses it; a string is one template."""
    status, text, _ = error({}, {**MINIMAL, "propertiesMapping": {"from": "$.a", "to": "b"}})
    problem = "Error in custom mappings: mappings.map is not a function"
    assert (status, text) == (400, wrapped("prepareBody", problem))
    assert body("$.traits", IDENTIFY) == TRAITS


@pytest.mark.parametrize(("source", "what"), [
    ("$.x || Math.PI", "the JavaScript global Math"),
    ("$.event =~ /Order/", "regular expressions"),
    ("$.event.replace('a', 'b')", "method arguments"),
    ("$.event.split()", "the method split()"),
    ("function() { return $.event }", "the function keyword"),
    ("$.a = 1", "assignments"),
    ("`${$.event}`", "template strings"),
])
def test_javascript_beyond_the_supported_subset_is_refused(source: str, what: str) -> None:
    """Expressions the evaluator does not run are configuration errors naming the mapping."""
    status, text, tags = error(TRACK, {**MINIMAL, "propertiesMapping": [{"from": source, "to": "m"}]})
    problem = (f"Error in custom mappings: propertiesMapping: mapping from {source!r} to '$.m' uses "
               f"{what}, which is not supported")
    assert (status, text) == (400, wrapped("prepareBody", problem))
    assert tags["errorType"] == "configuration"


def test_undefined_identifiers_fail_only_when_evaluated() -> None:
    """A bare identifier is a ReferenceError only if the expression reaches it."""
    assert body([{"from": "$.event || nothing", "to": "e"}]) == {"e": "Order Completed"}


def test_source_timestamp_fix_up_reaches_default_mapping() -> None:
    """A RETL track gets its timestamp from properties before the whole event is mapped."""
    message = {"type": "track", "channel": "sources", "event": "e", "properties": {"timestamp": "T"}}
    assert body_of({**MINIMAL, "isDefaultMapping": True}, message)["JSON"]["timestamp"] == "T"


# --- JavaScript helpers ---------------------------------------------------------------------------


def test_parser_right_associates_binary_operators() -> None:
    """The engine groups a - b - c as a - (b - c)."""
    (expr,) = _template.parse("$.a - $.b - $.c")
    assert _template.evaluate(expr, {}, {"a": 10, "b": 5, "c": 2}) == 7


def test_router_request_has_no_user_id() -> None:
    """Unbatched router requests carry no userId; the processor's is always ""."""
    (result,) = route([job(TRACK, MINIMAL)])
    assert "userId" not in result["batchedRequest"]
    assert output(TRACK, MINIMAL)["userId"] == ""


def test_config_is_not_mutated_between_events() -> None:
    """Compiled mappings are cached per mapping list; repeated events give identical results."""
    config = {**MINIMAL, "propertiesMapping": copy.deepcopy(ITEMS_MAPPING)}
    first = body_of(config)
    assert body_of(config) == first
    assert config["propertiesMapping"] == ITEMS_MAPPING


# --- robustness -----------------------------------------------------------------------------------

_TEMPLATE_CHARS = "$.[]*?@()'\"ab01 ,:{}|&!=<>+-~#^%/\\`\n_"
_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False),
              st.text(max_size=4)),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=3), inner, max_size=3)),
    max_leaves=8)
_expressions = st.one_of(st.text(alphabet=_TEMPLATE_CHARS, max_size=16), st.sampled_from(
    ["$.a", "$.a[*].b", "$.a.b", "$", "$.a[0]", "$.a[?(@.b > 0)].b", "'x'", "$.a || $.b", "$.a.*"]))
_mappings = st.lists(st.fixed_dictionaries({}, optional={
    "from": st.one_of(_expressions, _json), "to": st.one_of(_expressions, _json)}), max_size=4)
_configs = st.fixed_dictionaries({"apiUrl": st.one_of(st.just("http://x.test/a"), _json)}, optional={
    "headers": st.one_of(_mappings, _json), "queryParams": st.one_of(_mappings, _json),
    "propertiesMapping": st.one_of(_mappings, _json),
    "format": st.sampled_from(["JSON", "XML", "FORM", "x", None]),
    "pathParams": st.one_of(st.lists(st.fixed_dictionaries(
        {}, optional={"path": st.one_of(_expressions, _json)}), max_size=2), _json),
    "auth": st.sampled_from(["basicAuth", "bearerTokenAuth", "apiKeyAuth", "noAuth"]),
    "username": _json, "bearerToken": _json, "apiKeyName": _json, "apiKeyValue": _json,
    "isDefaultMapping": _json, "xmlRootKey": _json, "isBatchingEnabled": _json, "maxBatchSize": _json})


@settings(max_examples=400, deadline=None)
@given(messages=st.lists(st.dictionaries(st.sampled_from(["a", "b", "userId", "traits"]), _json,
                                         max_size=3), min_size=1, max_size=3), config=_configs)
def test_random_configs_never_fail_unexpectedly(messages: list[dict[str, Any]],
                                                config: dict[str, Any]) -> None:
    """Whatever the config and events, every job ends as a request or a deliberate error."""
    jobs = [job(m, config, metadata(i)) for i, m in enumerate(messages)]
    results = route(jobs)
    assert sorted(m["jobId"] for r in results for m in r["metadata"]) == list(range(len(messages)))
    for result in results + [run(m, config) for m in messages]:
        assert "failed unexpectedly" not in result.get("error", ""), result["error"]
