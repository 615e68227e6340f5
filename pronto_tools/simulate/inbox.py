"""The shop's side of notify: a loopback HTTP server that receives what notify sends.

Customers' messages (one webhook for every channel), operators' and the
supervisors' (a Slack-compatible webhook) arrive here, are checked against
their signature and counted; an operator's "new assignment" is handed to the
simulated team, which is how its operators learn what to answer.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from aiohttp import web

from services.notify.domain.signature import HEADER, verify

SECRET = "demo-notify-webhook-secret"


OnAssignment = Callable[[str, str, str], None]  # operator id, conversation id, customer's language


class Inbox:
    def __init__(self, on_assignment: OnAssignment | None = None) -> None:
        self.on_assignment = on_assignment
        self.languages: dict[str, str] = {}
        self.by_recipient: Counter[str] = Counter()
        self.by_kind: Counter[str] = Counter()
        self.badly_signed = 0
        self.digests = 0
        self.last_customer_text = ""
        self._runner: web.AppRunner | None = None
        self.port = 0

    @staticmethod
    def shop_config(port: int, timezone: str) -> dict[str, Any]:
        """Notify's configuration for a shop whose customers, operators and supervisors are all reached
        by an inbox on ``port``."""
        hook = {"url": f"http://127.0.0.1:{port}", "secret": SECRET}
        return {
            "timezone": timezone,
            "customer_webhooks": {"*": {**hook, "url": f"{hook['url']}/customers"}},
            "operator_default": {"webhook": {**hook, "url": f"{hook['url']}/operators"}},
            "supervisors": {"slack": f"{hook['url']}/supervisors"},
            # Ten messages a minute each at most; the rest reach them as a digest.
            "limit_count": 10,
            "limit_window_s": 60,
        }

    async def start(self, port: int) -> None:
        app = web.Application()
        app.router.add_post("/customers", self._signed)
        app.router.add_post("/operators", self._signed)
        app.router.add_post("/supervisors", self._slack)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.port = port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _signed(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not verify(SECRET, request.headers.get(HEADER, ""), body, time.time()):
            self.badly_signed += 1
            return web.Response(status=401, text="bad signature")
        message = json.loads(body)
        self.by_recipient[message["recipient"]["kind"]] += 1
        self.digests += message["kind"] == "digest"
        self.by_kind[message["kind"]] += 1
        if message["recipient"]["kind"] == "customer":
            self.last_customer_text = f"({message['channel']}, {message['language']}) {message['text']}"
            self.languages[message["conversation_id"]] = message["language"]
        elif message["kind"] == "new_assignment" and self.on_assignment is not None:
            conversation = message["conversation_id"]
            self.on_assignment(message["recipient"]["id"], conversation, self.languages.get(conversation, ""))
        return web.Response(text="ok")

    async def _slack(self, request: web.Request) -> web.Response:
        text = json.loads(await request.read())["text"]
        self.by_recipient["supervisor"] += 1
        self.digests += " notifications while you were away or busy:" in text
        return web.Response(text="ok")

    async def settle(self, say: Callable[[str], None], assignments: int, at_most_s: float = 20.0) -> None:
        """Waits (bounded) until notify has told the customer of every assignment routing made."""
        deadline = time.monotonic() + at_most_s
        while self.by_kind["assigned"] < assignments and time.monotonic() < deadline:
            say(f"letting notify catch up: {self.by_kind['assigned']} of {assignments} assignments told ...")
            await asyncio.sleep(2)

    def line(self) -> str:
        r = self.by_recipient
        return (
            f"notified: customers {r['customer']}, operators {r['operator']}, "
            f"supervisors {r['supervisor']} ({self.digests} digests)"
        )
