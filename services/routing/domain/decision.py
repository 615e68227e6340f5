"""The routing decision: a pure function of the conversation, the operators and the time.

Eligible operators are online, handle the channel, have room on it, speak
the conversation's language and cover its topic, within the widening level
the conversation has reached (``Level``). Among them the one who last served
the customer wins (sticky), then the lowest load ratio, then the longest idle.
Nobody eligible: the conversation waits, with a priority.

Every decision carries the candidates considered and why each won or lost,
so that fairness and overload can be queried later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

from services.routing.domain.model import Conversation, Operator, Status

LIVE_CHANNELS = frozenset({"web_chat", "phone"})
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


@dataclass(frozen=True)
class Wait:
    conversation_id: str
    priority: float
    candidates: tuple[Candidate, ...]
    reason: str
    # A live channel (chat, phone) with nobody online: offer the customer an answer by e-mail.
    nobody_online: bool


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
    if level < Level.ANY_TOPIC and conversation.topics and not set(conversation.topics) & operator.topics:
        return f"does not cover {', '.join(conversation.topics)}"
    if level < Level.ANY_TEAM and conversation.team and operator.team != conversation.team:
        return f"not in team {conversation.team}"
    return ""


def _rank(operator: Operator, conversation: Conversation) -> tuple[int, float, float]:
    """Lower is better: sticky first, then load ratio, then longest idle."""
    sticky = 0 if operator.id == conversation.last_operator_id else 1
    idle = operator.idle_since.timestamp() if operator.idle_since else float("-inf")
    return sticky, operator.load_ratio(), idle


def decide(conversation: Conversation, operators: list[Operator], now: datetime) -> Decision:
    considered = []
    eligible = []
    for operator in operators:
        reason = refusal(operator, conversation)
        if reason:
            considered.append(Candidate(operator.id, 0.0, reason))
        else:
            eligible.append(operator)
    if eligible:
        ranked = sorted(eligible, key=lambda o: (_rank(o, conversation), o.id))
        winner = ranked[0]
        scored = tuple(
            Candidate(o.id, round(1.0 - o.load_ratio(), 4), _why(o, winner, conversation), eligible=True)
            for o in ranked
        )
        return Assign(
            conversation.id, winner.id, scored + tuple(considered), _why(winner, winner, conversation)
        )
    online = any(o.status is Status.ONLINE for o in operators)
    return Wait(
        conversation.id,
        priority(conversation, now),
        tuple(considered),
        "nobody online" if not online else f"no eligible operator at level {Level(conversation.level).name}",
        nobody_online=not online and conversation.channel in LIVE_CHANNELS,
    )


def _why(operator: Operator, winner: Operator, conversation: Conversation) -> str:
    if operator.id != winner.id:
        return "eligible, ranked lower"
    if operator.id == conversation.last_operator_id:
        return "served this customer before"
    return f"lowest load ({operator.load_ratio():.2f}), then longest idle"


def priority(conversation: Conversation, now: datetime) -> float:
    """Higher waits less: loyalty tier, public complaints, callbacks, then minutes waited."""
    waited = (now - conversation.waiting_since).total_seconds() / 60 if conversation.waiting_since else 0.0
    return (
        conversation.tier * 10.0
        + (15.0 if conversation.is_public and "complaint" in conversation.topics else 0.0)
        + (5.0 if conversation.is_public else 0.0)
        + (8.0 if conversation.callback else 0.0)
        + waited
    )
