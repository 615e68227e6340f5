"""Checks that decoding refuses records with missing, unknown or garbage headers or payloads."""

from __future__ import annotations

import pytest

from pronto.envelope import REQUIRED_HEADERS, decode, encode
from pronto.errors import EnvelopeError
from tests.unit.envelope_records import (
    envelope,
    replaced,
)

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
