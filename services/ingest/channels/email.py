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
from collections.abc import Mapping

from services.ingest.channels import signatures

# Each format's parser, and the parts of a message tests compare with, under the channel's one name.
from services.ingest.channels.email_automatic import automatic_note as automatic_note
from services.ingest.channels.email_messages import thread_conversation as thread_conversation
from services.ingest.channels.email_mime import parse_raw as parse_raw
from services.ingest.channels.email_providers import parse_json as parse_json
from services.ingest.channels.email_providers import parse_mailgun as parse_mailgun
from services.ingest.channels.email_providers import parse_sendgrid as parse_sendgrid


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


def check_signature(headers: Mapping[str, str], _body: bytes, email_token: str) -> None:
    """The inbound-mail services send the tenant's token as basic auth or a bearer token."""
    signatures.check_token(token_of(headers.get("authorization")), email_token, "e-mail webhook token")
