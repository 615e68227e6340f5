"""The message type Meta's parsers build, and Meta's attachment types as Pronto's message kinds."""

from __future__ import annotations

from collections.abc import Iterator

from pronto.v1 import events_pb2
from services.ingest.channels.payload import Unreadable

Message = events_pb2.MessageReceived
Read = Iterator[Message | Unreadable]

ATTACHMENT_KINDS = {
    "image": events_pb2.MESSAGE_KIND_IMAGE,
    "video": events_pb2.MESSAGE_KIND_VIDEO,
    "audio": events_pb2.MESSAGE_KIND_AUDIO,
    "file": events_pb2.MESSAGE_KIND_FILE,
    "document": events_pb2.MESSAGE_KIND_FILE,
    "location": events_pb2.MESSAGE_KIND_LOCATION,
    "sticker": events_pb2.MESSAGE_KIND_STICKER,
    "voice": events_pb2.MESSAGE_KIND_AUDIO,
}
