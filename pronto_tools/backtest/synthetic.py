"""A made-up shop's history, for the backtest's tests and benchmark. No I/O but ``write_archive``.

Customers write at random (a Poisson process, seeded) in the languages and on the channels a scenario
gives; a team is online throughout; every operator replies and resolves a fixed time after each
assignment. The period is run through routing's and SLA's folds with the live configuration (the
backtest's own replay, every action placed after its conversation's assignment), and what came out is
the record: an archive in the shape ``pronto history export`` writes.
"""

from __future__ import annotations

import gzip
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from pronto import envelope, topics
from pronto.channels import channel_value
from pronto.envelope import Envelope
from pronto.v1 import common_pb2, events_pb2
from pronto_tools.backtest.candidate import Routing
from pronto_tools.backtest.replay import ACTIONS, Recorded, Replay
from pronto_tools.history.archive import MANIFEST, ArchivedRecord, Manifest, TopicPart, sha256_of
from services.sla.domain.policy import Policy as SlaPolicy

SOURCE = "/pronto/synthetic"


@dataclass(frozen=True)
class Member:
    id: str
    languages: Mapping[str, int]
    # Conversations at once on each channel.
    capacity: int = 3


@dataclass(frozen=True)
class Scenario:
    start: datetime
    hours: float
    messages_per_hour: float
    team: Sequence[Member]
    # Language -> share of the customers; channel -> share of the messages.
    languages: Mapping[str, float] = field(default_factory=lambda: {"it": 0.6, "pl": 0.4})
    channels: Mapping[str, float] = field(default_factory=lambda: {"web_chat": 0.7, "email": 0.3})
    reply_after_s: float = 60.0
    resolve_after_s: float = 240.0
    tenant: str = "shop"
    seed: int = 1


@dataclass
class History:
    """What the made-up period recorded: routing's input in order, routing's decisions, SLA's events."""

    routing: list[Envelope] = field(default_factory=list)
    decisions: list[Envelope] = field(default_factory=list)
    clocks: list[Envelope] = field(default_factory=list)

    def observe(self, event: Envelope) -> None:
        payload = event.payload
        if event.source.startswith("/pronto/backtest") and not isinstance(payload, ACTIONS):
            name = type(payload).__name__
            (self.clocks if name.startswith("Sla") else self.decisions).append(event)
        else:
            self.routing.append(event)

    def recorded(self) -> tuple[Recorded, list[tuple[int, Envelope]]]:
        """What a backtest of this history reads: the live run's first assignments and actions, and
        the stream to replay (``pronto_tools.backtest.recorded`` does the same from an archive)."""
        first: dict[str, tuple[str, datetime]] = {}
        for event in self.decisions:
            if isinstance(event.payload, events_pb2.ConversationAssigned):
                first.setdefault(event.payload.conversation_id, (event.payload.operator_id, event.time))
        actions: dict[str, list[tuple[int, Envelope]]] = {}
        stream = []
        for position, event in enumerate(self.routing):
            conversation = getattr(event.payload, "conversation_id", "")
            if isinstance(event.payload, ACTIONS) and conversation in first:
                actions.setdefault(conversation, []).append((position, event))
            else:
                stream.append((position, event))
        return Recorded(first, actions), stream


def _pick(rng: random.Random, shares: Mapping[str, float]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def inputs(scenario: Scenario) -> Iterator[Envelope]:
    """The team coming online, then the customers' messages, in time order."""
    tenant, t = scenario.tenant, scenario.start
    for member in scenario.team:
        profile = events_pb2.OperatorProfileUpdated(
            operator_id=member.id,
            display_name=member.id,
            languages=[
                events_pb2.LanguageSkill(language=k, proficiency=v) for k, v in member.languages.items()
            ],
            capacities=[
                events_pb2.ChannelCapacity(channel=channel_value(c), max_concurrent=member.capacity)
                for c in scenario.channels
            ],
        )
        yield Envelope(f"profile-{member.id}", SOURCE, tenant, profile, t)
        online = events_pb2.OperatorStatusChanged(
            operator_id=member.id, status=events_pb2.OPERATOR_STATUS_ONLINE
        )
        yield Envelope(f"online-{member.id}", SOURCE, tenant, online, t)
    rng = random.Random(scenario.seed)
    end = scenario.start + timedelta(hours=scenario.hours)
    n = 0
    while True:
        t += timedelta(seconds=rng.expovariate(scenario.messages_per_hour / 3600))
        if t >= end:
            return
        n += 1
        channel = _pick(rng, scenario.channels)
        message = events_pb2.MessageReceived(
            conversation_id=f"c{n}",
            channel=channel_value(channel),
            channel_message_id=f"m{n}",
            sender=common_pb2.Sender(id=f"customer-{n}", tier=common_pb2.CUSTOMER_TIER_STANDARD),
            text="where is my order?",
            language=_pick(rng, scenario.languages),
            kind=events_pb2.MESSAGE_KIND_TEXT,
        )
        yield Envelope(f"message-{n}", SOURCE, tenant, message, t)


def live(scenario: Scenario, routing: Routing, sla: SlaPolicy) -> History:
    """The period run live: each operator replies and resolves the scenario's times after assignment."""
    history = History()
    stream = list(enumerate(inputs(scenario)))
    placeholder: dict[str, tuple[str, datetime]] = {}
    actions: dict[str, list[tuple[int, Envelope]]] = {}
    for position, event in stream:
        payload = event.payload
        if isinstance(payload, events_pb2.MessageReceived):
            conversation = payload.conversation_id
            # An assignment no run makes ("", the message's time): every action moves to follow the real one.
            placeholder[conversation] = ("", event.time)
            reply = events_pb2.OperatorReplied(conversation_id=conversation, operator_id="?", text="on it")
            resolved = events_pb2.ConversationResolved(conversation_id=conversation, operator_id="?")
            after = (scenario.reply_after_s, scenario.resolve_after_s)
            actions[conversation] = [
                (
                    position,
                    Envelope(
                        f"{kind}-{conversation}",
                        SOURCE,
                        event.tenant,
                        action,
                        event.time + timedelta(seconds=s),
                    ),
                )
                for kind, action, s in (("reply", reply, after[0]), ("resolve", resolved, after[1]))
            ]
    replay = Replay(
        scenario.tenant, routing, sla, Recorded(placeholder, actions), history.observe, every_clock_event=True
    )
    replay.run(stream)
    return history


def write_archive(directory: Path, history: History, tenant: str) -> Manifest:
    """``history`` as the archive ``pronto history export --tenant`` would have written."""
    directory.mkdir(parents=True, exist_ok=True)
    manifest = Manifest("synthetic", "synthetic", tenant, None, None)
    for spec, events in (
        (topics.ROUTING, history.routing),
        (topics.CONVERSATIONS, history.decisions),
        (topics.SLA, history.clocks),
    ):
        part = manifest.topics[spec.name] = TopicPart(f"{spec.name}.jsonl.gz")
        with gzip.open(directory / part.file, "wb", compresslevel=1) as file:
            for offset, event in enumerate(events):
                headers, value = envelope.encode(event)
                key = (
                    tenant if spec is topics.ROUTING else getattr(event.payload, "conversation_id", "")
                ).encode()
                stamp = int(event.time.timestamp() * 1000)
                file.write(ArchivedRecord(0, offset, stamp, key, value, tuple(headers)).line())
        part.records = len(events)
        part.partitions = {0: [0, len(events)]} if events else {}
        part.sha256 = sha256_of(directory / part.file)
    (directory / MANIFEST).write_text(manifest.dumps())
    return manifest
