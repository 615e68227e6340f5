"""Each adapter against a real loopback server: what is final, what is retried, what a reason says."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiosmtpd.controller import Controller

from pronto_tools.broker.embedded import free_port
from services.notify.delivery.adapters import Outgoing, Slack, Smtp, Webhook
from services.notify.errors import DeliveryError

pytestmark = pytest.mark.integration
SECRET_PATH = "/services/T000/B000/SECRETTOKENXYZ"
MESSAGE = Outgoing(
    "n1", "shop", "supervisor", "supervisors", "breach", "en", "x", "c1", "email", datetime.now(UTC)
)


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, dict[str, web.Response]]]:
    """A server answering each path with the response the test puts there."""
    answers: dict[str, web.Response] = {}

    async def answer(request: web.Request) -> web.Response:
        return answers[request.path]

    app = web.Application()
    app.router.add_post("/{tail:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}", answers
    await runner.cleanup()


async def failure(adapter: Any) -> DeliveryError:
    with pytest.raises(DeliveryError) as failed:
        await adapter.send(MESSAGE)
    return failed.value


async def test_a_failure_reason_names_the_host_not_the_secret_path(
    server: tuple[str, dict[str, web.Response]],
) -> None:
    base, answers = server
    answers[SECRET_PATH] = web.Response(status=404, text="no_service")
    async with aiohttp.ClientSession() as session:
        failed = await failure(Slack(session, base + SECRET_PATH))
    assert failed.permanent
    assert "SECRETTOKENXYZ" not in failed.reason
    assert base.removeprefix("http://") in failed.reason
    assert "HTTP 404 no_service" in failed.reason


async def test_4xx_is_final_429_and_5xx_are_retried_honouring_retry_after(
    server: tuple[str, dict[str, web.Response]],
) -> None:
    base, answers = server
    answers["/gone"] = web.Response(status=410)
    answers["/busy"] = web.Response(status=429, headers={"Retry-After": "7"})
    answers["/down"] = web.Response(status=503)
    async with aiohttp.ClientSession() as session:
        gone = await failure(Webhook(session, base + "/gone", "s" * 16))
        busy = await failure(Webhook(session, base + "/busy", "s" * 16))
        down = await failure(Webhook(session, base + "/down", "s" * 16))
    assert gone.permanent
    assert not busy.permanent
    assert busy.retry_after_s == 7
    assert not down.permanent


async def test_a_closed_port_is_retried() -> None:
    async with aiohttp.ClientSession() as session:
        failed = await failure(Webhook(session, f"http://127.0.0.1:{free_port()}/x", "s" * 16))
    assert not failed.permanent


class Refusing:
    def __init__(self, code: str) -> None:
        self.code = code

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's naming)
        self, _server: Any, _session: Any, _envelope: Any, _address: str, _options: Any
    ) -> str:
        return self.code


@pytest.mark.parametrize(("code", "permanent"), [("550 no such mailbox", True), ("451 try later", False)])
async def test_smtp_5xx_is_final_and_4xx_retried(code: str, permanent: bool) -> None:
    port = free_port()
    controller = Controller(Refusing(code), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        smtp = Smtp("127.0.0.1", port, "Pronto <p@shop.test>", timeout_s=5)
        with pytest.raises(DeliveryError) as failed:
            await smtp.send_to(MESSAGE, "nobody@shop.test")
    finally:
        controller.stop()
    assert failed.value.permanent is permanent
    assert code.split()[0] in failed.value.reason
