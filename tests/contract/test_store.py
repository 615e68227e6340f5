"""One contract for every read-model store: the same assertions on each.

- ``memory``: the in-memory store (tests, demo);
- ``mongo-adapter-on-mongomock``: ``MongoStore`` on mongomock, an imitation of MongoDB in Python,
  which checks the adapter's queries here where no MongoDB server runs;
- ``mongodb``: ``MongoStore`` on a real server, when ``PRONTO_TEST_MONGODB_URI`` names one
  (each test uses its own database and drops it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from pronto.envelope import Envelope
from services.query.domain.entries import Doc, conversation_event
from services.query.domain.operator import Position, with_event
from services.query.domain.reports import sla_fact
from services.query.errors import ConflictingWrite
from services.query.store.port import ConversationQuery, OperatorQuery, OperatorStats, ReportQuery, Store
from tests.support import history, stores

START = datetime(2026, 11, 24, 9, 0, 0, 250000, tzinfo=UTC)


@pytest.fixture(params=stores.KINDS)
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    async with stores.opened(request.param) as opened:
        yield opened


def conversation_doc(tenant: str, n: int, start: datetime = START) -> Doc:
    return stores.folded(tenant, history.conversation(tenant, n, start))


def operator_docs(tenant: str) -> list[Doc]:
    docs: dict[str, Doc] = {}
    for offset, envelope in enumerate(history.operators(tenant, START)):
        oid = envelope.payload.operator_id  # type: ignore[attr-defined]
        docs[oid] = with_event(docs.get(oid), envelope, Position(0, offset)) or docs[oid]
    return list(docs.values())


def facts(tenant: str, conversations: range, timezone: str = "UTC") -> list[Doc]:
    found = []
    for n in conversations:
        envelopes: list[Envelope] = history.conversation(tenant, n, START)
        for envelope in envelopes:
            event = conversation_event(envelope)
            assert event is not None
            fact = sla_fact(tenant, event.conversation_id, event.entry, timezone)
            if fact is not None:
                found.append(fact)
    return found


async def fill(store: Store, tenant: str, conversations: int) -> None:
    for n in range(conversations):
        await store.put("conversations", conversation_doc(tenant, n), 0)
    for doc in operator_docs(tenant):
        await store.put("operators", doc, 0)
    for fact in facts(tenant, range(conversations)):
        await store.add_fact(fact)


async def test_a_document_comes_back_as_written(store: Store) -> None:
    doc = conversation_doc("shop", 0)
    assert await store.get("conversations", doc["_id"]) is None
    await store.put("conversations", doc, 0)
    assert await store.get("conversations", doc["_id"]) == doc
    assert (await store.get("conversations", doc["_id"]) or {})["created_at"].microsecond == 250000


async def test_writes_compare_and_set_the_version(store: Store) -> None:
    doc = conversation_doc("shop", 0)
    await store.put("conversations", doc, 0)
    with pytest.raises(ConflictingWrite):
        await store.put("conversations", doc, 0)
    newer = {**doc, "seq": doc["seq"] + 1, "status": "resolved"}
    with pytest.raises(ConflictingWrite):
        await store.put("conversations", newer, doc["seq"] - 1)
    await store.put("conversations", newer, doc["seq"])
    assert (await store.get("conversations", doc["_id"]) or {})["status"] == "resolved"
    operator = operator_docs("shop")[0]
    await store.put("operators", operator, 0)
    with pytest.raises(ConflictingWrite):
        await store.put(
            "operators", {**operator, "version": operator["version"] + 1}, operator["version"] + 1
        )


async def test_an_sla_event_is_stored_once(store: Store) -> None:
    fact = facts("shop", range(1))[0]
    await store.add_fact(fact)
    await store.add_fact({**fact, "outcome": "met"})
    assert await store.count("sla_events") == 1
    assert (await store.dump())["sla_events"] == [fact]


async def test_conversations_newest_first_paged_without_timelines(store: Store) -> None:
    await fill(store, "shop", 10)
    await fill(store, "other-shop", 3)
    page = await store.conversations(ConversationQuery("shop", limit=4, offset=2))
    assert page.total == 10
    assert [d["conversation_id"] for d in page.items] == ["conv-0007", "conv-0006", "conv-0005", "conv-0004"]
    assert all("timeline" not in d and d["tenant"] == "shop" for d in page.items)
    assert page.items[0] == {k: v for k, v in conversation_doc("shop", 7).items() if k != "timeline"}


async def test_conversations_filtered(store: Store) -> None:
    await fill(store, "shop", 12)
    await fill(store, "other-shop", 12)

    async def ids(**filters: object) -> list[str]:
        page = await store.conversations(ConversationQuery("shop", limit=50, **filters))  # type: ignore[arg-type]
        assert page.total == len(page.items)
        return sorted(d["conversation_id"] for d in page.items)

    assert await ids(channel="telegram") == ["conv-0002", "conv-0005", "conv-0008", "conv-0011"]
    assert await ids(status="queued") == ["conv-0002", "conv-0006", "conv-0010"]
    assert await ids(status="resolved", channel="email") == ["conv-0007"]
    assert await ids(operator_id="op-1", status="assigned") == ["conv-0001", "conv-0004"]
    since = START + timedelta(seconds=3)
    assert await ids(since=since, until=since + timedelta(seconds=2)) == ["conv-0003", "conv-0004"]
    assert await ids(since=START + timedelta(days=1)) == []


async def test_conversations_with_equal_start_times_keep_a_stable_order(store: Store) -> None:
    for n in (3, 1, 2):
        doc = conversation_doc("shop", n, START - timedelta(seconds=n))  # all start at START
        await store.put("conversations", doc, 0)
    pages = [await store.conversations(ConversationQuery("shop", limit=1, offset=i)) for i in range(3)]
    assert [p.items[0]["conversation_id"] for p in pages] == ["conv-0001", "conv-0002", "conv-0003"]


async def test_operators_filtered_and_paged_by_id(store: Store) -> None:
    await fill(store, "shop", 0)
    await fill(store, "other-shop", 0)
    page = await store.operators(OperatorQuery("shop", limit=2))
    assert page.total == 3
    assert [d["operator_id"] for d in page.items] == ["op-0", "op-1"]
    online = await store.operators(OperatorQuery("shop", status="online"))
    assert [d["operator_id"] for d in online.items] == ["op-0", "op-1"]
    front = await store.operators(OperatorQuery("shop", team="front", offset=1))
    assert (front.total, [d["operator_id"] for d in front.items]) == (2, ["op-2"])


async def test_operator_figures_counted_from_the_conversations(store: Store) -> None:
    await fill(store, "shop", 12)
    await fill(store, "other-shop", 12)
    day = (START - timedelta(hours=1), START + timedelta(hours=1))
    stats = await store.operator_stats("shop", ["op-0", "op-1", "op-2", "op-nobody"], *day)
    # op-0 has conversations 0, 3, 6, 9: 0 answered in 20 s, 3 answered in 20 s and resolved,
    # 6 queued (never its own), 9 answered late (75 s). op-2 has 2, 5, 8, 11: 2 queued, 5 late,
    # 8 answered in 20 s, 11 answered in 20 s and resolved.
    assert stats["op-0"] == OperatorStats(load=2, handled=1, average_first_response_s=38.333)
    assert stats["op-2"] == OperatorStats(load=2, handled=1, average_first_response_s=38.333)
    assert stats["op-nobody"] == OperatorStats()
    tomorrow = await store.operator_stats(
        "shop", ["op-0"], day[1] + timedelta(days=1), day[1] + timedelta(days=2)
    )
    assert tomorrow["op-0"] == OperatorStats(load=2, handled=0, average_first_response_s=None)


async def test_sla_report_by_day_channel_and_metric(store: Store) -> None:
    await fill(store, "shop", 12)
    await fill(store, "other-shop", 4)
    rows = await store.sla_report(ReportQuery("shop", "2026-11-24", "2026-11-24"))
    assert [(r["day"], r["channel"]) for r in rows] == [
        ("2026-11-24", c) for c in ("email", "telegram", "web_chat")
    ]
    assert sum(r["started"] for r in rows) == 12
    web_chat = rows[2]
    assert (web_chat["met"], web_chat["breached"], web_chat["missed"], web_chat["compliance"]) == (
        2,
        2,
        1,
        0.5,
    )
    only = await store.sla_report(
        ReportQuery("shop", "2026-11-01", "2026-11-30", channel="email", metric="first_response")
    )
    assert [r["channel"] for r in only] == ["email"]
    assert await store.sla_report(ReportQuery("shop", "2026-11-25", "2026-11-30")) == []
    assert await store.sla_report(ReportQuery("shop", "2026-11-24", "2026-11-24", metric="resolution")) == []


async def test_a_fresh_store_swapped_in_replaces_everything(store: Store) -> None:
    await fill(store, "shop", 4)
    fresh = await store.fresh()
    assert await fresh.count("conversations") == 0
    await fill(fresh, "shop", 2)
    assert await store.count("conversations") == 4
    await store.swap_in(fresh)
    dumped = await store.dump()
    assert [d["conversation_id"] for d in dumped["conversations"]] == ["conv-0000", "conv-0001"]
    assert {c: len(d) for c, d in dumped.items()} == {
        "conversations": 2,
        "operators": 3,
        "sla_events": len(facts("shop", range(2))),
    }
    assert await store.count("operators") == 3


async def test_handled_counts_each_resolution_on_its_day(store: Store) -> None:
    doc = conversation_doc("shop", 3)  # resolved by op-0 on the first day
    doc["resolutions"].append(
        {"at": START + timedelta(days=1), "operator_id": "op-1"}
    )  # reopened, resolved again
    await store.put("conversations", doc, 0)
    first_day = (START - timedelta(hours=1), START + timedelta(hours=1))
    second_day = (first_day[0] + timedelta(days=1), first_day[1] + timedelta(days=1))
    on_first = await store.operator_stats("shop", ["op-0", "op-1"], *first_day)
    on_second = await store.operator_stats("shop", ["op-0", "op-1"], *second_day)
    assert [on_first[o].handled for o in ("op-0", "op-1")] == [1, 0]
    assert [on_second[o].handled for o in ("op-0", "op-1")] == [0, 1]


async def test_sla_report_of_the_last_minutes(store: Store) -> None:
    await fill(store, "shop", 12)
    # Conversation n starts at START + n s; its first-response outcome comes 20.1 s (met) or 60 s on.
    recent = await store.sla_report(
        ReportQuery("shop", "2026-11-24", "2026-11-24", since_at=START + timedelta(seconds=70))
    )
    assert sum(r["started"] for r in recent) == 0
    assert sum(r["met"] + r["breached"] + r["missed"] for r in recent) > 0
    everything = await store.sla_report(ReportQuery("shop", "2026-11-24", "2026-11-24"))
    assert sum(r["met"] for r in recent) < sum(r["met"] for r in everything)


async def test_conversations_oldest_first(store: Store) -> None:
    await fill(store, "shop", 6)
    page = await store.conversations(ConversationQuery("shop", limit=3, oldest_first=True))
    assert [d["conversation_id"] for d in page.items] == ["conv-0000", "conv-0001", "conv-0002"]
    assert page.total == 6
