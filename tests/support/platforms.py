"""Loopback servers that behave like each messaging platform's documented send API.

One HTTP server (in a thread of its own, so tests may block) answers under a prefix per
platform, checks the auth header and the request's shape as the platform does, answers
with the platform's documented success body, and records every call:

- ``/telegram/bot<token>/sendMessage`` (Telegram Bot API)
- ``/graph/<phone-number-id>/messages`` (WhatsApp Cloud API) and ``/graph/me/messages``
  (Messenger and Instagram Send API), Bearer tokens
- ``/viber/send_message`` (Viber REST bot API, X-Viber-Auth-Token)
- ``/x/2/dm_conversations/with/<participant>/messages`` (X API v2, Bearer)

``fail_next`` queues one of the platform's documented error answers. Like the
real Cloud API, WhatsApp accepts free text even outside the 24-hour window
and reports error 131047 later, in a status webhook (which the test posts).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TELEGRAM_TOKEN = "123456:telegram-test-token"
WHATSAPP_NUMBER = "106540352242922"
WHATSAPP_TOKEN = "whatsapp-test-token"
MESSENGER_TOKEN = "messenger-page-token"
INSTAGRAM_TOKEN = "instagram-test-token"
VIBER_TOKEN = "445da6az1s345z78-dazcczb2542zv51a-e0vc5fva17480im9"
X_TOKEN = "x-user-context-token"

Json = dict[str, Any]

TELEGRAM_BLOCKED: tuple[int, Json, dict[str, str]] = (
    403,
    {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
    {},
)
TELEGRAM_FLOOD: tuple[int, Json, dict[str, str]] = (
    429,
    {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 2",
        "parameters": {"retry_after": 2},
    },
    {},
)
# The error a failed status webhook carries when the 24-hour window had closed.
WHATSAPP_REENGAGEMENT: Json = {
    "code": 131047,
    "title": "Re-engagement message",
    "message": "Re-engagement message",
    "error_data": {
        "details": "Message failed to send because more than 24 hours have passed since the customer "
        "last replied to this number."
    },
    "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
}


@dataclass(frozen=True)
class Call:
    platform: str
    path: str
    headers: dict[str, str]
    body: Json
    status: int
    answer: Json
    at: float = field(default_factory=time.monotonic)


@dataclass
class FakePlatforms:
    port: int = 0
    calls: list[Call] = field(default_factory=list)
    _failures: dict[str, deque[tuple[int, Json, dict[str, str]]]] = field(
        default_factory=lambda: defaultdict(deque)
    )
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1001))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def base(self, platform: str) -> str:
        return f"http://127.0.0.1:{self.port}/{platform}"

    def fail_next(self, platform: str, answer: tuple[int, Json, dict[str, str]]) -> None:
        with self._lock:
            self._failures[platform].append(answer)

    def to(self, platform: str, text: str = "", status: int | None = 200) -> list[Call]:
        """Calls to ``platform`` whose JSON contains ``text``, answered with ``status`` (None: any)."""
        with self._lock:
            return [
                c
                for c in self.calls
                if c.platform == platform
                and text in json.dumps(c.body, ensure_ascii=False)
                and (status is None or c.status == status or (status == 200 and c.status == 201))
            ]

    def answer(self, path: str, headers: dict[str, str], body: Json) -> tuple[int, Json, dict[str, str]]:
        platform = path.strip("/").split("/", 1)[0]
        with self._lock:
            failures = self._failures[platform]
            status, answer, extra = (
                failures.popleft() if failures else self._answer(platform, path, headers, body)
            )
            self.calls.append(Call(platform, path, headers, body, status, answer))
        return status, answer, extra

    # ------------------------------------------------------------ each platform as documented

    def _answer(
        self, platform: str, path: str, headers: dict[str, str], body: Json
    ) -> tuple[int, Json, dict[str, str]]:
        handler = {"telegram": self._telegram, "graph": self._graph, "viber": self._viber, "x": self._x}[
            platform
        ]
        return handler(path, headers, body)

    def _telegram(self, path: str, _headers: dict[str, str], body: Json) -> tuple[int, Json, dict[str, str]]:
        if path != f"/telegram/bot{TELEGRAM_TOKEN}/sendMessage":
            return (
                401 if "sendMessage" in path else 404,
                {"ok": False, "error_code": 401, "description": "Unauthorized"},
                {},
            )
        if not body.get("chat_id"):
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: chat_id is empty"}, {}
        if not body.get("text"):
            return (
                400,
                {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"},
                {},
            )
        message = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": body["chat_id"], "type": "private"},
            "text": body["text"],
        }
        return 200, {"ok": True, "result": message}, {}

    def _graph(self, path: str, headers: dict[str, str], body: Json) -> tuple[int, Json, dict[str, str]]:
        token = headers.get("Authorization", "").removeprefix("Bearer ")
        oauth = {
            "error": {
                "message": "Invalid OAuth access token - Cannot parse access token",
                "type": "OAuthException",
                "code": 190,
                "fbtrace_id": "Xyz",
            }
        }
        if path == f"/graph/{WHATSAPP_NUMBER}/messages":
            if token != WHATSAPP_TOKEN:
                return 401, oauth, {}
            return self._whatsapp(body)
        if path == "/graph/me/messages":
            if token not in (MESSENGER_TOKEN, INSTAGRAM_TOKEN):
                return 401, oauth, {}
            if not body.get("recipient", {}).get("id") or not body.get("message", {}).get("text"):
                return (
                    400,
                    {
                        "error": {
                            "message": "(#100) The parameter recipient is required",
                            "type": "OAuthException",
                            "code": 100,
                        }
                    },
                    {},
                )
            if body.get("messaging_type") not in ("RESPONSE", "UPDATE", "MESSAGE_TAG"):
                return (
                    400,
                    {
                        "error": {
                            "message": "(#100) Invalid messaging_type",
                            "type": "OAuthException",
                            "code": 100,
                        }
                    },
                    {},
                )
            return 200, {"recipient_id": body["recipient"]["id"], "message_id": f"m_{next(self._ids)}"}, {}
        return (
            404,
            {"error": {"message": "Unknown path components", "type": "OAuthException", "code": 2500}},
            {},
        )

    def _whatsapp(self, body: Json) -> tuple[int, Json, dict[str, str]]:
        bad = {"error": {"message": "(#100) Invalid parameter", "type": "OAuthException", "code": 100}}
        if body.get("messaging_product") != "whatsapp" or not body.get("to"):
            return 400, bad, {}
        if body.get("type") == "text":
            if not body.get("text", {}).get("body"):
                return 400, bad, {}
        elif body.get("type") == "template":
            template = body.get("template", {})
            if not template.get("name") or not template.get("language", {}).get("code"):
                return 400, bad, {}
            for component in template.get("components", []):
                for parameter in component.get("parameters", []):
                    if re.search(r"[\n\t]| {5,}", parameter.get("text", "")):
                        return (
                            400,
                            {
                                "error": {
                                    "message": "(#132018) There was an issue with the parameters in your template.",  # noqa: E501
                                    "type": "OAuthException",
                                    "code": 132018,
                                }
                            },
                            {},
                        )
        else:
            return 400, bad, {}
        return (
            200,
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                "messages": [{"id": f"wamid.HBgM{next(self._ids)}"}],
            },
            {},
        )

    def _viber(self, path: str, headers: dict[str, str], body: Json) -> tuple[int, Json, dict[str, str]]:
        if path != "/viber/send_message":
            return 404, {}, {}
        if headers.get("X-Viber-Auth-Token") != VIBER_TOKEN:
            return 200, {"status": 2, "status_message": "invalidAuthToken"}, {}
        if (
            not body.get("receiver")
            or not body.get("sender", {}).get("name")
            or body.get("type") != "text"
            or not body.get("text")
        ):
            return 200, {"status": 3, "status_message": "badData"}, {}
        return (
            200,
            {
                "status": 0,
                "status_message": "ok",
                "message_token": 5741311803571721000 + next(self._ids),
                "chat_hostname": "SN-CHAT-01_",
            },
            {},
        )

    def _x(self, path: str, headers: dict[str, str], body: Json) -> tuple[int, Json, dict[str, str]]:
        found = re.fullmatch(r"/x/2/dm_conversations/with/([^/]+)/messages", path)
        if found is None:
            return (
                404,
                {
                    "title": "Not Found Error",
                    "type": "https://api.twitter.com/2/problems/resource-not-found",
                    "status": 404,
                    "detail": path,
                },
                {},
            )
        if headers.get("Authorization") != f"Bearer {X_TOKEN}":
            return (
                401,
                {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
                {},
            )
        if not body.get("text"):
            return (
                400,
                {
                    "title": "Invalid Request",
                    "type": "https://api.twitter.com/2/problems/invalid-request",
                    "status": 400,
                    "detail": "text is required",
                },
                {},
            )
        return (
            201,
            {"data": {"dm_conversation_id": f"1500-{found.group(1)}", "dm_event_id": str(next(self._ids))}},
            {},
        )


@contextmanager
def fake_platforms() -> Iterator[FakePlatforms]:
    platforms = FakePlatforms()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                body = {"unparseable": raw.decode(errors="replace")}
            status, answer, extra = platforms.answer(self.path, dict(self.headers.items()), body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    platforms.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield platforms
    finally:
        server.shutdown()
        server.server_close()


def outbound(platforms: FakePlatforms, email_sender: str, web_chat_secret: str) -> Json:
    """A shop's ``outbound`` settings pointing every platform at the fakes."""
    return {
        "telegram": {"bot_token": TELEGRAM_TOKEN, "api_base": platforms.base("telegram")},
        "whatsapp": {
            "phone_number_id": WHATSAPP_NUMBER,
            "access_token": WHATSAPP_TOKEN,
            "api_base": platforms.base("graph"),
            "template": {
                "name": "support_reply",
                "languages": ["en", "it"],
                "parameters": ["operator", "text"],
            },
        },
        "facebook": {"access_token": MESSENGER_TOKEN, "api_base": platforms.base("graph")},
        "instagram": {
            "access_token": INSTAGRAM_TOKEN,
            "api_base": platforms.base("graph"),
            "human_agent": True,
        },
        "viber": {"auth_token": VIBER_TOKEN, "sender_name": "Negozio", "api_base": platforms.base("viber")},
        "x": {"access_token": X_TOKEN, "api_base": platforms.base("x")},
        "email": {"sender": email_sender},
        "web_chat": {"secret": web_chat_secret, "allowed_origins": ["https://shop.example"]},
    }
