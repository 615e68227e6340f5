"""An operator's reply: signed in the customer's language, or a callback task for phone customers."""

from __future__ import annotations

from datetime import UTC, datetime

from pronto.v1 import common_pb2, events_pb2
from services.notify.domain.decide import (
    Customer,
    NotifyPolicy,
    Recipient,
    customer_of,
    customer_wrote,
    decide,
)
from services.notify.domain.templates import Kind

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def reply(text: str = "Arriva domani.") -> events_pb2.OperatorReplied:
    return events_pb2.OperatorReplied(conversation_id="c-1", operator_id="ottavia", text=text)


def customer(channel: str = "telegram", language: str = "pl") -> Customer:
    return Customer("c-1", "cust-1", "Ola Nowak", language, channel, operator_names={"ottavia": "Ottavia"})


def test_a_reply_is_signed_in_the_customers_language() -> None:
    (answer,) = decide(reply(), "r-1", customer(), NotifyPolicy(name="Sklep"), NOW)
    assert (answer.recipient_kind, answer.recipient, answer.kind) == (
        Recipient.CUSTOMER,
        "cust-1",
        Kind.REPLY,
    )
    assert answer.text == "Arriva domani.\n\n— Ottavia, obsługa klienta · Sklep"
    assert (answer.operator_id, answer.operator_name, answer.channel) == ("ottavia", "Ottavia", "telegram")


def test_a_reply_from_an_operator_never_assigned_is_signed_with_their_id() -> None:
    (answer,) = decide(
        events_pb2.OperatorReplied(conversation_id="c-1", operator_id="marek", text="Ok."),
        "r",
        customer(language="de"),
        NotifyPolicy(),
        NOW,
    )
    assert answer.text == "Ok.\n\n— marek, Kundenservice"


def test_a_phone_customer_gets_a_callback_from_the_operator() -> None:
    phone = customer(channel="phone")
    phone.phone = "+48221234567"
    (task,) = decide(reply("Confirm the new address."), "r-2", phone, NotifyPolicy(), NOW)
    assert (task.recipient_kind, task.recipient, task.kind) == (Recipient.OPERATOR, "ottavia", Kind.CALLBACK)
    assert task.text == "Call Ola Nowak back on +48221234567 (conversation c-1): Confirm the new address."


def test_what_a_customer_message_tells_about_answering_them() -> None:
    first = events_pb2.MessageReceived(
        conversation_id="c-1",
        channel=common_pb2.CHANNEL_EMAIL,
        channel_message_id="<a@mail>",
        sender=common_pb2.Sender(id="ola@example.com", email="ola@example.com"),
        subject="Zamówienie",
        language="pl",
    )
    known = customer_of(first)
    customer_wrote(known, first, NOW)
    second = events_pb2.MessageReceived(
        conversation_id="c-1",
        channel=common_pb2.CHANNEL_EMAIL,
        channel_message_id="<b@mail>",
        subject="Re: Zamówienie",
    )
    second.sent_at.FromDatetime(datetime(2026, 11, 24, 13, 0, tzinfo=UTC))
    customer_wrote(known, second, NOW)
    assert (known.message_ids, known.subject, known.email) == (
        ["<a@mail>", "<b@mail>"],
        "Zamówienie",
        "ola@example.com",
    )
    assert known.wrote_at == datetime(2026, 11, 24, 13, 0, tzinfo=UTC)


def test_a_phone_customer_without_a_webhook_is_told_nothing_but_the_operator_still_is() -> None:
    phone = customer(channel="phone")
    assigned = events_pb2.ConversationAssigned(
        conversation_id="c-1", operator_id="ottavia", operator_display_name="Ottavia"
    )
    told = decide(assigned, "a-1", phone, NotifyPolicy(unreachable=frozenset({"phone"})), NOW)
    assert [(n.recipient_kind, n.kind) for n in told] == [(Recipient.OPERATOR, Kind.NEW_ASSIGNMENT)]
    with_webhook = decide(assigned, "a-1", customer(channel="phone"), NotifyPolicy(), NOW)
    assert Recipient.CUSTOMER in {n.recipient_kind for n in with_webhook}
