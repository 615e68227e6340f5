"""The routing decision: a pure function of the conversation, the operators and the time.

Eligible operators are online, handle the channel, have room on it, speak
the conversation's language and cover its topic, within the widening level
the conversation has reached (``Level``). Among them the one who last served
the customer wins (sticky), then the lowest load ratio, then the longest idle.
Nobody eligible: the conversation waits, with a priority.

Every decision carries the best ranked candidates and the first refused, with
why each won or lost, and how many were considered, so that fairness and
overload can be queried later without a decision event growing with the team.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

from services.routing.domain.model import Conversation, Operator, Status

LIVE_CHANNELS = frozenset({"web_chat", "phone"})
# How many eligible operators, and how many refused ones, a decision lists with their reasons.
LISTED = 5
FALLBACK_LANGUAGE = "en"


class Level(IntEnum):
    """The widening ladder: each step accepts more operators than the one before."""

    EXACT = 0
    ANY_TOPIC = 1
    FALLBACK_LANGUAGE = 2
    ANY_TEAM = 3


@dataclass(frozen=True)
class Candidate:
    operator_id: str
    score: float
    reason: str
    eligible: bool = False


@dataclass(frozen=True)
class Assign:
    conversation_id: str
    operator_id: str
    candidates: tuple[Candidate, ...]
    reason: str
    # How many operators were considered: ``candidates`` lists only some of them.
    considered: int = 0


@dataclass(frozen=True)
class Wait:
    conversation_id: str
    priority: float
    candidates: tuple[Candidate, ...]
    reason: str
    # A live channel (chat, phone) with nobody online: offer the customer an answer by e-mail.
    nobody_online: bool
    considered: int = 0


Decision = Assign | Wait


def refusal(operator: Operator, conversation: Conversation) -> str:
    """Why ``operator`` cannot take ``conversation`` at its level, or "" when they can."""
    level = conversation.level
    if operator.status is not Status.ONLINE:
        return f"{operator.status.value}"
    if operator.id in conversation.excluded:
        return "let it go unanswered before"
    if conversation.channel not in operator.capacities:
        return f"does not handle {conversation.channel}"
    if operator.free(conversation.channel) <= 0:
        return f"at capacity on {conversation.channel}"
    language = conversation.language
    falls_back = level >= Level.FALLBACK_LANGUAGE and FALLBACK_LANGUAGE in operator.languages
    if language and language not in operator.languages and not falls_back:
        return f"does not speak {language}"
    if (
        level < Level.ANY_TOPIC
        and conversation.topics
        and operator.topics
        and operator.topics.isdisjoint(conversation.topics)
    ):
        return f"does not cover {', '.join(conversation.topics)}"
    if level < Level.ANY_TEAM and conversation.team and operator.team != conversation.team:
        return f"not in team {conversation.team}"
    return ""


def fits(operator: Operator, conversation: Conversation) -> bool:
    """``refusal(...) == ""`` without building reasons: it runs for every operator on every decision."""
    level = conversation.level
    channel = conversation.channel
    if operator.status is not Status.ONLINE or operator.id in conversation.excluded:
        return False
    if operator.capacities.get(channel, 0) - operator.load.get(channel, 0) <= 0:
        return False
    language = conversation.language
    if (
        language
        and language not in operator.languages
        and (level < Level.FALLBACK_LANGUAGE or FALLBACK_LANGUAGE not in operator.languages)
    ):
        return False
    if (
        level < Level.ANY_TOPIC
        and conversation.topics
        and operator.topics
        and operator.topics.isdisjoint(conversation.topics)
    ):
        return False
    return not (level < Level.ANY_TEAM and conversation.team and operator.team != conversation.team)


def _rank(operator: Operator, conversation: Conversation) -> tuple[int, float, float, str]:
    """Lower is better: sticky first, then load ratio, then longest idle; the id breaks ties."""
    sticky = 0 if operator.id == conversation.last_operator_id else 1
    idle = operator.idle_since.timestamp() if operator.idle_since else float("-inf")
    return sticky, operator.ratio, idle, operator.id


def decide(
    conversation: Conversation, operators: list[Operator], now: datetime, anyone_online: bool | None = None
) -> Decision:
    """Every operator given is considered; the decision lists the best ranked and the first refused.

    ``anyone_online``: whether anyone in the shop is online, when ``operators`` are only some of them.
    """
    eligible = []
    refused: list[Candidate] = []
    for operator in operators:
        if fits(operator, conversation):
            eligible.append(operator)
        elif len(refused) < LISTED:
            refused.append(Candidate(operator.id, 0.0, refusal(operator, conversation)))
    if eligible:
        ranked = heapq.nsmallest(LISTED, eligible, key=lambda o: _rank(o, conversation))
        winner = ranked[0]
        scored = tuple(
            Candidate(o.id, round(1.0 - o.ratio, 4), _why(o, winner, conversation), eligible=True)
            for o in ranked
        )
        return Assign(
            conversation.id,
            winner.id,
            scored + tuple(refused),
            _why(winner, winner, conversation),
            considered=len(operators),
        )
    online = any(o.status is Status.ONLINE for o in operators) if anyone_online is None else anyone_online
    return Wait(
        conversation.id,
        priority(conversation, now),
        tuple(refused),
        "nobody online" if not online else f"no eligible operator at level {Level(conversation.level).name}",
        nobody_online=not online and conversation.channel in LIVE_CHANNELS,
        considered=len(operators),
    )


def _why(operator: Operator, winner: Operator, conversation: Conversation) -> str:
    if operator.id != winner.id:
        return "eligible, ranked lower"
    if operator.id == conversation.last_operator_id:
        return "served this customer before"
    return f"lowest load ({operator.load_ratio():.2f}), then longest idle"


def priority(conversation: Conversation, now: datetime) -> float:
    """Higher waits less: loyalty tier, public complaints, callbacks, then minutes waited.

    Of two waiting conversations, the one with the higher priority has it at every instant, since
    both gain a minute per minute waited: the queue orders by ``Conversation.urgency``, the same
    order as an integer computed once (points minus arrival, in microseconds).
    """
    waited = (now - conversation.waiting_since).total_seconds() / 60 if conversation.waiting_since else 0.0
    return conversation.points() + waited
