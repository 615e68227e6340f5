"""Whether Kafka answers, asked every few seconds: what a service's readiness says about the broker.

A Faust worker whose broker has died keeps its partitions and its state, and would go on
saying it is ready while it can neither read nor write (issue #26: the demo's routing, SLA,
notify and query all stayed ready). ``BrokerWatch`` asks for the cluster's metadata on a
connection of its own every ``every_s`` and says the broker is away after ``misses`` questions
in a row went unanswered within ``timeout_s`` (one slow answer on a loaded machine is not an
outage); the service's ``/readyz`` includes it, and the log says so once per change.
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaClient

log = logging.getLogger("pronto.kafka")


class BrokerWatch:
    def __init__(
        self, bootstrap_servers: str, every_s: float = 2.0, timeout_s: float = 3.0, misses: int = 2
    ) -> None:
        self.bootstrap_servers, self.every_s, self.timeout_s = bootstrap_servers, every_s, timeout_s
        self.misses = misses
        self.answers = False
        self._missed = 0
        self._answered_once = False
        self._client: AIOKafkaClient | None = None

    async def run(self) -> None:
        try:
            while True:
                self._heard(await self._ask())
                await asyncio.sleep(self.every_s)
        finally:
            await self._drop_client()

    async def _ask(self) -> bool:
        try:
            if self._client is None:
                self._client = AIOKafkaClient(
                    bootstrap_servers=self.bootstrap_servers, request_timeout_ms=int(self.timeout_s * 1000)
                )
                await asyncio.wait_for(self._client.bootstrap(), self.timeout_s)
            return bool(await asyncio.wait_for(self._client.force_metadata_update(), self.timeout_s))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # refused, timed out, or anything else: not an answer
            log.debug("Kafka at %s: no answer (%s)", self.bootstrap_servers, type(exc).__name__)
            # A client that never bootstrapped may hold a half-open connection: start afresh.
            if self._client is not None and not self._client.cluster.brokers():
                await self._drop_client()
            return False

    async def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                await client.close()
            except Exception:  # closing what failed to open
                log.debug("closing the watch's Kafka client failed", exc_info=True)

    def _heard(self, answered: bool) -> None:
        self._missed = 0 if answered else self._missed + 1
        if answered and not self.answers:
            if self._answered_once:
                log.warning("Kafka at %s answers again", self.bootstrap_servers)
            self.answers = self._answered_once = True
        elif self.answers and self._missed >= self.misses:
            log.error("Kafka at %s does not answer: not ready until it does", self.bootstrap_servers)
            self.answers = False
        elif not self._answered_once and self._missed == self.misses:
            log.warning("Kafka at %s does not answer yet: not ready", self.bootstrap_servers)
