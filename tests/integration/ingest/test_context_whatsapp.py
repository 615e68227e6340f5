"""WhatsApp messages in their conversation: replies, ad clicks, product enquiries, forwards, edits.

What a message means in its conversation, as WhatsApp Cloud API sends it (issue #19, "Gaps a shop
notices"): the message it replies to, the ad or product that brought the customer, whether it was
forwarded, and the message an edit or deletion changes.

Posted to the real ingest process; the events are read back from the broker and checked field by
field. Each test names the documentation page its payload follows. Values (ids, names, texts) are
ours; a run id keeps them apart from other tests' events on the session broker.
"""

from __future__ import annotations

import json
import uuid

import pytest

from pronto.v1 import common_pb2, events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import IngestService
from services.ingest.channels.identity import conversation_id
from tests.integration.ingest.platform_support import PHONE_NUMBER_ID, at, deliver, messages, whatsapp

pytestmark = pytest.mark.integration
K = events_pb2
C = common_pb2


async def test_whatsapp_replies_name_their_message_and_an_ad_click_its_ad(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """A reply to the shop's message (``context.id``) and a first message sent from a
    Click-to-WhatsApp ad (``referral``), in one batch.

    Shape: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/text
    ("context" of a reply, "referral" of a message sent via a Click to WhatsApp ad)
    """
    run = uuid.uuid4().hex[:12]
    customer = f"39347{int(run[:6], 16):07d}"
    reply = {
        "context": {"from": "390287654321", "id": f"wamid.{run}-ours"},
        "from": customer,
        "id": f"wamid.{run}-reply",
        "timestamp": "1794821647",
        "text": {"body": "Sì, il numero d'ordine è 10422"},
        "type": "text",
    }
    from_ad = {
        "from": customer,
        "id": f"wamid.{run}-ad",
        "timestamp": "1794821600",
        "text": {"body": "Ciao! Vorrei sapere di più su questa offerta."},
        "type": "text",
        "referral": {
            "source_url": "https://fb.me/3cr4Wqqkv",
            "source_id": "120226305854810726",
            "source_type": "ad",
            "body": "Saldi d'inverno: -30% su tutti i cappotti",
            "headline": "Scrivici su WhatsApp",
            "media_type": "image",
            "image_url": "https://scontent.xx.fbcdn.net/v/t45.1600-4/cappotti.jpg",
            "ctwa_clid": f"Aff-{run}",
            "welcome_message": {"text": "Ciao! Come possiamo aiutarti?"},
        },
    }
    body = json.dumps(whatsapp(run, from_ad, reply, wa_id=customer)).encode()

    status, answer = await deliver(ingest, "meta", body)

    assert status == 200, answer
    assert (answer["accepted"], answer["dead_lettered"]) == (2, 0)
    first, second = await messages(broker, answer["event_ids"])
    conversation = conversation_id("shop-a", "whatsapp", f"{PHONE_NUMBER_ID}:{customer}")
    sender = C.Sender(id=customer, phone=f"+{customer}", display_name="Giulia Rossi")
    # The whole events. WhatsApp names no language: it is the text's, Italian. The referral's
    # media_type and welcome_message (the shop's own greeting) have no field in Referral.
    assert first == K.MessageReceived(
        conversation_id=conversation,
        channel=C.CHANNEL_WHATSAPP,
        channel_message_id=f"wamid.{run}-ad",
        sender=sender,
        text="Ciao! Vorrei sapere di più su questa offerta.",
        language="it",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794821600),
        referral=C.Referral(
            source="ad",
            ad_id="120226305854810726",
            url="https://fb.me/3cr4Wqqkv",
            headline="Scrivici su WhatsApp",
            body="Saldi d'inverno: -30% su tutti i cappotti",
            media_url="https://scontent.xx.fbcdn.net/v/t45.1600-4/cappotti.jpg",
            click_id=f"Aff-{run}",
        ),
    )
    assert second == K.MessageReceived(
        conversation_id=conversation,
        channel=C.CHANNEL_WHATSAPP,
        channel_message_id=f"wamid.{run}-reply",
        sender=sender,
        text="Sì, il numero d'ordine è 10422",
        language="it",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794821647),
        topic_hints=[C.SUPPORT_TOPIC_ORDERS],
        reply_to_message_id=f"wamid.{run}-ours",
    )


async def test_a_whatsapp_product_enquiry_names_its_product_and_a_forward_is_marked(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """A message sent with "Message business" from a product of the shop's catalogue
    (``context.referred_product``) and a forwarded one (``context.forwarded``), in one batch.

    Shapes: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples#product-enquiry-messages
    and https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/text
    ("context": "forwarded", "frequently_forwarded")
    """
    run = uuid.uuid4().hex[:12]
    customer = f"39348{int(run[:6], 16):07d}"
    enquiry = {
        "from": customer,
        "id": f"wamid.{run}-enquiry",
        "text": {"body": "Avete questo cappotto nella taglia M?"},
        "context": {
            "from": PHONE_NUMBER_ID,
            "id": f"wamid.{run}-catalogue",
            "referred_product": {"catalog_id": "1728903746521", "product_retailer_id": "CAPP-NERO-M"},
        },
        "timestamp": "1794821700",
        "type": "text",
    }
    forward = {
        "context": {"forwarded": True},
        "from": customer,
        "id": f"wamid.{run}-forward",
        "timestamp": "1794821760",
        "text": {"body": "Il tuo pacco è in consegna oggi"},
        "type": "text",
    }
    body = json.dumps(whatsapp(run, enquiry, forward, wa_id=customer)).encode()

    status, answer = await deliver(ingest, "meta", body)

    assert status == 200, answer
    assert (answer["accepted"], answer["dead_lettered"]) == (2, 0)
    asked, forwarded = await messages(broker, answer["event_ids"])
    conversation = conversation_id("shop-a", "whatsapp", f"{PHONE_NUMBER_ID}:{customer}")
    sender = C.Sender(id=customer, phone=f"+{customer}", display_name="Giulia Rossi")
    # The whole events: a size ("taglia") is a product question, a parcel ("pacco") shipping.
    assert asked == K.MessageReceived(
        conversation_id=conversation,
        channel=C.CHANNEL_WHATSAPP,
        channel_message_id=f"wamid.{run}-enquiry",
        sender=sender,
        text="Avete questo cappotto nella taglia M?",
        language="it",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794821700),
        topic_hints=[C.SUPPORT_TOPIC_PRODUCT],
        reply_to_message_id=f"wamid.{run}-catalogue",
        referred_product=K.ProductReference(catalog_id="1728903746521", product_retailer_id="CAPP-NERO-M"),
    )
    assert forwarded == K.MessageReceived(
        conversation_id=conversation,
        channel=C.CHANNEL_WHATSAPP,
        channel_message_id=f"wamid.{run}-forward",
        sender=sender,
        text="Il tuo pacco è in consegna oggi",
        language="it",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794821760),
        topic_hints=[C.SUPPORT_TOPIC_SHIPPING],
        forwarded=True,
    )


async def test_whatsapp_edits_and_deletions_name_the_original_message(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """An edit (its new content, a reply itself) and a revoke, each naming the message it changes.

    Shapes: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/edit
    and https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/revoke
    """
    run = uuid.uuid4().hex[:12]
    customer = f"39348{int(run[:6], 16):07d}"
    edit = {
        "from": customer,
        "id": f"wamid.{run}-edit",
        "timestamp": "1794821700",
        "type": "edit",
        "edit": {
            "original_message_id": f"wamid.{run}-original",
            "message": {
                "context": {"id": f"wamid.{run}-ours"},
                "type": "text",
                "text": {"body": "Il numero d'ordine è 10423, non 10422"},
            },
        },
    }
    revoke = {
        "from": customer,
        "id": f"wamid.{run}-revoke",
        "timestamp": "1794821760",
        "type": "revoke",
        "revoke": {"original_message_id": f"wamid.{run}-other"},
    }
    body = json.dumps(whatsapp(run, edit, revoke, wa_id=customer)).encode()

    status, answer = await deliver(ingest, "meta", body)

    assert status == 200, answer
    assert (answer["accepted"], answer["dead_lettered"]) == (2, 0)
    edited, revoked = await messages(broker, answer["event_ids"])
    conversation = conversation_id("shop-a", "whatsapp", f"{PHONE_NUMBER_ID}:{customer}")
    sender = C.Sender(id=customer, phone=f"+{customer}", display_name="Giulia Rossi")
    # The whole events; a revoke has no text, so no language or topic either.
    assert edited == K.MessageReceived(
        conversation_id=conversation,
        channel=C.CHANNEL_WHATSAPP,
        channel_message_id=f"wamid.{run}-edit",
        sender=sender,
        text="Il numero d'ordine è 10423, non 10422",
        language="it",
        kind=K.MESSAGE_KIND_EDITED,
        sent_at=at(1794821700),
        topic_hints=[C.SUPPORT_TOPIC_ORDERS],
        reply_to_message_id=f"wamid.{run}-ours",
        original_message_id=f"wamid.{run}-original",
    )
    assert revoked == K.MessageReceived(
        conversation_id=conversation,
        channel=C.CHANNEL_WHATSAPP,
        channel_message_id=f"wamid.{run}-revoke",
        sender=sender,
        kind=K.MESSAGE_KIND_DELETED,
        sent_at=at(1794821760),
        original_message_id=f"wamid.{run}-other",
    )
