"""Whatever happens to a shop, in whatever order, its routing state stays consistent.

One ``TenantRouting`` is driven by random arrivals, operator changes, replies,
resolutions and ticks of a fake clock; after every step the invariants hold.
At any point time may also jump past every widening step and reply limit: then
nothing waits while someone eligible is online with room (issue #20).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from services.routing.domain.decision import FALLBACK_LANGUAGE, Level, Wait, decide, fits
from services.routing.domain.model import Conversation, Operator, Status
from services.routing.domain.tenant import Ladder, Output, Reassigned, TenantRouting
from services.routing.domain.transfer import Transfer, TransferRefused
from tests.unit.routing.builders import T0, a_conversation

CHANNELS = ("web_chat", "email", "phone")
LANGUAGES = ("it", "pl", "en")
TOPICS = ("billing", "returns", "complaint")
TEAMS = ("", "", "vip")
OPERATOR_IDS = ("ana", "bob", "cleo", "dan", "eve")

LADDER = Ladder(after=(timedelta(minutes=2), timedelta(minutes=5), timedelta(minutes=10)))
REPLY_WITHIN = {"web_chat": timedelta(minutes=3), "phone": timedelta(minutes=1), "email": timedelta(hours=1)}
# Past every widening step and every reply limit.
MUCH_LATER = max(*LADDER.after, *REPLY_WITHIN.values()) + timedelta(minutes=1)

# An operator's profile and status; ``ShopMachine.change`` gives it the id of the operator it changes.
profiles = st.builds(
    Operator,
    id=st.just(""),
    display_name=st.just(""),
    languages=st.dictionaries(st.sampled_from(LANGUAGES), st.integers(1, 5), max_size=3),
    topics=st.frozensets(st.sampled_from(TOPICS)),
    capacities=st.dictionaries(st.sampled_from(CHANNELS), st.integers(0, 3), max_size=3),
    team=st.sampled_from(TEAMS),
    status=st.sampled_from(Status),
)


class ShopMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.shop = TenantRouting()
        self.now = T0
        self.operator_ids: tuple[str, ...] = ()
        self.arrived: list[str] = []
        # Conversations arrived and not finished: each must be either waiting or assigned.
        self.open: set[str] = set()
        # Who held what when the current step started.
        self.previous_holders: dict[str, str] = {}

    # ---------------------------------------------------------------- events

    def step(self) -> None:
        """Remember the state this step starts from."""
        self.previous_holders = {c: a.operator_id for c, a in self.shop.assigned.items()}

    def change(self, operator_id: str, profile: Operator) -> list[Output]:
        operator = replace(profile, id=operator_id, display_name=operator_id.title())
        return self.shop.operator_changed(operator, self.now)

    @initialize(count=st.integers(3, 5), data=st.data())
    def operators_join(self, count: int, data: st.DataObject) -> None:
        self.operator_ids = OPERATOR_IDS[:count]
        for operator_id in self.operator_ids:
            self.check_released(self.change(operator_id, data.draw(profiles)))

    @rule(index=st.integers(0, len(OPERATOR_IDS) - 1), profile=profiles)
    def operator_changed(self, index: int, profile: Operator) -> None:
        self.step()
        operator_id = self.operator_ids[index % len(self.operator_ids)]
        self.check_released(self.change(operator_id, profile))

    @rule(
        channel=st.sampled_from(CHANNELS),
        language=st.sampled_from(LANGUAGES),
        topics=st.lists(st.sampled_from(TOPICS), max_size=2, unique=True).map(tuple),
        tier=st.integers(0, 3),
        is_public=st.booleans(),
        callback=st.booleans(),
        team=st.sampled_from(TEAMS),
        last_operator=st.sampled_from(("", *OPERATOR_IDS)),
    )
    def arrive(
        self,
        channel: str,
        language: str,
        topics: tuple[str, ...],
        tier: int,
        is_public: bool,
        callback: bool,
        team: str,
        last_operator: str,
    ) -> None:
        self.step()
        conversation = a_conversation(
            f"c{len(self.arrived)}",
            channel=channel,
            language=language,
            topics=topics,
            tier=tier,
            is_public=is_public,
            callback=callback,
            team=team,
            last_operator_id=last_operator,
        )
        outputs = self.shop.arrive(conversation, self.now)
        self.arrived.append(conversation.id)
        self.open.add(conversation.id)
        assert len(outputs) == 1
        assert outputs[0].conversation_id == conversation.id

    @precondition(lambda self: bool(self.open))
    @rule(data=st.data(), tier=st.integers(0, 3))
    def arrive_again(self, data: st.DataObject, tier: int) -> None:
        self.step()
        conversation_id = data.draw(st.sampled_from(sorted(self.open)))
        waiting, assigned = dict(self.shop.waiting), dict(self.shop.assigned)
        operators = dict(self.shop.operators)

        assert self.shop.arrive(a_conversation(conversation_id, tier=tier), self.now) == []

        assert (self.shop.waiting, self.shop.assigned, self.shop.operators) == (waiting, assigned, operators)

    @precondition(lambda self: bool(self.arrived))
    @rule(data=st.data())
    def finished(self, data: st.DataObject) -> None:
        self.step()
        conversation_id = data.draw(st.sampled_from(self.arrived))
        self.shop.finished(conversation_id, self.now)
        self.open.discard(conversation_id)

    @precondition(lambda self: bool(self.shop.assigned))
    @rule(data=st.data())
    def replied(self, data: st.DataObject) -> None:
        self.step()
        conversation_id = data.draw(st.sampled_from(sorted(self.shop.assigned)))
        self.shop.replied(conversation_id)

    @precondition(lambda self: bool(self.open))
    @rule(
        data=st.data(),
        by=st.sampled_from(("", *OPERATOR_IDS)),
        supervisor=st.booleans(),
        to_operator=st.sampled_from(("", *OPERATOR_IDS)),
        to_team=st.sampled_from(TEAMS),
    )
    def transfer(
        self, data: st.DataObject, by: str, supervisor: bool, to_operator: str, to_team: str
    ) -> None:
        """Any transfer, possible or not (issue #20): a refusal changes nothing, and one that is made
        keeps every invariant (no override here: it is the one way past capacity)."""
        self.step()
        conversation_id = data.draw(st.sampled_from(sorted(self.open)))
        holder = self.previous_holders.get(conversation_id)
        if data.draw(st.booleans()) and holder:
            by = holder
        conversation = (
            self.shop.waiting.get(conversation_id) or self.shop.assigned[conversation_id].conversation
        )
        roomy = sorted(
            o.id
            for o in self.shop.operators.values()
            if o.status is Status.ONLINE and o.free(conversation.channel) > 0 and o.id != holder
        )
        pick_roomy: bool = data.draw(st.booleans())
        if roomy and pick_roomy:  # often a colleague who can take it
            to_operator, to_team = data.draw(st.sampled_from(roomy)), ""
        request = Transfer(conversation_id, by, supervisor, to_operator, to_team)
        before = (dict(self.shop.waiting), dict(self.shop.assigned), dict(self.shop.operators))
        outputs = self.shop.transfer(request, self.now, LADDER)
        if isinstance(outputs[0], TransferRefused):
            assert outputs == [outputs[0]]
            assert (self.shop.waiting, self.shop.assigned, self.shop.operators) == before
            return
        self.check_released(outputs)
        if to_operator:
            assert self.shop.assigned[conversation_id].operator_id == to_operator
        elif holder:
            assert self.shop.assigned.get(conversation_id, None) is None or (
                self.shop.assigned[conversation_id].operator_id != holder
            )

    @rule(minutes=st.integers(0, 12), seconds=st.integers(0, 59))
    def tick(self, minutes: int, seconds: int) -> None:
        self.step()
        self.now += timedelta(minutes=minutes, seconds=seconds)
        self.check_released(self.shop.tick(self.now, LADDER, REPLY_WITHIN))

    @rule(hours=st.integers(0, 24))
    def much_later(self, hours: int) -> None:
        """Nothing waits for ever while someone eligible is online (issue #20).

        Time jumps past every widening step and reply limit. That tick widens every waiting
        conversation to the last step, forgiving whoever let it go unanswered, and takes back every
        assignment still unanswered; those it takes back are offered first to everyone but their
        silent holder, at the level they had. The next tick (they come every
        ``PRONTO_ROUTING_TICK_S`` while anything waits) widens and forgives those too: then no
        conversation waits while an online operator has room for it at the widest level.
        """
        self.step()
        self.now += MUCH_LATER + timedelta(hours=hours)
        outputs = self.shop.tick(self.now, LADDER, REPLY_WITHIN)
        self.check_released(outputs)
        just_taken_back = {o.conversation_id for o in outputs if isinstance(o, Reassigned)}
        for conversation in self.shop.waiting.values():
            if conversation.id not in just_taken_back:
                assert conversation.excluded == frozenset()
                assert self.could_take(conversation) == [], conversation

        self.step()
        self.now += timedelta(seconds=1)
        self.check_released(self.shop.tick(self.now, LADDER, REPLY_WITHIN))

        for conversation in self.shop.waiting.values():
            assert conversation.level == Level.ANY_TEAM
            assert conversation.excluded == frozenset()
            assert self.could_take(conversation) == [], conversation

    def could_take(self, conversation: Conversation) -> list[str]:
        """The operators who could take ``conversation`` at the widest level, whoever it excluded.

        ``decision.fits`` at ``Level.ANY_TEAM``, which is: serving the channel (online, or away on a
        channel the shop still routes to away operators), with room on it, and
        speaking the conversation's language or the fallback one (topics and teams no longer count).
        """
        widest = replace(conversation, level=Level.ANY_TEAM, excluded=frozenset())
        ids = []
        channel = conversation.channel
        for operator in self.shop.operators.values():
            eligible = (
                operator.serves(channel)
                and operator.capacities.get(channel, 0) > operator.load.get(channel, 0)
                and (
                    not conversation.language
                    or conversation.language in operator.languages
                    or FALLBACK_LANGUAGE in operator.languages
                )
            )
            assert eligible == fits(operator, widest), (operator, conversation)
            if eligible:
                ids.append(operator.id)
        return ids

    def check_released(self, outputs: list[Output]) -> None:
        """A conversation said to be taken from an operator was theirs before this step."""
        for output in outputs:
            if isinstance(output, Reassigned):  # "" : a supervisor moved it out of the queue
                assert self.previous_holders.get(output.conversation_id, "") == output.from_operator_id

    # ---------------------------------------------------------------- invariants

    @invariant()
    def no_operator_holds_more_than_their_capacity(self) -> None:
        for operator in self.shop.operators.values():
            for channel, load in operator.load.items():
                assert load <= operator.capacities.get(channel, 0), (operator, channel)

    @invariant()
    def load_is_the_count_of_assignments(self) -> None:
        held = Counter((a.operator_id, a.channel) for a in self.shop.assigned.values())
        loads = {
            (operator.id, channel): load
            for operator in self.shop.operators.values()
            for channel, load in operator.load.items()
            if load
        }
        assert loads == dict(held)

    @invariant()
    def each_assignment_belongs_to_one_online_operator(self) -> None:
        for conversation_id, assignment in self.shop.assigned.items():
            assert assignment.conversation.id == conversation_id
            assert assignment.channel == assignment.conversation.channel
            # Online, or away holding a conversation of a channel the shop lets away operators keep.
            operator = self.shop.operators[assignment.operator_id]
            kept = operator.status is Status.AWAY and not self.shop.rules.takes_back(assignment.channel)
            assert operator.status is Status.ONLINE or kept
            # Nobody gets back a conversation they let go unanswered.
            assert assignment.operator_id not in assignment.conversation.excluded

    @invariant()
    def no_conversation_is_both_waiting_and_assigned(self) -> None:
        assert set(self.shop.waiting).isdisjoint(self.shop.assigned)

    @invariant()
    def no_open_conversation_is_lost_and_no_finished_one_remains(self) -> None:
        assert set(self.shop.waiting) | set(self.shop.assigned) == self.open
        assert self.shop.boosted <= set(self.shop.waiting)

    @invariant()
    def nothing_eligible_is_left_waiting(self) -> None:
        operators = list(self.shop.operators.values())
        for conversation in self.shop.waiting.values():
            assert isinstance(decide(conversation, operators, self.now), Wait), conversation

    @invariant()
    def the_queue_lists_every_waiting_conversation_once(self) -> None:
        queue = [conversation.id for conversation in self.shop.queue(self.now)]
        assert sorted(queue) == sorted(self.shop.waiting)
        assert all(Level.EXACT <= c.level <= Level.ANY_TEAM for c in self.shop.waiting.values())


def test_a_shop_keeps_its_invariants_through_any_sequence_of_events() -> None:
    run_state_machine_as_test(ShopMachine, settings=settings(max_examples=200, database=None, deadline=None))
