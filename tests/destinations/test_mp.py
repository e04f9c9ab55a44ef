"""Mixpanel: reference behaviour our conformance sample lacks, config errors and router batching.

Expected payloads were produced by the reference transformer for the same events.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from transformer._catalog import Catalog
from transformer._clock import FixedClock
from transformer._conformance import processor_body, router_body
from transformer._destination import Job
from transformer._pipeline import Pipeline
from transformer.destinations.mp import hooks
from transformer.v1 import transformer_pb2 as pb

NOW_MS = 1_700_000_000_000
TS = "2023-11-14T20:00:00.000Z"
META = {"jobId": 1, "destinationId": "d1", "workspaceId": "w1"}
CHROME = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_2) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/79.0.3945.117 Safari/537.36")
WEB = {"ip": "0.0.0.0", "library": {"name": "JS SDK"}, "userAgent": CHROME,
       "page": {"url": "https://x.test/a", "initial_referrer": "https://r.test",
                "initial_referring_domain": "r.test"},
       "campaign": {"source": "news", "name": "sale"}, "traits": {"email": "a@b.test", "plan": "pro"}}
MOBILE = {"ip": "1.1.1.1", "library": {"name": "android"}, "os": {"name": "Android", "version": "14"},
          "app": {"name": "App", "build": "7", "version": "2.0", "namespace": "com.app"},
          "device": {"type": "Android", "token": "tok", "model": "Pixel", "manufacturer": "Google",
                     "name": "px"},
          "network": {"carrier": "T", "wifi": True},
          "screen": {"width": 1080, "height": 2400, "density": 420}, "traits": {"email": "m@b.test"}}
IMPORT = "https://api.mixpanel.com/import/"
ENGAGE = "https://api.mixpanel.com/engage/"
GROUPS = "https://api.mixpanel.com/groups/"
TOKEN_AUTH = "Basic dGs6"  # base64("tk:")
MOBILE_PROPERTIES = (
    '"$os":"Android","$screen_height":2400,"$screen_width":1080,"$screen_dpi":420,"$carrier":"T",'
    '"$os_version":"14","$device":"px","$manufacturer":"Google","$model":"Pixel",'
    '"mp_device_model":"Pixel","$wifi":true,"mp_lib":"android","$app_build_number":"7",'
    '"$app_version_string":"2.0","$app_name":"App","$app_namespace":"com.app"')


@pytest.fixture(scope="module")
def pipeline(catalog: Catalog) -> Pipeline:
    return Pipeline(catalog)


def _job(message: Any, config: dict[str, Any], metadata: Any = META) -> pb.Job:
    destination = {"ID": "d1", "Config": config, "DestinationDefinition": {"Name": "MP"}}
    return pb.Job(message=orjson.dumps(message), metadata=orjson.dumps(metadata),
                  destination=orjson.dumps(destination))


def results(pipeline: Pipeline, message: Any, config: dict[str, Any],
            now: int = NOW_MS) -> list[dict[str, Any]]:
    request = pb.TransformRequest(destination_type="mp", jobs=[_job(message, config)])
    return processor_body(pipeline.transform(request, FixedClock(now))[0])


def outputs(pipeline: Pipeline, message: Any, config: dict[str, Any]) -> list[dict[str, Any]]:
    found = results(pipeline, message, config)
    assert all(r["statusCode"] == 200 for r in found), found
    return [r["output"] for r in found]


def batches(pipeline: Pipeline, message: Any, config: dict[str, Any]) -> list[tuple[str, str]]:
    """(endpoint, batch text) of each request an event makes."""
    return [(o["endpoint"], o["body"]["JSON_ARRAY"]["batch"])
            for o in outputs(pipeline, message, config)]


def error(pipeline: Pipeline, message: Any, config: dict[str, Any],
          now: int = NOW_MS) -> tuple[int, str]:
    (result,) = results(pipeline, message, config, now)
    return result["statusCode"], result["error"]


def page(**extra: Any) -> dict[str, Any]:
    return {"type": "page", "channel": "web", "name": "Home", "userId": "u1", "anonymousId": "a1",
            "messageId": "1700000000-" + "0" * 36, "timestamp": TS,
            "properties": {"path": "/a", "category": "Docs"}, "context": copy.deepcopy(WEB),
            **extra}


def track(**extra: Any) -> dict[str, Any]:
    return {"type": "track", "channel": "web", "event": "Order", "userId": "u1",
            "anonymousId": "a1", "messageId": "m1", "timestamp": TS, "properties": {"n": 1},
            "context": copy.deepcopy(WEB), **extra}


# --- events -----------------------------------------------------------------------------------


def test_page_properties_in_reference_order(pipeline: Pipeline) -> None:
    """A web page event: context traits, properties, mapped fields, ids, UTM, name, browser."""
    (output,) = outputs(pipeline, page(), {"token": "tk"})
    assert output["endpoint"] == IMPORT
    assert output["endpointPath"] == "import"
    assert output["params"] == {"strict": 0}
    assert output["headers"] == {"Content-Type": "application/json", "Authorization": TOKEN_AUTH}
    assert output["userId"] == "u1"
    assert output["body"]["JSON_ARRAY"]["batch"] == (
        '[{"event":"Loaded a Page","properties":{"email":"a@b.test","plan":"pro","path":"/a",'
        '"category":"Docs","ip":"0.0.0.0","campaign_id":"sale","$user_id":"u1",'
        '"$current_url":"https://x.test/a","mp_lib":"JS SDK","$initial_referrer":"https://r.test",'
        '"$initial_referring_domain":"r.test",'
        '"$insert_id":"1700000000-000000000000000000000000000000000000","token":"tk",'
        '"distinct_id":"u1","time":1699992000000,"utm_source":"news","utm_campaign":"sale",'
        '"name":"Home","$browser":"Chrome","$browser_version":"79.0.3945.117"}}]')


def test_screen_name_template_without_values(pipeline: Pipeline) -> None:
    """A screen name template drops a placeholder with no value, with the spaces around it."""
    message = {"type": "screen", "channel": "mobile", "userId": "u1", "anonymousId": "a1",
               "timestamp": TS, "properties": {}, "context": MOBILE}
    config = {"token": "tk", "useUserDefinedScreenEventName": True,
              "userDefinedScreenEventTemplate": "Viewed {{ category }} {{ name }} Screen"}
    assert batches(pipeline, message, config) == [(IMPORT, (
        '[{"event":"Viewed Screen","properties":{"email":"m@b.test","ip":"1.1.1.1",'
        '"$user_id":"u1",' + MOBILE_PROPERTIES + ',"token":"tk","distinct_id":"u1",'
        '"time":1699992000000}}]'))]


def test_page_name_template_replacements(pipeline: Pipeline) -> None:
    """Template values are inserted as String.replace does, $-patterns included."""
    config = {"token": "tk", "useUserDefinedPageEventName": True,
              "userDefinedPageEventTemplate": "Viewed {{ category }} {{name}} page"}
    message = page(name="A$&B$$C", properties={"category": "x$`y"})
    ((_, text),) = batches(pipeline, message, config)
    assert orjson.loads(text)[0]["event"] == "Viewed xViewed y A{{name}}B$C page"


def test_page_name_template_missing(pipeline: Pipeline) -> None:
    """A custom page name without a template is a configuration error."""
    config = {"token": "tk", "useUserDefinedPageEventName": True}
    code, text = error(pipeline, page(), config)
    assert code == 400
    assert text.startswith("Event name template is not configured.")


def test_track_revenue_and_increments(pipeline: Pipeline) -> None:
    """Revenue and incremented properties update the profile before the event is imported."""
    message = track(properties={"revenue": 9.5, "counter": 2, "skip": 0, "price": 2.0})
    config = {"token": "tk", "dataResidency": "eu", "strictMode": True,
              "propIncrements": [{"property": "counter"}, {"property": "skip"}]}
    found = outputs(pipeline, message, config)
    assert [(o["endpoint"], o["params"]) for o in found] == [
        ("https://api-eu.mixpanel.com/engage/", {"verbose": 2}),
        ("https://api-eu.mixpanel.com/engage/", {"verbose": 2}),
        ("https://api-eu.mixpanel.com/import/", {"strict": 1})]
    assert [o["body"]["JSON_ARRAY"]["batch"] for o in found[:2]] == [
        '[{"$append":{"$transactions":{"$time":"2023-11-14T20:00:00.000Z","$amount":9.5}},'
        '"$token":"tk","$distinct_id":"u1"}]',
        '[{"$add":{"counter":2},"$token":"tk","$distinct_id":"u1"}]']
    assert found[2]["body"]["JSON_ARRAY"]["batch"].startswith(
        '[{"event":"Order","properties":{"revenue":9.5,"counter":2,"skip":0,"price":2,')


def test_track_simplified_identity_merge(pipeline: Pipeline) -> None:
    """Simplified merge: an anonymous user is $device:<anonymousId>; traits can be dropped."""
    message = {"type": "track", "event": "Opened", "anonymousId": "a1", "timestamp": TS,
               "properties": {"$device_id": "x"}, "context": MOBILE}
    config = {"token": "tk", "identityMergeApi": "simplified", "dropTraitsInTrackEvent": True}
    assert batches(pipeline, message, config) == [(IMPORT, (
        '[{"event":"Opened","properties":{"$device_id":"a1","ip":"1.1.1.1",' + MOBILE_PROPERTIES
        + ',"token":"tk","distinct_id":"$device:a1","time":1699992000000}}]'))]


def test_track_times(pipeline: Pipeline) -> None:
    """time is the timestamp in ms: 0 for a null originalTimestamp, null for a bad date."""
    def time_of(**extra: Any) -> Any:
        message = {k: v for k, v in track(**extra).items() if v is not ...}
        ((_, text),) = batches(pipeline, message, {"token": "tk"})
        return orjson.loads(text)[0]["properties"]["time"]

    assert time_of(timestamp=..., originalTimestamp=None) == 0  # new Date(null)
    assert time_of(timestamp="not a date") is None
    assert time_of(timestamp=1699992000000) == 1699992000000


def test_track_insert_id_keeps_last_36_characters(pipeline: Pipeline) -> None:
    """A track event's messageId is cut to its UUID; a page's is sent as it is."""
    long_id = "1662363980287-168cf720-6227-4b56-a98e-c49bdc7279e9"
    ((_, text),) = batches(pipeline, track(messageId=long_id), {"token": "tk"})
    assert orjson.loads(text)[0]["properties"]["$insert_id"] == long_id[-36:]
    ((_, text),) = batches(pipeline, page(messageId=12345), {"token": "tk"})
    assert orjson.loads(text)[0]["properties"]["$insert_id"] == 12345


@pytest.mark.parametrize(("message", "config", "text"), [
    (track(messageId=12), {"token": "tk"}, "messageId should be of type string"),
    (track(timestamp="2015-01-01T00:00:00.000Z"), {"token": "tk"},
     "Event timestamp should be within last 5 years"),
    (page(timestamp=None), {"token": "tk"}, "Event timestamp should be within last 5 years"),
    (track(timestamp="bad", originalTimestamp="bad", properties={"revenue": 1}), {"token": "tk"},
     "Neither timestamp nor originalTimestamp is a valid date."),
    (track(type="Track"), {"token": "tk"}, "Event type 'Track' is not supported"),
    ({"type": "alias", "userId": "u1", "timestamp": TS}, {"token": "tk"},
     "Either `previousId` or `anonymousId` should be present in alias payload"),
    ({"type": "alias", "userId": "u1", "previousId": "u1", "timestamp": TS}, {"token": "tk"},
     "One of `previousId` or `anonymousId` is same as `userId`. Aborting"),
    ({"type": "alias", "userId": "u1", "previousId": "p1", "timestamp": TS},
     {"token": "tk", "identityMergeApi": "simplified"},
     "The use of the alias call in the context of the `Simplified ID merge` feature is not "
     "supported anymore."),
    (track(properties={f"k{n}": n for n in range(260)}), {"token": "tk"},
     "Mixpanel properties exceed the limit of 255 keys (found 277)"),
    (track(properties={"list": [{"a": list(range(256))}]}), {"token": "tk"},
     "Mixpanel array property 'list[0].a' exceeds the limit of 255 elements (found 256)"),
    (track(properties={"big": "x" * 1_100_000}), {"token": "tk"},
     "Mixpanel payload exceeds the maximum size limit of 1MB (found 1075 KB)"),
])
def test_event_errors(pipeline: Pipeline, message: dict[str, Any], config: dict[str, Any],
                      text: str) -> None:
    """The reference's 400s, in its words."""
    assert error(pipeline, message, config) == (400, text)


def test_import_without_credentials_fails_as_the_reference(pipeline: Pipeline) -> None:
    """Without a token or a complete service account the reference crashes encoding the
    credentials: a 500 with its message."""
    code, text = error(pipeline, track(), {"apiSecret": "s"})
    assert code == 500
    assert text.startswith("The first argument must be of type string")


def test_alias(pipeline: Pipeline) -> None:
    """alias creates the alias of previousId (or anonymousId) as an imported event."""
    message = {"type": "alias", "userId": "u1", "previousId": "p1", "anonymousId": "a1",
               "timestamp": TS}
    assert batches(pipeline, message, {"token": "tk"}) == [(IMPORT, (
        '[{"event":"$create_alias","properties":{"distinct_id":"p1","alias":"u1","token":"tk"}}]'))]


# --- identify -----------------------------------------------------------------------------------


def test_identify_old_mapping(pipeline: Pipeline) -> None:
    """Custom traits (dotted keys nest), $firstName/$lastName renamed last, $ignore_time for an
    inactive context, then the $merge of userId and anonymousId."""
    message = {"type": "identify", "channel": "web", "userId": "u1", "anonymousId": "a1",
               "timestamp": TS, "context": {**WEB, "active": False},
               "traits": {"firstName": "Ann", "lastName": "Lee", "plan": "pro", "a.b": 1,
                          "address": {"city": "Paris", "country": "FR"}}}
    assert batches(pipeline, message, {"token": "tk"}) == [
        (ENGAGE, '[{"$set":{"$email":"a@b.test","$country_code":"FR","$city":"Paris",'
                 '"$initial_referrer":"https://r.test","$initial_referring_domain":"r.test",'
                 '"$name":"Ann Lee","plan":"pro","a":{"b":1},"$firstName":"Ann","$lastName":"Lee",'
                 '"$browser":"Chrome","$browser_version":"79.0.3945.117"},"$token":"tk",'
                 '"$distinct_id":"u1","$ip":"0.0.0.0","$time":1699992000000,"$ignore_time":true}]'),
        (IMPORT, '[{"event":"$merge","properties":{"$distinct_ids":["u1","a1"],"token":"tk"}}]')]


def test_identify_android_device(pipeline: Pipeline) -> None:
    """An Android device adds its token and the Android profile properties."""
    message = {"type": "identify", "userId": "u1", "timestamp": TS, "context": MOBILE,
               "traits": {"firstName": "Ann", "name": "Ann L"}}
    assert batches(pipeline, message, {"token": "tk", "useNewMapping": True}) == [(ENGAGE, (
        '[{"$set":{"$email":"m@b.test","$first_name":"Ann","$name":"Ann L","$carrier":"T",'
        '"$manufacturer":"Google","$model":"Pixel","$screen_height":2400,"$screen_width":1080,'
        '"$wifi":true,"$android_devices":["tok"],"$os":"Android","$android_model":"Pixel",'
        '"$android_os_version":"14","$android_manufacturer":"Google","$android_app_version":"2.0",'
        '"$android_app_version_code":"7","$android_brand":"Google"},"$token":"tk",'
        '"$distinct_id":"u1","$ip":"1.1.1.1","$time":1699992000000}]'))]


def test_identify_profile_operations(pipeline: Pipeline) -> None:
    """$set_once, $union (as lists) and $append take their traits out of $set; no $merge
    with simplified identity merge."""
    message = {"type": "identify", "userId": "u1", "anonymousId": "a1", "timestamp": TS,
               "traits": {"firstName": "Ann", "tags": "t1", "log": ["x"],
                          "address": {"city": "Paris"}},
               "context": {"traits": {"nationality": "FR", "firstName": "Other"}}}
    config = {"token": "tk", "identityMergeApi": "simplified",
              "setOnceProperties": [{"property": "firstName"}, {"property": "address.city"},
                                    {"property": "nationality"}],
              "unionProperties": [{"property": "tags"}],
              "appendProperties": [{"property": "log"}, {"property": "missing"}]}
    assert batches(pipeline, message, config) == [
        (ENGAGE, '[{"$set_once":{"$first_name":"Ann","$city":"Paris","nationality":"FR"},'
                 '"$token":"tk","$distinct_id":"u1"}]'),
        (ENGAGE, '[{"$union":{"tags":["t1"]},"$token":"tk","$distinct_id":"u1"}]'),
        (ENGAGE, '[{"$append":{"log":["x"]},"$token":"tk","$distinct_id":"u1"}]'),
        (ENGAGE, '[{"$set":{},"$token":"tk","$distinct_id":"u1","$time":1699992000000}]')]


def test_identify_service_account(pipeline: Pipeline) -> None:
    """Without a token, $merge is imported with the service account and its project id."""
    message = {"type": "identify", "userId": "u1", "anonymousId": "a1", "timestamp": TS,
               "traits": {"email": "e@x.test"}}
    config = {"serviceAccountUserName": "user", "serviceAccountSecret": "secret",
              "projectId": "123", "dataResidency": "in"}
    profile, merge = outputs(pipeline, message, config)
    assert profile["endpoint"] == "https://api-in.mixpanel.com/engage/"
    assert profile["body"]["JSON_ARRAY"]["batch"] == (
        '[{"$set":{"$email":"e@x.test"},"$distinct_id":"u1","$time":1699992000000}]')
    assert merge["endpoint"] == "https://api-in.mixpanel.com/import/"
    assert merge["params"] == {"project_id": "123", "strict": 0}
    assert merge["headers"]["Authorization"] == "Basic dXNlcjpzZWNyZXQ="  # user:secret
    assert merge["body"]["JSON_ARRAY"]["batch"] == (
        '[{"event":"$merge","properties":{"$distinct_ids":["u1","a1"]}}]')


def test_identify_errors(pipeline: Pipeline) -> None:
    """A bad $geo_source is a 400; a device type that is not a string, the reference's 500."""
    message = {"type": "identify", "userId": "u1", "timestamp": TS,
               "context": {"location": {"geoSource": "gps"}}}
    assert error(pipeline, message, {"token": "tk"}) == (
        400, "$geo_source value must be either null or 'reverse_geocoding' ")
    message = {"type": "identify", "userId": "u1", "timestamp": TS,
               "context": {"device": {"type": 5}}}
    code, _ = error(pipeline, message, {"token": "tk"})
    assert code == 500


# --- group --------------------------------------------------------------------------------------


def test_group_keys_and_values(pipeline: Pipeline) -> None:
    """Each configured key found sets the user's groups, then each value's group profile."""
    message = {"type": "group", "userId": "u1", "groupId": "g0", "timestamp": TS,
               "traits": {"company": ["c1", "c2"], "size": 5}, "context": {"ip": "2.2.2.2"}}
    config = {"token": "tk", "groupKeySettings": [{"groupKey": "company"},
                                                  {"groupKey": "groupId"}, {"groupKey": "absent"}]}
    group_set = '"$set":{"company":["c1","c2"],"size":5}'
    assert batches(pipeline, message, config) == [
        (ENGAGE, '[{"$token":"tk","$distinct_id":"u1","$set":{"company":["c1","c2"]},'
                 '"$ip":"2.2.2.2"}]'),
        (GROUPS, '[{"$token":"tk","$group_key":"company","$group_id":"c1",' + group_set + '}]'),
        (GROUPS, '[{"$token":"tk","$group_key":"company","$group_id":"c2",' + group_set + '}]'),
        (ENGAGE, '[{"$token":"tk","$distinct_id":"u1","$set":{"groupId":["g0"]},'
                 '"$ip":"2.2.2.2"}]'),
        (GROUPS, '[{"$token":"tk","$group_key":"groupId","$group_id":"g0",' + group_set + '}]')]


def test_group_errors(pipeline: Pipeline) -> None:
    """No group key settings is a configuration error; no configured key in the event, a 400."""
    message = {"type": "group", "userId": "u1", "groupId": "g0", "timestamp": TS}
    code, text = error(pipeline, message, {"token": "tk"})
    assert (code, text) == (400, "`Group Key Settings` is not configured in destination")
    (result,) = results(pipeline, message, {"token": "tk", "groupKeySettings": [{"groupKey": "x"}]})
    assert result["statTags"]["errorType"] == "instrumentation"
    assert result["error"].startswith("Group Key is not present.")


# --- router -------------------------------------------------------------------------------------


def route(pipeline: Pipeline, jobs: list[pb.Job]) -> list[dict[str, Any]]:
    request = pb.TransformRequest(destination_type="mp", jobs=jobs)
    output: list[dict[str, Any]] = router_body(
        pipeline.router_transform(request, FixedClock(NOW_MS))[0])["output"]
    return output


def _payload_count(result: dict[str, Any]) -> int:
    requests = result["batchedRequest"]
    requests = requests if isinstance(requests, list) else [requests]
    return sum(len(orjson.loads(r["body"]["JSON_ARRAY"]["batch"])) for r in requests)


def test_router_batches_per_endpoint_and_merges_by_job(pipeline: Pipeline) -> None:
    """A job's requests to several endpoints come as one result; results in jobId order."""
    config = {"token": "tk"}
    jobs = [_job(track(properties={"revenue": 5}), config, {"jobId": 2, "userId": "a"}),
            _job(track(), config, {"jobId": 1, "userId": "b"}),
            _job(track(event=None, messageId=7), config, {"jobId": 3, "userId": "c"})]
    found = route(pipeline, jobs)
    assert [[m["jobId"] for m in r["metadata"]] for r in found] == [[1, 2], [3]]
    first = found[0]
    assert first["batched"] is True
    assert [r["endpoint"] for r in first["batchedRequest"]] == [ENGAGE, IMPORT]
    assert [_payload_count({"batchedRequest": r}) for r in first["batchedRequest"]] == [1, 2]
    assert first["batchedRequest"][1]["endpointPath"] == "import"
    assert "userId" not in first["batchedRequest"][1]
    assert found[1]["statusCode"] == 400


def test_router_batch_limits(pipeline: Pipeline) -> None:
    """At most 2000 events per /import/ request and 200 group profiles per /groups/ request."""
    config = {"token": "tk", "groupKeySettings": [{"groupKey": "company"}]}
    tracks = [_job(track(), config, {"jobId": n, "userId": f"u{n % 3}"}) for n in range(2001)]
    found = route(pipeline, tracks)
    assert [_payload_count(r) for r in found] == [2000, 1]
    groups = [_job({"type": "group", "userId": f"u{n}", "timestamp": TS,
                    "traits": {"company": ["a", "b"]}}, config, {"jobId": n}) for n in range(101)]
    found = route(pipeline, groups)
    # Engage and groups requests of the same jobs merge: 101 engage payloads in one request,
    # groups in requests of 200 (the last job's two group payloads spill into a second one).
    assert len(found) == 1
    assert [_payload_count({"batchedRequest": r}) for r in found[0]["batchedRequest"]] == [101, 200, 2]


def test_router_keeps_each_users_order_across_types(pipeline: Pipeline) -> None:
    """A user's later event never joins a batch before that user's earlier event of another
    type; other users' events may."""
    config = {"token": "tk"}
    jobs = [_job(track(), config, {"jobId": 1, "userId": "u1"}),
            _job({"type": "identify", "userId": "u1", "timestamp": TS}, config,
                 {"jobId": 2, "userId": "u1"}),
            _job(track(), config, {"jobId": 3, "userId": "u1"}),
            _job(track(), config, {"jobId": 4, "userId": "u2"})]
    found = route(pipeline, jobs)
    assert [[m["jobId"] for m in r["metadata"]] for r in found] == [[1, 4], [2], [3]]


def test_router_batches_jobs_of_different_configs_together(pipeline: Pipeline) -> None:
    """As the reference does, jobs of one destination are batched per endpoint whatever their
    configs, with the first job's request parts."""
    def done(job_id: int, config: dict[str, Any], message: dict[str, Any]) -> tuple[Job, Any]:
        return (Job(message=message, destination={"Config": config}, metadata=b"",
                    metadata_doc={"jobId": job_id, "userId": "u"}),
                outputs(pipeline, message, config))

    identify = {"type": "identify", "userId": "u1", "anonymousId": "a1", "timestamp": TS}
    items = [done(3, {"token": "tk"}, identify),
             done(4, {"token": "tk", "identityMergeApi": "simplified"}, {**identify, "userId": None}),
             done(5, {"token": "tk", "strictMode": True}, identify)]
    (merged,) = hooks.batch(items)
    assert [job.metadata_doc["jobId"] for job in merged.jobs] == [3, 4, 5]
    engage, imported = merged.request
    assert engage["endpoint"] == ENGAGE
    profiles = orjson.loads(engage["body"]["JSON_ARRAY"]["batch"])
    assert [p["$distinct_id"] for p in profiles] == ["u1", "$device:a1", "u1"]
    assert imported["endpoint"] == IMPORT
    assert imported["params"] == {"strict": 0}
    assert len(orjson.loads(imported["body"]["JSON_ARRAY"]["batch"])) == 2
