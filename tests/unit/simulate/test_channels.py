"""The simulator's webhook requests pass ingest's own signature checks and parse as the customer wrote."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

import pytest

from pronto import event_ids
from pronto.channels import channel_value
from pronto.v1 import events_pb2
from pronto_tools.simulate.channels import CHANNELS, CustomerMessage, WebhookRequest, webhook_request
from services.ingest.channels import email as mail
from services.ingest.channels import meta, own_site, phone, signatures, telegram, viber, x
from services.ingest.channels.payload import Unreadable
from services.ingest.errors import BadSignature
from tests.plugins.ingest import CHANNEL_SECRETS
from tests.support.webhooks import WRONG_SECRETS

TENANT = "demo-shop"
BASE_URL = "http://127.0.0.1:8080"
# Meta's Messenger and Instagram webhooks carry no sender name (it is in Meta's User Profile API).
NAMELESS = {"facebook", "instagram"}
# A contact-form submission is a conversation of its own, even from the same customer.
ONE_CONVERSATION_PER_MESSAGE = {"contact_form"}

# Batching channels also give the parts they cannot read (``Unreadable``); none is expected here.
Parse = Callable[[str, bytes], Sequence[events_pb2.MessageReceived | Unreadable]]
PARSERS: dict[str, Parse] = {
    "chat": own_site.parse_chat,
    "contact-form": own_site.parse_contact_form,
    "phone": lambda tenant, body: phone.parse_voice(tenant, phone.form_params(body)),
    "meta": meta.parse,
    "telegram": telegram.parse,
    "viber": viber.parse,
    "x": x.parse,
    "email": mail.parse_raw,
}


def message(channel: str, message_id: str = "msg-1", customer_id: str = "cust-7") -> CustomerMessage:
    return CustomerMessage(
        channel=channel,
        customer_id=customer_id,
        name="Łucja Wiśniewska-Nowak",
        text="Buongiorno, il mio ordine 4512 non è ancora arrivato. Potete verificare?",
        message_id=message_id,
        sent_at=1_794_820_447.25,
    )


def route_of(request: WebhookRequest) -> str:
    prefix = f"/webhooks/{TENANT}/"
    assert request.path.startswith(prefix)
    return request.path.removeprefix(prefix)


def verify(request: WebhookRequest, secrets: Mapping[str, str]) -> None:
    """What ingest's webhook_router checks for the request's route."""
    route, body = route_of(request), request.body
    header = {k.lower(): v for k, v in request.headers.items()}.get
    if route in ("chat", "contact-form", "phone/callback-request"):
        signatures.check_prefixed_hex(header("x-pronto-signature"), secrets["shop_key"], body)
    elif route == "phone":
        url = BASE_URL + request.path
        signatures.check_twilio(
            header("x-twilio-signature"), secrets["twilio_auth_token"], url, phone.form_params(body)
        )
    elif route == "meta":
        signatures.check_prefixed_hex(header("x-hub-signature-256"), secrets["meta_app_secret"], body)
    elif route == "telegram":
        signatures.check_token(
            header("x-telegram-bot-api-secret-token"), secrets["telegram_secret_token"], "token"
        )
    elif route == "viber":
        signatures.check_prefixed_hex(
            header("x-viber-content-signature"), secrets["viber_auth_token"], body, prefix=""
        )
    elif route == "x":
        signatures.check_x_signature(
            header("x-twitter-webhooks-signature"), secrets["x_consumer_secret"], body
        )
    elif route == "email":
        signatures.check_token(mail.token_of(header("authorization")), secrets["email_token"], "token")
    else:
        raise AssertionError(f"no check for {route}")


def received(sent: CustomerMessage) -> events_pb2.MessageReceived:
    request = webhook_request(TENANT, sent, CHANNEL_SECRETS, BASE_URL)
    verify(request, CHANNEL_SECRETS)
    [parsed] = PARSERS[route_of(request)](TENANT, request.body)
    assert isinstance(parsed, events_pb2.MessageReceived), parsed
    return parsed


def event_id(parsed: events_pb2.MessageReceived, channel: str) -> str:
    return event_ids.from_channel_message(TENANT, channel, parsed.channel_message_id)


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_request_verifies_and_parses_as_the_message(channel: str) -> None:
    sent = message(channel)
    parsed = received(sent)
    assert parsed.channel == channel_value(channel)
    assert parsed.text == sent.text
    assert parsed.sender.display_name == ("" if channel in NAMELESS else sent.name)
    assert parsed.channel_message_id
    if parsed.HasField("sent_at"):
        assert parsed.sent_at.seconds == int(sent.sent_at)


@pytest.mark.parametrize("line_break", ["\n", "\r", "\x85", "\u2028", "\x0b"])
def test_an_email_whose_text_breaks_its_first_line_anyhow_is_still_built(line_break: str) -> None:
    sent = dataclasses.replace(message("email"), text=f"Ordine 4512{line_break}non è arrivato")

    request = webhook_request(TENANT, sent, CHANNEL_SECRETS, BASE_URL)

    assert b"Subject: Ordine 4512\r\n" in request.body


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_customer_keeps_its_conversation_and_messages_stay_distinct(channel: str) -> None:
    first, second = received(message(channel, "msg-1")), received(message(channel, "msg-2"))
    other = received(message(channel, "msg-3", customer_id="cust-8"))
    if channel in ONE_CONVERSATION_PER_MESSAGE:
        assert first.conversation_id != second.conversation_id
    else:
        assert first.conversation_id == second.conversation_id
    assert other.conversation_id != first.conversation_id
    assert first.sender.id == second.sender.id != other.sender.id
    assert first.channel_message_id != second.channel_message_id
    assert event_id(first, channel) != event_id(second, channel)


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_wrong_secret_fails_the_check(channel: str) -> None:
    request = webhook_request(TENANT, message(channel), WRONG_SECRETS, BASE_URL)
    with pytest.raises(BadSignature):
        verify(request, CHANNEL_SECRETS)


def test_twilio_signs_the_full_url() -> None:
    request = webhook_request(TENANT, message("phone"), CHANNEL_SECRETS, "http://elsewhere:9000/")
    with pytest.raises(BadSignature):
        verify(request, CHANNEL_SECRETS)


@pytest.mark.parametrize("channel", CHANNELS)
def test_the_same_message_gives_the_same_request(channel: str) -> None:
    first = webhook_request(TENANT, message(channel), CHANNEL_SECRETS, BASE_URL)
    again = webhook_request(TENANT, message(channel), CHANNEL_SECRETS, BASE_URL)
    assert first == again
    assert received(message(channel)).SerializeToString(deterministic=True) == received(
        message(channel)
    ).SerializeToString(deterministic=True)


def test_an_unknown_channel_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown channel"):
        webhook_request(TENANT, message("pigeon"), CHANNEL_SECRETS, BASE_URL)
