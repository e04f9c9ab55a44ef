"""Regenerate the Python code for proto/ (the only way it is ever changed).

Usage: python scripts/gen_proto.py [--check]

Writes transformer/v1/*_pb2.py, *_pb2.pyi and *_pb2_grpc.py. With --check, writes nothing and
exits 1 when the checked-in files differ from what protoc would generate now.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"


def generate(out_dir: Path) -> None:
    from grpc_tools import protoc  # dev dependency: only needed to regenerate

    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))
    args = [
        "protoc",
        f"-I{PROTO_ROOT}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *protos,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")


def generated_files(base: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(base)): p.read_bytes()
        for p in (base / "transformer" / "v1").glob("*_pb2*.py*")
    }


def main() -> int:
    check = "--check" in sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        fresh = generated_files(Path(tmp))
    if check:
        current = generated_files(ROOT)
        if current != fresh:
            stale = sorted(set(current) ^ set(fresh) | {k for k in fresh if current.get(k) != fresh[k]})
            print("generated protobuf code is stale: " + ", ".join(stale))
            print("run: python scripts/gen_proto.py")
            return 1
        return 0
    for rel, data in fresh.items():
        (ROOT / rel).write_bytes(data)
        print(f"wrote {rel}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
