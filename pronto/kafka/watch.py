"""Whether Kafka answers, asked every few seconds: what a service's readiness says about the broker.

A Faust worker whose broker has died keeps its partitions and its state, and would go on
saying it is ready while it can neither read nor write (issue #26: the demo's routing, SLA,
notify and query all stayed ready). ``BrokerWatch`` asks for the cluster's metadata on a
connection of its own every ``every_s`` and remembers whether an answer came within
``timeout_s``; the service's ``/readyz`` includes it, and the log says so once per change.
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaClient
from aiokafka.errors import KafkaError

log = logging.getLogger("pronto.kafka")


class BrokerWatch:
    def __init__(self, bootstrap_servers: str, every_s: float = 2.0, timeout_s: float = 3.0) -> None:
        self.bootstrap_servers, self.every_s, self.timeout_s = bootstrap_servers, every_s, timeout_s
        self.answers = False
        self._answered_once = False

    async def run(self) -> None:
        client = AIOKafkaClient(
            bootstrap_servers=self.bootstrap_servers, request_timeout_ms=int(self.timeout_s * 1000)
        )
        try:
            while True:
                self._heard(await self._ask(client))
                await asyncio.sleep(self.every_s)
        finally:
            await client.close()

    async def _ask(self, client: AIOKafkaClient) -> bool:
        try:
            if not self._answered_once:
                await asyncio.wait_for(client.bootstrap(), self.timeout_s)
            return bool(await asyncio.wait_for(client.force_metadata_update(), self.timeout_s))
        except (TimeoutError, KafkaError, OSError):
            return False

    def _heard(self, answered: bool) -> None:
        if answered and not self.answers and self._answered_once:
            log.warning("Kafka at %s answers again", self.bootstrap_servers)
        elif not answered and self.answers:
            log.error("Kafka at %s does not answer: not ready until it does", self.bootstrap_servers)
        self.answers = answered
        self._answered_once = self._answered_once or answered
