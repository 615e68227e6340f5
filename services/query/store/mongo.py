"""The read models on MongoDB, through PyMongo's asyncio API (``AsyncMongoClient``).

motor, the asyncio driver this would once have used, reached end of life in
May 2026; PyMongo's own async API is its successor. The adapter stays thin:
each method is one or a few driver calls, and the same contract suite as the
in-memory store runs against it when ``PRONTO_TEST_MONGODB_URI`` names a server.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

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

REBUILD_SUFFIX = "__rebuild"
INDEXES: dict[Collection, list[IndexModel]] = {
    "conversations": [
        IndexModel([("tenant", ASCENDING), ("created_at", DESCENDING), ("_id", ASCENDING)]),
        IndexModel([("tenant", ASCENDING), ("status", ASCENDING), ("created_at", DESCENDING)]),
        IndexModel([("tenant", ASCENDING), ("channel", ASCENDING), ("created_at", DESCENDING)]),
        IndexModel([("tenant", ASCENDING), ("operator.id", ASCENDING), ("status", ASCENDING)]),
        IndexModel(
            [("tenant", ASCENDING), ("resolutions.operator_id", ASCENDING), ("resolutions.at", ASCENDING)]
        ),
        IndexModel(
            [
                ("tenant", ASCENDING),
                ("first_response.operator_id", ASCENDING),
                ("first_response.at", ASCENDING),
            ]
        ),
    ],
    "operators": [IndexModel([("tenant", ASCENDING), ("status", ASCENDING), ("_id", ASCENDING)])],
    "sla_events": [IndexModel([("tenant", ASCENDING), ("day", ASCENDING), ("channel", ASCENDING)])],
}


def connect(uri: str, database: str) -> MongoStore:
    """A store on ``database`` at ``uri``; datetimes come back timezone-aware (UTC)."""
    client: AsyncMongoClient[Doc] = AsyncMongoClient(uri, tz_aware=True, serverSelectionTimeoutMS=10_000)
    return MongoStore(client[database], close=client.close)


class MongoStore:
    def __init__(self, database: AsyncDatabase[Doc] | Any, suffix: str = "", close: Any = None) -> None:
        self._db = database
        self._suffix = suffix
        self._close = close

    def _c(self, collection: Collection) -> AsyncCollection[Doc]:
        return self._db[collection + self._suffix]

    async def start(self) -> None:
        for collection, indexes in INDEXES.items():
            await self._c(collection).create_indexes(indexes)

    async def close(self) -> None:
        if self._close is not None:
            await self._close()

    async def get(self, collection: Collection, document_id: str) -> Doc | None:
        doc: Doc | None = await self._c(collection).find_one({"_id": document_id})
        return doc

    async def put(self, collection: Collection, doc: Doc, expected_version: int) -> None:
        if expected_version == 0:
            try:
                await self._c(collection).insert_one(doc)
            except DuplicateKeyError as exc:
                raise ConflictingWrite(f"{collection}/{doc['_id']} exists already") from exc
            return
        guard = {"_id": doc["_id"], VERSION_FIELD[collection]: expected_version}
        result = await self._c(collection).replace_one(guard, doc)
        if result.matched_count != 1:
            raise ConflictingWrite(f"{collection}/{doc['_id']} is no longer at version {expected_version}")

    async def add_fact(self, fact: Doc) -> None:
        await self._c("sla_events").update_one({"_id": fact["_id"]}, {"$setOnInsert": fact}, upsert=True)

    async def conversations(self, query: ConversationQuery) -> Page:
        where: Doc = {"tenant": query.tenant}
        for field, value in (
            ("channel", query.channel),
            ("status", query.status),
            ("operator.id", query.operator_id),
        ):
            if value is not None:
                where[field] = value
        created = {op: t for op, t in (("$gte", query.since), ("$lt", query.until)) if t is not None}
        if created:
            where["created_at"] = created
        cursor = (
            self._c("conversations")
            .find(where, {"timeline": False})
            .sort([("created_at", ASCENDING if query.oldest_first else DESCENDING), ("_id", ASCENDING)])
            .skip(query.offset)
            .limit(query.limit)
        )
        return Page(await cursor.to_list(), await self._c("conversations").count_documents(where))

    async def operators(self, query: OperatorQuery) -> Page:
        where: Doc = {"tenant": query.tenant}
        for field, value in (("status", query.status), ("team", query.team)):
            if value is not None:
                where[field] = value
        cursor = self._c("operators").find(where).sort("_id", ASCENDING).skip(query.offset).limit(query.limit)
        return Page(await cursor.to_list(), await self._c("operators").count_documents(where))

    async def operator_stats(
        self, tenant: str, operator_ids: list[str], since: datetime, until: datetime
    ) -> dict[str, OperatorStats]:
        ids = {"$in": operator_ids}
        load = await self._grouped(
            {"tenant": tenant, "status": "assigned", "operator.id": ids}, "$operator.id", {"$sum": 1}
        )
        resolved = {"operator_id": ids, "at": {"$gte": since, "$lt": until}}
        handled = await self._grouped(
            {"tenant": tenant, "resolutions": {"$elemMatch": resolved}},
            "$resolutions.operator_id",
            {"$sum": 1},
            unwind={f"resolutions.{field}": value for field, value in resolved.items()},
        )
        firsts = await self._grouped(
            {
                "tenant": tenant,
                "first_response.operator_id": ids,
                "first_response.at": {"$gte": since, "$lt": until},
            },
            "$first_response.operator_id",
            {"$avg": "$first_response.seconds"},
        )
        return {
            i: OperatorStats(
                load=int(load.get(i, 0)),
                handled=int(handled.get(i, 0)),
                average_first_response_s=round(firsts[i], 3) if firsts.get(i) is not None else None,
            )
            for i in operator_ids
        }

    async def _grouped(self, where: Doc, key: str, value: Doc, unwind: Doc | None = None) -> dict[str, Any]:
        """``value`` per ``key`` of the matching conversations; with ``unwind``, per resolution
        matching it instead."""
        pipeline: list[Doc] = [{"$match": where}]
        if unwind is not None:
            pipeline += [{"$unwind": "$resolutions"}, {"$match": unwind}]
        pipeline.append({"$group": {"_id": key, "value": value}})
        cursor = await self._c("conversations").aggregate(pipeline)
        return {row["_id"]: row["value"] for row in await cursor.to_list()}

    async def sla_report(self, query: ReportQuery) -> list[Doc]:
        where: Doc = {"tenant": query.tenant, "day": {"$gte": query.since_day, "$lte": query.until_day}}
        for field, value in (("channel", query.channel), ("metric", query.metric)):
            if value is not None:
                where[field] = value
        if query.since_at is not None:
            where["at"] = {"$gte": query.since_at}
        group = {"day": "$day", "channel": "$channel", "metric": "$metric", "outcome": "$outcome"}
        pipeline = [
            {"$match": where},
            {"$group": {"_id": group, "n": {"$sum": 1}, "elapsed": {"$sum": "$elapsed_s"}}},
        ]
        cursor = await self._c("sla_events").aggregate(pipeline)
        rows: dict[tuple[str, str, str], tuple[dict[str, int], float]] = {}
        for row in await cursor.to_list():
            key = (row["_id"]["day"], row["_id"]["channel"], row["_id"]["metric"])
            counts, elapsed = rows.get(key, ({}, 0.0))
            counts[row["_id"]["outcome"]] = row["n"]
            if row["_id"]["outcome"] in ("met", "missed"):
                elapsed += row["elapsed"] or 0.0
            rows[key] = (counts, elapsed)
        return [reports.finish(*key, counts, elapsed) for key, (counts, elapsed) in sorted(rows.items())]

    async def fresh(self) -> Store:
        fresh = MongoStore(self._db, self._suffix + REBUILD_SUFFIX)
        for collection in COLLECTIONS:
            await fresh._c(collection).drop()
        await fresh.start()
        return fresh

    async def swap_in(self, fresh: Store) -> None:
        """Rename the fresh collections over these, one after the other (each rename is atomic)."""
        if not isinstance(fresh, MongoStore):
            raise TypeError("a MongoStore swaps in another MongoStore's collections only")
        for collection in COLLECTIONS:
            await fresh._c(collection).rename(collection + self._suffix, dropTarget=True)

    async def count(self, collection: Collection) -> int:
        return int(await self._c(collection).count_documents({}))

    async def dump(self) -> dict[str, list[Doc]]:
        return {c: await self._c(c).find().sort("_id", ASCENDING).to_list() for c in COLLECTIONS}
