"""Platform payloads are facts, not requests: make what the platform sent publishable instead of refusing it.

A gRPC caller can fix a bad request; Meta or Telegram will retry the same
payload and then give up, and the customer's message is lost. So a message
without content gets a placeholder, a clock ahead of ours is clamped, a
language tag that is not BCP 47 is dropped, and an over-long text is cut.
"""

from __future__ import annotations

from datetime import datetime

from pronto.v1 import events_pb2
from services.ingest.channels.notices import notice
from services.ingest.validation import LANGUAGE, MAX_CLOCK_SKEW, MAX_TEXT_BYTES, TEXTLESS_KINDS

_CUT = "\n[…]"


def sanitise(message: events_pb2.MessageReceived, now: datetime) -> None:
    if message.HasField("sent_at") and message.sent_at.ToDatetime(now.tzinfo) > now + MAX_CLOCK_SKEW:
        message.sent_at.FromDatetime(now)
    if message.language and not LANGUAGE.fullmatch(message.language):
        message.language = ""
    if len(message.text.encode()) > MAX_TEXT_BYTES:
        room = MAX_TEXT_BYTES - len(_CUT.encode())
        message.text = message.text.encode()[:room].decode("utf-8", errors="ignore") + _CUT
    if not message.text.strip() and not message.attachments and message.kind not in TEXTLESS_KINDS:
        kind = events_pb2.MessageKind.Name(message.kind).removeprefix("MESSAGE_KIND_").lower()
        message.text = message.subject or notice(f"{kind} message without text")
