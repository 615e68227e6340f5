"""Who has what in one shop (``TenantRouting``), and how each change moves it.

It holds the shop's operators, their load and its queue, and turns each change into outputs,
``(state, change) -> outputs``; in domain terms, without events.

All capacity of a shop is accounted here, in one place, so it is never
double-booked: the stream processor keeps one ``TenantRouting`` per tenant
and feeds it the tenant's events in order. What it keeps of each operator's
room, how it decides and how it orders its queue are in ``tenant_capacity``,
``tenant_decide`` and ``tenant_queue``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from services.routing.domain.decision import Assign, Level, Rules, Wait, priority, skilled
from services.routing.domain.index import Index
from services.routing.domain.model import Conversation, Operator, Status
from services.routing.domain.tenant_capacity import Capacity
from services.routing.domain.tenant_decide import Decide
from services.routing.domain.tenant_queue import Queue
from services.routing.domain.transfer import Transfer, TransferRefused, refused


@dataclass(frozen=True)
class Widened:
    conversation_id: str
    level: Level
    reason: str


@dataclass(frozen=True)
class Reassigned:
    conversation_id: str
    # "" when a supervisor moved it out of the queue.
    from_operator_id: str
    reason: str
    transfer: Transfer | None = None


Output = Assign | Wait | Widened | Reassigned | TransferRefused


@dataclass(frozen=True)
class Ladder:
    """How long a conversation waits before its match is widened one step, per step."""

    after: tuple[timedelta, ...] = (timedelta(minutes=2), timedelta(minutes=5), timedelta(minutes=10))


@dataclass
class Assignment:
    operator_id: str
    channel: str
    at: datetime
    conversation: Conversation
    replied: bool = False


@dataclass
class TenantRouting(Capacity, Decide, Queue):
    operators: dict[str, Operator] = field(default_factory=dict)
    waiting: dict[str, Conversation] = field(default_factory=dict)
    assigned: dict[str, Assignment] = field(default_factory=dict)
    boosted: set[str] = field(default_factory=set)
    # Language -> the operators speaking it (ids in a dict: its order, unlike a set's, is the same in
    # every process, which replays rely on): the order in which a waiting conversation lists refusals.
    speakers: dict[str, dict[str, None]] = field(default_factory=dict)
    # Fairness, sticky operator and hold: set by the shop's configuration (``configure``).
    rules: Rules = field(default_factory=Rules)
    # The candidates in ranking order, derived from ``operators``: not in snapshots, rebuilt on load.
    index: Index = field(default_factory=Index, compare=False, repr=False)
    # Team -> open conversations its members hold, derived from ``operators`` like the index.
    team_open: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __getstate__(self) -> dict[str, object]:
        state = dict(vars(self))
        del state["index"], state["team_open"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        vars(self).update(state)
        self._rebuild()

    def configure(self, rules: Rules, now: datetime | None = None) -> list[Output]:
        """The shop's rules; a new fairness rule re-sorts the index, new limits apply to every
        operator at once and, with ``now``, drain the queue into the room a raised limit makes."""
        if rules == self.rules:
            return []
        before = self.rules
        self.rules = rules

        def limits(r: Rules) -> tuple[object, ...]:
            return r.operator_cap, r.operator_caps, r.channel_weights, r.team_limits, r.away_channels

        if limits(rules) != limits(before):
            self._rebuild()
            return self.drain(now) if now is not None else []
        if rules.fairness is not before.fairness:
            self._rebuild()
        return []

    # ---------------------------------------------------------------- events in

    def arrive(self, conversation: Conversation, now: datetime, ladder: Ladder | None = None) -> list[Output]:
        """A customer wrote. Already assigned or waiting: nothing changes (order and capacity hold).

        With ``ladder``, a conversation that would wait starts past the widening steps at which
        nobody in the team could ever serve it (``skip``), instead of waiting out their timeouts.
        """
        if conversation.id in self.assigned or conversation.id in self.waiting:
            return []
        since = conversation.waiting_since or now
        conversation = replace(conversation, waiting_since=since, hold_until=self._hold(conversation, since))
        outputs = self._place(conversation, now)
        if ladder is not None and isinstance(outputs[-1], Wait):
            skipped = self.skip(conversation.id, ladder)
            if skipped:  # decided again at the level it starts from
                return skipped + self._place(self.waiting.pop(conversation.id), now)
        return outputs

    def skip(self, conversation_id: str, ladder: Ladder) -> list[Output]:
        """Move a waiting conversation past the widening steps at which no operator of the shop,
        online or not, has the skills to take it: waiting there could only end by timing out.

        A step someone could serve (even while offline or busy) is waited out as before; an operator
        let go unanswered still counts as able (nothing here is about who is available).
        """
        conversation = self.waiting[conversation_id]
        last = _last_step(ladder)
        level = Level(conversation.level)
        while level < last and not any(skilled(o, conversation, level) for o in self.operators.values()):
            level = Level(level + 1)
        if level == conversation.level:
            return []
        self.waiting[conversation_id] = replace(conversation, level=level)
        reason = f"nobody in the team could serve it at {Level(conversation.level).name}"
        if level - conversation.level > 1:
            reason += f" to {Level(level - 1).name}"
        return [Widened(conversation_id, level, reason + ": skipped")]

    def operator_changed(self, operator: Operator, now: datetime) -> list[Output]:
        """A profile or status change. Going offline re-queues their conversations at the front;
        going away, those of the channels the shop takes back from away operators (by default all
        but e-mail and contact forms, which still route to them); less room, the newest beyond it."""
        previous = self.operators.get(operator.id)
        theirs = [c for c, a in self.assigned.items() if a.operator_id == operator.id]
        load = dict(Counter(self.assigned[c].channel for c in theirs))
        was_online = previous is not None and previous.status is Status.ONLINE
        came_online = operator.status is Status.ONLINE and not was_online
        idle = now if came_online else (previous.idle_since if previous else None)
        last_assigned = previous.last_assigned if previous else operator.last_assigned
        self._set(replace(operator, load=load, idle_since=idle, last_assigned=last_assigned))
        self._index(previous, operator)
        outputs: list[Output] = []
        if operator.status is not Status.ONLINE:
            # Away is not offline: conversations on the channels the shop keeps for away operators
            # stay with them (``Rules.away_takes_back``).
            away = operator.status is Status.AWAY
            for conversation_id in list(theirs):
                if not away or self.rules.takes_back(self.assigned[conversation_id].channel):
                    outputs += self._release(conversation_id, f"operator went {operator.status.value}", now)
                    theirs.remove(conversation_id)
            # Held for them: nobody else may take it while they are away, so the hold ends now.
            for conversation in list(self.waiting.values()):
                if conversation.hold_until is not None and conversation.last_operator_id == operator.id:
                    self.waiting[conversation.id] = replace(conversation, hold_until=None)
                    reason = f"held for {operator.id}, who went {operator.status.value}: offered to everyone"
                    outputs.append(Widened(conversation.id, Level(conversation.level), reason))
        # What they keep, maybe with less room: the newest conversations beyond capacity go back.
        by_channel: dict[str, list[str]] = {}
        for conversation_id in sorted(theirs, key=lambda c: self.assigned[c].at, reverse=True):
            by_channel.setdefault(self.assigned[conversation_id].channel, []).append(conversation_id)
        for channel, newest_first in by_channel.items():
            excess = len(newest_first) - operator.capacities.get(channel, 0)
            reason = "capacity lowered" if channel in operator.capacities else f"no longer handles {channel}"
            for conversation_id in newest_first[: max(0, excess)]:
                outputs += self._release(conversation_id, reason, now)
        return outputs + self.drain(now)

    def transfer(self, request: Transfer, now: datetime, ladder: Ladder | None = None) -> list[Output]:
        """A conversation handed on (``domain.transfer``): to a named colleague at once, or first in
        line for a team or the shop, without offering it back to whoever handed it on. A request
        that cannot be made changes nothing and says why."""
        cid = request.conversation_id
        assignment = self.assigned.get(cid)
        conversation = assignment.conversation if assignment else self.waiting.get(cid)
        holder = assignment.operator_id if assignment else None
        why = refused(request, holder, conversation, self.operators)
        if why or conversation is None:
            return [TransferRefused(cid, why, request.request_id)]
        by = "a supervisor" if request.by_supervisor else request.by
        reason = f"transferred {request.kind} by {by}" + (f": {request.reason}" if request.reason else "")
        if assignment is not None:
            del self.assigned[cid]
            self._load(assignment.operator_id, assignment.channel, -1, now)
        else:
            del self.waiting[cid]
        self.boosted.discard(cid)
        outputs: list[Output] = [Reassigned(cid, holder or "", reason, request)]
        if request.to_operator:
            # The colleague was chosen by a person: even one who once let it go unanswered.
            excused = conversation.excluded - {request.to_operator}
            conversation = replace(conversation, hold_until=None, last_operator_id="", excluded=excused)
            decision = Assign(cid, request.to_operator, (), reason)
            self._assign(conversation, decision, now)
            return [*outputs, decision, *self.drain(now)]  # the holder's freed place
        excluded = conversation.excluded | ({holder} if holder else set())
        conversation = replace(conversation, last_operator_id="", hold_until=None, excluded=excluded)
        if request.to_team:  # the team's own skills first, widening again from its first step
            conversation = replace(conversation, team=request.to_team, level=Level.EXACT, waiting_since=now)
        self.waiting[cid] = conversation
        self.boosted.add(cid)
        if request.to_team and ladder is not None:
            outputs += self.skip(cid, ladder)
        return outputs + self.drain(now)

    def replied(self, conversation_id: str, operator_id: str = "") -> None:
        """The holder answered: the conversation stays with them. A reply by someone else (the
        operator it was taken from, still typing) does not count as the new holder's."""
        assignment = self.assigned.get(conversation_id)
        if assignment is not None and operator_id in ("", assignment.operator_id):
            assignment.replied = True

    def finished(self, conversation_id: str, now: datetime) -> list[Output]:
        """Resolved: the operator's capacity is back, and the queue drains into it."""
        self.waiting.pop(conversation_id, None)
        self.boosted.discard(conversation_id)
        assignment = self.assigned.pop(conversation_id, None)
        if assignment is None:
            return []
        self._load(assignment.operator_id, assignment.channel, -1, now)
        return self.drain(now)

    def tick(self, now: datetime, ladder: Ladder, reply_within: dict[str, timedelta]) -> list[Output]:
        """Time passes: widen what waited too long, take back what stayed unanswered too long.

        Operators who let a conversation go unanswered (``Conversation.excluded``) are forgiven at
        every tick that finds it at the last widening step, whether it just got there or was already
        there: so that nothing waits for ever while one of them sits online with room. Checking only
        at the moment it moved up (as before issue #20) kept for good an operator who went silent on
        a conversation already at the last step, and with nobody else eligible it waited for ever.
        The tick that takes a conversation back adds the exclusion after this check, so its drain
        offers the conversation to everyone else first; only the next tick may give it back. The
        last step is the ladder's: with fewer than three steps, the widest level it reaches.
        """
        outputs: list[Output] = []
        forgiven = False
        last = _last_step(ladder)
        for conversation in list(self.waiting.values()):
            level = _level_for(conversation, now, ladder)
            excluded = frozenset() if level >= last else conversation.excluded
            widened, forgives = level > conversation.level, excluded != conversation.excluded
            hold = conversation.hold_until
            unheld = hold is not None and now >= hold
            if widened or forgives or unheld:
                self.waiting[conversation.id] = replace(
                    conversation, level=level, excluded=excluded, hold_until=None if unheld else hold
                )
            if unheld:
                reason = (
                    f"held {self.rules.sticky_hold} for {conversation.last_operator_id}: offered to everyone"
                )
                outputs.append(Widened(conversation.id, Level(conversation.level), reason))
            if widened:
                outputs.append(Widened(conversation.id, level, f"waited past {ladder.after[level - 1]}"))
            forgiven = forgiven or forgives
        for conversation_id, assignment in list(self.assigned.items()):
            limit = reply_within.get(assignment.channel)
            if limit is not None and not assignment.replied and now - assignment.at > limit:
                outputs += self._release(conversation_id, f"no reply within {limit}", now, exclude=True)
        # Only a widening, a forgiven operator or a conversation taken back can make a new match:
        # capacity changes drain the queue at their own events, so a tick that changed nothing
        # leaves the queue alone.
        return outputs + self.drain(now) if outputs or forgiven else []

    # ---------------------------------------------------------------- the queue

    def drain(self, now: datetime) -> list[Output]:
        """Give every waiting conversation that now has an eligible operator to one, best first."""
        outputs: list[Output] = []
        # Only operators online with room can take anything: once none is left, nothing can.
        for conversation in self.queue(now) if self.index.available else ():
            decision = self.decide(conversation, now, drained=True)
            if isinstance(decision, Assign):
                del self.waiting[conversation.id]
                self.boosted.discard(conversation.id)
                self._assign(conversation, decision, now)
                outputs.append(decision)
                if not self.index.available:
                    break
        return outputs

    # ---------------------------------------------------------------- placing and taking back

    def _place(self, conversation: Conversation, now: datetime) -> list[Output]:
        decision = self.decide(conversation, now)
        if isinstance(decision, Assign):
            self._assign(conversation, decision, now)
        else:
            self.waiting[conversation.id] = conversation
            decision = replace(decision, priority=priority(conversation, now))
        return [decision]

    def _assign(self, conversation: Conversation, decision: Assign, now: datetime) -> None:
        self.assigned[conversation.id] = Assignment(
            decision.operator_id, conversation.channel, now, conversation
        )
        self._load(decision.operator_id, conversation.channel, +1, now)

    def _release(
        self, conversation_id: str, reason: str, now: datetime, exclude: bool = False
    ) -> list[Output]:
        """Take a conversation back from its operator and put it first in the queue.

        ``exclude``: the operator let it go unanswered and does not get it back.
        """
        assignment = self.assigned.pop(conversation_id)
        self._load(assignment.operator_id, assignment.channel, -1, now)
        self.boosted.add(conversation_id)
        # The one who just left is no longer "last served": they may be why it is released.
        conversation = replace(assignment.conversation, last_operator_id="", hold_until=None)
        if exclude:
            conversation = replace(conversation, excluded=conversation.excluded | {assignment.operator_id})
        outputs: list[Output] = [Reassigned(conversation_id, assignment.operator_id, reason)]
        self.waiting[conversation_id] = conversation
        return outputs

    def _load(self, operator_id: str, channel: str, delta: int, now: datetime) -> None:
        operator = self.operators.get(operator_id)
        if operator is not None:
            self._set(operator.with_load(channel, delta, now))


def _last_step(ladder: Ladder) -> Level:
    """The widest level ``ladder`` reaches: ``ANY_TEAM`` with the usual three steps (or more)."""
    return Level(min(len(ladder.after), Level.ANY_TEAM))


def _level_for(conversation: Conversation, now: datetime, ladder: Ladder) -> Level:
    waited = now - (conversation.waiting_since or now)
    level = Level.EXACT
    for step, threshold in enumerate(ladder.after, start=1):
        if waited >= threshold:
            level = Level(min(step, Level.ANY_TEAM))
    return max(level, Level(conversation.level))
