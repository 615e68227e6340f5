"""The SLA worker on the real broker, on a clock the test controls.

Time, for the worker, is what its input says: the events' own times and the
ticks on support.clocks.v1. The test writes both, for tomorrow in an Italian
shop with office hours, so the worker's own wall-clock ticks (every minute
here) never find anything due. It checks the events on support.sla.v1, the
Prometheus figures and the windows; then kills the worker with SIGKILL while
deadlines pass, restarts it and checks that each overdue breach fires once.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest
from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message
from prometheus_client.parser import text_string_to_metric_families

from pronto import envelope, topics
from pronto.envelope import Envelope
from pronto.kafka.reader import read_records
from pronto.v1 import common_pb2, events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import SlaService
from tests.support.webhooks import get
from tests.support.webhooks import post as put

pytestmark = pytest.mark.integration

ROME = ZoneInfo("Europe/Rome")
TENANT = "shop-t"
TOKENS = {TENANT: "shop-t-sla-token", "demo-shop": "demo-sla-token"}
POLICY = {
    TENANT: {
        "timezone": "Europe/Rome",
        "country": "IT",
        "hours": {day: ["09:00-13:00", "14:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
    }
}


def tomorrow_at(hour: int, minute: int = 0) -> datetime:
    """A working day after today, in Rome: the worker's wall clock is always before it. Not a weekend
    nor an Italian public holiday (on 8 December, a holiday, the shop's clocks would not run)."""
    closed = holidays.country_holidays("IT")
    day = datetime.now(ROME).date() + timedelta(days=1)
    while day.weekday() >= 5 or day in closed:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ROME)


def sla_env(tick_s: float) -> dict[str, str]:
    """The test shop's policy and tokens, and how often the worker's own timer ticks."""
    return {
        "PRONTO_SLA_POLICIES": json.dumps(POLICY),
        "PRONTO_SLA_TICK_S": str(tick_s),
        "PRONTO_SLA_TOKENS": json.dumps(TOKENS),
    }


@pytest.fixture
def sla(private_broker: EmbeddedBroker, tmp_path: Path) -> Iterator[SlaService]:
    service = SlaService(private_broker.bootstrap_servers, tmp_path / "sla.log", env=sla_env(60))
    service.start().wait_ready(timeout=60)
    yield service
    service.stop()


class Driver:
    """Writes the shop's events and the worker's ticks, each at the time the test says."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer

    async def send(
        self, topic: str, key: str, payload: Message, at: datetime, partition: int | None = None
    ) -> None:
        headers, value = envelope.encode(Envelope(str(uuid.uuid4()), "/test", TENANT, payload, at))
        await self.producer.send_and_wait(
            topic, value, key=key.encode(), headers=headers, partition=partition
        )

    async def message(self, conversation: str, at: datetime, channel: int = common_pb2.CHANNEL_EMAIL) -> None:
        received = events_pb2.MessageReceived(
            conversation_id=conversation,
            channel=channel,  # type: ignore[arg-type]
            sender=common_pb2.Sender(id=f"customer-{conversation}"),
            text="Dov'è il mio ordine?",
        )
        await self.send(topics.INBOUND.name, conversation, received, at)

    async def reply(self, conversation: str, at: datetime) -> None:
        replied = events_pb2.OperatorReplied(
            conversation_id=conversation, operator_id="giulia", text="Eccomi"
        )
        await self.send(topics.OUTBOUND.name, conversation, replied, at)

    async def tick(self, at: datetime) -> None:
        for partition in range(topics.CLOCKS.partitions):
            await self.send(topics.CLOCKS.name, "tick", events_pb2.SlaTick(), at, partition=partition)


async def sla_events(broker: EmbeddedBroker, expect: int, timeout: float = 60) -> dict[str, list[Envelope]]:
    """Conversation -> its distinct SLA events (by id), once ``expect`` distinct ones arrived."""
    deadline = time.monotonic() + timeout
    while True:
        records = await read_records(
            broker.bootstrap_servers, topics.SLA.name, expect=expect, timeout=5, settle=0.5
        )
        decoded = (envelope.decode(r.headers, r.value) for r in records)
        distinct = {event.id: event for event in decoded}
        if len(distinct) >= expect or time.monotonic() > deadline:
            by_conversation: dict[str, list[Envelope]] = defaultdict(list)
            for event in distinct.values():
                by_conversation[event.payload.conversation_id].append(event)  # type: ignore[attr-defined]
            return by_conversation
        await asyncio.sleep(0.5)


def kinds(events: list[Envelope]) -> Counter[tuple[str, int]]:
    return Counter((type(e.payload).__name__, e.payload.metric) for e in events)  # type: ignore[attr-defined]


FIRST = events_pb2.SLA_METRIC_FIRST_RESPONSE
RESOLUTION = events_pb2.SLA_METRIC_RESOLUTION


@pytest.mark.timeout(240)
async def test_clocks_warn_breach_meet_and_survive_a_kill(
    private_broker: EmbeddedBroker, sla: SlaService
) -> None:
    t0 = tomorrow_at(9)
    producer = AIOKafkaProducer(bootstrap_servers=private_broker.bootstrap_servers, linger_ms=1)
    await producer.start()
    try:
        shop = Driver(producer)
        # In time order, each step seen through before the next: ticks go straight to the worker's
        # input, while the shop's events take one hop more, and a partition's clock never goes back.
        await shop.message("met", t0)
        await shop.message("late", t0)
        await shop.message("chat", t0, channel=common_pb2.CHANNEL_WEB_CHAT)
        await sla_events(private_broker, expect=3 * 2)  # started: first response and resolution each
        # Routing says the chat customer waits five minutes: past the one-minute target already.
        queued = events_pb2.ConversationQueued(conversation_id="chat", channel=common_pb2.CHANNEL_WEB_CHAT)
        queued.estimated_wait.FromTimedelta(timedelta(minutes=5))
        await shop.send(topics.CONVERSATIONS.name, "chat", queued, t0 + timedelta(seconds=5))
        await shop.reply("met", t0 + timedelta(minutes=10))
        await sla_events(private_broker, expect=6 + 2)  # chat: predicted warning; met: met
        # Warnings and breaches fire once the fraction or the target is exceeded: a second after.
        await shop.tick(t0 + timedelta(minutes=24, seconds=1))
        await shop.tick(t0 + timedelta(minutes=30, seconds=1))
        # late: warned, breached; chat: first response breached, resolution (30 minutes) warned, breached
        await sla_events(private_broker, expect=8 + 5)
        await shop.reply("late", t0 + timedelta(minutes=45))
        await shop.message("lunch", t0.replace(hour=12, minute=50))
        await sla_events(private_broker, expect=13 + 1 + 2)  # late: missed; lunch: started x2
        # 10 minutes before lunch, 20 after it: 30 business minutes, just in time.
        await shop.reply("lunch", t0.replace(hour=14, minute=20))

        events = await sla_events(private_broker, expect=16 + 1)  # lunch: met
        assert kinds(events["met"]) == Counter(
            {("SlaClockStarted", FIRST): 1, ("SlaClockStarted", RESOLUTION): 1, ("SlaMet", FIRST): 1}
        )
        assert kinds(events["late"]) == Counter(
            {
                ("SlaClockStarted", FIRST): 1,
                ("SlaClockStarted", RESOLUTION): 1,
                ("SlaWarning", FIRST): 1,
                ("SlaBreached", FIRST): 1,
                ("SlaMissed", FIRST): 1,
            }
        )
        [missed] = [e.payload for e in events["late"] if isinstance(e.payload, events_pb2.SlaMissed)]
        assert missed.elapsed.ToTimedelta() == timedelta(minutes=45)
        [lunch] = [e.payload for e in events["lunch"] if isinstance(e.payload, events_pb2.SlaMet)]
        assert lunch.elapsed.ToTimedelta() == timedelta(minutes=30)
        [started] = [
            e.payload
            for e in events["met"]
            if isinstance(e.payload, events_pb2.SlaClockStarted) and e.payload.metric == FIRST
        ]
        assert started.deadline.ToDatetime(UTC) == (t0 + timedelta(minutes=30)).astimezone(UTC)
        assert started.business_time
        assert kinds(events["chat"]) == Counter(
            {
                ("SlaClockStarted", FIRST): 1,
                ("SlaClockStarted", RESOLUTION): 1,
                ("SlaWarning", FIRST): 1,
                ("SlaBreached", FIRST): 1,
                ("SlaWarning", RESOLUTION): 1,
                ("SlaBreached", RESOLUTION): 1,
            }
        )
        warnings = [
            e.payload
            for e in events["chat"]
            if isinstance(e.payload, events_pb2.SlaWarning) and e.payload.metric == FIRST
        ]
        assert [w.predicted for w in warnings] == [True]

        await _check_metrics(sla)
        await _check_windows(sla, t0)

        # Killed while deadlines pass: the ticks wait in the topic, the restarted worker fires them once.
        overdue = [f"k{n:02}" for n in range(20)]
        for conversation in overdue:  # after everything so far: a partition's clock never goes back
            await shop.message(conversation, t0.replace(hour=15))
        await sla_events(private_broker, expect=sum(map(len, events.values())) + 2 * len(overdue))
        sla.kill()
        await shop.tick(t0.replace(hour=15, minute=31))  # every k is past its 15:30 deadline
        sla.start().wait_ready(timeout=60)
        after = await sla_events(
            private_broker, expect=sum(map(len, events.values())) + 4 * len(overdue), timeout=90
        )
    finally:
        await producer.stop()
    for conversation in overdue:
        assert kinds(after[conversation]) == Counter(
            {
                ("SlaClockStarted", FIRST): 1,
                ("SlaClockStarted", RESOLUTION): 1,
                ("SlaWarning", FIRST): 1,
                ("SlaBreached", FIRST): 1,
            }
        ), conversation


def _sample(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    raise AssertionError(f"no sample {name} {labels}")


async def _check_metrics(sla: SlaService) -> None:
    status, body = await get(sla.http_url, "/metrics")
    assert status == 200
    text = body.decode()
    email = {"tenant": TENANT, "channel": "email", "metric": "first_response"}
    outcomes = "pronto_sla_outcomes_total"
    assert _sample(text, outcomes, **email, outcome="met") == 2
    assert _sample(text, outcomes, **email, outcome="warned") == 1
    assert _sample(text, outcomes, **email, outcome="breached") == 1
    assert _sample(text, outcomes, **email, outcome="missed") == 1
    assert _sample(text, "pronto_sla_response_seconds_count", **email) == 3
    assert _sample(text, "pronto_sla_response_seconds_bucket", **email, le="1800.0") == 2
    # The target beside the response times (dashboards draw it): e-mail's default, 30 minutes.
    assert _sample(text, "pronto_sla_target_seconds", **email) == 1800
    # What the consumers have not handled yet: nothing, once the clocks above are all there.
    assert _sample(text, "pronto_consumer_lag_records", topic="support.clocks.v1") == 0
    chat = {"tenant": TENANT, "channel": "web_chat", "metric": "first_response"}
    assert _sample(text, outcomes, **chat, outcome="predicted") == 1
    assert _sample(text, outcomes, **chat, outcome="breached") == 1
    # Breach-related observations carry the conversation as an exemplar (OpenMetrics only).
    open_metrics = await asyncio.to_thread(_openmetrics, f"{sla.http_url}/metrics")
    assert '# {conversation_id="late"}' in open_metrics


def _openmetrics(url: str) -> str:
    return _get_with(url, {"accept": "application/openmetrics-text; version=1.0.0"})[1]


def _get_with(url: str, headers: dict[str, str]) -> tuple[int, str]:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as response:
        return int(response.status), str(response.read().decode())


async def _check_windows(sla: SlaService, t0: datetime) -> None:
    at = (t0 + timedelta(hours=6)).isoformat().replace("+", "%2B")
    query = f"{sla.http_url}/v1/sla/windows?channel=email&size=1d&kind=tumbling&at={at}"
    mine = {"authorization": f"Bearer {TOKENS[TENANT]}"}
    status, answer = await asyncio.to_thread(_get_with, query, mine)
    assert status == 200, answer
    email = json.loads(answer)["channels"]["email"]
    assert (email["responses"], email["started"]) == (3, 3)
    assert email["compliance"] == pytest.approx(2 / 3)
    assert email["response_rate"] == 1.0
    assert email["p50_s"] == 1800.0
    # Another shop's token sees its own figures only: none here.
    theirs = {"authorization": f"Bearer {TOKENS['demo-shop']}"}
    _, others = await asyncio.to_thread(_get_with, query, theirs)
    assert json.loads(others)["channels"]["email"]["responses"] == 0
    assert await asyncio.to_thread(_status_of, query, {}) == 401
    assert await asyncio.to_thread(_status_of, query.replace("email", "fax"), mine) == 422


def _status_of(url: str, headers: dict[str, str]) -> int:
    try:
        return _get_with(url, headers)[0]
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.timeout(120)
async def test_a_shop_changes_its_policy_at_run_time(private_broker: EmbeddedBroker, sla: SlaService) -> None:
    auth = {"authorization": f"Bearer {TOKENS['demo-shop']}", "content-type": "application/json"}
    faster = {"timezone": "Europe/Rome", "response": {"email": {"minutes": 5, "business": False}}}

    unauthenticated = await put(sla.http_url, "/v1/admin/sla-policy", json.dumps(faster).encode(), {}, "PUT")
    invalid = await put(
        sla.http_url, "/v1/admin/sla-policy", json.dumps({"timezone": "Mars/Olympus"}).encode(), auth, "PUT"
    )
    changed = await put(sla.http_url, "/v1/admin/sla-policy", json.dumps(faster).encode(), auth, "PUT")
    # 202 says Kafka has the change; the policy in force is the one the worker applied, which takes
    # the worker's wait for more records (100 ms) and a fetch: read until it shows, for ten seconds.
    for _ in range(50):
        status, body = await asyncio.to_thread(_get_with, f"{sla.http_url}/v1/admin/sla-policy", auth)
        if "email" in json.loads(body)["response"]:
            break
        await asyncio.sleep(0.2)

    assert unauthenticated[0] == 401
    assert invalid[0] == 422
    assert "unknown time zone 'Mars/Olympus'" in json.dumps(invalid[1])
    assert changed[0] == 202, changed
    assert (status, json.loads(body)["response"]["email"]) == (200, {"minutes": 5.0, "business": False})

    producer = AIOKafkaProducer(bootstrap_servers=private_broker.bootstrap_servers, linger_ms=1)
    await producer.start()
    try:
        at = tomorrow_at(9)
        headers, value = envelope.encode(
            Envelope(
                str(uuid.uuid4()),
                "/test",
                "demo-shop",
                events_pb2.MessageReceived(
                    conversation_id="after",
                    channel=common_pb2.CHANNEL_EMAIL,
                    sender=common_pb2.Sender(id="x"),
                ),
                at,
            )
        )
        await producer.send_and_wait(topics.INBOUND.name, value, key=b"after", headers=headers)
    finally:
        await producer.stop()
    records = await read_records(
        private_broker.bootstrap_servers, topics.SLA.name, lambda r: r.key == b"after", expect=2, timeout=30
    )
    [first] = [
        p
        for p in (envelope.decode(r.headers, r.value).payload for r in records)
        if isinstance(p, events_pb2.SlaClockStarted) and p.metric == FIRST
    ]
    assert first.deadline.ToDatetime(UTC) == (at + timedelta(minutes=5)).astimezone(UTC)
    assert not first.business_time
