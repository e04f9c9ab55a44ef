from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FunctionKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FUNCTION_KIND_UNSPECIFIED: _ClassVar[FunctionKind]
    FUNCTION_KIND_TRANSFORMATION: _ClassVar[FunctionKind]
    FUNCTION_KIND_DESTINATION: _ClassVar[FunctionKind]
    FUNCTION_KIND_SOURCE: _ClassVar[FunctionKind]

class FunctionLanguage(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FUNCTION_LANGUAGE_UNSPECIFIED: _ClassVar[FunctionLanguage]
    FUNCTION_LANGUAGE_PYTHON: _ClassVar[FunctionLanguage]
    FUNCTION_LANGUAGE_WASM: _ClassVar[FunctionLanguage]
FUNCTION_KIND_UNSPECIFIED: FunctionKind
FUNCTION_KIND_TRANSFORMATION: FunctionKind
FUNCTION_KIND_DESTINATION: FunctionKind
FUNCTION_KIND_SOURCE: FunctionKind
FUNCTION_LANGUAGE_UNSPECIFIED: FunctionLanguage
FUNCTION_LANGUAGE_PYTHON: FunctionLanguage
FUNCTION_LANGUAGE_WASM: FunctionLanguage

class Limits(_message.Message):
    __slots__ = ("wall_ms", "cpu_ms", "memory_bytes", "output_bytes", "log_bytes")
    WALL_MS_FIELD_NUMBER: _ClassVar[int]
    CPU_MS_FIELD_NUMBER: _ClassVar[int]
    MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_BYTES_FIELD_NUMBER: _ClassVar[int]
    LOG_BYTES_FIELD_NUMBER: _ClassVar[int]
    wall_ms: int
    cpu_ms: int
    memory_bytes: int
    output_bytes: int
    log_bytes: int
    def __init__(self, wall_ms: _Optional[int] = ..., cpu_ms: _Optional[int] = ..., memory_bytes: _Optional[int] = ..., output_bytes: _Optional[int] = ..., log_bytes: _Optional[int] = ...) -> None: ...

class FunctionVersion(_message.Message):
    __slots__ = ("workspace", "name", "version_id", "kind", "language", "created_at_ms", "size_bytes", "aliases", "limits", "code")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    name: str
    version_id: str
    kind: FunctionKind
    language: FunctionLanguage
    created_at_ms: int
    size_bytes: int
    aliases: _containers.RepeatedScalarFieldContainer[str]
    limits: Limits
    code: bytes
    def __init__(self, workspace: _Optional[str] = ..., name: _Optional[str] = ..., version_id: _Optional[str] = ..., kind: _Optional[_Union[FunctionKind, str]] = ..., language: _Optional[_Union[FunctionLanguage, str]] = ..., created_at_ms: _Optional[int] = ..., size_bytes: _Optional[int] = ..., aliases: _Optional[_Iterable[str]] = ..., limits: _Optional[_Union[Limits, _Mapping]] = ..., code: _Optional[bytes] = ...) -> None: ...

class UploadRequest(_message.Message):
    __slots__ = ("workspace", "name", "kind", "language", "code", "alias", "limits")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    name: str
    kind: FunctionKind
    language: FunctionLanguage
    code: bytes
    alias: str
    limits: Limits
    def __init__(self, workspace: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[_Union[FunctionKind, str]] = ..., language: _Optional[_Union[FunctionLanguage, str]] = ..., code: _Optional[bytes] = ..., alias: _Optional[str] = ..., limits: _Optional[_Union[Limits, _Mapping]] = ...) -> None: ...

class GetRequest(_message.Message):
    __slots__ = ("workspace", "name", "version", "include_code")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_CODE_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    name: str
    version: str
    include_code: bool
    def __init__(self, workspace: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[str] = ..., include_code: _Optional[bool] = ...) -> None: ...

class ListRequest(_message.Message):
    __slots__ = ("workspace",)
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    def __init__(self, workspace: _Optional[str] = ...) -> None: ...

class ListResponse(_message.Message):
    __slots__ = ("functions",)
    FUNCTIONS_FIELD_NUMBER: _ClassVar[int]
    functions: _containers.RepeatedCompositeFieldContainer[FunctionVersion]
    def __init__(self, functions: _Optional[_Iterable[_Union[FunctionVersion, _Mapping]]] = ...) -> None: ...

class ListVersionsRequest(_message.Message):
    __slots__ = ("workspace", "name")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    name: str
    def __init__(self, workspace: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class ListVersionsResponse(_message.Message):
    __slots__ = ("versions",)
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedCompositeFieldContainer[FunctionVersion]
    def __init__(self, versions: _Optional[_Iterable[_Union[FunctionVersion, _Mapping]]] = ...) -> None: ...

class DeleteRequest(_message.Message):
    __slots__ = ("workspace", "name")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    name: str
    def __init__(self, workspace: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class DeleteResponse(_message.Message):
    __slots__ = ("versions_deleted",)
    VERSIONS_DELETED_FIELD_NUMBER: _ClassVar[int]
    versions_deleted: int
    def __init__(self, versions_deleted: _Optional[int] = ...) -> None: ...

class SetAliasRequest(_message.Message):
    __slots__ = ("workspace", "name", "alias", "version")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    name: str
    alias: str
    version: str
    def __init__(self, workspace: _Optional[str] = ..., name: _Optional[str] = ..., alias: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class TestRequest(_message.Message):
    __slots__ = ("workspace", "inline", "ref", "events", "settings")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    INLINE_FIELD_NUMBER: _ClassVar[int]
    REF_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    inline: UploadRequest
    ref: str
    events: _containers.RepeatedScalarFieldContainer[bytes]
    settings: bytes
    def __init__(self, workspace: _Optional[str] = ..., inline: _Optional[_Union[UploadRequest, _Mapping]] = ..., ref: _Optional[str] = ..., events: _Optional[_Iterable[bytes]] = ..., settings: _Optional[bytes] = ...) -> None: ...

class TestResult(_message.Message):
    __slots__ = ("status_code", "outputs", "error", "logs", "elapsed_ms", "memory_bytes")
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    LOGS_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_MS_FIELD_NUMBER: _ClassVar[int]
    MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    status_code: int
    outputs: _containers.RepeatedScalarFieldContainer[bytes]
    error: str
    logs: _containers.RepeatedScalarFieldContainer[str]
    elapsed_ms: float
    memory_bytes: int
    def __init__(self, status_code: _Optional[int] = ..., outputs: _Optional[_Iterable[bytes]] = ..., error: _Optional[str] = ..., logs: _Optional[_Iterable[str]] = ..., elapsed_ms: _Optional[float] = ..., memory_bytes: _Optional[int] = ...) -> None: ...

class TestResponse(_message.Message):
    __slots__ = ("results", "unmatched_outputs", "logs", "elapsed_ms")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    UNMATCHED_OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    LOGS_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_MS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[TestResult]
    unmatched_outputs: _containers.RepeatedScalarFieldContainer[bytes]
    logs: _containers.RepeatedScalarFieldContainer[str]
    elapsed_ms: float
    def __init__(self, results: _Optional[_Iterable[_Union[TestResult, _Mapping]]] = ..., unmatched_outputs: _Optional[_Iterable[bytes]] = ..., logs: _Optional[_Iterable[str]] = ..., elapsed_ms: _Optional[float] = ...) -> None: ...
