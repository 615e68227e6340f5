"""Each service killed with SIGKILL in the middle of 10,000 messages, then restarted; the broker frozen.

10,000 customer messages in 2,000 conversations go in over gRPC at 400/s; when 3,000 were accepted
the service under test is killed and started again. Afterwards every conversation has exactly one
assignment, exactly one first-response outcome (a breach: nobody answers, the target is 20 s), and
its customer was told who answers exactly once: a restarted worker may process records again, but
what it emits carries the same event ids, and notify sends one notification per trigger.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter, defaultdict
from pathlib import Path

import aiohttp
import pytest

from pronto import envelope, topics
from pronto.grpc_client import ProntoClient
from pronto.kafka.reader import Record, header, read_records
from pronto.v1 import common_pb2, events_pb2, operator_pb2
from pronto_tools.simulate.channels import CustomerMessage, webhook_request
from pronto_tools.simulate.run import DEMO_CHANNEL_SECRETS
from pronto_tools.simulate.team import roster
from tests.e2e.conftest import TENANT, TOKEN, Running, whole_system
from tests.e2e.publishing import publish_all
from tests.support.events import message
from tests.support.metrics import metric_sum
from tests.support.receivers import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MESSAGES = 10_000
CONVERSATIONS = 2_000
RATE = 400.0
KILL_AT = 3_000
TARGET_S = 20
FAST_BREACHES = {
    "timezone": "Europe/Rome",
    "response": {c: {"minutes": TARGET_S / 60, "business": False} for c in ("web_chat", "email", "whatsapp")},
}
CHANNELS = (common_pb2.CHANNEL_WEB_CHAT, common_pb2.CHANNEL_EMAIL, common_pb2.CHANNEL_WHATSAPP)
# Nobody answers in this test: routing must not take conversations back for silence.
ENV = {"routing": {"PRONTO_ROUTING_REPLY_WITHIN_S": "{}"}}
# "after": every folding service checkpoints every 100 input records, so the kill lands after
# snapshots and the restart loads one; "before": the default interval, so it lands before any.
SNAPSHOTS = {
    "before": {},
    "after": {"PRONTO_SNAPSHOT_EVERY_RECORDS": "100"},
}


def _messages() -> list[events_pb2.MessageReceived]:
    return [
        message(
            f"fault-{n % CONVERSATIONS}",
            n,
            channel=CHANNELS[n % CONVERSATIONS % len(CHANNELS)],
            sender=common_pb2.Sender(id=f"customer-{n % CONVERSATIONS}", display_name="Giulia Rossi"),
        )
        for n in range(MESSAGES)
    ]


async def _team_online(running: Running) -> None:
    """Ten operators; the five who speak Italian have room for every conversation of the run."""
    async with ProntoClient(running.system.ingest.grpc_target, TOKEN) as client:
        for profile in roster(10, capacity=CONVERSATIONS // 10):
            await client.operators.UpdateOperatorProfile(
                operator_pb2.UpdateOperatorProfileRequest(profile=profile), metadata=client.metadata
            )
            await client.operators.SetOperatorStatus(
                operator_pb2.SetOperatorStatusRequest(
                    operator_id=profile.operator_id, status=events_pb2.OPERATOR_STATUS_ONLINE
                ),
                metadata=client.metadata,
            )


def _events(records: list[Record], kind: type) -> dict[str, list[str]]:
    """Conversation -> ids of the events of ``kind`` (one per record: a record read twice shows twice)."""
    found: dict[str, list[str]] = defaultdict(list)
    for record in records:
        event = envelope.decode(record.headers, record.value)
        if isinstance(event.payload, kind):
            found[event.payload.conversation_id].append(event.id)  # type: ignore[attr-defined]
    return found


def _retries(running: Running) -> float:
    """The deliveries notify counted as failed and to be retried."""
    return metric_sum(running.system.notify.http_url, "pronto_notify_retries_total")


def _distinct(events: dict[str, list[str]]) -> Counter[int]:
    """How many conversations have how many distinct events: {1: 2000} is one each."""
    return Counter(len(set(ids)) for ids in events.values())


@pytest.mark.parametrize(
    ("victim", "snapshots"),
    [("ingest", "before")]
    + [(v, when) for v in ("routing", "sla", "notify") for when in ("before", "after")],
)
async def test_a_service_killed_mid_run_changes_no_outcome(
    victim: str, snapshots: str, tmp_path: Path
) -> None:
    env = {name: {**ENV.get(name, {}), **SNAPSHOTS[snapshots]} for name in ("routing", "sla", "notify")}
    with whole_system(tmp_path, FAST_BREACHES, env) as running:
        await _team_online(running)
        service = running.system.named(victim)
        killed: list[float] = []

        async def maybe_kill(accepted: int) -> None:
            if accepted >= KILL_AT and not killed:
                killed.append(time.monotonic())
                service.kill()
                service.start()
                if victim != "ingest":  # the publisher's retries wait for ingest themselves
                    await asyncio.to_thread(service.wait_ready, 90)

        accepted = await publish_all(
            running.system.ingest.grpc_target, TOKEN, _messages(), RATE, on_accepted=maybe_kill
        )
        assert killed, "the service was never killed"
        if victim != "ingest":
            loaded = re.search(
                r"snapshot of offset [1-9]\d* loaded", (tmp_path / f"{victim}.log").read_text()
            )
            assert bool(loaded) == (snapshots == "after"), f"{victim} restarted {snapshots} snapshots?"
        assert len(accepted) == MESSAGES
        servers = running.bootstrap_servers

        # Every message is stored; a restarted ingest may have written a message again, with its id.
        inbound = await read_records(servers, topics.INBOUND.name, expect=MESSAGES, timeout=60)
        assert {header(r, "ce_id") for r in inbound} == set(accepted.values())

        # Every first-response outcome; the breaches come last (20 s after their clock), so reading
        # until all 2,000 are found reads the whole topic, any met or missed included.
        outcomes = await read_records(
            servers,
            topics.SLA.name,
            lambda r: header(r, "ce_type").rsplit(".", 1)[-1] in ("SlaBreached", "SlaMet", "SlaMissed"),
            expect=CONVERSATIONS,
            timeout=TARGET_S + 120,
            settle=3,
        )
        assert _distinct(_events(outcomes, events_pb2.SlaBreached)) == {1: CONVERSATIONS}
        assert not _events(outcomes, events_pb2.SlaMet)
        assert not _events(outcomes, events_pb2.SlaMissed)

        assignments = await read_records(
            servers,
            topics.CONVERSATIONS.name,
            lambda r: (
                header(r, "ce_type").rsplit(".", 1)[-1] in ("ConversationAssigned", "ConversationReassigned")
            ),
            expect=CONVERSATIONS,
            timeout=60,
            settle=3,
        )
        assert _distinct(_events(assignments, events_pb2.ConversationAssigned)) == {1: CONVERSATIONS}
        assert not _events(assignments, events_pb2.ConversationReassigned)

        def told() -> dict[str, list[str]]:
            found: dict[str, list[str]] = defaultdict(list)
            for r in running.receiver.answered("/ok/customers"):
                if r.json["kind"] == "assigned":
                    found[r.json["conversation_id"]].append(r.headers["Idempotency-Key"])
            return found

        wait_for(lambda: len(told()) == CONVERSATIONS, 120, "every customer told who answers")
        await asyncio.sleep(2)  # anything sent twice would arrive now
        assert _distinct(told()) == {1: CONVERSATIONS}, "a customer was told twice (two notifications)"
        resent = sum(len(keys) - 1 for keys in told().values())
        # A re-send carries the same key to dedupe on, and is one of two things: a retry notify
        # counted (an attempt that failed or timed out: a starved receiver on a busy machine), or
        # what was on the wire when notify itself died. Never a notification decided twice.
        retried = _retries(running)
        on_the_wire = 0 if victim != "notify" else 32
        assert resent <= retried + on_the_wire, f"{resent} re-sent, {retried} retries counted"


async def test_a_frozen_broker_gives_503_and_every_message_is_routed_once(tmp_path: Path) -> None:
    """Frozen (SIGSTOP), the broker keeps its records but answers nothing, like a partitioned node.

    A stopped embedded broker would lose its records (memory only), so freezing is how "nothing
    accepted is lost" can be checked here; ingest's answer to a stopped broker is tested in
    tests/integration/ingest/test_broker_down.py.
    """
    with whole_system(tmp_path, env={"ingest": {"PRONTO_INGEST_ACK_TIMEOUT_S": "2"}}) as running:
        await _team_online(running)
        ingest = running.system.ingest
        statuses: Counter[int] = Counter()
        accepted: set[str] = set()
        refused: list[int] = []

        async def post(http: aiohttp.ClientSession, n: int) -> None:
            customer = CustomerMessage(
                "web_chat", f"frozen-{n}", "Giulia Rossi", "Dov'è il mio ordine?", f"fm-{n}", time.time()
            )
            request = webhook_request(TENANT, customer, DEMO_CHANNEL_SECRETS, ingest.http_url)
            async with http.post(
                ingest.http_url + request.path, data=request.body, headers=request.headers
            ) as response:
                statuses[response.status] += 1
                if response.status == 200:
                    accepted.update((await response.json())["event_ids"])
                    return
                assert response.status == 503, await response.text()
                assert "Retry-After" in response.headers
                refused.append(n)

        async with aiohttp.ClientSession() as http:
            await asyncio.gather(*(post(http, n) for n in range(50)))
            running.broker.pause()
            try:
                await asyncio.gather(*(post(http, n) for n in range(50, 60)))
            finally:
                running.broker.resume()
            assert statuses[503] == 10, f"ingest did not answer 503 while the broker was frozen: {statuses}"
            # As the platforms do: the refused webhooks again, the same bodies, after Retry-After.
            while refused:
                await asyncio.sleep(1)
                again, refused[:] = list(refused), []
                await asyncio.gather(*(post(http, n) for n in again))
            await asyncio.gather(*(post(http, n) for n in range(60, 110)))
        assert len(accepted) == 110
        inbound = await read_records(running.bootstrap_servers, topics.INBOUND.name, expect=len(accepted))
        # A write refused for want of an acknowledgement may still land when the broker wakes, beside its
        # retry (no idempotent producer on the embedded broker): then twice, with the same id, which is
        # what every consumer deduplicates on; the assignments below show it.
        assert {header(r, "ce_id") for r in inbound} == accepted
        conversations = await read_records(
            running.bootstrap_servers,
            topics.CONVERSATIONS.name,
            lambda r: header(r, "ce_type").endswith("ConversationAssigned"),
            expect=len(accepted),
            timeout=60,
        )
        assert _distinct(_events(conversations, events_pb2.ConversationAssigned)) == {1: len(accepted)}
