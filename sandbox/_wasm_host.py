"""One call of a WebAssembly guest: a fresh store and instance, the input in, the answer out.

This is the only module that drives wasmtime at run time, and it does so through wasmtime's C API
(``_wasm_capi``) rather than wasmtime-py's generic wrappers: ``Func.__call__`` looks the
function's type up and converts every value on each call (~20 µs); the unchecked call used here
costs ~1.5 µs, and is safe because ``_wasm_module`` checked every export's signature at compile
time. Instantiation is likewise done with the raw call, so that a trap during it never goes through
wasmtime-py's process-wide "last exception" slot. Only the calls that may take long (guest code,
unmapping its memory) release the GIL (see ``_wasm_capi``).

Each call gets its own store (and so its own instance and linear memory), and nothing a guest
leaves behind (globals, heap, a half-finished state after a trap) can reach the next call. The
store with its WASI context costs ~5 µs to set up, instantiation ~10 µs, a whole one-event call
~50 µs. Reusing a store per thread would save only the ~5 µs: instances live as long as their
store, so each call would still need a new instance and the store would keep every one (and its
memory) until it is dropped, and calls would share its WASI context (bench/RESULTS-wasm.md).

Limits: the store limiter bounds linear memory (``memory.grow`` fails past it),
fuel bounds instructions, and an epoch deadline (the runtime's ticker advances the epoch) bounds
wall-clock time. WASI has no preopened directory, no environment, no arguments and no sockets;
``fd_write`` is replaced by a host function that appends to the call's bounded ``GuestLog`` and
stops the guest (a trap) once it is full. Traps become the sandbox's errors in ``_stop_error``,
by ``TrapCode``, never by message text.
"""

from __future__ import annotations

import ctypes
import struct
import threading
from dataclasses import dataclass
from typing import Any, cast

import wasmtime
from wasmtime import _ffi as ffi

from sandbox import _wasm_capi as capi
from sandbox._errors import CallError, GuestTrapped, InvalidAnswer, InvalidModule, LimitExceeded
from sandbox._kinds import LimitName, TrapKind
from sandbox._wasm_module import WASI_MODULE, has_start_function, memory_minimum

_TRAP_KINDS = {
    wasmtime.TrapCode.UNREACHABLE: TrapKind.UNREACHABLE,
    wasmtime.TrapCode.MEMORY_OUT_OF_BOUNDS: TrapKind.MEMORY_OUT_OF_BOUNDS,
    wasmtime.TrapCode.HEAP_MISALIGNED: TrapKind.MEMORY_OUT_OF_BOUNDS,
    wasmtime.TrapCode.STACK_OVERFLOW: TrapKind.STACK_OVERFLOW,
    wasmtime.TrapCode.INTEGER_DIVISION_BY_ZERO: TrapKind.INTEGER_DIVISION_BY_ZERO,
    wasmtime.TrapCode.INTEGER_OVERFLOW: TrapKind.INTEGER_OVERFLOW,
    wasmtime.TrapCode.BAD_CONVERSION_TO_INTEGER: TrapKind.BAD_CONVERSION_TO_INTEGER,
    wasmtime.TrapCode.INDIRECT_CALL_TO_NULL: TrapKind.INDIRECT_CALL,
    wasmtime.TrapCode.BAD_SIGNATURE: TrapKind.INDIRECT_CALL,
    wasmtime.TrapCode.TABLE_OUT_OF_BOUNDS: TrapKind.TABLE_OUT_OF_BOUNDS,
}
_EXTERN_FUNC = ffi.WASMTIME_EXTERN_FUNC.value
_EXTERN_MEMORY = ffi.WASMTIME_EXTERN_MEMORY.value
_U32 = 0xFFFF_FFFF
# Table elements a guest may have (8 bytes each, outside its linear memory, so bounded on their own).
_TABLE_ELEMENTS = 1 << 20
#: a store whose memory ended at most this large is deleted with the GIL held (unmapping it takes
#: microseconds; a memory of hundreds of MiB takes milliseconds, and then the GIL is released)
_SMALL_MEMORY = 16 << 20
_ERRNO_SUCCESS, _ERRNO_BADF, _ERRNO_FAULT = 0, 8, 21
_IOVEC = struct.Struct("<II")
_NO_FINALIZER = ctypes.cast(0, ctypes.CFUNCTYPE(None, ctypes.c_void_p))
_TrapPointer = ctypes.POINTER(ffi.wasm_trap_t)


class GuestLog:
    """What a guest wrote to stdout and stderr during one call, up to ``cap`` bytes."""

    __slots__ = ("cap", "chunks", "overflowed", "size")

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.chunks: list[bytes] = []
        self.size = 0
        self.overflowed = False

    def write(self, data: bytes) -> bool:
        """Keep ``data``; False (and nothing kept) once it would pass the cap."""
        if self.size + len(data) > self.cap:
            self.overflowed = True
            return False
        self.chunks.append(data)
        self.size += len(data)
        return True

    def lines(self) -> tuple[str, ...]:
        if not self.size:
            return ()
        text = b"".join(self.chunks).decode("utf-8", "replace")
        return tuple(text[:-1].split("\n") if text.endswith("\n") else text.split("\n"))


@dataclass(frozen=True, slots=True)
class Budget:
    """What one call may use: memory, fuel, epoch ticks, answer size, and the limits they come from."""

    memory_bytes: int
    fuel: int
    ticks: int
    wall_ms: int
    max_answer_bytes: int
    max_output_bytes: int
    max_log_bytes: int


@dataclass(frozen=True, slots=True)
class Linked:
    """A compiled guest linked against the host, ready to instantiate."""

    pre: wasmtime.InstancePre
    memory_minimum: int
    has_initialize: bool
    #: instantiation runs guest code (then it must release the GIL like any guest call)
    has_start: bool


class _Stopped(Exception):
    """The guest stopped abnormally: a trap (``code`` may be None for a host trap) or an exit."""

    def __init__(self, code: wasmtime.TrapCode | None, exit_status: int | None = None) -> None:
        super().__init__()
        self.code = code
        self.exit_status = exit_status


class Host:
    """The engine's linker (WASI preview1 with ``fd_write`` captured) and the call protocol."""

    def __init__(self, engine: wasmtime.Engine) -> None:
        self.engine = engine
        self._engine_pointer = engine.ptr()
        self._local = threading.local()
        linker = wasmtime.Linker(engine)
        linker.allow_shadowing = True
        linker.define_wasi()
        # the callback must live as long as the linker, which keeps a raw pointer to it
        self._fd_write = ffi.wasmtime_func_unchecked_callback_t(self._write)
        fd_write_type = wasmtime.FuncType([wasmtime.ValType.i32()] * 4, [wasmtime.ValType.i32()])
        module, name = WASI_MODULE.encode(), b"fd_write"
        error = ffi.wasmtime_linker_define_func_unchecked(
            linker.ptr(), module, len(module), name, len(name), fd_write_type.ptr(), self._fd_write,
            None, _NO_FINALIZER)
        if error:
            raise wasmtime.WasmtimeError._from_ptr(error)
        self._linker = linker

    def link(self, module: wasmtime.Module, wasm: bytes) -> Linked:
        """``module`` (compiled from ``wasm``) linked to the host's WASI, ready to instantiate."""
        try:
            pre = self._linker.instantiate_pre(module)
        except wasmtime.WasmtimeError as exc:
            raise InvalidModule(f"the module's WASI imports do not link: {exc}") from None
        exports = {item.name for item in module.exports}
        return Linked(pre, memory_minimum(module), "_initialize" in exports, has_start_function(wasm))

    def call(self, guest: Linked, data: bytes, budget: Budget, log: GuestLog) -> tuple[bytes, int]:
        """Instantiate ``guest`` in a fresh store, give it ``data``, return its answer's bytes and the
        size its linear memory ended with; raises the ``CallError`` saying why there is no answer."""
        if guest.memory_minimum > budget.memory_bytes:
            raise LimitExceeded(LimitName.MEMORY_BYTES, budget.memory_bytes)
        # the store through the C API (wasmtime-py's Store wrapper costs more than what it wraps)
        store = capi.store_new(self._engine_pointer, None, _NO_FINALIZER)
        memory = ffi.wasmtime_memory_t()
        has_memory = False
        self._local.log = log
        try:
            context = capi.store_context(store)
            capi.store_limiter(store, budget.memory_bytes, _TABLE_ELEMENTS, -1, -1, -1)
            _raise_error(capi.context_set_fuel(context, budget.fuel))
            capi.context_set_epoch_deadline(context, budget.ticks)
            _raise_error(capi.context_set_wasi(context, capi.wasi_config_new()))  # takes the config
            instance = ffi.wasmtime_instance_t()
            trap = _TrapPointer()
            instantiate = capi.instance_pre_instantiate if guest.has_start else \
                capi.instance_pre_instantiate_holding
            _check(instantiate(guest.pre.ptr(), context, ctypes.byref(instance), ctypes.byref(trap)), trap)
            exports = _Exports(context, instance)
            memory = exports.memory()
            has_memory = True
            args = (ffi.wasmtime_val_raw_t * 2)()
            if guest.has_initialize:
                _invoke(context, exports.func(b"_initialize"), args, 0)
            args[0].i32 = len(data)
            _invoke(context, exports.func(b"alloc"), args, 2)
            pointer = args[0].i32 & _U32
            if pointer == 0:  # the guest could not allocate the input
                raise LimitExceeded(LimitName.MEMORY_BYTES, budget.memory_bytes)
            base, size = _memory(context, memory)
            if pointer + len(data) > size:
                raise InvalidAnswer(f"alloc({len(data)}) returned {pointer}, outside the guest's "
                                    f"{size}-byte memory")
            capi.memmove(base + pointer, data, len(data))
            args[0].i32, args[1].i32 = pointer, len(data)
            _invoke(context, exports.func(b"transform"), args, 2)
            packed = args[0].i64
            out_pointer, out_length = (packed >> 32) & _U32, packed & _U32
            if out_length > budget.max_answer_bytes:
                raise LimitExceeded(LimitName.MAX_OUTPUT_BYTES, budget.max_output_bytes)
            base, size = _memory(context, memory)
            if out_pointer + out_length > size:
                raise InvalidAnswer(f"transform returned {out_length} bytes at {out_pointer}, outside the "
                                    f"guest's {size}-byte memory")
            return ctypes.string_at(base + out_pointer, out_length), size
        except _Stopped as stopped:
            used = _memory(context, memory)[1] if has_memory else 0
            raise _stop_error(stopped, log, used, budget) from None
        finally:
            self._local.log = None
            small = has_memory and _memory(context, memory)[1] <= _SMALL_MEMORY
            (capi.store_delete_holding if small else capi.store_delete)(store)

    def _write(self, env: int, caller: object, args: ctypes.Array[ffi.wasmtime_val_raw_t], count: int) -> int:
        """WASI ``fd_write(fd, iovs, iovs_len, nwritten) -> errno``: stdout and stderr go to the log."""
        try:
            log: GuestLog | None = getattr(self._local, "log", None)
            fd, iovs, iovs_len, nwritten = (args[i].i32 & _U32 for i in range(4))
            if log is None or fd not in (1, 2):
                args[0].i32 = _ERRNO_BADF
                return 0
            context = ffi.wasmtime_caller_context(caller)
            item = ffi.wasmtime_extern_t()
            if not ffi.wasmtime_caller_export_get(caller, b"memory", 6, ctypes.byref(item)) or \
                    cast(int, item.kind) != _EXTERN_MEMORY:
                args[0].i32 = _ERRNO_BADF
                return 0
            base, size = _memory(context, item.of.memory)
            if iovs + iovs_len * 8 > size or nwritten + 4 > size:
                args[0].i32 = _ERRNO_FAULT
                return 0
            table = ctypes.string_at(base + iovs, iovs_len * 8)
            written = 0
            for index in range(iovs_len):
                pointer, length = _IOVEC.unpack_from(table, index * 8)
                if pointer + length > size:
                    args[0].i32 = _ERRNO_FAULT
                    return 0
                if not log.write(ctypes.string_at(base + pointer, length)):
                    return _host_trap()  # the log is full: stop the guest, its loop may never end
                written += length
            ctypes.memmove(base + nwritten, struct.pack("<I", written), 4)
            args[0].i32 = _ERRNO_SUCCESS
            return 0
        except Exception:  # never let an exception unwind into wasmtime
            return _host_trap()


class _Exports:
    """An instance's exports, looked up by name through the C API."""

    def __init__(self, context: object, instance: ffi.wasmtime_instance_t) -> None:
        self._context = context
        self._instance = instance

    def _get(self, name: bytes, kind: int) -> ffi.wasmtime_extern_t:
        item = ffi.wasmtime_extern_t()
        found = capi.instance_export_get(self._context, ctypes.byref(self._instance), name, len(name),
                                         ctypes.byref(item))
        if not found or cast(int, item.kind) != kind:  # checked at compile time: cannot happen
            raise InvalidModule(f"the instance has no export {name.decode()!r}")
        return item

    def func(self, name: bytes) -> ffi.wasmtime_func_t:
        return self._get(name, _EXTERN_FUNC).of.func

    def memory(self) -> ffi.wasmtime_memory_t:
        return self._get(b"memory", _EXTERN_MEMORY).of.memory


def _memory(context: object, memory: ffi.wasmtime_memory_t) -> tuple[int, int]:
    """(address, size) of a linear memory now (it may move when it grows)."""
    reference = ctypes.byref(memory)
    return capi.memory_data(context, reference) or 0, int(capi.memory_data_size(context, reference))


def _invoke(context: object, func: ffi.wasmtime_func_t, args: ctypes.Array[ffi.wasmtime_val_raw_t],
            count: int) -> None:
    trap = _TrapPointer()
    _check(capi.func_call_unchecked(context, ctypes.byref(func), args, count, ctypes.byref(trap)), trap)


def _raise_error(error: Any) -> None:
    """Store set-up failed (it cannot, with the engine ``new_engine`` configures)."""
    if error:
        raise wasmtime.WasmtimeError._from_ptr(error)


def _check(error: Any, trap: Any) -> None:
    """Raise ``_Stopped`` if a call into the guest returned an error or a trap."""
    if error:
        failure = wasmtime.WasmtimeError._from_ptr(error)
        if isinstance(failure, wasmtime.ExitTrap):
            raise _Stopped(None, failure.code)
        raise _Stopped(None)
    if trap:
        raise _Stopped(wasmtime.Trap._from_ptr(trap).trap_code)


def _host_trap() -> int:
    message = b"stopped by the host"
    trap = ffi.wasmtime_trap_new(message, len(message))
    return ctypes.cast(trap, ctypes.c_void_p).value or 0


def _stop_error(stopped: _Stopped, log: GuestLog, memory_used: int, budget: Budget) -> CallError:
    """Why a guest stopped, as the sandbox's error (the one place traps are mapped)."""
    if log.overflowed:  # the host stopped it
        return LimitExceeded(LimitName.MAX_LOG_BYTES, budget.max_log_bytes)
    if stopped.exit_status is not None:
        return GuestTrapped(TrapKind.EXIT, f"exit status {stopped.exit_status}")
    code = stopped.code
    if code is wasmtime.TrapCode.OUT_OF_FUEL:
        return LimitExceeded(LimitName.FUEL, budget.fuel)
    if code is wasmtime.TrapCode.INTERRUPT:
        return LimitExceeded(LimitName.WALL_MS, budget.wall_ms)
    # memory.grow fails silently (-1); a guest that then traps (abort on a failed malloc, a write
    # through the null it got) with its memory this close to the limit ran out of it
    if memory_used > budget.memory_bytes - budget.memory_bytes // 8:
        return LimitExceeded(LimitName.MEMORY_BYTES, budget.memory_bytes)
    return GuestTrapped(_TRAP_KINDS.get(code, TrapKind.OTHER) if code is not None else TrapKind.OTHER)
