"""The routing decision: a pure function of the conversation, the operators, the time and the rules.

Eligible operators are online, handle the channel, have room on it, speak
the conversation's language and cover its topic, within the widening level
the conversation has reached (``Level``). Among them the one who last served
the customer wins (sticky, unless the shop switched it off), then the shop's
fairness rule (``Fairness``, lowest load ratio by default) with its
tie-breakers, and the id last. While a conversation is held for its previous
operator (``Rules.sticky_hold``) nobody else is eligible. Nobody eligible: the
conversation waits, with a priority.

``decide`` is the definition, by scanning the operators it is given; a shop
decides with its index instead (``services.routing.domain.index``), which
must choose the same and is tested against ``decide``.

Every decision carries the best ranked candidates and the first refused, with
why each won or lost, and how many were considered, so that fairness and
overload can be queried later without a decision event growing with the team.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum, IntEnum

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


class Fairness(Enum):
    """Which eligible operator a shop prefers, after the sticky one.

    Ties are broken by the rules after the chosen one in this order, then by the operator id:
    round robin, most spare, lowest load, longest idle. (Lowest load is therefore ranked as it
    always was: load ratio, then longest idle, then id.)
    """

    # Least recently assigned first (never assigned before anyone); coming online does not count.
    ROUND_ROBIN = "round_robin"
    # Most free slots on the conversation's channel.
    MOST_SPARE = "most_spare"
    # Lowest share of the whole capacity in use (assigned over total capacity).
    LOWEST_LOAD = "lowest_load"
    # Longest since their last assignment or since coming online, whichever is later.
    LONGEST_IDLE = "longest_idle"


class QueueOrder(Enum):
    """Which waiting conversation is served first. Conversations taken back from an operator who
    left go before all others whatever the order; the conversation id breaks the last tie."""

    # Priority points (loyalty tier, public complaints, callbacks) weigh like minutes waited: a
    # VIP (30 points) goes before a standard customer who has waited under 30 minutes longer.
    WEIGHTED = "weighted"
    # The higher priority first, however long the other waited; then the longer wait.
    PRIORITY_THEN_AGE = "priority_then_age"
    # The least time left to the first-response deadline SLA computed first (SLA knows the shop's
    # hours and the targets per channel and tier); conversations without one (no target, or SLA
    # has not said yet) after those with one; ties by ``WEIGHTED``.
    SLA_TIME_LEFT = "sla_time_left"


@dataclass(frozen=True)
class Rules:
    """A shop's choice among eligible operators, and of the next conversation to serve."""

    fairness: Fairness = Fairness.LOWEST_LOAD
    # The operator who last served the customer goes first when eligible.
    sticky: bool = True
    # How long a returning customer's conversation is offered only to that operator (while they
    # are online) before everyone eligible may take it; zero: no hold, they are only preferred.
    sticky_hold: timedelta = timedelta(0)
    queue_order: QueueOrder = QueueOrder.WEIGHTED
    # Units of work an operator may hold across all channels (None: no limit), per operator where
    # they differ; what one conversation of a channel costs in them (1 unless listed).
    operator_cap: float | None = None
    operator_caps: Mapping[str, float | None] = field(default_factory=dict)
    channel_weights: Mapping[str, float] = field(default_factory=dict)
    # Team -> open conversations its members may hold together, whatever room each has (a team not
    # listed: no limit; 0: it takes none).
    team_limits: Mapping[str, int | None] = field(default_factory=dict)
    # Away is not offline (issue #20): the channels that still bring an away operator new
    # conversations, and those whose open conversations go back to the queue when they go away.
    # By default the live channels (chat, phone) go back; asynchronous ones stay with them.
    away_channels: frozenset[str] = frozenset({"email", "contact_form"})
    away_takes_back: frozenset[str] = LIVE_CHANNELS

    def cap_for(self, operator_id: str) -> float | None:
        """The operator's own cap when listed (None there: no limit for them), else the shop's."""
        if operator_id in self.operator_caps:
            return self.operator_caps[operator_id]
        return self.operator_cap

    def takes_back(self, channel: str) -> bool:
        """Whether an operator going away loses their open conversations of ``channel``."""
        return channel in self.away_takes_back


DEFAULT_RULES = Rules()

# Lower is better; the id last. Fixed width so that every key compares with every other.
Key = tuple[float, float, float, float, str]


def _stamp(moment: datetime | None) -> float:
    return moment.timestamp() if moment is not None else float("-inf")


def order(operator: Operator, channel: str, fairness: Fairness) -> Key:
    """Where ``operator`` ranks for a conversation on ``channel`` by ``fairness``, sticky aside."""
    idle = _stamp(operator.idle_since)
    if fairness is Fairness.LOWEST_LOAD:
        return operator.ratio, idle, 0.0, 0.0, operator.id
    if fairness is Fairness.LONGEST_IDLE:
        return idle, 0.0, 0.0, 0.0, operator.id
    spare = float(-operator.free(channel))
    if fairness is Fairness.MOST_SPARE:
        return spare, operator.ratio, idle, 0.0, operator.id
    return _stamp(operator.last_assigned), spare, operator.ratio, idle, operator.id


def held_for(conversation: Conversation, now: datetime) -> str:
    """The previous operator while ``conversation`` is held for them, else ""."""
    hold = conversation.hold_until
    return conversation.last_operator_id if hold is not None and now < hold else ""


def held_reason(conversation: Conversation) -> str:
    hold = conversation.hold_until
    until = hold.strftime("%H:%M:%S") if hold is not None else ""
    return f"held for {conversation.last_operator_id}, who served this customer before, until {until}"


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
    if not operator.serves(conversation.channel):
        paused = conversation.channel in operator.paused
        return f"paused {conversation.channel}" if paused else operator.status.value
    if operator.id in conversation.excluded:
        return "let it go unanswered before"
    if conversation.channel not in operator.capacities:
        return f"does not handle {conversation.channel}"
    if operator.room(conversation.channel) <= 0:
        return f"at capacity on {conversation.channel}"
    if operator.team_full:
        return f"team {operator.team} at its limit of open conversations"
    if operator.free(conversation.channel) <= 0:
        return f"at their cap of {operator.cap:g} units across channels"
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
    channel = conversation.channel
    if not operator.serves(channel) or operator.id in conversation.excluded:
        return False
    if operator.free(channel) <= 0:
        return False
    return skilled(operator, conversation, Level(conversation.level))


def skilled(operator: Operator, conversation: Conversation, level: Level) -> bool:
    """Whether ``operator`` could take ``conversation`` at ``level`` by channel, language, topic and
    team alone: whatever their status, load or history with it."""
    if conversation.channel not in operator.capacities:
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


def _rank(operator: Operator, conversation: Conversation, rules: Rules) -> tuple[int, Key]:
    """Lower is better: sticky first (unless switched off), then the fairness rule (``order``)."""
    sticky = 0 if rules.sticky and operator.id == conversation.last_operator_id else 1
    return sticky, order(operator, conversation.channel, rules.fairness)


def decide(
    conversation: Conversation,
    operators: list[Operator],
    now: datetime,
    anyone_online: bool | None = None,
    rules: Rules = DEFAULT_RULES,
) -> Decision:
    """Every operator given is considered; the decision lists the best ranked and the first refused.

    ``anyone_online``: whether anyone in the shop is online, when ``operators`` are only some of them.
    """
    eligible = []
    refused: list[Candidate] = []
    held = held_for(conversation, now)
    for operator in operators:
        if fits(operator, conversation) and (not held or operator.id == held):
            eligible.append(operator)
        elif len(refused) < LISTED:
            refused.append(
                Candidate(operator.id, 0.0, refusal(operator, conversation) or held_reason(conversation))
            )
    if eligible:
        ranked = heapq.nsmallest(LISTED, eligible, key=lambda o: _rank(o, conversation, rules))
        return assign(conversation, ranked, tuple(refused), len(operators), rules)
    online = any(o.status is Status.ONLINE for o in operators) if anyone_online is None else anyone_online
    return wait(conversation, now, tuple(refused), len(operators), online)


def assign(
    conversation: Conversation,
    ranked: list[Operator],
    refused: tuple[Candidate, ...],
    considered: int,
    rules: Rules,
) -> Assign:
    """The assignment to ``ranked[0]``, listing ``ranked`` (best first) and then ``refused``."""
    winner = ranked[0]
    scored = tuple(
        Candidate(o.id, round(1.0 - o.ratio, 4), _why(o, winner, conversation, rules), eligible=True)
        for o in ranked
    )
    return Assign(
        conversation.id,
        winner.id,
        scored + refused,
        _why(winner, winner, conversation, rules),
        considered=considered,
    )


def wait(
    conversation: Conversation, now: datetime, refused: tuple[Candidate, ...], considered: int, online: bool
) -> Wait:
    """Nobody eligible: ``conversation`` waits, and says why."""
    if not online:
        reason = "nobody online"
    elif held_for(conversation, now):
        reason = held_reason(conversation)
    else:
        reason = f"no eligible operator at level {Level(conversation.level).name}"
    return Wait(
        conversation.id,
        priority(conversation, now),
        refused,
        reason,
        nobody_online=not online and conversation.channel in LIVE_CHANNELS,
        considered=considered,
    )


def _why(operator: Operator, winner: Operator, conversation: Conversation, rules: Rules) -> str:
    if operator.id != winner.id:
        return "eligible, ranked lower"
    if rules.sticky and operator.id == conversation.last_operator_id:
        return "served this customer before"
    if rules.fairness is Fairness.LOWEST_LOAD:
        return f"lowest load ({operator.load_ratio():.2f}), then longest idle"
    if rules.fairness is Fairness.MOST_SPARE:
        return f"most spare capacity on {conversation.channel} ({operator.free(conversation.channel)})"
    if rules.fairness is Fairness.ROUND_ROBIN:
        return "least recently assigned (round robin)"
    return "idle the longest"


def priority(conversation: Conversation, now: datetime) -> float:
    """Higher waits less: loyalty tier, public complaints, callbacks, then minutes waited.

    Of two waiting conversations, the one with the higher priority has it at every instant, since
    both gain a minute per minute waited: the queue orders by ``Conversation.urgency``, the same
    order as an integer computed once (points minus arrival, in microseconds).
    """
    waited = (now - conversation.waiting_since).total_seconds() / 60 if conversation.waiting_since else 0.0
    return conversation.points() + waited
