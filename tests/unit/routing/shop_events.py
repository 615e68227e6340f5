"""Builds the events a shop's routing folds in the tests, and a sample history to replay."""

from __future__ import annotations

import itertools
from datetime import timedelta

from google.protobuf.message import Message
from prometheus_client import CollectorRegistry

from pronto.envelope import Envelope
from pronto.v1 import common_pb2, events_pb2
from services.routing.domain.tenant import Ladder
from services.routing.metrics import RoutingMetrics
from services.routing.shop import Policy, Shop
from services.routing.shop_events_out import Emitted
from services.routing.worker import Worker
from tests.unit.routing.builders import at

POLICY = Policy(
    ladder=Ladder((timedelta(minutes=2), timedelta(minutes=5), timedelta(minutes=10))),
    reply_within={"web_chat": timedelta(minutes=2)},
    handling_time={"web_chat": timedelta(minutes=4)},
    position_every=timedelta(seconds=10),
)
_ids = itertools.count()


def event(payload: Message, minute: float = 0.0, event_id: str = "") -> Envelope:
    return Envelope(event_id or f"e{next(_ids)}", "/test", "shop", payload, at(minute))


def profile(
    operator_id: str,
    languages: tuple[str, ...] = ("it",),
    chats: int = 2,
    topics: tuple[common_pb2.SupportTopic, ...] = (),
) -> events_pb2.OperatorProfileUpdated:
    return events_pb2.OperatorProfileUpdated(
        operator_id=operator_id,
        display_name=operator_id.title(),
        languages=[events_pb2.LanguageSkill(language=lang, proficiency=5) for lang in languages],
        topics=list(topics),
        capacities=[events_pb2.ChannelCapacity(channel=common_pb2.CHANNEL_WEB_CHAT, max_concurrent=chats)],
    )


def status(
    operator_id: str, value: int = events_pb2.OPERATOR_STATUS_ONLINE
) -> events_pb2.OperatorStatusChanged:
    return events_pb2.OperatorStatusChanged(operator_id=operator_id, status=value)  # type: ignore[arg-type]


def message(
    conversation_id: str, customer: str = "", language: str = "it", channel: int = common_pb2.CHANNEL_WEB_CHAT
) -> events_pb2.MessageReceived:
    return events_pb2.MessageReceived(
        conversation_id=conversation_id,
        channel=channel,  # type: ignore[arg-type]
        sender=common_pb2.Sender(id=customer or f"customer-{conversation_id}"),
        text="Ciao",
        language=language,
    )


def online(shop: Shop, *operators: events_pb2.OperatorProfileUpdated, minute: float = 0.0) -> None:
    for operator in operators:
        shop.apply(event(operator, minute))
        shop.apply(event(status(operator.operator_id), minute))


def payloads(emitted: list[Emitted]) -> list[Message]:
    return [e.payload for e in emitted]


def kinds(emitted: list[Emitted]) -> list[str]:
    return [type(e.payload).__name__ for e in emitted]


def sample_history() -> list[Envelope]:
    """Arrivals, operators coming and going, replies, resolutions and ticks, in one shop."""
    history = [event(p) for p in (profile("ana", chats=2), status("ana"), profile("bea", ("it", "pl"), 1))]
    history.append(event(status("bea")))
    for index in range(12):
        history.append(event(message(f"c{index}", language=("it", "pl")[index % 2]), index * 0.5))
        if index % 3 == 2:
            history.append(
                event(events_pb2.ConversationResolved(conversation_id=f"c{index - 2}"), index * 0.5)
            )
        history.append(event(events_pb2.RoutingTick(), index * 0.5 + 0.1))
    history.append(event(status("ana", events_pb2.OPERATOR_STATUS_OFFLINE), 7.0))
    history += [event(events_pb2.RoutingTick(), 7.0 + minute) for minute in range(15)]
    return history


def new_worker() -> Worker:
    return Worker(POLICY, RoutingMetrics(CollectorRegistry()), "/test")
