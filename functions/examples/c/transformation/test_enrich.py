"""Tests of enrich.c, built into WebAssembly with the ziglang toolchain and run in the
transformer's own WebAssembly sandbox (the server's limits) by its pytest plugin.

`pip install transformer` provides the plugin (fixture `run_function`) and the C
toolchain is the `ziglang` package; the build is cached, so only the first run compiles.
"""

from functions.testing import assert_matches


def test_sample_events_give_the_expected_results(run_function):
    """Each event in events.json gives the result expected.json has for it."""
    result = run_function("enrich.c", "events.json", kind="transformation")
    assert_matches(result, "expected.json")


def test_marks_the_event_and_keeps_its_properties(run_function):
    """An event comes back with properties.transformed set and its other properties unchanged."""
    event = {"type": "track", "event": "Signed Up", "messageId": "m1", "properties": {"plan": "pro"}}
    result = run_function("enrich.c", [event], kind="transformation")
    assert result.errors == []
    assert result.outputs == [{**event, "properties": {"transformed": True, "plan": "pro"}}]


def test_drops_spam_and_rejects_untyped_events(run_function):
    """A spam event is dropped (298, logged); an event without a type is a 400."""
    spam = {"type": "track", "event": "Spam Event", "messageId": "m9"}
    result = run_function("enrich.c", [spam, {"event": "x"}], kind="transformation")
    assert result.status_codes == [298, 400]
    assert result.logs == ["dropped spam event m9"]
    assert result.errors == ["ValidationError: the event has no type"]
