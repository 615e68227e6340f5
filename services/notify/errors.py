"""The exceptions notify's delivery raises, in one place."""

from __future__ import annotations


class DeliveryError(Exception):
    """A delivery that did not go through: ``permanent`` ones are not retried, the others wait
    ``retry_after_s`` when the platform said how long."""

    def __init__(
        self, reason: str, *, permanent: bool, retry_after_s: float | None = None, code: str = ""
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after_s = retry_after_s
        # The platform's own error code, when it gave one.
        self.code = code
