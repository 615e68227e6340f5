"""Stable event ids: the same message, however often it is sent, gets the same id.

Channels retry webhooks and integrators retry calls; deriving the id from
what identifies the message (the caller's idempotency key, or the channel's
own message id) turns every retry into the same event, which processors
deduplicate.
"""

from __future__ import annotations

import uuid

_NAMESPACE = uuid.UUID("6f1d3c0e-8a57-4a8e-9c1b-2d5f0e7a9b31")
_SEPARATOR = "\x1f"


def from_idempotency_key(tenant: str, kind: str, key: str) -> str:
    """An id from the caller's key, scoped to the tenant and the kind of event."""
    return str(uuid.uuid5(_NAMESPACE, _SEPARATOR.join(("key", tenant, kind, key))))


def from_channel_message(tenant: str, channel: str, channel_message_id: str) -> str:
    """An id from the channel's own message id (Meta's mid, Telegram's update id...)."""
    return str(uuid.uuid5(_NAMESPACE, _SEPARATOR.join(("channel", tenant, channel, channel_message_id))))


def derived(processor: str, cause_id: str, index: int) -> str:
    """The id of the ``index``-th event ``processor`` (routing, sla...) emitted because of ``cause_id``.

    A processor that handles the same event again (a redelivery, a replay)
    emits events with the same ids, which consumers deduplicate. Two
    processors reacting to the same event emit different ids: a consumer of
    both (notify reads routing's and SLA's events) must not take one for a
    copy of the other.
    """
    return str(uuid.uuid5(_NAMESPACE, _SEPARATOR.join(("derived", processor, cause_id, str(index)))))
