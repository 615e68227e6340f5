"""Inbound-mail forms (Mailgun, SendGrid) and the recognition of automatic e-mails (issue #19)."""

from __future__ import annotations

import os

import pytest

from services.ingest.channels import forms
from services.ingest.channels.email_automatic import automatic
from services.ingest.errors import MalformedPayload


def multipart(boundary: str, *parts: bytes) -> bytes:
    return (
        b"".join(b"--" + boundary.encode() + b"\r\n" + p + b"\r\n" for p in parts)
        + f"--{boundary}--\r\n".encode()
    )


def test_a_multipart_form_keeps_fields_and_files_byte_for_byte() -> None:
    data = os.urandom(4096) + b"\r\n--not-the-boundary\r\n\n\r"
    body = multipart(
        "b0und",
        b'Content-Disposition: form-data; name="text"\r\n\r\ncaf\xe9\r\nline 2',
        b'Content-Disposition: form-data; name="attachment1"; filename="r\xc3\xa9cu.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n" + data,
    )
    form = forms.parse("multipart/form-data; boundary=b0und", body)
    assert form.multipart
    [text] = [p for p in form.parts if not p.is_file]
    assert (text.name, text.data, text.text("iso-8859-1")) == ("text", b"caf\xe9\r\nline 2", "café\r\nline 2")
    [file] = form.files()
    assert (file.name, file.filename, file.content_type, file.data) == (
        "attachment1",
        "récu.pdf",
        "application/pdf",
        data,
    )


def test_a_url_encoded_form_is_read_as_before() -> None:
    form = forms.parse("application/x-www-form-urlencoded", b"a=1&b=caf%C3%A9&a=2")
    assert form.fields() == [("a", "1"), ("b", "café"), ("a", "2")]
    assert not form.files()


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"--x\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--x--\r\n"),
        (
            "multipart/form-data; boundary=y",
            b"--x\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--x--\r\n",
        ),
        ("multipart/form-data; boundary=x", b"--x\r\nContent-Type: text/plain\r\n\r\n1\r\n--x--\r\n"),
        ("application/x-www-form-urlencoded", b"\xff\xfe"),
    ],
)
def test_what_is_not_a_form_is_malformed(content_type: str, body: bytes) -> None:
    with pytest.raises(MalformedPayload):
        forms.parse(content_type, body)


def test_the_same_parts_in_another_order_are_the_same_post() -> None:
    a = forms.parse("application/x-www-form-urlencoded", b"a=1&b=2")
    b = forms.parse("application/x-www-form-urlencoded", b"b=2&a=1")
    c = forms.parse("application/x-www-form-urlencoded", b"b=2&a=3")
    assert a.digest() == b.digest() != c.digest()


@pytest.mark.parametrize(
    "headers",
    [
        [("Auto-Submitted", "no")],
        [("Precedence", "first-class")],
        [("X-Auto-Response-Suppress", "DR, RN, NRN")],
        [("Return-Path", "<giulia@example.it>")],
        [("Content-Type", "multipart/mixed; boundary=x")],
        [("X-Autoreply", "no")],
    ],
)
def test_a_persons_message_is_not_automatic(headers: list[tuple[str, str]]) -> None:
    assert automatic(headers, "giulia@example.it") is None


@pytest.mark.parametrize(
    ("headers", "return_path", "reason"),
    [
        (
            [("auto-submitted", "Auto-Replied; owner-email=a@b")],
            None,
            "auto-submitted: Auto-Replied; owner-email=a@b",
        ),
        ([("X-Auto-Response-Suppress", "OOF, AutoReply")], None, "X-Auto-Response-Suppress: OOF, AutoReply"),
        ([("Precedence", "junk")], None, "Precedence: junk"),
        ([("X-Envelope-From", "<>")], None, "X-Envelope-From: <> (a null return path)"),
        ([], "", "a null return path (MAIL FROM:<>)"),
        ([], "<>", "a null return path (MAIL FROM:<>)"),
        (
            [("Content-Type", 'multipart/report; report-type="disposition-notification"; boundary=b')],
            None,
            "Content-Type: multipart/report; report-type=disposition-notification "
            "(a delivery-status or disposition report)",
        ),
    ],
)
def test_automatic_emails_say_what_gave_them_away(
    headers: list[tuple[str, str]], return_path: str | None, reason: str
) -> None:
    assert automatic(headers, return_path) == reason
