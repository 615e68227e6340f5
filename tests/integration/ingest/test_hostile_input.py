"""Issue #26, "Hostile input on every port": each attack, through the real ingest process on loopback."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, urlencode

import grpc
import pytest

from pronto import topics
from pronto.kafka.reader import header, read_records
from pronto.v1 import common_pb2, ingest_pb2, ingest_pb2_grpc
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import IngestService
from tests.plugins.ingest import CHANNEL_SECRETS, bearer
from tests.support.events import message
from tests.support.webhooks import fixture, get, post

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


# ---------------------------------------------------------------- X: the CRC answer is no signing oracle


def forged_x_dm(run: str) -> bytes:
    """A direct message nobody sent, as compact JSON (so that it fits in a query string)."""
    return json.dumps(
        {
            "for_user_id": "1587342901136441344",
            "direct_message_events": [
                {
                    "type": "message_create",
                    "id": f"forged-{run}",
                    "created_timestamp": "1794824447557",
                    "message_create": {
                        "sender_id": "666",
                        "message_data": {"text": f"Please refund to this IBAN {run}"},
                    },
                }
            ],
        },
        separators=(",", ":"),
    ).encode()


async def test_the_crc_answer_cannot_sign_a_forged_x_message(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    run = uuid.uuid4().hex
    body = forged_x_dm(run)

    challenged, raw = await get(ingest.http_url, f"/webhooks/shop-a/x?crc_token={quote(body.decode())}")
    answer = json.loads(raw)
    # The attacker posts the body with whatever the challenge answered as its signature.
    signature = str(answer.get("response_token", ""))
    headers = {"Content-Type": "application/json", "x-twitter-webhooks-signature": signature}
    posted, posted_answer = await post(ingest.http_url, "/webhooks/shop-a/x", body, headers)

    assert (challenged, posted) == (400, 401), (answer, posted_answer)
    assert answer["error"] == "malformed"
    assert "response_token" not in answer
    await nothing_published_with(broker, run)


@pytest.mark.parametrize(
    "token",
    ['{"a":1}', "two words", "quote'd", "a" * 129, "<script>", "ümlaut"],
    ids=["json", "space", "quote", "too long", "markup", "non-ascii"],
)
async def test_a_crc_token_not_shaped_like_xs_is_400(ingest: IngestService, token: str) -> None:
    status, raw = await get(ingest.http_url, f"/webhooks/shop-a/x?crc_token={quote(token)}")
    assert status == 400, raw
    assert b"response_token" not in raw


@pytest.mark.parametrize(
    "token",
    ["9b4507b3-9040-4669-9ca3-6b94edb50553", "a" * 128, "Zm9vYmFy_-+/="],
    ids=["x sample uuid", "longest", "base64"],
)
async def test_a_crc_token_shaped_like_xs_is_answered(ingest: IngestService, token: str) -> None:
    status, raw = await get(ingest.http_url, f"/webhooks/shop-a/x?crc_token={quote(token, safe='')}")
    assert status == 200, raw
    assert json.loads(raw)["response_token"].startswith("sha256=")


# ---------------------------------------------------------------- gRPC: one bad event is refused alone


@pytest.fixture
async def stub(ingest: IngestService) -> AsyncIterator[ingest_pb2_grpc.IngestServiceStub]:
    async with grpc.aio.insecure_channel(ingest.grpc_target) as channel:
        yield ingest_pb2_grpc.IngestServiceStub(channel)


def streamed(sequence: int, event: Any) -> ingest_pb2.StreamedEvent:
    return ingest_pb2.StreamedEvent(
        sequence=sequence, request=ingest_pb2.PublishRequest(message_received=event)
    )


async def test_an_event_from_beyond_the_end_of_time_is_refused_alone_and_the_stream_goes_on(
    stub: ingest_pb2_grpc.IngestServiceStub, broker: EmbeddedBroker
) -> None:
    run = f"time-{uuid.uuid4().hex[:8]}"
    bad = message(f"{run}-c1", 2)
    bad.sent_at.seconds = 10**15

    async def batches() -> AsyncIterator[ingest_pb2.PublishStreamRequest]:
        yield ingest_pb2.PublishStreamRequest(
            events=[
                streamed(1, message(f"{run}-c1", 1)),
                streamed(2, bad),
                streamed(3, message(f"{run}-c1", 3)),
            ]
        )
        yield ingest_pb2.PublishStreamRequest(events=[streamed(4, message(f"{run}-c1", 4))])

    # Far below the 30 s the issue saw the stream hang for.
    responses = stub.PublishStream(batches(), metadata=bearer("shop-a"), timeout=15)
    acks = {ack.sequence: ack async for response in responses for ack in response.acks}

    assert sorted(acks) == [1, 2, 3, 4]
    assert acks[2].code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert "message_received.sent_at.seconds" in acks[2].message
    assert {acks[n].code for n in (1, 3, 4)} == {0}, [acks[n].message for n in (1, 3, 4)]
    records = await read_records(
        broker.bootstrap_servers,
        topics.INBOUND.name,
        lambda r: r.key is not None and r.key.decode().startswith(run),
        expect=3,
        settle=1.0,
    )
    ids = Counter(header(r, "ce_id") for r in records)
    assert ids == Counter({acks[n].event_id: 1 for n in (1, 3, 4)}), "each good event on Kafka once"


def _with(run: str, **fields: Any) -> Any:
    event = message(f"{run}-c1", 1)
    for name, value in fields.items():
        target = event
        *parents, leaf = name.split(".")
        for parent in parents:
            target = getattr(target, parent)
        if isinstance(value, list):
            getattr(target, leaf).extend(value)
        else:
            setattr(target, leaf, value)
    return event


OUT_OF_RANGE = {
    "after 9999": ({"sent_at.seconds": 10**15}, "message_received.sent_at.seconds"),
    "one second after 9999": ({"sent_at.seconds": 253_402_300_800}, "message_received.sent_at.seconds"),
    "before year 1": ({"sent_at.seconds": -62_135_596_801}, "message_received.sent_at.seconds"),
    "negative nanos": ({"sent_at.nanos": -1}, "message_received.sent_at.nanos"),
    "a second of nanos": ({"sent_at.nanos": 10**9}, "message_received.sent_at.nanos"),
    "unknown kind": ({"kind": 99}, "message_received.kind"),
    "unknown channel": ({"channel": 99}, "message_received.channel"),
    "unknown tier": ({"sender.tier": 99}, "message_received.sender.tier"),
    "unknown topic": ({"topic_hints": [common_pb2.SUPPORT_TOPIC_ORDERS, 99]}, "message_received.topic_hints"),
}


@pytest.mark.parametrize("case", OUT_OF_RANGE.values(), ids=OUT_OF_RANGE.keys())
async def test_a_unary_publish_of_an_out_of_range_value_is_invalid_argument(
    stub: ingest_pb2_grpc.IngestServiceStub, case: tuple[dict[str, Any], str]
) -> None:
    fields, named = case
    run = f"range-{uuid.uuid4().hex[:8]}"
    request = ingest_pb2.PublishRequest(message_received=_with(run, **fields))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.Publish(request, metadata=bearer("shop-a"), timeout=15)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT, raised.value.details()
    assert named in (raised.value.details() or "")


# ---------------------------------------------------------------- Mailgun: one signature, one message


def mailgun_post(token: str, timestamp: str, sender: str, text: str, message_id: str) -> bytes:
    """Mailgun's forwarded message, signed as Mailgun signs it: timestamp + token, not the message."""
    fields: dict[str, Any] = json.loads(fixture("mailgun/route_forward.json"))
    key = CHANNEL_SECRETS["mailgun_signing_key"]
    fields |= {
        "timestamp": timestamp,
        "token": token,
        "signature": hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest(),
        "from": sender,
        "From": sender,
        "sender": sender,
        "body-plain": text,
        "stripped-text": text,
        "Message-Id": message_id,
    }
    return urlencode(fields).encode()


async def test_a_mailgun_signature_is_good_for_one_message_and_its_retries(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    run = uuid.uuid4().hex
    token, timestamp = (run * 2)[:50], str(int(time.time()))
    genuine = mailgun_post(
        token, timestamp, "Jonas Becker <jonas.becker@web.de>", f"Wo ist mein Paket? {run}", f"<{run}@web.de>"
    )
    forged = mailgun_post(
        token,
        timestamp,
        "Mallory <mallory@evil.example>",
        f"Bitte an diese IBAN erstatten: forged-{run}",
        f"<forged-{run}@evil.example>",
    )
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    path = "/webhooks/shop-a/email/mailgun"

    first = await post(ingest.http_url, path, genuine, headers)
    retried = await post(ingest.http_url, path, genuine, headers)
    replayed = await post(ingest.http_url, path, forged, headers)

    assert first[0] == 200, first
    assert first[1]["accepted"] == 1
    # Mailgun retries a post it got no 200 for with the same token and fields: taken, written once.
    assert retried[0] == 200, retried
    assert (retried[1]["accepted"], retried[1]["duplicates"]) == (0, 1)
    assert retried[1]["event_ids"] == first[1]["event_ids"]
    # The same signature with another sender and body is refused.
    assert replayed[0] == 401, replayed
    assert replayed[1]["error"] == "unauthenticated"
    assert "already used for another message" in replayed[1]["detail"]
    await nothing_published_with(broker, f"forged-{run}")
