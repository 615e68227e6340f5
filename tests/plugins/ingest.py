"""A real ingest process (its gRPC and HTTP servers on loopback) against the session broker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import IngestService

TOKENS = {"shop-a": "token-a-0123456789abcdefgh", "shop-b": "token-b-0123456789abcdefgh"}
# The channel secrets of shop-a, for the webhook tests (tests/support/webhooks.py signs with them).
CHANNEL_SECRETS = {
    "shop_key": "shop-key-3b9f",
    "meta_app_secret": "meta-app-secret-51c2",
    "meta_verify_token": "meta-verify-7Qm2",
    "telegram_secret_token": "telegram-secret-9d1e",
    "viber_auth_token": "viber-token-44af",
    "x_consumer_secret": "x-consumer-secret-8e0b",
    "email_token": "email-token-2c7d",
    "mailgun_signing_key": "mailgun-key-6a13",
    "twilio_auth_token": "twilio-token-f0e5",
}


def bearer(tenant: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {TOKENS[tenant]}"),)


def start_ingest(bootstrap_servers: str, log_path: Path, **env: str) -> IngestService:
    # The embedded broker cannot start idempotent producers (see README).
    settings = {
        "PRONTO_KAFKA_IDEMPOTENT": "false",
        "PRONTO_INGEST_TOKENS": json.dumps(TOKENS),
        # shop-fuzz: the same secrets, so that the property tests never write the ids other tests expect.
        "PRONTO_INGEST_CHANNELS": json.dumps(
            {
                "shop-a": CHANNEL_SECRETS,
                "shop-fuzz": CHANNEL_SECRETS,
                "shop-pl": CHANNEL_SECRETS,
                "shop-b": {},
            }
        ),
        # shop-pl's phone line speaks Polish; the others the first of the languages, Italian.
        "PRONTO_INGEST_PHONE_LANGUAGES": json.dumps({"shop-pl": "pl"}),
        "PRONTO_INGEST_MAX_BODY_BYTES": str(64 * 1024),
        **env,
    }
    service = IngestService(bootstrap_servers, log_path, env=settings)
    service.start().wait_ready()
    return service


@pytest.fixture(scope="session")
def ingest(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[IngestService]:
    service = start_ingest(broker.bootstrap_servers, tmp_path_factory.mktemp("ingest") / "ingest.log")
    try:
        yield service
    finally:
        service.stop()
