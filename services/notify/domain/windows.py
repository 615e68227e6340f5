"""When a platform lets a business write to a customer freely. No I/O.

WhatsApp: free text within 24 hours of the customer's last message (the
customer-service window); outside it only an approved template. Messenger
and Instagram: standard messaging within 24 hours; with the human-agent tag,
which a shop must be approved for, a person may answer up to 7 days after.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum

WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)


class Messaging(Enum):
    RESPONSE = "RESPONSE"
    HUMAN_AGENT = "HUMAN_AGENT"
    CLOSED = "CLOSED"


def whatsapp_window_open(customer_wrote_at: datetime | None, now: datetime) -> bool:
    """Unknown (no customer message seen): assume open and let the platform say otherwise."""
    return customer_wrote_at is None or now - customer_wrote_at < WINDOW


def meta_messaging(customer_wrote_at: datetime | None, now: datetime, human_agent: bool) -> Messaging:
    if customer_wrote_at is None or now - customer_wrote_at < WINDOW:
        return Messaging.RESPONSE
    if human_agent and now - customer_wrote_at < HUMAN_AGENT_WINDOW:
        return Messaging.HUMAN_AGENT
    return Messaging.CLOSED
