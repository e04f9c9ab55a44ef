"""The WebAssembly runtime on its own (no server, no gRPC): how fast a guest answers, in this process.

Builds the benchmark's trivial transformation (bench/guests/trivial.{c,zig}, sets
properties.transformed = true) and reports, for each language:

* first result, cached module   a fresh store, instance, guest call and decoded result of one event
                                for a module already compiled (what every call costs before its
                                events do): p50 / p99
* first result, disk cache      the same in a runtime that has never seen the module, which it loads
                                from its on-disk cache (a restarted server): p50 / p99
* batch                         one 100-event call (encode, instantiate, guest, decode): p50, and
                                events per CPU-second of this process on one thread
* split of a batch              where a batch's time goes: encoding the input, the guest call
                                (store, instance, copy in, run, copy out), decoding the answer

Usage: python bench/wasm_runtime.py [--lang c zig] [--rounds 2000] [--batch 100] [--json]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._harness import GUEST_CACHE, build_bench_guest, print_result
from bench.user_transform import sample_event, sample_metadata
from sandbox import WasmRuntime
from sandbox._wasm_abi import decode_answer, encode_input
from sandbox._wasm_host import GuestLog

KIND = "transformation"


def timings(action: Callable[[], object], rounds: int) -> list[float]:
    """Wall seconds of each of ``rounds`` calls of ``action``, sorted."""
    spent = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        spent.append(time.perf_counter() - started)
    spent.sort()
    return spent


def us(seconds: float) -> float:
    return round(seconds * 1e6, 1)


def p99(sorted_seconds: list[float]) -> float:
    return sorted_seconds[max(0, int(len(sorted_seconds) * 0.99) - 1)]


def measure(wasm: bytes, rounds: int, batch: int, cache_dir: Path) -> dict[str, Any]:
    events = [orjson.dumps(sample_event(i)) for i in range(batch)]
    metadata = [orjson.dumps(sample_metadata(i)) for i in range(batch)]
    result: dict[str, Any] = {}
    with WasmRuntime(threads=1, cache_dir=cache_dir) as runtime:
        runtime.check("bench", wasm)  # compiled once (and written to the disk cache)
        answer = runtime.run("bench", wasm, KIND, events[:1], metadata[:1]).results[0]
        assert answer.error is None and b'"transformed":true' in (answer.output or b""), answer

        def first() -> None:
            runtime.run("bench", wasm, KIND, events[:1], metadata[:1])

        first()
        spent = timings(first, rounds)
        result["first_result_us"] = {"p50": us(statistics.median(spent)), "p99": us(p99(spent))}

        def whole() -> None:
            runtime.run("bench", wasm, KIND, events, metadata)

        whole()
        cpu = time.process_time()
        spent = timings(whole, max(1, rounds // 10))
        cpu = time.process_time() - cpu
        result["batch_us"] = {"p50": us(statistics.median(spent)), "p99": us(p99(spent))}
        result["batch_events_per_cpu_s"] = round(len(spent) * batch / cpu)

        # the parts of one batch, through the same functions the runtime calls
        data = encode_input(KIND, events, metadata, b"{}")
        limits = runtime.policy.defaults
        answer_bytes, _ = runtime._call(runtime._guest("bench", wasm), data, batch, limits,
                                        GuestLog(limits.max_log_bytes * batch))
        split = {
            "encode": statistics.median(timings(
                lambda: encode_input(KIND, events, metadata, b"{}"), rounds // 10)),
            "guest_call": statistics.median(timings(
                lambda: runtime._call(runtime._guest("bench", wasm), data, batch, limits,
                                      GuestLog(limits.max_log_bytes * batch)), rounds // 10)),
            "decode": statistics.median(timings(
                lambda: decode_answer(answer_bytes, batch, limits.max_output_bytes), rounds // 10)),
        }
        result["batch_split_us"] = {key: us(value) for key, value in split.items()}

    disk: list[float] = []
    for _ in range(max(1, rounds // 100)):
        with WasmRuntime(threads=1, cache_dir=cache_dir) as fresh:
            started = time.perf_counter()
            fresh.run("bench", wasm, KIND, events[:1], metadata[:1])
            disk.append(time.perf_counter() - started)
    disk.sort()
    result["first_result_disk_cache_us"] = {"p50": us(statistics.median(disk)), "p99": us(p99(disk))}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lang", nargs="+", choices=("c", "zig"), default=["c", "zig"])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--guest-cache", type=Path, default=GUEST_CACHE)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as modules:
        for lang in args.lang:
            wasm = build_bench_guest(f"trivial.{lang}", args.guest_cache)
            results[lang] = measure(wasm, args.rounds, args.batch, Path(modules))
    print_result(results, args.json)


if __name__ == "__main__":
    main()
