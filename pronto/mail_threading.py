"""How Pronto's e-mails thread: outgoing Message-IDs carry the conversation they belong to.

Notify writes ``<pronto.<conversation id>.<nonce>@<domain>>`` on every
e-mail it sends; when the customer answers, their In-Reply-To or References
names it, and ingest finds the conversation without keeping any state.
"""

from __future__ import annotations

import re
import secrets

_OURS = re.compile(r"^pronto\.([A-Za-z0-9_-]+)\.[A-Za-z0-9]+@")


def outbound_message_id(conversation_id: str, domain: str) -> str:
    return f"<pronto.{conversation_id}.{secrets.token_hex(8)}@{domain}>"


def conversation_of(message_id: str) -> str | None:
    """The conversation a Message-ID we wrote belongs to, or None for anyone else's."""
    found = _OURS.match(message_id.strip().strip("<>"))
    return found.group(1) if found else None
