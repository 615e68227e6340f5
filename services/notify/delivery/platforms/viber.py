"""Viber REST bot API ``send_message``: https://developers.viber.com/docs/api/rest-bot-api/#send-message

Viber answers HTTP 200 with ``{"status": 0, "status_message": "ok", "message_token": ...}``;
any other ``status`` is a failure (e.g. 6 receiverNotSubscribed, 5 receiverNotRegistered), of
which 12 (tooManyRequests) is retried, as are HTTP 5xx and 429.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

from services.notify.delivery.adapters import Outgoing, Sent
from services.notify.delivery.platforms.http import Json, call, retry_after, transient
from services.notify.errors import DeliveryError

DEFAULT_API = "https://chatapi.viber.com/pa"
TOO_MANY_REQUESTS = 12
# Viber's text messages take up to 7,000 characters.
LIMIT = 7000


def request(message: Outgoing, sender_name: str) -> Json:
    return {
        "receiver": message.recipient,
        "min_api_version": 1,
        "sender": {"name": sender_name[:28]},
        "type": "text",
        "text": message.text[:LIMIT],
    }


def outcome(status: int, answer: Json, headers: Mapping[str, str]) -> Sent:
    code = answer.get("status")
    if status < 300 and code == 0:
        return Sent(str(answer.get("message_token", "")))
    if status >= 300:
        raise DeliveryError(
            f"viber HTTP {status}",
            permanent=not transient(status),
            retry_after_s=retry_after(headers),
            code=str(status),
        )
    raise DeliveryError(
        f"viber {code}: {answer.get('status_message', '')}",
        permanent=code != TOO_MANY_REQUESTS,
        code=str(code),
    )


@dataclass(frozen=True)
class Viber:
    session: aiohttp.ClientSession
    token: str
    sender_name: str
    api: str = DEFAULT_API
    name: str = "viber"

    async def send(self, message: Outgoing) -> Sent:
        headers = {"X-Viber-Auth-Token": self.token}
        return outcome(
            *await call(
                self.session, f"{self.api}/send_message", request(message, self.sender_name), headers, "viber"
            )
        )
