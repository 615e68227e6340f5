from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Channel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANNEL_UNSPECIFIED: _ClassVar[Channel]
    CHANNEL_EMAIL: _ClassVar[Channel]
    CHANNEL_WEB_CHAT: _ClassVar[Channel]
    CHANNEL_CONTACT_FORM: _ClassVar[Channel]
    CHANNEL_PHONE: _ClassVar[Channel]
    CHANNEL_FACEBOOK: _ClassVar[Channel]
    CHANNEL_INSTAGRAM: _ClassVar[Channel]
    CHANNEL_X: _ClassVar[Channel]
    CHANNEL_WHATSAPP: _ClassVar[Channel]
    CHANNEL_TELEGRAM: _ClassVar[Channel]
    CHANNEL_VIBER: _ClassVar[Channel]

class CustomerTier(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CUSTOMER_TIER_UNSPECIFIED: _ClassVar[CustomerTier]
    CUSTOMER_TIER_STANDARD: _ClassVar[CustomerTier]
    CUSTOMER_TIER_SILVER: _ClassVar[CustomerTier]
    CUSTOMER_TIER_GOLD: _ClassVar[CustomerTier]
    CUSTOMER_TIER_VIP: _ClassVar[CustomerTier]

class SupportTopic(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUPPORT_TOPIC_UNSPECIFIED: _ClassVar[SupportTopic]
    SUPPORT_TOPIC_ORDERS: _ClassVar[SupportTopic]
    SUPPORT_TOPIC_PAYMENTS: _ClassVar[SupportTopic]
    SUPPORT_TOPIC_SHIPPING: _ClassVar[SupportTopic]
    SUPPORT_TOPIC_RETURNS: _ClassVar[SupportTopic]
    SUPPORT_TOPIC_ACCOUNT: _ClassVar[SupportTopic]
    SUPPORT_TOPIC_PRODUCT: _ClassVar[SupportTopic]
    SUPPORT_TOPIC_COMPLAINT: _ClassVar[SupportTopic]
CHANNEL_UNSPECIFIED: Channel
CHANNEL_EMAIL: Channel
CHANNEL_WEB_CHAT: Channel
CHANNEL_CONTACT_FORM: Channel
CHANNEL_PHONE: Channel
CHANNEL_FACEBOOK: Channel
CHANNEL_INSTAGRAM: Channel
CHANNEL_X: Channel
CHANNEL_WHATSAPP: Channel
CHANNEL_TELEGRAM: Channel
CHANNEL_VIBER: Channel
CUSTOMER_TIER_UNSPECIFIED: CustomerTier
CUSTOMER_TIER_STANDARD: CustomerTier
CUSTOMER_TIER_SILVER: CustomerTier
CUSTOMER_TIER_GOLD: CustomerTier
CUSTOMER_TIER_VIP: CustomerTier
SUPPORT_TOPIC_UNSPECIFIED: SupportTopic
SUPPORT_TOPIC_ORDERS: SupportTopic
SUPPORT_TOPIC_PAYMENTS: SupportTopic
SUPPORT_TOPIC_SHIPPING: SupportTopic
SUPPORT_TOPIC_RETURNS: SupportTopic
SUPPORT_TOPIC_ACCOUNT: SupportTopic
SUPPORT_TOPIC_PRODUCT: SupportTopic
SUPPORT_TOPIC_COMPLAINT: SupportTopic

class Sender(_message.Message):
    __slots__ = ("id", "display_name", "email", "phone", "tier")
    ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    id: str
    display_name: str
    email: str
    phone: str
    tier: CustomerTier
    def __init__(self, id: _Optional[str] = ..., display_name: _Optional[str] = ..., email: _Optional[str] = ..., phone: _Optional[str] = ..., tier: _Optional[_Union[CustomerTier, str]] = ...) -> None: ...

class Attachment(_message.Message):
    __slots__ = ("filename", "content_type", "size_bytes", "url")
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    filename: str
    content_type: str
    size_bytes: int
    url: str
    def __init__(self, filename: _Optional[str] = ..., content_type: _Optional[str] = ..., size_bytes: _Optional[int] = ..., url: _Optional[str] = ...) -> None: ...

class Referral(_message.Message):
    __slots__ = ("source", "type", "ref", "ad_id", "post_id", "url", "headline", "body", "media_url", "click_id")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    REF_FIELD_NUMBER: _ClassVar[int]
    AD_ID_FIELD_NUMBER: _ClassVar[int]
    POST_ID_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    HEADLINE_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    MEDIA_URL_FIELD_NUMBER: _ClassVar[int]
    CLICK_ID_FIELD_NUMBER: _ClassVar[int]
    source: str
    type: str
    ref: str
    ad_id: str
    post_id: str
    url: str
    headline: str
    body: str
    media_url: str
    click_id: str
    def __init__(self, source: _Optional[str] = ..., type: _Optional[str] = ..., ref: _Optional[str] = ..., ad_id: _Optional[str] = ..., post_id: _Optional[str] = ..., url: _Optional[str] = ..., headline: _Optional[str] = ..., body: _Optional[str] = ..., media_url: _Optional[str] = ..., click_id: _Optional[str] = ...) -> None: ...
