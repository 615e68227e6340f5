"""Signed tokens seen within their replay window: one Mailgun signature is good for one message.

Mailgun signs its timestamp and token, not the message (``signatures.check_mailgun``), so whoever
saw one post (a log, a proxy, a mailbox rule) could send other senders and bodies with the same
(timestamp, token, signature) while the timestamp is recent (issue #26). Remembering the tokens
for as long as their timestamp is accepted closes that: a second use with other content is
refused. Mailgun itself retries a post it got no 200 for, with the same token and the same
fields; that retry is accepted again (the event id comes from the Message-Id, so nothing is
written twice), otherwise a broker outage during the first attempt would lose the message.

The memory is per ingest process: with several replicas a replay sent to another one is not
caught (a shared store would be needed for that). It is bounded by time (a token is forgotten
once its timestamp is outside the window, when the signature check refuses it anyway) and by
count: only posts with a valid signature are remembered, so only Mailgun's own traffic can
fill it, and past the bound the token closest to expiring is forgotten first.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from services.ingest.errors import BadSignature

MAX_REMEMBERED = 100_000


def content_of(params: Iterable[tuple[str, str]]) -> str:
    """What makes two posts the same message: all their fields, in any order (a digest)."""
    return hashlib.sha256(json.dumps(sorted(params)).encode()).hexdigest()


@dataclass
class SeenTokens:
    max_entries: int = MAX_REMEMBERED
    # (tenant, timestamp, token) -> (when it may be forgotten, content digest)
    _seen: dict[tuple[str, str, str], tuple[float, str]] = field(default_factory=dict)
    # (when it may be forgotten, key): a heap, soonest first
    _expiry: list[tuple[float, tuple[str, str, str]]] = field(default_factory=list)

    def use(
        self, tenant: str, timestamp: str, token: str, content: str, forget_at: float, now: float
    ) -> None:
        """Record a verified signature's use; BadSignature when it was used before for other content.

        The key is what the signature covers, timestamp and token: only the signing key's holder
        can pair a token with another timestamp. ``forget_at`` is when the timestamp leaves the
        accepted window.
        """
        self._prune(now)
        key = (tenant, timestamp, token)
        seen = self._seen.get(key)
        if seen is not None:
            if hmac.compare_digest(seen[1], content):
                return  # Mailgun retrying the very same post
            raise BadSignature(
                "this Mailgun token was already used for another message: "
                "a signature is good for one message only"
            )
        while len(self._seen) >= self.max_entries and self._expiry:
            _, oldest = heapq.heappop(self._expiry)
            self._seen.pop(oldest, None)
        self._seen[key] = (forget_at, content)
        heapq.heappush(self._expiry, (forget_at, key))

    def __len__(self) -> int:
        return len(self._seen)

    def _prune(self, now: float) -> None:
        while self._expiry and self._expiry[0][0] < now:
            _, key = heapq.heappop(self._expiry)
            self._seen.pop(key, None)
