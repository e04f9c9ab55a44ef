"""WebAssembly functions through the real server on loopback: C and Zig guests built from
functions/examples, uploaded over gRPC, run by UserTransform, Transform/RouterTransform (destination
type ``function``) and SourceTransform, tried with Test; hostile guests fail alone while the service
keeps serving."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import grpc
import orjson
import pytest

from transformer._server import Server
from transformer.v1 import functions_pb2 as fpb
from transformer.v1 import functions_pb2_grpc as fpb_grpc
from transformer.v1 import transformer_pb2 as pb
from transformer.v1 import transformer_pb2_grpc as pb_grpc

WASM = fpb.FUNCTION_LANGUAGE_WASM
TRANSFORMATION, DESTINATION, SOURCE = (fpb.FUNCTION_KIND_TRANSFORMATION, fpb.FUNCTION_KIND_DESTINATION,
                                       fpb.FUNCTION_KIND_SOURCE)
# fuel high enough that an endless loop meets the wall-clock limit first
SETTINGS = {"sandbox_wall_ms": 500, "sandbox_memory_mb": 96, "sandbox_max_output_bytes": 64 * 1024,
            "sandbox_max_log_bytes": 4 * 1024, "sandbox_fuel": 50_000_000_000, "wasm_threads": 2}
PYTHON_TAG = b"def transformEvent(event, metadata):\n    event['tagged'] = True\n    return event\n"


#: The module's server (the ``server_stubs`` fixture of tests/conftest.py).
SERVER_SETTINGS = SETTINGS


def upload(functions: fpb_grpc.FunctionsStub, name: str, code: bytes,
           kind: Any = TRANSFORMATION,
           language: Any = WASM, **limits: int) -> fpb.FunctionVersion:
    version: fpb.FunctionVersion = functions.Upload(fpb.UploadRequest(
        workspace="ws", name=name, kind=kind, language=language, code=code, limits=fpb.Limits(**limits)))
    return version


def event(n: int, **extra: Any) -> dict[str, Any]:
    return {"type": "track", "event": f"Event {n}", "messageId": f"m{n}", "userId": f"u{n}",
            "properties": {"n": n}, **extra}


def job(message: Any, n: int, destination: str = "d1") -> pb.Job:
    meta = {"jobId": n, "messageId": f"m{n}", "sourceId": "s1", "destinationId": destination,
            "workspaceId": "ws"}
    return pb.Job(message=orjson.dumps(message), metadata=orjson.dumps(meta))


def user_transform(transformer: pb_grpc.TransformerStub, jobs: list[pb.Job], *refs: str,
                   destination: str = "d1") -> list[pb.JobResult]:
    dest = {"ID": destination, "Config": {}, "DestinationDefinition": {"Name": "WEBHOOK"},
            "Transformations": [{"VersionID": ref} for ref in refs]}
    reply = transformer.UserTransform(pb.TransformRequest(destination_type="webhook", jobs=jobs,
                                                          destination=orjson.dumps(dest)))
    return list(reply.results)


@pytest.mark.parametrize("language", ["c", "zig"])
def test_a_guest_built_from_source_runs_in_user_transform(
        functions: fpb_grpc.FunctionsStub, transformer: pb_grpc.TransformerStub,
        build: Callable[[str], bytes], language: str) -> None:
    """Uploaded over gRPC as WASM, then UserTransform on a router batch, chained after a Python
    transformation: one result per job, in order, metadata untouched, drops and errors per job."""
    version = upload(functions, f"enrich-{language}", build(f"{language}/transformation/enrich.{language}"))
    assert version.language == WASM and version.size_bytes > 0
    tag = upload(functions, "tag", PYTHON_TAG, language=fpb.FUNCTION_LANGUAGE_PYTHON)
    messages = [event(i) for i in range(100)]
    messages[7] = event(7, event="Spam Event")
    messages[9] = {"properties": {}}
    jobs = [job(message, i) for i, message in enumerate(messages)]
    results = user_transform(transformer, jobs, tag.version_id, f"enrich-{language}")
    assert [r.status_code for r in results] == [200] * 7 + [298, 200, 400] + [200] * 90
    assert [r.metadata for r in results] == [j.metadata for j in jobs]
    out = orjson.loads(results[0].output)
    assert out["tagged"] is True and out["properties"] == {"n": 0, "transformed": True}
    label = f"enrich-{language}@{version.version_id[:8]}"
    assert results[9].error == f"{label}: ValidationError: the event has no type"
    assert results[9].stat_tags["errorCategory"] == "dataValidation"


@pytest.mark.parametrize("language", ["c", "zig"])
def test_a_destination_function_in_transform_and_router_transform(
        functions: fpb_grpc.FunctionsStub, transformer: pb_grpc.TransformerStub,
        build: Callable[[str], bytes], language: str) -> None:
    """Destination type ``function``: Config.functionRef names the guest; Config is its settings."""
    upload(functions, f"crm-{language}", build(f"{language}/destination/crm.{language}"), DESTINATION)
    dest = {"ID": "d1", "Config": {"functionRef": f"crm-{language}", "url": "https://crm.test/events"}}
    jobs = [job(event(0), 0), job({"type": "identify", "userId": "u"}, 1), job({"type": "page"}, 2)]
    request = pb.TransformRequest(destination_type="function", jobs=jobs, destination=orjson.dumps(dest))
    results = transformer.Transform(request).results
    assert [r.status_code for r in results] == [200, 298, 400]
    sent = orjson.loads(results[0].output)
    assert sent["endpoint"] == "https://crm.test/events"
    assert sent["body"]["JSON"] == {"name": "Event 0", "userId": "u0"}
    assert "DropEvent: identifies are not sent" in results[1].error
    assert 'EventNotSupported: event type "page" is not supported' in results[2].error
    routed = transformer.RouterTransform(request).results
    assert [r.status_code for r in routed] == [200, 298, 400]
    assert orjson.loads(routed[0].batched_request) == sent
    assert [list(r.metadata) for r in routed] == [[j.metadata] for j in jobs]


@pytest.mark.parametrize("language", ["c", "zig"])
def test_a_source_function_in_source_transform(functions: fpb_grpc.FunctionsStub,
                                               transformer: pb_grpc.TransformerStub,
                                               build: Callable[[str], bytes], language: str) -> None:
    upload(functions, f"hook-{language}", build(f"{language}/source/hook.{language}"), SOURCE)
    deliveries = [orjson.dumps({"body": '{"events": ["a", "b"]}', "headers": {}, "query": {},
                                "method": "POST", "path": "/"}),
                  orjson.dumps({"body": "not json"})]
    reply = transformer.SourceTransform(pb.SourceTransformRequest(
        function=f"hook-{language}", workspace="ws", requests=deliveries, settings=b'{"name": "hooks"}'))
    assert [r.status_code for r in reply.results] == [200, 400]
    assert [orjson.loads(e) for e in reply.results[0].events] == [
        {"type": "track", "event": name, "context": {"source": "hooks"}} for name in ("a", "b")]
    assert "ValidationError" in reply.results[1].error


def test_upload_refuses_what_is_not_a_guest(functions: fpb_grpc.FunctionsStub) -> None:
    for code, problem in ((b"\0asm\1\0\0\0", "does not export `transform(i32, i32) -> i64`"),
                          (b"def transformEvent(e, m):\n    return e\n", "not a WebAssembly module")):
        with pytest.raises(grpc.RpcError) as caught:
            upload(functions, "not-a-guest", code)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert problem in (caught.value.details() or "")


def test_test_runs_a_guest_inline_with_its_logs(functions: fpb_grpc.FunctionsStub,
                                                build: Callable[[str], bytes]) -> None:
    """Functions.Test runs inline WASM on each sample (its log lines with it); nothing is saved; a
    module that is not a guest is INVALID_ARGUMENT."""
    samples = [orjson.dumps(event(0)), orjson.dumps(event(1, event="Spam Event")), b"{}"]
    reply = functions.Test(fpb.TestRequest(workspace="ws-test", inline=fpb.UploadRequest(
        name="draft", kind=TRANSFORMATION, language=WASM, code=build("c/transformation/enrich.c")),
        events=samples))
    assert [r.status_code for r in reply.results] == [200, 298, 400]
    assert orjson.loads(reply.results[0].outputs[0])["properties"]["transformed"] is True
    assert list(reply.results[1].logs) == ["dropped spam event m1"]
    assert not functions.List(fpb.ListRequest(workspace="ws-test")).functions
    with pytest.raises(grpc.RpcError) as caught:
        functions.Test(fpb.TestRequest(workspace="ws", inline=fpb.UploadRequest(
            kind=TRANSFORMATION, language=WASM, code=b"\0asm\1\0\0\0"), events=[b"{}"]))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


HOSTILE = {
    "loop": "exceeded the wall-clock limit of 500 ms (wall_ms)",
    "memory": "exceeded the memory limit of 100663296 bytes (memory_bytes)",
    "stack": "wasm trap: out-of-bounds memory access",
    "abort": "wasm trap: unreachable code reached",
    "divide": "wasm trap: integer division by zero",
    "exit": "wasm trap: the guest exited (exit status 3)",
    "output": "exceeded the output size limit of 65536 bytes (max_output_bytes)",
    "log": "exceeded the log size limit of 4096 bytes (max_log_bytes)",
    "notjson": "the guest's answer is unusable: it is not JSON",
    "twice": "the guest's answer is unusable: it has 2 results for 1 event",
    "open": "fopen: No such file or directory",
}


def test_hostile_events_fail_alone_and_the_service_keeps_serving(
        functions: fpb_grpc.FunctionsStub, transformer: pb_grpc.TransformerStub, server: Server,
        build: Callable[[str], bytes]) -> None:
    """Every hostile event of one batch gets a 400 naming its limit or trap; every other event is
    200 (the clock works); other requests keep being answered meanwhile."""
    hostile = upload(functions, "hostile", build("hostile.c"))
    upload(functions, "enrich-c", build("c/transformation/enrich.c"))
    modes = [mode for case in [*HOSTILE, "clock"] for mode in ("fine", case)] + ["fine"]
    jobs = [job({"mode": mode, "n": i}, i) for i, mode in enumerate(modes)]
    side: list[list[int]] = []
    done = threading.Event()

    def other_requests() -> None:
        while not done.is_set():
            side.append([r.status_code for r in user_transform(
                transformer, [job(event(i), i, "d9") for i in range(10)], "enrich-c", destination="d9")])

    thread = threading.Thread(target=other_requests)
    thread.start()
    try:
        results = user_transform(transformer, jobs, hostile.version_id)
    finally:
        done.set()
        thread.join(timeout=60)
    assert len(results) == len(jobs)
    for mode, result in zip(modes, results, strict=True):
        if mode in HOSTILE:
            assert result.status_code == 400, (mode, result)
            assert HOSTILE[mode] in result.error, (mode, result.error)
        else:
            assert result.status_code == 200, (mode, result)
    assert side and all(codes == [200] * 10 for codes in side)
    assert user_transform(transformer, [job({"mode": "fine"}, 0)], hostile.version_id)[0].status_code == 200


def test_per_function_limits_apply_to_guests(functions: fpb_grpc.FunctionsStub,
                                             transformer: pb_grpc.TransformerStub,
                                             build: Callable[[str], bytes]) -> None:
    quick = upload(functions, "quick", build("hostile.c"), wall_ms=150, memory_bytes=64 << 20)
    results = user_transform(transformer, [job({"mode": "loop"}, 0), job({"mode": "memory"}, 1)],
                             quick.version_id)
    assert [r.status_code for r in results] == [400, 400]
    assert "wall-clock limit of 150 ms" in results[0].error
    assert f"memory limit of {64 << 20} bytes" in results[1].error
