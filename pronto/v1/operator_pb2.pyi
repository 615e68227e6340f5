from pronto.v1 import common_pb2 as _common_pb2
from pronto.v1 import events_pb2 as _events_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SetOperatorStatusRequest(_message.Message):
    __slots__ = ("tenant", "operator_id", "status", "reason", "idempotency_key", "channel")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    operator_id: str
    status: _events_pb2.OperatorStatus
    reason: str
    idempotency_key: str
    channel: _common_pb2.Channel
    def __init__(self, tenant: _Optional[str] = ..., operator_id: _Optional[str] = ..., status: _Optional[_Union[_events_pb2.OperatorStatus, str]] = ..., reason: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ...) -> None: ...

class SetOperatorStatusResponse(_message.Message):
    __slots__ = ("event_id", "duplicate")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    duplicate: bool
    def __init__(self, event_id: _Optional[str] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class PostReplyRequest(_message.Message):
    __slots__ = ("tenant", "conversation_id", "operator_id", "text", "attachments", "awaiting_customer", "idempotency_key")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    AWAITING_CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    conversation_id: str
    operator_id: str
    text: str
    attachments: _containers.RepeatedCompositeFieldContainer[_common_pb2.Attachment]
    awaiting_customer: bool
    idempotency_key: str
    def __init__(self, tenant: _Optional[str] = ..., conversation_id: _Optional[str] = ..., operator_id: _Optional[str] = ..., text: _Optional[str] = ..., attachments: _Optional[_Iterable[_Union[_common_pb2.Attachment, _Mapping]]] = ..., awaiting_customer: _Optional[bool] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class PostReplyResponse(_message.Message):
    __slots__ = ("event_id", "duplicate")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    duplicate: bool
    def __init__(self, event_id: _Optional[str] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class UpdateOperatorProfileRequest(_message.Message):
    __slots__ = ("tenant", "profile", "idempotency_key")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    profile: _events_pb2.OperatorProfileUpdated
    idempotency_key: str
    def __init__(self, tenant: _Optional[str] = ..., profile: _Optional[_Union[_events_pb2.OperatorProfileUpdated, _Mapping]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class UpdateOperatorProfileResponse(_message.Message):
    __slots__ = ("event_id", "duplicate")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    duplicate: bool
    def __init__(self, event_id: _Optional[str] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class ResolveConversationRequest(_message.Message):
    __slots__ = ("tenant", "conversation_id", "operator_id", "resolution", "idempotency_key")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    conversation_id: str
    operator_id: str
    resolution: str
    idempotency_key: str
    def __init__(self, tenant: _Optional[str] = ..., conversation_id: _Optional[str] = ..., operator_id: _Optional[str] = ..., resolution: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class ResolveConversationResponse(_message.Message):
    __slots__ = ("event_id", "duplicate")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    duplicate: bool
    def __init__(self, event_id: _Optional[str] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class SetConversationStateRequest(_message.Message):
    __slots__ = ("tenant", "conversation_id", "operator_id", "state", "reason", "idempotency_key")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    conversation_id: str
    operator_id: str
    state: _events_pb2.ConversationState
    reason: str
    idempotency_key: str
    def __init__(self, tenant: _Optional[str] = ..., conversation_id: _Optional[str] = ..., operator_id: _Optional[str] = ..., state: _Optional[_Union[_events_pb2.ConversationState, str]] = ..., reason: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class SetConversationStateResponse(_message.Message):
    __slots__ = ("event_id", "duplicate")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    duplicate: bool
    def __init__(self, event_id: _Optional[str] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class TransferConversationRequest(_message.Message):
    __slots__ = ("tenant", "conversation_id", "operator_id", "by_supervisor", "to_operator_id", "to_team", "reason", "override_capacity", "idempotency_key")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    BY_SUPERVISOR_FIELD_NUMBER: _ClassVar[int]
    TO_OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    TO_TEAM_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    OVERRIDE_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    conversation_id: str
    operator_id: str
    by_supervisor: bool
    to_operator_id: str
    to_team: str
    reason: str
    override_capacity: bool
    idempotency_key: str
    def __init__(self, tenant: _Optional[str] = ..., conversation_id: _Optional[str] = ..., operator_id: _Optional[str] = ..., by_supervisor: _Optional[bool] = ..., to_operator_id: _Optional[str] = ..., to_team: _Optional[str] = ..., reason: _Optional[str] = ..., override_capacity: _Optional[bool] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class TransferConversationResponse(_message.Message):
    __slots__ = ("event_id", "duplicate", "operator_id", "queued")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    duplicate: bool
    operator_id: str
    queued: bool
    def __init__(self, event_id: _Optional[str] = ..., duplicate: _Optional[bool] = ..., operator_id: _Optional[str] = ..., queued: _Optional[bool] = ...) -> None: ...
