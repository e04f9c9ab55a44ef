"""Tests of hook.zig, built into WebAssembly with the ziglang toolchain and run in the
transformer's own WebAssembly sandbox (the server's limits) by its pytest plugin.

`pip install transformer` provides the plugin (fixture `run_function`) and the Zig
toolchain is the `ziglang` package; the build is cached, so only the first run compiles.
"""

from functions.testing import assert_matches


def test_sample_events_give_the_expected_results(run_function):
    """Each delivery in events.json gives the result expected.json has for it."""
    result = run_function("hook.zig", "events.json", kind="source", settings="settings.json")
    assert_matches(result, "expected.json")


def test_each_name_becomes_a_track_event_naming_the_source(run_function):
    """A delivery of two names is two track events whose context names the source."""
    delivery = {"method": "POST", "path": "/", "headers": {}, "query": {},
                "body": '{"events": ["A", "B"]}'}
    result = run_function("hook.zig", [delivery], kind="source", settings={"name": "s1"})
    assert result.outputs == [{"type": "track", "event": name, "context": {"source": "s1"}}
                              for name in ("A", "B")]
