"""Tiny guests written in WebAssembly text, for behaviour that is clearer in a few instructions than
in C: each implements ABI v1 (memory, a bump ``alloc``, ``dealloc``) around a given ``transform``."""

from __future__ import annotations

import wasmtime

#: Where ``answer`` puts a fixed answer in the guest's memory.
ANSWER_AT = 1024


def guest(transform: str, *, imports: str = "", extra: str = "", data: str = "", pages: int = 2) -> bytes:
    """A guest whose ``transform(in, len) -> i64`` body is ``transform``."""
    return bytes(wasmtime.wat2wasm(f"""
(module
  {imports}
  (memory (export "memory") {pages})
  (global $heap (mut i32) (i32.const 65536))
  (func (export "alloc") (param $size i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $size)))
    (block $enough
      (loop $grow
        (br_if $enough (i32.le_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536))))
        (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then (return (i32.const 0))))
        (br $grow)))
    (local.get $at))
  (func (export "dealloc") (param i32 i32))
  (func (export "transform") (param $in i32) (param $len i32) (result i64)
    {transform})
  {extra}
  {data}
)"""))


def answer(text: str) -> tuple[str, str]:
    """(``transform`` body, data segment) answering ``text`` whatever the input."""
    encoded = text.encode()
    body = f"(i64.or (i64.shl (i64.const {ANSWER_AT}) (i64.const 32)) (i64.const {len(encoded)}))"
    return body, f'(data (i32.const {ANSWER_AT}) "{_escape(encoded)}")'


def answering(text: str, *, before: str = "", imports: str = "", extra: str = "") -> bytes:
    """A guest that runs ``before`` and then answers ``text``."""
    body, data = answer(text)
    return guest(before + "\n    " + body, imports=imports, extra=extra, data=data)


def _escape(data: bytes) -> str:
    return "".join(chr(b) if 32 <= b < 127 and b not in (34, 92) else f"\\{b:02x}" for b in data)
