"""Tickets that open the console's event stream, so that no token travels in a URL.

``EventSource`` cannot send an ``Authorization`` header, so the stream used to
take the token in its query string, where proxies, access logs and browser
histories keep it (issue #26). The page now asks for a ticket with its token
(``POST``, header) and opens the stream with it: a random value, good for one
stream and for ``TICKET_LIFETIME_S``, kept in memory only.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable

from services.query.console.auth import Caller

TICKET_LIFETIME_S = 30.0
# Tickets not yet used; past this many the oldest are forgotten (a caller asking in a loop fills
# memory no further).
OUTSTANDING = 10_000


class Tickets:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        # ticket -> (caller, when it expires), oldest first
        self._open: OrderedDict[str, tuple[Caller, float]] = OrderedDict()

    def issue(self, caller: Caller) -> str:
        now = self._clock()
        while self._open and (len(self._open) >= OUTSTANDING or next(iter(self._open.values()))[1] <= now):
            self._open.popitem(last=False)
        ticket = secrets.token_urlsafe(32)
        self._open[ticket] = (caller, now + TICKET_LIFETIME_S)
        return ticket

    def redeem(self, ticket: str) -> Caller | None:
        """The ticket's caller, once; None when it is unknown, used or expired."""
        caller, expires = self._open.pop(ticket, (None, 0.0))
        return caller if caller is not None and expires > self._clock() else None
