"""The read models in this process's memory: for tests, and for the demo, which has no MongoDB.

Everything is lost when the process ends, so a service using it replays the
topics from the beginning at every start.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from datetime import datetime

from services.query.domain import reports
from services.query.domain.entries import Doc
from services.query.errors import ConflictingWrite
from services.query.store.port import (
    COLLECTIONS,
    VERSION_FIELD,
    Collection,
    ConversationQuery,
    OperatorQuery,
    OperatorStats,
    Page,
    ReportQuery,
    Store,
)


class MemoryStore:
    def __init__(self) -> None:
        self._data: dict[str, dict[str, Doc]] = {name: {} for name in COLLECTIONS}

    async def start(self) -> None:
        """Nothing to connect to; no indexes to make."""

    async def close(self) -> None:
        """Nothing to release."""

    async def get(self, collection: Collection, document_id: str) -> Doc | None:
        doc = self._data[collection].get(document_id)
        return copy.deepcopy(doc) if doc is not None else None

    async def put(self, collection: Collection, doc: Doc, expected_version: int) -> None:
        stored = self._data[collection].get(doc["_id"])
        version = 0 if stored is None else stored[VERSION_FIELD[collection]]
        if version != expected_version:
            raise ConflictingWrite(
                f"{collection}/{doc['_id']} is at version {version}, not {expected_version}"
            )
        self._data[collection][doc["_id"]] = copy.deepcopy(doc)

    async def add_fact(self, fact: Doc) -> None:
        self._data["sla_events"].setdefault(fact["_id"], copy.deepcopy(fact))

    async def conversations(self, query: ConversationQuery) -> Page:
        def wanted(doc: Doc) -> bool:
            return (
                doc["tenant"] == query.tenant
                and query.channel in (None, doc["channel"])
                and query.status in (None, doc["status"])
                and query.operator_id in (None, (doc["operator"] or {}).get("id"))
                and (query.since is None or doc["created_at"] >= query.since)
                and (query.until is None or doc["created_at"] < query.until)
            )

        found = sorted(self._matching("conversations", wanted), key=lambda d: d["_id"])
        found.sort(key=lambda d: d["created_at"], reverse=not query.oldest_first)
        page = found[query.offset : query.offset + query.limit]
        return Page(
            [copy.deepcopy({k: v for k, v in d.items() if k != "timeline"}) for d in page], len(found)
        )

    async def operators(self, query: OperatorQuery) -> Page:
        def wanted(doc: Doc) -> bool:
            return (
                doc["tenant"] == query.tenant
                and query.status in (None, doc["status"])
                and query.team in (None, doc["team"])
            )

        found = sorted(self._matching("operators", wanted), key=lambda d: d["_id"])
        return Page(copy.deepcopy(found[query.offset : query.offset + query.limit]), len(found))

    async def operator_stats(
        self, tenant: str, operator_ids: list[str], since: datetime, until: datetime
    ) -> dict[str, OperatorStats]:
        mine = [d for d in self._data["conversations"].values() if d["tenant"] == tenant]
        stats = {}
        for operator_id in operator_ids:
            firsts = [
                d["first_response"]["seconds"]
                for d in mine
                if d["first_response"]
                and d["first_response"]["operator_id"] == operator_id
                and since <= d["first_response"]["at"] < until
            ]
            stats[operator_id] = OperatorStats(
                load=sum(
                    1
                    for d in mine
                    if d["status"] == "assigned" and (d["operator"] or {}).get("id") == operator_id
                ),
                handled=sum(
                    1
                    for d in mine
                    for r in d["resolutions"]
                    if r["operator_id"] == operator_id and since <= r["at"] < until
                ),
                average_first_response_s=round(sum(firsts) / len(firsts), 3) if firsts else None,
            )
        return stats

    async def sla_report(self, query: ReportQuery) -> list[Doc]:
        def wanted(fact: Doc) -> bool:
            return (
                fact["tenant"] == query.tenant
                and query.since_day <= fact["day"] <= query.until_day
                and query.channel in (None, fact["channel"])
                and query.metric in (None, fact["metric"])
                and (query.since_at is None or fact["at"] >= query.since_at)
            )

        return reports.report(copy.deepcopy(list(self._matching("sla_events", wanted))))

    async def fresh(self) -> Store:
        return MemoryStore()

    async def swap_in(self, fresh: Store) -> None:
        if not isinstance(fresh, MemoryStore):
            raise TypeError("a MemoryStore swaps in another MemoryStore's documents only")
        self._data = fresh._data

    async def count(self, collection: Collection) -> int:
        return len(self._data[collection])

    async def dump(self) -> dict[str, list[Doc]]:
        return {
            name: [copy.deepcopy(d) for _, d in sorted(docs.items())] for name, docs in self._data.items()
        }

    def _matching(self, collection: Collection, wanted: Callable[[Doc], bool]) -> Iterable[Doc]:
        """The stored documents themselves: callers copy what they hand out."""
        return (d for d in self._data[collection].values() if wanted(d))
