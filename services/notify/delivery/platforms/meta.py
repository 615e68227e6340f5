"""Meta's Graph API: WhatsApp Cloud API messages, the Messenger Send API, Instagram messaging.

- WhatsApp: ``POST /{phone-number-id}/messages``; free text inside the 24-hour
  customer-service window, else, for an operator's reply, the shop's approved
  template (other notifications are not sent then: a template speaks for a
  person). WhatsApp accepts free text outside the window and reports error
  131047 "Re-engagement message" later, in a failed status webhook: the
  delivery worker then sends the template (``template``). The notification id
  travels as ``biz_opaque_callback_data``, which WhatsApp returns in its status webhooks.
- Messenger and Instagram: ``POST /me/messages`` with the page's token;
  ``messaging_type`` RESPONSE inside 24 hours; an operator's reply with the
  HUMAN_AGENT tag up to 7 days where the shop enables it (the tag is for people,
  not automated messages); otherwise not sent (permanent failure, saying why).
- Texts longer than a platform takes are cut, and the delivery event says so.

Errors are ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``;
rate limits (4, 17, 32, 613, 80007, 130429, 131048, 131056) are retried.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp

from services.notify.delivery.adapters import Outgoing, Sent
from services.notify.delivery.platforms.http import Json, call, retry_after, transient
from services.notify.domain.windows import Messaging, meta_messaging, whatsapp_window_open
from services.notify.errors import DeliveryError

DEFAULT_API = "https://graph.facebook.com/v21.0"
RATE_LIMITS = {4, 17, 32, 613, 80007, 130429, 131048, 131056}
REENGAGEMENT = 131047
# The longest text each takes (WhatsApp 4,096 characters; Messenger 2,000; Instagram 1,000 bytes).
WHATSAPP_LIMIT, MESSENGER_LIMIT, INSTAGRAM_LIMIT_BYTES = 4096, 2000, 1000


def cut(text: str, characters: int, encoded_bytes: int | None = None) -> tuple[str, str]:
    """``text`` within the platform's limit (characters, and bytes where it counts them), ending
    in "…" when it had to be cut, and a note saying so."""

    def fits(candidate: str) -> bool:
        return len(candidate) <= characters and (
            encoded_bytes is None or len(candidate.encode()) <= encoded_bytes
        )

    if fits(text):
        return text, ""
    keep = min(len(text), characters) - 1
    while keep > 0 and not fits(text[:keep] + "…"):
        keep -= 1
    return text[:keep] + "…", f"text cut to {keep + 1} characters (the platform's limit)"


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
        "text": {"preview_url": False, "body": cut(message.text, WHATSAPP_LIMIT)[0]},
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
                sent = await self._post(whatsapp_text(message))
                return Sent(sent.platform_message_id, cut(message.text, WHATSAPP_LIMIT)[1])
            except DeliveryError as exc:
                if exc.code != str(REENGAGEMENT):
                    raise
        return await self.template_instead(message)

    async def template_instead(self, message: Outgoing) -> Sent:
        """Outside the window: an operator's reply as the shop's approved template."""
        if message.kind != "reply":
            raise DeliveryError(
                f"whatsapp: outside the 24-hour customer-service window; a {message.kind!r} notification "
                "is not sent as the reply template",
                permanent=True,
                code=str(REENGAGEMENT),
            )
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


def send_api_body(message: Outgoing, messaging: Messaging, text: str | None = None) -> Json:
    body: Json = {
        "recipient": {"id": message.recipient},
        "message": {"text": message.text if text is None else text},
    }
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
        # The human-agent tag is for a person's answer, never for an automated notification.
        messaging = meta_messaging(
            message.customer_wrote_at, self.clock(), self.human_agent and message.kind == "reply"
        )
        if messaging is Messaging.CLOSED:
            reason = "the 24-hour messaging window has closed" + (
                " and the human-agent tag's 7 days too"
                if self.human_agent
                else " (human-agent tag not enabled)"
            )
            raise DeliveryError(f"{self.name}: {reason}", permanent=True, code="window")
        text, cut_note = (
            cut(message.text, MESSENGER_LIMIT)
            if self.name == "facebook"
            else cut(message.text, 1000, INSTAGRAM_LIMIT_BYTES)
        )
        status, answer, headers = await call(
            self.session,
            f"{self.api}/me/messages",
            send_api_body(message, messaging, text),
            {"Authorization": f"Bearer {self.token}"},
            self.name,
        )
        if status < 300:
            tagged = "sent with the HUMAN_AGENT tag" if messaging is Messaging.HUMAN_AGENT else ""
            return Sent(str(answer.get("message_id", "")), "; ".join(n for n in (tagged, cut_note) if n))
        raise error(self.name, status, answer, headers)
