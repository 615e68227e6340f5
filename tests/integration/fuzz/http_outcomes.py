"""What the HTTP fuzz counted of the answers it got: server errors, writes acknowledged, streams opened."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Outcomes:
    answers: int = 0
    server_errors: list[str] = field(default_factory=list)
    # Event ids ingest acknowledged as written (202, not a duplicate), also through the console.
    accepted: set[str] = field(default_factory=set)
    # The console's operations whose 202s were such writes, with their counts.
    console_accepted: Counter[str] = field(default_factory=Counter)
    # The event streams (console, web chat widget) opened with a fuzzed query and headers.
    streams_opened: Counter[str] = field(default_factory=Counter)
    # Signed webhook cases: answers per route and status, and what the 200s acknowledged.
    signed: Counter[str] = field(default_factory=Counter)
    # The customer messages' event ids the webhooks' answers named (also in ``accepted``), by route.
    webhook_ids: dict[str, set[str]] = field(default_factory=dict)
    # Sum of the answers' "accepted" (events written, not duplicates: messages and delivery reports).
    webhook_written: int = 0
    # Sum of the answers' "dead_lettered", each body counted once (the same body is the same letter).
    dead_lettered: int = 0
    signed_bodies: set[tuple[str, bytes]] = field(default_factory=set)
    # Ids not named by an answer but following from what was sent (see http_webhooks._count_webhook_answer).
    implied: set[str] = field(default_factory=set)
