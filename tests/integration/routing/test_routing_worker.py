"""The routing worker on the real broker, driven through ingest's public APIs like a shop would.

Three operators with different languages and capacities work through 200
conversations in Italian, Polish and English: the test plays the operators,
replying to and resolving what they are assigned. Midway one operator goes
offline, and later the routing worker is killed with SIGKILL and restarted.
Afterwards every conversation was resolved, none was ever with two operators
at once, and every assignment respected language and capacity.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client import CollectorRegistry

from pronto import envelope, topics
from pronto.kafka.reader import read_records
from pronto.v1 import common_pb2, events_pb2, ingest_pb2, ingest_pb2_grpc, operator_pb2, operator_pb2_grpc
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import IngestService, RoutingService
from services.routing.metrics import RoutingMetrics
from services.routing.settings import RoutingSettings
from services.routing.worker import Worker
from tests.plugins.ingest import bearer, start_ingest

pytestmark = pytest.mark.integration

CHAT, EMAIL = common_pb2.CHANNEL_WEB_CHAT, common_pb2.CHANNEL_EMAIL
# Operator -> (languages, chats at once, e-mails at once)
TEAM = {
    "giulia": (("it", "en"), 3, 4),
    "marek": (("pl",), 2, 3),
    "sam": (("en",), 2, 2),
}
LANGUAGES = ("it", "pl", "en")
CONVERSATIONS = 200
ROUTING_ENV = {
    "PRONTO_ROUTING_WIDEN_AFTER_S": "[1, 2, 3]",
    # Nothing is taken back for silence here: the simulated operators always reply.
    "PRONTO_ROUTING_REPLY_WITHIN_S": "{}",
    "PRONTO_ROUTING_TICK_S": "0.2",
    # Checkpoints every 50 records: the killed worker restarts from a snapshot taken mid-run.
    "PRONTO_SNAPSHOT_EVERY_RECORDS": "50",
}


def start_routing(broker: EmbeddedBroker, log: Path) -> RoutingService:
    service = RoutingService(broker.bootstrap_servers, log, env=ROUTING_ENV)
    service.start().wait_ready(timeout=60)
    return service


@dataclass
class Operators:
    """The simulated operators: they take what they are assigned, answer, and resolve it."""

    stub: operator_pb2_grpc.OperatorServiceStub
    seen: set[str] = field(default_factory=set)
    duplicates: int = 0
    assigned: dict[str, list[events_pb2.ConversationAssigned]] = field(
        default_factory=lambda: defaultdict(list)
    )
    reassigned: dict[str, list[events_pb2.ConversationReassigned]] = field(
        default_factory=lambda: defaultdict(list)
    )
    # Conversation -> "Assigned" / "Reassigned", in the order of its partition.
    history: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    current: dict[str, str] = field(default_factory=dict)
    channel: dict[str, int] = field(default_factory=dict)
    open: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    resolved: set[str] = field(default_factory=set)
    over_capacity: list[str] = field(default_factory=list)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def take(self, event: envelope.Envelope) -> None:
        if event.id in self.seen:
            self.duplicates += 1
            return
        self.seen.add(event.id)
        payload = event.payload
        if isinstance(payload, events_pb2.ConversationAssigned | events_pb2.ConversationReassigned):
            self.history[payload.conversation_id].append(type(payload).__name__.removeprefix("Conversation"))
        if isinstance(payload, events_pb2.ConversationReassigned):
            self.reassigned[payload.conversation_id].append(payload)
            self.open[payload.from_operator_id].discard(payload.conversation_id)
            self.current.pop(payload.conversation_id, None)
        elif isinstance(payload, events_pb2.ConversationAssigned):
            conversation, operator = payload.conversation_id, payload.operator_id
            self.assigned[conversation].append(payload)
            self.current[conversation] = operator
            self.channel[conversation] = payload.channel
            self.open[operator].add(conversation)
            self._check_capacity(operator, payload.channel)
            task = asyncio.create_task(self._handle(conversation, operator))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    def progress(self) -> str:
        never = sorted(set(self.current) - self.resolved)[:5]
        return (
            f"{len(self.assigned)} assigned, {len(self.resolved)} resolved, "
            f"open { {k: len(v) for k, v in self.open.items()} }, e.g. unresolved {never}"
        )

    def _check_capacity(self, operator: str, channel: int) -> None:
        """What this operator holds, as seen here, never exceeds what routing may give them.

        Routing frees capacity only after a resolution sent from here, and assigns only
        before its event arrives here: its load is always at least what is seen here.
        """
        _, chats, emails = TEAM[operator]
        limit = chats if channel == CHAT else emails
        holding = sum(1 for c in self.open[operator] if self.channel[c] == channel)
        if holding > limit:
            self.over_capacity.append(f"{operator} holds {holding} on channel {channel}, capacity {limit}")

    async def _handle(self, conversation: str, operator: str) -> None:
        await asyncio.sleep(random.uniform(0.2, 0.6))
        if self.current.get(conversation) != operator:
            return
        metadata = bearer("shop-a")
        await self.stub.PostReply(
            operator_pb2.PostReplyRequest(conversation_id=conversation, operator_id=operator, text="Ecco!"),
            metadata=metadata,
        )
        await self.stub.ResolveConversation(
            operator_pb2.ResolveConversationRequest(conversation_id=conversation, operator_id=operator),
            metadata=metadata,
        )
        self.open[operator].discard(conversation)
        self.resolved.add(conversation)


async def follow(bootstrap_servers: str, operators: Operators, stop: asyncio.Event) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, fetch_max_wait_ms=20)
    await consumer.start()
    try:
        await consumer.topics()
        partitions = consumer.partitions_for_topic(topics.CONVERSATIONS.name) or set()
        consumer.assign([TopicPartition(topics.CONVERSATIONS.name, p) for p in partitions])
        while not stop.is_set():
            for records in (await consumer.getmany(timeout_ms=100)).values():
                for record in records:
                    operators.take(envelope.decode(record.headers, record.value))
    finally:
        await consumer.stop()


async def wait_for(condition: Callable[[], bool], timeout: float, what: str | Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout:.0f} s waiting for {what if isinstance(what, str) else what()}"
            )
        await asyncio.sleep(0.05)


async def set_up_team(stub: operator_pb2_grpc.OperatorServiceStub) -> None:
    for operator, (languages, chats, emails) in TEAM.items():
        profile = events_pb2.OperatorProfileUpdated(
            operator_id=operator,
            display_name=operator.title(),
            languages=[events_pb2.LanguageSkill(language=lang, proficiency=5) for lang in languages],
            capacities=[
                events_pb2.ChannelCapacity(channel=CHAT, max_concurrent=chats),
                events_pb2.ChannelCapacity(channel=EMAIL, max_concurrent=emails),
            ],
        )
        metadata = bearer("shop-a")
        await stub.UpdateOperatorProfile(
            operator_pb2.UpdateOperatorProfileRequest(profile=profile), metadata=metadata
        )
        await stub.SetOperatorStatus(
            operator_pb2.SetOperatorStatusRequest(
                operator_id=operator, status=events_pb2.OPERATOR_STATUS_ONLINE
            ),
            metadata=metadata,
        )


def a_message(index: int, run: str) -> ingest_pb2.PublishRequest:
    return ingest_pb2.PublishRequest(
        message_received=events_pb2.MessageReceived(
            conversation_id=f"{run}-c{index:03}",
            channel=CHAT if index % 2 else EMAIL,
            channel_message_id=f"{run}-m{index}",
            sender=common_pb2.Sender(id=f"customer-{index}"),
            text="Where is my order?",
            language=LANGUAGES[index % 3],
        )
    )


@pytest.fixture
def services(
    private_broker: EmbeddedBroker, tmp_path: Path
) -> Iterator[tuple[IngestService, RoutingService]]:
    ingest = start_ingest(private_broker.bootstrap_servers, tmp_path / "ingest.log")
    routing = start_routing(private_broker, tmp_path / "routing.log")
    yield ingest, routing
    routing.stop()
    ingest.stop()


@pytest.mark.timeout(240)
async def test_200_conversations_an_operator_leaving_and_a_killed_worker(
    private_broker: EmbeddedBroker, services: tuple[IngestService, RoutingService], tmp_path: Path
) -> None:
    ingest, routing = services
    run = uuid.uuid4().hex[:6]
    stop = asyncio.Event()
    async with grpc.aio.insecure_channel(ingest.grpc_target) as channel:
        operator_stub = operator_pb2_grpc.OperatorServiceStub(channel)
        ingest_stub = ingest_pb2_grpc.IngestServiceStub(channel)
        operators = Operators(operator_stub)
        follower = asyncio.create_task(follow(private_broker.bootstrap_servers, operators, stop))
        await set_up_team(operator_stub)
        publishing = asyncio.create_task(publish(ingest_stub, run))

        await wait_for(lambda: len(operators.assigned) >= 60, 60, "60 conversations assigned")
        await operator_stub.SetOperatorStatus(
            operator_pb2.SetOperatorStatusRequest(
                operator_id="marek", status=events_pb2.OPERATOR_STATUS_OFFLINE
            ),
            metadata=bearer("shop-a"),
        )
        marek_held = set(operators.open["marek"])
        await wait_for(lambda: len(operators.assigned) >= 110, 60, "110 conversations assigned")
        routing.kill()
        assigned_at_kill = len(operators.assigned)
        routing.start().wait_ready(timeout=60)
        restart_log = (tmp_path / "routing.log").read_text()
        assert re.search(r"snapshot of offset [1-9]\d* loaded", restart_log), "restarted without a snapshot"

        await publishing
        try:
            await wait_for(
                lambda: len(operators.resolved) >= CONVERSATIONS,
                120,
                lambda: f"every conversation resolved: {operators.progress()}",
            )
        except AssertionError:
            await explain(
                private_broker, {f"{run}-c{i:03}" for i in range(CONVERSATIONS)} - set(operators.assigned)
            )
            raise
        await asyncio.sleep(1.0)  # let late duplicates or stray assignments show up
        stop.set()
        await follower
        for task in list(operators.tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    replayed, written = await replay_everything(private_broker)
    for label, ids in (
        ("NOT WRITTEN", replayed.keys() - written.keys()),
        ("EXTRA", written.keys() - replayed.keys()),
    ):
        for event_id in ids:
            print(label, event_id, replayed.get(event_id) or written.get(event_id))
    assert {i: replayed[i] for i in replayed.keys() - written.keys()} == {}, "decisions never written"
    assert {i: written[i] for i in written.keys() - replayed.keys()} == {}, "decisions a replay does not make"
    conversations = {f"{run}-c{i:03}" for i in range(CONVERSATIONS)}
    assert set(operators.assigned) == conversations
    assert operators.resolved == conversations
    assert 60 <= assigned_at_kill < CONVERSATIONS, "the worker was killed mid-run"
    # Never with two operators at once: in each conversation's own (ordered) stream of decisions, an
    # assignment after the first follows a reassignment. A conversation its leaving operator resolved
    # just after it was taken back ends reassigned without a new operator.
    twice = {c: kinds for c, kinds in operators.history.items() if "AA" in "".join(k[0] for k in kinds)}
    assert twice == {}
    for conversation in conversations:
        assert len(operators.assigned[conversation]) - len(operators.reassigned[conversation]) in (0, 1)
    assert operators.over_capacity == []
    for conversation, assignments in operators.assigned.items():
        language = LANGUAGES[int(conversation[-3:]) % 3]
        for assignment in assignments:
            speaks = TEAM[assignment.operator_id][0]
            widened = assignment.level in ("FALLBACK_LANGUAGE", "ANY_TEAM") and "en" in speaks
            assert language in speaks or widened, (conversation, assignment)
    # marek's open conversations went to others when he left, and none of those came back to him.
    taken_from_marek = {
        c for c, r in operators.reassigned.items() if any(x.from_operator_id == "marek" for x in r)
    }
    assert marek_held
    assert marek_held <= taken_from_marek
    for conversation in taken_from_marek:
        reasons = [r.reason for r in operators.reassigned[conversation]]
        assert "operator went offline" in reasons
        assert all(a.operator_id != "marek" for a in operators.assigned[conversation][1:])
    polish_after = [
        a for c, assignments in operators.assigned.items() for a in assignments[1:] if c in taken_from_marek
    ]
    assert all(a.operator_id in ("giulia", "sam") for a in polish_after)
    print(
        f"assignments {sum(map(len, operators.assigned.values()))}, "
        f"reassignments {sum(map(len, operators.reassigned.values()))}, "
        f"redelivered duplicates {operators.duplicates}, "
        f"levels {Counter(a.level for v in operators.assigned.values() for a in v)}"
    )


async def replay_everything(broker: EmbeddedBroker) -> tuple[dict[str, str], dict[str, str]]:
    """What a fresh worker decides from the whole routing topic, and what the topic of decisions holds.

    The worker's state is a fold of its input, so the two must be the same set of events,
    whatever crashes and redeliveries happened on the way.
    """
    settings = RoutingSettings(
        routing_widen_after_s=(1.0, 2.0, 3.0), routing_reply_within_s={}, bootstrap_servers=""
    )
    worker = Worker(settings.policy(), RoutingMetrics(CollectorRegistry()), "/replay")
    replayed: dict[str, str] = {}
    for record in sorted(
        await read_records(broker.bootstrap_servers, topics.ROUTING.name, timeout=5), key=lambda r: r.offset
    ):
        for out in worker.apply(record.partition, record.headers, record.value):
            event = envelope.decode(out.headers, out.value)
            replayed[event.id] = f"{type(event.payload).__name__} {event.payload}".replace("\n", " ")
    written = {
        (
            event := envelope.decode(r.headers, r.value)
        ).id: f"{type(event.payload).__name__} {event.payload}".replace("\n", " ")
        for r in await read_records(broker.bootstrap_servers, topics.CONVERSATIONS.name, timeout=5)
    }
    return replayed, written


async def explain(broker: EmbeddedBroker, missing: set[str]) -> None:
    """Print what the topics hold about conversations never assigned (a failing run's evidence)."""
    for topic in (topics.INBOUND.name, topics.ROUTING.name, topics.CONVERSATIONS.name):
        for record in await read_records(broker.bootstrap_servers, topic, timeout=5):
            event = envelope.decode(record.headers, record.value)
            if getattr(event.payload, "conversation_id", None) in missing:
                print(
                    topic,
                    record.partition,
                    record.offset,
                    event.time,
                    type(event.payload).__name__,
                    event.payload,
                )


async def publish(stub: ingest_pb2_grpc.IngestServiceStub, run: str) -> None:
    """200 customers writing over about 8 seconds."""
    for index in range(CONVERSATIONS):
        await stub.Publish(a_message(index, run), metadata=bearer("shop-a"))
        await asyncio.sleep(0.04)
