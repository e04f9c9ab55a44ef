"""Redis: reference cases missing from the conformance sample, and edge cases of the spec."""

from __future__ import annotations

import json
from typing import Any

from ._support import ABSENT as _ABSENT
from ._support import output, present
from ._support import run as run_job

DEST_ID = "1WhcOCGgj9asZu850HvugU2C3Aq"
PROFILES = {"profiles_model": "some-model", "profiles_entity": "some-entity",
            "profiles_id_type": "some-id-type", "job_id": "some-job-id"}


def identify(traits: Any = _ABSENT, context_traits: Any = _ABSENT, **fields: Any) -> dict[str, Any]:
    context: dict[str, Any] = {"ip": "0.0.0.0", "locale": "en-GB"}
    if context_traits is not _ABSENT:
        context["traits"] = context_traits
    base: dict[str, Any] = {"anonymousId": "a1", "channel": "web", "context": context,
                            "type": "identify", "userId": "myUserId"}
    if traits is not _ABSENT:
        base["traits"] = traits
    base.update(fields)
    return present(base)


def run(msg: dict[str, Any], config: Any = _ABSENT, metadata: Any = _ABSENT,
        dest_id: str = DEST_ID) -> dict[str, Any]:
    """The one result of transforming ``msg``, in the reference's JSON shape."""
    destination: dict[str, Any] = {"ID": dest_id}
    if config is not None:
        destination["Config"] = {"address": "localhost:6379", "prefix": " "} \
            if config is _ABSENT else config
    metadata = {"workspaceId": "wspId"} if metadata is _ABSENT else metadata
    return run_job("redis", msg, destination, metadata)


def fields(msg: dict[str, Any], config: Any = _ABSENT) -> dict[str, Any]:
    out: dict[str, Any] = output(run(msg, config))["message"]["fields"]
    return out


def test_profiles_row_as_hash() -> None:  # reference test 5
    traits = {"MODEL_ID": "1691755780", "VALID_AT": "2023-08-11T11:32:44.963062Z",
              "CHURN_SCORE_7_DAYS": 0.027986, "PERCENTILE_CHURN_SCORE_7_DAYS": 0}
    msg = identify(traits, userId="some-user-id", channel="sources", context={"sources": PROFILES})
    result = run(msg, {"prefix": "TestPrefix"}, {"workspaceId": "some-workspace-id"})
    assert result == {
        "statusCode": 200,
        "output": {"message": {
            "hash": f"some-workspace-id:{DEST_ID}:some-entity:some-id-type:some-user-id",
            "key": "some-model",
            "value": '{"MODEL_ID":"1691755780","VALID_AT":"2023-08-11T11:32:44.963062Z",'
                     '"CHURN_SCORE_7_DAYS":0.027986,"PERCENTILE_CHURN_SCORE_7_DAYS":0}',
        }, "userId": "some-user-id"},
        "metadata": {"workspaceId": "some-workspace-id"},
    }


def test_json_module_with_context_traits() -> None:  # reference test 6
    traits = {"prop1": "k", "prop2": 2, "prop3": {"p4": "a"}}
    result = run(identify(context_traits=traits, userId="user-1"), {"useJSONModule": True})
    assert result["output"] == {"message": {"key": "user:user-1", "value": traits},
                                "userId": "user-1"}
    assert result["metadata"] == {"workspaceId": "wspId"}


def test_json_module_with_profiles() -> None:  # reference test 8
    traits = {"field": "k", "model_name": "analytics_app"}
    msg = identify(traits, context_traits={}, userId="user-2",
                   context={"traits": {}, "sources": {"profiles_entity": "e1", "profiles_model": "model1",
                                                      "profiles_id_type": "id-1"}})
    result = run(msg, {"useJSONModule": True, "prefix": " "}, {"workspaceId": "w1"}, dest_id="d1")
    assert result["output"] == {
        "message": {"key": "w1:d1:e1:id-1:user-2", "path": "model1", "value": traits},
        "userId": "user-2"}


def test_json_module_value_is_raw_traits_or_null() -> None:
    config = {"useJSONModule": True}
    assert run(identify({}, {"a": 1}), config)["output"]["message"] == {"key": "user:myUserId",
                                                                         "value": {}}
    assert run(identify(), config)["output"]["message"] == {"key": "user:myUserId", "value": None}
    assert run(identify("", {"a": 1}), config)["output"]["message"]["value"] == {"a": 1}


def test_profiles_hash_without_traits_or_workspace() -> None:
    msg = identify(context={"sources": PROFILES})
    assert run(msg, {}, {})["output"]["message"] == {
        "hash": f"undefined:{DEST_ID}:some-entity:some-id-type:myUserId", "key": "some-model"}


def test_profiles_need_every_profiles_field() -> None:
    msg = identify(context={"sources": {**PROFILES, "profiles_model": ""}, "traits": {"a": 1}})
    assert run(msg)["output"]["message"] == {"key": "user:myUserId", "fields": {"a": "1"}}


def test_profiles_without_metadata_are_rejected() -> None:
    """The reference crashes reading metadata.workspaceId (a 500 retried forever): a 400 here."""
    result = run(identify({"a": 1}, context={"sources": PROFILES}), metadata=None)
    assert (result["statusCode"], result["error"], result["statTags"]["errorType"]) == (
        400, "a profiles event needs the job's metadata (its workspaceId)", "instrumentation")


def test_only_identify_is_supported() -> None:
    assert run(identify({"a": 1}, type="IDENTIFY"))["statusCode"] == 200
    for kind in ("track", "", None, _ABSENT, 0):
        result = run(identify({"a": 1}, type=kind))
        assert result["statusCode"] == 400
        assert result["error"] == "Only Identify calls are supported"
        assert result["statTags"] == {
            "destType": "REDIS", "module": "destination", "implementation": "native",
            "feature": "processor", "errorCategory": "dataValidation",
            "errorType": "instrumentation", "workspaceId": "wspId"}
    result = run(identify({"a": 1}, type=5))  # the reference crashes on toLowerCase
    assert (result["statusCode"], result["error"], result["statTags"]["errorType"]) == (
        400, "type must be a string", "instrumentation")


def test_blank_user_id_is_rejected() -> None:
    for user_id in (" ", "", None, _ABSENT, "\u00a0\ufeff", []):
        result = run(identify({"a": 1}, userId=user_id))
        assert (result["statusCode"], result["error"]) == (400, "Blank userId passed in identify event")


def test_non_string_user_ids_print_as_javascript() -> None:
    result = run(identify({"a": 1}, userId=123))
    assert result["output"] == {"message": {"key": "user:123", "fields": {"a": "1"}}, "userId": "123"}
    assert run(identify({"a": 1}, userId=[None, 1]))["output"]["message"]["key"] == "user:null,1"


def test_prefix_is_trimmed_and_must_be_a_string() -> None:
    msg = identify({"a": 1})
    assert run(msg, {"prefix": "  ab c "})["output"]["message"]["key"] == "ab c:user:myUserId"
    assert run(msg, {})["output"]["message"]["key"] == "user:myUserId"
    result = run(msg, {"prefix": 5})  # the reference crashes on prefix.trim
    assert (result["statusCode"], result["error"]) == (400, "prefix must be a string")


def test_missing_config_fails_only_after_validation() -> None:
    result = run(identify({"a": 1}), config=None)  # the reference crashes destructuring it
    assert (result["statusCode"], result["error"]) == (400, "destination.Config is missing or null")
    assert run(identify({"a": 1}, type="track"), config=None)["statusCode"] == 400


def test_values_print_as_javascript_strings() -> None:
    traits = {"t": True, "f": False, "zero": 0, "neg": -0.0, "half": 1.5, "big": 1e21, "tiny": 1e-7,
              "small": 0.00001, "whole": 2.0, "huge": 1.2345678901234568e20, "empty": "",
              "space": " ", "none": None,
              "list": [1.0, 2.5, {"x": "é"}, None], "nested": {"deep": {}, "n": 1}}
    assert fields(identify(traits)) == {
        "t": "true", "f": "false", "zero": "0", "neg": "-0", "half": "1.5", "big": "1e+21",
        "tiny": "1e-7", "small": "0.00001", "whole": "2", "huge": "123456789012345680000",
        "empty": "", "space": " ", "list": '[1,2.5,{"x":"é"},null]', "nested.n": "1"}


def test_traits_override_context_traits_after_flattening() -> None:
    got = fields(identify({"a": {"b": 2}, "c": 3}, {"a": {"b": 1, "z": 0}, "a.b": 9, "k": "v"}))
    assert got == {"a.b": "2", "a.z": "0", "k": "v", "c": "3"}
    assert list(got) == ["a.b", "a.z", "k", "c"]


def test_flatten_keeps_arrays_whole_and_orders_keys_as_javascript() -> None:
    got = fields(identify({"b": [[1], {"x": 1}], "10": "ten", "2": {"1": "x"}, "a": []}))
    assert got == {"2.1": "x", "10": "ten", "b": '[[1],{"x":1}]', "a": "[]"}
    assert list(got) == ["10", "2.1", "b", "a"]
    # JSON.stringify orders integer-like keys first too.
    assert fields(identify({"o": [{"b": 1, "1": 2}]})) == {"o": json.dumps(
        [{"1": 2, "b": 1}], separators=(",", ":"))}


def test_nothing_left_to_set_is_rejected() -> None:
    for msg in (identify({"gone": None, "empty": {}}, []), identify("text", "text")):
        result = run(msg)
        assert (result["statusCode"], result["error"]) == (
            400, "context or context.traits or traits is empty")
