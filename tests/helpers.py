"""Small builders for requests in tests, running user-function programs on JSON values, and waiting
for a server process to serve."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import grpc
import orjson
from grpc_health.v1 import health_pb2, health_pb2_grpc

from functions import Program, Runner, RunResult
from transformer.v1 import transformer_pb2 as pb

T = TypeVar("T")

WEBHOOK = {"ID": "d1", "Config": {"webhookUrl": "https://example.test/hook"},
           "DestinationDefinition": {"Name": "WEBHOOK"}}
KINESIS = {"ID": "k1", "Config": {}, "DestinationDefinition": {"Name": "KINESIS"}}


def job(message: Any, metadata: Any = None, destination: Any = None) -> pb.Job:
    return pb.Job(
        message=message if isinstance(message, bytes) else orjson.dumps(message),
        metadata=b"" if metadata is None else orjson.dumps(metadata),
        destination=b"" if destination is None else orjson.dumps(destination),
    )


def track(n: int = 0, **extra: Any) -> dict[str, Any]:
    return {"type": "track", "event": f"Event {n}", "userId": f"u{n}", "anonymousId": f"a{n}",
            "properties": {"n": n}, "messageId": f"m{n}", **extra}


def request(dest_type: str, jobs: list[pb.Job], destination: Any = None) -> pb.TransformRequest:
    return pb.TransformRequest(
        destination_type=dest_type, jobs=jobs,
        destination=b"" if destination is None else orjson.dumps(destination))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_serving(target: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        while True:
            try:
                if health.Check(health_pb2.HealthCheckRequest(), timeout=1).status == 1:
                    return
            except grpc.RpcError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)


def eventually(errors: type[BaseException] | tuple[type[BaseException], ...], call: Callable[[], T],
               timeout: float = 20) -> T:
    """``call()``'s value once it stops raising ``errors`` (e.g. while a pool reconnects)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except errors:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def run_program(runner: Runner, program: Program, inputs: Sequence[tuple[Any, Any]]) -> RunResult:
    """``runner.run`` on pairs of JSON values (bytes are passed on as they are, e.g. not JSON)."""
    encoded = [(_encoded(a), _encoded(b)) for a, b in inputs]
    return asyncio.run(runner.run(program, encoded))


def outputs(result: RunResult) -> list[list[Any]]:
    """Each input's output documents, decoded."""
    return [[orjson.loads(o) for o in outcome.outputs] for outcome in result.outcomes]


def _encoded(value: Any) -> bytes:
    return value if isinstance(value, bytes) else orjson.dumps(value)
