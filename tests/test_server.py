"""The gRPC service end to end, on a real loopback server."""

from __future__ import annotations

import grpc
import orjson
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from transformer._catalog import Catalog
from transformer._conformance import loopback_server, loopback_settings
from transformer._server import CLOCK_HEADER
from transformer.v1 import transformer_pb2 as pb
from transformer.v1 import transformer_pb2_grpc as pb_grpc

from .helpers import KINESIS, job, request, track


def test_health_reports_serving(channel: grpc.Channel) -> None:
    """The standard health service answers SERVING for the server and for Transformer."""
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", "transformer.v1.Transformer"):
        reply = health.Check(health_pb2.HealthCheckRequest(service=service))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_services(channel: grpc.Channel) -> None:
    """Server reflection names the Transformer, Functions and Health services, so grpcurl works."""
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    replies = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    names = {s.name for reply in replies for s in reply.list_services_response.service}
    assert {"transformer.v1.Transformer", "transformer.v1.Functions", "grpc.health.v1.Health"} <= names


def test_transform_returns_one_result_per_job_with_metadata_bytes(stub: pb_grpc.TransformerStub) -> None:
    """Each job's metadata comes back byte for byte, in job order."""
    metas = [b'{"jobId":1,  "spacing":"kept"}', b'{"jobId":2}', b""]
    jobs = [pb.Job(message=orjson.dumps(track(i)), metadata=m) for i, m in enumerate(metas)]
    reply = stub.Transform(request("kinesis", jobs, KINESIS))
    assert [r.metadata for r in reply.results] == metas
    assert [r.status_code for r in reply.results] == [200, 200, 200]
    assert orjson.loads(reply.results[0].output)["message"] == track(0)


def test_request_id_is_echoed_or_generated(stub: pb_grpc.TransformerStub) -> None:
    """A request id given is echoed; none given gets a fresh one."""
    given = request("kinesis", [job(track())], KINESIS)
    given.request_id = "req-1"
    assert stub.Transform(given).request_id == "req-1"
    assert len(stub.Transform(request("kinesis", [job(track())], KINESIS)).request_id) == 32


def test_bad_jobs_get_their_own_errors(stub: pb_grpc.TransformerStub) -> None:
    """Invalid JSON, a missing message, a non-object message: 400 each, neighbours unaffected."""
    jobs = [
        job(track(0), {"jobId": 0}),
        pb.Job(message=b"{not json", metadata=b'{"jobId":1}'),
        pb.Job(message=b"", metadata=b'{"jobId":2}'),
        pb.Job(message=b"[1,2]", metadata=b'{"jobId":3}'),
        job(track(4), {"jobId": 4}),
    ]
    results = stub.Transform(request("kinesis", jobs, KINESIS)).results
    assert [r.status_code for r in results] == [200, 400, 400, 400, 200]
    assert "message is not valid JSON" in results[1].error
    assert results[2].error == "message is missing"
    assert results[3].error == "message must be a JSON object"
    assert results[1].stat_tags["errorCategory"] == "dataValidation"
    assert [orjson.loads(r.metadata)["jobId"] for r in results] == [0, 1, 2, 3, 4]


def test_unknown_destination_is_a_per_job_error(stub: pb_grpc.TransformerStub) -> None:
    """An unknown destination type fails every job with 400, naming the type; nothing is lost."""
    results = stub.Transform(request("nosuch", [job(track(i), {"jobId": i}) for i in range(3)],
                                     KINESIS)).results
    assert [r.status_code for r in results] == [400, 400, 400]
    assert "'nosuch' is not supported" in results[0].error
    assert results[0].stat_tags["errorType"] == "configuration"


def test_missing_destination_is_a_per_job_error(stub: pb_grpc.TransformerStub) -> None:
    """A job without a destination document (and none on the request) gets 400."""
    results = stub.Transform(request("kinesis", [job(track())])).results
    assert results[0].status_code == 400
    assert "destination is missing" in results[0].error


def test_invalid_destination_json_is_a_per_job_error(stub: pb_grpc.TransformerStub) -> None:
    """A destination document that is not JSON fails only the jobs that carry it."""
    jobs = [pb.Job(message=orjson.dumps(track()), destination=b"{oops"),
            job(track(), destination=KINESIS)]
    results = stub.Transform(request("kinesis", jobs)).results
    assert [r.status_code for r in results] == [400, 200]
    assert "destination is not valid JSON" in results[0].error


def test_ten_megabyte_event(stub: pb_grpc.TransformerStub) -> None:
    """A 10 MB event is transformed like any other."""
    big = track(properties={"blob": "x" * (10 * 1024 * 1024)})
    results = stub.Transform(request("kinesis", [job(big)], KINESIS)).results
    assert results[0].status_code == 200
    assert len(orjson.loads(results[0].output)["message"]["properties"]["blob"]) == 10 * 1024 * 1024


def test_ten_thousand_jobs(stub: pb_grpc.TransformerStub) -> None:
    """A 10,000-job batch comes back complete and in order."""
    jobs = [job(track(i), {"jobId": i}) for i in range(10_000)]
    results = stub.Transform(request("kinesis", jobs, KINESIS)).results
    assert [orjson.loads(r.metadata)["jobId"] for r in results] == list(range(10_000))
    assert {r.status_code for r in results} == {200}


def test_unicode_survives(stub: pb_grpc.TransformerStub) -> None:
    """Non-ASCII text, emoji, and escaped lone surrogates are handled per job."""
    texts = ["héllo wörld", "日本語", "emoji 🎉👍🏽", "zero\u0000width\u200b", "rtl \u202e text"]
    jobs = [job(track(i, event=t)) for i, t in enumerate(texts)]
    jobs.append(pb.Job(message=b'{"type":"track","event":"\\ud800"}'))
    results = stub.Transform(request("kinesis", jobs, KINESIS)).results
    assert [orjson.loads(r.output)["message"]["event"] for r in results[:5]] == texts
    assert results[5].status_code == 400  # orjson rejects lone surrogates: a clear per-job error


def test_router_transform_returns_every_job_once(stub: pb_grpc.TransformerStub) -> None:
    """RouterTransform puts every job's metadata in exactly one result."""
    jobs = [job(track(i), {"jobId": i}, KINESIS) for i in range(5)]
    jobs.append(pb.Job(message=b"nope", metadata=b'{"jobId":5}', destination=orjson.dumps(KINESIS)))
    reply = stub.RouterTransform(request("kinesis", jobs))
    seen = sorted(orjson.loads(m)["jobId"] for r in reply.results for m in r.metadata)
    assert seen == list(range(6))
    failed = [r for r in reply.results if r.status_code != 200]
    assert len(failed) == 1 and orjson.loads(failed[0].destination)["ID"] == "k1"


def test_transform_stream_answers_each_request(stub: pb_grpc.TransformerStub) -> None:
    """TransformStream answers processor and router requests with their ids."""
    items = [
        pb.StreamRequest(id="a", transform=request("kinesis", [job(track(1))], KINESIS)),
        pb.StreamRequest(id="b", router_transform=request("kinesis", [job(track(2), {"jobId": 2})],
                                                          KINESIS)),
    ]
    replies = list(stub.TransformStream(iter(items)))
    assert [r.id for r in replies] == ["a", "b"]
    assert replies[0].transform.results[0].status_code == 200
    assert replies[1].router_transform.results[0].status_code == 200


def test_clock_header_pins_time_only_in_test_mode(catalog: Catalog) -> None:
    """The clock header is ignored unless the server runs with test_clock."""
    from transformer._server import TransformerService  # noqa: F401  (documented entry point)

    with loopback_server(catalog, test_clock=False) as target, grpc.insecure_channel(target) as chan:
        stub = pb_grpc.TransformerStub(chan)
        reply = stub.Transform(request("kinesis", [job(track())], KINESIS),
                               metadata=[(CLOCK_HEADER, "0")])
        assert reply.results[0].status_code == 200


def test_oversized_request_is_resource_exhausted(catalog: Catalog) -> None:
    """A request over max_request_bytes fails with RESOURCE_EXHAUSTED naming the limit."""
    settings = loopback_settings(test_clock=False, max_request_bytes=64 * 1024, sandbox_workers=1)
    with loopback_server(catalog, settings=settings) as target, grpc.insecure_channel(target) as chan:
        stub = pb_grpc.TransformerStub(chan)
        with pytest.raises(grpc.RpcError) as info:
            stub.Transform(request("kinesis", [job(track(properties={"x": "y" * 100_000}))], KINESIS))
        assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "65536" in (info.value.details() or "")
        # ... and the server keeps serving.
        assert stub.Transform(request("kinesis", [job(track())], KINESIS)).results[0].status_code == 200
