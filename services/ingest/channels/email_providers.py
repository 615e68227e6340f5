"""Inbound-mail providers' webhooks as MessageReceived: Postmark's JSON, Mailgun's and SendGrid's forms."""

from __future__ import annotations

import email.policy
import json
from collections.abc import Iterable
from email.parser import HeaderParser
from email.utils import getaddresses
from typing import Any

from pronto.v1 import common_pb2, events_pb2
from services.ingest.channels import forms
from services.ingest.channels.email_automatic import automatic
from services.ingest.channels.email_messages import message_ids, received
from services.ingest.channels.email_mime import parse_raw
from services.ingest.channels.email_text import best_text
from services.ingest.channels.payload import Obj, load_json
from services.ingest.errors import MalformedPayload
from services.ingest.validation import MAX_ATTACHMENTS


def parse_json(tenant: str, raw: bytes) -> list[events_pb2.MessageReceived]:
    """Postmark's inbound webhook JSON."""
    body = Obj(load_json(raw))
    headers = {h.str("Name").lower(): h.str("Value", "") for h in body.list("Headers", required=False)}
    sender = body.maybe("FromFull")
    from_header = (
        f"{sender.str('Name', '')} <{sender.str('Email')}>" if sender is not None else body.str("From")
    )
    own_id = (message_ids(headers.get("message-id")) or [f"<{body.str('MessageID')}@postmark>"])[0]
    text = best_text(
        body.str("StrippedTextReply", "").strip() or body.str("TextBody", ""), body.str("HtmlBody", "")
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
        received(
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
            automatic=automatic(headers.items()),
        )
    ]


def _lookup(pairs: Iterable[tuple[str, str]], name: str) -> str | None:
    """The first value of header ``name`` (any case) among ``pairs``."""
    wanted = name.lower()
    return next((value for key, value in pairs if key.lower() == wanted), None)


def _mailgun_headers(fields: dict[str, str]) -> list[tuple[str, str]]:
    """``message-headers``: the message's headers, in order, as a JSON list of [name, value]."""
    raw = fields.get("message-headers")
    if not raw:
        return []
    try:
        listed = json.loads(raw)
    except ValueError as exc:
        raise MalformedPayload(f"message-headers is not JSON: {exc}") from exc
    if not isinstance(listed, list) or not all(
        isinstance(h, list) and len(h) == 2 and all(isinstance(v, str) for v in h) for h in listed
    ):
        raise MalformedPayload("message-headers must be a JSON list of [name, value] string pairs")
    return [(name, value) for name, value in listed]


def _stored_attachments(fields: dict[str, str]) -> list[common_pb2.Attachment]:
    """store(notify=...)'s ``attachments``: a JSON list of {url, content-type, name, size}."""
    try:
        listed = json.loads(fields.get("attachments") or "[]")
    except ValueError as exc:
        raise MalformedPayload(f"attachments is not JSON: {exc}") from exc
    if not isinstance(listed, list) or len(listed) > MAX_ATTACHMENTS:
        raise MalformedPayload(f"attachments must be a JSON list of at most {MAX_ATTACHMENTS} objects")
    found = []
    for n, item in enumerate(listed):
        entry = Obj(item, f"attachments[{n}]")
        found.append(
            common_pb2.Attachment(
                filename=entry.str("name", ""),
                content_type=entry.str("content-type", ""),
                size_bytes=entry.int("size", 0),
                url=entry.str("url", ""),
            )
        )
    return found


def _file_attachments(files: list[forms.Part], prefix: str) -> list[common_pb2.Attachment]:
    attached = [f for f in files if f.name.startswith(prefix)]
    if len(attached) > MAX_ATTACHMENTS:
        raise MalformedPayload(f"{len(attached)} attachments, at most {MAX_ATTACHMENTS} accepted")
    return [
        common_pb2.Attachment(
            filename=f.filename or f.name, content_type=f.content_type, size_bytes=len(f.data)
        )
        for f in attached
    ]


def parse_mailgun(tenant: str, form: forms.Form) -> list[events_pb2.MessageReceived]:
    """Mailgun's parsed message: a route's forward() (URL-encoded, or multipart/form-data with the
    files ``attachment-1`` .. ``attachment-N`` when the message has attachments) or the notification
    of its store() action (``attachments`` as JSON with their URLs). The headers are in
    ``message-headers``; forward() also posts each one as a field of its own."""
    fields = dict(form.fields())
    headers = _mailgun_headers(fields)
    found = [*fields.items(), *headers]  # forward()'s own field for a header first, then message-headers
    sender = fields.get("from") or _lookup(found, "From") or fields.get("sender", "")
    own_id = (message_ids(_lookup(found, "Message-Id")) or [""])[0]
    if not own_id:
        raise MalformedPayload("Message-Id is required (a field of its own or in message-headers)")
    text = best_text(
        (fields.get("stripped-text") or "").strip() or fields.get("body-plain", ""),
        fields.get("body-html", ""),
    )
    count = fields.get("attachment-count", "0")
    if not count.isdigit() or int(count) > MAX_ATTACHMENTS:
        raise MalformedPayload(
            f"attachment-count must be a number up to {MAX_ATTACHMENTS}, got {count[:20]!r}"
        )
    attachments = _file_attachments(form.files(), "attachment-") or _stored_attachments(fields)
    if not attachments:  # counted but not posted: what is known of them
        attachments = [common_pb2.Attachment(filename=f"attachment-{i}") for i in range(1, int(count) + 1)]
    recipients = getaddresses([fields.get("recipient", "")])
    if not recipients:
        raise MalformedPayload("recipient is required")
    return [
        received(
            tenant,
            sender=sender,
            subject=fields.get("subject") or _lookup(found, "Subject") or "",
            text=text,
            message_id=own_id,
            in_reply_to=_lookup(found, "In-Reply-To"),
            references=_lookup(found, "References"),
            date=_lookup(found, "Date"),
            attachments=attachments,
            language=(_lookup(found, "Content-Language") or "").split(",")[0].strip(),
            automatic=automatic(headers or fields.items(), fields.get("sender")),
        )
    ]


def _json_field(form: forms.Form, name: str) -> dict[str, Any]:
    """A field holding a JSON object (SendGrid's envelope, charsets, attachment-info); {} when absent
    or unreadable: they refine the message, it does not depend on them."""
    part = form.field(name)
    if part is None:
        return {}
    try:
        value = json.loads(part.text())
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _envelope_sender(envelope: dict[str, Any]) -> str | None:
    """The envelope's sender (MAIL FROM): "" when null (bounces, auto-replies), None when not given."""
    if "from" not in envelope:
        return None
    value = envelope["from"]
    return value if isinstance(value, str) else "" if value is None else None


def parse_sendgrid(tenant: str, form: forms.Form) -> list[events_pb2.MessageReceived]:
    """SendGrid's Inbound Parse: ``headers`` (the raw header block), ``from``, ``subject``, ``text``,
    ``html``, ``envelope`` (JSON: to, from), ``charsets`` (JSON: each field's charset),
    ``attachments`` (a count), ``attachment-info`` (JSON) and the files ``attachment1`` ..
    ``attachmentN``. With "POST the raw, full MIME message" the message is in ``email`` instead."""
    if (raw := form.field("email")) is not None:
        return parse_raw(tenant, raw.data)
    charsets = _json_field(form, "charsets")
    notes: list[str] = []

    def text_of(name: str) -> str:
        part = form.field(name)
        if part is None:
            return ""
        charset = charsets.get(name)
        value, note = forms.decode(part.data, charset if isinstance(charset, str) else "")
        if note and note not in notes:
            notes.append(note)
        return value

    block = text_of("headers")
    if not block.strip():
        raise MalformedPayload("headers is required (the message's raw header block)")
    headers = HeaderParser(policy=email.policy.default).parsestr(block)
    envelope = _json_field(form, "envelope")
    count = text_of("attachments") or "0"
    if not count.isdigit() or int(count) > MAX_ATTACHMENTS:
        raise MalformedPayload(f"attachments must be a number up to {MAX_ATTACHMENTS}, got {count[:20]!r}")
    info = _json_field(form, "attachment-info")
    attachments = _file_attachments(form.files(), "attachment")
    if not attachments:  # described but not posted
        attachments = [
            common_pb2.Attachment(
                filename=str(entry.get("filename") or entry.get("name") or key),
                content_type=str(entry.get("type") or ""),
            )
            for key, entry in list(info.items())[:MAX_ATTACHMENTS]
            if isinstance(entry, dict)
        ]
    own_id = (message_ids(str(headers.get("Message-ID") or "")) or [""])[0]
    # Without a Message-ID, the post itself identifies SendGrid's retries of it.
    own_id = own_id or f"<sha256.{form.digest()}@pronto.invalid>"
    message = received(
        tenant,
        sender=str(headers.get("From") or "") or text_of("from"),
        subject=str(headers.get("Subject") or "") or text_of("subject"),
        text=plain if (plain := text_of("text")).strip() else best_text("", text_of("html")),
        message_id=own_id,
        in_reply_to=str(headers.get("In-Reply-To") or ""),
        references=str(headers.get("References") or ""),
        date=str(headers.get("Date") or ""),
        attachments=attachments,
        language=str(headers.get("Content-Language") or "").split(",")[0].strip(),
        automatic=automatic(headers.items(), _envelope_sender(envelope)),
    )
    message.notes.extend(notes)
    return [message]
