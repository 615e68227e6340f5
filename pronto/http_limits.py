"""What one request may send to any HTTP port of Pronto, enforced before the rest is read (issue #26).

uvicorn's httptools protocol caps neither the request line nor the headers: httptools joins the
pieces of a header value as they arrive (one ``bytes +=`` per read), so one 64 MB header took
seconds of the event loop and every other request of the process waited. ``LimitedHttpProtocol``
is that protocol with the limits of ``pronto.settings.HttpLimits``: a target longer than
``max_request_line_bytes`` is 414, more than ``max_headers`` fields or more than
``max_header_bytes`` of them is 431, each answered as soon as the limit is passed (at most one
read, 256 KiB, later) and the connection closed once the client had a moment to read the answer.
``BodyLimit`` answers 413 to a Content-Length over ``max_body_bytes`` before the app reads
anything, and to a chunked body once that many bytes have been read.
"""

from __future__ import annotations

import json
import logging
from typing import Any, ClassVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from pronto.settings import HttpLimits

log = logging.getLogger(__name__)

# After refusing, how long and how much of what the client still sends is read and dropped.
LINGER_S = 2.0
LINGER_BYTES = 16 * 1024 * 1024
_REASONS = {413: b"Content Too Large", 414: b"URI Too Long", 431: b"Request Header Fields Too Large"}


def _answer(detail: str) -> bytes:
    return json.dumps({"error": "too_large", "detail": detail}).encode()


class _Refused(Exception):
    """Raised from a parser callback to stop parsing; ``LimitedHttpProtocol`` answers it."""


class LimitedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, answering 414 or 431 as soon as a request's head is too large."""

    limits: ClassVar[HttpLimits] = HttpLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True  # between requests or in one's request line and headers
        self._head_bytes = 0  # read since the head began, while it has not ended
        self._target_bytes = 0
        self._fields = 0
        self._field_bytes = 0
        self._refusal: tuple[int, str] | None = None
        self._lingering = False
        self._discarded = 0
        # The request line and headers as a whole, with room for the separators of each field.
        self._max_head = self.limits.max_request_line_bytes + self.limits.max_header_bytes
        self._max_head += 4 * self.limits.max_headers + 64

    @classmethod
    def with_limits(cls, limits: HttpLimits) -> type[LimitedHttpProtocol]:
        return type("LimitedHttpProtocol", (cls,), {"limits": limits})

    def data_received(self, data: bytes) -> None:
        if self.transport.is_closing():
            return
        if self._lingering:  # refused: what the client still sends is read and dropped
            self._discarded += len(data)
            if self._discarded > LINGER_BYTES:
                self.transport.close()
            return
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        # One header field still incomplete reaches no callback: count what its head has read.
        if self._in_head and self._head_bytes > self._max_head and not self.transport.is_closing():
            self._refuse(431, f"the request's headers are over {self.limits.max_header_bytes} bytes")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._target_bytes = self._fields = self._field_bytes = 0

    def on_url(self, url: bytes) -> None:
        self._target_bytes += len(url)
        if self._target_bytes > self.limits.max_request_line_bytes:
            raise self._refused(414, f"the request target is over {self.limits.max_request_line_bytes} bytes")
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._fields += 1
        self._field_bytes += len(name) + len(value)
        if self._fields > self.limits.max_headers:
            raise self._refused(431, f"the request has over {self.limits.max_headers} header fields")
        if self._field_bytes > self.limits.max_header_bytes:
            raise self._refused(431, f"the request's headers are over {self.limits.max_header_bytes} bytes")
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head, self._head_bytes = False, 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_head = True
        super().on_message_complete()

    def _refused(self, status: int, detail: str) -> _Refused:
        self._refusal = (status, detail)
        return _Refused(detail)

    def send_400_response(self, msg: str) -> None:
        # httptools reports an exception of a callback as a parse error, which uvicorn answers here.
        if self._refusal is None:
            super().send_400_response(msg)
        else:
            self._refuse(*self._refusal)

    def _refuse(self, status: int, detail: str) -> None:
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "a client"
        log.warning("refused a request of %s with %d: %s", client, status, detail)
        body = _answer(detail)
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
            b"connection: close\r\n\r\n%s" % (status, _REASONS[status], len(body), body)
        )
        # Closing a socket with unread data sends a reset, which can destroy the answer before the
        # client reads it (a client still sending its huge header, as the tests saw under load):
        # stop writing, drop what still comes for a moment, then close.
        self._lingering = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_S, self.transport.close)


class BodyLimit:
    """ASGI middleware: 413 for a body over ``max_bytes``, declared or streamed, before it is all read."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            detail = f"the body is {int(declared)} bytes, at most {self.max_bytes} accepted"
            await self._too_large(send, detail)
            return
        received = 0
        refused = started = False

        async def limited() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Answered here; to the app the client is gone (Starlette: ClientDisconnect).
                    refused = True
                    if not started:
                        await self._too_large(send, f"the body is over {self.max_bytes} bytes")
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, guarded)
        except Exception:
            if not refused:
                raise

    @staticmethod
    async def _too_large(send: Send, detail: str) -> None:
        body = _answer(detail)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
