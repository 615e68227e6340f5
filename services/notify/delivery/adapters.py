"""The ways a notification leaves Pronto: a signed webhook, SMTP e-mail, a Slack-compatible webhook.

Each adapter sends one message and says how it failed: ``permanent`` failures
(a 4xx refusal, a mailbox that does not exist) are not retried; the others
(timeouts, 5xx, 429, a 4xx SMTP reply) are, honouring ``Retry-After``. Every
message carries its notification id (``Idempotency-Key`` header, e-mail
``Message-ID``), so a receiver can recognise it if it ever comes twice.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol
from urllib.parse import urlsplit

import aiohttp
import aiosmtplib

from services.notify.domain.signature import HEADER, sign
from services.notify.errors import DeliveryError

USER_AGENT = "Pronto-Notify/1"
# Staff notifications and digests answer no message: generated, not replied (RFC 3834 section 5);
# auto-responders must not answer either (X-Auto-Response-Suppress is Exchange's way to say so).
AUTO_GENERATED = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}


@dataclass(frozen=True)
class Sent:
    """What a platform answered: its id of the message, and what differs from what was asked."""

    platform_message_id: str = ""
    note: str = ""
    via_template: bool = False


@dataclass(frozen=True)
class Outgoing:
    """One message to send: a notification, or a digest of several (``covers`` names them)."""

    id: str
    tenant: str
    recipient_kind: str
    recipient: str
    kind: str
    language: str
    text: str
    conversation_id: str
    channel: str
    created_at: datetime
    covers: tuple[str, ...] = field(default=())
    # Customer messages: when the customer last wrote (reply windows), their e-mail thread
    # (message id, references, subject) and address, and who answers.
    customer_wrote_at: datetime | None = None
    thread_message_id: str = ""
    thread_references: tuple[str, ...] = ()
    thread_subject: str = ""
    customer_email: str = ""
    operator_name: str = ""

    def json(self) -> bytes:
        body = {
            "id": self.id,
            "tenant": self.tenant,
            "kind": self.kind,
            "recipient": {"kind": self.recipient_kind, "id": self.recipient},
            "conversation_id": self.conversation_id,
            "channel": self.channel,
            "language": self.language,
            "text": self.text,
            "created_at": self.created_at.isoformat(),
            "notifications": list(self.covers),
        }
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


class Adapter(Protocol):
    @property
    def name(self) -> str: ...

    async def send(self, message: Outgoing) -> Sent | None: ...


@dataclass(frozen=True)
class Webhook:
    """A JSON POST signed with the target's secret (``services.notify.domain.signature``)."""

    session: aiohttp.ClientSession
    url: str
    secret: str
    name: str = "webhook"

    async def send(self, message: Outgoing) -> None:
        body = message.json()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Idempotency-Key": message.id,
            HEADER: sign(self.secret, int(time.time()), body),
        }
        await _post(self.session, self.url, body, headers)


@dataclass(frozen=True)
class Slack:
    """Slack's incoming-webhook format (``{"text": ...}``), which Mattermost and others accept too."""

    session: aiohttp.ClientSession
    url: str
    name: str = "slack"

    async def send(self, message: Outgoing) -> None:
        body = json.dumps({"text": message.text}, ensure_ascii=False).encode()
        await _post(
            self.session, self.url, body, {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        )


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    sender: str
    timeout_s: float
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    name: str = "email"

    def email(self, message: Outgoing, to: str) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = to
        mail["Subject"] = _subject(message)
        mail["Date"] = formatdate(message.created_at.timestamp(), usegmt=True)
        mail["Message-ID"] = f"<{message.id}@pronto.notify>"
        mail["Content-Language"] = message.language or "en"
        for name, value in AUTO_GENERATED.items():
            mail[name] = value
        mail.set_content(message.text)
        return mail

    async def send_to(self, message: Outgoing, to: str) -> None:
        await self.deliver(self.email(message, to), to)

    async def deliver(self, mail: EmailMessage, to: str) -> None:
        try:
            await aiosmtplib.send(
                mail,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                start_tls=self.starttls,
                timeout=self.timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [error.code for error in exc.recipients]
            raise DeliveryError(
                f"SMTP refused {to}: {codes}", permanent=all(c >= 500 for c in codes), code=str(codes[0])
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"SMTP {exc.code}: {exc.message}", permanent=exc.code >= 500, code=str(exc.code)
            ) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {exc!r}", permanent=False) from exc


@dataclass(frozen=True)
class Email:
    """The SMTP adapter bound to one address."""

    smtp: Smtp
    to: str
    name: str = "email"

    async def send(self, message: Outgoing) -> None:
        await self.smtp.send_to(message, self.to)


def _subject(message: Outgoing) -> str:
    what = message.kind.replace("_", " ")
    if message.covers:
        return f"Pronto: {len(message.covers)} notifications ({message.tenant})"
    return f"Pronto: {what} — {message.conversation_id} ({message.tenant})"


async def _post(session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]) -> None:
    try:
        async with session.post(url, data=body, headers=headers) as response:
            if response.status < 300:
                return
            text = (await response.text(errors="replace"))[:200]
            retry_after = _seconds(response.headers.get("Retry-After"))
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise DeliveryError(f"POST {_where(url)}: {type(exc).__name__}", permanent=False) from exc
    transient = response.status in (408, 425, 429) or response.status >= 500
    raise DeliveryError(
        f"POST {_where(url)}: HTTP {response.status} {text}",
        permanent=not transient,
        retry_after_s=retry_after,
    )


def _where(url: str) -> str:
    """The URL without its path and query: a Slack webhook's path is its secret, and reasons are
    logged and written to the dead-letter topic."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}/..."


def _seconds(value: str | None) -> float | None:
    """``Retry-After`` in seconds (the HTTP-date form is rare from webhooks and is ignored)."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
