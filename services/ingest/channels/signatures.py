"""The signature schemes of the platforms, checked in constant time. Pure functions."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable

from services.ingest.errors import BadSignature, MalformedPayload


def hmac_sha256_hex(key: str, body: bytes) -> str:
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def check_prefixed_hex(header: str | None, key: str, body: bytes, prefix: str = "sha256=") -> None:
    """``<prefix><hex HMAC-SHA256(key, body)>``: Meta's X-Hub-Signature-256, our X-Pronto-Signature."""
    if not header:
        raise BadSignature("the signature header is missing")
    expected = prefix + hmac_sha256_hex(key, body)
    if not hmac.compare_digest(header.strip().lower().encode(), expected.encode()):
        raise BadSignature("the signature does not match the body")


def check_token(given: str | None, expected: str, what: str) -> None:
    """A shared secret sent as is (Telegram's secret token, a provider's bearer token)."""
    if not given:
        raise BadSignature(f"the {what} is missing")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise BadSignature(f"the {what} is wrong")


# What X's crc_token looks like: a UUID in X's published sample, base64 in older ones. 128 characters
# and this charset hold every token X documents with room to spare, and nothing that parses as a JSON
# object (no braces, quotes, spaces), so no signed body can be one of them.
X_CRC_TOKEN = re.compile(r"[A-Za-z0-9_\-+/=]{1,128}")


def x_crc_response(consumer_secret: str, crc_token: str) -> str:
    """X's challenge-response check: sha256= + base64(HMAC-SHA256(consumer secret, crc_token)).

    It is the same key and encoding as the x-twitter-webhooks-signature of X's POSTs, so answering
    any token would sign any body for whoever asks (issue #26): only a token shaped like X's is
    answered, never one that could be a POST body. MalformedPayload (400) otherwise.
    """
    if not X_CRC_TOKEN.fullmatch(crc_token):
        raise MalformedPayload(
            "crc_token must be 1 to 128 letters, digits or '-_+/=', as X sends it; "
            f"got {len(crc_token)} characters"
        )
    digest = hmac.new(consumer_secret.encode(), crc_token.encode(), hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def check_x_signature(header: str | None, consumer_secret: str, body: bytes) -> None:
    """x-twitter-webhooks-signature: sha256= + base64(HMAC-SHA256(consumer secret, body))."""
    if not header:
        raise BadSignature("the x-twitter-webhooks-signature header is missing")
    digest = hmac.new(consumer_secret.encode(), body, hashlib.sha256).digest()
    expected = "sha256=" + base64.b64encode(digest).decode()
    if not hmac.compare_digest(header.strip().encode(), expected.encode()):
        raise BadSignature("the x-twitter-webhooks-signature does not match the body")


def twilio_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """base64(HMAC-SHA1(auth token, full URL + each POST parameter's name and value, sorted by name))."""
    data = url + "".join(name + value for name, value in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def check_twilio(header: str | None, auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> None:
    if not header:
        raise BadSignature("the X-Twilio-Signature header is missing")
    if not hmac.compare_digest(header.strip().encode(), twilio_signature(auth_token, url, params).encode()):
        raise BadSignature("the X-Twilio-Signature does not match the URL and parameters")


MAILGUN_MAX_AGE_S = 15 * 60


def check_mailgun(signing_key: str, timestamp: str, token: str, signature: str, now: float) -> None:
    """Mailgun: hex HMAC-SHA256(signing key, timestamp + token), with a recent timestamp.

    Mailgun does not sign the body: an old signature must not be replayed with another one, and
    a recent one is good for one message (the entry point keeps ``replays.SeenTokens``).
    """
    if not (timestamp and token and signature):
        raise BadSignature("Mailgun's timestamp, token and signature are required")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > MAILGUN_MAX_AGE_S:
        raise BadSignature(f"Mailgun's timestamp is not within {MAILGUN_MAX_AGE_S // 60} minutes of now")
    expected = hmac.new(signing_key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise BadSignature("the Mailgun signature does not match")
