"""A small client of a running server's ``Functions`` service, for the ``transformer fn`` commands.

gRPC errors become ``ServerError`` here, and only here, with a one-line message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import grpc
import orjson

from functions import FunctionKind, Language
from functions.testing import EventResult, FunctionRun, LoadedFunction, function_name
from transformer.v1 import functions_pb2 as fpb
from transformer.v1 import functions_pb2_grpc as fpb_grpc

T = TypeVar("T")

_MAX_MESSAGE = 64 * 1024 * 1024


class ServerError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def kind_message(kind: FunctionKind) -> Any:
    return fpb.FunctionKind.Value(f"FUNCTION_KIND_{kind.name}")


def language_message(language: Language) -> Any:
    return fpb.FunctionLanguage.Value(f"FUNCTION_LANGUAGE_{language.name}")


class FunctionsClient:
    """Calls to ``Functions`` at ``target`` (``host:port``) on a plaintext channel."""

    def __init__(self, target: str, *, timeout_s: float = 60.0) -> None:
        self.target = target
        self._timeout_s = timeout_s
        options = [("grpc.max_receive_message_length", _MAX_MESSAGE),
                   ("grpc.max_send_message_length", _MAX_MESSAGE)]
        self._channel = grpc.insecure_channel(target, options=options)
        self._stub = fpb_grpc.FunctionsStub(self._channel)

    def __enter__(self) -> FunctionsClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._channel.close()

    def upload(self, workspace: str, function: LoadedFunction, name: str, alias: str = "") -> Any:
        return self._call(self._stub.Upload, fpb.UploadRequest(
            workspace=workspace, name=name, kind=kind_message(function.kind),
            language=language_message(function.language), code=function.code, alias=alias))

    def list_latest(self, workspace: str) -> list[Any]:
        return list(self._call(self._stub.List, fpb.ListRequest(workspace=workspace)).functions)

    def versions(self, workspace: str, name: str) -> list[Any]:
        request = fpb.ListVersionsRequest(workspace=workspace, name=name)
        return list(self._call(self._stub.ListVersions, request).versions)

    def test(self, workspace: str, function: LoadedFunction, inputs: Sequence[bytes],
             settings: bytes) -> FunctionRun:
        """Run the function's code inline on the server (nothing is saved), as a ``FunctionRun``."""
        inline = fpb.UploadRequest(
            workspace=workspace, name=function_name(function.path), kind=kind_message(function.kind),
            language=language_message(function.language), code=function.code)
        response = self._call(self._stub.Test, fpb.TestRequest(
            workspace=workspace, inline=inline, events=list(inputs), settings=settings))
        # The server names the code in each error (``name@<version>: ...``); the version is the
        # one ``function`` was loaded as for this workspace, so the prefix is known exactly.
        prefix = function.program.label + ": "
        results = tuple(
            EventResult(r.status_code, tuple(orjson.loads(o) for o in r.outputs),
                        r.error.removeprefix(prefix) or None, tuple(r.logs), r.elapsed_ms,
                        memory_bytes=r.memory_bytes if r.HasField("memory_bytes") else None)
            for r in response.results)
        return FunctionRun(function.path, function.program.label, function.kind, function.language, results,
                           unmatched=tuple(orjson.loads(o) for o in response.unmatched_outputs),
                           call_logs=tuple(response.logs), elapsed_ms=response.elapsed_ms,
                           where=f"server {self.target}")

    def _call(self, method: Callable[..., T], request: Any) -> T:
        try:
            return method(request, timeout=self._timeout_s)
        except grpc.RpcError as exc:
            code: grpc.StatusCode = exc.code()
            if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise ServerError(f"cannot reach the server at {self.target} ({code.name.lower()}: "
                                  f"{_one_line(exc.details())})") from None
            raise ServerError(f"server {self.target}: {_one_line(exc.details())} ({code.name})") from None


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())
