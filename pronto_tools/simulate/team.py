"""The shop's support team: operators who answer what they are assigned, through the operator API only.

An operator learns of an assignment as a real one does, from notify's operator webhook (see
``inbox.py``), replies after a handling time over gRPC, and resolves. One of them takes a break
during the run, so that routing has to take their conversations back and give them to colleagues.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import grpc

from pronto.grpc_client import ProntoClient
from pronto.v1 import events_pb2, operator_pb2
from pronto_tools.simulate.customers import CHANNELS

# (id, display name, languages with proficiency)
MEMBERS = (
    ("giulia", "Giulia", {"it": 5, "en": 4}),
    ("marco", "Marco", {"it": 5, "es": 3}),
    ("chiara", "Chiara", {"it": 5, "de": 3, "en": 3}),
    ("anna", "Anna", {"pl": 5, "en": 4}),
    ("piotr", "Piotr", {"pl": 5, "de": 2}),
    ("lucia", "Lucía", {"es": 5, "en": 4}),
    ("jonas", "Jonas", {"de": 5, "en": 5}),
    ("emma", "Emma", {"en": 5}),
)
REPLIES = {
    "it": "Buongiorno, ci penso io: le scrivo appena ho verificato.",
    "pl": "Dzień dobry, już sprawdzam i zaraz odpiszę.",
    "en": "Hello, I am looking into it and will get back to you shortly.",
    "es": "Hola, lo reviso ahora mismo y le respondo enseguida.",
    "de": "Guten Tag, ich kümmere mich darum und melde mich gleich.",
}


def roster(count: int, capacity: int, prefix: str = "") -> list[events_pb2.OperatorProfileUpdated]:
    """``count`` operators (the members in turn, numbered after the first eight), ``capacity`` per channel;
    ``prefix`` keeps one team's ids apart from another's in the same shop."""
    profiles = []
    for n in range(count):
        operator_id, name, languages = MEMBERS[n % len(MEMBERS)]
        round_ = n // len(MEMBERS)
        profiles.append(
            events_pb2.OperatorProfileUpdated(
                operator_id=prefix + (f"{operator_id}-{round_ + 1}" if round_ else operator_id),
                display_name=f"{name} {round_ + 1}" if round_ else name,
                languages=[events_pb2.LanguageSkill(language=k, proficiency=v) for k, v in languages.items()],
                capacities=[
                    events_pb2.ChannelCapacity(channel=c, max_concurrent=capacity) for c in CHANNELS.values()
                ],
                team="front",
            )
        )
    return profiles


@dataclass
class Team:
    client: ProntoClient
    profiles: Sequence[events_pb2.OperatorProfileUpdated]
    seed: int = 1
    handling_s: tuple[float, float] = (1.0, 6.0)
    counts: Counter[str] = field(default_factory=Counter)
    _away: set[str] = field(default_factory=set)
    _tasks: dict[tuple[str, str], asyncio.Task[None]] = field(default_factory=dict)
    # Set by ``stop``: assignments told afterwards (the inbox still hears them while the run settles)
    # are not answered, since the client is closing.
    _stopped: bool = False

    def __post_init__(self) -> None:
        self._random = random.Random(f"team-{self.seed}")
        self._members = {p.operator_id for p in self.profiles}

    @property
    def ids(self) -> list[str]:
        return [p.operator_id for p in self.profiles]

    async def come_online(self) -> None:
        for profile in self.profiles:
            await self.client.operators.UpdateOperatorProfile(
                operator_pb2.UpdateOperatorProfileRequest(profile=profile), metadata=self.client.metadata
            )
            await self.status(profile.operator_id, events_pb2.OPERATOR_STATUS_ONLINE, "shift starts")

    async def status(self, operator_id: str, status: int, reason: str) -> None:
        """Told to routing first: if that fails, the team still holds what routing believes."""
        await self.client.operators.SetOperatorStatus(
            operator_pb2.SetOperatorStatusRequest(operator_id=operator_id, status=status, reason=reason),  # type: ignore[arg-type]
            metadata=self.client.metadata,
        )
        if status == events_pb2.OPERATOR_STATUS_ONLINE:
            self._away.discard(operator_id)
        else:
            self._away.add(operator_id)
            for (_, holder), task in list(self._tasks.items()):
                if holder == operator_id:
                    task.cancel()  # routing gives their conversations to colleagues

    def assigned(self, operator_id: str, conversation_id: str, language: str) -> None:
        """Notify told ``operator_id`` of a new conversation: they will answer it after a handling time."""
        key = (conversation_id, operator_id)
        if self._stopped or key in self._tasks:
            return
        if operator_id not in self._members or operator_id in self._away:
            return
        self.counts["assignments told"] += 1
        task = asyncio.create_task(self._answer(conversation_id, operator_id, language))
        self._tasks[key] = task
        task.add_done_callback(lambda _: self._tasks.pop(key, None))

    async def _answer(self, conversation_id: str, operator_id: str, language: str) -> None:
        await asyncio.sleep(self._random.uniform(*self.handling_s))
        try:
            await self.client.operators.PostReply(
                operator_pb2.PostReplyRequest(
                    conversation_id=conversation_id,
                    operator_id=operator_id,
                    text=REPLIES.get(language, REPLIES["en"]),
                ),
                metadata=self.client.metadata,
            )
            self.counts["replied"] += 1
            await self.client.operators.ResolveConversation(
                operator_pb2.ResolveConversationRequest(
                    conversation_id=conversation_id, operator_id=operator_id
                ),
                metadata=self.client.metadata,
            )
            self.counts["resolved"] += 1
        except grpc.aio.AioRpcError as exc:  # ingest unavailable for a moment, or the run stopping
            self.counts[f"reply failed: {exc.code().name}"] += 1

    async def stop(self) -> None:
        self._stopped = True
        for task in list(self._tasks.values()):
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
