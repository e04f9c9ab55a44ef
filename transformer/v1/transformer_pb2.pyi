from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Job(_message.Message):
    __slots__ = ("message", "metadata", "destination")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    message: bytes
    metadata: bytes
    destination: bytes
    def __init__(self, message: _Optional[bytes] = ..., metadata: _Optional[bytes] = ..., destination: _Optional[bytes] = ...) -> None: ...

class JobResult(_message.Message):
    __slots__ = ("status_code", "output", "metadata", "error", "stat_tags")
    class StatTagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    STAT_TAGS_FIELD_NUMBER: _ClassVar[int]
    status_code: int
    output: bytes
    metadata: bytes
    error: str
    stat_tags: _containers.ScalarMap[str, str]
    def __init__(self, status_code: _Optional[int] = ..., output: _Optional[bytes] = ..., metadata: _Optional[bytes] = ..., error: _Optional[str] = ..., stat_tags: _Optional[_Mapping[str, str]] = ...) -> None: ...

class TransformRequest(_message.Message):
    __slots__ = ("destination_type", "jobs", "destination", "request_id")
    DESTINATION_TYPE_FIELD_NUMBER: _ClassVar[int]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    destination_type: str
    jobs: _containers.RepeatedCompositeFieldContainer[Job]
    destination: bytes
    request_id: str
    def __init__(self, destination_type: _Optional[str] = ..., jobs: _Optional[_Iterable[_Union[Job, _Mapping]]] = ..., destination: _Optional[bytes] = ..., request_id: _Optional[str] = ...) -> None: ...

class TransformResponse(_message.Message):
    __slots__ = ("results", "request_id")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[JobResult]
    request_id: str
    def __init__(self, results: _Optional[_Iterable[_Union[JobResult, _Mapping]]] = ..., request_id: _Optional[str] = ...) -> None: ...

class RouterResult(_message.Message):
    __slots__ = ("batched_request", "metadata", "batched", "status_code", "destination", "error", "stat_tags")
    class StatTagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    BATCHED_REQUEST_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    BATCHED_FIELD_NUMBER: _ClassVar[int]
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    STAT_TAGS_FIELD_NUMBER: _ClassVar[int]
    batched_request: bytes
    metadata: _containers.RepeatedScalarFieldContainer[bytes]
    batched: bool
    status_code: int
    destination: bytes
    error: str
    stat_tags: _containers.ScalarMap[str, str]
    def __init__(self, batched_request: _Optional[bytes] = ..., metadata: _Optional[_Iterable[bytes]] = ..., batched: _Optional[bool] = ..., status_code: _Optional[int] = ..., destination: _Optional[bytes] = ..., error: _Optional[str] = ..., stat_tags: _Optional[_Mapping[str, str]] = ...) -> None: ...

class RouterTransformResponse(_message.Message):
    __slots__ = ("results", "request_id")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[RouterResult]
    request_id: str
    def __init__(self, results: _Optional[_Iterable[_Union[RouterResult, _Mapping]]] = ..., request_id: _Optional[str] = ...) -> None: ...

class StreamRequest(_message.Message):
    __slots__ = ("id", "transform", "router_transform")
    ID_FIELD_NUMBER: _ClassVar[int]
    TRANSFORM_FIELD_NUMBER: _ClassVar[int]
    ROUTER_TRANSFORM_FIELD_NUMBER: _ClassVar[int]
    id: str
    transform: TransformRequest
    router_transform: TransformRequest
    def __init__(self, id: _Optional[str] = ..., transform: _Optional[_Union[TransformRequest, _Mapping]] = ..., router_transform: _Optional[_Union[TransformRequest, _Mapping]] = ...) -> None: ...

class StreamResponse(_message.Message):
    __slots__ = ("id", "transform", "router_transform")
    ID_FIELD_NUMBER: _ClassVar[int]
    TRANSFORM_FIELD_NUMBER: _ClassVar[int]
    ROUTER_TRANSFORM_FIELD_NUMBER: _ClassVar[int]
    id: str
    transform: TransformResponse
    router_transform: RouterTransformResponse
    def __init__(self, id: _Optional[str] = ..., transform: _Optional[_Union[TransformResponse, _Mapping]] = ..., router_transform: _Optional[_Union[RouterTransformResponse, _Mapping]] = ...) -> None: ...

class SourceTransformRequest(_message.Message):
    __slots__ = ("source_type", "function", "workspace", "requests", "settings", "request_id")
    SOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    source_type: str
    function: str
    workspace: str
    requests: _containers.RepeatedScalarFieldContainer[bytes]
    settings: bytes
    request_id: str
    def __init__(self, source_type: _Optional[str] = ..., function: _Optional[str] = ..., workspace: _Optional[str] = ..., requests: _Optional[_Iterable[bytes]] = ..., settings: _Optional[bytes] = ..., request_id: _Optional[str] = ...) -> None: ...

class SourceResult(_message.Message):
    __slots__ = ("status_code", "events", "error", "stat_tags")
    class StatTagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    STAT_TAGS_FIELD_NUMBER: _ClassVar[int]
    status_code: int
    events: _containers.RepeatedScalarFieldContainer[bytes]
    error: str
    stat_tags: _containers.ScalarMap[str, str]
    def __init__(self, status_code: _Optional[int] = ..., events: _Optional[_Iterable[bytes]] = ..., error: _Optional[str] = ..., stat_tags: _Optional[_Mapping[str, str]] = ...) -> None: ...

class SourceTransformResponse(_message.Message):
    __slots__ = ("results", "request_id")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[SourceResult]
    request_id: str
    def __init__(self, results: _Optional[_Iterable[_Union[SourceResult, _Mapping]]] = ..., request_id: _Optional[str] = ...) -> None: ...
