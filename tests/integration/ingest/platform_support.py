"""Posting platforms' payloads to the real ingest process and reading their events back (test helpers).

Posting platforms' payloads to the real ingest process and reading their events back, for the
platform payload and context tests.

Deliveries to shop-a's webhooks signed with its secrets; the records and MessageReceived events read
back by event id from the session broker; platforms' times; a WhatsApp Cloud API messages webhook; a
dead letter's event id; ingest's counters; and the shop's accounts on the platforms.
"""

from __future__ import annotations

import hashlib
import urllib.request
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from prometheus_client.parser import text_string_to_metric_families

from pronto import envelope, event_ids, topics
from pronto.kafka.reader import header, read_records
from pronto.v1 import events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import IngestService
from tests.support.webhooks import post, signed_headers

WABA = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
PAGE = "109876543210987"
X_ACCOUNT = "1587342901136441344"


async def deliver(ingest: IngestService, route: str, body: bytes) -> tuple[int, Any]:
    path = f"/webhooks/shop-a/{route}"
    return await post(ingest.http_url, path, body, signed_headers(route, body, ingest.http_url + path))


async def records(broker: EmbeddedBroker, topic: str, ids: list[str]) -> list[envelope.Envelope]:
    """The records with these event ids, read until a second after the last one showed up (so that a
    duplicate would show too)."""
    wanted = set(ids)
    found = await read_records(
        broker.bootstrap_servers,
        topic,
        lambda r: header(r, "ce_id") in wanted,
        expect=len(ids),
        timeout=15,
        settle=1.0,
    )
    return [envelope.decode(r.headers, r.value) for r in found]


async def messages(broker: EmbeddedBroker, ids: list[str]) -> list[events_pb2.MessageReceived]:
    found = []
    for event in await records(broker, topics.INBOUND.name, ids):
        assert isinstance(event.payload, events_pb2.MessageReceived)
        assert event.tenant == "shop-a"
        found.append(event.payload)
    return found


def at(seconds: int) -> Timestamp:
    stamp = Timestamp()
    stamp.FromSeconds(seconds)
    return stamp


def at_ms(milliseconds: int) -> Timestamp:
    """A platform's time in milliseconds (Messenger's ``timestamp``, Viber's, X's), to the millisecond."""
    stamp = Timestamp()
    stamp.FromMilliseconds(milliseconds)
    return stamp


def whatsapp(run: str, *messages: dict[str, Any], wa_id: str = "393471234567") -> dict[str, Any]:
    """A messages webhook as WhatsApp Cloud API sends it: one entry, one change, these messages."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA,
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "390287654321",
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            "contacts": [{"profile": {"name": "Giulia Rossi"}, "wa_id": wa_id}],
                            "messages": list(messages),
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }


def dead_letter_id(route: str, body: bytes, path: str) -> str:
    return event_ids.from_channel_message(
        "shop-a", route, f"deadletter:{hashlib.sha256(body).hexdigest()}:{path}"
    )


def counted(ingest: IngestService, name: str, **labels: str) -> float:
    """The value of ingest's counter ``name`` with these labels, 0 when it was never counted."""
    with urllib.request.urlopen(f"{ingest.http_url}/metrics", timeout=5) as response:
        text = response.read().decode()
    wanted = {"service": "ingest", **labels}
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and s.labels == wanted
    )
