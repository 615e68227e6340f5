"""Who hears what: the customer, the operator, the supervisors, each once per triggering event."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from google.protobuf.message import Message
from hypothesis import given, settings
from hypothesis import strategies as st

from pronto.v1 import common_pb2, events_pb2
from services.notify.domain.decide import SUPERVISORS, Customer, NotifyPolicy, Recipient, customer_of, decide
from services.notify.domain.templates import Kind

ROME = ZoneInfo("Europe/Rome")
SHOP = NotifyPolicy(zone=ROME, queue_threshold=3)


def anna() -> Customer:
    return customer_of(
        events_pb2.MessageReceived(
            conversation_id="c1",
            channel=common_pb2.CHANNEL_WHATSAPP,
            sender=common_pb2.Sender(id="+48600100200", display_name="Anna Kowalska"),
            language="pl",
        )
    )


def started(
    deadline: datetime, business: bool = True, opens: datetime | None = None
) -> events_pb2.SlaClockStarted:
    event = events_pb2.SlaClockStarted(
        conversation_id="c1", metric=events_pb2.SLA_METRIC_FIRST_RESPONSE, business_time=business
    )
    event.deadline.FromDatetime(deadline)
    if opens is not None:
        event.opens_at.FromDatetime(opens)
    return event


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=ROME)  # type: ignore[arg-type,misc]


def one(event: Message, customer: Customer, now: datetime) -> list[tuple[Recipient, str, Kind, str]]:
    return [(n.recipient_kind, n.recipient, n.kind, n.text) for n in decide(event, "t1", customer, SHOP, now)]


def test_the_customer_is_promised_the_deadline_in_their_language_on_their_channel() -> None:
    [notification] = decide(started(at(2026, 11, 23, 10, 30)), "t1", anna(), SHOP, at(2026, 11, 23, 10, 0))

    assert notification.recipient_kind is Recipient.CUSTOMER
    assert (notification.recipient, notification.channel, notification.language) == (
        "+48600100200",
        "whatsapp",
        "pl",
    )
    assert notification.text == (
        "Dziękujemy, Anna, otrzymaliśmy Twoją wiadomość. "
        "Odpowiemy najpóźniej poniedziałek, 23 listopada, o 10:30."
    )
    assert notification.trigger_event_id == "t1"


def test_outside_hours_the_customer_is_told_when_the_shop_opens() -> None:
    saturday_night = at(2026, 11, 21, 23, 0)
    monday = at(2026, 11, 23, 9, 0)
    [(_, _, kind, text)] = one(started(at(2026, 11, 23, 9, 30), opens=monday), anna(), saturday_night)
    assert kind is Kind.ACKNOWLEDGED_CLOSED
    assert "otwieramy poniedziałek, 23 listopada, o 09:00" in text
    assert "poniedziałek, 23 listopada, o 09:30" in text


def test_a_clock_counting_from_now_is_an_open_shop() -> None:
    now = at(2026, 11, 21, 23, 0)
    [(_, _, kind, _)] = one(started(at(2026, 11, 21, 23, 15), business=False, opens=now), anna(), now)
    assert kind is Kind.ACKNOWLEDGED


def test_only_the_first_response_clock_is_acknowledged() -> None:
    resolution = started(at(2026, 11, 23, 12, 0))
    resolution.metric = events_pb2.SLA_METRIC_RESOLUTION
    assert one(resolution, anna(), at(2026, 11, 23, 10, 0)) == []


def test_an_assignment_introduces_the_operator_and_tells_them() -> None:
    assigned = events_pb2.ConversationAssigned(
        conversation_id="c1", operator_id="marek", operator_display_name="Marek"
    )
    assert one(assigned, anna(), at(2026, 11, 23, 10, 0)) == [
        (
            Recipient.CUSTOMER,
            "+48600100200",
            Kind.ASSIGNED,
            "Dzień dobry, Anna, nazywam się Marek i pomogę Ci.",
        ),
        (Recipient.OPERATOR, "marek", Kind.NEW_ASSIGNMENT, "New conversation c1 on whatsapp for you."),
    ]


def test_a_transfer_introduces_the_new_operator_once_in_the_customers_language() -> None:
    """Routing writes a ConversationReassigned naming the new operator and then the
    ConversationAssigned: only the assignment speaks (before, both did: the customer and the new
    operator heard it twice)."""
    customer, now = anna(), at(2026, 11, 23, 10, 0)
    reassigned = events_pb2.ConversationReassigned(
        conversation_id="c1",
        from_operator_id="giulia",
        to_operator_id="marek",
        to_operator_display_name="Marek",
        transfer=events_pb2.Transfer(by_operator_id="giulia", to_operator_id="marek"),
    )
    assigned = events_pb2.ConversationAssigned(
        conversation_id="c1", operator_id="marek", operator_display_name="Marek"
    )

    told = one(reassigned, customer, now) + one(assigned, customer, now)

    assert [(r, who, kind) for r, who, kind, _ in told] == [
        (Recipient.CUSTOMER, "+48600100200", Kind.ASSIGNED),
        (Recipient.OPERATOR, "marek", Kind.NEW_ASSIGNMENT),
    ]
    assert told[0][3] == "Dzień dobry, Anna, nazywam się Marek i pomogę Ci."


def test_nobody_online_offers_email() -> None:
    queued = events_pb2.ConversationQueued(conversation_id="c1", nobody_online=True, position=1)
    [(_, _, kind, text)] = one(queued, anna(), at(2026, 11, 23, 10, 0))
    assert kind is Kind.NOBODY_ONLINE
    assert "e-mailem" in text


def position(place: int, minutes: float) -> events_pb2.QueuePositionChanged:
    event = events_pb2.QueuePositionChanged(conversation_id="c1", position=place)
    event.estimated_wait.FromTimedelta(timedelta(minutes=minutes))
    return event


def test_the_queue_position_is_told_again_only_when_it_moved() -> None:
    customer, start = anna(), at(2026, 11, 23, 10, 0)

    def moved(place: int, minutes: float, after_s: float) -> list[Kind]:
        told = one(position(place, minutes), customer, start + timedelta(seconds=after_s))
        return [kind for _, _, kind, _ in told]

    assert moved(3, 6, 0) == [Kind.QUEUE_POSITION]
    assert moved(3, 6.2, 300) == []  # the same place and minute
    assert moved(2, 4, 300) == [Kind.QUEUE_POSITION]


def test_a_long_queue_is_told_its_place_every_two_minutes_at_most_and_only_when_it_moved() -> None:
    customer, start = anna(), at(2026, 11, 23, 10, 0)

    def moved(place: int, minutes: float, after_s: float) -> bool:
        told = one(position(place, minutes), customer, start + timedelta(seconds=after_s))
        return Kind.QUEUE_POSITION in [kind for _, _, kind, _ in told]

    assert moved(72, 98, 0)  # the first place at once
    assert not moved(60, 80, 60)  # moved, but a minute later
    assert not moved(68, 90, 130)  # two minutes on, but 4 places of 72 and 8 minutes of 98: barely
    assert moved(60, 80, 140)
    assert not moved(59, 79, 400)  # long after, but one place of 60
    assert moved(59, 97, 400)  # the wait grew by a fifth (80 to 97 minutes): said


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 500), st.integers(0, 120), st.floats(0, 600, allow_nan=False)),
        min_size=1,
        max_size=60,
    )
)
def test_a_waiting_customer_hears_their_place_at_most_once_per_interval(
    updates: list[tuple[int, int, float]],
) -> None:
    """Whatever routing says and however often, the customer hears their place at most once per
    ``position_every`` (two minutes), plus the first time."""
    customer, now = anna(), at(2026, 11, 23, 10, 0)
    told: list[datetime] = []
    for place, minutes, after_s in updates:
        now += timedelta(seconds=after_s)
        if Kind.QUEUE_POSITION in [kind for _, _, kind, _ in one(position(place, minutes), customer, now)]:
            told.append(now)
    assert all(b - a >= SHOP.position_every for a, b in itertools.pairwise(told))
    assert len(told) <= 1 + (now - at(2026, 11, 23, 10, 0)) / SHOP.position_every


def test_warnings_go_to_the_operator_and_breaches_to_the_supervisors() -> None:
    customer = anna()
    one(
        events_pb2.ConversationAssigned(conversation_id="c1", operator_id="marek"),
        customer,
        at(2026, 11, 23, 10, 0),
    )
    warning = events_pb2.SlaWarning(conversation_id="c1", metric=events_pb2.SLA_METRIC_FIRST_RESPONSE)
    warning.deadline.FromDatetime(at(2026, 11, 23, 10, 30).astimezone(UTC))
    predicted = events_pb2.SlaWarning(conversation_id="c1", predicted=True)
    predicted.deadline.FromDatetime(at(2026, 11, 23, 10, 30).astimezone(UTC))
    breached = events_pb2.SlaBreached(conversation_id="c1")
    breached.deadline.FromDatetime(at(2026, 11, 23, 10, 30).astimezone(UTC))

    assert one(warning, customer, at(2026, 11, 23, 10, 24)) == [
        (
            Recipient.OPERATOR,
            "marek",
            Kind.SLA_WARNING,
            "Conversation c1 on whatsapp is due by Monday 23 November at 10:30.",
        )
    ]
    assert [(r, who, k) for r, who, k, _ in one(predicted, customer, at(2026, 11, 23, 10, 5))] == [
        (Recipient.SUPERVISOR, SUPERVISORS, Kind.PREDICTED_BREACH)
    ]
    assert [(r, who, k) for r, who, k, _ in one(breached, customer, at(2026, 11, 23, 10, 30))] == [
        (Recipient.SUPERVISOR, SUPERVISORS, Kind.BREACH)
    ]


def test_a_warning_before_anyone_holds_the_conversation_tells_no_operator() -> None:
    warning = events_pb2.SlaWarning(conversation_id="c1")
    assert one(warning, anna(), at(2026, 11, 23, 10, 24)) == []


def test_other_events_cause_nothing() -> None:
    assert one(events_pb2.SlaMet(conversation_id="c1"), anna(), at(2026, 11, 23, 10, 24)) == []


def test_supervisors_hear_once_when_the_queue_grows_past_the_threshold() -> None:
    customer = anna()

    def moved(position: int) -> list[Kind]:
        event = events_pb2.QueuePositionChanged(conversation_id="c1", position=position)
        return [
            k for r, _, k, _ in one(event, customer, at(2026, 11, 23, 10, 0)) if r is Recipient.SUPERVISOR
        ]

    assert moved(3) == []
    assert moved(4) == [Kind.QUEUE_OVER]  # someone joined ahead: four wait now
    assert moved(4) == []
    assert moved(3) == []
    assert moved(4) == [Kind.QUEUE_OVER]  # crossed again


def test_a_newcomer_at_threshold_plus_one_tells_the_supervisors() -> None:
    queued = events_pb2.ConversationQueued(conversation_id="c1", position=4, nobody_online=True)
    kinds = [(r, k) for r, _, k, _ in one(queued, anna(), at(2026, 11, 23, 10, 0))]
    assert kinds == [(Recipient.CUSTOMER, Kind.NOBODY_ONLINE), (Recipient.SUPERVISOR, Kind.QUEUE_OVER)]


def test_a_clock_starting_moments_after_the_message_is_an_open_shop() -> None:
    now = at(2026, 11, 23, 10, 0)
    event = started(at(2026, 11, 23, 10, 30), opens=now + timedelta(milliseconds=40))
    [(_, _, kind, _)] = one(event, anna(), now)
    assert kind is Kind.ACKNOWLEDGED


def test_a_conversation_taken_back_to_the_queue_tells_nobody_yet() -> None:
    back = events_pb2.ConversationReassigned(conversation_id="c1", from_operator_id="marek")
    assert one(back, anna(), at(2026, 11, 23, 10, 0)) == []


def test_no_acknowledgement_after_the_operator_introduced_themselves() -> None:
    """Found in review: SLA's clock may be merged after routing's assignment of the same message."""
    customer, now = anna(), at(2026, 11, 23, 10, 0)
    one(events_pb2.ConversationAssigned(conversation_id="c1", operator_id="marek"), customer, now)
    assert one(started(at(2026, 11, 23, 10, 30)), customer, now) == []
    # The next conversation after this one is acknowledged again.
    [(_, _, kind, _)] = one(started(at(2026, 11, 24, 10, 30)), customer, at(2026, 11, 24, 10, 0))
    assert kind is Kind.ACKNOWLEDGED


def test_no_queue_position_after_offering_an_email_answer() -> None:
    customer, now = anna(), at(2026, 11, 23, 10, 0)
    one(events_pb2.ConversationQueued(conversation_id="c1", nobody_online=True, position=1), customer, now)
    moved = events_pb2.QueuePositionChanged(conversation_id="c1", position=2)
    assert one(moved, customer, now) == []
    one(events_pb2.ConversationAssigned(conversation_id="c1", operator_id="marek"), customer, now)
    queued_again = events_pb2.ConversationQueued(conversation_id="c1", position=2)
    assert [k for _, _, k, _ in one(queued_again, customer, now)] == [Kind.QUEUE_POSITION]
