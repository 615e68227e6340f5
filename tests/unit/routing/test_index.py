"""The indexed decision makes the same choices as the scan it replaced (issue #20, item 6).

A shop decides by reading the index (``TenantRouting.decide``). The oracle is
the scan it replaced: ``decision.decide`` over every operator who speaks the
conversation's language (only those online with room when the queue drains),
as ``TenantRouting`` did before the index. Two shops, one of each, are driven
by the same random events under random rules; every output must be the same,
except that an assignment no longer lists the first refused in the shop's
order (only those met while ranking). After every step, the index is the one
a rebuild from the operators gives, and a fresh conversation of any kind is
decided alike by both.
"""

from __future__ import annotations

import heapq
from dataclasses import replace
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from pronto import snapshots
from services.routing.domain.decision import (
    FALLBACK_LANGUAGE,
    Assign,
    Decision,
    Fairness,
    Level,
    Rules,
    Wait,
    decide,
)
from services.routing.domain.index import Index
from services.routing.domain.model import Conversation, Operator, Status
from services.routing.domain.tenant import Ladder, Output, TenantRouting
from tests.unit.routing.builders import T0, a_conversation, an_operator
from tests.unit.routing.test_invariants import CHANNELS, LANGUAGES, TEAMS, TOPICS, profiles

OPERATOR_IDS = tuple(f"op{n:02}" for n in range(12))
LADDER = Ladder(after=(timedelta(minutes=2), timedelta(minutes=5), timedelta(minutes=10)))
REPLY_WITHIN = {"web_chat": timedelta(minutes=3), "phone": timedelta(minutes=1)}

rules = st.builds(
    Rules,
    fairness=st.sampled_from(Fairness),
    sticky=st.booleans(),
    sticky_hold=st.sampled_from((timedelta(0), timedelta(seconds=30), timedelta(minutes=3))),
)
conversations = st.builds(
    a_conversation,
    channel=st.sampled_from(CHANNELS),
    language=st.sampled_from(("", *LANGUAGES)),
    topics=st.lists(st.sampled_from(TOPICS), max_size=2, unique=True).map(tuple),
    tier=st.integers(0, 3),
    team=st.sampled_from(TEAMS),
    last_operator_id=st.sampled_from(("", *OPERATOR_IDS[:4])),
)


class Scanning(TenantRouting):
    """The shop as it decided before the index: a scan of every candidate."""

    def decide(self, conversation: Conversation, now: datetime, drained: bool = False) -> Decision:
        candidates = self.speakers_of(conversation)
        if drained:
            available = {
                o.id
                for o in self.operators.values()
                if any(o.serves(c) and o.free(c) > 0 for c in o.capacities)
            }
            return decide(conversation, [o for o in candidates if o.id in available], now, True, self.rules)
        online = any(o.status is Status.ONLINE for o in self.operators.values())
        return decide(conversation, candidates, now, online, self.rules)

    def speakers_of(self, conversation: Conversation) -> list[Operator]:
        if not conversation.language:
            return list(self.operators.values())
        ids = dict(self.speakers.get(conversation.language, {}))
        if conversation.level >= Level.FALLBACK_LANGUAGE:
            ids |= self.speakers.get(FALLBACK_LANGUAGE, {})
        return [self.operators[i] for i in ids]


def same(output: Output | Decision) -> object:
    """What must not change: all of it, but the refused an assignment lists."""
    if isinstance(output, Assign):
        return replace(output, candidates=tuple(c for c in output.candidates if c.eligible))
    return output


class TwoShops(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.indexed, self.scanning = TenantRouting(), Scanning()
        self.now = T0
        self.count = 0
        self.open: list[str] = []

    def both(self, step: str, *args: object) -> None:
        got = getattr(self.indexed, step)(*args)
        expected = getattr(self.scanning, step)(*args)
        assert [same(o) for o in got] == [same(o) for o in expected]

    @initialize(chosen=rules, count=st.integers(2, len(OPERATOR_IDS)), data=st.data())
    def configure(self, chosen: Rules, count: int, data: st.DataObject) -> None:
        self.indexed.configure(chosen)
        self.scanning.configure(chosen)
        for operator_id in OPERATOR_IDS[:count]:
            self.operator_changed(operator_id, data.draw(profiles))

    @rule(operator_id=st.sampled_from(OPERATOR_IDS), profile=profiles)
    def operator_changed(self, operator_id: str, profile: Operator) -> None:
        self.both("operator_changed", replace(profile, id=operator_id, display_name=operator_id), self.now)

    @rule(conversation=conversations)
    def arrive(self, conversation: Conversation) -> None:
        self.count += 1
        conversation = replace(conversation, id=f"c{self.count}")
        self.both("arrive", conversation, self.now)
        self.open.append(conversation.id)

    @rule(data=st.data())
    def finished(self, data: st.DataObject) -> None:
        if self.open:
            conversation_id = data.draw(st.sampled_from(self.open))
            self.open.remove(conversation_id)
            self.both("finished", conversation_id, self.now)

    @rule(data=st.data())
    def replied(self, data: st.DataObject) -> None:
        if self.indexed.assigned:
            conversation_id = data.draw(st.sampled_from(sorted(self.indexed.assigned)))
            self.indexed.replied(conversation_id)
            self.scanning.replied(conversation_id)

    @rule(seconds=st.sampled_from((0, 1, 20, 45, 100, 200, 400, 700)))
    def tick(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)
        self.both("tick", self.now, LADDER, REPLY_WITHIN)

    @rule(fairness=st.sampled_from(Fairness))
    def fairness_changed(self, fairness: Fairness) -> None:
        chosen = replace(self.indexed.rules, fairness=fairness)
        self.indexed.configure(chosen)
        self.scanning.configure(chosen)

    @rule(conversation=conversations, level=st.sampled_from(Level), drained=st.booleans(), data=st.data())
    def any_conversation_is_decided_alike(
        self, conversation: Conversation, level: Level, drained: bool, data: st.DataObject
    ) -> None:
        """Whatever its level, exclusions and hold, without changing either shop."""
        excluded = data.draw(st.frozensets(st.sampled_from(OPERATOR_IDS), max_size=3))
        hold = data.draw(st.sampled_from((None, self.now, self.now + timedelta(seconds=30))))
        conversation = replace(conversation, level=level, excluded=excluded, hold_until=hold)
        got = self.indexed.decide(conversation, self.now, drained)
        expected = self.scanning.decide(conversation, self.now, drained)
        if drained and isinstance(expected, Wait):
            # A drain emits only its assignments: a wait it decides lists no refusals.
            expected = replace(expected, candidates=())
        assert same(got) == same(expected)
        if isinstance(got, Assign):
            # The listed refusals are refusals indeed, of operators ranked above the last listed.
            assert all(not c.eligible and c.reason for c in got.candidates if not c.eligible)

    @invariant()
    def the_shops_agree(self) -> None:
        assert self.indexed.operators == self.scanning.operators
        assert self.indexed.waiting == self.scanning.waiting
        assert self.indexed.assigned == self.scanning.assigned

    @invariant()
    def the_index_is_what_a_rebuild_gives(self) -> None:
        rebuilt = Index(self.indexed.rules.fairness)
        for operator in self.indexed.operators.values():
            rebuilt.put(operator)
        index = self.indexed.index
        assert index.buckets == rebuilt.buckets
        assert (index.online, index.available, index.available_speaking, index.bilingual) == (
            rebuilt.online,
            rebuilt.available,
            rebuilt.available_speaking,
            rebuilt.bilingual,
        )
        assert index.available_bilingual == rebuilt.available_bilingual


def test_the_indexed_shop_decides_as_the_scan_did_through_any_sequence_of_events() -> None:
    run_state_machine_as_test(
        TwoShops, settings=settings(max_examples=200, stateful_step_count=30, database=None, deadline=None)
    )


def old_rank(operator: Operator, conversation: Conversation) -> tuple[int, float, float, str]:
    """The ranking before issue #20, verbatim: sticky, load ratio, longest idle, id."""
    sticky = 0 if operator.id == conversation.last_operator_id else 1
    idle = operator.idle_since.timestamp() if operator.idle_since else float("-inf")
    return sticky, operator.ratio, idle, operator.id


def with_history(operator: Operator, operator_id: str, idle: int | None, load: int) -> Operator:
    """``operator`` with an id, idle since ``idle`` minutes after ``T0`` and ``load`` on each channel."""
    return replace(
        operator,
        id=operator_id,
        idle_since=None if idle is None else T0 + timedelta(minutes=idle),
        load={channel: min(load, capacity) for channel, capacity in operator.capacities.items()},
    )


@settings(max_examples=300, deadline=None)
@given(
    operators=st.lists(profiles, min_size=1, max_size=10),
    idle=st.lists(st.none() | st.integers(0, 2), min_size=10, max_size=10),
    loads=st.lists(st.integers(0, 2), min_size=10, max_size=10),
    conversation=conversations,
)
def test_the_default_rules_rank_as_before(
    operators: list[Operator], idle: list[int | None], loads: list[int], conversation: Conversation
) -> None:
    """Lowest load, then longest idle, then the id, with the sticky operator first: unchanged."""
    operators = [with_history(o, OPERATOR_IDS[n], idle[n], loads[n]) for n, o in enumerate(operators)]
    decision = decide(conversation, operators, T0)
    eligible = [o for o in operators if isinstance(decide(conversation, [o], T0), Assign)]
    if not eligible:
        assert isinstance(decision, Wait)
        return
    best = heapq.nsmallest(5, eligible, key=lambda o: old_rank(o, conversation))
    assert isinstance(decision, Assign)
    assert [c.operator_id for c in decision.candidates if c.eligible] == [o.id for o in best]


def test_a_snapshot_leaves_the_index_out_and_a_restored_shop_rebuilds_it() -> None:
    shop = TenantRouting()
    shop.configure(Rules(fairness=Fairness.MOST_SPARE))
    for n in range(3):
        shop.operator_changed(an_operator(f"op{n}", capacities={"web_chat": n + 1}), T0)
    shop.arrive(a_conversation("c1"), T0)

    pickled = snapshots.dump(shop)
    restored = snapshots.decode(
        snapshots.read_header(
            snapshots.frame(
                pickled, processor="t", partition=0, next_offset=0, records=0, state_version=1, schema="s"
            )
        ),
        state_version=1,
        schema="s",
    )

    assert b"Index" not in pickled
    assert isinstance(restored, TenantRouting)
    assert restored.index.buckets == shop.index.buckets != {}
    assert restored.arrive(a_conversation("c2"), T0) == shop.arrive(a_conversation("c2"), T0)
