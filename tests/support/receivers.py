"""Real receivers on loopback for what notify sends: an HTTP server and an SMTP server (aiosmtpd).

Both run in threads of their own, so a test may block (waiting for a process
to be ready) while deliveries keep arriving. The HTTP receiver answers by
path: ``/ok/...`` 200, ``/flaky/...`` 503 for the first two requests of each
notification and 200 after, ``/stubborn/...`` the same for the first four,
``/down/...`` always 500, ``/gone/...`` always 410.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from pronto_tools.broker.embedded import free_port

# How long a receiver's "/slow..." paths take to answer.
SLOW_S = 0.5


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    at: float = field(default_factory=time.monotonic)

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]


@dataclass
class HttpReceiver:
    port: int = 0
    requests: list[Received] = field(default_factory=list)
    _attempts: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answered(self, prefix: str, status: int = 200) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith(prefix) and r.status == status]

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> int:
        key = headers.get("Idempotency-Key", "") or body.decode(errors="replace")
        with self._lock:
            self._attempts[key] += 1
            attempt = self._attempts[key]
            if path.startswith("/flaky"):
                status = 503 if attempt <= 2 else 200
            elif path.startswith("/stubborn"):
                status = 503 if attempt <= 4 else 200
            elif path.startswith("/down"):
                status = 500
            elif path.startswith("/gone"):
                status = 410
            else:
                status = 200
            self.requests.append(Received(path, headers, body, status))
        return status


@contextmanager
def http_receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path.startswith("/slow"):  # a platform taking its time: SLOW_S per request
                time.sleep(SLOW_S)
            status = receiver.answer(self.path, dict(self.headers.items()), body)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Mailbox:
    port: int
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's naming)
        self.messages.append(message_from_bytes(envelope.content, _class=EmailMessage, policy=policy.default))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in list(self.messages) if m["To"] == address]


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    mailbox = Mailbox(free_port())
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


def wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)
