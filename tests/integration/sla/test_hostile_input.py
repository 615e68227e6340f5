"""SLA against hostile input (issue #26, defect 4), through the real HTTP server and broker.

A policy the worker could not use (never open, absurd or non-finite targets)
is refused at the door with a 422 that names the field; a window asked for at
the ends of time is a 422, not a 500; and an event the worker still cannot
process (a policy written past the API, a record it cannot read) is counted,
logged and dead-lettered with the reason instead of vanishing.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from pronto import envelope, topics
from pronto.kafka.reader import read_records
from pronto.v1 import common_pb2, events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import SlaService
from tests.integration.sla.test_sla_worker import TENANT, TOKENS, Driver, sla_env, tomorrow_at
from tests.support.webhooks import get, post

pytestmark = pytest.mark.integration

AUTH = {"authorization": f"Bearer {TOKENS[TENANT]}", "content-type": "application/json"}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NEVER_OPEN = {"closures": [["0001-01-01", "9999-12-31"]]}


def _sundays_closed(years: int) -> list[list[str]]:
    """Every Sunday of the coming ``years`` as a one-day closure, from next January."""
    january = date(datetime.now(UTC).year + 1, 1, 1)
    sunday = january + timedelta(days=6 - january.weekday())
    return [[str(sunday + timedelta(weeks=n))] * 2 for n in range(years * 53)]


SUNDAYS_CLOSED = _sundays_closed(2)


@pytest.fixture
def sla(private_broker: EmbeddedBroker, tmp_path: Path) -> Iterator[SlaService]:
    service = SlaService(private_broker.bootstrap_servers, tmp_path / "sla.log", env=sla_env(0.2))
    service.start().wait_ready(timeout=60)
    yield service
    service.stop()


async def _put(sla: SlaService, body: bytes) -> tuple[int, str]:
    status, answer = await post(sla.http_url, "/v1/admin/sla-policy", body, AUTH, "PUT")
    return status, json.dumps(answer)


@pytest.mark.timeout(120)
async def test_a_policy_the_worker_cannot_use_is_refused_naming_the_field(sla: SlaService) -> None:
    refused = {
        "closures": json.dumps(NEVER_OPEN).encode(),
        "closures ": json.dumps({"closures": [["2027-01-01", "2028-01-01"]]}).encode(),
        "hours": json.dumps({"hours": {day: [] for day in WEEKDAYS}}).encode(),
        "minutes": json.dumps({"response": {"email": {"minutes": 1e308}}}).encode(),
        # Python's json writes (and FastAPI reads) the non-standard NaN and Infinity literals.
        "minutes ": b'{"response": {"email": {"minutes": NaN}}}',
        " minutes": b'{"resolution": {"phone": {"minutes": Infinity}}}',
        # Open on Sundays only, and every Sunday of two years closed one by one: no closure is long,
        # yet the calendar as a whole never opens for a year.
        "calendar": json.dumps({"hours": {"sun": ["00:00-24:00"]}, "closures": SUNDAYS_CLOSED}).encode(),
        # Pause states (issue #21): a state or metric it does not know.
        "pause_states": json.dumps({"pause_states": {"waiting": ["resolution"]}}).encode(),
        "pause_states ": json.dumps({"pause_states": {"on_hold": ["first_reply"]}}).encode(),
    }
    for field, body in refused.items():
        status, answer = await _put(sla, body)
        assert status == 422, (field, status, answer)
        assert field.strip() in answer, (field, answer)

    for at in ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"):
        status, raw = await _get(sla, f"/v1/sla/windows?at={quote(at)}")
        assert status == 422, (at, status, raw)
        assert b"at" in raw

    # Nothing refused was taken; the server still answers, and a sound policy is accepted.
    status, raw = await _get(sla, "/v1/admin/sla-policy")
    assert status == 200
    assert json.loads(raw)["timezone"] == "Europe/Rome"
    sound = {"timezone": "Europe/Rome", "response": {"email": {"minutes": 60 * 24 * 30}}}
    assert (await _put(sla, json.dumps(sound).encode()))[0] == 202


async def _get(sla: SlaService, path: str) -> tuple[int, bytes]:
    return await asyncio.to_thread(_get_now, sla.http_url + path)


def _get_now(url: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"authorization": AUTH["authorization"]})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, bytes(exc.read())


@pytest.mark.timeout(180)
async def test_what_the_worker_cannot_process_is_counted_and_dead_lettered(
    private_broker: EmbeddedBroker, sla: SlaService, tmp_path: Path
) -> None:
    servers = private_broker.bootstrap_servers
    before = len(await read_records(servers, topics.DEADLETTER.name, timeout=2, settle=0))
    producer = AIOKafkaProducer(bootstrap_servers=servers, linger_ms=1)
    await producer.start()
    try:
        shop = Driver(producer)
        at = tomorrow_at(9)
        # A policy that never opens, written past the API (as an older version accepted it), on
        # every partition as the API writes it; then a record nobody can read.
        never_open = events_pb2.SlaPolicyChanged(policy_json=json.dumps(NEVER_OPEN))
        for partition in range(topics.CLOCKS.partitions):
            await shop.send(topics.CLOCKS.name, TENANT, never_open, at, partition=partition)
        await producer.send_and_wait(topics.CLOCKS.name, b"not an event", key=b"junk", partition=0)
        await shop.message("after-bad-policy", at)
    finally:
        await producer.stop()

    expected = topics.CLOCKS.partitions + 1
    letters = await read_records(servers, topics.DEADLETTER.name, expect=before + expected, timeout=30)
    dead = [envelope.decode(r.headers, r.value) for r in letters[before:]]
    reasons = [e.payload.reason for e in dead if isinstance(e.payload, events_pb2.RecordDeadLettered)]
    assert len(reasons) == expected, dead
    assert sum("closures" in r and "never open" in r for r in reasons) == topics.CLOCKS.partitions, reasons
    assert sum("cannot read" in r for r in reasons) == 1, reasons
    [junk] = [
        e.payload
        for e in dead
        if isinstance(e.payload, events_pb2.RecordDeadLettered) and "cannot read" in e.payload.reason
    ]
    assert junk.value == b"not an event"
    assert junk.processor == "sla"

    # The shop's clocks go on under the policy it had: the bad change was not applied.
    started = await read_records(
        servers, topics.SLA.name, lambda r: r.key == b"after-bad-policy", expect=2, timeout=30
    )
    assert {type(envelope.decode(r.headers, r.value).payload).__name__ for r in started} == {
        "SlaClockStarted"
    }
    [first] = [
        p
        for p in (envelope.decode(r.headers, r.value).payload for r in started)
        if isinstance(p, events_pb2.SlaClockStarted) and p.metric == events_pb2.SLA_METRIC_FIRST_RESPONSE
    ]
    assert first.channel == common_pb2.CHANNEL_EMAIL
    assert first.business_time

    status, body = await get(sla.http_url, "/metrics")
    assert status == 200
    counted = [
        s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
        if s.name == "pronto_sla_invalid_records_total"
    ]
    assert counted == [expected]
    log = (tmp_path / "sla.log").read_text()
    assert log.count("dead-lettered") >= expected, log[-2000:]
