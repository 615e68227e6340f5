"""The signature on every webhook notify sends, and how a receiver checks it. No I/O.

``Pronto-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">``,
the scheme Stripe made familiar: the timestamp is inside the signed text, so a
captured request cannot be replayed later than the receiver's tolerance, and
the body cannot be changed without the secret.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "Pronto-Signature"
TOLERANCE_S = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, now: float, tolerance_s: float = TOLERANCE_S) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and is no older (or newer) than the tolerance."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), f"t={timestamp},v1={fields.get('v1', '')}")
