"""E-mail, as raw RFC 5322/MIME messages or as an inbound-mail provider's webhook.

Parsing is Python's ``email`` package (``policy.default``): multipart,
quoted-printable and base64, any declared charset. The text is the plain
part, or the HTML part reduced to text when there is no plain one or it is
empty;
attachments are kept as metadata (name, type, size).

Threading: a reply continues the conversation of the message it answers.
When it answers one of our e-mails, our Message-ID names the conversation
(``pronto.mail_threading``); otherwise the thread's root (the first entry of
References, else In-Reply-To, else the message's own id) identifies it.

Formats: ``/email`` takes the raw message (Content-Type message/rfc822);
``/email/json`` takes the JSON of Postmark's inbound webhook (threading
headers in ``Headers``); ``/email/mailgun`` takes Mailgun's form (a route's
forward() or store(notify=...), URL-encoded, or multipart with the attachments;
headers in ``message-headers``, signed with the webhook signing key);
``/email/sendgrid`` takes SendGrid's Inbound Parse form (multipart, headers in
``headers``, fields in the charsets ``charsets`` names; or the raw message in
``email``). A bearer token (or the password of basic auth) authenticates all
but Mailgun: SendGrid signs nothing by default, so its Parse URL carries the
tenant's e-mail token as basic-auth credentials (or its OAuth policy sends it
as a bearer token), as for Postmark.

Automatic e-mails (out-of-office and other auto-replies, delivery-status
reports, mailing-list and bulk mail, a null return path) are recognised by
their headers (RFC 3834 and the de-facto ones, ``automatic``) and recorded as
``MESSAGE_KIND_AUTOMATIC``: they open no conversation and are acknowledged to
nobody, so an auto-reply to Pronto's acknowledgement does not start a mail loop.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import email
import email.policy
import hashlib
import json
import re
from collections.abc import Iterable
from email.message import EmailMessage, MIMEPart
from email.parser import HeaderParser
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any

from pronto.mail_threading import conversation_of
from pronto.v1 import common_pb2, events_pb2
from services.ingest.channels import forms
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
    automatic: str | None = None,
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
        kind=events_pb2.MESSAGE_KIND_AUTOMATIC if automatic else events_pb2.MESSAGE_KIND_TEXT,
    )
    if automatic:
        message.notes.append(automatic_note(automatic))
    # A broken Date header is common and harmless: the event's own time stands in.
    with contextlib.suppress(TypeError, ValueError, IndexError, OverflowError, MalformedPayload):
        if date:
            message.sent_at.CopyFrom(timestamp(parsedate_to_datetime(date)))
    return message


# ---------------------------------------------------------------- automatic e-mails

# Precedence values of mail nobody should answer (RFC 3834 section 2 names bulk, list and junk;
# auto_reply is the one some auto-responders write on their own replies).
_PRECEDENCE = frozenset({"bulk", "list", "junk", "auto_reply", "auto-reply"})
# Exchange's X-Auto-Response-Suppress tokens that ask for no automatic answer.
_SUPPRESS = frozenset({"all", "oof", "autoreply"})


def automatic(headers: Iterable[tuple[str, Any]], return_path: str | None = None) -> str | None:
    """What shows that a machine wrote the message, or None for a person's message.

    The headers: ``Auto-Submitted`` other than ``no`` (RFC 3834), ``X-Autoreply`` and
    ``X-Autorespond`` (auto-responders that predate it), ``Precedence: bulk | list | junk |
    auto_reply``, ``X-Auto-Response-Suppress: All | OOF | AutoReply`` (Exchange), a null
    ``Return-Path: <>`` or ``X-Envelope-From: <>``, and a ``multipart/report`` (delivery-status
    reports, read receipts; RFC 6522). ``return_path`` is the envelope sender when the provider
    reports it apart from the headers: empty or ``<>`` is the null return path of bounces and
    auto-replies (RFC 5321 section 4.5.5).
    """
    for name, raw in headers:
        key, value = str(name).strip().lower(), " ".join(str(raw).split())
        low = value.lower()
        shown = f"{str(name).strip()}: {value[:80]}"
        if key == "auto-submitted" and low.split(";")[0].strip() not in ("", "no"):
            return shown
        if key in ("x-autoreply", "x-autorespond") and low not in ("no", "false", "0"):
            return shown
        if key == "precedence" and low in _PRECEDENCE:
            return shown
        if key == "x-auto-response-suppress" and _SUPPRESS & {t.strip() for t in low.split(",")}:
            return shown
        if key in ("return-path", "x-envelope-from") and value.replace(" ", "") == "<>":
            return f"{shown} (a null return path)"
        if key == "content-type" and low.startswith("multipart/report"):
            report = re.search(r'report-type="?([\w.-]+)', low)
            kind = f"; report-type={report.group(1)}" if report else ""
            return f"Content-Type: multipart/report{kind} (a delivery-status or disposition report)"
    if return_path is not None and return_path.strip() in ("", "<>"):
        return "a null return path (MAIL FROM:<>)"
    return None


def automatic_note(reason: str) -> str:
    return f"an automatic e-mail ({reason}): recorded only; it opens no conversation and is not acknowledged"


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
        automatic=automatic(parsed.items()),
    )
    message.notes.extend(notes)
    return [message]


def best_text(plain: str, html: str) -> str:
    """The plain text when it says something, else the HTML reduced to text.

    Mail clients and shop platforms often send an empty (or whitespace-only) text/plain
    alternative beside the real HTML body (issue #19): preferring plain by MIME type alone then
    loses every word the customer wrote.
    """
    return plain if plain.strip() else html_to_text(html)


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
        _message(
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
    message = _message(
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
