"""Telegram messages in their conversation: replies, edits, forwards and button presses.

What a message means in its conversation, as the Telegram Bot API sends it (issue #19, "Gaps a shop
notices"): the message a reply or an edit names, a forward marked as forwarded, and a press of one of
the shop's buttons recorded and answered.

Posted to the real ingest process; the events are read back from the broker and checked field by
field. Each test names the documentation page its payload follows. Values (ids, names, texts) are
ours; a run id keeps them apart from other tests' events on the session broker.
"""

from __future__ import annotations

import json
import uuid

import pytest

from pronto import event_ids
from pronto.v1 import common_pb2, events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import IngestService
from services.ingest.channels.identity import conversation_id
from tests.integration.ingest.platform_support import at, deliver, messages

pytestmark = pytest.mark.integration
K = events_pb2
C = common_pb2


def telegram_chat(chat_id: int) -> dict[str, object]:
    return {"id": chat_id, "first_name": "Marta", "last_name": "Nowak", "type": "private"}


def telegram_user(user_id: int) -> dict[str, object]:
    return {
        "id": user_id,
        "is_bot": False,
        "first_name": "Marta",
        "last_name": "Nowak",
        "username": "marta_n",
        "language_code": "pl",
    }


async def test_a_telegram_reply_and_an_edit_name_their_messages(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """A reply to the shop's bot message (``reply_to_message``, itself a whole Message) and an edit
    (``edited_message``, same message_id, with ``edit_date``).

    Shapes: https://core.telegram.org/bots/api#update and https://core.telegram.org/bots/api#message
    (reply_to_message, edit_date)
    """
    run = uuid.uuid4().hex[:12]
    chat = 700_000_000 + int(run[:6], 16)
    bot = {"id": 7_000_000_001, "is_bot": True, "first_name": "Sklep", "username": "sklep_bot"}
    reply = {
        "update_id": 900_000_001,
        "message": {
            "message_id": 58,
            "from": telegram_user(chat),
            "chat": telegram_chat(chat),
            "date": 1794821647,
            "reply_to_message": {
                "message_id": 57,
                "from": bot,
                "chat": telegram_chat(chat),
                "date": 1794821600,
                "text": "Jaki jest numer zamówienia?",
            },
            "text": "Numer zamówienia to 10422",
        },
    }
    edit = {
        "update_id": 900_000_002,
        "edited_message": {
            "message_id": 58,
            "from": telegram_user(chat),
            "chat": telegram_chat(chat),
            "date": 1794821647,
            "edit_date": 1794821700,
            "text": "Numer zamówienia to 10423",
        },
    }

    answers = [await deliver(ingest, "telegram", json.dumps(u).encode()) for u in (reply, edit)]

    assert [status for status, _ in answers] == [200, 200], answers
    replied, edited = await messages(broker, [a["event_ids"][0] for _, a in answers])
    conversation = conversation_id("shop-a", "telegram", str(chat))
    sender = C.Sender(id=str(chat), display_name="Marta Nowak")
    # The whole events: Polish texts about the order ("zamówienia"); the edit's time is edit_date.
    assert replied == K.MessageReceived(
        conversation_id=conversation,
        channel=C.CHANNEL_TELEGRAM,
        channel_message_id=f"{chat}:58",
        sender=sender,
        text="Numer zamówienia to 10422",
        language="pl",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794821647),
        topic_hints=[C.SUPPORT_TOPIC_ORDERS],
        reply_to_message_id=f"{chat}:57",
    )
    assert edited == K.MessageReceived(
        conversation_id=conversation,
        channel=C.CHANNEL_TELEGRAM,
        channel_message_id=f"{chat}:58#edit1794821700",
        sender=sender,
        text="Numer zamówienia to 10423",
        language="pl",
        kind=K.MESSAGE_KIND_EDITED,
        sent_at=at(1794821700),
        topic_hints=[C.SUPPORT_TOPIC_ORDERS],
        original_message_id=f"{chat}:58",
    )


async def test_a_telegram_forward_is_marked_as_forwarded(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """A message the customer forwarded from a channel (``forward_origin``, Bot API 7.0), and one
    from a client that still sends the older ``forward_from``/``forward_date``.

    Shapes: https://core.telegram.org/bots/api#message (forward_origin) and
    https://core.telegram.org/bots/api#messageoriginchannel
    """
    run = uuid.uuid4().hex[:12]
    chat = 710_000_000 + int(run[:6], 16)
    origin = {
        "type": "channel",
        "date": 1794821000,
        "chat": {"id": -1001234567890, "title": "Poczta Polska", "type": "channel"},
        "message_id": 4410,
    }
    updates = [
        {
            "update_id": 900_000_011,
            "message": {
                "message_id": 61,
                "from": telegram_user(chat),
                "chat": telegram_chat(chat),
                "date": 1794821647,
                "forward_origin": origin,
                "text": "Przesyłka zatrzymana w sortowni",
            },
        },
        {
            "update_id": 900_000_012,
            "message": {
                "message_id": 62,
                "from": telegram_user(chat),
                "chat": telegram_chat(chat),
                "date": 1794821650,
                "forward_from": {"id": 555, "is_bot": False, "first_name": "Kurier"},
                "forward_date": 1794821100,
                "text": "Będę jutro",
            },
        },
        {
            "update_id": 900_000_013,
            "message": {
                "message_id": 63,
                "from": telegram_user(chat),
                "chat": telegram_chat(chat),
                "date": 1794821655,
                "text": "Co mam zrobić?",
            },
        },
    ]

    answers = [await deliver(ingest, "telegram", json.dumps(u).encode()) for u in updates]

    assert [status for status, _ in answers] == [200, 200, 200], answers
    events = await messages(broker, [a["event_ids"][0] for _, a in answers])

    def sent(
        number: int, date: int, text: str, forwarded: bool, *topics: C.SupportTopic
    ) -> K.MessageReceived:
        return K.MessageReceived(
            conversation_id=conversation_id("shop-a", "telegram", str(chat)),
            channel=C.CHANNEL_TELEGRAM,
            channel_message_id=f"{chat}:{number}",
            sender=C.Sender(id=str(chat), display_name="Marta Nowak"),
            text=text,
            language="pl",
            kind=K.MESSAGE_KIND_TEXT,
            sent_at=at(date),
            topic_hints=topics,
            forwarded=forwarded,
        )

    # The whole events; the time is the customer's message's (date), not the forwarded original's.
    assert events == [
        sent(61, 1794821647, "Przesyłka zatrzymana w sortowni", True, C.SUPPORT_TOPIC_SHIPPING),
        sent(62, 1794821650, "Będę jutro", True),
        sent(63, 1794821655, "Co mam zrobić?", False),
    ]


async def test_a_telegram_button_press_is_recorded_and_answered(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """A ``callback_query``: the customer pressed an inline keyboard button under the shop's
    message. It is recorded as the customer's answer (the button's label, replying to the message
    that carried it), and the webhook's response is the ``answerCallbackQuery`` call, so the
    button stops spinning; a retry of the update is answered again and written once.

    Shapes: https://core.telegram.org/bots/api#callbackquery, https://core.telegram.org/bots/api#inlinekeyboardbutton;
    the answer: https://core.telegram.org/bots/api#making-requests-when-getting-updates and
    https://core.telegram.org/bots/api#answercallbackquery
    """
    run = uuid.uuid4().hex[:12]
    chat = 710_000_000 + int(run[:6], 16)
    query_id = f"{int(run, 16)}"
    update = {
        "update_id": 900_000_003,
        "callback_query": {
            "id": query_id,
            "from": telegram_user(chat),
            "message": {
                "message_id": 61,
                "from": {"id": 7_000_000_001, "is_bot": True, "first_name": "Sklep", "username": "sklep_bot"},
                "chat": telegram_chat(chat),
                "date": 1794821600,
                "text": "Czy problem został rozwiązany?",
                "reply_markup": {
                    "inline_keyboard": [
                        [
                            {"text": "Tak, dziękuję", "callback_data": "resolved:yes"},
                            {"text": "Nie, nadal czekam", "callback_data": "resolved:no"},
                        ]
                    ]
                },
            },
            "chat_instance": "-8344565178901234567",
            "data": "resolved:no",
        },
    }
    body = json.dumps(update).encode()

    first = await deliver(ingest, "telegram", body)
    again = await deliver(ingest, "telegram", body)

    call = {"method": "answerCallbackQuery", "callback_query_id": query_id}
    assert first == (200, call)
    assert again == (200, call)
    event_id = event_ids.from_channel_message("shop-a", "telegram", f"callback:{query_id}")
    (pressed,) = await messages(broker, [event_id])
    # The whole event. No sent_at: a CallbackQuery has no date, and the carrying message's date is
    # when the shop's bot wrote, not when the customer pressed.
    assert pressed == K.MessageReceived(
        conversation_id=conversation_id("shop-a", "telegram", str(chat)),
        channel=C.CHANNEL_TELEGRAM,
        channel_message_id=f"callback:{query_id}",
        sender=C.Sender(id=str(chat), display_name="Marta Nowak"),
        text="Nie, nadal czekam",
        language="pl",
        kind=K.MESSAGE_KIND_TEXT,
        reply_to_message_id=f"{chat}:61",
    )
