"""What can be wrong with a webhook request, each mapped to one HTTP status by the entry point."""

from __future__ import annotations


class MalformedPayload(ValueError):
    """The body is not what the platform sends (422); the message says what is wrong."""


class BadSignature(Exception):
    """The signature or secret token does not match the tenant's secret (401)."""


class NotConfigured(Exception):
    """The tenant has no secret for this channel, so nothing can be verified (404)."""
