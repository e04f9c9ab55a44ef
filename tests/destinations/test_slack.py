"""Slack: reference cases our conformance sample lacks, templates, channels and config errors.

Every expectation was checked against the reference transformer.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from transformer._catalog import Catalog
from transformer._clock import FixedClock
from transformer._conformance import processor_body, router_body
from transformer._pipeline import Pipeline
from transformer.destinations.slack import hooks
from transformer.v1 import transformer_pb2 as pb

WEBHOOK = "https://hooks.slack.com/services/THZM86VSS/BV9HZ2UN6/demo"
META = {"jobId": 126, "destinationId": "d1", "workspaceId": "w1"}
SIGNATURE = {"username": "RudderStack", "icon_url": "https://cdn.rudderlabs.com/rudderstack.png"}
TRACK_CONFIG = {"webhookUrl": WEBHOOK, "eventChannelSettings": [], "eventTemplateSettings": []}


def _message(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "userId": "12345", "anonymousId": "anon-1", "messageId": "m-1",
            **extra}


def _job(message: dict[str, Any], config: dict[str, Any]) -> pb.Job:
    destination = {"ID": "d1", "Config": config, "DestinationDefinition": {"Name": "SLACK"}}
    return pb.Job(message=orjson.dumps(message), metadata=orjson.dumps(META),
                  destination=orjson.dumps(destination))


def _process(catalog: Catalog, message: dict[str, Any],
             config: dict[str, Any]) -> dict[str, Any]:
    request = pb.TransformRequest(destination_type="slack", jobs=[_job(message, config)])
    response, _ = Pipeline(catalog).transform(request, FixedClock(0))
    (result,) = processor_body(response)
    return result


def _sent(catalog: Catalog, message: dict[str, Any],
          config: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The webhook and the decoded payload of a successful event."""
    result = _process(catalog, message, config)
    assert result["statusCode"] == 200, result
    output = result["output"]
    return output["endpoint"], orjson.loads(output["body"]["FORM"]["payload"])


def _text(catalog: Catalog, template: str, traits: dict[str, Any]) -> str:
    config = {"webhookUrl": WEBHOOK, "identifyTemplate": template}
    text: str = _sent(catalog, _message("identify", traits=traits), config)[1]["text"]
    return text


def test_identify_with_newline_helper(catalog: Catalog) -> None:
    """The reference registers a {{newline}} helper."""
    template = "Hello {{name}}{{newline}}Your traits: name: {{name}} and role: {{role}}"
    message = _message("identify", context={"traits": {"name": "Jane Doe", "role": "Developer"}})
    result = _process(catalog, message, {"webhookUrl": WEBHOOK, "identifyTemplate": template})
    assert result["output"]["body"]["FORM"]["payload"] == orjson.dumps({
        "text": "Hello Jane Doe\nYour traits: name: Jane Doe and role: Developer", **SIGNATURE,
    }).decode()
    assert result["output"]["userId"] == "12345"
    assert result["output"]["headers"] == {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize("kind", ["page", "screen", "group", "alias", "PAGE"])
def test_other_event_types_are_rejected(catalog: Catalog, kind: str) -> None:
    """Only identify and track are sent."""
    result = _process(catalog, _message(kind), {"webhookUrl": WEBHOOK})
    assert (result["statusCode"], result["error"]) == \
        (400, f"Event type {kind.lower()} is not supported")
    assert result["statTags"]["errorType"] == "instrumentation"


def test_router_rejects_a_page_and_sends_an_identify_alone(catalog: Catalog) -> None:
    """Router jobs are not batched: each identify is a list of one request."""
    config = {"webhookUrl": WEBHOOK, "identifyTemplate": "identified {{name}} with {{traits}}",
              "whitelistedTraitsSettings": [{"trait": "hiji"}, {"trait": ""}]}
    jobs = [_job(_message("page"), config),
            _job(_message("identify", traits={"hiji": "hulala-1", "name": "my-name-1"}), config)]
    request = pb.TransformRequest(destination_type="slack", jobs=jobs)
    output = router_body(Pipeline(catalog).router_transform(request, FixedClock(0))[0])["output"]
    assert [o["statusCode"] for o in output] == [400, 200]
    assert output[0]["error"] == "Event type page is not supported"
    (sent,) = output[1]["batchedRequest"]
    assert orjson.loads(sent["body"]["FORM"]["payload"])["text"] == \
        "identified my-name-1 with hiji: hulala-1 "


def test_default_identify_lists_whitelisted_or_all_traits(catalog: Catalog) -> None:
    """Without a template identify lists the whitelisted traits, else every trait."""
    message = _message("identify", context={"traits": {"firstName": "F", "lastName": "L",
                                                       "x": {"y": 1}, "n": None}})
    assert _sent(catalog, message, {"webhookUrl": WEBHOOK})[1]["text"] == \
        "Identified FLfirstName: F lastName: L x: [object Object] n:  "
    whitelisted = {"webhookUrl": WEBHOOK, "identifyTemplate": "  ",
                   "whitelistedTraitsSettings": [{"trait": " a "}, {"trait": "b b"}, {}]}
    message = _message("identify", traits={"email": "e@x", "a": 1, "b b": 2})
    assert _sent(catalog, message, whitelisted)[1]["text"] == "Identified e@xa: 1 b b: 2 "


def test_user_name_falls_back_to_the_ids(catalog: Catalog) -> None:
    """{{name}} is the traits' name, names, username or email, else the user id."""
    assert hooks.user_name({"traits": {"username": "uu"}}) == "uu"
    assert hooks.user_name({"properties": {"email": "p@x"}, "traits": {"email": "t@x"}}) == "p@x"
    assert hooks.user_name({"userId": 5}) == "User 5"
    assert hooks.user_name({"anonymousId": "a"}) == "Anonymous user a"
    assert hooks.user_name({}) == "Anonymous user undefined"


def test_track_template_channel_and_default(catalog: Catalog) -> None:
    """A track takes the first matching template and, for legacy webhooks, the channel."""
    config = {"webhookUrl": WEBHOOK,
              "eventChannelSettings": [{"eventName": "Order", "eventRegex": True,
                                        "eventChannel": "#orders"}],
              "eventTemplateSettings": [
                  {"eventName": "Nope", "eventTemplate": "x"},
                  {"eventName": "Order Done",
                   "eventTemplate": "{{name}} {{event}} {{total}} {{propertiesList}}{{traits}}"}]}
    message = _message("track", event="Order Done", properties={"total": 5, "o": {"a": 1}},
                       context={"traits": {"k": "v"}})
    endpoint, payload = _sent(catalog, message, config)
    assert endpoint == WEBHOOK
    assert payload == {"channel": "#orders",
                       "text": "User 12345 Order Done 5 total: 5 o: [object Object] k: v ",
                       **SIGNATURE}
    assert _sent(catalog, _message("track", event="Clicked"), TRACK_CONFIG)[1]["text"] == \
        "User 12345 did Clicked"


def test_modern_webhooks_post_to_the_channel_webhook(catalog: Catalog) -> None:
    """Modern webhooks post to the matching channel's webhook, without name and icon."""
    config = {**TRACK_CONFIG, "incomingWebhooksType": "modern",
              "eventChannelSettings": [{"eventName": "^Sign", "eventRegex": True,
                                        "eventChannelWebhook": "https://hooks.example/2"}]}
    assert _sent(catalog, _message("track", event="Signup"), config) == \
        ("https://hooks.example/2", {"text": "User 12345 did Signup"})
    assert _sent(catalog, _message("track", event="Other"), config) == \
        (WEBHOOK, {"text": "User 12345 did Other", **SIGNATURE})


def test_track_errors(catalog: Catalog) -> None:
    """Denied events, missing names, broken templates and missing settings fail as the reference."""
    denied = _process(catalog, _message("track", event="bad"),
                      {**TRACK_CONFIG, "denyListOfEvents": [{"eventName": "bad"}]})
    assert (denied["statusCode"], denied["error"]) == \
        (400, "Event is denied. Please check configuration.")
    assert denied["statTags"]["errorType"] == "configuration"
    nameless = _process(catalog, _message("track"), TRACK_CONFIG)
    assert nameless["error"] == "Event name is required"
    broken = _process(catalog, _message("track", event="E"), {
        **TRACK_CONFIG, "eventTemplateSettings": [{"eventName": "E", "eventTemplate": "{{#if x}}"}]})
    assert (broken["statusCode"], broken["error"]) == \
        (400, "Something is wrong with the event template: '{{#if x}}'")
    unset = _process(catalog, _message("track", event="E"), {"webhookUrl": WEBHOOK})
    assert (unset["statusCode"], unset["error"]) == (400, "eventChannelSettings must be a list")


def test_broken_identify_template_is_a_configuration_error(catalog: Catalog) -> None:
    """A template Handlebars refuses is a 400 naming it (the reference crashes with a 500)."""
    result = _process(catalog, _message("identify"),
                      {"webhookUrl": WEBHOOK, "identifyTemplate": "{{foo bar}}"})
    assert (result["statusCode"], result["statTags"]["errorType"]) == (400, "configuration")
    assert result["error"] == ("Something is wrong with the identify template: '{{foo bar}}': "
                               'Missing helper: "foo"')


@pytest.mark.parametrize(("template", "traits", "text"), [
    ("{{name}} {{{name}}} {{&name}}", {"name": "A<b>&\"'`="},
     "A&lt;b&gt;&amp;&quot;&#x27;&#x60;&#x3D; A<b>&\"'`= A<b>&\"'`="),
    ("{{#if vip}}VIP {{name}}{{else}}regular{{/if}}", {"vip": True, "name": "A"}, "VIP A"),
    ("{{#if n}}yes{{else}}no{{/if}} {{#if n includeZero=true}}zero{{/if}}", {"n": 0}, "no zero"),
    ("{{#each items}}{{@index}}:{{this}}{{#if @last}}.{{else}},{{/if}}{{/each}}",
     {"items": ["a", "<b>", 3]}, "0:a,1:&lt;b&gt;,2:3."),
    ("{{#each o}}{{@key}}={{this}} {{/each}}", {"o": {"x": 1, "y": {"z": 2}}},
     "x=1 y=[object Object] "),
    ("{{#each rows}}{{#each this}}{{@../index}}.{{@index}};{{/each}}{{/each}}",
     {"rows": [[1, 2], [3]]}, "0.0;0.1;1.0;"),
    ("{{#with addr}}{{city}} {{../name}}{{/with}}{{#with none}}x{{else}}-{{/with}}",
     {"addr": {"city": "P"}, "name": "N"}, "P N-"),
    ("Hello\n{{#if x}}\n  yes\n{{/if}}\nbye", {"x": True}, "Hello\n  yes\nbye"),
    ("a  {{~name~}}  b{{! comment }}", {"name": "X"}, "aXb"),
    ('{{[favorite color]}} {{"favorite color"}} {{traitsList.[favorite color]}}',
     {"favorite color": "red"}, "red red red"),
    ("{{n}} {{f}} {{b}} [{{nul}}] {{arr}} {{arr.length}}",
     {"n": 0, "f": 1.5, "b": False, "nul": None, "arr": [1, None, "x"]}, "0 1.5 false [] 1,,x 3"),
    ("{{#o}}[{{a}}]{{/o}}{{#l}}<{{this}}>{{/l}}{{^missing}}inv{{/missing}}",
     {"o": {"a": 1}, "l": [1, 2]}, "[1]<1><2>inv"),
    ("{{#if a}}A{{else if b}}B{{else}}C{{/if}}", {"a": False, "b": 1}, "B"),
    ("{{lookup (lookup traitsList \"o\") \"x\"}} {{@root.name}}", {"o": {"x": 5}, "name": "R"},
     "5 R"),
    ("\\{{name}} {{name}}", {"name": "N"}, "{{name}} N"),
])
def test_handlebars(catalog: Catalog, template: str, traits: dict[str, Any], text: str) -> None:
    """The Handlebars features templates use render as Handlebars renders them."""
    assert _text(catalog, template, traits) == text
