"""Loops: reference cases missing from the conformance sample, and edge cases of the spec."""

from __future__ import annotations

from typing import Any

from ._support import ABSENT as _ABSENT
from ._support import output, present, workflow_error
from ._support import run as run_job

METADATA = {"jobId": 1, "attemptNum": 1, "userId": "default-userId", "sourceId": "default-sourceId",
            "destinationId": "default-destinationId", "workspaceId": "default-workspaceId",
            "secret": {"accessToken": "commonAccessToken"}, "dontBatch": False}
CONFIG = {"apiKey": "loops1"}
CONTACTS = "https://app.loops.so/api/v1/contacts/update"
EVENTS = "https://app.loops.so/api/v1/events/send"
TRAITS = {"email": "dummyuser@domain.com", "firstName": "Bob", "lastName": "Brown",
          "phone": "099-999-9999"}


def message(kind: Any = "track", **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"type": kind, "userId": "dummy-user001", "anonymousId": "default-anonymousId",
                            "context": {"traits": dict(TRAITS)},
                            "originalTimestamp": "2021-01-03T17:02:53.193Z"}
    if kind == "track":
        base.update(event="signup", properties={"subscriptionStatus": "trial", "plan": None})
    base.update(fields)
    return present(base)


def run(msg: dict[str, Any], config: Any = None) -> dict[str, Any]:
    """The one result of transforming ``msg``, in the reference's JSON shape."""
    destination = {"ID": "loops-destination-id", "Config": CONFIG if config is None else config,
                   "DestinationDefinition": {"Name": "LOOPS"}}
    return run_job("loops", msg, destination, METADATA)


def payload(msg: dict[str, Any], config: Any = None) -> Any:
    return output(run(msg, config))["body"]["JSON"]


def assert_error(result: dict[str, Any], step: str, text: str, error_type: str = "instrumentation") -> None:
    assert result == {
        "statusCode": 400, "metadata": METADATA,
        "error": workflow_error(step, text),
        "statTags": {"destType": "LOOPS", "errorCategory": "dataValidation", "errorType": error_type,
                     "feature": "processor", "implementation": "cdkV2", "module": "destination",
                     "destinationId": "default-destinationId", "workspaceId": "default-workspaceId"},
    }


def test_identify_copies_nested_traits() -> None:  # reference case 1 (mailing lists)
    """A nested trait object is sent as it is, with the userId, as a PUT to contacts/update."""
    traits = {**TRAITS, "mailinglists": {"list_001": True, "list_002": False}}
    assert run(message("identify", context={"traits": traits})) == {
        "statusCode": 200, "metadata": METADATA, "output": {
            "version": "1", "type": "REST", "method": "PUT", "endpoint": CONTACTS,
            "headers": {"Authorization": "Bearer loops1", "Content-Type": "application/json"},
            "params": {}, "body": {"JSON": {**traits, "userId": "dummy-user001"}, "JSON_ARRAY": {},
                                   "XML": {}, "FORM": {}},
            "files": {}, "userId": ""}}


def test_identify_without_email_fails() -> None:  # reference case 4
    """An identify needs an email, a userId is not enough."""
    msg = message("identify", userId="default-userId",
                  context={"traits": {"firstName": "Bob", "lastName": "Brown"}})
    assert_error(run(msg), "validateIdentifyEvent", "email is required for identify call.")


def test_track_without_email_or_user_id_fails() -> None:  # reference case 5
    """A track needs an email or a userId (the anonymousId does not count)."""
    msg = message(userId=_ABSENT, context={})
    assert_error(run(msg), "validateTrackEvent", "Either email or userId is required for track call.")


def test_group_is_not_supported() -> None:  # reference case 7
    """Only identify and track are mapped."""
    assert_error(run(message("group")), "validateInput", "message type group is not supported")


def test_type_check_is_case_sensitive_and_precedes_the_api_key() -> None:
    """``TRACK`` is rejected, and a bad type is reported before a missing apiKey."""
    assert_error(run(message("TRACK")), "validateInput", "message type TRACK is not supported")
    assert_error(run(message("page"), {}), "validateInput", "message type page is not supported")


def test_empty_api_key_is_a_configuration_error() -> None:
    """An empty apiKey is as missing as an absent one."""
    assert_error(run(message(), {"apiKey": ""}), "validateInput",
                 "apiKey must be supplied in destination config.", "configuration")


def test_non_string_type_is_not_supported() -> None:
    """A numeric type breaks the reference's toLowerCase (a 500 the router retries forever); here
    it is a type like any other that Loops does not take."""
    assert_error(run(message(5)), "validateInput", "message type 5 is not supported")


def test_track_needs_a_truthy_event() -> None:
    """An event of 0 or "" fails after the identity check."""
    assert_error(run(message(event=0)), "validateTrackEvent", "event is required for track call.")


def test_top_level_nulls_are_removed_nested_ones_kept() -> None:
    """Trait keys with null values go; nulls inside eventProperties stay."""
    msg = message("identify", context={"traits": {"email": "c@x", "a": None, "b": 1, "userId": "tu"}},
                  userId="u")
    assert payload(msg) == {"email": "c@x", "b": 1, "userId": "u"}


def test_root_traits_replace_context_traits() -> None:
    """Root traits are copied instead of context.traits; email and userId follow their own chains."""
    msg = message("identify", userId=_ABSENT, traits={"email": "t@x", "id": "tid"},
                  context={"traits": {"email": "c@x", "z": 1}})
    assert payload(msg) == {"email": "t@x", "id": "tid", "userId": "tid"}


def test_email_may_come_from_properties() -> None:
    """properties.email satisfies both identify and track."""
    assert payload(message("identify", userId=_ABSENT, context={},
                           properties={"email": "p@x"})) == {"email": "p@x"}
    msg = message(userId=_ABSENT, context={}, properties={"email": "p@x", "x": None})
    assert payload(msg) == {"email": "p@x", "eventName": "signup",
                            "eventProperties": {"email": "p@x", "x": None}}


def test_chains_are_nullish_not_truthy() -> None:
    """An empty email stops the chain (identify fails); an empty userId stops it too."""
    msg = message("identify", traits={"email": ""}, context={"traits": {"email": "c@x"}})
    assert_error(run(msg), "validateIdentifyEvent", "email is required for identify call.")
    msg = message("identify", traits={"email": None}, context={"traits": {"email": "c@x"}})
    assert payload(msg)["email"] == "c@x"
    msg = message(userId="", context={"traits": {"id": "tid"}})
    assert_error(run(msg), "validateTrackEvent", "Either email or userId is required for track call.")


def test_event_fields_overwrite_traits() -> None:
    """A trait named eventProperties is replaced by the properties, or dropped without them."""
    msg = message(properties=_ABSENT, context={"traits": {"eventProperties": "t", "email": "e"}})
    assert payload(msg) == {"email": "e", "userId": "dummy-user001", "eventName": "signup"}


def test_string_traits_spread_like_object_assign() -> None:
    """A string in context.traits is copied character by character, as Object.assign does."""
    assert payload(message(context={"traits": "ab"})) == {
        "0": "a", "1": "b", "userId": "dummy-user001", "eventName": "signup",
        "eventProperties": {"subscriptionStatus": "trial", "plan": None}}
