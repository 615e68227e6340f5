"""What delivery failures say: never the secret in a webhook's URL."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
import pytest
from aiohttp import web

from pronto.broker.embedded import free_port
from services.notify.delivery.adapters import DeliveryError, Outgoing, Slack

SECRET_PATH = "/services/T000/B000/SECRETTOKENXYZ"


async def test_a_failure_reason_names_the_host_not_the_secret_path() -> None:
    async def refuse(_request: web.Request) -> web.Response:
        return web.Response(status=404, text="no_service")

    app = web.Application()
    app.router.add_post(SECRET_PATH, refuse)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with aiohttp.ClientSession() as session:
            slack = Slack(session, f"http://127.0.0.1:{port}{SECRET_PATH}")
            message = Outgoing(
                "n1",
                "shop",
                "supervisor",
                "supervisors",
                "breach",
                "en",
                "x",
                "c1",
                "email",
                datetime.now(UTC),
            )
            with pytest.raises(DeliveryError) as failed:
                await slack.send(message)
    finally:
        await runner.cleanup()
    assert failed.value.permanent
    assert "SECRETTOKENXYZ" not in failed.value.reason
    assert f"127.0.0.1:{port}" in failed.value.reason
    assert "HTTP 404 no_service" in failed.value.reason
