"""User functions through the real server on loopback: upload, UserTransform, Test, destination and
source functions, hostile code, tenant isolation, and failures of the registry and the sandbox."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import grpc
import orjson
import pytest

from functions import Registry, StoreUnavailable, validate
from transformer._catalog import Catalog
from transformer._conformance import loopback_settings, running_server
from transformer._server import Server
from transformer.v1 import functions_pb2 as fpb
from transformer.v1 import functions_pb2_grpc as fpb_grpc
from transformer.v1 import transformer_pb2 as pb
from transformer.v1 import transformer_pb2_grpc as pb_grpc

TRANSFORMATION = fpb.FUNCTION_KIND_TRANSFORMATION
LIMITS = {"sandbox_wall_ms": 500, "sandbox_memory_mb": 192, "sandbox_max_output_bytes": 64 * 1024,
          "sandbox_max_log_bytes": 4 * 1024}

ENRICH = b'''
def transformEvent(event, metadata):
    event["properties"]["enriched"] = True
    log("enriched", event["messageId"])
    return event
'''

# Written for RudderStack, unchanged: metadata(event), log(), += on subscripts, None to drop.
RUDDERSTACK = b'''
import json

BLOCKED = ["Spam Event"]


def transformEvent(event, metadata):
    meta = metadata(event)
    if event.get("event") in BLOCKED:
        return None
    event["context"]["sourceId"] = meta["sourceId"]
    event["context"]["destinationId"] = meta.get("destinationId")
    event["properties"]["revenue"] += 10
    event["properties"]["tags"] += ["vip"]
    counts = {}
    for product in event["properties"]["products"]:
        counts[product["category"]] = counts.get(product["category"], 0) + 1
    event["properties"]["counts"] = json.dumps(counts, sort_keys=True)
    log("Transformed event", event["event"], "from source", meta["sourceId"])
    return event
'''

HOSTILE = b'''
def transformEvent(event, metadata):
    mode = event["mode"]
    if mode == "loop":
        while True:
            pass
    if mode == "swallow":
        while True:
            try:
                while True:
                    pass
            except BaseException:
                pass
    if mode == "memory":
        blob = "x" * (1 << 34)
        return {"size": len(blob)}
    if mode == "output":
        return {"big": "y" * 200000}
    if mode == "log":
        for i in range(100000):
            log("line", i)
    if mode == "set":
        return {"s": {1, 2}}
    if mode == "nan":
        return {"n": float("nan")}
    if mode == "cycle":
        event["self"] = event
        return event
    if mode == "recursion":
        return recurse(0)
    if mode == "raise":
        raise ValueError("bad " + mode)
    if mode == "dunder":
        return getattr(event, "__class__")
    if mode == "format":
        return {"x": "{0.__class__}".format(event)}
    if mode == "import":
        import os
        return {"cwd": os.getcwd()}
    if mode == "open":
        return {"data": open("/etc/passwd").read()}
    event["ok"] = True
    return event


def recurse(n):
    return recurse(n + 1)
'''


#: The module's server (the ``server_stubs`` fixture of tests/conftest.py).
SERVER_SETTINGS = LIMITS


def upload(functions: fpb_grpc.FunctionsStub, workspace: str, name: str, code: bytes,
           kind: int = TRANSFORMATION, alias: str = "") -> fpb.FunctionVersion:
    reply: fpb.FunctionVersion = functions.Upload(fpb.UploadRequest(
        workspace=workspace, name=name, kind=kind, code=code, alias=alias))
    return reply


def event(n: int, **extra: Any) -> dict[str, Any]:
    return {"type": "track", "event": f"Event {n}", "messageId": f"m{n}", "userId": f"u{n}",
            "properties": {"n": n}, "context": {}, **extra}


def meta(n: int, workspace: str = "ws1", source: str = "s1", destination: str = "d1") -> dict[str, Any]:
    return {"jobId": n, "messageId": f"m{n}", "sourceId": source, "destinationId": destination,
            "workspaceId": workspace}


def destination(*version_ids: str, dest_id: str = "d1") -> dict[str, Any]:
    return {"ID": dest_id, "Config": {}, "DestinationDefinition": {"Name": "WEBHOOK"},
            "Transformations": [{"VersionID": v} for v in version_ids]}


def job(message: Any, metadata: Any, dest: Any = None) -> pb.Job:
    return pb.Job(message=message if isinstance(message, bytes) else orjson.dumps(message),
                  metadata=orjson.dumps(metadata), destination=b"" if dest is None else orjson.dumps(dest))


def user_transform(transformer: pb_grpc.TransformerStub, jobs: list[pb.Job],
                   dest: Any = None) -> list[pb.JobResult]:
    reply = transformer.UserTransform(pb.TransformRequest(
        destination_type="webhook", jobs=jobs, destination=b"" if dest is None else orjson.dumps(dest)))
    return list(reply.results)


def output(result: pb.JobResult) -> Any:
    return orjson.loads(result.output)


# --- the router's path --------------------------------------------------------------------------


def test_uploaded_function_runs_on_a_router_batch(functions: fpb_grpc.FunctionsStub,
                                                 transformer: pb_grpc.TransformerStub) -> None:
    """Upload over gRPC, then UserTransform: one result per job, metadata bytes untouched, in order."""
    version = upload(functions, "ws1", "enrich", ENRICH, alias="live")
    assert len(version.version_id) == 32 and list(version.aliases) == ["live"]
    jobs = [job(event(i), meta(i)) for i in range(100)]
    results = user_transform(transformer, jobs, destination(version.version_id))
    assert [r.status_code for r in results] == [200] * 100
    assert [r.metadata for r in results] == [j.metadata for j in jobs]
    assert output(results[7]) == {**event(7), "properties": {"n": 7, "enriched": True}}


def test_groups_by_destination_and_source_each_with_its_transformations(
        functions: fpb_grpc.FunctionsStub, transformer: pb_grpc.TransformerStub) -> None:
    """Jobs of several (destinationId, sourceId) groups, each group's destination naming its own
    transformations, keep their order; a ref may also be a name or name@alias."""
    tag = upload(functions, "ws1", "tag", b"def transformEvent(e, m):\n    e['tag'] = m(e)['sourceId']\n"
                                          b"    return e\n")
    enrich = upload(functions, "ws1", "enrich", ENRICH, alias="live")
    jobs = [
        job(event(0), meta(0, source="a"), destination(tag.version_id)),
        job(event(1), meta(1, source="b"), destination("enrich@live")),
        job(event(2), meta(2, source="a"), destination(tag.version_id)),
        job(event(3), meta(3, source="b", destination="d2"), destination("tag", dest_id="d2")),
    ]
    results = user_transform(transformer, jobs)
    assert [r.status_code for r in results] == [200, 200, 200, 200]
    assert [output(r).get("tag") for r in results] == ["a", None, "a", "b"]
    assert output(results[1])["properties"]["enriched"] is True
    assert enrich.version_id != tag.version_id


def test_transformations_apply_in_order(functions: fpb_grpc.FunctionsStub,
                                        transformer: pb_grpc.TransformerStub) -> None:
    """Each VersionID's output feeds the next; an event split in two stays with its job."""
    split = upload(functions, "ws1", "split", b"def transformEvent(e, m):\n    e['trail'] = ['split']\n"
                                              b"    return [e, {**e, 'copy': True}]\n")
    mark = upload(functions, "ws1", "mark", b"def transformEvent(e, m):\n    e['trail'] += ['mark']\n"
                                            b"    return e\n")
    jobs = [job(event(0), meta(0)), job(event(1), meta(1))]
    results = user_transform(transformer, jobs, destination(split.version_id, mark.version_id))
    assert [r.metadata for r in results] == [jobs[0].metadata] * 2 + [jobs[1].metadata] * 2
    assert [output(r)["trail"] for r in results] == [["split", "mark"]] * 4
    assert [output(r).get("copy", False) for r in results] == [False, True, False, True]


def test_rudderstack_transformation_runs_unchanged(functions: fpb_grpc.FunctionsStub,
                                                   transformer: pb_grpc.TransformerStub) -> None:
    """metadata(event), log(), += on subscripts and None-to-drop work as RudderStack's do."""
    version = upload(functions, "ws1", "rudder", RUDDERSTACK)
    products = [{"category": "shoes"}, {"category": "hats"}, {"category": "shoes"}]
    kept = event(0, properties={"revenue": 5, "tags": ["new"], "products": products})
    spam = event(1, event="Spam Event", properties={})
    results = user_transform(transformer, [job(kept, meta(0)), job(spam, meta(1))],
                             destination(version.version_id))
    assert [r.status_code for r in results] == [200, 298]
    out = output(results[0])
    assert out["context"] == {"sourceId": "s1", "destinationId": "d1"}
    assert out["properties"]["revenue"] == 15 and out["properties"]["tags"] == ["new", "vip"]
    assert out["properties"]["counts"] == '{"hats": 1, "shoes": 2}'
    assert results[1].metadata == orjson.dumps(meta(1))
    # the same code through Test shows the log lines
    reply = functions.Test(fpb.TestRequest(workspace="ws1", ref="rudder", events=[orjson.dumps(kept)],
                                           settings=orjson.dumps({"sourceId": "src"})))
    assert list(reply.results[0].logs) == ["Transformed event Event 0 from source src"]


def test_transform_batch_matches_outputs_to_jobs(functions: fpb_grpc.FunctionsStub,
                                                 transformer: pb_grpc.TransformerStub) -> None:
    """transformBatch runs once per group; outputs go to the job with their messageId, jobs left
    without output are 298, and a made-up event gets fresh metadata based on the first job's."""
    code = (b"def transformBatch(events, metadata):\n"
            b"    kept = [e for e in events if e['properties']['n'] % 2 == 0]\n"
            b"    return kept + [{'type': 'track', 'event': 'Batch Summary', 'count': len(events)}]\n")
    version = upload(functions, "ws1", "batcher", code)
    jobs = [job(event(i), meta(i)) for i in range(3)]
    results = user_transform(transformer, jobs, destination(version.version_id))
    # job 0: its event and the summary; job 1: dropped; job 2: its event
    assert [r.status_code for r in results] == [200, 200, 298, 200]
    assert [output(results[i])["messageId"] for i in (0, 3)] == ["m0", "m2"]
    assert [results[i].metadata for i in (0, 2, 3)] == [jobs[0].metadata, jobs[1].metadata, jobs[2].metadata]
    assert output(results[1]) == {"type": "track", "event": "Batch Summary", "count": 3}
    fresh = orjson.loads(results[1].metadata)
    assert fresh["jobId"] == 0 and fresh["eventName"] == "Batch Summary" and fresh["eventType"] == "track"
    assert fresh["messageId"] not in ("m0", "m1", "m2")


def test_errors_name_the_function_and_line(functions: fpb_grpc.FunctionsStub,
                                           transformer: pb_grpc.TransformerStub) -> None:
    code = b"def transformEvent(event, metadata):\n    if event['properties']['n'] == 1:\n" \
           b"        raise ValueError('no ones')\n    return event\n"
    version = upload(functions, "ws1", "picky", code)
    results = user_transform(transformer, [job(event(i), meta(i)) for i in range(3)],
                             destination(version.version_id))
    assert [r.status_code for r in results] == [200, 400, 200]
    label = f"picky@{version.version_id[:8]}"
    assert results[1].error == f"{label}: ValueError: no ones (line 3, in transformEvent)"
    assert results[1].stat_tags["errorCategory"] == "transformation"
    assert results[1].metadata == orjson.dumps(meta(1))


def test_configuration_problems_are_per_job(functions: fpb_grpc.FunctionsStub,
                                            transformer: pb_grpc.TransformerStub) -> None:
    """No VersionID: 400 as the reference says it; unknown version: 410; no workspace: 400; bad
    metadata or message: 400 for that job only."""
    enrich = upload(functions, "ws1", "enrich", ENRICH)
    no_workspace = {k: v for k, v in meta(3, destination="d3").items() if k != "workspaceId"}
    jobs = [
        job(event(0), meta(0, destination="d0"), destination(dest_id="d0")),
        job(event(1), meta(1, destination="d1"), destination("0" * 32)),
        job(event(2), meta(2, destination="d2"), destination("missing@live", dest_id="d2")),
        job(event(3), no_workspace, destination(enrich.version_id, dest_id="d3")),
        pb.Job(message=orjson.dumps(event(4)), metadata=b"{oops", destination=orjson.dumps(destination())),
        job(b"[1, 2]", meta(5, destination="d5"), destination(enrich.version_id, dest_id="d5")),
        job(event(6), meta(6, destination="d6"), destination(enrich.version_id, dest_id="d6")),
    ]
    results = user_transform(transformer, jobs)
    assert [r.status_code for r in results] == [400, 410, 410, 400, 400, 400, 200]
    assert results[0].error == "Transformation VersionID not found"
    assert "unknown function version" in results[1].error
    assert "workspaceId" in results[3].error
    assert [r.metadata for r in results] == [j.metadata for j in jobs]


# --- Test ---------------------------------------------------------------------------------------


def test_test_runs_inline_code_and_saves_nothing(functions: fpb_grpc.FunctionsStub) -> None:
    code = b"def transformEvent(event, metadata):\n    log('got', event['n'], metadata(event)['jobId'])\n" \
           b"    if event['n'] == 2:\n        return None\n    if event['n'] == 3:\n" \
           b"        raise ValidationError('three')\n    event['seen'] = True\n    return event\n"
    reply = functions.Test(fpb.TestRequest(
        workspace="ws-test", inline=fpb.UploadRequest(name="draft", kind=TRANSFORMATION, code=code),
        events=[orjson.dumps({"n": i}) for i in range(4)], settings=b'{"jobId": 42}'))
    assert [r.status_code for r in reply.results] == [200, 200, 298, 400]
    assert [orjson.loads(o) for o in reply.results[1].outputs] == [{"n": 1, "seen": True}]
    assert [list(r.logs) for r in reply.results] == [[f"got {i} 42"] for i in range(4)]
    assert reply.results[3].error.endswith("ValidationError: three (line 6, in transformEvent)")
    assert all(r.elapsed_ms > 0 for r in reply.results) and reply.elapsed_ms > 0
    assert not functions.List(fpb.ListRequest(workspace="ws-test")).functions


def test_test_reports_compile_errors_with_line_and_column(functions: fpb_grpc.FunctionsStub) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        functions.Test(fpb.TestRequest(
            workspace="ws1", inline=fpb.UploadRequest(kind=TRANSFORMATION,
                                                      code=b"def transformEvent(e, m):\n    return e._x\n"),
            events=[b"{}"]))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (caught.value.details() or "").startswith("line 2, column 12:")


def test_test_names_the_limit_exceeded(functions: fpb_grpc.FunctionsStub) -> None:
    reply = functions.Test(fpb.TestRequest(
        workspace="ws1", inline=fpb.UploadRequest(kind=TRANSFORMATION, code=HOSTILE),
        events=[orjson.dumps({"mode": "loop"}), orjson.dumps({"mode": "fine"})]))
    assert [r.status_code for r in reply.results] == [400, 200]
    assert "wall-clock limit of 500 ms (wall_ms)" in reply.results[0].error


def test_test_of_a_transform_batch(functions: fpb_grpc.FunctionsStub) -> None:
    code = b"def transformBatch(events, metadata):\n    log('n', len(events))\n" \
           b"    return events[1:] + [{'new': True}]\n"
    reply = functions.Test(fpb.TestRequest(
        workspace="ws1", inline=fpb.UploadRequest(kind=TRANSFORMATION, code=code),
        events=[orjson.dumps({"messageId": f"m{i}"}) for i in range(2)]))
    assert [r.status_code for r in reply.results] == [298, 200]
    assert [orjson.loads(o) for o in reply.unmatched_outputs] == [{"new": True}]
    assert list(reply.logs) == ["n 2"]


# --- hostile code -------------------------------------------------------------------------------

RAISE_LINE = HOSTILE.decode().splitlines().index('        raise ValueError("bad " + mode)') + 1
HOSTILE_CASES = {
    "loop": "exceeded the wall-clock limit of 500 ms (wall_ms)",
    "swallow": "exceeded the wall-clock limit of 500 ms (wall_ms)",
    "memory": "(memory_bytes)",
    "output": "(max_output_bytes)",
    "log": "(max_log_bytes)",
    "set": "returned value is not JSON at $.s",
    "nan": "returned value is not JSON at $.n: NaN",
    "cycle": "returned value is not JSON at $.self",
    "recursion": "RecursionError",
    "raise": f"ValueError: bad raise (line {RAISE_LINE}, in transformEvent)",
    "dunder": "invalid attribute name",
    "format": "Using the format*() methods of `str` is not safe",
    "import": "ImportError: import of 'os' is not allowed",
    "open": "NameError: name 'open' is not defined",
}


def test_hostile_events_fail_alone_and_the_batch_flows(functions: fpb_grpc.FunctionsStub,
                                                       transformer: pb_grpc.TransformerStub,
                                                       server: Server) -> None:
    """Each hostile event gets a 400 naming the limit or the line; every other event is 200; other
    requests keep being answered meanwhile; nothing outside the sandbox changes."""
    hostile = upload(functions, "ws1", "hostile", HOSTILE)
    enrich = upload(functions, "ws1", "enrich", ENRICH)
    modes = [mode for case in HOSTILE_CASES for mode in ("fine", case)] + ["fine"]
    jobs = [job(event(i, mode=mode), meta(i)) for i, mode in enumerate(modes)]
    side: list[list[int]] = []
    done = threading.Event()

    def other_requests() -> None:  # a healthy router batch, again and again, meanwhile
        while not done.is_set():
            results = user_transform(transformer, [job(event(i), meta(i, destination="d9"))
                                                   for i in range(10)], destination(enrich.version_id))
            side.append([r.status_code for r in results])

    thread = threading.Thread(target=other_requests)
    thread.start()
    before = set(os.listdir("/tmp"))
    results = user_transform(transformer, jobs, destination(hostile.version_id))
    done.set()
    thread.join(timeout=60)
    assert len(results) == len(jobs)
    for mode, result in zip(modes, results, strict=True):
        if mode == "fine":
            assert result.status_code == 200 and output(result)["ok"] is True, result
        else:
            assert result.status_code == 400, (mode, result)
            assert HOSTILE_CASES[mode] in result.error, (mode, result.error)
    assert side and all(codes == [200] * 10 for codes in side)
    assert set(os.listdir("/tmp")) - before == set()
    assert server.pool is not None and server.pool.stats().workers == 2


def test_per_function_limits_apply_and_are_capped_at_upload(functions: fpb_grpc.FunctionsStub,
                                                            transformer: pb_grpc.TransformerStub) -> None:
    """Limits given at upload replace the server defaults; more than the server maximum is refused."""
    version = functions.Upload(fpb.UploadRequest(workspace="ws1", name="quick", kind=TRANSFORMATION,
                                                 code=HOSTILE, limits=fpb.Limits(wall_ms=150)))
    assert version.limits.wall_ms == 150
    [result] = user_transform(transformer, [job(event(0, mode="loop"), meta(0))],
                              destination(version.version_id))
    assert result.status_code == 400 and "wall-clock limit of 150 ms" in result.error
    with pytest.raises(grpc.RpcError) as caught:
        functions.Upload(fpb.UploadRequest(workspace="ws1", name="greedy", kind=TRANSFORMATION, code=ENRICH,
                                           limits=fpb.Limits(memory_bytes=1 << 40)))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "memory_bytes" in (caught.value.details() or "")


def test_escape_attempts_are_refused_at_upload(functions: fpb_grpc.FunctionsStub) -> None:
    for code, where in (
            (b"def transformEvent(e, m):\n    return ().__class__.__bases__[0].__subclasses__()\n", "line 2"),
            (b"def transformEvent(e, m):\n    return __import__('os')\n", "line 2"),
            (b"def transformEvent(e, m):\n    g = (x for x in [1])\n    return g.gi_frame\n", "line 3"),
            (b"def transformEvent(e, m):\n    return eval('1')\n", "line 2"),
            (b"def transformEvent(e, m):\n    exec('x = 1')\n", "line 2")):
        with pytest.raises(grpc.RpcError) as caught:
            upload(functions, "ws1", "escape", code)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert (caught.value.details() or "").startswith(f"{where}, column"), caught.value.details()


def test_a_worker_killed_from_outside_is_a_500(functions: fpb_grpc.FunctionsStub,
                                              transformer: pb_grpc.TransformerStub, server: Server) -> None:
    """A worker that dies of something other than its limits (here: SIGKILL from outside) fails the
    event it was running with a retryable 500; the next events and requests run on a fresh worker."""
    code = b"import time\ndef transformEvent(event, metadata):\n    if event['properties']['n'] == 1:\n" \
           b"        t = time.monotonic()\n        while time.monotonic() - t < 0.4:\n            pass\n" \
           b"    return event\n"
    version = upload(functions, "ws1", "slow", code)
    assert server.pool is not None
    pids = set(server.pool.stats().worker_pids)

    def kill_the_busy_worker() -> None:
        # the worker running for 50 ms straight is on event 1 (events 0 and 2 take microseconds)
        running = dict.fromkeys(pids, 0)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for pid in pids:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
                running[pid] = running[pid] + 1 if state == "R" else 0
                if running[pid] >= 5:
                    os.kill(pid, signal.SIGKILL)
                    return
            time.sleep(0.01)

    killer = threading.Thread(target=kill_the_busy_worker)
    killer.start()
    results = user_transform(transformer, [job(event(i), meta(i)) for i in range(3)],
                             destination(version.version_id))
    killer.join()
    assert [r.status_code for r in results] == [200, 500, 200]
    assert "sandbox worker crashed: killed by SIGKILL" in results[1].error
    assert results[1].stat_tags["errorType"] == "retryable"


# --- tenant isolation ---------------------------------------------------------------------------

COUNTER = b"calls = []\ndef transformEvent(event, metadata):\n    calls.append(1)\n" \
          b"    event['calls'] = len(calls)\n    return event\n"


def test_a_workspace_cannot_run_another_workspaces_function(functions: fpb_grpc.FunctionsStub,
                                                          transformer: pb_grpc.TransformerStub) -> None:
    theirs = upload(functions, "ws-a", "secret", ENRICH)
    results = user_transform(transformer, [job(event(0), meta(0, workspace="ws-b"))],
                             destination(theirs.version_id))
    assert results[0].status_code == 410
    with pytest.raises(grpc.RpcError) as caught:
        functions.Test(fpb.TestRequest(workspace="ws-b", ref=theirs.version_id, events=[b"{}"]))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError):
        functions.Get(fpb.GetRequest(workspace="ws-b", name="secret"))


def test_module_state_is_not_shared_between_tenants(functions: fpb_grpc.FunctionsStub,
                                                    transformer: pb_grpc.TransformerStub,
                                                    server: Server) -> None:
    """The same code uploaded by two workspaces is two versions with separate module state."""
    first = upload(functions, "ws-a", "counter", COUNTER)
    second = upload(functions, "ws-b", "counter", COUNTER)
    assert first.version_id != second.version_id
    batch = [job(event(i), meta(i, workspace="ws-a")) for i in range(5)]
    a = [output(r)["calls"] for r in user_transform(transformer, batch, destination(first.version_id))]
    batch = [job(event(i), meta(i, workspace="ws-b")) for i in range(5)]
    b = [output(r)["calls"] for r in user_transform(transformer, batch, destination(second.version_id))]
    # a batch runs in one worker: ws-b's counter starts from zero whichever worker it lands on
    assert a == [1, 2, 3, 4, 5]
    assert b == [1, 2, 3, 4, 5]


# --- destination and source functions -----------------------------------------------------------

DESTINATION = b'''
def on_track(event, settings):
    return {"version": "1", "type": "REST", "method": "POST", "endpoint": settings["url"],
            "headers": {}, "params": {}, "body": {"JSON": {"name": event["event"]}, "JSON_ARRAY": {},
            "XML": {}, "FORM": {}}, "files": {}}


def on_identify(event, settings):
    raise DropEvent("identifies are not sent")
'''


def test_destination_function_in_processor_and_router_mode(functions: fpb_grpc.FunctionsStub,
                                                           transformer: pb_grpc.TransformerStub) -> None:
    """Destination type ``function``: Config.functionRef names the function, Config is its settings."""
    upload(functions, "ws1", "crm", DESTINATION, kind=fpb.FUNCTION_KIND_DESTINATION, alias="live")
    dest = {"ID": "d1", "Config": {"functionRef": "crm@live", "url": "https://crm.test/events"}}
    jobs = [job(event(0), meta(0)), job({"type": "identify", "userId": "u"}, meta(1)),
            job({"type": "page"}, meta(2))]
    request = pb.TransformRequest(destination_type="function", jobs=jobs, destination=orjson.dumps(dest))
    results = transformer.Transform(request).results
    assert [r.status_code for r in results] == [200, 298, 400]
    assert orjson.loads(results[0].output)["endpoint"] == "https://crm.test/events"
    assert "DropEvent: identifies are not sent" in results[1].error
    assert "no on_page" in results[2].error
    routed = transformer.RouterTransform(request).results
    assert [r.status_code for r in routed] == [200, 298, 400]
    assert orjson.loads(routed[0].batched_request)["body"]["JSON"] == {"name": "Event 0"}
    assert [list(r.metadata) for r in routed] == [[j.metadata] for j in jobs]


def test_source_function_turns_deliveries_into_events(functions: fpb_grpc.FunctionsStub,
                                                      transformer: pb_grpc.TransformerStub) -> None:
    code = b"import json\ndef on_request(request, settings):\n    body = json.loads(request['body'])\n" \
           b"    return [{'type': 'track', 'event': e, 'context': {'source': settings['name']}}" \
           b" for e in body['events']]\n"
    upload(functions, "ws1", "hook", code, kind=fpb.FUNCTION_KIND_SOURCE)
    deliveries = [orjson.dumps({"body": '{"events": ["a", "b"]}', "headers": {}, "query": {},
                                "method": "POST", "path": "/"}),
                  orjson.dumps({"body": "not json"})]
    reply = transformer.SourceTransform(pb.SourceTransformRequest(
        function="hook", workspace="ws1", requests=deliveries, settings=b'{"name": "hooks"}'))
    assert [r.status_code for r in reply.results] == [200, 400]
    assert [orjson.loads(e)["event"] for e in reply.results[0].events] == ["a", "b"]
    assert "JSONDecodeError" in reply.results[1].error
    unknown = transformer.SourceTransform(pb.SourceTransformRequest(source_type="shopify",
                                                                    requests=deliveries[:1]))
    assert unknown.results[0].status_code == 400
    assert "'shopify' is not supported" in unknown.results[0].error


def test_builtin_webhook_source(transformer: pb_grpc.TransformerStub) -> None:
    """``source_type: webhook`` needs no function: each delivery's JSON body becomes one track event."""
    deliveries = [orjson.dumps({"body": '{"prop1": "value1", "prop2": "value2"}', "method": "POST",
                                "path": "/v1/webhook?writeKey=k&a=1",
                                "headers": {"Content-Type": ["application/json"]},
                                "query": {"a": ["1"], "writeKey": ["k"]}}),
                  orjson.dumps({"body": '{"prop1": "value1"', "method": "POST"}),
                  b"not json",
                  orjson.dumps({"body": "[1, 2]"})]
    plain = transformer.SourceTransform(pb.SourceTransformRequest(source_type="webhook", requests=deliveries))
    assert [r.status_code for r in plain.results] == [200, 400, 400, 200]
    [event] = [orjson.loads(e) for e in plain.results[0].events]
    assert str(uuid.UUID(event.pop("anonymousId"))) and event == {
        "type": "track", "event": "webhook_source_event",
        "properties": {"prop1": "value1", "prop2": "value2"}, "context": {}}
    assert "malformed JSON in the request body" in plain.results[1].error
    assert "the delivery is not valid JSON" in plain.results[2].error
    assert orjson.loads(plain.results[3].events[0])["properties"] == [1, 2]
    detailed = transformer.SourceTransform(pb.SourceTransformRequest(
        source_type="webhook", requests=deliveries[:1], settings=b'{"putRequestDetailsInContext": true}'))
    [event] = [orjson.loads(e) for e in detailed.results[0].events]
    assert event["context"] == {"method": "POST", "url": "/v1/webhook?writeKey=k&a=1",
                                "headers": {"Content-Type": "application/json"},
                                "query_parameters": {"a": "1", "writeKey": "k"}}
    a, b = (orjson.loads(r.events[0])["anonymousId"] for r in (plain.results[0], detailed.results[0]))
    assert a != b


def test_kinds_are_not_mixed_up(functions: fpb_grpc.FunctionsStub,
                                transformer: pb_grpc.TransformerStub) -> None:
    """A destination function named as a transformation is a configuration error."""
    upload(functions, "ws1", "crm", DESTINATION, kind=fpb.FUNCTION_KIND_DESTINATION)
    [result] = user_transform(transformer, [job(event(0), meta(0))], destination("crm"))
    assert result.status_code == 400 and "is a destination function" in result.error


# --- the registry unreachable -------------------------------------------------------------------


class UnreachableStore:
    """A store whose database is down."""

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise StoreUnavailable("connection refused")
        return fail


def test_registry_unreachable_is_a_500_per_job(catalog: Catalog) -> None:
    registry = Registry(UnreachableStore(), validate)  # type: ignore[arg-type]
    settings = loopback_settings(sandbox_workers=1)
    with running_server(catalog, settings, registry=registry) as started, \
            grpc.insecure_channel(f"127.0.0.1:{started.port}") as chan:
        stub = pb_grpc.TransformerStub(chan)
        results = user_transform(stub, [job(event(i), meta(i)) for i in range(3)], destination("enrich"))
        assert [r.status_code for r in results] == [500, 500, 500]
        assert "function registry unavailable" in results[0].error
        with pytest.raises(grpc.RpcError) as caught:
            fpb_grpc.FunctionsStub(chan).List(fpb.ListRequest(workspace="ws1"))
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


def test_refs_are_cached_but_alias_moves_reach_the_router(functions: fpb_grpc.FunctionsStub,
                                                          transformer: pb_grpc.TransformerStub) -> None:
    """Moving an alias on this replica takes effect for the next batch."""
    one = upload(functions, "ws-alias", "f", b"def transformEvent(e, m):\n    e['v'] = 1\n    return e\n",
                 alias="live")
    upload(functions, "ws-alias", "f", b"def transformEvent(e, m):\n    e['v'] = 2\n    return e\n")
    batch = [job(event(0), meta(0, workspace="ws-alias"))]
    assert output(user_transform(transformer, batch, destination("f@live"))[0])["v"] == 1
    latest = functions.ListVersions(fpb.ListVersionsRequest(workspace="ws-alias", name="f")).versions[0]
    functions.SetAlias(fpb.SetAliasRequest(workspace="ws-alias", name="f", alias="live",
                                           version=latest.version_id))
    assert output(user_transform(transformer, batch, destination("f@live"))[0])["v"] == 2
    assert one.version_id != latest.version_id

