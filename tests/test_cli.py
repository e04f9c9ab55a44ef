"""`transformer serve` as an operator runs it: a real process, signals, workers, bad config."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import grpc
import orjson

from transformer.v1 import transformer_pb2_grpc as pb_grpc

from .helpers import KINESIS, free_port, job, request, track, wait_serving


@contextmanager
def serve(*args: str, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "transformer", "serve", "--host", "127.0.0.1", "--log-format", "json",
         *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "TRANSFORMER_REGISTRY_PATH": ":memory:", **(env or {})},
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_transforms_logs_per_batch_and_drains_on_sigterm() -> None:
    """The server answers, logs one JSON line per batch, and exits 0 after SIGTERM."""
    port = free_port()
    with serve("--port", str(port)) as proc:
        wait_serving(f"127.0.0.1:{port}")
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            reply = pb_grpc.TransformerStub(channel).Transform(
                request("kinesis", [job(track(i)) for i in range(50)], KINESIS))
        assert len(reply.results) == 50
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
        assert proc.returncode == 0, stderr
    lines = [orjson.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    batches = [line for line in lines if line["event"] == "batch"]
    assert len(batches) == 1 and batches[0]["jobs"] == 50 and batches[0]["destination"] == "kinesis"
    assert [line["event"] for line in lines][-2:] == ["draining", "stopped"]


def test_workers_share_one_port() -> None:
    """--workers 2 starts two processes serving one port; both drain and stop on SIGTERM."""
    port = free_port()
    with serve("--port", str(port), "--workers", "2") as proc:
        target = f"127.0.0.1:{port}"
        wait_serving(target)
        for i in range(10):
            # A new channel is a new connection, which SO_REUSEPORT may hand to either process.
            with grpc.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)]) as ch:
                reply = pb_grpc.TransformerStub(ch).Transform(
                    request("kinesis", [job(track(i))], KINESIS), timeout=10)
                assert reply.results[0].status_code == 200
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
        assert proc.returncode == 0, stderr
    assert stderr.count('"serving"') == 2, stderr
    assert stderr.count('"stopped"') == 2, stderr


def test_sigterm_while_a_worker_is_still_starting_drains_it() -> None:
    """SIGTERM as soon as one worker serves: the other finishes starting, then drains; exit 0."""
    port = free_port()
    with serve("--port", str(port), "--workers", "2") as proc:
        wait_serving(f"127.0.0.1:{port}")
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 0, stderr
    assert stderr.count('"serving"') == 2, stderr
    assert stderr.count('"stopped"') == 2, stderr


def test_invalid_configuration_is_a_clear_error() -> None:
    """A bad TRANSFORMER_* value stops start-up with a message naming it, exit code 2."""
    done = subprocess.run([sys.executable, "-m", "transformer", "serve"], capture_output=True,
                          text=True, env={**os.environ, "TRANSFORMER_PORT": "not-a-port",
                                          "TRANSFORMER_WORKERS": "0"}, timeout=60)
    assert done.returncode == 2
    assert "port" in done.stderr and "workers" in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_destinations_dir_is_a_clear_error(tmp_path: object) -> None:
    """--destinations-dir pointing nowhere is rejected at start."""
    done = subprocess.run([sys.executable, "-m", "transformer", "serve", "--destinations-dir",
                           "/nonexistent/dir"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "/nonexistent/dir is not a directory" in done.stderr
