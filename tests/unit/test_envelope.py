"""The wire format: a CloudEvent in Kafka binary mode with a protobuf payload.

Besides our own round trip, records are checked against the CloudEvents SDK
directly, so that any CloudEvents-aware consumer can read what we write and
we can read what it writes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from hypothesis import given, settings
from hypothesis import strategies as st

from pronto.envelope import (
    CONTENT_TYPE,
    EVENT_TYPES,
    REQUIRED_HEADERS,
    Envelope,
    EnvelopeError,
    decode,
    encode,
)
from pronto.v1 import common_pb2, events_pb2, ingest_pb2
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


# ---------------------------------------------------------------- round trip


def test_the_registry_holds_the_events_of_pronto_v1() -> None:
    assert "pronto.v1.MessageReceived" in EVENT_TYPES
    assert "pronto.v1.OperatorReplied" in EVENT_TYPES
    assert "pronto.v1.PublishRequest" not in EVENT_TYPES
    assert all(name.startswith("pronto.v1.") for name in EVENT_TYPES)
    assert all(cls.DESCRIPTOR.full_name == name for name, cls in EVENT_TYPES.items())


@pytest.mark.parametrize("type_name", sorted(EVENT_TYPES))
def test_every_event_type_survives_a_round_trip(type_name: str) -> None:
    original = envelope(filled(EVENT_TYPES[type_name]), traceparent=TRACEPARENT)

    headers, value = encode(original)
    decoded = decode(headers, value)

    assert decoded == original
    assert decoded.type == type_name
    assert type(decoded.payload) is EVENT_TYPES[type_name]


def test_a_message_with_nested_fields_survives_a_round_trip() -> None:
    payload = message(
        "conv-1",
        1,
        sender=common_pb2.Sender(id="cust-1", tier=common_pb2.CUSTOMER_TIER_GOLD),
        attachments=[common_pb2.Attachment(filename="a.jpg", size_bytes=10)],
        topic_hints=[common_pb2.SUPPORT_TOPIC_SHIPPING],
    )
    payload.sent_at.FromDatetime(TIME)

    assert decode(*encode(envelope(payload))).payload == payload


def test_a_time_in_another_zone_comes_back_as_the_same_instant_in_utc() -> None:
    rome = TIME.astimezone(timezone(timedelta(hours=1)))

    decoded = decode(*encode(envelope(time=rome)))

    assert decoded.time == TIME
    assert decoded.time.utcoffset() == timedelta(0)


def test_an_event_without_traceparent_decodes_with_an_empty_one() -> None:
    assert decode(*encode(envelope())).traceparent == ""


def test_only_pronto_events_can_be_encoded() -> None:
    with pytest.raises(
        EnvelopeError, match=r"^pronto\.v1\.PublishRequest is not an event type of pronto\.v1$"
    ):
        encode(envelope(ingest_pb2.PublishRequest()))


# ---------------------------------------------------------------- headers


def test_the_headers_are_the_cloudevents_attributes_and_the_tenant() -> None:
    headers, value = encode(envelope())

    assert sorted(name for name, _ in headers) == sorted(HEADERS)
    assert dict(headers) == {
        "ce_id": b"0b7e5f0c-1d7f-5a4e-9c1b-2d5f0e7a9b31",
        "ce_type": b"pronto.v1.MessageReceived",
        "ce_source": b"pronto/ingest/local",
        "ce_specversion": b"1.0",
        "ce_time": b"2026-03-14T09:30:15.123456Z",
        "content-type": b"application/protobuf",
        "ce_tenant": b"shop-a",
    }
    assert value == message("conv-1", 1).SerializeToString()


def test_a_traceparent_adds_its_header() -> None:
    headers, _ = encode(envelope(traceparent=TRACEPARENT))

    assert sorted(name for name, _ in headers) == sorted([*HEADERS, "ce_traceparent"])
    assert dict(headers)["ce_traceparent"] == TRACEPARENT.encode()


def test_the_time_header_is_utc_with_a_z_whatever_the_zone() -> None:
    rome = TIME.astimezone(timezone(timedelta(hours=1)))

    headers, _ = encode(envelope(time=rome))

    assert dict(headers)["ce_time"] == b"2026-03-14T09:30:15.123456Z"


def test_header_names_are_matched_case_insensitively() -> None:
    headers, value = encode(envelope())

    assert decode([(name.upper(), raw) for name, raw in headers], value) == envelope()


# ---------------------------------------------------------------- decoding errors


@pytest.mark.parametrize("missing", REQUIRED_HEADERS)
def test_a_missing_header_is_named(missing: str) -> None:
    headers, value = encode(envelope())

    with pytest.raises(EnvelopeError, match=f"^not a Pronto event: missing header\\(s\\) {missing}$"):
        decode([(n, v) for n, v in headers if n != missing], value)


def test_every_missing_header_is_named_at_once() -> None:
    with pytest.raises(
        EnvelopeError, match=r"missing header\(s\) ce_id, ce_type, ce_source, .*content-type$"
    ):
        decode([], b"")


def test_an_unknown_type_is_refused() -> None:
    headers, value = encode(envelope())

    with pytest.raises(EnvelopeError, match=r"^unknown event type 'pronto\.v1\.Nope'$"):
        decode(replaced(headers, "ce_type", b"pronto.v1.Nope"), value)


def test_a_request_type_is_not_an_event_type() -> None:
    headers, value = encode(envelope())

    with pytest.raises(EnvelopeError, match=r"^unknown event type 'pronto\.v1\.PublishRequest'$"):
        decode(replaced(headers, "ce_type", b"pronto.v1.PublishRequest"), value)


def test_another_content_type_is_refused() -> None:
    headers, value = encode(envelope())

    with pytest.raises(
        EnvelopeError, match=r"^content-type must be application/protobuf, got 'application/json'$"
    ):
        decode(replaced(headers, "content-type", b"application/json"), value)


def test_a_value_that_is_not_the_protobuf_of_its_type_is_refused() -> None:
    headers, _ = encode(envelope())

    with pytest.raises(EnvelopeError, match=r"^value is not a valid pronto\.v1\.MessageReceived: "):
        decode(headers, b"\xff\xff\xff\xff")


@pytest.mark.parametrize(
    ("name", "garbage"),
    [
        ("ce_time", b"yesterday"),
        ("ce_time", b"2026-13-40T99:00:00Z"),
        ("ce_tenant", b"\xff\xfe"),
        ("ce_id", b"\xc3"),
    ],
)
def test_a_garbage_header_is_refused(name: str, garbage: bytes) -> None:
    headers, value = encode(envelope())

    with pytest.raises(EnvelopeError, match=r"^invalid CloudEvents attributes: "):
        decode(replaced(headers, name, garbage), value)


@pytest.mark.parametrize(
    "change",
    [
        ("ce_id", b""),
        ("ce_source", b""),
        ("ce_specversion", b"0.3"),
        ("ce_time", b"2026-03-14T09:30:15"),  # no time zone
        ("ce_trace_id", b"abc"),  # an extension name the SDK refuses (not lowercase alphanumeric)
    ],
    ids=["empty id", "empty source", "spec 0.3", "naive time", "bad extension name"],
)
def test_attributes_the_sdk_refuses_raise_an_envelope_error(change: tuple[str, bytes]) -> None:
    headers, value = encode(envelope())
    headers = [(n, v) for n, v in headers if n != change[0]] + [change]

    with pytest.raises(EnvelopeError):
        decode(headers, value)


# ---------------------------------------------------------------- the CloudEvents SDK


def sdk_read(headers: list[tuple[str, bytes]], value: bytes) -> CloudEvent:
    event = ce_kafka.from_binary(ce_kafka.KafkaMessage(dict(headers), None, value), KeepBytes(), CloudEvent)
    assert isinstance(event, CloudEvent)
    return event


def test_the_sdk_reads_our_records_with_the_same_attributes() -> None:
    original = envelope(traceparent=TRACEPARENT)

    event = sdk_read(*encode(original))

    assert event.get_attributes() == {
        "id": original.id,
        "type": "pronto.v1.MessageReceived",
        "source": original.source,
        "specversion": "1.0",
        "time": TIME,
        "datacontenttype": "application/protobuf",
        "tenant": "shop-a",
        "traceparent": TRACEPARENT,
    }
    assert event.get_data() == original.payload.SerializeToString()


def test_our_headers_are_exactly_those_the_sdk_writes() -> None:
    original = envelope(traceparent=TRACEPARENT)

    headers, value = encode(original)
    written = ce_kafka.to_binary(sdk_event(original), KeepBytes())

    assert len(headers) == len(written.headers)
    assert dict(headers) == written.headers
    assert value == written.value


def test_we_read_records_the_sdk_writes() -> None:
    original = envelope(traceparent=TRACEPARENT)

    written = ce_kafka.to_binary(sdk_event(original), KeepBytes())

    assert decode(list(written.headers.items()), written.value) == original


def test_we_read_sdk_records_with_a_time_in_another_zone() -> None:
    original = envelope(time=TIME.astimezone(timezone(timedelta(hours=-5))))

    written = ce_kafka.to_binary(sdk_event(original), KeepBytes())
    decoded = decode(list(written.headers.items()), written.value)

    assert decoded.time == TIME
    assert decoded.time.tzinfo == UTC


@pytest.mark.parametrize("empty", ["id", "source", "tenant"])
def test_an_event_without_id_source_or_tenant_is_not_encoded(empty: str) -> None:
    fields: dict[str, Any] = {empty: ""}
    incomplete = envelope(None, **fields)
    with pytest.raises(EnvelopeError, match="id, source and tenant are required"):
        encode(incomplete)


# ---------------------------------------------------------------- any content

ids = st.text(min_size=1)
moments = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 1, 1), timezones=st.just(UTC))


@settings(database=None)
@given(event_id=ids, source=ids, tenant=ids, text=st.text(), time=moments)
def test_any_ids_tenants_and_texts_survive_a_round_trip(
    event_id: str, source: str, tenant: str, text: str, time: datetime
) -> None:
    original = envelope(message("conv-1", 1, text=text), id=event_id, source=source, tenant=tenant, time=time)

    assert decode(*encode(original)) == original


@settings(database=None)
@given(event_id=ids, tenant=ids, traceparent=st.text(), time=moments)
def test_our_headers_match_the_sdks_for_any_attributes(
    event_id: str, tenant: str, traceparent: str, time: datetime
) -> None:
    original = envelope(id=event_id, tenant=tenant, traceparent=traceparent, time=time)

    headers, value = encode(original)
    written = ce_kafka.to_binary(sdk_event(original), KeepBytes())

    assert dict(headers) == written.headers
    assert len(headers) == len(written.headers)
    assert decode(list(written.headers.items()), written.value) == original
    assert sdk_read(headers, value).get_attributes() == sdk_event(original).get_attributes()


def test_the_registry_covers_every_message_of_events_proto() -> None:
    assert set(EVENT_TYPES) == {f"pronto.v1.{name}" for name in events_pb2.DESCRIPTOR.message_types_by_name}


# ---------------------------------------------------------------- the fast decode agrees with the SDK

header_names = st.sampled_from(
    [*HEADERS, "ce_traceparent", "ce_subject", "ce_dataschema", "ce_trace_id", "ce_x1"]
)
header_values = st.one_of(
    st.binary(max_size=12),
    st.text(max_size=12).map(str.encode),
    st.sampled_from(
        [b"", b"1.0", b"0.3", b"2026-03-14T09:30:15", b"2026-03-14t09:30:15.5z", b"2026-03-14T09:30:15+01:00"]
    ),
)


def sdk_decode(headers: list[tuple[str, bytes]], value: bytes) -> dict[str, Any] | None:
    """The attributes the CloudEvents SDK reads from the record, or None when it refuses it."""
    try:
        event = ce_kafka.from_binary(
            ce_kafka.KafkaMessage({n.lower(): v for n, v in headers}, None, value), KeepBytes(), CloudEvent
        )
    except Exception:
        return None
    return event.get_attributes()


@settings(database=None, max_examples=500)
@given(changes=st.lists(st.tuples(header_names, header_values), max_size=3))
def test_decode_refuses_exactly_the_attributes_the_sdk_refuses(changes: list[tuple[str, bytes]]) -> None:
    headers, value = encode(envelope(traceparent=TRACEPARENT))
    for name, raw in changes:
        headers = [(n, v) for n, v in headers if n != name] + [(name, raw)]
    reference = sdk_decode(headers, value)

    try:
        ours: Envelope | None = decode(headers, value)
    except EnvelopeError:
        ours = None
    if ours is None:
        # Besides what the SDK refuses, ours refuses what is not a Pronto event at all.
        pronto_event = (
            reference is not None
            and reference.get("type") in EVENT_TYPES
            and reference.get("datacontenttype") == CONTENT_TYPE
            and {n.lower() for n, _ in headers} >= set(REQUIRED_HEADERS)
        )
        assert not pronto_event
        return
    assert reference is not None
    assert (ours.id, ours.source, ours.tenant, ours.type) == (
        reference["id"],
        reference["source"],
        reference["tenant"],
        reference["type"],
    )
    assert ours.time == reference["time"].astimezone(UTC)
    assert ours.traceparent == reference.get("traceparent", "")
