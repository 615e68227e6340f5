"""Which kinds of customer message the services treat alike: one definition for routing, SLA and notify."""

from __future__ import annotations

from pronto.v1 import events_pb2

# Changes to a message already received: they never open a conversation.
AMENDMENTS = frozenset({events_pb2.MESSAGE_KIND_EDITED, events_pb2.MESSAGE_KIND_DELETED})
# Recorded, never acted on: amendments, and what a machine wrote (auto-replies, delivery reports).
# Routed, they would open a conversation and be acknowledged, the acknowledgement answered again (a
# loop); timed, they would start a clock nobody owes an answer to; to notify, an out-of-office reply
# to an acknowledgement is not the customer's last word.
RECORDED_ONLY = AMENDMENTS | {events_pb2.MESSAGE_KIND_AUTOMATIC}
