"""What happens to every event before a destination sees it, as the reference does it."""

from __future__ import annotations

from transformer._preprocess import fix_source_timestamp, resolve_dynamic_config


def test_dynamic_config_reads_the_job_and_removes_what_it_used() -> None:
    """{{ message.x || "d" }} takes the event's value and removes it; event. means message."""
    message = {"traits": {"key": "k-1"}, "name": "page"}
    dest = {"Config": {"apiKey": '{{ message.traits.key || "none" }}',
                       "other": "{{ event.missing || 'fallback' }}",
                       "meta": "{{ metadata.jobId || 0 }}", "list": ["{{ nope || x }}", 3]}}
    resolved = resolve_dynamic_config(dest, message, {"jobId": 7})
    assert resolved["Config"] == {"apiKey": "k-1", "other": "'fallback'", "meta": 7,
                                  "list": ["x", 3]}
    assert message == {"traits": {}, "name": "page"}
    assert dest["Config"]["apiKey"].startswith("{{")  # the shared document is not changed


def test_templates_without_a_default_are_plain_strings() -> None:
    """{{name}} (no ||) and invalid paths are left as they are, and the event keeps its fields."""
    message = {"name": "page"}
    dest = {"Config": {"a": "{{name}}", "b": "{{ 1abc || d }}", "c": "x {{ name || d }}"}}
    assert resolve_dynamic_config(dest, message)["Config"] == dest["Config"]
    assert message == {"name": "page"}


def test_source_timestamps_are_recomputed() -> None:
    """Warehouse-source identify/track events take their time from where the source put it."""
    track = {"channel": "sources", "type": "track", "properties": {"timestamp": "t1"},
             "timestamp": "t0"}
    fix_source_timestamp(track)
    assert track["timestamp"] == "t1"
    bare = {"channel": "sources", "type": "identify"}
    fix_source_timestamp(bare)
    assert bare["timestamp"] is None
    mapped = {"channel": "sources", "type": "track", "timestamp": "t0",
              "context": {"mappedToDestination": True}, "properties": {"timestamp": "t1"}}
    fix_source_timestamp(mapped)
    assert mapped["timestamp"] == "t0"
