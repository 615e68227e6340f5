"""E-mail bodies and languages as mail clients send them (issue #19, defects 4 and 5), through ingest.

They are posted to the real ingest process; the events are read back from the broker and checked field by
field."""

from __future__ import annotations

import json
import uuid

import pytest

from pronto.v1 import common_pb2, events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import IngestService
from services.ingest.channels import email as mail
from tests.integration.ingest.platform_support import at, deliver, messages

pytestmark = pytest.mark.integration

K = events_pb2
C = common_pb2


def outlook_alternative(run: str, plain: bytes, html: bytes, language: bytes = b"it-IT") -> bytes:
    """A multipart/alternative message as Outlook writes it: a text/plain and a text/html
    alternative of the same body, quoted-printable, with the client's locale in Content-Language."""
    return (
        b"From: Marco Bianchi <marco.bianchi@example.it>\r\n"
        b"To: assistenza@shop.example\r\n"
        b"Subject: Ordine 10422\r\n"
        b"Date: Mon, 16 Nov 2026 09:20:00 +0100\r\n"
        b"Message-ID: <" + run.encode() + b"@EXAMPLE.outlook.com>\r\n"
        b"Content-Language: " + language + b"\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="_000_alt_"\r\n'
        b"\r\n"
        b"--_000_alt_\r\n"
        b'Content-Type: text/plain; charset="utf-8"\r\n'
        b"Content-Transfer-Encoding: quoted-printable\r\n"
        b"\r\n" + plain + b"\r\n"
        b"--_000_alt_\r\n"
        b'Content-Type: text/html; charset="utf-8"\r\n'
        b"Content-Transfer-Encoding: quoted-printable\r\n"
        b"\r\n" + html + b"\r\n"
        b"--_000_alt_--\r\n"
    )


def outlook_event(
    run: str,
    text: str,
    language: str,
    topics: list[common_pb2.SupportTopic],
    notes: list[str] | None = None,
    subject: str = "Ordine 10422",
) -> K.MessageReceived:
    """The whole event ``outlook_alternative`` must become: Marco's address is the sender and, with
    no In-Reply-To or References, the thread is the message's own; ``Date`` (09:20 at +0100) is the
    time sent; the topics are what the subject and text mention (services/ingest/channels/topics.py)."""
    own_id = f"<{run}@EXAMPLE.outlook.com>"
    return K.MessageReceived(
        conversation_id=mail.thread_conversation("shop-a", "marco.bianchi@example.it", own_id, None, None),
        channel=C.CHANNEL_EMAIL,
        channel_message_id=own_id,
        sender=C.Sender(
            id="marco.bianchi@example.it", display_name="Marco Bianchi", email="marco.bianchi@example.it"
        ),
        subject=subject,
        text=text,
        language=language,
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794817200),
        topic_hints=topics,
        notes=notes or [],
    )


HTML = (
    b'<html><head><style>p {margin:0}</style></head><body dir=3D"ltr">\r\n'
    b"<p>Buongiorno, il mio ordine 10422 non =C3=A8 ancora arrivato.</p>\r\n"
    b"<p>Potete dirmi dove si trova?<br>Grazie, Marco</p>\r\n"
    b"</body></html>"
)


async def test_an_empty_plain_alternative_does_not_hide_the_html_body(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """The text/plain alternative is empty (a line break): the text is the HTML body's, reduced to
    text, no longer the subject.

    Shape: multipart/alternative, https://www.rfc-editor.org/rfc/rfc2046#section-5.1.4 (the parts in
    increasing faithfulness, plain first), quoted-printable per
    https://www.rfc-editor.org/rfc/rfc2045#section-6.7, posted raw to /email as the README says.
    """
    run = uuid.uuid4().hex[:12]
    status, answer = await deliver(ingest, "email", outlook_alternative(run, b"\r\n", HTML))

    assert status == 200, answer
    (message,) = await messages(broker, answer["event_ids"])
    # Italian text, so the declared it-IT stands, region and all; no attachments, no notes.
    assert message == outlook_event(
        run,
        "Buongiorno, il mio ordine 10422 non è ancora arrivato.\nPotete dirmi dove si trova?\nGrazie, Marco",
        "it-IT",
        [C.SUPPORT_TOPIC_ORDERS],
    )


async def test_a_plain_alternative_that_says_something_is_still_preferred(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """Both alternatives have the words: the plain one is the text (the HTML is not read).

    Shape: https://www.rfc-editor.org/rfc/rfc2046#section-5.1.4
    """
    run = uuid.uuid4().hex[:12]
    plain = b"Buongiorno, il pacco =C3=A8 arrivato rotto."
    status, answer = await deliver(ingest, "email", outlook_alternative(run, plain, HTML))

    assert status == 200, answer
    (message,) = await messages(broker, answer["event_ids"])
    # The order (subject), the parcel (shipping) and "arrivato rotto" (arrived broken: a complaint).
    assert message == outlook_event(
        run,
        "Buongiorno, il pacco è arrivato rotto.",
        "it-IT",
        [C.SUPPORT_TOPIC_ORDERS, C.SUPPORT_TOPIC_SHIPPING, C.SUPPORT_TOPIC_COMPLAINT],
    )


async def test_postmark_with_an_empty_text_body_takes_the_html_body(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """Postmark's inbound JSON with ``TextBody`` and ``StrippedTextReply`` empty (whitespace) and the
    words in ``HtmlBody``.

    Shape: https://postmarkapp.com/developer/webhooks/inbound-webhook (the example payload's fields)
    """
    run = uuid.uuid4().hex[:12]
    body = {
        "FromName": "Sarah O'Connor",
        "MessageStream": "inbound",
        "From": "sarah.oconnor@outlook.ie",
        "FromFull": {"Email": "sarah.oconnor@outlook.ie", "Name": "Sarah O'Connor", "MailboxHash": ""},
        "To": "support@prontoshop.example",
        "ToFull": [{"Email": "support@prontoshop.example", "Name": "", "MailboxHash": ""}],
        "Cc": "",
        "CcFull": [],
        "Bcc": "",
        "BccFull": [],
        "OriginalRecipient": "support@prontoshop.example",
        "Subject": "Refund",
        "MessageID": f"{run}-postmark",
        "ReplyTo": "",
        "MailboxHash": "",
        "Date": "Mon, 16 Nov 2026 11:31:07 +0000",
        "TextBody": "\n \n",
        "HtmlBody": "<html><body><p>Hi,</p><p>The refund is still not on my card.</p></body></html>",
        "StrippedTextReply": " ",
        "Tag": "",
        "Headers": [{"Name": "Message-ID", "Value": f"<{run}@outlook.ie>"}],
        "Attachments": [],
    }
    status, answer = await deliver(ingest, "email/json", json.dumps(body).encode())

    assert status == 200, answer
    (message,) = await messages(broker, answer["event_ids"])
    # The Message-ID header is the message's id (Postmark's own MessageID is not the mail's); no
    # In-Reply-To or References, so the thread is its own. No Content-Language: the text's, English.
    own_id = f"<{run}@outlook.ie>"
    assert message == K.MessageReceived(
        conversation_id=mail.thread_conversation("shop-a", "sarah.oconnor@outlook.ie", own_id, None, None),
        channel=C.CHANNEL_EMAIL,
        channel_message_id=own_id,
        sender=C.Sender(
            id="sarah.oconnor@outlook.ie", display_name="Sarah O'Connor", email="sarah.oconnor@outlook.ie"
        ),
        subject="Refund",
        text="Hi,\nThe refund is still not on my card.",
        language="en",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794828667),
        topic_hints=[C.SUPPORT_TOPIC_PAYMENTS],
    )


POLISH_HTML = (
    b"<html><body><p>Dzie=C5=84 dobry, zam=C3=B3wi=C5=82em buty w zesz=C5=82ym tygodniu "
    b"i nadal nie dotar=C5=82y. Prosz=C4=99 o informacj=C4=99, kiedy paczka zostanie "
    b"wys=C5=82ana.</p></body></html>"
)


async def test_the_text_wins_over_a_content_language_it_contradicts(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """Polish words from an Outlook set to Russian (``Content-Language: ru-RU``): the language is the
    text's, ``pl``, and a note keeps what was declared.

    Shape: Content-Language, https://www.rfc-editor.org/rfc/rfc3282#section-2, in the multipart/
    alternative message of https://www.rfc-editor.org/rfc/rfc2046#section-5.1.4
    """
    run = uuid.uuid4().hex[:12]
    raw = outlook_alternative(run, b"", POLISH_HTML, language=b"ru-RU")
    status, answer = await deliver(ingest, "email", raw)

    assert status == 200, answer
    (message,) = await messages(broker, answer["event_ids"])
    # The order (subject) and the parcel ("paczka"): shipping.
    assert message == outlook_event(
        run,
        "Dzień dobry, zamówiłem buty w zeszłym tygodniu i nadal nie dotarły. "
        "Proszę o informację, kiedy paczka zostanie wysłana.",
        "pl",
        [C.SUPPORT_TOPIC_ORDERS, C.SUPPORT_TOPIC_SHIPPING],
        notes=["declared language 'ru-RU' (Content-Language), but the text reads as 'pl'"],
    )


@pytest.mark.parametrize(
    ("declared", "html", "text", "language"),
    [
        # Detection only knows the shop's languages and reads Swedish as German: the tag stays.
        (
            b"sv-SE",
            b"<p>Hej, var =C3=A4r min best=C3=A4llning? Den skulle ha kommit ig=C3=A5r.</p>",
            "Hej, var är min beställning? Den skulle ha kommit igår.",
            "sv-SE",
        ),
        # Too short to tell: the tag stays.
        (b"pl-PL", b"<p>OK</p>", "OK", "pl-PL"),
    ],
)
async def test_the_declared_language_stays_when_detection_cannot_contradict_it(
    ingest: IngestService, broker: EmbeddedBroker, declared: bytes, html: bytes, text: str, language: str
) -> None:
    """Shape: https://www.rfc-editor.org/rfc/rfc3282#section-2 (Content-Language) in
    https://www.rfc-editor.org/rfc/rfc2046#section-5.1.4"""
    run = uuid.uuid4().hex[:12]
    raw = outlook_alternative(run, b"", html, language=declared).replace(
        b"Subject: Ordine 10422", b"Subject: 10422"
    )
    status, answer = await deliver(ingest, "email", raw)

    assert status == 200, answer
    (message,) = await messages(broker, answer["event_ids"])
    # No topic: the subject is only a number, and the topic stems are the shop's languages' (no
    # Swedish "beställning").
    assert message == outlook_event(run, text, language, [], subject="10422")
