"""A shop's routing as a fold over its events: what comes out, and that a replay gives the same."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timedelta

import pytest
from google.protobuf.message import Message
from prometheus_client import CollectorRegistry

from pronto import envelope
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


def test_a_message_is_assigned_with_the_operators_name_and_the_decision_log() -> None:
    shop = Shop(POLICY)
    online(shop, profile("giulia"), profile("marek", languages=("pl",)))
    trigger = event(message("c1"), 1.0)

    [assigned] = payloads(shop.apply(trigger))

    assert isinstance(assigned, events_pb2.ConversationAssigned)
    assert (assigned.operator_id, assigned.operator_display_name) == ("giulia", "Giulia")
    assert assigned.channel == common_pb2.CHANNEL_WEB_CHAT
    assert assigned.trigger_event_id == trigger.id
    assert assigned.level == "EXACT"
    # marek does not speak Italian: not a candidate at all.
    assert assigned.candidates_considered == 1
    assert [(c.operator_id, c.reason) for c in assigned.candidates] == [
        ("giulia", "lowest load (0.00), then longest idle"),
    ]


def test_the_customer_gets_the_operator_who_served_them_last() -> None:
    shop = Shop(POLICY)
    online(shop, profile("ana"), profile("bea"))
    first = shop.apply(event(message("c1", customer="rossi"), 1.0))[0].payload
    assert isinstance(first, events_pb2.ConversationAssigned)
    shop.apply(event(events_pb2.ConversationResolved(conversation_id="c1"), 2.0))

    again = shop.apply(event(message("c2", customer="rossi"), 3.0))[0].payload

    assert isinstance(again, events_pb2.ConversationAssigned)
    assert again.operator_id == first.operator_id
    assert again.reason == "served this customer before"


def test_a_redelivered_event_changes_nothing() -> None:
    shop = Shop(POLICY)
    online(shop, profile("ana", chats=5))
    arrival = event(message("c1"), 1.0)
    shop.apply(arrival)
    shop.apply(event(events_pb2.ConversationResolved(conversation_id="c1"), 2.0))

    assert shop.apply(arrival) == []
    assert "c1" not in shop.routing.assigned


@pytest.mark.parametrize(
    "kind",
    [events_pb2.MESSAGE_KIND_EDITED, events_pb2.MESSAGE_KIND_DELETED, events_pb2.MESSAGE_KIND_AUTOMATIC],
)
def test_edits_deletions_and_automatic_messages_never_open_a_conversation(kind: int) -> None:
    """An out-of-office reply opening a conversation would be acknowledged, and the acknowledgement
    answered again: a mail loop (issue #19, defect 7)."""
    shop = Shop(POLICY)
    online(shop, profile("ana"))
    edit = message("c1")
    edit.kind = kind  # type: ignore[assignment]

    assert shop.apply(event(edit, 1.0)) == []
    assert not shop.routing.assigned
    assert not shop.routing.waiting


def test_nobody_online_on_the_chat_queues_and_offers_email() -> None:
    shop = Shop(POLICY)
    shop.apply(event(profile("ana")))

    [queued] = payloads(shop.apply(event(message("c1"), 1.0)))

    assert isinstance(queued, events_pb2.ConversationQueued)
    assert queued.nobody_online
    assert (queued.position, queued.reason) == (1, "nobody online")
    # Nobody online: each customer ahead costs a whole handling time.
    assert queued.estimated_wait.ToTimedelta() == timedelta(minutes=4)


def test_an_operator_going_offline_hands_their_conversations_to_another() -> None:
    shop = Shop(POLICY)
    online(shop, profile("ana", chats=1))
    shop.apply(event(message("c1"), 1.0))
    online(shop, profile("bea", chats=1), minute=2.0)

    out = shop.apply(event(status("ana", events_pb2.OPERATOR_STATUS_OFFLINE), 3.0))

    assert kinds(out) == ["ConversationReassigned", "ConversationAssigned"]
    reassigned, assigned = payloads(out)
    assert isinstance(reassigned, events_pb2.ConversationReassigned)
    assert (reassigned.from_operator_id, reassigned.to_operator_id) == ("ana", "bea")
    assert reassigned.to_operator_display_name == "Bea"
    assert reassigned.reason == "operator went offline"
    assert isinstance(assigned, events_pb2.ConversationAssigned)
    assert assigned.operator_id == "bea"


def test_a_conversation_nobody_can_take_back_waits_first_in_line() -> None:
    shop = Shop(POLICY)
    online(shop, profile("ana", chats=1))
    shop.apply(event(message("c1"), 1.0))
    shop.apply(event(message("c2"), 1.5))  # waits: ana is full

    out = shop.apply(event(status("ana", events_pb2.OPERATOR_STATUS_AWAY), 3.0))

    assert kinds(out) == ["ConversationReassigned", "ConversationQueued"]
    reassigned, queued = payloads(out)
    assert isinstance(reassigned, events_pb2.ConversationReassigned)
    assert reassigned.to_operator_id == ""
    assert isinstance(queued, events_pb2.ConversationQueued)
    assert (queued.conversation_id, queued.position) == ("c1", 1)
    assert queued.reason == "taken back from its operator; first in line"


def test_an_operator_silent_too_long_loses_the_conversation_on_a_tick() -> None:
    shop = Shop(POLICY)
    online(shop, profile("ana"), profile("bea"))
    shop.apply(event(message("c1"), 0.0))  # to ana (name order breaks the tie)

    assert shop.apply(event(events_pb2.RoutingTick(), 1.9))[:1] == []
    out = shop.apply(event(events_pb2.RoutingTick(), 2.1))

    reassigned, assigned = payloads(out)[:2]
    assert isinstance(reassigned, events_pb2.ConversationReassigned)
    assert (reassigned.from_operator_id, reassigned.to_operator_id) == ("ana", "bea")
    assert reassigned.reason == "no reply within 0:02:00"
    assert isinstance(assigned, events_pb2.ConversationAssigned)


def test_a_reply_keeps_the_conversation_with_its_operator() -> None:
    shop = Shop(POLICY)
    online(shop, profile("ana"), profile("bea"))
    shop.apply(event(message("c1"), 0.0))
    shop.apply(event(events_pb2.OperatorReplied(conversation_id="c1", operator_id="ana"), 1.0))

    out = shop.apply(event(events_pb2.RoutingTick(), 30.0))

    assert "ConversationReassigned" not in kinds(out)
    assert shop.routing.assigned["c1"].operator_id == "ana"


def test_waiting_widens_the_match_step_by_step_each_an_event() -> None:
    shop = Shop(POLICY)
    online(shop, profile("ana", languages=("de",)))
    # ola could serve it, but is offline: the steps are waited out.
    shop.apply(event(profile("ola", languages=("pl",))))
    shop.apply(event(message("c1", language="pl"), 0.0))

    widened = [
        p
        for minute in (1.0, 2.5, 6.0, 11.0)
        for p in payloads(shop.apply(event(events_pb2.RoutingTick(), minute)))
        if isinstance(p, events_pb2.ConversationWidened)
    ]

    assert [(w.level, w.reason) for w in widened] == [
        ("ANY_TOPIC", "waited past 0:02:00"),
        ("FALLBACK_LANGUAGE", "waited past 0:05:00"),
        ("ANY_TEAM", "waited past 0:10:00"),
    ]


def test_queued_customers_are_told_when_their_position_moves() -> None:
    shop = Shop(POLICY)
    online(shop, profile("ana", chats=1))
    for index, conversation in enumerate(("c1", "c2", "c3")):
        shop.apply(event(message(conversation), index * 0.1))
    shop.apply(event(events_pb2.RoutingTick(), 0.5))  # positions as published on arrival: no change

    shop.apply(event(events_pb2.ConversationResolved(conversation_id="c1"), 1.0))  # c2 gets ana
    out = shop.apply(event(events_pb2.RoutingTick(), 1.5))

    [moved] = payloads(out)
    assert isinstance(moved, events_pb2.QueuePositionChanged)
    assert (moved.conversation_id, moved.position) == ("c3", 1)
    # ana handled c1 in one minute: that measurement now drives the estimate.
    assert moved.estimated_wait.ToTimedelta() == timedelta(minutes=1)


def test_ticks_are_due_only_when_something_changes_with_time() -> None:
    shop = Shop(POLICY)
    online(shop, profile("ana"))
    assert shop.due() is None
    shop.apply(event(message("c1"), 0.0))
    limit = POLICY.reply_within["web_chat"]
    assert shop.due() == at(0.0) + limit  # ana's reply deadline, not before
    shop.apply(event(events_pb2.OperatorReplied(conversation_id="c1"), 0.5))
    assert shop.due() is None


def test_a_waiting_conversation_is_due_at_its_next_widening_and_position_refresh() -> None:
    shop = Shop(POLICY)
    shop.apply(event(message("c1"), 0.0))  # nobody online: it waits
    assert shop.due() == at(0.0)  # positions not published yet
    shop.apply(event(events_pb2.RoutingTick(), 0.0))
    assert shop.due() == min(at(0.0) + POLICY.position_every, at(0.0) + POLICY.ladder.after[0])


def test_an_idle_worker_writes_no_ticks() -> None:
    worker = Worker(POLICY, RoutingMetrics(CollectorRegistry()), "/test")
    worker.partitions[0] = {"shop": Shop(POLICY)}
    online(worker.partitions[0]["shop"], profile("ana"))
    assert worker.ticks([0], at(60.0)) == []
    worker.partitions[0]["shop"].apply(event(message("c1"), 0.0))
    assert len(worker.ticks([0], at(60.0))) == 1


def _history() -> list[Envelope]:
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


def _worker() -> Worker:
    return Worker(POLICY, RoutingMetrics(CollectorRegistry()), "/test")


def test_replaying_the_stream_rebuilds_the_state_and_re_emits_the_same_events() -> None:
    records = [envelope.encode(e) for e in _history()]
    live = _worker()
    emitted = [out for headers, value in records for out in live.apply(0, headers, value)]

    restarted = _worker()
    cut = len(records) // 2
    restarted.replay(0, records[:cut])
    resumed = [out for headers, value in records[cut:] for out in restarted.apply(0, headers, value)]

    assert len(emitted) > 20
    assert resumed == emitted[len(emitted) - len(resumed) :]
    live_shop, rebuilt = live.partitions[0]["shop"], restarted.partitions[0]["shop"]
    assert rebuilt.routing == live_shop.routing
    assert (rebuilt.handling, rebuilt.published) == (live_shop.handling, live_shop.published)


def test_the_worker_skips_records_it_cannot_read_and_keeps_going() -> None:
    worker = _worker()
    headers, value = envelope.encode(event(profile("ana")))

    assert worker.apply(0, [("ce_id", b"x")], b"garbage") == []
    assert worker.apply(0, headers, value) == []
    assert "ana" in worker.partitions[0]["shop"].routing.operators


def test_emitted_event_ids_derive_from_their_cause() -> None:
    worker = _worker()
    for e in (event(profile("ana")), event(status("ana"))):
        worker.apply(0, *envelope.encode(e))
    cause = Envelope(str(uuid.uuid4()), "/test", "shop", message("c1"), datetime.now().astimezone())

    [out] = worker.apply(0, *envelope.encode(cause))
    again = _worker()
    for e in (event(profile("ana"), event_id="x1"), event(status("ana"), event_id="x2")):
        again.apply(0, *envelope.encode(e))
    [same] = again.apply(0, *envelope.encode(cause))

    decoded = envelope.decode(out.headers, out.value)
    assert decoded.id == envelope.decode(same.headers, same.value).id != cause.id
    assert (decoded.time, decoded.tenant, out.key) == (cause.time, "shop", b"c1")


def test_the_decision_log_keeps_the_best_of_many_operators_and_a_wait_the_first_refusals() -> None:
    """An assignment lists the five best ranked, read from the index without meeting anyone offline
    (issue #20: before, every speaker was scanned and the first five refused were listed too); a
    wait lists the first five refused, in the order operators joined."""
    shop = Shop(POLICY)
    online(shop, *(profile(f"on{n:02}") for n in range(8)))
    for n in range(6):
        shop.apply(event(profile(f"off{n:02}")))  # Italian speakers, never online
    online(shop, *(profile(f"de{n:02}", ("de",)) for n in range(8)))

    [assigned] = payloads(shop.apply(event(message("c1"), 1.0)))
    # Nobody handles e-mail at all: its widening steps are skipped at once, and it waits.
    widened, queued = payloads(shop.apply(event(message("c2", channel=common_pb2.CHANNEL_EMAIL), 1.0)))

    assert isinstance(assigned, events_pb2.ConversationAssigned)
    # Only those who speak the language are counted as considered.
    assert assigned.candidates_considered == 14
    assert [c.operator_id[:2] for c in assigned.candidates] == ["on"] * 5
    assert isinstance(widened, events_pb2.ConversationWidened)
    assert widened.level == "ANY_TEAM"
    assert isinstance(queued, events_pb2.ConversationQueued)
    assert queued.candidates_considered == 14
    assert [c.operator_id for c in queued.candidates] == [f"on{n:02}" for n in range(5)]
    assert {c.reason for c in queued.candidates} == {"does not handle email"}


def test_a_conversation_widened_and_assigned_in_the_same_tick_gives_both_events() -> None:
    """Regression: the events of a step were built from the state after it, where the widened
    conversation was no longer waiting (KeyError, and the step's assignment was lost)."""
    shop = Shop(POLICY)
    online(shop, profile("ana", topics=(common_pb2.SUPPORT_TOPIC_RETURNS,)))
    shop.apply(event(profile("bea", topics=(common_pb2.SUPPORT_TOPIC_ORDERS,))))  # offline
    question = message("c1")
    question.topic_hints.append(common_pb2.SUPPORT_TOPIC_ORDERS)
    shop.apply(event(question, 0.0))

    out = shop.apply(event(events_pb2.RoutingTick(), 2.5))

    assert kinds(out) == ["ConversationWidened", "ConversationAssigned"]
    widened, assigned = payloads(out)
    assert isinstance(widened, events_pb2.ConversationWidened)
    assert widened.level == "ANY_TOPIC"
    assert isinstance(assigned, events_pb2.ConversationAssigned)
    assert (assigned.operator_id, assigned.level) == ("ana", "ANY_TOPIC")


def test_a_channel_served_by_a_team_goes_to_others_only_at_the_last_widening() -> None:
    policy = Policy(ladder=POLICY.ladder, channel_teams={"phone": "callbacks"})
    shop = Shop(policy)
    desk = profile("ana")
    desk.capacities.append(events_pb2.ChannelCapacity(channel=common_pb2.CHANNEL_PHONE, max_concurrent=1))
    online(shop, desk)  # ana is not in the callbacks team
    caller = profile("cara")
    caller.team = "callbacks"
    caller.capacities[0].channel = common_pb2.CHANNEL_PHONE
    shop.apply(event(caller))  # the team's own operator, offline: the steps are waited out

    [queued] = payloads(shop.apply(event(message("c1", channel=common_pb2.CHANNEL_PHONE), 0.0)))
    assert isinstance(queued, events_pb2.ConversationQueued)
    assert [c.reason for c in queued.candidates] == ["not in team callbacks", "offline"]

    out = shop.apply(event(events_pb2.RoutingTick(), 10.5))
    assert kinds(out) == ["ConversationWidened", "ConversationAssigned"]
    assert payloads(out)[1].level == "ANY_TEAM"  # type: ignore[attr-defined]


def test_a_conversation_set_pending_by_its_operator_is_not_taken_back_for_silence() -> None:
    """Pending and on hold are set without a reply (issue #21): routing took it back after the
    channel's reply time as if the operator had gone silent."""
    shop = Shop(POLICY)
    online(shop, profile("ana"), profile("bea"))
    shop.apply(event(message("c1"), 0.0))
    holder = shop.routing.assigned["c1"].operator_id
    pending = events_pb2.ConversationStateChanged(
        conversation_id="c1", operator_id=holder, state=events_pb2.CONVERSATION_STATE_PENDING
    )
    shop.apply(event(pending, 1.0))

    out = shop.apply(event(events_pb2.RoutingTick(), 3.0))  # past the 2 minutes to reply

    assert "ConversationReassigned" not in kinds(out)
    assert shop.routing.assigned["c1"].operator_id == holder


def test_a_decision_caused_by_an_older_event_is_stamped_with_the_shops_clock() -> None:
    """An operator's status (minute 0.5) read after a newer message (minute 1.0), as happens across
    topics: the assignment it causes must not look older than the queueing before it, or the read
    model, which orders a conversation's events by time, shows the conversation still queued."""
    worker = _worker()
    outs = [
        out
        for e in (event(profile("ana"), 0.0), event(message("c1"), 1.0), event(status("ana"), 0.5))
        for out in worker.apply(0, *envelope.encode(e))
    ]
    decoded = [envelope.decode(o.headers, o.value) for o in outs]
    queued, assigned = (
        next(d for d in decoded if isinstance(d.payload, kind))
        for kind in (events_pb2.ConversationQueued, events_pb2.ConversationAssigned)
    )
    assert queued.time == at(1.0)
    assert assigned.time == at(1.0)  # the cause's own time would be 0.5
