"""The exceptions the kernel raises, in one place: what a caller of ``pronto`` may have to catch."""

from __future__ import annotations


class NeverOpen(ValueError):
    """The calendar has no open time within the horizon: no business deadline exists."""


class Unauthenticated(Exception):
    """No token, or a token we do not know."""


class PermissionDenied(Exception):
    """A valid token asked to act for a tenant it does not belong to."""


class EnvelopeError(ValueError):
    """A record that is not a Pronto event: missing attributes, unknown type, bad payload."""


class BrokerUnavailable(Exception):
    """The broker did not acknowledge in time; nothing may be assumed written."""

    def __init__(self, reason: str, retry_after_s: float = 1.0) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s


class BrokerIncompatible(Exception):
    """The broker cannot do what the configuration asks (idempotent producing): retrying will not help."""


class SnapshotError(ValueError):
    """A snapshot that cannot be used: corrupt, truncated, or of a schema this code cannot read."""
