"""Answers by e-mail in the customer's own thread: threading headers, subject, sender and body.

``In-Reply-To`` and ``References`` name their messages, the subject is theirs with "Re:", the sender is the
shop's address, and the body is multipart/alternative (plain text and the same in HTML).

Everything but an operator's reply is written by Pronto on its own (acknowledgements, introductions,
queue positions, "nobody is online"): it says so with ``Auto-Submitted: auto-replied`` (RFC 3834)
and Exchange's ``X-Auto-Response-Suppress: All``, so that an out-of-office or other auto-responder
does not answer it and start a mail loop. An operator's reply is a person's and carries neither."""

from __future__ import annotations

import html
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from services.notify.delivery.adapters import Outgoing, Sent, Smtp
from services.notify.errors import DeliveryError

# What Pronto sends to customers on its own, in answer to their message (RFC 3834 section 5).
AUTO_REPLIED = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}
# Notification kinds a person wrote: an operator's reply.
WRITTEN_BY_A_PERSON = frozenset({"reply"})


def angled(message_id: str) -> str:
    message_id = message_id.strip()
    return message_id if message_id.startswith("<") else f"<{message_id}>"


def as_html(text: str) -> str:
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    body = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    return f"<!DOCTYPE html><html><body>{body}</body></html>"


def threaded(message: Outgoing, sender: str, to: str, subject: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    base = message.thread_subject or subject
    mail["Subject"] = base if base.lower().startswith("re:") else f"Re: {base}"
    mail["Date"] = formatdate(message.created_at.timestamp(), usegmt=True)
    mail["Message-ID"] = f"<{message.id}@pronto.notify>"
    if message.thread_message_id:
        mail["In-Reply-To"] = angled(message.thread_message_id)
        mail["References"] = " ".join(
            angled(r) for r in message.thread_references or (message.thread_message_id,)
        )
    mail["Content-Language"] = message.language or "en"
    if message.kind not in WRITTEN_BY_A_PERSON:
        for name, value in AUTO_REPLIED.items():
            mail[name] = value
    mail.set_content(message.text)
    mail.add_alternative(as_html(message.text), subtype="html")
    return mail


@dataclass(frozen=True)
class ThreadedEmail:
    """The shop's e-mail answers, through Pronto's SMTP relay, from the shop's own address."""

    smtp: Smtp
    sender: str
    # The subject when the customer's thread has none (a chat answered by e-mail).
    subject: str = "Your message"
    name: str = "email"

    async def send(self, message: Outgoing) -> Sent:
        to = message.customer_email or (message.recipient if "@" in message.recipient else "")
        if not to:
            raise DeliveryError(
                "email: the customer left no e-mail address", permanent=True, code="no_address"
            )
        mail = threaded(message, self.sender, to, self.subject)
        await self.smtp.deliver(mail, to)
        return Sent(str(mail["Message-ID"]))
