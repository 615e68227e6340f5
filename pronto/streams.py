"""Faust apps configured for Pronto's brokers, the embedded one included.

The settings below are what DESIGN.md measured on the embedded broker
(Tansu): it holds a group join for half the session timeout and does not wake
a waiting fetch when data arrives. Faust hard-codes a 1.5 s fetch wait with no
setting for it, which makes every hop cost about 1.5 s there; ``_short_fetch_wait``
replaces it with ``fetch_wait_ms`` (20 ms by default).
"""

from __future__ import annotations

import functools
from typing import Any

import aiokafka
import faust
from faust.transport.drivers import aiokafka as faust_aiokafka

_fetch_wait_ms = 20


def _short_fetch_wait() -> None:
    """Make Faust's worker consumers wait ``_fetch_wait_ms`` for data instead of 1,500 ms."""
    thread_class = faust_aiokafka.AIOKafkaConsumerThread
    original = thread_class._create_worker_consumer
    if getattr(original, "pronto_patched", False):
        return

    @functools.wraps(original)
    def create(self: Any, transport: Any) -> aiokafka.AIOKafkaConsumer:
        consumer = original(self, transport)
        # Read by aiokafka when start() builds its fetcher, so setting it here takes effect.
        consumer._fetch_max_wait_ms = _fetch_wait_ms
        return consumer

    create.pronto_patched = True  # type: ignore[attr-defined]
    thread_class._create_worker_consumer = create  # type: ignore[method-assign]


def app(
    app_id: str,
    bootstrap_servers: str,
    *,
    fetch_wait_ms: int = 20,
    linger_ms: int = 5,
    session_timeout_s: float = 3.0,
    **settings: Any,
) -> faust.App:
    """A Faust app whose topics are provisioned by Pronto (never declared by Faust), values raw bytes."""
    global _fetch_wait_ms
    _fetch_wait_ms = fetch_wait_ms
    _short_fetch_wait()
    return faust.App(
        app_id,
        broker=[f"kafka://{server}" for server in bootstrap_servers.split(",")],
        key_serializer="raw",
        value_serializer="raw",
        store="memory://",
        topic_allow_declare=False,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=session_timeout_s,
        broker_heartbeat_interval=session_timeout_s / 6,
        broker_request_timeout=max(30.0, session_timeout_s * 2),
        broker_commit_interval=0.5,
        producer_linger=linger_ms / 1000,
        producer_acks=-1,
        stream_buffer_maxsize=65_536,
        consumer_max_fetch_size=4 * 1024 * 1024,
        stream_wait_empty=False,
        # Services serve /metrics, /healthz and /readyz themselves (pronto.ops), like the others.
        web_enabled=False,
        **settings,
    )
