"""Random events thrown at Transform and RouterTransform: invariants that must always hold."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transformer._catalog import load_catalog
from transformer.v1 import transformer_pb2 as pb
from transformer.v1 import transformer_pb2_grpc as pb_grpc

STATUSES = {200, 298, 299, 400, 410, 500}
DESTINATIONS = [*sorted(load_catalog().destinations), "no_such_destination"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=20,
)
well_known = st.sampled_from(["userId", "anonymousId", "event", "properties", "traits", "context",
                              "type", "timestamp", "messageId", "groupId", "integrations",
                              "channel", "originalTimestamp", "name", "previousId"])
events = st.fixed_dictionaries(
    {"type": st.one_of(st.sampled_from(["track", "identify", "page", "screen", "group", "alias",
                                        "TRACK", "Identify", ""]), json_values)},
    optional={"event": json_values, "userId": json_values, "anonymousId": json_values,
              "properties": json_values, "traits": json_values, "context": json_values,
              "timestamp": json_values, "channel": st.sampled_from(["web", "sources", "mobile"])},
).flatmap(lambda base: st.dictionaries(well_known, json_values, max_size=4).map(
    lambda extra: {**extra, **base}))
configs = st.dictionaries(
    st.sampled_from(["apiKey", "teamApiKey", "webhookUrl", "topic", "url", "webhookMethod",
                     "headers", "prefix", "yourInstance", "enableMultiTopic", "mapEvents",
                     "eventToTopicMap", "dataResidency", "appId", "writeKey"]),
    json_values, max_size=5,
)
messages = st.one_of(
    events.map(orjson.dumps),
    st.binary(max_size=40),
    json_values.map(orjson.dumps),
)


def _job(message: bytes, config: dict[str, Any], job_id: int) -> pb.Job:
    destination = {"ID": "d", "Config": config, "DestinationDefinition": {"Name": "X"}}
    return pb.Job(message=message, metadata=orjson.dumps({"jobId": job_id}),
                  destination=orjson.dumps(destination))


def _check_result(result: Any) -> None:
    assert result.status_code in STATUSES
    if result.status_code == 200:
        assert orjson.loads(result.output if hasattr(result, "output") else result.batched_request)
    else:
        assert result.error
        assert "failed unexpectedly" not in result.error, result.error


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dest_type=st.sampled_from(DESTINATIONS),
       batch=st.lists(st.tuples(messages, configs), min_size=1, max_size=6))
def test_transform_invariants(stub: pb_grpc.TransformerStub, dest_type: str,
                              batch: list[tuple[bytes, dict[str, Any]]]) -> None:
    """Every job gets a result carrying its metadata, in order, with a known status, never a crash."""
    jobs = [_job(m, c, i) for i, (m, c) in enumerate(batch)]
    reply = stub.Transform(pb.TransformRequest(destination_type=dest_type, jobs=jobs))
    ids = [orjson.loads(r.metadata)["jobId"] for r in reply.results]
    assert sorted(set(ids)) == list(range(len(jobs)))  # every job answered ...
    assert ids == sorted(ids)  # ... in job order (a job may yield several requests)
    for result in reply.results:
        _check_result(result)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dest_type=st.sampled_from(DESTINATIONS),
       batch=st.lists(st.tuples(messages, configs), min_size=1, max_size=6))
def test_router_invariants(stub: pb_grpc.TransformerStub, dest_type: str,
                           batch: list[tuple[bytes, dict[str, Any]]]) -> None:
    """RouterTransform returns every job exactly once across its results."""
    jobs = [_job(m, c, i) for i, (m, c) in enumerate(batch)]
    reply = stub.RouterTransform(pb.TransformRequest(destination_type=dest_type, jobs=jobs))
    ids = sorted(orjson.loads(m)["jobId"] for r in reply.results for m in r.metadata)
    assert ids == list(range(len(jobs)))
    for result in reply.results:
        _check_result(result)
