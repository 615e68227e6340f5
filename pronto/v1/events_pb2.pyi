import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from pronto.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MessageKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MESSAGE_KIND_UNSPECIFIED: _ClassVar[MessageKind]
    MESSAGE_KIND_TEXT: _ClassVar[MessageKind]
    MESSAGE_KIND_IMAGE: _ClassVar[MessageKind]
    MESSAGE_KIND_STICKER: _ClassVar[MessageKind]
    MESSAGE_KIND_LOCATION: _ClassVar[MessageKind]
    MESSAGE_KIND_FILE: _ClassVar[MessageKind]
    MESSAGE_KIND_AUDIO: _ClassVar[MessageKind]
    MESSAGE_KIND_VIDEO: _ClassVar[MessageKind]
    MESSAGE_KIND_EDITED: _ClassVar[MessageKind]
    MESSAGE_KIND_DELETED: _ClassVar[MessageKind]
    MESSAGE_KIND_MISSED_CALL: _ClassVar[MessageKind]
    MESSAGE_KIND_VOICEMAIL: _ClassVar[MessageKind]
    MESSAGE_KIND_CALLBACK_REQUEST: _ClassVar[MessageKind]
    MESSAGE_KIND_AUTOMATIC: _ClassVar[MessageKind]

class OperatorStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OPERATOR_STATUS_UNSPECIFIED: _ClassVar[OperatorStatus]
    OPERATOR_STATUS_ONLINE: _ClassVar[OperatorStatus]
    OPERATOR_STATUS_AWAY: _ClassVar[OperatorStatus]
    OPERATOR_STATUS_OFFLINE: _ClassVar[OperatorStatus]

class ConversationState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONVERSATION_STATE_UNSPECIFIED: _ClassVar[ConversationState]
    CONVERSATION_STATE_OPEN: _ClassVar[ConversationState]
    CONVERSATION_STATE_PENDING: _ClassVar[ConversationState]
    CONVERSATION_STATE_ON_HOLD: _ClassVar[ConversationState]

class SlaMetric(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SLA_METRIC_UNSPECIFIED: _ClassVar[SlaMetric]
    SLA_METRIC_FIRST_RESPONSE: _ClassVar[SlaMetric]
    SLA_METRIC_NEXT_RESPONSE: _ClassVar[SlaMetric]
    SLA_METRIC_RESOLUTION: _ClassVar[SlaMetric]

class RecipientKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECIPIENT_KIND_UNSPECIFIED: _ClassVar[RecipientKind]
    RECIPIENT_KIND_CUSTOMER: _ClassVar[RecipientKind]
    RECIPIENT_KIND_OPERATOR: _ClassVar[RecipientKind]
    RECIPIENT_KIND_SUPERVISOR: _ClassVar[RecipientKind]

class DeliveryStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DELIVERY_STATUS_UNSPECIFIED: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_SENT: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_DELIVERED: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_READ: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_FAILED: _ClassVar[DeliveryStatus]
MESSAGE_KIND_UNSPECIFIED: MessageKind
MESSAGE_KIND_TEXT: MessageKind
MESSAGE_KIND_IMAGE: MessageKind
MESSAGE_KIND_STICKER: MessageKind
MESSAGE_KIND_LOCATION: MessageKind
MESSAGE_KIND_FILE: MessageKind
MESSAGE_KIND_AUDIO: MessageKind
MESSAGE_KIND_VIDEO: MessageKind
MESSAGE_KIND_EDITED: MessageKind
MESSAGE_KIND_DELETED: MessageKind
MESSAGE_KIND_MISSED_CALL: MessageKind
MESSAGE_KIND_VOICEMAIL: MessageKind
MESSAGE_KIND_CALLBACK_REQUEST: MessageKind
MESSAGE_KIND_AUTOMATIC: MessageKind
OPERATOR_STATUS_UNSPECIFIED: OperatorStatus
OPERATOR_STATUS_ONLINE: OperatorStatus
OPERATOR_STATUS_AWAY: OperatorStatus
OPERATOR_STATUS_OFFLINE: OperatorStatus
CONVERSATION_STATE_UNSPECIFIED: ConversationState
CONVERSATION_STATE_OPEN: ConversationState
CONVERSATION_STATE_PENDING: ConversationState
CONVERSATION_STATE_ON_HOLD: ConversationState
SLA_METRIC_UNSPECIFIED: SlaMetric
SLA_METRIC_FIRST_RESPONSE: SlaMetric
SLA_METRIC_NEXT_RESPONSE: SlaMetric
SLA_METRIC_RESOLUTION: SlaMetric
RECIPIENT_KIND_UNSPECIFIED: RecipientKind
RECIPIENT_KIND_CUSTOMER: RecipientKind
RECIPIENT_KIND_OPERATOR: RecipientKind
RECIPIENT_KIND_SUPERVISOR: RecipientKind
DELIVERY_STATUS_UNSPECIFIED: DeliveryStatus
DELIVERY_STATUS_SENT: DeliveryStatus
DELIVERY_STATUS_DELIVERED: DeliveryStatus
DELIVERY_STATUS_READ: DeliveryStatus
DELIVERY_STATUS_FAILED: DeliveryStatus

class MessageReceived(_message.Message):
    __slots__ = ("conversation_id", "channel", "channel_message_id", "sender", "text", "attachments", "language", "kind", "sent_at", "is_public", "topic_hints", "subject", "notes", "reply_to_message_id", "original_message_id", "referral", "forwarded", "referred_product")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    SENDER_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SENT_AT_FIELD_NUMBER: _ClassVar[int]
    IS_PUBLIC_FIELD_NUMBER: _ClassVar[int]
    TOPIC_HINTS_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    REFERRAL_FIELD_NUMBER: _ClassVar[int]
    FORWARDED_FIELD_NUMBER: _ClassVar[int]
    REFERRED_PRODUCT_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    channel: _common_pb2.Channel
    channel_message_id: str
    sender: _common_pb2.Sender
    text: str
    attachments: _containers.RepeatedCompositeFieldContainer[_common_pb2.Attachment]
    language: str
    kind: MessageKind
    sent_at: _timestamp_pb2.Timestamp
    is_public: bool
    topic_hints: _containers.RepeatedScalarFieldContainer[_common_pb2.SupportTopic]
    subject: str
    notes: _containers.RepeatedScalarFieldContainer[str]
    reply_to_message_id: str
    original_message_id: str
    referral: _common_pb2.Referral
    forwarded: bool
    referred_product: ProductReference
    def __init__(self, conversation_id: _Optional[str] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., channel_message_id: _Optional[str] = ..., sender: _Optional[_Union[_common_pb2.Sender, _Mapping]] = ..., text: _Optional[str] = ..., attachments: _Optional[_Iterable[_Union[_common_pb2.Attachment, _Mapping]]] = ..., language: _Optional[str] = ..., kind: _Optional[_Union[MessageKind, str]] = ..., sent_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., is_public: _Optional[bool] = ..., topic_hints: _Optional[_Iterable[_Union[_common_pb2.SupportTopic, str]]] = ..., subject: _Optional[str] = ..., notes: _Optional[_Iterable[str]] = ..., reply_to_message_id: _Optional[str] = ..., original_message_id: _Optional[str] = ..., referral: _Optional[_Union[_common_pb2.Referral, _Mapping]] = ..., forwarded: _Optional[bool] = ..., referred_product: _Optional[_Union[ProductReference, _Mapping]] = ...) -> None: ...

class ProductReference(_message.Message):
    __slots__ = ("catalog_id", "product_retailer_id")
    CATALOG_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_RETAILER_ID_FIELD_NUMBER: _ClassVar[int]
    catalog_id: str
    product_retailer_id: str
    def __init__(self, catalog_id: _Optional[str] = ..., product_retailer_id: _Optional[str] = ...) -> None: ...

class WebhookPartDeadLettered(_message.Message):
    __slots__ = ("channel", "route", "path", "reason", "body", "content_type", "received_at")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    channel: _common_pb2.Channel
    route: str
    path: str
    reason: str
    body: bytes
    content_type: str
    received_at: _timestamp_pb2.Timestamp
    def __init__(self, channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., route: _Optional[str] = ..., path: _Optional[str] = ..., reason: _Optional[str] = ..., body: _Optional[bytes] = ..., content_type: _Optional[str] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RecordDeadLettered(_message.Message):
    __slots__ = ("processor", "topic", "partition", "event_id", "event_type", "reason", "headers", "value")
    class Header(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: bytes
        def __init__(self, key: _Optional[str] = ..., value: _Optional[bytes] = ...) -> None: ...
    PROCESSOR_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    processor: str
    topic: str
    partition: int
    event_id: str
    event_type: str
    reason: str
    headers: _containers.RepeatedCompositeFieldContainer[RecordDeadLettered.Header]
    value: bytes
    def __init__(self, processor: _Optional[str] = ..., topic: _Optional[str] = ..., partition: _Optional[int] = ..., event_id: _Optional[str] = ..., event_type: _Optional[str] = ..., reason: _Optional[str] = ..., headers: _Optional[_Iterable[_Union[RecordDeadLettered.Header, _Mapping]]] = ..., value: _Optional[bytes] = ...) -> None: ...

class LanguageSkill(_message.Message):
    __slots__ = ("language", "proficiency")
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    PROFICIENCY_FIELD_NUMBER: _ClassVar[int]
    language: str
    proficiency: int
    def __init__(self, language: _Optional[str] = ..., proficiency: _Optional[int] = ...) -> None: ...

class ChannelCapacity(_message.Message):
    __slots__ = ("channel", "max_concurrent")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENT_FIELD_NUMBER: _ClassVar[int]
    channel: _common_pb2.Channel
    max_concurrent: int
    def __init__(self, channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., max_concurrent: _Optional[int] = ...) -> None: ...

class OperatorProfileUpdated(_message.Message):
    __slots__ = ("operator_id", "display_name", "languages", "topics", "capacities", "team")
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    TOPICS_FIELD_NUMBER: _ClassVar[int]
    CAPACITIES_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    operator_id: str
    display_name: str
    languages: _containers.RepeatedCompositeFieldContainer[LanguageSkill]
    topics: _containers.RepeatedScalarFieldContainer[_common_pb2.SupportTopic]
    capacities: _containers.RepeatedCompositeFieldContainer[ChannelCapacity]
    team: str
    def __init__(self, operator_id: _Optional[str] = ..., display_name: _Optional[str] = ..., languages: _Optional[_Iterable[_Union[LanguageSkill, _Mapping]]] = ..., topics: _Optional[_Iterable[_Union[_common_pb2.SupportTopic, str]]] = ..., capacities: _Optional[_Iterable[_Union[ChannelCapacity, _Mapping]]] = ..., team: _Optional[str] = ...) -> None: ...

class OperatorStatusChanged(_message.Message):
    __slots__ = ("operator_id", "status", "reason", "channel")
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    operator_id: str
    status: OperatorStatus
    reason: str
    channel: _common_pb2.Channel
    def __init__(self, operator_id: _Optional[str] = ..., status: _Optional[_Union[OperatorStatus, str]] = ..., reason: _Optional[str] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ...) -> None: ...

class Candidate(_message.Message):
    __slots__ = ("operator_id", "score", "reason")
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    operator_id: str
    score: float
    reason: str
    def __init__(self, operator_id: _Optional[str] = ..., score: _Optional[float] = ..., reason: _Optional[str] = ...) -> None: ...

class ConversationAssigned(_message.Message):
    __slots__ = ("conversation_id", "operator_id", "operator_display_name", "channel", "candidates", "reason", "trigger_event_id", "candidates_considered", "level")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_CONSIDERED_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    operator_id: str
    operator_display_name: str
    channel: _common_pb2.Channel
    candidates: _containers.RepeatedCompositeFieldContainer[Candidate]
    reason: str
    trigger_event_id: str
    candidates_considered: int
    level: str
    def __init__(self, conversation_id: _Optional[str] = ..., operator_id: _Optional[str] = ..., operator_display_name: _Optional[str] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., candidates: _Optional[_Iterable[_Union[Candidate, _Mapping]]] = ..., reason: _Optional[str] = ..., trigger_event_id: _Optional[str] = ..., candidates_considered: _Optional[int] = ..., level: _Optional[str] = ...) -> None: ...

class ConversationQueued(_message.Message):
    __slots__ = ("conversation_id", "channel", "priority", "position", "estimated_wait", "candidates", "reason", "nobody_online", "trigger_event_id", "candidates_considered", "level")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_WAIT_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    NOBODY_ONLINE_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_CONSIDERED_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    channel: _common_pb2.Channel
    priority: int
    position: int
    estimated_wait: _duration_pb2.Duration
    candidates: _containers.RepeatedCompositeFieldContainer[Candidate]
    reason: str
    nobody_online: bool
    trigger_event_id: str
    candidates_considered: int
    level: str
    def __init__(self, conversation_id: _Optional[str] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., priority: _Optional[int] = ..., position: _Optional[int] = ..., estimated_wait: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., candidates: _Optional[_Iterable[_Union[Candidate, _Mapping]]] = ..., reason: _Optional[str] = ..., nobody_online: _Optional[bool] = ..., trigger_event_id: _Optional[str] = ..., candidates_considered: _Optional[int] = ..., level: _Optional[str] = ...) -> None: ...

class QueuePositionChanged(_message.Message):
    __slots__ = ("conversation_id", "channel", "position", "estimated_wait")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_WAIT_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    channel: _common_pb2.Channel
    position: int
    estimated_wait: _duration_pb2.Duration
    def __init__(self, conversation_id: _Optional[str] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., position: _Optional[int] = ..., estimated_wait: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ConversationWidened(_message.Message):
    __slots__ = ("conversation_id", "channel", "level", "reason")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    channel: _common_pb2.Channel
    level: str
    reason: str
    def __init__(self, conversation_id: _Optional[str] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., level: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ConversationReassigned(_message.Message):
    __slots__ = ("conversation_id", "from_operator_id", "to_operator_id", "to_operator_display_name", "reason", "candidates", "channel", "candidates_considered", "transfer")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    TO_OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    TO_OPERATOR_DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_CONSIDERED_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    from_operator_id: str
    to_operator_id: str
    to_operator_display_name: str
    reason: str
    candidates: _containers.RepeatedCompositeFieldContainer[Candidate]
    channel: _common_pb2.Channel
    candidates_considered: int
    transfer: Transfer
    def __init__(self, conversation_id: _Optional[str] = ..., from_operator_id: _Optional[str] = ..., to_operator_id: _Optional[str] = ..., to_operator_display_name: _Optional[str] = ..., reason: _Optional[str] = ..., candidates: _Optional[_Iterable[_Union[Candidate, _Mapping]]] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., candidates_considered: _Optional[int] = ..., transfer: _Optional[_Union[Transfer, _Mapping]] = ...) -> None: ...

class Transfer(_message.Message):
    __slots__ = ("by_operator_id", "by_supervisor", "to_operator_id", "to_team", "reason", "capacity_overridden", "request_event_id")
    BY_OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    BY_SUPERVISOR_FIELD_NUMBER: _ClassVar[int]
    TO_OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    TO_TEAM_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_OVERRIDDEN_FIELD_NUMBER: _ClassVar[int]
    REQUEST_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    by_operator_id: str
    by_supervisor: bool
    to_operator_id: str
    to_team: str
    reason: str
    capacity_overridden: bool
    request_event_id: str
    def __init__(self, by_operator_id: _Optional[str] = ..., by_supervisor: _Optional[bool] = ..., to_operator_id: _Optional[str] = ..., to_team: _Optional[str] = ..., reason: _Optional[str] = ..., capacity_overridden: _Optional[bool] = ..., request_event_id: _Optional[str] = ...) -> None: ...

class ConversationTransferRefused(_message.Message):
    __slots__ = ("conversation_id", "reason", "request_event_id")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    reason: str
    request_event_id: str
    def __init__(self, conversation_id: _Optional[str] = ..., reason: _Optional[str] = ..., request_event_id: _Optional[str] = ...) -> None: ...

class OperatorReplied(_message.Message):
    __slots__ = ("conversation_id", "operator_id", "text", "attachments", "sent_at", "awaiting_customer")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    SENT_AT_FIELD_NUMBER: _ClassVar[int]
    AWAITING_CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    operator_id: str
    text: str
    attachments: _containers.RepeatedCompositeFieldContainer[_common_pb2.Attachment]
    sent_at: _timestamp_pb2.Timestamp
    awaiting_customer: bool
    def __init__(self, conversation_id: _Optional[str] = ..., operator_id: _Optional[str] = ..., text: _Optional[str] = ..., attachments: _Optional[_Iterable[_Union[_common_pb2.Attachment, _Mapping]]] = ..., sent_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., awaiting_customer: _Optional[bool] = ...) -> None: ...

class ConversationResolved(_message.Message):
    __slots__ = ("conversation_id", "operator_id", "resolution")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    operator_id: str
    resolution: str
    def __init__(self, conversation_id: _Optional[str] = ..., operator_id: _Optional[str] = ..., resolution: _Optional[str] = ...) -> None: ...

class ConversationStateChanged(_message.Message):
    __slots__ = ("conversation_id", "operator_id", "state", "reason")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    operator_id: str
    state: ConversationState
    reason: str
    def __init__(self, conversation_id: _Optional[str] = ..., operator_id: _Optional[str] = ..., state: _Optional[_Union[ConversationState, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class ConversationTransferRequested(_message.Message):
    __slots__ = ("conversation_id", "operator_id", "by_supervisor", "to_operator_id", "to_team", "reason", "override_capacity")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    BY_SUPERVISOR_FIELD_NUMBER: _ClassVar[int]
    TO_OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    TO_TEAM_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    OVERRIDE_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    operator_id: str
    by_supervisor: bool
    to_operator_id: str
    to_team: str
    reason: str
    override_capacity: bool
    def __init__(self, conversation_id: _Optional[str] = ..., operator_id: _Optional[str] = ..., by_supervisor: _Optional[bool] = ..., to_operator_id: _Optional[str] = ..., to_team: _Optional[str] = ..., reason: _Optional[str] = ..., override_capacity: _Optional[bool] = ...) -> None: ...

class RoutingTick(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SlaTick(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SlaPolicyChanged(_message.Message):
    __slots__ = ("policy_json",)
    POLICY_JSON_FIELD_NUMBER: _ClassVar[int]
    policy_json: str
    def __init__(self, policy_json: _Optional[str] = ...) -> None: ...

class SlaClockStarted(_message.Message):
    __slots__ = ("conversation_id", "metric", "channel", "target", "warn_at", "deadline", "business_time", "opens_at")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    WARN_AT_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_TIME_FIELD_NUMBER: _ClassVar[int]
    OPENS_AT_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    metric: SlaMetric
    channel: _common_pb2.Channel
    target: _duration_pb2.Duration
    warn_at: _timestamp_pb2.Timestamp
    deadline: _timestamp_pb2.Timestamp
    business_time: bool
    opens_at: _timestamp_pb2.Timestamp
    def __init__(self, conversation_id: _Optional[str] = ..., metric: _Optional[_Union[SlaMetric, str]] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., target: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., warn_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., business_time: _Optional[bool] = ..., opens_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SlaClockRetargeted(_message.Message):
    __slots__ = ("conversation_id", "metric", "channel", "target", "warn_at", "deadline", "business_time", "elapsed", "tier", "switched_off")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    WARN_AT_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_TIME_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    SWITCHED_OFF_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    metric: SlaMetric
    channel: _common_pb2.Channel
    target: _duration_pb2.Duration
    warn_at: _timestamp_pb2.Timestamp
    deadline: _timestamp_pb2.Timestamp
    business_time: bool
    elapsed: _duration_pb2.Duration
    tier: _common_pb2.CustomerTier
    switched_off: bool
    def __init__(self, conversation_id: _Optional[str] = ..., metric: _Optional[_Union[SlaMetric, str]] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., target: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., warn_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., business_time: _Optional[bool] = ..., elapsed: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., tier: _Optional[_Union[_common_pb2.CustomerTier, str]] = ..., switched_off: _Optional[bool] = ...) -> None: ...

class SlaClockPaused(_message.Message):
    __slots__ = ("conversation_id", "metric", "channel", "elapsed", "state", "reason")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    metric: SlaMetric
    channel: _common_pb2.Channel
    elapsed: _duration_pb2.Duration
    state: str
    reason: str
    def __init__(self, conversation_id: _Optional[str] = ..., metric: _Optional[_Union[SlaMetric, str]] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., elapsed: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., state: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class SlaClockResumed(_message.Message):
    __slots__ = ("conversation_id", "metric", "channel", "elapsed", "warn_at", "deadline", "state", "reason")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_FIELD_NUMBER: _ClassVar[int]
    WARN_AT_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    metric: SlaMetric
    channel: _common_pb2.Channel
    elapsed: _duration_pb2.Duration
    warn_at: _timestamp_pb2.Timestamp
    deadline: _timestamp_pb2.Timestamp
    state: str
    reason: str
    def __init__(self, conversation_id: _Optional[str] = ..., metric: _Optional[_Union[SlaMetric, str]] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., elapsed: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., warn_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., state: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class SlaWarning(_message.Message):
    __slots__ = ("conversation_id", "metric", "channel", "deadline", "predicted", "operator_id")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    metric: SlaMetric
    channel: _common_pb2.Channel
    deadline: _timestamp_pb2.Timestamp
    predicted: bool
    operator_id: str
    def __init__(self, conversation_id: _Optional[str] = ..., metric: _Optional[_Union[SlaMetric, str]] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., predicted: _Optional[bool] = ..., operator_id: _Optional[str] = ...) -> None: ...

class SlaBreached(_message.Message):
    __slots__ = ("conversation_id", "metric", "channel", "deadline", "operator_id")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    metric: SlaMetric
    channel: _common_pb2.Channel
    deadline: _timestamp_pb2.Timestamp
    operator_id: str
    def __init__(self, conversation_id: _Optional[str] = ..., metric: _Optional[_Union[SlaMetric, str]] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., operator_id: _Optional[str] = ...) -> None: ...

class SlaMet(_message.Message):
    __slots__ = ("conversation_id", "metric", "channel", "elapsed", "target")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    metric: SlaMetric
    channel: _common_pb2.Channel
    elapsed: _duration_pb2.Duration
    target: _duration_pb2.Duration
    def __init__(self, conversation_id: _Optional[str] = ..., metric: _Optional[_Union[SlaMetric, str]] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., elapsed: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., target: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class SlaMissed(_message.Message):
    __slots__ = ("conversation_id", "metric", "channel", "elapsed", "target")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    metric: SlaMetric
    channel: _common_pb2.Channel
    elapsed: _duration_pb2.Duration
    target: _duration_pb2.Duration
    def __init__(self, conversation_id: _Optional[str] = ..., metric: _Optional[_Union[SlaMetric, str]] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., elapsed: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., target: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class NotificationRequested(_message.Message):
    __slots__ = ("notification_id", "conversation_id", "recipient_kind", "recipient", "kind", "language", "text", "trigger_event_id", "channel", "customer_wrote_at", "thread", "operator_id", "operator_name", "customer_email")
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_KIND_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_WROTE_AT_FIELD_NUMBER: _ClassVar[int]
    THREAD_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_NAME_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_EMAIL_FIELD_NUMBER: _ClassVar[int]
    notification_id: str
    conversation_id: str
    recipient_kind: RecipientKind
    recipient: str
    kind: str
    language: str
    text: str
    trigger_event_id: str
    channel: _common_pb2.Channel
    customer_wrote_at: _timestamp_pb2.Timestamp
    thread: EmailThread
    operator_id: str
    operator_name: str
    customer_email: str
    def __init__(self, notification_id: _Optional[str] = ..., conversation_id: _Optional[str] = ..., recipient_kind: _Optional[_Union[RecipientKind, str]] = ..., recipient: _Optional[str] = ..., kind: _Optional[str] = ..., language: _Optional[str] = ..., text: _Optional[str] = ..., trigger_event_id: _Optional[str] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., customer_wrote_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., thread: _Optional[_Union[EmailThread, _Mapping]] = ..., operator_id: _Optional[str] = ..., operator_name: _Optional[str] = ..., customer_email: _Optional[str] = ...) -> None: ...

class EmailThread(_message.Message):
    __slots__ = ("message_id", "references", "subject")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    REFERENCES_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    references: _containers.RepeatedScalarFieldContainer[str]
    subject: str
    def __init__(self, message_id: _Optional[str] = ..., references: _Optional[_Iterable[str]] = ..., subject: _Optional[str] = ...) -> None: ...

class DeliveryStatusReported(_message.Message):
    __slots__ = ("channel", "recipient", "platform_message_id", "status", "at", "up_to", "error_code", "error_text", "notification_id")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    UP_TO_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_TEXT_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    channel: _common_pb2.Channel
    recipient: str
    platform_message_id: str
    status: DeliveryStatus
    at: _timestamp_pb2.Timestamp
    up_to: _timestamp_pb2.Timestamp
    error_code: str
    error_text: str
    notification_id: str
    def __init__(self, channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., recipient: _Optional[str] = ..., platform_message_id: _Optional[str] = ..., status: _Optional[_Union[DeliveryStatus, str]] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., up_to: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error_code: _Optional[str] = ..., error_text: _Optional[str] = ..., notification_id: _Optional[str] = ...) -> None: ...

class NotificationStatusChanged(_message.Message):
    __slots__ = ("notification_id", "conversation_id", "status", "platform_message_id", "adapter", "error_code", "error_text")
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    ADAPTER_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_TEXT_FIELD_NUMBER: _ClassVar[int]
    notification_id: str
    conversation_id: str
    status: DeliveryStatus
    platform_message_id: str
    adapter: str
    error_code: str
    error_text: str
    def __init__(self, notification_id: _Optional[str] = ..., conversation_id: _Optional[str] = ..., status: _Optional[_Union[DeliveryStatus, str]] = ..., platform_message_id: _Optional[str] = ..., adapter: _Optional[str] = ..., error_code: _Optional[str] = ..., error_text: _Optional[str] = ...) -> None: ...

class NotificationDelivered(_message.Message):
    __slots__ = ("notification_id", "conversation_id", "adapter", "attempts", "digest_id", "platform_message_id", "note", "via_template")
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    ADAPTER_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    DIGEST_ID_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    VIA_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    notification_id: str
    conversation_id: str
    adapter: str
    attempts: int
    digest_id: str
    platform_message_id: str
    note: str
    via_template: bool
    def __init__(self, notification_id: _Optional[str] = ..., conversation_id: _Optional[str] = ..., adapter: _Optional[str] = ..., attempts: _Optional[int] = ..., digest_id: _Optional[str] = ..., platform_message_id: _Optional[str] = ..., note: _Optional[str] = ..., via_template: _Optional[bool] = ...) -> None: ...

class NotificationFailed(_message.Message):
    __slots__ = ("notification_id", "conversation_id", "adapter", "attempts", "error", "final", "error_code")
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    ADAPTER_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    FINAL_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    notification_id: str
    conversation_id: str
    adapter: str
    attempts: int
    error: str
    final: bool
    error_code: str
    def __init__(self, notification_id: _Optional[str] = ..., conversation_id: _Optional[str] = ..., adapter: _Optional[str] = ..., attempts: _Optional[int] = ..., error: _Optional[str] = ..., final: _Optional[bool] = ..., error_code: _Optional[str] = ...) -> None: ...

class DeliveryResumed(_message.Message):
    __slots__ = ("partition", "worker")
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    WORKER_FIELD_NUMBER: _ClassVar[int]
    partition: int
    worker: str
    def __init__(self, partition: _Optional[int] = ..., worker: _Optional[str] = ...) -> None: ...
