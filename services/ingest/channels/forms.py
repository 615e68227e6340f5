"""HTML form bodies as the inbound-mail providers post them.

Mailgun posts ``application/x-www-form-urlencoded``, or ``multipart/form-data`` (RFC 7578) when the
message has attachments; SendGrid's Inbound Parse always posts ``multipart/form-data``. A multipart
body is read with Python's ``email`` parser (the same MIME framing): each part is a field, or a file
when it has a filename. Values stay bytes until the caller decodes them: SendGrid posts each field in
the message's own charset and says which in its ``charsets`` field.
"""

from __future__ import annotations

import email.policy
import hashlib
import json
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from urllib.parse import parse_qsl

from services.ingest.errors import MalformedPayload

# Fields and files in one post: Mailgun's and SendGrid's own fields, every header again as a field
# (Mailgun), and at most MAX_ATTACHMENTS files leave plenty of room below this.
MAX_PARTS = 500


def decode(data: bytes, charset: str = "") -> tuple[str, str | None]:
    """The text of ``data`` in ``charset`` (UTF-8 when none), and a note when it had to be guessed."""
    charset = charset.strip() or "utf-8"
    try:
        return data.decode(charset, errors="replace"), None
    except LookupError:
        return data.decode("utf-8", errors="replace"), (
            f"the charset {charset[:40]!r} is unknown: the text was read as UTF-8, "
            "undecodable bytes replaced with U+FFFD"
        )


@dataclass(frozen=True)
class Part:
    name: str
    data: bytes
    # A file (an attachment) has a filename, possibly empty; a field has none.
    filename: str | None = None
    content_type: str = "text/plain"
    charset: str = ""

    @property
    def is_file(self) -> bool:
        return self.filename is not None

    def text(self, charset: str = "") -> str:
        return decode(self.data, charset or self.charset)[0]


@dataclass(frozen=True)
class Form:
    parts: tuple[Part, ...]
    multipart: bool = False

    def fields(self) -> list[tuple[str, str]]:
        """The fields (not the files) as text, in order; a name may repeat."""
        return [(p.name, p.text()) for p in self.parts if not p.is_file]

    def field(self, name: str) -> Part | None:
        return next((p for p in self.parts if p.name == name and not p.is_file), None)

    def files(self) -> list[Part]:
        return [p for p in self.parts if p.is_file]

    def digest(self) -> str:
        """What makes two posts the same: every part, names and bytes, in any order."""
        items = sorted((p.name, p.filename or "", hashlib.sha256(p.data).hexdigest()) for p in self.parts)
        return hashlib.sha256(json.dumps(items).encode()).hexdigest()


def parse(content_type: str, body: bytes) -> Form:
    """The form in ``body``: multipart when ``content_type`` says so, URL-encoded otherwise."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "multipart/form-data":
        return Form(tuple(_multipart(content_type, body)), multipart=True)
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedPayload(
            f"the body is not a form (application/x-www-form-urlencoded or multipart/form-data): {exc}"
        ) from exc
    if len(pairs) > MAX_PARTS:
        raise MalformedPayload(f"the form has {len(pairs)} fields, at most {MAX_PARTS} accepted")
    return Form(tuple(Part(name, value.encode(), charset="utf-8") for name, value in pairs))


def _multipart(content_type: str, body: bytes) -> list[Part]:
    head = b"Content-Type: " + content_type.encode("latin-1", errors="replace") + b"\r\n\r\n"
    try:
        message = BytesParser(policy=email.policy.default).parsebytes(head + body)
    except Exception as exc:  # the parser is lenient; anything it still trips over is the body's fault
        raise MalformedPayload(f"the multipart/form-data body cannot be read: {exc!r}") from exc
    if not message.is_multipart() or message.defects:
        found = ", ".join(type(d).__name__ for d in message.defects) or "no parts"
        raise MalformedPayload(
            f"the body is not multipart/form-data with the boundary its Content-Type names ({found})"
        )
    parts: list[Part] = []
    for part in message.iter_parts():
        if len(parts) >= MAX_PARTS:
            raise MalformedPayload(f"the form has more than {MAX_PARTS} parts")
        assert isinstance(part, EmailMessage)
        name = part.get_param("name", header="content-disposition")
        if part.get_content_disposition() != "form-data" or not isinstance(name, str):
            raise MalformedPayload(f"part {len(parts) + 1} has no Content-Disposition: form-data; name=...")
        parts.append(
            Part(
                name=name,
                data=_payload(part),
                filename=part.get_filename(),
                content_type=part.get_content_type(),
                charset=part.get_content_charset() or "",
            )
        )
    return parts


def _payload(part: EmailMessage) -> bytes:
    if part.is_multipart() or part.get_content_maintype() == "message":
        # A file that is itself a message (an attached .eml): its bytes as posted.
        return b"".join(sub.as_bytes() for sub in part.iter_parts())
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""
