"""Checks records against the CloudEvents SDK: it reads what we write and we read what it writes."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone
from typing import Any

import pytest
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.v1.event import CloudEvent
from hypothesis import given, settings
from hypothesis import strategies as st

from pronto.envelope import CONTENT_TYPE, EVENT_TYPES, REQUIRED_HEADERS, Envelope, decode, encode
from pronto.errors import EnvelopeError
from tests.unit.envelope_records import (
    HEADERS,
    TIME,
    TRACEPARENT,
    KeepBytes,
    envelope,
    sdk_event,
    sdk_read,
)

# ---------------------------------------------------------------- the CloudEvents SDK


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
