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

uvicorn has no timeout on reading a head either (its keep-alive timeout starts after a response
and stops at the first byte): a connection that sent half a header, or nothing, stayed open for
good, and 21,000 of them took all of ingest's descriptors. A head must now be complete within
``head_timeout_s`` of the connection's opening or of the end of the previous response, however its
bytes trickle in: else 408 and close (a keep-alive connection that sent nothing since its last
response is closed without an answer, which might otherwise be read as the answer to a request sent
at that moment). And a port keeps at most ``max_connections`` open, at most
``max_connections_per_client`` from one address: beyond, a new connection is answered 503 and
closed at once. (uvicorn's ``limit_concurrency`` would not do: it counts open connections only
when a request's head is complete, so stalled heads are never refused, and answers the clients
that do complete one with 503 while every stalled connection keeps its descriptor.)
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from typing import Any, ClassVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from pronto.settings import HttpLimits

log = logging.getLogger(__name__)

# After refusing, what the client still sends is read and dropped until it has been quiet for
# LINGER_QUIET_S, and for at most LINGER_S and LINGER_BYTES: a close with unread data sends a reset,
# which destroys the answer if the client has not read it yet. A fixed two seconds was too short
# for a client slowed by a loaded machine that was still sending its 8 MB request line.
LINGER_QUIET_S = 1.0
LINGER_S = 10.0
LINGER_BYTES = 16 * 1024 * 1024
_REASONS = {
    408: b"Request Timeout",
    413: b"Content Too Large",
    414: b"URI Too Long",
    431: b"Request Header Fields Too Large",
    503: b"Service Unavailable",
}
_ERRORS = {408: "timeout", 503: "too_many_connections"}
# Timeouts and connection refusals come by the thousand under attack: one log line at most this often.
LOG_EVERY_S = 5.0


def _answer(detail: str, error: str = "too_large") -> bytes:
    return json.dumps({"error": error, "detail": detail}).encode()


def _response(status: int, detail: str, extra: bytes = b"") -> bytes:
    body = _answer(detail, _ERRORS.get(status, "too_large"))
    return (
        b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n%s"
        b"connection: close\r\n\r\n%s" % (status, _REASONS[status], len(body), extra, body)
    )


class _Census:
    """The open connections of one port, in all and by client address; and its refusals' log."""

    def __init__(self) -> None:
        self.total = 0
        self.by_client: dict[str, int] = {}
        self._logged_at = -math.inf
        self._unlogged = 0

    def admit(self, host: str, limits: HttpLimits) -> str | None:
        """Counts the connection in, or says why it is refused."""
        if self.total >= limits.max_connections:
            return f"the port has {self.total} connections open, at most {limits.max_connections}"
        from_host = self.by_client.get(host, 0)
        per_client = limits.max_connections_per_client
        if per_client and from_host >= per_client:
            return f"{from_host} connections are open from this address, at most {per_client}"
        self.total += 1
        self.by_client[host] = from_host + 1
        return None

    def release(self, host: str) -> None:
        self.total -= 1
        left = self.by_client[host] - 1
        if left:
            self.by_client[host] = left
        else:
            del self.by_client[host]

    def log(self, message: str, *args: object) -> None:
        """Logs at most one refusal every ``LOG_EVERY_S``, with the number of those not logged."""
        now = time.monotonic()
        if now - self._logged_at < LOG_EVERY_S:
            self._unlogged += 1
            return
        if self._unlogged:
            message += " (and %d more timeouts or refused connections since the last line)"
            args += (self._unlogged,)
        log.warning(message, *args)
        self._logged_at, self._unlogged = now, 0


class _Refused(Exception):
    """Raised from a parser callback to stop parsing; ``LimitedHttpProtocol`` answers it."""


class LimitedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, answering 414 or 431 as soon as a request's head is too large,
    408 when it is too slow, and 503 to a connection over the port's or the address's cap."""

    limits: ClassVar[HttpLimits] = HttpLimits()
    census: ClassVar[_Census] = _Census()

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
        self._quiet: asyncio.TimerHandle | None = None
        # The request line and headers as a whole, with room for the separators of each field.
        self._max_head = self.limits.max_request_line_bytes + self.limits.max_header_bytes
        self._max_head += 4 * self.limits.max_headers + 64
        self._head_timer: asyncio.TimerHandle | None = None
        self._responses = 0
        self._counted: str | None = None  # the address this connection is counted under

    @classmethod
    def with_limits(cls, limits: HttpLimits) -> type[LimitedHttpProtocol]:
        """The protocol of one port: its limits, and a census of its own connections."""
        return type("LimitedHttpProtocol", (cls,), {"limits": limits, "census": _Census()})

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        host = self.client[0] if self.client else ""
        refusal = self.census.admit(host, self.limits)
        if refusal is not None:
            # Closed at once: nothing is read, and the descriptor is free again.
            self.census.log("refused a connection of %s with 503: %s", host or "a client", refusal)
            self.transport.write(_response(503, refusal, b"retry-after: 1\r\n"))
            self.transport.close()
            return
        self._counted = host
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        self._release()
        super().connection_lost(exc)

    def handle_websocket_upgrade(self) -> None:
        # The connection is another protocol's from here on: our connection_lost would never come.
        self._disarm_head_timer()
        self._release()
        super().handle_websocket_upgrade()

    def _release(self) -> None:
        if self._counted is not None:
            self.census.release(self._counted)
            self._counted = None

    def _arm_head_timer(self) -> None:
        self._disarm_head_timer()
        if not self.transport.is_closing():
            self._head_timer = self.loop.call_later(self.limits.head_timeout_s, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self._lingering or not self._in_head:
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being answered: the next head's time starts after it
        if self._responses and self._head_bytes == 0:
            # Kept alive and idle since its last response: closed as uvicorn's keep-alive timeout
            # would, without an answer a client sending a request at this moment could take as its.
            self.transport.close()
            return
        timeout = self.limits.head_timeout_s
        detail = f"the request's line and headers did not arrive within {timeout:g} s"
        self._refuse(408, detail)

    def data_received(self, data: bytes) -> None:
        if self.transport.is_closing():
            return
        if self._lingering:  # refused: what the client still sends is read and dropped
            self._discarded += len(data)
            if self._discarded > LINGER_BYTES:
                self.transport.close()
            else:
                self._close_when_quiet()
            return
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        # One header field still incomplete reaches no callback: count what its head has read. (Not
        # once refused: a read holding a long request line and more was refused twice, the second
        # answer written after the first's end of file, and the connection aborted with a reset.)
        if (
            self._in_head
            and self._head_bytes > self._max_head
            and not self._lingering
            and not self.transport.is_closing()
        ):
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
        self._disarm_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_head = True
        super().on_message_complete()
        if self.cycle is not None and self.cycle.response_complete and not self.pipeline:
            self._arm_head_timer()  # answered before its body was all read: the next head's time starts

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._responses += 1
        # The next head's time starts now, unless a pipelined request is being answered already
        # (then after its response) or this one's body is still coming (then once it has come).
        if self._in_head and (self.cycle is None or self.cycle.response_complete):
            self._arm_head_timer()

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
        if self._lingering:  # answered already; one answer per connection
            return
        self._disarm_head_timer()
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "a client"
        if status == 408:
            self.census.log("refused a request of %s with %d: %s", client, status, detail)
        else:
            log.warning("refused a request of %s with %d: %s", client, status, detail)
        self.transport.write(_response(status, detail))
        # Closing a socket with unread data sends a reset, which can destroy the answer before the
        # client reads it (a client still sending its huge header, as the tests saw under load):
        # stop writing, drop what still comes for a moment, then close.
        self._lingering = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._close_when_quiet()
        self.loop.call_later(LINGER_S, self.transport.close)

    def _close_when_quiet(self) -> None:
        """Close once the refused client has sent nothing for ``LINGER_QUIET_S``."""
        if self._quiet is not None:
            self._quiet.cancel()
        self._quiet = self.loop.call_later(LINGER_QUIET_S, self.transport.close)


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
