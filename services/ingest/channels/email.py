"""E-mail, as raw RFC 5322/MIME messages or as an inbound-mail provider's webhook.

Parsing is Python's ``email`` package (``policy.default``): multipart,
quoted-printable and base64, any declared charset. The text is the plain
part, or the HTML part reduced to text when there is no plain one;
attachments are kept as metadata (name, type, size).

Threading: a reply continues the conversation of the message it answers.
When it answers one of our e-mails, our Message-ID names the conversation
(``pronto.mail_threading``); otherwise the thread's root (the first entry of
References, else In-Reply-To, else the message's own id) identifies it.

Formats: ``/email`` takes the raw message (Content-Type message/rfc822);
``/email/json`` takes the JSON of Postmark's inbound webhook (threading
headers in ``Headers``); ``/email/mailgun`` takes Mailgun's forwarded form
(threading headers as fields, signed with the webhook signing key). A bearer
token (or the password of basic auth) authenticates the first two.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import email
import email.policy
import hashlib
import re
from collections.abc import Iterable
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from html.parser import HTMLParser

from pronto.mail_threading import conversation_of
from pronto.v1 import common_pb2, events_pb2
from services.ingest.channels.errors import MalformedPayload
from services.ingest.channels.identity import conversation_id
from services.ingest.channels.payload import Obj, load_json, timestamp
from services.ingest.validation import MAX_ATTACHMENTS

_IDS = re.compile(r"<[^<>\s]+>")


def token_of(authorization: str | None) -> str | None:
    """The secret of ``Bearer <token>`` or of ``Basic base64(user:password)`` (the password)."""
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value.strip(), validate=True).decode().partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            return None
    return None


def message_ids(header: str | None) -> list[str]:
    return _IDS.findall(header or "")


def thread_conversation(
    tenant: str, sender: str, own_id: str, in_reply_to: str | None, references: str | None
) -> str:
    """Our own Message-ID names the conversation; otherwise the thread root, per sender: two
    customers answering the same newsletter are two conversations."""
    ancestors = message_ids(references) + message_ids(in_reply_to)
    for candidate in ancestors:
        if (ours := conversation_of(candidate)) is not None:
            return ours
    root = ancestors[0] if ancestors else own_id
    return conversation_id(tenant, "email", f"{sender}\x1f{root}")


class _TextOfHtml(HTMLParser):
    _BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line).strip()


def _message(
    tenant: str,
    *,
    sender: str,
    subject: str,
    text: str,
    message_id: str,
    in_reply_to: str | None,
    references: str | None,
    date: str | None,
    attachments: Iterable[common_pb2.Attachment],
    language: str = "",
) -> events_pb2.MessageReceived:
    name, address = parseaddr(sender)
    if "@" not in address:
        raise MalformedPayload(f"the sender {sender!r} has no e-mail address")
    message = events_pb2.MessageReceived(
        conversation_id=thread_conversation(tenant, address.lower(), message_id, in_reply_to, references),
        channel=common_pb2.CHANNEL_EMAIL,
        channel_message_id=message_id,
        sender=common_pb2.Sender(id=address.lower(), display_name=name, email=address),
        subject=subject,
        text=text.replace("\r\n", "\n").strip(),
        attachments=list(attachments),
        language=language,
        kind=events_pb2.MESSAGE_KIND_TEXT,
    )
    # A broken Date header is common and harmless: the event's own time stands in.
    with contextlib.suppress(TypeError, ValueError, IndexError, OverflowError, MalformedPayload):
        if date:
            message.sent_at.CopyFrom(timestamp(parsedate_to_datetime(date)))
    return message


# ---------------------------------------------------------------- raw MIME


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
    message = _message(
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
    )
    message.notes.extend(notes)
    return [message]


def _body_text(parsed: EmailMessage) -> tuple[str, list[str]]:
    """The text, and what had to be changed to read it.

    A charset Python does not know (``x-no-such-charset``, a mail client's own name) is read as
    UTF-8 with replacement characters: the customer's words mostly survive, refusing loses them all.
    """
    body = parsed.get_body(preferencelist=("plain", "html"))
    if body is None:
        return "", []
    notes = []
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
    if not isinstance(content, str):
        return "", notes
    return (html_to_text(content) if body.get_content_subtype() == "html" else content), notes


def _attachment(part: EmailMessage) -> common_pb2.Attachment:
    payload = part.get_payload(decode=True)
    return common_pb2.Attachment(
        filename=part.get_filename() or "",
        content_type=part.get_content_type(),
        size_bytes=len(payload) if isinstance(payload, bytes) else 0,
    )


# ---------------------------------------------------------------- provider webhooks


def parse_json(tenant: str, raw: bytes) -> list[events_pb2.MessageReceived]:
    """Postmark's inbound webhook JSON."""
    body = Obj(load_json(raw))
    headers = {h.str("Name").lower(): h.str("Value", "") for h in body.list("Headers", required=False)}
    sender = body.maybe("FromFull")
    from_header = (
        f"{sender.str('Name', '')} <{sender.str('Email')}>" if sender is not None else body.str("From")
    )
    own_id = (message_ids(headers.get("message-id")) or [f"<{body.str('MessageID')}@postmark>"])[0]
    text = (
        body.str("StrippedTextReply", "")
        or body.str("TextBody", "")
        or html_to_text(body.str("HtmlBody", ""))
    )
    attachments = [
        common_pb2.Attachment(
            filename=a.str("Name", ""),
            content_type=a.str("ContentType", ""),
            size_bytes=a.int("ContentLength", 0),
        )
        for a in body.list("Attachments", required=False)
    ]
    return [
        _message(
            tenant,
            sender=from_header,
            subject=body.str("Subject", ""),
            text=text,
            message_id=own_id,
            in_reply_to=headers.get("in-reply-to"),
            references=headers.get("references"),
            date=body.str("Date", ""),
            attachments=attachments,
            language=headers.get("content-language", "").split(",")[0].strip(),
        )
    ]


def parse_mailgun(tenant: str, params: list[tuple[str, str]]) -> list[events_pb2.MessageReceived]:
    """Mailgun's forwarded message (a route's forward() action), form-encoded."""
    fields = dict(params)
    sender = fields.get("from") or fields.get("From") or fields.get("sender", "")
    own_id = (message_ids(fields.get("Message-Id")) or [""])[0]
    if not own_id:
        raise MalformedPayload("Message-Id is required")
    text = (
        fields.get("stripped-text") or fields.get("body-plain") or html_to_text(fields.get("body-html", ""))
    )
    count = fields.get("attachment-count", "0")
    if not count.isdigit() or int(count) > MAX_ATTACHMENTS:
        raise MalformedPayload(
            f"attachment-count must be a number up to {MAX_ATTACHMENTS}, got {count[:20]!r}"
        )
    attachments = [common_pb2.Attachment(filename=f"attachment-{i}") for i in range(1, int(count) + 1)]
    recipients = getaddresses([fields.get("recipient", "")])
    if not recipients:
        raise MalformedPayload("recipient is required")
    return [
        _message(
            tenant,
            sender=sender,
            subject=fields.get("subject") or fields.get("Subject", ""),
            text=text,
            message_id=own_id,
            in_reply_to=fields.get("In-Reply-To"),
            references=fields.get("References"),
            date=fields.get("Date"),
            attachments=attachments,
        )
    ]
