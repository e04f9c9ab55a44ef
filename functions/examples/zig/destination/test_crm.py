"""Tests of crm.zig, built into WebAssembly with the ziglang toolchain and run in the
transformer's own WebAssembly sandbox (the server's limits) by its pytest plugin.

`pip install transformer` provides the plugin (fixture `run_function`) and the Zig
toolchain is the `ziglang` package; the build is cached, so only the first run compiles.
"""

from functions.testing import assert_matches


def test_sample_events_give_the_expected_results(run_function):
    """Each event in events.json gives the result expected.json has for it."""
    result = run_function("crm.zig", "events.json", kind="destination", settings="settings.json")
    assert_matches(result, "expected.json")


def test_a_track_becomes_a_post_to_the_configured_url(run_function):
    """A track event is a POST of its name and user to Config.url."""
    track = {"type": "track", "event": "Signed Up", "userId": "u1", "messageId": "m1"}
    result = run_function("crm.zig", [track], kind="destination", settings={"url": "https://x.example/e"})
    [request] = result.outputs
    assert request["endpoint"] == "https://x.example/e"
    assert request["body"]["JSON"] == {"name": "Signed Up", "userId": "u1"}


def test_without_a_url_the_event_is_a_400_naming_the_setting(run_function):
    """A destination configured without a url fails each event with a message naming Config.url."""
    track = {"type": "track", "event": "Signed Up", "messageId": "m1"}
    result = run_function("crm.zig", [track], kind="destination", settings={})
    assert result.status_codes == [400]
    assert "Config.url" in result.errors[0]
