"""Builds envelopes and reads records with the CloudEvents SDK for the wire-format tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from pronto.envelope import (
    CONTENT_TYPE,
    Envelope,
)
from tests.support.events import message

TIME = datetime(2026, 3, 14, 9, 30, 15, 123456, tzinfo=UTC)
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
HEADERS = ["ce_id", "ce_type", "ce_source", "ce_specversion", "ce_time", "content-type", "ce_tenant"]


class KeepBytes(JSONFormat):
    """The SDK's JSON format, but the data stays the raw bytes (the payload is protobuf, not JSON)."""

    def read_data(self, body: bytes, datacontenttype: str | None) -> bytes:
        return body

    def write_data(self, data: Any, datacontenttype: str | None) -> bytes:
        return bytes(data)


def envelope(payload: Message | None = None, **fields: Any) -> Envelope:
    values: dict[str, Any] = {
        "id": "0b7e5f0c-1d7f-5a4e-9c1b-2d5f0e7a9b31",
        "source": "pronto/ingest/local",
        "tenant": "shop-a",
        "payload": message("conv-1", 1) if payload is None else payload,
        "time": TIME,
    }
    return Envelope(**(values | fields))


def filled(cls: type[Message]) -> Message:
    """An instance of ``cls`` with every singular string, number and bool field set."""
    payload = cls()
    for field in cls.DESCRIPTOR.fields:
        if field.is_repeated:
            continue
        if field.type == FieldDescriptor.TYPE_STRING:
            setattr(payload, field.name, f"{field.name} ✓")
        elif field.type in (
            FieldDescriptor.TYPE_INT32,
            FieldDescriptor.TYPE_INT64,
            FieldDescriptor.TYPE_ENUM,
        ):
            setattr(payload, field.name, 2)
        elif field.type == FieldDescriptor.TYPE_DOUBLE:
            setattr(payload, field.name, 0.5)
        elif field.type == FieldDescriptor.TYPE_BOOL:
            setattr(payload, field.name, True)
    return payload


def sdk_event(record: Envelope) -> CloudEvent:
    attributes: dict[str, Any] = {
        "id": record.id,
        "type": record.type,
        "source": record.source,
        "specversion": "1.0",
        "time": record.time,
        "datacontenttype": CONTENT_TYPE,
        "tenant": record.tenant,
    }
    if record.traceparent:
        attributes["traceparent"] = record.traceparent
    return CloudEvent(attributes, record.payload.SerializeToString())


def replaced(headers: list[tuple[str, bytes]], name: str, value: bytes) -> list[tuple[str, bytes]]:
    return [(n, value if n == name else v) for n, v in headers]


def sdk_read(headers: list[tuple[str, bytes]], value: bytes) -> CloudEvent:
    event = ce_kafka.from_binary(ce_kafka.KafkaMessage(dict(headers), None, value), KeepBytes(), CloudEvent)
    assert isinstance(event, CloudEvent)
    return event
