"""Fixtures for the notify integration tests: the reply tests' broker, ingest, notify and fake platforms.

``running`` is module-scoped, as it was in the single reply test module: each test module that asks
for it gets its own system (started once, stopped after that module's last test).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.broker.provision import provision
from pronto_tools.services import IngestService, NotifyService
from tests.integration.notify.replies_system import (
    HOOK_SECRET,
    SHOP_SENDER,
    TENANT,
    TOKEN,
    WIDGET_SECRET,
    Running,
)
from tests.plugins.ingest import CHANNEL_SECRETS
from tests.support import platforms
from tests.support.platforms import fake_platforms
from tests.support.receivers import http_receiver, smtp_server


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    run_dir = tmp_path_factory.mktemp("replies")
    with (
        EmbeddedBroker(log_path=run_dir / "tansu.log") as broker,
        fake_platforms() as fakes,
        smtp_server() as mailbox,
        http_receiver() as receiver,
    ):
        provision(broker.bootstrap_servers)
        shop = {
            "name": "Negozio Rossi",
            "timezone": "Europe/Rome",
            "outbound": platforms.outbound(fakes, SHOP_SENDER, WIDGET_SECRET),
            "customer_webhooks": {"*": {"url": receiver.url("/ok/customers"), "secret": HOOK_SECRET}},
            "operator_default": {"webhook": {"url": receiver.url("/ok/operators"), "secret": HOOK_SECRET}},
        }
        common = {"PRONTO_KAFKA_IDEMPOTENT": "false"}
        ingest = IngestService(
            broker.bootstrap_servers,
            run_dir / "ingest.log",
            env={
                **common,
                "PRONTO_INGEST_TOKENS": json.dumps({TENANT: TOKEN}),
                "PRONTO_INGEST_CHANNELS": json.dumps({TENANT: CHANNEL_SECRETS}),
            },
        )
        notify = NotifyService(
            broker.bootstrap_servers,
            run_dir / "notify.log",
            env={
                **common,
                "PRONTO_NOTIFY_SHOPS": json.dumps({TENANT: shop}),
                "PRONTO_NOTIFY_SMTP_PORT": str(mailbox.port),
                "PRONTO_NOTIFY_ATTEMPTS": "3",
                "PRONTO_NOTIFY_BACKOFF_INITIAL_S": "0.2",
                "PRONTO_NOTIFY_JOURNAL": str(run_dir / "notify.journal"),
            },
        )
        try:
            ingest.start()
            notify.start()
            ingest.wait_ready(60)
            notify.wait_ready(60)
            yield Running(broker, ingest, notify, fakes, mailbox, receiver)
        finally:
            notify.stop()
            ingest.stop()
