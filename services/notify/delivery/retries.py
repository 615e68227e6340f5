"""When a failed delivery attempt is tried again: exponential backoff with jitter, honouring ``Retry-After``.

A delivery is attempted up to ``notify_attempts`` times; a permanent failure
is not retried. Between attempts it waits the backoff or the platform's own
``Retry-After``, whichever is longer (the latter up to
``notify_retry_after_max_s``). A failure an adapter did not foresee is
retried like any other, so a bug in between never drops a notification.
"""

from __future__ import annotations

import logging

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from services.notify.delivery.adapters import Adapter, Outgoing, Sent
from services.notify.errors import DeliveryError
from services.notify.settings import NotifySettings

log = logging.getLogger("pronto.notify.delivery")


class Retries:
    def __init__(self, settings: NotifySettings) -> None:
        self.settings = settings

    def retrying(self) -> AsyncRetrying:
        return AsyncRetrying(
            stop=stop_after_attempt(self.settings.notify_attempts),
            wait=self.wait,
            retry=retry_if_exception(lambda e: isinstance(e, DeliveryError) and not e.permanent),
            reraise=True,
        )

    def wait(self, retry: RetryCallState) -> float:
        backoff = wait_exponential_jitter(
            multiplier=self.settings.notify_backoff_initial_s, max=self.settings.notify_backoff_max_s
        )(retry)
        error = retry.outcome.exception() if retry.outcome else None
        asked = error.retry_after_s if isinstance(error, DeliveryError) and error.retry_after_s else 0.0
        return max(backoff, min(asked, self.settings.notify_retry_after_max_s))

    def again(self, error: DeliveryError, attempt: int) -> bool:
        """Whether a failed ``attempt`` (counted from 1) is followed by another."""
        return not error.permanent and attempt < self.settings.notify_attempts


async def sent_by(adapter: Adapter, message: Outgoing) -> Sent | None:
    """A failure the adapter did not foresee is retried, then dead-lettered, like any other:
    a notification is never dropped by a bug in between."""
    try:
        return await adapter.send(message)
    except DeliveryError:
        raise
    except Exception as exc:
        log.exception("unexpected failure sending %s by %s", message.id, adapter.name)
        raise DeliveryError(f"unexpected {exc!r}", permanent=False) from exc
