"""The demo shop's support team: who they are, and operators who answer what they are assigned.

The operators act only through the public operator API (gRPC): they read
their assignments from support.conversations.v1, as an operator's desk
application would, reply after a handling time, and resolve.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition

from pronto import envelope, topics
from pronto.grpc_client import ProntoClient
from pronto.v1 import common_pb2, events_pb2, operator_pb2

ALL_CHANNELS = [c for c in common_pb2.Channel.values() if c != common_pb2.CHANNEL_UNSPECIFIED]
# (id, display name, languages with proficiency, team)
MEMBERS = (
    ("giulia", "Giulia", {"it": 5, "en": 4}, "front"),
    ("marco", "Marco", {"it": 5, "es": 3}, "front"),
    ("chiara", "Chiara", {"it": 5, "de": 3, "en": 3}, "front"),
    ("anna", "Anna", {"pl": 5, "en": 4}, "front"),
    ("piotr", "Piotr", {"pl": 5, "de": 2}, "front"),
    ("lucia", "Lucía", {"es": 5, "en": 4}, "front"),
    ("jonas", "Jonas", {"de": 5, "en": 5}, "front"),
    ("emma", "Emma", {"en": 5}, "front"),
)
# The one who goes on a break midway, so that the demo shows conversations being reassigned.
ON_A_BREAK = "giulia"


def profiles() -> list[events_pb2.OperatorProfileUpdated]:
    return [
        events_pb2.OperatorProfileUpdated(
            operator_id=operator_id,
            display_name=name,
            languages=[events_pb2.LanguageSkill(language=k, proficiency=v) for k, v in languages.items()],
            capacities=[events_pb2.ChannelCapacity(channel=c, max_concurrent=3) for c in ALL_CHANNELS],  # type: ignore[arg-type]
            team=team,
        )
        for operator_id, name, languages, team in MEMBERS
    ]


@dataclass
class DemoTeam:
    client: ProntoClient
    seed: int = 1
    handling_s: tuple[float, float] = (1.0, 6.0)
    counts: Counter[str] = field(default_factory=Counter)
    _seen: set[str] = field(default_factory=set)
    _holder: dict[str, str] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self.started = time.monotonic()

    async def come_online(self) -> None:
        for profile in profiles():
            await self.client.operators.UpdateOperatorProfile(
                operator_pb2.UpdateOperatorProfileRequest(profile=profile), metadata=self.client.metadata
            )
            await self.status(profile.operator_id, events_pb2.OPERATOR_STATUS_ONLINE, "shift starts")

    async def status(self, operator_id: str, status: int, reason: str) -> None:
        await self.client.operators.SetOperatorStatus(
            operator_pb2.SetOperatorStatusRequest(operator_id=operator_id, status=status, reason=reason),  # type: ignore[arg-type]
            metadata=self.client.metadata,
        )

    async def work(self, bootstrap_servers: str, stop: asyncio.Event) -> None:
        """Answer every assignment until ``stop``: reply after a handling time, then resolve."""
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, fetch_max_wait_ms=50)
        await consumer.start()
        try:
            await consumer.topics()
            name = topics.CONVERSATIONS.name
            consumer.assign([TopicPartition(name, p) for p in consumer.partitions_for_topic(name) or ()])
            while not stop.is_set():
                for records in (await consumer.getmany(timeout_ms=200)).values():
                    for record in records:
                        self._take(envelope.decode(record.headers, record.value))
        finally:
            for task in list(self._tasks):
                task.cancel()
            await consumer.stop()

    def _take(self, event: envelope.Envelope) -> None:
        if event.id in self._seen:
            return
        self._seen.add(event.id)
        payload = event.payload
        kind = type(payload).__name__
        self.counts[kind] += 1
        if isinstance(payload, events_pb2.ConversationAssigned):
            self._holder[payload.conversation_id] = payload.operator_id
            task = asyncio.create_task(self._answer(payload.conversation_id, payload.operator_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _answer(self, conversation_id: str, operator_id: str) -> None:
        await asyncio.sleep(self._random.uniform(*self.handling_s))
        if self._holder.get(conversation_id) != operator_id:
            return  # taken back meanwhile (the operator went on a break)
        with contextlib.suppress(Exception):  # the demo may be stopping
            await self.client.operators.PostReply(
                operator_pb2.PostReplyRequest(
                    conversation_id=conversation_id, operator_id=operator_id, text="Ecco la risposta!"
                ),
                metadata=self.client.metadata,
            )
            await self.client.operators.ResolveConversation(
                operator_pb2.ResolveConversationRequest(
                    conversation_id=conversation_id, operator_id=operator_id
                ),
                metadata=self.client.metadata,
            )
            self.counts["resolved"] += 1
