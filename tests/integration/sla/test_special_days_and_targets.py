"""Special days imported from an iCalendar file, and a channel with no target, on the real SLA service.

Issue #21 on the real broker and SLA service: the special days are imported through the admin API.

The shop keeps office hours in Rome with "no SLA on phone" (null targets). It imports a calendar
with a half day on Friday 24 December 2027; an e-mail at 12:45 that day then has its 30-minute
first-response deadline at Monday 27 December 09:15 (25 and 26 are Christmas and St Stephen's, a
weekend). A phone message written before that e-mail into the same partition opens no clock.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiokafka import AIOKafkaProducer

from pronto import envelope, topics
from pronto.envelope import Envelope
from pronto.kafka.reader import read_records
from pronto.v1 import common_pb2, events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import SlaService
from tests.support.webhooks import post as put

pytestmark = pytest.mark.integration

ROME = ZoneInfo("Europe/Rome")
TENANT = "shop-days"
TOKEN = "shop-days-sla-token-0123456789"
OFFICE = {day: ["09:00-13:00", "14:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
POLICY = {
    "timezone": "Europe/Rome",
    "country": "IT",
    "hours": OFFICE,
    "response": {"phone": None},
    "resolution": {"phone": None},
}
ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Pronto tests//EN\r\n"
    "BEGIN:VEVENT\r\nUID:christmas-eve-2027\r\nDTSTAMP:20261101T000000Z\r\n"
    "DTSTART;TZID=Europe/Rome:20271224T090000\r\nDTEND;TZID=Europe/Rome:20271224T130000\r\n"
    "TRANSP:TRANSPARENT\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:patron-saint\r\nDTSTAMP:20261101T000000Z\r\n"
    "DTSTART;VALUE=DATE:20271207\r\nEND:VEVENT\r\n"
    "END:VCALENDAR\r\n"
)
ADMIN = "/v1/admin/sla-policy"


@pytest.fixture
def sla(private_broker: EmbeddedBroker, tmp_path: Path) -> Iterator[SlaService]:
    service = SlaService(
        private_broker.bootstrap_servers,
        tmp_path / "sla.log",
        env={
            "PRONTO_SLA_POLICIES": json.dumps({TENANT: POLICY}),
            "PRONTO_SLA_TICK_S": "60",
            "PRONTO_SLA_TOKENS": json.dumps({TENANT: TOKEN}),
        },
    )
    service.start().wait_ready(timeout=60)
    yield service
    service.stop()


def _received(conversation: str, channel: int) -> events_pb2.MessageReceived:
    return events_pb2.MessageReceived(
        conversation_id=conversation,
        channel=channel,  # type: ignore[arg-type]
        sender=common_pb2.Sender(id=f"customer-{conversation}"),
        text="Buongiorno",
    )


async def _get_policy(sla: SlaService, auth: dict[str, str]) -> dict[str, object]:
    def read() -> dict[str, object]:
        request = urllib.request.Request(f"{sla.http_url}{ADMIN}", headers=auth)
        with urllib.request.urlopen(request, timeout=5) as response:
            return dict(json.loads(response.read()))

    return await asyncio.to_thread(read)


@pytest.mark.timeout(120)
async def test_a_half_day_imported_from_icalendar_moves_the_deadline_and_phone_opens_no_clock(
    private_broker: EmbeddedBroker, sla: SlaService
) -> None:
    auth = {"authorization": f"Bearer {TOKEN}", "content-type": "text/calendar"}
    refused = await put(
        sla.http_url, f"{ADMIN}/special-days", b"BEGIN:VCALENDAR\r\nnot <a> line", auth, "PUT"
    )
    unauthenticated = await put(sla.http_url, f"{ADMIN}/special-days", ICS.encode(), {}, "PUT")
    imported = await put(sla.http_url, f"{ADMIN}/special-days", ICS.encode(), auth, "PUT")
    assert refused[0] == 422
    assert "not an iCalendar file" in json.dumps(refused[1])
    assert "<a>" not in json.dumps(refused[1])
    assert unauthenticated[0] == 401
    assert imported[0] == 202, imported

    # The import replaced the special days and kept the rest of the policy (phone still has no target).
    for _ in range(50):
        policy = await _get_policy(sla, auth)
        if policy.get("special_days"):
            break
        await asyncio.sleep(0.2)
    assert policy["special_days"] == [
        {"date": "2027-12-07", "hours": None, "holiday": True, "closed": []},
        {"date": "2027-12-24", "hours": ["09:00-13:00"], "holiday": None, "closed": []},
    ]
    assert policy["response"] == {"phone": None}
    assert policy["hours"] == OFFICE

    at = datetime(2027, 12, 24, 12, 45, tzinfo=ROME)
    producer = AIOKafkaProducer(bootstrap_servers=private_broker.bootstrap_servers, linger_ms=1)
    await producer.start()
    try:
        # Both into one partition, phone first: once the e-mail's clock is out, the phone message was read.
        for conversation, channel in (
            ("by-phone", common_pb2.CHANNEL_PHONE),
            ("by-email", common_pb2.CHANNEL_EMAIL),
        ):
            headers, value = envelope.encode(
                Envelope(str(uuid.uuid4()), "/test", TENANT, _received(conversation, channel), at)
            )
            await producer.send_and_wait(
                topics.INBOUND.name, value, key=conversation.encode(), headers=headers, partition=2
            )
    finally:
        await producer.stop()

    records = await read_records(private_broker.bootstrap_servers, topics.SLA.name, expect=2, timeout=60)
    events = [envelope.decode(r.headers, r.value).payload for r in records]
    [first] = [
        e
        for e in events
        if isinstance(e, events_pb2.SlaClockStarted) and e.metric == events_pb2.SLA_METRIC_FIRST_RESPONSE
    ]
    assert first.conversation_id == "by-email"
    assert first.deadline.ToDatetime(UTC) == datetime(2027, 12, 27, 9, 15, tzinfo=ROME).astimezone(UTC)
    assert first.opens_at.ToDatetime(UTC) == at.astimezone(UTC)
    assert {getattr(e, "conversation_id", "") for e in events} == {"by-email"}
