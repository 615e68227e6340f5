"""Issue #26, "Hostile input on every port": each attack, through the real ingest process on loopback."""

from __future__ import annotations

import json
import uuid
from urllib.parse import quote

import pytest

from pronto import topics
from pronto.broker.embedded import EmbeddedBroker
from pronto.kafka.reader import read_records
from pronto.services import IngestService
from tests.support.webhooks import get, post

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
