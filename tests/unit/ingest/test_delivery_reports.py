"""The platforms' reports about what Pronto sent, as they document them."""

from __future__ import annotations

import json

from pronto.v1 import common_pb2, events_pb2
from services.ingest.channels import meta_statuses, viber


def test_whatsapp_statuses_with_the_notification_id_and_errors() -> None:
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"phone_number_id": "1065"},
                            "statuses": [
                                {
                                    "id": "wamid.A",
                                    "status": "read",
                                    "timestamp": "1763980000",
                                    "recipient_id": "39333",
                                    "biz_opaque_callback_data": "n-1",
                                },
                                {
                                    "id": "wamid.B",
                                    "status": "failed",
                                    "timestamp": "1763980001",
                                    "recipient_id": "39333",
                                    "errors": [{"code": 131026, "title": "Message undeliverable"}],
                                },
                                {
                                    "id": "wamid.C",
                                    "status": "deleted",
                                    "timestamp": "1763980002",
                                    "recipient_id": "39333",
                                },
                            ],
                        },
                    }
                ],
            }
        ],
    }
    read, failed = meta_statuses.meta(json.dumps(body).encode())
    assert (read.channel, read.recipient, read.platform_message_id, read.status, read.notification_id) == (
        common_pb2.CHANNEL_WHATSAPP,
        "39333",
        "wamid.A",
        events_pb2.DELIVERY_STATUS_READ,
        "n-1",
    )
    assert read.at.seconds == 1763980000
    assert (failed.status, failed.error_code, failed.error_text) == (
        events_pb2.DELIVERY_STATUS_FAILED,
        "131026",
        "Message undeliverable",
    )


def test_messenger_deliveries_by_id_and_reads_by_watermark() -> None:
    body = {
        "object": "page",
        "entry": [
            {
                "id": "PAGE",
                "time": 1763980000000,
                "messaging": [
                    {
                        "sender": {"id": "PSID"},
                        "recipient": {"id": "PAGE"},
                        "timestamp": 1763980000100,
                        "delivery": {"mids": ["m_1", "m_2"], "watermark": 1763980000000},
                    },
                    {
                        "sender": {"id": "PSID"},
                        "recipient": {"id": "PAGE"},
                        "timestamp": 1763980000200,
                        "read": {"watermark": 1763980000000},
                    },
                    {
                        "sender": {"id": "PSID"},
                        "recipient": {"id": "PAGE"},
                        "timestamp": 1763980000300,
                        "message": {"mid": "m_3", "text": "hi"},
                    },
                ],
            }
        ],
    }
    delivered_1, delivered_2, read = meta_statuses.meta(json.dumps(body).encode())
    assert [d.platform_message_id for d in (delivered_1, delivered_2)] == ["m_1", "m_2"]
    assert {d.status for d in (delivered_1, delivered_2)} == {events_pb2.DELIVERY_STATUS_DELIVERED}
    assert (read.status, read.platform_message_id, read.recipient, read.up_to.ToMilliseconds()) == (
        events_pb2.DELIVERY_STATUS_READ,
        "",
        "PSID",
        1763980000000,
    )


def test_viber_callbacks() -> None:
    seen = {
        "event": "seen",
        "timestamp": 1763980000123,
        "message_token": 4912661846655238145,
        "user_id": "01234567890A=",
    }
    (report,) = viber.reports(json.dumps(seen).encode())
    assert (report.channel, report.recipient, report.platform_message_id, report.status) == (
        common_pb2.CHANNEL_VIBER,
        "01234567890A=",
        "4912661846655238145",
        events_pb2.DELIVERY_STATUS_READ,
    )
    assert viber.reports(json.dumps({"event": "message", "timestamp": 1, "message_token": 1}).encode()) == []
    assert meta_statuses.meta(json.dumps({"object": "user"}).encode()) == []


def test_instagram_reads_name_the_message() -> None:
    body = {
        "object": "instagram",
        "entry": [
            {
                "id": "IGID",
                "time": 1763980000000,
                "messaging": [
                    {
                        "sender": {"id": "IGSID"},
                        "recipient": {"id": "IGID"},
                        "timestamp": 1763980000100,
                        "read": {"mid": "aWdf..."},
                    }
                ],
            }
        ],
    }
    (read,) = meta_statuses.meta(json.dumps(body).encode())
    assert (read.channel, read.recipient, read.platform_message_id, read.status, read.HasField("up_to")) == (
        common_pb2.CHANNEL_INSTAGRAM,
        "IGSID",
        "aWdf...",
        events_pb2.DELIVERY_STATUS_READ,
        False,
    )
