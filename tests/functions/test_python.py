"""Python functions: upload validation and each kind's calling convention, run in a real pool."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import orjson
import pytest

from functions import (
    METADATA_FIELDS,
    FunctionKind,
    InvalidFunction,
    Language,
    LimitOverrides,
    Program,
    Reason,
    Runner,
    RunResult,
    check_limits,
    inline_version,
    limits_for,
    make_program,
    validate,
)
from sandbox import LimitPolicy, Limits, WorkerPool
from tests.helpers import outputs, run_program

T, D, S = FunctionKind.TRANSFORMATION, FunctionKind.DESTINATION, FunctionKind.SOURCE
PY = Language.PYTHON
POLICY = LimitPolicy(Limits(wall_ms=400, memory_bytes=192 << 20, max_output_bytes=64 << 10,
                            max_log_bytes=4 << 10))


@pytest.fixture(scope="module")
def runner() -> Iterator[Runner]:
    with WorkerPool(2, policy=POLICY) as pool:
        yield Runner(pool)


def program(code: str, kind: FunctionKind = T, name: str = "fn") -> Program:
    source = code.encode()
    return make_program(inline_version("ws", name, kind, PY, source, LimitOverrides()), source, POLICY)


def run(runner: Runner, code: str | Program, inputs: Sequence[tuple[Any, Any]],
        kind: FunctionKind = T) -> RunResult:
    return run_program(runner, code if isinstance(code, Program) else program(code, kind), inputs)


# --- validation ---------------------------------------------------------------------------------


def test_compile_errors_carry_line_and_column() -> None:
    """A restricted-Python violation is an InvalidFunction positioned at the offending node."""
    with pytest.raises(InvalidFunction) as caught:
        validate(T, PY, b"def transformEvent(event, metadata):\n    return event.__class__\n")
    assert (caught.value.line, caught.value.column) == (2, 12)
    assert caught.value.message.startswith("line 2, column 12: ")


def test_syntax_errors_carry_line_and_column() -> None:
    with pytest.raises(InvalidFunction) as caught:
        validate(T, PY, b"def transformEvent(event, metadata)\n    return event\n")
    assert caught.value.line == 1 and "SyntaxError" in caught.value.message


@pytest.mark.parametrize(("kind", "code", "needed"), [
    (T, "def transform(event, metadata):\n    return event\n", "transformEvent() or transformBatch()"),
    (D, "def track(event, settings):\n    return event\n", "on_track()"),
    (S, "def on_track(event, settings):\n    return event\n", "on_request()"),
])
def test_each_kind_needs_its_entry_point(kind: FunctionKind, code: str, needed: str) -> None:
    """An upload without the kind's entry point says which one it needs."""
    with pytest.raises(InvalidFunction, match=needed.replace("(", r"\(").replace(")", r"\)")):
        validate(kind, PY, code.encode())


def test_source_that_is_not_utf8_is_positioned() -> None:
    with pytest.raises(InvalidFunction) as caught:
        validate(T, PY, b"def transformEvent(e, m):\n    return 'caf\xe9'\n")
    assert (caught.value.line, caught.value.column) == (2, 16)


def test_the_shims_names_are_reserved() -> None:
    """User code cannot define or touch the names of the calling shim."""
    with pytest.raises(InvalidFunction, match="reserved") as caught:
        validate(T, PY, b"def transformEvent(e, m):\n    return transformer_shim_metadata(m)\n")
    assert caught.value.line == 2


def test_upload_limits_are_checked_against_the_server_maximum() -> None:
    check_limits(POLICY, LimitOverrides(wall_ms=5_000))
    with pytest.raises(InvalidFunction, match="wall_ms"):
        check_limits(POLICY, LimitOverrides(wall_ms=POLICY.maximum.wall_ms + 1))


def test_run_limits_are_the_defaults_with_capped_overrides() -> None:
    limits = limits_for(POLICY, LimitOverrides(wall_ms=50, cpu_ms=1_500, memory_bytes=1 << 40))
    assert (limits.wall_ms, limits.cpu_seconds) == (50, 2)
    assert limits.memory_bytes == POLICY.maximum.memory_bytes
    assert limits.max_output_bytes == POLICY.defaults.max_output_bytes


# --- transformations ----------------------------------------------------------------------------


def test_transform_event_gets_a_metadata_callable(runner: Runner) -> None:
    """metadata(event) returns the job's metadata, limited to the fields RudderStack shows."""
    code = "def transformEvent(event, metadata):\n    event['meta'] = metadata(event)\n    return event\n"
    meta = {"sourceId": "s1", "jobId": 7, "messageId": "m1", "internal": "hidden"}
    [[out]] = outputs(run(runner, code, [({"messageId": "m1"}, meta)]))
    assert out["meta"] == {"sourceId": "s1", "jobId": 7, "messageId": "m1"}
    assert set(out["meta"]) <= set(METADATA_FIELDS)


def test_transform_event_returns_one_many_or_none(runner: Runner) -> None:
    """A dict is one event, a list several, None or [] none (298); outputs keep their bytes."""
    code = (
        "def transformEvent(event, metadata):\n"
        "    n = event['n']\n"
        "    if n == 0:\n        return event\n"
        "    if n == 1:\n        return [event, {'copy': True}]\n"
        "    if n == 2:\n        return None\n"
        "    return []\n"
    )
    result = run(runner, code, [({"n": i}, {}) for i in range(4)])
    assert outputs(result) == [[{"n": 0}], [{"n": 1}, {"copy": True}], [], []]
    assert [o.status for o in result.outcomes] == [200, 200, 298, 298]


@pytest.mark.parametrize(("returned", "message"), [
    ("'text'", "must return an event object, a list of them or None, not a string"),
    ("[event, 3]", "returned a list whose item 1 is an int, not an event object"),
    ("{1, 2}", "not JSON"),
    ("float('nan')", "NaN"),
])
def test_unusable_returns_are_400s(runner: Runner, returned: str, message: str) -> None:
    [outcome] = run(runner, f"def transformEvent(event, metadata):\n    return {returned}\n",
                    [({}, {})]).outcomes
    assert outcome.status == 400 and outcome.failure is not None
    assert message in outcome.failure.message


@pytest.mark.parametrize(("raised", "status", "reason"), [
    ("ValidationError('bad email')", 400, Reason.INVALID_EVENT),
    ("RetryError('later')", 500, Reason.RETRY),
    ("DropEvent('not wanted')", 298, Reason.DROPPED),
    ("EventNotSupported('no pages')", 400, Reason.NOT_SUPPORTED),
    ("KeyError('x')", 400, Reason.FUNCTION_ERROR),
])
def test_user_exceptions_map_to_statuses(runner: Runner, raised: str, status: int, reason: Reason) -> None:
    """The four user exceptions and any other exception, each with the line that raised it."""
    [outcome] = run(runner, f"def transformEvent(event, metadata):\n    x = 1\n    raise {raised}\n",
                    [({}, {})]).outcomes
    assert outcome.status == status and outcome.failure is not None
    assert outcome.failure.reason is reason
    assert outcome.failure.message.endswith("(line 3, in transformEvent)")


def test_limits_are_named(runner: Runner) -> None:
    [outcome] = run(runner, "def transformEvent(event, metadata):\n    while True:\n        pass\n",
                    [({}, {})]).outcomes
    assert outcome.status == 400 and outcome.failure is not None
    assert (outcome.failure.reason, outcome.failure.limit) == (Reason.LIMIT, "wall_ms")
    assert "wall-clock limit of 400 ms" in outcome.failure.message


def test_invalid_json_input_fails_alone(runner: Runner) -> None:
    """An input that is not JSON gets its own 400; the others run."""
    code = "def transformEvent(event, metadata):\n    event['ok'] = True\n    return event\n"
    result = run(runner, code, [({"n": 1}, {}), (b'{"n": ', b"{}"), ({"n": 3}, {})])
    assert [o.status for o in result.outcomes] == [200, 400, 200]
    failure = result.outcomes[1].failure
    assert failure is not None and "not valid JSON" in failure.message
    assert outputs(result)[2] == [{"n": 3, "ok": True}]


def test_transform_batch_outputs_are_matched_by_message_id(runner: Runner) -> None:
    """transformBatch runs once; outputs go to the input with their messageId, others are unmatched."""
    code = (
        "def transformBatch(events, metadata):\n"
        "    out = []\n"
        "    for event in events:\n"
        "        if event['messageId'] != 'm1':\n"
        "            event['source'] = metadata(event)['sourceId']\n"
        "            out.append(event)\n"
        "    out.append({'messageId': 'new', 'event': 'Summary'})\n"
        "    log('batch of', len(events))\n"
        "    return out\n"
    )
    inputs = [({"messageId": f"m{i}"}, {"sourceId": f"s{i}"}) for i in range(3)]
    result = run(runner, code, inputs)
    assert outputs(result) == [[{"messageId": "m0", "source": "s0"}], [],
                               [{"messageId": "m2", "source": "s2"}]]
    assert [o.status for o in result.outcomes] == [200, 298, 200]
    assert [orjson.loads(u) for u in result.unmatched] == [{"messageId": "new", "event": "Summary"}]
    assert result.logs == ("batch of 3",)


def test_transform_batch_failure_fails_every_input(runner: Runner) -> None:
    result = run(runner, "def transformBatch(events, metadata):\n    return events[0]\n",
                 [({"messageId": "a"}, {}), ({"messageId": "b"}, {})])
    assert [o.status for o in result.outcomes] == [400, 400]
    failure = result.outcomes[0].failure
    assert failure is not None and "must return a list of events, not an object" in failure.message


def test_transform_event_wins_when_both_are_defined() -> None:
    code = "def transformEvent(e, m):\n    return e\ndef transformBatch(es, m):\n    return es\n"
    assert program(code).entry.endswith("_event")


# --- destination and source functions -----------------------------------------------------------


def test_destination_function_dispatches_on_event_type(runner: Runner) -> None:
    """on_<type>(event, settings) with settings = the destination's Config; unknown types are 400."""
    code = (
        "def on_track(event, settings):\n"
        "    return {'endpoint': settings['url'], 'body': {'JSON': {'event': event['event']}}}\n"
        "def on_identify(event, settings):\n"
        "    return [{'endpoint': settings['url'] + '/a'}, {'endpoint': settings['url'] + '/b'}]\n"
    )
    destination = {"ID": "d", "Config": {"url": "https://x.test"}}
    events = [{"type": "track", "event": "Buy"}, {"type": "IDENTIFY"}, {"type": "page"}]
    result = run(runner, code, [(e, destination) for e in events], D)
    assert outputs(result)[:2] == [[{"endpoint": "https://x.test", "body": {"JSON": {"event": "Buy"}}}],
                                   [{"endpoint": "https://x.test/a"}, {"endpoint": "https://x.test/b"}]]
    failure = result.outcomes[2].failure
    assert failure is not None and failure.reason is Reason.NOT_SUPPORTED
    assert failure.message == "EventNotSupported: event type 'page' is not supported: the function " \
                              "defines no on_page"


def test_source_function_turns_a_request_into_events(runner: Runner) -> None:
    code = (
        "import json\n"
        "def on_request(request, settings):\n"
        "    body = json.loads(request['body'])\n"
        "    return [{'type': 'track', 'event': e, 'context': {'source': settings['name']}} "
        "for e in body['events']]\n"
    )
    delivery = {"body": '{"events": ["a", "b"]}', "headers": {}, "query": {}, "method": "POST", "path": "/"}
    [outcome] = run(runner, code, [(delivery, {"name": "hooks"})], S).outcomes
    assert [orjson.loads(o)["event"] for o in outcome.outputs] == ["a", "b"]
