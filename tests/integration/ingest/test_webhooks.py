"""Every channel's documented payloads, posted to the real ingest process, become canonical events.

Each documented payload once and retried; replies and a customer's later messages kept in their
conversation; web chat and contact forms; and what a new-user review found accepted: a date at the
end of time, sessions numbering their messages alike, a message without content, comment edits.
"""

from __future__ import annotations

import json
import uuid

import pytest

from pronto.v1 import common_pb2, events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import IngestService
from tests.integration.ingest.webhook_cases import CASES, Case, chat_body, deliver, events_with_ids
from tests.support.webhooks import fixture

pytestmark = pytest.mark.integration
K = events_pb2
C = common_pb2


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_each_documented_payload_becomes_its_canonical_events(
    ingest: IngestService, broker: EmbeddedBroker, case: Case
) -> None:
    body = case.body()
    status, answer = await deliver(ingest, case.route, body)
    assert status == 200, answer

    retried_status, retried = await deliver(ingest, case.route, body)

    assert retried_status == 200
    assert retried["event_ids"] == answer["event_ids"], "a retried delivery is the same events"
    assert retried["accepted"] == 0
    events = await events_with_ids(broker, answer["event_ids"])
    assert len(events) == len(case.events) == len(answer["event_ids"]), (
        "one record per event, none for retries"
    )
    by_id = {e.id: e for e in events}
    for index, (kind, channel, public) in enumerate(case.events):
        event = by_id[answer["event_ids"][index]]
        message = event.payload
        assert isinstance(message, events_pb2.MessageReceived)
        assert event.tenant == "shop-a"
        assert (message.kind, message.channel, message.is_public) == (kind, channel, public)
        assert message.conversation_id.startswith(
            common_pb2.Channel.Name(channel).removeprefix("CHANNEL_").lower()
        )
        assert message.sender.id
        assert message.channel_message_id
        assert (
            message.text
            or message.attachments
            or kind
            in (
                K.MESSAGE_KIND_DELETED,
                K.MESSAGE_KIND_MISSED_CALL,
                K.MESSAGE_KIND_CALLBACK_REQUEST,
                K.MESSAGE_KIND_STICKER,
                K.MESSAGE_KIND_LOCATION,
            )
        )
        if index in case.texts:
            assert case.texts[index] in message.text
        if index in case.languages:
            assert message.language == case.languages[index]
        if index in case.topics:
            assert case.topics[index] in message.topic_hints


async def test_a_reply_by_email_continues_the_conversation(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    _, first = await deliver(ingest, "email", fixture("email/multipart_alternative.eml"))
    _, reply = await deliver(ingest, "email", fixture("email/reply_threaded.eml"))
    events = await events_with_ids(broker, first["event_ids"] + reply["event_ids"])
    conversations = {e.payload.conversation_id for e in events}  # type: ignore[attr-defined]
    assert len(events) == 2
    assert len(conversations) == 1


async def test_the_same_customer_keeps_one_conversation_per_channel(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    _, text = await deliver(ingest, "telegram", fixture("telegram/message_text.json"))
    _, photo = await deliver(ingest, "telegram", fixture("telegram/photo.json"))
    events = await events_with_ids(broker, text["event_ids"] + photo["event_ids"])
    assert len({e.payload.conversation_id for e in events}) == 1  # type: ignore[attr-defined]


async def test_web_chat_and_contact_form(ingest: IngestService, broker: EmbeddedBroker) -> None:
    run = uuid.uuid4().hex[:8]
    form = json.dumps(
        {
            "submission_id": f"f-{run}",
            "name": "Anna Kowalska",
            "email": "Anna@Example.pl",
            "subject": "Faktura",
            "message": "Dzień dobry, proszę o fakturę do zamówienia.",
        }
    ).encode()
    _, chat = await deliver(ingest, "chat", chat_body(run))
    _, contact = await deliver(ingest, "contact-form", form)
    events = {
        e.id: e.payload for e in await events_with_ids(broker, chat["event_ids"] + contact["event_ids"])
    }
    chatted, submitted = events[chat["event_ids"][0]], events[contact["event_ids"][0]]
    assert isinstance(chatted, events_pb2.MessageReceived)
    assert isinstance(submitted, events_pb2.MessageReceived)
    assert (chatted.channel, chatted.sender.tier, chatted.language) == (
        C.CHANNEL_WEB_CHAT,
        C.CUSTOMER_TIER_GOLD,
        "it",
    )
    assert C.SUPPORT_TOPIC_PRODUCT in chatted.topic_hints
    assert (submitted.channel, submitted.sender.email, submitted.sender.id) == (
        C.CHANNEL_CONTACT_FORM,
        "Anna@Example.pl",
        "anna@example.pl",
    )
    assert (submitted.language, list(submitted.topic_hints)) == (
        "pl",
        [C.SUPPORT_TOPIC_ORDERS, C.SUPPORT_TOPIC_PAYMENTS],
    )


async def test_an_email_dated_at_the_end_of_time_is_still_taken(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    mail = fixture("email/multipart_alternative.eml").replace(
        b"Date: ", b"Date: Fri, 31 Dec 9999 23:59:59 -0100\r\nX-Old-Date: "
    )
    mail = mail.replace(b"Message-ID: <", b"Message-ID: <end-of-time.")
    status, answer = await deliver(ingest, "email", mail)
    assert status == 200, answer


async def test_two_chat_sessions_numbering_their_messages_alike_are_two_events(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    run = uuid.uuid4().hex[:8]
    bodies = [
        json.dumps(
            {"session_id": f"{run}-{s}", "message_id": "m-1", "text": "Ciao", "visitor": {"id": f"v-{s}"}}
        )
        for s in ("a", "b")
    ]
    answers = [await deliver(ingest, "chat", b.encode()) for b in bodies]
    assert [a[1]["accepted"] for a in answers] == [1, 1]
    assert answers[0][1]["event_ids"] != answers[1][1]["event_ids"]


async def test_a_platform_message_without_content_is_kept_not_refused(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """A Meta batch with an unsupported item: both messages land; the empty one gets a placeholder."""
    run = uuid.uuid4().hex[:8]
    body = json.dumps(
        {
            "object": "instagram",
            "entry": [
                {
                    "id": "17841457392018465",
                    "time": 1794821237004,
                    "messaging": [
                        {
                            "sender": {"id": f"c-{run}"},
                            "recipient": {"id": "17841457392018465"},
                            "timestamp": 1794821236511,
                            "message": {"mid": f"{run}-1", "text": "Hi, where is my order?"},
                        },
                        {
                            "sender": {"id": f"c-{run}"},
                            "recipient": {"id": "17841457392018465"},
                            "timestamp": 1794821236611,
                            "message": {"mid": f"{run}-2", "is_unsupported": True},
                        },
                    ],
                }
            ],
        }
    ).encode()
    status, answer = await deliver(ingest, "meta", body)
    assert status == 200, answer
    events = await events_with_ids(broker, answer["event_ids"])
    texts = sorted(e.payload.text for e in events)  # type: ignore[attr-defined]
    assert texts == ["(text message without text)", "Hi, where is my order?"]


async def test_every_edit_of_a_public_comment_and_its_removal_are_events(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    original = json.loads(fixture("facebook_feed/comment.json"))
    original["entry"][0]["changes"][0]["value"]["comment_id"] = f"c-{uuid.uuid4().hex}"

    def with_verb(verb: str, time: int, text: str) -> bytes:
        changed = json.loads(json.dumps(original))
        changed["entry"][0]["time"] = time
        changed["entry"][0]["changes"][0]["value"] |= {"verb": verb, "message": text}
        return json.dumps(changed).encode()

    answers = [
        await deliver(ingest, "meta", with_verb(verb, time, text))
        for verb, time, text in [("edited", 1, "first edit"), ("edited", 2, "second edit"), ("remove", 3, "")]
    ]
    ids = [answer["event_ids"][0] for status, answer in answers if status == 200 and answer["accepted"] == 1]
    assert len(ids) == 3, answers
    events = {e.id: e.payload for e in await events_with_ids(broker, ids)}
    kinds = [(events[i].kind, events[i].text) for i in ids]  # type: ignore[attr-defined]
    assert kinds == [
        (K.MESSAGE_KIND_EDITED, "first edit"),
        (K.MESSAGE_KIND_EDITED, "second edit"),
        (K.MESSAGE_KIND_DELETED, ""),
    ]
