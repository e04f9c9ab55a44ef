"""Compiling WebAssembly guests, and refusing bytes that are not a guest of ABI v1.

A guest is a core module that exports ``memory``, ``alloc(i32) -> i32``, ``dealloc(i32, i32)`` and
``transform(i32, i32) -> i64`` (``_initialize() `` optionally, as WASI reactors do) and imports
nothing but WASI preview1 functions. Every engine of the sandbox is configured here, the same way,
so that what ``check_wasm`` accepts is what a runtime can run.
"""

from __future__ import annotations

import wasmtime

from sandbox._errors import InvalidModule

WASI_MODULE = "wasi_snapshot_preview1"
# Every function of WASI preview1 (wasmtime links them all; with no preopened directory and no
# sockets, those touching files or the network can only fail with EBADF/ENOTCAPABLE).
WASI_PREVIEW1 = frozenset((
    "args_get", "args_sizes_get", "environ_get", "environ_sizes_get", "clock_res_get",
    "clock_time_get", "fd_advise", "fd_allocate", "fd_close", "fd_datasync", "fd_fdstat_get",
    "fd_fdstat_set_flags", "fd_fdstat_set_rights", "fd_filestat_get", "fd_filestat_set_size",
    "fd_filestat_set_times", "fd_pread", "fd_prestat_get", "fd_prestat_dir_name", "fd_pwrite",
    "fd_read", "fd_readdir", "fd_renumber", "fd_seek", "fd_sync", "fd_tell", "fd_write",
    "path_create_directory", "path_filestat_get", "path_filestat_set_times", "path_link", "path_open",
    "path_readlink", "path_remove_directory", "path_rename", "path_symlink", "path_unlink_file",
    "poll_oneoff", "proc_exit", "proc_raise", "sched_yield", "random_get", "sock_accept", "sock_recv",
    "sock_send", "sock_shutdown",
))
PAGE = 65_536
_START_SECTION = 8
_I32, _I64 = "i32", "i64"
# name -> (params, results); _initialize is optional
_FUNCTIONS = {
    "alloc": ((_I32,), (_I32,)),
    "dealloc": ((_I32, _I32), ()),
    "transform": ((_I32, _I32), (_I64,)),
}
_INITIALIZE = "_initialize"
_BUILD_HINT = ("build it as a WASI reactor: C with `-mexec-model=reactor`, Zig with `-fno-entry -rdynamic` "
               "(see docs/wasm-abi.md)")


def new_engine() -> wasmtime.Engine:
    """An engine that counts fuel and can be interrupted by epochs (every guest runs with both)."""
    config = wasmtime.Config()
    config.consume_fuel = True
    config.epoch_interruption = True
    config.cranelift_opt_level = "speed"
    config.wasm_threads = False  # a shared memory could outlive the call that made it
    return wasmtime.Engine(config)


def compile_guest(engine: wasmtime.Engine, wasm: bytes) -> wasmtime.Module:
    """The compiled module; raises ``InvalidModule`` saying what is wrong."""
    if wasm[:4] != b"\0asm":
        raise InvalidModule("not a WebAssembly module (it does not start with \\0asm)")
    try:
        wasmtime.Module.validate(engine, wasm)
        module = wasmtime.Module(engine, wasm)
    except wasmtime.WasmtimeError as exc:
        raise InvalidModule(f"not a valid WebAssembly module: {_first_line(exc)}") from None
    check_interface(module)
    return module


def check_interface(module: wasmtime.Module) -> None:
    """Raise ``InvalidModule`` unless the module's imports and exports are those of ABI v1."""
    problems: list[str] = []
    for item in module.imports:
        where = f"{item.module}.{item.name}"
        if item.module != WASI_MODULE:
            problems.append(f"imports {where}: only WASI preview1 ({WASI_MODULE}) may be imported")
        elif item.name not in WASI_PREVIEW1:
            problems.append(f"imports {where}, which is not a WASI preview1 function")
        elif not isinstance(item.type, wasmtime.FuncType):
            problems.append(f"imports {where} as something other than a function")
    exports = {item.name: item.type for item in module.exports}
    memory = exports.get("memory")
    if not isinstance(memory, wasmtime.MemoryType):
        problems.append("does not export its linear memory as `memory`")
    elif memory.is_64:
        problems.append("exports a 64-bit memory; ABI v1 guests are wasm32")
    for name, (params, results) in _FUNCTIONS.items():
        problem = _signature_problem(name, exports.get(name), params, results)
        if problem:
            problems.append(problem)
    if _INITIALIZE in exports:
        problem = _signature_problem(_INITIALIZE, exports[_INITIALIZE], (), ())
        if problem:
            problems.append(problem)
    elif "_start" in exports:
        problems.append(f"is a WASI command (it exports _start); {_BUILD_HINT}")
    if problems:
        raise InvalidModule("the module " + "; ".join(problems))


def memory_minimum(module: wasmtime.Module) -> int:
    """Bytes of linear memory the module needs to be instantiated at all."""
    for item in module.exports:
        if item.name == "memory" and isinstance(item.type, wasmtime.MemoryType):
            return int(item.type.limits.min) * PAGE
    return 0


def has_start_function(wasm: bytes) -> bool:
    """Whether the module (a valid one) has a start section: a function instantiation runs.

    wasmtime's ``Module`` does not say, so the section headers are read: each is an id byte and a
    LEB128 size; the start section's id is 8."""
    at = 8  # past the magic number and the version
    while at < len(wasm):
        section, size, shift = wasm[at], 0, 0
        at += 1
        while True:
            byte = wasm[at]
            at += 1
            size |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        if section == _START_SECTION:
            return True
        at += size
    return False


def check_wasm(wasm: bytes) -> None:
    """Raise ``InvalidModule`` unless ``wasm`` is a guest of ABI v1 that links against WASI preview1
    (what an upload must pass; compiles the module, so it takes milliseconds)."""
    engine = new_engine()
    module = compile_guest(engine, wasm)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    try:
        linker.instantiate_pre(module)
    except wasmtime.WasmtimeError as exc:
        raise InvalidModule(f"the module's WASI imports do not link: {_first_line(exc)}") from None


def _signature_problem(name: str, found: object, params: tuple[str, ...], results: tuple[str, ...]) -> str:
    wanted = f"{name}({', '.join(params)}){' -> ' + results[0] if results else ''}"
    if found is None:
        return f"does not export `{wanted}`"
    if not isinstance(found, wasmtime.FuncType):
        return f"exports `{name}` but not as a function (expected `{wanted}`)"
    if tuple(map(str, found.params)) != params or tuple(map(str, found.results)) != results:
        got = f"{name}({', '.join(map(str, found.params))}) -> ({', '.join(map(str, found.results))})"
        return f"exports `{got}`, expected `{wanted}`"
    return ""


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
