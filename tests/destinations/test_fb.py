"""Facebook App Events (fb): reference cases missing from the conformance sample and the
reference's edge cases (expected values recorded from the reference transformer)."""

from __future__ import annotations

import copy
from typing import Any

import orjson

from transformer._catalog import load_catalog
from transformer._clock import FixedClock
from transformer._pipeline import Pipeline
from transformer.v1 import transformer_pb2 as pb

PIPELINE = Pipeline(load_catalog())
ENDPOINT = "https://graph.facebook.com/v25.0/RudderFbApp/activities"
CONFIG = {"appID": "RudderFbApp"}
ANON = "c82cbdff-e5be-4009-ac78-cdeea09ab4b1"
AD_ID = "df16bffa-5c3d-4fbb-9bce-3bab098129a7R"
EMAIL_SHA = "48ddb93f0b30c475423fe177832912c5bcdce3cc72872f8051627967ef278e08"
PHONE_SHA = "588211a01b10feacbf7988d97a06e86c18af5259a7f457fd8759b7f7409a7d1f"
MALE_SHA = "62c66a7a5dd70c3146618063c344e531e6d4b59e379808443ce962b3abd63c5a"
FEMALE_SHA = "252f10c83610ebca1a059c0bae8255eba2f95be4d1d7bcfa89d7248a82d9f111"
MESSAGE: dict[str, Any] = {
    "anonymousId": ANON,
    "userId": ANON,
    "context": {
        "device": {"id": AD_ID, "model": "Redmi 6", "advertisingId": AD_ID, "type": "Android"},
        "ip": "1.2.3.4",
        "network": {"carrier": "Banglalink"},
        "os": {"name": "android", "version": "8.1.0"},
        "screen": {"width": "640", "height": "480", "density": 1.23456},
        "timezone": "Europe/Berlin",
        "traits": {"email": "abc@gmail.com", "firstName": " test", "lastName": "last",
                   "gender": 1234, "phone": "+91-9831311135"},
    },
    "event": "spin_result",
    "properties": {"revenue": 400, "currency": "GBP", "level": 6,
                   "products": [{"product_id": "123"}, {"product_id": "345"}]},
    "timestamp": "2019-09-01T15:46:51.693229+05:30",
    "type": "track",
}
EXTINFO = ('["a2","","","","8.1.0","Redmi 6","","","Banglalink",640,480,"1.23",0,0,0,'
           '"Europe/Berlin"]')


def message(**fields: Any) -> dict[str, Any]:
    msg = copy.deepcopy(MESSAGE)
    msg.update(fields)
    return msg


def job(msg: dict[str, Any], job_id: int = 1, config: dict[str, Any] = CONFIG) -> pb.Job:
    return pb.Job(message=orjson.dumps(msg), metadata=orjson.dumps({"jobId": job_id}),
                  destination=orjson.dumps({"Config": config}))


def run(msg: dict[str, Any], config: dict[str, Any] = CONFIG) -> dict[str, Any]:
    """The one result of transforming ``msg`` in processor mode."""
    request = pb.TransformRequest(destination_type="fb", jobs=[job(msg, config=config)])
    response, _ = PIPELINE.transform(request, FixedClock(0))
    (result,) = response.results
    return {"statusCode": result.status_code, "error": result.error,
            "tags": dict(result.stat_tags),
            "output": orjson.loads(result.output) if result.output else None}


def form(msg: dict[str, Any]) -> dict[str, Any]:
    result = run(msg)
    assert result["statusCode"] == 200, result
    form: dict[str, Any] = result["output"]["body"]["FORM"]
    return form


def custom_event(msg: dict[str, Any]) -> dict[str, Any]:
    (event,) = orjson.loads(form(msg)["custom_events"])
    return dict(event)


def error(msg: dict[str, Any]) -> dict[str, Any]:
    result = run(msg)
    assert result["statusCode"] != 200, result
    return result


def test_track_request() -> None:
    """A track event is a form POST to the app's activities with hashed user data (a gender
    that is no string dropped) and the custom event as JSON."""
    result = run(message())
    output = result["output"]
    assert (output["endpoint"], output["method"], output["statusCode"]) == (ENDPOINT, "POST", 200)
    assert output["headers"] == {"x-forwarded-for": "1.2.3.4"}
    assert output["userId"] == ANON
    assert output["body"]["FORM"] == {
        "event": "CUSTOM_APP_EVENTS", "advertiser_id": AD_ID, "ud[em]": EMAIL_SHA,
        "ud[fn]": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "ud[ln]": "3547cb112ac4489af2310c0626cdba6f3097a2ad5a3b42ddd3b59c76c7a079a3",
        "ud[ph]": PHONE_SHA, "extinfo": EXTINFO, "app_user_id": ANON,
        "custom_events": '[{"_logTime":1567333011693,"_eventName":"spin_result",'
                         '"_valueToSum":400,"fb_currency":"GBP","level":6,'
                         '"fb_content_id":["123","345"]}]',
        "advertiser_tracking_enabled": "0", "application_tracking_enabled": "0",
    }


def test_gender_and_phone_normalisation() -> None:
    """Gender hashes as "m" or "f"; a phone is its digits without leading zeros."""
    msg = message()
    msg["context"]["traits"].update(gender="Male", phone="+0091-9831311135")
    result = form(msg)
    assert (result["ud[ge]"], result["ud[ph]"]) == (MALE_SHA, PHONE_SHA)
    msg["context"]["traits"].update(gender=" FEMALE ", phone="000")
    result = form(msg)
    assert (result["ud[ge]"], result["ud[ph]"]) == (FEMALE_SHA, "000")


def test_user_data_hashing() -> None:
    """Text is trimmed and lower-cased, then hashed as the npm sha256 package does (the low byte
    of each UTF-16 unit); a birth date is formatted with the reference's bug (no zero padding for
    one digit, an extra 0 for two)."""
    msg = message()
    msg["context"]["traits"] = {"email": "  A@B.com ", "firstName": "Ünï", "lastName": "😀",
                                "birthDate": "2001-01-02", "city": " New York ", "state": "CA",
                                "zip": "01234-567"}
    result = form(msg)
    assert result["ud[em]"] == "fb98d44ad7501a959f3f4f4a3f004fe2d9e581ea6207e218c4b02c08a4d75adf"
    assert result["ud[fn]"] == "28fe6888e9434cb726094453387d323829008d0d312088c0bfa021a4c12ddbec"
    assert result["ud[ln]"] == "e7dac261e841e53eb65ac8c2a0e56544df49c46d71e8002d7764f92c66c4c868"
    assert result["ud[db]"] == "f392d383c148f62bb66aa7f84d3926bbf8232309bf15e89bbc0527bc8d2a6edd"
    assert result["ud[ct]"] == "350c754ba4d38897693aa077ef43072a859d23f613443133fecbbd90a3512ca5"
    assert result["ud[zp]"] == "8bb0cf6eb9b17d0f7d22b456f121257dc1254e1f01665370476383ea776df414"
    msg["context"]["traits"] = {"birthDate": 631152000000}
    assert form(msg)["ud[db]"] == \
        "0c514cc93965ed0f9bfc36c678faa257bf5cc0c722c7abe5a01bd918edcbd60c"


def test_user_data_that_cannot_be_normalised() -> None:
    """A phone or city that is no string fails as the reference's code does (500)."""
    for trait in ("phone", "city"):
        msg = message()
        msg["context"]["traits"] = {trait: 5}
        result = error(msg)
        assert result["statusCode"] == 500 and result["tags"] == {"errorCategory": "transformation"}


def test_anon_id_only_identifies_an_unknown_user() -> None:
    """anon_id is sent only without user data and advertising id; with none of the three the
    event is rejected."""
    msg = message()
    msg["context"]["traits"] = {}
    del msg["context"]["device"]["advertisingId"]
    assert form(msg)["anon_id"] == ANON
    del msg["anonymousId"]
    assert error(msg)["error"] == ("Either context.device.advertisingId or traits or anonymousId "
                                   "must be present for all events")
    msg["context"]["traits"] = {"email": 5}  # kept as it is, but no user data
    assert error(msg)["statusCode"] == 400


def test_tracking_flags() -> None:
    """advertiser/application_tracking_enabled are Number(value) as strings, "0" for what is
    absent, false or not a number."""
    for value, expected in ((True, "1"), ("true", "0"), ([2], "2"), (" 3 ", "3"), (False, "0"),
                            (2.5, "2.5")):
        msg = message()
        msg["context"]["device"]["adTrackingEnabled"] = value
        msg["properties"]["application_tracking_enabled"] = value
        result = form(msg)
        assert result["advertiser_tracking_enabled"] == expected, value
        assert result["application_tracking_enabled"] == expected, value


def test_extinfo_values() -> None:
    """Integers are parsed (0 when not numbers), the density has two decimals (ties away from
    zero), the other values are sent as they are."""
    msg = message()
    msg["context"].update(screen={"width": "640px", "height": 2.9, "density": "1.005"},
                          cpu_cores="8", ext_storage_size=0, avl_storage_size="x",
                          abv_timezone="IST", timezone=5, locale=["en"], os={"version": 8})
    assert orjson.loads(form(msg)["extinfo"]) == \
        ["a2", "", "", "", 8, "Redmi 6", ["en"], "IST", "Banglalink", 640, 2, "1.00", 8, 0, 0, 5]
    msg["context"]["screen"] = {"density": 0.125}
    assert orjson.loads(form(msg)["extinfo"])[11] == "0.13"


def test_device_types() -> None:
    """Android devices are a2, Apple ones i2; other devices are rejected."""
    msg = message(type="screen", properties={"name": "Main"}, request_ip="2.3.4.5")
    msg["context"]["device"] = {"type": "watchos"}
    del msg["context"]["ip"]
    result = run(msg)["output"]
    assert orjson.loads(result["body"]["FORM"]["extinfo"])[0] == "i2"
    assert result["headers"] == {"x-forwarded-for": "2.3.4.5"}
    msg["context"]["device"] = {"type": "windows"}
    assert error(msg)["error"] == ('Extended device information i.e, "context.device.type" is '
                                   "required")


def test_screen_names() -> None:
    """Screens are "Viewed {name} Screen" when the name is a valid event name, else "Viewed
    Screen"; pages are "Viewed Page"."""
    for name, expected in (("Main", "Viewed Main Screen"), ("Main.1233", "Viewed Screen"),
                           ("Viewed Main Screen1 by expicit call Screen", "Viewed Screen")):
        event = custom_event(message(type="screen", properties={"name": name}))
        assert event["_eventName"] == expected
        assert event["fb_description"] == name
    assert custom_event(message(type="page", properties={}))["_eventName"] == "Viewed Page"
    result = error(message(type="screen", properties={"name": "abcdefghijklmnopqrstuvwxyz1234"}))
    assert result["error"].startswith("Event name Viewed abcdefghijklmnopqrstuvwxyz1234 Screen is "
                                      "not a valid FB APP event name")


def test_event_errors() -> None:
    """Invalid names, revenue without currency, mistyped mapped properties and other message
    types are rejected in the reference's words."""
    assert error(message(event="New.Event"))["error"] == (
        "Event name New.Event is not a valid FB APP event name.It must match the regex "
        "^[0-9a-zA-Z_][0-9a-zA-Z _-]{0,39}$.")
    assert error(message(properties={"revenue": 400}))["error"] == \
        "If properties.revenue is present, properties.currency is required."
    assert error(message(properties={"revenue": "400", "currency": "GBP"}))["error"] == \
        "Value of properties.revenue is not of valid type. It should be of type number"
    assert error(message(properties={"products": [{"product_id": 123}]}))["error"] == \
        "Value of properties.products.sub.product_id is not of valid type. It should be of type string"
    assert error(message(type="identify"))["error"] == "Message type identify not supported"
    assert error(message(type="screen", properties=None))["statusCode"] == 500


def test_mapped_event_names_and_properties() -> None:
    """E-commerce events and properties take Facebook's names; revenue 0 is kept."""
    event = custom_event(message(event="Order Completed", properties={
        "revenue": 0, "currency": "INR", "name": "n", "category": "c", "query": "q",
        "quantity": 2}))
    assert event == {"_logTime": 1567333011693, "_eventName": "fb_mobile_purchase",
                     "_valueToSum": 0, "fb_currency": "INR", "fb_description": "n",
                     "fb_content_type": "c", "fb_search_string": "q", "fb_num_items": 2}


def test_track_event_names() -> None:
    """E-commerce names map exactly as written; other names, and a null event, are kept."""
    assert custom_event(message(event="Product Added"))["_eventName"] == "fb_mobile_add_to_cart"
    assert custom_event(message(event="product added"))["_eventName"] == "product added"
    assert custom_event(message(event=None))["_eventName"] is None


def test_property_keys() -> None:
    """Keys Facebook rejects are cleaned (or cut to 40 characters, then set as a path); integer
    keys come first, as JavaScript orders them; unsafe keys fail as in the reference."""
    long_key = "aaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.c"
    msg = message(properties={"a.b": 1, "héllo": 2, "x y": 3, "_eventName": "over", "1e3": 4,
                              "12": 5, long_key: 7})
    assert form(msg)["custom_events"] == (
        '[{"12":5,"1000":4,"_logTime":1567333011693,"_eventName":"over","ab":1,"hllo":2,"x y":3,'
        '"aaaaaaaaaa":{"bbbbbbbbbbbbbbbbbbbbbbbbbbbbb":7}}]')
    assert error(message(properties={"!!!": 1}))["error"].startswith(
        "The property key !!! has only non-alphanumeric characters.")
    assert error(message(properties={"constructor": 1}))["statusCode"] == 500


def test_log_time() -> None:
    """_logTime is the timestamp in epoch milliseconds, null when invalid or missing (then
    last)."""
    assert custom_event(message(timestamp="nope"))["_logTime"] is None
    msg = message(properties={"level": 1})
    del msg["timestamp"]
    assert form(msg)["custom_events"] == '[{"_eventName":"spin_result","level":1,"_logTime":null}]'


def test_router_sends_each_job_on_its_own() -> None:
    """The router transforms each job on its own, failures in place."""
    request = pb.TransformRequest(destination_type="fb", jobs=[
        job(message(), 1), job(message(properties={"revenue": 1}), 2), job(message(), 3)])
    response, _ = PIPELINE.router_transform(request, FixedClock(0))
    results = list(response.results)
    assert [[orjson.loads(m)["jobId"] for m in r.metadata] for r in results] == [[1], [2], [3]]
    assert [r.status_code for r in results] == [200, 400, 200]
    assert not any(r.batched for r in results)
    assert orjson.loads(results[0].batched_request)["endpoint"] == ENDPOINT
