"""Text that cannot be decoded is kept with replacement characters and a note, not refused.

Text a platform sends that cannot be decoded is kept, with replacement characters and a note
(issue #19): an e-mail in a charset nobody knows, a web chat message cut in the middle of an emoji.

Posted to the real ingest process; the events are read back from the broker and compared whole.

Each test names the documentation page its payload follows. Values (ids, names, texts) are ours; a
run id keeps them apart from other tests' events on the session broker.
"""

from __future__ import annotations

import json
import uuid

import pytest

from pronto.v1 import common_pb2, events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import IngestService
from services.ingest.channels import email as mail
from services.ingest.channels.identity import conversation_id
from tests.integration.ingest.platform_support import at, deliver, messages

pytestmark = pytest.mark.integration
K = events_pb2
C = common_pb2


async def test_an_email_in_an_unknown_charset_is_kept_with_replacement_characters_and_a_note(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """A charset Python does not know was a 422: the text is now read as UTF-8, what does not
    decode becomes U+FFFD, and the message notes it.

    Shape: a MIME text/plain part with its charset parameter, https://www.rfc-editor.org/rfc/rfc2046#section-4.1.2
    and https://www.rfc-editor.org/rfc/rfc2045#section-5.1 (posted raw, as the README's /email route takes it)
    """
    run = uuid.uuid4().hex[:12]
    raw = (
        b"From: Jan Kowalski <jan.kowalski@example.pl>\r\n"
        b"To: obsluga@shop.example\r\n"
        b"Subject: Paczka\r\n"
        b"Date: Mon, 16 Nov 2026 09:20:00 +0100\r\n"
        b"Message-ID: <" + run.encode() + b"@mail.example.pl>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=x-no-such-charset\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n"
        b"\r\n"
        b"Dzie\xc5\x84 dobry, gdzie jest moja paczka? \xff\xfe\r\n"
    )

    status, answer = await deliver(ingest, "email", raw)

    assert status == 200, answer
    (message,) = await messages(broker, answer["event_ids"])
    # The whole event: Polish, a parcel ("paczka") is shipping, the Date header's time. An e-mail's
    # In-Reply-To is its thread (the conversation), not a reply_to_message_id; this one has none.
    assert message == K.MessageReceived(
        conversation_id=mail.thread_conversation(
            "shop-a", "jan.kowalski@example.pl", f"<{run}@mail.example.pl>", None, None
        ),
        channel=C.CHANNEL_EMAIL,
        channel_message_id=f"<{run}@mail.example.pl>",
        sender=C.Sender(
            id="jan.kowalski@example.pl", display_name="Jan Kowalski", email="jan.kowalski@example.pl"
        ),
        subject="Paczka",
        text="Dzień dobry, gdzie jest moja paczka? \ufffd\ufffd",
        language="pl",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794817200),
        topic_hints=[C.SUPPORT_TOPIC_SHIPPING],
        notes=[
            "the text's charset 'x-no-such-charset' is unknown: it was read as UTF-8, "
            "undecodable bytes replaced with U+FFFD"
        ],
    )


async def test_a_chat_message_cut_mid_emoji_is_kept_with_a_replacement_character_and_a_note(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """A widget cutting a text in the middle of an emoji sends half of its UTF-16 surrogate pair,
    escaped (``\\ud83d``): valid JSON text, but no string UTF-8 or protobuf can hold. It was a 422;
    the half is now U+FFFD and the message notes it.

    Shape: the web chat's own JSON (README, "Channel webhooks"; services/ingest/channels/own_site.py), and
    https://www.rfc-editor.org/rfc/rfc8259#section-8.2 on unpaired surrogates in JSON strings
    """
    run = uuid.uuid4().hex[:12]
    body = json.dumps(
        {
            "session_id": f"s-{run}",
            "message_id": "m-1",
            "text": "Ciao, vorrei cambiare la taglia della maglietta \ud83d",
            "visitor": {"id": f"v-{run}", "name": "Giulia Rossi", "tier": "gold"},
            "sent_at": "2026-11-16T09:21:00Z",
        }
    ).encode()
    assert b"\\ud83d" in body

    status, answer = await deliver(ingest, "chat", body)

    assert status == 200, answer
    (message,) = await messages(broker, answer["event_ids"])
    # The whole event: Italian; changing ("cambiare") a size ("taglia") is an exchange about a product.
    assert message == K.MessageReceived(
        conversation_id=conversation_id("shop-a", "web_chat", f"s-{run}"),
        channel=C.CHANNEL_WEB_CHAT,
        channel_message_id=f"s-{run}:m-1",
        sender=C.Sender(id=f"v-{run}", display_name="Giulia Rossi", tier=C.CUSTOMER_TIER_GOLD),
        text="Ciao, vorrei cambiare la taglia della maglietta \ufffd",
        language="it",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794820860),
        topic_hints=[C.SUPPORT_TOPIC_RETURNS, C.SUPPORT_TOPIC_PRODUCT],
        notes=[
            "the payload had lone UTF-16 surrogates (text cut in the middle of a character): "
            "each is replaced with U+FFFD"
        ],
    )
