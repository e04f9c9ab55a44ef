"""Small builders for requests in tests."""

from __future__ import annotations

from typing import Any

import orjson

from transformer.v1 import transformer_pb2 as pb

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
