"""When a failed delivery attempt is tried again, and how long it waits first (no clock, no network)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from tenacity import AsyncRetrying, RetryCallState

from services.notify.delivery.adapters import Outgoing, Sent
from services.notify.delivery.retries import Retries, sent_by
from services.notify.errors import DeliveryError
from services.notify.settings import NotifySettings


def quick(attempts: int) -> Retries:
    """A backoff of a millisecond: the tests using it retry for real."""
    return Retries(
        NotifySettings(notify_attempts=attempts, notify_backoff_initial_s=0.001, notify_backoff_max_s=0.001)
    )


def test_the_wait_before_a_retry_is_the_backoff_or_retry_after_whichever_is_longer() -> None:
    retries = Retries(NotifySettings())

    def wait(attempt: int, error: Exception) -> float:
        state = RetryCallState(AsyncRetrying(), None, (), {})
        state.attempt_number = attempt
        state.set_exception((type(error), error, None))
        return retries.wait(state)

    plain = DeliveryError("503", permanent=False)
    assert 0.5 <= wait(1, plain) <= 0.5 + 1  # initial 0.5 s, plus up to 1 s of jitter
    assert 4.0 <= wait(4, plain) <= 5.0
    assert wait(30, plain) == 30.0  # the maximum
    assert wait(1, DeliveryError("429", permanent=False, retry_after_s=7)) >= 7
    # A platform's own wait is honoured beyond the backoff's maximum (X's rate-limit windows are
    # minutes long), up to notify_retry_after_max_s.
    assert wait(1, DeliveryError("429", permanent=False, retry_after_s=120)) == 120.0
    assert wait(1, DeliveryError("429", permanent=False, retry_after_s=3600)) == 900.0


def test_a_passing_failure_is_tried_again_until_the_attempts_run_out_a_permanent_one_never() -> None:
    retries = Retries(NotifySettings(notify_attempts=3))
    passing = DeliveryError("503", permanent=False)
    assert retries.again(passing, 1)
    assert retries.again(passing, 2)
    assert not retries.again(passing, 3)
    assert not retries.again(DeliveryError("400", permanent=True), 1)


class _Flaky:
    """An adapter failing ``failures`` times (a bug in between: an unforeseen exception), then sending."""

    name = "flaky"

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures = failures
        self.error = error
        self.calls = 0

    async def send(self, message: Outgoing) -> Sent | None:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return Sent(platform_message_id="m1")


async def _send_with_retries(retries: Retries, adapter: _Flaky) -> Sent | None:
    message = Outgoing(
        id="n1",
        tenant="acme",
        recipient_kind="operator",
        recipient="op",
        language="en",
        channel="",
        kind="assigned",
        text="hi",
        conversation_id="c1",
        created_at=datetime(2024, 1, 1, tzinfo=UTC),
    )
    sent: Sent | None = None
    async for attempt in retries.retrying():
        with attempt:
            sent = await sent_by(adapter, message)
    return sent


def test_an_unforeseen_exception_is_retried_like_a_passing_failure() -> None:
    retries = quick(3)
    adapter = _Flaky(2, RuntimeError("bug"))
    sent = asyncio.run(_send_with_retries(retries, adapter))
    assert sent is not None
    assert sent.platform_message_id == "m1"
    assert adapter.calls == 3


def test_the_last_failure_is_raised_when_the_attempts_run_out_and_a_permanent_one_at_once() -> None:
    retries = quick(2)
    adapter = _Flaky(5, RuntimeError("bug"))
    with pytest.raises(DeliveryError, match="unexpected"):
        asyncio.run(_send_with_retries(retries, adapter))
    assert adapter.calls == 2
    permanent = _Flaky(5, DeliveryError("gone", permanent=True))
    with pytest.raises(DeliveryError, match="gone"):
        asyncio.run(_send_with_retries(quick(5), permanent))
    assert permanent.calls == 1
