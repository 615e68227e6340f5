"""The exceptions ingest's parts raise to one another, in one place.

Each entry point (gRPC, REST, webhooks) turns them into its answer."""

from __future__ import annotations


class MalformedPayload(ValueError):
    """The body is not what the platform sends (422); the message says what is wrong."""


class BadSignature(Exception):
    """The signature or secret token does not match the tenant's secret (401)."""


class NotConfigured(Exception):
    """The tenant has no secret for this channel, so nothing can be verified (404)."""


class BodyTooLarge(Exception):
    """A webhook's body is over the port's limit (413)."""


class TransferRefused(Exception):
    """Routing could not make the transfer (a colleague at capacity, not the holder, ...): nothing
    about the conversation changed. The request stays in its history, as ``event_id``."""

    def __init__(self, reason: str, event_id: str) -> None:
        super().__init__(reason)
        self.event_id = event_id


class TransferUndecided(Exception):
    """The request (``event_id``) is written but routing did not answer in time: it will still
    decide it."""

    def __init__(self, message: str, event_id: str) -> None:
        super().__init__(message)
        self.event_id = event_id


class InvalidEvent(ValueError):
    """The request cannot become an event; ``problems`` says why, field by field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class BadBody(Exception):
    """The body is not JSON, or not the request message's JSON form."""
