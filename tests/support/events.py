"""Builders of realistic events for tests."""

from __future__ import annotations

from typing import Any

from pronto.v1 import common_pb2, events_pb2


def message(conversation_id: str, n: int, **overrides: Any) -> events_pb2.MessageReceived:
    """The n-th web chat message of a conversation, in Italian; ``overrides`` replace any field."""
    fields: dict[str, Any] = {
        "conversation_id": conversation_id,
        "channel": common_pb2.CHANNEL_WEB_CHAT,
        "channel_message_id": f"{conversation_id}-m{n}",
        "sender": common_pb2.Sender(id=f"cust-{conversation_id}", display_name="Giulia Rossi"),
        "text": f"Ciao, dov'è il mio ordine? ({n})",
        "language": "it",
    }
    fields.update(overrides)
    return events_pb2.MessageReceived(**fields)
