"""Stable conversation ids from each channel's own notion of a thread.

A Telegram chat, a WhatsApp phone number, a Messenger PSID, an e-mail thread:
each maps to one conversation id per tenant, the same every time, so a
customer who writes again continues the same conversation without any state
kept here.
"""

from __future__ import annotations

import uuid

_NAMESPACE = uuid.UUID("9a3f7c52-0d4e-4b8a-8f1e-6c2d9b7a5e14")
_SEPARATOR = "\x1f"


def conversation_id(tenant: str, channel: str, thread: str) -> str:
    """E.g. ``telegram-3f2a...``: readable channel prefix, hashed identity (no personal data in ids)."""
    digest = uuid.uuid5(_NAMESPACE, _SEPARATOR.join((tenant, channel, thread))).hex[:24]
    return f"{channel}-{digest}"
