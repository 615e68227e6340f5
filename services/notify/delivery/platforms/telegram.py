"""Telegram Bot API ``sendMessage``: https://core.telegram.org/bots/api#sendmessage

Answers are ``{"ok": true, "result": {"message_id": ...}}`` or
``{"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}``;
flood control is 429 with ``parameters.retry_after`` (seconds).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

from services.notify.delivery.adapters import Outgoing, Sent
from services.notify.delivery.platforms.http import Json, call, retry_after, transient
from services.notify.errors import DeliveryError

DEFAULT_API = "https://api.telegram.org"


# sendMessage takes 1-4,096 characters.
LIMIT = 4096


def request(api: str, token: str, chat_id: str, text: str) -> tuple[str, Json]:
    return f"{api}/bot{token}/sendMessage", {"chat_id": chat_id, "text": text[:LIMIT]}


def outcome(status: int, answer: Json, headers: Mapping[str, str]) -> Sent:
    if status < 300 and answer.get("ok") is True:
        return Sent(str(answer.get("result", {}).get("message_id", "")))
    code = str(answer.get("error_code", status))
    wait = (
        answer.get("parameters", {}).get("retry_after")
        if isinstance(answer.get("parameters"), dict)
        else None
    )
    raise DeliveryError(
        f"telegram {code}: {answer.get('description', answer.get('raw', ''))}",
        permanent=not transient(status),
        retry_after_s=float(wait) if isinstance(wait, int | float) else retry_after(headers),
        code=code,
    )


@dataclass(frozen=True)
class Telegram:
    session: aiohttp.ClientSession
    token: str
    api: str = DEFAULT_API
    name: str = "telegram"

    async def send(self, message: Outgoing) -> Sent:
        url, body = request(self.api, self.token, message.recipient, message.text)
        # The token is in the path: it never appears in a reason.
        return outcome(*await call(self.session, url, body, {}, "telegram"))
