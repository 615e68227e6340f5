"""Mailgun's and SendGrid's documented inbound e-mail webhooks, through ingest, read back whole.

Mailgun's and SendGrid's inbound e-mail webhooks as the providers document them (issue #19):
Mailgun's multipart forward with attachments and its store notification, SendGrid's Inbound Parse
with its charsets, headers and attachments. Posted to the real ingest process; the events are read
back from the broker and compared whole.

Each test names the documentation page its payload follows. Values (ids, names, texts) are ours; a
run id keeps them apart from other tests' events on the session broker.
"""

from __future__ import annotations

import json
import uuid

import pytest

from pronto import event_ids, topics
from pronto.v1 import common_pb2, events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import IngestService
from services.ingest.channels import email as mail
from tests.integration.ingest.email_forms import (
    JPEG,
    PDF,
    basic,
    fields,
    form_data,
    mailgun_signature,
    sendgrid_headers,
    sendgrid_parse,
)
from tests.integration.ingest.platform_support import at, messages, records
from tests.plugins.ingest import CHANNEL_SECRETS
from tests.support.webhooks import post

pytestmark = pytest.mark.integration
K = events_pb2
C = common_pb2


async def test_a_mailgun_forward_with_attachments_is_multipart_and_accepted_with_them(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """Mailgun sends multipart/form-data when the message has attachments (the files
    ``attachment-1`` .. ``attachment-N``, counted by ``attachment-count``); it was a 401 "timestamp,
    token and signature are required". The signature fields are read from the multipart body, the
    files become the message's attachments.

    Shape: https://documentation.mailgun.com/docs/mailgun/user-manual/receive-forward-store/receive-http
    ("Receiving Messages via HTTP through a forward() action"), signature:
    https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks
    """
    run = uuid.uuid4().hex[:12]
    own_id = f"<trinity-{run}-1794823360877@3c-app-webde-bs52>"
    in_reply_to = "<20261116101544.3c7d9e0f1a2b4c58@mg.prontoshop.example>"
    references = f"<20261113094512.{run}@mg.prontoshop.example> {in_reply_to}"
    headers = [
        ("X-Mailgun-Incoming", "Yes"),
        ("X-Envelope-From", "<jonas.becker@web.de>"),
        ("Mime-Version", "1.0"),
        ("Message-Id", own_id),
        ("From", "Jonas Becker <jonas.becker@web.de>"),
        ("To", '"Pronto Support" <support@mg.prontoshop.example>'),
        ("Subject", "Aw: Ihre Bestellung DE-30982"),
        ("Content-Type", 'multipart/mixed; boundary="abmob-3f8a1c2e"'),
        ("Date", "Mon, 16 Nov 2026 11:22:40 +0100"),
        ("In-Reply-To", in_reply_to),
        ("References", references),
    ]
    text = "Hallo,\n\nanbei der Lieferschein und ein Foto vom beschädigten Karton."
    body, content_type = form_data(
        *fields(
            {
                "recipient": "support@mg.prontoshop.example",
                "sender": "jonas.becker@web.de",
                "from": "Jonas Becker <jonas.becker@web.de>",
                "subject": "Aw: Ihre Bestellung DE-30982",
                "body-plain": f"{text}\n\nViele Grüße\nJonas Becker\n",
                "stripped-text": text,
                "stripped-signature": "Viele Grüße\nJonas Becker",
                "body-html": "<html><body><div>Hallo,</div></body></html>",
                "stripped-html": "<html><body><div>Hallo,</div></body></html>",
                "attachment-count": "2",
                "message-headers": json.dumps(headers),
                "content-id-map": "{}",
                **mailgun_signature(run),
                # forward() posts every header again as a field of its own.
                **dict(headers),
            }
        ),
        ("attachment-1", PDF, "Lieferschein DE-30982.pdf", "application/pdf"),
        ("attachment-2", JPEG, "karton.jpg", "image/jpeg"),
    )
    path = "/webhooks/shop-a/email/mailgun"

    status, answer = await post(ingest.http_url, path, body, {"Content-Type": content_type})

    assert status == 200, answer
    assert answer["accepted"] == 1
    (published,) = await records(broker, topics.INBOUND.name, answer["event_ids"])
    assert published.id == event_ids.from_channel_message("shop-a", "email", own_id)
    # The whole event: the thread from In-Reply-To and References (the conversation, not a
    # reply_to_message_id), the text without the signature (``stripped-text``), the files as
    # metadata (their content stays with Mailgun's post), German, an order ("Bestellung") and a
    # damaged ("beschädigten") box, the Date header's time.
    assert published.payload == K.MessageReceived(
        conversation_id=mail.thread_conversation(
            "shop-a", "jonas.becker@web.de", own_id, in_reply_to, references
        ),
        channel=C.CHANNEL_EMAIL,
        channel_message_id=own_id,
        sender=C.Sender(id="jonas.becker@web.de", display_name="Jonas Becker", email="jonas.becker@web.de"),
        subject="Aw: Ihre Bestellung DE-30982",
        text=text,
        attachments=[
            C.Attachment(
                filename="Lieferschein DE-30982.pdf", content_type="application/pdf", size_bytes=len(PDF)
            ),
            C.Attachment(filename="karton.jpg", content_type="image/jpeg", size_bytes=len(JPEG)),
        ],
        language="de",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794824560),
        topic_hints=[C.SUPPORT_TOPIC_ORDERS, C.SUPPORT_TOPIC_COMPLAINT],
    )


async def test_a_mailgun_store_notification_names_its_message_only_in_message_headers(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """A route's store(notify=...) posts no ``Message-Id`` field: the id is in ``message-headers``
    (it was a 422 "Message-Id is required"); the attachments stay with Mailgun, described by
    ``attachments`` (JSON: url, content-type, name, size), multipart/form-data as Mailgun posts it
    when there are some.

    Shape: https://documentation.mailgun.com/docs/mailgun/user-manual/receive-forward-store/storing-and-recieveing-messages
    ("Storing and Retrieving Messages"), signature:
    https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks
    """
    run = uuid.uuid4().hex[:12]
    own_id = f"<CAF{run}=kx2Q@mail.gmail.com>"
    storage = f"https://storage-europe-west1.api.mailgun.net/v3/domains/mg.prontoshop.example/messages/{run}"
    headers = [
        ["Message-Id", own_id],
        ["From", "Giulia Bianchi <giulia.bianchi87@gmail.com>"],
        ["To", "assistenza@mg.prontoshop.example"],
        ["Subject", "Reso ordine IT-48213"],
        ["Date", "Mon, 16 Nov 2026 10:40:02 +0100"],
        ["Content-Language", "it"],
    ]
    attachments = [
        {
            "url": f"{storage}/attachments/0",
            "content-type": "image/png",
            "name": "etichetta.png",
            "size": 48213,
        }
    ]
    body, content_type = form_data(
        *fields(
            {
                "domain": "mg.prontoshop.example",
                "recipient": "assistenza@mg.prontoshop.example",
                "sender": "giulia.bianchi87@gmail.com",
                "from": "Giulia Bianchi <giulia.bianchi87@gmail.com>",
                "subject": "Reso ordine IT-48213",
                "body-plain": "Buongiorno, allego l'etichetta del reso. Quando passa il corriere?\n",
                "stripped-text": "Buongiorno, allego l'etichetta del reso. Quando passa il corriere?",
                "stripped-signature": "",
                "body-html": "<div>Buongiorno, allego l'etichetta del reso.</div>",
                "stripped-html": "<div>Buongiorno, allego l'etichetta del reso.</div>",
                "attachments": json.dumps(attachments),
                "message-url": storage,
                "message-headers": json.dumps(headers),
                "content-id-map": "{}",
                **mailgun_signature(run),
            }
        )
    )

    status, answer = await post(
        ingest.http_url, "/webhooks/shop-a/email/mailgun", body, {"Content-Type": content_type}
    )

    assert status == 200, answer
    (message,) = await messages(broker, answer["event_ids"])
    # The whole event: the id, sender, subject and time from ``message-headers``, the attachment
    # where Mailgun stored it, Italian as Content-Language declares and the text reads (so no
    # note), an order ("ordine"), its return ("reso") and the courier ("corriere").
    assert message == K.MessageReceived(
        conversation_id=mail.thread_conversation("shop-a", "giulia.bianchi87@gmail.com", own_id, None, None),
        channel=C.CHANNEL_EMAIL,
        channel_message_id=own_id,
        sender=C.Sender(
            id="giulia.bianchi87@gmail.com",
            display_name="Giulia Bianchi",
            email="giulia.bianchi87@gmail.com",
        ),
        subject="Reso ordine IT-48213",
        text="Buongiorno, allego l'etichetta del reso. Quando passa il corriere?",
        attachments=[
            C.Attachment(
                filename="etichetta.png",
                content_type="image/png",
                size_bytes=48213,
                url=f"{storage}/attachments/0",
            )
        ],
        language="it",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794822002),
        topic_hints=[C.SUPPORT_TOPIC_ORDERS, C.SUPPORT_TOPIC_SHIPPING, C.SUPPORT_TOPIC_RETURNS],
    )


async def test_sendgrid_inbound_parse_has_a_route_and_reads_its_charsets_headers_and_attachments(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """SendGrid's Inbound Parse had no route (404). It posts multipart/form-data: threading headers only
    in ``headers``, each text field in the charset ``charsets`` names (here ISO-8859-1), the files
    ``attachment1``..N described by ``attachment-info``. It signs nothing by default: its URL carries
    the tenant's e-mail token as basic-auth credentials, as Pronto takes Postmark's; without them, 401.

    Shape: https://www.twilio.com/docs/sendgrid/for-developers/parsing-email/setting-up-the-inbound-parse-webhook
    ("Default Parameters"), https://twilio.com/docs/sendgrid/for-developers/parsing-email/inbound-email;
    security: https://www.twilio.com/docs/sendgrid/for-developers/parsing-email/securing-your-parse-webhooks
    """
    run = uuid.uuid4().hex[:12]
    own_id = f"<CAJx7Vq0{run}@mail.gmail.com>"
    root = "<CAJx7Vq2mN8kR4tYp0sW3bZ1hL9cF6dG5eA2uX7iO0nQ+4vMk3w@mail.gmail.com>"
    text = "Aggiungo una cosa: il numero di tracking è 1Z999AA10123456784. La portineria riapre lunedì."
    body, content_type = sendgrid_parse(
        run,
        header_block=sendgrid_headers(run),
        envelope_from="giulia.bianchi87@gmail.com",
        text=(text + "\n\nGiulia\n").encode("iso-8859-1"),
    )
    path = "/webhooks/shop-a/email/sendgrid"

    refused = await post(ingest.http_url, path, body, {"Content-Type": content_type})
    wrong = await post(
        ingest.http_url, path, body, {"Content-Type": content_type, "Authorization": basic("no")}
    )
    status, answer = await post(
        ingest.http_url,
        path,
        body,
        {"Content-Type": content_type, "Authorization": basic(CHANNEL_SECRETS["email_token"])},
    )

    assert (refused[0], refused[1]["error"]) == (401, "unauthenticated")
    assert (wrong[0], wrong[1]["error"]) == (401, "unauthenticated")
    assert status == 200, answer
    (published,) = await records(broker, topics.INBOUND.name, answer["event_ids"])
    assert published.id == event_ids.from_channel_message("shop-a", "email", own_id)
    # The whole event: the thread from ``headers`` (References and In-Reply-To name the same root),
    # the ISO-8859-1 text decoded, the PDF as metadata, Italian, an order ("Ordine") and its
    # delivery ("consegnato", "tracking"), the Date header's time.
    assert published.payload == K.MessageReceived(
        conversation_id=mail.thread_conversation("shop-a", "giulia.bianchi87@gmail.com", own_id, root, root),
        channel=C.CHANNEL_EMAIL,
        channel_message_id=own_id,
        sender=C.Sender(
            id="giulia.bianchi87@gmail.com",
            display_name="Giulia Bianchi",
            email="giulia.bianchi87@gmail.com",
        ),
        subject="Re: Ordine IT-48213 consegnato ma non ricevuto",
        text=text + "\n\nGiulia",
        attachments=[
            C.Attachment(
                filename="ricevuta_corriere.pdf", content_type="application/pdf", size_bytes=len(PDF)
            )
        ],
        language="it",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794821872),
        topic_hints=[C.SUPPORT_TOPIC_ORDERS, C.SUPPORT_TOPIC_SHIPPING],
    )
