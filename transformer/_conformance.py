"""Scoring the service against recorded reference cases (see shared/conformance/README.md).

Cases go through a real server on loopback, started here with the test clock enabled so that a
case's ``now_ms`` can pin time for its request. Each case scores *strict* (the whole response
body deep-equals the recorded one) and/or *semantic* (same results in the same order, same status
codes, equal outputs for successes, same error category and type for failures).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import orjson

from functions import Registry
from transformer._catalog import Catalog, load_catalog
from transformer._server import CLOCK_HEADER, Server
from transformer._settings import Settings
from transformer.v1 import transformer_pb2 as pb
from transformer.v1 import transformer_pb2_grpc as pb_grpc

DEFAULT_CASES_DIR = Path("../shared/conformance/cases")


def default_cases_dir() -> Path:
    """``../shared/conformance/cases`` from the working directory, else beside the checkout."""
    if DEFAULT_CASES_DIR.is_dir():
        return DEFAULT_CASES_DIR
    return Path(__file__).resolve().parents[2] / "shared" / "conformance" / "cases"


@dataclass(frozen=True, slots=True)
class CaseResult:
    id: str
    destination: str
    supported: bool
    strict: bool
    semantic: bool
    detail: str = ""


@dataclass
class DestinationScore:
    cases: int = 0
    strict: int = 0
    semantic: int = 0
    supported: bool = False
    failures: list[CaseResult] = field(default_factory=list)


def load_cases(directory: Path, destinations: Sequence[str] = ()) -> list[dict[str, Any]]:
    wanted = {d.lower() for d in destinations}
    cases: list[dict[str, Any]] = []
    for file in sorted(directory.glob("*.json")):
        if wanted and file.stem.lower() not in wanted:
            continue
        cases.extend(orjson.loads(file.read_bytes()))
    return cases


# --- building requests and reading responses ----------------------------------------------------


def _dump(value: Any) -> bytes:
    return b"" if value is None else orjson.dumps(value)


def _job(item: dict[str, Any]) -> pb.Job:
    return pb.Job(message=_dump(item.get("message")), metadata=_dump(item.get("metadata")),
                  destination=_dump(item.get("destination")))


def _load(data: bytes) -> Any:
    return orjson.loads(data) if data else None


def processor_body(response: pb.TransformResponse) -> list[dict[str, Any]]:
    """A Transform response in the reference's JSON shape."""
    body = []
    for result in response.results:
        item: dict[str, Any] = {"statusCode": result.status_code}
        if result.output:
            item["output"] = _load(result.output)
        if result.metadata:
            item["metadata"] = _load(result.metadata)
        if result.error or result.status_code != 200:
            item["error"] = result.error
            item["statTags"] = dict(result.stat_tags)
        body.append(item)
    return body


def router_body(response: pb.RouterTransformResponse) -> dict[str, Any]:
    """A RouterTransform response in the reference's JSON shape."""
    output = []
    for result in response.results:
        item: dict[str, Any] = {
            "metadata": [_load(m) for m in result.metadata],
            "batched": result.batched,
            "statusCode": result.status_code,
        }
        if result.batched_request:
            item["batchedRequest"] = _load(result.batched_request)
        if result.destination:
            item["destination"] = _load(result.destination)
        if result.error or result.status_code != 200:
            item["error"] = result.error
            item["statTags"] = dict(result.stat_tags)
        output.append(item)
    return {"output": output}


# --- comparison ---------------------------------------------------------------------------------


def deep_equal(a: Any, b: Any) -> bool:
    """JSON equality: dict order ignored, list order kept, 1 == 1.0 but True != 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(deep_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(deep_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def _first_difference(a: Any, b: Any, path: str = "$") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a:
                return f"{path}.{key}: missing (expected {_short(b[key])})"
            if key not in b:
                return f"{path}.{key}: unexpected {_short(a[key])}"
            if not deep_equal(a[key], b[key]):
                return _first_difference(a[key], b[key], f"{path}.{key}")
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items, expected {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if not deep_equal(x, y):
                return _first_difference(x, y, f"{path}[{i}]")
    return f"{path}: got {_short(a)}, expected {_short(b)}"


def _short(value: Any) -> str:
    text = orjson.dumps(value).decode()
    return text if len(text) <= 160 else text[:157] + "..."


def _semantic(actual: list[dict[str, Any]], expected: list[dict[str, Any]], key: str) -> str:
    """Empty when semantically equal, else the first difference."""
    if len(actual) != len(expected):
        return f"{len(actual)} results, expected {len(expected)}"
    for i, (got, want) in enumerate(zip(actual, expected, strict=True)):
        if got.get("statusCode") != want.get("statusCode"):
            return (f"[{i}] status {got.get('statusCode')} ({got.get('error', '')[:200]}), "
                    f"expected {want.get('statusCode')} ({str(want.get('error', ''))[:200]})")
        if 200 <= int(want.get("statusCode", 0)) < 300:
            if not deep_equal(got.get(key), want.get(key)):
                return f"[{i}] " + _first_difference(got.get(key), want.get(key), key)
        else:
            got_tags, want_tags = got.get("statTags") or {}, want.get("statTags") or {}
            for tag in ("errorCategory", "errorType"):
                if got_tags.get(tag) != want_tags.get(tag):
                    return (f"[{i}] statTags.{tag} {got_tags.get(tag)!r}, expected "
                            f"{want_tags.get(tag)!r} ({got.get('error', '')[:200]})")
    return ""


def score_case(case: dict[str, Any], actual: Any) -> tuple[bool, bool, str]:
    expected = case["response"]["body"]
    strict = deep_equal(actual, expected)
    if case["feature"] == "router":
        detail = _semantic(actual["output"], expected.get("output", []), "batchedRequest")
    else:
        detail = _semantic(actual, expected, "output")
    if not detail and not strict:
        detail = "strict: " + _first_difference(actual, expected)
    return strict, not detail or detail.startswith("strict: "), detail


# --- running ------------------------------------------------------------------------------------


@contextmanager
def running_server(catalog: Catalog, settings: Settings, *, registry: Registry | None = None,
                   tracer_provider: Any = None) -> Iterator[Server]:
    """A started ``Server`` run by a background event loop (its ``port`` is set)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="loopback-server", daemon=True)
    thread.start()
    server = Server(settings, catalog, registry=registry, tracer_provider=tracer_provider)
    started: Future[int] = asyncio.run_coroutine_threadsafe(server.start(), loop)
    try:
        started.result(timeout=30)
        yield server
    finally:
        if started.done() and started.exception() is None:
            asyncio.run_coroutine_threadsafe(server.stop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def loopback_settings(**changes: Any) -> Settings:
    """Settings of a loopback test server: a free port, the test clock, the function registry in
    memory (nothing written under ``./.transformer/``), two sandbox workers."""
    values: dict[str, Any] = {"host": "127.0.0.1", "port": 0, "test_clock": True, "grace_seconds": 1,
                              "registry_path": ":memory:", "sandbox_workers": 2}
    return Settings(**{**values, **changes})


@contextmanager
def loopback_server(catalog: Catalog, *, test_clock: bool = True,
                    settings: Settings | None = None) -> Iterator[str]:
    """A real server on a free loopback port (``loopback_settings`` unless ``settings`` are given)."""
    with running_server(catalog, settings or loopback_settings(test_clock=test_clock)) as server:
        yield f"127.0.0.1:{server.port}"


def run_cases(cases: Iterable[dict[str, Any]], target: str, catalog: Catalog) -> list[CaseResult]:
    results = []
    with grpc.insecure_channel(target, options=[
        ("grpc.max_receive_message_length", 256 * 1024 * 1024),
        ("grpc.max_send_message_length", 256 * 1024 * 1024),
    ]) as channel:
        stub = pb_grpc.TransformerStub(channel)
        for case in cases:
            results.append(run_case(stub, case, catalog))
    return results


def run_case(stub: pb_grpc.TransformerStub, case: dict[str, Any], catalog: Catalog) -> CaseResult:
    dest = case["destination"]
    supported = catalog.get(dest) is not None
    header = [] if case.get("now_ms") is None else [(CLOCK_HEADER, str(case["now_ms"]))]
    request = case["request"]
    if case["feature"] == "router":
        items = request.get("input", []) if isinstance(request, dict) else []
        dest_type = request.get("destType") or dest if isinstance(request, dict) else dest
        response = stub.RouterTransform(pb.TransformRequest(
            destination_type=dest_type, jobs=[_job(i) for i in items]), metadata=header)
        actual: Any = router_body(response)
    else:
        response = stub.Transform(pb.TransformRequest(
            destination_type=dest, jobs=[_job(i) for i in request]), metadata=header)
        actual = processor_body(response)
    strict, semantic, detail = score_case(case, actual)
    return CaseResult(case["id"], dest, supported, strict, semantic, detail)


def summarize(results: Iterable[CaseResult]) -> dict[str, DestinationScore]:
    scores: dict[str, DestinationScore] = {}
    for result in results:
        score = scores.setdefault(result.destination, DestinationScore())
        score.cases += 1
        score.supported = result.supported
        # An unsupported destination scores nothing, even where its error results happen to match.
        score.strict += result.supported and result.strict
        score.semantic += result.supported and result.semantic
        if not result.semantic or not result.strict:
            score.failures.append(result)
    return dict(sorted(scores.items()))


def report_json(scores: dict[str, DestinationScore]) -> dict[str, Any]:
    return {
        "destinations": {
            name: {"cases": s.cases, "strict": s.strict, "semantic": s.semantic,
                   "supported": s.supported}
            for name, s in scores.items()
        },
        "totals": {
            "cases": sum(s.cases for s in scores.values()),
            "strict": sum(s.strict for s in scores.values()),
            "semantic": sum(s.semantic for s in scores.values()),
        },
    }


def run_conformance(directory: Path, destinations: Sequence[str] = (),
                    extra_dirs: Sequence[Path] = ()) -> dict[str, DestinationScore]:
    catalog = load_catalog(extra_dirs)
    cases = load_cases(directory, destinations)
    with loopback_server(catalog) as target:
        return summarize(run_cases(cases, target, catalog))
