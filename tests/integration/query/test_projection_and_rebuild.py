"""Projecting events live and rebuilding from the topics give the very same documents.

Events of 100 conversations on the real broker are projected live; then a rebuild from the topics into
fresh collections, swapped in, gives the very same documents."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from pronto_tools.broker.embedded import EmbeddedBroker
from services.query import main
from services.query.domain.entries import Doc
from services.query.feed import Feed, FeedMetrics
from services.query.projector import Projector
from services.query.rebuild import rebuild
from services.query.settings import QuerySettings
from services.query.store.memory import MemoryStore
from services.query.store.mongo import MongoStore
from services.query.store.port import Store
from tests.integration.query.publishing import publish
from tests.support import history, mongomock_async, stores

pytestmark = pytest.mark.integration
TENANT = "rebuild-shop"
START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
CONVERSATIONS = 100


def utc(_tenant: str) -> str:
    return "UTC"


@pytest.fixture(params=stores.KINDS)
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    async with stores.opened(request.param) as opened:
        yield opened


def expected_conversations() -> dict[str, Doc]:
    """What the projection must hold: the pure model's fold of each history."""
    docs = [
        stores.folded(TENANT, history.conversation(TENANT, n, START + timedelta(seconds=5)))
        for n in range(CONVERSATIONS)
    ]
    return {d["_id"]: d for d in docs}


async def projected(store: Store, expected: dict[str, Doc], timeout: float) -> dict[str, list[Doc]]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        dumped = await store.dump()
        complete = {d["_id"]: d["seq"] for d in dumped["conversations"]} == {
            k: d["seq"] for k, d in expected.items()
        }
        operators_done = [d["status"] for d in dumped["operators"]] == ["online", "online", "away"]
        if complete and operators_done:
            return dumped
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{len(dumped['conversations'])} of {len(expected)} conversations projected")
        await asyncio.sleep(0.2)


async def test_projected_then_rebuilt_identically(private_broker: EmbeddedBroker, store: Store) -> None:
    events = history.shop(TENANT, START, CONVERSATIONS)
    # Redeliveries: the first 50 events once more, after everything else.
    await publish(private_broker.bootstrap_servers, [*events, *events[:50]])

    registry = CollectorRegistry()
    group = None if isinstance(store, MemoryStore) else f"query-test-{uuid.uuid4().hex[:8]}"
    feed = Feed(private_broker.bootstrap_servers, Projector(store, utc), FeedMetrics(registry), group)
    stop = asyncio.Event()
    following = asyncio.create_task(feed.run(stop))
    expected = expected_conversations()
    try:
        live = await projected(store, expected, timeout=60)
    finally:
        stop.set()
        await following

    assert {d["_id"]: d for d in live["conversations"]} == expected
    assert [d["operator_id"] for d in live["operators"]] == ["op-0", "op-1", "op-2"]
    sla_events = sum(1 for e in events if type(e.payload).__name__.startswith("Sla"))
    assert len(live["sla_events"]) == sla_events
    applied = registry.get_sample_value(
        "pronto_query_events_total", {"topic": "support.inbound.v1", "outcome": "applied"}
    )
    duplicates = sum(
        s.value
        for metric in registry.collect()
        for s in metric.samples
        if s.name == "pronto_query_events_total" and s.labels["outcome"] == "duplicate"
    )
    assert applied == CONVERSATIONS + CONVERSATIONS // 4  # every first message, and a second in a quarter
    assert duplicates == 50  # the events written twice change nothing the second time

    # Damage the live read models: only a rebuild that really replaces them gives them back.
    damaged = {**live["conversations"][0], "status": "resolved", "seq": live["conversations"][0]["seq"] + 1}
    await store.put("conversations", damaged, live["conversations"][0]["seq"])
    await store.put("conversations", {**damaged, "_id": f"{TENANT}/no-such-conversation", "seq": 1}, 0)
    assert await store.dump() != live

    progress: list[tuple[int, int]] = []
    rebuilt = await rebuild(
        private_broker.bootstrap_servers, store, utc, lambda d, t: progress.append((d, t))
    )

    assert await store.dump() == live
    assert rebuilt.events == len(events) + 50
    assert rebuilt.documents == {"conversations": CONVERSATIONS, "operators": 3, "sla_events": sla_events}
    assert progress[-1] == (rebuilt.events, rebuilt.events)
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)


async def test_the_rebuild_command_shows_progress_and_the_final_count(
    private_broker: EmbeddedBroker, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    events = history.shop(TENANT, START, 10)
    await publish(private_broker.bootstrap_servers, events)
    settings = QuerySettings(bootstrap_servers=private_broker.bootstrap_servers)
    assert await main.run_rebuild(settings) == 2
    assert "set PRONTO_QUERY_MONGODB_URI" in capsys.readouterr().err

    # The command's own path, with its MongoDB adapter on mongomock (no server here).
    mongo = MongoStore(mongomock_async.Database())
    monkeypatch.setattr(main, "open_store", lambda _settings: mongo)
    settings = QuerySettings(
        bootstrap_servers=private_broker.bootstrap_servers, query_mongodb_uri="mongodb://unused.invalid"
    )
    assert await main.run_rebuild(settings) == 0
    out, err = capsys.readouterr()
    sla_events = sum(1 for e in events if type(e.payload).__name__.startswith("Sla"))
    counts = f"10 conversations, 3 operators, {sla_events} sla events"
    assert out.strip() == f"rebuilt from {len(events)} events and swapped in: {counts}"
    assert "replaying: 100%" in err
    assert f"{len(events)}/{len(events)}" in err
    assert len((await mongo.dump())["conversations"]) == 10


async def test_a_rebuild_finishes_while_traffic_keeps_coming(private_broker: EmbeddedBroker) -> None:
    tenant, first = "busy-shop", 20
    await publish(private_broker.bootstrap_servers, history.shop(tenant, START, first))

    async def traffic() -> None:
        """More conversations, a few events every 100 ms, for up to 60 s."""
        for n in range(first, first + 600):
            await publish(private_broker.bootstrap_servers, history.conversation(tenant, n, START))
            await asyncio.sleep(0.1)

    writing = asyncio.create_task(traffic())
    try:
        await asyncio.sleep(1.0)
        store = MemoryStore()
        rebuilt = await asyncio.wait_for(rebuild(private_broker.bootstrap_servers, store, utc), timeout=30)
        assert not writing.done(), "the traffic stopped before the rebuild ended: nothing was shown"
    finally:
        writing.cancel()
    assert rebuilt.documents["conversations"] >= first
    docs = {d["conversation_id"]: d for d in (await store.dump())["conversations"]}
    for n in range(first):
        assert docs[f"conv-{n:04d}"] == stores.folded(
            tenant, history.conversation(tenant, n, START + timedelta(seconds=5))
        )
