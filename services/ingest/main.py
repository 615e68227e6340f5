"""Wiring and process lifecycle of the ingest service (``pronto-ingest``)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health
from prometheus_client import CollectorRegistry

from pronto.auth import TokenAuthenticator
from pronto.entrypoint import settings_or_exit
from pronto.errors import BrokerIncompatible, BrokerUnavailable
from pronto.kafka.producer import EventProducer, Receipt
from pronto.logs import limit_repeats
from pronto.metrics import ServiceMetrics
from pronto.ops import serve_http
from pronto.tracing import Tracer
from services.ingest import grpc_api, http_api
from services.ingest.application import Ingest
from services.ingest.channels.enrich import Enricher
from services.ingest.channels.language import LanguageDetector
from services.ingest.dedupe import RecentEvents
from services.ingest.operator_rest import OperatorRest
from services.ingest.settings import IngestSettings
from services.ingest.verdicts import Verdicts
from services.ingest.webhooks import Webhooks

log = logging.getLogger("pronto.ingest")
SERVICE = "ingest"


@dataclass
class IngestProcess:
    """Everything the running service holds, built in one place."""

    settings: IngestSettings
    producer: EventProducer
    webhooks: Webhooks
    operators: OperatorRest
    grpc_server: grpc.aio.Server
    health: health.aio.HealthServicer
    registry: CollectorRegistry
    verdicts: Verdicts
    grpc_port: int = 0
    # Why the process gave up, when it did: a misconfiguration retrying cannot fix.
    fatal: str = ""


def bootstrap(settings: IngestSettings) -> IngestProcess:
    registry = CollectorRegistry()
    metrics = ServiceMetrics(SERVICE, registry)
    producer = EventProducer(
        settings.bootstrap_servers,
        f"pronto-{SERVICE}",
        metrics,
        settings.ingest_ack_timeout_s,
        settings.ingest_linger_ms,
        idempotent=settings.kafka_idempotent,
    )
    verdicts = Verdicts(settings.bootstrap_servers)
    ingest = Ingest(
        producer,
        RecentEvents[Receipt](settings.ingest_dedupe_capacity),
        metrics,
        Tracer(SERVICE),
        source=f"/pronto/{SERVICE}/{settings.instance}",
        ack_timeout_s=settings.ingest_ack_timeout_s,
        verdicts=verdicts,
        transfer_timeout_s=settings.ingest_transfer_timeout_s,
    )
    auth = TokenAuthenticator(settings.ingest_tokens)
    server, health_servicer = grpc_api.build_server(
        ingest,
        auth,
        metrics,
        settings.ingest_retry_after_s,
        settings.ingest_stream_window,
    )
    webhooks = Webhooks(
        ingest=ingest,
        channels=settings.ingest_channels,
        enricher=Enricher(LanguageDetector(settings.ingest_languages)),
        metrics=metrics,
        max_body_bytes=settings.ingest_max_body_bytes,
        retry_after_s=settings.ingest_retry_after_s,
        public_url=settings.ingest_public_url,
        phone_language=settings.ingest_phone_language or (settings.ingest_languages or ["en"])[0],
        phone_languages=settings.ingest_phone_languages,
    )
    operators = OperatorRest(ingest, auth, settings.ingest_retry_after_s)
    return IngestProcess(settings, producer, webhooks, operators, server, health_servicer, registry, verdicts)


async def connect_producer(process: IngestProcess, stop: asyncio.Event) -> None:
    """Connect to Kafka, retrying until it answers; until then requests get UNAVAILABLE."""
    delay = 0.2
    while not stop.is_set():
        try:
            await process.producer.start()
        except BrokerIncompatible as exc:
            log.critical("%s", exc)
            process.fatal = str(exc)
            stop.set()
            return
        except BrokerUnavailable as exc:
            log.warning("%s; retrying in %.1f s", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
            continue
        await grpc_api.set_serving(process.health, True)
        log.info("connected to Kafka at %s", process.settings.bootstrap_servers)
        await watch_broker(process, stop)
        return


async def watch_broker(process: IngestProcess, stop: asyncio.Event, interval_s: float = 1.0) -> None:
    """Keep readiness and gRPC health true to whether Kafka answers, so load balancers can act on it."""
    reachable = True
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)
        now = await process.producer.check_broker()
        if now != reachable:
            reachable = now
            await grpc_api.set_serving(process.health, reachable)
            if reachable:
                log.info("Kafka at %s answers again", process.settings.bootstrap_servers)
            else:
                log.warning("Kafka at %s does not answer: not ready", process.settings.bootstrap_servers)


async def run(settings: IngestSettings, stop: asyncio.Event, started: asyncio.Event | None = None) -> str:
    """Serve until ``stop`` is set; return why the service gave up, or "" after a normal stop."""
    process = bootstrap(settings)
    await grpc_api.set_serving(process.health, False)
    process.grpc_port = process.grpc_server.add_insecure_port(
        f"{settings.ingest_grpc_host}:{settings.ingest_grpc_port}"
    )
    await process.grpc_server.start()
    app = http_api.create_app(
        process.registry,
        lambda: process.producer.started and process.producer.reachable,
        process.webhooks,
        process.operators,
    )
    # Webhook bodies may be larger than the common limit (PRONTO_INGEST_MAX_BODY_BYTES).
    limits = settings.http_limits(settings.ingest_max_body_bytes)
    http = asyncio.create_task(
        serve_http(app, settings.ingest_http_host, settings.ingest_http_port, stop, limits)
    )
    connecting = asyncio.create_task(connect_producer(process, stop))
    log.info(
        "ingest serving gRPC on %s:%d and HTTP (/metrics /healthz /readyz) on %s:%d",
        settings.ingest_grpc_host,
        process.grpc_port,
        settings.ingest_http_host,
        settings.ingest_http_port,
    )
    # Everything allocated so far lives as long as the process: keep the collector off it, and
    # collect the young generation less often (each event allocates a few dozen objects).
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    if started is not None:
        started.set()
    await stop.wait()
    log.info("stopping: finishing in-flight requests")
    connecting.cancel()
    await grpc_api.set_serving(process.health, False)
    await process.grpc_server.stop(grace=5)
    await process.producer.stop()
    await process.verdicts.stop()
    await http
    return process.fatal


def main() -> None:
    settings = settings_or_exit(IngestSettings, "pronto-ingest")
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    limit_repeats()

    async def _main() -> str:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await run(settings, stop)

    if asyncio.run(_main()):
        sys.exit(2)


if __name__ == "__main__":
    main()
