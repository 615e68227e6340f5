"""Automatic e-mails are recorded as automatic, never as the customer writing (raw, Mailgun, SendGrid).

Automatic e-mails (auto-replies, bounces and delivery reports, mailing lists) are recorded as
automatic, never as the customer writing (issue #19): raw, through Mailgun and through SendGrid.

Posted to the real ingest process; the events are read back from the broker and compared whole.

Each test names the documentation page its payload follows. Values (ids, names, texts) are ours; a
run id keeps them apart from other tests' events on the session broker.
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlencode

import pytest

from pronto.v1 import common_pb2, events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import IngestService
from services.ingest.channels import email as mail
from tests.integration.ingest.email_forms import PDF, mailgun_signature, sendgrid_headers, sendgrid_parse
from tests.integration.ingest.platform_support import at, deliver, messages
from tests.plugins.ingest import CHANNEL_SECRETS
from tests.support.webhooks import post

pytestmark = pytest.mark.integration
K = events_pb2
C = common_pb2


def raw_email(
    run: str, *headers: str, content_type: str = "text/plain; charset=utf-8", body: str = ""
) -> bytes:
    lines = [
        "From: Anna Nowak <anna.nowak@example.pl>",
        "To: obsluga@shop.example",
        "Subject: Automatyczna odpowiedź: Re: Zamówienie PL-7781",
        "Date: Mon, 16 Nov 2026 09:30:00 +0100",
        f"Message-ID: <{run}@mail.example.pl>",
        "In-Reply-To: <n-1@pronto.notify>",
        "MIME-Version: 1.0",
        f"Content-Type: {content_type}",
        *headers,
        "",
        body or "Jestem na urlopie do 30 listopada. W pilnych sprawach proszę pisać do biuro@example.pl.",
    ]
    return "\r\n".join(lines).encode() + b"\r\n"


DSN = (
    "--dsn-boundary\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
    "This is the mail system at host mx.example.pl. Your message could not be delivered.\r\n"
    "--dsn-boundary\r\n"
    "Content-Type: message/delivery-status\r\n\r\n"
    "Reporting-MTA: dns; mx.example.pl\r\n\r\n"
    "Final-Recipient: rfc822; anna.nowak@example.pl\r\n"
    "Action: failed\r\n"
    "Status: 5.1.1\r\n\r\n"
    "--dsn-boundary\r\n"
    "Content-Type: text/rfc822-headers\r\n\r\n"
    "From: obsluga@shop.example\r\nSubject: Re: Zamówienie PL-7781\r\n\r\n"
    "--dsn-boundary--"
)


@pytest.mark.parametrize(
    ("headers", "content_type", "body", "reason"),
    [
        # RFC 3834 section 5: https://www.rfc-editor.org/rfc/rfc3834#section-5
        (["Auto-Submitted: auto-replied"], None, "", "Auto-Submitted: auto-replied"),
        (["Auto-Submitted: auto-generated"], None, "", "Auto-Submitted: auto-generated"),
        # Auto-responders older than RFC 3834 (vacation, procmail, cPanel):
        # https://www.rfc-editor.org/rfc/rfc3834#section-3.1.8 ("Precedence"), and their own headers
        (["X-Autoreply: yes"], None, "", "X-Autoreply: yes"),
        (["X-Autorespond: Jestem na urlopie"], None, "", "X-Autorespond: Jestem na urlopie"),
        (["Precedence: bulk"], None, "", "Precedence: bulk"),
        (["Precedence: auto_reply"], None, "", "Precedence: auto_reply"),
        (["Precedence: list"], None, "", "Precedence: list"),
        # Exchange: https://learn.microsoft.com/en-us/openspecs/exchange_server_protocols/ms-oxcmail/ced68690-498a-4567-9d14-5c01f974d8b1
        (["X-Auto-Response-Suppress: All"], None, "", "X-Auto-Response-Suppress: All"),
        # A null return path: https://www.rfc-editor.org/rfc/rfc5321#section-4.5.5
        (["Return-Path: <>"], None, "", "Return-Path: <> (a null return path)"),
        # A delivery-status report: https://www.rfc-editor.org/rfc/rfc3464 and rfc6522
        (
            [],
            'multipart/report; report-type=delivery-status; boundary="dsn-boundary"',
            DSN,
            "Content-Type: multipart/report; report-type=delivery-status "
            "(a delivery-status or disposition report)",
        ),
    ],
)
async def test_an_automatic_email_is_recorded_as_automatic_never_as_the_customer_writing(
    ingest: IngestService,
    broker: EmbeddedBroker,
    headers: list[str],
    content_type: str | None,
    body: str,
    reason: str,
) -> None:
    """An out-of-office reply, an auto-responder's answer, a bulk or list mail or a bounce is written
    by a machine: it is kept (kind AUTOMATIC, the note saying what gave it away), and routing, SLA and
    notify never open a conversation for it or acknowledge it (tests/e2e/test_auto_replies.py).

    Shape: an RFC 5322 message (https://www.rfc-editor.org/rfc/rfc5322) with the header each case
    cites, posted raw as the README's /email route takes it.
    """
    run = uuid.uuid4().hex[:12]
    raw = raw_email(run, *headers, content_type=content_type or "text/plain; charset=utf-8", body=body)

    status, answer = await deliver(ingest, "email", raw)

    assert status == 200, answer
    (message,) = await messages(broker, answer["event_ids"])
    own_id = f"<{run}@mail.example.pl>"
    # The whole event, each case's own fields merged into what all cases share.
    expected = K.MessageReceived(
        conversation_id=mail.thread_conversation(
            "shop-a", "anna.nowak@example.pl", own_id, "<n-1@pronto.notify>", None
        ),
        channel=C.CHANNEL_EMAIL,
        channel_message_id=own_id,
        sender=C.Sender(id="anna.nowak@example.pl", display_name="Anna Nowak", email="anna.nowak@example.pl"),
        subject="Automatyczna odpowiedź: Re: Zamówienie PL-7781",
        kind=K.MESSAGE_KIND_AUTOMATIC,
        sent_at=at(1794817800),
        notes=[mail.automatic_note(reason)],
    )
    if not body:
        # The out-of-office text is Polish; the subject names an order ("Zamówienie").
        expected.MergeFrom(
            K.MessageReceived(
                text="Jestem na urlopie do 30 listopada. "
                "W pilnych sprawach proszę pisać do biuro@example.pl.",
                language="pl",
                topic_hints=[C.SUPPORT_TOPIC_ORDERS],
            )
        )
    else:
        # The report's human-readable part is the text (English), an order in the subject, a
        # failed delivery. Both subject and text are a machine's words here, Polish and English:
        # the language is what detection reads in the two together (README, "Language"), Polish;
        # no documented rule prefers the body. The report's other parts are attachments, each its
        # size as sent: the part's body up to the CRLF that belongs to the next boundary (RFC 2046
        # section 5.1.1), 116 and 62 octets.
        status_part = (
            b"Reporting-MTA: dns; mx.example.pl\r\n\r\n"
            b"Final-Recipient: rfc822; anna.nowak@example.pl\r\n"
            b"Action: failed\r\nStatus: 5.1.1\r\n"
        )
        headers_part = "From: obsluga@shop.example\r\nSubject: Re: Zamówienie PL-7781\r\n".encode()
        expected.MergeFrom(
            K.MessageReceived(
                text="This is the mail system at host mx.example.pl. Your message could not be delivered.",
                attachments=[
                    C.Attachment(content_type="message/delivery-status", size_bytes=len(status_part)),
                    C.Attachment(content_type="text/rfc822-headers", size_bytes=len(headers_part)),
                ],
                language="pl",
                topic_hints=[C.SUPPORT_TOPIC_ORDERS, C.SUPPORT_TOPIC_SHIPPING],
            )
        )
    assert message == expected


async def test_automatic_emails_through_mailgun_and_sendgrid_are_recorded_as_automatic(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """The same recognition on the providers' forms: Mailgun's ``message-headers`` carrying
    ``Auto-Submitted``, SendGrid's ``envelope`` with a null sender (a bounce's MAIL FROM:<>).

    Shapes: https://documentation.mailgun.com/docs/mailgun/user-manual/receive-forward-store/receive-http,
    https://www.twilio.com/docs/sendgrid/for-developers/parsing-email/setting-up-the-inbound-parse-webhook
    ("Default Parameters": envelope.from is the return path); RFC 3834 section 5.
    """
    run = uuid.uuid4().hex[:12]
    own_id = f"<ooo-{run}@web.de>"
    headers = [
        ["Message-Id", own_id],
        ["From", "Jonas Becker <jonas.becker@web.de>"],
        ["Subject", "Abwesenheitsnotiz: Re: Ihre Bestellung DE-30982"],
        ["Date", "Mon, 16 Nov 2026 11:22:40 +0100"],
        ["Auto-Submitted", "auto-replied"],
        ["In-Reply-To", "<n-2@pronto.notify>"],
    ]
    mailgun = urlencode(
        {
            "recipient": "support@mg.prontoshop.example",
            "sender": "jonas.becker@web.de",
            "from": "Jonas Becker <jonas.becker@web.de>",
            "subject": "Abwesenheitsnotiz: Re: Ihre Bestellung DE-30982",
            "body-plain": "Ich bin bis zum 30. November nicht im Büro.",
            "message-headers": json.dumps(headers),
            **mailgun_signature(run),
        }
    ).encode()
    sendgrid, content_type = sendgrid_parse(
        run, header_block=sendgrid_headers(run), envelope_from=None, text=b"Delivery failed.\n"
    )

    from_mailgun = await post(
        ingest.http_url,
        "/webhooks/shop-a/email/mailgun",
        mailgun,
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    from_sendgrid = await post(
        ingest.http_url,
        "/webhooks/shop-a/email/sendgrid",
        sendgrid,
        {"Content-Type": content_type, "Authorization": f"Bearer {CHANNEL_SECRETS['email_token']}"},
    )

    assert from_mailgun[0] == 200, from_mailgun
    assert from_sendgrid[0] == 200, from_sendgrid
    by_mailgun, by_sendgrid = await messages(
        broker, from_mailgun[1]["event_ids"] + from_sendgrid[1]["event_ids"]
    )
    if by_mailgun.channel_message_id != own_id:
        by_mailgun, by_sendgrid = by_sendgrid, by_mailgun
    # The whole events. Mailgun's: German, an order in the subject, the Date header's time.
    assert by_mailgun == K.MessageReceived(
        conversation_id=mail.thread_conversation(
            "shop-a", "jonas.becker@web.de", own_id, "<n-2@pronto.notify>", None
        ),
        channel=C.CHANNEL_EMAIL,
        channel_message_id=own_id,
        sender=C.Sender(id="jonas.becker@web.de", display_name="Jonas Becker", email="jonas.becker@web.de"),
        subject="Abwesenheitsnotiz: Re: Ihre Bestellung DE-30982",
        text="Ich bin bis zum 30. November nicht im Büro.",
        language="de",
        kind=K.MESSAGE_KIND_AUTOMATIC,
        sent_at=at(1794824560),
        topic_hints=[C.SUPPORT_TOPIC_ORDERS],
        notes=[mail.automatic_note("Auto-Submitted: auto-replied")],
    )
    # SendGrid's: the message its ``headers`` describe (Giulia's thread, subject, Date and PDF),
    # only its envelope's sender is null. Its words are mostly the Italian subject ("Delivery
    # failed." is two): Italian; an order and its delivery.
    sendgrid_id = f"<CAJx7Vq0{run}@mail.gmail.com>"
    root = "<CAJx7Vq2mN8kR4tYp0sW3bZ1hL9cF6dG5eA2uX7iO0nQ+4vMk3w@mail.gmail.com>"
    assert by_sendgrid == K.MessageReceived(
        conversation_id=mail.thread_conversation(
            "shop-a", "giulia.bianchi87@gmail.com", sendgrid_id, root, root
        ),
        channel=C.CHANNEL_EMAIL,
        channel_message_id=sendgrid_id,
        sender=C.Sender(
            id="giulia.bianchi87@gmail.com",
            display_name="Giulia Bianchi",
            email="giulia.bianchi87@gmail.com",
        ),
        subject="Re: Ordine IT-48213 consegnato ma non ricevuto",
        text="Delivery failed.",
        attachments=[
            C.Attachment(
                filename="ricevuta_corriere.pdf", content_type="application/pdf", size_bytes=len(PDF)
            )
        ],
        language="it",
        kind=K.MESSAGE_KIND_AUTOMATIC,
        sent_at=at(1794821872),
        topic_hints=[C.SUPPORT_TOPIC_ORDERS, C.SUPPORT_TOPIC_SHIPPING],
        notes=[mail.automatic_note("a null return path (MAIL FROM:<>)")],
    )
