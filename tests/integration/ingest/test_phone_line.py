"""The phone line answers Twilio in TwiML (issue #19), checked through the real ingest process.

A call in, the menu's choice, a voicemail, a call the shop's staff did not answer: each is posted, signed as
Twilio signs, to the real ingest process; the events are read back from the broker and checked field by field.

The test ingest's languages start with Italian (tests/plugins/ingest.py), so the line speaks Italian.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest

from pronto import event_ids, topics
from pronto.v1 import common_pb2, events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import IngestService
from services.ingest.channels.identity import conversation_id
from tests.integration.ingest.platform_support import messages, records
from tests.support.webhooks import _send, fixture, signed_headers

pytestmark = pytest.mark.integration

K = events_pb2
C = common_pb2
PATH = "/webhooks/shop-a/phone"


def call(run: str, caller: str, **fields: str) -> dict[str, str]:
    """The parameters Twilio sends with every voice request
    (https://www.twilio.com/docs/voice/twiml#request-parameters), for an inbound call."""
    return {
        "AccountSid": "AC3f8b2c7d9e0a41b6c5d8e7f90a1b2c3d",
        "ApiVersion": "2010-04-01",
        "CallSid": f"CA{run}",
        "CallStatus": "ringing",
        "Called": "+390294751200",
        "Caller": caller,
        "CallerName": "Marco Bianchi",
        "Direction": "inbound",
        "From": caller,
        "FromCountry": "IT",
        "To": "+390294751200",
        "ToCountry": "IT",
        **fields,
    }


async def ask(ingest: IngestService, params: dict[str, str], path: str = PATH) -> tuple[int, str, Any]:
    """Post ``params`` as Twilio does; the status, the content type and the TwiML (or JSON) answer."""
    body = urlencode(params).encode()
    url = ingest.http_url + path
    status, raw, headers = await asyncio.to_thread(
        _send, url, body, signed_headers("phone", body, url), "POST"
    )
    content_type = headers.get("content-type", headers.get("Content-Type", ""))
    if content_type.startswith("application/xml"):
        return status, content_type, ElementTree.fromstring(raw)
    return status, content_type, json.loads(raw)


def verbs(twiml: ElementTree.Element) -> list[tuple[str, dict[str, str], str]]:
    """Every verb, nested ones after their parent: (tag, attributes, text)."""
    return [(e.tag, dict(e.attrib), (e.text or "").strip()) for e in twiml.iter() if e is not twiml]


MENU = (
    "Grazie per aver chiamato. Per essere richiamato, premi 1. "
    "Oppure resta in linea per lasciare un messaggio."
)
LEAVE = "Lascia un messaggio dopo il segnale acustico, poi riaggancia."


def menu(url: str) -> list[tuple[str, dict[str, str], str]]:
    return [
        ("Gather", {"input": "dtmf", "numDigits": "1", "timeout": "6", "action": url, "method": "POST"}, ""),
        ("Say", {"language": "it-IT"}, MENU),
        ("Say", {"language": "it-IT"}, LEAVE),
        (
            "Record",
            {
                "action": url,
                "method": "POST",
                "maxLength": "120",
                "playBeep": "true",
                "transcribe": "true",
                "transcribeCallback": url,
            },
            "",
        ),
    ]


async def test_a_call_in_gets_the_menu_and_pressing_1_is_a_callback_request(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """The Voice URL's request (CallStatus ringing) is answered with the menu in TwiML, nothing is
    recorded; the Gather's action with Digits=1 is a callback request on the broker and a goodbye.

    Shapes: https://www.twilio.com/docs/voice/twiml#request-parameters (the Voice URL's request),
    https://www.twilio.com/docs/voice/twiml/gather#action (``Digits``); the answers:
    https://www.twilio.com/docs/voice/twiml/gather, https://www.twilio.com/docs/voice/twiml/say
    (``language``), https://www.twilio.com/docs/voice/twiml/record
    """
    run = uuid.uuid4().hex
    caller = f"+39347{int(run[:6], 16) % 10_000_000:07d}"
    url = ingest.http_url + PATH

    status, content_type, twiml = await ask(ingest, call(run, caller))

    assert (status, content_type) == (200, "application/xml")
    assert twiml.tag == "Response"
    assert verbs(twiml) == menu(url)

    status, content_type, twiml = await ask(
        ingest, call(run, caller, CallStatus="in-progress", Digits="1", msg="Gather End")
    )

    assert (status, content_type) == (200, "application/xml")
    assert verbs(twiml) == [
        ("Say", {"language": "it-IT"}, "Grazie. Ti richiameremo il prima possibile. Arrivederci."),
        ("Hangup", {}, ""),
    ]
    (request,) = await messages(
        broker, [event_ids.from_channel_message("shop-a", "phone", f"CA{run}:callback")]
    )
    # The whole event. No sent_at: Twilio's voice request parameters carry no time of the call
    # (https://www.twilio.com/docs/voice/twiml#request-parameters). The language is the one the
    # line spoke to the caller (README, "/phone"), not the text's: the text is Pronto's own words.
    assert request == K.MessageReceived(
        conversation_id=conversation_id("shop-a", "phone", caller),
        channel=C.CHANNEL_PHONE,
        channel_message_id=f"CA{run}:callback",
        sender=C.Sender(id=caller, phone=caller, display_name="Marco Bianchi"),
        text="(pressed 1 in the phone line's menu: call me back)",
        language="it",
        kind=K.MESSAGE_KIND_CALLBACK_REQUEST,
    )


async def test_a_shop_whose_line_speaks_polish_greets_and_records_in_polish(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """``PRONTO_INGEST_PHONE_LANGUAGES`` gives shop-pl a Polish line in the same ingest as shop-a's
    Italian one: the menu, the goodbye and the callback request's language are Polish.

    Shapes as in the test above (https://www.twilio.com/docs/voice/twiml#request-parameters,
    https://www.twilio.com/docs/voice/twiml/say ``language``).
    """
    run = uuid.uuid4().hex
    caller = f"+48601{int(run[:6], 16) % 1_000_000:06d}"
    path = "/webhooks/shop-pl/phone"
    url = ingest.http_url + path

    _, _, twiml = await ask(ingest, call(run, caller), path)

    assert verbs(twiml)[:2] == [
        ("Gather", {"input": "dtmf", "numDigits": "1", "timeout": "6", "action": url, "method": "POST"}, ""),
        (
            "Say",
            {"language": "pl-PL"},
            "Dziękujemy za telefon. Aby zamówić oddzwonienie, naciśnij 1. "
            "Lub pozostań na linii, aby zostawić wiadomość.",
        ),
    ]
    _, _, twiml = await ask(ingest, call(run, caller, CallStatus="in-progress", Digits="1"), path)
    assert verbs(twiml) == [
        ("Say", {"language": "pl-PL"}, "Dziękujemy. Oddzwonimy najszybciej, jak to możliwe. Do widzenia."),
        ("Hangup", {}, ""),
    ]
    (event,) = await records(
        broker, topics.INBOUND.name, [event_ids.from_channel_message("shop-pl", "phone", f"CA{run}:callback")]
    )
    request = event.payload
    assert event.tenant == "shop-pl"
    assert isinstance(request, K.MessageReceived)
    assert request == K.MessageReceived(
        conversation_id=conversation_id("shop-pl", "phone", caller),
        channel=C.CHANNEL_PHONE,
        channel_message_id=f"CA{run}:callback",
        sender=C.Sender(id=caller, phone=caller, display_name="Marco Bianchi"),
        text="(pressed 1 in the phone line's menu: call me back)",
        language="pl",
        kind=K.MESSAGE_KIND_CALLBACK_REQUEST,
    )
    # shop-a, in the same process, still speaks Italian.
    _, _, twiml = await ask(ingest, call(uuid.uuid4().hex, caller))
    assert verbs(twiml) == menu(ingest.http_url + PATH)


async def test_a_voicemail_left_after_the_menu_is_kept_and_the_caller_thanked(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """Another key asks for the voicemail prompt; the Record's action (RecordingUrl, Digits=hangup)
    is a voicemail on the broker and a goodbye; the transcription callback later expects nothing and
    is answered with JSON.

    Shapes: https://www.twilio.com/docs/voice/twiml/record#action (RecordingUrl, RecordingSid,
    RecordingDuration, Digits) and https://www.twilio.com/docs/voice/twiml/record#transcribecallback
    """
    run = uuid.uuid4().hex
    caller = f"+39348{int(run[:6], 16) % 10_000_000:07d}"
    url = ingest.http_url + PATH
    recording = (
        f"https://api.twilio.com/2010-04-01/Accounts/AC3f8b2c7d9e0a41b6c5d8e7f90a1b2c3d/Recordings/RE{run}"
    )

    _, _, twiml = await ask(ingest, call(run, caller, CallStatus="in-progress", Digits="2"))
    assert verbs(twiml) == menu(url)[2:]

    status, content_type, twiml = await ask(
        ingest,
        call(
            run,
            caller,
            CallStatus="completed",
            RecordingSid=f"RE{run}",
            RecordingUrl=recording,
            RecordingDuration="23",
            Digits="hangup",
        ),
    )

    assert (status, content_type) == (200, "application/xml")
    assert verbs(twiml) == [
        ("Say", {"language": "it-IT"}, "Grazie per il messaggio. Ti risponderemo presto. Arrivederci."),
        ("Hangup", {}, ""),
    ]
    (voicemail,) = await messages(broker, [event_ids.from_channel_message("shop-a", "phone", f"RE{run}")])
    # No text yet (the transcription comes later), so no language or topic either; no sent_at, as
    # Twilio's Record action carries no time.
    recorded = C.Attachment(filename="voicemail", content_type="audio/wav", url=recording)
    sender = C.Sender(id=caller, phone=caller, display_name="Marco Bianchi")
    assert voicemail == K.MessageReceived(
        conversation_id=conversation_id("shop-a", "phone", caller),
        channel=C.CHANNEL_PHONE,
        channel_message_id=f"RE{run}",
        sender=sender,
        attachments=[recorded],
        kind=K.MESSAGE_KIND_VOICEMAIL,
    )

    status, content_type, answer = await ask(
        ingest,
        call(
            run,
            caller,
            CallStatus="completed",
            RecordingSid=f"RE{run}",
            RecordingUrl=recording,
            TranscriptionSid=f"TR{run}",
            TranscriptionStatus="completed",
            TranscriptionText="Buongiorno, chiamo per il reso dell'ordine 10422.",
            TranscriptionUrl=f"{recording}/Transcriptions/TR{run}",
        ),
    )
    assert (status, content_type) == (200, "application/json")
    assert answer["accepted"] == 1
    (transcribed,) = await messages(broker, answer["event_ids"])
    # The transcription callback names the recording again (RecordingUrl), so the text comes with
    # it; its language and topics are the text's (Italian; a return, "reso", of an order, "ordine").
    assert transcribed == K.MessageReceived(
        conversation_id=conversation_id("shop-a", "phone", caller),
        channel=C.CHANNEL_PHONE,
        channel_message_id=f"TR{run}",
        sender=sender,
        text="Buongiorno, chiamo per il reso dell'ordine 10422.",
        attachments=[recorded],
        language="it",
        kind=K.MESSAGE_KIND_VOICEMAIL,
        topic_hints=[C.SUPPORT_TOPIC_ORDERS, C.SUPPORT_TOPIC_RETURNS],
    )


async def test_a_dialled_call_nobody_answered_is_missed_and_the_caller_gets_the_menu(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """The shop's own TwiML dialled its staff; the <Dial>'s action (DialCallStatus no-answer) is a
    missed call on the broker, answered with the menu rather than JSON.

    Shape: tests/fixtures/channels/twilio/missed_call_dial_no_answer.json, after
    https://www.twilio.com/docs/voice/twiml/dial#action (DialCallStatus, DialCallSid, DialCallDuration)
    """
    run = uuid.uuid4().hex
    fields = json.loads(fixture("twilio/missed_call_dial_no_answer.json"))
    fields["CallSid"] = f"CA{run}"
    url = ingest.http_url + PATH

    status, content_type, twiml = await ask(ingest, fields)

    assert (status, content_type) == (200, "application/xml")
    assert verbs(twiml) == menu(url)
    (missed,) = await messages(
        broker, [event_ids.from_channel_message("shop-a", "phone", f"CA{run}:no-answer")]
    )
    # The whole event: the fixture has no CallerName, a missed call has no text, and the <Dial>
    # action carries no time of the call, so no sent_at.
    assert missed == K.MessageReceived(
        conversation_id=conversation_id("shop-a", "phone", "+393471234567"),
        channel=C.CHANNEL_PHONE,
        channel_message_id=f"CA{run}:no-answer",
        sender=C.Sender(id="+393471234567", phone="+393471234567"),
        kind=K.MESSAGE_KIND_MISSED_CALL,
    )
