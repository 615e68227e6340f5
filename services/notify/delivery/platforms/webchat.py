"""The web chat widget's side: answers pushed to the open widget, kept while it is away, or e-mailed.

Answers go to the open widget over server-sent events; they are kept for it while it is away, or sent by
e-mail when the customer left an address and has gone.

The widget listens on notify's ``GET /v1/webchat/{tenant}/{visitor}/events``
with ``token`` = hex HMAC-SHA256 of ``{tenant}:{visitor}`` under the shop's
web chat secret (the shop's server gives it to the page). What waits for a
visitor lives in this process: with several notify replicas, a visitor's
widget must reach the replica delivering to it (README, Replies).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from services.notify.delivery.adapters import Outgoing, Sent
from services.notify.delivery.platforms.mail import ThreadedEmail

KEEP = 50
Item = dict[str, Any]


def token(secret: str, tenant: str, visitor: str) -> str:
    return hmac.new(secret.encode(), f"{tenant}:{visitor}".encode(), hashlib.sha256).hexdigest()


@dataclass
class _Visitor:
    waiting: deque[Item] = field(default_factory=lambda: deque(maxlen=KEEP))
    listeners: set[asyncio.Queue[Item]] = field(default_factory=set)
    left_at: float | None = None


@dataclass
class WebChatHub:
    """Open widgets and what waits for closed ones, per tenant and visitor."""

    clock: Callable[[], float] = time.time
    _visitors: dict[tuple[str, str], _Visitor] = field(default_factory=dict)

    def connected(self, tenant: str, visitor: str) -> bool:
        found = self._visitors.get((tenant, visitor))
        return found is not None and bool(found.listeners)

    def away_since(self, tenant: str, visitor: str) -> float | None:
        """When the widget closed (epoch seconds); None when it never opened here."""
        found = self._visitors.get((tenant, visitor))
        return found.left_at if found else None

    def push(self, tenant: str, visitor: str, item: Item) -> bool:
        """To every open widget of the visitor, or kept for the next one: whether one had it now."""
        found = self._visitors.setdefault((tenant, visitor), _Visitor())
        if not found.listeners:
            found.waiting.append(item)
            return False
        for listener in found.listeners:
            listener.put_nowait(item)
        return True

    @contextlib.contextmanager
    def listening(self, tenant: str, visitor: str) -> Iterator[asyncio.Queue[Item]]:
        """A queue with what waited, then what comes, while the widget stays."""
        found = self._visitors.setdefault((tenant, visitor), _Visitor())
        queue: asyncio.Queue[Item] = asyncio.Queue()
        while found.waiting:
            queue.put_nowait(found.waiting.popleft())
        found.listeners.add(queue)
        try:
            yield queue
        finally:
            found.listeners.discard(queue)
            if not found.listeners:
                found.left_at = self.clock()
                while not queue.empty():  # pushed but not written: kept for the next widget
                    found.waiting.append(queue.get_nowait())


def item(message: Outgoing) -> Item:
    return {
        "id": message.id,
        "kind": message.kind,
        "text": message.text,
        "operator": message.operator_name,
        "language": message.language,
        "at": message.created_at.astimezone(UTC).isoformat(),
    }


@dataclass(frozen=True)
class WebChat:
    hub: WebChatHub
    # When the customer left an address: e-mail them once they have been gone this long.
    email: ThreadedEmail | None = None
    gone_after_s: float = 600.0
    name: str = "web_chat"
    clock: Callable[[], float] = time.time

    async def send(self, message: Outgoing) -> Sent:
        tenant, visitor = message.tenant, message.recipient
        if self.hub.connected(tenant, visitor) and self.hub.push(tenant, visitor, item(message)):
            return Sent(f"web_chat:{message.id}", "pushed to the open widget")
        if (
            self.email is not None
            and message.customer_email
            and self._gone(tenant, visitor, message.customer_wrote_at)
        ):
            sent = await self.email.send(replace(message, recipient=message.customer_email))
            return Sent(sent.platform_message_id, "the visitor has left the chat: sent by e-mail")
        self.hub.push(tenant, visitor, item(message))
        return Sent(f"web_chat:{message.id}", "kept for the widget's return")

    def _gone(self, tenant: str, visitor: str, wrote_at: datetime | None) -> bool:
        last = max(self.hub.away_since(tenant, visitor) or 0.0, wrote_at.timestamp() if wrote_at else 0.0)
        return self.clock() - last > self.gone_after_s


async def events(
    hub: WebChatHub, tenant: str, visitor: str, keepalive_s: float = 15.0
) -> AsyncGenerator[bytes, None]:
    """The server-sent event stream of one widget, with a comment line as keep-alive."""
    with hub.listening(tenant, visitor) as queue:
        yield b": connected\n\n"
        while True:
            try:
                got = await asyncio.wait_for(queue.get(), keepalive_s)
            except TimeoutError:
                yield b": keep-alive\n\n"
                continue
            data = json.dumps(got, ensure_ascii=False)
            yield f"id: {got['id']}\nevent: message\ndata: {data}\n\n".encode()
