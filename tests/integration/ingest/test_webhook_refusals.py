"""Webhook requests ingest refuses, publishing nothing: bad signatures, bad bodies, unknown channels.

Posted to the real ingest process: a wrong or missing signature is 401 (Twilio's form too), a
malformed or hostile body 422 (never 500), a body over the limit 413, a channel the tenant has not
configured 404, and the shop's own Instagram reply is no customer message; the platforms'
verification handshakes (Meta's, X's challenge-response check) are answered.
"""

from __future__ import annotations

import json
import uuid

import pytest

from pronto import topics
from pronto.kafka.reader import read_records
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import IngestService
from tests.integration.ingest.webhook_cases import chat_body, deliver
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
        # A part of a delivery that cannot be read is dead-lettered (test_platform_dead_letters.py);
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
