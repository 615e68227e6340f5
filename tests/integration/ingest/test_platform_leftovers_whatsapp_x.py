"""WhatsApp orders and Flow replies, and X retweets and quote tweets, as the #19 trial found them.

What the #19 trial still found lost or wrong with WhatsApp's and X's payloads shaped like their
documentation: WhatsApp orders and Flow replies, X retweets (Telegram's are in
test_platform_leftovers.py). Posted signed to the real ingest process; the events are read back from
the broker and checked whole.

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
from services.ingest.channels.identity import conversation_id
from tests.integration.ingest.platform_support import (
    PHONE_NUMBER_ID,
    X_ACCOUNT,
    at,
    deliver,
    messages,
    whatsapp,
)

pytestmark = pytest.mark.integration
K = events_pb2
C = common_pb2


async def test_a_whatsapp_order_is_readable_and_names_its_catalogue(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """A cart sent from the shop's catalogue: the customer's note and each product (retailer id,
    quantity, price) in the text, the catalogue in ``referred_product``.

    Shape: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/order/
    (order: catalog_id, text, product_items[]: product_retailer_id, quantity, item_price, currency)
    """
    run = uuid.uuid4().hex[:12]
    customer = f"39349{int(run[:6], 16):07d}"
    order = {
        "from": customer,
        "id": f"wamid.{run}-order",
        "timestamp": "1794821800",
        "type": "order",
        "order": {
            "catalog_id": "1728903746521",
            "text": "Li vorrei entro sabato, grazie",
            "product_items": [
                {"product_retailer_id": "CAPP-NERO-M", "quantity": 1, "item_price": 129.9, "currency": "EUR"},
                {"product_retailer_id": "SCIARPA-ROSSA", "quantity": 2, "item_price": 25, "currency": "EUR"},
            ],
        },
    }
    body = json.dumps(whatsapp(run, order, wa_id=customer)).encode()

    status, answer = await deliver(ingest, "meta", body)

    assert status == 200, answer
    assert (answer["accepted"], answer["dead_lettered"]) == (1, 0)
    (message,) = await messages(broker, answer["event_ids"])
    assert message == K.MessageReceived(
        conversation_id=conversation_id("shop-a", "whatsapp", f"{PHONE_NUMBER_ID}:{customer}"),
        channel=C.CHANNEL_WHATSAPP,
        channel_message_id=f"wamid.{run}-order",
        sender=C.Sender(id=customer, phone=f"+{customer}", display_name="Giulia Rossi"),
        text=(
            "Li vorrei entro sabato, grazie\n"
            "Order from catalogue 1728903746521:\n"
            "- 1 x CAPP-NERO-M, 129.9 EUR each\n"
            "- 2 x SCIARPA-ROSSA, 25 EUR each"
        ),
        language="it",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794821800),
        topic_hints=[C.SUPPORT_TOPIC_ORDERS],
        referred_product=K.ProductReference(catalog_id="1728903746521"),
    )


async def test_a_whatsapp_flow_reply_is_its_body_and_the_customers_answers(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """A WhatsApp Flow the customer completed (``interactive.type: nfm_reply``): the reply's body,
    then each answer of ``response_json`` as "key: value" (the shop's own ``flow_token`` left out),
    replying to the message that carried the Flow.

    Shape: https://developers.facebook.com/documentation/business-messaging/whatsapp/flows/guides/receiveflowresponse
    (interactive: type nfm_reply, nfm_reply: name, body, response_json)
    """
    run = uuid.uuid4().hex[:12]
    customer = f"39340{int(run[:6], 16):07d}"
    response = {
        "flow_token": f"reso-{run}",
        "numero_ordine": "10422",
        "motivo": "Taglia sbagliata",
        "articoli": ["CAPP-NERO-M"],
    }
    reply = {
        "context": {"from": "390287654321", "id": f"wamid.{run}-flow"},
        "from": customer,
        "id": f"wamid.{run}-answers",
        "type": "interactive",
        "interactive": {
            "type": "nfm_reply",
            "nfm_reply": {"name": "flow", "body": "Sent", "response_json": json.dumps(response)},
        },
        "timestamp": "1794821900",
    }
    body = json.dumps(whatsapp(run, reply, wa_id=customer)).encode()

    status, answer = await deliver(ingest, "meta", body)

    assert status == 200, answer
    assert (answer["accepted"], answer["dead_lettered"]) == (1, 0)
    (message,) = await messages(broker, answer["event_ids"])
    assert message == K.MessageReceived(
        conversation_id=conversation_id("shop-a", "whatsapp", f"{PHONE_NUMBER_ID}:{customer}"),
        channel=C.CHANNEL_WHATSAPP,
        channel_message_id=f"wamid.{run}-answers",
        sender=C.Sender(id=customer, phone=f"+{customer}", display_name="Giulia Rossi"),
        text='Sent\nnumero_ordine: 10422\nmotivo: Taglia sbagliata\narticoli: ["CAPP-NERO-M"]',
        language="it",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794821900),
        topic_hints=[C.SUPPORT_TOPIC_PRODUCT],
        reply_to_message_id=f"wamid.{run}-flow",
    )


SHOP = {
    "id": int(X_ACCOUNT),
    "id_str": X_ACCOUNT,
    "name": "Pronto Shop Help",
    "screen_name": "prontoshop_help",
}


async def test_an_x_retweet_publishes_nothing_and_a_quote_tweet_is_a_message(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """Two customers' tweets of the shop's promotion in one delivery: a plain retweet
    (``retweeted_status``, the text only "RT @prontoshop_help: ...") is acknowledged and publishes
    nothing; a quote tweet (``is_quote_status``, ``quoted_status``, words of the customer's own) is
    a public message.

    Shapes: https://developer.x.com/en/docs/twitter-api/enterprise/account-activity-api/guides/account-activity-data-objects
    (tweet_create_events, "Retweets and quote Tweets") and
    https://developer.x.com/en/docs/twitter-api/v1/data-dictionary/object-model/tweet
    (retweeted_status, is_quote_status, quoted_status_id_str, quoted_status)
    """
    run = uuid.uuid4().hex[:12]
    promotion_id = str(2_122_275_000_000_000_000 + int(run[:8], 16))
    retweet_id, quote_id = (str(int(promotion_id) + i) for i in (1, 2))
    promotion = {
        "created_at": "Mon Nov 16 09:00:00 +0000 2026",
        "id": int(promotion_id),
        "id_str": promotion_id,
        "text": "Black Friday: -30% on every coat until Sunday",
        "user": SHOP,
        "entities": {"hashtags": [], "urls": [], "user_mentions": []},
    }
    retweeter = {
        "id": 1_322_081_944_190_853_001,
        "id_str": f"1322081944{int(run[:6], 16):09d}",
        "name": "Sam",
    }
    quoter = {
        "id": 1_322_081_944_190_853_002,
        "id_str": f"1422081944{int(run[:6], 16):09d}",
        "name": "Jo Quinn",
    }
    retweet = {
        "created_at": "Mon Nov 16 10:00:00 +0000 2026",
        "id": int(retweet_id),
        "id_str": retweet_id,
        "text": "RT @prontoshop_help: Black Friday: -30% on every coat until Sunday",
        "user": retweeter,
        "retweeted_status": promotion,
        "is_quote_status": False,
        "entities": {
            "hashtags": [],
            "urls": [],
            "user_mentions": [{"screen_name": "prontoshop_help", "id_str": X_ACCOUNT, "indices": [3, 19]}],
        },
    }
    quote = {
        "created_at": "Mon Nov 16 10:05:00 +0000 2026",
        "id": int(quote_id),
        "id_str": quote_id,
        "text": "Does this include the wool coats? My order from Friday was charged full price",
        "user": quoter,
        "is_quote_status": True,
        "quoted_status_id": int(promotion_id),
        "quoted_status_id_str": promotion_id,
        "quoted_status": promotion,
        "entities": {"hashtags": [], "urls": [], "user_mentions": []},
    }
    only_retweet = json.dumps({"for_user_id": X_ACCOUNT, "tweet_create_events": [retweet]}).encode()
    both = json.dumps({"for_user_id": X_ACCOUNT, "tweet_create_events": [retweet, quote]}).encode()

    alone_status, alone = await deliver(ingest, "x", only_retweet)
    status, answer = await deliver(ingest, "x", both)

    assert alone_status == 200, alone
    assert (alone["accepted"], alone["event_ids"], alone["dead_lettered"]) == (0, [], 0)
    assert status == 200, answer
    assert (answer["accepted"], answer["dead_lettered"]) == (1, 0)
    (message,) = await messages(broker, answer["event_ids"])
    assert message == K.MessageReceived(
        conversation_id=conversation_id("shop-a", "x", f"tweet:{quote_id}:{quoter['id_str']}"),
        channel=C.CHANNEL_X,
        channel_message_id=quote_id,
        sender=C.Sender(id=str(quoter["id_str"]), display_name="Jo Quinn"),
        text="Does this include the wool coats? My order from Friday was charged full price",
        language="en",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794823500),
        is_public=True,
        topic_hints=[C.SUPPORT_TOPIC_ORDERS, C.SUPPORT_TOPIC_PAYMENTS],
    )
