import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PartitionSnapshot(_message.Message):
    __slots__ = ("format", "processor", "schema", "state_version", "partition", "next_offset", "taken_at", "records", "state_crc32", "state", "source_offsets")
    class SourceOffsetsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    PROCESSOR_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    STATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    NEXT_OFFSET_FIELD_NUMBER: _ClassVar[int]
    TAKEN_AT_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    STATE_CRC32_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_OFFSETS_FIELD_NUMBER: _ClassVar[int]
    format: int
    processor: str
    schema: str
    state_version: int
    partition: int
    next_offset: int
    taken_at: _timestamp_pb2.Timestamp
    records: int
    state_crc32: int
    state: bytes
    source_offsets: _containers.ScalarMap[str, int]
    def __init__(self, format: _Optional[int] = ..., processor: _Optional[str] = ..., schema: _Optional[str] = ..., state_version: _Optional[int] = ..., partition: _Optional[int] = ..., next_offset: _Optional[int] = ..., taken_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., records: _Optional[int] = ..., state_crc32: _Optional[int] = ..., state: _Optional[bytes] = ..., source_offsets: _Optional[_Mapping[str, int]] = ...) -> None: ...

class FoldJournal(_message.Message):
    __slots__ = ("runs", "resumed")
    class Run(_message.Message):
        __slots__ = ("topic", "first", "count")
        TOPIC_FIELD_NUMBER: _ClassVar[int]
        FIRST_FIELD_NUMBER: _ClassVar[int]
        COUNT_FIELD_NUMBER: _ClassVar[int]
        topic: str
        first: int
        count: int
        def __init__(self, topic: _Optional[str] = ..., first: _Optional[int] = ..., count: _Optional[int] = ...) -> None: ...
    class ResumedEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    RUNS_FIELD_NUMBER: _ClassVar[int]
    RESUMED_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[FoldJournal.Run]
    resumed: _containers.ScalarMap[str, int]
    def __init__(self, runs: _Optional[_Iterable[_Union[FoldJournal.Run, _Mapping]]] = ..., resumed: _Optional[_Mapping[str, int]] = ...) -> None: ...
