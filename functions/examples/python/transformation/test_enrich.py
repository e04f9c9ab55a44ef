"""Tests of enrich.py, run in the transformer's own sandbox by its pytest plugin.

`run_function(file, events, settings=...)` resolves paths against this folder; `pip install
transformer` provides the plugin (fixture `run_function`), so no conftest.py is needed.
"""

from functions.testing import assert_matches

ORDER = {"type": "track", "event": "Order Completed", "messageId": "m1", "properties": {},
         "context": {"traits": {"email": "Jane.Doe@example.com"}}}


def test_sample_events_give_the_expected_results(run_function):
    """Each event in events.json gives the result expected.json has for it."""
    result = run_function("enrich.py", "events.json", settings="settings.json")
    assert_matches(result, "expected.json")


def test_tags_the_source_and_hashes_the_email(run_function):
    """The event comes back with its source id and the hash of its normalised email."""
    result = run_function("enrich.py", [ORDER], settings={"sourceId": "src-1"})
    assert result.errors == []
    [event] = result.outputs
    assert event["properties"]["source_id"] == "src-1"
    assert len(event["context"]["traits"]["email_sha256"]) == 64


def test_drops_internal_traffic_and_rejects_unnamed_tracks(run_function):
    """Internal users are dropped (298, logged); a track without a name is a 400 naming the line."""
    internal = {**ORDER, "context": {"traits": {"email": "qa@acme.example"}}}
    unnamed = {"type": "track", "messageId": "m3"}
    result = run_function("enrich.py", [internal, unnamed])
    assert result.status_codes == [298, 400]
    assert result.logs == ["dropped internal user m1"]
    [error] = result.errors
    assert error == "ValidationError: a track event needs an event name (line 13, in transformEvent)"
