"""Meta's Graph API: WhatsApp Cloud API messages, the Messenger Send API, Instagram messaging.

- WhatsApp: ``POST /{phone-number-id}/messages``; free text inside the 24-hour
  customer-service window, else the shop's approved template (error 131047
  "Re-engagement message" also sends the template). The notification id travels
  as ``biz_opaque_callback_data``, which WhatsApp returns in its status webhooks.
- Messenger and Instagram: ``POST /me/messages`` with the page's token;
  ``messaging_type`` RESPONSE inside 24 hours, the HUMAN_AGENT tag up to 7 days
  where the shop enables it, otherwise not sent (permanent failure, saying why).

Errors are ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``;
rate limits (4, 17, 32, 613, 80007, 130429, 131048, 131056) are retried.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp

from services.notify.delivery.adapters import DeliveryError, Outgoing, Sent
from services.notify.delivery.platforms.http import Json, call, retry_after, transient
from services.notify.domain.windows import Messaging, meta_messaging, whatsapp_window_open

DEFAULT_API = "https://graph.facebook.com/v21.0"
RATE_LIMITS = {4, 17, 32, 613, 80007, 130429, 131048, 131056}
REENGAGEMENT = 131047


def error(platform: str, status: int, answer: Json, headers: Mapping[str, str]) -> DeliveryError:
    found = answer.get("error")
    detail: Json = found if isinstance(found, dict) else {}
    code = detail.get("code", status)
    subcode = detail.get("error_subcode")
    text = detail.get("message") or answer.get("raw", "")
    data = detail.get("error_data")
    details = data.get("details") if isinstance(data, dict) else None
    return DeliveryError(
        f"{platform} {code}{f'/{subcode}' if subcode else ''}: {text}{f' ({details})' if details else ''}",
        permanent=not (transient(status) or code in RATE_LIMITS),
        retry_after_s=retry_after(headers),
        code=str(code),
    )


# ---------------------------------------------------------------- WhatsApp


@dataclass(frozen=True)
class Template:
    """An approved message template: its name, the languages it exists in (the first is used when
    the customer's is not among them), and what fills its body's {{1}}, {{2}}...: ``text``
    (the message) or ``operator`` (who wrote it)."""

    name: str
    languages: tuple[str, ...] = ("en",)
    parameters: tuple[str, ...] = ("text",)

    def language_for(self, language: str) -> str:
        wanted = (language or "").split("-")[0].lower()
        return next(
            (code for code in self.languages if code.split("_")[0].lower() == wanted), self.languages[0]
        )


def _parameter(value: str) -> str:
    """Template parameters may hold no newlines, tabs or more than four spaces in a row."""
    return re.sub(r"\s+", " ", value).strip()[:1024] or "-"


def whatsapp_text(message: Outgoing) -> Json:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": message.recipient,
        "type": "text",
        "text": {"preview_url": False, "body": message.text},
        "biz_opaque_callback_data": message.id,
    }


def whatsapp_template(message: Outgoing, template: Template) -> Json:
    values = {"text": message.text, "operator": message.operator_name}
    parameters = [{"type": "text", "text": _parameter(values.get(p, ""))} for p in template.parameters]
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": message.recipient,
        "type": "template",
        "template": {
            "name": template.name,
            "language": {"code": template.language_for(message.language)},
            "components": [{"type": "body", "parameters": parameters}],
        },
        "biz_opaque_callback_data": message.id,
    }


def _whatsapp_id(answer: Json) -> str:
    messages = answer.get("messages")
    return str(messages[0].get("id", "")) if isinstance(messages, list) and messages else ""


@dataclass(frozen=True)
class WhatsApp:
    session: aiohttp.ClientSession
    phone_number_id: str
    token: str
    template: Template | None = None
    api: str = DEFAULT_API
    name: str = "whatsapp"
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    async def send(self, message: Outgoing) -> Sent:
        if whatsapp_window_open(message.customer_wrote_at, self.clock()):
            try:
                return await self._post(whatsapp_text(message))
            except DeliveryError as exc:
                if exc.code != str(REENGAGEMENT):
                    raise
        return await self._fallback(message)

    async def _fallback(self, message: Outgoing) -> Sent:
        if self.template is None:
            raise DeliveryError(
                "whatsapp: outside the 24-hour customer-service window and no template is configured "
                "(outbound.whatsapp.template)",
                permanent=True,
                code=str(REENGAGEMENT),
            )
        sent = await self._post(whatsapp_template(message, self.template))
        note = f"outside WhatsApp's 24-hour window: sent as template {self.template.name!r}"
        return Sent(sent.platform_message_id, note, via_template=True)

    async def _post(self, body: Json) -> Sent:
        url = f"{self.api}/{self.phone_number_id}/messages"
        status, answer, headers = await call(
            self.session, url, body, {"Authorization": f"Bearer {self.token}"}, "whatsapp"
        )
        if status < 300:
            return Sent(_whatsapp_id(answer))
        raise error("whatsapp", status, answer, headers)


# ---------------------------------------------------------------- Messenger and Instagram


def send_api_body(message: Outgoing, messaging: Messaging) -> Json:
    body: Json = {"recipient": {"id": message.recipient}, "message": {"text": message.text}}
    if messaging is Messaging.HUMAN_AGENT:
        return {**body, "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    return {**body, "messaging_type": "RESPONSE"}


@dataclass(frozen=True)
class SendApi:
    """Messenger (``name="facebook"``) or Instagram (``name="instagram"``): the same Send API."""

    session: aiohttp.ClientSession
    token: str
    name: str
    human_agent: bool = False
    api: str = DEFAULT_API
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    async def send(self, message: Outgoing) -> Sent:
        messaging = meta_messaging(message.customer_wrote_at, self.clock(), self.human_agent)
        if messaging is Messaging.CLOSED:
            reason = "the 24-hour messaging window has closed" + (
                " and the human-agent tag's 7 days too"
                if self.human_agent
                else " (human-agent tag not enabled)"
            )
            raise DeliveryError(f"{self.name}: {reason}", permanent=True, code="window")
        status, answer, headers = await call(
            self.session,
            f"{self.api}/me/messages",
            send_api_body(message, messaging),
            {"Authorization": f"Bearer {self.token}"},
            self.name,
        )
        if status < 300:
            note = "sent with the HUMAN_AGENT tag" if messaging is Messaging.HUMAN_AGENT else ""
            return Sent(str(answer.get("message_id", "")), note)
        raise error(self.name, status, answer, headers)
