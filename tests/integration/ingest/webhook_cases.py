"""Every channel's documented webhook payloads and the events each must become, for the webhook tests.

Each case is a route, the body a platform posts there (tests/fixtures) and the events it must be;
``deliver`` posts a body signed with shop-a's secrets, ``events_with_ids`` reads the events back,
``chat_body`` is a web chat message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from pronto import envelope, topics
from pronto.kafka.reader import header, read_records
from pronto.v1 import common_pb2, events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import IngestService
from tests.support.webhooks import fixture, form_of_json, mailgun_form, post, signed_headers

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


def chat_body(run: str, text: str = "Ciao, vorrei cambiare la taglia") -> bytes:
    return json.dumps(
        {
            "session_id": f"s-{run}",
            "message_id": f"m-{run}",
            "text": text,
            "visitor": {"id": f"v-{run}", "name": "Giulia Rossi", "tier": "gold"},
        }
    ).encode()
