"""An out-of-office reply to Pronto's e-mail acknowledgement opens no conversation and is not answered.

No further e-mail answers it (issue #19, defect 7). Tested on the whole system, answering customers through a
real SMTP server.

The customer writes by e-mail; nobody is online, so Pronto acknowledges it by e-mail on its own, marked
``Auto-Submitted: auto-replied`` (RFC 3834). The customer's mailbox answers that acknowledgement with an
out-of-office reply, as Gmail's vacation responder writes it: ``Auto-Submitted: auto-replied``, in reply
to the acknowledgement. It used to open a conversation of its own (the acknowledgement's Message-ID is
not the customer's thread), which was acknowledged in turn, and answered again: a mail loop. It is now
recorded, and nothing follows from it.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from pronto import envelope, topics
from pronto.kafka.reader import Record, header, read_records
from pronto.v1 import events_pb2
from pronto_tools.simulate.run import DEMO_CHANNEL_SECRETS
from tests.e2e.conftest import TENANT, Running, whole_system
from tests.support.processes import eventually
from tests.support.receivers import Mailbox, smtp_server
from tests.support.webhooks import post

pytestmark = pytest.mark.integration

SHOP = "Negozio Rossi <assistenza@negozio.example>"
CUSTOMER = "giulia.rossi@example.it"


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Running, Mailbox]]:
    with (
        smtp_server() as mailbox,
        whole_system(
            tmp_path_factory.mktemp("auto-replies"),
            env={"notify": {"PRONTO_NOTIFY_SMTP_PORT": str(mailbox.port)}},
            notify={"outbound": {"email": {"sender": SHOP}}},
        ) as running,
    ):
        yield running, mailbox


async def send_email(running: Running, raw: bytes) -> str:
    """The raw message posted to ingest's e-mail webhook; its event id."""
    status, answer = await post(
        running.system.ingest.http_url,
        f"/webhooks/{TENANT}/email",
        raw,
        {"Content-Type": "message/rfc822", "Authorization": f"Bearer {DEMO_CHANNEL_SECRETS['email_token']}"},
    )
    assert status == 200, answer
    (event_id,) = answer["event_ids"]
    return str(event_id)


async def inbound(running: Running, event_id: str) -> events_pb2.MessageReceived:
    (record,) = await read_records(
        running.bootstrap_servers,
        topics.INBOUND.name,
        lambda r: header(r, "ce_id") == event_id,
        expect=1,
        timeout=30,
        settle=0.2,
    )
    payload = envelope.decode(record.headers, record.value).payload
    assert isinstance(payload, events_pb2.MessageReceived)
    return payload


async def about(running: Running, topic: str, conversation: str, timeout: float) -> list[Record]:
    """Every record of ``topic`` about ``conversation`` written within ``timeout`` seconds."""

    def keep(record: Record) -> bool:
        payload = envelope.decode(record.headers, record.value).payload
        return getattr(payload, "conversation_id", "") == conversation

    return await read_records(running.bootstrap_servers, topic, keep, expect=1, timeout=timeout, settle=0.5)


def answering(mailbox: Mailbox, message_id: str) -> list[EmailMessage]:
    return [m for m in mailbox.to(CUSTOMER) if message_id in str(m["In-Reply-To"] or "")]


async def test_an_out_of_office_reply_to_the_acknowledgement_opens_nothing_and_is_not_answered(
    running: tuple[Running, Mailbox],
) -> None:
    system, mailbox = running
    run = uuid.uuid4().hex[:12]
    question_id = f"<CAF{run}@mail.example.it>"
    question = (
        f"From: Giulia Rossi <{CUSTOMER}>\r\n"
        "To: assistenza@negozio.example\r\n"
        "Subject: Ordine 4512 non arrivato\r\n"
        "Date: " + time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()) + "\r\n"
        f"Message-ID: {question_id}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "Buongiorno, il mio ordine 4512 non è ancora arrivato. Potete verificare?\r\n"
    ).encode()

    first = await inbound(system, await send_email(system, question))
    assert first.kind == events_pb2.MESSAGE_KIND_TEXT
    # Nobody is online: Pronto acknowledges the message by e-mail, in its thread, on its own.
    await eventually(lambda: answering(mailbox, question_id), 60, "the acknowledgement e-mail")
    acknowledgement = answering(mailbox, question_id)[0]
    assert acknowledgement["Auto-Submitted"] == "auto-replied"
    assert acknowledgement["X-Auto-Response-Suppress"] == "All"
    acknowledgement_id = str(acknowledgement["Message-ID"])

    # The customer's mailbox answers it while she is away (Gmail's vacation responder's headers).
    ooo_id = f"<CAF{run}-vacation@mail.example.it>"
    out_of_office = (
        f"From: Giulia Rossi <{CUSTOMER}>\r\n"
        "To: " + SHOP + "\r\n"
        "Subject: Risposta automatica: " + str(acknowledgement["Subject"]) + "\r\n"
        "Date: " + time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()) + "\r\n"
        f"Message-ID: {ooo_id}\r\n"
        f"In-Reply-To: {acknowledgement_id}\r\n"
        f"References: {acknowledgement_id}\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "Sono in ferie fino al 30 novembre, risponderò al mio rientro.\r\n"
    ).encode()
    ooo_event = await send_email(system, out_of_office)

    recorded = await inbound(system, ooo_event)
    assert recorded.kind == events_pb2.MESSAGE_KIND_AUTOMATIC
    assert recorded.channel_message_id == ooo_id
    assert list(recorded.notes) == [
        "an automatic e-mail (Auto-Submitted: auto-replied): recorded only; "
        "it opens no conversation and is not acknowledged"
    ]
    # Threaded on the acknowledgement alone, it names a conversation of its own: as a customer's
    # message it would have been a new one, queued, clocked and acknowledged.
    assert recorded.conversation_id != first.conversation_id
    # Routing, SLA and notify read it and write nothing about it: no conversation opened, no clock,
    # no notification. Each read waits its whole bound for a record that must not come.
    nothing = await asyncio.gather(
        about(system, topics.CONVERSATIONS.name, recorded.conversation_id, 15),
        about(system, topics.SLA.name, recorded.conversation_id, 15),
        about(system, topics.NOTIFICATIONS.name, recorded.conversation_id, 15),
    )
    assert list(nothing) == [[], [], []]
    # No further e-mail: everything Pronto sent the customer answers her question, nothing the
    # out-of-office reply.
    sent = mailbox.to(CUSTOMER)
    assert sent
    assert [str(m["In-Reply-To"]) for m in sent] == [question_id] * len(sent)
    assert all(m["Auto-Submitted"] == "auto-replied" for m in sent)
