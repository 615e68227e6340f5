"""X API v2 direct messages: ``POST /2/dm_conversations/with/{participant_id}/messages``.

Sent with the shop's OAuth 2.0 user-context token (``dm.write``); 201 answers
``{"data": {"dm_conversation_id", "dm_event_id"}}``. Errors are problem
details (``{"title", "detail", "type", "status"}``); 429 says when the window
resets in ``x-rate-limit-reset`` (epoch seconds).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

from services.notify.delivery.adapters import Outgoing, Sent
from services.notify.delivery.platforms.http import Json, call, retry_after, transient
from services.notify.errors import DeliveryError

DEFAULT_API = "https://api.x.com"


LIMIT = 10_000


def request(api: str, message: Outgoing) -> tuple[str, Json]:
    return f"{api}/2/dm_conversations/with/{message.recipient}/messages", {"text": message.text[:LIMIT]}


def _reset_in(headers: Mapping[str, str], now: float) -> float | None:
    try:
        return max(0.0, float(headers["x-rate-limit-reset"]) - now)
    except (KeyError, ValueError):
        return None


def outcome(status: int, answer: Json, headers: Mapping[str, str], now: float) -> Sent:
    if status < 300:
        return Sent(str(answer.get("data", {}).get("dm_event_id", "")))
    title = answer.get("title") or answer.get("raw", "")
    raise DeliveryError(
        f"x {status} {title}: {answer.get('detail', '')}",
        permanent=not transient(status),
        retry_after_s=retry_after(headers) or _reset_in(headers, now),
        # X's problem type is a URL naming the error; "about:blank" says nothing more than the status.
        code=str(answer.get("type")) if answer.get("type") not in (None, "about:blank") else str(status),
    )


@dataclass(frozen=True)
class X:
    session: aiohttp.ClientSession
    token: str
    api: str = DEFAULT_API
    name: str = "x"

    async def send(self, message: Outgoing) -> Sent:
        url, body = request(self.api, message)
        status, answer, headers = await call(
            self.session, url, body, {"Authorization": f"Bearer {self.token}"}, "x"
        )
        return outcome(status, answer, headers, time.time())
