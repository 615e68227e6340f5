from pronto.v1 import events_pb2 as _events_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PublishRequest(_message.Message):
    __slots__ = ("tenant", "idempotency_key", "message_received")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    idempotency_key: str
    message_received: _events_pb2.MessageReceived
    def __init__(self, tenant: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., message_received: _Optional[_Union[_events_pb2.MessageReceived, _Mapping]] = ...) -> None: ...

class PublishResponse(_message.Message):
    __slots__ = ("event_id", "duplicate", "partition", "offset")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    duplicate: bool
    partition: int
    offset: int
    def __init__(self, event_id: _Optional[str] = ..., duplicate: _Optional[bool] = ..., partition: _Optional[int] = ..., offset: _Optional[int] = ...) -> None: ...

class PublishStreamRequest(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[StreamedEvent]
    def __init__(self, events: _Optional[_Iterable[_Union[StreamedEvent, _Mapping]]] = ...) -> None: ...

class StreamedEvent(_message.Message):
    __slots__ = ("sequence", "request")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    request: PublishRequest
    def __init__(self, sequence: _Optional[int] = ..., request: _Optional[_Union[PublishRequest, _Mapping]] = ...) -> None: ...

class PublishStreamResponse(_message.Message):
    __slots__ = ("acks",)
    ACKS_FIELD_NUMBER: _ClassVar[int]
    acks: _containers.RepeatedCompositeFieldContainer[EventAck]
    def __init__(self, acks: _Optional[_Iterable[_Union[EventAck, _Mapping]]] = ...) -> None: ...

class EventAck(_message.Message):
    __slots__ = ("sequence", "event_id", "code", "message", "duplicate", "retry_after_ms")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_MS_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    event_id: str
    code: int
    message: str
    duplicate: bool
    retry_after_ms: int
    def __init__(self, sequence: _Optional[int] = ..., event_id: _Optional[str] = ..., code: _Optional[int] = ..., message: _Optional[str] = ..., duplicate: _Optional[bool] = ..., retry_after_ms: _Optional[int] = ...) -> None: ...
