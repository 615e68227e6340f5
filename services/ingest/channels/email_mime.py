"""Raw RFC 5322/MIME e-mail (Content-Type message/rfc822) as MessageReceived."""

from __future__ import annotations

import email
import email.policy
import hashlib
from email.message import EmailMessage, MIMEPart

from pronto.v1 import common_pb2, events_pb2
from services.ingest.channels.email_automatic import automatic
from services.ingest.channels.email_messages import message_ids, received
from services.ingest.channels.email_text import best_text
from services.ingest.errors import MalformedPayload


def parse_raw(tenant: str, raw: bytes) -> list[events_pb2.MessageReceived]:
    if not raw.strip():
        raise MalformedPayload("the body is empty: send the raw message (Content-Type: message/rfc822)")
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    if not parsed.get("From"):
        raise MalformedPayload("the message has no From header: is the body a raw RFC 5322 message?")
    try:
        text, notes = _body_text(parsed)
        attachments = [_attachment(part) for part in parsed.iter_attachments()]
        own_id = (message_ids(parsed.get("Message-ID")) or [""])[0]
        headers = {
            name: str(parsed.get(name) or "") for name in ("From", "Subject", "In-Reply-To", "References")
        }
    except (LookupError, ValueError, UnicodeError, AttributeError) as exc:
        raise MalformedPayload(f"the message cannot be decoded: {exc}") from exc
    # Without a Message-ID, the bytes themselves identify a retried delivery.
    own_id = own_id or f"<sha256.{hashlib.sha256(raw).hexdigest()}@pronto.invalid>"
    message = received(
        tenant,
        sender=headers["From"],
        subject=headers["Subject"],
        text=text,
        message_id=own_id,
        in_reply_to=headers["In-Reply-To"],
        references=headers["References"],
        date=str(parsed.get("Date") or ""),
        attachments=attachments,
        language=str(parsed.get("Content-Language") or "").split(",")[0].strip(),
        automatic=automatic(parsed.items()),
    )
    message.notes.extend(notes)
    return [message]


def _body_text(parsed: EmailMessage) -> tuple[str, list[str]]:
    """The text (the first non-empty of the plain and the HTML body), and what had to be changed
    to read it."""
    notes: list[str] = []
    plain = _part_text(parsed.get_body(preferencelist=("plain",)), notes)
    if plain.strip():
        return plain, notes
    html = _part_text(parsed.get_body(preferencelist=("html",)), notes)
    return best_text(plain, html), notes


def _part_text(body: MIMEPart | None, notes: list[str]) -> str:
    """One body part's text; a note in ``notes`` when its charset had to be guessed.

    A charset Python does not know (``x-no-such-charset``, a mail client's own name) is read as
    UTF-8 with replacement characters: the customer's words mostly survive, refusing loses them all.
    """
    if body is None:
        return ""
    try:
        content = body.get_content()
    except LookupError:
        charset = body.get_content_charset()
        payload = body.get_payload(decode=True)
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""
        notes.append(
            f"the text's charset {charset!r} is unknown: it was read as UTF-8, "
            "undecodable bytes replaced with U+FFFD"
        )
    return content if isinstance(content, str) else ""


def _attachment(part: EmailMessage) -> common_pb2.Attachment:
    payload = part.get_payload(decode=True)
    if part.is_multipart():  # message/rfc822, message/delivery-status: the parts it holds
        # Sized as sent: Python re-serialises them with LF and a blank line after each block, so
        # they are written with CRLF (RFC 5322) and one blank line between blocks (RFC 3464).
        blocks = [
            sub.as_bytes(policy=email.policy.SMTP).rstrip(b"\r\n") + b"\r\n" for sub in part.iter_parts()
        ]
        payload = b"\r\n".join(blocks)
    return common_pb2.Attachment(
        filename=part.get_filename() or "",
        content_type=part.get_content_type(),
        size_bytes=len(payload) if isinstance(payload, bytes) else 0,
    )
