"""The wasmtime C functions a guest call uses, bound so that only those that may take long (running
guest code, unmapping a large memory) release the GIL.

wasmtime-py binds its C API through ``ctypes.CDLL``, whose every call releases the GIL and takes it
back. On a server whose event loop is busy, taking it back means waiting for the loop to hand it
over (a futex round trip and a context switch), and a call of a guest made ~20 such calls around
the few that run guest code. The bookkeeping functions here (store set-up, export lookups, memory
address and size, memmove) take a microsecond or less, so they are bound through ``ctypes.PyDLL``
to the same library and keep the GIL. Instantiation (a module's start function is guest code),
calls into the guest and deleting the store (unmapping its memory) stay with wasmtime-py's
GIL-releasing bindings, so guests still run in parallel with each other and with the event loop,
and a long-running guest never blocks it.
"""

from __future__ import annotations

import ctypes
from typing import Any

from wasmtime import _ffi as ffi

_RELEASING = ffi.dll
_HOLDING = ctypes.PyDLL(_RELEASING._name, handle=_RELEASING._handle)


def _holding(name: str, restype: Any = None) -> Any:
    """``name`` from the wasmtime library with wasmtime-py's signature (or ``restype``), called with
    the GIL held."""
    source = getattr(_RELEASING, name)
    function = getattr(_HOLDING, name)
    function.argtypes = source.argtypes
    function.restype = restype or source.restype
    return function


store_new = _holding("wasmtime_store_new")
store_context = _holding("wasmtime_store_context")
store_limiter = _holding("wasmtime_store_limiter")
context_set_fuel = _holding("wasmtime_context_set_fuel")
context_set_epoch_deadline = _holding("wasmtime_context_set_epoch_deadline")
context_set_wasi = _holding("wasmtime_context_set_wasi")
wasi_config_new = _holding("wasi_config_new")
instance_export_get = _holding("wasmtime_instance_export_get")
#: the address as an int (None for address 0), not a pointer object to cast
memory_data = _holding("wasmtime_memory_data", ctypes.c_void_p)
memory_data_size = _holding("wasmtime_memory_data_size")
#: ``memmove(destination_address, source_bytes, length)`` with the GIL held
memmove = ctypes.PyDLL(None).memmove
memmove.argtypes = (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t)
memmove.restype = ctypes.c_void_p

# these run guest code (a start function; _initialize, alloc, transform): they release the GIL
instance_pre_instantiate = ffi.wasmtime_instance_pre_instantiate
func_call_unchecked = ffi.wasmtime_func_call_unchecked
# and this one unmaps the guest's memory, which takes milliseconds when it used hundreds of MiB
store_delete = ffi.wasmtime_store_delete
# The same two, GIL held, for when they run no guest code and unmap little: instantiating a module
# without a start function (setting up its memory and globals, tens of µs) and deleting a store
# whose memory stayed small. Each GIL round trip saved is a futex hand-off with a busy event loop.
instance_pre_instantiate_holding = _holding("wasmtime_instance_pre_instantiate")
store_delete_holding = _holding("wasmtime_store_delete")
