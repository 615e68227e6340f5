"""The read models' store: what the projector writes and the query API reads.

Two implementations keep the same contract (``tests/contract/test_store.py``):
``MongoStore`` for production and ``MemoryStore`` for tests and the demo.
Documents go in and come out as plain dicts with UTC datetimes to the millisecond.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from services.query.domain.entries import Doc

Collection = Literal["conversations", "operators", "sla_events"]
COLLECTIONS: tuple[Collection, ...] = ("conversations", "operators", "sla_events")
# The field a document's writers compare and set, so that of two concurrent writers one loses.
VERSION_FIELD = {"conversations": "seq", "operators": "version"}
MAX_PAGE = 200


@dataclass(frozen=True)
class ConversationQuery:
    tenant: str
    channel: str | None = None
    status: str | None = None
    operator_id: str | None = None
    # Conversations started in [since, until).
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 50
    offset: int = 0
    # Oldest first (the wallboard's longest waits) instead of newest first.
    oldest_first: bool = False


@dataclass(frozen=True)
class OperatorQuery:
    tenant: str
    status: str | None = None
    team: str | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class ReportQuery:
    tenant: str
    since_day: str
    until_day: str
    channel: str | None = None
    metric: str | None = None
    # Only SLA events at or after this instant (a window of the last minutes, within the days).
    since_at: datetime | None = None


@dataclass(frozen=True)
class Page:
    """Listed documents: newest first for conversations, by id for operators; ``total`` ignores paging."""

    items: list[Doc]
    total: int


@dataclass(frozen=True)
class OperatorStats:
    """Counted from the conversations: open assignments now, and in a time range those the operator
    resolved and the average wall-clock time to the first answers the operator gave."""

    load: int = 0
    handled: int = 0
    average_first_response_s: float | None = None


class Store(Protocol):
    async def start(self) -> None:
        """Connect and create the indexes the queries need."""

    async def close(self) -> None: ...

    async def get(self, collection: Collection, document_id: str) -> Doc | None: ...

    async def put(self, collection: Collection, doc: Doc, expected_version: int) -> None:
        """Write ``doc`` if the stored one still has ``expected_version`` (0: none stored yet);
        raise ConflictingWrite otherwise."""

    async def add_fact(self, fact: Doc) -> None:
        """Store an SLA event document once: a second one with the same id changes nothing."""

    async def conversations(self, query: ConversationQuery) -> Page:
        """Summaries: the documents without their timelines."""

    async def operators(self, query: OperatorQuery) -> Page: ...

    async def operator_stats(
        self, tenant: str, operator_ids: list[str], since: datetime, until: datetime
    ) -> dict[str, OperatorStats]: ...

    async def sla_report(self, query: ReportQuery) -> list[Doc]:
        """``domain.reports.report`` rows of the tenant's SLA events on days since..until (inclusive)."""

    async def fresh(self) -> Store:
        """A store on new, empty collections, for a rebuild to fill before ``swap_in``."""

    async def swap_in(self, fresh: Store) -> None:
        """Make ``fresh``'s collections this store's, dropping the old ones."""

    async def count(self, collection: Collection) -> int: ...

    async def dump(self) -> dict[str, list[Doc]]:
        """Every document, by collection, ordered by id."""
