"""Mailgun's tokens within their window: remembered by time, bounded in number (issue #26)."""

from __future__ import annotations

import pytest

from services.ingest.channels.replays import SeenTokens, content_of
from services.ingest.errors import BadSignature

A = content_of([("from", "a@example.com"), ("body-plain", "hello")])
B = content_of([("from", "b@example.com"), ("body-plain", "hello")])


def test_the_same_content_again_is_a_retry_and_other_content_is_refused() -> None:
    seen = SeenTokens()
    seen.use("shop-a", "100", "tok", A, forget_at=1000, now=100)
    seen.use("shop-a", "100", "tok", A, forget_at=1000, now=101)
    with pytest.raises(BadSignature, match="already used for another message"):
        seen.use("shop-a", "100", "tok", B, forget_at=1000, now=102)
    # Another tenant, or the token with another (Mailgun-signed) timestamp, is another signature.
    seen.use("shop-b", "100", "tok", B, forget_at=1000, now=103)
    seen.use("shop-a", "101", "tok", B, forget_at=1001, now=104)


def test_the_same_fields_in_another_order_are_the_same_content() -> None:
    assert content_of([("a", "1"), ("b", "2")]) == content_of([("b", "2"), ("a", "1")])
    assert content_of([("a", "1"), ("b", "2")]) != content_of([("a", "1"), ("b", "3")])


def test_tokens_are_forgotten_once_their_window_has_passed() -> None:
    seen = SeenTokens()
    seen.use("shop-a", "100", "old", A, forget_at=1000, now=100)
    seen.use("shop-a", "900", "new", A, forget_at=1800, now=900)
    assert len(seen) == 2
    seen.use("shop-a", "1500", "newer", A, forget_at=2400, now=1500)
    assert len(seen) == 2, "the first token's window ended at 1000"


def test_past_the_bound_the_token_closest_to_expiring_is_forgotten_first() -> None:
    seen = SeenTokens(max_entries=2)
    seen.use("shop-a", "200", "late", A, forget_at=2000, now=100)
    seen.use("shop-a", "100", "early", A, forget_at=1000, now=100)
    seen.use("shop-a", "300", "third", A, forget_at=3000, now=100)
    assert len(seen) == 2
    seen.use("shop-a", "100", "early", B, forget_at=1000, now=100)  # forgotten: taken again
    with pytest.raises(BadSignature):
        seen.use("shop-a", "300", "third", B, forget_at=3000, now=100)
