"""Every channel's documented payloads, posted to the real ingest process, become canonical events."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest

from pronto import envelope, topics
from pronto.kafka.reader import header, read_records
from pronto.v1 import common_pb2, events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import IngestService
from tests.support.webhooks import (
    WRONG_SECRETS,
    fixture,
    form_of_json,
    get,
    mailgun_form,
    post,
    post_raw,
    signed_headers,
)

pytestmark = pytest.mark.integration

K = events_pb2
C = common_pb2


@dataclass(frozen=True)
class Case:
    route: str
    body: Callable[[], bytes]
    # (kind, channel, is_public) of each event, in order
    events: list[tuple[int, int, bool]]
    # text fragments, languages and topic hints the events must carry (by index)
    texts: dict[int, str] = field(default_factory=dict)
    languages: dict[int, str] = field(default_factory=dict)
    topics: dict[int, int] = field(default_factory=dict)


def f(name: str) -> Callable[[], bytes]:
    return lambda: fixture(name)


def missed_call_status_callback() -> bytes:
    """The call's status callback for an inbound call nobody answered (CallStatus no-answer, no
    DialCallStatus): https://www.twilio.com/docs/voice/twiml#callstatus-values"""
    fields = json.loads(fixture("twilio/missed_call_dial_no_answer.json"))
    for dial in ("DialCallSid", "DialCallStatus", "DialCallDuration"):
        del fields[dial]
    return urlencode({**fields, "CallStatus": "no-answer"}).encode()


CASES: dict[str, Case] = {
    "messenger text": Case(
        "meta",
        f("messenger/text.json"),
        [(K.MESSAGE_KIND_TEXT, C.CHANNEL_FACEBOOK, False)],
        {0: "IT-48213"},
        {0: "it"},
        {0: C.SUPPORT_TOPIC_ORDERS},
    ),
    "messenger image": Case(
        "meta", f("messenger/image.json"), [(K.MESSAGE_KIND_IMAGE, C.CHANNEL_FACEBOOK, False)]
    ),
    "messenger sticker": Case(
        "meta", f("messenger/sticker.json"), [(K.MESSAGE_KIND_STICKER, C.CHANNEL_FACEBOOK, False)]
    ),
    "messenger location": Case(
        "meta", f("messenger/location_legacy.json"), [(K.MESSAGE_KIND_LOCATION, C.CHANNEL_FACEBOOK, False)]
    ),
    "messenger edit": Case(
        "meta", f("messenger/message_edit.json"), [(K.MESSAGE_KIND_EDITED, C.CHANNEL_FACEBOOK, False)]
    ),
    "messenger batch of two entries": Case(
        "meta",
        f("messenger/batch_two_entries.json"),
        [(K.MESSAGE_KIND_TEXT, C.CHANNEL_FACEBOOK, False), (K.MESSAGE_KIND_TEXT, C.CHANNEL_FACEBOOK, False)],
        languages={0: "pl", 1: "de"},
        topics={0: C.SUPPORT_TOPIC_RETURNS},
    ),
    "messenger echo": Case("meta", f("messenger/echo.json"), []),
    "messenger delivery": Case("meta", f("messenger/delivery.json"), []),
    "instagram dm": Case(
        "meta",
        f("instagram/dm_text.json"),
        [(K.MESSAGE_KIND_TEXT, C.CHANNEL_INSTAGRAM, False)],
        languages={0: "en"},
    ),
    "instagram image": Case(
        "meta", f("instagram/dm_image.json"), [(K.MESSAGE_KIND_IMAGE, C.CHANNEL_INSTAGRAM, False)]
    ),
    "instagram unsent": Case(
        "meta", f("instagram/dm_deleted.json"), [(K.MESSAGE_KIND_DELETED, C.CHANNEL_INSTAGRAM, False)]
    ),
    "instagram public comment": Case(
        "meta",
        f("instagram/comment.json"),
        [(K.MESSAGE_KIND_TEXT, C.CHANNEL_INSTAGRAM, True)],
        languages={0: "pl"},
    ),
    "facebook public comment": Case(
        "meta",
        f("facebook_feed/comment.json"),
        [(K.MESSAGE_KIND_TEXT, C.CHANNEL_FACEBOOK, True)],
        languages={0: "es"},
    ),
    "whatsapp text": Case(
        "meta",
        f("whatsapp/text.json"),
        [(K.MESSAGE_KIND_TEXT, C.CHANNEL_WHATSAPP, False)],
        languages={0: "it"},
    ),
    "whatsapp image": Case(
        "meta", f("whatsapp/image.json"), [(K.MESSAGE_KIND_IMAGE, C.CHANNEL_WHATSAPP, False)]
    ),
    "whatsapp sticker": Case(
        "meta", f("whatsapp/sticker.json"), [(K.MESSAGE_KIND_STICKER, C.CHANNEL_WHATSAPP, False)]
    ),
    "whatsapp location": Case(
        "meta",
        f("whatsapp/location.json"),
        [(K.MESSAGE_KIND_LOCATION, C.CHANNEL_WHATSAPP, False)],
        {0: "Mallorca 401"},
    ),
    "whatsapp batch of two": Case(
        "meta",
        f("whatsapp/batch_two_messages.json"),
        [(K.MESSAGE_KIND_TEXT, C.CHANNEL_WHATSAPP, False), (K.MESSAGE_KIND_TEXT, C.CHANNEL_WHATSAPP, False)],
    ),
    "whatsapp edit": Case(
        "meta", f("whatsapp/edit_coexistence.json"), [(K.MESSAGE_KIND_EDITED, C.CHANNEL_WHATSAPP, False)]
    ),
    "whatsapp revoke": Case(
        "meta", f("whatsapp/revoke_coexistence.json"), [(K.MESSAGE_KIND_DELETED, C.CHANNEL_WHATSAPP, False)]
    ),
    "whatsapp unsupported type": Case(
        "meta",
        f("whatsapp/unsupported.json"),
        [(K.MESSAGE_KIND_FILE, C.CHANNEL_WHATSAPP, False)],
        {0: "Message type unknown"},
    ),
    "whatsapp status": Case("meta", f("whatsapp/status_read.json"), []),
    "telegram text": Case(
        "telegram",
        f("telegram/message_text.json"),
        [(K.MESSAGE_KIND_TEXT, C.CHANNEL_TELEGRAM, False)],
        {0: "PayPal"},
        {0: "it"},
    ),
    "telegram photo": Case(
        "telegram", f("telegram/photo.json"), [(K.MESSAGE_KIND_IMAGE, C.CHANNEL_TELEGRAM, False)]
    ),
    "telegram sticker": Case(
        "telegram", f("telegram/sticker.json"), [(K.MESSAGE_KIND_STICKER, C.CHANNEL_TELEGRAM, False)]
    ),
    "telegram location": Case(
        "telegram", f("telegram/location.json"), [(K.MESSAGE_KIND_LOCATION, C.CHANNEL_TELEGRAM, False)]
    ),
    "telegram voice": Case(
        "telegram", f("telegram/voice.json"), [(K.MESSAGE_KIND_AUDIO, C.CHANNEL_TELEGRAM, False)]
    ),
    "telegram document": Case(
        "telegram", f("telegram/document.json"), [(K.MESSAGE_KIND_FILE, C.CHANNEL_TELEGRAM, False)]
    ),
    "telegram edit": Case(
        "telegram", f("telegram/edited_message.json"), [(K.MESSAGE_KIND_EDITED, C.CHANNEL_TELEGRAM, False)]
    ),
    "viber text": Case(
        "viber",
        f("viber/message_text.json"),
        [(K.MESSAGE_KIND_TEXT, C.CHANNEL_VIBER, False)],
        languages={0: "pl"},
        topics={0: C.SUPPORT_TOPIC_SHIPPING},
    ),
    "viber picture": Case(
        "viber", f("viber/message_picture.json"), [(K.MESSAGE_KIND_IMAGE, C.CHANNEL_VIBER, False)]
    ),
    "viber sticker": Case(
        "viber", f("viber/message_sticker.json"), [(K.MESSAGE_KIND_STICKER, C.CHANNEL_VIBER, False)]
    ),
    "viber location": Case(
        "viber", f("viber/message_location.json"), [(K.MESSAGE_KIND_LOCATION, C.CHANNEL_VIBER, False)]
    ),
    "viber seen": Case("viber", f("viber/seen.json"), []),
    "viber webhook check": Case("viber", f("viber/webhook.json"), []),
    "x direct message": Case(
        "x",
        f("x/dm_message_create.json"),
        [(K.MESSAGE_KIND_TEXT, C.CHANNEL_X, False)],
        languages={0: "en"},
        topics={0: C.SUPPORT_TOPIC_PAYMENTS},
    ),
    "x public mention": Case(
        "x", f("x/tweet_create_mention.json"), [(K.MESSAGE_KIND_TEXT, C.CHANNEL_X, True)]
    ),
    "email multipart": Case(
        "email",
        f("email/multipart_alternative.eml"),
        [(K.MESSAGE_KIND_TEXT, C.CHANNEL_EMAIL, False)],
        languages={0: "it"},
    ),
    "email html only": Case(
        "email",
        f("email/html_only.eml"),
        [(K.MESSAGE_KIND_TEXT, C.CHANNEL_EMAIL, False)],
        {0: "devolución"},
        topics={0: C.SUPPORT_TOPIC_RETURNS},
    ),
    "email quoted-printable iso-8859-2": Case(
        "email",
        f("email/qp_iso8859_2_polish.eml"),
        [(K.MESSAGE_KIND_TEXT, C.CHANNEL_EMAIL, False)],
        {0: "zamówiłem kurtkę"},
    ),
    "email windows-1252": Case(
        "email",
        f("email/windows1252_italian_8bit.eml"),
        [(K.MESSAGE_KIND_TEXT, C.CHANNEL_EMAIL, False)],
        {0: "49,90 €"},
    ),
    "email with attachment": Case(
        "email", f("email/pdf_attachment.eml"), [(K.MESSAGE_KIND_TEXT, C.CHANNEL_EMAIL, False)]
    ),
    "email postmark json": Case(
        "email/json", f("postmark/inbound.json"), [(K.MESSAGE_KIND_TEXT, C.CHANNEL_EMAIL, False)]
    ),
    "email mailgun form": Case(
        "email/mailgun",
        lambda: mailgun_form("mailgun/route_forward.json"),
        [(K.MESSAGE_KIND_TEXT, C.CHANNEL_EMAIL, False)],
        languages={0: "de"},
    ),
    # The status callback's report of a missed call; the <Dial>'s action with the same news asks for
    # TwiML and gets the line's menu (tests/integration/ingest/test_phone_line.py).
    "phone missed call": Case(
        "phone",
        missed_call_status_callback,
        [(K.MESSAGE_KIND_MISSED_CALL, C.CHANNEL_PHONE, False)],
    ),
    "phone voicemail transcribed": Case(
        "phone",
        lambda: form_of_json("twilio/voicemail_transcription.json"),
        [(K.MESSAGE_KIND_VOICEMAIL, C.CHANNEL_PHONE, False)],
    ),
    "phone callback request": Case(
        "phone/callback-request",
        f("twilio/callback_request.json"),
        [(K.MESSAGE_KIND_CALLBACK_REQUEST, C.CHANNEL_PHONE, False)],
        languages={0: "it"},
    ),
    "phone outbound call outcome": Case(
        "phone", lambda: form_of_json("twilio/status_callback_busy.json"), []
    ),
}


async def deliver(ingest: IngestService, route: str, body: bytes, tenant: str = "shop-a") -> tuple[int, Any]:
    path = f"/webhooks/{tenant}/{route}"
    status, answer = await post(
        ingest.http_url, path, body, signed_headers(route, body, ingest.http_url + path)
    )
    return status, answer


async def events_with_ids(
    broker: EmbeddedBroker, event_ids: list[str], settle: float = 0.5
) -> list[envelope.Envelope]:
    wanted = set(event_ids)
    records = await read_records(
        broker.bootstrap_servers,
        topics.INBOUND.name,
        lambda r: header(r, "ce_id") in wanted,
        expect=len(wanted),
        timeout=15,
        settle=settle,
    )
    return [envelope.decode(r.headers, r.value) for r in records]


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


def chat_body(run: str, text: str = "Ciao, vorrei cambiare la taglia") -> bytes:
    return json.dumps(
        {
            "session_id": f"s-{run}",
            "message_id": f"m-{run}",
            "text": text,
            "visitor": {"id": f"v-{run}", "name": "Giulia Rossi", "tier": "gold"},
        }
    ).encode()


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


# ---------------------------------------------------------------- refusals: nothing is published


async def nothing_published_with(broker: EmbeddedBroker, marker: str) -> None:
    found = await read_records(
        broker.bootstrap_servers,
        topics.INBOUND.name,
        lambda r: marker.encode() in (r.value or b""),
        expect=1,
        timeout=2,
    )
    assert found == []


@pytest.mark.parametrize(
    "route", ["chat", "meta", "telegram", "viber", "x", "email", "phone", "email/mailgun"]
)
async def test_a_wrong_or_missing_signature_is_401(
    ingest: IngestService, broker: EmbeddedBroker, route: str
) -> None:
    run = uuid.uuid4().hex
    body = fixture("telegram/message_text.json").replace(b"PayPal", run.encode())
    if route == "chat":
        body = chat_body(run)
    elif route == "email/mailgun":
        body = mailgun_form("mailgun/route_forward.json", key="not-the-key").replace(b"Hallo", run.encode())
    url = f"{ingest.http_url}/webhooks/shop-a/{route}"
    wrong = signed_headers(route, body, url, WRONG_SECRETS)
    unsigned = {"Content-Type": wrong["Content-Type"]}
    for headers in (wrong, unsigned):
        status, answer = await post(ingest.http_url, f"/webhooks/shop-a/{route}", body, headers)
        assert status == 401, answer
        assert answer["error"] == "unauthenticated"
    await nothing_published_with(broker, run)


async def test_malformed_payloads_are_422_and_say_what_is_wrong(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    run = uuid.uuid4().hex
    cases = {
        "chat": (
            json.dumps({"session_id": "s", "text": run, "visitor": {"id": "v"}}).encode(),
            "body.message_id is required",
        ),
        "telegram": (b"{not json " + run.encode(), "not valid JSON"),
        # A part of a delivery that cannot be read is dead-lettered (test_platform_payloads.py);
        # a body that is not the platform's shape at all is refused.
        "meta": (
            json.dumps({"object": "page", "entry": {"id": "1", "messaging": [{"text": run}]}}).encode(),
            "body.entry must be a list, got dict",
        ),
        "viber": (
            json.dumps({"message": {"type": "text", "text": run}}).encode(),
            "body.event is required",
        ),
        "email": (b"just some text " + run.encode(), "no From header"),
    }
    for route, (body, detail) in cases.items():
        status, answer = await deliver(ingest, route, body)
        assert status == 422, (route, answer)
        assert detail in answer["detail"], (route, answer)
    await nothing_published_with(broker, run)


async def test_a_body_over_the_limit_is_413(ingest: IngestService, broker: EmbeddedBroker) -> None:
    run = uuid.uuid4().hex
    big = chat_body(run, text=run + "x" * (70 * 1024))
    status, answer = await deliver(ingest, "chat", big)
    assert status == 413, answer
    chunked_status, _, _ = await post_raw(
        ingest.http_url,
        "/webhooks/shop-a/chat",
        big,
        {**signed_headers("chat", big), "Transfer-Encoding": "chunked"},
    )
    assert chunked_status == 413
    await nothing_published_with(broker, run)


async def test_channels_a_tenant_has_not_configured_are_404(ingest: IngestService) -> None:
    status, answer = await deliver(ingest, "telegram", fixture("telegram/message_text.json"), tenant="shop-b")
    assert status == 404
    assert "telegram_secret_token is not set" in answer["detail"]
    status, _ = await deliver(ingest, "telegram", fixture("telegram/message_text.json"), tenant="nobody")
    assert status == 404


async def test_meta_verification_handshake(ingest: IngestService) -> None:
    ok = "/webhooks/shop-a/meta?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meta-verify-7Qm2"
    assert await get(ingest.http_url, ok) == (200, b"1158201444")
    wrong = ok.replace("meta-verify-7Qm2", "nope")
    assert (await get(ingest.http_url, wrong))[0] == 403


async def test_x_challenge_response_check(ingest: IngestService) -> None:
    status, raw = await get(ingest.http_url, "/webhooks/shop-a/x?crc_token=challenge-123")
    assert status == 200
    import base64
    import hashlib
    import hmac

    expected = base64.b64encode(
        hmac.new(b"x-consumer-secret-8e0b", b"challenge-123", hashlib.sha256).digest()
    )
    assert json.loads(raw) == {"response_token": "sha256=" + expected.decode()}


# ---------------------------------------------------------------- what a new-user review found


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("telegram", b"[" * 30_000 + b"]" * 30_000),
        ("telegram", b'{"update_id": ' + b"9" * 5_000 + b"}"),
        (
            "chat",
            json.dumps(
                {
                    "session_id": "s",
                    "message_id": "m",
                    "text": "x",
                    "visitor": {"id": "v"},
                    "sent_at": "0001-01-01T00:00:00+01:00",
                }
            ).encode(),
        ),
        (
            "email",
            b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
            + b"--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" * 1_200,
        ),
    ],
    ids=["deep JSON", "huge integer", "date out of range", "deeply nested MIME"],
)
async def test_hostile_bodies_are_422_not_500(ingest: IngestService, route: str, body: bytes) -> None:
    status, answer = await deliver(ingest, route, body)
    assert status in (200, 422), answer


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


async def test_the_shops_own_instagram_reply_is_not_a_customer_message(ingest: IngestService) -> None:
    comment = json.loads(fixture("instagram/comment.json"))
    comment["entry"][0]["changes"][0]["value"]["from"]["id"] = comment["entry"][0]["id"]
    status, answer = await deliver(ingest, "meta", json.dumps(comment).encode())
    assert (status, answer["accepted"], answer["event_ids"]) == (200, 0, [])


async def test_a_twilio_form_with_a_wrong_signature_is_401(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    run = uuid.uuid4().hex
    body = form_of_json("twilio/missed_call_dial_no_answer.json").replace(
        b"CallSid=CA", f"CallSid={run}".encode()
    )
    url = f"{ingest.http_url}/webhooks/shop-a/phone"
    status, answer = await post(
        ingest.http_url, "/webhooks/shop-a/phone", body, signed_headers("phone", body, url, WRONG_SECRETS)
    )
    assert status == 401, answer
    status, _ = await post(
        ingest.http_url, "/webhooks/shop-a/phone", body, signed_headers("phone", body, url)
    )
    assert status == 200


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
