"""The whole system on a broker of its own, for the fuzz suite (issue #26), and what ingest wrote.

Every HTTP port and the gRPC port are fuzzed against the same running system; the
services downstream of ingest (routing, SLA, notify, query) read whatever the fuzz
got accepted, so a hostile event that one of them cannot take shows up as a
service no longer ready.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from pronto import topics
from pronto.kafka.reader import header, read_records
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.broker.provision import provision
from pronto_tools.simulate.run import DEMO_CHANNEL_SECRETS
from pronto_tools.system import System, TenantSetup

TENANT = "fuzz-shop"
TOKEN = "fuzz-ingest-token-0123456789"
QUERY_TOKEN = "fuzz-query-token-0123456789"
SLA_TOKEN = "fuzz-sla-token-0123456789"
OPERATOR_TOKEN = "fuzz-operator-token-0123456789"
# Signs the web chat widget's event-stream tokens, so that the fuzz can open that stream too.
WEBCHAT_SECRET = "fuzz-webchat-secret-0123456789abcdef"
ALWAYS_OPEN = {
    "timezone": "Europe/Rome",
    "hours": {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
}
# What only ingest writes: every record here answers one request ingest acknowledged.
INGEST_TOPICS = (topics.INBOUND.name, topics.OPERATORS.name, topics.OUTBOUND.name)
# Where ingest also writes, beside other services: a webhook's delivery reports (statuses) and the
# parts of a delivery no parser could read (dead letters). Only ingest's own records are counted there.
SHARED_TOPICS = (topics.NOTIFICATIONS.name, topics.DEADLETTER.name)
INGEST_SOURCE = "/pronto/ingest/"


@dataclass
class Fuzzed:
    system: System
    bootstrap_servers: str

    async def written_ids(self) -> list[str]:
        """The event ids (``ce_id``) of every record on ingest's topics, repeats kept."""
        ids: list[str] = []
        for topic in INGEST_TOPICS:
            records = await read_records(self.bootstrap_servers, topic, timeout=5, settle=0.5)
            ids += [header(r, "ce_id") for r in records]
        return ids

    async def written_by_ingest(self, topic: str) -> list[str]:
        """The event ids of the records ingest wrote on ``topic`` (one of ``SHARED_TOPICS``)."""
        records = await read_records(self.bootstrap_servers, topic, timeout=5, settle=0.5)
        return [header(r, "ce_id") for r in records if header(r, "ce_source").startswith(INGEST_SOURCE)]

    async def new_ids(self, before: list[str], accepted: set[str], timeout: float = 20) -> list[str]:
        """The ids written since ``before`` was read, once every accepted one is readable (or
        ``timeout`` passed): the partial publishes and the extra ones both show in the result."""
        deadline = time.monotonic() + timeout
        while True:
            seen = Counter(before)
            new = []
            for event_id in await self.written_ids():
                if seen[event_id] > 0:
                    seen[event_id] -= 1
                else:
                    new.append(event_id)
            if accepted <= set(new) or time.monotonic() > deadline:
                return new
            await asyncio.sleep(0.5)


@pytest.fixture(scope="package")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    run_dir = tmp_path_factory.mktemp("fuzz")
    with EmbeddedBroker(log_path=run_dir / "tansu.log") as broker:
        provision(broker.bootstrap_servers)
        shop = TenantSetup(
            TENANT,
            TOKEN,
            DEMO_CHANNEL_SECRETS,
            ALWAYS_OPEN,
            inbox_port=0,
            query_token=QUERY_TOKEN,
            operator_tokens={"ada": OPERATOR_TOKEN},
            notify={"outbound": {"web_chat": {"secret": WEBCHAT_SECRET}}},
        )
        env = {"sla": {"PRONTO_SLA_TOKENS": json.dumps({TENANT: SLA_TOKEN})}}
        running = System(broker.bootstrap_servers, run_dir, shop, env=env, query=True).start()
        try:
            yield Fuzzed(running, broker.bootstrap_servers)
        finally:
            running.stop()
