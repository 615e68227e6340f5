"""Checks the wire format's round trip and headers: every event type, and any ids, tenants and texts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from cloudevents.core.bindings import kafka as ce_kafka
from hypothesis import given, settings
from hypothesis import strategies as st

from pronto.envelope import EVENT_TYPES, decode, encode, type_of
from pronto.errors import EnvelopeError
from pronto.v1 import common_pb2, events_pb2, ingest_pb2
from tests.support.events import message
from tests.unit.envelope_records import (
    HEADERS,
    TIME,
    TRACEPARENT,
    KeepBytes,
    envelope,
    filled,
    sdk_event,
    sdk_read,
)

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
    assert type_of(headers) == type_name.encode()


def test_a_record_without_a_type_has_the_empty_one() -> None:
    assert type_of([("ce_id", b"a")]) == b""


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
